"""The GitHub Action: ``action.yml`` and its script, run locally with GitHub's variables."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pvcheck.ci_action import run

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "docs" / "examples" / "churn_pr"


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def pull_request(tmp_path):
    """An upstream repository with ``main`` and a clone on a PR branch that changes the
    example project, as actions/checkout leaves it (with fetch-depth: 0)."""
    upstream = tmp_path / "upstream"
    shutil.copytree(EXAMPLE / "base", upstream / "ml")
    _git(upstream, "init", "-q")
    _git(upstream, "symbolic-ref", "HEAD", "refs/heads/main")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "base")
    workspace = tmp_path / "workspace"
    subprocess.run(["git", "clone", "-q", str(upstream), str(workspace)], check=True)
    _git(workspace, "checkout", "-q", "-b", "feature")
    for folder in ("steps", "pipelines"):
        shutil.rmtree(workspace / "ml" / folder)
        shutil.copytree(EXAMPLE / "head" / folder, workspace / "ml" / folder)
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "the PR")
    # main moves on after the PR branched off: must not show up as a change of the PR
    (upstream / "ml" / "notes.py").write_text("X = 1\n")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "later on main")
    _git(workspace, "fetch", "-q", "origin")
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_BASE_REF": "main",
        "GITHUB_HEAD_REF": "feature",
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "GITHUB_OUTPUT": str(runner / "output.txt"),
        "RUNNER_TEMP": str(runner),
        "PVCHECK_PATH": "ml",
        "PVCHECK_BASE_REF": "",
        "PVCHECK_FAIL_ON": "",
    }
    return workspace, runner, env


def _run(env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(env, out, err)
    return code, out.getvalue(), err.getvalue()


def test_pull_request_annotations_summary_and_outputs(pull_request):
    workspace, runner, env = pull_request
    code, out, err = _run(env)
    assert code == 0, (out, err)
    assert "merge base of main and HEAD" in err
    # annotations with repository-relative paths, at the changed lines
    assert re.search(r"^::warning file=ml/steps/model\.py,line=8,title=PV401::churn_training: step train_model body "
                     r"changed", out, re.MULTILINE), out
    assert re.search(r"^::notice file=ml/pipelines/scoring\.py,line=\d+,title=PV106::", out, re.MULTILINE)
    assert "notes.py" not in out  # landed on main after the PR branched: not the PR's change
    summary = (runner / "summary.md").read_text()
    assert "| `churn_training` | modified |" in summary and "**version** |" in summary
    assert summary.count("```mermaid") == 2
    outputs = dict(line.split("=", 1) for line in (runner / "output.txt").read_text().splitlines())
    assert outputs["exit-code"] == "0"
    assert Path(outputs["report-file"]).read_text() == summary


def test_fail_on_version_fails_the_job(pull_request):
    _, runner, env = pull_request
    code, out, _ = _run({**env, "PVCHECK_FAIL_ON": "version"})
    assert code == 1
    assert re.search(r"^::error .*churn_training is a new version \(--fail-on version\)", out, re.MULTILINE)
    assert "exit-code=1" in (runner / "output.txt").read_text()


def test_explicit_base_ref(pull_request):
    workspace, _, env = pull_request
    code, out, err = _run({**env, "GITHUB_BASE_REF": "", "PVCHECK_BASE_REF": "HEAD"})
    assert code == 0 and "PV401" not in out  # HEAD against itself: nothing changed


def test_push_without_base_checks_the_lock(pull_request):
    workspace, runner, env = pull_request
    code, out, err = _run({**env, "GITHUB_BASE_REF": "", "GITHUB_EVENT_NAME": "push"})
    assert code == 1  # no pvcheck.lock committed: the gate fails and says so
    assert "against the lock file" in err
    assert "::error" in out and "pvcheck.lock does not exist" in out


def test_bad_inputs_are_one_error_annotation(pull_request):
    _, runner, env = pull_request
    code, out, _ = _run({**env, "PVCHECK_FAIL_ON": "sometimes"})
    assert code == 2 and out.startswith("::error title=pvcheck::fail-on must be")
    code, out, _ = _run({**env, "PVCHECK_BASE_REF": "no-such-branch"})
    assert code == 2 and "cannot find the base 'no-such-branch'" in out
    assert "pvcheck could not run" in (runner / "summary.md").read_text()
    code, out, _ = _run({**env, "PVCHECK_PATH": "missing"})
    assert code == 2 and "path 'missing' is not a folder" in out


def test_shallow_checkout_fetches_the_base(tmp_path, pull_request):
    workspace, runner, env = pull_request
    shallow = tmp_path / "shallow"
    # what actions/checkout does by default: one commit, no other branches
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{workspace}", str(shallow)],
                   check=True)
    assert subprocess.run(["git", "-C", str(shallow), "rev-parse", "--verify", "-q", "origin/main"],
                          capture_output=True).returncode != 0
    code, out, err = _run({**env, "GITHUB_WORKSPACE": str(shallow)})
    assert code == 0, (out, err)
    assert "PV401" in out


# ------------------------------------------------------------------ action.yml


def _action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text())


def test_action_yml_is_a_composite_action_with_the_inputs():
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"path", "base-ref", "fail-on", "comment", "github-token", "cache"}
    assert all("description" in spec for spec in action["inputs"].values())
    assert action["inputs"]["comment"]["default"] == "false"  # commenting is opt-in
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert set(action["outputs"]) == {"exit-code", "report-file"}
    steps = action["runs"]["steps"]
    shell_steps = [step for step in steps if "run" in step]
    assert all(step.get("shell") == "bash" for step in shell_steps)
    assert "${{ github.action_path }}" in steps[0]["run"]
    assert _check_step()["env"] == {
        "PVCHECK_PATH": "${{ inputs.path }}", "PVCHECK_BASE_REF": "${{ inputs.base-ref }}",
        "PVCHECK_FAIL_ON": "${{ inputs.fail-on }}", "PVCHECK_COMMENT": "${{ inputs.comment }}",
        "PVCHECK_GITHUB_TOKEN": "${{ inputs.github-token }}"}
    for step in shell_steps:
        subprocess.run(["bash", "-n", "-c", step["run"]], check=True)


def test_the_analysis_cache_is_kept_between_runs_with_a_key_a_pull_request_can_reuse():
    [cache] = [step for step in _action()["runs"]["steps"] if step.get("uses", "").startswith("actions/cache@")]
    assert cache["if"] == "inputs.cache == 'true'"
    assert cache["with"]["path"] == "~/.cache/pvcheck"  # pvcheck's default cache folder on the runners
    assert cache["with"]["key"] == "pvcheck-${{ runner.os }}-${{ github.sha }}"
    assert cache["with"]["restore-keys"].strip() == "pvcheck-${{ runner.os }}-"


def _check_step() -> dict:
    return next(step for step in _action()["runs"]["steps"] if step.get("id") == "check")


def _expand(text: str, inputs: dict[str, str]) -> str:
    """GitHub's ``${{ ... }}`` expressions, for the ones action.yml uses."""
    def value(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression == "github.action_path":
            return str(REPO)
        if expression.startswith("inputs."):
            return inputs[expression[len("inputs."):]]
        raise AssertionError(f"unexpected expression {expression}")
    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def test_action_check_step_runs_as_github_would(pull_request):
    """The check step exactly as written in action.yml, with the install step's venv
    stood in for by this interpreter (installing from PyPI is not for a unit test)."""
    workspace, runner, env = pull_request
    venv_bin = runner / "pvcheck-venv" / "bin"
    venv_bin.mkdir(parents=True)
    # a wrapper, not a symlink: a symlinked interpreter outside its venv loses the venv
    (venv_bin / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv_bin / "python").chmod(0o755)
    step = _check_step()
    inputs = {"path": "ml", "base-ref": "", "fail-on": "version", "comment": "false", "github-token": ""}
    step_env = {k: _expand(v, inputs) for k, v in step["env"].items()}
    child = {**os.environ, **env, **step_env}
    child.pop("PVCHECK_DEBUG", None)
    result = subprocess.run(["bash", "-e", "-c", _expand(step["run"], inputs)], cwd=workspace, env=child,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr
    assert "::warning file=ml/steps/model.py,line=8" in result.stdout
    assert (runner / "summary.md").read_text().count("```mermaid") == 2
