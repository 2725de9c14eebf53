"""Airflow: TaskFlow and classic DAGs, task ids, dependencies, operator bodies and config."""

from __future__ import annotations

from pvcheck.analyzer import scan_tree
from pvcheck.model import Pipeline, Project
from tests.conftest import FIXTURES, only_pipeline


def edges(pipeline: Pipeline) -> set[tuple]:
    return {(e.source, e.target, e.kind) for e in pipeline.edges}


def ids(pipeline: Pipeline) -> list[str]:
    return [s.id for s in pipeline.steps]


def airflow(project: Project) -> list[Pipeline]:
    return [p for p in project.pipelines if p.framework == "airflow"]


def dynamic_messages(project: Project) -> list[str]:
    return [d.message for d in project.diagnostics if d.code == "PV010"]


# ---------------------------------------------------------------------- the fixture project
def test_fixture_dags_and_frameworks():
    project = scan_tree(FIXTURES / "airflow_reports")
    assert sorted(p.name for p in project.pipelines) == ["daily_reports", "sales_etl", "warehouse_maintenance"]
    assert {p.framework for p in project.pipelines} == {"airflow"}
    assert not project.diagnostics
    assert not any(p.dynamic for p in project.pipelines)


def test_fixture_taskflow_dag_graph():
    pipeline = only_pipeline(scan_tree(FIXTURES / "airflow_reports"), "sales_etl")
    assert sorted(ids(pipeline)) == sorted([
        "extract_orders", "clean", "extract_us", "clean__1", "merge",
        "quality_checks.check_not_empty", "quality_checks.check_no_negative",
        "summarise", "archive", "done",
    ])
    assert {s.id: s.kind for s in pipeline.steps}["done"] == "operator"
    assert {s.kind for s in pipeline.steps if s.id != "done"} == {"task"}
    assert {(e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges if e.kind == "data"} == {
        ("extract_orders", "clean", "data", "return_value", "rows"),
        ("extract_us", "clean__1", "data", "return_value", "rows"),
        ("clean", "merge", "data", "return_value", "left"),
        ("clean__1", "merge", "data", "return_value", "right"),
        ("merge", "quality_checks.check_not_empty", "data", "return_value", "rows"),
        ("merge", "quality_checks.check_no_negative", "data", "return_value", "rows"),
        ("merge", "summarise", "data", "return_value", "rows"),
    }
    # the task group's leaves come before summarise; summarise before both of the list
    assert {e for e in edges(pipeline) if e[2] == "order"} == {
        ("quality_checks.check_not_empty", "summarise", "order"),
        ("quality_checks.check_no_negative", "summarise", "order"),
        ("summarise", "archive", "order"),
        ("summarise", "done", "order"),
    }
    assert pipeline.config["schedule"] == "@daily"
    assert pipeline.config["tags"] == ["sales"]
    extract = pipeline.step("extract_orders")
    assert extract.config == {"retries": 2} and extract.inputs == {"region": "eu"}
    assert pipeline.step("extract_us").function == "dags.sales_etl.extract_orders"
    assert pipeline.step("summarise").function == "dags.sales_etl.sales_pipeline.<locals>.summarise"
    assert [h.name for h in pipeline.step("clean").helpers] == ["utils.formatting.normalise_amount"]


def test_fixture_classic_with_dag_graph():
    pipeline = only_pipeline(scan_tree(FIXTURES / "airflow_reports"), "daily_reports")
    assert ids(pipeline) == ["start", "fetch_exports", "build.summary", "build.regional", "publish", "notify"]
    assert {s.kind for s in pipeline.steps} == {"operator"}
    assert edges(pipeline) == {
        ("start", "fetch_exports", "order"),
        ("fetch_exports", "build.summary", "order"),
        ("fetch_exports", "build.regional", "order"),
        ("build.summary", "publish", "order"),
        ("build.regional", "publish", "order"),
        ("publish", "notify", "order"),
    }
    assert pipeline.config["default_args"]["retries"] == 1
    summary = pipeline.step("build.summary")
    assert summary.config == {"op_kwargs": {"currency": "EUR"}}
    assert {h.name for h in summary.helpers} >= {"reports.builders.build_daily_summary",
                                                  "utils.formatting.format_currency", "utils.storage.write_report"}
    assert pipeline.step("fetch_exports").config == {"retries": 3}
    assert pipeline.step("notify").config == {"pool": "notifications"}


def test_fixture_classic_assignment_dag_graph():
    pipeline = only_pipeline(scan_tree(FIXTURES / "airflow_reports"), "warehouse_maintenance")
    assert ids(pipeline) == ["vacuum_orders", "vacuum_customers", "snapshot", "report", "cleanup"]
    assert edges(pipeline) == {
        ("vacuum_orders", "snapshot", "order"), ("vacuum_orders", "report", "order"),
        ("vacuum_customers", "snapshot", "order"), ("vacuum_customers", "report", "order"),
        ("snapshot", "cleanup", "order"),
    }
    assert pipeline.step("vacuum_orders").config["params"] == {"table": "orders"}
    assert pipeline.step("vacuum_customers").config["params"] == {"table": "customers"}
    # the SQL is a module constant: part of the body, as a helper
    assert [h.name for h in pipeline.step("vacuum_orders").helpers] == ["dags.warehouse_maintenance.VACUUM"]


# ---------------------------------------------------------------------- recognition
def test_aliases_and_airflow3_imports(tree):
    project = tree({"dags/a.py": """
        import airflow.sdk as af
        from airflow.decorators import task as airflow_task
        from airflow import DAG as Dag
        from airflow.operators import bash

        @af.task
        def one():
            return 1

        @airflow_task(retries=1)
        def two(x):
            return x

        @af.dag(dag_id="aliased")
        def flow():
            two(one())

        with Dag("classic_aliased") as d:
            bash.BashOperator(task_id="hello", bash_command="echo hi")
    """})
    assert sorted(p.name for p in airflow(project)) == ["aliased", "classic_aliased"]
    assert ids(only_pipeline(project, "aliased")) == ["one", "two"]
    assert ids(only_pipeline(project, "classic_aliased")) == ["hello"]


def test_near_misses_are_not_airflow(tree):
    project = tree({
        "mylib.py": """
            def task(fn=None, **kw):
                return fn

            def dag(fn=None, **kw):
                return fn

            class DAG:
                def __init__(self, *a, **k): ...
                def __enter__(self): return self
                def __exit__(self, *a): ...
        """,
        "dags/b.py": """
            import airflow
            from mylib import DAG, dag, task

            @task
            def one():
                return 1

            @dag
            def not_a_dag():
                one()

            with DAG("nope"):
                pass
        """,
        "dags/c.py": """
            from airflow.decorators import dag

            def task(fn):  # a local function merely named task
                return fn

            @task
            def plain():
                return 1

            @dag
            def real():
                plain()
        """,
    })
    assert [p.name for p in airflow(project)] == ["real"]
    assert ids(only_pipeline(project, "real")) == []


def test_taskflow_duplicate_ids_follow_airflow(tree):
    pipeline = only_pipeline(tree({"dags/d.py": """
        from airflow.decorators import dag, task, task_group

        @task
        def step(x=None):
            return x

        @task_group
        def grp():
            step(step())

        @dag
        def dups():
            step()
            step()
            step.override(task_id="step__1")()
            step()
            grp()
            grp()
    """}))
    # get_unique_task_id: the first repeat is __1, then one more than the highest suffix
    assert ids(pipeline) == ["step", "step__1", "step__2", "step__3", "grp.step", "grp.step__1",
                             "grp__1.step", "grp__1.step__1"]


def test_task_group_without_prefix_and_classic_group(tree):
    pipeline = only_pipeline(tree({"dags/e.py": """
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from airflow.utils.task_group import TaskGroup

        with DAG("groups"):
            first = EmptyOperator(task_id="first")
            with TaskGroup("outer") as outer:
                with TaskGroup(group_id="inner", prefix_group_id=False) as inner:
                    a = EmptyOperator(task_id="a")
                b = EmptyOperator(task_id="b")
                a >> b
            last = EmptyOperator(task_id="last")
            first >> outer >> last
    """}))
    assert ids(pipeline) == ["first", "outer.a", "outer.b", "last"]
    assert edges(pipeline) == {("first", "outer.a", "order"), ("outer.a", "outer.b", "order"),
                               ("outer.b", "last", "order")}


def test_dependency_forms(tree):
    pipeline = only_pipeline(tree({"dags/f.py": """
        from airflow import DAG
        from airflow.models.baseoperator import chain, chain_linear, cross_downstream
        from airflow.operators.empty import EmptyOperator
        from airflow.utils.edgemodifier import Label

        with DAG("deps") as dag:
            a, b, c, d, e, f, g, h = [EmptyOperator(task_id=n) for n in "abcdefgh"]
    """}))
    # a list comprehension is not followed: the tasks are unknown, and that is reported
    assert pipeline.dynamic

    pipeline = only_pipeline(tree({"dags/f.py": """
        from airflow import DAG
        from airflow.models.baseoperator import chain, chain_linear, cross_downstream
        from airflow.operators.empty import EmptyOperator
        from airflow.utils.edgemodifier import Label

        with DAG("deps") as dag:
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            c = EmptyOperator(task_id="c")
            d = EmptyOperator(task_id="d")
            e = EmptyOperator(task_id="e")
            f = EmptyOperator(task_id="f")
            g = EmptyOperator(task_id="g")
            h = EmptyOperator(task_id="h")
            [a, b] >> c
            d << c
            chain(d, [e, f], [g, h])
            chain_linear(a, [g, h])
            cross_downstream([e], [h])
            a.set_downstream(h)
            h.set_upstream([b])
            a >> Label("why") >> d
    """}))
    assert not pipeline.dynamic
    assert edges(pipeline) == {
        ("a", "c", "order"), ("b", "c", "order"), ("c", "d", "order"),
        ("d", "e", "order"), ("d", "f", "order"), ("e", "g", "order"), ("f", "h", "order"),
        ("a", "g", "order"), ("a", "h", "order"), ("e", "h", "order"), ("b", "h", "order"),
        ("a", "d", "order"),
    }


def test_several_classic_dags_in_one_module(tree):
    project = tree({"dags/g.py": """
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        first = DAG("first")
        second = DAG("second")
        one = BashOperator(task_id="one", bash_command="echo 1", dag=first)
        two = BashOperator(task_id="two", bash_command="echo 2", dag=second)
        with first:
            three = BashOperator(task_id="three", bash_command="echo 3")
        one >> three

        if __name__ == "__main__":
            first.test()
    """})
    assert ids(only_pipeline(project, "first")) == ["one", "three"]
    assert edges(only_pipeline(project, "first")) == {("one", "three", "order")}
    assert ids(only_pipeline(project, "second")) == ["two"]
    assert not dynamic_messages(project)


def test_taskflow_in_classic_block_mapping_and_xcom_edges(tree):
    pipeline = only_pipeline(tree({"dags/h.py": """
        from airflow import DAG
        from airflow.decorators import task
        from airflow.operators.bash import BashOperator

        with DAG("mixed"):
            @task
            def numbers():
                return [1, 2, 3]

            @task
            def double(x, factor):
                return x * factor

            listed = BashOperator(task_id="list_files", bash_command="ls /data")
            doubled = double.partial(factor=2).expand(x=numbers())
            BashOperator(task_id="use_output", bash_command="echo", env={"FILES": listed.output})
    """}))
    assert ids(pipeline) == ["list_files", "numbers", "double", "use_output"]
    assert {(e.source, e.target, e.kind, e.input) for e in pipeline.edges} == {
        ("numbers", "double", "data", "x"),
        ("list_files", "use_output", "data", "env"),
    }
    double = pipeline.step("double")
    assert double.inputs["factor"] == 2 and double.config["$mapped"] is True
    assert double.function == "dags.h.double"


def test_unfollowable_code_is_reported_and_dynamic(tree):
    project = tree({"dags/i.py": """
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        def make(name):
            return BashOperator(task_id=name, bash_command="echo")

        def factory():
            with DAG("built_in_a_function"):
                pass

        with DAG("dyn"):
            BashOperator(task_id=make_id(), bash_command="echo")
            make(task_id="x")
    """})
    pipeline = only_pipeline(project, "dyn")
    assert pipeline.dynamic
    messages = dynamic_messages(project)
    assert any("task_id computed at run time" in m for m in messages)
    assert any("factory" in m for m in messages)
    assert any("DAG factory" in m for m in messages)


# ---------------------------------------------------------------------- fingerprints
CLASSIC = """
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator
    from jobs import compute

    with DAG("fp", schedule="@daily") as dag:
        a = BashOperator(task_id="a", bash_command="echo hello", retries=2)
        b = PythonOperator(task_id="b", python_callable=compute)
        a >> b
"""
JOBS = """
    from helpers import scale

    def compute():
        return scale(2)
"""
HELPERS = """
    def scale(x):
        return x * 10
"""


def scan_classic(tree, dag=CLASSIC, jobs=JOBS, helpers=HELPERS) -> Pipeline:
    return only_pipeline(tree({"dags/fp.py": dag, "jobs.py": jobs, "helpers.py": helpers}))


def test_operator_command_is_body_and_kwargs_are_config(tree):
    base = scan_classic(tree)
    command = scan_classic(tree, CLASSIC.replace("echo hello", "echo goodbye"))
    retries = scan_classic(tree, CLASSIC.replace("retries=2", "retries=5"))
    operator = scan_classic(tree, CLASSIC.replace('BashOperator(task_id="a"', 'PythonOperator(task_id="a"'))
    a, a_cmd, a_ret, a_op = (p.step("a") for p in (base, command, retries, operator))
    assert a_cmd.body_fingerprint != a.body_fingerprint and a_cmd.config_fingerprint == a.config_fingerprint
    assert a_ret.body_fingerprint == a.body_fingerprint and a_ret.config_fingerprint != a.config_fingerprint
    assert a_ret.fingerprint == a.fingerprint and retries.fingerprint == base.fingerprint
    assert a_op.body_fingerprint != a.body_fingerprint
    assert a.kind == "operator" and a.config == {"retries": 2}


def test_python_callable_body_and_helpers_are_the_operator_body(tree):
    base = scan_classic(tree).step("b")
    changed_callable = scan_classic(tree, jobs=JOBS.replace("scale(2)", "scale(3)")).step("b")
    changed_helper = scan_classic(tree, helpers=HELPERS.replace("x * 10", "x * 100")).step("b")
    cosmetic_helper = scan_classic(tree, helpers=HELPERS.replace("return x * 10", "# scaled\n        return (x*10)")).step("b")
    assert changed_callable.body_fingerprint != base.body_fingerprint
    assert changed_helper.body_fingerprint != base.body_fingerprint
    assert cosmetic_helper.body_fingerprint == base.body_fingerprint
    assert [h.name for h in base.helpers] == ["helpers.scale", "jobs.compute"]


def test_cosmetic_edits_keep_every_fingerprint(tree):
    base = scan_classic(tree)
    cosmetic = scan_classic(tree, """
        # the same DAG, reformatted
        from airflow.operators.python import PythonOperator
        from airflow.operators.bash import BashOperator
        from airflow import DAG
        from jobs import compute

        with DAG(
            "fp",
            schedule='@daily',
        ) as dag:
            a = BashOperator(
                task_id='a',
                bash_command='echo hello',  # greet
                retries=2,
            )
            b = PythonOperator(task_id='b', python_callable=compute,)

            a >> b
    """)
    assert cosmetic.fingerprint == base.fingerprint
    assert cosmetic.config_fingerprint == base.config_fingerprint
    for step in base.steps:
        other = cosmetic.step(step.id)
        assert (other.fingerprint, other.config_fingerprint) == (step.fingerprint, step.config_fingerprint)


TASKFLOW = """
    from airflow.decorators import dag, task

    @task(retries=1)
    def extract():
        rows = [1, 2, 3]
        return rows

    @task.docker(image="python:3.12-slim")
    def load(rows):
        return len(rows)

    @dag(schedule="@daily")
    def flow():
        load(extract())
"""


def test_taskflow_fingerprints(tree):
    base = only_pipeline(tree({"dags/t.py": TASKFLOW}))
    renamed_local = only_pipeline(tree({"dags/t.py": TASKFLOW.replace("rows = [1, 2, 3]\n        return rows",
                                                                         "values = [1, 2, 3]\n        return values")}))
    retries = only_pipeline(tree({"dags/t.py": TASKFLOW.replace("retries=1", "retries=4")}))
    image = only_pipeline(tree({"dags/t.py": TASKFLOW.replace("3.12-slim", "3.13-slim")}))
    schedule = only_pipeline(tree({"dags/t.py": TASKFLOW.replace('schedule="@daily"', 'schedule="@hourly"')}))
    assert renamed_local.fingerprint == base.fingerprint
    assert retries.fingerprint == base.fingerprint
    assert retries.step("extract").config_fingerprint != base.step("extract").config_fingerprint
    # the container image is part of what a @task.docker runs
    assert image.step("load").body_fingerprint != base.step("load").body_fingerprint
    assert "image" not in base.step("load").config
    assert schedule.fingerprint == base.fingerprint and schedule.config_fingerprint != base.config_fingerprint


def test_removing_an_edge_changes_the_graph(tree):
    base = scan_classic(tree)
    without = scan_classic(tree, CLASSIC.replace("        a >> b\n", ""))
    assert edges(without) == set() and edges(base) == {("a", "b", "order")}
    assert without.graph_fingerprint != base.graph_fingerprint


def test_chain_star_setup_and_teardown(tree):
    pipeline = only_pipeline(tree({"dags/st.py": """
        from airflow.sdk import DAG, chain, setup, task, teardown

        with DAG("st"):
            @task
            def work(x=None):
                return 1

            @setup
            def create_cluster():
                return "cluster"

            @teardown
            def delete_cluster(cluster):
                pass

            first = work.override(task_id="first")()
            second = work.override(task_id="second")()
            steps = [first, second]
            chain(*steps)
            third = work.override(task_id="third")()
            second >> third.as_teardown(setups=first)
            with delete_cluster(create_cluster()):
                work.override(task_id="inside")()
    """}))
    assert not pipeline.dynamic
    assert edges(pipeline) == {
        ("first", "second", "order"), ("second", "third", "order"), ("first", "third", "order"),
        ("create_cluster", "delete_cluster", "data"),
        # a teardown used as a context: its setup before the block, the teardown after it
        ("create_cluster", "inside", "order"), ("inside", "delete_cluster", "order"),
    }
