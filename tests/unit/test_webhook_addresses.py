"""The webhooks' SSRF guard: what a URL may be at registration, and which addresses a delivery may
connect to when its host is resolved at delivery time."""

from __future__ import annotations

import pytest
from reviewpulse.errors import ValidationFailed
from reviewpulse.webhooks.addresses import AddressRefused, check_url, parse_allowed, resolve_public, system_resolver


def resolver(answers: dict[str, list[str]]):
    return lambda host, port: answers[host]


PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (["10.0.0.7"], "private"),
        (["192.168.1.1"], "private"),
        (["172.16.5.4"], "private"),
        (["127.0.0.1"], "loopback"),
        (["169.254.169.254"], "metadata"),
        (["169.254.10.1"], "link-local"),
        (["100.64.0.1"], "not a public"),  # shared address space (carrier-grade NAT)
        (["224.0.0.1"], "multicast"),
        (["240.0.0.1"], "private"),  # reserved (Python also counts it private)
        (["0.0.0.0"], "private"),
        (["::1"], "loopback"),
        (["fe80::1"], "link-local"),
        (["fd00:ec2::254"], "metadata"),
        (["fc00::5"], "private"),
        (["::ffff:127.0.0.1"], "loopback"),  # IPv4-mapped
        (["ff02::1"], "multicast"),
        ([PUBLIC, "10.0.0.1"], "private"),  # one bad answer among good ones
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused_at_delivery(answers, reason):
    # Given a registered https URL whose host now resolves to these addresses
    target = check_url("https://hooks.example.com/in")
    # When the delivery resolves it, Then it is refused, saying which kind of address
    with pytest.raises(AddressRefused, match=reason):
        resolve_public(target, resolve=resolver({"hooks.example.com": answers}))


def test_a_public_address_is_used_as_resolved():
    target = check_url("https://hooks.example.com:8443/in?x=1")
    assert str(resolve_public(target, resolve=resolver({"hooks.example.com": [PUBLIC]}))) == PUBLIC
    assert (target.port, target.path) == (8443, "/in?x=1")
    v6 = check_url("https://v6.example.com/")
    assert str(resolve_public(v6, resolve=resolver({"v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"]})))


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "017700000001", "127.1", "0x7f.0.0.1"])
def test_numeric_host_forms_are_refused_at_registration_and_resolve_to_loopback(host):
    # Registration refuses them outright
    with pytest.raises(ValidationFailed, match="number"):
        check_url(f"https://{host}/x")
    # And were one to get through, the system resolver reads it as 127.0.0.1, which is refused
    from reviewpulse.webhooks.addresses import Target

    with pytest.raises(AddressRefused, match="loopback"):
        resolve_public(Target("https", host, 443, "/x"), resolve=system_resolver)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "https://127.0.0.1/",
        "https://[::ffff:10.0.0.1]/",
        "https://[fd00:ec2::254]/",
        "https://169.254.169.254/",
        "https://u:p@hooks.example.com/",
        "https://hooks.example.com/#frag",
        "https:///nohost",
        "https://hooks.example.com:99999/",
        "javascript:alert(1)",
        "https://hooks.example.com/a b",
    ],
)
def test_registration_refuses_anything_but_a_public_https_url(url):
    with pytest.raises(ValidationFailed) as refused:
        check_url(url)
    assert url not in refused.value.detail  # says what is wrong without echoing the URL


def test_only_explicitly_allowed_addresses_may_be_private_or_plain_http():
    allowed = parse_allowed("127.0.0.1/32, ::1")
    target = check_url("http://127.0.0.1:8080/hooks", allowed)
    assert str(resolve_public(target, allowed, resolve=resolver({"127.0.0.1": ["127.0.0.1"]}))) == "127.0.0.1"
    # Plain http to a public name is still refused, even with an allow-list
    with pytest.raises(ValidationFailed, match="https"):
        check_url("http://hooks.example.com/", allowed)
    # And a name that resolves outside the list is refused at delivery
    named = check_url("https://hooks.example.com/", allowed)
    with pytest.raises(AddressRefused):
        resolve_public(named, allowed, resolve=resolver({"hooks.example.com": ["10.0.0.1"]}))
