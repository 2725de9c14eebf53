"""Property test on generated projects: a semantic edit anywhere in a pipeline's reach is
never ``run``, and an edit outside the computation stays ``run``.

Hypothesis generates a small ZenML project: a step calling a chain of helper modules
(``utils/h0.py`` -> ``utils/h1.py`` -> ...), each helper reading a data file next to it,
each module with module-level effects (a seed, a mutation of a module-level list). Then
it picks one edit -- a literal, an operator, a statement added or removed in a helper, a
data file's bytes, an effect statement changed, added or removed -- and checks that the
step's fingerprint changes and the pipeline's decision is at least ``version``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvcheck.analyzer import scan_tree
from pvcheck.model import Decision, Project
from pvcheck.policies import compare

PROPERTY = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
OPERATORS = ("+", "-", "*")


@dataclasses.dataclass
class Helper:
    literal: int
    operator: str
    doubles: bool  # an extra statement ``x = x * 2``
    seed: int
    appended: list[int]  # module-level ``REGISTRY.append(n)`` statements
    data: bytes


def render(helpers: list[Helper]) -> dict[str, bytes]:
    files = {
        "pipelines/flow.py": "from zenml import pipeline\n\nfrom steps.work import produce\n\n\n"
                             "@pipeline(name=\"generated\")\ndef generated_pipeline():\n    produce()\n",
        "steps/__init__.py": "",
        "steps/work.py": "from zenml import step\n\nfrom utils.h0 import compute_0\n\n\n"
                         "@step\ndef produce() -> int:\n    return compute_0(1)\n",
        "utils/__init__.py": "",
    }
    data: dict[str, bytes] = {}
    for number, helper in enumerate(helpers):
        following = f"compute_{number + 1}(x)" if number + 1 < len(helpers) else "x"
        imports = f"from utils.h{number + 1} import compute_{number + 1}\n" if number + 1 < len(helpers) else ""
        lines = ["import random", "from pathlib import Path", "", imports, "REGISTRY = []",
                 f"random.seed({helper.seed})"]
        lines.extend(f"REGISTRY.append({value})" for value in helper.appended)
        lines += ["", "", f"def compute_{number}(x: int) -> int:",
                  f"    text = (Path(__file__).parent / \"h{number}.txt\").read_text()"]
        if helper.doubles:
            lines.append("    x = x * 2")
        lines.append(f"    return {following} {helper.operator} len(text) {helper.operator} {helper.literal}")
        files[f"utils/h{number}.py"] = "\n".join(lines) + "\n"
        data[f"utils/h{number}.txt"] = helper.data
    rendered = {path: text.encode("utf-8") for path, text in files.items()}
    rendered.update(data)
    return rendered


helpers_strategy = st.lists(st.builds(
    Helper,
    literal=st.integers(0, 99),
    operator=st.sampled_from(OPERATORS),
    doubles=st.booleans(),
    seed=st.integers(0, 999),
    appended=st.lists(st.integers(0, 9), max_size=2),
    data=st.binary(min_size=1, max_size=20).filter(lambda b: b"\r" not in b),
), min_size=1, max_size=3)

SEMANTIC = ("literal", "operator", "statement", "data", "seed", "effect added", "effect removed")
HARMLESS = ("module print", "unused constant", "unread file")


@st.composite
def edited(draw: st.DrawFn, kinds: tuple[str, ...]) -> tuple[list[Helper], str, dict[str, bytes]]:
    """(the base project's helpers, the edit's description, the head project's files)."""
    base = draw(helpers_strategy, label="project")
    number = draw(st.integers(0, len(base) - 1), label="module")
    kind = draw(st.sampled_from(kinds), label="edit")
    head = [dataclasses.replace(h, appended=list(h.appended)) for h in base]
    target = head[number]
    extra: dict[str, bytes] = {}
    if kind == "literal":
        target.literal = draw(st.integers(0, 99).filter(lambda v: v != base[number].literal))
    elif kind == "operator":
        target.operator = draw(st.sampled_from([o for o in OPERATORS if o != target.operator]))
    elif kind == "statement":
        target.doubles = not target.doubles  # added or removed
    elif kind == "data":
        target.data = draw(st.binary(min_size=1, max_size=20).filter(lambda b: b != base[number].data))
    elif kind == "seed":
        target.seed = draw(st.integers(0, 999).filter(lambda v: v != base[number].seed))
    elif kind == "effect added":
        target.appended.append(draw(st.integers(0, 9)))
    elif kind == "effect removed":
        if not target.appended:
            target.appended.append(1)  # then the base is the one without it: swap below
            base, head = head, base
        else:
            target.appended.pop(draw(st.integers(0, len(target.appended) - 1)))
    files = render(head)
    path = f"utils/h{number}.py"
    if kind == "module print":
        files[path] = files[path].replace(b"REGISTRY = []", b"REGISTRY = []\nprint(\"loading\", REGISTRY)")
    elif kind == "unused constant":
        files[path] = files[path].replace(b"REGISTRY = []", b"REGISTRY = []\nUNUSED_LIMIT = 10")
    elif kind == "unread file":
        extra[f"utils/notes{number}.txt"] = draw(st.binary(min_size=1, max_size=10))
    files.update(extra)
    return base, f"{kind} in {path}", files


def _write(root: Path, files: dict[str, bytes]) -> Project:
    if root.exists():
        shutil.rmtree(root)
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return scan_tree(root)


@PROPERTY
@given(edited(SEMANTIC))
def test_a_semantic_edit_anywhere_in_the_reach_is_never_run(tmp_path: Path,
                                                            case: tuple[list[Helper], str, dict[str, bytes]]) -> None:
    helpers, what, files = case
    base = _write(tmp_path / "base", render(helpers))
    head = _write(tmp_path / "head", files)
    assert not base.diagnostics and not head.diagnostics
    assert base.pipelines[0].steps[0].fingerprint != head.pipelines[0].steps[0].fingerprint, what
    [change] = compare(base, head).pipelines
    assert change.decision is not None and change.decision >= Decision.VERSION, (what, change.findings)


@PROPERTY
@given(edited(HARMLESS))
def test_an_edit_outside_the_computation_stays_run(tmp_path: Path,
                                                   case: tuple[list[Helper], str, dict[str, bytes]]) -> None:
    helpers, what, files = case
    base = _write(tmp_path / "base", render(helpers))
    head = _write(tmp_path / "head", files)
    assert base.pipelines[0].fingerprint == head.pipelines[0].fingerprint, what
    [change] = compare(base, head).pipelines
    assert change.decision == Decision.RUN, (what, change.findings)
