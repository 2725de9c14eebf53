"""``pvcheck check [PATH] [--base REV] [--fail-on version|pipeline]``: the CI gate.

The gate itself is :func:`pvcheck.check.check_project`; this renders its result and
turns it into an exit code (1: the gate failed, 2: an analysis error).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pvcheck.check import check_project
from pvcheck.cli import EXIT_ERROR, EXIT_GATE, EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.cli.reporting import print_errors, print_report, repository_prefix
from pvcheck.output.report import REPORT_FORMATS, RenderContext
from pvcheck.output.style import Style


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="CI gate: fail when pvcheck.lock is stale or pipeline names collide",
        description="Compare the working tree with pvcheck.lock (or with --base REV), report every version "
                    "bump, and exit 1 when the lock is stale or two pipelines share a name.")
    parser.add_argument("path", nargs="?", default=None,
                        help="the project folder (default: the one whose pvcheck settings or lock govern the "
                             "current folder, found upwards)")
    parser.add_argument("--base", metavar="REV", help="compare with this git revision instead of the lock")
    parser.add_argument("--fail-on", choices=["version", "pipeline"],
                        help="also fail when a pipeline's decision is at or above this level")
    common_options(parser, REPORT_FORMATS)


def run(args: argparse.Namespace) -> int:
    config = config_for(args, args.path)
    root = Path(args.path)
    result = check_project(root, base=args.base, fail_on=args.fail_on, config=config, cache=not args.no_cache)
    for note in result.notes:
        print(f"pvcheck: {note}", file=sys.stderr)
    context = RenderContext(
        style=Style.for_stream(sys.stdout),
        base_label=result.gate.against,
        head_label="working tree",
        path_prefix=repository_prefix(root),
        gate=result.gate,
        versions=result.versions,
    )
    print_report(result.report, args.format, context)
    if print_errors(result.report):
        return EXIT_ERROR
    if not result.passed:
        if args.format != "text":  # text already ends with the verdict; keep it visible in CI logs
            print(f"pvcheck: check failed: {len(result.gate.problems)} problem(s); {result.gate.hint}",
                  file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK
