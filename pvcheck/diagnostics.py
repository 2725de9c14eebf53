"""The diagnostics catalogue: every ``PV0xx`` code, defined once.

A diagnostic is something the analyzer could not analyze, or could only analyze
conservatively (see :class:`pvcheck.model.Diagnostic`). The analyzer names codes by the
constants below, never by string literals; the SARIF report describes them from
:data:`CATALOGUE`, ``pvcheck rules PV022`` explains them, and a test keeps the README's
diagnostics table (codes and titles) in step with it.

This module imports nothing from pvcheck: the analyzer, the policies and the output
layer all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class DiagnosticInfo:
    """What one diagnostic code means: ``title`` (the README table's wording), the
    ``severity`` it is raised at, ``help`` (what happened, what pvcheck does about it) and
    ``fix`` (what the user can do)."""

    code: str
    severity: str  # "error", "warning", or "error or warning" (it depends on the case)
    title: str
    help: str
    fix: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.code, "severity": self.severity, "title": self.title, "help": self.help,
                "fix": self.fix}


SYNTAX_ERROR = "PV001"
NOT_TEXT = "PV002"
TOO_LARGE = "PV003"
SYMLINK_LOOP = "PV004"
CANNOT_READ = "PV005"
ROOT_NOT_A_FOLDER = "PV006"
TOO_DEEP = "PV007"
NOT_FOLLOWED = "PV010"
UNDEFINED_NAME = "PV011"
RUN_CONFIG_OUTSIDE = "PV013"
RUN_CONFIG_INVALID = "PV014"
PACKAGE_WITHOUT_ROOT = "PV020"
PYPROJECT_UNREADABLE = "PV021"
UNKNOWN_READ = "PV022"
CALL_NOT_FOLLOWED = "PV023"
NO_STEPS = "PV024"
FRAMEWORK_NOT_READ = "PV025"
ZENML_LEGACY = "PV026"
COMPUTED_CONFIG_PATH = "PV027"
RUNTIME_LOOP = "PV028"
BASE_FLOW = "PV030"
POLICY_FAILED = "PV098"
INTERNAL_ERROR = "PV099"

_ERROR_UNLESS_UNREACHED = ("an error when a pipeline may run the file, a warning that says so for any other file "
                           "(README: broken files nobody reaches)")

CATALOGUE: dict[str, DiagnosticInfo] = {info.code: info for info in (
    DiagnosticInfo(SYNTAX_ERROR, "error or warning", "syntax error: the file is skipped, the rest of the tree analyzed",
                   f"The file cannot be parsed as Python; {_ERROR_UNLESS_UNREACHED}.",
                   "fix the syntax error, or exclude the file"),
    DiagnosticInfo(NOT_TEXT, "error or warning", "file is not valid UTF-8 / binary",
                   f"The file cannot be decoded as source text; {_ERROR_UNLESS_UNREACHED}.",
                   "save it as UTF-8 (or declare its encoding), or exclude it"),
    DiagnosticInfo(TOO_LARGE, "error or warning", "file over `max_file_size`",
                   f"The file is larger than the configured limit and is not read; {_ERROR_UNLESS_UNREACHED}.",
                   "raise max_file_size in [tool.pvcheck], or exclude the file"),
    DiagnosticInfo(SYMLINK_LOOP, "warning", "symlink loop",
                   "A symbolic link loops, is broken, or leaves the scanned root; it is not followed.",
                   "remove the link, or exclude it"),
    DiagnosticInfo(CANNOT_READ, "error", "file or folder cannot be read",
                   "The operating system refused to read it (permissions, a vanished file).",
                   "make it readable, or exclude it"),
    DiagnosticInfo(ROOT_NOT_A_FOLDER, "error", "a configured source root is not a folder",
                   "A path in `roots` of [tool.pvcheck] does not name a folder of the project.",
                   "fix or remove the root in the configuration"),
    DiagnosticInfo(TOO_DEEP, "error", "code nested too deeply to analyze",
                   "Expressions or blocks are nested deeper than the parser can take; the file is skipped.",
                   "flatten the code, or exclude the file"),
    DiagnosticInfo(NOT_FOLLOWED, "warning",
                   "code the analyzer cannot follow statically (fingerprinted conservatively)",
                   "getattr, exec, computed ids, a dynamic pipeline ...: any change to it counts as a new version "
                   "(PV406), never as a run.",
                   "write the construct statically, or accept conservative versions"),
    DiagnosticInfo(UNDEFINED_NAME, "warning", "a name used by a step is defined nowhere",
                   "A step refers to a name no import or definition binds; it is kept by name only.",
                   "import or define the name (or check the source roots)"),
    DiagnosticInfo(RUN_CONFIG_OUTSIDE, "error", "a run config outside the scanned root (refused)",
                   "A run config path leads out of the scanned tree; pvcheck does not read it.",
                   "keep run configs inside the project"),
    DiagnosticInfo(RUN_CONFIG_INVALID, "error or warning", "a run config that is missing or not safe YAML",
                   "The YAML file a pipeline names is missing (warning), or too large, recursive, not a mapping or "
                   "not safe YAML (error); its values are not read.",
                   "fix the path or the file"),
    DiagnosticInfo(PACKAGE_WITHOUT_ROOT, "warning",
                   "an import names a package of the scanned tree that no source root holds",
                   "The import is followed there anyway, so nothing is missed; the configured roots are incomplete.",
                   "add the named folder to roots in [tool.pvcheck]"),
    DiagnosticInfo(PYPROJECT_UNREADABLE, "warning", "a `pyproject.toml` that cannot be read to detect source roots",
                   "Source roots are detected from pyproject.toml build settings; this one could not be parsed.",
                   "fix the file, or set roots in the pvcheck configuration"),
    DiagnosticInfo(UNKNOWN_READ, "warning", "a file read whose content is not fingerprinted",
                   "Its path cannot be computed statically, or it is outside the scanned tree: an edit of that file "
                   "goes unseen.",
                   "read the file by a literal path inside the project"),
    DiagnosticInfo(CALL_NOT_FOLLOWED, "warning", "a call in a pipeline body that pvcheck does not follow",
                   "Not a step, a nested pipeline, a framework API or a known side-effect-free builtin: steps it "
                   "runs are unseen; it is listed in the pipeline's coverage and any change to the body is a new "
                   "version (PV407).",
                   "call steps directly in the pipeline body, or move the call into a step"),
    DiagnosticInfo(NO_STEPS, "warning", "a pipeline with no steps pvcheck can see",
                   "Its identity is its own code: any change to it is a new version.",
                   "check that its steps are decorated and imported"),
    DiagnosticInfo(FRAMEWORK_NOT_READ, "warning", "files import a pipeline framework that no enabled plug-in reads",
                   "One warning per framework, at its first import, instead of a silent \"0 pipeline(s)\".",
                   "enable the framework in `frameworks = [...]`, or install a plug-in for it"),
    DiagnosticInfo(ZENML_LEGACY, "warning", "a ZenML pre-0.40 pipeline",
                   "Steps passed as parameters: no graph is built, the pipeline is conservative and the steps bound "
                   "at its call sites are part of its fingerprint.",
                   "move to ZenML's @pipeline with step calls"),
    DiagnosticInfo(COMPUTED_CONFIG_PATH, "warning", "a ZenML `config_path=` computed at run time",
                   "The YAML it names is not read.",
                   "list the YAML in [tool.pvcheck.run_configs]"),
    DiagnosticInfo(RUNTIME_LOOP, "warning", "a Prefect flow runs tasks in a loop over parameters",
                   "The count is known only at run time: each task is one node marked with its loop, an edit inside "
                   "the loop is a new version.",
                   "nothing to do; loop over a literal to let pvcheck count the tasks"),
    DiagnosticInfo(BASE_FLOW, "warning", "a Metaflow `FlowSpec` class goes to steps it does not define",
                   "Read as a base flow (its subclasses are the pipelines), not as a pipeline.",
                   "nothing to do if it is a base class; otherwise define the steps it goes to"),
    DiagnosticInfo(POLICY_FAILED, "error", "a policy failed; the change is counted as a new version",
                   "A policy raised an exception on a pipeline: it proved nothing, so the pipeline gets `version`.",
                   "report this to the policy's authors; run with PVCHECK_DEBUG=1"),
    DiagnosticInfo(INTERNAL_ERROR, "error", "internal error while analyzing one module",
                   "pvcheck failed on one module; the rest of the tree is analyzed.",
                   "report it with the file (PVCHECK_DEBUG=1 shows the traceback)"),
)}


def describe(code: str) -> Optional[DiagnosticInfo]:
    """The catalogue entry of ``code`` (case-insensitive); None for an unknown code."""
    return CATALOGUE.get(code.upper())


def explain(info: DiagnosticInfo) -> str:
    """``pvcheck rules PV022``: a diagnostic explained, in the text form rules use."""
    return (f"{info.code} (diagnostic, {info.severity}): {info.title}\n\n{info.help}\n\n"
            f"What to do: {info.fix}.\n")


__all__ = ["CATALOGUE", "DiagnosticInfo", "describe", "explain"]
