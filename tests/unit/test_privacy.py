"""The personal-data detectors and the redactor: each kind found in its usual formats, look-alikes
that are not personal data left alone, placeholders consistent within a text, and the way back."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reviewpulse.privacy import PLACEHOLDER, Redactor, mentions_personal_data, redact
from reviewpulse.privacy.detectors import phones
from reviewpulse_tools.bench.pii_corpus import VALUES


def found(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every finding, in order."""
    return [(f.kind, f.value) for f in Redactor().findings(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("mail jane.doe+orders@example.co.uk today", "EMAIL", "jane.doe+orders@example.co.uk"),
        ("Write to J_SMITH@MAIL.EXAMPLE.ORG.", "EMAIL", "J_SMITH@MAIL.EXAMPLE.ORG"),
        ("call (202) 555-0143 now", "PHONE", "(202) 555-0143"),
        ("call 415.867.5309 now", "PHONE", "415.867.5309"),
        ("call +1-415-867-5309 now", "PHONE", "+1-415-867-5309"),
        ("ring 020 7946 0123 please", "PHONE", "020 7946 0123"),
        ("mobile 07911 123456", "PHONE", "07911 123456"),
        ("from abroad +44 7911 123456", "PHONE", "+44 7911 123456"),
        ("Berlin office +49 30 12345678", "PHONE", "+49 30 12345678"),
        ("Paris +33 6 12 34 56 78", "PHONE", "+33 6 12 34 56 78"),
        ("call me 4158675309", "PHONE", "4158675309"),
        ("my number: (213) 588-2507", "PHONE", "(213) 588-2507"),
        ("office line 020 7946 0123 ext. 204", "PHONE", "020 7946 0123 ext. 204"),  # the extension too
        ("card 4111 1111 1111 1111 was charged", "CARD", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004 was charged", "CARD", "5500-0000-0000-0004"),
        ("amex 3782 822463 10005 twice", "CARD", "3782 822463 10005"),
        ("paid with 6011000990139424.", "CARD", "6011000990139424"),
        ("card 4111 1111 1111 1111 12/26 expired", "CARD", "4111 1111 1111 1111"),
        ("qty 2 4111 1111 1111 1111 charged", "CARD", "4111 1111 1111 1111"),
        ("refund to GB82 WEST 1234 5698 7654 32 AND soon", "IBAN", "GB82 WEST 1234 5698 7654 32"),
        ("IBAN DE89370400440532013000", "IBAN", "DE89370400440532013000"),
        ("my ip 203.0.113.7.", "IP", "203.0.113.7"),
        ("from 2001:db8::8a2e:370:7334 again", "IP", "2001:db8::8a2e:370:7334"),
        ("full fe80:0:0:0:202:b3ff:fe1e:8329 here", "IP", "fe80:0:0:0:202:b3ff:fe1e:8329"),
        (
            "link https://shop.example.com/reset?token=abc123XYZ.",
            "URL",
            "https://shop.example.com/reset?token=abc123XYZ",
        ),
        ("see https://sam:hunter2@files.example.net/export", "URL", "https://sam:hunter2@files.example.net/export"),
        (
            "see https://x.example/cb#access_token=zz9&expires_in=3600",
            "URL",
            "https://x.example/cb#access_token=zz9&expires_in=3600",
        ),
        ("see https://x.example/a?Session-Id=4f4f", "URL", "https://x.example/a?Session-Id=4f4f"),
        (
            "see https://x.example/verify/a8F3kq92LmZx0pQ7rT5vW1yB",
            "URL",
            "https://x.example/verify/a8F3kq92LmZx0pQ7rT5vW1yB",
        ),
        ("see www.example.com/dl?X-Amz-Signature=ab12", "URL", "www.example.com/dl?X-Amz-Signature=ab12"),
        ("SSN 536-22-1234 on the form", "SSN", "536-22-1234"),
        ("SSN 536 22 1234 on the form", "SSN", "536 22 1234"),
        ("my social security number is 536221234", "SSN", "536221234"),
        ("NINO AB123456C please", "NINO", "AB123456C"),
        ("NI number ab 12 34 56 c", "NINO", "ab 12 34 56 c"),
    ],
)
def test_each_kind_is_found_in_its_usual_formats(text, kind, value):
    # Given a text with one piece of personal data; When it is redacted
    redaction = redact(text)
    # Then exactly that value is found, of that kind, and replaced by the first placeholder of its kind
    assert found(text) == [(kind, value)]
    assert redaction.text == text.replace(value, f"[{kind}_1]")
    assert dict(redaction.placeholders) == {f"[{kind}_1]": value}


@pytest.mark.parametrize(
    "text",
    [
        "Order #100234589 arrived late.",
        "order 4155550123 is still missing",
        "order number 4155550123 is still missing",
        "FedEx 4490 8290 2189 never moved.",
        "Barcode 4006381333931 on the box.",
        "Ref: 2125550199",
        "Case 83920174 was closed.",
        "Invoice 20240315-0042 is wrong.",
        "Delivered on 2024-03-15 at 14:30:00, bought 15/03/2024 and on 13.10.2025.",
        "It cost $1,299.99, now £49.99 or €1.234,56.",
        "Tracking 1Z999AA10123456784 shows nothing.",
        "USPS says 9400 1000 0000 0000 0000 00.",
        "Product code SKU-4411-XL, model XJ-900.",
        "Firmware version 4.2.0.12 broke it, and v1.2.3.4 too.",
        "Rated 4/5, 80% battery after 10 hours.",
        "ISBN 978-0-306-40615-7 is the wrong edition.",
        "A 16-digit order number 1234567812345678 that passes no card check.",
        "Luhn-valid but no card network: 9999 9999 9999 9995.",
        "Not an IBAN: GB82 WEST 1234 5698 7654 33.",
        "Never issued: SSN 666-12-3456, 000-12-3456, 123-00-4567.",
        "Not a NINO: QQ123456C, GB123456A, AB123456E.",
        "Not an address: 999.10.10.10 or 12:30:45.",
        "Plain links stay: https://shop.example.com/products/blender-pro-300?color=red&size=l",
        "An @mention and user@localhost are not addresses.",
        "Call center hours: 9-5, Mon-Fri; 24/7 chat.",
    ],
)
def test_look_alikes_are_left_alone(text):
    # Given order numbers, dates, prices, tracking and product codes, versions and near misses
    # When redacted; Then nothing is found and the text goes as it is
    assert found(text) == []
    assert redact(text).text == text


# How release notes and support chats write four-part versions (the README's "IP address" row).
VERSION_FORMS = [
    "firmware 1.2.3.4",
    "Firmware: 2.0.1.17 broke the wifi",
    "after the update to firmware v3.1.0.2",
    "v2.10.0.1",
    "v 2.10.0.1 is out",
    "Version 4.2.0.12",
    "ver. 1.2.3.4",
    "app version 5.12.0.3 crashes",
    "build 10.0.19045.1234",
    "Build: 1.0.2.3",
    "build #1.0.2.3",
    "Release 7.1.0.2 notes",
    "rev 1.0.0.1",
    "fw v1.2.3.4 and fw 1.2.3.5",
    "BIOS 1.14.0.2",
    "driver 31.0.101.45",
    "it was updated to 2.4.0.1 yesterday",
    "upgraded from 2.3.9.9 to 2.4.0.1",
    "the 1.2.3.4 firmware is bad",
    "the 1.2.3.4 update bricked it",
    "(version 6.0.0.1)",
]


@pytest.mark.parametrize("text", VERSION_FORMS)
def test_a_version_a_release_note_names_is_not_redacted_as_an_address(text):
    # Given a dotted-quad version named as one, in a release note's usual forms
    # When redacted; Then no address is found and the text goes as it is
    assert [kind for kind, _ in found(text)] == []
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("my IP is 192.168.1.20", "192.168.1.20"),
        ("it cannot connect to 10.0.0.1 at all", "10.0.0.1"),
        ("server 8.8.8.8 down again", "8.8.8.8"),
        ("IP address: 198.51.100.23", "198.51.100.23"),
        ("login from 203.0.113.7 was not me", "203.0.113.7"),
        ("the firmware server at 10.0.0.5 is down", "10.0.0.5"),
        ("router (v2) at 192.168.0.1", "192.168.0.1"),
        ("firmware 1.2.3.4 cannot reach 172.16.0.9", "172.16.0.9"),
    ],
)
def test_addresses_beside_version_words_are_still_redacted(text, address):
    # Given a real address in a text that may also talk about versions
    # When redacted
    redaction = redact(text)
    # Then the address, and only it, became a placeholder
    assert found(text) == [("IP", address)]
    assert address not in redaction.text and "[IP_1]" in redaction.text


def test_the_same_value_gets_the_same_placeholder_and_each_kind_counts_on_its_own():
    text = "a@example.com, b@example.com, again a@example.com; call (202) 555-0143 or a@example.com"
    redaction = redact(text)
    assert redaction.text == "[EMAIL_1], [EMAIL_2], again [EMAIL_1]; call [PHONE_1] or [EMAIL_1]"
    assert dict(redaction.placeholders) == {
        "[EMAIL_1]": "a@example.com",
        "[EMAIL_2]": "b@example.com",
        "[PHONE_1]": "(202) 555-0143",
    }


def test_a_placeholder_the_customer_wrote_is_never_given_to_a_value():
    # Given a text that already contains "[EMAIL_1]" literally, and a real address
    text = "The form showed [EMAIL_1] instead of my address jo@example.com"
    # When redacted
    redaction = redact(text)
    # Then the address gets the next free number, and restoring gives the original back
    assert redaction.text == "The form showed [EMAIL_1] instead of my address [EMAIL_2]"
    assert redaction.restore(redaction.text) == text


def test_overlaps_go_to_the_kind_with_precedence():
    # A URL with userinfo holds something e-mail-like; an IBAN holds a phone-like digit run
    assert found("see https://ann@example.com:8080/x?sig=1") == [("URL", "https://ann@example.com:8080/x?sig=1")]
    assert [k for k, _ in found("IBAN GB33BUKB20201555555555")] == ["IBAN"]


def test_restore_maps_known_placeholders_only():
    redaction = redact("write to ann@example.com")
    assert redaction.restore("wrote [EMAIL_1] and [EMAIL_7] and [PHONE_1]") == (
        "wrote ann@example.com and [EMAIL_7] and [PHONE_1]"
    )


def test_mentions_personal_data_sees_placeholders_values_and_anything_detectable():
    redaction = redact("write to Ann.Lee@example.com")
    assert mentions_personal_data("slow reply to [EMAIL_1]")
    assert mentions_personal_data("reply to ann.lee@example.com", redaction)  # the value, in another case
    assert mentions_personal_data("refund to de89370400440532013000")  # detectable on its own
    assert not mentions_personal_data("battery life", redaction)


def test_phone_regions_decide_how_national_formats_are_read():
    # A German national number is only a phone to a redactor that reads German numbers
    assert list(phones("Büro 0221 9876543")) == []
    assert [f.value for f in phones("Büro 0221 9876543", regions=("DE",))] == ["0221 9876543"]


# ---------------------------------------------------------------- properties

_filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_kinds = st.sampled_from(sorted(VALUES))


@st.composite
def texts_with_personal_data(draw) -> tuple[str, list[str]]:
    """Random filler with values of random kinds (some repeated), and the values. "; " keeps a
    value apart from digits in the filler (a digit run touching a value is ambiguous: unit tests
    above cover those cases one by one)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    values = [VALUES[draw(_kinds)](rng) for _ in range(draw(st.integers(0, 4)))]
    values += draw(st.lists(st.sampled_from(values), max_size=2)) if values else []
    pieces = [draw(_filler)]
    for value in values:
        pieces += [f"; {value}; ", draw(_filler)]
    return "".join(pieces), values


# Digits and the punctuation of numbers, addresses and links, where the detectors' edge cases are.
_dense = st.text(alphabet="0123456789 +-().:/@#[]_~?=&%abcdefXYZ", max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_filler, _dense))
def test_any_text_comes_back_whole(text):
    redaction = redact(text)
    assert redaction.restore(redaction.text) == text


@settings(max_examples=150, deadline=None)
@given(texts_with_personal_data())
def test_redaction_is_consistent_and_reversible(case):
    text, values = case
    redaction = redact(text)
    # Restoring the redacted text gives the original back
    assert redaction.restore(redaction.text) == text
    # Each placeholder stands for one value and each value has one placeholder
    mapping = dict(redaction.placeholders)
    assert len(set(mapping.values())) == len(mapping)
    assert all(PLACEHOLDER.fullmatch(p) for p in mapping)
    # And each placeholder in the redacted text stands for a value of the original
    assert all(mapping[p] in text for p in PLACEHOLDER.findall(redaction.text) if p in mapping)
    # And the seeded values are gone from the redacted text
    for value in values:
        assert f"; {value}; " not in redaction.text
