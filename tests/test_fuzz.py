"""Fuzzing the analyzer: truncated, mutated and random files in the bundled fixture.

For every input: no exception escapes ``scan_tree`` (the suite runs with
``PVCHECK_DEBUG=1``, so even an internal error that would become a PV099 diagnostic
fails here); a file that cannot be decoded or parsed is a diagnostic naming it, at a line
inside the file; and every pipeline defined in another file is still found.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvcheck.analyzer import scan_tree
from pvcheck.analyzer.frameworks.base import load_frameworks
from pvcheck.analyzer.index import source_encoding
from pvcheck.analyzer.reached import _DECORATOR
from pvcheck.model import Project, Severity
from tests.conftest import FIXTURES

SOURCE = FIXTURES / "zenml_churn"
# Every file the analysis reads: pipeline and step modules, the helper modules steps use,
# the re-exporting package, run.py (it configures a pipeline). The two empty package
# __init__ files are left out: nothing needs them, so they are never parsed.
TARGETS = sorted(p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*.py")
                 if p.name != "__init__.py" or p.parent.name == "steps")
# No other file imports these: they are read only while they mention a framework (the
# pre-filter), so a mutation that removes the mention also removes the need to parse them.
UNREFERENCED = {"pipelines/batch_scoring.py", "run.py", "random_input.py"}
MARKERS = [m for framework in load_frameworks() for m in framework.markers]
FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# bytes that tend to break tokenizers and decoders in interesting ways
NASTY = [b"(", b")", b"[", b":", b'"""', b"'", b"\\", b"\t", b"\r", b"\x0c", b"\xef\xbb\xbf", b"\x00", b"\xff",
         b"\xc3", b"# -*- coding: latin-1 -*-\n", b"# coding: nope\n", b"\n    ", b"lambda", b"@", b"f'{", b"}",
         b"async ", b"yield", "\u2028".encode("utf-8"), "é".encode("utf-8")]


@functools.lru_cache(maxsize=1)
def _baseline() -> Project:
    return scan_tree(SOURCE)


def _unparsable(data: bytes) -> bool:
    """Whether pvcheck must refuse ``data``: binary, undecodable, or rejected by the parser."""
    if b"\x00" in data:
        return True
    try:
        text = data.decode(source_encoding(data))
    except (UnicodeDecodeError, LookupError):
        return True
    try:
        cst.parse_module(text[1:] if text.startswith("\ufeff") else text)
    except Exception:
        return True
    return False


def _check(tmp_path: Path, target: str, data: bytes) -> None:
    root = tmp_path / "tree"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(SOURCE, root)
    (root / target).write_bytes(data)
    project = scan_tree(root)  # must not raise

    mine = [d for d in project.diagnostics if d.path == target and d.severity is Severity.ERROR]
    noted = [d for d in project.diagnostics if d.path == target and d.code in ("PV001", "PV002", "PV003", "PV007")]
    lines = data.count(b"\n") + data.count(b"\r") + 1
    assert all(0 <= d.line <= lines for d in noted), noted
    needed = target not in UNREFERENCED or any(marker in data for marker in MARKERS)
    if not _unparsable(data):
        assert not [d for d in noted if d.code in ("PV001", "PV002")], noted
    elif needed:
        assert noted, f"{target} cannot be parsed but has no diagnostic"
        # a pipeline reaches every file but run.py and the added random_input.py, which no
        # module imports: only there may a broken file be a warning (issue 16)
        if target not in ("run.py", "random_input.py") or _DECORATOR.search(data):
            assert mine, f"{target} is reached by a pipeline but its diagnostic is no error: {noted}"

    found = {(p.name, p.path) for p in project.pipelines}
    expected = {(p.name, p.path) for p in _baseline().pipelines if p.path != target}
    assert expected <= found


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "nasty", "delete", "duplicate", "swap-lines"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif action == "nasty":
            data[at:at] = draw(st.sampled_from(NASTY))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif action == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 60))]
        elif action == "swap-lines":
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def _original(target: str) -> bytes:
    return (SOURCE / target).read_bytes()


@FUZZ
@given(st.sampled_from(TARGETS), st.data())
def test_truncated_files(tmp_path: Path, target: str, data: st.DataObject) -> None:
    original = _original(target)
    cut = data.draw(st.integers(0, len(original) - 1), label="cut")
    _check(tmp_path, target, original[:cut])


@FUZZ
@given(st.sampled_from(TARGETS), st.data())
def test_mutated_files(tmp_path: Path, target: str, data: st.DataObject) -> None:
    _check(tmp_path, target, data.draw(mutations(_original(target)), label="mutated"))


@FUZZ
@given(st.one_of(
    st.binary(max_size=3000).map(lambda b: b"import zenml\n" + b),
    st.text(max_size=2000).map(lambda t: ("from zenml import step\n" + t).encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(NASTY + [b"zenml", b"step", b"def", b"pipeline", b"x", b" ", b"\n", b"=", b","]),
             max_size=300).map(lambda parts: b"zenml\n" + b"".join(parts)),
))
def test_random_files_next_to_the_fixture(tmp_path: Path, data: bytes) -> None:
    _check(tmp_path, "random_input.py", data)


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_is_read_by_the_analysis(tmp_path: Path, target: str) -> None:
    """The premise of the tests above: breaking any target is noticed (else they prove little)."""
    data = _original(target) + b"\ndef broken(:\n"
    assert _unparsable(data)
    _check(tmp_path, target, data)

