"""Progress of long work on stderr, only when a person is watching.

A progress line is written only when the stream is a terminal and ``--quiet`` was not
given: piped or captured output (CI logs, ``2>file``) stays free of carriage returns.
Nothing is drawn before ``delay`` seconds (two, for the commands): a command that is
quick anyway does not flicker. The line is redrawn in place at most every ``interval``
seconds, so a fast loop does not spend its time writing to the terminal, and it is
erased when the work ends.

``scan`` and ``diff`` count units of analysis work (:mod:`pvcheck.analyzer.work`);
``history`` counts commits.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from types import TracebackType
from typing import Iterator, Optional, TextIO, Type

#: Seconds a command runs before its progress line appears.
DELAY = 2.0


class Progress:
    """``with Progress(total, "history") as progress: ... progress.advance(detail)``."""

    def __init__(
        self,
        total: int,
        label: str,
        stream: Optional[TextIO] = None,
        quiet: bool = False,
        enabled: Optional[bool] = None,
        interval: float = 0.1,
        delay: float = 0.0,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty()) and not quiet
        self.enabled = enabled and not quiet
        self.interval = interval
        self.delay = delay
        self.done = 0
        self._last_draw = 0.0
        self._width = 0
        self._started = time.monotonic()

    def advance(self, detail: str = "", steps: int = 1) -> None:
        """Count ``steps`` more units of work done; redraw if enough time has passed."""
        self.done += steps
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._started < self.delay:
            return
        if now - self._last_draw < self.interval and self.done < self.total:
            return
        self._last_draw = now
        self._draw(detail)

    def _draw(self, detail: str) -> None:
        text = f"{self.label}: {self.done}/{self.total}"
        if self.total:
            text += f" ({100 * self.done // self.total}%)"
        if detail:
            text += f" {detail}"
        text = text[:120]
        # Pad over the previous, possibly longer line instead of relying on terminal
        # escape sequences, which not every terminal emulator in CI web views honours.
        padding = " " * max(0, self._width - len(text))
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """Erase the progress line, leaving the terminal as it was."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def __enter__(self) -> "Progress":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()


@contextmanager
def work_progress(label: str, quiet: bool = False, stream: Optional[TextIO] = None,
                  delay: float = DELAY) -> Iterator[Progress]:
    """A progress line counting the units of analysis work run inside the block
    (``pvcheck scan``, ``pvcheck diff``)."""
    from pvcheck.analyzer import work

    with Progress(0, label, stream=stream, quiet=quiet, delay=delay) as progress:
        if not progress.enabled:
            yield progress
            return

        def listener(added: int, done: int) -> None:
            progress.total += added
            if done:
                progress.advance("units analyzed", done)

        with work.listening(listener):
            yield progress
