"""Semantic cache keys and code versions for pipeline frameworks.

One module per framework, each importing its framework at the top: import
``pvcheck.integrations.prefect`` (or ``dagster``, ``zenml``, ``flyte``) only where that
framework is installed (``pip install 'pvcheck-ml[prefect]'``). Nothing else in pvcheck
imports these modules, so pvcheck itself never needs a framework.

Every integration feeds the framework :func:`pvcheck.code_version`: the function's
canonical form plus the repo-local helpers it reaches, so a comment does not bust the
cache and an edited helper in another module does.
"""
