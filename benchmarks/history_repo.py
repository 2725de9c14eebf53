#!/usr/bin/env python3
"""Generate a git repository with a long, realistic history of ZenML pipelines.

Each commit makes one edit of a known kind (a comment, a reformat, a ``print``, a local
rename, a configuration change, a changed literal, a changed helper, a step added or
removed, every step replaced, a README edit ...), so the decision pvcheck should reach
for every pipeline at every commit is known in advance. :func:`generate` returns that
expectation; ``pvcheck history`` on the repository must reproduce it.

    python benchmarks/history_repo.py ../history-repo --commits 300
    pvcheck history --repo ../history-repo --quiet

The history is written with ``git fast-import`` (one process, fixed dates), so a few
hundred commits take well under a second and the same seed gives the same commits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

#: Edit kinds and the decision each one means for the pipelines it touches.
EDITS: dict[str, str] = {
    "docs": "",  # no Python file changes: no pipeline is touched
    "comment": "run",
    "reformat": "run",
    "print": "run",
    "rename_local": "run",
    "config": "run",
    "default": "run",
    "body": "version",
    "helper": "version",
    "add_step": "version",
    "remove_step": "version",
    "replace": "pipeline",
}

#: How often each edit happens, roughly like a real project: mostly small things.
WEIGHTS: dict[str, int] = {
    "docs": 8, "comment": 14, "reformat": 8, "print": 10, "rename_local": 6, "config": 8, "default": 6,
    "body": 16, "helper": 6, "add_step": 5, "remove_step": 4, "replace": 2,
}

_TEMPLATES = (
    # three unrelated shapes of step body, so a replaced pipeline shares nothing with the old one
    "    {var} = [x * {k} * factor for x in data]\n    return {helper}(tuple({var}))\n",
    "    {var} = 0.0\n    for x in data:\n        if x > {k}:\n            {var} += x / factor\n"
    "    return {helper}(({var},))\n",
    "    {var} = {{str(i): x - {k} for i, x in enumerate(sorted(data))}}\n"
    "    return {helper}(tuple({var}.values()))\n",
)
#: Bodies of rewritten pipelines: other calls, other control flow. A pipeline rewritten
#: twice goes back to _TEMPLATES, which its current steps no longer use.
_REWRITTEN = (
    "    {var} = sorted(data, reverse=True)[:{k}]\n    while len({var}) < 2:\n        {var}.append(factor)\n"
    "    return {helper}(tuple({var}))\n",
    "    import statistics\n    {var} = statistics.pstdev(data) + {k}\n"
    "    return {helper}(({var}, max(data) * factor))\n",
    "    try:\n        {var} = sum(x ** {k} for x in data) ** (1 / factor)\n    except ZeroDivisionError:\n"
    "        {var} = -1.0\n    return {helper}(({var},))\n",
)
_REFORMATTED = {
    0: "    {var} = [\n        x * {k} * factor\n        for x in data\n    ]\n    return {helper}(tuple({var}))\n",
    1: "    {var} = 0.0\n    for x in data:\n        if (x > {k}):\n            {var} += (x / factor)\n"
       "    return {helper}(({var},))\n",
    2: "    {var} = {{\n        str(i): x - {k}\n        for i, x in enumerate(sorted(data))\n    }}\n"
       "    return {helper}(tuple({var}.values()))\n",
}


@dataclass
class StepState:
    name: str
    template: int
    k: int = 3
    var: str = "result"
    cache: bool = True
    default: float = 1.0
    comment: int = 0
    printed: bool = False
    reformatted: bool = False


@dataclass
class PipelineState:
    name: str
    index: int
    steps: list[StepState]
    lineage: int = 1
    version: int = 1
    helper: str = ""


@dataclass
class State:
    pipelines: list[PipelineState]
    helpers: dict[str, int] = field(default_factory=dict)  # helper name -> variant
    readme: int = 0
    counter: int = 0  # for fresh step names


def _step_source(step: StepState, helper: str) -> str:
    decorator = "@step" if step.cache else "@step(enable_cache=False)"
    lines = [decorator, f"def {step.name}(data: tuple = (1, 2, 3, 4), factor: float = {step.default}) -> tuple:"]
    if step.comment:
        lines.append(f"    # tuned in round {step.comment}")
    if step.printed:
        # names and literals only: a print with a call in it (len(data)) is not cosmetic
        lines.append(f'    print("running", "{step.name}", factor)')
    if step.template >= 3:
        template = _REWRITTEN[step.template - 3]  # no reformatted form: only formatting edits of originals
    else:
        template = _REFORMATTED[step.template] if step.reformatted else _TEMPLATES[step.template]
    body = template.format(var=step.var, k=step.k, helper=helper)
    return "\n".join(lines) + "\n" + body


def render(state: State) -> dict[str, str]:
    """The files of the project in ``state``."""
    files: dict[str, str] = {
        "README.md": f"# Churn models\n\nRevision notes: {state.readme}\n",
        "steps/__init__.py": "",
        "pipelines/__init__.py": "",
        "utils/__init__.py": "",
    }
    helpers = ["from typing import Tuple\n"]
    for name, variant in sorted(state.helpers.items()):
        helpers.append(f"\ndef {name}(values: Tuple[float, ...]) -> Tuple[float, ...]:\n"
                       f"    return tuple(round(v, {2 + variant}) for v in values)\n")
    files["utils/helpers.py"] = "".join(helpers)
    for pipeline in state.pipelines:
        module = f"steps/{pipeline.name}_steps.py"
        parts = ["from zenml import step\n", f"from utils.helpers import {pipeline.helper}\n"]
        for step in pipeline.steps:
            parts.append("\n\n" + _step_source(step, pipeline.helper))
        files[module] = "".join(parts)
        names = ", ".join(s.name for s in pipeline.steps)
        body = [f"    data = {pipeline.steps[0].name}()"]
        body += [f"    data = {s.name}(data)" for s in pipeline.steps[1:]]
        files[f"pipelines/{pipeline.name}.py"] = (
            "from zenml import pipeline\n\n"
            f"from steps.{pipeline.name}_steps import {names}\n\n\n"
            f'@pipeline(name="{pipeline.name}")\n'
            f"def {pipeline.name}_pipeline():\n" + "\n".join(body) + "\n"
        )
    return files


def initial_state(pipelines: int) -> State:
    state = State([])
    for index in range(pipelines):
        name = ("training", "scoring", "features", "monitoring", "retraining")[index % 5] + (
            f"_{index // 5}" if index >= 5 else "")
        helper = f"clean_{index}"
        state.helpers[helper] = 0
        steps = [StepState(f"{name}_step_{j}", (index + j) % 3) for j in range(4)]
        state.pipelines.append(PipelineState(name, index, steps, helper=helper))
    return state


def apply(state: State, kind: str, rng: random.Random,
          pipeline: Optional[PipelineState] = None) -> tuple[str, list[str]]:
    """Make one edit of ``kind``; return the commit message and the pipelines it touches."""
    pipeline = pipeline or rng.choice(state.pipelines)
    step = rng.choice(pipeline.steps)
    if kind == "docs":
        state.readme += 1
        return "docs: revision notes", []
    if kind == "comment":
        step.comment += 1
        return f"comment in {step.name}", [pipeline.name]
    if kind == "reformat":
        step.reformatted = not step.reformatted
        if step.template >= 3:
            step.comment += 1  # no second layout for these bodies: a comment is as cosmetic
        return f"reformat {step.name}", [pipeline.name]
    if kind == "print":
        step.printed = not step.printed
        return f"{'add' if step.printed else 'remove'} a print in {step.name}", [pipeline.name]
    if kind == "rename_local":
        step.var = {"result": "values", "values": "out", "out": "result"}[step.var]
        return f"rename a local of {step.name}", [pipeline.name]
    if kind == "config":
        step.cache = not step.cache
        return f"{'enable' if step.cache else 'disable'} the cache of {step.name}", [pipeline.name]
    if kind == "default":
        step.default = round(step.default + 0.5, 1)
        return f"default factor of {step.name} = {step.default}", [pipeline.name]
    if kind == "body":
        step.k += 1
        return f"change the threshold of {step.name}", [pipeline.name]
    if kind == "helper":
        state.helpers[pipeline.helper] += 1
        return f"change helper {pipeline.helper}", [pipeline.name]
    if kind == "add_step":
        state.counter += 1
        family = 3 if pipeline.steps[0].template >= 3 else 0
        pipeline.steps.append(StepState(f"{pipeline.name}_extra_{state.counter}", family + state.counter % 3))
        return f"add a step to {pipeline.name}", [pipeline.name]
    if kind == "remove_step":
        removed = pipeline.steps.pop()
        return f"remove step {removed.name}", [pipeline.name]
    if kind == "replace":
        state.counter += 1
        # new names and the other body shapes: nothing left to match
        family = 3 if pipeline.steps[0].template < 3 else 0
        pipeline.steps = [StepState(f"{pipeline.name}_v{state.counter}_{j}", family + j % 3, k=7 + j)
                          for j in range(3)]
        return f"rewrite {pipeline.name} from scratch", [pipeline.name]
    raise ValueError(kind)


def _semantic_key(state: State, pipeline: PipelineState) -> tuple:
    """What a pipeline computes, cosmetic and configuration edits left out: its steps in
    order (name, body shape, literal) and the variant of its helper."""
    return (tuple((s.name, s.template, s.k) for s in pipeline.steps), state.helpers[pipeline.helper])


def _fast_import_stream(commits: list[tuple[str, dict[str, Optional[str]]]], start: int) -> bytes:
    out: list[bytes] = []
    for number, (message, changes) in enumerate(commits, start=1):
        when = start + number * 3600
        msg = message.encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{number}\n".encode())
        out.append(f"author Dev <dev@example.invalid> {when} +0000\n".encode())
        out.append(f"committer Dev <dev@example.invalid> {when} +0000\n".encode())
        out.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if number > 1:
            out.append(f"from :{number - 1}\n".encode())
        for path, text in sorted(changes.items()):
            if text is None:
                out.append(f"D {path}\n".encode())
            else:
                data = text.encode()
                out.append(f"M 100644 inline {path}\n".encode() + f"data {len(data)}\n".encode() + data + b"\n")
        out.append(b"\n")
    return b"".join(out)


def generate(target: Path | str, commits: int = 300, pipelines: int = 3, seed: int = 6,
             script: Optional[list[str]] = None) -> dict:
    """Create the repository at ``target`` (must not exist or be empty) and return the
    expectation: per commit, the touched pipelines with their expected decision and
    (lineage, version); per pipeline, its final lineage and version and how many
    versions it went through, and how many versions a hash of its raw source files
    (pipeline module, step module, helpers) makes. ``script`` replaces the random edits
    with these kinds, in order, after the first commit."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise SystemExit(f"{target} is not empty")
    rng = random.Random(seed)
    state = initial_state(pipelines)
    previous: dict[str, str] = {}
    history: list[tuple[str, dict[str, Optional[str]]]] = []
    expected_commits: list[dict] = []
    made = {p.name: 1 for p in state.pipelines}
    kinds, weights = zip(*WEIGHTS.items())
    if script is not None:
        commits = len(script) + 1
    raw_seen: dict[str, set[str]] = {p.name: set() for p in state.pipelines}
    # per pipeline, the versions of its current lineage by semantic content: a change
    # back to earlier code is that version again ("back to v1"), as pvcheck lock says
    seen: dict[str, dict[tuple, int]] = {p.name: {} for p in state.pipelines}
    for number in range(commits):
        if number == 0:
            message, touched, kind = "initial pipelines", [p.name for p in state.pipelines], "initial"
        else:
            kind = script[number - 1] if script is not None else rng.choices(kinds, weights)[0]
            if kind == "remove_step" and all(len(p.steps) <= 2 for p in state.pipelines):
                kind = "add_step"
            chosen = None
            if kind == "remove_step":  # only from a pipeline that keeps at least two steps
                chosen = rng.choice([p for p in state.pipelines if len(p.steps) > 2])
            message, touched = apply(state, kind, rng, chosen)
        decision = "pipeline" if kind == "initial" else EDITS[kind]
        for pipeline in state.pipelines:
            key = _semantic_key(state, pipeline)
            if kind == "initial":
                seen[pipeline.name] = {key: 1}
            elif pipeline.name in touched:
                if decision == "version":
                    versions = seen[pipeline.name]
                    if key in versions:  # back to an earlier version's code
                        pipeline.version = versions[key]
                    else:
                        pipeline.version = max(versions.values()) + 1
                        versions[key] = pipeline.version
                        made[pipeline.name] += 1
                elif decision == "pipeline":
                    pipeline.lineage += 1
                    pipeline.version = 1
                    seen[pipeline.name] = {key: 1}
                    made[pipeline.name] += 1
        files = render(state)
        changes: dict[str, Optional[str]] = {p: t for p, t in files.items() if previous.get(p) != t}
        changes.update({p: None for p in previous if p not in files})
        previous = files
        for pipeline in state.pipelines:
            sources = (f"pipelines/{pipeline.name}.py", f"steps/{pipeline.name}_steps.py", "utils/helpers.py")
            raw_seen[pipeline.name].add("\0".join(files[path] for path in sources))
        history.append((f"{message}\n\nedit: {kind}", changes))
        source = "\0".join(f"{path}\0{text}" for path, text in sorted(files.items()) if path.endswith(".py"))
        expected_commits.append({
            "index": number, "kind": kind, "message": message,
            "sources": hashlib.sha256(source.encode()).hexdigest(),  # what the analyzer sees
            "pipelines": {p.name: {"decision": decision, "lineage": p.lineage, "version": p.version}
                          for p in state.pipelines if p.name in touched},
        })
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    stream = _fast_import_stream(history, 1_700_000_000)
    subprocess.run(["git", "-C", str(target), "fast-import", "--quiet"], input=stream,
                   check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "-q", "-f", "main"], check=True)
    return {
        "commits": expected_commits,
        "final": {p.name: {"lineage": p.lineage, "version": p.version, "versions_made": made[p.name],
                           "raw_versions": len(raw_seen[p.name])}
                  for p in state.pipelines},
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="folder to create the repository in")
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--pipelines", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--expected", help="write the expected decisions and versions to this JSON file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    expected = generate(args.target, args.commits, args.pipelines, args.seed)
    if args.expected:
        Path(args.expected).write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    print(f"{args.target}: {args.commits} commits, {args.pipelines} pipelines in {time.perf_counter() - started:.2f}s",
          file=sys.stderr)
    for name, final in expected["final"].items():
        print(f"  {name}: lineage {final['lineage']} v{final['version']}, {final['versions_made']} versions made, "
              f"{final['raw_versions']} by raw-source hashing", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
