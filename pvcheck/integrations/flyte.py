"""Flyte: a task's ``cache_version`` from pvcheck.

Flyte reuses a cached task output while the task's ``cache_version`` and inputs are
unchanged; the version is a hand-written string, or comes from cache policies that see
the raw function (Flyte #2899). :class:`SemanticVersion` is such a policy, giving
pvcheck's code version::

    from flytekit import Cache, task
    from pvcheck.integrations.flyte import SemanticVersion

    @task(cache=Cache(policies=SemanticVersion()))
    def train(rows: int) -> float: ...

Extension point, as ``flytekit/core/cache.py`` defines it: the ``CachePolicy`` protocol,
``get_version(self, salt: str, params: VersionParameters) -> str``, where
``params.func`` is the task function. ``@task`` calls ``Cache.get_version`` when it
decorates, and stores the result as ``task.metadata.cache_version``. On a flytekit
without ``Cache`` (before 1.15), pass ``cache=True, cache_version=cache_version_of(fn)``.
"""

from __future__ import annotations

from typing import Any

from flytekit.core.cache import VersionParameters

from pvcheck.analyzer.fingerprint import digest
from pvcheck.codeversion import code_version

__all__ = ["SemanticVersion", "cache_version_of"]


class SemanticVersion:
    """A flytekit cache policy: the task function's pvcheck code version (salted)."""

    def get_version(self, salt: str, params: VersionParameters) -> str:
        version = code_version(params.func)
        # the salt is Cache(salt=...): Flyte's way to force a new version by hand
        return digest("flyte", salt, version) if salt else version

    def __repr__(self) -> str:
        return "SemanticVersion()"


def cache_version_of(function: Any) -> str:
    """pvcheck's code version of a function or a Flyte task, for ``cache_version=``."""
    return code_version(function)
