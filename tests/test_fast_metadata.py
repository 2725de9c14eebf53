"""The fast metadata gives libcst's own answers: scopes, assignments, qualified names, lines.

Every node of every module of a corpus (pvcheck's own source, the fixtures, tricky
snippets, a few standard library modules) is asked through both paths and compared.
"""

from __future__ import annotations

import os
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any, Iterator

import libcst as cst
import libcst.helpers
import pytest
from libcst.metadata import (
    BuiltinScope,
    FullyQualifiedNameProvider,
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)
from libcst.metadata.name_provider import ModuleNameAndPackage
from libcst.metadata.scope_provider import LocalScope

from pvcheck.analyzer import fastmeta
from pvcheck.analyzer.fastlines import FastLines
from pvcheck.analyzer.fastmeta import FastNames, Unsupported

ROOT = Path(__file__).resolve().parent.parent

SNIPPETS = {
    "scopes": """
        import os, os.path as osp
        import a.b.c
        from . import sibling
        from .pkg import thing as other
        from typing import List, cast, TypeVar, NewType, Literal
        T = TypeVar("T", bound="Widget")
        UserId = NewType("UserId", int)
        x = 1
        x = x + 1

        def outer(p, *args, q: "List[int]" = x, **kw) -> "Widget":
            global x
            y = p
            def inner(z=y):
                nonlocal y
                y = z + len(args)
                return [w for w in range(y) if w > x for v in [w] if (t := v)]
            print(y, a.b.c.d, a.b, osp.join("a"))
            x = cast("Widget", p)
            lam = lambda k, m=y: k + m + p
            return {k: v for k, v in kw.items()}, {s for s in args}, (g for g in args)

        class Widget(os.PathLike, metaclass=type):
            size: int = 3
            other = size
            def method(self, n: Literal["a", "b"] = "a") -> List["Widget"]:
                return [self, size] if n else other

        @outer
        @Widget.method
        def decorated(): ...

        for i, (j, k) in enumerate([(1, 2)]):
            del i
        else:
            pass
        with open("f") as handle, open("g") as (h1, h2):
            pass
        try:
            import missing
        except ImportError as error:
            missing = None
        finally:
            pass
        while x:
            x -= 1
        else:
            x += 1
        if x: y = 1
        elif x > 2:
            y = 2
        else:
            y = 3
        print(undefined_name, sibling.attr, other.x.y)
        z = [undefined for undefined in []]
        match x:
            case {"k": [a1, *rest]} | (1 as a1):
                pass
            case Widget(size=s):
                pass
        """,
    "lines": """
        @decorator(
            keyword=1,
        )
        @(
            other
        )
        @ \\
            third
        def f(a,
              b=2) -> int:
            value = call(
                a, b,
                key=[1,
                     2],
            )
            text = '''one
            two'''
            total = 1 + \\
                2
            if value: return (
                value)
            x = 1; y = f(
                2); z = 3
            return value


        class C(
            Base,
        ):
            async def g(self):
                async with a as b:
                    async for c in d:
                        await e
        """,
    "strings": """
        from typing import Dict, Optional
        import typing as t
        def f(a: "Dict[str, Optional[int]]", b: t.List["Foo"], c: "broken[") -> "t.Tuple[int, ...]":
            v: "Optional[Foo]" = None
            return t.cast("Dict[str, int]", a)
        """,
}

STDLIB = ("dataclasses.py", "json/decoder.py", "textwrap.py", "contextlib.py")
#: A sample of pvcheck's own source; PVCHECK_FULL_CORPUS=1 checks all of it and more of
#: the standard library (minutes of libcst metadata: not for every test run).
OWN = ("pvcheck/analyzer/canonical.py", "pvcheck/analyzer/callgraph.py", "pvcheck/analyzer/frameworks/zenml.py",
       "pvcheck/model.py", "pvcheck/config.py")
FULL = bool(os.environ.get("PVCHECK_FULL_CORPUS"))
if FULL:
    STDLIB += ("argparse.py", "functools.py", "enum.py", "ast.py", "typing.py", "inspect.py", "asyncio/tasks.py")


def hash_sample(name: str) -> bool:
    """Whether to leave ``name`` out: keeps a stable one in twelve."""
    return zlib.crc32(name.encode()) % 12 != 0


def _corpus() -> Iterator[tuple[str, str, str, str]]:
    """(id, text, module name, package)."""
    for name, text in SNIPPETS.items():
        yield f"snippet:{name}", textwrap.dedent(text).lstrip("\n"), f"pkg.{name}", "pkg"
    for folder in ("pvcheck", "fixtures"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if folder == "pvcheck" and not FULL and relative not in OWN:
                continue
            if relative.startswith("fixtures/changes/") and not FULL and hash_sample(relative):
                continue  # hundreds of near-identical variants: a sample of them
            module = relative[:-3].replace("/", ".").removesuffix(".__init__")
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            yield relative, path.read_text(encoding="utf-8"), module, package
    library = Path(textwrap.__file__).parent
    for name in STDLIB:
        path = library / name
        if path.exists():
            yield f"stdlib:{name}", path.read_text(encoding="utf-8"), name[:-3].replace("/", "."), ""


CORPUS = list(_corpus())


def _describe_scope(scope: Any) -> Any:
    if scope is None:
        return None
    if isinstance(scope, BuiltinScope):
        return ("builtins",)
    if isinstance(scope, LocalScope):
        return (type(scope).__name__, id(scope.node), scope.name, _describe_scope(scope.parent))
    return (type(scope).__name__,)


def _describe_assignments(assignments: Any) -> list[Any]:
    described = []
    for assignment in assignments:
        node = getattr(assignment, "node", None)
        described.append((type(assignment).__name__, assignment.name, id(node) if node is not None else None,
                          assignment._index, _describe_scope(assignment.scope)))
    return sorted(described, key=repr)


def _all_nodes(tree: cst.Module) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            found.append(node)
            return True

    tree.visit(Collect())
    return found


@pytest.mark.parametrize("name,text,module,package", CORPUS, ids=[c[0] for c in CORPUS])
def test_fast_metadata_gives_libcsts_answers(name: str, text: str, module: str, package: str) -> None:
    tree = cst.parse_module(text)
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True,
                              cache={FullyQualifiedNameProvider: ModuleNameAndPackage(module, package)})
    try:
        reference = wrapper.resolve_many([ScopeProvider, FullyQualifiedNameProvider, PositionProvider])
    except ImportError:
        with pytest.raises(Unsupported):
            FastNames(tree, text, module, package)
        return
    fast = FastNames(tree, text, module, package)
    lines = FastLines(tree, text, fast.statements)
    scopes, names, positions = (reference[ScopeProvider], reference[FullyQualifiedNameProvider],
                                reference[PositionProvider])
    problems: list[str] = []
    for node in _all_nodes(tree):
        kind = type(node).__name__
        if type(node) not in fastmeta._PRUNED:
            expected = _describe_scope(scopes.get(node))
            if _describe_scope(fast.scope(node)) != expected:
                problems.append(f"scope of {kind}")
            if isinstance(node, cst.Name) and scopes.get(node) is not None:
                if _describe_assignments(scopes[node][node.value]) != \
                        _describe_assignments(fast.scope(node)[node.value]):  # type: ignore[index]
                    problems.append(f"assignments of {node.value}")
            if names.get(node, set()) != fast.qualified_names(node):
                problems.append(f"qualified names of {kind}: {names.get(node)} != {fast.qualified_names(node)}")
        if node in positions and positions[node].start.line != lines.line(node):
            problems.append(f"line of {kind}: {positions[node].start.line} != {lines.line(node)}")
    assert not problems, problems[:20]


def test_the_fast_path_is_used_for_the_corpus() -> None:
    # the comparison above must not pass merely because everything fell back to libcst
    fell_back = []
    for name, text, module, package in CORPUS:
        tree = cst.parse_module(text)
        try:
            fast = FastNames(tree, text, module, package)
        except Unsupported:
            fell_back.append(name)
            continue
        lines = FastLines(tree, text, fast.statements)
        if tree.body:
            lines.line(tree.body[0])
        if lines._fallback:
            fell_back.append(name)
    assert fell_back == []


def test_read_only_visits_match_libcsts_visit() -> None:
    class Record(cst.CSTVisitor):
        def __init__(self) -> None:
            self.log: list[Any] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            self.log.append(("visit", id(node)))
            return True

        def on_leave(self, node: cst.CSTNode) -> None:
            self.log.append(("leave", id(node)))

        def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            self.log.append(("enter", id(node), attribute))

        def on_leave_attribute(self, node: cst.CSTNode, attribute: str) -> None:
            self.log.append(("exit", id(node), attribute))

    class Calls(cst.CSTVisitor):
        def __init__(self) -> None:
            self.log: list[Any] = []

        def visit_Call(self, node: cst.Call) -> None:
            self.log.append(("call", id(node)))

        def leave_Name(self, node: cst.Name) -> None:
            self.log.append(("name", id(node)))

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            self.log.append(("def", id(node)))
            return len(self.log) % 3 != 0  # sometimes skip the children

    for _, text, _, _ in CORPUS:
        tree = cst.parse_module(text)
        for visitor_class in (Record, Calls):
            expected, fast = visitor_class(), visitor_class()
            tree.visit(expected)
            fastmeta.visit(tree, fast)
            assert expected.log == fast.log


def test_calls_and_imports_are_what_a_visitor_collects() -> None:
    class Collect(cst.CSTVisitor):
        def __init__(self) -> None:
            self.calls: list[tuple[int, Any]] = []
            self.imported: set[str] = set()
            self.star = False
            self._functions: list[cst.FunctionDef] = []

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self._functions.append(node)

        def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
            self._functions.pop()

        def visit_Call(self, node: cst.Call) -> None:
            self.calls.append((id(node), id(self._functions[0]) if self._functions else None))

        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                self.imported.add(cst.helpers.get_full_name_for_node(alias.asname.name if alias.asname else
                                                                     alias.name).split(".")[0])

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if isinstance(node.names, cst.ImportStar):
                self.star = True
                return
            for alias in node.names:
                self.imported.add(cst.helpers.get_full_name_for_node(alias.asname.name if alias.asname else
                                                                     alias.name))

    checked = 0
    for _, text, _, _ in CORPUS:
        tree = cst.parse_module(text)
        expected = Collect()
        tree.visit(expected)
        calls, imported, star = fastmeta.calls_and_imports(tree)
        assert [(id(call), id(top) if top is not None else None) for call, top in calls] == expected.calls
        assert (imported, star) == (expected.imported, expected.star)
        checked += len(calls)
    assert checked > 1000


def test_pvcheck_can_be_told_to_use_libcst_itself(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pvcheck.analyzer import scan_tree

    fixture = ROOT / "fixtures" / "zenml_churn"
    fast = scan_tree(fixture, cache=False)
    monkeypatch.setenv("PVCHECK_LIBCST_METADATA", "1")
    slow = scan_tree(fixture, cache=False)
    assert fast.to_json(full=True) == slow.to_json(full=True)
    assert fast.pipelines == slow.pipelines


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11+")
def test_try_star_lines() -> None:
    text = "try:\n    pass\nexcept* ValueError as e:\n    x = (\n        1)\n"
    tree = cst.parse_module(text)
    fast = FastNames(tree, text, "m", "")
    lines = FastLines(tree, text, fast.statements)
    positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in _all_nodes(tree):
        assert lines.line(node) == positions[node].start.line
    assert not lines._fallback


def test_names_of_global_and_nonlocal_statements_have_lines_without_the_whole_module_provider() -> None:
    # libcst's scope visitor skips the names of ``global x``; asking their line must not
    # run PositionProvider over the whole module (0.25 s on an 80 kB script)
    text = "counter = 0\n\ndef bump():\n    global counter\n    def inner():\n        nonlocal_x = 1\n" \
           "    x = 1\n    def inner2():\n        nonlocal x\n        x = 2\n    counter += 1\n"
    tree = cst.parse_module(text)
    fast = FastNames(tree, text, "m", "")
    lines = FastLines(tree, text, fast.statements)
    positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    names = [item.name for node in _all_nodes(tree) if isinstance(node, (cst.Global, cst.Nonlocal))
             for item in node.names]
    assert [n.value for n in names] == ["counter", "x"]
    for name in names:
        assert lines.line(name) == positions[name].start.line
    assert lines._full is None
    assert fast.scope(names[0]) is None  # no scope for them, as libcst gives none
