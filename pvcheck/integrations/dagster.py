"""Dagster: ``code_version`` for assets and ops from pvcheck.

Dagster compares an asset's ``code_version`` with the one recorded at its last
materialization to call it stale ("has a new code version"). Written by hand, the
string is forgotten; pvcheck computes it from the code and the repo-local helpers the
asset calls, so a reformat keeps it and an edited helper changes it (Dagster #15242).

Three ways, all ending in Dagster's own ``code_version`` field:

* decorate: ``@versioned(dg.asset, group_name="churn")`` (or ``@versioned(dg.op)``)
  calls Dagster's decorator with ``code_version=`` set::

      import dagster as dg
      from pvcheck.integrations.dagster import versioned

      @versioned(dg.asset)
      def features(raw_customers): ...

* after the fact, for any ``AssetsDefinition`` (``@multi_asset``, factories)::

      features = with_code_version(features)   # dg.map_asset_specs + replace_attributes

* by hand: ``dg.asset(code_version=code_version_of(fn))(fn)``.

Extension points, as Dagster defines them: the ``code_version`` argument of ``@asset``
and ``@op`` (and ``AssetSpec.code_version``, replaced with the public
``dg.map_asset_specs(func, assets)`` and ``AssetSpec.replace_attributes``). The
function behind an asset or op is ``OpDefinition.compute_fn.decorated_fn``.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import dagster as dg

from pvcheck.codeversion import code_version

__all__ = ["code_version_of", "versioned", "with_code_version"]

F = TypeVar("F", bound=Callable[..., Any])


def code_version_of(function: Any) -> str:
    """pvcheck's code version of a function, an ``@op`` or an ``@asset`` (its function)."""
    return code_version(function)


def versioned(decorator: Callable[..., Any] = dg.asset, **options: Any) -> Callable[[F], Any]:
    """Apply a Dagster decorator (``dg.asset``, ``dg.op``, ``dg.graph_asset`` ...) with
    ``code_version`` set to the decorated function's pvcheck code version.

    ``options`` are passed on to ``decorator`` unchanged; ``code_version`` among them is
    an error (it is what this sets).
    """
    if "code_version" in options:
        raise TypeError("versioned() sets code_version itself; pass the other options only")

    def apply(function: F) -> Any:
        return decorator(code_version=code_version(function), **options)(function)

    return apply


def with_code_version(assets: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """``assets`` with every asset's ``code_version`` set to the pvcheck code version of
    the one function that computes them."""
    if not isinstance(assets, dg.AssetsDefinition):
        hint = " (a function: decorate it with @versioned(dg.asset) instead)" if callable(assets) else ""
        raise TypeError(f"with_code_version() expects the AssetsDefinition that @dg.asset or @dg.multi_asset "
                        f"returns, not {type(assets).__name__}{hint}")
    version = code_version(assets)
    (mapped,) = dg.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version), [assets])
    return mapped
