"""Generate a Dagster code location with many assets, to measure how scanning grows.

    python benchmarks/generate_dagster.py DIR [--assets N] [--per-module M]

The project looks like the ones ``dagster project scaffold`` and ``dg`` make: a package
``warehouse`` with ``assets/<layer>_<k>.py`` modules of ``M`` assets each (every asset
reads the one before it, and the first of a module reads the last of the module before,
through ``AssetIn`` with a ``key_prefix`` or a plain parameter), helpers in ``utils/``,
and one ``definitions.py`` that loads every asset module with a key prefix and defines
two jobs (all assets, and one group). Nothing here imports Dagster: it is only written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

LAYERS = ("raw", "staging", "marts")


def generate(root: Path, assets: int = 1000, per_module: int = 10) -> int:
    """Write the project under ``root``; returns the number of asset modules."""
    package = root / "warehouse"
    (package / "assets").mkdir(parents=True, exist_ok=True)
    (package / "utils").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "utils" / "__init__.py").write_text("")
    (package / "utils" / "frames.py").write_text(
        "def clean(rows):\n"
        "    return [r for r in rows if r is not None]\n\n\n"
        "def scale(rows, factor=1.0):\n"
        "    return [r * factor for r in rows]\n")
    modules = max(1, -(-assets // per_module))
    names: list[str] = []
    made = 0
    for index in range(modules):
        layer = LAYERS[index % len(LAYERS)]
        name = f"{layer}_{index:04d}"
        names.append(name)
        lines = ["import dagster as dg", "", "from warehouse.utils.frames import clean, scale as rescale", ""]
        previous = f"{names[index - 1]}_a{per_module - 1:02d}" if index else None
        for k in range(min(per_module, assets - made)):
            asset = f"{name}_a{k:02d}"
            lines.append("")
            if k == 0 and previous is not None:
                lines += [f'@dg.asset(group_name="{layer}", ins={{"upstream": dg.AssetIn(key=["wh", "{previous}"])}},',
                          '          compute_kind="python")',
                          f"def {asset}(upstream):",
                          "    rows = clean(upstream)",
                          f"    return rescale(rows, {k + 1}.5)"]
            elif k == 0:
                lines += [f'@dg.asset(group_name="{layer}")',
                          f"def {asset}(context: dg.AssetExecutionContext):",
                          f'    context.log.info("seeding {asset}")',
                          f"    return list(range({k + 10}))"]
            else:
                lines += [f'@dg.asset(group_name="{layer}", ins={{"rows": dg.AssetIn(key=["wh", "{name}_a{k - 1:02d}"])}})',
                          f"def {asset}(rows):",
                          "    total = sum(clean(rows))",
                          f"    return [total, len(rows), {k}]"]
            lines.append("")
            made += 1
        (package / "assets" / f"{name}.py").write_text("\n".join(lines))
    (package / "assets" / "__init__.py").write_text(
        "".join(f"from warehouse.assets import {n}\n" for n in names))
    (package / "definitions.py").write_text(
        "import dagster as dg\n\n"
        "from warehouse import assets\n\n"
        'all_assets = dg.load_assets_from_package_module(assets, key_prefix="wh")\n\n'
        'everything = dg.define_asset_job("everything", selection=dg.AssetSelection.all())\n'
        'marts_job = dg.define_asset_job("marts", selection=dg.AssetSelection.groups("marts"))\n\n'
        "defs = dg.Definitions(assets=all_assets, jobs=[everything, marts_job])\n")
    return modules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--per-module", type=int, default=10)
    args = parser.parse_args()
    modules = generate(args.root, args.assets, args.per_module)
    print(f"{args.assets} assets in {modules} modules under {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
