"""The README's GitHub Action section is a workflow that works as written: its YAML
parses, every input it gives the action is one ``action.yml`` declares (with a value the
action accepts), the permissions it grants cover what it asks for, and the input table
describes exactly ``action.yml``'s inputs and defaults. The code-scanning workflow runs a
``pvcheck`` command line pvcheck's own parser accepts and uploads the file it writes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from pvcheck.cli import build_parser

REPO = Path(__file__).resolve().parent.parent


def _section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("### GitHub Action\n")
    return readme[start:readme.index("\n### ", start + 1)]


def _workflows() -> dict[str, dict[str, Any]]:
    """The section's YAML blocks, by the file name their first comment gives."""
    found = {}
    for block in re.findall(r"```yaml\n(.*?)```", _section(), flags=re.S):
        name = re.match(r"# (\S+)", block)
        assert name, f"a workflow without its file name: {block[:80]}"
        found[name.group(1)] = yaml.safe_load(block)
    return found


def _action() -> dict[str, Any]:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _text(value: Any) -> str:
    # GitHub passes every input as a string: YAML's true is "true"
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_the_readme_workflows_parse_and_name_their_files() -> None:
    workflows = _workflows()
    assert set(workflows) == {".github/workflows/pvcheck.yml", ".github/workflows/pvcheck-sarif.yml"}
    for workflow in workflows.values():
        # YAML 1.1 reads the bare key `on` as True; GitHub reads it as the trigger
        assert workflow.get("on", workflow.get(True)), "no trigger"
        assert all(step.get("uses") or step.get("run") for step in _steps(workflow))


def test_the_action_step_uses_only_inputs_action_yml_declares_with_values_it_accepts() -> None:
    workflow = _workflows()[".github/workflows/pvcheck.yml"]
    steps = _steps(workflow)
    [index] = [n for n, step in enumerate(steps) if step.get("uses") == "./"]
    given = {key: _text(value) for key, value in steps[index].get("with", {}).items()}
    inputs = _action()["inputs"]
    assert set(given) <= set(inputs), f"inputs action.yml does not declare: {sorted(set(given) - set(inputs))}"
    assert given.get("fail-on", "") in ("", "version", "pipeline")  # ci_action's accepted values
    assert given.get("comment", "false") in ("true", "false") and given.get("cache", "true") in ("true", "false")
    permissions = workflow["permissions"]
    assert permissions.get("contents") == "read"
    if given.get("comment", inputs["comment"]["default"]) == "true":
        assert permissions.get("pull-requests") == "write"  # the comment needs it
    # the merge base needs the base branch's history, checked out before the action runs
    [checkout] = [n for n, step in enumerate(steps) if str(step.get("uses", "")).startswith("actions/checkout@")]
    assert checkout < index and steps[checkout]["with"]["fetch-depth"] == 0
    triggers = workflow.get("on", workflow.get(True))
    assert "pull_request" in triggers


def test_the_input_table_is_action_yml() -> None:
    table = dict(re.findall(r"^\| `([\w-]+)` \| ([^|]+) \|", _section(), flags=re.M))
    inputs = _action()["inputs"]
    assert set(table) == set(inputs)
    for name, spec in inputs.items():
        default = str(spec.get("default", ""))
        if re.fullmatch(r"[\w.]+", default):  # a literal default is written as it is
            assert table[name].strip() == f"`{default}`", name
    for output in _action()["outputs"]:
        assert f"`{output}`" in _section(), f"output {output} is not described"


def test_the_code_scanning_workflow_runs_a_command_pvcheck_accepts_and_uploads_its_file() -> None:
    workflow = _workflows()[".github/workflows/pvcheck-sarif.yml"]
    assert workflow["permissions"].get("security-events") == "write"
    steps = _steps(workflow)
    [command] = [step["run"] for step in steps if str(step.get("run", "")).startswith("pvcheck ")]
    words = shlex.split(command.split(">")[0])
    arguments = build_parser().parse_args(words[1:])  # exits (fails the test) on an unknown option
    assert arguments.format == "sarif"
    written = command.split(">")[1].split()[0]
    [upload] = [step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == written
    # every variable the command reads is set on its step
    [step] = [step for step in steps if step.get("run") == command]
    for variable in re.findall(r"\$(\w+)", command):
        assert variable in step.get("env", {}) or variable.isdigit() or variable == "?", variable
    [install] = [step["run"] for step in steps if str(step.get("run", "")).startswith("pip install")]
    package = re.search(r'^name = "([^"]+)"', (REPO / "pyproject.toml").read_text(), flags=re.M)
    assert package and install.split()[-1] == package.group(1)  # the name pvcheck is published under
