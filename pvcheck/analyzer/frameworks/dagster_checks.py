"""Dagster asset checks: code that runs with the asset it checks.

``@asset_check(asset=orders)`` is no step of its own (README), but Dagster runs it in the
run that materializes ``orders``, and a failing blocking check stops what comes after: its
code, with what it reaches, is in the reach of the asset it names -- by the asset's
function (``asset=orders``) or by its key (``asset="orders"``, ``asset=["raw", "orders"]``,
``asset=AssetKey("orders")``, ``AssetKey(["raw", "orders"])``). A check whose ``asset=`` pvcheck cannot read is a PV010
warning at the check: its code is then in no asset's reach.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from pvcheck.analyzer.context import AnalysisContext, Invocation
from pvcheck.analyzer.frameworks.base import find_decorator, keyword_arg
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import literal_value
from pvcheck.diagnostics import NOT_FOLLOWED
from pvcheck.model import Severity

CHECK_DECORATORS = frozenset({"dagster.asset_check",
                              "dagster._core.definitions.decorators.asset_check_decorator.asset_check"})
_ASSET_KEYS = frozenset({"dagster.AssetKey", "dagster._core.definitions.asset_key.AssetKey",
                         "dagster._core.definitions.events.AssetKey"})


def attach(invocations: list[Invocation], produces: list[dict[str, str]], ctx: AnalysisContext) -> None:
    """Put the checks of each asset (``produces[i]``: the keys ``invocations[i]`` makes) in
    its reach."""
    checks = _checks(ctx)
    if not checks:
        return
    for invocation, keys in zip(invocations, produces):
        targets = [f"function:{invocation.definition.qualified_name}", *(f"key:{key}" for key in keys)]
        for target in targets:
            for check in checks.get(target, ()):
                if check not in invocation.reach:
                    invocation.reach.append(check)


def _checks(ctx: AnalysisContext) -> dict[str, list[Symbol]]:
    """``function:<asset function>`` / ``key:<asset key>`` -> the checks naming it, for the
    whole tree (once per index: the census records which files hold a check)."""

    def compute() -> tuple[dict[str, list[Symbol]], list[tuple[str, int, str]]]:
        found: dict[str, list[Symbol]] = {}
        unread: list[tuple[str, int, str]] = []
        for file in ctx.index.census("asset_check"):
            module = ctx.index.load(file)
            if module is None:
                continue
            for symbols in module.symbols.values():
                for symbol in symbols:
                    if symbol.kind != "function" or not isinstance(symbol.node, cst.FunctionDef):
                        continue
                    decorated = find_decorator(symbol.node, module, CHECK_DECORATORS)
                    if decorated is None:
                        continue
                    target = _target(keyword_arg(decorated[1], "asset"), module, ctx)
                    if target is None:
                        unread.append((module.path, module.line(symbol.node), symbol.qualified_name))
                    else:
                        found.setdefault(target, []).append(symbol)
        return found, unread

    found, unread = ctx.index.remember(("dagster-asset-checks",), compute)
    for path, line, name in unread:
        ctx.diagnose(NOT_FOLLOWED, Severity.WARNING, f"asset check '{name}' names its asset in a way pvcheck "
                     "cannot read; its code is in no asset's fingerprint", path, line,
                     hint="name the asset by its function or a literal key (asset=orders, asset=\"orders\")")
    return found


def _target(arg: Optional[cst.Arg], module: ModuleInfo, ctx: AnalysisContext) -> Optional[str]:
    if arg is None:
        return None
    value = arg.value
    if isinstance(value, cst.Call) and any(name in _ASSET_KEYS for name in module.qualified_names(value.func)):
        return _key(value.args[0].value) if value.args else None
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.List, cst.Tuple)):
        return _key(value)
    symbol = ctx.resolve_callee(module, value)
    return f"function:{symbol.qualified_name}" if symbol is not None else None


def _key(value: cst.BaseExpression) -> Optional[str]:
    """``"orders"`` or ``["raw", "orders"]`` as an asset key (``raw/orders``)."""
    parts = [literal_value(e.value) for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) \
        else [literal_value(value)]
    return "key:" + "/".join(parts) if parts and all(isinstance(p, str) for p in parts) else None


__all__ = ["CHECK_DECORATORS", "attach"]
