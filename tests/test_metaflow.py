"""Metaflow: flows, inherited steps, self.next transitions, parameters, decorators, resume."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import Decision
from pvcheck.output.report import render_report
from pvcheck.policies import compare
from pvcheck.resume import resume_from
from tests.conftest import FIXTURES, only_pipeline, write_tree

FIXTURE = FIXTURES / "metaflow_demand"


def edges(pipeline):
    return sorted((e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)


def codes(project, code):
    return [d.message for d in project.diagnostics if d.code == code]


# ---------------------------------------------------------------------- the fixture project
def test_fixture_flows_and_the_base_flow():
    project = scan_tree(FIXTURE)
    assert [(p.name, p.framework, p.path, p.function) for p in project.pipelines] == [
        ("DemandForecastFlow", "metaflow", "flows/forecast_flow.py", "flows.forecast_flow.DemandForecastFlow"),
        ("SalesMonitorFlow", "metaflow", "flows/monitor_flow.py", "flows.monitor_flow.SalesMonitorFlow"),
        ("TuningFlow", "metaflow", "flows/tuning_flow.py", "flows.tuning_flow.TuningFlow"),
    ]
    # the base flow goes to a step only its subclasses define: said, and not a pipeline
    assert [(d.code, d.path, d.line) for d in project.diagnostics] == [("PV030", "flows/base.py", 9)]
    assert "split_stores" in project.diagnostics[0].message
    assert not any(p.dynamic for p in project.pipelines)


def test_forecast_flow_graph_with_inherited_steps_foreach_and_join():
    flow = only_pipeline(scan_tree(FIXTURE), "DemandForecastFlow")
    assert [(s.id, s.path, s.function) for s in flow.steps] == [
        ("start", "flows/base.py", "flows.forecast_flow.DemandForecastFlow.start"),  # inherited
        ("split_stores", "flows/forecast_flow.py", "flows.forecast_flow.DemandForecastFlow.split_stores"),
        ("fit_region", "flows/forecast_flow.py", "flows.forecast_flow.DemandForecastFlow.fit_region"),
        ("pick_best", "flows/forecast_flow.py", "flows.forecast_flow.DemandForecastFlow.pick_best"),
        ("end", "flows/base.py", "flows.forecast_flow.DemandForecastFlow.end"),
    ]
    assert edges(flow) == [
        ("fit_region", "pick_best", "data", None, "inputs"),  # the join's inputs
        ("pick_best", "end", "data", None, None),
        ("split_stores", "fit_region", "data", "foreach:regions", None),
        ("start", "split_stores", "data", None, None),
    ]
    outputs = {s.id: [o.name for o in s.outputs] for s in flow.steps}
    assert outputs["fit_region"] == ["model", "score"]  # artifacts assigned on self
    assert outputs["end"] == []


def test_monitor_flow_split_join_and_switch():
    flow = only_pipeline(scan_tree(FIXTURE), "SalesMonitorFlow")
    assert [s.id for s in flow.steps] == ["start", "check_nulls", "check_drift", "combine", "send_alert", "end"]
    assert edges(flow) == [
        ("check_drift", "combine", "data", None, "inputs"),
        ("check_nulls", "combine", "data", None, "inputs"),
        ("combine", "end", "data", "case:ok", None),
        ("combine", "send_alert", "data", "case:alert", None),
        ("send_alert", "end", "data", None, None),
        ("start", "check_drift", "data", None, None),
        ("start", "check_nulls", "data", None, None),
    ]


def test_tuning_flow_num_parallel_and_explicit_start_end():
    flow = only_pipeline(scan_tree(FIXTURE), "TuningFlow")
    assert [s.id for s in flow.steps] == ["begin", "search", "collect", "finish"]
    assert edges(flow) == [
        ("begin", "search", "data", "num_parallel", None),
        ("collect", "finish", "data", None, None),
        ("search", "collect", "data", None, "inputs"),
    ]


def test_parameters_and_decorators_are_configuration():
    project = scan_tree(FIXTURE)
    forecast = only_pipeline(project, "DemandForecastFlow")
    assert [(p.name, p.default) for p in forecast.parameters] == [
        ("horizon", 14), ("min_history", 56), ("sales_path", "data/sales.csv"), ("settings", "settings.json")]
    assert forecast.config["flow_parameters"]["min_history"] == {
        "class": "Parameter", "$args": ["min-history"], "type": {"$ref": "int"},
        "help": "days of history a store needs"}
    assert forecast.config["flow_parameters"]["settings"]["class"] == "Config"
    fit = forecast.step("fit_region")
    assert fit is not None and dict(fit.config) == {
        "retry": {"times": 2}, "resources": {"cpu": 4, "memory": 16000},
        "conda": {"packages": {"scikit-learn": "1.5.2"}, "python": "3.11"}}
    # @kubernetes takes its values from the Config file (settings.json): the file's values
    assert dict(forecast.step("pick_best").config) == {
        "card": {}, "kubernetes": {"image": "python:3.11-slim", "cpu": 2}}
    assert forecast.config["config_values"]["settings"]["holdout_days"] == 28
    assert forecast.config_lines["config_values.settings.holdout_days"] == ("settings.json", 2)
    monitor = only_pipeline(project, "SalesMonitorFlow")
    assert monitor.config["project"] == {"name": "demand"} and monitor.config["schedule"] == {"daily": True}


def test_helpers_through_self_and_utils():
    forecast = only_pipeline(scan_tree(FIXTURE), "DemandForecastFlow")
    start = forecast.step("start")
    # start calls self.clean (a method of the base flow), which calls a utils helper
    assert [h.name for h in start.helpers] == [
        "utils.constants.SALES_COLUMNS", "utils.io.load_sales", "utils.quality.drop_short_series"]


# ---------------------------------------------------------------------- Metaflow's own graph
def test_graph_matches_metaflow_flowgraph(monkeypatch):
    pytest.importorskip("metaflow")
    from metaflow.graph import FlowGraph

    monkeypatch.syspath_prepend(str(FIXTURE))
    for name in [n for n in sys.modules if n == "flows" or n.startswith(("flows.", "utils."))] + ["utils"]:
        monkeypatch.delitem(sys.modules, name, raising=False)
    from flows.forecast_flow import DemandForecastFlow  # the test imports its own fixture; pvcheck never does
    from flows.monitor_flow import SalesMonitorFlow
    from flows.tuning_flow import TuningFlow

    project = scan_tree(FIXTURE)
    for flow_class in (DemandForecastFlow, SalesMonitorFlow, TuningFlow):
        graph = FlowGraph(flow_class)
        ours = only_pipeline(project, flow_class.__name__)
        assert {s.id for s in ours.steps} == set(graph.nodes)
        assert {(e.source, e.target) for e in ours.edges} == {
            (node.name, target) for node in graph for target in node.out_funcs}
        assert ours.steps[0].id == graph.start_step
        assert ours.steps[-1].id == graph.end_step
        for node in graph:
            out = [e for e in ours.edges if e.source == node.name]
            if node.type == "foreach" and not node.parallel_foreach:
                assert [e.output for e in out] == [f"foreach:{node.foreach_param}"]
            if node.parallel_foreach:
                assert [e.output for e in out] == ["num_parallel"]
            if node.type == "split-switch":
                assert {(e.output, e.target) for e in out} == {
                    (f"case:{key}", target) for key, target in node.switch_cases.items()}
            inputs = {e.input for e in ours.edges if e.target == node.name}
            assert (inputs == {"inputs"}) == (node.num_args > 1), node.name  # Metaflow: a join takes inputs


# ---------------------------------------------------------------------- recognition
FLOW = """
    import metaflow as mf
    from metaflow import step as s

    class Tiny(mf.FlowSpec):
        @s
        def start(self):
            self.x = 1
            self.next(self.end)

        @s
        def end(self):
            pass
"""


def test_aliases_are_recognised(tree):
    flow = only_pipeline(tree({"flow.py": FLOW}))
    assert [s.id for s in flow.steps] == ["start", "end"]


def test_a_flowspec_or_step_of_another_package_is_not_metaflow(tree):
    project = tree({
        "flow.py": """
            import metaflow
            from mylib import FlowSpec, step

            class NotAFlow(FlowSpec):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
        """,
        "other.py": """
            from metaflow import FlowSpec

            def step(f):
                return f

            class LocalSteps(FlowSpec):
                @step
                def start(self):
                    self.next(self.end)
        """,
    })
    assert project.pipelines == ()


def test_inherited_steps_follow_the_mro_and_overrides(tree):
    project = tree({
        "base.py": """
            from metaflow import FlowSpec, step

            class Base(FlowSpec):
                @step
                def start(self):
                    self.next(self.train)

                @step
                def train(self):
                    self.model = self.fit()
                    self.next(self.end)

                def fit(self):
                    return 1

                @step
                def end(self):
                    pass
        """,
        "flows.py": """
            from base import Base
            from metaflow import step

            class Mixin:
                def fit(self):
                    return 2

            class Override(Base):
                @step
                def train(self):
                    self.model = 3
                    self.next(self.end)

            class WithMixin(Mixin, Base):
                pass
        """,
    })
    assert [p.name for p in project.pipelines] == ["Base", "Override", "WithMixin"]
    base, override, mixin = project.pipelines
    assert override.step("train").path == "flows.py" and override.step("start").path == "base.py"
    # the same inherited step, resolving self.fit to another method: never the same facts
    assert base.step("train").body_fingerprint != mixin.step("train").body_fingerprint
    assert base.step("train").function == "base.Base.train"
    assert mixin.step("train").function == "flows.WithMixin.train"


def test_a_step_that_does_not_end_with_self_next_is_conservative(tree):
    project = tree({"flow.py": """
        from metaflow import FlowSpec, step

        class Broken(FlowSpec):
            @step
            def start(self):
                if self.quick:
                    self.next(self.end)
                else:
                    self.next(self.end)

            @step
            def end(self):
                pass
    """})
    flow = only_pipeline(project)
    assert flow.dynamic and flow.edges == ()
    assert any("does not end with self.next" in m for m in codes(project, "PV010"))


def test_foreign_bases_and_flow_mutators_are_said(tree):
    project = tree({"flow.py": """
        from metaflow import FlowSpec, step
        from company.flows import TrackedFlow
        from mutators import add_checks

        @add_checks
        class Tracked(TrackedFlow, FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """, "mutators.py": "def add_checks(cls):\n    return cls\n"})
    flow = only_pipeline(project)
    messages = codes(project, "PV010")
    assert flow.dynamic
    assert any("TrackedFlow is not in the tree" in m for m in messages)
    assert any("flow decorator 'add_checks'" in m for m in messages)


# ---------------------------------------------------------------------- decisions
def _pair(tmp_path: Path, edits: dict[str, list[tuple[str, str]]]):
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(FIXTURE, before)
    shutil.copytree(FIXTURE, after)
    for path, replacements in edits.items():
        text = (after / path).read_text()
        for old, new in replacements:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        (after / path).write_text(text)
    return compare(scan_tree(before), scan_tree(after))


def _change(report, name):
    return next(c for c in report.pipelines if c.name == name)


def test_a_parameter_type_change_is_a_version_for_steps_that_read_it(tmp_path):
    report = _pair(tmp_path, {"flows/base.py": [("type=int", "type=float")]})
    change = _change(report, "DemandForecastFlow")
    assert change.decision is Decision.VERSION
    assert {f.step for f in change.findings if f.rule == "PV401"} == {"start"}  # start reads it via self.clean


def test_a_parameter_help_text_is_a_run(tmp_path):
    report = _pair(tmp_path, {"flows/base.py": [('help="CSV export of daily sales"', 'help="daily sales (CSV)"')]})
    assert _change(report, "DemandForecastFlow").decision is Decision.RUN


def test_a_class_constant_read_through_self_is_code(tmp_path):
    report = _pair(tmp_path, {"flows/monitor_flow.py": [("alert_threshold = 0.2", "alert_threshold = 0.3")]})
    change = _change(report, "SalesMonitorFlow")
    assert change.decision is Decision.VERSION
    assert resume_from(change) == "combine"


def test_an_override_in_a_subclass_module_versions_the_inherited_step(tmp_path):
    report = _pair(tmp_path, {"flows/forecast_flow.py": [
        ('    settings = Config("settings", default="settings.json")\n',
         ('    settings = Config("settings", default="settings.json")\n\n'
          '    def clean(self, rows):\n        return rows\n'))]})
    change = _change(report, "DemandForecastFlow")
    assert change.decision is Decision.VERSION
    assert {f.step for f in change.findings if f.rule == "PV401"} == {"start"}


# ---------------------------------------------------------------------- resume
def test_resume_from_the_changed_step_in_every_format(tmp_path):
    report = _pair(tmp_path, {"flows/forecast_flow.py": [("self.horizon)", "self.horizon + 7)")]})
    change = _change(report, "DemandForecastFlow")
    assert resume_from(change) == "fit_region"
    data = json.loads(render_report(report, "json"))
    flows = {p["name"]: p for p in data["pipelines"]}
    assert flows["DemandForecastFlow"]["resume_from"] == "fit_region"
    assert flows["SalesMonitorFlow"]["resume_from"] is None  # a run: nothing to re-run
    assert "resume from `fit_region`" in render_report(report, "text")
    assert "resume from `fit_region`" in render_report(report, "markdown")


def test_resume_from_a_step_that_reaches_every_changed_branch(tmp_path):
    report = _pair(tmp_path, {"flows/monitor_flow.py": [
        ("null_share(self.sales)", "null_share(self.sales[1:])"),
        ("drift_score(self.sales, self.window)", "drift_score(self.sales, self.window * 2)")]})
    # resume re-runs a step and its descendants only: check_nulls would skip check_drift
    assert resume_from(_change(report, "SalesMonitorFlow")) == "start"


def test_resume_from_start_for_a_flow_level_environment_change(tmp_path):
    report = _pair(tmp_path, {"flows/monitor_flow.py": [
        ("@schedule(daily=True)", '@schedule(daily=True)\n@pypi_base(packages={"numpy": "2.1.0"})'),
        ("from metaflow import FlowSpec", "from metaflow import pypi_base, FlowSpec")]})
    change = _change(report, "SalesMonitorFlow")
    assert change.decision is Decision.VERSION
    assert any(f.rule == "PV205" for f in change.findings)
    assert resume_from(change) == "start"


def test_no_resume_field_for_other_frameworks(tmp_path):
    zenml = FIXTURES / "zenml_churn"
    report = compare(scan_tree(zenml), scan_tree(zenml))
    data = json.loads(render_report(report, "json"))
    assert data["pipelines"] and all("resume_from" not in p for p in data["pipelines"])


POD = """\
from metaflow import FlowSpec, IncludeFile, kubernetes, step


class Pod(FlowSpec):
    rows = IncludeFile("rows", default="rows.csv", is_text=True)

    @kubernetes(image="python:3.11", cpu=2)
    @step
    def start(self):
        self.n = len(self.rows)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _decide(tmp_path: Path, after: str) -> Decision:
    for side, text in (("a", POD), ("b", after)):
        (tmp_path / side).mkdir(exist_ok=True)
        (tmp_path / side / "pod.py").write_text(text)
    return only_pipeline(compare(scan_tree(tmp_path / "a"), scan_tree(tmp_path / "b"))).decision


def test_include_file_is_a_parameter(tree):
    flow = only_pipeline(tree({"pod.py": POD}))
    assert [(p.name, p.default) for p in flow.parameters] == [("rows", "rows.csv")]
    assert flow.config["flow_parameters"]["rows"] == {"class": "IncludeFile", "$args": ["rows"], "is_text": True}


@pytest.mark.parametrize("old, new, decision", [
    ('image="python:3.11"', 'image="python:3.12"', Decision.VERSION),  # the container is the environment
    ("cpu=2", "cpu=8", Decision.RUN),
    ('default="rows.csv"', 'default="more_rows.csv"', Decision.RUN),
    ("is_text=True", "is_text=False", Decision.VERSION),  # start reads self.rows: bytes instead of text
])
def test_kubernetes_and_include_file_changes(tmp_path, old, new, decision):
    assert _decide(tmp_path, POD.replace(old, new)) is decision


CONFIGURED = """\
from metaflow import Config, FlowSpec, config_expr, pypi_base, resources, step


@pypi_base(packages=config_expr("cfg.packages"))
class Configured(FlowSpec):
    cfg = Config("cfg", default="cfg.json")
    inline = Config("inline", default_value='{"cpu": 2}')

    @resources(cpu=inline.cpu, memory=config_expr("cfg.memory.lower()"))
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_config_values_flow_into_decorators(tree):
    project = tree({"flow.py": CONFIGURED, "cfg.json": '{"packages": {"numpy": "2.1.0"}, "memory": "8G"}'})
    flow = only_pipeline(project)
    assert flow.config["pypi_base"] == {"packages": {"numpy": "2.1.0"}}
    resources = flow.step("start").config["resources"]
    assert resources["cpu"] == 2  # default_value parsed as JSON (Metaflow's default parser)
    # an expression that is more than a path takes the files it names: any change of them counts
    assert resources["memory"] == {"$config": 'config_expr("cfg.memory.lower()")',
                                   "$values": {"cfg": {"packages": {"numpy": "2.1.0"}, "memory": "8G"}}}
    assert not flow.dynamic


@pytest.mark.parametrize("old, new, decision", [
    ('"2.1.0"', '"2.2.0"', Decision.VERSION),  # pypi_base packages: the environment
    ('"8G"', '"16G"', Decision.RUN),
])
def test_config_file_changes(tmp_path, old, new, decision):
    text = '{"packages": {"numpy": "2.1.0"}, "memory": "8G"}'
    for side, content in (("a", text), ("b", text.replace(old, new))):
        (tmp_path / side).mkdir()
        (tmp_path / side / "flow.py").write_text(CONFIGURED)
        (tmp_path / side / "cfg.json").write_text(content)
    assert only_pipeline(compare(scan_tree(tmp_path / "a"), scan_tree(tmp_path / "b"))).decision is decision


def test_a_config_pvcheck_cannot_read_is_said_where_a_decorator_uses_it(tree):
    project = tree({"flow.py": CONFIGURED.replace('default="cfg.json"', 'default="cfg.toml", parser="tomllib.loads"'),
                    "cfg.toml": "memory = '8G'\n"})
    flow = only_pipeline(project)
    assert flow.dynamic
    assert any("uses a Config whose values pvcheck cannot read" in m for m in codes(project, "PV010"))


def test_class_level_code_is_said_for_flows_only(tree):
    project = tree({"flow.py": """
        import sys
        from metaflow import FlowSpec, step

        class Settings(dict):
            if sys.platform == "win32":
                SEP = "\\\\"

        class Flow(FlowSpec):
            if sys.platform == "win32":
                SEP = "\\\\"

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """})
    flow = only_pipeline(project)
    assert flow.dynamic
    assert [(d.code, d.line) for d in project.diagnostics] == [("PV010", 9)]  # Flow's, not Settings'


MUTATED = {
    "base.py": """
        from metaflow import FlowMutator, FlowSpec, step

        class AddRetries(FlowMutator):
            def mutate(self, mutable_flow):
                for name, s in mutable_flow.steps:
                    s.add_decorator("retry", deco_kwargs={"times": 2})

        @AddRetries()
        class Base(FlowSpec):
            @step
            def start(self):
                self.next(self.end)
    """,
    "flow.py": """
        from base import Base
        from metaflow import step

        class Mutated(Base):
            @step
            def end(self):
                pass
    """,
}


def test_a_flow_mutator_on_a_base_class_makes_the_flow_conservative(tmp_path):
    before, after = tmp_path / "a", tmp_path / "b"
    write_tree(before, MUTATED)
    write_tree(after, {**MUTATED, "base.py": MUTATED["base.py"].replace('"times": 2', '"times": 5')})
    base_project = scan_tree(before)
    assert only_pipeline(base_project).dynamic  # Base goes to end, which only Mutated defines
    assert any("flow decorator 'AddRetries()'" in m for m in codes(base_project, "PV010"))
    change = only_pipeline(compare(base_project, scan_tree(after)))
    assert change.decision is Decision.VERSION  # the mutator's code is in the flow's reach
    commented = tmp_path / "c"
    write_tree(commented, {**MUTATED, "base.py": MUTATED["base.py"].replace(
        "    def mutate(self, mutable_flow):\n", "    def mutate(self, mutable_flow):  # every step\n")})
    assert only_pipeline(compare(base_project, scan_tree(commented))).decision is Decision.RUN
