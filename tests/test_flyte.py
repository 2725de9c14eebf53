"""Flyte: task names, node ids, promises, ordering, map tasks, conditionals, subworkflows,
launch plans, settings, flyte-sdk 2 environments, and a comparison with flytekit's own
compiled workflows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.frameworks.flyte_graph import dnsify
from tests.conftest import FIXTURES, only_pipeline

FIXTURE = FIXTURES / "flyte_fraud"


def edges(pipeline):
    return sorted((e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges)


def dynamic_messages(project):
    return [d.message for d in project.diagnostics if d.code == "PV010"]


# ---------------------------------------------------------------------- the fixture project
def test_fixture_pipelines():
    project = scan_tree(FIXTURE)
    assert [(p.name, p.framework, p.path, p.function) for p in project.pipelines] == [
        ("workflows.scoring.nightly_scoring", "flyte", "workflows/scoring.py", "workflows.scoring.nightly_scoring"),
        ("workflows.training.fraud_training", "flyte", "workflows/training.py",
         "workflows.training.fraud_training"),
    ]
    assert project.diagnostics == ()
    pipeline = only_pipeline(project, "workflows.training.fraud_training")
    assert not pipeline.dynamic
    assert [(p.name, p.default) for p in pipeline.parameters] == [
        ("uri", "s3://acme-fraud/transactions/latest"), ("ratio", 0.8)]


def test_fixture_training_nodes():
    pipeline = only_pipeline(scan_tree(FIXTURE), "workflows.training.fraud_training")
    assert [(s.id, s.function, s.name, s.kind) for s in pipeline.steps] == [
        ("n0", "tasks.ingest.load_transactions", "tasks.ingest.load_transactions", "task"),
        ("n1", "tasks.ingest.validate", "tasks.ingest.validate", "task"),
        ("n2", "tasks.features.split", "tasks.features.split", "task"),
        ("fit-model", "tasks.model.train", "tasks.model.train", "task"),  # with_overrides(node_name="fit_model")
        ("n4", "tasks.model.evaluate", "tasks.model.evaluate", "task"),
        ("n5", "tasks.model.score_one", "tasks.model.score_one", "map_task"),
        ("n6-n0", "tasks.model.publish", "tasks.model.publish", "task"),  # the branch node is n6
        ("n6-n1", "tasks.model.alert", "tasks.model.alert", "task"),
        ("n7", "tasks.model.summarize", "tasks.model.summarize", "task"),
        ("n8", "tasks.ingest.validate", "tasks.ingest.validate", "task"),  # create_node(validate, ...)
        ("n9", "tasks.model.notify", "tasks.model.notify", "task"),
    ]
    outputs = {s.id: [o.name for o in s.outputs] for s in pipeline.steps}
    assert outputs["n2"] == ["o0", "o1"]
    assert outputs["n4"] == ["auc", "report"]  # a NamedTuple's fields
    assert outputs["n1"] == [] and outputs["n0"] == ["o0"]


def test_fixture_training_edges():
    pipeline = only_pipeline(scan_tree(FIXTURE), "workflows.training.fraud_training")
    assert edges(pipeline) == [
        ("fit-model", "n4", "data", "o0", "weight"),
        ("fit-model", "n6-n0", "data", "o0", "weight"),
        ("n0", "n1", "data", "o0", "rows"),
        ("n0", "n2", "data", "o0", "rows"),
        ("n1", "n2", "order", None, None),  # checked >> train_rows (a VoidPromise)
        ("n2", "fit-model", "data", "o0", "rows"),
        ("n2", "n4", "data", "o1", "rows"),
        ("n2", "n5", "data", "o1", "amount"),
        ("n2", "n8", "data", "o1", "rows"),
        ("n4", "n6-n0", "order", None, None),  # the condition reads metrics.auc
        ("n4", "n6-n1", "data", "auc", "auc"),
        ("n4", "n6-n1", "order", None, None),
        ("n4", "n7", "data", "report", "report"),
        ("n5", "n7", "data", "o0", "scores"),
        ("n6-n0", "n7", "data", None, "decision"),  # the conditional's output: either branch
        ("n6-n1", "n7", "data", None, "decision"),
        ("n8", "n9", "order", None, None),  # audit >> done (create_node nodes)
    ]
    conditions = {s.id: s.inputs.get("$condition") for s in pipeline.steps if "$condition" in s.inputs}
    assert conditions == {
        "n6-n0": ["conditional 'auc_gate'", "({n4.auc} >= 0.75)"],
        "n6-n1": ["conditional 'auc_gate'", "not ({n4.auc} >= 0.75)"],
    }


def test_fixture_configuration():
    pipeline = only_pipeline(scan_tree(FIXTURE), "workflows.training.fraud_training")
    config = {s.id: s.config for s in pipeline.steps}
    assert config["n0"] == {"retries": 3, "cache": {"$call": "flytekit.Cache", "version": "2024-11",
                                                   "serialize": True}}
    assert config["n2"] == {"requests": {"$call": "flytekit.Resources", "cpu": "1", "mem": "500Mi"}}
    assert config["fit-model"]["retries"] == 2  # from with_overrides
    assert config["fit-model"]["container_image"] == {
        "$call": "flytekit.ImageSpec", "name": "fraud-training", "base_image": "python:3.11-slim",
        "python_version": "3.11", "packages": ["scikit-learn==1.5.2", "numpy==2.1.3"],
        "apt_packages": ["libgomp1"]}
    assert config["n5"] == {"map_task": {"concurrency": 4}}
    assert pipeline.step("n5").inputs == {"amount": {"$step": "n2", "output": "o1"}, "weight": 0.02}
    assert pipeline.config == {"launch_plans": {"nightly_training": {"fixed_inputs": {"ratio": 0.7}}}}


def test_fixture_subworkflow_and_launch_plan_nodes():
    pipeline = only_pipeline(scan_tree(FIXTURE), "workflows.scoring.nightly_scoring")
    ids = [s.id for s in pipeline.steps]
    assert ids[:1] == ["n0"]
    # the subworkflow is node n1, the launch plan node n2; their nodes are numbered inside them
    inner = ["n0", "n1", "n2", "fit-model", "n4", "n5", "n6-n0", "n6-n1", "n7", "n8", "n9"]
    assert sorted(ids) == sorted(["n0", *(f"n1-{i}" for i in inner), *(f"n2-{i}" for i in inner)])
    assert ("n0", "n1-n7", "order", None, None) in edges(pipeline)  # rows >> fresh: onto its output node
    assert ("n1-n0", "n1-n1", "data", "o0", "rows") in edges(pipeline)


def test_dnsify_matches_flytekit():
    assert dnsify("fit_model") == "fit-model"
    assert dnsify("TrainModel") == "train-model"
    assert dnsify("_private.step-") == "private-step"
    utils = pytest.importorskip("flytekit.core.utils")
    for name in ("fit_model", "TrainModel", "_private.step-", "a" * 70, "x__Y..z", "Näme 2"):
        assert dnsify(name) == utils._dnsify(name), name


# ---------------------------------------------------------------------- flytekit itself
_COMPILE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import importlib
from flytekit.core.condition import BranchNode
from flytekit.core.launch_plan import LaunchPlan
from flytekit.core.workflow import WorkflowBase
from flytekit.core.array_node_map_task import ArrayNodeMapTask

def flatten(nodes, prefix, top, out, links, outer_scope):
    for node in nodes:
        full = prefix + node.id
        head = top or full
        entity = node.flyte_entity
        if outer_scope:  # top-level nodes, and branch nodes (whose upstreams are the workflow's)
            links.extend([up.id, head] for up in node.upstream_nodes)
        if isinstance(entity, BranchNode):
            block = entity._ifelse_block
            cases = [block.case, *(block.other or [])]
            thens = [c.then_node for c in cases] + ([block.else_node] if block.else_node else [])
            flatten([t for t in thens if t is not None], full + "-", head, out, links, outer_scope)
        elif isinstance(entity, LaunchPlan):
            flatten(entity.workflow.nodes, full + "-", head, out, links, False)
        elif isinstance(entity, WorkflowBase):
            flatten(entity.nodes, full + "-", head, out, links, False)
        elif isinstance(entity, ArrayNodeMapTask):
            out.append([full, entity.python_function_task.name])
        else:
            out.append([full, entity.name])

result = {}
for module, function in [("workflows.training", "fraud_training"), ("workflows.scoring", "nightly_scoring")]:
    workflow = getattr(importlib.import_module(module), function)
    out, links = [], []
    flatten(workflow.nodes, "", None, out, links, True)
    result[workflow.name] = {"nodes": out, "links": links, "tops": [n.id for n in workflow.nodes]}
print(json.dumps(result))
"""


def test_graph_matches_flytekits_compiled_workflows():
    """pvcheck's node ids, task names and dependencies are flytekit's, for the fixture."""
    pytest.importorskip("flytekit")
    done = subprocess.run([sys.executable, "-c", _COMPILE, str(FIXTURE)], capture_output=True, text=True,
                          timeout=300, cwd=FIXTURE)
    assert done.returncode == 0, done.stderr[-2000:]
    compiled = json.loads(done.stdout.strip().splitlines()[-1])
    project = scan_tree(FIXTURE)
    assert sorted(compiled) == sorted(p.name for p in project.pipelines)
    for pipeline in project.pipelines:
        flytekit = compiled[pipeline.name]
        assert sorted((s.id, s.name) for s in pipeline.steps) == sorted(tuple(n) for n in flytekit["nodes"])
        # dependencies between the workflow's own nodes: a node inside a branch, subworkflow or
        # launch plan counts as its top-level node, as flytekit's upstream_nodes do
        tops = sorted(flytekit["tops"], key=len, reverse=True)

        def top(node_id: str) -> str:
            return next(t for t in tops if node_id == t or node_id.startswith(t + "-"))

        theirs = {(top(source), head) for source, head in flytekit["links"] if top(source) != head}
        ours = {(top(e.source), top(e.target)) for e in pipeline.edges if top(e.source) != top(e.target)}
        assert ours == theirs, pipeline.name


# ---------------------------------------------------------------------- small trees
def test_decorator_aliases_and_called_forms(tree):
    project = tree({
        "tasks.py": """
            import flytekit as fl
            from flytekit import task as t

            @t
            def one() -> int:
                return 1

            @fl.task(retries=2)
            def two(x: int) -> int:
                return x + 1

            @fl.core.task.task()
            def three(x: int, y: int) -> None:
                print(x, y)
        """,
        "flows.py": """
            from flytekit import workflow as wf
            from tasks import one, two, three

            @wf()
            def aliased(y: int = 3):
                three(x=two(x=one()), y=y)
        """,
    })
    pipeline = only_pipeline(project, "flows.aliased")
    assert [(s.id, s.name) for s in pipeline.steps] == [("n0", "tasks.one"), ("n1", "tasks.two"), ("n2", "tasks.three")]
    assert edges(pipeline) == [("n0", "n1", "data", "o0", "x"), ("n1", "n2", "data", "o0", "x")]
    assert pipeline.step("n1").config == {"retries": 2}
    assert pipeline.step("n2").inputs == {"x": {"$step": "n1", "output": "o0"}, "y": {"$param": "y"}}
    assert project.diagnostics == ()


def test_a_function_merely_named_task_is_not_a_task(tree):
    project = tree({
        "a.py": """
            from flytekit import workflow

            def task(f):
                return f

            @task
            def plain() -> int:
                return 1

            @workflow
            def wf():
                plain()
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    assert pipeline.steps == ()
    assert any("a.plain" in m for m in dynamic_messages(project))


_OUTPUTS = """
    from typing import NamedTuple, Tuple
    from flytekit import task, workflow

    One = NamedTuple("One", [("total", int)])

    @task
    def pair() -> Tuple[int, str]:
        return 1, "a"

    @task
    def named() -> One:
        return One(total=1)

    @task
    def use(a: int, b: str) -> int:
        return a

    @workflow
    def wf():
        p = pair()
        use(a=p.o0, b=p[1])
        x, y = pair()
        use(a=named().total, b=y)
        use(a=named()[0], b=y)
"""


def test_outputs_by_attribute_index_and_unpacking(tree):
    pipeline = only_pipeline(tree({"a.py": _OUTPUTS}), "a.wf")
    assert [s.id for s in pipeline.steps] == ["n0", "n1", "n2", "n3", "n4", "n5", "n6"]
    assert edges(pipeline) == [
        ("n0", "n1", "data", "o0", "a"), ("n0", "n1", "data", "o1", "b"),
        ("n2", "n4", "data", "o1", "b"), ("n2", "n6", "data", "o1", "b"),
        ("n3", "n4", "data", "total", "a"),  # a one-field NamedTuple is still a tuple
        ("n5", "n6", "data", "total", "a"),
    ]


def test_ordering_mirrors_flytekits_classes(tree):
    project = tree({
        "a.py": """
            from typing import Tuple
            from flytekit import task, workflow
            from flytekit.core.node_creation import create_node

            @task
            def single() -> int:
                return 1

            @task
            def many() -> Tuple[int, int]:
                return 1, 2

            @task
            def void() -> None:
                pass

            @workflow
            def wf():
                a = single()
                b = void()
                c = many()
                d = void()
                a >> b
                c >> d          # the named tuple's >> is a no-op in flytekit
                b >> d
                e = create_node(void)
                f = create_node(single)
                e.runs_before(f)
                f >> create_node(void)
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    assert edges(pipeline) == [("n0", "n1", "order", None, None), ("n1", "n3", "order", None, None),
                               ("n4", "n5", "order", None, None), ("n5", "n6", "order", None, None)]
    assert project.diagnostics == ()


def test_with_overrides_renames_and_configures_a_node(tree):
    pipeline = only_pipeline(tree({
        "a.py": """
            from flytekit import Resources, task, workflow

            @task
            def load() -> int:
                return 1

            @task
            def train(x: int) -> int:
                return x

            @workflow
            def wf():
                x = load()
                y = train(x=x).with_overrides(node_name="Train_Model", requests=Resources(cpu="4"))
                x.with_overrides(retries=5)
                train(x=y)
        """,
    }), "a.wf")
    assert [s.id for s in pipeline.steps] == ["n0", "train-model", "n2"]
    assert edges(pipeline) == [("n0", "train-model", "data", "o0", "x"), ("train-model", "n2", "data", "o0", "x")]
    assert pipeline.step("train-model").config == {"requests": {"$call": "flytekit.Resources", "cpu": "4"}}
    assert pipeline.step("n0").config == {"retries": 5}
    assert pipeline.step("n2").inputs == {"x": {"$step": "train-model", "output": "o0"}}


def test_map_task_forms(tree):
    project = tree({
        "a.py": """
            import functools
            from functools import partial
            from flytekit import map_task, task, workflow

            @task
            def square(x: int, power: int = 2) -> int:
                return x ** power

            @task
            def items() -> list[int]:
                return [1, 2, 3]

            cubes = map_task(partial(square, power=3), min_success_ratio=0.9)

            @workflow
            def wf():
                xs = items()
                map_task(square)(x=xs)
                cubes(x=xs)
                map_task(functools.partial(square, power=4))(x=xs)
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    assert [(s.id, s.kind) for s in pipeline.steps] == [("n0", "task"), ("n1", "map_task"), ("n2", "map_task"),
                                                        ("n3", "map_task")]
    assert pipeline.step("n2").config == {"map_task": {"min_success_ratio": 0.9}}
    assert pipeline.step("n2").inputs["power"] == 3 and pipeline.step("n3").inputs["power"] == 4
    assert {e.target for e in pipeline.edges} == {"n1", "n2", "n3"}
    assert project.diagnostics == ()


def test_conditional_with_elif_and_fail(tree):
    project = tree({
        "a.py": """
            from flytekit import conditional, task, workflow

            @task
            def coin() -> float:
                return 0.3

            @task
            def low(x: float) -> float:
                return x

            @task
            def high(x: float) -> float:
                return x * 2

            @workflow
            def wf(limit: float = 0.5) -> float:
                x = coin()
                y = (conditional("pick")
                     .if_((x < limit) & (x > 0.1)).then(low(x=x))
                     .elif_(x.is_true()).then(high(x=x))
                     .else_().fail("no branch"))
                return high(x=y)
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    assert [s.id for s in pipeline.steps] == ["n0", "n1-n0", "n1-n1", "n2"]
    assert pipeline.step("n1-n1").inputs["$condition"] == [
        "conditional 'pick'", "not (({n0.o0} < {limit}) & ({n0.o0} > 0.1))", "{n0.o0}.is_true()"]
    assert ("n1-n0", "n2", "data", None, "x") in edges(pipeline)
    assert project.diagnostics == ()


def test_what_cannot_be_followed_is_reported(tree):
    project = tree({
        "a.py": """
            from flytekit import conditional, dynamic, eager, task, workflow

            @task
            def one(x: int) -> int:
                return x

            @dynamic
            def fan(n: int) -> None:
                for i in range(n):
                    one(x=i)

            @eager
            async def steer(n: int) -> int:
                return await one(x=n)

            def helper(x):
                return x

            @workflow
            def wf(n: int = 2):
                fan(n=n)
                steer(n=n)
                for i in [1, 2]:
                    one(x=i)
                for i in range(n):
                    one(x=i)
                helper(1)
                conditional("open").if_(n > 1).then(one(x=n))
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    assert pipeline.dynamic
    assert [(s.id, s.kind) for s in pipeline.steps][:4] == [("n0", "dynamic"), ("n1", "eager"),
                                                            ("n2", "task"), ("n3", "task")]
    messages = "\n".join(dynamic_messages(project))
    assert "@dynamic task 'fan' builds its workflow at run time" in messages
    assert "@eager task 'steer'" in messages
    assert "a loop over values not known statically" in messages
    assert "a call of 'a.helper', which is not a @task" in messages
    assert "a conditional without else_()" in messages


def test_launch_plan_inputs_are_configuration_of_the_workflow(tree):
    project = tree({
        "a.py": """
            from flytekit import LaunchPlan, task, workflow

            @task
            def one(x: int) -> int:
                return x

            @workflow
            def wf(x: int = 1) -> int:
                return one(x=x)

            LaunchPlan.get_or_create(wf)
            weekly = LaunchPlan.get_or_create(workflow=wf, name="weekly", default_inputs={"x": 7})
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    assert pipeline.config == {"launch_plans": {"default": {}, "weekly": {"default_inputs": {"x": 7}}}}


# ---------------------------------------------------------------------- flyte-sdk 2
_FLYTE2 = {
    "envs.py": """
        import flyte

        image = flyte.Image.from_debian_base().with_pip_packages("pandas==2.2.3")
        env = flyte.TaskEnvironment(name="etl", image=image, resources=flyte.Resources(cpu=1))
        gpu = env.clone_with(name="etl_gpu", resources=flyte.Resources(gpu=1))
    """,
    "train.py": """
        from envs import gpu

        @gpu.task(retries=2)
        async def fit(rows: list[int]) -> float:
            return sum(rows) / len(rows)
    """,
    "etl.py": """
        import flyte
        from envs import env
        from train import fit

        @env.task
        async def load(n: int) -> list[int]:
            return list(range(n))

        @env.task(cache="auto")
        async def square(x: int) -> int:
            return x * x

        @env.task
        async def main(n: int = 10) -> float:
            rows = await load(n)
            squares = list(flyte.map(square, rows))
            return await fit(squares)
    """,
}


def test_flyte2_environments_and_tasks(tree):
    project = tree(_FLYTE2)
    etl = only_pipeline(project, "etl")
    assert etl.framework == "flyte" and etl.path == "envs.py"
    assert etl.steps == ()  # its tasks are defined in another module: see the README
    assert only_pipeline(project, "etl_gpu").steps == ()
    assert sorted(m.split(" of environment")[0] for m in dynamic_messages(project)) == [
        "cannot follow statically: flyte task 'fit'", "cannot follow statically: flyte task 'load'",
        "cannot follow statically: flyte task 'main'", "cannot follow statically: flyte task 'square'"]


def test_flyte2_tasks_in_the_environment_module(tree):
    files = dict(_FLYTE2)
    files["envs.py"] = textwrap.dedent(files["envs.py"]) + textwrap.dedent("""
        from train import fit

        @env.task
        async def load(n: int) -> list[int]:
            return list(range(n))

        @env.task(cache="auto")
        async def square(x: int) -> int:
            return x * x

        @env.task
        async def main(n: int = 10) -> float:
            rows = await load(n)
            squares = list(flyte.map(square, rows))
            return await fit(squares)
    """)
    del files["etl.py"]
    project = tree(files)
    etl = only_pipeline(project, "etl")
    assert sorted((s.id, s.name) for s in etl.steps) == [
        ("fit", "etl_gpu.fit"), ("load", "etl.load"), ("main", "etl.main"), ("square", "etl.square")]
    assert edges(etl) == [("main", "fit", "order", None, None), ("main", "load", "order", None, None),
                          ("main", "square", "order", None, None)]
    assert etl.step("square").config["cache"] == "auto"
    assert etl.step("fit").config["resources"] == {"$call": "flyte.Resources", "gpu": 1}
    assert etl.step("fit").config["retries"] == 2
    assert "image" in etl.step("load").config


# ---------------------------------------------------------------------- decisions
_IMAGES = """
    from flytekit import ImageSpec

    IMAGE = ImageSpec(name="fit", base_image="{base}", python_version="{python}", packages=["{package}"],
                      requirements="{requirements}", apt_packages=["{apt}"])
"""
_TASKS = """
    from flytekit import Resources, task, workflow
    from images import IMAGE

    @task(container_image=IMAGE, cache=True, cache_version="{cache}", requests=Resources(cpu="{cpu}"))
    def fit(n: int) -> int:
        return n

    @task(container_image="{plain}")
    def other(n: int) -> int:
        return n

    @workflow
    def wf():
        other(n=fit(n=1))
"""
_DEFAULTS = dict(base="python:3.11-slim", python="3.11", package="numpy==2.1.3", requirements="req.txt", apt="git",
                 cache="1", cpu="1", plain="ghcr.io/acme/other:1")


def _write(root, **values):
    from tests.conftest import write_tree

    merged = {**_DEFAULTS, **values}
    return write_tree(root, {"images.py": _IMAGES.format(**merged), "flows.py": _TASKS.format(**merged)})


@pytest.mark.parametrize("field,value", [
    ("base", "python:3.12-slim"), ("python", "3.12"), ("package", "numpy==2.2.0"),
    ("requirements", "requirements-gpu.txt"), ("apt", "curl"), ("plain", "ghcr.io/acme/other:2"),
])
def test_image_spec_fields_and_images_make_a_version(tmp_path, field, value):
    import pvcheck

    report = pvcheck.diff(_write(tmp_path / "base"), _write(tmp_path / "head", **{field: value}), cache=False)
    assert report.pipelines[0].decision.value == "version"
    assert {f.rule for f in report.pipelines[0].findings} == {"PV205"}


@pytest.mark.parametrize("field,value", [("cache", "2"), ("cpu", "4")])
def test_cache_version_and_resources_are_a_run(tmp_path, field, value):
    import pvcheck

    report = pvcheck.diff(_write(tmp_path / "base"), _write(tmp_path / "head", **{field: value}), cache=False)
    assert report.pipelines[0].decision.value == "run"
    assert {f.rule for f in report.pipelines[0].findings} == {"PV201"}


def test_nodes_pvcheck_cannot_read_still_take_their_ids(tree):
    project = tree({
        "a.py": """
            import functools
            from datetime import timedelta
            from flytekit import LaunchPlan, map_task, sleep, task, workflow
            from flytekit.extras.tasks.shell import ShellTask

            shell = ShellTask(name="shell", script="echo hi")

            @task
            def one(x: int = 1, k: int = 2) -> int:
                return x * k

            @workflow
            def sub():
                one(x=1)
                one(x=2)

            @workflow
            def wf(k: int = 3):
                waited = sleep(timedelta(seconds=5))
                shell()
                first = one(x=1)
                waited >> first
                partial_one = functools.partial(one, k=k)
                map_task(partial_one)(x=[1, 2])
                a = sub()
                b = LaunchPlan.get_or_create(sub, "lp")()
                a >> b
        """,
    })
    pipeline = only_pipeline(project, "a.wf")
    # n0 is the gate node, n1 the shell task: no steps, but flytekit counts them
    assert [s.id for s in pipeline.steps] == ["n2", "n3", "n4-n0", "n4-n1", "n5-n0", "n5-n1"]
    assert pipeline.step("n3").inputs == {"x": [1, 2], "k": {"$param": "k"}}
    order = sorted((e.source, e.target) for e in pipeline.edges if e.kind == "order")
    assert order == [("n4-n0", "n5-n0"), ("n4-n0", "n5-n1"), ("n4-n1", "n5-n0"), ("n4-n1", "n5-n1")]
    messages = "\n".join(dynamic_messages(project))
    assert "a gate node (sleep / wait_for_input / approve), not a step" in messages
    assert "a node of 'a.shell', a task pvcheck cannot see into" in messages
    assert "an ordering (>> / runs_before) of something that is not a node" in messages  # waited >> first


def test_a_task_module_scanned_under_another_name_is_reported(tree):
    project = tree({
        "project/app/tasks.py": """
            from flytekit import task

            @task
            def one() -> int:
                return 1
        """,
        "project/app/flows.py": """
            from flytekit import workflow
            from app import tasks

            @workflow
            def wf():
                tasks.one()
        """,
    })
    pipeline = only_pipeline(project, "project.app.flows.wf")
    assert pipeline.steps == () and pipeline.dynamic
    assert any("a call of 'app.tasks.one', which resolves to nothing in the tree (is it 'project.app.tasks'?"
               in m for m in dynamic_messages(project))


def test_imperative_workflow_in_straight_line_code(tree):
    project = tree({
        "tasks.py": """
            from flytekit import task

            @task
            def slope(x: list[int], y: list[int]) -> float:
                return float(sum(y) - sum(x))

            @task
            def intercept(x: list[int], y: list[int], slope: float) -> float:
                return slope / max(len(x), 1)
        """,
        "imperative.py": """
            from flytekit import Workflow
            from tasks import intercept, slope

            wb = Workflow(name="imperative_workflow")
            wb.add_workflow_input("x", list[int])
            wb.add_workflow_input("y", list[int])
            first = wb.add_entity(slope, x=wb.inputs["x"], y=wb.inputs["y"])
            second = wb.add_entity(intercept, x=wb.inputs["x"], y=wb.inputs["y"], slope=first.outputs["o0"])
            wb.add_workflow_output("wf_output", second.outputs["o0"])

            if __name__ == "__main__":
                print(wb(x=[1, 2], y=[3, 4]))
        """,
    })
    pipeline = only_pipeline(project, "imperative_workflow")
    assert [(s.id, s.name) for s in pipeline.steps] == [("n0", "tasks.slope"), ("n1", "tasks.intercept")]
    assert edges(pipeline) == [("n0", "n1", "data", "o0", "slope")]
    assert [(p.name, p.annotation) for p in pipeline.parameters] == [("x", "list[int]"), ("y", "list[int]")]
    assert pipeline.step("n1").inputs["x"] == {"$param": "x"}
    assert project.diagnostics == ()


def test_partials_called_in_the_workflow_and_wrapped_workflows(tree):
    project = tree({
        "a.py": """
            import functools
            from flytekit import task, workflow

            def traced(fn):
                return fn

            @task
            def slope(x: list[int], y: list[int]) -> float:
                return float(len(x) - len(y))

            @workflow
            def with_partial(x: list[int], y: list[int]) -> float:
                partial_task = functools.partial(slope, x=x)
                return partial_task(y=y)

            @workflow
            @traced
            def wrapped(x: list[int]) -> float:
                return slope(x=x, y=x)
        """,
    })
    pipeline = only_pipeline(project, "a.with_partial")
    assert [(s.id, s.inputs) for s in pipeline.steps] == [("n0", {"x": {"$param": "x"}, "y": {"$param": "y"}})]
    assert not pipeline.dynamic
    assert only_pipeline(project, "a.wrapped").dynamic
    assert any("a decorator 'a.traced' wrapping the workflow function" in m for m in dynamic_messages(project))


def test_flyte2_plugin_environments_and_lookalikes(tree):
    project = tree({
        "a.py": """
            from flyteplugins.pytorch import ClusteredTaskEnvironment
            from mylib import TaskEnvironment

            env = ClusteredTaskEnvironment(name="ddp", image="ghcr.io/acme/ddp:1", replicas=2)
            other = TaskEnvironment(name="not-flyte")

            @env.task
            async def train(epochs: int) -> float:
                return 0.1 * epochs
        """,
    })
    assert [p.name for p in project.pipelines] == ["ddp"]
    assert [s.name for s in project.pipelines[0].steps] == ["ddp.train"]
