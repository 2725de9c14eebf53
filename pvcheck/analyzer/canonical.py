"""pvcheck's canonical form of code (scheme ``fp1``).

A :class:`Canonicalizer` turns a function, class or module-level assignment into a
list of string tokens. Two pieces of code with equal token lists compute the same thing
under these normalisations:

* whitespace, line breaks, comments, parentheses, trailing commas and quote style
  leave no token (literals are emitted by their value);
* docstrings are dropped;
* imports inside a body leave no token; every name is emitted by what it *refers to*:
  a fully qualified name for imports and module-level definitions (so an import alias
  or import order does not matter), a positional id for local variables (so a
  consistent local rename does not matter), the name itself for parameters;
* a statement that only calls a configured cosmetic function (``print``, logging) with
  side-effect-free arguments is dropped.

The form is built from libcst node *type and field names* and literal values only --
never ``repr`` of nodes, ``ast.dump`` or pickling -- and fields that are ``None`` emit
nothing, so a libcst release that adds an optional field does not change it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Optional, TYPE_CHECKING

import libcst as cst

from pvcheck.analyzer.fastmeta import code_children
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.values import same_typing_object
from pvcheck.config import DEFAULT_PURE_CALLS, FRAME_READERS

if TYPE_CHECKING:
    from pvcheck.analyzer.index import ProjectIndex

_SKIP_TYPES: frozenset[type] = frozenset((
    cst.SimpleWhitespace,
    cst.ParenthesizedWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.Colon,
    cst.Semicolon,
    cst.Dot,
    cst.AssignEqual,
    cst.Import,
    cst.ImportFrom,
))
_SKIP_FIELDS = frozenset({"lpar", "rpar", "header", "footer", "leading_lines", "lines_after_decorators"})
#: Fields whose names are bound, not read (``AsName.name`` is checked by type: ``name``
#: is a read elsewhere, e.g. ``NameItem.name`` of ``global``).
_STORE_FIELDS = frozenset({"target", "targets"})
_STRING_FIELDS = frozenset({"star", "conversion"})

#: Module globals whose value depends on where the code is (libcst resolves them as builtins).
_WHERE = frozenset({"__name__", "__file__", "__spec__", "__package__", "__loader__", "__doc__", "__path__",
                    "__cached__"})

#: The argument counts of the attribute builtins when the name is a literal (see
#: ``Canonicalizer._attribute_by_literal_name``).
_NAMED_ATTRIBUTE_ARGS = {"getattr": (2, 3), "setattr": (3,), "delattr": (2,)}

#: The calls that import a module by its name (literal names are followed).
_IMPORT_CALLS = frozenset({"importlib.import_module", "__import__", "builtins.__import__"})

#: Builtins that read the module's namespace by names computed at run time: every
#: top-level definition of the module is in the reach of code that uses them.
_NAMESPACE_READERS = frozenset({"globals", "eval", "exec"})

#: Builtins (and one stdlib function) whose use means the analyzer cannot follow the code.
DYNAMIC_CALLS = frozenset(
    {"eval", "exec", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars", "__import__",
     "importlib.import_module"}
)


@dataclass
class Canon:
    """The canonical form of one definition, and what it refers to."""

    tokens: list[str] = field(default_factory=list)
    references: dict[str, Symbol] = field(default_factory=dict)  # repo-local definitions used
    statements: list[tuple[int, int, int]] = field(default_factory=list)  # (line, start, end) token slices
    dynamic: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    unresolved: list[tuple[int, str]] = field(default_factory=list)  # (line, name)
    #: every single-reference token ``r:...`` emitted: (token index, qualified name of the
    #: definition, the attribute path after it, how it is used: "call" -- the callee of a
    #: call --, "store" -- inside an assignment, ``for``, ``del`` or ``as`` target -- or
    #: "load"). The content layer (fingerprint.py) replaces some of these tokens by what
    #: they refer to; the tokens themselves never change.
    sites: list[tuple[int, str, tuple[str, ...], str]] = field(default_factory=list)
    rebinds: bool = False  # has a `global` or `nonlocal` statement (assignments may rebind module names)
    located: bool = False  # reads __name__, __file__ ...: what it computes depends on where it is

    def copy(self) -> "Canon":
        """A copy whose lists and mappings can be extended without touching this one."""
        return replace(self, tokens=list(self.tokens), references=dict(self.references),
                       statements=list(self.statements), dynamic=list(self.dynamic),
                       unresolved=list(self.unresolved), sites=list(self.sites))


class Canonicalizer:
    """Emits the canonical tokens of code in one module."""

    def __init__(self, module: ModuleInfo, index: "ProjectIndex", cosmetic_calls: Iterable[str],
                 pure_calls: Iterable[str] = DEFAULT_PURE_CALLS) -> None:
        self.module = module
        self.index = index
        self.cosmetic_calls = tuple(cosmetic_calls)
        self.pure_calls = tuple(pure_calls)
        #: id(node) -> the token that stands for it: the parts of a pipeline body that
        #: other fingerprints already cover (step calls, their inputs), see ``masked_body``
        self.masks: dict[int, str] = {}
        self._dead: dict[int, frozenset[str]] = {}  # id(function) -> its locals only ever stored

    # ------------------------------------------------------------------ entry points
    def function_body(self, node: cst.FunctionDef) -> Canon:
        """The body of a step: statements only (signature and decorators are elsewhere)."""
        self._begin(node)
        self._statements(node.body, record=True)
        defaults = [param.default for param in _all_params(node.params) if param.default is not None]
        if defaults:
            # their values are configuration (the signature's fingerprint), but what they
            # refer to runs as the body's code (`fn=scale` and then `fn(x)`): it is reach
            tokens, self._out, sites = self._out, [], len(self._canon.sites)
            for default in defaults:
                self._emit(default)
            self._out = tokens
            del self._canon.sites[sites:]  # places in tokens that were not kept
        if not self._canon.statements:
            # a body of cosmetic statements only (prints, a docstring): it still has a
            # statement, an empty one, so that it is not mistaken for a step from a lock file
            first = _flatten(node.body)[0] if _flatten(node.body) else node
            self._canon.statements.append((self._line(first), len(self._out) - 1, len(self._out) - 1))
        return self._canon

    def masked_body(self, node: cst.FunctionDef, masks: dict[int, str]) -> Canon:
        """A pipeline body with each node in ``masks`` replaced by its token: what is left
        is the code no step, edge or configuration value accounts for."""
        self.masks = masks
        try:
            return self.function_body(node)
        finally:
            self.masks = {}

    def definition(self, node: cst.CSTNode) -> Canon:
        """A whole helper definition: function (with decorators and signature), class or
        module-level assignment."""
        if isinstance(node, cst.FunctionDef):
            self._begin(node)
            self._emit_function(node)
        elif isinstance(node, cst.ClassDef):
            self._begin(None)
            self._emit_class(node)
        else:
            self._begin(None)
            self._emit(node)
        return self._canon

    def expression(self, node: cst.CSTNode, context: Optional[cst.FunctionDef] = None) -> Canon:
        """Any expression or statement, e.g. a pipeline body or a decorator argument."""
        self._begin(context)
        if isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            self._statements(node, record=True)
        else:
            self._emit(node)
        return self._canon

    # ------------------------------------------------------------------ state
    def _begin(self, function: Optional[cst.FunctionDef]) -> None:
        self._canon = Canon()
        self._out = self._canon.tokens
        self._locals: dict[tuple[int, str], str] = {}
        self._root_scope = self.module.scope(function.params) if function is not None else None
        self._params = (
            {p.name.value for p in _all_params(function.params)} if function is not None else set()
        )
        self._inside: dict[int, bool] = {}
        self._storing = 0
        self._callee: Optional[cst.CSTNode] = None
        self._site: Optional[tuple[str, tuple[str, ...]]] = None
        self._modules_reached: set[str] = set()  # (see _reach_module)
        self._printing = function  # (a function is no helper of its own)
        self._followed_callee: Optional[int] = None  # id of a getattr/import_module callee with a literal name

    # ------------------------------------------------------------------ structure
    def _emit_function(self, node: cst.FunctionDef) -> None:
        self._out.append("(FunctionDef")
        for decorator in node.decorators:
            self._out.append("@")
            self._emit(decorator.decorator)
        if node.asynchronous is not None:
            self._out.append("async")
        params: cst.CSTNode = node.params
        returns = node.returns
        if not node.decorators and _plain_annotations(node):
            # a plain helper's parameter and return annotations do not change what it
            # computes (a decorator might read them: then they stay); the cosmetic policy
            # reports the edit as PV107, which a team can make a `version`
            params = _without_annotations(node.params)
            returns = None
        self._out.append("params=")
        self._emit(params)
        if returns is not None:
            self._out.append("returns=")
            self._emit(returns.annotation)
        self._statements(node.body, record=False)
        self._out.append(")")

    def _emit_class(self, node: cst.ClassDef) -> None:
        self._out.append("(ClassDef")
        for decorator in node.decorators:
            self._out.append("@")
            self._emit(decorator.decorator)
        for base in node.bases:
            self._emit(base)
        for keyword in node.keywords:
            self._emit(keyword)
        self._statements(node.body, record=False)
        self._out.append(")")

    def _statements(self, block: cst.BaseSuite, record: bool) -> None:
        self._out.append("(Block")
        for statement in _flatten(block):
            original = statement
            if _is_bare_text(statement):
                # a docstring, of any function, method or class, or any other bare string
                # literal: evaluating it does nothing
                continue
            if self._is_cosmetic(statement) or self._is_logger_binding(statement):
                continue
            if isinstance(statement, cst.AnnAssign) and self._in_function(statement.target):
                # in a function an annotation is never evaluated: `x: T = v` is `x = v`,
                # a bare `x: T` is nothing (at module or class level it is kept: there it
                # is stored, and in dataclasses, pydantic and attrs it defines a field)
                if statement.value is None:
                    if isinstance(statement.target, cst.Name):
                        continue
                else:
                    statement = cst.Assign(targets=[cst.AssignTarget(target=statement.target)], value=statement.value)
            if isinstance(statement, cst.Assign) and not self.masks and self._is_dead_store(statement):
                # `x = value` where nothing ever reads x: only the evaluation counts (ruff's
                # F841 fix turns `x = f()` into `f()`), and an inert literal is nothing at all
                if _inert(statement.value):
                    continue
                statement = cst.Expr(value=statement.value)
            if isinstance(statement, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(statement, (cst.Global, cst.Nonlocal)):
                self._canon.rebinds = True
            start = len(self._out)
            line = self._line(original) if record else 0
            self._emit(statement)
            if record:
                self._canon.statements.append((line, start, len(self._out)))
        self._out.append(")")

    def _block(self, node: cst.BaseSuite) -> None:
        self._statements(node, record=False)

    # ------------------------------------------------------------------ generic walk
    def _emit(self, node: cst.CSTNode) -> None:
        kind = type(node)
        if kind in _SKIP_TYPES:
            return
        if self.masks and id(node) in self.masks:
            if self.masks[id(node)]:  # an empty token: the part leaves no trace at all
                self._out.append(self.masks[id(node)])
            return
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, node)
            return
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self._emit(small)
            return
        out = self._out
        opening, fields = _layout(kind)
        out.append(opening)
        for name, single, several, is_string, store in fields:
            value = getattr(node, name)
            if value is None or isinstance(value, cst.MaybeSentinel):
                continue
            if isinstance(value, cst.CSTNode):
                if type(value) in _SKIP_TYPES:
                    continue
                out.append(single)
                if store:
                    self._storing += 1
                    self._emit(value)
                    self._storing -= 1
                else:
                    self._emit(value)
            elif isinstance(value, (tuple, list)):
                items = [v for v in value if isinstance(v, cst.CSTNode) and type(v) not in _SKIP_TYPES]
                if self.masks:
                    items = [v for v in items if self.masks.get(id(v)) != ""]
                if items:
                    out.append(several)
                    self._storing += store
                    for item in items:
                        self._emit(item)
                    self._storing -= store
                    out.append("]")
            elif is_string and isinstance(value, str) and value:
                out.append(f"{name}={value}")
        out.append(")")

    # ------------------------------------------------------------------ leaves
    def _string(self, node: cst.BaseString) -> None:
        try:
            value = node.evaluated_value  # type: ignore[attr-defined]
        except Exception:  # an f-string inside a concatenation, or an odd escape
            value = None
        if value is None:
            assert isinstance(node, cst.ConcatenatedString)
            self._out.append("(Concat")
            self._emit(node.left)
            self._emit(node.right)
            self._out.append(")")
            return
        self._out.append(("b:" if isinstance(value, bytes) else "s:") + repr(value))

    def _fstring(self, node: cst.FormattedString) -> None:
        # the text parts are as written: a raw prefix changes what they mean (rf"\n{x}")
        self._out.append("(TStr" if type(node) is not cst.FormattedString else "(FStr")
        if "r" in node.start.lower():
            self._out.append("raw")
        for part in node.parts:
            self._emit(part)
        self._out.append(")")

    def _fstring_text(self, node: cst.FormattedStringText) -> None:
        # also the text of a format spec (f"{x:.2f}"), which the generic walk has no field for
        self._out.append("t:" + node.value)

    def _number(self, node: cst.BaseNumber) -> None:
        try:
            value = node.evaluated_value  # type: ignore[attr-defined]
        except Exception:
            value = node.value  # type: ignore[attr-defined]
        self._out.append("n:" + repr(value))

    def _call(self, node: cst.Call) -> None:
        # the generic walk's tokens exactly; the callee is remembered so that a reference
        # in that place is recorded as a call (a function called, not passed around)
        out = self._out
        out.append("(Call")
        out.append("func=")
        outer, quiet = self._callee, self._followed_callee
        self._callee = node.func
        if self._attribute_by_literal_name(node) or self._import_by_literal_name(node):
            self._followed_callee = id(node.func)
        self._emit(node.func)
        self._callee, self._followed_callee = outer, quiet
        args = [a for a in node.args if not (self.masks and self.masks.get(id(a)) == "")]
        if args:
            out.append("args=[")
            for arg in args:
                self._emit(arg)
            out.append("]")
        out.append(")")

    def _subscript(self, node: cst.Subscript) -> None:
        # the generic walk's tokens, and a mark for `x[a,]` (the key is a tuple there, and
        # only the comma, which the walk skips, says so)
        out = self._out
        if isinstance(node.value, cst.Attribute) and node.value.attr.value == "modules" \
                and "sys.modules" in self._callee_names(node.value):
            # a module looked up by name: a literal names it (as an import would), a
            # computed name could be any module
            key = node.slice[0].slice if len(node.slice) == 1 else None
            literal = key.value if isinstance(key, cst.Index) else None
            if not (isinstance(literal, cst.SimpleString) and isinstance(literal.evaluated_value, str)
                    and self._reach_named_module(literal.evaluated_value)):
                self._canon.dynamic.append((self._line(node), "reads sys.modules by a name computed at run time"))
        out.append("(Subscript")
        out.append("value=")
        self._emit(node.value)
        items = [e for e in node.slice if not (self.masks and self.masks.get(id(e)) == "")]
        if items:
            out.append("slice=[")
            for item in items:
                self._emit(item)
            out.append("]")
        if _one_tuple(node):
            out.append("tuple,")
        out.append(")")

    def _attribute_by_literal_name(self, call: cst.Call) -> bool:
        """``getattr(obj, "name"[, default])``, ``setattr(obj, "name", v)``, ``delattr(obj,
        "name")`` on an object held by a local variable or parameter: the attribute is named
        as in ``obj.name``, on run-time data, which pvcheck follows no further in either
        spelling. Not on a module or another global (``getattr(helpers, "scale")`` reaches
        repo code that ``helpers.scale`` would have named), and not with a computed name."""
        func = call.func
        if not isinstance(func, cst.Name) or func.value not in _NAMED_ATTRIBUTE_ARGS:
            return False
        if len(call.args) not in _NAMED_ATTRIBUTE_ARGS[func.value] \
                or any(arg.star or arg.keyword is not None for arg in call.args):
            return False
        name = call.args[1].value
        if not isinstance(name, cst.SimpleString) or not isinstance(name.evaluated_value, str) \
                or not name.evaluated_value.isidentifier():
            return False
        root = call.args[0].value
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        if not isinstance(root, cst.Name):
            return False
        assignments = _assignments(self.module.scope(root), root.value)
        if not assignments or _imported(assignments):
            return False
        owner = next(iter(assignments)).scope
        if isinstance(owner, (cst.metadata.GlobalScope, cst.metadata.ClassScope, cst.metadata.BuiltinScope)):
            return False
        # printing a function: one of its locals (an enclosing function's is not visible);
        # printing a class: a local of one of its methods
        return self._root_scope is None or self._is_inside(owner)

    def _import_by_literal_name(self, call: cst.Call) -> bool:
        """``importlib.import_module("pkg.mod")`` or ``__import__("pkg.mod")`` with a literal
        absolute name: an import statement in another spelling. A repo module so imported is
        used as a value, and all of it is in the reach (:meth:`_reach_module`); an installed
        one is third-party code, as ``import`` makes it. A computed or relative name stays
        code pvcheck cannot follow (PV010)."""
        func = call.func
        spelled = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) \
            else None
        if spelled not in ("import_module", "__import__") or not call.args:
            return False  # (before any name look-up: this is asked of every call)
        names = self._callee_names(func)
        if not names & _IMPORT_CALLS:
            return False
        first = call.args[0]
        if len(call.args) > 1 or first.star or first.keyword is not None:
            return False  # import_module(name, package), __import__(..., level): maybe relative
        if not isinstance(first.value, cst.SimpleString) or not isinstance(first.value.evaluated_value, str):
            return False
        return self._reach_named_module(first.value.evaluated_value)

    def _reach_named_module(self, dotted: str) -> bool:
        """Put the repo modules ``dotted`` names (it and its packages: importing ``a.b``
        runs both) in the reach; False when it is no module name, or names repo code pvcheck
        cannot parse."""
        parts = dotted.split(".")
        if not dotted or not all(part.isidentifier() for part in parts):
            return False
        for cut in range(1, len(parts) + 1):
            name = ".".join(parts[:cut])
            if self.index.has_module(name):
                module = self.index.module(name)
                if module is None:
                    return False
                self._reach_module(module)
        return True

    def _global(self, node: cst.Global) -> None:
        # a declaration, not a use: it says the function's reads and stores of these names
        # are the module's (those resolve as module names); its own names resolve to nothing
        # in the function's scope, and as names they would be "not defined" (PV011)
        self._out.append("(Global")
        self._out.extend("global:" + item.name.value for item in node.names)
        self._out.append(")")

    def _as_name(self, node: cst.AsName) -> None:
        self._out.append("(AsName")
        self._out.append("name=")
        self._storing += 1
        self._emit(node.name)
        self._storing -= 1
        self._out.append(")")

    def _site_of(self, node: cst.CSTNode, token: str) -> None:
        """Record where a single reference token was emitted (see ``Canon.sites``)."""
        site, self._site = self._site, None
        if site is None or not token.startswith("r:"):
            return
        how = "store" if self._storing else "call" if node is self._callee else "load"
        self._canon.sites.append((len(self._out), site[0], site[1], how))

    def _arg(self, node: cst.Arg) -> None:
        self._out.append("(Arg")
        if node.star:
            self._out.append(node.star)
        if node.keyword is not None:
            self._out.append("kw=" + node.keyword.value)
        self._emit(node.value)
        self._out.append(")")

    # ------------------------------------------------------------------ names
    def _name(self, node: cst.Name) -> None:
        self._site = None
        token = self.name_token(node)
        self._site_of(node, token)
        self._out.append(token)

    def name_token(self, node: cst.Name) -> str:
        """What a bare name refers to, as a token (recording references on the way)."""
        name = node.value
        scope = self.module.scope(node)
        assignments = _assignments(scope, name)
        if not assignments:
            star = self.index.resolve_star(self.module, name)
            if star is not None:
                return self._reference(star[0], star[1])
            if scope is not None and name in ("__name__", "__file__", "__doc__", "__spec__", "__package__"):
                self._canon.located = True
                return "g:" + name
            self._canon.unresolved.append((self._line(node), name))
            return "?" + name
        owner = next(iter(assignments)).scope
        if isinstance(owner, cst.metadata.BuiltinScope):
            if name in _WHERE:
                self._canon.located = True
            if name in DYNAMIC_CALLS and id(node) != self._followed_callee:
                self._canon.dynamic.append((self._line(node), _dynamic_use(name)))
                if name in _NAMESPACE_READERS:
                    # globals()["scale"], eval("scale(x)"): any name of this module may run
                    self._reach_module(self.module)
            return "b:" + name
        if isinstance(owner, cst.metadata.ClassScope):
            return "c:" + name
        if not isinstance(owner, cst.metadata.GlobalScope) and not _imported(assignments):
            if self._root_scope is not None and not self._is_inside(owner):
                # a variable of an enclosing function: the value is not visible statically
                self._canon.dynamic.append((self._line(node), f"uses '{name}' from an enclosing function"))
                return "o:" + name
            if owner is self._root_scope and name in self._params:
                return "p:" + name
            key = (id(owner), name)
            if key not in self._locals:
                self._locals[key] = f"${len(self._locals)}"
            return self._locals[key]
        qualified = self.module.qualified_names(node)
        if not qualified and isinstance(owner, cst.metadata.GlobalScope):
            qualified = {f"{self.module.name}.{name}"}
        if len(qualified) != 1:
            # several bindings at module level (e.g. try/except imports): all of them count
            return "(" + " | ".join(self._qualified_token(q, node) for q in sorted(qualified)) + ")"
        return self._qualified_token(next(iter(qualified)), node)

    def _attribute(self, node: cst.Attribute) -> None:
        root = node.value
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name) and self._is_global(root):
            qualified = self.module.qualified_names(node)
            if len(qualified) == 1:
                self._site = None
                token = self._qualified_token(next(iter(qualified)), node)
                self._site_of(node, token)
                self._out.append(token)
                return
        self._emit(node.value)
        self._out.append("." + node.attr.value)

    def _qualified_token(self, qualified: str, node: cst.CSTNode) -> str:
        if qualified.startswith("typing_extensions."):
            same = same_typing_object(qualified)
            if same != qualified:
                return "x:" + same
        resolved = self.index.resolve(qualified)
        if resolved is not None:
            symbol, rest = resolved
            return self._reference(symbol, rest)
        if qualified in DYNAMIC_CALLS and id(node) != self._followed_callee:
            self._canon.dynamic.append((self._line(node), _dynamic_use(qualified)))
        unanalyzable = _unanalyzable_file(self.index, qualified)
        if unanalyzable is None:
            self._reach_unbound_attribute(qualified)
        if unanalyzable is not None:
            # repo code pvcheck cannot parse (syntax error, binary, too large, too deep) is not
            # third-party code: its bytes stand in for it, and the code using it is conservative
            self._canon.dynamic.append((self._line(node), f"uses '{qualified}' from {unanalyzable[0]}, "
                                                          "a file pvcheck cannot analyze"))
            return f"u:{qualified}@{unanalyzable[1]}"
        return "x:" + qualified

    def _reference(self, symbol: Symbol, rest: tuple[str, ...]) -> str:
        suffix = "".join("." + part for part in rest)
        if symbol.kind == "module":
            self._reach_module(symbol.module)
            return "m:" + symbol.qualified_name + suffix
        self._canon.references[symbol.qualified_name] = symbol
        self._site = (symbol.qualified_name, rest)
        return "r:" + symbol.qualified_name + suffix

    def _reach_unbound_attribute(self, qualified: str) -> None:
        """``helpers.__dict__["scale"]``, ``helpers.set_at_run_time``: an attribute of a repo
        module that the module does not bind at its top level reads it where pvcheck cannot
        see what (its ``__file__``, ``__name__`` and the like are no code)."""
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if self.index.has_module(".".join(parts[:cut])):
                module = self.index.module(".".join(parts[:cut]))
                # a name it binds (an installed package's name it re-exports) is resolved
                # already, as third-party code; a name of the module being printed is bound
                # by code printed with it (a `with DAG(...)` block at its top level)
                if module is not None and module.name != self.module.name and parts[cut] not in _WHERE \
                        and parts[cut] not in module.symbols:
                    self._reach_module(module)
                return

    def _reach_module(self, module: ModuleInfo) -> None:
        """A repo module used as a value (``mod = helpers``, ``use(helpers)``) or with an
        attribute it does not define at its top level: its attributes are read where pvcheck
        cannot see which (``mod.scale(x)`` later), so every top-level definition of it, and
        what its imports name, is in the reach."""
        if module.name in self._modules_reached:
            return
        self._modules_reached.add(module.name)
        for name in module.symbols:
            found = module.symbol(name)
            if found is None or found.kind == "module":
                continue
            if found.kind == "import":
                resolved = self.index.resolve(found.target) if found.target else None
                if resolved is None or resolved[1] or resolved[0].kind == "module":
                    continue
                found = resolved[0]
            if found.node is not None and found.node is self._printing:
                continue
            self._canon.references.setdefault(found.qualified_name, found)

    def _is_global(self, node: cst.Name) -> bool:
        assignments = _assignments(self.module.scope(node), node.value)
        if not assignments:
            return False
        owner = next(iter(assignments)).scope
        return isinstance(owner, cst.metadata.GlobalScope) or _imported(assignments)

    def _is_inside(self, scope: object) -> bool:
        key = id(scope)
        if key not in self._inside:
            current = scope
            found = False
            while current is not None:
                if current is self._root_scope:
                    found = True
                    break
                parent = getattr(current, "parent", None)
                current = None if parent is current else parent
            self._inside[key] = found
        return self._inside[key]

    # ------------------------------------------------------------------ cosmetic calls
    def _is_cosmetic(self, statement: cst.CSTNode) -> bool:
        if not isinstance(statement, cst.Expr) or not isinstance(statement.value, cst.Call):
            return False
        call = statement.value
        if not self.is_cosmetic_callee(call.func):
            return False
        return all(not arg.star and side_effect_free(arg.value, self.is_pure_call) for arg in call.args)

    def is_cosmetic_callee(self, func: cst.BaseExpression) -> bool:
        """Whether ``func`` matches ``cosmetic_calls``, by its qualified name, or, for a
        logging method called on a variable, by what every assignment of the variable
        binds (``log = get_run_logger()`` makes ``log.info`` a ``prefect.get_run_logger.info``)."""
        names = self._callee_names(func)
        if any(_matches(n, self.cosmetic_calls) for n in names):
            return True
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return False
        bound = self._bound_values(func.value)
        if not bound:
            return False
        for value in bound:
            receivers = self._callee_names(value.func if isinstance(value, cst.Call) else value)
            if not any(_matches(f"{r}.{func.attr.value}", self.cosmetic_calls) for r in receivers):
                return False
        return True

    def _callee_names(self, func: cst.BaseExpression) -> set[str]:
        names: set[str] = set(self.module.qualified_names(func)) if isinstance(func, (cst.Name, cst.Attribute)) else set()
        if not names:
            dotted = dotted_name(func)
            names = {dotted} if dotted else set()
        return {n.replace(".<locals>.", ".") for n in names}

    def _bound_values(self, name: cst.Name) -> list[cst.BaseExpression]:
        """The values every binding of ``name`` assigns (plain ``x = value`` statements of its
        scope only); empty when any binding is something else (a parameter, an import, a loop)."""
        assignments = _assignments(self.module.scope(name), name.value)
        if not assignments:
            return []
        owner = next(iter(assignments)).scope
        values: dict[int, cst.BaseExpression] = {}
        holder = self.module.tree if isinstance(owner, cst.metadata.GlobalScope) else getattr(owner, "node", None)
        body = holder if isinstance(holder, cst.Module) else holder.body if isinstance(holder, cst.FunctionDef) else None
        if body is None:
            return []
        for statement in _assign_statements(body):
            if len(statement.targets) == 1 and isinstance(statement.targets[0].target, cst.Name):
                values[id(statement.targets[0].target)] = statement.value
        found: list[cst.BaseExpression] = []
        for assignment in assignments:
            value = values.get(id(getattr(assignment, "node", None)))
            if value is None:
                return []
            found.append(value)
        return found

    def _is_dead_store(self, statement: cst.Assign) -> bool:
        """``x = value`` in a function where ``x`` is never read: every other mention of the
        name anywhere in the function (nested scopes included) is another such store."""
        if len(statement.targets) != 1 or not isinstance(statement.targets[0].target, cst.Name):
            return False
        target = statement.targets[0].target
        assignments = _assignments(self.module.scope(target), target.value)
        owner = next(iter(assignments)).scope if assignments else None
        holder = getattr(owner, "node", None)
        if not isinstance(owner, cst.metadata.FunctionScope) or not isinstance(holder, cst.FunctionDef):
            return False
        dead = self._dead.get(id(holder))
        if dead is None:
            dead = self._dead[id(holder)] = dead_stores(holder)
        return target.value in dead

    def _in_function(self, target: cst.BaseExpression) -> bool:
        """Whether an assignment target is in a function's scope (by its root name)."""
        root = target
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        return isinstance(root, cst.Name) and isinstance(self.module.scope(root), cst.metadata.FunctionScope)

    def _is_logger_binding(self, statement: cst.CSTNode) -> bool:
        """``log = get_run_logger()`` in a function whose every other use of ``log`` is a
        cosmetic call statement (``log.info(...)``): the binding only serves the logging,
        and goes with it. Any other use (``helper(log)``, ``log.addHandler(h)``) keeps it."""
        if not (isinstance(statement, cst.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0].target, cst.Name) and isinstance(statement.value, cst.Call)):
            return False
        target = statement.targets[0].target
        call = statement.value
        receivers = self._callee_names(call.func)
        if not any(_matches(f"{r}.info", self.cosmetic_calls) for r in receivers):
            return False
        if not all(not arg.star and side_effect_free(arg.value, self.is_pure_call) for arg in call.args):
            return False
        assignments = _assignments(self.module.scope(target), target.value)
        owner = next(iter(assignments)).scope if assignments else None
        holder = getattr(owner, "node", None)
        if not isinstance(owner, cst.metadata.FunctionScope) or not isinstance(holder, cst.FunctionDef):
            return False
        allowed: set[int] = set()
        uses: list[cst.Name] = []
        for node in _walk(holder.body):
            if isinstance(node, cst.Name) and node.value == target.value:
                uses.append(node)
            elif isinstance(node, cst.Expr) and isinstance(node.value, cst.Call) \
                    and isinstance(node.value.func, cst.Attribute) and isinstance(node.value.func.value, cst.Name) \
                    and node.value.func.value.value == target.value and self._is_cosmetic(node):
                allowed.add(id(node.value.func.value))
            elif isinstance(node, cst.Assign) and len(node.targets) == 1 and node.targets[0].target is not target \
                    and isinstance(node.targets[0].target, cst.Name) and node.targets[0].target.value == target.value:
                return False  # rebound to something else too: keep it simple, keep it
        allowed.add(id(target))
        return all(id(use) in allowed for use in uses)

    def is_pure_call(self, call: cst.Call) -> bool:
        """A call of a listed pure function (``pure_calls``: builtins like ``len``, ``round``),
        resolved by scope, so a local function named ``len`` is not one."""
        if not isinstance(call.func, (cst.Name, cst.Attribute)):
            return False
        if isinstance(call.func, cst.Name):
            assignments = _assignments(self.module.scope(call.func), call.func.value)
            if not assignments or not isinstance(next(iter(assignments)).scope, cst.metadata.BuiltinScope):
                return False
            names = {call.func.value}
        else:
            names = set(self.module.qualified_names(call.func))
        return any(_matches(n, self.pure_calls) for n in names)

    def _line(self, node: cst.CSTNode) -> int:
        return self.module.line(node)


def layout_free_tokens(node: cst.CSTNode) -> list[str]:
    """The code of ``node`` without its layout: node types, field names, names *as
    written* (nothing resolved, nothing renamed, nothing dropped) and literal values,
    but no whitespace, line breaks, comments, grouping parentheses, trailing commas or
    quote style. Code pvcheck cannot follow is fingerprinted by this instead of its raw
    text: `ruff format` and comment edits leave it alone, any other edit does not."""
    out: list[str] = []
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            out.append(current)
            continue
        kind = type(current)
        if kind in _SKIP_TYPES and kind not in (cst.Import, cst.ImportFrom):
            continue
        if kind is cst.Name:
            out.append("n=" + current.value)
            continue
        if kind in (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary):
            try:
                value = current.evaluated_value
            except Exception:  # an f-string inside a concatenation, an odd escape
                value = None
            if value is not None:
                out.append("v=" + repr(value))
                continue
        opening, fields = _layout(kind)
        pending: list[Any] = [opening]
        for name, single, several, is_string, _ in fields:
            value = getattr(current, name)
            if value is None or isinstance(value, cst.MaybeSentinel):
                continue
            if isinstance(value, cst.CSTNode):
                if type(value) not in _SKIP_TYPES or type(value) in (cst.Import, cst.ImportFrom):
                    pending.extend((single, value))
            elif isinstance(value, (tuple, list)):
                pending.append(several)
                pending.extend(v for v in value if isinstance(v, cst.CSTNode))
                pending.append("]")
            elif is_string and isinstance(value, str) and value:
                pending.append(f"{name}={value}")
            elif isinstance(value, str) and (name == "value" or (name == "start" and kind is cst.FormattedString)):
                # the text of an f-string part, as written; of its opening quote only the
                # prefix counts (rf"\n" is not f"\n", f'' is f"")
                pending.append(f"{name}={value.strip(chr(39) + chr(34)).lower() if name == 'start' else value}")
        if kind is cst.Subscript and _one_tuple(current):
            pending.append("tuple,")
        pending.append(")")
        stack.extend(reversed(pending))
    return out


def _dynamic_use(name: str) -> str:
    if name in _IMPORT_CALLS:
        # its reach cannot hold what it imports: say so, not "any change is a version"
        return f"uses {name}() with a name computed at run time; the modules it imports are not fingerprinted"
    return f"uses {name}()"


def _one_tuple(node: cst.Subscript) -> bool:
    """``x[a,]``: the trailing comma makes the key the tuple ``(a,)``, and it is the only
    trace of that in the syntax tree."""
    return len(node.slice) == 1 and isinstance(node.slice[0].comma, cst.Comma)


def side_effect_free(expression: cst.BaseExpression,
                     is_pure_call: Optional[Callable[[cst.Call], bool]] = None) -> bool:
    """Whether evaluating ``expression`` leaves everything as it was: names, literals,
    attribute reads, subscripts with such keys, f-strings (format specs too), ``%`` and
    ``.format`` on a string literal, containers of these, and calls that ``is_pure_call``
    accepts (the listed pure builtins) with such arguments. Anything else -- a method call
    on data, a step call, a walrus, a lambda, a comprehension -- is not."""
    def free(node: cst.BaseExpression) -> bool:
        return side_effect_free(node, is_pure_call)

    if isinstance(expression, (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)):
        return True
    if isinstance(expression, cst.Attribute):
        return free(expression.value)
    if isinstance(expression, cst.ConcatenatedString):
        return free(expression.left) and free(expression.right)
    if isinstance(expression, cst.FormattedString):
        for part in expression.parts:
            if isinstance(part, cst.FormattedStringExpression):
                if not free(part.expression):
                    return False
                if part.format_spec and not all(
                    isinstance(p, cst.FormattedStringText) or free(p.expression)  # type: ignore[union-attr]
                    for p in part.format_spec
                ):
                    return False
        return True
    if isinstance(expression, (cst.Tuple, cst.List, cst.Set)):
        return all(not isinstance(e, cst.StarredElement) and free(e.value) for e in expression.elements)
    if isinstance(expression, cst.Dict):
        return all(isinstance(e, cst.DictElement) and free(e.key) and free(e.value) for e in expression.elements)
    if isinstance(expression, cst.UnaryOperation) and isinstance(expression.operator, (cst.Minus, cst.Plus)):
        return isinstance(expression.expression, (cst.Integer, cst.Float))
    if isinstance(expression, cst.Subscript):
        return free(expression.value) and all(_free_slice(e.slice, free) for e in expression.slice)
    if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, cst.Modulo):
        # "%"-formatting: only on a string literal (on a number it is arithmetic, on data
        # it may be an overloaded operator)
        return _is_text(expression.left) and free(expression.right)
    if isinstance(expression, cst.Call):
        if any(arg.star for arg in expression.args) or not all(free(arg.value) for arg in expression.args):
            return False
        func = expression.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format" and _is_text(func.value):
            return True
        return is_pure_call is not None and is_pure_call(expression)
    return False


def _is_text(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString)) and all(
        not isinstance(part, cst.FormattedString) for part in _string_parts(node))


def _string_parts(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(node, cst.ConcatenatedString):
        return _string_parts(node.left) + _string_parts(node.right)
    return [node]


def _free_slice(item: cst.BaseSlice, free: Callable[[cst.BaseExpression], bool]) -> bool:
    if isinstance(item, cst.Index):
        return item.star is None and free(item.value)
    if isinstance(item, cst.Slice):
        return all(part is None or free(part) for part in (item.lower, item.upper, item.step))
    return False


def _walk(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """Every node below ``node``, depth first (nested functions too: a name used there is
    a use as well, and being conservative costs nothing here)."""
    stack = code_children(node)
    while stack:
        current = stack.pop()
        yield current
        stack.extend(code_children(current))


def dead_stores(function: cst.FunctionDef) -> frozenset[str]:
    """The local names of ``function`` that are only ever stored, by ``x = value`` or
    ``x: T = value`` statements of its own body: no read, ``del``, augmented assignment,
    loop or ``with`` target, ``global``/``nonlocal``, parameter, attribute or keyword of that
    name anywhere in it, nested functions and classes included. None at all when the
    function can read its locals by other means (``locals()``, ``eval``, frames:
    :data:`FRAME_READERS`)."""
    stores: dict[str, set[int]] = {}
    for target in _stored_names(function.body):
        stores.setdefault(target.value, set()).add(id(target))
    if not stores:
        return frozenset()
    live: set[str] = set()
    for node in _walk(function.body):
        if isinstance(node, cst.Name):
            if node.value in FRAME_READERS:
                return frozenset()
            if id(node) not in stores.get(node.value, ()):
                live.add(node.value)
    return frozenset(name for name in stores if name not in live)


def _stored_names(body: cst.CSTNode) -> Iterable[cst.Name]:
    """The targets of the ``x = value`` and ``x: T = value`` statements of a function body
    (one plain name each), nested blocks included, nested functions and classes not: in a
    function an annotation is never evaluated, so ``x: T = v`` is ``x = v``."""
    for child in code_children(body):
        if isinstance(child, cst.Assign):
            if len(child.targets) == 1 and isinstance(child.targets[0].target, cst.Name):
                yield child.targets[0].target
        elif isinstance(child, cst.AnnAssign):
            if child.value is not None and isinstance(child.target, cst.Name):
                yield child.target
        elif not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
            yield from _stored_names(child)


def _inert(expression: cst.BaseExpression) -> bool:
    """A literal whose evaluation can neither fail nor do anything: numbers, strings (not
    f-strings), True/False/None, ``...``, and lists, tuples and dicts of these (a set or a
    dict key only of hashable scalars: ``{[]}`` raises)."""
    if isinstance(expression, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis)):
        return True
    if isinstance(expression, cst.Name):
        return expression.value in ("True", "False", "None")
    if isinstance(expression, cst.ConcatenatedString):
        return _inert(expression.left) and _inert(expression.right)  # type: ignore[arg-type]
    if isinstance(expression, cst.UnaryOperation) and isinstance(expression.operator, (cst.Minus, cst.Plus)):
        return isinstance(expression.expression, (cst.Integer, cst.Float, cst.Imaginary))
    if isinstance(expression, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and _inert(e.value) for e in expression.elements)
    if isinstance(expression, cst.Set):
        return all(isinstance(e, cst.Element) and _hashable_scalar(e.value) for e in expression.elements)
    if isinstance(expression, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _hashable_scalar(e.key) and _inert(e.value)
                   for e in expression.elements)
    return False


def _hashable_scalar(expression: cst.BaseExpression) -> bool:
    return not isinstance(expression, (cst.List, cst.Tuple, cst.Set, cst.Dict)) and _inert(expression)


def _assign_statements(body: cst.CSTNode) -> Iterable[cst.Assign]:
    """The ``x = value`` statements of a function or module body, nested blocks included
    but not nested functions or classes (another scope)."""
    for child in code_children(body):
        if isinstance(child, cst.Assign):
            yield child
        elif isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
            continue
        else:
            yield from _assign_statements(child)


def _unanalyzable_file(index: "ProjectIndex", qualified: str) -> Optional[tuple[str, str]]:
    """(path, content stand-in) of the tree's module that ``qualified`` is in, when that
    module cannot be parsed; None when it parses or is not in the tree."""
    parts = qualified.split(".")
    for cut in range(len(parts), 0, -1):
        file = index.by_module.get(".".join(parts[:cut]))
        if file is None:
            continue
        if index.module(file.module) is not None:
            return None
        data = index.read(file)
        stand_in = hashlib.blake2b(data, digest_size=16).hexdigest() if data is not None else f"{file.size} bytes"
        return file.path, stand_in
    return None


def _assignments(scope, name: str):  # -> set of libcst Assignment
    if scope is None:
        return set()
    try:
        return scope[name]
    except Exception:  # libcst raises on a few odd constructs; treat as unresolved
        return set()


def _imported(assignments) -> bool:  # type: ignore[no-untyped-def]
    """A name bound only by imports (also inside a function body): it refers to what the
    import names, so it resolves like a module-level import, never as a local variable."""
    return bool(assignments) and all(isinstance(a, cst.metadata.ImportAssignment) for a in assignments)


#: The node types with a walk of their own. Plain functions, not bound methods: a table of
#: bound methods would make every Canonicalizer a reference cycle that keeps its module's
#: syntax tree alive until the garbage collector runs.
_HANDLERS: dict[type, Callable[[Canonicalizer, Any], None]] = {
    cst.Name: Canonicalizer._name,
    cst.Attribute: Canonicalizer._attribute,
    cst.SimpleString: Canonicalizer._string,
    cst.ConcatenatedString: Canonicalizer._string,
    cst.FormattedString: Canonicalizer._fstring,
    cst.FormattedStringText: Canonicalizer._fstring_text,
    cst.Integer: Canonicalizer._number,
    cst.Float: Canonicalizer._number,
    cst.Imaginary: Canonicalizer._number,
    cst.IndentedBlock: Canonicalizer._block,
    cst.SimpleStatementSuite: Canonicalizer._block,
    cst.Arg: Canonicalizer._arg,
    cst.Call: Canonicalizer._call,
    cst.Subscript: Canonicalizer._subscript,
    cst.AsName: Canonicalizer._as_name,
    cst.Global: Canonicalizer._global,
}
if hasattr(cst, "TemplatedString"):  # t-strings (Python 3.14), in libcst 1.8 and later
    _HANDLERS[cst.TemplatedString] = Canonicalizer._fstring
    _HANDLERS[cst.TemplatedStringText] = Canonicalizer._fstring_text


_LAYOUTS: dict[type, tuple[str, tuple[tuple[str, str, str, bool, bool], ...]]] = {}


def _layout(kind: type) -> tuple[str, tuple[tuple[str, str, str, bool, bool], ...]]:
    """A node type's opening token and the fields the generic walk emits, in field order
    (whitespace and brackets left out), with their tokens: worked out once per type."""
    found = _LAYOUTS.get(kind)
    if found is None:
        fields = tuple((spec.name, spec.name + "=", spec.name + "=[", spec.name in _STRING_FIELDS,
                        spec.name in _STORE_FIELDS)
                       for spec in dataclasses.fields(kind)
                       if spec.name not in _SKIP_FIELDS and not spec.name.startswith("whitespace"))
        found = _LAYOUTS[kind] = ("(" + kind.__name__, fields)
    return found


def _flatten(block: cst.BaseSuite) -> list[cst.CSTNode]:
    statements: list[cst.CSTNode] = []
    body = block.body
    if isinstance(block, cst.SimpleStatementSuite):
        return list(body)
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            statements.extend(statement.body)
        else:
            statements.append(statement)
    return statements


def _is_bare_text(statement: cst.CSTNode) -> bool:
    """A statement that is only a string literal (no f-string part): a docstring or a no-op."""
    return isinstance(statement, cst.Expr) and _is_text(statement.value)


def _plain_annotations(node: cst.FunctionDef) -> bool:
    """Whether evaluating every annotation of ``node``'s signature does nothing: names,
    attribute reads, subscripts, strings, ``None``, ``X | Y`` (no call runs at ``def`` time)."""
    annotations = [p.annotation for p in _all_params(node.params) if p.annotation is not None]
    if node.returns is not None:
        annotations.append(node.returns)
    return all(_plain_type(a.annotation) for a in annotations)


def _plain_type(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _plain_type(node.left) and _plain_type(node.right)
    if isinstance(node, cst.Subscript):
        return _plain_type(node.value) and all(
            isinstance(e.slice, cst.Index) and e.slice.star is None and _plain_type(e.slice.value) for e in node.slice)
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(not isinstance(e, cst.StarredElement) and _plain_type(e.value) for e in node.elements)
    if isinstance(node, cst.Attribute):
        return _plain_type(node.value)
    return isinstance(node, (cst.Name, cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis, cst.Integer))


def _without_annotations(params: cst.Parameters) -> cst.Parameters:
    def bare(param: cst.Param) -> cst.Param:
        return param.with_changes(annotation=None) if param.annotation is not None else param

    star = params.star_arg
    return params.with_changes(
        posonly_params=[bare(p) for p in params.posonly_params],
        params=[bare(p) for p in params.params],
        kwonly_params=[bare(p) for p in params.kwonly_params],
        star_arg=bare(star) if isinstance(star, cst.Param) else star,
        star_kwarg=bare(params.star_kwarg) if params.star_kwarg is not None else None,
    )


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    found = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if isinstance(params.star_arg, cst.Param):
        found.append(params.star_arg)
    if params.star_kwarg is not None:
        found.append(params.star_kwarg)
    return found


def dotted_name(node: cst.BaseExpression) -> str:
    """``a.b.c`` of a chain of names and attributes; empty for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


@functools.lru_cache(maxsize=64)
def _pattern(patterns: tuple[str, ...]) -> "re.Pattern[str]":
    """One compiled regular expression for a tuple of glob patterns (the configured call
    lists are tried on every call of every analyzed function)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or "(?!)")


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    """``fnmatch.fnmatchcase(name, p)`` for some ``p`` of ``patterns``."""
    return _pattern(patterns).match(name) is not None
