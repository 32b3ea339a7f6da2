"""Classic spaced-repetition schedulers as jittable policies (the baselines every agent must beat).

Every scheduler speaks the :class:`studygym.agents.policy.Policy` protocol::

    >>> import jax, studygym
    >>> from studygym.agents.schedulers import make_policy
    >>> env, params = studygym.make("Review-v0", n_items=10)
    >>> policy = make_policy("sm2", env)
    >>> obs, state = env.reset(jax.random.key(0), params)
    >>> pstate = policy.init(jax.random.key(1), params)
    >>> action, pstate = policy.act(jax.random.key(2), pstate, obs)
    >>> int(action)  # the first unseen item
    0

A scheduler reads only the observation (what a real app records) and keeps its own per-item
estimates (an SM-2 ease, a Leitner box, an FSRS stability with its own weights), updated from the
grades it observes. The oracle (``privileged = True``) reads the learner's hidden state instead.

Families: :mod:`.basic` (random, round_robin, massed), :mod:`.interval` (fixed, pimsleur, leitner,
sm2, anki_sm2, fsrs), :mod:`.model` (hlr, memorize, threshold), :mod:`.oracle` (oracle_greedy).
"""

from __future__ import annotations

import inspect
from typing import Any

from studygym.errors import unknown_names
from studygym.registry import CLASSIC, SCHEDULERS, get_scheduler, register_scheduler

from .base import IntervalScheduler, ItemScheduler, ObsScheduler, ObsView, ReviewEvent, SchedulerState
from .basic import MassedScheduler, RandomScheduler, RoundRobinScheduler
from .interval import (AnkiSM2Scheduler, FixedScheduler, FSRSScheduler, LeitnerScheduler, PimsleurScheduler,
                       SM2Scheduler)
from .model import EbisuScheduler, HLRScheduler, MemorizeScheduler, ThresholdScheduler
from .oracle import OracleGreedy

# SCHEDULERS (name -> factory ``(env, **settings) -> policy``) and CLASSIC (the non-privileged ones in
# display order: no model, fixed rules, adaptive intervals, model-based) are tables of
# studygym.registry, filled by studygym.catalog.register_builtins (which also registers "planner",
# the privileged upper reference of agents/schedulers/planner.py).


def settings_of(name: str) -> list[str]:
    """The keyword settings scheduler ``name`` accepts."""
    signature = inspect.signature(get_scheduler(name).__init__)
    return [p for p in signature.parameters if p not in ("self", "env")]


def make_policy(name: str, env: Any, **kwargs: Any):
    """Build the scheduler ``name`` for ``env`` (a studygym env object); ``kwargs`` are its settings.

    Unknown names and settings raise ``ValueError`` with the closest names; bad values raise
    ``ValueError`` naming the setting and its allowed range.
    """
    factory = get_scheduler(name)
    accepted = settings_of(name)
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise ValueError(f"Unknown setting(s) for scheduler {name!r}: {unknown_names(unknown, accepted, n=2)}. "
                         f"Accepted: {', '.join(accepted) or 'none'}")
    return factory(env, **kwargs)


__all__ = [
    "SCHEDULERS", "CLASSIC", "make_policy", "register_scheduler", "settings_of",
    "ObsScheduler", "ItemScheduler", "IntervalScheduler", "ObsView", "ReviewEvent", "SchedulerState",
    "RandomScheduler", "RoundRobinScheduler", "MassedScheduler", "FixedScheduler", "PimsleurScheduler",
    "LeitnerScheduler", "SM2Scheduler", "AnkiSM2Scheduler", "FSRSScheduler", "HLRScheduler",
    "MemorizeScheduler", "ThresholdScheduler", "OracleGreedy",
]
