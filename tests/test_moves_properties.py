"""Properties of the reference-by-content layer on generated helpers that call each other
(recursion and mutual recursion included): renaming every helper consistently, moving
them to another module and reordering them is always `run`; the same plus one semantic
edit anywhere in the call graph is never `run`."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvcheck.config import Config
from pvcheck.model import Decision
from pvcheck.policies.engine import compare
from pvcheck.testing import scan_tree, write_files

PIPELINE = '''\
from zenml import pipeline

from steps import run_it


@pipeline(name="example")
def example_pipeline():
    run_it(n=5)
'''


def _steps(module: str, entry: str) -> str:
    return (f"from zenml import step\n\nfrom {module} import {entry}\n\n\n@step\ndef run_it(n: int) -> int:\n"
            f"    return {entry}(n)\n")


def _library(names: list[str], calls: list[list[int]], literals: list[int], order: list[int]) -> str:
    """Function i returns its literal when n <= 0, else calls its callees with n - 1."""
    parts = ["LIMIT = 0\n"]
    for i in order:
        terms = " + ".join(f"{names[j]}(n - 1)" for j in calls[i]) or "0"
        parts.append(f"def {names[i]}(n):\n    if n <= LIMIT:\n        return {literals[i]}\n"
                     f"    return {terms} + {literals[i]}\n")
    return "\n\n".join(parts)


@st.composite
def systems(draw: st.DrawFn) -> tuple[list[list[int]], list[int]]:
    size = draw(st.integers(min_value=1, max_value=5))
    calls = [draw(st.lists(st.integers(min_value=0, max_value=size - 1), max_size=3)) for _ in range(size)]
    # distinct literals: no two functions compute the same, so every rewiring is a change
    literals = draw(st.lists(st.integers(min_value=0, max_value=20), min_size=size, max_size=size, unique=True))
    return calls, literals


def _decision(tmp_path: Path, before: dict[str, str], after: dict[str, str]) -> Decision:
    config = Config(roots=(".",))
    base = scan_tree(write_files(tmp_path / "before", before), config)
    head = scan_tree(write_files(tmp_path / "after", after), config)
    change = next(c for c in compare(base, head, config).pipelines if c.name == "example")
    assert change.decision is not None
    return change.decision


_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(systems(), st.randoms(use_true_random=False), st.data())
def test_renamed_moved_reordered_is_run_and_any_edit_is_not(tmp_path_factory, system, rng, data) -> None:
    calls, literals = system
    size = len(literals)
    old = [f"f{i}" for i in range(size)]
    new = [f"g{(i * 7 + 3) % 11}_{i}" for i in range(size)]
    order = list(range(size))
    rng.shuffle(order)
    before = {"lib/__init__.py": "", "lib/a.py": _library(old, calls, literals, list(range(size))),
              "steps.py": _steps("lib.a", old[0]), "pipeline.py": PIPELINE}
    moved = {"lib/__init__.py": "", "lib/a.py": "", "lib/b.py": _library(new, calls, literals, order),
             "steps.py": _steps("lib.b", new[0]), "pipeline.py": PIPELINE}
    root = tmp_path_factory.mktemp("moves")
    assert _decision(root / "same", before, moved) is Decision.RUN
    # one semantic edit somewhere in the system: a literal, or a call rewired
    victim = data.draw(st.integers(min_value=0, max_value=size - 1))
    edited_literals, edited_calls = list(literals), [list(c) for c in calls]
    if calls[victim] and data.draw(st.booleans()):
        target = calls[victim][0]
        others = [j for j in range(size) if j != target]
        if not others:
            edited_literals[victim] += 1
        else:
            edited_calls[victim][0] = data.draw(st.sampled_from(others))
    else:
        edited_literals[victim] += 1
    edited = dict(moved, **{"lib/b.py": _library(new, edited_calls, edited_literals, order)})
    reachable = {0}
    frontier = [0]
    while frontier:  # an edit of a function the step never reaches is no change at all
        for j in calls[frontier.pop()]:
            if j not in reachable:
                reachable.add(j)
                frontier.append(j)
    if victim in reachable and (edited_calls != calls or edited_literals != literals):
        assert _decision(root / "edited", before, edited) is not Decision.RUN


def test_a_call_rewired_inside_a_cycle_is_a_change(tmp_path: Path) -> None:
    # f0 -> f1 -> f2 -> f0 and f0 -> f2; rewiring f1 from f2 to f0 keeps one cycle of the
    # same three functions: only their wiring tells the two apart (colour refinement)
    calls = [[1, 2], [2], [0]]
    literals = [1, 2, 3]
    before = {"lib/__init__.py": "", "lib/a.py": _library(["f0", "f1", "f2"], calls, literals, [0, 1, 2]),
              "steps.py": _steps("lib.a", "f0"), "pipeline.py": PIPELINE}
    names = ["h0", "h1", "h2"]
    moved = {"lib/__init__.py": "", "lib/a.py": "", "lib/b.py": _library(names, calls, literals, [2, 0, 1]),
             "steps.py": _steps("lib.b", "h0"), "pipeline.py": PIPELINE}
    assert _decision(tmp_path / "same", before, moved) is Decision.RUN
    rewired = dict(moved, **{"lib/b.py": _library(names, [[1, 2], [0], [0]], literals, [2, 0, 1])})
    assert _decision(tmp_path / "rewired", before, rewired) is Decision.VERSION
