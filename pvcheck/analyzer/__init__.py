"""The analyzer: a source tree in, a :class:`~pvcheck.model.Project` out.

It never imports, executes or evaluates the code it reads. Two halves:

- **the scan engine** (:mod:`pvcheck.analyzer.scan`): discovery, reading, the cache, the
  units and their worker processes -- framework-neutral, no libcst until a unit runs;
- **the frameworks** (:mod:`pvcheck.analyzer.frameworks`): one plug-in per orchestrator
  that turns a parsed module into pipelines, written against :mod:`pvcheck.plugin` (the
  public surface over the helpers both halves share: module, context, values, fingerprint).

Only the engine's entry point is re-exported here; importing this package stays cheap.
"""

from __future__ import annotations

from pvcheck.analyzer.scan import scan_tree

__all__ = ["scan_tree"]
