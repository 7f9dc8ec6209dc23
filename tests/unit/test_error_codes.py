"""One catalogue of task and row error codes (reviewpulse.errors), held to the code that raises them
and to the docs that document them (docs/api.md, "Errors"; docs/engines-and-quality.md, tenant
models; every page for the warnings)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from reviewpulse.errors import (
    FILE_ERROR_CODES,
    MODEL_ERROR_CODES,
    ROW_ERROR_CODES,
    TASK_ERROR_CODES,
    TASK_WARNING_CODES,
    TRAINING_ERROR_CODES,
)

from tests.documentation import API_PAGE, ENGINES_PAGE, all_text, paragraph

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = REPO_ROOT / "shared" / "reviewpulse"
CATALOGUE = set(FILE_ERROR_CODES) | set(TASK_ERROR_CODES) | set(ROW_ERROR_CODES)
CODE = re.compile(r"^[a-z]+(-[a-z]+)+$|^[a-z]+$")


def codes_raised_in_the_package() -> dict[str, str]:
    """Every literal code the package gives a task or a row: UnusableFile(code, …), RowError(code, …),
    TaskError(code=…), ItemResult.failed(item, code, …), and codes named as a default of a lookup."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            candidates: list[ast.expr] = []
            if callee in ("UnusableFile", "RowError") and node.args:
                candidates.append(node.args[0])
            if callee == "failed" and len(node.args) >= 2:
                candidates.append(node.args[1])
            candidates += [keyword.value for keyword in node.keywords if keyword.arg == "code"]
            if callee == "get" and len(node.args) == 2 and isinstance(node.args[0], ast.Constant):
                if node.args[0].value == "code":
                    candidates.append(node.args[1])
            for candidate in candidates:
                if isinstance(candidate, ast.Constant) and isinstance(candidate.value, str):
                    found[candidate.value] = str(path.relative_to(REPO_ROOT))
    return found


def readme_codes_paragraph() -> str:
    return paragraph(API_PAGE, "A task that cannot be processed ends in `error` with one of:")


def test_every_code_the_package_raises_is_in_the_catalogue() -> None:
    raised = codes_raised_in_the_package()
    # (The scan finds the codes, not nothing: a broken scan must fail here, not pass.)
    assert {"malformed-file", "invalid-row", "stalled", "dead-lettered"} <= set(raised)
    missing = {code: where for code, where in raised.items() if code not in CATALOGUE | set(TASK_WARNING_CODES)}
    assert not missing, f"codes raised but not catalogued in reviewpulse.errors: {missing}"


def test_the_catalogue_lists_each_code_once_in_one_kind() -> None:
    kinds = [FILE_ERROR_CODES, TASK_ERROR_CODES, ROW_ERROR_CODES, TASK_WARNING_CODES]
    flat = [code for kind in kinds for code in kind]
    assert len(flat) == len(set(flat))
    assert all(CODE.match(code) for code in flat)


def test_the_readme_documents_exactly_the_catalogue() -> None:
    documented = set(re.findall(r"`([a-z]+(?:-[a-z]+)*)`", readme_codes_paragraph()))
    documented -= {"error"}  # the task status the paragraph names, not a code
    assert documented == CATALOGUE, {
        "documented but not catalogued": sorted(documented - CATALOGUE),
        "catalogued but not documented": sorted(CATALOGUE - documented),
    }


def test_the_readme_names_every_warning_a_task_can_carry() -> None:
    docs = all_text()
    assert [code for code in TASK_WARNING_CODES if f"`{code}`" not in docs] == []


# A model fails with the training function's codes or the learning library's (both catalogued).
MODEL_CATALOGUE = set(MODEL_ERROR_CODES) | set(TRAINING_ERROR_CODES)


def model_codes_raised_in_the_package() -> dict[str, str]:
    """Every literal code a model is failed with: ModelRefused(code, …), TrainingDataRejected(code, …)
    and the training function's _fail(…, code, …)."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            position = {"ModelRefused": 0, "TrainingDataRejected": 0}.get(callee)
            if callee == "_fail" and path.name == "train_model.py":
                position = 2
            if position is not None and len(node.args) > position:
                candidate = node.args[position]
                if isinstance(candidate, ast.Constant) and isinstance(candidate.value, str):
                    found[candidate.value] = str(path.relative_to(REPO_ROOT))
    return found


def test_every_code_a_model_fails_with_is_catalogued_once():
    raised = model_codes_raised_in_the_package()
    # (The scan finds the codes, not nothing.)
    assert {"unreadable-labels", "training-failed", "one-class-only"} <= set(raised)
    assert {code: where for code, where in raised.items() if code not in MODEL_CATALOGUE} == {}
    assert not set(MODEL_ERROR_CODES) & set(TRAINING_ERROR_CODES)
    assert all(CODE.match(code) for code in MODEL_CATALOGUE)


def test_the_readme_documents_exactly_the_codes_a_model_fails_with():
    text = paragraph(ENGINES_PAGE, "A model that cannot be trained ends in `failed` with one of:")
    documented = set(re.findall(r"`([a-z]+(?:-[a-z]+)*)`", text)) - {"failed"}
    assert documented == MODEL_CATALOGUE, {
        "documented but not catalogued": sorted(documented - MODEL_CATALOGUE),
        "catalogued but not documented": sorted(MODEL_CATALOGUE - documented),
    }
