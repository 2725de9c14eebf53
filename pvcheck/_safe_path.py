"""``python -m pvcheck`` must not import the analyzed project's files.

For ``-m``, Python puts the current folder first on ``sys.path``. Run in a project that
has a ``yaml.py``, ``typing.py`` or ``tokenize.py``, pvcheck's own imports would execute
that file -- code pvcheck promises never to run. The package imports this module before
anything else; it drops that entry when, and only when, ``pvcheck`` itself is the module
``-m`` is starting (what Python's ``-P`` flag does). The ``pvcheck`` script never has
the current folder on its path, and a program importing pvcheck as a library is left
alone.
"""

from __future__ import annotations

import os
import sys


def _starting_as_main() -> bool:
    if sys.argv[:1] != ["-m"]:  # Python's value while -m looks for its module
        return False
    argv = list(getattr(sys, "orig_argv", []))
    for index, argument in enumerate(argv[1:], start=1):
        if argument == "-m":
            return argv[index + 1:index + 2] in (["pvcheck"], ["pvcheck.__main__"])
        if argument.startswith("-m"):
            return argument[2:] in ("pvcheck", "pvcheck.__main__")
    return False


if _starting_as_main() and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
