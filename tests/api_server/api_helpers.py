"""Helpers for the API tests (a module with a unique name, so it imports the same way
whichever test folders pytest collects first)."""

from __future__ import annotations

from pathlib import Path


def write_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
