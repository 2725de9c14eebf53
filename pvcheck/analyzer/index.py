"""The modules of one tree, parsed on demand, and name resolution across them.

A module is read and parsed the first time something needs it: a framework's
pre-filter matched its bytes, or a step refers to a name defined in it. Modules nobody
refers to are never parsed.
"""

from __future__ import annotations

import sys
import tokenize
from io import BytesIO
from typing import Iterable, Optional

import libcst as cst

from pvcheck.analyzer.discovery import SourceFile
from pvcheck.analyzer.module import ModuleInfo, Symbol, parse_error_diagnostic
from pvcheck.model import Diagnostic, Severity

Resolution = tuple[Symbol, tuple[str, ...]]


class ProjectIndex:
    """Every source file of a tree by module name, with lazily parsed modules."""

    def __init__(self, files: Iterable[SourceFile], max_file_size: int, diagnostics: list[Diagnostic]) -> None:
        self.files = list(files)
        self.by_module: dict[str, SourceFile] = {}
        for file in self.files:
            self.by_module.setdefault(file.module, file)
        self.max_file_size = max_file_size
        self.diagnostics = diagnostics
        self._modules: dict[str, Optional[ModuleInfo]] = {}
        self._raw: dict[str, bytes] = {}
        self.lines_parsed = 0

    # ------------------------------------------------------------------ reading
    def read(self, file: SourceFile) -> Optional[bytes]:
        """The file's bytes, or None (with a diagnostic) when it cannot be analyzed."""
        if file.path in self._raw:
            return self._raw[file.path]
        data: Optional[bytes] = None
        if file.size > self.max_file_size:
            self._diagnose(Diagnostic(
                "PV003", Severity.ERROR, f"file is {file.size} bytes, over the limit of {self.max_file_size}",
                file.path, hint="raise 'max_file_size' in the pvcheck configuration, or exclude the file"))
        else:
            try:
                data = file.absolute.read_bytes()
            except OSError as exc:
                self._diagnose(Diagnostic("PV005", Severity.ERROR, f"cannot read: {exc.strerror or exc}",
                                          file.path, hint="check that the file exists and is readable"))
            else:
                if b"\x00" in data:
                    self._diagnose(Diagnostic("PV002", Severity.ERROR, "binary file (contains NUL bytes)",
                                              file.path, hint="exclude it, or remove the .py suffix"))
                    data = None
        if data is not None:
            self._raw[file.path] = data
        return data

    def module(self, name: str) -> Optional[ModuleInfo]:
        """The parsed module ``name`` of this tree, or None (not in the tree, or unparsable)."""
        if name in self._modules:
            return self._modules[name]
        file = self.by_module.get(name)
        result = self.load(file) if file is not None else None
        self._modules[name] = result
        return result

    def load(self, file: SourceFile) -> Optional[ModuleInfo]:
        if file.module in self._modules and self.by_module.get(file.module) is file:
            return self._modules[file.module]
        data = self.read(file)
        info = parse(file, data, self._diagnose) if data is not None else None
        if info is not None:
            self.lines_parsed += info.line_count
        if self.by_module.get(file.module) is file:
            self._modules[file.module] = info
        return info

    def loaded(self) -> list[ModuleInfo]:
        return [m for m in self._modules.values() if m is not None]

    def _diagnose(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    # ------------------------------------------------------------------ resolution
    def resolve(self, qualified: str, _depth: int = 0) -> Optional[Resolution]:
        """The repo-local definition ``qualified`` names, following re-exports.

        Returns the symbol and the attribute path left over (``pkg.CONFIG.lr`` ->
        the ``CONFIG`` constant and ``("lr",)``), or None for third-party names.
        """
        if _depth > 20 or not qualified:
            return None
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            module_name = ".".join(parts[:cut])
            if module_name not in self.by_module:
                continue
            rest = tuple(parts[cut:])
            module = self.module(module_name)
            if module is None:
                return None
            if not rest:
                return Symbol(module, "", "module", None), ()
            symbol = module.symbol(rest[0])
            if symbol is None:
                star = self.resolve_star(module, rest[0], _depth + 1)
                if star is None:
                    return None
                return star[0], star[1] + rest[1:]
            if symbol.kind == "import":
                if symbol.target == qualified or symbol.target == module_name:
                    return None
                found = self.resolve(".".join((symbol.target, *rest[1:])), _depth + 1)
                return found
            return symbol, rest[1:]
        return None

    def resolve_star(self, module: ModuleInfo, name: str, _depth: int = 0) -> Optional[Resolution]:
        """``name`` as brought in by a ``from x import *`` of ``module``, if x is in the tree."""
        for key, symbols in module.symbols.items():
            if not key.startswith("*"):
                continue
            for symbol in symbols:
                found = self.resolve(f"{symbol.target}.{name}", _depth + 1)
                if found is not None:
                    return found
        return None


def parse(file: SourceFile, data: bytes, diagnose) -> Optional[ModuleInfo]:  # type: ignore[no-untyped-def]
    """Decode and parse one file; a file that cannot be becomes a diagnostic."""
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data.count(b"\n", 0, exc.start) + 1 if isinstance(exc, UnicodeDecodeError) else 1
        diagnose(Diagnostic("PV002", Severity.ERROR, f"file is not valid {encoding}", file.path, line,
                            hint="save it as UTF-8 or fix its coding declaration"))
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        tree = cst.parse_module(text)
    except Exception as exc:  # libcst raises ParserSyntaxError, and sometimes others on odd input
        diagnose(parse_error_diagnostic(file.path, exc, text))
        return None
    finally:
        sys.setrecursionlimit(limit)
    return ModuleInfo(file, tree, text)

