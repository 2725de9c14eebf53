"""Hashing canonical forms into ``fp1:`` fingerprints, and the helper closure of a step.

A step's body fingerprint covers its own canonical body and, for every repo-local
definition it reaches (directly or through other helpers, across modules), that
definition's qualified name and own fingerprint. Computing the *set* of reachable
definitions first and hashing it sorted makes the result independent of traversal order
and safe with cycles.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any, Iterable, Optional

import libcst as cst

from pvcheck.analyzer import content as by_content
from pvcheck.analyzer.canonical import Canon, Canonicalizer
from pvcheck.analyzer.index import ProjectIndex
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.analyzer.reach import EFFECTS, FILE, FILE_PREFIX, FileRead, file_reads, module_effects, resolve_read
from pvcheck.config import DEFAULT_PURE_CALLS
from pvcheck.model import FINGERPRINT_SCHEME, HelperRef

SKETCH_SIZE = 64
_SHINGLE = 3


def digest(*parts: str) -> str:
    """``fp1:`` and 32 hex digits of SHA-256 over the parts."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return f"{FINGERPRINT_SCHEME}:{hasher.hexdigest()[:32]}"


def tokens_digest(tokens: Iterable[str]) -> str:
    return digest("\x1f".join(tokens))


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the stable text of a config value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def sketch(tokens: list[str]) -> tuple[int, ...]:
    """Bottom-k hashes of token shingles, for estimating how alike two bodies are."""
    join, blake2b = "\x1f".join, hashlib.blake2b
    texts = {join(tokens[start : start + _SHINGLE]) for start in range(max(1, len(tokens) - _SHINGLE + 1))}
    shingles = {int.from_bytes(blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big") >> 4
                for text in texts}
    return tuple(sorted(shingles)[:SKETCH_SIZE])


def similarity(a: tuple[int, ...], b: tuple[int, ...], floor: float = 0.0) -> float:
    """Estimated Jaccard similarity of two sketches (1.0 for two empty bodies); 0.0 when
    it is certainly under ``floor`` (what a caller that only takes scores from ``floor``
    up needs, without sorting the union)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    members = _members(a)
    both = members.intersection(b)
    # the union's first SKETCH_SIZE hold at least max(len(a), len(b)) values, of which at
    # most len(both) are shared: the score cannot exceed that share
    if not both or len(both) / max(len(a), len(b)) < floor:
        return 0.0
    union = sorted(members.union(b))[:SKETCH_SIZE]
    return sum(1 for h in union if h in both) / len(union)


@functools.lru_cache(maxsize=8192)
def _members(sketch: tuple[int, ...]) -> frozenset[int]:
    """A sketch as a set, made once: pairing n pipelines compares each step's sketch
    with every step of the other side."""
    return frozenset(sketch)


@dataclass(frozen=True)
class DefinitionPrint:
    """A repo-local definition's own fingerprint and the definitions it refers to."""

    symbol: Symbol
    fingerprint: str
    references: tuple[Symbol, ...]
    dynamic: tuple[tuple[int, str], ...]
    unresolved: tuple[tuple[int, str], ...]
    line: int
    reads: tuple[FileRead, ...] = ()  # files its code reads (path None: not computable)
    # the reference-by-content layer (content.py): the tokens by content, whether a call
    # of it may be by content, and an inlinable constant's value tokens
    skeleton: Optional[by_content.Skeleton] = None
    movable: bool = False
    value: Optional[tuple[str, ...]] = None


@dataclass(frozen=True)
class Reach:
    """Everything a body reaches: definitions and module-level effects (sorted by name),
    the repository files read by a computable path, and the reads whose path is not."""

    definitions: list[DefinitionPrint]
    files: list[HelperRef]
    unknown_reads: list[tuple[ModuleInfo, FileRead, str]]  # (where, the read, the code reading it)
    outside_reads: list[tuple[ModuleInfo, FileRead, str]]
    content: str = ""  # the body with this reach by content (``Fingerprinter.content``); set by ``body``


class Fingerprinter:
    """Fingerprints definitions of one tree (each definition's own form memoised by the index)."""

    def __init__(self, index: ProjectIndex, cosmetic_calls: Iterable[str],
                 pure_calls: Iterable[str] = DEFAULT_PURE_CALLS) -> None:
        self.index = index
        self.cosmetic_calls = tuple(cosmetic_calls)
        self.pure_calls = tuple(pure_calls)
        self._canonicalizers: dict[str, Canonicalizer] = {}
        self._contents: dict[str, str] = {}  # qualified name -> content digest (content.py)
        self._inlining: set[str] = set()
        self._top: dict[str, tuple[cst.Module, frozenset[int]]] = {}  # module -> (its tree, top-level ids)

    def canonicalizer(self, module) -> Canonicalizer:  # type: ignore[no-untyped-def]
        found = self._canonicalizers.get(module.name)
        if found is None:
            found = Canonicalizer(module, self.index, self.cosmetic_calls, self.pure_calls)
            self._canonicalizers[module.name] = found
        return found

    def definition(self, symbol: Symbol) -> DefinitionPrint:
        """The own fingerprint of a function, class or module constant (all its assignments),
        computed once per index (a shared helper is reached from many units)."""
        return self.index.remember(("definition", self.cosmetic_calls, self.pure_calls, symbol.qualified_name),
                                   lambda: self._definition(symbol))

    def _definition(self, symbol: Symbol) -> DefinitionPrint:
        key = symbol.qualified_name
        canonicalizer = self.canonicalizer(symbol.module)
        nodes: list[Any]
        alternatives: list[Symbol] = []
        if symbol.kind == "constant":
            nodes = [s.node for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
        else:
            nodes = [symbol.node]
            nodes.extend(self._alternatives(symbol, alternatives))
        whole = Canon(tokens=[symbol.kind])
        reads: list[FileRead] = []
        for node in nodes:
            canon = canonicalizer.definition(node)
            if node is not None:
                reads.extend(file_reads(node, symbol.module, self.index, canon.references.values()))
            offset = len(whole.tokens)
            whole.sites.extend((index + offset, name, rest, how) for index, name, rest, how in canon.sites)
            whole.tokens.extend(canon.tokens)
            whole.references.update(canon.references)
            whole.dynamic.extend(canon.dynamic)
            whole.unresolved.extend(canon.unresolved)
            whole.rebinds = whole.rebinds or canon.rebinds
            whole.located = whole.located or canon.located
        references = whole.references
        for alternative in alternatives:
            references.setdefault(alternative.qualified_name, alternative)
        references.pop(key, None)
        line = symbol.module.line(nodes[0]) if nodes and nodes[0] is not None else 0
        node = nodes[0] if len(nodes) == 1 else None
        movable = symbol.kind == "function" and isinstance(node, cst.FunctionDef) and not node.decorators \
            and not whole.located
        own = tokens_digest(whole.tokens)
        return DefinitionPrint(symbol, own, tuple(references.values()),
                               tuple(whole.dynamic), tuple(whole.unresolved), line,
                               tuple(sorted(reads, key=_read_order)),
                               self._skeleton(whole, own, symbol), movable,
                               self.inline(symbol) if symbol.kind == "constant" else None)

    def _alternatives(self, symbol: Symbol, imported: list[Symbol]) -> list[Any]:
        """The other bindings of a function's or class's name in its module that may be the
        one that runs: a definition under ``if``/``else`` or ``try``/``except`` has a twin, and
        which one is decided at import time, so both are the definition. Their nodes are returned; what an
        alternative import names (``except ImportError: from slow import scale``) is added
        to ``imported`` when it is repo code."""
        nodes: list[Any] = []
        bindings = symbol.module.symbols.get(symbol.name, [])
        # the ones that may be left bound once the module has run: the last unconditional
        # binding and all after it (an unconditional redefinition makes the earlier dead)
        last = max((number for number, binding in enumerate(bindings) if not binding.conditional), default=0)
        for other in bindings[last:]:
            if other is symbol or (other.node is not None and other.node is symbol.node):
                continue
            if other.kind == "import":
                found = self.index.resolve(symbol.module.import_target(other))
                if found is not None and found[0].kind != "module":
                    imported.append(found[0])
            elif other.node is not None and not any(node is other.node for node in nodes):
                nodes.append(other.node)
        return nodes

    # ------------------------------------------------------------------ by content
    def _skeleton(self, canon: Canon, plain: str, own: Optional[Symbol] = None) -> by_content.Skeleton:
        return by_content.skeleton(canon, canon.references, own, self.inline, tokens_digest, plain)

    def inline(self, symbol: Symbol) -> Optional[tuple[str, ...]]:
        """The canonical tokens of a module constant's value, to stand where the constant is
        read; None when it is not an immutable literal bound once (content.py)."""
        return self.index.remember(("inline", self.cosmetic_calls, self.pure_calls, symbol.qualified_name),
                                   lambda: self._inline(symbol))

    def _inline(self, symbol: Symbol) -> Optional[tuple[str, ...]]:
        if symbol.qualified_name in self._inlining:
            return None  # constants defined by each other (an import cycle)
        value = by_content.literal_value_node(symbol, lambda: self._top_level(symbol.module))
        if value is None:
            return None
        self._inlining.add(symbol.qualified_name)
        try:
            canon = self.canonicalizer(symbol.module).expression(value)
            return by_content.value_tokens(canon, canon.references, self.inline)
        finally:
            self._inlining.discard(symbol.qualified_name)

    def _top_level(self, module: ModuleInfo) -> frozenset[int]:
        # by module, checked against the very tree (ids of another tree mean nothing)
        found = self._top.get(module.name)
        if found is None or found[0] is not module.tree:
            found = self._top[module.name] = (module.tree, by_content.top_level(module.tree))
        return found[1]

    def content(self, canon: Canon, reach: Reach, plain: str) -> tuple[str, dict[str, str]]:
        """The fingerprint of a body with repo-local references by content (a move or a
        consistent rename leaves it equal), and each reached definition's own content
        digest (to name what moved). ("", {}) where that layer does not apply: something
        in the reach assigns to a repo-local name, or cannot be followed."""
        body = self._skeleton(canon, plain)
        definitions = reach.definitions
        if body.stores or canon.dynamic or canon.unresolved or any(
                d.skeleton is None or d.skeleton.stores or d.dynamic or d.unresolved for d in definitions):
            return "", {}  # rebinding, or code pvcheck cannot follow: names and raw text decide
        nodes = {d.symbol.qualified_name: by_content.Node(d.skeleton, d.movable, d.value)  # type: ignore[arg-type]
                 for d in definitions}
        of = by_content.contents(nodes, digest, self._contents)
        named = set(body.named)
        for printed in definitions:
            named.update(printed.skeleton.named)  # type: ignore[union-attr]
        entries = []
        own: dict[str, str] = {}
        for printed in definitions:
            name = printed.symbol.qualified_name
            own[name] = of(name)
            if printed.symbol.kind == EFFECTS:
                entries.append("e:" + own[name])  # wherever it is, what it does
            elif name in named:
                entries.append(f"n:{name}={own[name]}")
        # a definition reached only through calls by content and inlined reads is in the
        # tokens already; one referred to by name (a class, say) is here, with its name
        return digest("content", by_content.filled(body, nodes, of, digest), *sorted(entries),
                      *sorted(f.fingerprint for f in reach.files)), own

    def effects(self, module: ModuleInfo) -> list[DefinitionPrint]:
        """Each module-level statement of ``module`` with an effect, as a pseudo-definition
        named ``module.<effects>#NNN`` (numbered in source order), computed once per index."""
        return self.index.remember(("effects", self.cosmetic_calls, module.name), lambda: self._effects(module))

    def _effects(self, module: ModuleInfo) -> list[DefinitionPrint]:
        found = []
        for number, (line, node, canon) in enumerate(module_effects(module, self.canonicalizer(module))):
            symbol = Symbol(module, f"<effects>#{number:03d}", EFFECTS, None)
            own = tokens_digest([EFFECTS, *canon.tokens])
            found.append(DefinitionPrint(symbol, own,
                                         tuple(canon.references.values()), tuple(canon.dynamic),
                                         tuple(canon.unresolved), line,
                                         tuple(sorted(file_reads(node, module, self.index,
                                                                 canon.references.values()), key=_read_order)),
                                         self._skeleton(canon, own)))
        return found

    def packages(self, module: ModuleInfo) -> tuple[str, ...]:
        """The repo packages ``module`` is in, outermost first: importing it runs their
        ``__init__`` first, so their module-level effects are part of any reach that holds
        it (``random.seed(0)`` in ``utils/__init__.py``). What a module's imports load is
        not followed: the SPEC makes an unused import added or removed a run."""
        parts = module.name.split(".")
        return tuple(package for package in (".".join(parts[:cut]) for cut in range(1, len(parts)))
                     if self.index.has_module(package))

    def file(self, path: str) -> HelperRef:
        """A repository file read by the code in a reach, by the state of its bytes."""
        state = self.index.data_file_state(path)
        # the bytes only (the state is "path:hash"): a path from the scanned root changes
        # with the folder scanned, and fingerprints must not depend on where the tree is
        return HelperRef(FILE_PREFIX + path, FILE, path, 1, digest(FILE, state.rpartition(":")[2]))

    def closure(self, references: Iterable[Symbol]) -> list[DefinitionPrint]:
        """Every definition (and module-level effect) reachable from ``references``,
        sorted by qualified name."""
        return self.reach(references).definitions

    def reach(self, references: Iterable[Symbol], modules: Iterable[ModuleInfo] = (),
              reads: Iterable[tuple[ModuleInfo, FileRead, str]] = ()) -> Reach:
        """Everything reachable from ``references`` and the modules the body itself lives
        in: definitions, the effects of every module one of them is in (which may reach
        further definitions), and the files all of that reads."""
        seen: dict[str, DefinitionPrint] = {}
        modules_seen: set[str] = set()
        all_reads: list[tuple[ModuleInfo, FileRead, str]] = list(reads)
        stack = list(references)
        pending = list(modules)
        while stack or pending:
            while stack:
                symbol = stack.pop()
                if symbol.qualified_name in seen:
                    continue
                printed = self.definition(symbol)
                seen[symbol.qualified_name] = printed
                stack.extend(printed.references)
                all_reads.extend((symbol.module, read, f"'{symbol.qualified_name}'") for read in printed.reads)
                pending.append(symbol.module)
            while pending:
                module = pending.pop()
                if module.name in modules_seen:
                    continue
                modules_seen.add(module.name)
                for effect in self.effects(module):
                    seen[effect.symbol.qualified_name] = effect
                    stack.extend(effect.references)
                    all_reads.extend((module, read, f"module-level code of {module.name}") for read in effect.reads)
                for name in self.packages(module):
                    loaded = self.index.module(name)
                    if loaded is not None:
                        pending.append(loaded)
        files: dict[str, HelperRef] = {}
        unknown: list[tuple[ModuleInfo, FileRead, str]] = []
        outside: list[tuple[ModuleInfo, FileRead, str]] = []
        for module, read, owner in all_reads:
            if read.path is None:
                unknown.append((module, read, owner))
                continue
            path = resolve_read(read.path)
            if path is None:
                outside.append((module, read, owner))
            elif path not in files:
                files[path] = self.file(path)
        return Reach([seen[k] for k in sorted(seen)], [files[k] for k in sorted(files)], unknown, outside)

    def body(self, canon: Canon, module: Optional[ModuleInfo] = None, reads: Iterable[FileRead] = (),
             owner: str = "") -> tuple[str, list[HelperRef], Reach]:
        """A body's fingerprint including its reach, the reach as helper references (what
        the policies compare), and the reach itself. ``module``: where the body is (its
        module-level effects count); ``reads``: files the body itself reads; ``owner``: the
        body's name in diagnostics."""
        reach = self.reach(canon.references.values(), [module] if module is not None else [],
                           [(module, read, owner) for read in reads] if module is not None else [])
        helpers = reach.definitions
        plain = tokens_digest(canon.tokens)
        parts = ["body", plain]
        parts.extend(f"{h.symbol.qualified_name}={h.fingerprint}" for h in helpers)
        parts.extend(sorted(f.fingerprint for f in reach.files))  # by content: names are paths from the root
        content, own = self.content(canon, reach, plain)
        reach = replace(reach, content=content)
        refs = [
            HelperRef(h.symbol.qualified_name, h.symbol.kind, h.symbol.module.path, h.line, h.fingerprint,
                      own.get(h.symbol.qualified_name, ""))
            for h in helpers
        ]
        refs.extend(reach.files)
        return digest(*parts), refs, reach


def _read_order(read: FileRead) -> tuple[int, str, str]:
    return (read.line, read.path or "", read.call)


def statement_prints(canon: Canon) -> list[tuple[int, str]]:
    """(line, fingerprint) of each top-level statement of a canonical body."""
    return [(line, tokens_digest(canon.tokens[start:end])) for line, start, end in canon.statements]

