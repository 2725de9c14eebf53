"""Finding the policies to run: built-ins, the ``pvcheck.policies`` entry point group,
and dotted paths (``package.module:Class``) from ``Config.plugins``.

Built-in policies are known by name here, so they work even when pvcheck is used from a
source checkout without installed metadata; ``Config.policies`` says which of them run.
Third-party policies found through entry points always run once installed (like pytest
plugins); their rules can still be turned off one by one with ``Config.rules``.
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pvcheck.config import Config, setting_location
from pvcheck.diagnostics import POLICY_FAILED
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
    """Every policy that runs under ``config``, built-ins first, each name once.

    Every installed or named plug-in is loaded and checked (its rule ids in its own
    namespace, unique), also when ``disabled_policies`` turns it off; an override in
    ``rules`` must name a rule that exists.
    """
    loaded = _load_all(config)
    check_rule_ids(loaded)
    known_names = set(BUILTIN_POLICIES) | {policy.name for policy in loaded}
    for name in config.disabled_policies:
        if name not in known_names:
            raise ConfigError(f"unknown policy '{name}' in 'disabled_policies'",
                              hint=f"use one of: {', '.join(sorted(known_names))}").located(
                *setting_location(config, "disabled_policies"))
    known_rules = {rule.id for policy in loaded for rule in policy.rules} | {r.id for r in builtin_rules()} \
        | set(ENGINE_RULE_IDS)
    for rule_id in config.rules:
        if rule_id not in known_rules:
            raise ConfigError(f"no rule '{rule_id}' to override in 'rules'",
                              hint="'pvcheck rules' lists every rule id; remove the line or fix the id").located(
                *setting_location(config, rule_id))
    return [policy for policy in loaded if policy.name not in config.disabled_policies]


#: Findings the engine itself makes (a policy that failed).
ENGINE_RULE_IDS = (POLICY_FAILED,)
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def check_rule_ids(policies: list[Policy]) -> None:
    """Each rule id once; plug-in ids under the plug-in's declared prefix, never ``PV``."""
    owner: dict[str, str] = {rule_id: "pvcheck" for rule_id in ENGINE_RULE_IDS}
    for policy in policies:
        builtin = policy.name in BUILTIN_POLICIES and type(policy).__module__.startswith("pvcheck.")
        prefix = "PV" if builtin else getattr(policy, "rule_prefix", "")
        if not builtin and (not _PREFIX.match(prefix or "") or prefix == "PV"):
            raise PluginError(f"policy plug-in '{policy.name}' declares no rule prefix of its own"
                              + (f" ('{prefix}')" if prefix else ""),
                              hint="set rule_prefix on the policy class to capitals other than PV, e.g. 'ACME', "
                                   "and name its rules ACME001, ACME002 ...")
        for rule in policy.rules:
            if not re.fullmatch(re.escape(prefix) + r"\d{3}", rule.id):
                raise PluginError(f"policy '{policy.name}' declares rule '{rule.id}' outside its namespace "
                                  f"'{prefix}'", hint=f"name its rules {prefix}001, {prefix}002 ...")
            if rule.id in owner and owner[rule.id] != policy.name:
                raise PluginError(f"rule id '{rule.id}' of policy '{policy.name}' is already taken by "
                                  f"'{owner[rule.id]}'", hint="give the rule an id of its own")
            owner[rule.id] = policy.name


def _load_all(config: Config) -> list[Policy]:
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
