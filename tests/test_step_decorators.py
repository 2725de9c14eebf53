"""A step's decorators other than its framework's run code around it: a wrapper the
project defines, a library's (``@torch.no_grad()``, ``@retry(...)``, ``@lru_cache``) or a
method of an object the project makes. Their expressions are the step's code (a change,
an addition or a removal is a version); a framework's own decorators are configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision
from pvcheck.policies import compare
from pvcheck.policies.examples import HELPERS, STEPS, edit, project
from tests.conftest import only_decision, write_tree

_WRAPPERS = HELPERS + '''

def logged(fn):
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner


def times(n):
    def decorate(fn):
        def inner(*args, **kwargs):
            return fn(*args, **kwargs) * n
        return inner
    return decorate


class Tracker:
    def wrap(self, fn):
        return fn


tracker = Tracker()
'''


def _decorated(decorator: str, imports: str = "from helpers import logged, scale, times, tracker\n") -> str:
    steps = edit(STEPS, "from helpers import scale\n", imports)
    return edit(steps, "@step\ndef train(", f"@step\n{decorator}\ndef train(")


def _project(steps: str, helpers: str = _WRAPPERS) -> Mapping[str, str]:
    return project(steps=steps, helpers=helpers)


@pytest.mark.parametrize("decorator, helpers", [
    ("@logged", edit(_WRAPPERS, "return fn(*args, **kwargs)\n    return inner\n\n\ndef times",
                     "return fn(*args, **kwargs) or 0\n    return inner\n\n\ndef times")),
    ("@times(2)", edit(_WRAPPERS, "* n\n", "* n * n\n")),
    ("@tracker.wrap", edit(_WRAPPERS, "        return fn\n", "        return print\n")),
])
def test_a_wrapper_the_project_defines_is_the_steps_code(tmp_path: Path, decorator: str, helpers: str) -> None:
    steps = _decorated(decorator)
    assert only_decision(tmp_path, _project(steps), _project(steps, helpers)) is Decision.VERSION


@pytest.mark.parametrize("decorator, old, new", [
    ("@times(2)", "@times(2)", "@times(3)"),  # its arguments
    ("@logged", "@logged\n", ""),  # removed
    ("@retry(stop=stop_after_attempt(3))", "(3)", "(5)"),
    ("@retry(stop=stop_after_attempt(3))", "@retry(stop=stop_after_attempt(3))\n",
     "@retry(stop=stop_after_attempt(3))\n@functools.lru_cache\n"),  # a library's, added
])
def test_a_decorator_edit_is_a_version(tmp_path: Path, decorator: str, old: str, new: str) -> None:
    steps = _decorated(decorator, "import functools\n\nfrom tenacity import retry, stop_after_attempt\n\n"
                                  "from helpers import logged, scale, times, tracker\n")
    assert only_decision(tmp_path, _project(steps), _project(edit(steps, old, new))) is Decision.VERSION


def test_an_unchanged_wrapper_and_its_unused_module_mates_stay_a_run(tmp_path: Path) -> None:
    # near-miss: the wrapper is in the reach, not the whole module
    steps = _decorated("@logged")
    assert only_decision(tmp_path, _project(steps), _project(steps, edit(_WRAPPERS, "return value - 1",
                                                                     "return value - 2"))) is Decision.RUN


def test_the_frameworks_own_decorator_arguments_stay_configuration(tmp_path: Path) -> None:
    # near-miss: `@step(enable_cache=...)` next to a wrapper is configuration (SPEC: run)
    steps = edit(_decorated("@logged"), "@step\n@logged", "@step(enable_cache=True)\n@logged")
    assert only_decision(tmp_path, _project(steps), _project(edit(steps, "enable_cache=True", "enable_cache=False"))) \
        is Decision.RUN


def test_a_method_of_a_framework_object_is_not_a_wrapper(tmp_path: Path) -> None:
    # near-miss: Flyte 2's `@env.task` -- an environment the project makes from the framework
    tree = {
        "flows.py": (
            "import flyte\n\nenv = flyte.TaskEnvironment(name='demo')\n\n\n"
            "@env.task\nasync def double(x: int) -> int:\n    return x * 2\n\n\n"
            "@env.task(retries=1)\nasync def main(x: int = 3) -> int:\n    return await double(x)\n"),
    }
    base = scan_tree(write_tree(tmp_path / "base", tree), Config(), cache=False)
    head = scan_tree(write_tree(tmp_path / "head", {"flows.py": tree["flows.py"].replace("retries=1",
                                                                                          "retries=2")}),
                     Config(), cache=False)
    decisions = {c.name: c.decision for c in compare(base, head, Config()).pipelines}
    assert decisions and set(decisions.values()) == {Decision.RUN}, decisions


# ---------------------------------------------------------------- what a framework decorator names
_FLOW = '''from prefect import flow, task

from hooks import RETRIES, key_fn, on_done


@task(cache_key_fn=key_fn, on_completion=[on_done], retries=RETRIES)
def load(x: int) -> int:
    return x * 2


@flow
def etl(x: int = 1):
    load(x)
'''

_HOOKS = '''RETRIES = 2


def key_fn(context, params):
    return str(params["x"])


def on_done(task, run, state):
    return None
'''


@pytest.mark.parametrize("old, new, decision", [
    ('str(params["x"])', 'str(params["x"]) + "v2"', Decision.VERSION),  # the cache key function's code
    ("return None", "return state", Decision.VERSION),  # a hook's code
    ("RETRIES = 2", "RETRIES = 3", Decision.RUN),  # near-miss: a constant is a configuration value
])
def test_functions_a_framework_decorator_names_run_with_the_step(tmp_path: Path, old: str, new: str,
                                                                 decision: Decision) -> None:
    base = {"flow.py": _FLOW, "hooks.py": _HOOKS}
    assert only_decision(tmp_path, base, {**base, "hooks.py": edit(_HOOKS, old, new)}) is decision


def test_a_step_a_framework_decorator_names_is_the_graphs(tmp_path: Path) -> None:
    # near-miss: `deps=[raw]` wires the graph; raw's code is raw's, not in report's reach
    files = {"assets.py": (
        "import dagster as dg\n\n\n@dg.asset\ndef raw() -> list:\n    return [1]\n\n\n"
        "@dg.asset(deps=[raw])\ndef report() -> int:\n    return 1\n\n\n"
        "defs = dg.Definitions(assets=[raw, report])\n")}
    models = [scan_tree(write_tree(tmp_path / side, {"assets.py": text}), Config(), cache=False)
              for side, text in (("base", files["assets.py"]),
                                 ("head", edit(files["assets.py"], "return [1]", "return [2]")))]
    steps = [{s.id: s.fingerprint for p in m.pipelines for s in p.steps} for m in models]
    assert steps[0]["raw"] != steps[1]["raw"]
    assert steps[0]["report"] == steps[1]["report"]


_PIPELINE = '''from zenml import pipeline

from hooks import CACHE, alert
from steps import load, train


@pipeline(name="example", on_failure=alert, enable_cache=CACHE)
def example_pipeline():
    rows = load()
    train(rows)
'''

_CONFIGURED = _PIPELINE.replace(", on_failure=alert, enable_cache=CACHE", "").replace(
    "rows = load()", "rows = load.with_options(on_failure=alert, enable_cache=CACHE)()")

_PIPELINE_HOOKS = '''CACHE = True


def alert(exception):
    print("failed")
    return 0
'''


@pytest.mark.parametrize("pipeline", [_PIPELINE, _CONFIGURED], ids=["decorator", "with_options"])
@pytest.mark.parametrize("old, new, decision", [
    ("return 0", "return 1", Decision.VERSION),  # the hook's code runs with the pipeline or step
    ("CACHE = True", "CACHE = False", Decision.RUN),  # near-miss: a configuration value
])
def test_hooks_a_pipeline_decorator_or_step_options_name_are_in_the_reach(tmp_path: Path, pipeline: str, old: str,
                                                                          new: str, decision: Decision) -> None:
    assert _CONFIGURED != _PIPELINE
    base = project(pipeline=pipeline, hooks_dot_py=_PIPELINE_HOOKS)
    head = project(pipeline=pipeline, hooks_dot_py=edit(_PIPELINE_HOOKS, old, new))
    assert only_decision(tmp_path, base, head) is decision


def test_a_class_read_for_its_attributes_is_a_namespace_of_values(tmp_path: Path) -> None:
    # near-miss: `@step(experiment_tracker=Trackers.MAIN)` reads a value; Trackers' other
    # attributes are no code the step runs
    hooks = "class Trackers:\n    MAIN = 'mlflow'\n    OTHER = 'wandb'\n"
    steps = edit(STEPS, "@step\ndef train(", "@step(experiment_tracker=Trackers.MAIN)\ndef train(")
    steps = edit(steps, "from helpers import scale\n", "from helpers import scale\nfrom trackers import Trackers\n")
    base = project(steps=steps, trackers_dot_py=hooks)
    head = project(steps=steps, trackers_dot_py=edit(hooks, "'wandb'", "'neptune'"))
    assert only_decision(tmp_path, base, head) is Decision.RUN
