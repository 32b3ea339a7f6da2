"""The registry: every name a user can pass, in one module, and ``make(env_id, **overrides)``.

One table per kind of name, each with its ``register_*`` function and a lookup that fails with a
"did you mean" error (:mod:`studygym.errors`):

=====================================  ===================  =======================================
names                                  table                register / look up
=====================================  ===================  =======================================
env ids (``Review-v0``, ...)           ``REGISTRY``         ``register`` / ``spec``, ``make``
learners (``learner="fsrs"``, ...)     ``LEARNERS``         ``register_learner`` / ``get_learner``
schedulers and references (``fsrs``)   ``SCHEDULERS``       ``register_scheduler`` / ``get_scheduler``
each env family's baselines            ``BASELINES``        ``register_baselines`` / ``get_baselines``
saved agents (``ppo:DIR``, ``sb3:``)   ``SAVED_AGENTS``     ``register_saved_agent``
fit models (``fsrs``, ``hlr``, ...)    ``FIT_MODELS``       ``register_fit_model`` / ``get_fit_model``
=====================================  ===================  =======================================

The tables start empty. What ships is registered explicitly, in one place:
:func:`studygym.catalog.register_builtins`, which ``studygym/__init__.py`` calls once; no module
registers anything as a side effect of being imported (tests/test_architecture.py checks it). The
module sits just above the foundation (it imports only :mod:`studygym.envs.core` and
:mod:`studygym.errors`), so every layer can look names up here.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, Callable

import jax.numpy as jnp
import numpy as np

from studygym.envs.core import MAX_EPISODE_STEPS, Environment, check_config_types, check_param_shape
from studygym.errors import close_matches, did_you_mean, suggestion, unknown_names


@dataclass(frozen=True)
class EnvSpec:
    id: str
    env_class: Callable[..., Environment]
    config_class: type
    config_defaults: dict  # overrides of the config class's defaults for this id
    params_defaults: dict  # overrides of the env's default params for this id
    description: str = ""


REGISTRY: dict[str, EnvSpec] = {}


def register(env_id: str, env_class, config_class, description: str = "", config: dict | None = None,
             params: dict | None = None) -> None:
    REGISTRY[env_id] = EnvSpec(env_id, env_class, config_class, dict(config or {}), dict(params or {}),
                               description)
    gym_adapters = sys.modules.get("studygym.envs.gym")
    if gym_adapters is not None:  # registered after import: make gymnasium.make("studygym/<id>") work too
        gym_adapters.register_gym_env(env_id)


def registered_ids() -> list[str]:
    return sorted(REGISTRY)


def spec(env_id: str) -> EnvSpec:
    if env_id not in REGISTRY:
        close = close_matches(env_id, REGISTRY)
        if not close:  # case-insensitive prefix, e.g. "review" -> "Review-v0"
            close = [i for i in REGISTRY if i.lower().startswith(env_id.lower().split("-")[0])][:3]
        hint = suggestion(close, before=" ", capitalize=True)
        raise ValueError(f"Unknown env id {env_id!r}.{hint} Registered: {', '.join(registered_ids())}")
    return REGISTRY[env_id]


def _as_array(value: Any, like: Any, name: str = "value") -> Any:
    if dataclasses.is_dataclass(like) and not isinstance(like, type):
        return value
    # A list for a scalar would make the reward a vector; 2 grade probabilities for 4 would be read
    # out of bounds (JAX clamps): every param keeps its default's shape.
    check_param_shape(name, value, like)
    try:
        wide = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    dtype = getattr(like, "dtype", jnp.float32)
    limit = np.finfo(dtype).max if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).max
    if np.any(np.isfinite(wide) & (np.abs(wide) > limit)):  # would silently become inf (or wrap)
        raise ValueError(f"{name} must fit in {np.dtype(dtype).name} (|value| <= {float(limit):.4g}), got {value!r}")
    return jnp.asarray(np.asarray(value, dtype=np.float64 if np.issubdtype(dtype, np.floating) else dtype),
                       dtype=dtype)


def make(env_id: str, **overrides) -> tuple[Environment, Any]:
    """Build a registered env and its params.

    Overrides name a static config field (``n_items=50``, ``learner="fsrs"``), an env param
    (``cost_per_minute=0.01``) or a learner param (``forget_sd=0.5``, ``w=[...]``). ``learner`` may
    also be a fit result (``studygym.fitting.core.FitResult``): a population around the fitted params.
    ``preset`` names a brain-learner preset (``lab_novice``, ``anki_like``, ``older_adult``,
    ``sleep_deprived``; ``studygym.envs.learners.brain.PRESETS``) as the base of the learner params,
    for any env whose learner is ``brain``: ``make("Review-v0", learner="brain", preset="older_adult")``;
    learner-param overrides apply on top. Anything else raises ``ValueError`` with the nearest
    names. Params are validated here, never later as NaN.
    """
    s = spec(env_id)
    overrides = dict(overrides)
    preset = overrides.pop("preset", None)
    fitted = overrides.get("learner")
    if fitted is not None and not isinstance(fitted, str) and hasattr(fitted, "overrides"):
        overrides = {**{k: v for k, v in overrides.items() if k != "learner"}, **fitted.overrides()}
    config_fields = {f.name for f in dataclasses.fields(s.config_class)}
    merged = {**s.config_defaults, **s.params_defaults, **overrides}
    config_kwargs = {k: v for k, v in merged.items() if k in config_fields}
    config = s.config_class(**config_kwargs)
    check_config_types(config)  # learner=None, n_items=2.5: the field named, not a crash inside the env
    env = s.env_class(config)
    env.id = env_id
    if env.max_steps > MAX_EPISODE_STEPS:
        sizes = ", ".join(f"{f.name}={getattr(config, f.name):,}" for f in dataclasses.fields(config)
                          if isinstance(getattr(config, f.name), int) and not isinstance(getattr(config, f.name), bool))
        raise ValueError(f"{env_id}: an episode of {env.max_steps:,} steps ({sizes}) is longer than the "
                         f"{MAX_EPISODE_STEPS:,} allowed (per-item counts are float32); shorten n_days or the steps "
                         "per day")
    params = env.default_params
    if preset is not None:
        if not env.learner.presets:  # declared by the learner: only the brain learner has presets
            raise ValueError(f"preset={preset!r} needs the brain learner (learner='brain'); {env_id} here uses "
                             f"learner={env.learner.name!r}")

        params = params.replace(learner=env.learner.preset(preset))  # ValueError naming the close presets
    param_fields = {f.name for f in dataclasses.fields(params)}
    learner_params = getattr(params, "learner", None)
    learner_fields = ({f.name for f in dataclasses.fields(learner_params)}
                      if dataclasses.is_dataclass(learner_params) else set())
    param_changes, learner_changes, unknown = {}, {}, []
    for key, value in merged.items():
        if key in config_fields:
            continue
        if key in param_fields and key != "learner":
            param_changes[key] = _as_array(value, getattr(params, key), key)
        elif key in learner_fields:
            learner_changes[key] = _as_array(value, getattr(learner_params, key), f"learner.{key}")
        else:
            unknown.append(key)
    if unknown:
        known = sorted(config_fields | param_fields | learner_fields)
        raise ValueError(f"Unknown override(s) for {env_id}: {unknown_names(unknown, known)}. "
                         f"Known: {', '.join(known)}")
    if learner_changes:
        param_changes["learner"] = learner_params.replace(**learner_changes)
    params = params.replace(**param_changes)
    env.validate_params(params)
    return env, params


# ----------------------------------------------------------------------------------------------
# Learners: ``learner="<name>"`` in every env built on the learner protocol
# ----------------------------------------------------------------------------------------------

#: name -> learner (an object of the protocol ``studygym.envs.learners.base.Learner``).
LEARNERS: dict[str, Any] = {}


def register_learner(learner: Any) -> None:
    LEARNERS[learner.name] = learner


def get_learner(name: str) -> Any:
    if name not in LEARNERS:
        hint = did_you_mean(name, LEARNERS, cutoff=0.3)
        raise ValueError(f"unknown learner {name!r}{hint} (known: {', '.join(sorted(LEARNERS))})")
    return LEARNERS[name]


# ----------------------------------------------------------------------------------------------
# Policies: schedulers, each env family's baselines, saved agents
# ----------------------------------------------------------------------------------------------

#: scheduler name -> factory ``(env, **settings) -> policy`` (``studygym.agents.schedulers.make_policy``).
SCHEDULERS: dict[str, Callable[..., Any]] = {}

#: The non-privileged schedulers in display order (every Review-family leaderboard lists them).
CLASSIC: list[str] = []


def register_scheduler(name: str, factory: Callable[..., Any], classic: bool = False) -> None:
    """Make ``make_policy(name, env, **settings)`` build ``factory(env, **settings)``; ``classic``
    also lists it in :data:`CLASSIC`."""
    SCHEDULERS[name] = factory
    if classic and name not in CLASSIC:
        CLASSIC.append(name)


def get_scheduler(name: str) -> Callable[..., Any]:
    if name not in SCHEDULERS:
        hint = did_you_mean(name, SCHEDULERS, before=" ", capitalize=True)
        raise ValueError(f"Unknown scheduler {name!r}.{hint} Known: {', '.join(SCHEDULERS)}")
    return SCHEDULERS[name]


@dataclass(frozen=True)
class Baselines:
    """The policies of one env family (an env's declared ``family``)."""

    policies: Callable[[Any], list]  # env -> its baseline policies, in display order
    by_name: Callable[..., Any]  # (name, env, **settings) -> one of them (or a variant) by name
    takes_settings: bool = False  # by_name passes a scheduler's settings on (the tuned knob)
    constant: type = int  # the action type of ``constant:<action>``


#: env family (``review``, ``deck``, ...) -> its baselines.
BASELINES: dict[str, Baselines] = {}


def register_baselines(family: str, baselines: Baselines) -> None:
    BASELINES[family] = baselines


def get_baselines(family: str) -> Baselines:
    if family not in BASELINES:
        raise ValueError(f"no baselines registered for env family {family!r}{did_you_mean(family, BASELINES)}"
                         f" (known: {', '.join(BASELINES)})")
    return BASELINES[family]


#: Prefixes of saved agents: ``<prefix>:<run dir>`` -> loader ``(run_dir, env=...) -> policy``.
SAVED_AGENTS: dict[str, Callable[..., Any]] = {}


def register_saved_agent(prefix: str, loader: Callable[..., Any]) -> None:
    SAVED_AGENTS[prefix] = loader


# ----------------------------------------------------------------------------------------------
# Fit models (studygym.fitting.core)
# ----------------------------------------------------------------------------------------------

#: name -> ``studygym.fitting.model.FitModel``, in display order.
FIT_MODELS: dict[str, Any] = {}


def register_fit_model(model: Any) -> Any:
    sizes = {len(model.param_names), len(model.default_params), len(model.lower), len(model.upper)}
    if len(sizes) != 1:
        raise ValueError(f"model {model.name!r}: param_names, default_params, lower and upper differ in length")
    FIT_MODELS[model.name] = model
    return model


def get_fit_model(name: str) -> Any:
    if name not in FIT_MODELS:
        raise ValueError(f"model must be one of {', '.join(sorted(FIT_MODELS))}, got {name!r}"
                         f"{did_you_mean(name, FIT_MODELS)}")
    return FIT_MODELS[name]
