"""ZenML's pre-0.40 API (PV026) and ``config_path=`` computed at run time (PV027)."""

from __future__ import annotations

from pvcheck.analyzer import scan_tree
from tests.conftest import FIXTURES, only_pipeline

NEW_STEPS = """
    from zenml import step

    @step
    def load(days: int = 30) -> list:
        return list(range(days))

    @step
    def fit(rows: list, model: str = "rf") -> float:
        return float(len(rows))
"""

NEW_PIPELINE = """
    from zenml import pipeline
    from steps.core import fit, load

    @pipeline
    def training(days: int = 30, model: str = "rf"):
        rows = load(days)
        fit(rows, model=model)
"""


def codes(project, code):
    return [d for d in project.diagnostics if d.code == code]


def test_legacy_pipeline_is_reported_once_and_conservative():
    project = scan_tree(FIXTURES / "zenml_legacy")
    pipeline = only_pipeline(project)
    found = codes(project, "PV026")
    assert [(d.path, d.line) for d in found] == [("pipelines/training.py", 5)]
    assert "ZenML pre-0.40 pipeline 'training_pipeline': steps passed as parameters (importer, trainer)" \
        in found[0].message
    assert "not bound" not in found[0].message  # run.py binds both to repo-local steps
    assert pipeline.dynamic


def test_legacy_fingerprint_covers_the_bound_steps(tmp_path):
    import shutil

    shutil.copytree(FIXTURES / "zenml_legacy", tmp_path / "p")
    before = only_pipeline(scan_tree(tmp_path / "p")).fingerprint
    run = tmp_path / "p" / "run.py"
    # bind another (repo-local) step to `importer`: the pipeline's code is not the same
    (tmp_path / "p" / "steps" / "other.py").write_text(
        "from zenml.steps import step\n\n\n@step\ndef load_other() -> list:\n    return [7]\n", encoding="utf-8")
    run.write_text(run.read_text(encoding="utf-8")
                   .replace("from steps.importer import load_rows", "from steps.other import load_other")
                   .replace("importer=load_rows()", "importer=load_other()"), encoding="utf-8")
    assert only_pipeline(scan_tree(tmp_path / "p")).fingerprint != before


def test_legacy_pipeline_without_a_resolvable_call_site_names_the_parameters(tree):
    project = tree({"steps/__init__.py": "", "steps/core.py": NEW_STEPS, "flow.py": """
        from zenml.pipelines import pipeline

        @pipeline
        def legacy(importer, trainer, lr=0.1):
            rows = importer()
            trainer(rows)
    """})
    found = codes(project, "PV026")
    assert len(found) == 1
    assert "not bound to a repo-local step at any call site: importer, trainer" in found[0].message
    assert only_pipeline(project).dynamic


def test_new_api_pipeline_with_plain_parameters_is_not_legacy(tree):
    project = tree({"steps/__init__.py": "", "steps/core.py": NEW_STEPS, "pipelines/__init__.py": "",
                    "pipelines/training.py": NEW_PIPELINE, "run.py": """
        from pipelines.training import training

        if __name__ == "__main__":
            training(days=60, model="gbm")
    """})
    assert codes(project, "PV026") == []
    pipeline = only_pipeline(project)
    assert not pipeline.dynamic
    assert [s.id for s in pipeline.steps] == ["load", "fit"]


RUN_COMPUTED = """
    import argparse
    import os

    from pipelines.training import training as train_pipeline

    HERE = os.path.dirname(os.path.abspath(__file__))

    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--config", default="training.yaml")
        args = parser.parse_args()
        train_pipeline.with_options(config_path=os.path.join(HERE, "configs", args.config))()
"""

CONFIG = """
    parameters:
      days: 90
    steps:
      fit:
        parameters:
          model: gbm
"""


def test_config_path_computed_at_run_time(tree):
    project = tree({"steps/__init__.py": "", "steps/core.py": NEW_STEPS, "pipelines/__init__.py": "",
                    "pipelines/training.py": NEW_PIPELINE, "configs/training.yaml": CONFIG,
                    "run.py": RUN_COMPUTED})
    found = codes(project, "PV027")
    assert [(d.path, d.line) for d in found] == [("run.py", 12)]
    assert "config_path of 'training' is computed at run time" in found[0].message
    assert "[tool.pvcheck.run_configs]" in found[0].hint


def test_config_path_f_string_with_a_variable_in_the_decorator(tree):
    project = tree({"steps/__init__.py": "", "steps/core.py": NEW_STEPS, "flow.py": """
        import os

        from zenml import pipeline
        from steps.core import fit, load

        ENV = os.environ.get("STAGE", "dev")

        @pipeline(config_path=f"configs/{ENV}.yaml")
        def training():
            fit(load())
    """})
    found = codes(project, "PV027")
    assert [(d.path, d.line) for d in found] == [("flow.py", 8)]


def test_config_path_from_a_module_constant_is_read(tree):
    run = RUN_COMPUTED.replace('os.path.join(HERE, "configs", args.config)', "TRAINING_CONFIG").replace(
        'HERE = os.path.dirname(os.path.abspath(__file__))', 'TRAINING_CONFIG = "configs/training.yaml"')
    project = tree({"steps/__init__.py": "", "steps/core.py": NEW_STEPS, "pipelines/__init__.py": "",
                    "pipelines/training.py": NEW_PIPELINE, "configs/training.yaml": CONFIG, "run.py": run})
    assert codes(project, "PV027") == []
    pipeline = only_pipeline(project)
    assert pipeline.config["parameters"]["days"] == 90
    assert pipeline.step("fit").config["parameters"]["model"] == "gbm"
