"""A helper that declares ``global X`` (the lazy client a module keeps: ``_client = None``
at the top, set on first use) is code pvcheck follows: the declaration's names are the
module's, not names "defined nowhere" (PV011) that made every step reaching the helper
conservative (giga-dagster: eight such helpers, under most of its assets).
"""

from __future__ import annotations

from pathlib import Path

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.functions import source_fingerprint
from pvcheck.config import Config
from pvcheck.model import Project
from tests.conftest import write_tree

CLIENTS = '''\
_client: dict | None = None


def get_client() -> dict:
    """The client, made on first use."""
    global _client
    if _client is None:
        _client = {"endpoint": "https://example.org"}
    return _client
'''

STEP = '''\
from zenml import step

from utils.clients import get_client


@step
def load() -> int:
    return len(get_client())
'''

PIPELINE = '''\
from zenml import pipeline

from steps.load import load


@pipeline
def ingest():
    load()
'''


def _scan(root: Path, clients: str) -> Project:
    files = {"utils/__init__.py": "", "utils/clients.py": clients, "steps/__init__.py": "",
             "steps/load.py": STEP, "pipeline.py": PIPELINE}
    return scan_tree(write_tree(root, files), Config(), cache=False)


def test_a_global_declaration_is_followed(tmp_path: Path) -> None:
    project = _scan(tmp_path, CLIENTS)
    assert [d.code for d in project.diagnostics] == []
    (step,) = project.pipelines[0].steps
    assert not step.dynamic
    assert "utils.clients.get_client" in {h.name for h in step.helpers}


def test_a_name_defined_nowhere_is_still_reported(tmp_path: Path) -> None:
    project = _scan(tmp_path, CLIENTS.replace("    return _client\n", "    return _clinet\n"))
    assert [d.code for d in project.diagnostics] == ["PV011"]
    assert project.pipelines[0].steps[0].dynamic


def test_what_a_global_declaration_changes_counts() -> None:
    assert source_fingerprint(CLIENTS) == source_fingerprint(CLIENTS.replace("    global _client\n",
                                                                             "    global _client  # lazily\n"))
    # another module variable declared (and set): another computation
    other = CLIENTS.replace("_client: dict | None = None\n", "_client: dict | None = None\n_other = None\n")
    assert source_fingerprint(other) != source_fingerprint(other.replace("    global _client\n",
                                                                         "    global _client, _other\n"))
    # without the declaration the function's `_client` is a local: it raises UnboundLocalError
    assert source_fingerprint(CLIENTS) != source_fingerprint(CLIENTS.replace("    global _client\n", ""))
    assert source_fingerprint(CLIENTS) != source_fingerprint(CLIENTS.replace('"https://example.org"',
                                                                             '"https://example.com"'))
