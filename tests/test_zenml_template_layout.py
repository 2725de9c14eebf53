"""The layout of ZenML's project templates (``fixtures/zenml_template``): every step in its
own module, re-exported by ``steps/__init__.py`` under the module's own name (so
``from steps import data_loader`` is the step, not the submodule), star re-exports under
a literal ``__all__`` in ``steps/etl/``, pipelines re-exported by ``pipelines/__init__.py``
and run from ``run.py`` with YAML configs. The whole graph is asserted."""

from __future__ import annotations

import shutil
from pathlib import Path

from pvcheck.analyzer import scan_tree
from tests.conftest import FIXTURES, only_pipeline

PROJECT = FIXTURES / "zenml_template"


def graph(pipeline):
    return ([(s.id, s.function) for s in pipeline.steps],
            [(e.source, e.target, e.kind, e.output, e.input) for e in pipeline.edges])


def test_training_graph():
    pipeline = only_pipeline(scan_tree(PROJECT), "training")
    assert graph(pipeline) == (
        [("data_loader", "steps.data_loader.data_loader"),
         ("data_splitter", "steps.etl.data_splitter.data_splitter"),
         ("data_preprocessor", "steps.etl.data_preprocessor.data_preprocessor"),
         ("model_trainer", "steps.training.model_trainer.model_trainer"),
         ("model_evaluator", "steps.training.model_evaluator.model_evaluator")],
        [("data_loader", "data_splitter", "data", "dataset", "dataset"),
         ("data_splitter", "data_preprocessor", "data", "raw_dataset_trn", "dataset_trn"),
         ("data_splitter", "data_preprocessor", "data", "raw_dataset_tst", "dataset_tst"),
         ("data_preprocessor", "model_trainer", "data", "dataset_trn", "dataset_trn"),
         ("model_trainer", "model_evaluator", "data", "model", "model"),
         ("data_preprocessor", "model_evaluator", "data", "dataset_tst", "dataset_tst")],
    )
    assert pipeline.path == "pipelines/training.py"
    assert pipeline.config == {"settings": {"docker": {"requirements": "requirements.txt"}},
                               "parameters": {"target": "churned"}}
    steps = {s.id: s for s in pipeline.steps}
    assert steps["model_trainer"].config == {"parameters": {"n_estimators": 200}}
    assert [h.name for h in steps["data_splitter"].helpers] == ["steps.etl.data_splitter.SEED",
                                                                "steps.etl.data_splitter._stratify"]
    assert [h.name for h in steps["data_preprocessor"].helpers] == ["utils.preprocess.ColumnScaler",
                                                                    "utils.preprocess.NUMERIC"]


def test_inference_graph():
    project = scan_tree(PROJECT)
    pipeline = only_pipeline(project, "inference")
    assert graph(pipeline) == (
        [("history_loader", "steps.data_loader.data_loader"),
         ("data_splitter", "steps.etl.data_splitter.data_splitter"),
         ("data_preprocessor", "steps.etl.data_preprocessor.data_preprocessor"),
         ("model_trainer", "steps.training.model_trainer.model_trainer"),
         ("data_loader", "steps.data_loader.data_loader"),
         ("inference_predict", "steps.inference_predict.inference_predict")],
        [("history_loader", "data_splitter", "data", "dataset", "dataset"),
         ("data_splitter", "data_preprocessor", "data", "raw_dataset_trn", "dataset_trn"),
         ("data_splitter", "data_preprocessor", "data", "raw_dataset_tst", "dataset_tst"),
         ("data_preprocessor", "model_trainer", "data", "dataset_trn", "dataset_trn"),
         ("model_trainer", "inference_predict", "data", "model", "model"),
         ("data_preprocessor", "inference_predict", "data", "scaler", "scaler"),
         ("data_loader", "inference_predict", "data", "dataset", "dataset")],
    )
    assert pipeline.config == {"enable_cache": False, "parameters": {"target": "churned"}}
    assert sorted(p.name for p in project.pipelines) == ["inference", "training"]
    assert project.diagnostics == ()


def test_helper_behind_alias_and_star_reexport_is_part_of_the_step(tmp_path: Path):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    before = {s.id: s.fingerprint for s in only_pipeline(scan_tree(copy), "training").steps}
    helper = copy / "utils" / "preprocess.py"
    helper.write_text(helper.read_text().replace("((high - low) or 1.0)", "((high - low) or 1e-9)"))
    after = {s.id: s.fingerprint for s in only_pipeline(scan_tree(copy), "training").steps}
    assert [name for name in before if before[name] != after[name]] == ["data_preprocessor"]
