"""A labelled corpus of reviews and chats with seeded personal data, for the redaction quality report.

Deterministic for a seed. Every value is built by its own rules here (card and IBAN check digits
computed with the published algorithms, phone numbers in assigned ranges, SSNs and NINOs in issued
ranges), never with the detectors under test, and its span in the text is recorded as it is
inserted. Each document also carries hard negatives that look like personal data and are not:
order and reference numbers, dates and times, prices, tracking codes, product codes, versions.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

EMAIL, PHONE, CARD, IBAN, IP, URL, SSN, NINO = "EMAIL", "PHONE", "CARD", "IBAN", "IP", "URL", "SSN", "NINO"
KINDS = (EMAIL, PHONE, CARD, IBAN, IP, URL, SSN, NINO)


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int

    def value(self, text: str) -> str:
        return text[self.start : self.end]


@dataclass(frozen=True)
class Document:
    text: str
    spans: tuple[Span, ...]  # the personal data in it, by kind; hard negatives are not listed


FIRST = ("jane", "john", "maria", "li", "ahmed", "olga", "sam", "priya", "lucas", "emma", "noah", "chloe")
LAST = ("doe", "smith", "garcia", "wong", "khan", "novak", "taylor", "patel", "silva", "brown", "muller")
DOMAINS = ("example.com", "mail.example.org", "example.co.uk", "test-mail.example.net", "shop.example.de")
US_AREAS = ("202", "212", "213", "305", "312", "415", "512", "617", "646", "702", "718", "917")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _token(rng: random.Random, n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        token = "".join(rng.choice(alphabet) for _ in range(n))
        if sum(c.isdigit() for c in token) >= 4 and sum(c.isalpha() for c in token) >= 4:
            return token


def email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}{last}{rng.randint(1, 99)}",
            f"{first[0]}{last}",
            f"{first}+orders",
            f"{first}_{last}",
        ]
    )
    value = f"{local}@{rng.choice(DOMAINS)}"
    return value.upper() if rng.random() < 0.05 else value


def phone(rng: random.Random) -> str:
    area, exchange, line = rng.choice(US_AREAS), f"{rng.randint(2, 9)}{_digits(rng, 2)}", _digits(rng, 4)
    if exchange == "555":
        exchange = "556"
    london = f"7{_digits(rng, 3)} {_digits(rng, 4)}"
    # UK mobiles are 071-075 and 077-079 (076 is pagers; 07700 900xxx is kept for drama).
    mobile = f"7{rng.choice('1234579')}{rng.randint(1, 9)}{_digits(rng, 1)} {_digits(rng, 6)}"
    formats = [
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{area} {exchange} {line}",
        f"+1 {area} {exchange} {line}",
        f"+1-{area}-{exchange}-{line}",
        f"1-{area}-{exchange}-{line}",
        f"020 {london}",
        f"+44 20 {london}",
        f"0{mobile}",
        f"+44 {mobile}",
        f"+49 30 {_digits(rng, 8)}",
        # French mobiles; 0639 and 069x belong to the overseas departments' own plans.
        f"+33 6 {rng.choice([n for n in range(10, 59) if n != 39])} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}",
        f"+61 2 9{_digits(rng, 3)} {_digits(rng, 4)}",
    ]
    return rng.choice(formats)


def luhn_check_digit(payload: str) -> str:
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these become every second digit once the check digit is appended
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)])
    payload = prefix + _digits(rng, length - len(prefix) - 1)
    number = payload + luhn_check_digit(payload)
    style = rng.choice(["space", "dash", "plain"])
    if length == 15:  # Amex groups 4-6-5
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i : i + 4] for i in range(0, length, 4)]
    return {"space": " ".join(groups), "dash": "-".join(groups), "plain": number}[style]


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616: the BBAN, the country code and 00, letters as numbers (A=10), mod 97."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban(rng: random.Random) -> str:
    country, bban = rng.choice(
        [
            ("GB", "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + _digits(rng, 14)),
            ("DE", _digits(rng, 18)),
            ("AT", _digits(rng, 16)),
            ("CH", _digits(rng, 17)),
            ("NL", "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + _digits(rng, 10)),
        ]
    )
    compact = country + iban_check_digits(country, bban) + bban
    if rng.random() < 0.6:
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


def ip_address(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"{rng.choice([23, 51, 81, 93, 104, 172, 185, 192, 203])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    if rng.random() < 0.5:
        return "2001:db8::" + ":".join(groups[:3])
    return ":".join(groups)


def secret_url(rng: random.Random) -> str:
    host = rng.choice(["shop.example.com", "account.example.org", "files.example.net", "example.co.uk"])
    token = _token(rng, rng.randint(24, 40))
    return rng.choice(
        [
            f"https://{host}/reset-password?token={token}",
            f"https://{host}/account?session_id={token}&lang=en",
            f"https://{host}/api/orders?api_key={token}",
            f"https://{rng.choice(FIRST)}:{_token(rng, 10)}@{host}/export",
            f"https://{host}/verify/{token}",
            f"https://{host}/callback#access_token={token}&expires_in=3600",
            f"https://{host}/invoice.pdf?X-Amz-Credential=AKIA{_digits(rng, 8)}&X-Amz-Signature={token}",
            f"http://{host}/login?user={rng.choice(FIRST)}&password={_token(rng, 12)}",
        ]
    )


def ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    return (
        f"{number[:3]}-{number[3:5]}-{number[5:]}" if rng.random() < 0.8 else f"{number[:3]} {number[3:5]} {number[5:]}"
    )


NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


def nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(NINO_FIRST) + rng.choice(NINO_SECOND)
        if prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            break
    digits, suffix = _digits(rng, 6), rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{prefix}{digits}{suffix}"


VALUES: dict[str, Callable[[random.Random], str]] = {
    EMAIL: email,
    PHONE: phone,
    CARD: card,
    IBAN: iban,
    IP: ip_address,
    URL: secret_url,
    SSN: ssn,
    NINO: nino,
}

# Sentences that carry one value each. {} is where it goes.
CARRIERS: dict[str, tuple[str, ...]] = {
    EMAIL: (
        "Please send the replacement details to {}.",
        "The receipt went to {} instead of my work address",
        "You can reach me at {} if anything is unclear.",
        "my email is {}",
        "Contact: Jane <{}>",
    ),
    PHONE: (
        "Call me back on {} after 5pm.",
        "The courier rang from {} twice and never came.",
        "my number: {}",
        "Text me at {}, thanks!",
        "office line {} ext. 204",
    ),
    CARD: (
        "You charged my card {} twice for the same order.",
        "The card ending is wrong, I paid with {}",
        "card number {} expires next month",
        "card {} exp 11/27, CVV withheld",
    ),
    IBAN: (
        "Please refund to my account {} as agreed.",
        "IBAN: {}",
        "I sent the transfer from {} last week.",
    ),
    IP: (
        "The site blocked my IP {} for no reason.",
        "Login attempts came from {} which is not me.",
        "my router shows {} as the address",
        "the error page said blocked [{}]",
    ),
    URL: (
        "The reset link {} does not work.",
        "I clicked {} and got an error page.",
        "Here is the link you sent: {}",
        "(the link was {})",
    ),
    SSN: (
        "Why does the form ask for my SSN {}?",
        "I entered my social security number {} by mistake.",
        "SSN {} was shown on the invoice!",
    ),
    NINO: (
        "My National Insurance number is {} for the payroll query.",
        "NI number {} was printed on the letter.",
        "they asked for my NINO ({}) on the phone",
    ),
}

OPENINGS = (
    "The blender works great and is quiet.",
    "Terrible experience with the delivery, the box was crushed.",
    "Battery life is fine but the screen scratches easily.",
    "Support was friendly and quick to answer.",
    "I am not happy with the refund process at all.",
    "Lovely colours and the fabric feels solid.",
    "It stopped charging after two weeks.",
)


def _hard_negatives(rng: random.Random) -> list[str]:
    """Identifiers, dates, amounts and codes that look like personal data and are not."""
    return [
        f"Order #{_digits(rng, rng.randint(6, 12))} arrived late.",
        f"order {rng.choice(US_AREAS)}{rng.randint(2, 9)}{_digits(rng, 6)} is still missing",
        f"Ref: {rng.choice(US_AREAS)}{_digits(rng, 7)}",
        f"It was delivered on {rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} at {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.",
        f"Bought on {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2019, 2026)} and on {rng.randint(1, 28)}.{rng.randint(1, 12)}.{rng.randint(2019, 2026)}.",
        f"It cost ${rng.randint(1, 9)},{_digits(rng, 3)}.{_digits(rng, 2)}, now £{rng.randint(10, 999)}.99 or €{rng.randint(1, 9)}.{_digits(rng, 3)},{_digits(rng, 2)}.",
        f"Tracking 1Z{''.join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))} shows nothing.",
        f"USPS says 9400 {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 2)}.",
        f"Product code SKU-{_digits(rng, 4)}-XL, model XJ-{rng.randint(100, 999)}.",
        f"Firmware version {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)} broke it.",
        f"Rated {rng.randint(1, 5)}/5, {rng.randint(10, 99)}% battery after {rng.randint(2, 12)} hours.",
        f"Invoice {rng.randint(2019, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{_digits(rng, 4)} is wrong.",
        f"Case {_digits(rng, 8)} was closed without reply.",
        f"See https://shop.example.com/products/blender-pro-{rng.randint(100, 999)}?color=red&size=l for the item.",
        f"ISBN 978-{rng.randint(0, 1)}-{_digits(rng, 3)}-{_digits(rng, 5)}-{rng.randint(0, 9)} is the wrong edition.",
        f"ISBN 0-{_digits(rng, 3)}-{_digits(rng, 5)}-{rng.randint(0, 9)} too.",
        f"Barcode {rng.randint(1, 9)}{_digits(rng, 12)} on the box.",
        f"FedEx {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} never moved.",
        f"Open {rng.randint(7, 10)}:00-{rng.randint(17, 20)}:30 only.",
        # Long order numbers: about 1 in 10 passes the Luhn check by chance, and those that start
        # like a card network are found as cards (counted against precision, as they would be).
        f"Order number {rng.randint(1, 9)}{_digits(rng, 15)} was refunded.",
    ]


def document(rng: random.Random, chat: bool) -> Document:
    """One review or chat: 0-3 pieces of personal data and 1-3 hard negatives, in random order."""
    pieces: list[tuple[str, str | None, str]] = []  # (template, kind or None, value)
    for kind in rng.sample(KINDS, rng.choice([0, 1, 1, 2, 2, 3])):
        pieces.append((rng.choice(CARRIERS[kind]), kind, VALUES[kind](rng)))
    for negative in rng.sample(_hard_negatives(rng), rng.randint(1, 3)):
        pieces.append((negative.replace("{", "{{").replace("}", "}}"), None, ""))
    rng.shuffle(pieces)
    pieces.insert(0, (rng.choice(OPENINGS), None, ""))
    text, spans = "", []
    speakers = ("Customer", "Agent")
    for n, (template, kind, value) in enumerate(pieces):
        prefix = f"{speakers[n % 2] if kind is None else 'Customer'}: " if chat else ""
        separator = "\n" if chat and text else (" " if text else "")
        sentence = template.format(value) if kind else template.format()
        text += separator + prefix
        if kind:
            start = len(text) + template.index("{}")
            spans.append(Span(kind, start, start + len(value)))
        text += sentence
    return Document(text, tuple(spans))


def corpus(size: int = 2000, seed: int = 13) -> list[Document]:
    """`size` documents, half reviews and half chats, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    return [document(rng, chat=n % 2 == 1) for n in range(size)]
