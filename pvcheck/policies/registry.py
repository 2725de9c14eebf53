"""Finding the policies to run: built-ins, the ``pvcheck.policies`` entry point group,
and dotted paths (``package.module:Class``) from ``Config.plugins``.

Built-in policies are known by name here, so they work even when pvcheck is used from a
source checkout without installed metadata; ``Config.policies`` says which of them run.
Third-party policies found through entry points always run once installed (like pytest
plugins); their rules can still be turned off one by one with ``Config.rules``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pvcheck.config import Config, setting_location
from pvcheck.errors import ConfigError
from pvcheck.policies.base import Policy, Rule

ENTRY_POINT_GROUP = "pvcheck.policies"

BUILTIN_POLICIES: dict[str, str] = {
    "cosmetic": "pvcheck.policies.cosmetic:CosmeticPolicy",
    "config": "pvcheck.policies.config:ConfigPolicy",
    "signature": "pvcheck.policies.signature:SignaturePolicy",
    "structural": "pvcheck.policies.structural:StructuralPolicy",
    "identity": "pvcheck.policies.identity:IdentityPolicy",
}


class PluginError(ConfigError):
    """A policy plugin that cannot be imported or is not a policy."""


def load_object(dotted: str) -> Any:
    """``package.module:Attribute`` (or ``package.module.Attribute``) imported."""
    module_name, sep, attribute = dotted.partition(":")
    if not sep:
        module_name, _, attribute = dotted.rpartition(".")
    if not module_name or not attribute:
        raise PluginError(f"policy plugin '{dotted}' is not a dotted path", hint="write it as package.module:Class")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an ImportError, or the plugin's own import-time failure
        raise PluginError(f"cannot import policy plugin '{dotted}': {type(exc).__name__}: {exc}",
                          hint="install the package that provides it, or fix the path") from None
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"policy plugin '{dotted}': '{module_name}' has no '{attribute}'",
                              hint="check the class name") from None
    return obj


def instantiate(obj: Any, origin: str) -> Policy:
    """A policy instance from a class (or an instance) found at ``origin``."""
    if isinstance(obj, type):
        if not callable(getattr(obj, "evaluate", None)):
            raise PluginError(f"policy plugin '{origin}' is not a policy",
                              hint="subclass pvcheck.policies.Policy and set 'name' and 'evaluate'")
        try:
            policy = obj()
        except Exception as exc:
            raise PluginError(f"policy plugin '{origin}' cannot be created: {type(exc).__name__}: {exc}",
                              hint="a policy class must take no constructor arguments") from None
    else:
        policy = obj
    if not callable(getattr(policy, "evaluate", None)) or not isinstance(getattr(policy, "name", None), str) \
            or not policy.name:
        raise PluginError(f"policy plugin '{origin}' is not a policy",
                          hint="subclass pvcheck.policies.Policy and set 'name' and 'evaluate'")
    return policy


def builtin_policy(name: str) -> Policy:
    return instantiate(load_object(BUILTIN_POLICIES[name]), BUILTIN_POLICIES[name])


def plugin_entry_points() -> list[EntryPoint]:
    """Installed third-party policies (entry points whose name is not a built-in)."""
    found = entry_points(group=ENTRY_POINT_GROUP)
    return sorted((ep for ep in found if ep.name not in BUILTIN_POLICIES), key=lambda ep: ep.name)


def load_policies(config: Config) -> list[Policy]:
    """Every policy that runs under ``config``, built-ins first, each name once."""
    policies: list[Policy] = [builtin_policy(name) for name in BUILTIN_POLICIES if name in config.policies]
    for ep in plugin_entry_points():
        try:
            obj = ep.load()
        except Exception as exc:
            raise PluginError(f"cannot load policy plugin '{ep.name}' ({ep.value}): {type(exc).__name__}: {exc}",
                              hint="reinstall or uninstall the package that provides it") from None
        policies.append(instantiate(obj, ep.value))
    for dotted in config.plugins:
        try:
            policies.append(instantiate(load_object(dotted), dotted))
        except PluginError as exc:  # point at the setting that names the plug-in
            raise exc.located(*setting_location(config, "plugins")) from None
    unique: dict[str, Policy] = {}
    for policy in policies:
        unique.setdefault(policy.name, policy)
    return list(unique.values())


def builtin_rules() -> list[Rule]:
    """Every rule of the built-in policies, sorted by id."""
    rules = [rule for name in BUILTIN_POLICIES for rule in builtin_policy(name).rules]
    return sorted(rules, key=lambda r: r.id)


def all_rules(config: Config | None = None) -> list[Rule]:
    """Every rule of every policy that runs under ``config`` (plugins included)."""
    policies = load_policies(config or Config())
    rules = {rule.id: rule for policy in policies for rule in getattr(policy, "rules", ())}
    for rule in builtin_rules():
        rules.setdefault(rule.id, rule)
    return sorted(rules.values(), key=lambda r: r.id)


__all__ = [
    "BUILTIN_POLICIES",
    "ENTRY_POINT_GROUP",
    "PluginError",
    "all_rules",
    "builtin_rules",
    "load_object",
    "load_policies",
]
