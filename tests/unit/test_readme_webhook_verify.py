"""The receiver's check the docs show (docs/integrations.md, "Events and webhooks") accepts a delivery signed
during a rotation's overlap with whichever of the two secrets the receiver holds, and refuses
others: it is run here as written, against the signatures the deliverer makes."""

from __future__ import annotations

import re
import time

from reviewpulse.webhooks.signing import signatures

from tests.documentation import INTEGRATIONS_PAGE, section


def readme_verify():
    text = section(INTEGRATIONS_PAGE, "## Events and webhooks")
    start = text.index("To verify a delivery:")
    (block,) = re.findall(r"```python\n(.*?)```", text[start:], re.S)
    namespace: dict = {}
    exec(compile(block, "docs/integrations.md", "exec"), namespace)  # noqa: S102 (the docs' own sample)
    return namespace["verify"]


def test_the_readmes_check_accepts_either_secret_during_an_overlap():
    verify = readme_verify()
    body = b'{"id":"evt_1","detail":{}}'
    now = int(time.time())
    # Given a delivery signed with the new and the old secret (an overlap), and one with the new only
    both = signatures(["whsec_new", "whsec_old"], now, body)
    only_new = signatures(["whsec_new"], now, body)
    # Then a receiver holding either secret accepts the first; only the new one accepts the second
    assert verify("whsec_new", both, body) and verify("whsec_old", both, body)
    assert verify("whsec_new", only_new, body) and not verify("whsec_old", only_new, body)
    # And a stranger's secret, a changed body or a stale timestamp is refused
    assert not verify("whsec_other", both, body)
    assert not verify("whsec_new", both, body + b" ")
    assert not verify("whsec_new", signatures(["whsec_new"], now - 3600, body), body)
