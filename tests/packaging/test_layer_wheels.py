"""Every layer's pins have wheels Lambda's python3.11 runs on both architectures (x86_64 and arm64).

Lambda's python3.11 runs on Amazon Linux 2 (glibc 2.26), so a wheel must be manylinux2014
(manylinux_2_17) or older: a release whose aarch64 wheels need glibc 2.28 (scikit-learn 1.7.1 and
1.7.2, for one) would build on x86_64 and block arm64. pip's own resolver answers it, with the
platform tags SAM's builders use; it needs the package index, as `sam build` does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER_REQUIREMENTS = sorted((ROOT / "layers").glob("*/requirements.txt"))
ARCHITECTURES = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
PIP_TIMEOUT_SECONDS = 900


def resolve(requirements: Path, platform: str, report: Path) -> dict[str, str]:
    """What pip would install for Lambda's python3.11 on `platform`, wheels only: {name: wheel file}."""
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--dry-run",
        "--ignore-installed",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        "3.11",
        "--target",
        str(report.parent / "target"),
        "--report",
        str(report),
        "--requirement",
        str(requirements),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    assert done.returncode == 0, f"{requirements.parent.name} has no wheels for {platform}:\n{done.stderr[-3000:]}"
    installs = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"].lower(): item["download_info"]["url"].rsplit("/", 1)[-1] for item in installs}


def test_there_are_layers_to_check() -> None:
    # Given the layers folder: the dependencies layer and the training layer at least
    names = {path.parent.name for path in LAYER_REQUIREMENTS}
    assert {"dependencies", "training"} <= names


@pytest.mark.packaging
@pytest.mark.parametrize("requirements", LAYER_REQUIREMENTS, ids=lambda path: path.parent.name)
def test_every_layer_pin_has_a_wheel_for_both_architectures(requirements: Path, tmp_path: Path) -> None:
    # Given a layer's requirements, resolved with their dependencies for each architecture
    resolved = {
        arch: resolve(requirements, platform, tmp_path / arch / "report.json")
        for arch, platform in ARCHITECTURES.items()
    }
    # Then the same packages come on both (no package dropped for want of a wheel)
    assert set(resolved["x86_64"]) == set(resolved["arm64"])
    for arch, wheels in resolved.items():
        for name, wheel in wheels.items():
            # And each wheel is pure Python or built for that architecture, never the other one
            tags = wheel.removesuffix(".whl").split("-")[-1]
            assert tags == "any" or ARCHITECTURES[arch].split("_", 1)[1] in tags, (
                f"{requirements.parent.name}: {name} resolved to {wheel} for {arch}"
            )
