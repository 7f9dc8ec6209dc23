"""template.yaml as the SAM author wrote it, with SAM's Globals applied the way SAM applies them.

Shared by the template and packaging tests, which check what the author declared (the local
provisioner in tools/ works on the translated CloudFormation instead).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# What Lambda uses when neither Globals nor the function set a value.
LAMBDA_DEFAULTS = {"Timeout": 3, "MemorySize": 128}


def load_template() -> dict[str, Any]:
    template, matches = decode_str(TEMPLATE_PATH.read_text(encoding="utf-8"))
    assert not matches, f"template.yaml does not parse: {matches}"
    return template


def _is_intrinsic(value: Any) -> bool:
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    key = str(next(iter(value)))
    return key in {"Ref", "Condition"} or key.startswith("Fn::")


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rules: maps merge, lists concatenate (Globals first), anything else is replaced."""
    if _is_intrinsic(global_value) or _is_intrinsic(local_value):
        return copy.deepcopy(local_value)
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = copy.deepcopy(dict(global_value))
        for key, value in local_value.items():
            merged[key] = _merge_globals(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(list(global_value)) + copy.deepcopy(list(local_value))
    return copy.deepcopy(local_value)


def function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's effective properties: Lambda defaults < Globals.Function < the function's own."""
    merged: dict[str, Any] = dict(LAMBDA_DEFAULTS)
    merged.update(copy.deepcopy(dict(template.get("Globals", {}).get("Function", {}))))
    for key, value in template["Resources"][logical_id].get("Properties", {}).items():
        merged[key] = _merge_globals(merged[key], value) if key in merged else copy.deepcopy(value)
    return merged


def referenced_logical_id(value: Any) -> str:
    """The logical id behind !Ref X or !GetAtt X.Attr."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"]).split(".")[0]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    raise AssertionError(f"expected !Ref or !GetAtt, got {value!r}")


def inline_policies(policies: Any) -> list[Any]:
    """A function's Policies, with a policy granted only under a condition (Fn::If, with
    AWS::NoValue as the other branch) taken as granted: the broadest the role can be."""
    found = []
    for policy in policies if isinstance(policies, list) else [policies]:
        if isinstance(policy, dict) and set(policy) == {"Fn::If"}:
            _, *branches = policy["Fn::If"]
            found.extend(b for b in branches if b != {"Ref": "AWS::NoValue"})
        else:
            found.append(policy)
    return found
