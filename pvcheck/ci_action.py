"""The logic of pvcheck's GitHub Action (``action.yml``), runnable anywhere.

``python -m pvcheck.ci_action`` reads what GitHub sets (``GITHUB_WORKSPACE``,
``GITHUB_BASE_REF``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``, ``RUNNER_TEMP``) and
the action's inputs (``PVCHECK_PATH``, ``PVCHECK_BASE_REF``, ``PVCHECK_FAIL_ON``), then:

1. finds the base to compare with: the ``base-ref`` input, else the pull request's base
   branch (``origin/<GITHUB_BASE_REF>``, fetched if the checkout lacks it), narrowed to
   the merge base so that commits landed on the base branch since the PR was opened do
   not show up as changes of the PR; without either (a push), the lock file;
2. runs ``pvcheck check --format github``: the workflow commands it prints become
   annotations on the PR's diff, and its exit code is the action's;
3. runs ``pvcheck check --format markdown`` and appends the report to the job summary,
   and writes it to ``$RUNNER_TEMP/pvcheck-report.md`` (output ``report-file``);
4. with ``PVCHECK_COMMENT=true`` (input ``comment``), posts the report as the pull
   request's one pvcheck comment, updated in place by later runs
   (:mod:`pvcheck.pr_comment`, with ``PVCHECK_GITHUB_TOKEN``).

It lives in the package, not in the YAML, so it can be tested locally with the same
environment variables (``tests/test_action.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional, Sequence

FAIL_ON = ("", "version", "pipeline")


class ActionError(Exception):
    """A problem with the action's inputs or the checkout, shown as one ``::error``."""


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False,
                          timeout=600)


def _commit_of(folder: Path, rev: str) -> Optional[str]:
    result = _git(folder, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def resolve_base(folder: Path, base_ref: str, env: Mapping[str, str]) -> tuple[Optional[str], str]:
    """The commit to compare with and a sentence saying where it came from.

    ``(None, why)`` when there is nothing to compare with but the lock file.
    """
    explicit = base_ref.strip()
    branch = explicit or env.get("GITHUB_BASE_REF", "").strip()
    if not branch:
        return None, "no pull request base and no base-ref input: checking against the lock file"
    candidates = [branch] if explicit else []
    candidates += [f"origin/{branch}", f"refs/remotes/origin/{branch}"]
    if not explicit:
        candidates.append(branch)
    tip = next((c for c in (_commit_of(folder, name) for name in candidates) if c), None)
    if tip is None:
        # actions/checkout fetches one commit by default: get the base branch's history
        _git(folder, "fetch", "--no-tags", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        tip = _commit_of(folder, f"origin/{branch}")
    if tip is None:
        raise ActionError(f"cannot find the base '{branch}' in the checkout; use actions/checkout with "
                          "fetch-depth: 0, or set the base-ref input to a revision that exists")
    merge_base = _git(folder, "merge-base", tip, "HEAD")
    if merge_base.returncode == 0 and merge_base.stdout.strip():
        commit = merge_base.stdout.strip()
        return commit, f"comparing with the merge base of {branch} and HEAD ({commit[:10]})"
    # a shallow checkout has no common ancestor: the base's tip is the best there is
    return tip, f"comparing with {branch} ({tip[:10]}); no merge base in this checkout (shallow clone?)"


def check_command(path: str, fmt: str, base: Optional[str], fail_on: str) -> list[str]:
    command = [sys.executable, "-m", "pvcheck", "check", path, "--format", fmt, "--quiet"]
    if base:
        command += ["--base", base]
    if fail_on:
        command += ["--fail-on", fail_on]
    return command


def _append(path: Optional[str], text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def run(env: Mapping[str, str], stdout=None, stderr=None) -> int:  # type: ignore[no-untyped-def]
    """The whole action; returns its exit code (0 passed, 1 gate failed, 2 error)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".")
    path = env.get("PVCHECK_PATH", "").strip() or "."
    fail_on = env.get("PVCHECK_FAIL_ON", "").strip()
    summary = env.get("GITHUB_STEP_SUMMARY")
    try:
        if fail_on not in FAIL_ON:
            raise ActionError(f"fail-on must be 'version', 'pipeline' or empty, not '{fail_on}'")
        project = workspace / path
        if not project.is_dir():
            raise ActionError(f"path '{path}' is not a folder of the checkout ({workspace})")
        base, why = resolve_base(project, env.get("PVCHECK_BASE_REF", ""), env)
    except ActionError as exc:
        print(f"::error title=pvcheck::{exc}", file=out)
        _append(summary, f"## pvcheck could not run\n\n{exc}\n")
        return 2
    print(f"pvcheck: {why}", file=err)

    child_env = dict(os.environ)
    child_env.update({k: v for k, v in env.items() if k.startswith(("GITHUB_", "RUNNER_", "PVCHECK_", "NO_COLOR"))})
    child_env.pop("PVCHECK_DEBUG", None)  # errors as one line, the way users see them
    annotations = subprocess.run(check_command(path, "github", base, fail_on), cwd=workspace, capture_output=True,
                                 text=True, env=child_env, check=False)
    out.write(annotations.stdout)
    err.write(annotations.stderr)
    markdown = subprocess.run(check_command(path, "markdown", base, fail_on), cwd=workspace, capture_output=True,
                              text=True, env=child_env, check=False)
    report = markdown.stdout
    if annotations.returncode == 2 or not report.strip():
        message = (annotations.stderr or markdown.stderr).strip().splitlines()
        if message:  # an error line is only in the log; an annotation puts it on the PR
            print(f"::error title=pvcheck::{message[-1]}", file=out)
        report = "## pvcheck could not run\n\n```\n" + ("\n".join(message[-5:]) or "no output") + "\n```\n"
    _append(summary, report)
    temp = env.get("RUNNER_TEMP")
    report_file = Path(temp) / "pvcheck-report.md" if temp else None
    if report_file is not None:
        report_file.write_text(report, encoding="utf-8")
    _append(env.get("GITHUB_OUTPUT"), f"exit-code={annotations.returncode}\n"
                                      + (f"report-file={report_file}\n" if report_file else ""))
    if env.get("PVCHECK_COMMENT", "").strip().lower() in ("true", "1", "yes"):
        _comment(report, path, env, out, err)
    return annotations.returncode


def _comment(report: str, path: str, env: Mapping[str, str], out, err) -> None:  # type: ignore[no-untyped-def]
    """The report as the PR's one pvcheck comment; a failure is a warning, never the gate's verdict."""
    from pvcheck.pr_comment import CommentError, post_or_update

    try:
        what = post_or_update(report, path, env, env.get("PVCHECK_GITHUB_TOKEN", "") or env.get("GITHUB_TOKEN", ""))
    except CommentError as exc:
        print(f"::warning title=pvcheck::could not comment on the pull request: {exc}", file=out)
        return
    print(f"pvcheck: {what} the pull request comment", file=err)


def main(argv: Optional[Sequence[str]] = None) -> int:
    if argv:
        print("usage: python -m pvcheck.ci_action (configured by environment variables; see action.yml)",
              file=sys.stderr)
        return 2
    return run(os.environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
