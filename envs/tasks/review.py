"""Review-v0: choose which item a learner reviews in each study slot."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import (Array, Box, Discrete, Environment, check_positive_int, check_range, cond_any, item_obs,
                    item_obs_high, pytree_dataclass, static_dataclass, time_days, when_any)
from ..learners import delayed_recall, get_learner
from ..learners.base import WithoutSleep

#: Seconds per review by (phase, grade): rows learning (first exposure), review, relearning (after a
#: lapse); columns Again, Hard, Good, Easy. fsrs-optimizer's simulator defaults.
RATING_SECONDS = ((19.58, 18.79, 13.78, 10.71), (19.38, 17.59, 12.38, 8.94), (16.44, 15.25, 12.32, 8.03))

ITEM_FEATURES = ("days_since_review", "reviews", "lapses", "last_grade", "seen")
GLOBAL_FEATURES = ("progress", "slot_of_day", "last_step_grade", "last_step_recalled")


@static_dataclass
class ReviewConfig:
    """Static config of Review-v0 (fixes shapes; hashable)."""

    n_items: int = 30  # items to learn
    slots_per_day: int = 10  # review opportunities per day
    n_days: int = 30  # course length in days
    delay_days: int = 7  # retention test this many days after the course, no study in between
    learner: str = "fsrs"  # memory model: a name in studygym.envs.learners.LEARNERS

    def validate(self) -> None:
        for name in ("n_items", "slots_per_day", "n_days"):
            check_positive_int(name, getattr(self, name))
        if isinstance(self.delay_days, bool) or not isinstance(self.delay_days, (int, np.integer)) \
                or self.delay_days < 0:
            raise ValueError(f"delay_days must be a non-negative integer, got {self.delay_days!r}")
        get_learner(self.learner)


@pytree_dataclass
class ReviewParams:
    """Dynamic params of Review-v0 (a pytree: vmap over it for a population)."""

    learner: Any  # the learner's params (e.g. FSRSParams)
    slot_minutes: Array  # () minutes between consecutive slots of a day's session
    night_hours: Array  # () hours from the last slot of a day to the first slot of the next
    sleep_hours: Array  # () hours from bedtime to the next day's first slot (a learner with a sleep-duration
    #   trait, brain, sleeps min(trait, sleep_hours) of them)
    cost_per_minute: Array  # () reward cost per minute studied
    rating_seconds: Array  # (3, 4) seconds per review by phase (learning, review, relearning) x grade


@pytree_dataclass
class ReviewState:
    """Env state: the hidden learner plus what the app has recorded."""

    learner: Any  # hidden memory state
    step: Array  # () int32 step counter; real time is derived from it
    # The per-item counts are whole numbers stored as float32 (exact below 2**24): the
    # observation then reads them as they are, with no conversion pass over (batch, N) arrays
    # (at 8192 learners building the observation was half of a step's time).
    reviews: Array  # (N,) float32 reviews per item
    lapses: Array  # (N,) float32 failed recalls of seen items
    last_grade: Array  # (N,) float32 last grade per item (0 = never reviewed)
    last_time: Array  # (N,) float32 time of the last review (days)
    seen: Array  # (N,) float32 1.0 once reviewed, else 0.0: the observation's seen block as it is
    #   (stored, so no step rebuilds it from the reviews: a pass over (batch, N) less, ~4% of a
    #   B = 1024 step)
    last_step_grade: Array  # () int32 grade of the previous step (0 = rest)
    knowledge: Array  # () mean recall probability now
    knowledge_sum: Array  # () sum of knowledge over steps so far (for the AUC)
    study_seconds: Array  # () total study time
    retrievals: Array  # () int32 reviews of already-seen items
    successes: Array  # () int32 successful recalls among them


class ReviewEnv(Environment[ReviewState, ReviewParams]):
    """Review-v0: which item to review in each slot, so a learner knows the most for the least time.

    A course of ``n_days`` days with ``slots_per_day`` review slots a day (``slot_minutes`` apart,
    then a night of ``night_hours``). ``n_items`` items start unseen; showing an unseen item is
    its first study. The simulated learner (FSRS-6 by default; ``learner="..."`` for others)
    answers with a grade: recall succeeds with the learner's hidden recall probability.

    - **Observation** ``Box(float32, (N * 5 + 4,))``: 5 per-item features, feature-major (5 blocks
      of N: ``obs[f * N + i]`` is feature f of item i): the days since its last review (0 if
      unseen), its review count, lapse count, last grade (0 unseen, 1 Again .. 4 Easy) and a seen
      flag; then 4 globals: course progress ``step / (slots_per_day * n_days)``,
      slot of the day ``/ slots_per_day``, last step's grade (0 rest) and whether it was recalled.
      What a real app knows; never the hidden memory. ``env.obs_layout`` gives the split and
      ``studygym.envs.core.split_item_obs(obs, env.obs_layout)`` the ``(N, 5)`` items.
    - **Action** ``Discrete(N + 1)``: an item index, or ``N`` to rest. Inside ``jit`` an
      out-of-range action rests and sets ``info["invalid_action"]``; the Gymnasium adapter raises.
    - **Reward**: gain in knowledge (mean recall probability over items, evaluated at the next
      slot) minus ``cost_per_minute`` x minutes studied (seconds per review from fsrs-optimizer's
      cost table, by phase and grade). Summed over an episode: final knowledge minus study cost.
    - **Termination**: ``terminated`` after ``slots_per_day * n_days`` steps (the course ends);
      never truncated. ``step`` does not reset; use ``AutoReset``.
    - **State** :class:`ReviewState`: the learner's hidden memory, the step counter and the app's
      per-item history (float32 arrays of shape ``(N,)``; counts are whole numbers).
    - **Info** every step: ``knowledge``, ``grade``, ``invalid_action``, cumulative ``reviews``,
      ``study_minutes``, ``retrievals``, ``successes``; at the last step also ``knowledge_final``,
      ``knowledge_auc`` (mean knowledge over steps) and ``retention_delayed`` (mean recall
      ``delay_days`` after the course with no study, nights slept); these are 0 before the end.
    - **Science**: FSRS-6 forgetting curve and the desirable-difficulty stability gain (see
      ``studygym.envs.learners.fsrs``); grades drawn as fsrs-optimizer's simulator draws them.
      With ``learner="brain"`` (optionally ``preset="older_adult"`` etc.) the learner also sleeps
      each night, ``sleep_hours`` before the next day's first slot, and consolidates (see
      ``studygym.envs.learners.brain``); ``retention_delayed`` then includes the delay's nights.

    Example::

        >>> import jax, studygym
        >>> env, params = studygym.make("Review-v0", n_items=10)
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(1), state, 3, params)
        >>> int(info["grade"]) in (1, 2, 3, 4)
        True
    """

    def __init__(self, config: ReviewConfig | None = None):
        self.config = ReviewConfig() if config is None else config
        self.config.validate()
        self.learner = get_learner(self.config.learner)

    @property
    def learner_sleeps(self) -> bool:
        """Whether nights change the learner's state. A ``WithoutSleep`` learner's ``elapse`` and
        ``sleep`` leave it as it is, so its steps skip the night branch (and its ``any`` over the
        batch) altogether: ~20% off a jitted 8-env step measured on a loaded 2-core CPU (issue 21)."""
        return not isinstance(self.learner, WithoutSleep)

    # -- params ------------------------------------------------------------------------------
    @property
    def default_params(self) -> ReviewParams:
        cfg = self.config
        slot_minutes = 3.0
        return ReviewParams(
            learner=self.learner.default_params(),
            slot_minutes=jnp.float32(slot_minutes),
            night_hours=jnp.float32(24.0 - cfg.slots_per_day * slot_minutes / 60.0),
            sleep_hours=jnp.float32(8.0),
            cost_per_minute=jnp.float32(0.002),
            rating_seconds=jnp.asarray(RATING_SECONDS, jnp.float32),
        )

    def validate_params(self, params: ReviewParams) -> None:
        check_range("slot_minutes", params.slot_minutes, 0.0, 24 * 60, low_open=True)
        try:
            check_range("night_hours", params.night_hours, 0.0, None, low_open=True)
            check_range("sleep_hours", params.sleep_hours, 0.0, params.night_hours)
        except ValueError as error:  # the default night is what the day's session leaves: say so
            session = self.config.slots_per_day * np.max(np.asarray(params.slot_minutes, np.float64)) / 60.0
            raise ValueError(f"{error} (night_hours defaults to 24 h minus the day's session, slots_per_day="
                             f"{self.config.slots_per_day} x slot_minutes = {session:g} h)") from None
        check_range("cost_per_minute", params.cost_per_minute, 0.0, None)
        check_range("rating_seconds", params.rating_seconds, 0.0, 3600.0)
        if np.shape(params.rating_seconds) != (3, 4):
            raise ValueError(f"rating_seconds must have shape (3, 4), got {np.shape(params.rating_seconds)}")
        self.learner.validate_params(params.learner, "learner")
        # One clock: a course day is a whole number of real days, so every session starts at the same
        # hour and the app's day counter stays on the learner's calendar (a 30-minute slot with the
        # default night would make a 28.5-hour "day" that drifts round the clock).
        days = np.asarray(self.day_length(params), np.float64)
        if np.any(np.abs(days - np.round(days)) > 1e-4) or np.any(np.round(days) < 1):
            session = self.config.slots_per_day * np.asarray(params.slot_minutes, np.float64) / 60.0
            raise ValueError(f"night_hours: slots_per_day x slot_minutes ({np.max(session):g} h) + night_hours "
                             f"({np.max(np.asarray(params.night_hours)):g} h) must be a whole number of days; "
                             f"e.g. night_hours={24.0 - np.max(session):g}")

    # -- time ----------------------------------------------------------------------------------
    @property
    def max_steps(self) -> int:
        return self.config.slots_per_day * self.config.n_days

    @property
    def steps_per_day(self) -> int:
        return int(self.config.slots_per_day)

    def day_length(self, params: ReviewParams) -> Array:
        return (self.config.slots_per_day * params.slot_minutes / 60.0 + params.night_hours) / 24.0

    def time(self, step: Array, params: ReviewParams) -> Array:
        """Real time in days at an integer step (never accumulated)."""
        return time_days(step, self.config.slots_per_day, params.slot_minutes / 1440.0, self.day_length(params))

    def bedtime(self, next_day_start: Array, params: ReviewParams) -> Array:
        return next_day_start - params.sleep_hours / 24.0

    def night_learner_params(self, params: ReviewParams) -> Any:
        """Learner params for a night: a learner with a sleep-duration trait (brain) sleeps
        ``min(trait, sleep_hours)`` hours from bedtime (a short sleeper wakes early; a short night
        cuts a long sleeper's sleep), so both ``sleep_hours`` and the trait (e.g. the
        ``sleep_deprived`` preset) set how much a night consolidates."""
        if not self.learner.has_sleep_traits:
            return params.learner
        trait = params.learner.sleep_duration_hours
        return params.learner.replace(sleep_duration_hours=jnp.minimum(trait, params.sleep_hours))

    # -- spaces --------------------------------------------------------------------------------
    # The declared contract (studygym.envs.core.Environment): obs_layout (N, 5, 4) derives from it.
    family = "review"
    item_features = ITEM_FEATURES
    global_features = GLOBAL_FEATURES
    #: (blocks, global actions): action ``b * (N + g) + j`` is item ``j < N`` or global ``j - N`` in
    #: block ``b``. Review-v0 has one block of N items and one global action (rest).
    action_layout = (1, 1)

    def observation_space(self, params: ReviewParams | None = None) -> Box:
        """The space depends only on the static config (shapes, step counts), never on ``params``,
        so it can be built under ``jit`` with traced params (gymnax/PureJaxRL call it there). The
        days since an item's last review have no static bound (a course day's real length is a
        param: 5 days in DeepTutor), so that feature's bound is ``inf``; every other is tight. A
        subclass that appends global features (Sleep-v0, Tagging-v0) appends shares in [0, 1]."""
        cfg = self.config
        item_high = np.array([np.inf, self.max_steps, self.max_steps, 4.0, 1.0], np.float32)
        extra = len(self.global_features) - len(GLOBAL_FEATURES)
        high = item_obs_high(item_high, cfg.n_items, [1.0, 1.0, 4.0, 1.0] + [1.0] * extra)
        return Box(0.0, high, (high.size,))

    def action_space(self, params: ReviewParams | None = None) -> Discrete:
        return Discrete(self.config.n_items + 1)

    # -- dynamics ------------------------------------------------------------------------------
    def reset_env(self, key: Array, params: ReviewParams) -> tuple[Array, ReviewState]:
        n = self.config.n_items
        zeros = jnp.zeros(n, jnp.float32)
        state = ReviewState(
            learner=self.learner.init(key, params.learner, n),
            step=jnp.int32(0),
            reviews=zeros,
            lapses=zeros,
            last_grade=zeros,
            last_time=zeros,
            seen=zeros,
            last_step_grade=jnp.int32(0),
            knowledge=jnp.float32(0.0),
            knowledge_sum=jnp.float32(0.0),
            study_seconds=jnp.float32(0.0),
            retrievals=jnp.int32(0),
            successes=jnp.int32(0),
        )
        return self.get_obs(state, params), state

    def step_env(self, key: Array, state: ReviewState, action: Any, params: ReviewParams):
        cfg, learner = self.config, self.learner
        n = cfg.n_items
        action = jnp.asarray(action).astype(jnp.int32)
        invalid = (action < 0) | (action > n)
        rest = invalid | (action == n)
        reviewed = ~rest
        item = jnp.clip(action, 0, n - 1)
        # Per-item records are updated by scatters at `target`; resting aims them at index n, out of
        # range, where a scatter is dropped: no select over whole arrays.
        target = jnp.where(rest, n, item)
        now = self.time(state.step, params)

        if learner.out_of_range_item_rests:
            grade, learner_state = learner.practice(key, state.learner, target, now, params.learner)
        else:
            grade, practiced = learner.practice(key, state.learner, item, now, params.learner)
            learner_state = jax.tree.map(lambda old, new: jnp.where(rest, old, new), state.learner, practiced)
        grade = jnp.where(rest, 0, grade)

        # Read only the record the step needs (the last grade); it is written back from the value
        # read, so XLA orders the read first and updates the array in place (see
        # FSRSLearner.practice). The other records are only written (counts added to in place): the
        # reads of the lapses and the last time, whose values only went back unchanged on a rest
        # (whose write is dropped anyway), cost ~9% of a B = 1024 step, the review count's ~3% of a
        # B = 8192 step. Every learner grades a review 1..4 (the learner contract, checked for each
        # in tests/test_review.py), so an item has been reviewed exactly when its last grade is > 0:
        # the grade read for the phase also gives seen_before (reading the stored seen flag instead
        # would be one more gather a step).
        last_grade_item = state.last_grade[item]
        seen_before = last_grade_item > 0
        phase = jnp.where(seen_before, jnp.where(last_grade_item == 1, 2, 1), 0)
        seconds = jnp.where(reviewed, params.rating_seconds[phase, jnp.maximum(grade, 1) - 1], 0.0)
        retrieval = reviewed & seen_before
        success = retrieval & (grade > 1)
        lapse = retrieval & (grade == 1)

        next_step = state.step + 1
        t_next = self.time(next_step, params)
        new_day = next_step % cfg.slots_per_day == 0
        # Nights and the delayed test are rare: when_any and cond_any run them only on steps that need
        # them, also under vmap (where lax.cond would evaluate them on every step).
        if self.learner_sleeps:
            learner_state = when_any(new_day, self._night, learner_state, t_next, params)
        learner_state = learner.elapse(learner_state, t_next, params.learner)
        knowledge = jnp.mean(learner.recall_prob(learner_state, t_next, params.learner))
        reward = knowledge - state.knowledge - params.cost_per_minute * seconds / 60.0

        new_state = ReviewState(
            learner=learner_state,
            step=next_step,
            reviews=state.reviews.at[target].add(1.0, mode="drop"),
            lapses=state.lapses.at[target].add(lapse.astype(jnp.float32), mode="drop"),
            last_grade=state.last_grade.at[target].set(
                jnp.where(reviewed, grade.astype(jnp.float32), last_grade_item), mode="drop"),
            last_time=state.last_time.at[target].set(now, mode="drop"),
            seen=state.seen.at[target].set(1.0, mode="drop"),
            last_step_grade=grade,
            knowledge=knowledge,
            knowledge_sum=state.knowledge_sum + knowledge,
            study_seconds=state.study_seconds + seconds,
            retrievals=state.retrievals + retrieval.astype(jnp.int32),
            successes=state.successes + success.astype(jnp.int32),
        )
        terminated = next_step >= self.max_steps
        retention = cond_any(terminated, self._retention_delayed, self._no_retention, learner_state, t_next, params)
        info = {
            "knowledge": knowledge,
            "grade": grade,
            "invalid_action": invalid,
            "reviews": jnp.sum(new_state.reviews).astype(jnp.int32),
            "study_minutes": new_state.study_seconds / 60.0,
            "retrievals": new_state.retrievals,
            "successes": new_state.successes,
            "knowledge_final": jnp.where(terminated, knowledge, 0.0),
            "knowledge_auc": jnp.where(terminated, new_state.knowledge_sum / self.max_steps, 0.0),
            "retention_delayed": retention,
        }
        return self.get_obs(new_state, params), new_state, reward, terminated, jnp.bool_(False), info

    # Branches of step_env's when_any and cond_any: pure functions of their operands (no captured tracers).
    def _night(self, learner_state: Any, t_next: Array, params: ReviewParams) -> Any:
        bedtime = self.bedtime(t_next, params)
        learner, night = self.learner, self.night_learner_params(params)
        return learner.sleep(learner.elapse(learner_state, bedtime, night), bedtime, night)

    def _retention_delayed(self, learner_state: Any, t_next: Array, params: ReviewParams) -> Array:
        bedtime_offset = self.bedtime(t_next + self.day_length(params), params) - t_next
        recall = delayed_recall(self.learner, learner_state, t_next, self.config.delay_days,
                                self.night_learner_params(params), bedtime_offset)
        return jnp.mean(recall)

    def _no_retention(self, learner_state: Any, t_next: Array, params: ReviewParams) -> Array:
        return jnp.zeros((), jnp.float32)

    def get_obs(self, state: ReviewState, params: ReviewParams) -> Array:
        cfg = self.config
        now = self.time(state.step, params)
        since = jnp.where(state.seen > 0, now - state.last_time, 0.0)
        columns = [since, state.reviews, state.lapses, state.last_grade, state.seen]
        progress = state.step.astype(jnp.float32) / self.max_steps
        slot = (state.step % cfg.slots_per_day).astype(jnp.float32) / cfg.slots_per_day
        last = state.last_step_grade.astype(jnp.float32)
        glob = jnp.stack([progress, slot, last, (state.last_step_grade > 1).astype(jnp.float32)])
        return item_obs(columns, glob)
