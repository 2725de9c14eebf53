"""Names resolve as Python resolves them: a name bound in a package's ``__init__`` shadows
the submodule of the same name; star re-exports respect a literal ``__all__``; chains of
re-exports are followed through several packages; import cycles end.

Each form is checked on both sides: the layout where it resolves to the step function,
and the near-miss where Python gives something else (the submodule, nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import pytest

from pvcheck.analyzer.discovery import discover
from pvcheck.analyzer.index import ProjectIndex
from tests.conftest import only_pipeline, write_tree

STEP = """
    from zenml import step

    @step
    def trainer(x: int) -> int:
        return x + 1
"""


def index_of(root: Path, files: Mapping[str, str]) -> ProjectIndex:
    write_tree(root, files)
    return ProjectIndex(discover(root), 2_000_000, [])


def what(index: ProjectIndex, qualified: str) -> Optional[tuple[str, str, tuple[str, ...]]]:
    """(kind, qualified name of the symbol, attribute path left) for a resolution."""
    found = index.resolve(qualified)
    if found is None:
        return None
    symbol, rest = found
    return symbol.kind, symbol.qualified_name, rest


def test_init_binding_shadows_submodule(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from .trainer import trainer\n",
        "steps/trainer.py": STEP,
    })
    assert what(index, "steps.trainer") == ("function", "steps.trainer.trainer", ())
    # the module path form (``from steps.trainer import trainer``) is the same function
    assert what(index, "steps.trainer.trainer") == ("function", "steps.trainer.trainer", ())
    # an attribute of the function, through the package's binding
    assert what(index, "steps.trainer.with_options") == ("function", "steps.trainer.trainer", ("with_options",))


def test_without_binding_the_submodule_is_meant(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "",
        "steps/trainer.py": STEP,
    })
    assert what(index, "steps.trainer") == ("module", "steps.trainer", ())
    assert what(index, "steps.trainer.trainer") == ("function", "steps.trainer.trainer", ())
    assert what(index, "steps.trainer.with_options") is None  # no such name in the submodule


def test_absolute_import_in_init_shadows_too(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from steps.trainer import trainer as trainer\n",
        "steps/trainer.py": STEP,
    })
    assert what(index, "steps.trainer") == ("function", "steps.trainer.trainer", ())


def test_from_dot_import_submodule_in_init_is_the_module(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from . import trainer\n",
        "steps/trainer.py": STEP,
    })
    assert what(index, "steps.trainer") == ("module", "steps.trainer", ())


def test_init_binding_to_another_name_does_not_shadow(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from .trainer import trainer as train_model\n",
        "steps/trainer.py": STEP,
    })
    assert what(index, "steps.trainer") == ("module", "steps.trainer", ())
    assert what(index, "steps.train_model") == ("function", "steps.trainer.trainer", ())


def test_init_binding_to_third_party_shadows_with_nothing(tmp_path):
    # Python gives sklearn's object: not the repo's submodule, and not a repo definition
    index = index_of(tmp_path, {
        "steps/__init__.py": "from sklearn import trainer\n",
        "steps/trainer.py": STEP,
    })
    assert what(index, "steps.trainer") is None


def test_star_reexport_respects_literal_all(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from .loader import *\n",
        "steps/loader.py": """
            from zenml import step

            @step
            def loader() -> int:
                return 1

            def _private():
                return 1

            def helper():
                return 2

            __all__ = ["loader"]
        """,
    })
    assert what(index, "steps.loader") == ("function", "steps.loader.loader", ())
    assert what(index, "steps.helper") is None  # not in __all__: the star import does not bind it
    assert what(index, "steps._private") is None


def test_star_reexport_without_all_skips_private_names(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from .loader import *\n",
        "steps/loader.py": "def loader():\n    return 1\n\ndef _private():\n    return 2\n",
    })
    assert what(index, "steps.loader") == ("function", "steps.loader.loader", ())
    assert what(index, "steps._private") is None


def test_computed_all_keeps_every_public_name(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from .loader import *\n",
        "steps/loader.py": "def loader():\n    return 1\n\n__all__ = [n for n in ('loader',)]\n",
    })
    assert what(index, "steps.loader") == ("function", "steps.loader.loader", ())


def test_later_star_import_wins(tmp_path):
    index = index_of(tmp_path, {
        "steps/__init__.py": "from .old import *\nfrom .new import *\n",
        "steps/old.py": "def clean():\n    return 1\n",
        "steps/new.py": "def clean():\n    return 2\n",
    })
    assert what(index, "steps.clean") == ("function", "steps.new.clean", ())


def test_reexport_chain_through_several_packages(tmp_path):
    index = index_of(tmp_path, {
        "project/__init__.py": "from project.steps import trainer\n",
        "project/steps/__init__.py": "from .training import *\n",
        "project/steps/training/__init__.py": "from .trainer import trainer\n__all__ = ('trainer',)\n",
        "project/steps/training/trainer.py": STEP,
    })
    assert what(index, "project.trainer") == ("function", "project.steps.training.trainer.trainer", ())
    assert what(index, "project.steps.trainer") == ("function", "project.steps.training.trainer.trainer", ())
    assert what(index, "project.steps.training.trainer") == (
        "function", "project.steps.training.trainer.trainer", ())
    assert what(index, "project.steps.training.trainer.trainer") == (
        "function", "project.steps.training.trainer.trainer", ())


def test_import_cycles_end(tmp_path):
    index = index_of(tmp_path, {
        "a/__init__.py": "from a.b import thing\nfrom .c import *\n",
        "a/b.py": "from a import thing\n",
        "a/c.py": "from a import *\nfrom a.c import other\n",
        "loop/__init__.py": "from .x import *\n",
        "loop/x.py": "from loop import *\n",
    })
    assert what(index, "a.thing") is None
    assert what(index, "a.b.thing") is None
    assert what(index, "a.other") is None
    assert what(index, "loop.anything") is None
    assert what(index, "loop.x") == ("module", "loop.x", ())


# ------------------------------------------------------------------ through a whole scan
PIPELINE_FORMS = {
    "from_package": ("from steps import trainer", "trainer"),
    "from_package_alias": ("from steps import trainer as fit", "fit"),
    "import_package": ("import steps", "steps.trainer"),
    "import_submodule": ("import steps.trainer", "steps.trainer"),
    "from_submodule": ("from steps.trainer import trainer", "trainer"),
}


@pytest.mark.parametrize("form", sorted(PIPELINE_FORMS))
def test_step_reexported_by_package_is_found(tree, form):
    imports, call = PIPELINE_FORMS[form]
    project = tree({
        "steps/__init__.py": "from .trainer import trainer\n",
        "steps/trainer.py": STEP,
        "pipelines/__init__.py": "",
        "pipelines/training.py": f"""
            from zenml import pipeline
            {imports}

            @pipeline
            def training():
                {call}(1)
        """,
    })
    pipeline = only_pipeline(project)
    assert [(s.id, s.function) for s in pipeline.steps] == [("trainer", "steps.trainer.trainer")]


def test_relative_import_of_reexporting_package(tree):
    project = tree({
        "app/__init__.py": "",
        "app/steps/__init__.py": "from .trainer import trainer\n",
        "app/steps/trainer.py": STEP,
        "app/pipelines/__init__.py": "",
        "app/pipelines/training.py": """
            from zenml import pipeline
            from ..steps import trainer

            @pipeline
            def training():
                trainer(1)
        """,
    })
    assert [s.function for s in only_pipeline(project).steps] == ["app.steps.trainer.trainer"]


@pytest.mark.parametrize("init", ["", "from . import trainer\n"])
def test_submodule_is_not_a_step(tree, init):
    """Near-miss: without a binding in ``__init__`` (or binding the submodule itself),
    ``trainer`` is the module; calling it is not a step invocation."""
    project = tree({
        "steps/__init__.py": init,
        "steps/trainer.py": STEP,
        "pipelines/__init__.py": "",
        "pipelines/training.py": """
            from zenml import pipeline
            from steps import trainer

            @pipeline
            def training():
                trainer.trainer(1)
        """,
    })
    pipeline = only_pipeline(project)
    assert [s.function for s in pipeline.steps] == ["steps.trainer.trainer"]


def test_from_dot_import_in_a_sibling_module(tree):
    project = tree({
        "steps/__init__.py": "from .trainer import trainer\n",
        "steps/trainer.py": STEP,
        "steps/pipeline.py": """
            from zenml import pipeline
            from . import trainer

            @pipeline
            def training():
                trainer(1)
        """,
    })
    assert [s.function for s in only_pipeline(project).steps] == ["steps.trainer.trainer"]


def test_helper_reached_through_reexport_is_fingerprinted(tree):
    files = {
        "utils/__init__.py": "from .scaling import scale\n",
        "utils/scaling.py": "def scale(x):\n    return x * 2\n",
        "steps/__init__.py": "from .trainer import trainer\n",
        "steps/trainer.py": """
            from zenml import step
            from utils import scale

            @step
            def trainer(x: int) -> int:
                return scale(x)
        """,
        "flow.py": """
            from zenml import pipeline
            from steps import trainer

            @pipeline
            def training():
                trainer(1)
        """,
    }
    before = only_pipeline(tree(files)).steps[0]
    after = only_pipeline(tree({**files, "utils/scaling.py": "def scale(x):\n    return x * 3\n"})).steps[0]
    assert [h.name for h in before.helpers] == ["utils.scaling.scale"]
    assert before.body_fingerprint != after.body_fingerprint
