"""The mixing policies by the names configs and the CLI use: a name → class map, and the wrappers by name.

A policy class owns its parameters (``Params``, see :class:`~skillit.policy.base.MixingPolicy`) and is added
here by the decorator :func:`register_policy` where it is defined::

    @register_policy("skill-it")
    class SkillIt(MixingPolicy):
        class Params(PolicyParams):
            graph: Graph = Field(description="...")
            eta: float = Field(0.5, ge=0)
        ...

``build_policy(name, params)`` validates a config's ``params`` by that model (unknown keys and bad values are
refused before anything runs), resolves graph strings through the caller's ``resolve_graph`` (``identity``,
``builtin:NAME``, ``prerequisites``, a file path) and builds the policy with ``Class.from_params``; then the
method's ``wrappers`` (``{floor: 0.01}``, ...) wrap it, each a registered wrapper class. The conformance suite
in ``tests/policy/test_conformance.py`` checks every registered policy.

A policy of your own (outside skillit) registers itself the same way when its module is imported
(``imports:`` in a config, ``skillit run --import``), or is declared by an installed package under the
entry-point group ``skillit.policies``, loaded the first time a name is not found here
(:func:`load_policy_entry_points`; docs/policies.md, "Your own policy").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from skillit.errors import PolicyError, SkillitError, did_you_mean
from skillit.policy.base import (
    GraphResolver,
    MixingPolicy,
    NoParams,
    PolicyParams,
    resolve_graph_spec,
)
from skillit.utils.plugins import HOW_TO_REGISTER, POLICY_GROUP, entry_points, load_entry_point

P = TypeVar("P", bound=type[MixingPolicy])
W = TypeVar("W", bound=type[MixingPolicy])  # a skillit.policy.wrappers.Wrapper subclass

POLICIES: dict[str, type[MixingPolicy]] = {}
"""Every registered policy class by its name, in the order they were registered."""

WRAPPERS: dict[str, Any] = {}
"""Every wrapper class (a :class:`~skillit.policy.wrappers.Wrapper` subclass) by the key a method's ``wrappers``
list names it with (``floor``, ``smoothed``, ...)."""


@dataclass(frozen=True)
class PolicySpec:
    """A policy registered by a factory rather than a class (the older form, still accepted by
    :func:`register_policy`): ``factory(params, resolve_graph)`` builds it from ``params_model``'s values."""

    name: str
    params_model: type[BaseModel]
    factory: Callable[[Any, GraphResolver], MixingPolicy]
    description: str
    online: bool  # whether the mixture can change during a run


def _class_of(spec: PolicySpec) -> type[MixingPolicy]:
    """A registry entry for a :class:`PolicySpec`: a class whose ``from_params`` calls the spec's factory."""

    def from_params(cls: type[MixingPolicy], params: Any, resolve_graph: GraphResolver = resolve_graph_spec) -> Any:
        return spec.factory(params, resolve_graph)

    return type(f"Registered({spec.name})", (MixingPolicy,), {
        "name": spec.name, "Params": spec.params_model, "description": spec.description, "online": spec.online,
        "from_params": classmethod(from_params), "spec": spec, "__module__": __name__,
        "init": None, "update": None, "weights": None,  # never built: from_params returns the factory's policy
    })


def _add(cls: type[MixingPolicy], replace: bool) -> None:
    if cls.name in POLICIES and POLICIES[cls.name] is not cls and not replace:
        raise PolicyError(f"policy {cls.name!r} is already registered; choose another name or pass replace=True")
    POLICIES[cls.name] = cls


@overload
def register_policy(name: str, *, replace: bool = False) -> Callable[[P], P]: ...
@overload
def register_policy(name: P, *, replace: bool = False) -> P: ...
@overload
def register_policy(name: PolicySpec, *, replace: bool = False) -> PolicySpec: ...
def register_policy(name: Any, *, replace: bool = False) -> Any:
    """Add a policy to the registry, under the name configs give as ``policy:`` (or as the method's name).

    As a decorator with the name, ``@register_policy("my-policy")`` on a :class:`MixingPolicy` subclass (it
    sets the class's ``name``); or ``register_policy(MyPolicy)`` for a class that has its ``name``; or, the
    older form, ``register_policy(PolicySpec(...))``. A name already registered is refused unless ``replace``.
    """
    if isinstance(name, PolicySpec):
        _add(_class_of(name), replace)
        return name
    if isinstance(name, type) and issubclass(name, MixingPolicy):
        _add(name, replace)
        return name
    if not isinstance(name, str) or not name:
        raise PolicyError(f"register_policy takes a policy name, a MixingPolicy subclass or a PolicySpec, got {name!r}")

    def decorate(cls: P) -> P:
        if not (isinstance(cls, type) and issubclass(cls, MixingPolicy)):
            raise PolicyError(f"@register_policy({name!r}) decorates a MixingPolicy subclass, got {cls!r}")
        cls.name = name
        _add(cls, replace)
        return cls

    return decorate


def register_wrapper(name: str) -> Callable[[W], W]:
    """``@register_wrapper("floor")`` on a :class:`~skillit.policy.wrappers.Wrapper` subclass: configs then
    wrap a method's policy with it (``wrappers: [{floor: 0.01}]``); it sets the class's ``wrapper_name``."""

    def decorate(cls: W) -> W:
        if name in WRAPPERS and WRAPPERS[name] is not cls:
            raise PolicyError(f"wrapper {name!r} is already registered")
        cls.wrapper_name = name  # type: ignore[attr-defined]
        WRAPPERS[name] = cls
        return cls

    return decorate


def parameter_summary(params: type[BaseModel]) -> str:
    """The fields of a ``Params`` model with their defaults, ``graph, eta=0.5, window=3`` (required: no default)."""
    parts = []
    for field, info in params.model_fields.items():
        if info.is_required():
            parts.append(field)
        else:
            default = info.get_default(call_default_factory=True)
            parts.append(f"{field}={'null' if default is None else str(default).lower() if isinstance(default, bool) else default}")
    return ", ".join(parts)


def policy_names() -> list[str]:
    return list(POLICIES)


_LOADED_ENTRY_POINTS: set[str] = set()


def load_policy_entry_points(name: str | None = None) -> None:
    """Register the policies installed packages declare under the entry-point group ``skillit.policies``.

    The entry point's name is the policy's name; its object is a :class:`MixingPolicy` subclass or a
    :class:`PolicySpec` (registered), or a module or a function without arguments whose import or call
    registers the policy (a function may also return a class, a PolicySpec or a list of them). With ``name``,
    only the entry points of that name are loaded. Each entry point is loaded once; one that fails to load is
    a :class:`PolicyError` naming it and its package.
    """
    for point in entry_points(POLICY_GROUP):
        if (name is not None and point.name != name) or point.value in _LOADED_ENTRY_POINTS:
            continue
        try:
            found = load_entry_point(point, POLICY_GROUP)
            if callable(found) and not isinstance(found, (type, PolicySpec)):
                found = found()
        except SkillitError as exc:
            raise PolicyError(str(exc)) from None
        _LOADED_ENTRY_POINTS.add(point.value)
        for entry in found if isinstance(found, (list, tuple)) else [found]:
            if isinstance(entry, PolicySpec):
                registered = getattr(POLICIES.get(entry.name), "spec", None) is entry
            elif isinstance(entry, type) and issubclass(entry, MixingPolicy):
                registered = POLICIES.get(entry.name) is entry
            else:
                continue
            if not registered:
                if entry.name in POLICIES:
                    dist = getattr(point, "dist", None)
                    raise PolicyError(f"the entry point {point.name!r} = {point.value!r} (group {POLICY_GROUP!r}"
                                      f"{f', package {dist.name}' if dist is not None else ''}) declares policy "
                                      f"{entry.name!r}, which is already registered; rename it in that package")
                register_policy(entry)


def installed_policy_names() -> list[str]:
    """Names declared by installed packages (``skillit.policies`` entry points), loaded or not."""
    return [point.name for point in entry_points(POLICY_GROUP)]


def get_policy(name: str) -> type[MixingPolicy]:
    """The policy class registered as ``name`` (an installed package's entry point of that name is loaded
    first if needed); an unknown name is a PolicyError with the closest names and how to register one."""
    if name not in POLICIES:
        load_policy_entry_points(name)
    if name not in POLICIES:
        known = policy_names() + [n for n in installed_policy_names() if n not in POLICIES]
        raise PolicyError(f"unknown policy {name!r}; {did_you_mean(name, known)}. {HOW_TO_REGISTER[0].upper()}"
                          f"{HOW_TO_REGISTER[1:]}")
    return POLICIES[name]


get_policy_spec = get_policy  # the name before policies were classes (it returned a PolicySpec)


def validate_params(name: str, params: dict[str, Any] | None, *, where: str = "") -> PolicyParams:
    """``params`` validated by the ``Params`` of the policy ``name`` (a PolicyError says which key and why)."""
    return get_policy(name).parse_params(where=where, **(params or {}))


def upgrade_description(described: Any) -> Any:
    """A policy's ``describe()`` as written before a parameter was renamed (a run's manifest, a checkpoint's
    set-up), in the spelling of now: in every description of a registered policy (wrapped and staged ones
    too), each old name of its ``Params.renamed`` becomes the new one (``{"name": "aioli", "normalize": true}``
    → ``{"name": "aioli", "normalise": true}``), so that an unchanged run still resumes."""
    if isinstance(described, list):
        return [upgrade_description(item) for item in described]
    if not isinstance(described, dict):
        return described
    out = {key: upgrade_description(value) for key, value in described.items()}
    cls = POLICIES.get(out["name"]) if isinstance(out.get("name"), str) else None
    params = getattr(cls, "Params", None)
    renamed = getattr(params, "renamed", None) or {}
    for old, new in renamed.items():
        if old in out and new not in out:
            out = {(new if key == old else key): value for key, value in out.items()}  # in place: same key order
    return out


def build_policy(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    resolve_graph: GraphResolver | None = None,
    wrappers: list[dict[str, Any]] | None = None,
    where: str = "",
) -> MixingPolicy:
    """Build a registered policy, e.g. ``build_policy("skill-it", {"graph": "builtin:lego", "eta": 0.5}, ...)``.

    Graph strings are resolved by ``resolve_graph`` (without one: ``builtin:NAME`` and file paths only); each
    of ``wrappers`` (one-key mappings, ``{floor: 0.01}``) then wraps the policy, in order.
    """
    cls = get_policy(name)
    policy = cls.from_params(validate_params(name, params, where=where), resolve_graph or resolve_graph_spec)
    for wrapper in wrappers or []:
        if not isinstance(wrapper, dict) or len(wrapper) != 1:
            raise PolicyError(f"{where}: each wrapper is a one-key mapping like {{floor: 0.01}}, got {wrapper!r}")
        ((wname, value),) = wrapper.items()
        if wname not in WRAPPERS:
            raise PolicyError(f"{where}: unknown wrapper {wname!r}; {did_you_mean(wname, list(WRAPPERS))}")
        policy = WRAPPERS[wname].wrap(policy, value, where=where)
    return policy


def params_for_steps(name: str, params: dict[str, Any], scale: float) -> dict[str, Any]:
    """Policy ``name``'s ``params`` for a run ``scale`` times as long (``skillit run --steps``): parameters that
    count optimiser steps keep their place in the run, the others stay as they are.

    ``staged``: each stage's ``steps`` becomes ``max(1, round(steps · scale))`` (2 stages of 1000 steps at
    ``--steps 200`` of a 2000-step config: 100 and 100). The parameters are read as written, before validation;
    what does not have the expected shape is left for validation to report.
    """
    if name != "staged" or not isinstance(params.get("stages"), list):
        return params
    stages = [
        {**stage, "steps": max(1, round(stage["steps"] * scale))}
        if isinstance(stage, dict) and isinstance(stage.get("steps"), int) else stage
        for stage in params["stages"]
    ]
    return {**params, "stages": stages}


__all__ = [
    "POLICIES",
    "WRAPPERS",
    "NoParams",
    "PolicySpec",
    "build_policy",
    "get_policy",
    "get_policy_spec",
    "installed_policy_names",
    "load_policy_entry_points",
    "parameter_summary",
    "params_for_steps",
    "policy_names",
    "register_policy",
    "register_wrapper",
    "upgrade_description",
    "validate_params",
]
