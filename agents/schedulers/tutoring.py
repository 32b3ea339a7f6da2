"""Baselines for Sleep-v0 and Tagging-v0: classic schedulers with a bedtime or a reward rule, and cramming.

Sleep-v0 (action ``N + 1`` = sleep):

- ``<scheduler>+bed<H>`` (:class:`Bedtime`): the scheduler's choice while awake, sleep at hour H
  (the learner then wakes at the env's wake hour). E.g. ``fsrs+bed23``.
- ``spaced+sleep`` (:class:`Bedtime` over round robin): an evening session every day (18:00 to
  23:00: two passes over the default 10 items), then sleep at 23:00.
- ``cram`` (:class:`Cram`): no study until 18:00 on the last day, then round robin through the
  night until the exam (an all-nighter: 56 reviews with the default 15-minute slots, as many as
  spaced+sleep's 60). Before that it rests, so it sleeps at the env's bed hour on earlier nights.

Tagging-v0 (actions ``N + 1 + j`` = deliver a reward/novelty event, then do ``j``):

- ``<scheduler>+reward_never``, ``+reward_every_success``, ``+reward_surprise``
  (:class:`RewardRule`): the scheduler picks the item; an event is delivered right after a
  successful retrieval (never; after every one; after one the scheduler expected to fail, i.e. its
  own FSRS estimate of recall, from what the app sees, was below ``surprise_threshold`` when it
  chose the item). The surprise rule needs a scheduler with an FSRS estimate (fsrs, threshold).

Every wrapper reads only the observation (Review-v0's columns and the env's extra globals) and
keeps the inner scheduler's own state, so the inner scheduler runs as it does on Review-v0.
"""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Array, feature_columns, pytree_dataclass
from studygym.envs.learners import fsrs as fsrs_maths

from . import make_policy
from .base import SchedulerState, check_kwarg

#: Names of the Tagging-v0 rules.
REWARD_RULES = ("never", "every_success", "surprise")


def _env_kind(env: Any) -> str:
    """``"sleep"``, ``"tagging"`` (the env's declared ``family``) or ``""``."""
    return env.family if env.family in ("sleep", "tagging") else ""


def _check_action_layout(env: Any, expected: tuple[int, int], user: str, meaning: str) -> None:
    """The wrappers build actions ``b * (N + g) + j``: the env must declare that layout."""
    layout = env.action_layout
    if layout is None or tuple(int(x) for x in layout) != expected:
        raise ValueError(f"{user} needs action_layout {expected} ({meaning}); env {env.name!r} "
                         f"declares {layout}")


def _as_rested(new: Any, old: Any, n_items: int) -> Any:
    """The inner scheduler's state after its ``act``, as if it had rested: its choice was overridden,
    so it must not record the item as shown (it still learnt from the previous step's grade)."""
    if isinstance(new, SchedulerState):
        return new.replace(shown=jnp.int32(n_items), last_day=old.last_day, shown_elapsed=jnp.float32(0.0),
                           shown_calendar=jnp.int32(0), shown_first=jnp.bool_(False))
    return new


class _SleepWrapper:
    """Shared reading of Sleep-v0's observation: day, hours since the wake hour, asleep flag."""

    privileged = False

    def __init__(self, env: Any, inner: Any):
        if _env_kind(env) != "sleep":
            raise ValueError(f"{type(self).__name__} needs Sleep-v0, got {env.name!r}")
        _check_action_layout(env, (1, 2), type(self).__name__, "items, rest, sleep")
        self.inner = inner
        # Globals by name from the env's declared contract (ValueError naming any missing one).
        self.progress_column, self.asleep_column = feature_columns(
            env, ("progress", "asleep"), block="global", user=type(self).__name__)
        self.n_items, self.n_item_features, _ = env.obs_layout
        self.slots_per_day = env.config.slots_per_day
        self.max_steps = env.max_steps
        self.exam_day = env.config.exam_day
        self.wake_hour = env.config.wake_hour

    def clock(self, obs: Array) -> tuple[Array, Array, Array]:
        """(day, hours since the day's wake hour, asleep) from the observation."""
        glob = jnp.asarray(obs, jnp.float32)[self.n_items * self.n_item_features:]
        step = jnp.round(glob[self.progress_column] * self.max_steps).astype(jnp.int32)
        slot = step % self.slots_per_day
        return step // self.slots_per_day, slot * (24.0 / self.slots_per_day), glob[self.asleep_column] > 0.5

    def since_wake(self, hour: float) -> float:
        return (hour - self.wake_hour) % 24.0

    def init(self, key: Array, env_params: Any) -> Any:
        return self.inner.init(key, env_params)


class Bedtime(_SleepWrapper):
    """A scheduler with a bedtime: its choice from ``study_from_hour`` (default: the wake hour) until
    ``bed_hour``, rest before, sleep from ``bed_hour`` (the learner then wakes at the wake hour)."""

    def __init__(self, env: Any, inner: Any, bed_hour: float = 23.0, study_from_hour: float | None = None,
                 name: str | None = None):
        super().__init__(env, inner)
        self.bed_hour = check_kwarg("bed_hour", bed_hour, 0.0, 24.0, high_open=True)
        start = self.wake_hour if study_from_hour is None else study_from_hour
        self.study_from_hour = check_kwarg("study_from_hour", start, 0.0, 24.0, high_open=True)
        if self.since_wake(self.study_from_hour) >= self.since_wake(self.bed_hour):
            raise ValueError(f"study_from_hour ({start}) must come before bed_hour ({bed_hour}) in the waking day")
        self.name = name or f"{inner.name}+bed{self.bed_hour:g}"

    def act(self, key: Array, pstate: Any, obs: Array) -> tuple[Array, Any]:
        n = self.n_items
        _, hours, _ = self.clock(obs)
        action, new = self.inner.act(key, pstate, obs)
        bedtime = hours >= self.since_wake(self.bed_hour)
        studying = (hours >= self.since_wake(self.study_from_hour)) & ~bedtime
        override = ~studying | (action >= n)
        choice = jnp.where(bedtime, n + 1, jnp.where(studying, action, n)).astype(jnp.int32)
        rested = _as_rested(new, pstate, n)
        return choice, _select(override, rested, new)


class Cram(_SleepWrapper):
    """No study until ``start_hour`` on the last day before the exam, then the inner scheduler
    (round robin) without a break until the exam: an all-nighter. Rests before (so it sleeps at the
    env's bed hour on earlier nights) and never chooses sleep."""

    def __init__(self, env: Any, inner: Any, start_hour: float = 18.0, name: str = "cram"):
        super().__init__(env, inner)
        self.start_hour = check_kwarg("start_hour", start_hour, 0.0, 24.0, high_open=True)
        self.name = name

    def act(self, key: Array, pstate: Any, obs: Array) -> tuple[Array, Any]:
        n = self.n_items
        day, hours, _ = self.clock(obs)
        action, new = self.inner.act(key, pstate, obs)
        cramming = (day == self.exam_day - 1) & (hours >= self.since_wake(self.start_hour))
        choice = jnp.where(cramming, action, n).astype(jnp.int32)
        return choice, _select(~cramming | (action >= n), _as_rested(new, pstate, n), new)


def _select(pred: Array, if_true: Any, if_false: Any) -> Any:
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), if_true, if_false)


@pytree_dataclass
class RewardRuleState:
    inner: Any  # the inner scheduler's state
    item: Array  # () int32 item chosen at the previous step (N: rest)
    retrieval: Array  # () bool: it was a retrieval of a seen item
    expected: Array  # () float32 the scheduler's estimate of its recall when chosen (1 if unknown)


class RewardRule:
    """Tagging-v0: the inner scheduler picks the item; a reward/novelty event goes after successes
    (``rule``: ``never``, ``every_success`` or ``surprise``: success at an estimated recall below
    ``surprise_threshold``, the estimate being the inner scheduler's own FSRS-6 retrievability)."""

    privileged = False

    def __init__(self, env: Any, inner: Any, rule: str = "every_success", surprise_threshold: float = 0.8):
        if _env_kind(env) != "tagging":
            raise ValueError(f"RewardRule needs Tagging-v0, got {env.name!r}")
        if rule not in REWARD_RULES:
            raise ValueError(f"rule must be one of {REWARD_RULES}, got {rule!r}")
        _check_action_layout(env, (2, 1), "RewardRule", "items + rest, then the same after an event")
        self.inner, self.rule = inner, rule
        self.surprise_threshold = check_kwarg("surprise_threshold", surprise_threshold, 0.0, 1.0)
        self.n_items = env.obs_layout[0]
        self.has_estimate = hasattr(getattr(inner, "init_items", None) and inner.init_items(1), "stability")
        if rule == "surprise" and not self.has_estimate:
            raise ValueError(f"rule 'surprise' needs a scheduler with an FSRS stability estimate (fsrs, threshold), "
                             f"got {inner.name!r}")
        self.weights = jnp.asarray(getattr(inner, "weights", fsrs_maths.FSRS6_DEFAULT_WEIGHTS), jnp.float32)
        self.name = f"{inner.name}+reward_{rule}"

    def init(self, key: Array, env_params: Any) -> RewardRuleState:
        return RewardRuleState(inner=self.inner.init(key, env_params), item=jnp.int32(self.n_items),
                               retrieval=jnp.bool_(False), expected=jnp.float32(1.0))

    def act(self, key: Array, pstate: RewardRuleState, obs: Array) -> tuple[Array, RewardRuleState]:
        n = self.n_items
        view = self.inner.view(obs)
        success = pstate.retrieval & (view.last_step_grade > 1)
        if self.rule == "never":
            reward = jnp.bool_(False)
        elif self.rule == "every_success":
            reward = success
        else:
            reward = success & (pstate.expected < self.surprise_threshold)
        action, inner = self.inner.act(key, pstate.inner, obs)
        item = jnp.clip(action, 0, n - 1)
        if self.has_estimate:
            expected = fsrs_maths.retrievability(self.weights, view.days_since_review[item], inner.items.stability[item])
        else:
            expected = jnp.float32(1.0)
        shows = action < n
        new = RewardRuleState(inner=inner, item=action.astype(jnp.int32), retrieval=shows & view.seen[item],
                              expected=jnp.where(shows, expected, 1.0).astype(jnp.float32))
        return (action + reward.astype(jnp.int32) * (n + 1)).astype(jnp.int32), new


# ----------------------------------------------------------------------------------------------
# The baselines of each env, and names -> policies
# ----------------------------------------------------------------------------------------------

#: Schedulers wrapped by default (fsrs and threshold keep FSRS estimates; round robin has no model).
SLEEP_SCHEDULERS = ("fsrs", "round_robin", "threshold")
TAGGING_SCHEDULERS = ("fsrs", "threshold")


def spaced_sleep(env: Any) -> Bedtime:
    return Bedtime(env, make_policy("round_robin", env), bed_hour=23.0, study_from_hour=18.0, name="spaced+sleep")


def cram(env: Any) -> Cram:
    return Cram(env, make_policy("round_robin", env))


def tutoring_baselines(env: Any) -> list:
    """The env-specific baselines of Sleep-v0 / Tagging-v0 (empty for other envs)."""
    kind = _env_kind(env)
    if kind == "sleep":
        return [Bedtime(env, make_policy(s, env)) for s in SLEEP_SCHEDULERS] + [spaced_sleep(env), cram(env)]
    if kind == "tagging":
        return [RewardRule(env, make_policy(s, env), rule) for s in TAGGING_SCHEDULERS for rule in REWARD_RULES]
    return []


def tutoring_baseline(name: str, env: Any, **settings: Any):
    """A Sleep-v0 / Tagging-v0 baseline by name (``cram``, ``spaced+sleep``, ``<scheduler>+bed<H>``,
    ``<scheduler>+reward_<rule>``), or ``None`` if ``name`` is not one (or the env is neither).
    ``settings`` go to the inner scheduler of a ``<scheduler>+...`` name (e.g. a tuned knob)."""
    kind = _env_kind(env)
    fixed = {"sleep": ("cram", "spaced+sleep")}.get(kind, ())
    if name in fixed and settings:
        raise ValueError(f"{name!r} takes no settings, got {sorted(settings)}")
    if kind == "sleep":
        if name == "cram":
            return cram(env)
        if name == "spaced+sleep":
            return spaced_sleep(env)
        match = re.fullmatch(r"(\w+)\+bed(\d+(?:\.\d+)?)", name)
        if match:
            return Bedtime(env, make_policy(match.group(1), env, **settings), bed_hour=float(match.group(2)))
    if kind == "tagging":
        match = re.fullmatch(r"(\w+)\+reward_(\w+)", name)
        if match:
            return RewardRule(env, make_policy(match.group(1), env, **settings), match.group(2))
    return None


__all__ = ["Bedtime", "Cram", "RewardRule", "REWARD_RULES", "tutoring_baselines", "tutoring_baseline",
           "spaced_sleep", "cram"]
