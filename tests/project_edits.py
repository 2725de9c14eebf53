"""Editing a copied fixture project in place, for tests that compare before and after."""

from __future__ import annotations

from pathlib import Path


def edit_file(root: Path, name: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in ``root/name``; ``old`` must be there (a test whose
    edit silently matched nothing would compare a project with itself)."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")
