"""Framework plug-ins: each one knows how its framework declares steps and pipelines."""

from pvcheck.analyzer.frameworks.base import (
    BUILTIN_FRAMEWORKS,
    ConfigAttachment,
    Framework,
    StepDefinition,
    load_frameworks,
)

__all__ = ["BUILTIN_FRAMEWORKS", "ConfigAttachment", "Framework", "StepDefinition", "load_frameworks"]
