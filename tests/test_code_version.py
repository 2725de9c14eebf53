"""code_version / fingerprint: stable under cosmetic edits, changed by semantic ones,
helpers included, cached until a file changes, and nothing imported."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from pvcheck import code_version, fingerprint
from pvcheck.analyzer.functions import CodeVersionError, TreeFunctions, function_fingerprint
from pvcheck.codeversion import clear_cache, code_version_at, describe

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def write(path: Path, text: str) -> None:
    """Write and move the mtime forward, so even a same-size edit is a new stamp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    after = path.stat().st_mtime_ns
    if after <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


# ---------------------------------------------------------------------- the fixture, statically
@pytest.fixture
def churn(tmp_path: Path) -> Path:
    root = tmp_path / "churn"
    shutil.copytree(FIXTURES / "zenml_churn", root)
    return root


def train_model_version(root: Path) -> str:
    return function_fingerprint(root, "steps.training", "train_model")


TRAINING_REFORMATTED = '''
"""Training."""
import logging

from sklearn.linear_model import LogisticRegression
from utils.metrics import class_weights
import zenml as zn
import pandas as pd

logger = logging.getLogger(__name__)


@zn.step(settings={'docker': {'requirements': ['scikit-learn==1.5.2']}})
def train_model(
    train_set: pd.DataFrame,
    learning_rate: float = 0.01,
    max_iter: int = 200,
) -> LogisticRegression:
    """Fit a logistic regression, classes weighted by frequency."""
    w = class_weights(train_set['churned'])  # balance the classes
    model = LogisticRegression(
        C=1.0 / learning_rate,
        max_iter=max_iter,
        class_weight=w,
    )
    model.fit(
        train_set.drop(columns=['churned']),
        train_set['churned'],
    )
    print(f"fitted {model}")
    logger.info('trained on %d rows', len(train_set))
    return model
'''


def test_fixture_step_unchanged_by_reformatting_and_changed_by_helper_edit(churn: Path) -> None:
    before = train_model_version(churn)
    # reformat by hand: quotes, line breaks, trailing commas, comments, docstring,
    # import order, a renamed local, a print -- everything pvcheck calls cosmetic
    write(churn / "steps" / "training.py", TRAINING_REFORMATTED)
    metrics = churn / "utils" / "metrics.py"
    counted = "    # how often each label occurs\n    counts = (labels.value_counts())"
    write(metrics, metrics.read_text().replace("    counts = labels.value_counts()", counted))
    assert train_model_version(churn) == before
    # a helper the step does not use is not part of it
    write(churn / "utils" / "io.py", (churn / "utils" / "io.py").read_text().replace("data/", "exports/"))
    assert train_model_version(churn) == before
    # a semantic edit of the helper it calls, in another module
    write(metrics, metrics.read_text().replace("len(labels) /", "2 * len(labels) /"))
    assert train_model_version(churn) != before


def _ruff() -> list[str]:
    try:
        import ruff  # noqa: F401  (the wheel ships the binary; find it through the module)
        from ruff.__main__ import find_ruff_bin

        return [os.fsdecode(find_ruff_bin())]
    except ImportError:
        found = shutil.which("ruff")
        if found is None:
            pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
        return [found]


def test_fixture_step_unchanged_by_ruff_format(churn: Path) -> None:
    steps = [("steps.training", "train_model"), ("steps.features", "build_features"),
             ("steps.features", "split_dataset"), ("steps.evaluation", "evaluate_model")]
    versions = {step: function_fingerprint(churn, *step) for step in steps}
    before = {p: p.read_text() for p in churn.rglob("*.py")}
    # a narrow line length and single quotes make ruff rewrite nearly every file
    subprocess.run([*_ruff(), "format", "--no-cache", "--line-length", "40", "--config",
                    "format.quote-style='single'", str(churn)], check=True, capture_output=True)
    assert len([p for p, text in before.items() if p.read_text() != text]) >= 5
    for step, version in versions.items():
        assert function_fingerprint(churn, *step) == version, step
    write(churn / "utils" / "constants.py", "RANDOM_STATE = 7\nPLAN_CODES = {'free': 0, 'pro': 1, 'enterprise': 2}\n")
    assert function_fingerprint(churn, "steps.features", "split_dataset") != versions[steps[2]]
    assert function_fingerprint(churn, "steps.features", "build_features") == versions[steps[1]]


def test_only_the_modules_the_function_reaches_are_read(churn: Path) -> None:
    tree = TreeFunctions(churn)
    tree.function("steps.training", "train_model")
    read = sorted(Path(p).relative_to(churn).as_posix() for p in tree.stamps)
    # and the packages they are in: importing steps.training runs steps/__init__.py first
    assert read == ["steps/__init__.py", "steps/training.py", "utils/__init__.py", "utils/metrics.py"]


# ---------------------------------------------------------------------- live functions
STEPS = '''
import functools
from typing import TYPE_CHECKING

from lib.helpers import scale, unused
from lib import wrappers

if TYPE_CHECKING:  # never imported at run time; importing it raises
    from lib.side_effects import VALUE


def local_decorator(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper


@wrappers.timed
def train(x: int, factor: int = 3) -> int:
    """Train."""
    y = scale(x)
    return y * factor


class Model:
    def fit(self, x):
        return scale(x)


def outer(k):
    def inner(z):
        return scale(z) + k
    return inner


def lazy():
    return VALUE * 2  # never called here
'''

HELPERS = '''
def scale(x):
    return x * 2


def unused(x):
    return x - 1
'''

WRAPPERS = '''
import functools


def timed(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper
'''


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, object]]:
    """A small project on disk, imported in *this* (the test's) process via sys.path."""
    root = tmp_path / "proj"
    write(root / "pyproject.toml", "[project]\nname = 'proj'\n")
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "steps.py", STEPS)
    write(root / "lib" / "__init__.py", "")
    write(root / "lib" / "helpers.py", HELPERS)
    write(root / "lib" / "wrappers.py", WRAPPERS)
    write(root / "lib" / "side_effects.py", "raise RuntimeError('imported!')\nVALUE = 1\n")
    sys.path.insert(0, str(root))
    for name in [m for m in sys.modules if m.split(".")[0] in ("app", "lib")]:
        del sys.modules[name]
    try:
        yield root, importlib.import_module("app.steps")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] in ("app", "lib")]:
            del sys.modules[name]
        clear_cache()


def test_cosmetic_edits_keep_the_code_version(project) -> None:
    root, steps = project
    before = code_version(steps.train)
    text = (root / "app" / "steps.py").read_text()
    write(root / "app" / "steps.py", text.replace(
        '    """Train."""\n    y = scale(x)\n    return y * factor',
        "    # scale first\n    scaled = scale( x )\n    print('scaled', scaled)\n    return (scaled *\n      factor)"))
    write(root / "lib" / "helpers.py", HELPERS.replace("return x * 2", "return x*2  # double"))
    assert code_version(steps.train) == before


def test_helper_edit_in_another_module_changes_it(project) -> None:
    root, steps = project
    before = {f: code_version(f) for f in (steps.train, steps.Model.fit, steps.outer(1))}
    write(root / "lib" / "helpers.py", HELPERS.replace("return x * 2", "return x * 3"))
    for function, version in before.items():
        assert code_version(function) != version  # no clear_cache(): the edit is noticed


def test_unused_helper_edit_keeps_it(project) -> None:
    root, steps = project
    before = code_version(steps.train)
    write(root / "lib" / "helpers.py", HELPERS.replace("return x - 1", "return x - 100"))
    assert code_version(steps.train) == before


@pytest.mark.parametrize("edit", [
    ("return y * factor", "return y + factor"),  # the body
    ("factor: int = 3", "factor: int = 4"),  # a default value
    ("x: int, factor", "x: float, factor"),  # an annotation
    (") -> int:\n    \"\"\"Train", ") -> float:\n    \"\"\"Train"),  # the return annotation
])
def test_semantic_edits_of_the_function_change_it(project, edit) -> None:
    root, steps = project
    before = code_version(steps.train)
    text = (root / "app" / "steps.py").read_text()
    assert edit[0] in text
    write(root / "app" / "steps.py", text.replace(edit[0], edit[1]))
    assert code_version(steps.train) != before


def test_a_repo_local_decorator_counts_and_the_name_does_not(project) -> None:
    root, steps = project
    before = code_version(steps.train)
    write(root / "lib" / "wrappers.py", WRAPPERS.replace("return f(*args, **kwargs)", "return f(*args)"))
    changed = code_version(steps.train)
    assert changed != before
    text = (root / "app" / "steps.py").read_text()
    write(root / "app" / "steps.py", text.replace("def train(", "def train_renamed(").replace(
        "class Model:", "train = train_renamed\n\n\nclass Model:"))
    # renaming is cosmetic (analyzed by name, as the renamed function is no live object yet)
    assert function_fingerprint(root, "app.steps", "train_renamed") == changed
    # the live object still says "train", which the file now only has as an alias:
    # an error, not a guess
    with pytest.raises(CodeVersionError, match="no function 'train'"):
        code_version(steps.train)


def test_methods_and_nested_functions_include_their_enclosing_definition(project) -> None:
    root, steps = project
    method, inner = code_version(steps.Model().fit), code_version(steps.outer(2))
    text = (root / "app" / "steps.py").read_text()
    write(root / "app" / "steps.py", text.replace("class Model:\n", "class Model:\n    rate = 0.5\n\n")
          .replace("    return inner\n", "    return inner if k else None\n"))
    assert code_version(steps.Model().fit) != method
    assert code_version(steps.outer(2)) != inner


def test_nothing_is_imported(project) -> None:
    _, steps = project
    version = describe(steps.lazy)
    assert "lib.side_effects" not in sys.modules  # importing it would have raised
    # the module-level raise is an effect of a module in the reach: it counts, read statically
    assert [h.name for h in version.helpers] == ["lib.side_effects.<effects>#000", "lib.side_effects.VALUE"]


def test_fingerprint_of_source_and_of_a_live_function(project) -> None:
    _, steps = project
    source = '''
    def double(x):
        """Twice x."""
        result = x * 2  # the answer
        return result
    '''
    same = "def twice(x):\n    out = (x*2)\n    print(out)\n    return out\n"  # parameters keep their names
    assert fingerprint(source) == fingerprint(same)
    assert fingerprint(source) != fingerprint(same.replace("*2", "*3"))
    assert fingerprint("import numpy as np\nA = np.zeros(3)\n") == fingerprint("import numpy\nA = numpy.zeros(3,)\n")
    assert fingerprint(steps.scale) == fingerprint(HELPERS.split("\n\n\n")[0])
    assert fingerprint(steps.scale).startswith("fp1:")


def test_errors_are_clear(project) -> None:
    _, steps = project
    with pytest.raises(CodeVersionError, match="no Python source file"):
        code_version(eval("lambda x: x"))  # made at run time: no file to read
    with pytest.raises(CodeVersionError, match="cannot find the Python function"):
        code_version(42)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="syntax"):
        fingerprint("def broken(:\n")


def test_code_version_by_name_matches_the_object(project) -> None:
    _, steps = project
    assert code_version_at("app.steps", "train") == code_version(steps.train)


def test_cache_is_reused_until_a_file_changes(project) -> None:
    root, steps = project
    first = describe(steps.train)
    assert describe(steps.train) is first
    write(root / "lib" / "helpers.py", HELPERS + "\n")  # a change of bytes, not of meaning
    again = describe(steps.train)
    assert again is not first and again.fingerprint == first.fingerprint


def test_installed_package_is_analyzed_alone(tmp_path: Path) -> None:
    """Code installed with ``pip install .`` lives in site-packages: only its own package
    is the project (the folder's other packages are third-party)."""
    site = tmp_path / "venv" / "lib" / "site-packages"
    write(site / "shopkit" / "__init__.py", "")
    write(site / "shopkit" / "steps.py", "from shopkit.util import half\n\n\ndef price(x):\n    return half(x)\n")
    write(site / "shopkit" / "util.py", "def half(x):\n    return x / 2\n")
    write(site / "otherlib" / "__init__.py", "def unrelated():\n    return 1\n")
    sys.path.insert(0, str(site))
    try:
        steps = importlib.import_module("shopkit.steps")
        version = describe(steps.price)
        assert version.path == "shopkit/steps.py"
        assert [h.name for h in version.helpers] == ["shopkit.util.half"]
        write(site / "shopkit" / "util.py", "def half(x):\n    return x // 2\n")
        assert code_version(steps.price) != version.fingerprint
    finally:
        sys.path.remove(str(site))
        for name in [m for m in sys.modules if m.split(".")[0] in ("shopkit", "otherlib")]:
            del sys.modules[name]
        clear_cache()


def test_a_function_without_a_readable_file_falls_back_to_the_interpreters_source() -> None:
    """A notebook cell or REPL function: the source the interpreter keeps (linecache),
    fingerprinted without helpers, with one warning -- never an error on every task run."""
    import linecache
    import warnings

    source = "def cell_step(x):\n    # a notebook cell\n    return x + 1\n"
    filename = str(Path("no-such-folder", "ipykernel_7", "cell_3.py").resolve())
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the test's own code, as a notebook runs it
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = code_version(namespace["cell_step"])
            second = code_version(namespace["cell_step"])
        assert first == second == fingerprint("def cell_step(x):\n    return x + 1\n")
        assert len(caught) == 1 and "hashes the source the interpreter has" in str(caught[0].message)
    finally:
        linecache.cache.pop(filename, None)


def test_the_readme_library_example_runs_with_what_the_readme_installs() -> None:
    """README, "Library API": code_version_at by name needs no framework installed."""
    import subprocess

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    shown = readme.split('code_version_at("steps.training", "train_model")', 1)[1].split("'")[1]
    script = ("import sys; sys.path.insert(0, 'fixtures/zenml_churn')\n"
              "from pvcheck.codeversion import code_version_at\n"
              "print(code_version_at('steps.training', 'train_model'))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == shown, done.stderr
