"""The pull-request comment: created once, then updated in place, against a fake GitHub
API on the loopback interface (no request leaves this machine)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from pvcheck.pr_comment import MAX_BODY, CommentError, comment_body, marker, post_or_update, pull_request_number


class FakeGitHub:
    """Issue comments of one repository, as the REST API serves them."""

    def __init__(self) -> None:
        self.comments: list[dict[str, Any]] = [{"id": 1, "body": "LGTM"}]
        self.requests: list[tuple[str, str, str]] = []  # method, path, authorization
        self.status = 200


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Any:
            fake.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length)) if length else None

        def do_GET(self) -> None:  # noqa: N802
            self._record()
            if fake.status != 200:
                return self._reply(fake.status, {"message": "Resource not accessible by integration"})
            self._reply(200, fake.comments if "page=1" in self.path else [])

        def do_POST(self) -> None:  # noqa: N802
            body = self._record()
            comment = {"id": len(fake.comments) + 1, "body": body["body"]}
            fake.comments.append(comment)
            self._reply(201, comment)

        def do_PATCH(self) -> None:  # noqa: N802
            body = self._record()
            comment_id = int(self.path.rsplit("/", 1)[1])
            next(c for c in fake.comments if c["id"] == comment_id)["body"] = body["body"]
            self._reply(200, {"id": comment_id})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _env(tmp_path: Path, api: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
    return {"GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/ml", "GITHUB_API_URL": api}


def test_the_comment_is_created_once_then_updated_in_place(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    env = _env(tmp_path, api)
    assert post_or_update("## pvcheck: 1 new version\n", "ml", env, "t0k3n", timeout=10) == "created"
    assert post_or_update("## pvcheck: 2 runs\n", "ml", env, "t0k3n", timeout=10) == "updated"
    ours = [c for c in fake.comments if marker("ml") in c["body"]]
    assert len(ours) == 1 and ours[0]["body"].endswith("## pvcheck: 2 runs\n")
    assert fake.comments[0]["body"] == "LGTM"  # nobody else's comment is touched
    assert [(m, p.split("?")[0]) for m, p, _ in fake.requests] == [
        ("GET", "/repos/acme/ml/issues/7/comments"), ("POST", "/repos/acme/ml/issues/7/comments"),
        ("GET", "/repos/acme/ml/issues/7/comments"), ("PATCH", "/repos/acme/ml/issues/comments/2")]
    assert all(auth == "Bearer t0k3n" for _, _, auth in fake.requests)
    # a second project in the same repository gets a comment of its own
    assert post_or_update("## pvcheck: no pipelines\n", "other", env, "t0k3n", timeout=10) == "created"


def test_a_missing_permission_says_which_one(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    fake.status = 403
    with pytest.raises(CommentError, match="pull-requests: write"):
        post_or_update("x", "ml", _env(tmp_path, api), "t0k3n", timeout=10)


def test_no_pull_request_no_token_no_comment(tmp_path: Path) -> None:
    with pytest.raises(CommentError, match="not a pull request"):
        post_or_update("x", "ml", {"GITHUB_REPOSITORY": "acme/ml", "GITHUB_REF": "refs/heads/main"}, "t")
    with pytest.raises(CommentError, match="no token"):
        post_or_update("x", "ml", {"GITHUB_REPOSITORY": "acme/ml", "GITHUB_REF": "refs/pull/3/merge"}, "")
    assert pull_request_number({"GITHUB_REF": "refs/pull/3/merge"}) == 3


def test_a_huge_report_is_cut_to_githubs_limit() -> None:
    body = comment_body("x" * (MAX_BODY * 2), "ml")
    assert len(body) <= MAX_BODY and body.startswith(marker("ml")) and "job summary" in body


def test_the_action_comments_and_a_failure_is_only_a_warning(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    import io

    from pvcheck import ci_action

    fake, api = github
    env = {**_env(tmp_path, api), "PVCHECK_GITHUB_TOKEN": "t0k3n"}
    out, err = io.StringIO(), io.StringIO()
    ci_action._comment("## pvcheck: 1 run\n", "ml", env, out, err)
    assert "created the pull request comment" in err.getvalue() and out.getvalue() == ""
    fake.status = 403
    ci_action._comment("## pvcheck: 1 run\n", "ml", env, out, err)
    assert out.getvalue().startswith("::warning title=pvcheck::could not comment on the pull request:")
