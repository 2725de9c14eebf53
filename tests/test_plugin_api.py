"""pvcheck.plugin is the public surface: every name importable, the same objects the
analyzer and the engine use, and the built-in plug-ins built on them."""

from __future__ import annotations

import importlib

import pytest

import pvcheck.plugin as plugin
from pvcheck.analyzer.frameworks.base import BUILTIN_FRAMEWORKS
from pvcheck.policies.registry import BUILTIN_POLICIES, load_object


@pytest.mark.parametrize("name", plugin.__all__)
def test_every_public_name_is_importable_and_documented(name: str) -> None:
    assert getattr(importlib.import_module("pvcheck.plugin"), name) is not None
    source = importlib.import_module("pvcheck.plugin").__loader__.get_source("pvcheck.plugin")
    assert source is not None and f"#: {name} -- " in source, f"{name} has no line"


def test_the_public_list_is_the_briefed_surface() -> None:
    wanted = {"Framework", "DecoratedPipelines", "StepDefinition", "ConfigAttachment", "BodyPart",
              "find_decorator", "keyword_arg", "keyword_string", "decorator_call", "Pipeline", "Step",
              "Edge", "Output", "Parameter", "Decision", "Finding", "Diagnostic", "Severity", "Policy",
              "Rule", "Example", "PipelineComparison", "Config", "AnalysisContext"}
    assert wanted <= set(plugin.__all__)
    assert sorted(plugin.__all__) == plugin.__all__ and len(set(plugin.__all__)) == len(plugin.__all__)


@pytest.mark.parametrize("name", sorted(BUILTIN_FRAMEWORKS))
def test_builtin_frameworks_subclass_the_public_base(name: str) -> None:
    cls = load_object(BUILTIN_FRAMEWORKS[name])
    assert issubclass(cls, plugin.Framework)
    if "pipeline_decorators" in vars(cls):  # a decorated-pipeline framework declares its decorators
        assert issubclass(cls, plugin.DecoratedPipelines)


@pytest.mark.parametrize("name", sorted(BUILTIN_POLICIES))
def test_builtin_policies_subclass_the_public_base(name: str) -> None:
    cls = load_object(BUILTIN_POLICIES[name])
    assert issubclass(cls, plugin.Policy)
    assert all(isinstance(rule, plugin.Rule) for rule in cls.rules)
