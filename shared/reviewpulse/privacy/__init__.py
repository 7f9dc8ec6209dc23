"""Personal data found in customer text and replaced by typed placeholders before it reaches an LLM.

`redact(text)` returns a `Redaction`: the text with each detected value replaced by a placeholder
(`[EMAIL_1]`, `[PHONE_2]`, …; the same value gets the same placeholder everywhere in that text) and
the placeholder → original mapping, so an answer quoting the redacted text can be mapped back and
checked against the original.

Detected (detectors.py): e-mail addresses; phone numbers in international and national formats
(the phonenumbers library); payment card numbers (Luhn and a card network's prefix); IBANs (the
ISO 13616 mod-97 checksum and the country's length, python-stdnum); IPv4 and IPv6 addresses (the
standard library's ipaddress; a dotted quad named as a version, "firmware 1.2.3.4", is not one); URLs that carry credentials or tokens (a user:password, a query or
fragment parameter named like a token, key, secret, signature or password, or a long random path
segment); US Social Security numbers (python-stdnum's area/group/serial rules); UK National
Insurance numbers (the HMRC prefix rules).

Not detected: person names and postal addresses. The detectors that find names need a model: the
one Presidio uses by default is a spaCy model downloaded at install time (not possible here), and
the spaCy models on the package registry are third-party re-uploads; spaCy and a model would also
add well over 100 MB to the Lambda layer and about a second to each cold start. A name list alone
is too imprecise in reviews ("Will", "Grace", "May", "Apple"). So names reach the LLM as written.
"""

from reviewpulse.privacy.redactor import PLACEHOLDER, Redaction, Redactor, mentions_personal_data, redact

__all__ = ["PLACEHOLDER", "Redaction", "Redactor", "mentions_personal_data", "redact"]
