"""Policies by env and by name: the baselines of each env, and ``name -> policy``.

Which baselines apply is the env's declared ``family`` (:class:`studygym.envs.core.Environment`):
Review-family envs (``review``, ``sleep``, ``tagging``) get the classic schedulers
(``studygym.agents.schedulers``), the Sleep-v0 / Tagging-v0 wrappers around them
(``agents/schedulers/tutoring.py``) and the privileged references; Deck-v0, Practice-v0 and
SSPMMC-DHP-v0 each have their own set. A saved agent loads by prefix: ``ppo:DIR`` (JAX PPO),
``sb3:DIR`` (Stable-Baselines3); ``constant:<action>`` repeats one action.

The harness, the suites, the tuning and the planner all resolve policies here.
"""

from __future__ import annotations

from studygym.agents.policy import Constant
from studygym.agents.ppo import load_ppo
from studygym.agents.sb3 import load_sb3
from studygym.agents.schedulers import CLASSIC, SCHEDULERS, make_policy
from studygym.agents.schedulers.practice import make_practice_policy, practice_policies
from studygym.agents.schedulers.sspmmc import make_sspmmc_policy, sspmmc_policies
from studygym.agents.schedulers.tutoring import tutoring_baseline, tutoring_baselines
from studygym.errors import did_you_mean

#: Desired retentions offered as fixed Deck-v0 policies (the apps' setting).
DECK_RETENTIONS = (0.70, 0.75, 0.80, 0.85, 0.90, 0.95, 0.99)

#: Prefixes of saved agents: ``<prefix>:<run dir>`` -> loader ``(run_dir, env=...) -> policy``.
SAVED_AGENTS = {"ppo": load_ppo, "sb3": load_sb3}


def is_deck(env) -> bool:
    return env.family == "deck"


def is_practice(env) -> bool:
    return env.family == "practice"


def is_sspmmc(env) -> bool:
    return env.family == "sspmmc"


def deck_policies() -> list:
    """Deck-v0 baselines: FSRS at a fixed desired retention, and the apps' alternative schedulers."""
    policies = [Constant(r, name=f"fsrs_dr_{r:.2f}") for r in DECK_RETENTIONS]
    policies.append(Constant(0.9, name="anki_sm2", env_overrides={"scheduler": "anki_sm2"}))
    policies.append(Constant(0.9, name="fixed_interval", env_overrides={"scheduler": "fixed"}))
    return policies


def all_policies(env) -> list:
    """Every baseline for ``env``, and the privileged references where there are: oracle_greedy (myopic)
    and the planner (the upper reference, agents/schedulers/planner.py)."""
    # Deck-v0, Practice-v0, SSPMMC-DHP-v0: the planner chooses among whole policies by rollouts.
    planner = [make_policy("planner", env)] if "planner" in SCHEDULERS else []
    if is_deck(env):
        return deck_policies() + planner
    if is_practice(env):
        return practice_policies(env) + planner
    if is_sspmmc(env):
        return sspmmc_policies(env) + planner
    references = ["oracle_greedy"] + (["planner"] if "planner" in SCHEDULERS else [])
    return ([make_policy(name, env) for name in CLASSIC] + tutoring_baselines(env)
            + [make_policy(name, env) for name in references])


def policy_by_name(name: str, env, **settings):
    """A policy by name: a classic scheduler, a Deck-v0 baseline, ``constant:<action>``, or a saved
    run (``ppo:DIR``, ``sb3:DIR``). ``settings`` go to a classic scheduler (or to the scheduler
    inside a Sleep-v0 / Tagging-v0 wrapper), e.g. the tuned knob of :mod:`studygym.tuning`."""
    prefix = name.split(":", 1)[0]
    if settings and (prefix in (*SAVED_AGENTS, "constant") or is_deck(env) or is_practice(env)
                     or is_sspmmc(env)):
        raise ValueError(f"policy {name!r} takes no settings here, got {sorted(settings)}")
    if ":" in name and prefix in SAVED_AGENTS:  # a saved run: ppo:DIR, sb3:DIR
        return SAVED_AGENTS[prefix](name.split(":", 1)[1], env=env)
    if name.startswith("constant:"):
        return Constant(float(name.split(":", 1)[1]) if is_deck(env) else int(name.split(":", 1)[1]), name=name)
    if name == "planner" and (is_deck(env) or is_practice(env) or is_sspmmc(env)):
        return make_policy("planner", env)
    if is_deck(env):
        by_name = {p.name: p for p in deck_policies()}
        if name not in by_name:
            raise ValueError(f"unknown Deck-v0 policy {name!r}{did_you_mean(name, by_name)}"
                             f" (known: {', '.join(by_name)}, constant:<retention>)")
        return by_name[name]
    if is_practice(env):
        return make_practice_policy(name, env)
    if is_sspmmc(env):
        return make_sspmmc_policy(name, env)
    wrapped = tutoring_baseline(name, env, **settings)  # cram, spaced+sleep, <scheduler>+bed<H>, +reward_<rule>
    return make_policy(name, env, **settings) if wrapped is None else wrapped


__all__ = ["DECK_RETENTIONS", "SAVED_AGENTS", "all_policies", "deck_policies", "policy_by_name", "is_deck",
           "is_practice", "is_sspmmc"]
