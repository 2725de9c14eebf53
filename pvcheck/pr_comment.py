"""One pull-request comment with pvcheck's report, updated in place on every run.

Used by the GitHub Action (``comment: true``) with the job's token; it needs
``pull-requests: write``. The comment carries an invisible marker naming the project
folder, so a repository with two pvcheck projects gets two comments and a later run
edits its own comment instead of adding another. Only the standard library's
``urllib`` is used: the REST calls are four and simple.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Mapping, Optional

#: GitHub refuses comment bodies longer than this.
MAX_BODY = 65_536


class CommentError(Exception):
    """The comment could not be posted; the message says why and what to do."""


def marker(project: str) -> str:
    return f"<!-- pvcheck-report: {project or '.'} -->"


def pull_request_number(env: Mapping[str, str]) -> Optional[int]:
    """The PR this run is for: the event payload's ``pull_request.number``, else
    ``refs/pull/N/merge``; None on a push."""
    event_path = env.get("GITHUB_EVENT_PATH")
    if event_path:
        try:
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
            number = (event.get("pull_request") or {}).get("number")
            if isinstance(number, int):
                return number
        except (OSError, ValueError, AttributeError):
            pass
    parts = env.get("GITHUB_REF", "").split("/")
    if len(parts) == 4 and parts[:2] == ["refs", "pull"] and parts[2].isdigit():
        return int(parts[2])
    return None


def comment_body(report: str, project: str) -> str:
    body = f"{marker(project)}\n{report}"
    if len(body) > MAX_BODY:
        note = "\n\n_The report was cut to GitHub's comment size; the job summary has all of it._\n"
        body = body[: MAX_BODY - len(note)] + note
    return body


def post_or_update(report: str, project: str, env: Mapping[str, str], token: str, timeout: float = 30) -> str:
    """Create the PR's pvcheck comment, or update the one an earlier run made.

    Returns ``"created"`` or ``"updated"``; raises :class:`CommentError`.
    """
    number = pull_request_number(env)
    if number is None:
        raise CommentError("not a pull request run: there is no pull request to comment on")
    repository = env.get("GITHUB_REPOSITORY", "")
    if repository.count("/") != 1:
        raise CommentError("GITHUB_REPOSITORY is not set (owner/name)")
    if not token:
        raise CommentError("no token: pass github-token (the default is the job's token)")
    api = (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    body = comment_body(report, project)
    existing = _find(api, repository, number, marker(project), token, timeout)
    if existing is not None:
        _call("PATCH", f"{api}/repos/{repository}/issues/comments/{existing}", token, timeout, {"body": body})
        return "updated"
    _call("POST", f"{api}/repos/{repository}/issues/{number}/comments", token, timeout, {"body": body})
    return "created"


def _find(api: str, repository: str, number: int, tag: str, token: str, timeout: float) -> Optional[int]:
    for page in range(1, 21):  # 2,000 comments: more than any PR a person reads
        comments = _call("GET", f"{api}/repos/{repository}/issues/{number}/comments?per_page=100&page={page}",
                         token, timeout)
        if not isinstance(comments, list):
            return None
        for comment in comments:
            if isinstance(comment, dict) and tag in str(comment.get("body", "")):
                return int(comment["id"])
        if len(comments) < 100:
            return None
    return None


def _call(method: str, url: str, token: str, timeout: float, payload: Any = None) -> Any:
    data = json.dumps(payload).encode("utf-8") if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Content-Type": "application/json",
        "User-Agent": "pvcheck",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the API URL GitHub sets
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        hint = "; the workflow needs `permissions: pull-requests: write`" if exc.code in (401, 403, 404) else ""
        raise CommentError(f"{method} {url.split('?')[0]} failed: HTTP {exc.code}{hint}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CommentError(f"{method} {url.split('?')[0]} failed: {exc}") from None
    return json.loads(text) if text.strip() else None


__all__ = ["CommentError", "comment_body", "marker", "post_or_update", "pull_request_number"]
