"""No module over 500 lines (issue 21): every .py under shared/, functions/, cli/ and tools/, test files
exempt. A module past the limit is split by meaning (see git log for the earlier splits), not
trimmed of comments."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "functions", "cli", "tools")
LIMIT = 500


def _is_test_file(path: Path) -> bool:
    return path.name.startswith("test_") or path.name.endswith("_test.py") or path.name == "conftest.py"


def oversized_modules(root: Path, packages: tuple[str, ...] = PACKAGES, limit: int = LIMIT) -> list[str]:
    """Each module over `limit` lines under root's `packages`, as "path: N lines" (build output,
    caches and hidden directories left out)."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if any(part.startswith(".") or part in ("__pycache__", "build") for part in relative.parts[:-1]):
                continue
            if _is_test_file(path):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found.append(f"{relative}: {lines} lines")
    return found


def test_no_module_is_over_the_limit() -> None:
    # Given the project's source packages; When their modules are measured
    oversized = oversized_modules(REPO_ROOT)
    # Then none is over the limit
    assert not oversized, f"modules over {LIMIT} lines (split them by meaning): " + "; ".join(oversized)


def test_an_oversized_module_is_named_and_test_files_are_exempt(tmp_path: Path) -> None:
    # Given a module one line over the limit, one at it, and a test file far over it
    package = tmp_path / "tools" / "pkg"
    package.mkdir(parents=True)
    (package / "big.py").write_text("x = 1\n" * (LIMIT + 1))
    (package / "fits.py").write_text("x = 1\n" * LIMIT)
    (package / "test_big.py").write_text("x = 1\n" * (3 * LIMIT))
    # When the tree is measured
    oversized = oversized_modules(tmp_path, ("tools",))
    # Then only the module over the limit is named, with its size
    assert oversized == [f"{Path('tools/pkg/big.py')}: {LIMIT + 1} lines"]
