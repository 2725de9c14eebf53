"""The reference-by-content layer of fingerprints: what makes a moved or renamed helper,
or a literal extracted into a constant, the same computation (PV108, PV109).

The canonical form (canonical.py) names every repo-local definition it refers to by
qualified name (``r:utils.time.hour_of_day``): moving the helper to another module changes
the token although nothing computes differently. This layer re-reads those tokens
(``Canon.sites`` says where they are and how each is used) and replaces the ones whose
*name* cannot matter by *what they refer to*:

* a call of a plain function (undecorated, not reading ``__name__``/``__file__`` of its
  module) becomes a placeholder filled with the function's own content digest, computed
  the same way, recursively; recursion and mutual recursion are resolved per strongly
  connected component by colour refinement, so the result does not depend on names or on
  the order definitions are met;
* a read of a module constant whose value is an immutable literal expression (numbers,
  strings, ``True``/``False``/``None``, tuples and operators of these, and other such
  constants) is replaced by the tokens of that value, exactly as the literal would
  canonicalise in place: ``df.head(N_ROWS)`` with ``N_ROWS = 100`` is ``df.head(100)``.

Everything else keeps its name (a class, whose qualified name pickles and registries
see; a function passed around as a value, whose ``__name__`` may be read; a list or dict
constant, which is one shared mutable object), and its content is added *with* the
name. A body that assigns to a repo-local name (``mod.X = ...``, ``global X``,
``CONFIG["k"] = v``) gets no content layer at all: rebinding is where two equal values
stop being interchangeable. Dynamic code never gets one either (see context.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import libcst as cst

from pvcheck.analyzer.canonical import Canon
from pvcheck.analyzer.module import Symbol

#: Placeholder token for a call of a function whose content fills it in.
CALL = "\u00a7call"
#: Leaf tokens a constant's value may hold and still be inlined: ``b:`` builtins are
#: limited to these three, anything external (``x:``), local or unresolved is refused.
_CONSTANT_BUILTINS = frozenset({"b:True", "b:False", "b:None"})
_REFUSED_PREFIXES = ("x:", "g:", "?", "u:", "m:", "o:", "p:", "$", "c:", "r:", "b:")


@dataclass(frozen=True)
class Skeleton:
    """A canonical token stream with its references by content, before the contents of
    the functions it calls are known: ``digest`` covers the tokens (constants inlined, a
    placeholder per call), ``calls`` the called functions in order."""

    digest: str
    calls: tuple[str, ...]
    named: frozenset[str]  # definitions still referred to by name
    stores: bool  # assigns to, deletes or declares global a repo-local name


def skeleton(canon: Canon, references: dict[str, Symbol], own: Optional[Symbol],
             inline: Callable[[Symbol], Optional[tuple[str, ...]]],
             tokens_digest: Callable[[list[str]], str], plain: str) -> Skeleton:
    """``canon``'s tokens by content. ``own``: the definition the tokens are of (its own
    target in a constant, its recursion in a function); ``inline``: a constant's value
    tokens, or None when it cannot be inlined; ``plain``: the digest of ``canon``'s
    tokens as they are (the skeleton's, when nothing is replaced)."""
    tokens = canon.tokens
    out: list[str] = []
    calls: list[str] = []
    named: set[str] = set()
    substituted: set[str] = set()
    stores = canon.rebinds
    start = 0
    own_name = own.qualified_name if own is not None else ""
    for index, qualified, rest, how in canon.sites:
        symbol = own if qualified == own_name else references.get(qualified)
        if how == "store":
            if not (symbol is own and symbol is not None and symbol.kind == "constant"):
                stores = True  # (a constant's own assignment is no rebinding)
            named.add(qualified)
            continue
        if symbol is None:
            named.add(qualified)
            continue
        replacement: Optional[list[str]] = None
        if how == "call" and not rest and symbol.kind == "function":
            replacement = [CALL]
            calls.append(qualified)
        elif how == "load" and symbol.kind == "constant" and symbol is not own:
            value = inline(symbol)
            if value is not None:
                replacement = [*value, *("." + part for part in rest)]
        if replacement is None:
            named.add(qualified)
            continue
        substituted.add(qualified)
        out.extend(tokens[start:index])
        out.extend(replacement)
        start = index + 1
    named.update(name for name in references if name not in substituted)
    named.discard(own_name)
    if not substituted:
        return Skeleton(plain, (), frozenset(named), stores)
    out.extend(tokens[start:])
    return Skeleton(tokens_digest(out), tuple(calls), frozenset(named), stores)


def literal_value_node(symbol: Symbol, top: Callable[[], frozenset[int]]) -> Optional[cst.BaseExpression]:
    """The value of a module constant that may be inlined: bound once, at the top level of
    its module, by ``X = value`` or ``X: T = value``, with an immutable literal expression.
    ``top``: :func:`top_level` of the constant's module (computed once per module)."""
    module = symbol.module
    bound = module.symbols.get(symbol.name, [])
    if len(bound) != 1 or bound[0].kind != "constant":
        return None
    node = bound[0].node
    if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        target: cst.BaseExpression = node.targets[0].target
        value: Optional[cst.BaseExpression] = node.value
    elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    if value is None or not _immutable(value):
        return None
    scope = module.scope(target)
    try:
        assignments = scope[symbol.name] if scope is not None else ()
    except Exception:  # libcst raises on a few odd constructs
        return None
    if len(assignments) != 1:
        return None  # rebound somewhere (`global X` in a function, a loop, an import)
    if id(node) not in top():
        return None  # inside an `if` or `try`: maybe bound, maybe not
    return value


def top_level(tree: cst.Module) -> frozenset[int]:
    """ids of the small statements directly in a module's body (``literal_value_node``)."""
    return frozenset(id(small) for line in tree.body if isinstance(line, cst.SimpleStatementLine)
                     for small in line.body)


def _immutable(node: cst.BaseExpression) -> bool:
    """Literals, names and attribute chains (checked later: they must be inlinable
    constants or True/False/None), operators and tuples of these."""
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Name)):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _immutable(node.left) and _immutable(node.right)
    if isinstance(node, cst.Attribute):
        return _immutable(node.value)
    if isinstance(node, cst.UnaryOperation):
        return _immutable(node.expression)
    if isinstance(node, cst.BinaryOperation):
        return _immutable(node.left) and _immutable(node.right)
    if isinstance(node, cst.Tuple):
        return all(isinstance(e, cst.Element) and _immutable(e.value) for e in node.elements)
    return False


def value_tokens(canon: Canon, references: dict[str, Symbol],
                 inline: Callable[[Symbol], Optional[tuple[str, ...]]]) -> Optional[tuple[str, ...]]:
    """The canonical tokens of a constant's value with the constants it reads inlined in
    turn; None when any leaf is not a literal, True/False/None or an inlinable constant."""
    out: list[str] = []
    start = 0
    tokens = canon.tokens
    for index, qualified, rest, how in canon.sites:
        symbol = references.get(qualified)
        if symbol is None or how != "load" or symbol.kind != "constant":
            return None
        value = inline(symbol)
        if value is None:
            return None
        out.extend(tokens[start:index])
        out.extend(value)
        out.extend("." + part for part in rest)
        start = index + 1
    out.extend(tokens[start:])
    sites = {index for index, _, _, _ in canon.sites}
    for index, token in enumerate(tokens):
        if index in sites:
            continue
        if " | " in token or (token.startswith(_REFUSED_PREFIXES) and token not in _CONSTANT_BUILTINS):
            return None
    return tuple(out)


@dataclass(frozen=True)
class Node:
    """One definition of a reach as the content layer sees it."""

    skeleton: Skeleton
    movable: bool  # a call of it may be by content (a plain function)
    value: Optional[tuple[str, ...]]  # an inlinable constant's value tokens


def contents(nodes: dict[str, Node], digest: Callable[..., str], memo: dict[str, str]) -> Callable[[str], str]:
    """A function giving each definition's content digest: its skeleton with every
    placeholder filled by the callee's content (by name too for a callee that is not
    movable). ``memo`` keeps results across reaches (a definition's content depends only
    on what it reaches, which is the same in every reach of one tree)."""

    def token(name: str, colour: str) -> str:
        return ("f:" if nodes[name].movable else f"r:{name}@") + colour

    def compute(root: str) -> None:
        # Tarjan's algorithm, iterative: components come out callees first
        counter = 0
        number: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            name, edge = work.pop()
            if edge == 0:
                number[name] = low[name] = counter
                counter += 1
                stack.append(name)
                on_stack.add(name)
            callees = [c for c in nodes[name].skeleton.calls if c in nodes]
            if edge < len(callees):
                work.append((name, edge + 1))
                callee = callees[edge]
                if callee in memo:
                    continue
                if callee not in number:
                    work.append((callee, 0))
                elif callee in on_stack:
                    low[name] = min(low[name], number[callee])
                continue
            for callee in callees:
                if callee in on_stack and callee in low:
                    low[name] = min(low[name], low[callee])
            if low[name] == number[name]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == name:
                        break
                _component(component)

    def _component(component: list[str]) -> None:
        members = set(component)
        cyclic = len(component) > 1 or component[0] in nodes[component[0]].skeleton.calls
        if not cyclic:
            name = component[0]
            memo[name] = _own(name, lambda callee: token(callee, memo[callee]))
            return
        # colour refinement: a member's colour after k rounds is its unfolding k calls
        # deep; 2n rounds settle the colours of two n-member systems compared with each
        # other, so equal final colours mean bisimilar systems, the same computation
        colours = {name: _own(name, lambda callee: "\u00a7scc" if callee in members
                              else token(callee, memo[callee])) for name in component}
        for _ in range(2 * len(component)):
            colours = {name: digest("refine", colours[name], *(
                token(callee, colours[callee]) if callee in members else token(callee, memo[callee])
                for callee in nodes[name].skeleton.calls if callee in nodes)) for name in component}
        for name in component:
            memo[name] = digest("scc", str(len(component)), colours[name])

    def _own(name: str, fill: Callable[[str], str]) -> str:
        node = nodes[name]
        if node.value is not None:
            return digest("value", *node.value)
        return digest("content", node.skeleton.digest,
                      *(fill(callee) if callee in nodes else "?" + callee for callee in node.skeleton.calls))

    def content(name: str) -> str:
        if name not in memo:
            compute(name)
        return memo[name]

    return content


def filled(sk: Skeleton, nodes: dict[str, Node], content: Callable[[str], str], digest: Callable[..., str]) -> str:
    """A body's skeleton with its placeholders filled (the body itself is no definition)."""
    return digest("content", sk.digest, *(
        (("f:" if nodes[c].movable else f"r:{c}@") + content(c)) if c in nodes else "?" + c for c in sk.calls))
