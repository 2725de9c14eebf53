"""Dagster: assets materialized in-process record pvcheck's code version; it stays after
a cosmetic edit of the asset's file and changes after an edit of a helper it calls."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

dg = pytest.importorskip("dagster")

from pvcheck import code_version  # noqa: E402
from pvcheck.codeversion import clear_cache  # noqa: E402
from pvcheck.integrations.dagster import code_version_of, versioned, with_code_version  # noqa: E402

ASSETS = '''
import dagster as dg

from pvcheck.integrations.dagster import versioned, with_code_version
from shop.pricing import discount


@versioned(dg.asset)
def prices() -> list:
    return [discount(amount) for amount in (10.0, 20.0)]


@dg.asset
def total(prices: list) -> float:
    return sum(prices)


total = with_code_version(total)
'''

ASSETS_REFORMATTED = '''
"""Shop assets."""
import dagster as dg
from shop.pricing import discount
from pvcheck.integrations.dagster import with_code_version, versioned


@versioned(dg.asset)
def prices() -> list:
    # one price per amount
    return [
        discount(a)
        for a in (10.0, 20.0,)
    ]


@dg.asset
def total(prices: list) -> float:
    """Sum of the prices."""
    return sum( prices )


total = with_code_version(total)
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
def shop(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "dagster-shop"
    write(root / "pyproject.toml", "[project]\nname = 'shop'\n")
    write(root / "shop" / "__init__.py", "")
    write(root / "shop" / "assets.py", ASSETS)
    write(root / "shop" / "pricing.py", PRICING)
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        _forget_shop()
        clear_cache()


def _forget_shop() -> None:
    for name in [m for m in sys.modules if m == "shop" or m.startswith("shop.")]:
        del sys.modules[name]


def load_assets():
    """The project as a fresh process would import it (after an edit)."""
    _forget_shop()
    return importlib.import_module("shop.assets")


def materialize(instance) -> dict[str, str]:
    """Materialize both assets; the code version Dagster recorded for each."""
    assets = load_assets()
    result = dg.materialize([assets.prices, assets.total], instance=instance)
    assert result.success
    recorded = {}
    for name in ("prices", "total"):
        event = instance.get_latest_materialization_event(dg.AssetKey(name))
        recorded[name] = event.asset_materialization.tags["dagster/code_version"]
    return recorded


def test_recorded_code_version_follows_semantics_not_formatting(shop: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = materialize(instance)
        assert first["prices"].startswith("fp1:") and first["prices"] != first["total"]

        write(shop / "shop" / "assets.py", ASSETS_REFORMATTED)
        assert materialize(instance) == first

        write(shop / "shop" / "pricing.py", PRICING.replace("0.9", "0.85"))
        third = materialize(instance)
        assert third["prices"] != first["prices"]  # the helper it calls changed
        assert third["total"] == first["total"]  # total does not call it
        assert instance.get_latest_materialization_event(dg.AssetKey("total")).asset_materialization \
            .tags["dagster/data_version"]  # Dagster derived a data version from it


def test_versions_match_the_function_and_every_way_agrees(shop: Path) -> None:
    assets = load_assets()
    fn = assets.prices.op.compute_fn.decorated_fn
    expected = code_version(fn)
    assert assets.prices.code_versions_by_key[dg.AssetKey("prices")] == expected
    assert code_version_of(assets.prices) == expected
    by_hand = dg.asset(name="prices_by_hand", code_version=code_version_of(fn))(fn)
    assert by_hand.code_versions_by_key[dg.AssetKey("prices_by_hand")] == expected
    assert with_code_version(dg.asset(name="again")(fn)).code_versions_by_key[dg.AssetKey("again")] == expected
    op = versioned(dg.op, name="price_op")(fn)
    assert op.output_defs[0].code_version == expected  # an op passes it to its outputs
    with pytest.raises(TypeError):
        versioned(dg.asset, code_version="1")
    with pytest.raises(TypeError, match="expects the AssetsDefinition .* decorate it with @versioned"):
        with_code_version(fn)  # the plain function, not the asset
