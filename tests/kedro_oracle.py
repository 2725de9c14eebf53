"""Run inside a subprocess by test_kedro.py: build a fixture's pipelines with Kedro itself
and print their node names and dataset edges as JSON. Tests import their own fixtures;
pvcheck never does."""

from __future__ import annotations

import importlib
import json
import sys
import warnings


def main(source_dir: str, package: str) -> None:
    sys.path.insert(0, source_dir)
    warnings.simplefilter("ignore")
    from kedro.framework.project import configure_project
    from kedro.pipeline.transcoding import _strip_transcoding

    configure_project(package)
    registry = importlib.import_module(f"{package}.pipeline_registry")
    result = {}
    for name, pipe in registry.register_pipelines().items():
        producers = {_strip_transcoding(o): n.name for n in pipe.nodes for o in n.outputs}
        edges = sorted({(producers[_strip_transcoding(i)], n.name, _strip_transcoding(i))
                        for n in pipe.nodes for i in n.inputs if _strip_transcoding(i) in producers})
        result[name] = {"nodes": sorted(n.name for n in pipe.nodes),
                        "functions": {n.name: f"{n.func.__module__}.{n.func.__name__}"
                                      for n in pipe.nodes if hasattr(n.func, "__name__")},
                        "edges": [list(e) for e in edges]}
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
