"""The semantic fingerprint of one function of a tree, helpers included.

This is what :func:`pvcheck.code_version` computes once it knows where a live function
is defined: a module name and a qualified name inside a tree of source files. Only the
function's module and the modules its helpers live in are parsed; the rest of the tree
is listed (so names resolve to the right files) but never read.

A code version covers, in pvcheck's canonical form (cosmetic edits leave it unchanged):

* the function body;
* its signature: parameters, annotations and *default values* (a cache key must change
  when a call that omits an argument computes something else) and the return annotation;
* decorators that are code: a wrapper the project defines, a library's
  (:mod:`pvcheck.analyzer.decorators`); a framework's own decorators and their arguments
  are configuration and do not count, the hooks they name do;
* every repo-local function, class and module constant reached from those, transitively;
* for a method or a nested function, the whole enclosing top-level class or function.

The function's name does not count: renaming a function is cosmetic.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence, Union

import libcst as cst

from pvcheck.analyzer.canonical import Canonicalizer
from pvcheck.analyzer.context import AnalysisContext
from pvcheck.analyzer.discovery import SourceFile, discover
from pvcheck.analyzer.fingerprint import digest, tokens_digest
from pvcheck.analyzer.frameworks.base import BodyPart, StepDefinition
from pvcheck.analyzer.index import ProjectIndex
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.config import DEFAULT_COSMETIC_CALLS, DEFAULT_PURE_CALLS, Config
from pvcheck.errors import PvcheckError
from pvcheck.model import Diagnostic, HelperRef

#: (mtime_ns, size) of a file when it was read; None when it could not be stat'ed.
Stamp = Optional[tuple[int, int]]

_SCHEME = "code_version/1"
_CHANGED: Stamp = (-1, -1)  # matches no file: "changed while it was analyzed"


class CodeVersionError(PvcheckError):
    """The function cannot be found or analyzed statically (no source file, a lambda,
    a syntax error in its module ...)."""


@dataclass(frozen=True)
class FunctionPrint:
    """The code version of one function and what went into it."""

    fingerprint: str
    module: str  # dotted module name in the analyzed tree
    qualname: str  # as in ``__qualname__``: ``train``, ``Model.fit``, ``outer.<locals>.inner``
    path: str  # relative to the tree root, with ``/``
    line: int  # line of the ``def``
    helpers: tuple[HelperRef, ...]  # repo-local definitions included, sorted by name
    dynamic: bool  # code the analyzer cannot follow: its raw text is folded in
    diagnostics: tuple[Diagnostic, ...]


def stamp(path: Union[Path, str]) -> Stamp:
    """(mtime_ns, size) of a file, or None when it does not exist or cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


class TreeFunctions:
    """Code versions of functions of one tree, sharing parsed modules and helper prints.

    Valid as long as no file it has read changes (:meth:`unchanged`); callers that keep
    one across edits must check that and build a new one.
    """

    def __init__(self, root: Union[Path, str], roots: Sequence[str] = (".",), config: Optional[Config] = None,
                 packages: Sequence[str] = ()) -> None:
        """``roots``: source roots relative to ``root``, module names relative to them.
        ``packages``: when given, only these top-level packages (or modules) of ``root``
        are listed -- for code installed in a ``site-packages`` folder, whose other
        entries are not the project's."""
        self.root = Path(root).resolve()
        self.config = config or Config()
        self.diagnostics: list[Diagnostic] = []
        if packages:
            files = _package_files(self.root, packages, self.config.exclude, self.diagnostics)
            roots = (".",)
        else:
            files = discover(self.root, roots, self.config.exclude, self.diagnostics)
        # a module name maps to the file of the first source root that has it, as on sys.path
        first = (self.root / roots[0]).resolve() if roots else self.root
        files.sort(key=lambda f: 0 if _is_below(f.absolute, first) else 1)  # stable: path order within
        self.index = ProjectIndex(files, self.config.max_file_size, self.diagnostics)
        self._stamps: dict[str, Stamp] = {}
        self.context = AnalysisContext(self.root, self.index, self.config, [])
        self._by_path = {str(f.absolute): f for f in files}

    # ------------------------------------------------------------------ files
    def file_at(self, path: Union[Path, str]) -> Optional[SourceFile]:
        """The source file of this tree at ``path`` (absolute), if the tree has it."""
        found = self._by_path.get(str(path))
        if found is None:  # a symlinked file or folder inside the tree: compare real paths
            real = Path(path).resolve()
            found = next((f for f in self._by_path.values() if f.absolute.resolve() == real), None)
        return found

    def unchanged(self) -> bool:
        """True when every file analyzed so far still has the stamp it had then."""
        return all(stamp(path) == seen for path, seen in self._stamps.items())

    @property
    def stamps(self) -> dict[str, Stamp]:
        """Absolute path -> stamp of every file analyzed so far (parsed, or diagnosed)."""
        return dict(self._stamps)

    def _stamp_new_files(self) -> None:
        for module in self.index.loaded():
            key = str(module.source.absolute)
            if key not in self._stamps:
                self._stamps[key] = self._verified_stamp(module.source)
        for path in self.index.data_reads:  # a data file the code reads: its edit is a new version too
            self._stamps.setdefault(str(self.root / path), stamp(self.root / path))
        # a module that failed to parse is no ModuleInfo, but its fix must be noticed
        by_path = {f.path: f for f in self.index.by_module.values()}
        for diagnostic in self.diagnostics:
            file = by_path.get(diagnostic.path)
            if file is not None:
                self._stamps.setdefault(str(file.absolute), stamp(file.absolute))

    def _verified_stamp(self, file: SourceFile) -> Stamp:
        """The file's stamp, provided the bytes on disk under it are the bytes analyzed.

        The index read the file a moment ago; an edit in between must not be recorded
        as the state the result describes (then it would never be analyzed again).
        """
        before = stamp(file.absolute)
        try:
            data: Optional[bytes] = file.absolute.read_bytes()
        except OSError:
            data = None
        if stamp(file.absolute) != before or data != self.index.read(file):
            return _CHANGED
        return before

    # ------------------------------------------------------------------ functions
    def function(self, module_name: str, qualname: str, line: int = 0) -> FunctionPrint:
        """The code version of ``qualname`` in module ``module_name`` of this tree.

        ``line`` (the ``def`` line or the first decorator's, as in ``co_firstlineno``)
        picks one of several definitions of the same name; 0 takes the one that wins at
        import time (the last).
        """
        source = self.index.by_module.get(module_name)
        if source is None:
            raise CodeVersionError(f"module '{module_name}' is not in the analyzed tree {self.root}",
                                   hint="check the project's source roots and excludes")
        before = len(self.diagnostics)
        module = self.index.module(module_name)
        if module is None:
            found = [d for d in self.diagnostics if d.path == source.path]
            why = found[-1].one_line() if found else f"{source.path}: cannot be read or parsed"
            raise CodeVersionError(f"cannot analyze the function's module: {why}", source.path)
        node, enclosing = locate(module, qualname, line)
        fingerprint, helpers, dynamic = self._fingerprint(module, qualname, node, enclosing)
        self._stamp_new_files()
        return FunctionPrint(
            fingerprint=fingerprint,
            module=module_name,
            qualname=qualname,
            path=module.path,
            line=module.line(node),
            helpers=helpers,
            dynamic=dynamic,
            diagnostics=tuple(self.diagnostics[before:]),
        )

    def _fingerprint(self, module: ModuleInfo, qualname: str, node: cst.FunctionDef,
                     enclosing: Optional[Symbol]) -> tuple[str, tuple[HelperRef, ...], bool]:
        parts = [BodyPart("signature", node.params)]
        if node.returns is not None:
            parts.append(BodyPart("returns", node.returns.annotation))
        # (decorators that are code join these where every step's do: AnalysisContext._step_canon)
        # the shared context memoises facts by qualified name: a method gets a dotted one
        symbol = Symbol(module, qualname, "function", node)
        definition = StepDefinition(symbol, "python", "function", qualname, body_parts=tuple(parts))
        facts = self.context.function_facts(definition)
        pieces = [_SCHEME, facts.body_fingerprint, facts.signature_fingerprint]
        helpers = {h.name: h for h in facts.helpers}
        if enclosing is not None:
            # a method or nested function depends on its class or enclosing function as a whole
            for printed in self.context.fingerprinter.closure([enclosing]):
                name = printed.symbol.qualified_name
                pieces.append(f"enclosing {name}={printed.fingerprint}")
                helpers.setdefault(name, HelperRef(name, printed.symbol.kind, printed.symbol.module.path,
                                                   printed.line, printed.fingerprint))
        return digest(*pieces), tuple(helpers[k] for k in sorted(helpers)), facts.dynamic


def function_fingerprint(
    root: Union[Path, str],
    module: str,
    qualname: str,
    cosmetic_calls: Sequence[str] = DEFAULT_COSMETIC_CALLS,
    roots: Sequence[str] = (".",),
) -> str:
    """The code version of ``module.qualname`` in the tree at ``root``, in one call.

    ``roots`` are the tree's source roots (relative to ``root``) that module names are
    relative to. Nothing is imported; only the modules the function reaches are parsed.
    """
    config = Config(roots=tuple(roots), cosmetic_calls=tuple(cosmetic_calls))
    return TreeFunctions(root, roots, config).function(module, qualname).fingerprint


# ---------------------------------------------------------------------- locating
def locate(module: ModuleInfo, qualname: str, line: int = 0) -> tuple[cst.FunctionDef, Optional[Symbol]]:
    """The ``def`` of ``qualname`` in ``module``, and its enclosing top-level symbol
    (None for a top-level function)."""
    parts = qualname.split(".")
    if not qualname or "<lambda>" in parts:
        raise CodeVersionError(f"'{qualname or '?'}' is a lambda, which has no name to find it by statically",
                               module.path, hint="define it with def")
    top = module.symbols.get(parts[0], [])
    candidates: list[cst.CSTNode] = [s.node for s in top if s.kind in ("function", "class") and s.node is not None]
    enclosing = module.symbol(parts[0]) if len(parts) > 1 else None
    for part in parts[1:]:
        if part == "<locals>":
            continue
        inner: list[cst.CSTNode] = []
        for outer in candidates:
            inner.extend(_defined_in(outer, part))
        candidates = inner
    functions = [c for c in candidates if isinstance(c, cst.FunctionDef)]
    if not functions:
        raise CodeVersionError(f"no function '{qualname}' in {module.path}", module.path,
                               hint="the file may have changed since the function was imported; "
                                    "functions made at run time (exec, factories returning lambdas) "
                                    "cannot be found statically")
    chosen = functions[-1]
    if len(functions) > 1 and line:
        by_line = [f for f in functions if _first_line(module, f) == line]
        if by_line:
            chosen = by_line[0]
    if enclosing is not None and enclosing.kind not in ("function", "class"):
        enclosing = None
    return chosen, enclosing


def _defined_in(node: cst.CSTNode, name: str) -> list[cst.CSTNode]:
    """Functions and classes named ``name`` defined directly in ``node``'s body (inside
    if/try/with/for blocks too, but not inside nested functions or classes), in source order."""
    found: list[cst.CSTNode] = []

    def walk(current: cst.CSTNode) -> None:
        for child in current.children:  # libcst lists children in source order
            if isinstance(child, (cst.FunctionDef, cst.ClassDef)):
                if child.name.value == name:
                    found.append(child)
                continue  # their bodies are another scope
            if isinstance(child, cst.BaseExpression):
                continue  # no def inside an expression
            walk(child)

    body = getattr(node, "body", None)
    if isinstance(body, cst.CSTNode):
        walk(body)
    return found


def _first_line(module: ModuleInfo, node: cst.FunctionDef) -> int:
    """The line ``co_firstlineno`` reports: the first decorator's, else the ``def``'s."""
    return module.line(node.decorators[0]) if node.decorators else module.line(node)


def _package_files(root: Path, packages: Sequence[str], exclude: Sequence[str],
                   diagnostics: list[Diagnostic]) -> list[SourceFile]:
    files: list[SourceFile] = []
    for package in packages:
        if (root / package).is_dir():
            for file in discover(root, [package], exclude, diagnostics):
                # discovery names modules below the source root; put the package in front
                module = f"{package}.{file.module}" if file.module else package
                files.append(replace(file, module=module))
        elif (root / f"{package}.py").is_file():
            single = root / f"{package}.py"
            files.append(SourceFile(single.name, single, package, False, single.stat().st_size))
    return sorted(files, key=lambda f: f.path)


def _is_below(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)  # discovery's paths are below the resolved root already
        return True
    except ValueError:
        return False




# ---------------------------------------------------------------------- source text
class _TextIndex(ProjectIndex):
    """An index of one in-memory module, for fingerprinting a piece of source text."""

    def __init__(self, text: str, diagnostics: list[Diagnostic]) -> None:
        self.data = text.encode("utf-8", "surrogatepass")
        file = SourceFile(SOURCE_PATH, Path(SOURCE_PATH), SOURCE_MODULE, False, len(self.data))
        super().__init__([file], len(self.data) + 1, diagnostics)

    def read(self, file: SourceFile) -> Optional[bytes]:
        return self.data


SOURCE_PATH = "<source>"
SOURCE_MODULE = "__source__"


def source_fingerprint(text: str, cosmetic_calls: Sequence[str] = DEFAULT_COSMETIC_CALLS,
                       pure_calls: Sequence[str] = DEFAULT_PURE_CALLS) -> str:
    """The canonical fingerprint of a piece of source: a function, a class or a module.

    The same normalisations as everywhere in pvcheck: formatting, comments, docstrings,
    imports, consistent renames of locals and cosmetic calls leave it unchanged. The
    names of ``def`` and ``class`` statements do not count (a rename is cosmetic), the
    names of module-level assignments and of everything referred to do. Names the text
    imports are emitted by what they import, so ``import numpy as np`` and ``import
    numpy`` are alike; names it does not define or import are kept as written.
    """
    diagnostics: list[Diagnostic] = []
    index = _TextIndex(textwrap.dedent(text), diagnostics)
    module = index.module(SOURCE_MODULE)
    if module is None:
        why = diagnostics[-1] if diagnostics else None
        raise PvcheckError(why.message if why else "cannot parse the source", SOURCE_PATH,
                           why.line if why else 0, hint="pass the complete text of a function, class or module")
    canonicalizer = Canonicalizer(module, index, cosmetic_calls, pure_calls)
    tokens: list[str] = []
    for position, statement in enumerate(module.tree.body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            tokens.extend(canonicalizer.definition(statement).tokens)
        elif position == 0 and _is_docstring_line(statement):
            continue
        else:
            # a one-statement block: imports, cosmetic calls and bare strings drop out as in a body
            tokens.extend(canonicalizer.expression(cst.IndentedBlock(body=[statement])).tokens)
    return digest("source", tokens_digest(tokens))


def _is_docstring_line(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def function_source(path: Union[Path, str], qualname: str, line: int = 0) -> str:
    """The text of the ``def`` of ``qualname`` in the file at ``path``, read and parsed
    (never imported), decorators included."""
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CodeVersionError(f"cannot read the function's source file: {exc}", str(path)) from None
    diagnostics: list[Diagnostic] = []
    index = _TextIndex(text, diagnostics)
    module = index.module(SOURCE_MODULE)
    if module is None:
        why = diagnostics[-1] if diagnostics else None
        raise CodeVersionError(why.message if why else "cannot parse", str(path), why.line if why else 0)
    node, _ = locate(module, qualname, line)
    return textwrap.dedent(module.code(node)).lstrip("\n")


__all__ = ["CodeVersionError", "FunctionPrint", "TreeFunctions", "function_fingerprint", "function_source", "locate",
           "source_fingerprint", "stamp"]
