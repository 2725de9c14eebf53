"""One parsed module: its syntax tree, its top-level symbols, and metadata on demand.

Parsing is cheap next to libcst's scope analysis, so the metadata providers
(scopes, fully qualified names, positions) run only when a framework or the
fingerprinter first asks for them -- that is, only on modules that hold steps,
pipelines or helpers a step uses.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Union

import libcst as cst
from libcst.metadata import (
    FullyQualifiedNameProvider,
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)
from libcst.metadata.name_provider import ModuleNameAndPackage

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.fastlines import FastLines
from pvcheck.analyzer.fastmeta import FastNames, Unsupported
from pvcheck.analyzer.subprojects import rebase
from pvcheck.diagnostics import NOT_TEXT, SYNTAX_ERROR, TOO_DEEP
from pvcheck.model import Diagnostic, Severity

Definition = Union[cst.FunctionDef, cst.ClassDef, cst.Assign, cst.AnnAssign, cst.AugAssign]


@dataclass(frozen=True)
class Symbol:
    """A top-level name of a module: a definition, or an import that re-exports something."""

    module: "ModuleInfo"
    name: str
    kind: str  # function | class | constant | import | module
    node: Optional[cst.CSTNode]  # FunctionDef / ClassDef / assignment statement; None for import/module
    target: str = ""  # for imports: the fully qualified name imported
    conditional: bool = False  # bound inside a top-level if/try: it may not be what runs

    @property
    def qualified_name(self) -> str:
        return f"{self.module.name}.{self.name}" if self.name else self.module.name


class ModuleInfo:
    """A parsed source file of the tree."""

    def __init__(self, source: SourceFile, tree: cst.Module, text: str) -> None:
        self.source = source
        self.tree = tree
        self.text = text
        self.name = source.module
        self.path = source.path
        self.package = source.package
        self._symbols: Optional[dict[str, list[Symbol]]] = None
        self._all: Optional[tuple[Optional[frozenset[str]]]] = None  # (literal __all__ or None,), once known
        self._wrapper: Optional[MetadataWrapper] = None
        self._scopes: Optional[dict] = None
        self._names: Optional[dict] = None
        self._positions: Optional[dict] = None
        self._fast: Optional[FastNames] = None  # libcst's answers, computed faster (pvcheck.analyzer.fastmeta)
        self._lines: Optional[FastLines] = None
        self._qualified: dict[cst.CSTNode, frozenset[str]] = {}
        #: set by the index for a file in a folder that is not a package (a script folder):
        #: rewrites a name its imports bind to the sibling module Python finds there (see
        #: ``ProjectIndex.script_name``); None elsewhere, which costs nothing
        self.script_name: Optional[Callable[["ModuleInfo", str], str]] = None

    def release(self) -> None:
        """Drop everything derived from the tree (a scan that is over)."""
        if self._fast is not None:
            self._fast.release()
        self._fast = self._lines = self._wrapper = None
        self._symbols = self._scopes = self._names = self._positions = None
        self._all = None
        self._qualified = {}
        self.script_name = None  # it refers to the index: no cycle left behind

    # ------------------------------------------------------------------ metadata
    def _metadata(self) -> None:
        if self._fast is not None or self._wrapper is not None:
            return
        if not os.environ.get("PVCHECK_LIBCST_METADATA"):
            try:
                self._fast = FastNames(self.tree, self.text, self.name, self.package)
                return
            except Unsupported:
                pass
        self._libcst_metadata()

    def _libcst_metadata(self) -> None:
        """Every provider resolved by libcst itself: the reference the fast path matches."""
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10_000))
        try:
            self._wrapper = MetadataWrapper(
                self.tree,
                unsafe_skip_copy=True,
                cache={FullyQualifiedNameProvider: ModuleNameAndPackage(self.name, self.package)},
            )
            resolved = self._wrapper.resolve_many([ScopeProvider, FullyQualifiedNameProvider, PositionProvider])
        finally:
            sys.setrecursionlimit(limit)
        self._scopes = resolved[ScopeProvider]  # type: ignore[assignment]
        self._names = resolved[FullyQualifiedNameProvider]  # type: ignore[assignment]
        self._positions = resolved[PositionProvider]  # type: ignore[assignment]

    def scope(self, node: cst.CSTNode):  # -> Optional[libcst.metadata.Scope]
        self._metadata()
        if self._fast is not None:
            return self._fast.scope(node)
        assert self._scopes is not None
        return self._scopes.get(node)

    def qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        """Fully qualified names ``node`` may refer to (``numpy.array``, ``pkg.mod.helper``).

        Builtins come back without their ``builtins.`` prefix. Memoised per node (keyed by
        the node itself, which libcst hashes by identity): a decorator or callee is asked
        about again by every unit and framework that looks at it.
        """
        found = self._qualified.get(node)
        if found is not None:
            return found if self.script_name is None else self._script_names(found)
        self._metadata()
        if self._fast is not None:
            names = self._fast.qualified_names(node)
        else:
            assert self._names is not None
            names = self._names.get(node) or set()
        found = frozenset(q.name[len("builtins."):] if q.name.startswith("builtins.") else q.name for q in names)
        if self.source.subprojects:  # ``steps.x`` imported in a sub-project is its ``steps`` (subprojects.py)
            found = frozenset(rebase(self.source.subprojects, name) for name in found)
        self._qualified[node] = found
        return found if self.script_name is None else self._script_names(found)

    def _script_names(self, names: frozenset[str]) -> frozenset[str]:
        # not memoised with the names: each call records, for the unit asking, the modules
        # the rewrite depends on (a sibling added later must invalidate its cache entry)
        rename = self.script_name
        if rename is None or not names:
            return names
        renamed = frozenset(rename(self, name) for name in names)
        return names if renamed == names else renamed

    def import_target(self, symbol: "Symbol") -> str:
        """What an import symbol of this module names, as ``qualified_names`` says it."""
        return self.script_name(self, symbol.target) if self.script_name is not None else symbol.target

    def qualified_name(self, node: cst.CSTNode) -> Optional[str]:
        """The one qualified name of ``node``, or None when there is none or several."""
        names = self.qualified_names(node)
        return next(iter(names)) if len(names) == 1 else None

    def _fast_lines(self) -> Optional[FastLines]:
        """Lines from Python's ``ast`` (see :mod:`pvcheck.analyzer.fastlines`), on the fast path."""
        self._metadata()
        if self._fast is not None and self._lines is None:
            self._lines = FastLines(self.tree, self.text, self._fast.statements)
        return self._lines

    def line(self, node: cst.CSTNode) -> int:
        lines = self._fast_lines()
        if lines is not None:
            return lines.line(node)
        assert self._positions is not None
        position = self._positions.get(node)
        return position.start.line if position is not None else 0

    def ast_function(self, node: cst.FunctionDef) -> Optional[ast.AST]:
        """Python's own ``ast`` node for a function of this module, when the fast line
        path parsed the module with ``ast`` anyway (None otherwise)."""
        lines = self._fast_lines()
        return lines.ast_function(node) if lines is not None else None

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    # ------------------------------------------------------------------ symbols
    @property
    def symbols(self) -> dict[str, list[Symbol]]:
        """Top-level bindings by name, in source order (also inside top-level if/try)."""
        if self._symbols is None:
            self._symbols = {}
            for symbol in self._collect(self.tree.body):
                self._symbols.setdefault(symbol.name, []).append(symbol)
        return self._symbols

    def symbol(self, name: str) -> Optional[Symbol]:
        """The binding of ``name`` that wins at import time (the last definition)."""
        found = self.symbols.get(name)
        if not found:
            return None
        definitions = [s for s in found if s.kind != "constant"] or found
        if all(s.kind == "constant" for s in found):
            return found[0]  # constants keep every assignment; the fingerprinter reads them all
        return definitions[-1]

    def exports(self, name: str) -> bool:
        """Whether ``from <this module> import *`` binds ``name``: it is listed in a literal
        ``__all__``, or, without one, bound here (or by a star import here) and not private. An ``__all__``
        that is not a literal list or tuple of strings (built, extended) is taken to list
        every public name, so a name is never lost because ``__all__`` was computed."""
        listed = self._all_names()
        if listed is not None:
            return name in listed
        if name.startswith("_"):
            return False
        # bound here, or maybe by this module's own star imports (the resolver follows them)
        return name in self.symbols or any(key.startswith("*") for key in self.symbols)

    def _all_names(self) -> Optional[frozenset[str]]:
        if self._all is None:
            names = self._literal_all()
            self._all = (names,)
        return self._all[0]

    def _literal_all(self) -> Optional[frozenset[str]]:
        found = [s for s in self.symbols.get("__all__", ()) if s.kind == "constant"]
        if len(found) != 1 or not isinstance(found[0].node, (cst.Assign, cst.AnnAssign)):
            return None
        value = found[0].node.value
        if not isinstance(value, (cst.List, cst.Tuple)):
            return None
        names = set()
        for element in value.elements:
            if not isinstance(element.value, cst.SimpleString):
                return None
            evaluated = element.value.evaluated_value
            if not isinstance(evaluated, str):
                return None
            names.add(evaluated)
        return frozenset(names)

    def _collect(self, body, conditional: bool = False) -> Iterator[Symbol]:
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                yield Symbol(self, statement.name.value, "function", statement, conditional=conditional)
            elif isinstance(statement, cst.ClassDef):
                yield Symbol(self, statement.name.value, "class", statement, conditional=conditional)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    yield from self._small(small, conditional)
            elif isinstance(statement, cst.If):
                yield from self._collect(statement.body.body, True)
                orelse = statement.orelse
                while orelse is not None:
                    yield from self._collect(orelse.body.body, True)
                    orelse = getattr(orelse, "orelse", None)
            elif isinstance(statement, cst.Try):
                yield from self._collect(statement.body.body, True)
                for handler in statement.handlers:
                    yield from self._collect(handler.body.body, True)

    def _small(self, small: cst.BaseSmallStatement, conditional: bool = False) -> Iterator[Symbol]:
        if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets = []
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    targets.extend(_bound_names(target.target))
            else:
                targets.extend(_bound_names(small.target))
            for name in targets:
                yield Symbol(self, name, "constant", small, conditional=conditional)
        elif isinstance(small, cst.Import):
            for alias in small.names:
                dotted = rebase(self.source.subprojects, _dotted(alias.name))
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    yield Symbol(self, alias.asname.name.value, "import", None, dotted, conditional=conditional)
                else:
                    head = _dotted(alias.name).split(".")[0]  # ``import steps.x`` binds ``steps``
                    yield Symbol(self, head, "import", None, rebase(self.source.subprojects, head),
                                 conditional=conditional)
        elif isinstance(small, cst.ImportFrom):
            base = self.resolve_relative(small)
            if base is None or isinstance(small.names, cst.ImportStar):
                if base is not None:
                    yield Symbol(self, "*" + base, "star", None, base, conditional=conditional)
                return
            for alias in small.names:
                imported = _dotted(alias.name)
                local = alias.asname.name.value if alias.asname is not None and isinstance(
                    alias.asname.name, cst.Name) else imported
                yield Symbol(self, local, "import", None, f"{base}.{imported}" if base else imported,
                             conditional=conditional)

    def resolve_relative(self, node: cst.ImportFrom) -> Optional[str]:
        """The absolute module an ``from ... import`` statement imports from."""
        level = len(node.relative)
        module = _dotted(node.module) if node.module is not None else ""
        if level == 0:
            return rebase(self.source.subprojects, module)
        parts = self.package.split(".") if self.package else []
        if level - 1 > len(parts):
            return None
        base_parts = parts[: len(parts) - (level - 1)]
        return ".".join(p for p in (*base_parts, module) if p)


_JINJA = re.compile(r"\{%-?\s*(?:if|for|include|set|endif|endfor|raw|macro)\b|\{\{\s*[A-Za-z_][\w.]*\s*(?:\||\}\})")


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _bound_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        names: list[str] = []
        for element in target.elements:
            names.extend(_bound_names(element.value))
        return names
    if isinstance(target, cst.StarredElement):
        return _bound_names(target.value)
    return []


def parse_error_diagnostic(path: str, exc: Exception, text: str = "") -> Diagnostic:
    """A diagnostic for a file libcst could not parse."""
    if isinstance(exc, cst.ParserSyntaxError):
        line, message = exc.raw_line, str(exc.message).splitlines()[0]
        message = re.sub(r"^parser error: error at \d+:\d+: ", "", message)
        # libcst points at the token after the mistake; Python's own parser (AST only,
        # nothing is compiled to code or run) usually names the line the user must fix
        try:
            ast.parse(text)
        except SyntaxError as precise:
            if precise.lineno:
                line, message = precise.lineno, precise.msg
        except (ValueError, RecursionError, MemoryError):
            pass
        hint = "fix the syntax; the rest of the tree was analyzed"
        if _JINJA.search(text):
            # copier / cookiecutter project templates (ZenML's template-* repositories): the
            # Python exists only once the template is rendered
            hint = ("the file is a Jinja template ({% ... %} / {{ ... }}): scan the project it renders, "
                    "or exclude the template folder; the rest of the tree was analyzed")
        return Diagnostic(SYNTAX_ERROR, Severity.ERROR, f"syntax error: {message}", path, line, hint=hint)
    if isinstance(exc, UnicodeDecodeError):
        return Diagnostic(NOT_TEXT, Severity.ERROR, "file is not valid UTF-8 (and declares no other encoding)",
                          path, 0, hint="save it as UTF-8 or add a coding declaration")
    if isinstance(exc, RecursionError):
        return Diagnostic(TOO_DEEP, Severity.ERROR, "code nested too deeply to analyze", path, 0,
                          hint="flatten the nesting, or exclude the file")
    return Diagnostic(SYNTAX_ERROR, Severity.ERROR, f"cannot parse: {exc}", path, 0, hint="fix the file or exclude it")
