"""A repo module used as a value -- bound to a local (``mod = helpers``), passed, or read
for an attribute it does not define at its top level -- is read where pvcheck cannot see
which of its attributes: every top-level definition of it is in the step's reach, so a
change to the function ``mod.scale(...)`` calls is a version, not a missed one.
"""

from __future__ import annotations

from pathlib import Path
import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.config import Config
from pvcheck.model import Decision
from pvcheck.policies.examples import HELPERS, STEPS, edit, project
from tests.conftest import only_decision, write_tree

_SCALE_CHANGED = edit(HELPERS, "return value * factor", "return value * factor * 2")
_UNUSED_CHANGED = edit(HELPERS, "return value - 1", "return value - 2")


def _decision(tmp_path: Path, steps: str, helpers: str, base_helpers: str = HELPERS) -> Decision:
    return only_decision(tmp_path, project(steps=steps, helpers=base_helpers), project(steps=steps, helpers=helpers))


def _steps(body: str, imports: str = "import helpers\n") -> str:
    return edit(STEPS, "from helpers import scale\n", imports).replace("    return scale(total, rate)", body)


@pytest.mark.parametrize("body", [
    "    mod = helpers\n    return mod.scale(total, rate)",
    "    mod = helpers\n    return getattr(mod, 'scale')(total, rate)",
    "    return apply(helpers, total, rate)\n\n\ndef apply(module, total, rate):\n    return module.scale(total, rate)",
])
def test_a_module_used_as_a_value_reaches_all_of_it(tmp_path: Path, body: str) -> None:
    assert _decision(tmp_path, _steps(body), _SCALE_CHANGED) is Decision.VERSION


def test_an_attribute_named_in_place_reaches_only_what_it_names(tmp_path: Path) -> None:
    # near-miss: `helpers.scale(...)` resolves to the one function, whose module-mates stay out
    direct = _steps("    return helpers.scale(total, rate)")
    assert _decision(tmp_path / "a", direct, _SCALE_CHANGED) is Decision.VERSION
    assert _decision(tmp_path / "b", direct, _UNUSED_CHANGED) is Decision.RUN
    # a module value reaches every definition, the one no call names too (conservative)
    aliased = _steps("    mod = helpers\n    return mod.scale(total, rate)")
    assert _decision(tmp_path / "c", aliased, _UNUSED_CHANGED) is Decision.VERSION


@pytest.mark.parametrize("body", [
    "    import importlib\n    return importlib.import_module('helpers').scale(total, rate)",
    "    from importlib import import_module\n    return import_module('helpers').scale(total, rate)",
    "    return __import__('helpers').scale(total, rate)",
    "    import sys\n    return sys.modules['helpers'].scale(total, rate)",
])
def test_a_module_imported_by_a_literal_name_is_reached(tmp_path: Path, body: str) -> None:
    assert _decision(tmp_path, _steps(body, imports=""), _SCALE_CHANGED) is Decision.VERSION


def _step_diagnostics(tmp_path: Path, body: str) -> tuple[bool, list[str]]:
    project_ = scan_tree(write_tree(tmp_path, project(steps=_steps(body, imports=""))), Config(), cache=False)
    train = next(s for s in project_.pipelines[0].steps if s.name == "train")
    return train.dynamic, [d.message for d in project_.diagnostics if d.code == "PV010"]


def test_an_installed_module_imported_by_a_literal_name_is_an_import(tmp_path: Path) -> None:
    body = "    import importlib\n    return importlib.import_module('json').dumps([total, rate])"
    assert _step_diagnostics(tmp_path, body) == (False, [])


@pytest.mark.parametrize("body, said", [
    ("    import importlib\n    name = 'helpers'\n    return importlib.import_module(name).scale(total, rate)",
     "the modules it imports are not fingerprinted"),
    ("    import importlib\n    return importlib.import_module('.helpers', 'pkg').scale(total, rate)",
     "the modules it imports are not fingerprinted"),
    ("    import sys\n    name = 'helpers'\n    return sys.modules[name].scale(total, rate)",
     "reads sys.modules by a name computed at run time"),
])
def test_a_computed_module_name_is_said(tmp_path: Path, body: str, said: str) -> None:
    dynamic, messages = _step_diagnostics(tmp_path, body)
    assert dynamic and any(said in m for m in messages), messages


@pytest.mark.parametrize("steps, why", [
    (edit(STEPS, "def train(rows: list, rate: float = 0.1) -> float:",
          "def train(rows: list, rate: float = 0.1, fn=scale) -> float:").replace("return scale(total, rate)",
                                                                                 "return fn(total, rate)"),
     "a parameter default that refers to a repo function runs as the body's code"),
    (_steps("    return helpers.__dict__['scale'](total, rate)"),
     "an attribute the module does not bind reads the module"),
])
def test_what_a_step_reaches_outside_its_statements(tmp_path: Path, steps: str, why: str) -> None:
    assert _decision(tmp_path, steps, _SCALE_CHANGED) is Decision.VERSION, why


def test_where_a_module_is_is_no_code(tmp_path: Path) -> None:
    # near-miss: helpers.__file__ reads the module's location, not its code
    steps = _steps("    import os\n    return len(os.path.dirname(helpers.__file__)) * scale_of(total, rate)\n\n\n"
                   "def scale_of(total, rate):\n    return total * rate")
    assert _decision(tmp_path, steps, _SCALE_CHANGED) is Decision.RUN


def test_a_third_party_name_a_module_re_exports_is_no_unbound_attribute(tmp_path: Path) -> None:
    # near-miss: `helpers.dumps` is json's (bound by helpers' own import), not an unknown attribute
    guarded = "try:\n    from json import dumps\nexcept ImportError:\n    dumps = None\n\n\n"
    steps = _steps("    return len(helpers.dumps([total])) * helpers.scale(total, rate)")
    assert _decision(tmp_path, steps, guarded + _UNUSED_CHANGED, base_helpers=guarded + HELPERS) is Decision.RUN


def test_a_default_adds_reach_but_no_place_in_the_tokens() -> None:
    # the content layer (pvcheck.analyzer.content) replaces tokens at Canon.sites: a default's
    # reference is no token of the body, so it has no site
    import libcst as cst

    from pvcheck.analyzer.canonical import Canonicalizer
    from pvcheck.analyzer.functions import SOURCE_MODULE, _TextIndex
    from pvcheck.config import DEFAULT_COSMETIC_CALLS

    text = "LIMIT = 3\n\ndef helper(rows):\n    return rows\n\ndef step(rows, n=LIMIT):\n    return helper(rows)[:n]\n"
    index = _TextIndex(text, [])
    module = index.module(SOURCE_MODULE)
    assert module is not None
    step = module.tree.body[-1]
    assert isinstance(step, cst.FunctionDef)
    canon = Canonicalizer(module, index, DEFAULT_COSMETIC_CALLS).function_body(step)
    assert {name.rsplit(".", 1)[-1] for name in canon.references} == {"helper", "LIMIT"}
    assert [canon.tokens[site[0]].rsplit(".", 1)[-1] for site in canon.sites] == ["helper"]


@pytest.mark.parametrize("body", [
    "    return globals()['scale'](total, rate)",
    "    return eval('scale(total, rate)')",
    "    exec('result = scale(total, rate)')\n    return total",
])
def test_code_reading_its_module_namespace_reaches_all_of_it(tmp_path: Path, body: str) -> None:
    # globals()/eval/exec read any name of the step's module: what it imports is reached
    steps = edit(STEPS, "    return scale(total, rate)", body)
    assert _decision(tmp_path / "a", steps, _SCALE_CHANGED) is Decision.VERSION
    # near-miss: helpers.unused is no name of the step's module
    assert _decision(tmp_path / "b", steps, _UNUSED_CHANGED) is Decision.RUN
