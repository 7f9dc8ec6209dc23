"""Are two versions of template.yaml the same template? Compares what CloudFormation reads — every
top-level section (Parameters, Rules, Conditions, Globals, Resources, Outputs, …) as parsed, with
the short-form tags (!Ref, !Sub, !GetAtt, …) kept as their long forms by cfn-lint's loader —
and ignores order, comments and layout. A reorder (issue 21: the template by feature) must print
"same" and exit 0; any change of meaning is listed and exits 1.

    .venv/bin/python tools/compare_templates.py git:main template.yaml
    .venv/bin/python tools/compare_templates.py old.yaml new.yaml

`git:REV` reads template.yaml as committed at REV. Developer-only: not part of any package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str


def read(source: str) -> dict[str, Any]:
    if source.startswith("git:"):
        # git from PATH, on a revision the developer names: a developer's command, not a service's.
        show = ["git", "show", f"{source[4:]}:template.yaml"]
        text = subprocess.run(show, check=True, capture_output=True, text=True).stdout  # noqa: S603, S607
    else:
        text = Path(source).read_text(encoding="utf-8")
    template, matches = decode_str(text)
    if matches:
        raise SystemExit(f"{source} does not parse: {matches}")
    # Plain JSON-able data: cfn-lint's node types compare as dicts/lists/strings.
    return json.loads(json.dumps(template, default=str))


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    found = []
    for section in sorted(set(before) | set(after)):
        old, new = before.get(section), after.get(section)
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                if key not in new:
                    found.append(f"{section}.{key}: removed")
                elif key not in old:
                    found.append(f"{section}.{key}: added")
                elif old[key] != new[key]:
                    found.append(f"{section}.{key}: changed")
        elif old != new:
            found.append(f"{section}: changed")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    before, after = (read(source) for source in argv)
    found = differences(before, after)
    for line in found:
        print(line)
    if not found:
        counts = ", ".join(f"{len(v)} {k}" for k, v in after.items() if isinstance(v, dict))
        print(f"same: {counts}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
