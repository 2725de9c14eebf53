"""Dagster at code-location scale: the asset registry is built once per scan, and the
pieces that run over every asset of a pipeline are not quadratic (issue 14)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from types import SimpleNamespace

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.context import _topological
from pvcheck.analyzer.frameworks import dagster as dagster_framework

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate_dagster import generate  # noqa: E402


def test_registry_built_once_per_scan(tmp_path, monkeypatch):
    generate(tmp_path, assets=60, per_module=5)  # 12 asset modules, each a pipelines unit
    built = []
    original = dagster_framework.AssetRegistry.__post_init__

    def counting(self):  # type: ignore[no-untyped-def]
        built.append(1)
        original(self)

    monkeypatch.setattr(dagster_framework.AssetRegistry, "__post_init__", counting)
    project = scan_tree(tmp_path, jobs=1)
    assert len(built) == 1
    everything = next(p for p in project.pipelines if p.name == "everything")
    assert len(everything.steps) == 60


def test_registry_diagnostics_reach_every_unit(tmp_path):
    """Built once, its diagnostics still belong to each unit that used it: the cache
    stores results per unit, and a unit served from it must report them too."""
    generate(tmp_path, assets=10, per_module=5)
    (tmp_path / "warehouse" / "assets" / "odd.py").write_text(
        "import dagster as dg\n\nKEY = compute()\n\n\n@dg.asset(key=KEY)\ndef odd():\n    return 1\n")
    from pvcheck.analyzer.discovery import discover
    from pvcheck.analyzer.frameworks.dagster import Dagster
    from pvcheck.analyzer.records import PIPELINES
    from pvcheck.analyzer.units import Unit, UnitRunner
    from pvcheck.config import Config

    config = Config(roots=(".",))  # explicit: the default detects roots, which scan_tree does
    files = discover(tmp_path, config.roots, config.exclude, [])
    runner = UnitRunner(tmp_path, config, files, {}, [Dagster()])
    messages = []
    for path in ("warehouse/assets/raw_0000.py", "warehouse/definitions.py", "warehouse/assets/staging_0001.py"):
        result = runner.run(Unit(PIPELINES, "dagster", path), {})
        messages.append([d.message for d in result.diagnostics if d.path.endswith("odd.py")])
        assert "warehouse.assets.odd" in result.deps.modules  # and the modules it read
    assert messages[0] and messages[0] == messages[1] == messages[2]
    assert "asset key computed at run time" in messages[0][0]


def _reference_topological(steps, edges):  # type: ignore[no-untyped-def]
    """The former quadratic version, kept as the oracle of the fast one."""
    order = {s.id: i for i, s in enumerate(steps)}
    incoming: dict[str, set[str]] = {s.id: set() for s in steps}
    for edge in edges:
        if edge.source != edge.target:
            incoming[edge.target].add(edge.source)
    done, placed, remaining = [], set(), list(steps)
    while remaining:
        ready = [s for s in remaining if incoming[s.id] <= placed]
        if not ready:
            ready = [min(remaining, key=lambda s: order[s.id])]
        chosen = min(ready, key=lambda s: order[s.id])
        done.append(chosen)
        placed.add(chosen.id)
        remaining.remove(chosen)
    return done


def test_topological_order_matches_the_reference_with_cycles_and_duplicates():
    rng = random.Random(14)
    for _ in range(2000):
        n = rng.randint(0, 10)
        steps = [SimpleNamespace(id=f"s{i}") for i in range(n)]
        rng.shuffle(steps)
        edges = [SimpleNamespace(source=f"s{rng.randrange(n)}", target=f"s{rng.randrange(n)}")
                 for _ in range(rng.randint(0, 18))] if n else []
        expected = [s.id for s in _reference_topological(steps, edges)]
        assert [s.id for s in _topological(steps, edges)] == expected  # type: ignore[arg-type]


def test_topological_order_of_a_long_chain_is_fast():
    steps = [SimpleNamespace(id=f"s{i:05d}") for i in range(20000)]
    edges = [SimpleNamespace(source=f"s{i:05d}", target=f"s{i + 1:05d}") for i in range(19999)]
    assert [s.id for s in _topological(list(reversed(steps)), edges)][:3] == ["s00000", "s00001", "s00002"]
