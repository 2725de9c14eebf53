"""pvcheck: is this change to an ML pipeline a new run, a new version, or a new pipeline?

The public, typed API. The command line is built on these functions and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pvcheck.config import Config, load_config
from pvcheck.model import (
    Decision,
    Diagnostic,
    Edge,
    Finding,
    Pipeline,
    PipelineChange,
    Project,
    Report,
    Step,
)

__version__ = "0.1.0"


def scan(path: Path | str = ".", config: Optional[Config] = None, cache: bool = True) -> Project:
    """Analyze the tree at ``path`` statically and return its pipelines.

    Nothing in the tree is imported or executed. Unreadable or unparsable files are
    :class:`Diagnostic` entries of the result; the rest of the tree is still analyzed.
    """
    from pvcheck.analyzer import scan_tree

    return scan_tree(Path(path), config)


__all__ = [
    "Config",
    "Decision",
    "Diagnostic",
    "Edge",
    "Finding",
    "Pipeline",
    "PipelineChange",
    "Project",
    "Report",
    "Step",
    "__version__",
    "load_config",
    "scan",
]
