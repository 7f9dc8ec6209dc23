"""template.yaml as plain CloudFormation, with its intrinsic functions resolvable locally.

aws-sam-translator (the library behind `sam`) expands the SAM resources: Globals applied, event
sources and the implicit API made explicit. It wants S3 locations for code, so local CodeUri and
ContentUri values are swapped for placeholders first; the originals are kept per function.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    """The template as plain dicts, a new copy for every caller (callers may change it)."""
    found = path.stat()
    return json.loads(_parsed_as_json(str(path.resolve()), found.st_mtime_ns, found.st_size))


@functools.lru_cache(maxsize=16)
def _parsed_as_json(path: str, mtime_ns: int, size: int) -> str:
    # Parsing YAML with cfn-lint's decoder takes about 0.15 CPU-s for our template, and the suite's
    # API Gateway reads it twice per test that uses it (docs/tests.md, fifth pass); json.loads of the
    # result takes a few ms. Keyed by the file's modification time and size: an edited template
    # (a developer's, a test's own copy) is parsed again.
    from cfnlint.decode import decode_str  # half a CPU-second to import: only where a template is parsed

    sam, matches = decode_str(Path(path).read_text())
    if matches:
        raise ValueError(f"{path} does not parse: {matches}")
    return json.dumps(sam)  # plain dicts, not cfn-lint's node types


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
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    cache = _cache_file(path, region, overrides)
    try:
        cached = json.loads(cache.read_text())
        return Template(
            cfn=cached["cfn"],
            code_dirs={name: Path(folder) for name, folder in cached["code_dirs"].items()},
            parameters=cached["parameters"],
        )
    except (OSError, ValueError, KeyError):
        pass
    template = _translate(path, region, overrides)
    _write_cache(cache, template)
    return template


# Every process that works on the template (a stack's start, each `reviewpulse invoke`, each test
# worker, each benchmark) translated it again: about 1.1 CPU-s with the imports of cfn-lint and
# aws-sam-translator, most of an `invoke`'s own cost. The translation is a pure function of the
# template's bytes, where it lies, the region, the overrides and the translator's version: its
# result is kept under a hash of those (a few files of ~170 kB; a changed template gets a new one).
def _cache_file(path: Path, region: str, overrides: dict[str, Any] | None) -> Path:
    import importlib.metadata

    key = json.dumps(
        [
            path.resolve().as_posix(),
            hashlib.sha256(path.read_bytes()).hexdigest(),
            region,
            os.environ.get("AWS_DEFAULT_REGION"),
            {name: str(value) for name, value in (overrides or {}).items()},
            importlib.metadata.version("aws-sam-translator"),
            importlib.metadata.version("cfn-lint"),
        ],
        sort_keys=True,
    )
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reviewpulse" / "templates"
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def _write_cache(cache: Path, template: Template) -> None:
    kept = {
        "cfn": template.cfn,
        "code_dirs": {name: str(folder) for name, folder in template.code_dirs.items()},
        "parameters": template.parameters,
    }
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(kept))
        partial.replace(cache)  # whole or not at all, for processes reading it at the same time
    except OSError:  # a read-only home: translate every time, as before
        pass


def _translate(path: Path, region: str, overrides: dict[str, Any] | None) -> Template:
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
