"""Policies by env and by name: the baselines of each env, and ``name -> policy``.

Which baselines apply is the env's declared ``family`` (:class:`studygym.envs.core.Environment`),
looked up in :data:`studygym.registry.BASELINES` (registered by :mod:`studygym.catalog`):
Review-family envs (``review``, ``sleep``, ``tagging``) get the classic schedulers
(``studygym.agents.schedulers``), the Sleep-v0 / Tagging-v0 wrappers around them
(``agents/schedulers/tutoring.py``) and the privileged references; Deck-v0, Practice-v0 and
SSPMMC-DHP-v0 each have their own set. A saved agent loads by prefix
(:data:`studygym.registry.SAVED_AGENTS`): ``ppo:DIR`` (JAX PPO), ``sb3:DIR`` (Stable-Baselines3);
``constant:<action>`` repeats one action.

The harness, the suites, the tuning and the planner all resolve policies here.
"""

from __future__ import annotations

from studygym.agents.policy import Constant
from studygym.agents.schedulers import CLASSIC, SCHEDULERS, make_policy
from studygym.agents.schedulers.tutoring import tutoring_baseline, tutoring_baselines
from studygym.errors import did_you_mean
from studygym.registry import SAVED_AGENTS, get_baselines

#: Desired retentions offered as fixed Deck-v0 policies (the apps' setting).
DECK_RETENTIONS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 0.99)


def is_deck(env) -> bool:
    return env.family == "deck"


def is_practice(env) -> bool:
    return env.family == "practice"


def is_sspmmc(env) -> bool:
    return env.family == "sspmmc"


def deck_policies(env=None) -> list:
    """Deck-v0 baselines: FSRS at a fixed desired retention, and the apps' alternative schedulers."""
    policies = [Constant(r, name=f"fsrs_dr_{r:.2f}") for r in DECK_RETENTIONS]
    policies.append(Constant(0.9, name="anki_sm2", env_overrides={"scheduler": "anki_sm2"}))
    policies.append(Constant(0.9, name="fixed_interval", env_overrides={"scheduler": "fixed"}))
    return policies


def deck_policy(name: str, env):
    """A Deck-v0 baseline by name (as :func:`deck_policies` names them)."""
    by_name = {p.name: p for p in deck_policies()}
    if name not in by_name:
        raise ValueError(f"unknown Deck-v0 policy {name!r}{did_you_mean(name, by_name)}"
                         f" (known: {', '.join(by_name)}, constant:<retention>)")
    return by_name[name]


def review_policies(env) -> list:
    """A Review-family env's baselines: the classic schedulers, the Sleep-v0 / Tagging-v0 wrappers
    around them, and the myopic privileged reference oracle_greedy."""
    return ([make_policy(name, env) for name in CLASSIC] + tutoring_baselines(env)
            + [make_policy("oracle_greedy", env)])


def review_policy(name: str, env, **settings):
    """A Review-family policy by name: a Sleep-v0 / Tagging-v0 wrapper (cram, spaced+sleep,
    <scheduler>+bed<H>, <scheduler>+reward_<rule>) or a scheduler, with the scheduler's settings."""
    wrapped = tutoring_baseline(name, env, **settings)
    return make_policy(name, env, **settings) if wrapped is None else wrapped


def all_policies(env) -> list:
    """Every baseline for ``env`` (its family's, :data:`studygym.registry.BASELINES`), then the planner,
    the upper reference (agents/schedulers/planner.py), where it is registered."""
    planner = [make_policy("planner", env)] if "planner" in SCHEDULERS else []
    return get_baselines(env.family).policies(env) + planner


def policy_by_name(name: str, env, **settings):
    """A policy by name: one of ``env``'s family's baselines, ``constant:<action>``, the planner, or a
    saved run (``ppo:DIR``, ``sb3:DIR``). ``settings`` go to a classic scheduler (or to the scheduler
    inside a Sleep-v0 / Tagging-v0 wrapper), e.g. the tuned knob of :mod:`studygym.evaluation.tuning`."""
    prefix = name.split(":", 1)[0]
    family = get_baselines(env.family)
    if settings and (prefix in (*SAVED_AGENTS, "constant") or not family.takes_settings):
        raise ValueError(f"policy {name!r} takes no settings here, got {sorted(settings)}")
    if ":" in name and prefix in SAVED_AGENTS:  # a saved run: ppo:DIR, sb3:DIR
        return SAVED_AGENTS[prefix](name.split(":", 1)[1], env=env)
    if name.startswith("constant:"):
        return Constant(family.constant(name.split(":", 1)[1]), name=name)
    if name == "planner" and not family.takes_settings:
        return make_policy("planner", env)
    return family.by_name(name, env, **settings)


__all__ = ["DECK_RETENTIONS", "SAVED_AGENTS", "all_policies", "deck_policies", "deck_policy", "policy_by_name",
           "review_policies", "review_policy", "is_deck", "is_practice", "is_sspmmc"]
