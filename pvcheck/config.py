"""pvcheck's configuration: the ``[tool.pvcheck]`` table of ``pyproject.toml`` or ``pvcheck.toml``.

The :class:`Config` dataclass is what the analyzer and the policies receive; reading it
from a file happens here and nowhere else. Unknown keys and wrong types are errors that
name the key, the file and the line.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Optional

from pvcheck.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: The methods of a logger that only write a record.
LOG_METHODS: tuple[str, ...] = ("debug", "info", "warning", "warn", "error", "critical", "exception", "log")

#: Names through which a function can read its local variables without naming them
#: (``locals()``, ``eval``, a frame's ``f_locals``): where one appears, no local is unused.
FRAME_READERS = frozenset({"locals", "vars", "eval", "exec", "dir", "currentframe", "_getframe", "f_locals",
                           "getframeinfo", "stack", "trace"})

#: Loggers, by the qualified name of the object (or of the call that returns it): the
#: standard library's, a variable or attribute named ``*logger`` (``loguru.logger`` too),
#: Dagster's ``context.log`` and Airflow's ``self.log`` (``*.log``), Prefect's
#: ``get_run_logger()``, ZenML's ``get_logger(__name__)``, Dagster's
#: ``get_dagster_logger()``, flytekit's ``current_context().logging``.
_LOGGERS: tuple[str, ...] = (
    "logging",
    "logging.getLogger",
    "*logger",
    "*.log",
    "prefect.get_run_logger",
    "prefect.logging.get_run_logger",
    "prefect.logging.loggers.get_run_logger",
    "zenml.logger.get_logger",
    "dagster.get_dagster_logger",
    "flytekit.current_context.logging",
)

DEFAULT_COSMETIC_CALLS: tuple[str, ...] = (
    "print",
    "rich.print",
    "tqdm.write",
    "tqdm.tqdm.write",
    "tqdm.auto.tqdm.write",
    *(f"{logger}.{method}" for logger in _LOGGERS for method in LOG_METHODS),
)

#: Functions without side effects that may appear inside the arguments of a cosmetic call.
DEFAULT_PURE_CALLS: tuple[str, ...] = (
    "len", "str", "repr", "int", "float", "bool", "round", "abs", "min", "max", "format", "type",
    "isinstance", "id", "hex",
)

DEFAULT_ENVIRONMENT_KEYS: tuple[str, ...] = (
    "settings.docker.*",
    "settings.docker",
    "requirements",
    "*.requirements",
    "base_image",
    "*.base_image",
    "packages_to_install",
    "image",
    "target_image",  # KFP: the image a containerized Python component is built into
    "pip_index_urls",  # KFP: where packages_to_install come from
    # Metaflow: @conda/@pypi/@environment steps and @conda_base/@pypi_base flows
    "conda", "pypi", "environment", "conda_base", "pypi_base", "kubernetes.image", "batch.image",
    "container_image",  # Flyte: an image name or an ImageSpec(packages=, base_image= ...)
)

DEFAULT_POLICIES: tuple[str, ...] = ("cosmetic", "config", "signature", "structural", "identity")

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".*",
    "__pycache__",
    "venv",
    ".venv",
    "env",
    "build",
    "dist",
    "node_modules",
    "site-packages",
)

VALID_DECISIONS = ("run", "version", "pipeline", "off")


@dataclass(frozen=True)
class Config:
    """Every setting pvcheck knows. Paths are relative to the scanned root."""

    roots: tuple[str, ...] = ()  # empty: detected from the project's layout (pvcheck.analyzer.roots)
    exclude: tuple[str, ...] = ()
    policies: tuple[str, ...] = DEFAULT_POLICIES
    plugins: tuple[str, ...] = ()  # dotted paths "package.module:Class" of extra policies
    disabled_policies: tuple[str, ...] = ()  # policies (built-in or plug-in) that do not run, by name
    frameworks: tuple[str, ...] = ()  # empty: every registered framework
    rules: Mapping[str, str] = field(default_factory=dict)  # rule id -> run|version|pipeline|off
    continuity_threshold: float = 0.5
    similarity_threshold: float = 0.6
    cosmetic_calls: tuple[str, ...] = DEFAULT_COSMETIC_CALLS
    pure_calls: tuple[str, ...] = DEFAULT_PURE_CALLS
    environment_keys: tuple[str, ...] = DEFAULT_ENVIRONMENT_KEYS
    run_configs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # pipeline -> YAML files
    lock_file: str = "pvcheck.lock"
    max_file_size: int = 2_000_000  # bytes; larger files are a diagnostic, not analyzed
    source: Optional[str] = None  # the file this was read from, for messages

    def with_overrides(self, **changes: Any) -> "Config":
        return replace(self, **changes)

    def cache_key(self) -> str:
        """The settings that change what the analyzer produces, as a stable string."""
        return repr(
            (
                sorted(self.exclude),
                sorted(self.frameworks),
                list(self.cosmetic_calls),
                list(self.pure_calls),
                sorted((k, tuple(v)) for k, v in self.run_configs.items()),
                self.max_file_size,
            )
        )


# key -> (python type check, description used in messages)
_KEY_TYPES: dict[str, str] = {
    "roots": "list of strings",
    "exclude": "list of strings",
    "policies": "list of strings",
    "plugins": "list of strings",
    "disabled_policies": "list of strings",
    "frameworks": "list of strings",
    "rules": "table of rule id = decision",
    "continuity_threshold": "number between 0 and 1",
    "similarity_threshold": "number between 0 and 1",
    "cosmetic_calls": "list of strings",
    "pure_calls": "list of strings",
    "environment_keys": "list of strings",
    "run_configs": "table of pipeline name = list of YAML paths",
    "lock_file": "string",
    "max_file_size": "positive integer",
}

assert set(_KEY_TYPES) == {f.name for f in fields(Config)} - {"source"}

#: A rule id: a prefix of capitals (``PV`` for pvcheck's own, a plug-in's declared one) and
#: three digits.
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]{0,7}\d{3}$")


#: A pyproject.toml that could hold pvcheck's settings: a ``[tool.pvcheck]`` table, even a
#: malformed header (``[tool.pvcheck`` -- then loading it reports the TOML error instead
#: of silently running the defaults), or dotted ``tool.pvcheck.x = ...`` keys.
_MENTIONS_PVCHECK = re.compile(r"^[ \t]*(?:\[+[ \t]*tool[ \t]*\.[ \t]*pvcheck\b|tool[ \t]*\.[ \t]*pvcheck[ \t]*[.=])",
                               re.MULTILINE)


def find_project(start: Path, lock_file: str = "pvcheck.lock") -> Path:
    """The project folder that governs ``start``, as ruff and pytest find theirs: the
    nearest folder, from ``start`` upwards to the top of the git checkout, that holds
    pvcheck's configuration or the lock file; ``start`` itself when none does."""
    start = start.resolve()
    config = find_config(start)
    for folder in (start, *start.parents):
        if config is not None and config.parent == folder:
            return folder
        if (folder / lock_file).is_file():
            return folder
        if (folder / ".git").exists():
            break
    return start


def find_config(start: Path) -> Optional[Path]:
    """The configuration file that governs ``start``: ``pvcheck.toml`` or a
    ``pyproject.toml`` with a ``[tool.pvcheck]`` table, in ``start`` or a parent."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pvcheck.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if _MENTIONS_PVCHECK.search(text):
                return candidate
        if (folder / ".git").exists():
            break
    return None


def load_config(path: Optional[Path | str] = None) -> Config:
    """Read the configuration from ``path`` (a ``pvcheck.toml`` or ``pyproject.toml``).

    With no path, or a path whose file has no pvcheck table, the defaults are returned.
    Raises :class:`~pvcheck.errors.ConfigError` naming the file, key and line.
    """
    if path is None:
        return Config()
    file = Path(path)
    display = str(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc.strerror}", display, hint="check the path") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("configuration is not valid UTF-8", display, _line_of_offset(raw, exc.start),
                          hint="save the file as UTF-8") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or _line_from_message(str(exc))
        raise ConfigError(f"configuration is not valid TOML ({_first_clause(str(exc))})", display, line,
                          hint="fix the TOML syntax") from None
    tool = document.get("tool")
    nested = tool.get("pvcheck") if isinstance(tool, dict) else None
    if file.name == "pyproject.toml":
        if tool is not None and not isinstance(tool, dict):
            raise ConfigError("'tool' must be a table", display, _line_of_key(text, "tool"),
                              hint="write pvcheck's settings under [tool.pvcheck]")
        table = nested
        prefix = "tool.pvcheck."
        if table is None:
            return Config(source=display)
    else:  # pvcheck.toml: top-level keys, or a [tool.pvcheck] table
        table = nested if nested is not None else document
        prefix = "tool.pvcheck." if nested is not None else ""
    if not isinstance(table, dict):
        raise ConfigError(f"'{prefix.rstrip('.')}' must be a table", display, _line_of_key(text, "pvcheck"),
                          hint="write [tool.pvcheck]")
    return _from_table(table, text, display, prefix)


def _from_table(table: Mapping[str, Any], text: str, display: str, prefix: str) -> Config:
    values: dict[str, Any] = {}
    start = _table_start(text, prefix)
    for key, value in table.items():
        line = _line_of_key(text, key, start)
        if key not in _KEY_TYPES:
            known = ", ".join(sorted(_KEY_TYPES))
            raise ConfigError(f"unknown configuration key '{prefix}{key}'", display, line,
                              hint=f"remove it or use one of: {known}")
        values[key] = _check_value(key, value, display, line, prefix, text)
    return Config(source=display, **values)


def _check_value(key: str, value: Any, display: str, line: int, prefix: str, text: str) -> Any:
    def wrong() -> ConfigError:
        return ConfigError(f"'{prefix}{key}' must be a {_KEY_TYPES[key]}, not {value!r}", display, line,
                           hint="fix its value")

    if _KEY_TYPES[key] == "list of strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong()
        # framework names are checked by the registry that loads them (it points back here
        # with setting_location): this layer depends on nothing in the analyzer or policies
        if key == "policies":
            for name in value:
                if name not in DEFAULT_POLICIES:
                    raise ConfigError(f"unknown policy '{name}' in '{prefix}policies'", display, line,
                                      hint=f"use one of {', '.join(DEFAULT_POLICIES)}; add others with 'plugins'")
        return tuple(value)
    if key in ("continuity_threshold", "similarity_threshold"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise wrong()
        return float(value)
    if key == "max_file_size":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise wrong()
        return value
    if key == "lock_file":
        if not isinstance(value, str) or not value:
            raise wrong()
        return value
    if key == "rules":
        if not isinstance(value, dict):
            raise wrong()
        for rule, decision in value.items():
            rule_line = _line_of_key(text, rule, _table_start(text, f"{prefix}rules.")) or line
            if not _RULE_ID.match(rule):
                raise ConfigError(f"'{prefix}rules.{rule}' is not a rule id", display, rule_line,
                                  hint="rule ids look like PV104; 'pvcheck rules' lists them")
            if decision not in VALID_DECISIONS:
                raise ConfigError(f"'{prefix}rules.{rule}' must be one of {', '.join(VALID_DECISIONS)}, "
                                  f"not {decision!r}", display, rule_line, hint="fix its value")
        return dict(value)
    if key == "run_configs":
        if not isinstance(value, dict):
            raise wrong()
        result: dict[str, tuple[str, ...]] = {}
        for name, files in value.items():
            if isinstance(files, str):
                files = [files]
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                raise ConfigError(f"'{prefix}run_configs.{name}' must be a path or a list of paths",
                                  display, _line_of_key(text, name, _table_start(text, f"{prefix}run_configs."))
                                  or line, hint="fix its value")
            result[name] = tuple(files)
        return result
    raise AssertionError(key)  # pragma: no cover - every key is handled above


def setting_location(config: Config, key: str) -> tuple[Optional[str], int]:
    """The file ``config`` was read from and the line setting ``key`` there (0: unknown), for
    errors found only when a setting is used (a plug-in that cannot be imported, a framework
    name no registry knows)."""
    if config.source is None:
        return None, 0
    try:
        text = Path(config.source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return config.source, 0
    prefix = "tool.pvcheck." if Path(config.source).name == "pyproject.toml" or re.search(
        r"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*pvcheck[ \t]*\]", text, re.MULTILINE) else ""
    return config.source, _line_of_key(text, key, _table_start(text, prefix))


def _line_of_key(text: str, key: str, start: int = 0) -> int:
    """The line of ``key = ...`` at or after offset ``start`` (0 when not found)."""
    pattern = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", re.MULTILINE)  # not \s: no newlines
    match = pattern.search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def _table_start(text: str, prefix: str) -> int:
    """Where the table holding the keys of ``prefix`` (``tool.pvcheck.``, ``tool.pvcheck.rules.``)
    begins, so that a key of the same name in another tool's table is never pointed at."""
    if not prefix:
        return 0
    parts = prefix.rstrip(".").split(".")
    dotted = r"[ \t]*\.[ \t]*".join(re.escape(part) for part in parts)
    header = re.search(rf"^[ \t]*\[[ \t]*{dotted}[ \t]*\]", text, re.MULTILINE)
    if header is not None:
        return header.start()
    if len(parts) > 2:  # a sub-table written inline in its parent: rules = { PV401 = "run" }
        parent = _table_start(text, ".".join(parts[:-1]) + ".")
        key = re.compile(rf"^[ \t]*{re.escape(parts[-1])}[ \t]*=", re.MULTILINE).search(text, parent)
        return key.start() if key is not None else parent
    return 0


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _line_from_message(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 0


def _first_clause(message: str) -> str:
    return message.split(" (at ")[0]


def settings_table(config: Config) -> dict[str, Any]:
    """Every setting of ``config`` as a plain table (lists and tables, sorted; no
    ``source``): what a lock records, so a later settings change can be judged against
    the settings the lock was made under."""
    table: dict[str, Any] = {}
    for item in fields(Config):
        if item.name == "source":
            continue
        value = getattr(config, item.name)
        if isinstance(value, Mapping):
            value = {str(k): list(v) if isinstance(v, tuple) else v for k, v in sorted(value.items())}
        elif isinstance(value, tuple):
            value = list(value)
        table[item.name] = value
    return table


def config_from_settings(table: Mapping[str, Any]) -> Config:
    """The :class:`Config` a :func:`settings_table` describes; keys this version does not
    know are ignored (a lock from a newer pvcheck), missing ones take their defaults."""
    values: dict[str, Any] = {}
    for item in fields(Config):
        if item.name == "source" or item.name not in table:
            continue
        value = table[item.name]
        if isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, Mapping) and item.name == "run_configs":
            value = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in value.items()}
        values[item.name] = value
    return Config(**values)
