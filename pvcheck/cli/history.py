"""``pvcheck history``: the decision and version of every pipeline at every commit.

Walks the first-parent history of the current branch as if ``pvcheck lock`` had run
after every commit, and compares the versions made with those a raw-source hash would
have made. Progress goes to stderr when it is a terminal (``--quiet`` silences it).
"""

from __future__ import annotations

import argparse
import sys

from pvcheck.cli import EXIT_OK, common_options
from pvcheck.cli.options import config_for
from pvcheck.output.progress import DELAY, Progress

FORMATS = ("text", "json", "markdown", "svg")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "history", help="replay the git history: decisions and versions per commit, churn vs raw-source hashing",
        description="Walk the first-parent history (oldest first) as if `pvcheck lock` had run after every "
                    "commit: for each commit that touches a pipeline, its decision and version; at the end, "
                    "per pipeline, how many versions pvcheck made and how many a hash of the raw source "
                    "files would have made over the same commits.")
    parser.add_argument("--repo", metavar="PATH", default=None,
                        help="the project folder inside a git repository (default: the project governing the current "
                             "folder)")
    parser.add_argument("--since", metavar="REV", help="start at this commit (default: the first commit)")
    parser.add_argument("--pipeline", metavar="NAME", help="show only this pipeline")
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    common_options(parser, FORMATS)


def run(args: argparse.Namespace) -> int:
    from pvcheck.errors import PvcheckError
    from pvcheck.history import walk
    from pvcheck.output.history_report import history_json, history_markdown, history_text
    from pvcheck.output.style import Style
    from pvcheck.output.timeline_svg import timeline_svg

    config = config_for(args, args.repo)
    with Progress(0, "pvcheck history", quiet=args.quiet, delay=DELAY) as progress:
        def on_commit(done: int, total: int, commit: str) -> None:
            progress.total = total
            progress.advance(commit[:10])

        history = walk(args.repo, config, since=args.since, pipeline=args.pipeline, cache=not args.no_cache,
                       on_commit=on_commit)
    if args.pipeline and not history.summaries:
        raise PvcheckError(f"no pipeline named '{args.pipeline}' in the history of {args.repo}",
                           hint="`pvcheck history` without --pipeline lists them all")
    if args.format == "json":
        text = history_json(history)
    elif args.format == "markdown":
        text = history_markdown(history)
    elif args.format == "svg":
        text = timeline_svg(history)
    else:
        text = history_text(history, Style(False) if args.output else Style.for_stream(sys.stdout))
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise PvcheckError(f"cannot write {args.output}: {exc.strerror or exc}",
                               hint="give a path in a folder that exists and is writable") from None
    else:
        sys.stdout.write(text)
    if not args.quiet:
        per_commit = history.seconds / max(history.commits_walked, 1)
        print(f"pvcheck history: {history.commits_walked} commits walked, {history.commits_analyzed} analyzed "
              f"in {history.seconds:.1f}s ({per_commit * 1000:.0f} ms per commit)", file=sys.stderr)
    return EXIT_OK
