"""Typed step inputs (issue 11): frameworks build them, a Step keeps the tagged form, the
policies and outputs read them back typed. The tagged form is what JSON, the lock, the
cache and the fingerprints hold, so every form must survive the round trip unchanged."""

from __future__ import annotations

import json

import pytest

from pvcheck.analyzer import scan_tree
from pvcheck.model import (FromAsset, FromParameter, FromStep, GraphInput, LiteralInput, RunCondition, read_input,
                           read_inputs, rename_steps, tagged, tagged_inputs)
from tests.conftest import FIXTURES

#: (input name, stored value, the type it reads as) -- every form the frameworks store
FORMS = [
    ("data", {"$step": "load", "output": "output"}, FromStep),  # ZenML, KFP, Prefect, Flyte, Dagster
    ("pair", {"$step": "split", "output": ["train", "test"]}, FromStep),  # a whole tuple result
    ("none", {"$step": "split", "output": []}, FromStep),
    ("xcom", {"$step": "extract"}, FromStep),  # Airflow: the task's XCom
    ("rows", {"$asset": "companies"}, FromAsset),  # Kedro dataset, Dagster asset outside the job
    ("model", {"$asset": "regressor", "catalog": {"type": "pickle.PickleDataset"}}, FromAsset),
    ("days", {"$param": "days"}, FromParameter),
    ("$condition", ["conditional 'auc_gate'", "({n4.auc} >= 0.75)"], RunCondition),
    ("$deps", [["raw", "events"]], GraphInput),
    ("$outputs", [{"$asset": "model_input_table"}], GraphInput),
    ("lr", 0.1, LiteralInput),
    ("many", [{"$step": "a", "output": "output"}, {"$step": "b", "output": "output"}], LiteralInput),
    ("code", {"$expr": "x * 2"}, LiteralInput),
    ("settings", {"$call": "zenml.config.DockerSettings", "requirements": ["torch"]}, LiteralInput),
    ("near_param", {"$param": "days", "default": 3}, LiteralInput),  # not the one-key form
    ("near_ref", {"$param": 3}, LiteralInput),
]


@pytest.mark.parametrize("name,value,kind", FORMS)
def test_every_stored_form_reads_typed_and_tags_back_byte_identical(name: str, value: object, kind: type) -> None:
    typed = read_input(name, value)
    assert type(typed) is kind
    assert json.dumps(typed.tagged()) == json.dumps(value)


def test_what_shapes_the_graph_and_what_is_a_value() -> None:
    read = read_inputs({name: value for name, value, _ in FORMS})
    assert sorted(n for n, i in read.items() if i.shapes_graph) == ["$condition", "$deps", "$outputs", "model", "rows"]
    assert sorted(n for n, i in read.items() if i.is_value) == [
        "code", "days", "lr", "many", "near_param", "near_ref", "settings"]


def test_typed_inputs_at_any_depth_become_their_tags() -> None:
    inputs = {"x": FromStep("a", "o"), "xs": [FromStep("a", ("p", "q")), 3], "c": RunCondition(("f",)),
              "d": FromAsset("ds", {"catalog": {"v": FromParameter("p")}}), "plain": {"k": [1]}}
    assert tagged_inputs(inputs) == {
        "x": {"$step": "a", "output": "o"}, "xs": [{"$step": "a", "output": ["p", "q"]}, 3], "c": ["f"],
        "d": {"$asset": "ds", "catalog": {"v": {"$param": "p"}}}, "plain": {"k": [1]}}
    plain = {"k": [1]}
    assert tagged(plain) is plain  # JSON is passed through, not copied


def test_rename_steps_reaches_nested_outputs_only() -> None:
    value = {"a": [{"$step": "s1", "output": "o"}], "b": {"$asset": "s1"}, "c": "s1"}
    assert rename_steps(value, str.upper) == {"a": [{"$step": "S1", "output": "o"}], "b": {"$asset": "s1"}, "c": "s1"}


@pytest.mark.parametrize("fixture", ["zenml_churn", "kfp_training", "kedro_rockets", "flyte_fraud", "prefect_etl"])
def test_scanned_steps_hold_only_tagged_json(fixture: str) -> None:
    # the frameworks build typed inputs; what a Step keeps is plain JSON, as before
    seen = 0
    for pipeline in scan_tree(FIXTURES / fixture).pipelines:
        for step in pipeline.steps:
            assert json.loads(json.dumps(step.inputs)) == dict(step.inputs)
            for name, value in step.inputs.items():
                assert json.dumps(read_input(name, value).tagged()) == json.dumps(value)
                seen += 1
    assert seen, f"{fixture}: no step inputs read (the test would check nothing)"
