"""The folders import only in the directions DESIGN.md gives."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "eventlog": set(),
    "tdx": set(),
    "projectors": {"eventlog"},
    "actions": {"eventlog", "projectors", "tdx"},
    "commands": {"eventlog", "projectors", "actions", "tdx", "sql"},
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tdxq" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_imports_follow_the_layout(folder: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports tdxq.{package}"
        for path in (ROOT / folder).rglob("*.py")
        for package in imported_packages(path) - ALLOWED[folder] - {folder}
    }
    assert not wrong, sorted(wrong)
