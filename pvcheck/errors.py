"""Errors a user can cause. Each one renders as a single line: file, line, what to do."""

from __future__ import annotations

from typing import Optional


class PvcheckError(Exception):
    """An error caused by input (a file, a revision, a flag), never by a bug in pvcheck.

    The command line prints :meth:`one_line` on stderr and exits with status 2.
    """

    def __init__(self, message: str, path: Optional[str] = None, line: int = 0, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def __reduce__(self) -> tuple[type, tuple[str, Optional[str], int, str]]:
        # whole across processes (a history walk's helper processes send theirs back):
        # Exception pickles its args, here the message only
        return (type(self), (self.message, self.path, self.line, self.hint))

    def located(self, path: Optional[str], line: int = 0) -> "PvcheckError":
        """This error, placed at ``path:line`` unless it names a place already."""
        if not self.path:
            self.path, self.line = path, line
        return self

    def one_line(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return text.replace("\n", " ")

    def __str__(self) -> str:
        return self.one_line()


class ConfigError(PvcheckError):
    """A configuration file that is malformed, or has an unknown key or a wrong type."""


class LockError(PvcheckError):
    """A lock file that is corrupt, conflicted or from a newer pvcheck."""


class RevisionError(PvcheckError):
    """A git revision that does not exist, or a path that is not a repository."""
