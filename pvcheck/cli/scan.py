"""``pvcheck scan [PATH]``: pipelines, steps, edges, fingerprints and diagnostics."""

from __future__ import annotations

import argparse
import sys

from pvcheck.cli import EXIT_ERROR, EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.model import Severity
from pvcheck.output.progress import work_progress
from pvcheck.output.scan import scan_json, scan_text
from pvcheck.output.style import Style


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scan", help="list pipelines, steps, edges, fingerprints, diagnostics")
    parser.add_argument("path", nargs="?", default=None,
                        help="the project to scan (default: the project governing the current folder)")
    common_options(parser)


def run(args: argparse.Namespace) -> int:
    import pvcheck

    config = config_for(args, args.path)
    with work_progress("pvcheck scan", quiet=args.quiet):
        project = pvcheck.scan(args.path, config=config, cache=not args.no_cache)
    if args.format == "json":
        sys.stdout.write(scan_json(project))
    else:
        sys.stdout.write(scan_text(project, Style.for_stream(sys.stdout)))
    errors = [d for d in project.diagnostics if d.severity is Severity.ERROR]
    for diagnostic in errors:
        print(f"pvcheck: error: {diagnostic.one_line()}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK
