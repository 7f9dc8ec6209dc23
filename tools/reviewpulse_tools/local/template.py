"""template.yaml as plain CloudFormation, with its intrinsic functions resolvable locally.

aws-sam-translator (the library behind `sam`) expands the SAM resources: Globals applied, event
sources and the implicit API made explicit. It wants S3 locations for code, so local CodeUri and
ContentUri values are swapped for placeholders first; the originals are kept per function.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str
from reviewpulse_cli.local_state import ROOT

TEMPLATE_PATH = ROOT / "template.yaml"
_PLACEHOLDER_URI = "s3://local-placeholder/{}.zip"


class _NoManagedPolicies:
    """SAM asks for managed policy ARNs only when a template names them; ours does not."""

    def load(self) -> dict[str, str]:
        return {}


@dataclass
class Template:
    cfn: dict[str, Any]  # translated CloudFormation
    code_dirs: dict[str, Path]  # function logical id → its local CodeUri folder
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.cfn["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r.get("Type") == resource_type}


def read_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    sam, matches = decode_str(path.read_text())
    if matches:
        raise ValueError(f"{path} does not parse: {matches}")
    return json.loads(json.dumps(sam))  # plain dicts, not cfn-lint's node types


class BadParameter(ValueError):
    pass


def check_parameter_overrides(overrides: dict[str, str], path: Path = TEMPLATE_PATH) -> None:
    """Refuse overrides CloudFormation would refuse: an unknown parameter, a Number that is not
    one or out of its MinValue/MaxValue, a value outside AllowedValues."""
    declared = read_sam_template(path).get("Parameters", {})
    for name, value in overrides.items():
        spec = declared.get(name)
        if spec is None:
            raise BadParameter(f"template.yaml has no parameter {name!r}; it has: {', '.join(declared)}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                raise BadParameter(f"{name} must be a number, not {value!r}") from None
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise BadParameter(f"{name} must be at least {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise BadParameter(f"{name} must be at most {spec['MaxValue']}")
        allowed = spec.get("AllowedValues")
        if allowed and str(value) not in [str(v) for v in allowed]:
            raise BadParameter(f"{name} must be one of {', '.join(str(v) for v in allowed)}")


def load_template(
    path: Path = TEMPLATE_PATH, *, region: str = "us-east-1", overrides: dict[str, Any] | None = None
) -> Template:
    from samtranslator.translator.transform import transform

    sam = read_sam_template(path)
    code_dirs: dict[str, Path] = {}
    for name, resource in sam["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            code_dirs[name] = (path.parent / props["CodeUri"]).resolve()
            props["CodeUri"] = _PLACEHOLDER_URI.format(name)
        if resource["Type"] == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = _PLACEHOLDER_URI.format(name)
    parameters = {name: spec.get("Default") for name, spec in sam.get("Parameters", {}).items() if "Default" in spec}
    parameters.update(overrides or {})
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # feature-toggle chatter
    cfn = transform(copy.deepcopy(sam), dict(parameters), _NoManagedPolicies())
    return Template(cfn=cfn, code_dirs=code_dirs, parameters=parameters)


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join and Fn::Select against local resources."""

    def __init__(self, refs: dict[str, Any], attributes: dict[str, dict[str, Any]]) -> None:
        self.refs = refs  # logical id or pseudo parameter → value of Ref
        self.attributes = attributes  # logical id → attribute name → value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.refs[arg]
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.attributes[logical][attribute]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(self.resolve(i)) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self.attributes[logical][attribute])
            return str(self.refs[name])

        return re.sub(r"\$\{([^!][^}]*)\}", replace, text)
