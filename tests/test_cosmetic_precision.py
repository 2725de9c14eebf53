"""Issue 13, "cosmetic means cosmetic": edits that leave the computation alone keep the
fingerprint, and their near-misses do not.

Each test compares the canonical fingerprint of a step-like function before and after
one edit (``pvcheck.analyzer.functions.source_fingerprint``, the fingerprint every scan
uses); the change cases under ``fixtures/changes/`` check the same through scan and diff.
"""

from __future__ import annotations

import pytest

from pvcheck.analyzer.functions import source_fingerprint
from pvcheck.config import DEFAULT_COSMETIC_CALLS, DEFAULT_PURE_CALLS, Config, load_config

BASE = '''
import logging
from prefect import get_run_logger, task
from zenml.logger import get_logger

log = get_logger(__name__)
logger = logging.getLogger(__name__)


def train(context, df, metrics, x, cols, helper):
    total = df.sum()
{edit}
    return total
'''


def _same(edit: str, base: str = BASE, **options: object) -> bool:
    body = "\n".join("    " + line for line in edit.splitlines())
    return source_fingerprint(base.format(edit=body), **options) == source_fingerprint(  # type: ignore[arg-type]
        base.format(edit=""), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("edit", [
    'logger.info("rows: %d", len(df))',
    "print(f\"auc={metrics['auc']:.3f}\")",
    'log.info("shape %s", df.shape[0])',
    "print(round(x, 3), abs(x), min(x, 1), max(x, 2), int(x), float(x), bool(x), str(x), repr(x))",
    'print("%s rows" % x)',
    'print("%s of %s" % (x, len(df)))',
    'print("{} and {}".format(x, cols))',
    'print(format(x, ".2f"), type(df).__name__, isinstance(x, int), id(df), hex(x))',
    "print(df[1:3], df[x], df.columns[::2], metrics[cols[0]])",
    'logger.info("payload", extra={"rows": len(df), "cols": cols})',
    'print({x, 1}, [x, 2], (x, -3))',
    'logger.debug(f"{x!r:>{len(cols)}}")',
    'logger.exception("failed", exc_info=True)',
    'context.log.info(f"run {context.run_id}")',        # Dagster
    'context.log.warning("%s", x)',
    'logging.getLogger("airflow.task").info(x)',         # Airflow's task logger
    'get_run_logger().info(x)',                          # Prefect, called directly
    'run_log = get_run_logger()\nrun_log.info("%d rows", len(df))',  # Prefect, bound in the task
    'task_log = logging.getLogger("airflow.task")\ntask_log.warning(x)',
    'logging.info("plain logging %s", x)',
])
def test_ordinary_logging_arguments_are_cosmetic(edit: str) -> None:
    assert _same(edit), edit


@pytest.mark.parametrize("edit", [
    'print(df.pop("x"))',                                  # mutates df
    "logger.info(df.drop(columns=cols, inplace=True))",   # mutates df
    'print(f"{helper()}")',                                # a call inside the f-string
    'print(f"{x:{helper()}}")',                            # ... or inside its format spec
    "print(len(df.pop()))",                                # a pure builtin of a side effect
    "print(*df)",                                          # unpacking iterates (a generator is consumed)
    "print(x % 3)",                                        # % on a non-literal is arithmetic / overloading
    "print(y := 3)",                                       # binds a name
    "print([v for v in df])",                              # a comprehension
    'print(cols.format(x))',                               # .format on data, not on a literal
    "print(df[helper()])",                                 # a call in the subscript
    "print(next(x))",                                      # next() advances an iterator: not listed
    'run_log = get_run_logger()\nrun_log.info("x")\nhelper(run_log)',  # the logger used for more
    'run_log = get_run_logger()\nrun_log.addHandler(x)',
    'run_log = df.sum()\nrun_log.info(1)',                 # not a logger at all
    'other.info(x)',                                       # an unknown receiver
])
def test_near_misses_stay_a_change(edit: str) -> None:
    assert not _same(edit), edit


def test_a_local_function_named_like_a_pure_builtin_is_not_pure() -> None:
    base = BASE.replace("def train(", "def len(obj):\n    return obj.pop()\n\n\ndef train(")
    assert not _same("print(len(df))", base)
    assert _same("print(abs(x))", base)


def test_the_pure_call_list_is_configurable() -> None:
    assert not _same("print(math.sqrt(x))")
    assert _same("print(math.sqrt(x))", BASE.replace("import logging", "import logging\nimport math"),
                 pure_calls=(*DEFAULT_PURE_CALLS, "math.sqrt"))
    assert not _same("print(len(df))", pure_calls=())


def test_the_cosmetic_call_list_is_configurable() -> None:
    base = BASE.replace("import logging", "import logging\nimport wandb")
    assert not _same('wandb.termlog("x")', base)
    assert _same('wandb.termlog("x")', base, cosmetic_calls=(*DEFAULT_COSMETIC_CALLS, "wandb.termlog"))


@pytest.mark.parametrize("imports, edit", [
    ("from loguru import logger as lg", 'lg.info("rows {}", len(df))'),
    ("from rich import print as rprint", 'rprint(f"[bold]{x}[/bold]")'),
    ("from tqdm import tqdm", 'tqdm.write(f"epoch {x}")'),
    ("from tqdm.auto import tqdm", 'tqdm.write("done")'),
    ("from flytekit import current_context", 'current_context().logging.info(f"{x}")'),
    ("from dagster import get_dagster_logger", 'dl = get_dagster_logger()\ndl.info(x)'),
])
def test_framework_and_library_loggers(imports: str, edit: str) -> None:
    base = BASE.replace("import logging", "import logging\n" + imports)
    assert _same(edit, base), edit


def test_pure_calls_is_a_configuration_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pvcheck.toml").write_text('pure_calls = ["len", "math.sqrt"]\n', encoding="utf-8")
    config = load_config(tmp_path / "pvcheck.toml")
    assert config.pure_calls == ("len", "math.sqrt")
    assert Config().cache_key() != config.cache_key()  # a cached scan with other pure calls is not reused


# ---------------------------------------------------------------------- syntax (item 2)
def _equal(a: str, b: str) -> bool:
    return source_fingerprint(a) == source_fingerprint(b)


@pytest.mark.parametrize("before, after", [
    ("def f(x):\n    y = x + 1\n    return y\n", "def f(x):\n    y: int = x + 1\n    return y\n"),
    ("def f(x):\n    y = x + 1\n    return y\n", "def f(x):\n    y: int\n    y = x + 1\n    return y\n"),
    ("def f(x):\n    x.a = 2\n    return x\n", "def f(x):\n    x.a: int = 2\n    return x\n"),
    ("def f(x):\n    def g():\n        return 1\n    return g()\n",
     "def f(x):\n    def g():\n        '''Nested docstring.'''\n        return 1\n    return g()\n"),
    ("def f(x):\n    class A:\n        def m(self):\n            return 1\n    return A\n",
     "def f(x):\n    class A:\n        '''Class doc.'''\n        def m(self):\n            'Method doc.'\n            return 1\n"
     "    return A\n"),
    ("from typing_extensions import Annotated\ndef f(x: Annotated[int, 'a']) -> Annotated[int, 'b']:\n    return x\n",
     "from typing import Annotated\ndef f(x: Annotated[int, 'a']) -> Annotated[int, 'b']:\n    return x\n"),
])
def test_syntax_that_does_not_change_what_runs(before: str, after: str) -> None:
    assert _equal(before, after)


@pytest.mark.parametrize("before, after", [
    ("def f(x):\n    y = x + 1\n    return y\n", "def f(x):\n    y: int = x + 2\n    return y\n"),
    ("def f(x):\n    return x\n", "def f(x):\n    f'{x.pop()}'\n    return x\n"),  # an f-string statement runs code
    ("@dataclass\nclass A:\n    x: int = 1\n", "@dataclass\nclass A:\n    x = 1\n"),  # class level: a field
    ("@dataclass\nclass A:\n    x: int\n", "@dataclass\nclass A:\n    x: int\n    y: int\n"),
    ("@dataclass\nclass A:\n    x: int\n", "@dataclass\nclass A:\n    x: float\n"),
    ("from typing_extensions import Literal\nMODE = Literal['a']\n",
     "from typing import Literal\nMODE = Literal['a']\n"),  # not one object on every Python
])
def test_syntax_near_misses(before: str, after: str) -> None:
    assert not _equal(before, after)


# ---------------------------------------------------------------------- helper annotations (item 3)
def test_helper_annotations_do_not_count() -> None:
    assert _equal("def f(x, y=2, *a, k, **kw):\n    return x\n",
                  "def f(x: int, y: 'Foo' = 2, *a: int, k: list[int] | None, **kw: dict) -> pd.DataFrame:\n"
                  "    return x\n")


@pytest.mark.parametrize("before, after", [
    ("def f(x, y=2):\n    return x\n", "def f(x: int, y: int = 3):\n    return x\n"),  # a default changed too
    ("@cache\ndef f(x):\n    return x\n", "@cache\ndef f(x: int):\n    return x\n"),  # a decorator may read them
    ("def f(x):\n    return x\n", "def f(x: make()):\n    return x\n"),  # evaluated at def time: a call
    ("def f(x):\n    return x\n", "def f(y: int):\n    return y\n"),  # a parameter renamed
])
def test_helper_annotation_near_misses(before: str, after: str) -> None:
    assert not _equal(before, after)


# ---------------------------------------------------------------------- configuration by value (item 4)
@pytest.mark.parametrize("one, other", [
    ("f'train'", '"train"'), ('f"train"', "'train'"), ("1_000", "1000"), ("F'a{{b}}'", "'a{b}'"),
    ("rf'a\\d'", "r'a\\d'"), ("-1_0.5", "-10.5"),
])
def test_literals_compare_by_value(one: str, other: str) -> None:
    import libcst as cst

    from pvcheck.analyzer.values import literal_value
    assert literal_value(cst.parse_expression(one)) == literal_value(cst.parse_expression(other))


@pytest.mark.parametrize("one, other", [("f'train'", "f'trains'"), ("f'{x}'", "'{x}'"), ("1_000", "100")])
def test_literal_near_misses(one: str, other: str) -> None:
    import libcst as cst

    from pvcheck.analyzer.values import literal_value
    assert literal_value(cst.parse_expression(one)) != literal_value(cst.parse_expression(other))


# ---------------------------------------------------------------------- collisions (item 5)
def test_a_decision_pipeline_is_never_unchanged() -> None:
    from pathlib import Path

    from pvcheck.analyzer import scan_tree
    from pvcheck.model import Decision, Status
    from pvcheck.policies import compare

    case = Path(__file__).resolve().parent.parent / "fixtures" / "changes" / "name_collision"
    report = compare(scan_tree(case / "before"), scan_tree(case / "after"))
    pipelines = [c for c in report.pipelines if c.decision is Decision.PIPELINE]
    assert pipelines and all(c.status is not Status.UNCHANGED for c in pipelines)


def test_a_collision_in_both_revisions_still_fails_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    case = Path(__file__).resolve().parent.parent / "fixtures" / "changes" / "name_collision_in_base"
    shutil.copytree(case, tmp_path / "case")
    result = subprocess.run([sys.executable, "-m", "pvcheck", "check", "--base", "../before"],
                            cwd=tmp_path / "case" / "after", capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "name collision" in result.stdout + result.stderr


# ---------------------------------------------------------------------- names (item 6)
_DAGSTER = '''\
import os

from dagster import Definitions, asset, define_asset_job


@asset
def orders() -> list:
    return [1, 2]


@asset
def revenue(orders: list) -> int:
    return sum(orders)


nightly = define_asset_job(os.environ.get("JOB", "nightly"), selection=[orders])
defs = Definitions(assets=[orders])
more = Definitions(assets=[orders, revenue])
'''


def _names(tmp_path, name: str, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    from pvcheck.analyzer import scan_tree

    root = tmp_path / name
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (root / "shop" / "jobs.py").write_text(text, encoding="utf-8")
    return sorted(p.name for p in scan_tree(root).pipelines)


def test_dagster_names_never_come_from_line_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("libcst")
    names = _names(tmp_path, "a", _DAGSTER)
    assert "shop.jobs:asset_job_1" in names and "shop.jobs:definitions_2" in names, names
    assert _names(tmp_path, "b", "\n\n# moved down by a comment\n\n" + _DAGSTER) == names


def test_names_from_constants_class_attributes_and_fstrings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pvcheck.analyzer import scan_tree

    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "utils" / "names.py").write_text(
        'PREFIX = "churn"\nFLOW_NAME = "nightly-readings"\n\n\nclass Names:\n    TRAINING = f"{PREFIX}_training"\n',
        encoding="utf-8")
    (tmp_path / "flows.py").write_text('''\
import os

from prefect import flow, task
from zenml import pipeline, step

from utils.names import FLOW_NAME, PREFIX, Names


@task
def one() -> int:
    return 1


@step
def two() -> int:
    return 2


@flow(name=FLOW_NAME)
def readings():
    one()


@pipeline(name=f"{PREFIX}_train")
def train():
    two()


@pipeline(name=Names.TRAINING)
def train2():
    two()


@pipeline(name=os.environ["NAME"])
def train3():
    two()
''', encoding="utf-8")
    names = sorted(p.name for p in scan_tree(tmp_path).pipelines)
    # a name only known at run time falls back to the function name, as before
    assert names == ["churn_train", "churn_training", "nightly-readings", "train3"]


# ---------------------------------------------------------------------- loops (item 7)
_SWEEP_STEPS = '''\
from zenml import step


@step
def train(rate: float, name: str = "m") -> float:
    return rate * 2


@step
def report(score: float) -> None:
    print(score)
'''


def _sweep(tmp_path, body: str):  # type: ignore[no-untyped-def]
    from pvcheck.analyzer import scan_tree

    (tmp_path / "steps.py").write_text(_SWEEP_STEPS, encoding="utf-8")
    (tmp_path / "pipe.py").write_text(
        "import itertools\n\nfrom zenml import pipeline\n\nfrom steps import report, train\n\n"
        "RATES = [0.1, 0.01]\nMODELS = {'small': 0.1, 'large': 0.2}\n\n\n@pipeline(name='sweep')\ndef sweep():\n"
        + body, encoding="utf-8")
    project = scan_tree(tmp_path)
    return project.pipelines[0], project.diagnostics


@pytest.mark.parametrize("body, ids", [
    ("    for i, lr in enumerate(RATES, start=1):\n        report(train(lr, id=f'train_{i}'), id=f'report_{i}')\n",
     ["train_1", "report_1", "train_2", "report_2"]),
    ("    for name, lr in MODELS.items():\n        train(lr, name=name, id=f'train_{name}')\n",
     ["train_small", "train_large"]),
    ("    for name in MODELS.keys():\n        train(0.1, name=name, id=f'fit_{name}')\n", ["fit_small", "fit_large"]),
    ("    for a, b in zip([1, 2], ['x', 'y']):\n        train(a, name=b, id=f'train_{b}')\n", ["train_x", "train_y"]),
    ("    for a, b in itertools.product([1, 2], ['p', 'q']):\n        train(a, name=b, id=f't_{a}{b}')\n",
     ["t_1p", "t_1q", "t_2p", "t_2q"]),
])
def test_loops_are_unrolled_with_their_ids(tmp_path, body: str, ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    pipeline, diagnostics = _sweep(tmp_path, body)
    assert [s.id for s in pipeline.steps] == ids
    assert not pipeline.dynamic and not [d for d in diagnostics if d.code == "PV010"]


@pytest.mark.parametrize("body", [
    "    for i, lr in enumerate(load_rates()):\n        train(lr)\n",  # a run-time value
    "    for a, b in zip(RATES, sizes()):\n        train(a)\n",
    "    for k, v in MODELS.get_items():\n        train(v)\n",
])
def test_loops_over_run_time_values_stay_conservative(tmp_path, body: str) -> None:  # type: ignore[no-untyped-def]
    pipeline, diagnostics = _sweep(tmp_path, body)
    assert pipeline.dynamic and [d for d in diagnostics if d.code == "PV010"]


# ---------------------------------------------------------------------- configuration vs conditions (item 10)
def _reach(tmp_path, body: str, changed: set[str]):  # type: ignore[no-untyped-def]
    from pvcheck.model import Pipeline
    from pvcheck.policies.conditions import reaching
    from pvcheck.policies.sources import SourceTree

    (tmp_path / "pipe.py").write_text(
        "from zenml import pipeline\n\nfrom steps import load, train, tune\n\n\n@pipeline\n"
        "def cond(use_tuning: bool = False, rate: float = 0.1, mode: str = 'a'):\n" + body, encoding="utf-8")
    pipeline = Pipeline(name="cond", framework="zenml", path="pipe.py", line=6, module="pipe", function="pipe.cond")
    return reaching(pipeline, SourceTree(tmp_path), changed, ["steps.load", "steps.train", "steps.tune"])


@pytest.mark.parametrize("body, changed", [
    ("    rows = load()\n    if use_tuning:\n        tune(rows)\n", {"use_tuning"}),
    ("    flag = use_tuning and True\n    rows = load()\n    if flag:\n        tune(rows)\n", {"use_tuning"}),
    ("    for name in mode.split(','):\n        train(load(), rate=rate)\n", {"mode"}),
    ("    rows = load()\n    add_steps(rows, mode)\n", {"mode"}),  # a helper may branch on it
])
def test_a_changed_parameter_that_decides_the_graph(tmp_path, body: str, changed: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert _reach(tmp_path, body, changed)


@pytest.mark.parametrize("body, changed", [
    ("    rows = load()\n    if use_tuning:\n        tune(rows)\n    train(rows, rate=rate)\n", {"rate"}),
    ("    rows = load()\n    train.with_options(enable_cache=False)(rows, rate=rate)\n", {"rate"}),
    ("    rows = load()\n    print(f'rate={rate}', len(rows))\n    train(rows, rate=rate)\n", {"rate"}),
])
def test_a_changed_parameter_that_is_only_passed_to_steps(tmp_path, body: str, changed: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert _reach(tmp_path, body, changed) == []


def test_without_the_source_the_answer_is_unknown() -> None:
    from pvcheck.model import Pipeline
    from pvcheck.policies.conditions import reaching

    pipeline = Pipeline(name="cond", framework="zenml", path="pipe.py", line=6, module="pipe", function="pipe.cond")
    assert reaching(pipeline, None, {"rate"}, []) is None


def test_a_definition_is_found_by_its_first_line_or_a_decorator_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``SourceTree.definition`` (what the cosmetic policy explains a helper from): by the
    ``def`` line or any line of its decorators, the outer definition where two start on one
    line, nothing on a line inside a body; every look-up of a module answered from one walk."""
    from pvcheck.policies.sources import SourceTree

    (tmp_path / "helpers.py").write_text(
        "import functools\n"                       # 1
        "\n"                                       # 2
        "@functools.lru_cache(\n"                  # 3
        "    maxsize=8)\n"                         # 4
        "def cached(x):\n"                         # 5
        "    y = x + 1\n"                          # 6
        "    return y\n"                           # 7
        "\n"                                       # 8
        "class Box: size = 3; \\\n"               # 9
        "    depth = 4\n"                          # 10
        "LIMIT: int = 10\n", encoding="utf-8")     # 11
    tree = SourceTree(tmp_path)
    found = {line: tree.definition("helpers.py", line) for line in range(0, 13)}
    assert {line for line, d in found.items() if d is not None} == {3, 4, 5, 6, 9, 10, 11}
    assert found[3] == found[4] == found[5] and found[5].first_line == 5 and found[5].lines[0] == "def cached(x):"
    assert found[6].lines == ("    y = x + 1",)  # the assignment in the body starts there
    assert found[9].lines == ("class Box: size = 3; \\", "    depth = 4")  # the class, not its attribute
    assert found[11].lines == ("LIMIT: int = 10",)
