"""ZenML decorators are recognised through every import form, and only through imports."""

from __future__ import annotations

import pytest

from tests.conftest import only_pipeline

STEP_MODULE_FORMS = {
    "from_import": ("from zenml import step, pipeline", "@step", "@pipeline"),
    "from_import_alias": ("from zenml import step as s, pipeline as p", "@s", "@p"),
    "import_module": ("import zenml", "@zenml.step", "@zenml.pipeline"),
    "import_module_alias": ("import zenml as zn", "@zn.step", "@zn.pipeline"),
    "called": ("from zenml import step, pipeline", "@step(enable_cache=False)", "@pipeline()"),
    "submodule": ("from zenml.steps import step\nfrom zenml.pipelines import pipeline", "@step", "@pipeline"),
}


@pytest.mark.parametrize("form", sorted(STEP_MODULE_FORMS))
def test_decorator_import_forms(tree, form):
    imports, step_decorator, pipeline_decorator = STEP_MODULE_FORMS[form]
    project = tree({
        "flow.py": f"""
            {imports.replace(chr(10), chr(10) + " " * 12)}

            {step_decorator}
            def load() -> int:
                return 1

            {step_decorator}
            def double(x: int) -> int:
                return 2 * x

            {pipeline_decorator}
            def my_pipeline():
                double(load())
        """,
    })
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["load", "double"]
    assert [(e.source, e.target, e.kind) for e in pipeline.edges] == [("load", "double", "data")]


def test_function_merely_named_step_is_not_a_step(tree):
    project = tree({
        "mytools.py": """
            def step(fn):
                return fn

            def pipeline(fn):
                return fn
        """,
        "flow.py": """
            from zenml import pipeline
            from mytools import step

            @step
            def load() -> int:
                return 1

            @pipeline
            def my_pipeline():
                load()
        """,
    })
    assert only_pipeline(project).steps == ()


def test_local_pipeline_decorator_named_pipeline_is_not_a_pipeline(tree):
    project = tree({
        "flow.py": """
            from zenml import step

            def pipeline(fn):
                return fn

            @step
            def load() -> int:
                return 1

            @pipeline
            def not_a_pipeline():
                load()
        """,
    })
    assert project.pipelines == ()


def test_steps_found_across_modules_absolute_relative_and_reexported(tree):
    project = tree({
        "proj/__init__.py": "",
        "proj/steps/__init__.py": "from .loading import load\nfrom proj.steps.scaling import scale as rescale\n",
        "proj/steps/loading.py": """
            from zenml import step

            @step
            def load() -> int:
                return 1
        """,
        "proj/steps/scaling.py": """
            from zenml import step

            @step
            def scale(x: int, factor: int = 2) -> int:
                return x * factor
        """,
        "proj/steps/report.py": """
            import zenml

            @zenml.step
            def report(x: int) -> None:
                print(x)
        """,
        "proj/pipelines/__init__.py": "",
        "proj/pipelines/main.py": """
            from zenml import pipeline

            from proj.steps import load, rescale
            from ..steps.report import report

            @pipeline
            def main_pipeline():
                report(rescale(load()))
        """,
    })
    pipeline = only_pipeline(project)
    assert [s.id for s in pipeline.steps] == ["load", "scale", "report"]
    assert [s.function for s in pipeline.steps] == [
        "proj.steps.loading.load", "proj.steps.scaling.scale", "proj.steps.report.report"]
    assert [(e.source, e.target, e.output, e.input) for e in pipeline.edges] == [
        ("load", "scale", "output", "x"), ("scale", "report", "output", "x")]
    assert pipeline.path == "proj/pipelines/main.py"


def test_step_name_from_decorator(tree):
    project = tree({
        "flow.py": """
            from zenml import step, pipeline

            @step(name="loader")
            def load() -> int:
                return 1

            @pipeline(name="declared")
            def fn_name():
                load()
                load()
        """,
    })
    pipeline = only_pipeline(project)
    assert pipeline.name == "declared"
    assert [s.id for s in pipeline.steps] == ["loader", "loader_2"]
