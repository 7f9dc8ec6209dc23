"""One detector per kind of personal data: each finds candidates with a pattern and keeps only those
a checksum, a library's validation or a format rule confirms.

phonenumbers and python-stdnum are imported on first use, not at import: a lexicon-only worker
never pays for them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qsl, urlsplit

EMAIL = "EMAIL"
PHONE = "PHONE"
CARD = "CARD"
IBAN = "IBAN"
IP = "IP"
URL = "URL"
SSN = "SSN"
NINO = "NINO"
# In order of precedence where two findings overlap: a URL holds e-mail-like userinfo and IPs, an
# IBAN or a card holds digit runs a phone matcher would also take.
KINDS = (URL, EMAIL, IBAN, CARD, SSN, NINO, IP, PHONE)

# National formats are read as these regions' numbers; a number written with + and its country
# code is found whatever the region. US and GB: the English-language markets the rest of the
# detectors target (US SSN, UK NINO); other countries' national formats need their region here.
PHONE_REGIONS = ("US", "GB")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


Detector = Callable[[str], Iterator[Finding]]


# -- e-mail -------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w%+-](?:[\w.%+-]{0,62}[\w%+-])?@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])"
)


def emails(text: str) -> Iterator[Finding]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield Finding(EMAIL, match.start(), match.end(), match.group())


# -- URLs carrying credentials or tokens ---------------------------------------------------------

_URL = re.compile(r"(?i)\b(?:(?:https?|ftps?|wss?)://|www\.)[^\s<>\"'`]+")
_URL_TRAILING = ".,;:!?)]}'\""
_SECRET_PARAMS = frozenset(
    {
        "token",
        "auth",
        "authorization",
        "key",
        "apikey",
        "secret",
        "sig",
        "signature",
        "password",
        "passwd",
        "pwd",
        "pass",
        "session",
        "sessionid",
        "sid",
        "jwt",
        "otp",
        "privatekey",
        "accesskey",
        "clientsecret",
    }
)
_SECRET_SUFFIXES = ("token", "secret", "password", "passwd", "signature", "credential", "apikey", "sessionid")
# A path segment that looks generated: long, no word separators, letters and digits mixed (a reset
# or magic-link token). Slugs ("iphone-15-pro-max") have hyphens and are left alone.
_RANDOM_SEGMENT = re.compile(r"^[A-Za-z0-9_.~]{20,}$")


def _secret_param(name: str) -> bool:
    # session_id, Session-Id and sessionid alike.
    name = name.strip().lower().replace("_", "").replace("-", "")
    return name in _SECRET_PARAMS or name.endswith(_SECRET_SUFFIXES)


def _random_segment(segment: str) -> bool:
    if not _RANDOM_SEGMENT.match(segment):
        return False
    digits = sum(c.isdigit() for c in segment)
    letters = sum(c.isalpha() for c in segment)
    return digits >= 4 and letters >= 4


def carries_secret(url: str) -> bool:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if "@" in parts.netloc:
        return True  # user or user:password
    for params in (parts.query, parts.fragment):
        if any(_secret_param(name) for name, _ in parse_qsl(params, keep_blank_values=True)):
            return True
    return any(_random_segment(segment) for segment in parts.path.split("/"))


def secret_urls(text: str) -> Iterator[Finding]:
    if "://" not in text and "www." not in text.lower():
        return
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        try:
            secret = carries_secret(url)
        except ValueError:  # a malformed authority (e.g. a bad port or IPv6 literal): not a usable URL
            continue
        if secret:
            yield Finding(URL, match.start(), match.start() + len(url), url)


# -- IBAN ---------------------------------------------------------------------------------------

_IBAN = re.compile(r"(?i)(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?![A-Z0-9])")
_IBAN_MIN = 15


def ibans(text: str) -> Iterator[Finding]:
    from stdnum import iban

    for match in _IBAN.finditer(text):
        candidate = match.group()
        # The pattern may have run into the next word ("… 3000 AND"): try it shortened, longest first.
        for end in range(len(candidate), 0, -1):
            head = candidate[:end]
            if head[-1] in " -" or sum(c.isalnum() for c in head) < _IBAN_MIN:
                continue
            if head[2:4].isdigit() and head[:2].isalpha() and iban.is_valid(head):
                yield Finding(IBAN, match.start(), match.start() + end, head)
                break


# -- payment cards ------------------------------------------------------------------------------

_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-]|[.,]\d)")
# The major networks' issuer prefixes and lengths: a Luhn-valid digit run of another prefix or
# length (one in ten order numbers or barcodes passes Luhn by chance) is not taken for a card.
# Maestro (50, 56-69, 12-19 digits) is left out: its range would take most such numbers.
_CARD_NETWORKS = (
    (re.compile(r"^4"), (13, 16, 19)),  # Visa
    (re.compile(r"^(?:5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))"), (16,)),  # Mastercard
    (re.compile(r"^3[47]"), (15,)),  # American Express
    (re.compile(r"^(?:6011|64[4-9]|65)"), (16, 17, 18, 19)),  # Discover
    (re.compile(r"^35(?:2[89]|[3-8]\d)"), (16, 17, 18, 19)),  # JCB
    (re.compile(r"^(?:30[0-5]|36|38)"), (14, 15, 16)),  # Diners Club
    (re.compile(r"^62"), (16, 17, 18, 19)),  # UnionPay
)


_CARD_GROUP = re.compile(r"\d+")
_CARD_LEADING_DIGITS = 3


def cards(text: str) -> Iterator[Finding]:
    from stdnum import luhn

    def valid(digits: str) -> bool:
        return any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in _CARD_NETWORKS) and (
            luhn.is_valid(digits)
        )

    for match in _CARD.finditer(text):
        # The run may hold more than the card ("4111 1111 1111 1111 12/26", "qty 2 4111…"): try its
        # groups' contiguous spans, longest first, after at most 3 leading digits (more, and a long
        # tracking number such as USPS's 22 digits would hold a card-like run by chance).
        groups = list(_CARD_GROUP.finditer(match.group()))
        starts = [i for i in range(len(groups)) if sum(len(g.group()) for g in groups[:i]) <= _CARD_LEADING_DIGITS]
        spans = [(i, j) for i in starts for j in range(len(groups), i, -1)]
        for i, j in spans:
            if valid("".join(g.group() for g in groups[i:j])):
                start, end = match.start() + groups[i].start(), match.start() + groups[j - 1].end()
                yield Finding(CARD, start, end, text[start:end])
                break


# -- US Social Security number ------------------------------------------------------------------

_SSN = re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])")
# Nine digits without separators are an SSN only when named so just before.
_SSN_BARE = re.compile(r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\s*(?:is|:|#)?\s*(\d{9})(?!\d)")


def ssns(text: str) -> Iterator[Finding]:
    from stdnum.us import ssn

    for match in _SSN.finditer(text):
        # stdnum's compact form drops dashes only: "123 45 6789" is checked as digits.
        if ssn.is_valid(re.sub(r"\D", "", match.group())):
            yield Finding(SSN, match.start(), match.end(), match.group())
    for match in _SSN_BARE.finditer(text):
        if ssn.is_valid(match.group(1)):
            yield Finding(SSN, match.start(1), match.end(1), match.group(1))


# -- UK National Insurance number ---------------------------------------------------------------

# HMRC's rules, written out here because python-stdnum has no NINO module: the first letter is
# not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or V; BG, GB, KN, NK, NT, TN and ZZ are
# never issued; the suffix is A-D.
_NINO = re.compile(
    r"(?i)(?<![A-Z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-D](?![A-Z0-9])"
)
_NINO_NEVER = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def ninos(text: str) -> Iterator[Finding]:
    for match in _NINO.finditer(text):
        if match.group(1).upper() not in _NINO_NEVER:
            yield Finding(NINO, match.start(), match.end(), match.group())


# -- IP addresses -------------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d|\w)")
_IPV6 = re.compile(r"(?i)(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
# A dotted quad a release note names as a version is a version, not an address: right after a
# version word ("v1.2.3.4", "firmware 1.2.3.4", "Build: 1.2.3.4", "updated to 1.2.3.4", "fw v
# 1.2.3.4") or right before one ("the 1.2.3.4 firmware"). "to"/"from" count only after an update
# word, so "connect to 10.0.0.1" stays an address. Versions with a part over 255 ("build
# 10.0.19045.1234") are never addresses in the first place.
_VERSION_WORDS = (
    r"v|ver|version|firmware|fw|build|release|rel|rev|revision|patch|update|updated|upgrade|upgraded"
    r"|driver|drivers|bios|kernel|software|sw|app|rom|os"
)
_VERSION_BEFORE = re.compile(rf"(?i)\b(?:{_VERSION_WORDS})\b(?:\s+(?:is|was|to|from|version|v|no))?[\s:#=(.-]*v?$")
_VERSION_AFTER = re.compile(r"(?i)^[\s)]*(?:firmware|fw|build|release|version|update|patch|driver|bios|rom)\b")


# "from 2.3.9.9 to 2.4.0.1": the second is a version when the first one was.
_FROM_VERSION_TO = re.compile(r"^\s*(?:to|->|→)\s*v?$")


def _is_named_a_version(text: str, start: int, end: int, previous_version_end: int | None) -> bool:
    if previous_version_end is not None and _FROM_VERSION_TO.match(text[previous_version_end:start]):
        return True
    return bool(_VERSION_BEFORE.search(text[max(0, start - 40) : start]) or _VERSION_AFTER.match(text[end : end + 20]))


def ip_addresses(text: str) -> Iterator[Finding]:
    version_end: int | None = None
    for match in _IPV4.finditer(text):
        if _is_named_a_version(text, match.start(), match.end(), version_end):
            version_end = match.end()
            continue
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield Finding(IP, match.start(), match.end(), match.group())
    if text.count(":") < 2:
        return
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if sum(1 for group in candidate.split(":") if group) < 2:
            continue  # "::", "a::" and times like "12:30:" are not worth a placeholder
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Finding(IP, match.start(), match.end(), candidate)


# -- phone numbers ------------------------------------------------------------------------------

# A national number after one of these words is an identifier (order 4155550123, FedEx 4490 8290
# 2189), not a phone; a number written with + and a country code is a phone whatever precedes it.
_IDENTIFIER_BEFORE = re.compile(
    r"(?i)(?:\b(?:order|ord|ref|reference|invoice|inv|ticket|case|tracking|track|parcel|shipment|account|acct|"
    r"customer|member|sku|item|product|model|serial|confirmation|booking|transaction|txn|"
    r"fedex|ups|usps|dhl|barcode|ean|upc|isbn|gtin)"
    r"\b\.?\s*(?:#|no\.?|nr\.?|number|id|:)?\s*|#\s*)$"
)
_MIN_PHONE_DIGITS = 7
# phonenumbers skips dates written with slashes, not those with dots or dashes (13.10.2025).
_DATE = re.compile(r"^\d{1,4}([./-])\d{1,2}\1\d{1,4}$")


def phones(text: str, regions: Sequence[str] = PHONE_REGIONS) -> Iterator[Finding]:
    if sum(c.isdigit() for c in text) < _MIN_PHONE_DIGITS:
        return
    import phonenumbers

    seen: set[tuple[int, int]] = set()
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            span = (match.start, match.end)
            if span in seen:
                continue
            seen.add(span)
            raw = match.raw_string
            if _DATE.match(raw):
                continue
            if not raw.startswith("+") and _IDENTIFIER_BEFORE.search(text[max(0, match.start - 24) : match.start]):
                continue
            yield Finding(PHONE, match.start, match.end, raw)


@cache
def all_detectors() -> tuple[Detector, ...]:
    """Every detector, in the order of KINDS (precedence on overlaps)."""
    return (secret_urls, emails, ibans, cards, ssns, ninos, ip_addresses, phones)
