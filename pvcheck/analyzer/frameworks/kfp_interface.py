"""A KFP component's interface as KFP names it: its task name and its outputs.

Shared by the decorated components (``kfp.py``) and the components made by a call or
loaded from a spec (``kfp_loaded.py``), which KFP names and wires the same way.
"""

from __future__ import annotations

import re

import libcst as cst

from pvcheck.plugin import AnalysisContext, ModuleInfo, Output, named_tuple_outputs

#: The modules KFP's DSL is imported from (KFP 2, and its v1 compatibility alias).
DSL = ("kfp.dsl", "kfp.v2.dsl")
OUTPUT_MARKERS = frozenset(f"{d}.Output" for d in DSL)
OUTPUT_PATHS = frozenset((*(f"{d}.OutputPath" for d in DSL), "kfp.dsl.types.type_annotations.OutputPath",
                          "kfp.components.OutputPath"))
SINGLE_OUTPUT = "Output"


def k8s_name(name: str) -> str:
    """KFP's ``maybe_rename_for_k8s``: lower case, runs of other characters become one ``-``."""
    return re.sub("-+", "-", re.sub("[^-0-9a-z]+", "-", name.lower())).strip("-")


def component_outputs(node: cst.FunctionDef, module: ModuleInfo, ctx: AnalysisContext,
                      containerized: bool) -> tuple[Output, ...]:
    """KFP's output names of a component, in its order: output parameters, then the return."""
    outputs: list[Output] = []
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is None:
            continue
        annotation = param.annotation.annotation
        if _is_output(annotation, module):
            outputs.append(Output(param.name.value, ctx.render(annotation, module)))
    if containerized or node.returns is None:
        return tuple(outputs)
    returned = node.returns.annotation
    if isinstance(returned, cst.Name) and returned.value == "None":
        return tuple(outputs)
    fields = named_tuple_outputs(returned, module, ctx)
    if fields is None:
        outputs.append(Output(SINGLE_OUTPUT, ctx.render(returned, module)))
    else:
        outputs.extend(fields)
    return tuple(outputs)


def _is_output(annotation: cst.BaseExpression, module: ModuleInfo) -> bool:
    if isinstance(annotation, cst.Subscript) and isinstance(annotation.value, (cst.Name, cst.Attribute)):
        return bool(module.qualified_names(annotation.value) & OUTPUT_MARKERS)
    if isinstance(annotation, cst.Call) and isinstance(annotation.func, (cst.Name, cst.Attribute)):
        return bool(module.qualified_names(annotation.func) & OUTPUT_PATHS)
    return False
