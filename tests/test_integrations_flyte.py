"""Flyte: the cache_version flytekit stores for a task follows pvcheck's code version:
the same after a cosmetic edit, new after an edit of a helper in another module."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

flytekit = pytest.importorskip("flytekit")
pytest.importorskip("flytekit.core.cache")  # Cache and its policies: flytekit >= 1.15

from flytekit import Cache  # noqa: E402
from flytekit.core.cache import VersionParameters  # noqa: E402

from pvcheck import code_version  # noqa: E402
from pvcheck.codeversion import clear_cache  # noqa: E402
from pvcheck.integrations.flyte import SemanticVersion, cache_version_of  # noqa: E402

TASKS = '''
from flytekit import Cache, task, workflow

from pvcheck.integrations.flyte import SemanticVersion
from shop.pricing import discount


@task(cache=Cache(policies=SemanticVersion()))
def price(amount: float) -> float:
    return discount(amount)


@workflow
def checkout(amount: float = 10.0) -> float:
    return price(amount=amount)
'''

PRICING = '''
def discount(amount):
    return amount * 0.9
'''


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if path.stat().st_mtime_ns <= before:  # same clock tick: make the edit visible
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def _forget_shop() -> None:
    for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[name]


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "flyte-shop"
    write(root / "pyproject.toml", "[project]\nname = 'shop'\n")
    write(root / "shop" / "__init__.py", "")
    write(root / "shop" / "tasks.py", TASKS)
    write(root / "shop" / "pricing.py", PRICING)
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        _forget_shop()
        clear_cache()


def load_tasks():
    """The project as a fresh process imports it; @task computes cache_version then."""
    _forget_shop()
    return importlib.import_module("shop.tasks")


def test_cache_version_follows_semantics_not_formatting(shop: Path) -> None:
    tasks = load_tasks()
    first = tasks.price.metadata.cache_version
    assert tasks.price.metadata.cache and first
    assert tasks.checkout(amount=4.0) == pytest.approx(3.6)  # runs locally as usual

    reformatted = '    """Discounted."""\n    # apply the discount\n    return (discount( amount ))'
    write(shop / "shop" / "tasks.py", TASKS.replace("    return discount(amount)", reformatted))
    write(shop / "shop" / "pricing.py", "def discount(amount):\n    return (amount*0.9)  # ten percent\n")
    assert load_tasks().price.metadata.cache_version == first

    write(shop / "shop" / "pricing.py", PRICING.replace("0.9", "0.8"))
    assert load_tasks().price.metadata.cache_version != first


def test_policy_gives_the_code_version_and_honours_the_salt(shop: Path) -> None:
    tasks = load_tasks()
    fn = tasks.price.task_function
    policy = SemanticVersion()
    assert policy.get_version("", VersionParameters(func=fn)) == code_version(fn) == cache_version_of(tasks.price)
    assert policy.get_version("v2", VersionParameters(func=fn)) != code_version(fn)
    salted = Cache(salt="v2", policies=policy).get_version(VersionParameters(func=fn))
    assert salted != tasks.price.metadata.cache_version
