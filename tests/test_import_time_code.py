"""What runs before a step's own code, and text the canonical form used to drop.

* A function or class defined twice under a top-level ``if``/``else`` or ``try``/``except``
  (a compatibility shim) is whichever branch ran at import time: both bodies are the
  definition, and an alternative import (``except ImportError: from slow import scale``)
  is in the reach.
* Importing ``utils.maths`` runs ``utils/__init__.py`` first: its module-level effects are
  in the reach of everything that reaches ``utils.maths``.
* An f-string's format spec (``f"{x:.2f}"``) and raw prefix are code.

Each with its near-miss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest

from pvcheck.model import Decision
from pvcheck.policies.examples import STEPS, edit, project
from tests.conftest import only_decision


def _edited(files: Mapping[str, str], path: str, old: str, new: str) -> dict[str, str]:
    return {**files, path: edit(files[path], old, new)}


def _train(body: str, imports: str = "from helpers import scale\n") -> str:
    return edit(STEPS, "from helpers import scale\n", imports).replace("    return scale(total, rate)", body)


# ---------------------------------------------------------------- definitions under if / try
_VERSIONED = """\
import sys

if sys.version_info >= (3, 8):
    def scale(value, factor):
        return value * factor
else:
    def scale(value, factor):
        return value


def unused(value):
    return value - 1
"""

_TRIED = """\
try:
    import numpy

    def scale(value, factor):
        return value * factor
except ImportError:
    def scale(value, factor):
        return value
"""

_FALLBACK_IMPORT = """\
try:
    from fast import scale
except ImportError:
    def scale(value, factor):
        return value
"""

_FAST = """\
def scale(value, factor):
    return value * factor


def other():
    return 1
"""


@pytest.mark.parametrize("helpers, old, new", [
    (_VERSIONED, "return value * factor", "return value * factor * 2"),  # the branch that is not last
    (_VERSIONED, "        return value\n", "        return value + 1\n"),  # the last one
    (_TRIED, "return value * factor", "return value * factor * 2"),
    (_TRIED, "        return value\n", "        return -value\n"),
])
def test_each_branch_of_a_conditional_definition_is_the_definition(tmp_path: Path, helpers: str, old: str,
                                                                   new: str) -> None:
    base = project(helpers=helpers)
    assert only_decision(tmp_path, base, _edited(base, "helpers.py", old, new)) is Decision.VERSION


def test_a_function_beside_a_conditional_definition_stays_out(tmp_path: Path) -> None:
    # near-miss: the twin definitions do not pull in their module-mates
    base = project(helpers=_VERSIONED)
    assert only_decision(tmp_path, base, _edited(base, "helpers.py", "return value - 1", "return value - 2")) \
        is Decision.RUN


_REDEFINED = """\
def scale(value, factor):
    return value * factor


def scale(value, factor):
    return value * factor
"""


@pytest.mark.parametrize("old, new", [
    ("def scale(value, factor):\n    return value * factor\n\n\n", ""),  # the dead one dropped
    ("return value * factor\n\n\n", "return value\n\n\n"),  # the dead one edited
])
def test_a_definition_an_unconditional_one_replaces_is_dead(tmp_path: Path, old: str, new: str) -> None:
    # near-miss: ruff's F811 fix (giga-dagster 1f206c94: a duplicated function removed)
    base = project(helpers=_REDEFINED)
    assert only_decision(tmp_path, base, _edited(base, "helpers.py", old, new)) is Decision.RUN


def test_the_import_a_definition_falls_back_from_is_reached(tmp_path: Path) -> None:
    base = project(helpers=_FALLBACK_IMPORT, fast_dot_py=_FAST)
    assert only_decision(tmp_path / "a", base, _edited(base, "fast.py", "return value * factor", "return 2 * value")) \
        is Decision.VERSION
    # near-miss: what else the fallback's module defines is not reached
    assert only_decision(tmp_path / "b", base, _edited(base, "fast.py", "return 1", "return 2")) is Decision.RUN


# ---------------------------------------------------------------- a package's __init__
_MATHS = "def scale(value, factor):\n    return value * factor\n"


def _package(init: str) -> Mapping[str, str]:
    return {**project(steps=_train("    return scale(total, rate)", "from utils.maths import scale\n")),
            "utils/__init__.py": init, "utils/maths.py": _MATHS}


def test_the_effects_of_a_package_init_are_in_the_reach_of_its_modules(tmp_path: Path) -> None:
    base = _package("import random\n\nrandom.seed(1)\n")
    assert only_decision(tmp_path, base, _edited(base, "utils/__init__.py", "seed(1)", "seed(2)")) is Decision.VERSION


@pytest.mark.parametrize("old, new", [
    ("# maths helpers\n", "# maths and other helpers\n"),  # a comment
    ("LIMIT = 3\n", "LIMIT = 4\n"),  # a constant nothing reads is no effect
])
def test_an_init_without_effects_changes_nothing(tmp_path: Path, old: str, new: str) -> None:
    base = _package("# maths helpers\nimport random\n\nLIMIT = 3\nrandom.seed(1)\n")
    assert only_decision(tmp_path, base, _edited(base, "utils/__init__.py", old, new)) is Decision.RUN


def test_an_unused_import_of_a_module_with_effects_stays_cosmetic(tmp_path: Path) -> None:
    # SPEC: an unused import added or removed is a run -- what the imported module runs
    # at import time is not followed through an import nothing uses
    base = project(setup_dot_py="import random\n\nrandom.seed(1)\n")
    head = _edited(base, "steps.py", "from helpers import scale\n", "import setup\nfrom helpers import scale\n")
    assert only_decision(tmp_path, base, head) is Decision.RUN


# ---------------------------------------------------------------- f-strings
@pytest.mark.parametrize("body, old, new, decision", [
    ("    return f'{total:.2f}'", ".2f", ".3f", Decision.VERSION),
    ("    return f'{total:>10}'", ">10", ">12", Decision.VERSION),
    ("    width = 3\n    return f'{total:{width}.2f}'", ".2f}'", ".1f}'", Decision.VERSION),
    ("    return f'a\\n{total}'", "f'a", "rf'a", Decision.VERSION),
    # near-misses: the quote style and the prefix's case are layout
    ("    return f'{total:.2f}'", "f'{total:.2f}'", 'f"{total:.2f}"', Decision.RUN),
    ("    return f'{total:.2f}'", "f'{", "F'{", Decision.RUN),
])
def test_an_f_string_format_spec_is_code(tmp_path: Path, body: str, old: str, new: str,
                                         decision: Decision) -> None:
    base = project(steps=_train(body, ""))
    assert only_decision(tmp_path, base, _edited(base, "steps.py", old, new)) is decision
