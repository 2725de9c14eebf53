"""ZenML: a step cache policy whose code part is pvcheck's code version.

ZenML's default cache key includes a hash of the step's raw source (a comment busts the
cache) and nothing of the helpers it calls (ZenML #1011). With :func:`semantic_cache`
the step's key takes pvcheck's code version instead::

    from zenml import step
    from pvcheck.integrations.zenml import semantic_cache

    @semantic_cache
    @step
    def train(data: pd.DataFrame) -> Model: ...

or, keeping other settings of a policy, ``train.configure(cache_policy=
semantic_cache_policy(train, CachePolicy(ignored_inputs=["seed"])))``.

Extension point, as ``zenml/config/cache_policy.py`` defines it: ``CachePolicy`` (a
pydantic model) with ``include_step_code`` and ``cache_func`` -- "function without
arguments that returns a string", stored as a *source* (an import path) and loaded with
``source_utils.load`` in ``orchestrators/cache_utils.generate_cache_key``, which adds
its result to the key. A zero-argument function cannot say which step it is for, so
pvcheck names one function per step: ``pvcheck.integrations.zenml.code_version__<id>``
(this module makes them on demand, PEP 562), ``<id>`` encoding the step function's
module and qualified name. Loading it imports only pvcheck; calling it analyzes the
step's source file statically.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Optional, TypeVar

from zenml.config.cache_policy import CachePolicy
from zenml.steps import BaseStep

from pvcheck.codeversion import code_version_at, locate_function

__all__ = ["cache_func", "semantic_cache", "semantic_cache_policy"]

_PREFIX = "code_version__"
_FUNCTIONS: dict[str, Callable[[], str]] = {}

S = TypeVar("S", bound=BaseStep)


def cache_func(step: Any) -> Callable[[], str]:
    """The zero-argument function, importable by name, that returns ``step``'s code version."""
    where = locate_function(step)
    return _function(_PREFIX + _encode(f"{where.module}:{where.qualname}"))


def semantic_cache_policy(step: Any, base: Optional[CachePolicy] = None) -> CachePolicy:
    """``base`` (default: the step's current policy, else ZenML's default) with the raw
    source hash replaced by pvcheck's code version."""
    if base is None and isinstance(step, BaseStep):
        base = step.configuration.cache_policy
    fields = (base or CachePolicy.default()).model_dump(exclude={"cache_func"})
    fields.update(include_step_code=False, cache_func=cache_func(step))
    return CachePolicy(**fields)


def semantic_cache(step: S) -> S:
    """Decorator, written above ``@step``: key the step's cache on its pvcheck code version.

    Below ``@step`` it would receive the plain function, which ZenML then wraps without
    asking anyone: that order is a ``TypeError`` that says which order works, never a
    decorator that silently does nothing.
    """
    if isinstance(step, BaseStep):
        step.configure(cache_policy=semantic_cache_policy(step))
        return step
    if callable(step) and hasattr(step, "__code__"):
        raise TypeError(f"@semantic_cache must be written above @step (it got the plain function "
                        f"{getattr(step, '__qualname__', step)!r}): @semantic_cache then @step, then def")
    raise TypeError(f"@semantic_cache takes a ZenML step, not {type(step).__name__}: write it above @step")


def __getattr__(name: str) -> Callable[[], str]:
    # ZenML loads a cache function by module and attribute name; make it on request
    if name.startswith(_PREFIX):
        try:
            return _function(name)
        except ValueError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _function(name: str) -> Callable[[], str]:
    found = _FUNCTIONS.get(name)
    if found is not None:
        return found  # ZenML checks that loading the name gives back this very object
    module, _, qualname = _decode(name[len(_PREFIX):]).partition(":")
    if not module or not qualname:
        raise ValueError(name)

    def key() -> str:
        return code_version_at(module, qualname)

    key.__name__ = key.__qualname__ = name
    key.__module__ = __name__
    key.__doc__ = f"pvcheck code version of {module}.{qualname}"
    _FUNCTIONS[name] = key
    return key


def _encode(text: str) -> str:
    # lowercase base32 without padding: a valid identifier tail for any module/qualname
    return base64.b32encode(text.encode("utf-8")).decode("ascii").rstrip("=").lower()


def _decode(text: str) -> str:
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        return base64.b32decode(padded).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise ValueError(text) from None
