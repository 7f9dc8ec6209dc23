"""What `sam build` produces is what Lambda runs: every handler imports from its build folder.

Each handler is imported in a `python -I -S` (no site-packages at all) whose sys.path is what
Lambda's python3.11 runtime gives a function: the standard library, the function's folder
(/var/task), the layers' python/ folders (/opt/python) and the runtime's own boto3
(/var/runtime). A module that only the developer's virtual environment has fails here, not in AWS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from reviewpulse_tools.local.lambda_environment import PRELOADED_MODULES

from tests.forking_probes import ForkingProbes, server_command
from tests.sam_template import function_properties, load_template, referenced_logical_id

REPO_ROOT = Path(__file__).resolve().parents[2]

# Lambda's limit for a function and all its layers, unzipped (250 MB).
LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000
IMPORT_TIMEOUT_SECONDS = 120
FAKE_REGION = "us-east-1"
FAKE_ACCOUNT = "123456789012"
# Top-level names (packages, modules, distributions) that must never ship to Lambda.
DEV_ONLY_NAMES = frozenset(
    {
        "pytest",
        "_pytest",
        "pluggy",
        "moto",
        "cfnlint",
        "cfn_lint",
        "samcli",
        "aws_sam_cli",
        "samtranslator",
        "aws_sam_translator",
        "pip",
        "tests",
        "test",
        "reviewpulse_tools",  # developer-only code from tools/
        "reviewpulse_cli",  # the command-line client from cli/
        "boto3",  # the runtime provides it (see layers/dependencies/requirements.txt)
    }
)


# --------------------------------------------------------------------------- template helpers


def _dummy_value(template: dict[str, Any], value: Any) -> str:
    """A stand-in for what CloudFormation would put in an environment variable."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        name = str(value["Ref"])
        parameter = template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", f"dummy-{name.lower()}"))
        if name == "AWS::Region":
            return FAKE_REGION
        if name == "AWS::AccountId":
            return FAKE_ACCOUNT
        if template["Resources"].get(name, {}).get("Type") == "AWS::SQS::Queue":
            return f"https://sqs.{FAKE_REGION}.amazonaws.com/{FAKE_ACCOUNT}/reviewpulse-test-{name}"
        return f"reviewpulse-test-{name.lower()}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:aws:dummy:{FAKE_REGION}:{FAKE_ACCOUNT}:{referenced_logical_id(value)}"
    return "dummy"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    layer_ids: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]
    memory_size: str


def function_specs() -> list[FunctionSpec]:
    """Every function of the template with its layers and its environment (Refs made concrete)."""
    template = load_template()
    specs = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = function_properties(template, logical_id)
        variables = props.get("Environment", {}).get("Variables", {})
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                layer_ids=tuple(referenced_logical_id(layer) for layer in props.get("Layers", [])),
                environment=tuple((name, _dummy_value(template, value)) for name, value in variables.items()),
                memory_size=str(props.get("MemorySize", 128)),
            )
        )
    return sorted(specs, key=lambda spec: spec.logical_id)


def layer_logical_ids() -> list[str]:
    return sorted(
        logical_id
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    )


FUNCTIONS = function_specs()
LAYERS = layer_logical_ids()


# --------------------------------------------------------------------------- build helpers


def layer_python_dir(build_dir: Path, layer_id: str) -> Path:
    return build_dir / layer_id / "python"


def top_level_names(folder: Path) -> set[str]:
    """Normalized top-level import and distribution names of a folder on sys.path."""
    names = set()
    for entry in folder.iterdir():
        name = entry.name
        if name == "__pycache__":
            continue
        if name.endswith((".dist-info", ".egg-info")):
            name = name.rsplit(".", 1)[0].split("-")[0]
        elif name.endswith(".py"):
            name = name[: -len(".py")]
        names.add(name.lower().replace("-", "_"))
    return names


def folder_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for file_name in files:
            path = Path(root, file_name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


IMPORT_PROBE = """
import json, os, sys
assert not any("-packages" in p for p in sys.path), f"site-packages leaked into sys.path: {sys.path}"
# The preloaded openai (see SERVER) is set aside, so the handler's import finds it only by importing it
preloaded_openai = {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "openai"}
import app
assert callable(getattr(app, "handler", None)), "app.handler is missing or not callable"
import boto3, reviewpulse
openai_at_import = "openai" in sys.modules
pii_libraries_at_import = bool({"phonenumbers", "stdnum"} & set(sys.modules))
if not openai_at_import:
    sys.modules.update(preloaded_openai)
import reviewpulse.analysis.llm.request_engine, openai  # what the first LLM task would load
from reviewpulse.privacy import redact  # and its first redaction (phone metadata, IBAN registry)
import phonenumbers
redacted = redact("call +44 20 7946 0123, IBAN DE89370400440532013000, card 4111111111111111, SSN 536-22-1234").text
# Every module loaded, preloaded or not, came from the standard library or this function's search path
allowed = [*STANDARD_LIBRARY, *(os.path.join(path, "") for path in json.loads(sys.argv[1]))]
strays = sorted(name for name, module in list(sys.modules.items())
                if getattr(module, "__file__", None) and not module.__file__.startswith(tuple(allowed)))
print(json.dumps({"app": app.__file__, "reviewpulse": reviewpulse.__file__, "boto3": boto3.__file__,
                  "openai_at_import": openai_at_import, "openai": openai.__file__,
                  "pii_libraries_at_import": pii_libraries_at_import, "phonenumbers": phonenumbers.__file__,
                  "redacted": redacted, "strays": strays}))
"""
# Each probe runs in a process of its own (tests/forking_probes.py), forked from one `python -I -S` (no site-packages) that
# imported the third-party libraries the local stack's environments are forked with
# (PRELOADED_MODULES) from the built dependencies layer and the emulated runtime only: a fresh
# interpreter per function cost about 1.5 CPU-s, 33 times. A module a layer lacks fails the preload
# quietly and then fails the handler's import in the child; the child also checks that every loaded
# module's file is in the standard library or on its own search path (the probe's `strays`).


class ImportProbes(ForkingProbes):
    """The forking process: run(search_path, env, cwd) -> (exit code, stdout, stderr) of a probe."""

    def __init__(self, preload_path: list[str], folder: Path) -> None:
        command = server_command([sys.executable, "-I", "-S"], IMPORT_PROBE, preload_path, PRELOADED_MODULES)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "AWS_DEFAULT_REGION": FAKE_REGION}
        super().__init__(command, folder, IMPORT_TIMEOUT_SECONDS, env=env)

    def run(self, search_path: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
        request = {"search_path": search_path, "env": env, "cwd": str(cwd), "argv": [json.dumps(search_path)]}
        return self.ask(request, search_path)


@pytest.fixture(scope="module")
def import_probes(
    sam_build_dir: Path, lambda_runtime_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ImportProbes]:
    # Preloaded only from what every function has: the layers all of them use (not the domain
    # layer: the project's modules read the function's environment at import) and the runtime's boto3
    shared_layers = set.intersection(*(set(spec.layer_ids) for spec in FUNCTIONS)) - {"DomainLayer"}
    preload_path = [str(layer_python_dir(sam_build_dir, layer_id)) for layer_id in sorted(shared_layers)]
    probes = ImportProbes([*preload_path, str(lambda_runtime_dir)], tmp_path_factory.mktemp("import-probes"))
    try:
        yield probes
    finally:
        probes.close()


# --------------------------------------------------------------------------- tests


@pytest.mark.packaging
@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.logical_id for spec in FUNCTIONS])
def test_handler_imports_in_an_emulated_lambda_runtime(
    spec: FunctionSpec, sam_build_dir: Path, lambda_runtime_dir: Path, import_probes: ImportProbes, tmp_path: Path
) -> None:
    # Given the function's build folder, its layers' python/ folders and the runtime's own boto3
    function_dir = sam_build_dir / spec.logical_id
    layer_dirs = [layer_python_dir(sam_build_dir, layer_id) for layer_id in spec.layer_ids]
    for folder in [function_dir, *layer_dirs]:
        assert folder.is_dir(), f"sam build produced no {folder.relative_to(sam_build_dir)}"
    search_path = [str(function_dir), *map(str, layer_dirs), str(lambda_runtime_dir)]
    # And the environment Lambda would give it (template variables with stand-in values)
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": FAKE_REGION,
        "AWS_DEFAULT_REGION": FAKE_REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": spec.memory_size,
        "POWERTOOLS_TRACE_DISABLED": "true",
        **dict(spec.environment),
    }
    # When an interpreter without site-packages imports the handler module
    completed = import_probes.run(search_path, environment, tmp_path)
    # Then it imports and exposes a callable handler
    assert completed.returncode == 0, f"{spec.logical_id}: import failed\n{completed.stdout}\n{completed.stderr}"
    origins = json.loads(completed.stdout.strip().splitlines()[-1])
    # And every module came from where Lambda would load it
    assert Path(origins["app"]).resolve().parent == function_dir.resolve(), origins
    assert Path(origins["reviewpulse"]).resolve().is_relative_to(sam_build_dir.resolve() / "DomainLayer"), origins
    assert Path(origins["boto3"]).resolve().is_relative_to(lambda_runtime_dir.resolve()), origins
    assert origins["strays"] == [], f"{spec.logical_id} loaded modules from outside its search path"
    # And no handler loads the openai package (0.6 s) before an LLM task needs it, yet the
    # dependencies layer has it for the analyzers and the finalizer when one does
    assert origins["openai_at_import"] is False, f"{spec.logical_id} imports openai at cold start"
    assert Path(origins["openai"]).resolve().is_relative_to(sam_build_dir.resolve() / "DependenciesLayer"), origins
    # And the personal-data detectors' libraries load only with the first redaction, from the
    # dependencies layer, with the data files they need (phone metadata, the IBAN registry)
    assert origins["pii_libraries_at_import"] is False, f"{spec.logical_id} imports phonenumbers/stdnum at cold start"
    assert Path(origins["phonenumbers"]).resolve().is_relative_to(sam_build_dir.resolve() / "DependenciesLayer")
    assert origins["redacted"] == "call [PHONE_1], IBAN [IBAN_1], card [CARD_1], SSN [SSN_1]", origins


@pytest.mark.packaging
@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.logical_id for spec in FUNCTIONS])
def test_function_build_folder_holds_only_the_handler(spec: FunctionSpec, sam_build_dir: Path) -> None:
    # Given a built function folder
    function_dir = sam_build_dir / spec.logical_id
    # When its entries are listed
    entries = {entry.name for entry in function_dir.iterdir()} - {"__pycache__"}
    # Then it is a thin handler: app.py and nothing else (the code lives in the layers)
    assert entries == {"app.py"}, f"{spec.logical_id} ships {sorted(entries)}"


@pytest.mark.packaging
@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.logical_id for spec in FUNCTIONS])
def test_function_and_its_layers_fit_lambdas_unzipped_limit(spec: FunctionSpec, sam_build_dir: Path) -> None:
    # Given a built function and the layers it uses
    folders = [sam_build_dir / spec.logical_id, *(sam_build_dir / layer_id for layer_id in spec.layer_ids)]
    # When their unzipped sizes are added up
    total = sum(folder_size(folder) for folder in folders)
    # Then Lambda accepts them (250 MB for a function and all its layers)
    assert total < LAMBDA_UNZIPPED_LIMIT_BYTES, f"{spec.logical_id}: {total / 1e6:.1f} MB unzipped"


@pytest.mark.packaging
@pytest.mark.parametrize("layer_id", LAYERS)
def test_layer_ships_no_test_or_developer_tools(layer_id: str, sam_build_dir: Path) -> None:
    # Given a built layer
    python_dir = layer_python_dir(sam_build_dir, layer_id)
    assert python_dir.is_dir(), f"{layer_id} has no python/ folder"
    # When its top-level packages, modules and distributions are listed
    names = top_level_names(python_dir)
    # Then no test or developer tool, and not boto3 (the runtime brings its own), is among them
    assert not names & DEV_ONLY_NAMES, f"{layer_id} ships {sorted(names & DEV_ONLY_NAMES)}"


@pytest.mark.packaging
def test_domain_layer_holds_the_reviewpulse_package(sam_build_dir: Path) -> None:
    # Given the built domain layer
    python_dir = layer_python_dir(sam_build_dir, "DomainLayer")
    # Then shared/reviewpulse became python/reviewpulse, where Lambda's /opt/python finds it
    assert (python_dir / "reviewpulse" / "__init__.py").is_file()
    # And nothing else from shared/ ships with it
    assert top_level_names(python_dir) - {"requirements.txt"} == {"reviewpulse"}


@pytest.mark.packaging
def test_layers_do_not_ship_the_same_top_level_name(sam_build_dir: Path) -> None:
    # Given every built layer (Lambda unpacks them all into /opt, later ones overwriting earlier ones)
    seen: dict[str, str] = {}
    for layer_id in LAYERS:
        for name in top_level_names(layer_python_dir(sam_build_dir, layer_id)) - {"requirements.txt"}:
            # Then no package comes from two layers, so layer order never decides which one runs
            assert name not in seen, f"{name} is in both {seen[name]} and {layer_id}"
            seen[name] = layer_id
