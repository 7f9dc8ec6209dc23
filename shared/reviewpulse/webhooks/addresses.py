"""Which URLs a webhook may have, and which addresses a delivery may connect to (SSRF guard).

A webhook's URL is the tenant's to choose, and a delivery is made from inside our network: it must
never reach a private, loopback, link-local (the instance metadata service among them), multicast,
reserved or otherwise non-public address. The URL is checked when it is registered (https only,
no credentials, no IP address that is not public) and, since DNS can change, the host is resolved
again at every delivery; the delivery then connects to exactly the address that was checked (so a
second lookup cannot swap it) and never follows a redirect.

Numeric hosts in the forms inet_aton accepts (2130706433, 0x7f000001, 0177.0.0.1, 127.1) are
refused outright at registration; at delivery they resolve like any host and meet the same check.

`allowed` lists networks a deployment explicitly lets deliveries reach: only the local stack sets
it (WEBHOOK_ALLOWED_ADDRESSES, never set by template.yaml), for test receivers on 127.0.0.1; plain
http is accepted only for hosts in it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from reviewpulse.errors import ValidationFailed

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) → the addresses it resolves to. socket.getaddrinfo in production; tests pass their own.
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048
# The cloud metadata services, named although the ranges below already cover them.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
# Hosts that are numbers in some base (decimal, octal, hex, dotted or not): inet_aton reads them as
# addresses, and no public webhook needs them.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+))*\.?$", re.IGNORECASE)


class AddressRefused(Exception):
    """A delivery may not go there (the reason names the address class, never more)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line


def parse_allowed(value: str) -> tuple[Network, ...]:
    """WEBHOOK_ALLOWED_ADDRESSES: comma-separated addresses or networks (CIDR)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


def _allowed(address: Address, allowed: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in allowed)


def refusal(address: Address) -> str | None:
    """Why a delivery may not connect to `address`, or None if it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a metadata service address"
    for reason, test in (
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a private address", address.is_private),
        ("a multicast address", address.is_multicast),
        ("a reserved address", address.is_reserved),
        ("an unspecified address", address.is_unspecified),
        ("a site-local address", getattr(address, "is_site_local", False)),
    ):
        if test:
            return reason
    if not address.is_global:  # shared address space (100.64/10), 6to4 and the like
        return "not a public address"
    return None


def check_url(url: str, allowed: Sequence[Network] = ()) -> Target:
    """A webhook URL as registered: https (http only for an allowed address), a host, no
    credentials or fragment; an IP address host must be public (or allowed). ValidationFailed
    says what is wrong without repeating the URL."""
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(f"url: at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("url: not a valid URL") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationFailed("url: must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("url: must not carry credentials (the signature authenticates deliveries)")
    if parts.fragment:
        raise ValidationFailed("url: must not have a fragment")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise ValidationFailed("url: must not contain spaces or control characters")
    literal = _literal_address(host)
    if literal is None and _NUMERIC_HOST.match(host):
        raise ValidationFailed("url: the host is a number; use a name or a dotted public IP address")
    is_allowed = literal is not None and _allowed(literal, allowed)
    if literal is not None and not is_allowed:
        reason = refusal(literal)
        if reason is not None:
            raise ValidationFailed(f"url: the host is {reason}; webhooks must reach a public address")
    if parts.scheme == "http" and not is_allowed:
        raise ValidationFailed("url: must use https")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def resolve_public(target: Target, allowed: Sequence[Network] = (), resolve: Resolver = system_resolver) -> Address:
    """The address to connect to for `target`, resolved now: every address the host resolves to
    must be public (or allowed), else AddressRefused — one bad answer among good ones is refused
    too, since which one a client would use is not ours to know."""
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(target.host, target.port)]
    except (OSError, UnicodeError, ValueError):
        raise AddressRefused("the host does not resolve") from None
    if not found:
        raise AddressRefused("the host does not resolve")
    for address in found:
        if _allowed(address, allowed):
            continue
        reason = refusal(address)
        if reason is not None:
            raise AddressRefused(f"the host resolves to {reason}")
    if target.scheme == "http" and not all(_allowed(address, allowed) for address in found):
        raise AddressRefused("plain http is allowed only to explicitly allowed addresses")
    return found[0]


def _literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
