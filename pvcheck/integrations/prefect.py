"""Prefect 3: a cache policy keyed on the task's semantic code version.

Prefect's own ``TASK_SOURCE`` hashes the raw text of the task function: a comment or a
reformat misses the cache, and an edited helper in another module does not (Prefect
#7056, #16925). :class:`SemanticSource` keys on :func:`pvcheck.code_version` instead
and composes with Prefect's other policies exactly like ``TASK_SOURCE``::

    from prefect import task
    from prefect.cache_policies import INPUTS
    from pvcheck.integrations.prefect import SemanticSource

    @task(cache_policy=SemanticSource() + INPUTS)
    def train(rows: int) -> float: ...

Extension point, as ``prefect/cache_policies.py`` defines it: a ``CachePolicy``
dataclass subclass overriding ``compute_key(task_ctx, inputs, flow_parameters,
**kwargs) -> Optional[str]``; ``+`` builds a ``CompoundCachePolicy`` that hashes the
keys of its parts. Prefect calls ``compute_key`` with the run's ``TaskRunContext``
(``task_engine.compute_transaction_key``); an exception there is logged and the result
is not persisted -- so a task whose source cannot be analyzed is never served a stale
cached result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext

from pvcheck.codeversion import code_version

__all__ = ["SEMANTIC_SOURCE", "SemanticSource"]


@dataclass
class SemanticSource(CachePolicy):
    """Cache key: the task function's pvcheck code version (its canonical code and the
    repo-local helpers it uses, transitively). Cosmetic edits keep it; any other edit
    of the task or a helper changes it. Combine with ``INPUTS`` for argument values."""

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: Optional[dict[str, Any]],
        flow_parameters: Optional[dict[str, Any]],
        **kwargs: Any,
    ) -> Optional[str]:
        if not task_ctx:  # as Prefect's TaskSource: no task, no key
            return None
        return code_version(task_ctx.task)


#: A ready instance, named like Prefect's ``TASK_SOURCE``.
SEMANTIC_SOURCE = SemanticSource()
