"""Sleep-v0: run a learner's days round the clock (study, rest or sleep) before an exam."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import (Array, Discrete, check_positive_int, check_range, cond_any, pytree_dataclass,
                    static_dataclass, time_days)
from ..learners import delayed_recall
from ..learners.brain import BRAIN, hours_awake
from .review import RATING_SECONDS, ReviewEnv, ReviewState

#: Globals after Review-v0's four (all in [0, 1]).
SLEEP_GLOBAL_FEATURES = ("hour_of_day", "hours_awake", "asleep", "days_to_exam")
#: Hours awake are reported divided by this (and clipped to 1).
HOURS_AWAKE_SCALE = 48.0


def extend_review_state(cls: type, state: ReviewState, **extra: Any):
    """``cls`` (a subclass of :class:`ReviewState`) holding ``state``'s Review-v0 fields plus ``extra``.

    Sleep-v0 and Tagging-v0 run Review-v0's step (its per-item records, study time, knowledge and
    reward bookkeeping) and add their own state fields around it.
    """
    fields = {f.name: getattr(state, f.name) for f in dataclasses.fields(ReviewState)}
    return cls(**fields, **extra)


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


@static_dataclass
class SleepConfig:
    """Static config of Sleep-v0 (fixes shapes; hashable)."""

    n_items: int = 10  # items to learn for the exam
    slots_per_day: int = 96  # slots per 24 h (96: 15-minute slots), from the wake hour round the clock
    exam_day: int = 3  # the exam is on this day (days 0 .. exam_day - 1 are the episode's days)
    retention_delay_days: int = 7  # retention test this many days after the exam, no study, nights slept
    wake_hour: float = 8.0  # the first slot of every day starts at this hour (the alarm)
    bed_hour: float = 23.0  # from this hour until the wake hour, resting means going to bed

    def validate(self) -> None:
        check_positive_int("n_items", self.n_items)
        check_positive_int("slots_per_day", self.slots_per_day)
        check_positive_int("exam_day", self.exam_day)
        _check_int("retention_delay_days", self.retention_delay_days, 0)
        if self.slots_per_day < 2 or 1440 % self.slots_per_day:
            raise ValueError(f"slots_per_day must divide the 1440 minutes of a day (and be >= 2), "
                             f"got {self.slots_per_day!r}")
        check_range("wake_hour", self.wake_hour, 0.0, 24.0, high_open=True)
        check_range("bed_hour", self.bed_hour, 0.0, 24.0, high_open=True)
        if self.bed_hour == self.wake_hour:
            raise ValueError(f"bed_hour must differ from wake_hour, got both {self.wake_hour!r}")

    # Review-v0's names for the same things (its step and observation read them).
    @property
    def n_days(self) -> int:
        return self.exam_day

    @property
    def delay_days(self) -> int:
        return self.retention_delay_days

    @property
    def learner(self) -> str:
        return "brain"

    @property
    def slot_minutes(self) -> float:
        """Minutes per slot: the slots of a day cover 24 hours."""
        return 1440.0 / self.slots_per_day


@pytree_dataclass
class SleepParams:
    """Dynamic params of Sleep-v0 (a pytree: vmap over it for a population)."""

    learner: Any  # BrainParams of the learner (sleep trait, sleep pressure, tagging ...)
    cost_per_minute: Array  # () reward cost per minute studied
    rating_seconds: Array  # (3, 4) seconds per review by phase (learning, review, relearning) x grade
    exam_weight: Array  # () reward weight of the exam score (mean recall probability at the exam)
    retention_weight: Array  # () reward weight of retention (mean recall) retention_delay_days after the exam
    max_awake_hours: Array  # () the learner falls asleep involuntarily after this many hours awake; 26 h
    #   allows one all-nighter before a morning exam (awake from 07:00 to the 09:00 exam the next day)
    exam_delay_hours: Array  # () hours from the end of the last slot (the wake hour of exam_day) to the exam


@pytree_dataclass
class SleepState(ReviewState):
    """Review-v0's state plus the sleep schedule."""

    asleep_until: Array  # () int32 step at which the learner wakes (<= step: awake)
    nights: Array  # () int32 sleeps so far
    involuntary_nights: Array  # () int32 of which the learner fell asleep after max_awake_hours


class SleepEnv(ReviewEnv):
    """Sleep-v0: study, rest or sleep in each slot of a learner's days, for an exam and beyond.

    Each day has ``slots_per_day`` slots of ``1440 / slots_per_day`` minutes (default 96 slots of
    15 min) running round the clock from the wake hour (08:00), so a policy can keep the learner up
    all night. The episode is the ``exam_day`` days before the exam (default 3: 288 steps, always the
    same number); the exam is ``exam_delay_hours`` (1 h) after the last slot, at 09:00 on
    ``exam_day``, and a retention test follows ``retention_delay_days`` (7) later with no study and
    nights slept. The learner is the ``brain`` learner (:mod:`studygym.envs.learners.brain`):
    sleep consolidates the labile trace (capacity-limited, weaker when short), time awake beyond
    16 h degrades encoding (sleep pressure), and the labile trace decays while awake.

    - **Sleep**: choosing *sleep* puts the learner to bed until the next wake hour (that ends the
      day's slots). Resting between ``bed_hour`` (23:00) and the wake hour also means going to bed,
      and a learner awake ``max_awake_hours`` (26 h: enough for one all-nighter before a morning
      exam) falls asleep involuntarily, so a policy that never chooses sleep (a classic scheduler
      run unchanged) still gets nights: at bedtime whenever it rests at night, else after 26 h
      awake. Falling asleep calls the brain learner's ``sleep`` at that moment with the hours
      actually available, ``min(trait sleep_duration_hours, hours until the wake hour)``: a night
      shortened by a late bedtime consolidates less (``min(1, hours / 8)``), and one started long
      after the last study finds less of the labile trace left. While asleep the action is
      ignored (``info["asleep"]``; not an invalid action).
    - **The app's day starts at the wake hour** (08:00), not at Anki's 4 am boundary: the app-side
      schedulers count calendar days from the first slot. This differs from a 4 am boundary only
      for study while awake between 04:00 and 08:00 (after an all-nighter), which the app then
      counts on the day before.
    - **Observation** ``Box(float32, (N * 5 + 8,))``: Review-v0's (per item: days since last review,
      reviews, lapses, last grade, seen; globals: progress, slot of the day, last step's grade, its
      recall), then 4 globals in [0, 1]: hour of day / 24, hours awake / 48 (clipped), asleep flag,
      days to the exam / ``exam_day``. ``env.obs_layout == (N, 5, 8)``.
    - **Action** ``Discrete(N + 2)`` with ``env.action_layout == (1, 2)``: item ``j < N`` (a review;
      an unseen item's first study), ``N`` rest, ``N + 1`` sleep. Inside ``jit`` an out-of-range
      action rests and sets ``info["invalid_action"]``; the Gymnasium adapter raises.
    - **Reward**: the episode return is ``exam_weight * exam + retention_weight * retention -
      cost_per_minute * study minutes`` (``exam``: mean recall probability at the exam; ``retention``:
      mean recall ``retention_delay_days`` later). Per step: ``exam_weight`` x the gain in
      knowledge (mean recall at the next slot) minus the step's study cost; the last step adds
      ``exam_weight * (exam - knowledge) + retention_weight * retention``; the shaping telescopes,
      so the return is exactly the objective. Study minutes per review follow Review-v0's
      fsrs-optimizer cost table.
    - **Termination**: ``terminated`` after ``exam_day * slots_per_day`` steps; never truncated.
    - **State** :class:`SleepState`: Review-v0's state (hidden brain state, step, the app's
      per-item history) plus ``asleep_until`` (the step the learner wakes), ``nights`` and
      ``involuntary_nights``.
    - **Info** every step: Review-v0's keys (``knowledge``, ``grade``, ``invalid_action``,
      ``reviews``, ``study_minutes``, ``retrievals``, ``successes``) plus ``asleep``,
      ``fell_asleep``, ``involuntary_sleep``, ``hours_awake``, ``nights``; at the last step (0
      before) ``knowledge_final`` and ``exam_score`` (both the mean recall at the exam),
      ``knowledge_auc`` and ``retention_delayed``.
    - **Science**: the brain learner's sleep and cramming facts (``tests/science/test_facts_sleep.py``):
      an all-nighter cram scores near spaced study on the exam and far worse a week later
      (Cousins et al. 2019, Sleep 42:zsy207; Newbury et al. 2021, Psych Bull, sleep deprivation
      after learning g = 0.28), sleep soon after learning beats sleep after a day awake (Payne et
      al. 2012), encoding after a night awake is weaker (Yoo et al. 2007), short nights consolidate
      less (Crowley et al. 2024). ``tests/test_sleep.py`` checks the cram fact on this env.

    Example::

        >>> import jax, studygym
        >>> env, params = studygym.make("Sleep-v0", n_items=5)
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(1), state, 6, params)
        >>> bool(info["fell_asleep"]), int(state.asleep_until)  # sleep at 08:00: until 08:00 tomorrow
        (True, 96)
    """

    def __init__(self, config: SleepConfig | None = None):
        self.config = SleepConfig() if config is None else config
        self.config.validate()
        self.learner = BRAIN

    # -- params ------------------------------------------------------------------------------
    @property
    def default_params(self) -> SleepParams:
        return SleepParams(
            learner=BRAIN.default_params(),
            cost_per_minute=jnp.float32(0.002),
            rating_seconds=jnp.asarray(RATING_SECONDS, jnp.float32),
            exam_weight=jnp.float32(1.0),
            retention_weight=jnp.float32(1.0),
            max_awake_hours=jnp.float32(26.0),
            exam_delay_hours=jnp.float32(1.0),
        )

    def validate_params(self, params: SleepParams) -> None:
        check_range("cost_per_minute", params.cost_per_minute, 0.0, None)
        check_range("rating_seconds", params.rating_seconds, 0.0, 3600.0)
        if np.shape(params.rating_seconds) != (3, 4):
            raise ValueError(f"rating_seconds must have shape (3, 4), got {np.shape(params.rating_seconds)}")
        check_range("exam_weight", params.exam_weight, 0.0, None)
        check_range("retention_weight", params.retention_weight, 0.0, None)
        check_range("max_awake_hours", params.max_awake_hours, 1.0, 240.0)
        check_range("exam_delay_hours", params.exam_delay_hours, 0.0, 24.0, high_open=True)
        self.learner.validate_params(params.learner, "learner")

    # -- time: day d, slot k starts at wake_hour + 24 k / slots_per_day hours on day d -------------
    def day_length(self, params: Any) -> Array:
        return jnp.float32(1.0)

    def time(self, step: Array, params: Any) -> Array:
        """Days since the first slot (the wake hour of day 0), from the integer step."""
        spd = self.config.slots_per_day
        return time_days(step, spd, jnp.float32(1.0 / spd), jnp.float32(1.0))

    def hour_of_day(self, step: Array) -> Array:
        cfg = self.config
        slot = (jnp.asarray(step, jnp.int32) % cfg.slots_per_day).astype(jnp.float32)
        return jnp.mod(cfg.wake_hour + slot * 24.0 / cfg.slots_per_day, 24.0)

    def is_night(self, step: Array) -> Array:
        """Whether the slot at ``step`` lies between bed_hour and the wake hour."""
        cfg, hour = self.config, self.hour_of_day(step)
        if cfg.bed_hour > cfg.wake_hour:
            return (hour >= cfg.bed_hour) | (hour < cfg.wake_hour)
        return (hour >= cfg.bed_hour) & (hour < cfg.wake_hour)

    def exam_time(self, params: SleepParams) -> Array:
        return self.time(self.max_steps, params) + params.exam_delay_hours / 24.0

    # -- spaces --------------------------------------------------------------------------------
    # Review-v0's names, then Sleep-v0's globals (obs_layout (N, 5, 8) derives from them).
    family = "sleep"
    item_features = ReviewEnv.item_features
    global_features = ReviewEnv.global_features + SLEEP_GLOBAL_FEATURES
    #: One block: N items, then rest and sleep.
    action_layout = (1, 2)

    def action_space(self, params: SleepParams | None = None) -> Discrete:
        return Discrete(self.config.n_items + 2)

    # -- dynamics ------------------------------------------------------------------------------
    def reset_env(self, key: Array, params: SleepParams) -> tuple[Array, SleepState]:
        _, review_state = super().reset_env(key, params)
        state = extend_review_state(SleepState, review_state, asleep_until=jnp.int32(0), nights=jnp.int32(0),
                                    involuntary_nights=jnp.int32(0))
        return self.get_obs(state, params), state

    def step_env(self, key: Array, state: SleepState, action: Any, params: SleepParams):
        cfg = self.config
        n, spd = cfg.n_items, cfg.slots_per_day
        action = jnp.asarray(action).astype(jnp.int32)
        invalid = (action < 0) | (action > n + 1)
        now = self.time(state.step, params)
        awake = state.asleep_until <= state.step
        awake_hours = hours_awake(state.learner, now)
        # (to within 4 s: float32 time at a slot boundary)
        exhausted = awake & (awake_hours >= params.max_awake_hours - 1e-3)
        rests = invalid | (action == n)
        chooses_sleep = (action == n + 1) | (rests & self.is_night(state.step))
        falls_asleep = awake & (chooses_sleep | exhausted)
        wake_step = (state.step // spd + 1) * spd
        learner_state = cond_any(falls_asleep, self._fall_asleep, self._stay_up, state.learner, now,
                                 self.time(wake_step, params), params)
        studies = awake & ~falls_asleep & (action >= 0) & (action < n)

        # Review-v0's step does the review (or rest) and its bookkeeping; its nightly sleep hook is
        # off here (nights are the policy's), and its end-of-course hook returns (exam, retention).
        _, review_state, _, terminated, truncated, info = super().step_env(
            key, state.replace(learner=learner_state), jnp.where(studies, action, n), params)
        new_state = extend_review_state(
            SleepState, review_state,
            asleep_until=jnp.where(falls_asleep, wake_step, state.asleep_until),
            nights=state.nights + falls_asleep.astype(jnp.int32),
            involuntary_nights=state.involuntary_nights + (falls_asleep & ~chooses_sleep).astype(jnp.int32))
        exam, retention = info["retention_delayed"][0], info["retention_delayed"][1]
        minutes = (new_state.study_seconds - state.study_seconds) / 60.0
        knowledge = new_state.knowledge
        reward = (params.exam_weight * (knowledge - state.knowledge) - params.cost_per_minute * minutes
                  + jnp.where(terminated, params.exam_weight * (exam - knowledge)
                              + params.retention_weight * retention, 0.0))
        info = dict(info, invalid_action=invalid, asleep=~awake, fell_asleep=falls_asleep,
                    involuntary_sleep=falls_asleep & ~chooses_sleep, hours_awake=awake_hours,
                    nights=new_state.nights, knowledge_final=exam, exam_score=exam, retention_delayed=retention)
        return self.get_obs(new_state, params), new_state, reward, terminated, truncated, info

    # Branches of cond_any: pure functions of their operands.
    def _fall_asleep(self, learner_state: Any, now: Array, wake_time: Array, params: SleepParams) -> Any:
        trait = params.learner.sleep_duration_hours
        hours = jnp.minimum(trait, (wake_time - now) * 24.0)
        night = params.learner.replace(sleep_duration_hours=hours)
        slept = self.learner.sleep(self.learner.elapse(learner_state, now, night), now, night)
        # The env keeps the learner in bed until the wake hour: awake time (sleep pressure) counts
        # from then, not from `now + hours` (a short or early sleep would otherwise leave the learner
        # hours "awake" at 08:00 and push it into an early involuntary sleep).
        return slept.replace(awake_since=jnp.maximum(slept.awake_since, jnp.asarray(wake_time, jnp.float32)))

    def _stay_up(self, learner_state: Any, now: Array, wake_time: Array, params: SleepParams) -> Any:
        return learner_state

    # Review-v0's hooks: no automatic night; at the end the exam and the retention test.
    def _night(self, learner_state: Any, t_next: Array, params: SleepParams) -> Any:
        return learner_state

    def _retention_delayed(self, learner_state: Any, t_next: Array, params: SleepParams) -> Array:
        cfg = self.config
        exam_time = self.exam_time(params)
        at_exam = self.learner.elapse(learner_state, exam_time, params.learner)
        exam = jnp.mean(self.learner.recall_prob(at_exam, exam_time, params.learner))
        exam_hour = cfg.wake_hour + params.exam_delay_hours
        bedtime_offset = jnp.mod(cfg.bed_hour - exam_hour, 24.0) / 24.0
        recall = delayed_recall(self.learner, at_exam, exam_time, cfg.retention_delay_days, params.learner,
                                bedtime_offset)
        return jnp.stack([exam, jnp.mean(recall)])

    def _no_retention(self, learner_state: Any, t_next: Array, params: SleepParams) -> Array:
        return jnp.zeros(2, jnp.float32)

    def get_obs(self, state: ReviewState, params: SleepParams) -> Array:
        base = super().get_obs(state, params)
        if not isinstance(state, SleepState):  # Review-v0's step inside ours; rebuilt from our state
            return base
        cfg = self.config
        now = self.time(state.step, params)
        asleep = state.asleep_until > state.step
        awake_hours = jnp.where(asleep, 0.0, hours_awake(state.learner, now))
        days_left = (self.max_steps - state.step).astype(jnp.float32) / cfg.slots_per_day
        extra = jnp.stack([self.hour_of_day(state.step) / 24.0,
                           jnp.minimum(awake_hours / HOURS_AWAKE_SCALE, 1.0),
                           asleep.astype(jnp.float32),
                           days_left / cfg.exam_day])
        return jnp.concatenate([base, extra])


__all__ = ["SleepConfig", "SleepParams", "SleepState", "SleepEnv", "SLEEP_GLOBAL_FEATURES", "extend_review_state"]
