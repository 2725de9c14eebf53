"""Why each built-in rule asks for the decision it does: the text ``pvcheck rules ID`` shows
under "Why". Kept apart from the rule definitions so each policy module stays about
detection; a plug-in rule carries its own in :attr:`pvcheck.policies.base.Rule.rationale`.
"""

from __future__ import annotations

from pvcheck.diagnostics import POLICY_FAILED

RATIONALE: dict[str, str] = {
    "PV101": "Whitespace, line breaks, quotes, parentheses and trailing commas never reach the interpreter's "
             "bytecode: the step computes exactly what it computed before, so its cached results stay valid.",
    "PV102": "Comments and docstrings do not run. A docstring is data only for code that reads __doc__, which "
             "pipeline steps do not rely on.",
    "PV103": "Reordering imports, or adding or removing one the pipeline never uses, changes no name a step "
             "refers to; names are fingerprinted fully qualified, so an alias change is invisible too.",
    "PV104": "A local variable renamed everywhere it is used (an alpha-equivalent body) computes the same values "
             "in the same order.",
    "PV105": "A print or logging statement whose arguments are side-effect free only writes to a log: the step's "
             "outputs are the same. Arguments that call methods on data (df.pop, inplace=True) are code and are "
             "not covered.",
    "PV106": "The body is unchanged, so the computation is; only its name moved. pvcheck reports the rename so "
             "that a framework keyed by name can be told.",
    "PV107": "Parameter and return annotations of a plain helper function are not evaluated into its "
             "behaviour: Python stores them and moves on. A step's signature is its interface and stays "
             "PV301; class-level annotations define dataclass, pydantic and attrs fields and stay code. A team "
             "that validates helpers with annotations can set PV107 = \"version\".",
    "PV108": "A function is called for what its body computes, and a constant read for its value; neither "
             "depends on the module it lives in or the name it has. pvcheck compares what the names refer to "
             "(the callee's body, recursively, the constant's value), so a move or a consistent rename with the "
             "same content is the same computation. Names that can be observed keep counting: a class (pickles "
             "and registries store its qualified name), a function passed as a value, a decorated function, one "
             "reading __name__ or __file__, a list or dict constant (one shared mutable object), and any reach "
             "that rebinds a repo-local name.",
    "PV109": "Python evaluates an immutable literal to the same value wherever it is written: df.head(N_ROWS) "
             "with N_ROWS = 100 bound once is df.head(100). Only immutable values qualify (numbers, strings, "
             "True/False/None, tuples and operators of these): a list or dict constant is a shared object that "
             "code may mutate, so extracting one stays a version.",
    "PV110": "A value bound to a local variable that nothing reads is never used: only computing it can matter, "
             "so `x = f()` is `f()` (the fix ruff's F841 applies) and an inert literal (`x = []`) is nothing. A "
             "variable counts as read when its name appears anywhere else in the function, nested functions and "
             "classes included, or when the function can read its locals by other means (locals(), vars(), "
             "eval, exec, frames); the binding then stays code.",
    "PV201": "Decorator keywords such as enable_cache, retries or experiment_tracker change how a step is run, "
             "not what it computes: another run of the same version.",
    "PV202": "with_options/configure arguments and YAML run config values are configuration supplied at run "
             "time: another run of the same version.",
    "PV203": "A parameter's default is a value fed to the same code: runs with different values are runs of the "
             "same version.",
    "PV204": "A literal passed at the call site is an input value, not code: another run of the same version.",
    "PV205": "Keys that define the environment (images, requirements, packages) change the libraries the code "
             "runs against, so the same source can compute something else: a new version.",
    "PV206": "Against a lock file the base records only a fingerprint of the configuration, so pvcheck cannot "
             "tell an environment key from a plain value; a missed version is worse than a spurious one.",
    "PV301": "A step's parameters are its interface: adding, removing, renaming or re-typing one changes what it "
             "accepts and what callers pass, so earlier results no longer describe it.",
    "PV302": "A step's outputs are its interface: downstream steps and artifact stores key on their names and "
             "types, so a changed output is a changed step.",
    "PV401": "Statements, expressions, literals and calls are the computation itself; any change that no cosmetic "
             "rule explains may change the results.",
    "PV402": "A step computes with the helpers it calls, in any module of the repository: a change there changes "
             "the step as surely as a change in its own body (the gap ZenML #1011 and Prefect #7056 describe).",
    "PV403": "A step invocation added or removed changes which computations the pipeline performs.",
    "PV404": "Rewiring a data or order edge changes what a step receives or when it runs, so the pipeline "
             "computes something else even where every step is unchanged.",
    "PV405": "Independent invocations have no edge between them: the order they are written in is not an order "
             "they run in, and the graph, the only thing the framework executes, is the same.",
    "PV406": "Code the analyzer cannot follow statically (dynamic construction, getattr, dynamic=True) cannot be "
             "proved harmless, and run must be proved: any change there is a new version.",
    "PV407": "The pipeline body's own code decides what runs and with which data: a computation, a helper "
             "call or a look-up in it changes the pipeline even when every step is unchanged, and no rule "
             "proves such a change harmless.",
    "PV408": "What a step computes also depends on what its modules do when imported (a seed, a pandas "
             "option, a registry mutated) and on the repository files it reads by a path known statically; a "
             "change there that no other rule explains can change results, so it is a new version.",
    "PV501": "When most of the base revision's steps have no counterpart, the pipeline computes something else "
             "under an old name: its history no longer describes it, so it starts a new lineage.",
    "PV502": "Two different pipelines under one declared name would silently share versions and runs in a "
             "framework that identifies pipelines by name.",
    "PV503": "Same graph, same steps: only the name or the file changed, so the lineage continues.",
    "PV504": "A pipeline the base revision does not have has no history to continue: it starts a lineage.",
    POLICY_FAILED: "A policy that crashed has not proved anything; the change is counted as a new version so that a "
             "failure can never pass as a run.",
}

#: The one line ``pvcheck rules`` shows for rules that are not a policy's (engine findings).
ENGINE_RULES: dict[str, tuple[str, str, str]] = {
    # id: (policy, default decision, summary)
    POLICY_FAILED: ("(any)", "version", "a policy failed on a pipeline; the change is counted as a new version"),
}
