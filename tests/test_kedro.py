"""The Kedro plug-in: node names, namespaces, edges, registry forms, conf files, and the
comparison with the pipelines Kedro itself builds from the fixture."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.cache import AnalysisCache
from pvcheck.config import Config
from pvcheck.model import Pipeline, Project
from pvcheck.policies import compare

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "kedro_rockets"
ORACLE = Path(__file__).resolve().parent / "kedro_oracle.py"


def scan(root: Path, **config: object) -> Project:
    return scan_tree(root, Config(**config))  # type: ignore[arg-type]


def pipelines(project: Project) -> dict[str, Pipeline]:
    found = {p.name: p for p in project.pipelines}
    assert len(found) == len(project.pipelines), "pipeline names must be unique here"
    return found


def edges(pipeline: Pipeline) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.output or "") for e in pipeline.edges}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def codes(project: Project) -> list[str]:
    return [d.code for d in project.diagnostics]


# ---------------------------------------------------------------------- the fixture
MODELLING = {
    "linear.split_data_node", "linear.train_model__5274714b", "linear.evaluate_model__d81bb533",
    "forest.split_data_node", "forest.train_model__bc3eda0f", "forest.evaluate_model__bc0fb11e",
}
INGESTION = {"preprocess_launches__cc4c47b8", "preprocess_vehicles_node", "create_model_input_table__77c08ab3"}
REPORTING = {"compare_models__62b7f259", "format_report"}


@pytest.mark.parametrize("roots", [["src"], ["."]], ids=["roots=src", "roots=."])
def test_fixture_graph_is_exact(roots: list[str]) -> None:
    project = scan(FIXTURE, roots=roots)
    found = pipelines(project)
    assert sorted(found) == ["__default__", "ingestion", "modelling", "reporting"]
    assert {p.framework for p in found.values()} == {"kedro"}
    assert {s.id for s in found["modelling"].steps} == MODELLING
    assert {s.id for s in found["ingestion"].steps} == INGESTION
    assert {s.id for s in found["reporting"].steps} == REPORTING
    assert {s.id for s in found["__default__"].steps} == MODELLING | INGESTION | REPORTING
    assert edges(found["ingestion"]) == {
        ("preprocess_launches__cc4c47b8", "create_model_input_table__77c08ab3", "preprocessed_launches"),
        ("preprocess_vehicles_node", "create_model_input_table__77c08ab3", "preprocessed_vehicles"),
    }
    for variant, train, evaluate in (("linear", "train_model__5274714b", "evaluate_model__d81bb533"),
                                     ("forest", "train_model__bc3eda0f", "evaluate_model__bc0fb11e")):
        split = f"{variant}.split_data_node"
        assert edges(found["modelling"]) >= {
            (split, f"{variant}.{train}", f"{variant}.X_train"),
            (split, f"{variant}.{train}", f"{variant}.y_train"),
            (f"{variant}.{train}", f"{variant}.{evaluate}", f"{variant}.regressor"),
        }
    assert len(found["modelling"].edges) == 10
    # the registry's sum joins the pipelines through their shared datasets
    assert ("create_model_input_table__77c08ab3", "linear.split_data_node", "model_input_table") in \
        edges(found["__default__"])
    assert len(found["__default__"].edges) == 17
    assert found["modelling"].path == "src/rocket_demand/pipelines/modelling/pipeline.py"
    assert found["__default__"].path == "src/rocket_demand/pipeline_registry.py"
    assert not any(p.dynamic for p in found.values())
    assert [d for d in project.diagnostics if d.code.startswith("PV01")] == []


def test_functions_inputs_and_helpers() -> None:
    found = pipelines(scan(FIXTURE, roots=["src"]))
    steps = {s.id: s for s in found["__default__"].steps}
    train = steps["linear.train_model__5274714b"]
    assert train.function == "rocket_demand.pipelines.modelling.nodes.train_model"
    # dict inputs bind by parameter name, in the signature's order
    assert list(train.inputs)[:3] == ["features", "target", "settings"]
    assert train.inputs["settings"] == {"$asset": "params:linear.model_options"}
    preprocess = steps["preprocess_launches__cc4c47b8"]
    assert "rocket_demand.utils.cleaning.parse_payload" in {h.name for h in preprocess.helpers}
    report = steps["format_report"]
    assert report.function == "rocket_demand.pipelines.reporting.nodes.format_report"
    assert report.inputs["partial.currency"] == "USD"  # functools.partial: a bound value


def test_parameters_and_catalog_become_config_and_inputs() -> None:
    found = pipelines(scan(FIXTURE, roots=["src"]))
    steps = {s.id: s for s in found["modelling"].steps}
    split = steps["forest.split_data_node"]
    assert split.config["parameters"] == {"forest.model_options": {"test_size": 0.25, "random_state": 7}}
    assert split.config_lines["parameters.forest.model_options"] == ("conf/base/parameters_modelling.yml", 5)
    assert split.config["tags"] == ["forest"]
    # the dataset factory "{variant}.regressor" with its placeholder filled in
    train = steps["forest.train_model__bc3eda0f"]
    assert train.config["catalog"]["forest.regressor"] == {
        "filepath": "data/06_models/forest_regressor.pickle", "versioned": True}
    assert train.inputs["$outputs"] == [{"$asset": "forest.regressor", "catalog": {"type": "pickle.PickleDataset"}}]
    # type and load_args shape the data (inputs); the file path is where it lives (config)
    launches = {s.id: s for s in found["ingestion"].steps}["preprocess_launches__cc4c47b8"]
    assert launches.inputs["launches"] == {"$asset": "launches",
                                           "catalog": {"type": "pandas.CSVDataset", "load_args": {"sep": ";"}}}
    assert launches.config["catalog"]["launches"] == {"filepath": "data/01_raw/launches.csv"}


def test_node_names_and_edges_match_kedro() -> None:
    """Kedro builds the fixture's pipelines (in a subprocess, importing the fixture's own
    code); pvcheck, reading the same files without importing them, must agree."""
    pytest.importorskip("kedro")
    result = subprocess.run([sys.executable, str(ORACLE), str(FIXTURE / "src"), "rocket_demand"],
                            capture_output=True, text=True, timeout=120, check=True)
    kedro = json.loads(result.stdout.strip().splitlines()[-1])
    ours = pipelines(scan(FIXTURE, roots=["src"]))
    assert sorted(kedro) == sorted(ours)
    for name, expected in kedro.items():
        pipeline = ours[name]
        assert sorted(s.id for s in pipeline.steps) == expected["nodes"], name
        assert sorted([list(e) for e in edges(pipeline)]) == expected["edges"], name
        functions = {s.id: s.function for s in pipeline.steps}
        for node, function in expected["functions"].items():
            assert functions[node] == function, (name, node)


# ---------------------------------------------------------------------- naming
LEGACY = {
    "requirements.txt": "kedro~=0.19.10\nkedro-datasets[pandas]>=3.0\n",
    "conf/base/parameters.yml": "split:\n  ratio: 0.3\n",
    "src/shop/__init__.py": "",
    "src/shop/pipeline_registry.py": """
        from kedro.pipeline import Pipeline
        from shop.pipelines import sales


        def register_pipelines():
            sales_pipeline = sales.create_pipeline()
            return {"sales": sales_pipeline, "__default__": sales_pipeline}
        """,
    "src/shop/pipelines/__init__.py": "",
    "src/shop/pipelines/sales/__init__.py": "from .pipeline import create_pipeline\n",
    "src/shop/pipelines/sales/nodes.py": """
        def split(orders, ratio):
            cut = int(len(orders) * ratio)
            return orders[cut:], orders[:cut]


        def total(rows):
            return sum(rows)
        """,
    "src/shop/pipelines/sales/pipeline.py": """
        from kedro.pipeline import node, pipeline

        from .nodes import split, total


        def create_pipeline(**kwargs):
            base = pipeline([
                node(split, ["orders", "params:split.ratio"], ["train", "test"]),
                node(total, "train", None and "x" or "sum_train", name=None),
            ])
            return pipeline(base, namespace="eu", inputs={"orders": "eu_orders"}, parameters="split.ratio")
        """,
}


def test_kedro_0x_names(tmp_path: Path) -> None:
    """A project pinned to Kedro 0.x gets ``func([a;b]) -> [c]`` names (``Node.__str__``)."""
    files = dict(LEGACY)
    files["src/shop/pipelines/sales/pipeline.py"] = files["src/shop/pipelines/sales/pipeline.py"].replace(
        'None and "x" or "sum_train"', '"sum_train"')
    found = pipelines(scan(write(tmp_path, files), roots=["src"]))
    assert sorted(s.id for s in found["sales"].steps) == [
        "eu.split([eu_orders;params:split.ratio]) -> [eu.train;eu.test]",
        "eu.total([eu.train]) -> [eu.sum_train]",
    ]
    split = found["sales"].steps[0]
    # parameters= keeps the name (no namespace prefix): the value read is split.ratio
    assert split.config["parameters"] == {"split.ratio": 0.3}
    (tmp_path / "requirements.txt").write_text("kedro>=1.0,<2\n", encoding="utf-8")
    names = sorted(s.id for s in pipelines(scan(tmp_path, roots=["src"]))["sales"].steps)
    assert all("__" in name and "(" not in name for name in names), names


def test_unreadable_code_is_diagnosed_and_conservative(tmp_path: Path) -> None:
    files = dict(LEGACY)  # `None and "x" or "sum_train"` is an expression pvcheck does not evaluate
    project = scan(write(tmp_path, files), roots=["src"])
    found = pipelines(project)
    assert "PV010" in codes(project)
    assert found["sales"].dynamic
    assert [s.id for s in found["sales"].steps] == ["eu.split([eu_orders;params:split.ratio]) -> [eu.train;eu.test]"]


# ---------------------------------------------------------------------- registry forms
def _project(tmp_path: Path, registry: str, extra: dict[str, str] | None = None) -> Path:
    files = {
        "conf/base/parameters.yml": "rate: 2\n",
        "src/lab/__init__.py": "",
        "src/lab/pipeline_registry.py": registry,
        "src/lab/pipelines/__init__.py": "",
        "src/lab/pipelines/clean/__init__.py": "from .pipeline import create_pipeline\n",
        "src/lab/pipelines/clean/nodes.py": "def clean(raw):\n    return [r for r in raw if r]\n",
        "src/lab/pipelines/clean/pipeline.py": """
            from kedro.pipeline import Node, Pipeline
            from .nodes import clean


            def create_pipeline(**kwargs):
                return Pipeline([Node(clean, "raw", "clean_rows", name="clean")])
            """,
        "src/lab/pipelines/score/__init__.py": "from .pipeline import create_pipeline\n",
        "src/lab/pipelines/score/nodes.py": "def score(rows, rate):\n    return [r * rate for r in rows]\n",
        "src/lab/pipelines/score/pipeline.py": """
            from kedro.pipeline import node, pipeline
            from .nodes import score


            def create_pipeline(**kwargs):
                return pipeline([node(score, ["clean_rows", "params:rate"], "scores", name="score")])
            """,
    }
    files.update(extra or {})
    return write(tmp_path, files)


def test_explicit_registry_with_plus_and_minus(tmp_path: Path) -> None:
    root = _project(tmp_path, """
        from kedro.pipeline import Pipeline
        from lab.pipelines import clean as c, score


        def register_pipelines() -> dict[str, Pipeline]:
            cleaning = c.create_pipeline()
            scoring = score.create_pipeline()
            everything = cleaning + scoring
            return {"__default__": everything, "scoring": everything - cleaning, "all": sum([cleaning, scoring])}
        """)
    found = pipelines(scan(root, roots=["src"]))
    assert sorted(found) == ["__default__", "all", "scoring"]
    assert [s.id for s in found["__default__"].steps] == ["clean", "score"]
    assert edges(found["__default__"]) == {("clean", "score", "clean_rows")}
    assert [s.id for s in found["scoring"].steps] == ["score"]
    assert found["all"].graph_fingerprint == found["__default__"].graph_fingerprint
    assert found["scoring"].steps[0].config["parameters"] == {"rate": 2}


def test_find_pipelines_with_the_simplified_layout(tmp_path: Path) -> None:
    """find_pipelines() also reads <package>/pipeline.py as __default__ (starters)."""
    root = _project(tmp_path, """
        from kedro.framework.project import find_pipelines


        def register_pipelines():
            return find_pipelines()
        """, {"src/lab/pipeline.py": """
        from kedro.pipeline import node, pipeline
        from lab.pipelines.clean.nodes import clean


        def create_pipeline(**kwargs):
            return pipeline([node(clean, "raw", "clean_rows", name="clean_only")])
        """})
    found = pipelines(scan(root, roots=["src"]))
    assert sorted(found) == ["__default__", "clean", "score"]
    assert [s.id for s in found["__default__"].steps] == ["clean_only"]


def test_without_a_registry_each_create_pipeline_is_a_pipeline(tmp_path: Path) -> None:
    root = _project(tmp_path, "")
    (root / "src/lab/pipeline_registry.py").unlink()
    found = pipelines(scan(root, roots=["src"]))
    assert sorted(found) == ["clean", "score"]
    # near miss: with a registry, the registry decides (it registers only "scoring" here)
    (root / "src/lab/pipeline_registry.py").write_text(textwrap.dedent("""
        from lab.pipelines import score


        def register_pipelines():
            return {"scoring": score.create_pipeline()}
        """), encoding="utf-8")
    assert sorted(pipelines(scan(root, roots=["src"]))) == ["scoring"]


def test_namespaces_in_a_loop_and_a_comprehension(tmp_path: Path) -> None:
    root = _project(tmp_path, """
        from kedro.pipeline import pipeline
        from lab.pipelines import score

        REGIONS = ("eu", "us")


        def register_pipelines():
            parts = []
            for region in REGIONS:
                parts.append(pipeline(score.create_pipeline(), namespace=region,
                                      inputs={"clean_rows": f"{region}_rows"}))
            both = pipeline([pipeline(score.create_pipeline(), namespace=f"x{r}") for r in ["1", "2"]])
            return {"regions": sum(parts), "x": both}
        """)
    found = pipelines(scan(root, roots=["src"]))
    regions = found["regions"].steps
    assert [s.id for s in regions] == ["eu.score", "us.score"]
    assert regions[0].inputs["rows"] == {"$asset": "eu_rows"}
    assert regions[0].inputs["rate"] == {"$asset": "params:eu.rate"}
    assert [s.id for s in found["x"].steps] == ["x1.score", "x2.score"]


# ---------------------------------------------------------------------- conf and the cache
def test_conf_local_overrides_base_and_a_new_file_is_seen_through_the_cache(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", """
        from lab.pipelines import score


        def register_pipelines():
            return {"scoring": score.create_pipeline()}
        """)
    config = Config(roots=["src"])
    store = AnalysisCache(tmp_path / "cache", config)
    first = scan_tree(root, config, cache=store)
    assert pipelines(first)["scoring"].steps[0].config["parameters"] == {"rate": 2}
    write(root, {"conf/local/parameters_override.yml": "rate: 5\n"})
    again = scan_tree(root, config, cache=AnalysisCache(tmp_path / "cache", config))
    step = pipelines(again)["scoring"].steps[0]
    assert step.config["parameters"] == {"rate": 5}
    assert step.config_lines["parameters.rate"] == ("conf/local/parameters_override.yml", 1)
    report = compare(first, again)
    assert [c.decision.value for c in report.pipelines if c.decision] == ["run"]


# ---------------------------------------------------------------------- PV025
def test_frameworks_without_a_plugin_are_reported(tmp_path: Path) -> None:
    write(tmp_path, {
        "flows/etl.py": "import luigi\n\n\nclass Load(luigi.Task):\n    pass\n",
        "flows/more.py": "from luigi.contrib import s3\n",
        "flows/dag.py": "from hamilton import driver\nfrom ray import workflow\n",
        "notes.py": "# we tried luigi and hamilton once\nNAME = 'import luigi'\nimport rayleigh\nimport ray\n",
    })
    project = scan(tmp_path)
    found = {d.message.split(" is imported")[0]: d for d in project.diagnostics if d.code == "PV025"}
    assert sorted(found) == ["Hamilton", "Luigi", "Ray Workflows"]
    assert (found["Luigi"].path, found["Luigi"].line) == ("flows/etl.py", 1)
    assert "1 more file" in found["Luigi"].message


def test_a_disabled_plugin_is_reported_and_an_enabled_one_is_not() -> None:
    disabled = scan(FIXTURE, roots=["src"], frameworks=["zenml"])
    assert disabled.pipelines == ()
    messages = [d.message for d in disabled.diagnostics if d.code == "PV025"]
    assert len(messages) == 1 and messages[0].startswith("Kedro is imported here")
    assert "PV025" not in codes(scan(FIXTURE, roots=["src"]))


def test_dataset_factories_rank_like_kedro() -> None:
    from pvcheck.analyzer.frameworks.kedro_conf import KedroConf, resolve_placeholders

    conf = KedroConf(catalog={
        "{name}": {"type": "MemoryDataset"},
        "{namespace}.{name}": {"type": "pandas.CSVDataset", "filepath": "data/{namespace}/{name}.csv"},
        "{namespace}.model_{name}": {"type": "pickle.PickleDataset"},
        "exact.thing": {"type": "json.JSONDataset"},
    })
    assert conf.dataset("exact.thing") == ("exact.thing", {"type": "json.JSONDataset"})
    key, entry = conf.dataset("eu.model_lr")  # more characters outside placeholders wins
    assert key == "{namespace}.model_{name}"
    key, entry = conf.dataset("eu.rows")  # then more placeholders
    assert key == "{namespace}.{name}"
    assert resolve_placeholders(entry, key, "eu.rows")["filepath"] == "data/eu/rows.csv"
    assert conf.dataset("rows")[0] == "{name}"
    assert KedroConf(catalog={"a_{x}": {}}).dataset("b_1") is None  # near miss: no pattern matches
