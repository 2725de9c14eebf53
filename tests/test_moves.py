"""Issue 13, item 9: helpers and constants moved or renamed with the same body or value,
and literals extracted into constants, are `run` (PV108, PV109); every near-miss where the
computation may differ stays `version`."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import pytest

from pvcheck.config import Config
from pvcheck.lock import judge_against_lock, lock_project
from pvcheck.lockfile import read_lock
from pvcheck.model import Decision, Finding
from pvcheck.policies.engine import compare
from pvcheck.testing import scan_tree, write_files

TIME = '''\
SECONDS_PER_HOUR = 3600


def hour_of_day(ts):
    return ts % 86400 // SECONDS_PER_HOUR


def day_of_week(ts):
    return (ts // 86400 + 4) % 7
'''

STEPS = '''\
from zenml import step

from utils.time import hour_of_day


@step
def features(ts: int) -> int:
    return hour_of_day(ts) * 2
'''

PIPELINE = '''\
from zenml import pipeline

from steps import features


@pipeline(name="example")
def example_pipeline():
    features(ts=5)
'''


def tree(**files: str) -> dict[str, str]:
    """The base project with files replaced or added (``utils__time`` is utils/time.py)."""
    found = {"utils/__init__.py": "", "utils/time.py": TIME, "steps.py": STEPS, "pipeline.py": PIPELINE}
    for key, text in files.items():
        path = key.replace("__", "/") + ".py"
        if text is None:
            found.pop(path, None)
        else:
            found[path] = text
    return found


def decide(tmp_path: Path, before: Mapping[str, str], after: Mapping[str, str]) -> tuple[Decision, list[Finding]]:
    config = Config(roots=(".",))
    base = scan_tree(write_files(tmp_path / "before", before), config)
    head = scan_tree(write_files(tmp_path / "after", after), config)
    change = next(c for c in compare(base, head, config).pipelines if c.name == "example")
    return change.decision, list(change.findings)


def messages(findings: list[Finding], rule: Optional[str] = None) -> list[str]:
    return [f.message for f in findings if rule is None or f.rule == rule]


MOVED_STEPS = STEPS.replace("from utils.time import", "from utils.timeparse import")


def test_helper_moved_to_another_module_is_run_and_named(tmp_path: Path) -> None:
    after = tree(utils__time=TIME.replace(TIME[TIME.index("def hour_of_day"):TIME.index("def day_of_week")], ""),
                 utils__timeparse="from utils.time import SECONDS_PER_HOUR\n\n\ndef hour_of_day(ts):\n"
                                  "    return ts % 86400 // SECONDS_PER_HOUR\n",
                 steps=MOVED_STEPS)
    decision, findings = decide(tmp_path, tree(), after)
    assert decision is Decision.RUN, messages(findings)
    assert "step features: helper utils.time.hour_of_day moved to utils.timeparse.hour_of_day, body unchanged" \
        in messages(findings, "PV108")
    finding = next(f for f in findings if f.rule == "PV108")
    assert (finding.path, finding.line, finding.step) == ("utils/timeparse.py", 4, "features")


def test_helper_moved_and_changed_is_a_version(tmp_path: Path) -> None:
    after = tree(utils__timeparse="from utils.time import SECONDS_PER_HOUR\n\n\ndef hour_of_day(ts):\n"
                                  "    return ts % 86400 // SECONDS_PER_HOUR + 1\n", steps=MOVED_STEPS)
    decision, findings = decide(tmp_path, tree(), after)
    assert decision is Decision.VERSION
    assert not messages(findings, "PV108")


def test_consistent_rename_is_run(tmp_path: Path) -> None:
    after = tree(utils__time=TIME.replace("def hour_of_day", "def hour"),
                 steps=STEPS.replace("import hour_of_day", "import hour").replace("hour_of_day(ts)", "hour(ts)"))
    decision, findings = decide(tmp_path, tree(), after)
    assert decision is Decision.RUN, messages(findings)
    assert messages(findings, "PV108") == [
        "step features: helper utils.time.hour_of_day renamed to utils.time.hour, body unchanged"]


def test_moved_and_renamed_together(tmp_path: Path) -> None:
    after = tree(utils__clock="SECONDS_PER_HOUR = 3600\n\n\ndef hour(ts):\n    return ts % 86400 // SECONDS_PER_HOUR\n",
                 steps=STEPS.replace("from utils.time import hour_of_day", "from utils.clock import hour")
                 .replace("hour_of_day(ts)", "hour(ts)"))
    decision, findings = decide(tmp_path, tree(), after)
    assert decision is Decision.RUN, messages(findings)
    assert "step features: helper utils.time.hour_of_day moved and renamed to utils.clock.hour, body unchanged" \
        in messages(findings, "PV108")


def test_renamed_to_a_name_that_meant_something_else_is_a_version(tmp_path: Path) -> None:
    other = "def hour_of_day(ts):\n    return ts // 3600\n"  # the same name, another computation
    decision, findings = decide(tmp_path, tree(utils__other=other),
                                tree(utils__other=other, steps=STEPS.replace("utils.time", "utils.other")))
    assert decision is Decision.VERSION
    assert not messages(findings, "PV108")


def test_inconsistent_rename_is_a_version(tmp_path: Path) -> None:
    # the old behaviour kept under a new name for one call site; the old name now means
    # something else, and the other call site still uses it
    steps = STEPS.replace("return hour_of_day(ts) * 2", "return hour_of_day(ts) * 2 + hour_of_day(ts + 1)")
    old_body = "def hour_of_day(ts):\n    return ts % 86400 // SECONDS_PER_HOUR\n"
    time = TIME.replace(old_body, old_body.replace("hour_of_day", "hour_of_day_v1")
                        + "\n\ndef hour_of_day(ts):\n    return ts // SECONDS_PER_HOUR\n")
    decision, findings = decide(tmp_path, tree(steps=steps), tree(
        utils__time=time, steps=steps.replace("import hour_of_day", "import hour_of_day, hour_of_day_v1")
        .replace("hour_of_day(ts) * 2", "hour_of_day_v1(ts) * 2")))
    assert decision is Decision.VERSION
    assert not messages(findings, "PV108")


def test_a_helper_of_a_helper_moved_is_run(tmp_path: Path) -> None:
    calling = "from utils.time import hour_of_day\n\n\ndef shifted(ts):\n    return hour_of_day(ts + 1)\n"
    steps = STEPS.replace("from utils.time import hour_of_day", "from utils.shift import shifted") \
        .replace("hour_of_day(ts)", "shifted(ts)")
    before = tree(utils__shift=calling, steps=steps)
    after = tree(utils__shift=calling.replace("utils.time", "utils.timeparse"),
                 utils__timeparse="SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n"
                                  "    return ts % 86400 // SECONDS_PER_HOUR\n", steps=steps)
    decision, findings = decide(tmp_path, before, after)
    assert decision is Decision.RUN, messages(findings)
    assert "step features: helper utils.time.hour_of_day moved to utils.timeparse.hour_of_day, body unchanged" \
        in messages(findings, "PV108")


def test_constant_moved_is_run(tmp_path: Path) -> None:
    after = tree(utils__time="from utils.units import SECONDS_PER_HOUR\n\n\n" + TIME.replace(
        "SECONDS_PER_HOUR = 3600\n\n\n", ""), utils__units="SECONDS_PER_HOUR = 3600\n")
    decision, findings = decide(tmp_path, tree(), after)
    assert decision is Decision.RUN, messages(findings)
    assert "step features: constant utils.time.SECONDS_PER_HOUR moved to utils.units.SECONDS_PER_HOUR, value " \
           "unchanged" in messages(findings, "PV108")


def test_constant_built_from_constants_moved_is_run(tmp_path: Path) -> None:
    before = tree(utils__time="MINUTE = 60\n" + TIME.replace("= 3600", "= 60 * MINUTE"))
    after = tree(utils__time="from utils.units import SECONDS_PER_HOUR\n\n\n" + TIME.replace(
        "SECONDS_PER_HOUR = 3600\n\n\n", ""), utils__units="MINUTE = 60\nSECONDS_PER_HOUR = 60 * MINUTE\n")
    decision, findings = decide(tmp_path, before, after)
    assert decision is Decision.RUN, messages(findings)


@pytest.mark.parametrize("value", ["3600", "60 * 60", "3_600", "(3600)"])
def test_literal_extracted_into_a_constant_is_run(tmp_path: Path, value: str) -> None:
    inline = tree(utils__time=TIME.replace("SECONDS_PER_HOUR = 3600\n\n\n", "").replace("// SECONDS_PER_HOUR",
                                                                                        f"// {value}"))
    decision, findings = decide(tmp_path, inline, tree())
    if value == "60 * 60":
        # 60 * 60 is an expression, not the literal 3600: pvcheck does not fold arithmetic
        assert decision is Decision.VERSION
        return
    assert decision is Decision.RUN, messages(findings)
    assert messages(findings, "PV109") == [
        "step features: literal extracted into constant utils.time.SECONDS_PER_HOUR (the same value)"]
    # and back: the constant replaced by its value
    decision, findings = decide(tmp_path / "back", tree(), inline)
    assert decision is Decision.RUN, messages(findings)
    assert messages(findings, "PV109") == [
        "step features: constant utils.time.SECONDS_PER_HOUR replaced by its value (the same value)"]


def test_literal_extracted_with_another_value_is_a_version(tmp_path: Path) -> None:
    inline = tree(utils__time=TIME.replace("SECONDS_PER_HOUR = 3600\n\n\n", "").replace("// SECONDS_PER_HOUR",
                                                                                        "// 3600"))
    decision, findings = decide(tmp_path, inline, tree(utils__time=TIME.replace("= 3600", "= 3601")))
    assert decision is Decision.VERSION
    assert not messages(findings, "PV109")


@pytest.mark.parametrize("value", ["[3600]", "{'h': 3600}", "compute()", "f'{3600}'"])
def test_constants_that_are_not_immutable_literals_keep_their_names(tmp_path: Path, value: str) -> None:
    # a list or dict is one shared mutable object; a call runs at import time
    time = "def compute():\n    return 3600\n\n\n" + TIME.replace("= 3600", f"= {value}")
    after = tree(utils__time="from utils.units import SECONDS_PER_HOUR\n\n\n" + time.replace(
        f"SECONDS_PER_HOUR = {value}\n\n\n", ""),
        utils__units="from utils.time import compute\n\n\n" if "compute" in value else "")
    after["utils/units.py"] += f"SECONDS_PER_HOUR = {value}\n"
    decision, findings = decide(tmp_path, tree(utils__time=time), after)
    assert decision is Decision.VERSION, value
    assert not messages(findings, "PV108")


def test_constant_bound_twice_keeps_its_name(tmp_path: Path) -> None:
    twice = TIME.replace("SECONDS_PER_HOUR = 3600\n", "SECONDS_PER_HOUR = 3600\nSECONDS_PER_HOUR = 3600\n")
    after = tree(utils__time="from utils.units import SECONDS_PER_HOUR\n\n\n" + TIME.replace(
        "SECONDS_PER_HOUR = 3600\n\n\n", ""), utils__units="SECONDS_PER_HOUR = 3600\n")
    decision, _ = decide(tmp_path, tree(utils__time=twice), after)
    assert decision is Decision.VERSION


def test_a_reach_that_rebinds_a_constant_gets_no_content_layer(tmp_path: Path) -> None:
    # base: the step reads utils.time.SECONDS_PER_HOUR, which reset() rebinds; head: the
    # constant moved, reset() still rebinds the old one: the step no longer sees that
    rebinding = "\n\ndef reset():\n    global SECONDS_PER_HOUR\n    SECONDS_PER_HOUR = 60\n"
    steps = STEPS.replace("import hour_of_day", "import hour_of_day, reset").replace(
        "    return hour_of_day(ts) * 2", "    reset()\n    return hour_of_day(ts) * 2")
    after_time = "from utils.units import SECONDS_PER_HOUR\n\n\n" + TIME.replace("SECONDS_PER_HOUR = 3600\n\n\n", "") \
        + rebinding
    decision, findings = decide(tmp_path, tree(utils__time=TIME + rebinding, steps=steps),
                                tree(utils__time=after_time, utils__units="SECONDS_PER_HOUR = 3600\n", steps=steps))
    assert decision is Decision.VERSION
    assert not messages(findings, "PV108")


def test_a_module_attribute_assigned_elsewhere_gets_no_content_layer(tmp_path: Path) -> None:
    steps = STEPS.replace("from utils.time import hour_of_day", "import utils.time\nfrom utils.time import "
                          "hour_of_day").replace("    return hour_of_day", "    utils.time.hour_of_day = abs\n"
                                                 "    return hour_of_day")
    moved = steps.replace("from utils.time import hour_of_day", "from utils.timeparse import hour_of_day")
    decision, _ = decide(tmp_path, tree(steps=steps), tree(
        steps=moved, utils__timeparse="SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n"
                                      "    return ts % 86400 // SECONDS_PER_HOUR\n"))
    assert decision is Decision.VERSION


@pytest.mark.parametrize("kind", ["class", "value", "decorated", "module name"])
def test_names_that_can_be_observed_keep_counting(tmp_path: Path, kind: str) -> None:
    if kind == "class":
        helper = "class Hours:\n    def of(self, ts):\n        return ts // 3600\n"
        use = "Hours().of(ts)"
        name = "Hours"
    elif kind == "value":  # passed around, not called: its __name__/__qualname__ can be read
        helper = "def hours(ts):\n    return ts // 3600\n"
        use = "sum(map(hours, [ts]))"
        name = "hours"
    elif kind == "decorated":  # a decorator may register it by name
        helper = "import functools\n\n\n@functools.lru_cache\ndef hours(ts):\n    return ts // 3600\n"
        use = "hours(ts)"
        name = "hours"
    else:
        helper = "import logging\n\n\ndef hours(ts):\n    logging.getLogger(__name__).setLevel(10)\n" \
                 "    return ts // 3600\n"
        use = "hours(ts)"
        name = "hours"
    steps = f"from zenml import step\n\nfrom utils.a import {name}\n\n\n@step\ndef features(ts: int) -> int:\n" \
            f"    return {use}\n"
    decision, findings = decide(tmp_path, tree(utils__a=helper, steps=steps),
                                tree(utils__b=helper, steps=steps.replace("utils.a", "utils.b")))
    assert decision is Decision.VERSION, kind
    assert not messages(findings, "PV108")


MUTUAL = '''\
def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)
'''


def test_mutually_recursive_helpers_moved_and_renamed_are_run(tmp_path: Path) -> None:
    steps = "from zenml import step\n\nfrom utils.parity import is_even\n\n\n@step\ndef features(ts: int) -> bool:\n" \
            "    return is_even(ts)\n"
    renamed = MUTUAL.replace("is_even", "even").replace("is_odd", "odd")
    decision, findings = decide(tmp_path, tree(utils__parity=MUTUAL, steps=steps), tree(
        utils__numbers=renamed, steps=steps.replace("utils.parity import is_even", "utils.numbers import even")
        .replace("is_even(ts)", "even(ts)")))
    assert decision is Decision.RUN, messages(findings)
    assert sorted(messages(findings, "PV108")) == [
        "step features: helper utils.parity.is_even moved and renamed to utils.numbers.even, body unchanged",
        "step features: helper utils.parity.is_odd moved and renamed to utils.numbers.odd, body unchanged"]


@pytest.mark.parametrize("edit", [("n - 1)\n\n\ndef is_odd", "n - 2)\n\n\ndef is_odd"),  # one member changed
                                  ("is_odd(n - 1)", "is_even(n - 1)")])                    # the cycle rewired
def test_mutually_recursive_helpers_moved_and_changed_are_a_version(tmp_path: Path, edit: tuple[str, str]) -> None:
    steps = "from zenml import step\n\nfrom utils.parity import is_even\n\n\n@step\ndef features(ts: int) -> bool:\n" \
            "    return is_even(ts)\n"
    decision, _ = decide(tmp_path, tree(utils__parity=MUTUAL, steps=steps), tree(
        utils__numbers=MUTUAL.replace(*edit), steps=steps.replace("utils.parity", "utils.numbers")))
    assert decision is Decision.VERSION


def test_two_helpers_with_the_same_body_are_interchangeable(tmp_path: Path) -> None:
    time = TIME + "\n\ndef hour_again(ts):\n    return ts % 86400 // SECONDS_PER_HOUR\n"
    decision, findings = decide(tmp_path, tree(utils__time=time), tree(
        utils__time=time, steps=STEPS.replace("import hour_of_day", "import hour_again")
        .replace("hour_of_day(ts)", "hour_again(ts)")))
    assert decision is Decision.RUN, messages(findings)
    assert messages(findings, "PV108") == [
        "step features: helper utils.time.hour_of_day renamed to utils.time.hour_again, body unchanged"]


def test_a_module_effect_left_behind_is_a_version(tmp_path: Path) -> None:
    # the helper moved out of a module whose import seeds the global random generator:
    # that module is no longer imported, so the seed is gone
    seeded = "import random\n\nrandom.seed(7)\n\n\n" + TIME
    after = tree(utils__time=seeded, utils__timeparse="SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n"
                                                      "    return ts % 86400 // SECONDS_PER_HOUR\n",
                 steps=MOVED_STEPS)
    decision, _ = decide(tmp_path, tree(utils__time=seeded), after)
    assert decision is Decision.VERSION


def test_a_move_is_run_against_the_lock_file(tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", tree())
    config = Config(roots=(".",))
    assert lock_project(root, config, cache=False).written
    (root / "utils" / "timeparse.py").write_text("SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n"
                                                 "    return ts % 86400 // SECONDS_PER_HOUR\n")
    (root / "steps.py").write_text(MOVED_STEPS)
    report = judge_against_lock(read_lock(root / config.lock_file), root, config, cache=False)
    change = next(c for c in report.pipelines if c.name == "example")
    assert change.decision is Decision.RUN, [f.message for f in change.findings]
    assert [f.message for f in change.findings if f.rule == "PV108"] == [
        "step features: constant utils.time.SECONDS_PER_HOUR moved to utils.timeparse.SECONDS_PER_HOUR, value "
        "unchanged",
        "step features: helper utils.time.hour_of_day moved to utils.timeparse.hour_of_day, body unchanged"]


def test_team_can_make_moves_a_version(tmp_path: Path) -> None:
    config = Config(roots=(".",), rules={"PV108": "version"})
    before = scan_tree(write_files(tmp_path / "b", tree()), config)
    after = scan_tree(write_files(tmp_path / "a", tree(
        utils__timeparse="SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n    return ts % 86400 // "
                         "SECONDS_PER_HOUR\n", steps=MOVED_STEPS)), config)
    change = next(c for c in compare(before, after, config).pipelines if c.name == "example")
    assert change.decision is Decision.VERSION


def test_a_move_does_not_hide_another_change_of_the_pipeline(tmp_path: Path) -> None:
    # the helper moved (PV108, run) and, at the same time, a module-level effect of the
    # pipeline's own module changed: only the pipeline fingerprint covers that one
    seeded = "import random\n\nrandom.seed(1)\n\n" + PIPELINE
    after = tree(utils__timeparse="SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n"
                                  "    return ts % 86400 // SECONDS_PER_HOUR\n",
                 steps=MOVED_STEPS, pipeline=seeded.replace("seed(1)", "seed(2)"))
    decision, findings = decide(tmp_path, tree(pipeline=seeded), after)
    assert decision is Decision.VERSION, messages(findings)
    assert "PV408" in {f.rule for f in findings}
    # the move alone, the seed untouched: run
    decision, findings = decide(tmp_path / "alone", tree(pipeline=seeded), dict(after, **{"pipeline.py": seeded}))
    assert decision is Decision.RUN, messages(findings)


def test_a_helper_the_pipeline_body_calls_moved_is_run(tmp_path: Path) -> None:
    pipeline = PIPELINE.replace("from steps import features\n", "from steps import features\nfrom utils.time "
                                "import day_of_week\n").replace("    features(ts=5)\n",
                                                                "    day = day_of_week(5)\n    features(ts=day)\n")
    moved = "def day_of_week(ts):\n    return (ts // 86400 + 4) % 7\n"
    after = tree(pipeline=pipeline.replace("from utils.time import day_of_week", "from utils.days import day_of_week"),
                 utils__days=moved)
    decision, findings = decide(tmp_path, tree(pipeline=pipeline), after)
    assert decision is Decision.RUN, messages(findings)
    assert "pipeline example: helper utils.time.day_of_week moved to utils.days.day_of_week, body unchanged" \
        in messages(findings, "PV108")
    decision, findings = decide(tmp_path / "changed", tree(pipeline=pipeline),
                                dict(after, **{"utils/days.py": moved.replace("+ 4", "+ 3")}))
    assert decision is Decision.VERSION
    assert "PV407" in {f.rule for f in findings}


DYNAMIC_PIPELINE = PIPELINE.replace("from zenml import pipeline\n", "import os\n\nfrom zenml import pipeline\n").replace(
    "from steps import features\n", "from steps import features, other\n").replace(
    "    features(ts=5)\n", "    if os.environ.get(\"FULL\"):\n        other()\n    features(ts=5)\n")
OTHER = "\n\n@step\ndef other() -> int:\n    return getattr(__builtins__, \"len\")([1])\n"  # code pvcheck cannot follow


def test_a_move_under_a_dynamic_pipeline_is_run(tmp_path: Path) -> None:
    # the condition makes the pipeline dynamic (its body is folded in whole, with what it
    # reaches) and a step of it uses getattr: the moved helper still is a move
    before = tree(pipeline=DYNAMIC_PIPELINE, steps=STEPS + OTHER)
    after = tree(pipeline=DYNAMIC_PIPELINE, steps=MOVED_STEPS + OTHER,
                 utils__timeparse="SECONDS_PER_HOUR = 3600\n\n\ndef hour_of_day(ts):\n"
                                  "    return ts % 86400 // SECONDS_PER_HOUR\n")
    decision, findings = decide(tmp_path, before, after)
    assert decision is Decision.RUN, messages(findings)
    assert "step features: helper utils.time.hour_of_day moved to utils.timeparse.hour_of_day, body unchanged" \
        in messages(findings, "PV108")
    changed = dict(after, **{"utils/timeparse.py": after["utils/timeparse.py"].replace("86400", "86401")})
    decision, findings = decide(tmp_path / "changed", before, changed)
    assert decision is Decision.VERSION
    assert "PV406" in {f.rule for f in findings}
