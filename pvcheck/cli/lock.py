"""``pvcheck lock [PATH]``: record every pipeline's lineage and version in pvcheck.lock.

The work is :func:`pvcheck.lock.lock_project`; this renders its result.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pvcheck.cli import EXIT_ERROR, EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.cli.reporting import print_errors
from pvcheck.lock import lock_project
from pvcheck.output.style import Style
from pvcheck.versions import VersionChange


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lock", help="write pvcheck.lock from the working tree, bumping versions",
                                   description="Write pvcheck.lock (or [tool.pvcheck] lock_file) from the working "
                                               "tree, moving each pipeline's version as the decisions say.")
    parser.add_argument("path", nargs="?", default=None,
                        help="the project folder (default: the one whose pvcheck settings or lock govern the "
                             "current folder, found upwards)")
    parser.add_argument("--refresh", action="store_true",
                        help="re-record every locked pipeline as this pvcheck analyzes it, keeping its version and "
                             "lineage (after upgrading pvcheck, when the lock describes the current code)")
    common_options(parser)


def run(args: argparse.Namespace) -> int:
    config = config_for(args, args.path)
    result = lock_project(Path(args.path), config=config, cache=not args.no_cache, refresh=args.refresh)
    for note in result.notes:
        print(f"pvcheck: {note}", file=sys.stderr)
    if print_errors(result.report):
        # a file that does not parse hides its pipelines: locking now would drop them
        print(f"pvcheck: error: {config.lock_file} not written; fix the errors above (or exclude those files), "
              "then re-run `pvcheck lock`", file=sys.stderr)
        return EXIT_ERROR
    for name, places in result.collisions:
        print(f"pvcheck: warning: {len(places)} different pipelines are named '{name}' ({', '.join(places)}); "
              "they would share versions and runs: give each its own name", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(_json(result.lock_file, result.written, result.resolved_conflict, result.changes))
    else:
        sys.stdout.write(_text(result.lock_file, result.written, result.resolved_conflict, result.changes,
                               Style.for_stream(sys.stdout)))
    return EXIT_OK


def _text(lock_file: str, written: bool, conflicted: bool, changes: tuple[VersionChange, ...], style: Style) -> str:
    lines = []
    if conflicted:
        lines.append(f"resolved the merge conflict in {lock_file}")
    for change in changes:
        colour = "dim"
        if change.after is None or change.new_lineage or change.before is None:
            colour = "red"
        elif change.bumped:
            colour = "yellow"
        lines.append("  " + style(change.describe(), colour))
    if not changes:
        lines.append("  no pipelines found")
    bumped = sum(1 for c in changes if c.bumped)
    if written:
        lines.append(style(f"wrote {lock_file}: {len([c for c in changes if c.after])} pipeline(s), "
                           f"{bumped} changed version or lineage", "bold"))
    else:
        lines.append(style(f"{lock_file} is up to date", "bold"))
    return "\n".join(lines) + "\n"


def _json(lock_file: str, written: bool, conflicted: bool, changes: tuple[VersionChange, ...]) -> str:
    data = {
        "schema": "pvcheck.lock-result/1",
        "lock_file": lock_file,
        "written": written,
        "resolved_conflict": conflicted,
        "pipelines": [
            {
                "name": c.name,
                "path": c.change.path,
                "status": c.change.status.value,
                "decision": c.decision.value if c.decision else None,
                "lineage": c.after.lineage if c.after else None,
                "version": c.after.version if c.after else None,
                "previous_lineage": c.before.lineage if c.before else None,
                "previous_version": c.before.version if c.before else None,
                "summary": c.describe(),
            }
            for c in changes
        ],
    }
    return json.dumps(data, indent=2) + "\n"
