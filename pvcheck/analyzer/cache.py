"""The on-disk analysis cache: one entry per source file, holding its units of work.

A *unit* is one framework's pass over one file (its configuration attachments, or its
pipelines). A unit is found by a key over everything its result can depend on that is
known before running it -- the file's path, module name and content hash, the
framework, the configuration (:meth:`Config.cache_key` and the source roots), the
pvcheck version and a digest of the analyzer's own source, the Python and libcst
versions -- and holds up to :data:`MAX_VARIANTS` results, each with the dependencies it
recorded while it ran (other modules by content hash, names that were *not* in the
tree, run config files, configuration attached from elsewhere). A variant is reused
only when every one of its dependencies is unchanged; keeping a few variants lets two
revisions that share a file (a diff, a rebase) both hit.

Where: ``$PVCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/pvcheck``, else
``~/.cache/pvcheck``. The entries are rows of one SQLite database, ``units.sqlite``
(Python's own ``sqlite3``): each entry is read, merged and written in one transaction,
so readers never see half an entry and two pvcheck processes can write at once (SQLite
locks; the second waits). A file per entry cost more than the analysis it saved on
large trees: creating a file costs the kernel about half a millisecond, a row a few
microseconds. An entry that cannot be read, parsed or decoded is treated as missing and
rewritten; a database file that is not one is replaced. Whole-scan snapshots and the
framework manifest are a few JSON files, written to a temporary file and renamed into
place. Everything is JSON decoded by :mod:`pvcheck.analyzer.serialize` -- never pickle
-- so a shared cache folder cannot make pvcheck run code.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from pvcheck.analyzer.serialize import EncodingError, decode, dumps, encode, loads
from pvcheck.config import Config

if TYPE_CHECKING:
    from pvcheck.analyzer.sources import TreeState

#: Bump when the layout of entries changes.
CACHE_FORMAT = 1
MAX_VARIANTS = 4
#: Unit entries nobody has read or written for this many days are deleted.
MAX_UNUSED_DAYS = 30
MAX_SCANS = 16
#: The entry point group frameworks register under (pvcheck.analyzer.frameworks.base; not
#: imported here, because that imports libcst and a fully cached scan never needs it).
FRAMEWORK_GROUP = "pvcheck.frameworks"
_PACKAGE = Path(__file__).resolve().parent.parent  # the pvcheck package folder
#: The sources whose behaviour decides what the analyzer produces.
_ANALYZER_SOURCES = ("analyzer", "model.py", "config.py", "errors.py", "diagnostics.py")  # and pvcheck.__version__

Variant = dict[str, Any]

#: Entries read in this process: (folder, key) -> decoded variants. A diff scans two
#: revisions that share most files, so the second scan finds most entries here. Results
#: are frozen dataclasses, safe to share; the dependencies are checked on every look-up.
_MEMORY: dict[tuple[str, str], list[Variant]] = {}
_MEMORY_SIZE = 50_000


def default_directory() -> Path:
    """``$PVCHECK_CACHE_DIR``, else the user cache folder's ``pvcheck``."""
    explicit = os.environ.get("PVCHECK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pvcheck"


_code_digest: Optional[str] = None


def code_digest() -> str:
    """A digest of pvcheck's analyzer source, so an upgrade (or an edit) never reuses stale results."""
    global _code_digest
    if _code_digest is None:
        hasher = hashlib.blake2b(digest_size=16)
        paths: list[Path] = []
        for name in _ANALYZER_SOURCES:
            target = _PACKAGE / name
            if target.is_dir():
                paths.extend(sorted(target.rglob("*.py")))
            elif target.is_file():
                paths.append(target)
        for path in paths:
            hasher.update(path.relative_to(_PACKAGE).as_posix().encode("utf-8", "surrogateescape") + b"\0")
            try:
                hasher.update(path.read_bytes())
            except OSError:
                hasher.update(b"<unreadable>")
        try:
            from importlib.metadata import version

            libcst_version = version("libcst")
        except Exception:
            libcst_version = "?"
        from pvcheck import __version__

        hasher.update(f"\0{__version__}\0{sys.version_info[:2]}\0libcst {libcst_version}".encode())
        _code_digest = hasher.hexdigest()
    return _code_digest


def framework_plugins() -> list[tuple[str, str, str]]:
    """(name, "module:Class", distribution version) of every registered framework plug-in."""
    found: list[tuple[str, str, str]] = []
    try:
        from importlib import metadata

        for entry in metadata.entry_points(group=FRAMEWORK_GROUP):
            dist = getattr(entry, "dist", None)
            version = f"{dist.metadata['Name']} {dist.version}" if dist is not None else ""
            found.append((entry.name, entry.value, version))
    except Exception:  # broken installation metadata must not stop a scan
        pass
    return sorted(found)


def plugin_digest(plugins: Optional[Sequence[tuple[str, str, str]]] = None) -> str:
    """A digest of the source of every framework plug-in registered from outside pvcheck
    (its module and, in a package, the package's other modules), so that editing a
    plug-in -- installed in development mode, or a module on the path -- never serves
    graphs its old code made. The source is located without importing the plug-in: a
    scan served from the cache does not import it. Only file names and contents count,
    not where the plug-in is installed."""
    hasher = hashlib.blake2b(digest_size=16)
    for name, spec, _ in sorted(framework_plugins() if plugins is None else plugins):
        module = spec.partition(":")[0]
        if module == "pvcheck" or module.startswith("pvcheck."):
            continue  # in code_digest() already
        hasher.update(f"{name}\0{spec}\0".encode("utf-8", "surrogateescape"))
        for path in _plugin_sources(module):
            hasher.update(path.name.encode("utf-8", "surrogateescape") + b"\0")
            try:
                hasher.update(path.read_bytes())
            except OSError:
                hasher.update(b"<unreadable>")
    return hasher.hexdigest()


def _plugin_sources(module: str) -> list[Path]:
    """The module's source file and, when it is part of a package, its package's other modules."""
    origin = _module_origin(module)
    if origin is None:
        return []
    if not (origin.parent / "__init__.py").is_file():
        return [origin]  # a top-level module: its folder is site-packages, not a package
    return sorted(origin.parent.glob("*.py"))


def _module_origin(module: str) -> Optional[Path]:
    """Where ``module``'s source is, found through the path finder (imports nothing);
    a module already imported, or found only by another finder, by what it reports."""
    loaded = sys.modules.get(module)
    origin = getattr(loaded, "__file__", None) if loaded is not None else None
    if origin is None:
        from importlib.machinery import PathFinder

        search: Optional[Sequence[str]] = None
        parts = module.split(".")
        for count in range(1, len(parts) + 1):
            spec = PathFinder.find_spec(".".join(parts[:count]), search)
            if spec is None:
                break
            search = spec.submodule_search_locations
            if count == len(parts):
                origin = spec.origin
            elif search is None:
                break
    if origin is None:
        try:  # an editable install's own finder: may import the plug-in's parent packages
            import importlib.util

            found = importlib.util.find_spec(module)
            origin = found.origin if found is not None else None
        except (ImportError, ValueError):
            origin = None
    path = Path(origin) if origin else None
    return path if path is not None and path.is_file() else None


class AnalysisCache:
    """Unit results under one cache folder, for one analyzer build and configuration."""

    #: Whether a pipelines unit's result may be stored as the objects themselves
    #: (``records.object_variant``) rather than encoded: only a cache that never leaves
    #: this process.
    holds_objects = False

    def __init__(self, directory: Path, config: Config) -> None:
        self.directory = directory
        # which contents hold which census markers (``TreeState``), for the trees of the
        # scans this cache serves in this process; None: found again by each tree
        self.markers: Optional[dict[tuple[bytes, str], bool]] = None
        # the tree of the last scan this cache served in this process, when its variants
        # are the objects checked at every scan (``TreeState.records_hold``)
        self.last_tree: Optional[TreeState] = None
        # read once per cache: scanning the installed distributions' entry points costs ~20 ms
        self._plugins = framework_plugins()
        self._settings = [CACHE_FORMAT, code_digest(), plugin_digest(self._plugins), config.cache_key()]
        self._prefix = json.dumps([*self._settings, list(config.roots), []])
        self.hits = 0  # units reused
        self.misses = 0  # units run
        self.writes = 0  # entries written (unit entries and whole-scan snapshots)
        self.scan_hits = 0  # whole scans reused
        self._rejected: set[str] = set()
        self._staged: dict[str, dict[str, Variant]] = {}  # file key -> unit -> variant not written yet
        self._database: Optional[_UnitDatabase] = None

    def use_layout(self, roots: Sequence[str], orphans: Mapping[str, str]) -> None:
        """Key entries by the source roots a scan really used (detected ones when the
        configuration names none) and by the packages no root holds (which the index
        follows by their folder's name): the same file under another layout names other
        modules, and a package turning up in an undeclared folder changes what a name
        that looked third-party refers to."""
        self._prefix = json.dumps([*self._settings, list(roots), sorted(orphans.items())])

    @classmethod
    def open(cls, config: Config, directory: Optional[Path] = None) -> "AnalysisCache":
        return cls(directory if directory is not None else default_directory(), config)

    # ------------------------------------------------------------------ keys
    def unit_key(self, kind: str, framework: str, framework_spec: str, path: str, module: str,
                 file_hash: str) -> str:
        """``<file key>/<unit>``: the units of one source file share one entry."""
        text = json.dumps([self._prefix, path, module, file_hash])
        file_key = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
        return f"{file_key}/{kind}:{framework}:{framework_spec}"

    def _units(self) -> "_UnitDatabase":
        if self._database is None:
            self._database = _UnitDatabase(self.directory / f"v{CACHE_FORMAT}" / "units.sqlite")
        return self._database

    # ------------------------------------------------------------------ units
    def _entry(self, file_key: str, decoded: bool) -> dict[str, Any]:
        """The units of one entry: unit -> variants ({} when missing or corrupt)."""
        memory_key = (str(self.directory), file_key)
        if decoded and memory_key in _MEMORY:
            return _MEMORY[memory_key]
        entry = _parse(self._units().read(file_key), decoded)
        units = entry.get("units") if isinstance(entry, dict) and entry.get("key") == file_key else None
        if not isinstance(units, dict):
            units = {}
        if decoded:
            if len(_MEMORY) >= _MEMORY_SIZE:
                _MEMORY.clear()
            _MEMORY[memory_key] = units
        return units

    def variants(self, key: str, decoded: bool = True) -> list[Variant]:
        """Every stored variant of unit ``key`` (none when missing or corrupt), results
        decoded (:func:`pvcheck.analyzer.serialize.loads`) or as stored JSON."""
        file_key, _, unit = key.partition("/")
        found = self._entry(file_key, decoded).get(unit)
        return [v for v in found if isinstance(v, dict)] if isinstance(found, list) else []

    def lookup(self, key: str, valid: Callable[[Variant], bool]) -> Optional[Variant]:
        """The first stored variant whose dependencies ``valid`` accepts.

        The caller counts the outcome (:meth:`count`): a variant can still turn out
        unusable when it is decoded (:meth:`reject`).
        """
        for variant in self.variants(key):
            try:
                ok = valid(variant)
            except (KeyError, TypeError, ValueError, AttributeError):
                ok = False  # a malformed variant is a miss
            if ok:
                return variant
        return None

    def count(self, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def forget(self, key: str) -> None:
        """Another process (a worker) wrote unit ``key``: read its entry again next time."""
        _MEMORY.pop((str(self.directory), key.partition("/")[0]), None)

    def reject(self, key: str) -> None:
        """Unit ``key`` holds something that does not decode: the next store replaces its variants."""
        self._rejected.add(key)

    def stage(self, key: str, variant: Variant) -> None:
        """Hold ``variant`` until its entry is written with the file's other units
        (:meth:`store` or :meth:`flush`): one write per source file, not per unit."""
        file_key, _, unit = key.partition("/")
        self._staged.setdefault(file_key, {})[unit] = variant

    def store(self, key: str, variant: Variant) -> None:
        """Write unit ``key``'s entry now, with ``variant`` and the file's staged units."""
        self.stage(key, variant)
        file_key = key.partition("/")[0]
        self._write_entry(file_key, self._staged.pop(file_key))

    def flush(self) -> None:
        """Write what is staged, and let go of the database (before worker processes are
        forked: a SQLite connection must not cross a fork)."""
        staged, self._staged = self._staged, {}
        for file_key, units in staged.items():
            self._write_entry(file_key, units)
        if self._database is not None:
            self._database.close()
            self._database = None

    def _write_entry(self, file_key: str, new_units: dict[str, Variant]) -> None:
        """Put each new variant in front of its unit's others (dropping one equal in
        dependencies), keeping the other units of the entry: read and written in one
        transaction, so a second process writing the same entry cannot lose a unit."""
        def merge(stored: Optional[str]) -> str:
            entry = _parse(stored, decoded=False)
            found = entry.get("units") if isinstance(entry, dict) and entry.get("key") == file_key else None
            units = {name: [v for v in variants if isinstance(v, dict) and _decodes(v)]  # one bad one spoils it
                     for name, variants in (found.items() if isinstance(found, dict) else ())
                     if isinstance(variants, list)}
            for unit, variant in new_units.items():
                previous = units.get(unit, []) if f"{file_key}/{unit}" not in self._rejected else []
                others = [v for v in previous if v.get("deps") != variant.get("deps")]
                units[unit] = [variant, *others][:MAX_VARIANTS]
            return dumps({"format": CACHE_FORMAT, "key": file_key, "units": units})

        _MEMORY.pop((str(self.directory), file_key), None)
        try:
            written = self._units().update(file_key, merge)
        except (TypeError, ValueError, RecursionError):  # a variant that is not JSON: not cached
            written = False
        if written:
            self.writes += 1

    # ------------------------------------------------------------------ whole scans
    def snapshot_key(self, frameworks: Any, files: Any) -> str:
        """The key of a whole scan's result: every file of the tree (path, module, hash),
        the frameworks, and what every unit key holds."""
        text = json.dumps([self._prefix, frameworks, files])
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def _snapshot_path(self, key: str) -> Path:
        return self.directory / f"v{CACHE_FORMAT}" / "scans" / f"{key}.json"

    def snapshot(self, key: str) -> Optional[dict[str, Any]]:
        """The stored result of a whole scan (decoded), or None."""
        data = _read_json(self._snapshot_path(key), decoded=True)
        return data if isinstance(data, dict) and data.get("key") == key else None

    def store_snapshot(self, key: str, pipelines: list[tuple[Any, Optional[str]]], diagnostics: list[Any],
                       run_configs: list[Any]) -> None:
        """Store a whole scan's result; only the newest :data:`MAX_SCANS` are kept (each is
        the size of a full result, and a tree seldom goes back to an old state).
        ``pipelines``: each with its JSON text when a worker already encoded it, else None."""
        try:
            texts = [text if text is not None else dumps(encode(pipeline)) for pipeline, text in pipelines]
            head = dumps({"format": CACHE_FORMAT, "key": key, "run_configs": [list(r) for r in run_configs],
                          "diagnostics": [encode(d) for d in diagnostics]})
        except (EncodingError, TypeError, ValueError, RecursionError):
            return
        path = self._snapshot_path(key)
        if _write_text(path, f'{head[:-1]},"pipelines":[{",".join(texts)}]}}'):
            self.writes += 1
            _prune(path.parent, MAX_SCANS)

    # ------------------------------------------------------------------ framework manifest
    def manifest(self, selected: Iterable[str]) -> Optional[list[dict[str, Any]]]:
        data = _read_json(self._manifest_path(selected))
        if isinstance(data, dict) and isinstance(data.get("frameworks"), list):
            return data["frameworks"]
        return None

    def store_manifest(self, selected: Iterable[str], frameworks: list[dict[str, Any]]) -> None:
        _write_json(self._manifest_path(selected), {"format": CACHE_FORMAT, "frameworks": frameworks})

    def _manifest_path(self, selected: Iterable[str]) -> Path:
        text = json.dumps([CACHE_FORMAT, code_digest(), self._plugins, self._settings[2], sorted(selected)])
        digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
        return self.directory / f"v{CACHE_FORMAT}" / "frameworks" / f"{digest}.json"


class MemoryCache(AnalysisCache):
    """Unit results kept in this process only, under the same keys and validity rules as
    the folder cache: what ``pvcheck history`` uses across the scans of one walk. Each
    commit's tree differs from the last by a few files, so most units are reused; writing
    every intermediate result to the database (and reading it back) would cost more than
    the reuse saves, and nothing is left behind. Whole-scan snapshots are not kept (the
    walk keeps models by tree already)."""

    holds_objects = True

    def __init__(self, config: Config) -> None:
        super().__init__(Path("<memory>"), config)
        self.markers = {}
        self._entries: dict[str, dict[str, list[Variant]]] = {}
        self._manifests: dict[str, list[dict[str, Any]]] = {}
        self._orphans: dict[str, str] = {}

    def use_layout(self, roots: Sequence[str], orphans: Mapping[str, str]) -> None:
        """Keys by neither. The roots only name modules: a unit's key holds its own
        module's name, and every other module it resolved is recorded by name with the
        file behind it (``TreeState.module_state``), every file it read by path with the
        module the file defines (``TreeState.file_state``), so a variant a new root
        renames a dependency of fails its check. A package no root holds is found by its
        first name, which a unit that resolved through it asked for as a module first (see
        ``ProjectIndex._orphan``): each variant keeps what the packages of its recorded
        names were, and is reused only while they are the same. Keying every entry by the
        roots and all orphans, as the folder cache does, ran every unit of a monorepo
        again whenever a project was added (2 of 40 commits of mortenoh/prefect-examples
        ran 783 units where the others ran 10 on average)."""
        self._prefix = json.dumps([*self._settings, [], []])
        if dict(orphans) != self._orphans:  # else the same object: variants stored under it match at once
            self._orphans = dict(orphans)

    def lookup(self, key: str, valid: Callable[[Variant], bool]) -> Optional[Variant]:
        def same_layout(variant: Variant) -> bool:
            # each variant keeps the orphan packages of the scan that stored it: the first
            # names of its recorded modules must be orphans (of the same folders) now
            # exactly when they were then
            then = variant.get("orphans")
            if then is self._orphans:
                return True
            if not isinstance(then, dict):
                return False
            now = self._orphans
            return all(now.get(first) == then.get(first)
                       for first in {name.partition(".")[0] for name in variant["deps"]["m"]})

        found = super().lookup(key, lambda variant: same_layout(variant) and valid(variant))
        if found is not None and not found.get("decoded"):
            # decoded at the first use, not when stored: in a history walk most results
            # of a code location's jobs are replaced before any commit reuses them
            try:
                found["diagnostics"], found["payload"] = decode(found["diagnostics"]), decode(found["payload"])
            except (KeyError, TypeError, ValueError, RecursionError):
                self._drop(key, found)
                return None
            found["decoded"] = True
        return found

    def _drop(self, key: str, variant: Variant) -> None:
        file_key, _, unit = key.partition("/")
        variants = self._entries.get(file_key, {}).get(unit, [])
        if variant in variants:
            variants.remove(variant)

    def variants(self, key: str, decoded: bool = True) -> list[Variant]:
        file_key, _, unit = key.partition("/")
        return list(self._entries.get(file_key, {}).get(unit, ()))

    def _write_entry(self, file_key: str, new_units: dict[str, Variant]) -> None:
        units = self._entries.setdefault(file_key, {})
        for unit, variant in new_units.items():
            try:  # the form a stored entry is read back in (results decoded by lookup)
                stored = {**variant, "deps": variant["deps"], "diagnostics": variant["diagnostics"],
                          "payload": variant["payload"], "decoded": bool(variant.get("decoded")),
                          "orphans": self._orphans}
            except (KeyError, TypeError, ValueError, RecursionError):
                continue
            others = [v for v in units.get(unit, []) if v.get("deps") != variant.get("deps")]
            units[unit] = [stored, *others][:MAX_VARIANTS]
            self.writes += 1

    def flush(self) -> None:
        staged, self._staged = self._staged, {}
        for file_key, units in staged.items():
            self._write_entry(file_key, units)

    def snapshot(self, key: str) -> Optional[dict[str, Any]]:
        return None

    def store_snapshot(self, key: str, pipelines: list[tuple[Any, Optional[str]]], diagnostics: list[Any],
                       run_configs: list[Any]) -> None:
        return None

    def manifest(self, selected: Iterable[str]) -> Optional[list[dict[str, Any]]]:
        return self._manifests.get(json.dumps(sorted(selected)))

    def store_manifest(self, selected: Iterable[str], frameworks: list[dict[str, Any]]) -> None:
        self._manifests[json.dumps(sorted(selected))] = frameworks


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently written files of ``folder``."""
    try:
        entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in entries[keep:]:
            stale.unlink()
    except OSError:
        pass  # another process pruning at the same time


def _decodes(data: Any) -> bool:
    try:
        decode(data)
        return True
    except (ValueError, TypeError, RecursionError):
        return False


def _read_json(path: Path, decoded: bool = False) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return _parse(data, decoded)


def _parse(data: Union[str, bytes, None], decoded: bool) -> Any:
    """JSON text as data (decoded into model objects, or plain); None when it is not JSON."""
    if data is None:
        return None
    try:
        return loads(data) if decoded else json.loads(data)
    except (ValueError, RecursionError):
        return None


def _today() -> int:
    return int(time.time() // 86_400)


class _UnitDatabase:
    """The cache entries of units: a SQLite table of (file key, entry JSON, day last used).

    Opened on first use. Anything SQLite or the file system refuses (a read-only or full
    folder, a locked or damaged database, no ``sqlite3`` in this Python) makes the entry
    missing, or the write not happen: a cache that cannot be used only costs speed. When
    a process that wrote entries is done, entries nobody used for :data:`MAX_UNUSED_DAYS`
    are deleted (those of files that changed or went away), so the database does not grow
    without bound.
    """

    _COLUMNS = ["key", "entry", "used"]
    _SCHEMA = ("CREATE TABLE IF NOT EXISTS units (key TEXT PRIMARY KEY, entry TEXT NOT NULL, used INTEGER NOT NULL);"
               "CREATE INDEX IF NOT EXISTS units_by_use ON units (used)")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: Any = None
        self._unusable = False
        self._read: set[str] = set()  # keys found: marked used when done
        self._wrote = False

    def _connect(self) -> Any:
        if self._connection is None and not self._unusable:
            try:
                self._connection = self._open()
            except Exception:  # sqlite3.Error, OSError, ImportError: no cache this run
                self._unusable = True
        return self._connection

    def _open(self) -> Any:
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            connection = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
                connection.execute("PRAGMA synchronous=NORMAL")  # a cache may lose its last writes in a crash
                columns = [row[1] for row in connection.execute("PRAGMA table_info(units)")]
                if columns and columns != self._COLUMNS:
                    connection.execute("DROP TABLE units")  # another layout: it is only a cache
                connection.executescript(self._SCHEMA)
                return connection
            except sqlite3.DatabaseError as exc:
                connection.close()
                if attempt or isinstance(exc, sqlite3.OperationalError):  # locked, read-only: not damaged
                    raise
                for suffix in ("", "-wal", "-shm"):  # not a database: start a new one
                    try:
                        os.unlink(f"{self.path}{suffix}")
                    except FileNotFoundError:
                        pass
        raise AssertionError("unreachable")

    def read(self, key: str) -> Optional[str]:
        connection = self._connect()
        if connection is None:
            return None
        try:
            row = connection.execute("SELECT entry FROM units WHERE key = ?", (key,)).fetchone()
        except Exception:  # sqlite3.Error
            return None
        if row is None or not isinstance(row[0], str):
            return None
        self._read.add(key)
        return row[0]

    def update(self, key: str, merge: Callable[[Optional[str]], str]) -> bool:
        """Replace entry ``key`` by ``merge(the stored entry or None)``, atomically."""
        connection = self._connect()
        if connection is None:
            return False
        try:
            connection.execute("BEGIN IMMEDIATE")  # the write lock first: no other writer between read and write
            try:
                row = connection.execute("SELECT entry FROM units WHERE key = ?", (key,)).fetchone()
                text = merge(row[0] if row is not None and isinstance(row[0], str) else None)
                connection.execute("INSERT OR REPLACE INTO units (key, entry, used) VALUES (?, ?, ?)",
                                   (key, text, _today()))
                connection.execute("COMMIT")
                self._wrote = True
                return True
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except (TypeError, ValueError, RecursionError):
            raise
        except Exception:  # sqlite3.Error
            return False

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._age()
        finally:
            try:
                self._connection.close()
            except Exception:  # sqlite3.Error
                pass
            self._connection = None

    def _age(self) -> None:
        """Mark the entries read as used today; after writing, delete those unused too long."""
        if not self._read and not self._wrote:
            return
        today, connection = _today(), self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany("UPDATE units SET used = ? WHERE key = ? AND used < ?",
                                       [(today, key, today) for key in sorted(self._read)])
                if self._wrote:
                    connection.execute("DELETE FROM units WHERE used < ?", (today - MAX_UNUSED_DAYS,))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except Exception:  # sqlite3.Error: ageing is housekeeping, never a failure
            pass
        self._read, self._wrote = set(), False


def _write_json(path: Path, data: Any) -> bool:
    try:
        text = dumps(data)
    except (TypeError, ValueError, RecursionError):
        return False
    return _write_text(path, text)


def _write_text(path: Path, text: str) -> bool:
    """Write atomically: a temporary file in the same folder, then a rename over the target."""
    try:
        handle, temporary = _temporary_beside(path)
    except OSError:
        return False  # a read-only or full cache folder only costs speed
    try:
        with os.fdopen(handle, "w", encoding="ascii") as stream:
            stream.write(text)
        os.replace(temporary, path)
        return True
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False


_temporary_names = itertools.count()


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new file next to ``path`` for writing, and its name. Its folder is made only
    when it is missing (a look-up per write costs as much as the write); the name is
    unique to this process, and exclusive creation makes sure of it."""
    temporary = f"{path.parent}{os.sep}.tmp-{os.getpid()}-{next(_temporary_names)}.json"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        return os.open(temporary, flags, 0o600), temporary
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # left behind by an earlier process with this process id
        pass
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    return handle, temporary
