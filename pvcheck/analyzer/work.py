"""Units of analysis work as they start and finish, for whoever shows progress.

The scan engine does not know about terminals; the executors that run units
(:mod:`pvcheck.analyzer.parallel`, :mod:`pvcheck.analyzer.incremental`) report here how
many units they were given and how many are done, and the command line listens while a
command runs (:func:`listening`). Nothing here imports libcst: a scan served from the
cache reports nothing and pays nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

#: listener(units added to the total, units done)
Listener = Callable[[int, int], None]

_listeners: list[Listener] = []


def report(added: int = 0, done: int = 0) -> None:
    """``added`` more units are queued, ``done`` more are finished."""
    for listener in _listeners:
        listener(added, done)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with every report made inside the ``with`` block."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
