"""Progress on a terminal for ``scan`` and ``diff`` (units of work) and ``history`` (commits):
only on a terminal, never with --quiet, nothing before two seconds, nothing when piped."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from pvcheck.analyzer import parallel, scan_tree
from pvcheck.cli import main
from pvcheck.config import Config
from pvcheck.output.progress import Progress, work_progress

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "zenml_churn"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _last_line(text: str) -> str:
    drawn = [part.strip() for part in text.split("\r") if part.strip()]
    return drawn[-1] if drawn else ""


def test_a_scan_counts_its_units_on_a_terminal_and_erases_the_line() -> None:
    terminal = _Terminal()
    with work_progress("pvcheck scan", stream=terminal, delay=0) as progress:
        progress.interval = 0
        scan_tree(FIXTURE, Config(), cache=False)
    text = terminal.getvalue()
    last = re.fullmatch(r"pvcheck scan: (\d+)/(\d+) \(100%\) units analyzed", _last_line(text))
    assert last is not None and last.group(1) == last.group(2) and int(last.group(1)) > 0
    assert text.endswith("\r")  # erased: the terminal is left as it was


def test_units_run_by_worker_processes_are_counted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    terminal = _Terminal()
    with work_progress("pvcheck scan", stream=terminal, delay=0) as progress:
        progress.interval = 0
        scan_tree(FIXTURE, Config(), cache=False, jobs=2)
    assert progress.done == progress.total > 0


@pytest.mark.parametrize("stream, quiet", [(_Terminal(), True), (io.StringIO(), False)])
def test_nothing_when_quiet_or_not_a_terminal(stream: io.StringIO, quiet: bool) -> None:
    with work_progress("pvcheck scan", stream=stream, quiet=quiet, delay=0):
        scan_tree(FIXTURE, Config(), cache=False)
    assert stream.getvalue() == ""


def test_nothing_before_the_delay() -> None:
    terminal = _Terminal()
    # a delay no scan reaches (the commands' two seconds could pass on a loaded machine)
    with work_progress("pvcheck scan", stream=terminal, delay=3600) as progress:
        scan_tree(FIXTURE, Config(), cache=False)
    assert progress.total > 0 and terminal.getvalue() == ""
    late = _Terminal()
    with Progress(2, "history", stream=late, interval=0, delay=0) as started:
        started.advance("a")
    assert "history: 1/2 (50%) a" in late.getvalue()


@pytest.mark.parametrize("command", [["scan"], ["diff"]])
def test_piped_command_output_has_no_progress(command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import functools
    import shutil

    from pvcheck.output.progress import work_progress

    # no delay: the fixture scans in well under two seconds, and only the missing terminal
    # may keep the progress line away
    monkeypatch.setattr(f"pvcheck.cli.{command[0]}.work_progress", functools.partial(work_progress, delay=0))

    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(FIXTURE, base)
    shutil.copytree(FIXTURE, head)
    args = [*command, str(base)] if command == ["scan"] else [*command, str(base), str(head)]
    main([*args, "--no-cache"])
    captured = capsys.readouterr()
    assert "\r" not in captured.err and "\r" not in captured.out
