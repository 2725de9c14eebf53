"""What changes a step's fingerprint and what does not (SPEC §3 cosmetic rows, §5)."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from pvcheck.analyzer import scan_tree
from tests.conftest import FIXTURES, write_tree

HELPERS = textwrap.dedent("""
    import numpy as np

    SCALE = 2.0


    def normalise(values):
        return np.asarray(values) / SCALE


    def unused(values):
        return values
""")

STEP = textwrap.dedent("""
    import logging
    import numpy as np
    from zenml import step

    from helpers import normalise

    logger = logging.getLogger(__name__)


    @step
    def transform(values: list, offset: float = 1.0) -> float:
        \"\"\"Scale and sum.\"\"\"
        scaled = normalise(values)
        total = float(np.sum(scaled)) + offset
        return total
""")

PIPELINE = textwrap.dedent("""
    from zenml import pipeline
    from steps import transform

    @pipeline
    def p():
        transform([1, 2, 3])
""")


def step_of(tmp_path, step: str = STEP, helpers: str = HELPERS, name: str = "tree"):
    root = write_tree(tmp_path / name, {"helpers.py": helpers, "steps.py": step, "flow.py": PIPELINE})
    project = scan_tree(root)
    assert len(project.pipelines) == 1, project.diagnostics
    return project.pipelines[0].steps[0]


def fp(tmp_path, step: str = STEP, helpers: str = HELPERS) -> str:
    return step_of(tmp_path, step, helpers, name=f"t{abs(hash((step, helpers)))}").fingerprint


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


SAME = {
    "comment added": lambda s: edit(s, "    scaled = normalise(values)",
                                    "    # normalise first\n    scaled = normalise(values)  # why"),
    "docstring changed": lambda s: edit(s, "Scale and sum.", "Scale the values, then add them up."),
    "docstring removed": lambda s: edit(s, '    """Scale and sum."""\n', ""),
    "reformatted": lambda s: edit(s, "    total = float(np.sum(scaled)) + offset",
                                  "    total = (\n        float(np.sum(scaled,))\n        + offset\n    )"),
    "quote style": lambda s: edit(s, "logging.getLogger(__name__)", "logging.getLogger(__name__)").replace(
        '"""Scale and sum."""', "'''Scale and sum.'''"),
    "local renamed": lambda s: s.replace("scaled", "rescaled").replace("total", "result"),
    "import order and alias": lambda s: edit(edit(s, "import numpy as np\n", ""), "import logging\n",
                                             "import numpy as numpy_\nimport logging\n").replace("np.sum",
                                                                                                "numpy_.sum"),
    "print added": lambda s: edit(s, "    return total", "    print(f'total={total}', values)\n"
                                                           "    return total"),
    "print of pure builtins": lambda s: edit(s, "    return total", "    print(len(values), round(total, 2))\n"
                                                                    "    return total"),
    "logging added": lambda s: edit(s, "    return total", "    logger.info('total %s', total)\n"
                                                             "    logging.debug(scaled.shape)\n"
                                                             "    return total"),
    "unused import added": lambda s: "import os\n" + s,
}

DIFFERENT = {
    "literal changed": lambda s: edit(s, "float(np.sum(scaled))", "float(np.sum(scaled)) * 1.5"),
    "operator changed": lambda s: edit(s, ") + offset", ") - offset"),
    "statement dropped": lambda s: edit(s, "    scaled = normalise(values)\n", "    scaled = values\n"),
    "print with side effect": lambda s: edit(s, "    return total", "    print(values.pop())\n"
                                                                     "    return total"),
    # len() is a listed pure builtin (a cosmetic argument); a repo-local helper is not
    "print of a call": lambda s: edit(s, "    return total", "    print(normalise(values))\n"
                                                              "    return total"),
    "different third-party function": lambda s: edit(s, "np.sum", "np.mean"),
    "parameter renamed": lambda s: s.replace("offset", "shift"),
}


@pytest.mark.parametrize("case", sorted(SAME))
def test_cosmetic_edit_keeps_fingerprint(tmp_path, case):
    assert fp(tmp_path, SAME[case](STEP)) == fp(tmp_path)


@pytest.mark.parametrize("case", sorted(DIFFERENT))
def test_semantic_edit_changes_fingerprint(tmp_path, case):
    assert fp(tmp_path, DIFFERENT[case](STEP)) != fp(tmp_path)


def test_helper_change_changes_fingerprint_transitively(tmp_path):
    base = fp(tmp_path)
    assert fp(tmp_path, helpers=edit(HELPERS, "/ SCALE", "* SCALE")) != base  # used helper
    assert fp(tmp_path, helpers=edit(HELPERS, "SCALE = 2.0", "SCALE = 3.0")) != base  # constant it uses


def test_unused_helper_change_keeps_fingerprint(tmp_path):
    assert fp(tmp_path, helpers=edit(HELPERS, "return values", "return values[::-1]")) == fp(tmp_path)


def test_cosmetic_helper_change_keeps_fingerprint(tmp_path):
    changed = edit(HELPERS, "    return np.asarray(values) / SCALE",
                   "    # divide\n    return (np.asarray(values)\n        / SCALE)")
    assert fp(tmp_path, helpers=changed) == fp(tmp_path)


def test_helper_cycle_is_safe(tmp_path):
    helpers = HELPERS + textwrap.dedent("""
        def ping(n):
            return pong(n - 1) if n else 0


        def pong(n):
            return ping(n)
    """)
    step = edit(STEP, "    return total", "    return total + ping(3)")
    step = edit(step, "from helpers import normalise", "from helpers import normalise, ping")
    found = step_of(tmp_path, step, helpers)
    assert [h.name for h in found.helpers] == ["helpers.SCALE", "helpers.normalise", "helpers.ping", "helpers.pong"]
    assert fp(tmp_path, step, edit(helpers, "return ping(n)", "return ping(n) + 1")) != found.fingerprint


def test_dict_order_in_config_does_not_matter(tmp_path):
    one = edit(STEP, "@step\n", '@step(settings={"a": 1, "b": {"x": 1, "y": 2}})\n')
    two = edit(STEP, "@step\n", '@step(settings={"b": {"y": 2, "x": 1}, "a": 1})\n')
    assert step_of(tmp_path, one, name="a").config_fingerprint == step_of(tmp_path, two, name="b").config_fingerprint


def test_config_change_leaves_code_fingerprint(tmp_path):
    plain = step_of(tmp_path, name="a")
    configured = step_of(tmp_path, edit(STEP, "@step\n", "@step(enable_cache=False)\n"), name="b")
    defaulted = step_of(tmp_path, edit(STEP, "offset: float = 1.0", "offset: float = 2.0"), name="c")
    assert plain.fingerprint == configured.fingerprint == defaulted.fingerprint
    assert len({plain.config_fingerprint, configured.config_fingerprint, defaulted.config_fingerprint}) == 3


def test_fingerprints_do_not_depend_on_checkout_path(tmp_path):
    first = tmp_path / "a" / "checkout"
    second = tmp_path / "somewhere" / "else" / "entirely"
    shutil.copytree(FIXTURES / "zenml_churn", first)
    shutil.copytree(FIXTURES / "zenml_churn", second)
    one, two = scan_tree(first), scan_tree(second)
    assert one.to_json() == two.to_json()


# Pinned on the bundled fixture: a change here means every user's fingerprints change.
# Only update together with FINGERPRINT_SCHEME_NUMBER (tests/test_lock_scheme.py holds them together).
# Changed deliberately with issue 13 ("cosmetic means cosmetic"): load_customers and
# train_model log len(...), now a side-effect-free argument, so those statements drop out;
# the helpers they and build_features use (read_table, class_weights, drop_inactive ...)
# have parameter/return annotations, which no longer count for an undecorated helper
# (PV107); split_dataset and evaluate_model use typing_extensions.Annotated, now the same
# token as typing.Annotated (one object).
GOLDEN = {
    "load_customers": "fp1:f9b7e7062729c362dbb13fea5aae4705",
    "build_features": "fp1:a09e1c16cc81acc53068944aef4f1c2e",
    "split_dataset": "fp1:0be6b671c9e997fab5861d0c5688c151",
    "train_model": "fp1:5b8d54ff5285a58a36412626e2f99c49",
    "evaluate_model": "fp1:a46e7792355267b0e0a2f5f9b52b07fc",
    "report": "fp1:3b08a8778192350448b52a78db916ffb",
}


def test_golden_fingerprints_of_fixture_steps():
    project = scan_tree(FIXTURES / "zenml_churn")
    training = [p for p in project.pipelines if p.name == "churn_training"][0]
    assert {s.id: s.fingerprint for s in training.steps if s.id in GOLDEN} == GOLDEN


def test_import_inside_a_step_body_still_tracks_the_helper(tmp_path):
    step = edit(STEP, "    scaled = normalise(values)\n",
                "    from helpers import normalise as norm\n    import helpers\n"
                "    scaled = norm(values) * helpers.SCALE\n")
    found = step_of(tmp_path, step)
    assert [h.name for h in found.helpers] == ["helpers.SCALE", "helpers.normalise"]
    assert fp(tmp_path, step, edit(HELPERS, "/ SCALE", "* SCALE")) != found.fingerprint
    assert fp(tmp_path, step, edit(HELPERS, "SCALE = 2.0", "SCALE = 3.0")) != found.fingerprint
    # and the alias still does not matter
    renamed = step.replace("as norm", "as n2").replace("norm(values)", "n2(values)")
    assert fp(tmp_path, renamed) == found.fingerprint
