"""Classes a step reaches through its parameters' types, and objects a pipeline body
builds for a step (issue 12: nothing a step runs may be missed).

The change cases ``fixtures/changes/annot_*`` show the decisions; these tests pin which
annotation forms put a repo-local class in the step's reach (and which do not), that
the same holds for every framework going through the shared step facts, that a value
built in a pipeline body is the step's call-site configuration (impact marks the step),
and that ``code_version`` and ``pvcheck diff`` agree.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.functions import function_fingerprint
from pvcheck.model import Decision, Project, Step
from pvcheck.policies import compare
from pvcheck.policies.impact import impact

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "changes"

MODEL = '''\
from pydantic import AfterValidator


class Model:
    def value(self) -> int:
        return 1


def check(x: int) -> int:
    return x
'''

STEP = '''\
from typing import Annotated, Literal, Optional, TYPE_CHECKING

from zenml import step

from utils import model as model_module
from utils.model import Model, check

if TYPE_CHECKING:
    from utils.model import Model as Later


@step
def produce(x: {annotation}) -> int:
    return 1
'''

PIPELINE = '''\
from zenml import pipeline

from steps.work import produce


@pipeline
def reach_pipeline():
    produce()
'''


def _project(root: Path, annotation: str) -> Path:
    tree = {"pipelines/flow.py": PIPELINE, "steps/__init__.py": "", "utils/__init__.py": "",
            "steps/work.py": STEP.replace("{annotation}", annotation), "utils/model.py": MODEL}
    for path, text in tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


def _step(project: Project, name: str = "produce") -> Step:
    [pipeline] = project.pipelines
    return pipeline.step(name)


@pytest.mark.parametrize("annotation, reached", [
    ("Model", {"utils.model.Model"}),
    ("Optional[Model]", {"utils.model.Model"}),
    ("list[Model]", {"utils.model.Model"}),
    ("dict[str, list[Model]]", {"utils.model.Model"}),
    ('Annotated[Model, "cfg"]', {"utils.model.Model"}),
    ("Model | None", {"utils.model.Model"}),
    ('"Model"', {"utils.model.Model"}),
    ('"Optional[Model]"', {"utils.model.Model"}),
    ('"Later"', {"utils.model.Model"}),  # imported under TYPE_CHECKING only
    ("model_module.Model", {"utils.model.Model"}),
    ("Annotated[int, AfterValidator(check)]", {"utils.model.check"}),  # a validator runs on the value
    # near misses: strings that are values, not types; third-party and builtin types
    ('Literal["Model"]', set()),
    ('Annotated[int, "Model"]', set()),
    ("int", set()),
    ('"not a type at all"', set()),
])
def test_which_annotations_put_a_class_in_the_reach(tmp_path: Path, annotation: str, reached: set[str]) -> None:
    step = _step(scan_tree(_project(tmp_path, annotation)))
    assert {h.name for h in step.helpers if h.name.startswith("utils.")} == reached


@pytest.mark.parametrize("annotation", ["Model", '"Optional[Model]"', "list[Model] | None"])
def test_a_method_of_the_annotated_class_changed_is_a_version(tmp_path: Path, annotation: str) -> None:
    before = scan_tree(_project(tmp_path / "before", annotation))
    after_root = _project(tmp_path / "after", annotation)
    path = after_root / "utils/model.py"
    path.write_text(path.read_text(encoding="utf-8").replace("return 1", "return 2"), encoding="utf-8")
    report = compare(before, scan_tree(after_root))
    [change] = report.pipelines
    assert change.decision is Decision.VERSION
    assert any(f.rule == "PV402" and f.step == "produce" for f in change.findings)


def test_the_return_annotation_counts_too(tmp_path: Path) -> None:
    root = _project(tmp_path, "int")
    work = root / "steps/work.py"
    work.write_text(work.read_text(encoding="utf-8").replace(") -> int:", ") -> Model:"), encoding="utf-8")
    assert "utils.model.Model" in {h.name for h in _step(scan_tree(root)).helpers}


PREFECT = '''\
from prefect import flow, task

from utils.client import Client


@task
def fetch(client: Client) -> list[int]:
    return client.rows()


@flow
def nightly():
    fetch(Client(host="a"))
'''

CLIENT = '''\
class Client:
    def __init__(self, host: str) -> None:
        self.host = host

    def rows(self) -> list[int]:
        return [1, 2]
'''


def _prefect(root: Path, flow: str = PREFECT, client: str = CLIENT) -> Project:
    for path, text in {"flows/nightly.py": flow, "utils/__init__.py": "", "utils/client.py": client}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text), encoding="utf-8")
    return scan_tree(root)


def test_prefect_a_plain_class_called_through_the_parameter(tmp_path: Path) -> None:
    """The shared step facts: the same for a Prefect task as for a ZenML step."""
    base = _prefect(tmp_path / "a")
    edited = _prefect(tmp_path / "b", client=CLIENT.replace("[1, 2]", "[1, 3]"))
    [change] = compare(base, edited).pipelines
    assert change.decision is Decision.VERSION
    assert any(f.rule == "PV402" and f.step == "fetch" for f in change.findings)
    # the literal the flow builds it from is the task's call-site value, not flow code
    moved = _prefect(tmp_path / "c", flow=PREFECT.replace('host="a"', 'host="b"'))
    [change] = compare(base, moved).pipelines
    assert {f.rule for f in change.findings} == {"PV204"}
    assert [f.step for f in change.findings] == ["fetch"]
    assert change.decision is Decision.RUN


def test_a_value_built_in_the_pipeline_body_is_the_steps_configuration() -> None:
    folder = CASES / "annot_zenml_constructed_value"
    report = compare(scan_tree(folder / "before"), scan_tree(folder / "after"))
    [change] = report.pipelines
    [finding] = change.findings
    assert (finding.rule, finding.step) == ("PV204", "trainer")
    assert "cfg.lr: 0.1 -> 0.2" in finding.message
    predicted = impact(change)
    assert predicted is not None
    assert [name for name, _ in predicted.changed] == ["trainer"]
    step = scan_tree(folder / "before").pipelines[0].step("trainer")
    assert step.inputs["cfg"] == {"$call": "steps.config.TrainCfg", "lr": 0.1}
    assert not any(d.code == "PV023" for d in scan_tree(folder / "before").diagnostics)


def test_a_class_built_from_a_pipeline_parameter_stays_pipeline_code(tmp_path: Path) -> None:
    """Near miss: an argument that is not a literal is not modelled; the construction is
    the pipeline's own code (reported PV023), as before."""
    source = CASES / "annot_zenml_constructed_value" / "before"
    root = tmp_path / "p"
    shutil.copytree(source, root)
    flow = root / "pipelines/training.py"
    flow.write_text(flow.read_text(encoding="utf-8").replace("def training():", "def training(lr: float = 0.1):")
                    .replace("TrainCfg(lr=0.1)", "TrainCfg(lr=lr)"), encoding="utf-8")
    project = scan_tree(root)
    assert "$call" not in str(project.pipelines[0].step("trainer").inputs.get("cfg"))
    assert any(d.code == "PV023" for d in project.diagnostics)


def test_dagster_resource_arguments_are_configuration_of_the_steps_using_them() -> None:
    folder = CASES / "annot_dagster_resource_args"
    project = scan_tree(folder / "before")
    [pipeline] = project.pipelines
    totals, flagged = pipeline.step("totals"), pipeline.step("flagged")
    assert totals.config["resources"] == {"warehouse": {"$call": "shop.resources.Warehouse", "scale": 2.0}}
    assert "resources" not in flagged.config  # it does not ask for the resource
    [change] = compare(project, scan_tree(folder / "after")).pipelines
    [finding] = change.findings
    assert (finding.rule, finding.step, finding.path) == ("PV202", "totals", "shop/definitions.py")


def test_code_version_and_diff_agree_on_a_config_class_default() -> None:
    folder = CASES / "annot_dagster_config_default"
    versions = [function_fingerprint(folder / side, "shop.assets", "flagged") for side in ("before", "after")]
    assert versions[0] != versions[1]
    [change] = compare(scan_tree(folder / "before"), scan_tree(folder / "after")).pipelines
    assert change.decision is Decision.VERSION
    assert {f.step for f in change.findings if f.rule == "PV402"} == {"flagged"}
    untouched = [function_fingerprint(folder / side, "shop.assets", "totals") for side in ("before", "after")]
    assert untouched[0] == untouched[1]


@pytest.mark.parametrize("case, path, old, new", [
    ("annot_dagster_context_resource", "shop/resources.py", "2.0 * self.scale", "9.0 * self.scale"),
    ("annot_dagster_context_resource", "shop/definitions.py", "scale=2.0", "scale=5.0"),
    ("annot_dagster_resource_method", "shop/resources.py", "threshold: float = 100.0", "threshold: float = 1.0"),
])
def test_the_cache_notices_edits_reached_through_types_and_bindings(tmp_path: Path, case: str, path: str, old: str,
                                                                     new: str) -> None:
    """The warm scan (one unit per module) equals a fresh one after an edit in a module
    the step reaches only through its annotation or its location's resources."""
    from pvcheck.analyzer.cache import AnalysisCache
    from pvcheck.config import Config

    root = shutil.copytree(CASES / case / "before", tmp_path / "project")
    cache = tmp_path / "cache"
    cold = scan_tree(root, cache=AnalysisCache(cache, Config()))
    edited = root / path
    edited.write_text(edited.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    cached = scan_tree(root, cache=AnalysisCache(cache, Config()))
    assert cached.pipelines == scan_tree(root).pipelines
    assert cached.pipelines[0].steps != cold.pipelines[0].steps


# ---------------------------------------------------------------------- property
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TYPES = '''\
class Base:
    scale = {scale}

    def factor(self) -> int:
        return {factor}


class Model(Base):
    """Hyper-parameters."""

    threshold: float = {threshold}

    def value(self) -> int:
        return self.factor() * {value}
'''


@st.composite
def _annotation(draw: st.DrawFn) -> str:
    """``Model`` under a random stack of wrappers a type checker reads through."""
    text = "Model"
    for _ in range(draw(st.integers(0, 3))):
        wrap = draw(st.sampled_from(["Optional[{}]", "list[{}]", "dict[str, {}]", "Annotated[{}, 'out']",
                                     "{} | None", "tuple[int, {}]"]))
        text = wrap.format(text)
    return f'"{text}"' if draw(st.booleans()) else text


_VALUES = {"scale": 2, "factor": 3, "threshold": 1.5, "value": 7}


def _types(edit: str) -> str:
    values = dict(_VALUES)
    text = _TYPES
    if edit == "docstring":
        text = text.replace('"""Hyper-parameters."""', '"""Hyper-parameters of the model, documented."""')
    elif edit == "comment":
        text = text.replace("    def value", "    # the value the step scales\n    def value")
    elif edit in values:
        values[edit] = values[edit] + 1  # a method's literal, a default, a class attribute of a base
    return "from typing import Annotated, Optional\n\n\n" + text.format(**values)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_annotation(), st.sampled_from(["scale", "factor", "threshold", "value", "docstring", "comment"]))
def test_an_edit_of_a_class_a_step_is_handed_is_never_run(tmp_path_factory: pytest.TempPathFactory, annotation: str,
                                                          edit: str) -> None:
    """Whatever the annotation form, a semantic edit of the class (or of its repo-local
    base) is a version; a docstring or comment stays run."""
    root = tmp_path_factory.mktemp("property")
    sides = []
    for side, source in (("before", _types("")), ("after", _types(edit))):
        folder = _project(root / side, annotation)
        (folder / "utils/model.py").write_text(source, encoding="utf-8")
        work = folder / "steps/work.py"
        work.write_text(work.read_text(encoding="utf-8").replace("from utils.model import Model, check",
                                                                  "from utils.model import Model"), encoding="utf-8")
        sides.append(scan_tree(folder))
    [change] = compare(sides[0], sides[1]).pipelines
    expected = Decision.RUN if edit in ("docstring", "comment") else Decision.VERSION
    assert change.decision is expected, (annotation, edit, change.findings)


@pytest.mark.parametrize("before, after, rule, decision", [
    # a resource pvcheck reads whole: its arguments are the using step's configuration
    ("Warehouse(scale=2.0)", "Warehouse(scale=3.0)", "PV202", Decision.RUN),
    # near-miss: a resource built with a repo-local function's result is the pipeline's own code
    ("Warehouse(scale=base_scale(2.0))", "Warehouse(scale=base_scale(3.0))", "PV407", Decision.VERSION),
])
def test_resources_argument_is_configuration_only_when_read_whole(tmp_path: Path, before: str, after: str,
                                                                   rule: str, decision: Decision) -> None:
    sides = []
    for name, expression in (("before", before), ("after", after)):
        root = shutil.copytree(CASES / "annot_dagster_resource_args" / "before", tmp_path / name)
        definitions = root / "shop" / "definitions.py"
        text = definitions.read_text(encoding="utf-8").replace("Warehouse(scale=2.0)", expression)
        definitions.write_text(text.replace("from shop.resources import Warehouse",
                                            "from shop.resources import Warehouse, base_scale"), encoding="utf-8")
        (root / "shop" / "resources.py").write_text((root / "shop" / "resources.py").read_text(encoding="utf-8")
                                                   + "\n\ndef base_scale(x: float) -> float:\n    return x\n",
                                                   encoding="utf-8")
        sides.append(scan_tree(root))
    [change] = compare(*sides).pipelines
    assert change.decision is decision
    assert rule in {f.rule for f in change.findings}
