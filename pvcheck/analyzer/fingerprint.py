"""Hashing canonical forms into ``fp1:`` fingerprints, and the helper closure of a step.

A step's body fingerprint covers its own canonical body and, for every repo-local
definition it reaches (directly or through other helpers, across modules), that
definition's qualified name and own fingerprint. Computing the *set* of reachable
definitions first and hashing it sorted makes the result independent of traversal order
and safe with cycles.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from pvcheck.analyzer.canonical import Canon, Canonicalizer
from pvcheck.analyzer.index import ProjectIndex
from pvcheck.analyzer.module import Symbol
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


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two sketches (1.0 for two empty bodies)."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


@dataclass(frozen=True)
class DefinitionPrint:
    """A repo-local definition's own fingerprint and the definitions it refers to."""

    symbol: Symbol
    fingerprint: str
    references: tuple[Symbol, ...]
    dynamic: tuple[tuple[int, str], ...]
    unresolved: tuple[tuple[int, str], ...]
    line: int


class Fingerprinter:
    """Fingerprints definitions of one tree (each definition's own form memoised by the index)."""

    def __init__(self, index: ProjectIndex, cosmetic_calls: Iterable[str],
                 pure_calls: Iterable[str] = DEFAULT_PURE_CALLS) -> None:
        self.index = index
        self.cosmetic_calls = tuple(cosmetic_calls)
        self.pure_calls = tuple(pure_calls)
        self._canonicalizers: dict[str, Canonicalizer] = {}

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
        if symbol.kind == "constant":
            nodes = [s.node for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
        else:
            nodes = [symbol.node]
        tokens: list[str] = [symbol.kind]
        references: dict[str, Symbol] = {}
        dynamic: list[tuple[int, str]] = []
        unresolved: list[tuple[int, str]] = []
        for node in nodes:
            canon = canonicalizer.definition(node)
            tokens.extend(canon.tokens)
            references.update(canon.references)
            dynamic.extend(canon.dynamic)
            unresolved.extend(canon.unresolved)
        references.pop(key, None)
        line = symbol.module.line(nodes[0]) if nodes and nodes[0] is not None else 0
        result = DefinitionPrint(symbol, tokens_digest(tokens), tuple(references.values()), tuple(dynamic),
                                 tuple(unresolved), line)
        return result

    def closure(self, references: Iterable[Symbol]) -> list[DefinitionPrint]:
        """Every definition reachable from ``references``, sorted by qualified name."""
        seen: dict[str, DefinitionPrint] = {}
        stack = list(references)
        while stack:
            symbol = stack.pop()
            if symbol.qualified_name in seen:
                continue
            printed = self.definition(symbol)
            seen[symbol.qualified_name] = printed
            stack.extend(printed.references)
        return [seen[k] for k in sorted(seen)]

    def body(self, canon: Canon) -> tuple[str, list[HelperRef], list[DefinitionPrint]]:
        """A body's fingerprint including its helpers, and the helpers themselves."""
        helpers = self.closure(canon.references.values())
        parts = ["body", tokens_digest(canon.tokens)]
        parts.extend(f"{h.symbol.qualified_name}={h.fingerprint}" for h in helpers)
        refs = [
            HelperRef(h.symbol.qualified_name, h.symbol.kind, h.symbol.module.path, h.line, h.fingerprint)
            for h in helpers
        ]
        return digest(*parts), refs, helpers


def statement_prints(canon: Canon) -> list[tuple[int, str]]:
    """(line, fingerprint) of each top-level statement of a canonical body."""
    return [(line, tokens_digest(canon.tokens[start:end])) for line, start, end in canon.statements]

