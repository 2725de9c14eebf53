"""Test helpers for plug-in authors (and pvcheck's own tests), in the manner of ``fixit.testing``.

* :func:`check_rule_examples` runs every :class:`~pvcheck.plugin.Rule`'s triggers and
  near-misses of a policy through ``scan`` and ``compare``: a trigger must produce its
  rule and its expected decision, a near-miss the decision without the rule.
* :func:`assert_graph` compares a scanned pipeline's steps and edges with expected ones
  and fails with a readable diff.

Both raise ``AssertionError`` (what pytest and unittest report), so they work in any runner.
"""

from __future__ import annotations

import dataclasses
import tempfile
import textwrap
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Union

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision, Pipeline, Project, Report
from pvcheck.policies.base import Example, Policy, Rule
from pvcheck.policies.common import fingerprints_only
from pvcheck.policies.engine import compare
from pvcheck.policies.registry import BUILTIN_POLICIES

#: An expected edge: (source, target) for any kind, or (source, target, kind).
EdgeSpec = Union[tuple[str, str], tuple[str, str, str]]


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """``files`` (relative path -> text, dedented) written under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def policy_config(policy: Union[type[Policy], Policy], config: Optional[Config] = None) -> Config:
    """``config`` (default: the defaults) with ``policy`` among its plug-ins, unless it is built in."""
    config = config or Config()
    cls = policy if isinstance(policy, type) else type(policy)
    if cls.name in BUILTIN_POLICIES:
        return config
    dotted = f"{cls.__module__}:{cls.__qualname__}"
    if dotted in config.plugins:
        return config
    return dataclasses.replace(config, plugins=config.plugins + (dotted,))


def run_example(example: Example, root: Path, config: Optional[Config] = None) -> Report:
    """Scan the example's two trees under ``root`` (``before/``, ``after/``) and compare them."""
    config = config or Config()
    base = scan_tree(write_files(root / "before", example.before), config)
    head = scan_tree(write_files(root / "after", example.after), config)
    if example.lock_base:
        base = fingerprints_only(base)
    return compare(base, head, config)


def check_example(rule: Rule, example: Example, kind: str, root: Path, config: Optional[Config] = None) -> None:
    """One example of ``rule``: ``kind`` is ``trigger`` (the rule must appear) or
    ``near_miss`` (it must not); either way the pipeline gets ``example.expect``."""
    if kind not in ("trigger", "near_miss"):
        raise ValueError(f"kind must be 'trigger' or 'near_miss', not {kind!r}")
    report = run_example(example, root, config)
    changes = [c for c in report.pipelines if c.name == example.pipeline]
    where = f"{rule.id} {kind.replace('_', '-')}" + (f" ({example.note})" if example.note else "")
    if not changes:
        raise AssertionError(f"{where}: no pipeline {example.pipeline!r} in the scanned trees; "
                             f"found {sorted(c.name for c in report.pipelines)}")
    found = sorted({f.rule for c in changes for f in c.findings})
    decisions = [c.decision for c in changes if c.decision]
    decision = Decision.most_severe(decisions) if decisions else None
    shown = "\n".join(f"  {f.rule} {f.decision.value}: {f.message}" for c in changes for f in c.findings) \
        or "  (no findings)"
    if kind == "trigger" and rule.id not in found:
        raise AssertionError(f"{where}: expected {rule.id} among the findings, got:\n{shown}")
    if kind == "near_miss" and rule.id in found:
        raise AssertionError(f"{where}: {rule.id} must not be found, got:\n{shown}")
    if decision is not example.expect:
        got = decision.value if decision else "no decision"
        raise AssertionError(f"{where}: expected decision {example.expect.value}, got {got}; findings:\n{shown}")


def rule_cases(rules: Iterable[Rule]) -> list[tuple[Rule, Example, str, str]]:
    """(rule, example, kind, id) for every trigger and near-miss; ids like ``STR001-trigger0``."""
    return [(rule, example, kind, f"{rule.id}-{kind}{n}")
            for rule in rules
            for kind, examples in (("trigger", rule.triggers), ("near_miss", rule.near_misses))
            for n, example in enumerate(examples)]


def check_rule_examples(policy: Union[type[Policy], Policy], config: Optional[Config] = None) -> int:
    """Run every example of every rule of ``policy``; return how many ran.

    A rule without both a trigger and a near-miss fails: an example on one side only
    cannot show the rule tells the two apart. A plug-in policy is loaded the way users
    load it (``Config.plugins`` with its dotted path), so it must be importable.
    """
    config = policy_config(policy, config)
    rules = policy.rules
    if not rules:
        raise AssertionError(f"policy {policy.name!r} declares no rules")
    for rule in rules:
        if not rule.triggers or not rule.near_misses:
            raise AssertionError(f"{rule.id}: a rule needs at least one trigger and one near-miss")
    cases = rule_cases(rules)
    with tempfile.TemporaryDirectory(prefix="pvcheck-examples-") as folder:
        for rule, example, kind, case_id in cases:
            check_example(rule, example, kind, Path(folder) / case_id, config)
    return len(cases)


def _pipeline(project: Project, name: str) -> Pipeline:
    found = [p for p in project.pipelines if p.name == name]
    if len(found) != 1:
        raise AssertionError(f"expected one pipeline {name!r}, found {len(found)} among "
                             f"{sorted(p.name for p in project.pipelines)}")
    return found[0]


def assert_graph(project_or_path: Union[Project, Path, str], pipeline: str,
                 steps: Optional[Sequence[str]] = None, edges: Optional[Iterable[EdgeSpec]] = None,
                 config: Optional[Config] = None) -> Pipeline:
    """Assert the graph of ``pipeline``: its step ids (any order) and its edges.

    ``project_or_path`` is a scanned project or a folder to scan (without the cache).
    An edge is ``(source, target)`` or ``(source, target, kind)`` with kind ``data`` or
    ``order``. ``None`` skips that part. Returns the pipeline for further checks.
    """
    project = project_or_path if isinstance(project_or_path, Project) else \
        scan_tree(Path(project_or_path), config)
    found = _pipeline(project, pipeline)
    problems: list[str] = []
    if steps is not None:
        problems += _diff("step", set(steps), {s.id for s in found.steps})
    if edges is not None:
        expected = {tuple(e) for e in edges}
        with_kind = any(len(e) == 3 for e in expected)
        if with_kind and not all(len(e) == 3 for e in expected):
            raise ValueError("give every edge as (source, target) or every edge as (source, target, kind)")
        actual = {(e.source, e.target, e.kind) if with_kind else (e.source, e.target) for e in found.edges}
        problems += _diff("edge", expected, actual)
    if problems:
        raise AssertionError(f"graph of pipeline {pipeline!r} differs:\n" + "\n".join(problems))
    return found


def _diff(what: str, expected: set, actual: set) -> list[str]:
    lines = [f"  - missing {what} {_show(item)}" for item in sorted(expected - actual)]
    lines += [f"  + unexpected {what} {_show(item)}" for item in sorted(actual - expected)]
    return lines


def _show(item: object) -> str:
    if isinstance(item, tuple):
        return f"{item[0]} -> {item[1]}" + (f" ({item[2]})" if len(item) == 3 else "")
    return str(item)


__all__ = ["assert_graph", "check_example", "check_rule_examples", "policy_config", "rule_cases",
           "run_example", "write_files"]
