"""Kubeflow Pipelines v2: task names, outputs, .after(), task groups, task settings, fingerprints."""

from __future__ import annotations

import shutil
from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.frameworks.kfp import k8s_name
from tests.conftest import FIXTURES, only_pipeline
from tests.project_edits import edit_file

FIXTURE = FIXTURES / "kfp_training"


def edges(pipeline):
    return sorted((e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)


def dynamic_messages(project):
    return [d.message for d in project.diagnostics if d.code == "PV010"]


def test_k8s_names_follow_kfp():
    assert k8s_name("train_model") == "train-model"
    assert k8s_name("Churn Training") == "churn-training"
    assert k8s_name("__private__step") == "private-step"
    assert k8s_name("a--b__c") == "a-b-c"


# ---------------------------------------------------------------------- the fixture project
def test_fixture_pipeline():
    project = scan_tree(FIXTURE)
    assert [(p.name, p.framework, p.path, p.function) for p in project.pipelines] == [
        ("churn-training", "kfp", "pipelines/training.py", "pipelines.training.churn_training"),
    ]
    assert project.diagnostics == ()
    pipeline = project.pipelines[0]
    assert not pipeline.dynamic
    assert pipeline.config == {"description": "Train, sweep and deploy the churn model."}
    assert [(p.name, p.default) for p in pipeline.parameters] == [
        ("table_uri", "gs://acme-data/churn/latest.parquet"), ("auc_threshold", 0.8)]


def test_fixture_tasks_and_outputs():
    pipeline = only_pipeline(scan_tree(FIXTURE))
    assert [(s.id, s.function, s.kind) for s in pipeline.steps] == [
        ("load-dataset", "components.data.load_dataset", "component"),
        ("split-dataset", "components.data.split_dataset", "component"),
        ("train-model", "components.train.train_model", "component"),
        ("train-model-2", "components.train.train_model", "component"),
        ("evaluate-model", "components.train.evaluate_model", "component"),
        ("deploy-model", "components.serving.deploy_model", "component"),
        ("notify-2", "components.serving.notify", "component"),
        ("notify", "components.serving.notify", "component"),  # the exit task: created first, runs last
    ]
    outputs = {s.id: [o.name for o in s.outputs] for s in pipeline.steps}
    assert outputs["split-dataset"] == ["train", "test"]
    assert outputs["evaluate-model"] == ["metrics", "auc", "model_uri"]  # Output[...] params, then NamedTuple
    assert outputs["deploy-model"] == []  # a container component
    assert outputs["notify"] == []


def test_fixture_edges():
    pipeline = only_pipeline(scan_tree(FIXTURE))
    members = ["load-dataset", "split-dataset", "train-model", "train-model-2", "evaluate-model",
               "deploy-model", "notify-2"]
    assert edges(pipeline) == sorted([
        ("load-dataset", "split-dataset", "data", "dataset", "dataset"),
        ("split-dataset", "train-model", "data", "train", "train"),
        ("split-dataset", "train-model-2", "data", "train", "train"),
        ("train-model", "train-model-2", "order", None, None),  # .after(sweep)
        ("train-model-2", "evaluate-model", "data", "model", "model"),
        ("split-dataset", "evaluate-model", "data", "test", "test"),
        ("evaluate-model", "deploy-model", "data", "model_uri", "model_uri"),
        ("evaluate-model", "deploy-model", "order", None, None),  # the dsl.If reads evaluate-model's auc
        ("evaluate-model", "notify-2", "order", None, None),  # ... and so does its dsl.Else
        *[(member, "notify", "order", None, None) for member in members],  # ExitHandler
    ])


def test_fixture_configuration():
    pipeline = only_pipeline(scan_tree(FIXTURE))
    python_env = {"base_image": "python:3.11-slim", "packages_to_install": ["pandas==2.2.2", "pyarrow==16.1.0"]}
    training_env = {"base_image": "python:3.11-slim",
                    "packages_to_install": ["pandas==2.2.2", "pyarrow==16.1.0", "scikit-learn==1.5.0"]}
    assert pipeline.step("load-dataset").config == {**python_env, "memory_limit": "8G", "cpu_limit": "2"}
    assert pipeline.step("split-dataset").config == {**python_env, "caching_options": {"enable_caching": False}}
    assert pipeline.step("train-model").config == {
        **training_env, "parallel_for": {"items": [0.05, 0.1, 0.2], "parallelism": 2}, "display_name": "lr-sweep"}
    assert pipeline.step("train-model-2").config == {
        **training_env, "retry": {"num_retries": 2}, "env": {"OMP_NUM_THREADS": "4"}}
    assert pipeline.step("deploy-model").config == {}
    assert pipeline.step("deploy-model").inputs["$condition"] == ["({evaluate-model.auc} >= {auc_threshold})"]
    assert pipeline.step("notify-2").config == {"base_image": "python:3.11-slim"}
    assert pipeline.step("notify-2").inputs["$condition"] == ["not (({evaluate-model.auc} >= {auc_threshold}))"]
    assert pipeline.step("train-model").inputs == {"train": {"$step": "split-dataset", "output": "train"},
                                                   "learning_rate": {"$expr": "dsl.ParallelFor item"}}
    assert pipeline.step("load-dataset").config_lines["cpu_limit"] == ("pipelines/training.py", 13)


def test_fixture_container_component_body_covers_its_image():
    pipeline = only_pipeline(scan_tree(FIXTURE))
    assert [h.name for h in pipeline.step("deploy-model").helpers] == ["utils.images.SERVING_IMAGE"]


# ---------------------------------------------------------------------- name resolution
COMPONENTS = """
    from typing import NamedTuple

    from kfp import dsl
    from kfp.dsl import Dataset, Model, Output, OutputPath

    @dsl.component
    def make(n: int) -> int:
        return n

    @dsl.component
    def fit(x: int, model: Output[Model], log: OutputPath(str)) -> NamedTuple("Out", score=float, name=str):
        return (1.0, "m")

    class Report(NamedTuple):
        ok: bool
        detail: str

    @dsl.component
    def check(score: float) -> Report:
        return Report(True, "")

    @dsl.component
    def sink(value: str):
        pass
"""


def test_decorator_aliases_are_recognised(tree):
    project = tree({
        "a.py": """
            import kfp
            import kfp.dsl as d
            from kfp.dsl import component as comp, pipeline as pipe

            @comp
            def one() -> int:
                return 1

            @d.component(base_image="python:3.12")
            def two(x: int) -> int:
                return x

            @kfp.dsl.container_component
            def three(x: int):
                return d.ContainerSpec(image="busybox", command=["echo"], args=[x])

            @pipe
            def aliased_pipeline():
                three(x=two(x=one().output).output)
        """,
    })
    pipeline = only_pipeline(project, "aliased-pipeline")
    assert [s.id for s in pipeline.steps] == ["one", "two", "three"]
    assert edges(pipeline) == [("one", "two", "data", "Output", "x"), ("two", "three", "data", "Output", "x")]
    assert pipeline.step("two").config == {"base_image": "python:3.12"}


def test_a_function_merely_named_component_is_not_a_component(tree):
    project = tree({"p.py": """
        from kfp import dsl

        def component(fn):
            return fn

        @component
        def helper() -> int:
            return 1

        @dsl.pipeline
        def p():
            helper()
    """})
    pipeline = only_pipeline(project)
    assert pipeline.steps == ()
    assert pipeline.dynamic
    assert any("p.helper" in m for m in dynamic_messages(project))


def test_output_names_and_references(tree):
    pipeline = only_pipeline(tree({"c.py": COMPONENTS, "p.py": """
        from kfp import dsl
        from c import check, fit, make, sink

        @dsl.pipeline(name="Outputs Demo")
        def outputs_demo():
            n = make(n=3)
            f = fit(x=n.output)
            r = check(score=f.outputs["score"])
            sink(value=f.outputs['log'])
            sink(value=r.outputs["detail"]).after(r, n)
    """}))
    assert pipeline.name == "outputs-demo"
    outputs = {s.id: [o.name for o in s.outputs] for s in pipeline.steps}
    assert outputs == {"make": ["Output"], "fit": ["model", "log", "score", "name"], "check": ["ok", "detail"],
                       "sink": [], "sink-2": []}
    assert edges(pipeline) == sorted([
        ("make", "fit", "data", "Output", "x"),
        ("fit", "check", "data", "score", "score"),
        ("fit", "sink", "data", "log", "value"),
        ("check", "sink-2", "data", "detail", "value"),
        ("check", "sink-2", "order", None, None),
        ("make", "sink-2", "order", None, None),
    ])


def test_elif_chains_and_nested_groups(tree):
    pipeline = only_pipeline(tree({"c.py": COMPONENTS, "p.py": """
        from kfp import dsl
        from c import make, sink

        @dsl.pipeline
        def branches(mode: str = "a"):
            n = make(n=1)
            with dsl.If(n.output > 5):
                with dsl.Condition(mode == "a"):
                    sink(value="big-a")
            with dsl.Elif(n.output > 2):
                sink(value="medium")
            with dsl.Else():
                sink(value="small")
    """}))
    conditions = {s.id: s.inputs.get("$condition") for s in pipeline.steps}
    assert conditions == {
        "make": None,
        "sink": ["({make.Output} > 5)", "({mode} == 'a')"],
        "sink-2": ["not (({make.Output} > 5))", "({make.Output} > 2)"],
        "sink-3": ["not (({make.Output} > 5))", "not (({make.Output} > 2))"],
    }
    assert edges(pipeline) == [("make", target, "order", None, None) for target in ("sink", "sink-2", "sink-3")]


def test_parallel_for_over_a_task_output_and_collected(tree):
    pipeline = only_pipeline(tree({"c.py": COMPONENTS, "p.py": """
        from kfp import dsl
        from c import fit, make, sink

        @dsl.pipeline
        def fan_out():
            items = make(n=4)
            with dsl.ParallelFor(items.output) as item:
                f = fit(x=item)
            sink(value=dsl.Collected(f.outputs["name"]))
    """}))
    assert [s.id for s in pipeline.steps] == ["make", "fit", "sink"]
    assert edges(pipeline) == sorted([
        ("make", "fit", "data", "Output", "x"),
        ("make", "fit", "order", None, None),
        ("fit", "sink", "data", "name", "value"),
    ])
    assert pipeline.step("fit").config == {"parallel_for": {"items": {"$step": "make", "output": "Output"}}}


def test_task_settings_and_kubernetes_helpers(tree):
    pipeline = only_pipeline(tree({"c.py": COMPONENTS, "p.py": """
        from kfp import dsl, kubernetes
        from c import make, sink

        @dsl.pipeline
        def settings():
            n = make(n=1)
            n.set_accelerator_type("NVIDIA_TESLA_T4").set_accelerator_limit(1)
            n.set_env_variable(name="A", value="1")
            n.set_env_variable("B", "2")
            n.set_container_image("python:3.12")
            n.ignore_upstream_failure()
            kubernetes.use_secret_as_env(n, secret_name="db", secret_key_to_env={"pw": "DB_PW"})
            sink(value="x").set_caching_options(True, cache_key="v1")
    """}))
    assert pipeline.step("make").config == {
        "accelerator_type": "NVIDIA_TESLA_T4", "accelerator_limit": 1, "env": {"A": "1", "B": "2"},
        "image": "python:3.12", "ignore_upstream_failure": True,
        "kubernetes": {"use_secret_as_env": [{"secret_name": "db", "secret_key_to_env": {"pw": "DB_PW"}}]},
    }
    assert pipeline.step("sink").config == {"caching_options": {"enable_caching": True, "cache_key": "v1"}}


def test_loops_over_literals_unroll_like_the_compiler(tree):
    pipeline = only_pipeline(tree({"c.py": COMPONENTS, "p.py": """
        from kfp import dsl
        from c import make

        @dsl.pipeline
        def unrolled():
            for n in [1, 2, 3]:
                make(n=n)
    """}))
    assert [(s.id, s.inputs["n"]) for s in pipeline.steps] == [("make", 1), ("make-2", 2), ("make-3", 3)]


def test_importer_is_a_task_and_a_missing_yaml_spec_is_reported(tree):
    project = tree({"c.py": COMPONENTS + """
    from kfp import components

    loaded = components.load_component_from_file("component.yaml")
    """, "p.py": """
        from kfp import dsl
        from c import loaded, sink

        @dsl.pipeline
        def imported():
            art = dsl.importer(artifact_uri="gs://b/model", artifact_class=dsl.Model)
            sink(value=art.output)

        @dsl.pipeline
        def from_yaml():
            loaded(x=1)
    """})
    imported = only_pipeline(project, "imported")
    assert not imported.dynamic
    assert [(s.id, s.function, s.kind) for s in imported.steps] == [
        ("importer", "kfp.dsl.importer", "importer"), ("sink", "c.sink", "component")]
    assert edges(imported) == [("importer", "sink", "data", "artifact", "value")]
    assert imported.steps[0].inputs["artifact_uri"] == "gs://b/model"
    # the spec file is not there: a step named after the constant, and its content is unknown
    from_yaml = only_pipeline(project, "from-yaml")
    assert [(s.id, s.function) for s in from_yaml.steps] == [("loaded", "c.loaded")]
    [missing] = [d for d in project.diagnostics if d.code == "PV022"]
    assert (missing.path, missing.line) == ("c.py", 28)  # the load_component_from_file line
    assert "component 'loaded' is loaded from a YAML file" in missing.message


# ---------------------------------------------------------------------- fingerprints
def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "kfp_training"
    shutil.copytree(FIXTURE, target)
    return target




def _training(root: Path):
    return only_pipeline(scan_tree(root), "churn-training")


def test_cosmetic_edits_keep_every_fingerprint(tmp_path):
    base = _training(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "components/data.py", "    frame = pd.read_parquet(table_uri)\n",
          "    # drop unlabeled rows\n    frame = pd.read_parquet(\n        table_uri,\n    )\n")
    edit_file(root, "components/data.py", "frame", "table")
    edit_file(root, "pipelines/training.py", 'with dsl.If(scored.outputs["auc"] >= auc_threshold, name="good-enough")',
          "with dsl.If(\n            scored.outputs['auc'] >= auc_threshold,\n"
          "            name='good-enough',\n        )")
    edit_file(root, "pipelines/training.py", "scored = evaluate_model(", "evaluation = evaluate_model(")
    edit_file(root, "pipelines/training.py", "scored.outputs", "evaluation.outputs")
    head = _training(root)
    assert head.fingerprint == base.fingerprint
    assert head.graph_fingerprint == base.graph_fingerprint
    assert {s.id: s.config_fingerprint for s in head.steps} == {s.id: s.config_fingerprint for s in base.steps}


def test_container_image_change_changes_the_component_fingerprint(tmp_path):
    base = _training(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "utils/images.py", "model-server:1.4.2", "model-server:1.5.0")
    head = _training(root)
    changed = {s.id for s in head.steps if s.fingerprint != base.step(s.id).fingerprint}
    assert changed == {"deploy-model"}


def test_base_image_change_is_configuration_of_every_component_using_it(tmp_path):
    base = _training(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "utils/images.py", 'PYTHON_IMAGE = "python:3.11-slim"', 'PYTHON_IMAGE = "python:3.12-slim"')
    head = _training(root)
    assert {s.id: s.fingerprint for s in head.steps} == {s.id: s.fingerprint for s in base.steps}
    changed = {s.id for s in head.steps if s.config_fingerprint != base.step(s.id).config_fingerprint}
    assert changed == {"load-dataset", "split-dataset", "train-model", "train-model-2", "evaluate-model"}
    assert head.step("train-model").config["base_image"] == "python:3.12-slim"


def test_body_and_setting_edits(tmp_path):
    base = _training(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "components/data.py", "random_state=7", "random_state=11")
    edit_file(root, "pipelines/training.py", 'set_memory_limit("8G")', 'set_memory_limit("16G")')
    head = _training(root)
    assert {s.id for s in head.steps if s.fingerprint != base.step(s.id).fingerprint} == {"split-dataset"}
    assert {s.id for s in head.steps if s.config_fingerprint != base.step(s.id).config_fingerprint} == {
        "load-dataset"}


def test_removed_after_changes_the_graph(tmp_path):
    base = _training(FIXTURE)
    root = _copy(tmp_path)
    edit_file(root, "pipelines/training.py", "        final.after(sweep)\n", "")
    head = _training(root)
    assert head.graph_fingerprint != base.graph_fingerprint
    assert ("train-model", "train-model-2", "order", None, None) not in edges(head)


# ---------------------------------------------------------------------- change cases, decided
def test_environment_keys_of_components_make_a_version(tmp_path):
    import pvcheck
    from tests.conftest import write_tree

    pipeline = """
        from kfp import dsl
        from c import build

        @dsl.pipeline
        def p():
            build(n=1)
    """
    component = """
        from kfp import dsl

        @dsl.component(base_image="python:3.11", target_image="{image}", pip_index_urls=["{index}"])
        def build(n: int) -> int:
            return n
    """
    base = write_tree(tmp_path / "base", {"p.py": pipeline, "c.py": component.format(image="a:1", index="https://a")})
    for image, index, rule in (("a:2", "https://a", "PV205"), ("a:1", "https://b", "PV205")):
        head = write_tree(tmp_path / f"{image}{index[-1]}", {
            "p.py": pipeline, "c.py": component.format(image=image, index=index)})
        report = pvcheck.diff(base, head, cache=False)
        assert report.pipelines[0].decision.value == "version"
        assert {f.rule for f in report.pipelines[0].findings} == {rule}


def test_pipelines_inside_pipelines_are_inlined_once(tree):
    project = tree({"c.py": COMPONENTS, "p.py": """
        from kfp import dsl
        from c import make, sink

        @dsl.pipeline
        def inner(n: int) -> int:
            return make(n=n).output

        @dsl.pipeline
        def quiet(n: int):
            make(n=n)

        @dsl.pipeline
        def outer():
            first = inner(n=1)
            sink(value=first)
            sink(value=inner(n=2).outputs["x"])
            quiet(n=3).after(first)
    """})
    pipeline = only_pipeline(project, "outer")
    assert [s.id for s in pipeline.steps] == ["make", "sink", "make-2", "sink-2", "make-3"]
    assert edges(pipeline) == sorted([
        ("make", "sink", "data", "Output", "value"),
        ("make-2", "sink-2", "data", "Output", "value"),
    ])
    assert pipeline.dynamic  # .after() on a nested pipeline's result that is no task
    assert any(".after() on something that is not a task" in m for m in dynamic_messages(project))


def test_a_tree_mixing_frameworks_tags_each_pipeline(tree):
    project = tree({
        "zen.py": """
            from zenml import pipeline, step

            @step
            def s() -> int:
                return 1

            @pipeline
            def zen_pipeline():
                s()
        """,
        "pref.py": """
            from prefect import flow, task

            @task
            def t() -> int:
                return 1

            @flow
            def pref_flow():
                t()
        """,
        "kube.py": """
            from kfp import dsl

            @dsl.component
            def c() -> int:
                return 1

            @dsl.pipeline
            def kube_pipeline():
                c()
        """,
    })
    assert sorted((p.framework, p.name, [s.id for s in p.steps]) for p in project.pipelines) == [
        ("kfp", "kube-pipeline", ["c"]), ("prefect", "pref-flow", ["t"]), ("zenml", "zen_pipeline", ["s"])]
    assert project.diagnostics == ()


def test_tasks_of_components_pvcheck_cannot_see_into_are_reported(tree):
    project = tree({"c.py": COMPONENTS, "p.py": """
        from typing import NamedTuple

        from google_cloud_pipeline_components.v1.custom_job import CustomTrainingJobOp
        from kfp import components, dsl, kubernetes
        from c import make, sink

        Pair = NamedTuple("Pair", [("a", int), ("b", int)])

        @dsl.pipeline
        def uses_output():
            job = CustomTrainingJobOp(project="p", worker_pool_specs=[])
            sink(value=job.outputs["gcp_resources"])

        @dsl.pipeline
        def uses_after():
            pvc = kubernetes.CreatePVC(pvc_name_suffix="-x", size="5Gi")
            make(n=1).after(pvc)

        @dsl.pipeline
        def made_for_effect():
            components.load_component_from_file("step.yaml")(x=1)

        @dsl.pipeline
        def only_wiring(n: int) -> Pair:
            label = str(n)
            sink(value=label)
            return Pair(make(n=n).output, make(n=2).output)
    """})
    for name in ("uses-after", "made-for-effect"):
        assert only_pipeline(project, name).dynamic, name
    messages = dynamic_messages(project)
    # a prebuilt component of an installed package is a node named by its qualified name
    uses_output = only_pipeline(project, "uses-output")
    assert not uses_output.dynamic
    job = uses_output.step("customtrainingjobop")
    assert job is not None and job.function == "google_cloud_pipeline_components.v1.custom_job.CustomTrainingJobOp"
    assert job.inputs == {"project": "p", "worker_pool_specs": []}
    assert [(e.source, e.target) for e in uses_output.edges] == [("customtrainingjobop", "sink")]
    assert not any("CustomTrainingJobOp" in m for m in messages)
    assert any("'kfp.kubernetes.CreatePVC'" in m for m in messages)
    wiring = only_pipeline(project, "only-wiring")
    assert not wiring.dynamic
    assert [s.id for s in wiring.steps] == ["sink", "make", "make-2"]
