"""A tiny ZenML project that rule examples edit: two steps, a helper, one pipeline.

Rule examples are written as *edits* of this project (``replace`` on its files), so
each one reads as the change it shows and stays a complete, scannable tree.
"""

from __future__ import annotations

from typing import Mapping

STEPS = '''\
from zenml import step

from helpers import scale


@step
def load(path: str = "data.csv") -> list:
    rows = [1, 2, 3]
    return rows


@step
def train(rows: list, rate: float = 0.1) -> float:
    total = sum(rows)
    return scale(total, rate)
'''

HELPERS = '''\
def scale(value: float, factor: float) -> float:
    return value * factor


def unused(value: float) -> float:
    return value - 1
'''

PIPELINE = '''\
from zenml import pipeline

from steps import load, train


@pipeline(name="example", enable_cache=True)
def example_pipeline():
    rows = load()
    train(rows)
'''


def project(steps: str = STEPS, pipeline: str = PIPELINE, helpers: str = HELPERS,
            **extra: str) -> Mapping[str, str]:
    """The example project's files, with any of them replaced or added.

    Extra files are given as keyword arguments with ``__`` for ``/`` and ``_dot_`` for
    ``.`` (``configs__run_dot_yaml="..."``).
    """
    tree = {"steps.py": steps, "pipeline.py": pipeline, "helpers.py": helpers}
    for key, text in extra.items():
        tree[key.replace("__", "/").replace("_dot_", ".")] = text
    return tree


def edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new``; ``old`` must occur (examples must not rot)."""
    if old not in text:
        raise ValueError(f"example edit: {old!r} not found")
    return text.replace(old, new)


__all__ = ["HELPERS", "PIPELINE", "STEPS", "edit", "project"]
