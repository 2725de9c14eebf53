"""Prefect: SemanticSource computes keys through Prefect's own CachePolicy machinery,
and a real flow hits the cache after a cosmetic edit and misses it after a helper edit."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

prefect = pytest.importorskip("prefect")

from prefect.cache_policies import INPUTS, TASK_SOURCE, CompoundCachePolicy  # noqa: E402
from prefect.context import TaskRunContext  # noqa: E402

from pvcheck.codeversion import clear_cache  # noqa: E402
from pvcheck.integrations.prefect import SemanticSource  # noqa: E402

FLOWS = '''
from prefect import flow, task
from prefect.cache_policies import INPUTS

from pvcheck.integrations.prefect import SemanticSource
from shop.pricing import discount

CALLS = []


@task(cache_policy=SemanticSource() + INPUTS)
def price(amount: float) -> float:
    CALLS.append(amount)
    return discount(amount)


@flow
def checkout(amount: float = 10.0) -> float:
    return price(amount)
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


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Path, object]]:
    root = tmp_path / "shopproj"
    write(root / "pyproject.toml", "[project]\nname = 'shop'\n")
    write(root / "shop" / "__init__.py", "")
    write(root / "shop" / "flows.py", FLOWS)
    write(root / "shop" / "pricing.py", PRICING)
    sys.path.insert(0, str(root))
    try:
        yield root, importlib.import_module("shop.flows")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
            del sys.modules[name]
        clear_cache()


def task_context(task: object) -> TaskRunContext:
    # A real TaskRunContext; the policies read only ``task_ctx.task``, and building the
    # rest (an API client, a task run) would need a Prefect server.
    return TaskRunContext.model_construct(task=task)


def key(task, inputs: dict) -> str:
    """The key exactly as Prefect's task engine asks the task's policy for it."""
    return task.cache_policy.compute_key(task_ctx=task_context(task), inputs=inputs, flow_parameters={})


def test_policy_composes_like_prefects_own(shop) -> None:
    _, flows = shop
    policy = flows.price.cache_policy
    assert isinstance(policy, CompoundCachePolicy)
    assert [type(p).__name__ for p in policy.policies] == ["SemanticSource", "Inputs"]
    assert (SemanticSource() + INPUTS).compute_key(task_ctx=task_context(flows.price), inputs={"amount": 1.0},
                                                  flow_parameters={}) == key(flows.price, {"amount": 1.0})
    assert SemanticSource().compute_key(task_ctx=None, inputs={}, flow_parameters={}) is None  # type: ignore[arg-type]
    assert key(flows.price, {"amount": 1.0}) != key(flows.price, {"amount": 2.0})


def test_key_survives_cosmetic_edits_and_follows_helpers(shop) -> None:
    root, flows = shop
    before = key(flows.price, {"amount": 5.0})
    prefect_own = TASK_SOURCE.compute_key(task_ctx=task_context(flows.price), inputs={}, flow_parameters={})
    body = "    CALLS.append(amount)\n    return discount(amount)"
    reformatted = '    """Discounted."""\n    CALLS.append( amount )  # record it\n    return (discount(amount))'
    write(root / "shop" / "flows.py", FLOWS.replace(body, reformatted))
    assert key(flows.price, {"amount": 5.0}) == before
    # (Prefect keeps the source text it read at decoration time, so its own TASK_SOURCE
    # would only see the edit after a re-import -- and would then miss the cache)
    assert TASK_SOURCE.compute_key(task_ctx=task_context(flows.price), inputs={}, flow_parameters={}) == prefect_own
    write(root / "shop" / "pricing.py", PRICING.replace("0.9", "0.8"))
    assert key(flows.price, {"amount": 5.0}) != before


def test_a_real_flow_uses_the_cache_until_a_helper_changes(shop, tmp_path: Path) -> None:
    from prefect.settings import (
        PREFECT_HOME,
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    root, flows = shop
    home = tmp_path / "prefect-home"
    settings = {
        PREFECT_HOME: str(home),
        PREFECT_LOCAL_STORAGE_PATH: str(home / "storage"),  # where cached results persist
        PREFECT_SERVER_ANALYTICS_ENABLED: False,  # offline
    }

    def fresh_process_view():
        # what a new run of the edited project would import
        importlib.reload(sys.modules["shop.pricing"])
        return importlib.reload(flows)

    # Prefect's own test harness: a local server on a temporary SQLite database
    with temporary_settings(updates=settings), prefect_test_harness(server_startup_timeout=300):
        first = flows.checkout(4.0, return_state=True)
        assert first.is_completed() and flows.CALLS == [4.0]

        write(root / "shop" / "pricing.py", "def discount(amount):\n    # ten percent off\n    return (amount*0.9)\n")
        flows = fresh_process_view()
        state = flows.checkout(4.0, return_state=True)
        assert state.result() == 3.6
        assert flows.CALLS == []  # served from the cache: the task did not run

        write(root / "shop" / "pricing.py", PRICING.replace("0.9", "0.75"))
        flows = fresh_process_view()
        assert flows.checkout(4.0) == 3.0
        assert flows.CALLS == [4.0]  # the helper changed: the task ran again
