"""Pathological trees: each bad file is a diagnostic, never a crash or a hang, and the
rest of the tree is still analyzed.

Deeply nested code is scanned in a child process: libcst's native parser overflows the
C stack on it, which kills the process outright (SIGSEGV) instead of raising.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Union

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pvcheck.analyzer.listing as listing_module  # the module discover() is called from
from pvcheck.analyzer import scan_tree
from pvcheck.analyzer import discovery as discovery_module
from pvcheck.analyzer.nesting import MAX_NESTING, _level_bound, _scan, excessive_nesting
from pvcheck.config import Config
from pvcheck.model import Diagnostic, Project, Severity
from tests.conftest import MINIMAL_PROJECT, write_tree

GOOD = MINIMAL_PROJECT

DEEP = 5000


def _chain(prefix: str, item: str, suffix: str = "") -> str:
    return prefix * DEEP + item + suffix * DEEP


# Each would crash or stall libcst's parser (checked when this suite was written: brackets
# segfault from ~1,300 levels, lambda/ternary/unary chains from a few thousand, and chained
# calls, subscripts and attributes take minutes). The zenml import makes each a candidate
# file that the analyzer parses.
DEEP_SOURCES = {
    "parens.py": "x = " + _chain("(", "1", ")"),
    "lists.py": "x = " + _chain("[", "1", "]"),
    "dicts.py": "x = " + _chain("{1: ", "1", "}"),
    "calls.py": "x = " + _chain("f(", "", ")"),
    "call_chain.py": "x = f" + "()" * DEEP,
    "subscripts.py": "x = a" + "[0]" * DEEP,
    "attributes.py": "x = a" + ".b" * DEEP,
    "lambdas.py": "x = " + "lambda: " * DEEP + "1",
    "unary.py": "x = " + "-" * (10 * DEEP) + "1",
    "nots.py": "x = " + "not " * (10 * DEEP) + "1",
    "ternary.py": "x = " + "1 if a else " * DEEP + "1",
    "boolean.py": "x = " + " and ".join(["a"] * (10 * DEEP)),
    "power.py": "x = " + "**".join(["2"] * (10 * DEEP)),
    "fstring.py": 'x = f"{' + _chain("(", "1", ")") + '}"',
    # string annotations are parsed as code (libcst's scope analysis, and pvcheck's)
    "annotation.py": 'def f(x: "' + _chain("(", "int", ")") + '" = 1) -> None:\n    pass',
    "subscript_annotation.py": 'from typing import List\n\nX: List["' + "-" * (10 * DEEP) + 'int"] = []',
    "elifs.py": "if a:\n    pass\n" + "elif a:\n    pass\n" * (10 * DEEP),
    "in_a_function.py": "def f():\n    return [\n" + "        (\n" * DEEP + "1" + ")" * DEEP + "]\n",
}


_CHILD = """
import json, sys
from pvcheck.analyzer import scan_tree
project = scan_tree(sys.argv[1])
print(json.dumps({
    "pipelines": [p.name for p in project.pipelines],
    "steps": [[s.id, s.dynamic, s.fingerprint] for p in project.pipelines for s in p.steps],
    "diagnostics": [[d.code, d.path, d.line, d.message] for d in project.diagnostics],
}))
"""


@dataclass
class ChildScan:
    """What a scan in a child process found (the parts these tests look at)."""

    pipelines: list[str]
    steps: list[tuple[str, bool, str]]
    diagnostics: list[Diagnostic]


def _scan_in_child(root: Path, timeout: float = 300, **options: Any) -> ChildScan:
    """Scan ``root`` in a child process; a crash there fails the test instead of killing pytest."""
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", _CHILD, str(root)],
                          capture_output=True, text=True, timeout=timeout, **options)
    assert done.returncode == 0, f"scan died with {done.returncode}: {done.stderr[-3000:]}"
    data = json.loads(done.stdout)
    return ChildScan(data["pipelines"], [tuple(s) for s in data["steps"]],
                     [Diagnostic(code, Severity.ERROR, message, path, line)
                      for code, path, line, message in data["diagnostics"]])


def _codes(project: Union[Project, ChildScan]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for diagnostic in project.diagnostics:
        found.setdefault(diagnostic.path, set()).add(diagnostic.code)
    return found


def test_deep_nesting_of_every_kind_is_pv007_and_the_rest_is_analyzed(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", GOOD)
    for name, source in DEEP_SOURCES.items():
        (root / name).write_text("import zenml\n\n" + source + "\n", encoding="utf-8")
    project = _scan_in_child(root)
    codes = _codes(project)
    assert {name: codes.get(name) for name in DEEP_SOURCES} == {name: {"PV007"} for name in DEEP_SOURCES}
    assert project.pipelines == ["p"]
    located = {d.path: d.line for d in project.diagnostics}
    assert located["parens.py"] == 3 and located["elifs.py"] > 1000  # where the limit was crossed


def test_deep_indentation_is_a_syntax_error_naming_the_line(tmp_path: Path) -> None:
    # CPython and libcst both refuse more than 100 levels; 1,000 (one blank each) stays under the size limit
    source = "import zenml\n" + "".join(" " * i + "if x:\n" for i in range(1000)) + " " * 1000 + "pass\n"
    root = write_tree(tmp_path / "proj", GOOD)
    (root / "ifs.py").write_text(source, encoding="utf-8")
    project = _scan_in_child(root)
    diagnostic = next(d for d in project.diagnostics if d.path == "ifs.py")
    assert diagnostic.code == "PV001" and "indentation" in diagnostic.message and diagnostic.line > 100
    assert project.pipelines == ["p"]


def test_deep_code_in_a_helper_module_makes_the_step_conservative(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {
        **GOOD,
        "steps.py": """
            from zenml import step
            from tables import lookup

            @step
            def load() -> int:
                return lookup(1)
        """,
    })
    (root / "tables.py").write_text("def lookup(x):\n    return x\n\nT = " + _chain("(", "1", ")") + "\n",
                                    encoding="utf-8")
    project = _scan_in_child(root)
    assert _codes(project)["tables.py"] == {"PV007"}
    [(step_id, dynamic, _)] = project.steps
    assert step_id == "load" and dynamic  # a helper pvcheck cannot read must not pass as third-party code


def test_nesting_just_under_the_limit_is_parsed() -> None:
    assert excessive_nesting("x = " + "(" * MAX_NESTING + "1" + ")" * MAX_NESTING) is None
    found = excessive_nesting("x = " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1))
    assert found is not None and found.depth == MAX_NESTING + 1 and found.line == 1


_NESTING_PIECES = st.sampled_from([
    "(", ")", "[", "]", "{", "}", "-", "+", "**", ".", ",", "=", ";", "\n", "\\\n", " ", "x", "1", "#",
    "'", '"', '"""', "f'", "f\"{", "}", "not ", "lambda ", "if ", "else ", "elif ", "await ", "def ", "in ", "==", "!=",
])


@given(st.lists(_NESTING_PIECES, max_size=400).map("".join), st.integers(min_value=1, max_value=60))
@example("(==", 1)  # found by hypothesis: == is an operator to the scan
@settings(max_examples=300, deadline=None)
def test_the_quick_bound_is_never_below_the_estimate(text: str, limit: int) -> None:
    """Small modules skip the scan when the quick bound is within the limit: that must
    never let through what the scan would refuse."""
    if _level_bound(text, limit) <= limit:
        assert _scan(text, 0, limit) is None


@pytest.mark.parametrize("text", [
    "# " + "(" * 2000 + "\nx = 1\n",  # brackets in a comment
    "x = [" + ", ".join(["(1, 2)"] * 5000) + "]\n",  # a long, flat literal
    "x = 1 + 2 + 3\n" * 5000,  # many short statements
    "x = {\n" + "".join(f"    'k{i}': -{i}.5,\n" for i in range(5000)) + "}\n",  # a big table
    "ICON = '" + base64.b64encode(bytes(range(256)) * 200).decode() + "'\n",  # a blob: a + b / c as code
    'SQL = """' + "SELECT a + b - c * d / e FROM t WHERE (x > 1 AND NOT y) OR z\n" * 300 + '"""\n',
    'DOC = """Usage.\n\n' + ("-" * 79 + "\nif this, else that; not now\n") * 200 + '"""\n',
    "x = 1\n" + " " * 200_000,  # trailing blanks: no backtracking
    "x = 'unterminated\n" + "y = (1)\n" * 2000,
])
def test_the_estimate_ignores_what_cannot_nest(text: str) -> None:
    assert excessive_nesting(text) is None


def test_the_estimate_has_no_false_positive_on_the_standard_library() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py")) + sorted((stdlib / "encodings").glob("*.py"))
    assert len(files) > 100
    flagged = []
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        if excessive_nesting(text) is not None:
            flagged.append(file.name)
    assert flagged == []


def test_twenty_thousand_functions_in_one_file(tmp_path: Path) -> None:
    helpers = "".join(f"def f{i}(x): return x + {i}\n" for i in range(20_000))
    root = write_tree(tmp_path / "proj", {
        **GOOD,
        "steps.py": """
            from zenml import step
            from generated import f19999

            @step
            def load() -> int:
                return f19999(1)
        """,
    })
    (root / "generated.py").write_text(helpers, encoding="utf-8")
    project = scan_tree(root)
    assert project.diagnostics == ()
    step = project.pipelines[0].steps[0]
    assert [h.name for h in step.helpers] == ["generated.f19999"] and not step.dynamic


def test_file_over_the_size_limit_from_the_configuration(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {**GOOD, "pvcheck.toml": "max_file_size = 300\n",
                                          "big.py": "import zenml\n" + "x = 1\n" * 100})
    from pvcheck.config import find_config, load_config

    config = load_config(find_config(root))
    assert config.max_file_size == 300
    project = scan_tree(root, config)
    assert _codes(project) == {"big.py": {"PV003"}}
    assert [p.name for p in project.pipelines] == ["p"]


@pytest.mark.parametrize("problem, content", [
    ("too large", "def lookup(x):\n    return x\n" + "# padding\n" * 200),
    ("binary", "def lookup(x):\n    return x\n\x00\x01"),
    ("syntax error", "def lookup(x):\n    return x +\n"),
    ("not UTF-8", "def lookup(x):\n    return x\n\nNAME = 'caf\udce9'\n"),
])
def test_helper_in_an_unanalyzable_file_is_never_taken_for_third_party_code(tmp_path: Path, problem: str,
                                                                            content: str) -> None:
    """The step's code lives partly in that file: the step is conservative, and any change
    to that file changes its fingerprint (a missed version is worse than a spurious one)."""
    files = {**GOOD, "steps.py": """
        from zenml import step
        from helpers import lookup

        @step
        def load() -> int:
            return lookup(1)
    """}
    config = Config(max_file_size=1000)

    def step_with(text: str, name: str):  # type: ignore[no-untyped-def]
        root = write_tree(tmp_path / name, files)
        (root / "helpers.py").write_bytes(text.encode("utf-8", "surrogateescape"))
        project = scan_tree(root, config)
        assert "helpers.py" in _codes(project), project.diagnostics
        return project.pipelines[0].steps[0]

    before = step_with(content, "a")
    after = step_with(content.replace("return x", "return -x"), "b")
    assert before.dynamic and after.dynamic
    if problem != "too large":  # a file over the limit is not read at all: only its size shows
        assert before.fingerprint != after.fingerprint
    grown = step_with(content + "# more\n" * 100, "c")
    assert grown.fingerprint != before.fingerprint


def test_binary_and_undecodable_files(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", GOOD)
    (root / "blob.py").write_bytes(b"zenml\x00" + os.urandom(2000))
    (root / "latin.py").write_bytes(b"import zenml\n\nx = 1\ny = '\xff\xfe'\n")
    (root / "utf16.py").write_bytes("import zenml\n".encode("utf-16"))
    project = scan_tree(root)
    codes = {d.path: (d.code, d.line) for d in project.diagnostics}
    assert codes["blob.py"] == ("PV002", 0)
    assert codes["latin.py"] == ("PV002", 4)
    assert codes["utf16.py"][0] == "PV002"
    assert [p.name for p in project.pipelines] == ["p"]


def test_symlink_loops_of_files_and_folders(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {**GOOD, "pkg/__init__.py": "", "pkg/mod.py": "x = 1\n"})
    os.symlink("self.py", root / "self.py")  # a link to itself
    os.symlink("b.py", root / "a.py")
    os.symlink("a.py", root / "b.py")  # two links to each other
    os.symlink("..", root / "pkg" / "up")  # a folder link back to the root
    os.symlink("missing.py", root / "dangling.py")
    project = scan_tree(root)
    codes = _codes(project)
    assert codes == {"self.py": {"PV004"}, "a.py": {"PV004"}, "b.py": {"PV004"}, "dangling.py": {"PV004"},
                     "pkg/up": {"PV004"}}
    assert [p.name for p in project.pipelines] == ["p"]


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "elsewhere", {"flow.py": GOOD["flow.py"].replace("def p", "def q"),
                                                  "steps.py": GOOD["steps.py"]})
    root = write_tree(tmp_path / "proj", {**GOOD, "pkg/inner.py": "x = 1\n"})
    os.symlink(outside, root / "shared")
    os.symlink(outside / "flow.py", root / "other_flow.py")
    os.symlink("/", root / "everything")  # would otherwise walk the whole file system
    os.symlink("steps.py", root / "alias.py")  # inside the root: followed
    project = scan_tree(root)
    codes = _codes(project)
    assert codes == {"shared": {"PV004"}, "other_flow.py": {"PV004"}, "everything": {"PV004"}}
    assert [p.name for p in project.pipelines] == ["p"]
    assert project.files_scanned == 4  # flow, steps, pkg/inner and alias


def test_fifo_named_like_a_module_does_not_hang(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", GOOD)
    os.mkfifo(root / "pipe.py")  # reading it would block forever
    project = _scan_in_child(root, timeout=120)
    assert project.pipelines == ["p"]


def test_file_that_disappears_after_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "proj", {**GOOD, "gone.py": "import zenml\n"})
    real = listing_module.discover

    def discover_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        files = real(*args, **kwargs)
        (root / "gone.py").unlink()
        return files

    monkeypatch.setattr(listing_module, "discover", discover_then_delete)
    project = scan_tree(root)
    gone = [d for d in project.diagnostics if d.path == "gone.py"]
    assert [d.code for d in gone] == ["PV005"] and "No such file" in gone[0].message
    assert [p.name for p in project.pipelines] == ["p"]


def test_folder_that_disappears_during_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "proj", {**GOOD, "pkg/mod.py": "import zenml\n"})
    real = os.scandir

    def scandir_then_delete(path):  # type: ignore[no-untyped-def]
        if isinstance(path, int):  # shutil.rmtree's own calls
            return real(path)
        entries = list(real(path))
        if Path(path) == root.resolve() and (root / "pkg").exists():
            shutil.rmtree(root / "pkg")
        return iter(entries)

    monkeypatch.setattr(discovery_module.os, "scandir", scandir_then_delete)
    project = scan_tree(root)
    assert _codes(project) == {"pkg": {"PV005"}}
    assert [p.name for p in project.pipelines] == ["p"]


def _as_unprivileged() -> None:
    """Run in the child before exec: without the capabilities that let root ignore file
    permissions, so permission errors are real even when the suite runs as root."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def _permissions_apply(tmp_path: Path) -> dict[str, Any]:
    """The subprocess options under which a mode-000 file cannot be read (or a skip)."""
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    options: dict[str, Any] = {"preexec_fn": _as_unprivileged} if os.geteuid() == 0 else {}
    try:
        done = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"], capture_output=True,
                              timeout=60, **options)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot run without root's permission override here: {exc}")
    if done.returncode == 0:
        pytest.skip("file permissions do not apply to this user here")
    return options


def test_unreadable_folder_and_file(tmp_path: Path) -> None:
    options = _permissions_apply(tmp_path)
    root = write_tree(tmp_path / "proj", {**GOOD, "secret/flow.py": GOOD["flow.py"],
                                          "private.py": "import zenml\n"})
    (root / "secret").chmod(0o000)
    (root / "private.py").chmod(0o000)
    try:
        project = _scan_in_child(root, timeout=120, **options)
    finally:
        (root / "secret").chmod(0o755)
    assert _codes(project) == {"secret": {"PV005"}, "private.py": {"PV005"}}
    assert all("Permission denied" in d.message for d in project.diagnostics)
    assert project.pipelines == ["p"]


def test_a_long_line_and_odd_line_endings(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", GOOD)
    (root / "long.py").write_text("import zenml\nX = [" + ", ".join(map(str, range(20_000))) + "]\n",
                                  encoding="utf-8")
    (root / "crlf.py").write_bytes(textwrap.dedent(GOOD["steps.py"]).replace("load", "load2")
                                   .replace("\n", "\r\n").encode())
    (root / "cr.py").write_bytes(b"import zenml\rx = 1\r")
    (root / "formfeed.py").write_bytes(b"import zenml\n\x0c\ndef f():\n    return 1\n")
    project = scan_tree(root)
    assert project.diagnostics == ()
    assert [p.name for p in project.pipelines] == ["p"]


def test_nesting_the_pre_check_lets_through_but_the_analysis_cannot_follow(tmp_path: Path) -> None:
    """Under the parser's limit, some code is still too deep for the analysis (Python's
    recursion limit); libcst may then raise a KeyError while handling the RecursionError.
    Either way: PV007 for that module, not an internal error, and the rest analyzed."""
    root = write_tree(tmp_path / "proj", GOOD)
    (root / "deep_step.py").write_text(
        "from zenml import step, pipeline\n\n@step\ndef s() -> int:\n    y = " + "[" * 300 + "]" * 300
        + "\n    z = " + "{1: " * 300 + "1" + "}" * 300 + "\n    return 1\n\n@pipeline\ndef q():\n    s()\n",
        encoding="utf-8")
    project = _scan_in_child(root, env={**os.environ, "PVCHECK_DEBUG": "1"})  # an internal error would raise
    assert _codes(project) == {"deep_step.py": {"PV007"}}
    assert project.pipelines == ["p"]
