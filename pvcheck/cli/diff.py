"""``pvcheck diff BASE [HEAD]``: per pipeline, run, version or pipeline, and why."""

from __future__ import annotations

import argparse
import sys

from pvcheck.cli import EXIT_ERROR, EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.cli.reporting import is_folder, print_errors, print_report, repository_prefix
from pvcheck.output.progress import work_progress
from pvcheck.output.report import REPORT_FORMATS, RenderContext
from pvcheck.output.style import Style


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff", help="compare two revisions: is each pipeline a new run, version or pipeline?",
        description="Compare two revisions of a project. BASE and HEAD are each a folder, or a git "
                    "revision of the repository at --repo; HEAD defaults to the working tree.")
    parser.add_argument("base", metavar="BASE", help="a folder, or a git revision (main, HEAD~1, a tag, a hash)")
    parser.add_argument("head", metavar="HEAD", nargs="?", default=None,
                        help="a folder or a git revision (default: the working tree at --repo)")
    parser.add_argument("--repo", metavar="PATH", default=None,
                        help="the project folder inside a git repository that revisions are read from "
                             "(default: the project governing the current folder)")
    common_options(parser, REPORT_FORMATS)


def run(args: argparse.Namespace) -> int:
    import pvcheck

    # the settings of the project being changed: HEAD's folder, else the repository's
    config = config_for(args, args.head if is_folder(args.head) else args.repo)
    with work_progress("pvcheck diff", quiet=args.quiet):
        report = pvcheck.diff(args.base, args.head, config=config, repo=args.repo, cache=not args.no_cache)
    head_folder = args.head if is_folder(args.head) else args.repo
    context = RenderContext(
        style=Style.for_stream(sys.stdout),
        base_label=args.base,
        head_label=args.head or "working tree",
        path_prefix=repository_prefix(head_folder),
    )
    print_report(report, args.format, context)
    return EXIT_ERROR if print_errors(report) else EXIT_OK
