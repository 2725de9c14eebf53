"""What a step reaches besides definitions: module-level effects and repository files.

A step's computation depends on more than the functions, classes and constants it names:

* **module-level effects** of every module its reach touches run when that module is
  imported -- ``np.random.seed(42)``, ``pd.set_option(...)``, ``REGISTRY.append(...)``,
  ``CONFIG["x"] = 1``, a call of a repo-local function at import time. Imports, ``def``
  and ``class`` statements, docstrings, plain assignments to names (constants, tracked
  by reference already), cosmetic calls (``print``, logging) and ``if __name__ ==
  "__main__":`` blocks are not effects.
* **files it reads** by a path computable from the source: ``open("q.sql")``,
  ``Path(__file__).parent / "schema.json"``, ``.read_text()``, ``pd.read_csv(...)``,
  module constants holding such paths. A path relative to ``__file__`` resolves against
  the module's folder; any other relative path against the scanned root (where a
  pipeline is normally run from). A read whose path cannot be computed is reported.

Nothing here imports or evaluates analyzed code: paths are computed from literals,
``__file__`` and a handful of path operations on them.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

import libcst as cst

from pvcheck.analyzer.canonical import Canon, Canonicalizer, layout_free_tokens
from pvcheck.analyzer.fastmeta import calls_and_imports, child_nodes, code_children
from pvcheck.analyzer.module import ModuleInfo, Symbol
from pvcheck.diagnostics import UNKNOWN_READ
from pvcheck.model import REACH_EFFECTS as EFFECTS  # HelperRef kind of one module-level effect statement
from pvcheck.model import REACH_FILE as FILE  # HelperRef kind of a repository file read by a computable path

if TYPE_CHECKING:
    from pvcheck.analyzer.frameworks.base import BodyPart
    from pvcheck.analyzer.index import ProjectIndex

FILE_PREFIX = "file:"  # HelperRef name of a file: the prefix and its path from the root
_MAX_DEPTH = 12

#: Calls that read the file named by their first argument (or ``path``-like keyword).
_READERS_EXACT = frozenset({
    "open", "io.open", "codecs.open", "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile",
    "joblib.load", "torch.load", "toml.load", "tomli.load", "pyarrow.parquet.read_table", "pyarrow.csv.read_csv",
    "pandas.read_csv", "pandas.read_parquet", "pandas.read_json", "pandas.read_excel", "pandas.read_table",
    "pandas.read_pickle", "pandas.read_feather", "pandas.read_fwf", "pandas.read_orc", "pandas.read_xml",
    "pandas.read_hdf", "pandas.read_stata", "pandas.read_sas", "pandas.read_spss",
})
_READER_PREFIXES = ("polars.read_", "polars.scan_")
_PATH_KEYWORDS = ("file", "filepath_or_buffer", "path", "source", "io", "fname", "f", "path_or_buf")
#: Methods of a path object that read it.
_READ_METHODS = frozenset({"read_text", "read_bytes"})
_PATH_CLASSES = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath"})
_SAME_PATH = frozenset({"str", "os.fspath", "os.path.abspath", "os.path.realpath", "os.path.normpath",
                        "os.path.expanduser"})
_SAME_PATH_METHODS = frozenset({"resolve", "absolute", "expanduser"})
_RELATIVE_TO_FILE = frozenset({"dagster.file_relative_path", "dagster._utils.file_relative_path"})


@dataclass(frozen=True)
class FileRead:
    """One read of a file: where it happens and what it reads."""

    line: int
    path: Optional[str]  # from the scanned root, posix; None when not computable; "/..." outside the tree
    call: str  # how it is read, for messages: ``open(...)``


# ---------------------------------------------------------------------- effects
def module_effects(module: ModuleInfo, canonicalizer: Canonicalizer) -> list[tuple[int, cst.CSTNode, Canon]]:
    """(line, canonical form) of each top-level statement of ``module`` with an effect."""
    found: list[tuple[int, cst.CSTNode, Canon]] = []
    for statement in _top_level(module.tree.body):
        if not _may_have_effect(statement, module, canonicalizer.index):
            continue
        wrapped = cst.SimpleStatementLine(body=[statement]) if isinstance(statement, cst.BaseSmallStatement) \
            else statement
        canon = canonicalizer.expression(cst.IndentedBlock(body=[wrapped]))
        if len(canon.tokens) <= 2:  # "(Block" ")": a cosmetic call dropped out
            continue
        found.append((module.line(statement), statement, canon))
    return found


def _top_level(body: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    """Top-level statements, one small statement at a time (``a(); b()`` is two)."""
    result: list[cst.CSTNode] = []
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            result.extend(statement.body)
        else:
            result.append(statement)
    return result


def _may_have_effect(statement: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex") -> bool:
    if not _effect_kind(statement, module, index):
        return False
    # a classic Airflow DAG is built by module-level code (``for t in TABLES:
    # ops.append(Operator(...))``): that is the pipeline, which the graph covers
    return isinstance(statement, (cst.FunctionDef, cst.ClassDef)) \
        or not any(_pipeline_machinery(call, module, index) for call in _calls(statement))


def _effect_kind(statement: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex") -> bool:
    if isinstance(statement, cst.BaseSmallStatement):
        small = statement
        if isinstance(small, (cst.Import, cst.ImportFrom, cst.Pass)):
            return False
        if isinstance(small, cst.Expr):
            if isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis)):
                return False
            if isinstance(small.value, cst.BinaryOperation) \
                    and isinstance(small.value.operator, (cst.RightShift, cst.LeftShift)):
                return False  # ``a >> b``: wiring of a graph, which the graph fingerprint covers
            return not _logging_setup(small.value, module) and not _pipeline_machinery(small.value, module, index)
        if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            return _assignment_effect(small, module, index)
        return True  # del, assert, global, raise at import time
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        # a registration decorator runs at import time, whether or not anything uses the name
        return any(_is_registration(d.decorator) for d in statement.decorators)
    if isinstance(statement, cst.If):
        if _is_main_guard(statement.test):
            return False
        return _block_has_effect(statement, module, index)
    if isinstance(statement, cst.Try):
        return _block_has_effect(statement, module, index)
    if isinstance(statement, cst.With) and all(_pipeline_machinery(item.item, module, index)
                                              for item in statement.items):
        return False  # ``with DAG(...) as dag:``: the pipeline itself, analyzed as one
    return True  # for, while, with, match at import time


def _block_has_effect(statement: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex") -> bool:
    """A top-level ``if``/``try`` is an effect when something inside it is (``try: import
    x except ImportError: x = None`` is not)."""
    blocks: list[cst.BaseSuite] = []
    current: Optional[cst.CSTNode] = statement
    while current is not None:
        body = getattr(current, "body", None)
        if isinstance(body, cst.BaseSuite):
            blocks.append(body)
        for handler in getattr(current, "handlers", ()):
            blocks.append(handler.body)
        for extra in ("orelse", "finalbody"):
            other = getattr(current, extra, None)
            if isinstance(other, (cst.Else, cst.Finally)):
                blocks.append(other.body)
        orelse = getattr(current, "orelse", None)
        current = orelse if isinstance(orelse, cst.If) else None
    for block in blocks:
        inner = block.body if isinstance(block, cst.IndentedBlock) else block.body
        if any(_may_have_effect(s, module, index) for s in _top_level(inner)):
            return True
    return False


def _assignment_effect(small: Union[cst.Assign, cst.AnnAssign, cst.AugAssign], module: ModuleInfo,
                       index: "ProjectIndex") -> bool:
    """An assignment to an attribute or item mutates an object; one to a plain name is a
    constant (tracked by reference) unless its value calls repo code at import time."""
    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
    if any(not _plain_target(t) for t in targets):
        return True
    value = small.value
    if not isinstance(value, (cst.Call, cst.BinaryOperation, cst.Subscript, cst.Attribute, cst.BooleanOperation,
                              cst.IfExp, cst.UnaryOperation, cst.Await)):
        return False  # a literal, a name, a container: no call worth walking a large constant for
    return _calls_repo_code(value, module, index)


def _plain_target(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Name):
        return True
    if isinstance(target, (cst.Tuple, cst.List)):
        return all(_plain_target(e.value) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _plain_target(target.value)
    return False


def _calls_repo_code(node: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex") -> bool:
    """A call of a repo-local function or class (which may write globals at import time)."""
    for call in _calls(node):
        if not isinstance(call.func, (cst.Name, cst.Attribute)):
            continue
        for name in module.qualified_names(call.func):
            resolved = index.resolve(name)
            if resolved is not None and resolved[0].kind in ("function", "class"):
                return True
    return False


def _calls(node: cst.CSTNode, nested: bool = False) -> list[cst.Call]:
    """Calls inside ``node``, in source order; inside nested functions and classes too
    when ``nested`` (their code runs when they are called, not when ``node`` runs)."""
    found: list[cst.Call] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            found.append(current)
        if not nested and isinstance(current, (cst.Lambda, cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        stack.extend(reversed(code_children(current)))
    return found


#: Packages of the pipeline frameworks: their calls at module level build, compile or
#: run pipelines (``with DAG(...)``, ``Compiler().compile(p)``, ``p.serve()``), which the
#: graph covers; counting them as effects would put every step in every step's reach.
FRAMEWORK_PACKAGES = frozenset({"airflow", "prefect", "dagster", "zenml", "kfp", "flytekit", "metaflow", "kedro"})


def _pipeline_machinery(expression: cst.BaseExpression, module: ModuleInfo, index: "ProjectIndex") -> bool:
    """A call of a framework API, or of (a method of) a framework-decorated function or a
    constant built by a framework call: running or compiling a pipeline at import time."""
    if not isinstance(expression, cst.Call):
        return False
    func = expression.func
    while isinstance(func, cst.Call):  # ``Compiler().compile(...)``
        func = func.func
    while isinstance(func, cst.Attribute):
        names = module.qualified_names(func)
        if names and all(_framework_name(n, index) for n in names):
            return True
        func = func.value
        while isinstance(func, cst.Call):
            func = func.func
    if not isinstance(func, cst.Name):
        return False
    names = module.qualified_names(func)
    return bool(names) and all(_framework_name(n, index) for n in names)


def _framework_name(name: str, index: "ProjectIndex") -> bool:
    if name.split(".")[0] in FRAMEWORK_PACKAGES:
        return True
    resolved = index.resolve(name)
    if resolved is None:
        return False
    symbol = resolved[0]
    node = symbol.node
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        if any(_framework_expression(d.decorator, symbol.module) for d in node.decorators):
            return True
        return isinstance(node, cst.FunctionDef) and index.remember(
            ("framework-wrapper", name), lambda: _framework_wrapper(node, symbol.module))
    if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
        return _framework_expression(node.value, symbol.module)
    return False


def _framework_wrapper(function: cst.FunctionDef, module: ModuleInfo) -> bool:
    """A project's own constructor of a framework object: every ``return`` of the function
    returns a framework call (``def create_dag(**kw): return airflow.DAG(**kw)``, ``def
    python_task(dag, id, fn): return PythonOperator(...)``). Called at module level it
    builds the pipeline, as the framework call would, and the framework covers it."""
    returned: list[Optional[cst.BaseExpression]] = []
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Return):
            returned.append(current.value)
        elif not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            stack.extend(code_children(current))
    return bool(returned) and all(isinstance(value, cst.Call) and _framework_expression(value, module)
                                  for value in returned)


def _framework_expression(expression: cst.BaseExpression, module: ModuleInfo) -> bool:
    while isinstance(expression, cst.Call):
        expression = expression.func
    if not isinstance(expression, (cst.Name, cst.Attribute)):
        return False
    names = module.qualified_names(expression)
    return bool(names) and all(n.split(".")[0] in FRAMEWORK_PACKAGES for n in names)


def _logging_setup(expression: cst.BaseExpression, module: ModuleInfo) -> bool:
    """``logging.basicConfig(...)`` and friends configure output, not the computation."""
    if not isinstance(expression, cst.Call) or not isinstance(expression.func, (cst.Name, cst.Attribute)):
        return False
    names = module.qualified_names(expression.func)
    return bool(names) and all(n.startswith("logging.") for n in names)


def _is_registration(decorator: cst.BaseExpression) -> bool:
    func = decorator.func if isinstance(decorator, cst.Call) else decorator
    last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return "register" in last.lower()


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


# ---------------------------------------------------------------------- file reads
def file_reads(node: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex",
               references: Iterable[Symbol] = ()) -> list[FileRead]:
    """Every file read inside ``node`` (a function, class, statement or expression).
    ``references``: the definitions ``node`` names (its canonical form's), which tell
    whether it can see a path constant defined in another module."""
    if not may_read(module, references):
        return []  # most code reads no file: no need to walk its syntax tree
    return _file_reads(node, module, index)


def may_read(module: ModuleInfo, references: Iterable[Symbol] = ()) -> bool:
    """Whether code of ``module`` naming ``references`` can read a file at all (a cheap
    text gate: :func:`file_reads` finds none when this is False)."""
    return _may_read(module) or any(r.kind == "constant" and _may_read(r.module) for r in references)


def _file_reads(node: cst.CSTNode, module: ModuleInfo, index: "ProjectIndex") -> list[FileRead]:
    reads: list[FileRead] = []
    if isinstance(node, cst.ClassDef):
        # each method reads with its own local names
        for statement in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
            reads.extend(_file_reads(statement, module, index))
        return reads
    paths = _PathEvaluator(module, index, node)
    for call, _ in calls_and_imports(node)[0]:
        target = _read_target(call, module)
        if target is None:
            reads.extend(_passed_files(call, module, index, paths))
            continue
        argument, what = target
        if argument is None:
            continue
        value = paths.evaluate(argument, 0)
        if value is _EXTERNAL or value is None and paths.is_input(argument, 0):
            continue
        reads.append(FileRead(module.line(call), value if isinstance(value, str) else None, what))
    return reads


#: Text any file read of :func:`file_reads` needs in its module (a cheap gate before
#: walking syntax trees, which costs as much as the rest of a step's fingerprint): a
#: reader's name, or a string literal shaped like a file path (see :func:`_passed_files`).
#: A path constant of another module opens the gate through the references of the code
#: that uses it (:func:`file_reads`).
_READ_TEXT = re.compile(r"open\(|read_text\(|read_bytes\(|read_\w+\(|scan_\w+\(|load(?:txt)?\(|genfromtxt\(|"
                        r"fromfile\(|read_table\(|['\"][\w\-./]*(?:/[\w\-.]+|\.[A-Za-z]\w{0,5})['\"]")


def _may_read(module: ModuleInfo) -> bool:
    found = module.__dict__.get("_may_read")
    if found is None:
        found = module.__dict__["_may_read"] = _READ_TEXT.search(module.text) is not None
    return bool(found)


#: A value that names a file rather than some other string: a folder separator or a
#: file extension, no blanks (``"data/train.csv"``, ``"app.py"``; not ``"utf-8"``, ``"mean"``).
_FILE_SHAPE = re.compile(r"[\w\-./]*(?:/[\w\-.]+|\.[A-Za-z]\w{0,5})")
#: Callees that take a path without reading the file's bytes: writers, and questions
#: about the file system. A committed file a step overwrites is not an input of it.
_NOT_READING = re.compile(r"to_\w+|save\w*|write\w*|dump\w*|export\w*|mkdirs?|makedirs|remove|unlink|rmtree|rename|"
                          r"exists|is_?file|is_?dir|getsize|getmtime|stat|touch|chmod|r?glob|iglob|listdir|walk|"
                          r"scandir", re.IGNORECASE)
#: Keywords that name where something goes, not what is read (``output_path=``, ``dest=``).
_WHERE_TO = re.compile(r"(?:out|dest|target|save|write|dump|export)\w*", re.IGNORECASE)
#: Calls that run a command line: each word of a command string may name a script.
_COMMANDS = frozenset({"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
                       "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput", "os.system",
                       "os.popen"})
_PATH_BUILDERS = _PATH_CLASSES | _SAME_PATH | _RELATIVE_TO_FILE | {"os.path.join", "os.path.dirname",
                                                                   "os.path.basename"}


def _read_words(command: str) -> list[str]:
    """The words of a command line that may name a file it reads: not the target of an
    output redirection (``> out.txt``, ``2>> log``), unquoted."""
    words: list[str] = []
    redirected = False
    for word in command.split():
        if redirected:
            redirected = False
            continue
        if re.fullmatch(r"\d?>>?|&>", word):
            redirected = True
            continue
        if not re.match(r"\d?>|&>", word):
            words.append(word.strip("'\""))
    return words


_WRITE_MODE = re.compile(r"[rbt+]*[wax][rbt+]*")


def _opens_for_writing(call: cst.Call) -> bool:
    """``open(p, "w")`` of any library (``Image.open``, ``Path.open``): a mode literal that writes."""
    return any(isinstance(a.value, cst.SimpleString) and isinstance(a.value.evaluated_value, str)
               and _WRITE_MODE.fullmatch(a.value.evaluated_value) is not None and "r" not in a.value.evaluated_value
               for a in call.args)


def _passed_files(call: cst.Call, module: ModuleInfo, index: "ProjectIndex",
                  paths: "_PathEvaluator") -> list[FileRead]:
    """Files of the repository named by an argument of a call that is not a known reader:
    ``OmegaConf.load("conf/train.yaml")``, ``Image.open("assets/logo.png")``,
    ``api.upload_file(path_or_fileobj="app.py")``, or a repo helper ``load_table(DATA)``
    whose own ``pd.read_csv(path)`` reads its parameter (an input there, so not a read of
    the helper). Whatever the callee does with the file, the code can see its bytes: when
    the path names a file of the tree, they are fingerprinted like any read. A path that
    names no file is still asked about (``data_file_state`` records it, so a file that
    appears there later invalidates a cached result) but adds nothing to the fingerprint."""
    func = call.func
    while isinstance(func, cst.Call):
        func = func.func
    if isinstance(func, cst.Attribute):
        short = func.attr.value
    elif isinstance(func, cst.Name):
        short = func.value
    else:
        return []
    if _NOT_READING.fullmatch(short) or short == "open" and _opens_for_writing(call):
        return []
    names = module.qualified_names(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else frozenset()
    if names & _PATH_BUILDERS:
        return []  # ``Path("conf.yaml")`` builds the path; the call it is passed to uses it
    command = bool(names & _COMMANDS)
    found: list[FileRead] = []
    for arg in call.args:
        if arg.star or arg.keyword is not None and _WHERE_TO.fullmatch(arg.keyword.value):
            continue
        if command:  # ``subprocess.run(f"python scripts/train.py --epochs {n}", shell=True)``
            texts = [word for text in paths.passed_strings(arg.value, 0, partial=True) for word in _read_words(text)]
        else:
            texts = paths.passed_strings(arg.value, 0)
        for text in texts:
            if not _FILE_SHAPE.fullmatch(text) or text == module.path:
                continue  # ``f(__file__, ...)`` locates, it does not read its own module
            path = resolve_read(text)
            if path is None or index.data_file_state(path).endswith(":absent"):
                continue
            found.append(FileRead(module.line(call), path, f"{short}(...)"))
    return found


def template_reads(part: "BodyPart", module: ModuleInfo) -> list[FileRead]:
    """The files an operator's template argument may name (see the Airflow framework's
    ``template_parts``): one candidate per folder searched, the DAG file's folder first."""
    value = part.value
    if part.label != "template" or not isinstance(value, dict) or not isinstance(value.get("$template"), str):
        return []
    name = value["$template"]
    folders = [posixpath.dirname(module.path) or ".", *(f for f in value.get("searchpath", ()) if isinstance(f, str))]
    return [FileRead(0, posixpath.join(folder, name), "a template") for folder in folders]


def _read_target(call: cst.Call, module: ModuleInfo) -> Optional[tuple[Optional[cst.BaseExpression], str]]:
    """(the expression naming the file read, a short description), or None when the call
    reads no file. A write (``open(p, "w")``) reads nothing."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _READ_METHODS \
            and not any(a.keyword is None for a in call.args) \
            or isinstance(func, cst.Attribute) and func.attr.value == "open" and _mode_reads(call, 0):
        names = module.qualified_names(func) if func.attr.value == "open" else frozenset()
        if func.attr.value == "open" and names and not any(n.startswith("pathlib.") for n in names):
            return None  # some other library's open()
        if func.attr.value == "open" and not _looks_like_path(func.value, module):
            return None
        return func.value, f".{func.attr.value}()"
    if not _dotted_name(func):
        return None  # ``open(p).read`` is a method of what open() returned, not open itself
    names = module.qualified_names(func)
    name = next(iter(names)) if len(names) == 1 else ""
    if name not in _READERS_EXACT and not name.startswith(_READER_PREFIXES):
        return None
    if name in ("open", "io.open", "codecs.open") and not _mode_reads(call, 1):
        return None
    short = name.rsplit(".", 1)[-1]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in _PATH_KEYWORDS:
            return arg.value, f"{short}(...)"
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return (positional[0].value if positional else None), f"{short}(...)"


def _dotted_name(node: cst.BaseExpression) -> bool:
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _mode_reads(call: cst.Call, position: int) -> bool:
    """Whether an ``open`` call's mode (argument ``position`` or ``mode=``) reads."""
    mode: Optional[cst.BaseExpression] = None
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) > position:
        mode = positional[position].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "mode":
            mode = arg.value
    if mode is None:
        return True
    if isinstance(mode, cst.SimpleString):
        text = str(mode.evaluated_value)
        return not any(c in text for c in "wax") or "+" in text and "r" in text
    return True  # a computed mode may read


def _looks_like_path(expression: cst.BaseExpression, module: ModuleInfo) -> bool:
    """``Path(...).open()``, ``(HERE / "x").open()``: a receiver built as a path."""
    if isinstance(expression, cst.BinaryOperation) and isinstance(expression.operator, cst.Divide):
        return True
    if isinstance(expression, cst.Call) and isinstance(expression.func, (cst.Name, cst.Attribute)):
        return bool(module.qualified_names(expression.func) & _PATH_CLASSES)
    return isinstance(expression, cst.Name)


class _External:
    """A URL or another scheme: not a file of the repository."""


_EXTERNAL = _External()
_UNKNOWN = cst.Name("unknown__")  # a value bound at run time (a parameter, a loop variable)
PathValue = Union[str, None, _External]


class _PathEvaluator:
    """Computes path expressions from literals, ``__file__`` and path operations."""

    def __init__(self, module: ModuleInfo, index: "ProjectIndex", scope: cst.CSTNode) -> None:
        self.module = module
        self.index = index
        self.scope = scope
        self._locals: Optional[dict[str, list[cst.BaseExpression]]] = None
        self._loops: dict[str, list[cst.BaseExpression]] = {}  # loop variable -> what it iterates over

    def passed_strings(self, node: cst.BaseExpression, depth: int, partial: bool = False) -> list[str]:
        """The strings an argument computes to: its value, or each key and value of a
        list, tuple, set or dict literal it is (also through a local or a module constant
        bound once to one): ``upload_all({"app.py": "app.py", ...})``. ``partial``: an
        f-string whose other parts are unknown still gives its known words (a command line
        ``f"python train.py --epochs {n}"``), the unknown parts as NUL."""
        if depth > _MAX_DEPTH or isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
            return []
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return [t for e in node.elements if not isinstance(e, (cst.StarredElement,))
                    for t in self.passed_strings(e.value, depth + 1, partial)]
        if isinstance(node, cst.Dict):
            return [t for e in node.elements if isinstance(e, cst.DictElement)
                    for part in (e.key, e.value) for t in self.passed_strings(part, depth + 1, partial)]
        if isinstance(node, cst.Name):
            loops = self._loops_only(node.value)
            if loops:  # ``for name in SHIPPED: upload(name)``: each value it takes
                return [t for iterated in loops for t in self.passed_strings(iterated, depth + 1, partial)]
            evaluator, bound = self._bound_once(node)
            if isinstance(bound, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
                return evaluator.passed_strings(bound, depth + 1, partial)
        elif partial and isinstance(node, cst.FormattedString):
            pieces = []
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    known = None if part.format_spec or part.conversion else self.evaluate(part.expression, depth + 1)
                else:
                    known = part.value
                pieces.append(known if isinstance(known, str) else "\x00")
            return ["".join(pieces)]
        elif not isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
                                   cst.BinaryOperation, cst.Call, cst.Attribute)):
            return []
        value = self.evaluate(node, depth)
        return [value] if isinstance(value, str) else []

    def _loops_only(self, name: str) -> list[cst.BaseExpression]:
        """What a local iterates over when loops are all that bind it (not a parameter,
        not assigned too); empty otherwise."""
        assigned = self._local_assignments().get(name, [])
        loops = self._loops.get(name, [])
        return loops if loops and len(assigned) == 2 * len(loops) and name not in self._parameters() else []

    def _bound_once(self, node: cst.Name) -> tuple["_PathEvaluator", Optional[cst.BaseExpression]]:
        """The expression a name is bound to once, a local or a module constant (also an
        imported one), with the evaluator of its scope; None when there is no such one."""
        assigned = self._local_assignments().get(node.value)
        if assigned is not None:
            return self, assigned[0] if len(assigned) == 1 and assigned[0] is not _UNKNOWN else None
        names = self.module.qualified_names(node)
        resolved = self.index.resolve(next(iter(names))) if len(names) == 1 else None
        if resolved is None or resolved[1] or resolved[0].kind != "constant":
            return self, None
        symbol = resolved[0]
        values = [s.node for s in symbol.module.symbols.get(symbol.name, []) if s.kind == "constant"]
        if len(values) != 1 or not isinstance(values[0], (cst.Assign, cst.AnnAssign)) or values[0].value is None:
            return self, None
        evaluator = self if symbol.module is self.module else _PathEvaluator(symbol.module, self.index, values[0])
        return evaluator, values[0].value

    def evaluate(self, node: cst.BaseExpression, depth: int) -> PathValue:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            text = node.evaluated_value
            return _from_text(text) if isinstance(text, str) else None
        if isinstance(node, cst.FormattedString):
            return self._fstring(node, depth)
        if isinstance(node, cst.Name):
            if node.value == "__file__":
                return self.module.path
            return self._name(node, depth)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Divide, cst.Add)):
            left = self.evaluate(node.left, depth + 1)
            right = self.evaluate(node.right, depth + 1)
            if isinstance(node.operator, cst.Add):
                if isinstance(left, _External) or isinstance(left, str) and "://" in left:
                    return _EXTERNAL
                return left + right if isinstance(left, str) and isinstance(right, str) else None
            return _join(left, right)
        if isinstance(node, cst.Attribute) and node.attr.value == "parent":
            base = self.evaluate(node.value, depth + 1)
            return _parent(base)
        if isinstance(node, cst.Call):
            return self._call(node, depth)
        return None

    def _call(self, node: cst.Call, depth: int) -> PathValue:
        func = node.func
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        if isinstance(func, cst.Attribute) and not (self.module.qualified_names(func) & (
                _PATH_CLASSES | _SAME_PATH | {"os.path.join", "os.path.dirname"})):
            method = func.attr.value
            if method in _SAME_PATH_METHODS and not args:
                return self.evaluate(func.value, depth + 1)
            if method == "joinpath":
                value = self.evaluate(func.value, depth + 1)
                for arg in args:
                    value = _join(value, self.evaluate(arg, depth + 1))
                return value
            if method == "with_suffix" and len(args) == 1:
                base, suffix = self.evaluate(func.value, depth + 1), self.evaluate(args[0], depth + 1)
                if isinstance(base, str) and isinstance(suffix, str):
                    return posixpath.splitext(base)[0] + suffix
            return None
        names = self.module.qualified_names(func) if isinstance(func, (cst.Name, cst.Attribute)) else frozenset()
        if names & _PATH_CLASSES or names & {"os.path.join"}:
            if not args:
                return None
            value = self.evaluate(args[0], depth + 1)
            for arg in args[1:]:
                value = _join(value, self.evaluate(arg, depth + 1))
            return value
        if names & _SAME_PATH and len(args) == 1:
            return self.evaluate(args[0], depth + 1)
        if "os.path.dirname" in names and len(args) == 1:
            return _parent(self.evaluate(args[0], depth + 1))
        if names & _RELATIVE_TO_FILE and len(args) == 2:  # dagster's file_relative_path(__file__, "q.sql")
            return _join(_parent(self.evaluate(args[0], depth + 1)), self.evaluate(args[1], depth + 1))
        return None

    def _fstring(self, node: cst.FormattedString, depth: int) -> PathValue:
        pieces: list[str] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value)
                continue
            if part.format_spec or part.conversion:
                return None
            value = self.evaluate(part.expression, depth + 1)
            if not isinstance(value, str):
                # f"s3://bucket/{table}": a URL whatever the rest is
                return _EXTERNAL if isinstance(value, _External) or "://" in "".join(pieces) else None
            pieces.append(value)
        return _from_text("".join(pieces))

    def _name(self, node: cst.Name, depth: int) -> PathValue:
        # one assignment in the function, or a module constant: its value; several: not
        # computable statically
        evaluator, bound = self._bound_once(node)
        return evaluator.evaluate(bound, depth + 1) if bound is not None else None

    def is_input(self, node: cst.BaseExpression, depth: int) -> bool:
        """Whether a path is data handed in: rooted in a parameter of the function that
        reads it (``pd.read_csv(path)``, ``dataset.path``, ``os.path.join(self.uri, "x")``).
        Such a file is an input of the step, like any argument, not repository code; a
        path that only *uses* a parameter (``f"queries/{name}.sql"``) is not."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(node, cst.Name):
            assigned = self._local_assignments().get(node.value)
            if assigned is None:
                return False
            if all(value is _UNKNOWN for value in assigned):
                return node.value in self._parameters()
            return len(assigned) == 1 and self.is_input(assigned[0], depth + 1)
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            return self.is_input(node.value, depth + 1)
        if isinstance(node, cst.BinaryOperation):
            return self.is_input(node.left, depth + 1)
        if isinstance(node, cst.FormattedString):
            first = node.parts[0] if node.parts else None
            return isinstance(first, cst.FormattedStringExpression) and self.is_input(first.expression, depth + 1)
        if isinstance(node, cst.Call):
            func = node.func
            names = self.module.qualified_names(func) if isinstance(func, (cst.Name, cst.Attribute)) else frozenset()
            args = [a.value for a in node.args if a.keyword is None and not a.star]
            if names & (_PATH_CLASSES | _SAME_PATH | {"os.path.join", "os.path.dirname"}):
                return bool(args) and self.is_input(args[0], depth + 1)
            if isinstance(func, cst.Attribute):  # ``uri.replace(...)``, ``base.joinpath(...)``
                return self.is_input(func.value, depth + 1)
        return False

    def _parameters(self) -> set[str]:
        if not isinstance(self.scope, cst.FunctionDef):
            return set()
        params = self.scope.params
        found = {p.name.value for p in (*params.params, *params.posonly_params, *params.kwonly_params)}
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                found.add(star.name.value)
        return found

    def _local_assignments(self) -> dict[str, list[cst.BaseExpression]]:
        """Names assigned inside the function being read (its parameters count as unknown)."""
        if self._locals is None:
            self._locals = {}
            if isinstance(self.scope, cst.FunctionDef):
                for param in (*self.scope.params.params, *self.scope.params.posonly_params,
                              *self.scope.params.kwonly_params):
                    self._locals.setdefault(param.name.value, []).extend([_UNKNOWN, _UNKNOWN])
                stack: list[cst.CSTNode] = [self.scope.body]
                while stack:
                    current = stack.pop()
                    if isinstance(current, cst.Assign) and len(current.targets) == 1 \
                            and isinstance(current.targets[0].target, cst.Name):
                        self._locals.setdefault(current.targets[0].target.value, []).append(current.value)
                    elif isinstance(current, (cst.AnnAssign, cst.AugAssign)) and isinstance(current.target, cst.Name):
                        self._locals.setdefault(current.target.value, []).extend(
                            [current.value or _UNKNOWN, _UNKNOWN])
                    elif isinstance(current, (cst.For, cst.With, cst.NamedExpr, cst.CompFor)):
                        for name in _names_in(current):
                            self._locals.setdefault(name, []).extend([_UNKNOWN, _UNKNOWN])
                        if isinstance(current, (cst.For, cst.CompFor)) and isinstance(current.target, cst.Name):
                            self._loops.setdefault(current.target.value, []).append(current.iter)
                    if not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) or current is self.scope:
                        stack.extend(child_nodes(current))
        return self._locals


def _names_in(node: cst.CSTNode) -> list[str]:
    """Names bound by a loop, ``with ... as``, walrus or comprehension target."""
    targets: list[cst.CSTNode] = []
    if isinstance(node, (cst.For, cst.CompFor)):
        targets.append(node.target)
    elif isinstance(node, cst.With):
        targets.extend(item.asname.name for item in node.items if item.asname is not None)
    elif isinstance(node, cst.NamedExpr):
        targets.append(node.target)
    names: list[str] = []
    while targets:
        target = targets.pop()
        if isinstance(target, cst.Name):
            names.append(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            targets.extend(e.value for e in target.elements)
    return names


def _from_text(text: str) -> PathValue:
    if "://" in text:
        return _EXTERNAL  # s3://, gs://, https://: not a file of the repository
    return text


def _join(left: PathValue, right: PathValue) -> PathValue:
    if isinstance(left, _External) or isinstance(right, _External):
        return _EXTERNAL
    if not isinstance(left, str) or not isinstance(right, str):
        return None
    return posixpath.join(left, right)


def _parent(value: PathValue) -> PathValue:
    if not isinstance(value, str):
        return value
    normal = posixpath.normpath(value) if value else "."
    if normal in (".", ""):
        return ".."
    parent = posixpath.dirname(normal)
    return parent or "."


def static_path(expression: cst.BaseExpression, module: ModuleInfo, index: "ProjectIndex") -> Optional[str]:
    """A path expression of module-level code as a path from the scanned root, computed as
    file reads are; None when it cannot be computed, is a URL or points outside the tree."""
    value = _PathEvaluator(module, index, module.tree).evaluate(expression, 0)
    return resolve_read(value) if isinstance(value, str) else None


def resolve_read(path: str) -> Optional[str]:
    """A read path as a path from the scanned root (``a/b.sql``), or None when it points
    outside the tree (absolute, or above the root)."""
    if path.startswith("~") or posixpath.isabs(path) or (len(path) > 1 and path[1] == ":"):
        return None
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../") or normal in (".", ""):
        return None
    return normal


# ---------------------------------------------------------------------- the code of dynamic helpers
def helper_text(symbol: "Symbol") -> str:
    """The layout-free code (:func:`~pvcheck.analyzer.canonical.layout_free_tokens`) of a
    reached definition that the canonical form cannot stand for: a function or class,
    every assignment of a constant, or -- for a module-level effect, whose statement is not
    kept -- the whole module. What a reformat (line breaks, a trailing comma ``ruff
    format`` adds, quotes) or a comment edit cannot change, and what nothing else can
    change without changing the program. Memoised per module: a dynamic materializer is
    reached by many steps."""
    module = symbol.module
    memo = module.__dict__.setdefault("_helper_text", {})
    found = memo.get((symbol.kind, symbol.name))
    if found is None:
        nodes: list[cst.CSTNode]
        if symbol.kind == EFFECTS or symbol.node is None:
            nodes = [module.tree]
        elif symbol.kind == "constant":
            nodes = [s.node for s in module.symbols.get(symbol.name, []) if s.kind == "constant" and s.node is not None]
        else:
            nodes = [symbol.node]
        found = memo[(symbol.kind, symbol.name)] = digest_text(
            "\x1e".join("\x1f".join(layout_free_tokens(node)) for node in nodes))
    return found


def digest_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


__all__ = ["EFFECTS", "FILE", "FILE_PREFIX", "UNKNOWN_READ", "FileRead", "file_reads", "may_read", "module_effects",
           "resolve_read", "static_path", "helper_text", "template_reads"]
