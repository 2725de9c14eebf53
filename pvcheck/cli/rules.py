"""``pvcheck rules [ID]``: every rule with its policy and default decision, or one rule
explained with an example and a near-miss (like ``ruff rule``)."""

from __future__ import annotations

import argparse
import json
import sys

from pvcheck.cli import EXIT_OK
from pvcheck.cli.options import config_for
from pvcheck.diagnostics import describe
from pvcheck.diagnostics import explain as explain_diagnostic
from pvcheck.errors import PvcheckError
from pvcheck.policies.ruledocs import catalogue_text, explain, find_rule, rule_docs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules", help="list every rule, or explain one (pvcheck rules PV402)",
        description="List every rule of the policies that run here (built-in and plug-in) with its policy, "
                    "default decision and summary; with a rule id, explain that rule: what it detects, why it "
                    "needs its decision, an example that triggers it, a near-miss that does not, and how to "
                    "override it.")
    parser.add_argument("rule", nargs="?", metavar="ID", help="a rule id such as PV402, or a diagnostic code "
                                                                "such as PV022")
    parser.add_argument("--path", default=None, help="the project whose configuration and plug-ins count "
                                                    "(default: .)")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--config", metavar="FILE", help="pvcheck.toml or pyproject.toml to read settings from")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")


def run(args: argparse.Namespace) -> int:
    docs = rule_docs(config_for(args, args.path))
    if args.rule is None:
        if args.format == "json":
            sys.stdout.write(json.dumps({"schema": "pvcheck.rules/1", "rules": [
                {k: v for k, v in d.as_json().items() if k not in ("triggers", "near_misses")} for d in docs]},
                indent=2) + "\n")
        else:
            sys.stdout.write(catalogue_text(docs))
        return EXIT_OK
    doc = find_rule(args.rule, docs)
    diagnostic = describe(args.rule) if doc is None else None
    if diagnostic is not None:  # a PV0xx diagnostic of the analyzer: what it means, what to do
        if args.format == "json":
            sys.stdout.write(json.dumps({"schema": "pvcheck.rules/1", "diagnostics": [diagnostic.as_json()]},
                                        indent=2) + "\n")
        else:
            sys.stdout.write(explain_diagnostic(diagnostic))
        return EXIT_OK
    if doc is None:
        raise PvcheckError(f"no rule '{args.rule}'", hint="'pvcheck rules' lists every rule id")
    if args.format == "json":
        sys.stdout.write(json.dumps({"schema": "pvcheck.rules/1", "rules": [doc.as_json()]}, indent=2) + "\n")
    else:
        sys.stdout.write(explain(doc))
    return EXIT_OK
