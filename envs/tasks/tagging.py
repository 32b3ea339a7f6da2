"""Tagging-v0: Review-v0 slots plus a budget of reward/novelty events that tag recent study."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from ..core import Array, Discrete, check_range, cond_any, pytree_dataclass, static_dataclass
from ..learners import get_learner
from .review import ReviewConfig, ReviewEnv, ReviewParams, ReviewState
from .sleep import extend_review_state

#: Globals after Review-v0's four (both in [0, 1]).
TAGGING_GLOBAL_FEATURES = ("budget_left", "hours_since_event")
#: Hours since the last delivered event are reported divided by this (clipped to 1; 1 if none yet).
EVENT_HOURS_SCALE = 24.0
NO_EVENT = -1e9


@static_dataclass
class TaggingConfig(ReviewConfig):
    """Static config of Tagging-v0 (fixes shapes; hashable)."""

    n_items: int = 20  # items to learn
    n_days: int = 7  # a week's course: one event tags a larger share of the learning than in 30 days
    learner: str = "brain"  # memory model: needs dopamine tagging (``reward_event``): the brain learner
    reward_budget: int = 10  # reward/novelty events the tutor may deliver per episode

    def validate(self) -> None:
        super().validate()
        if isinstance(self.reward_budget, bool) or not isinstance(self.reward_budget, (int, np.integer)) \
                or self.reward_budget < 0:
            raise ValueError(f"reward_budget must be a non-negative integer, got {self.reward_budget!r}")
        if not get_learner(self.learner).has_reward_events:
            raise ValueError(f"learner {self.learner!r} has no dopamine tagging (reward_event); "
                             "Tagging-v0 needs learner='brain'")


@pytree_dataclass
class TaggingParams(ReviewParams):
    """Review-v0's params plus the reward events'."""

    reward_magnitude: Array  # () size of a delivered reward/novelty event (the brain learner's r)
    retention_weight: Array  # () reward weight of retention_delayed, added at the last step


@pytree_dataclass
class TaggingState(ReviewState):
    """Review-v0's state plus the event budget."""

    budget_left: Array  # () int32 events the tutor may still deliver
    events_used: Array  # () int32 events delivered so far
    last_event_time: Array  # () float32 time of the last delivered event (days; -1e9 if none)


class TaggingEnv(ReviewEnv):
    """Tagging-v0: which item to review in each slot, and when to spend a reward/novelty event.

    Review-v0 (its slots, nights, per-item records, knowledge and cost) on the ``brain`` learner,
    with a budget of ``reward_budget`` (10) reward/novelty events per episode (per episode, not per
    day: when to spend them is part of the problem). A delivered event of size
    ``reward_magnitude`` calls the learner's ``reward_event``: its reward-prediction error
    ``delta = r - r_hat`` (the learner's expectation ``r_hat`` tracks past rewards, so frequent
    rewards lose their effect) is captured by every item still tagged (studied within the tag
    window, ~1.5 h) and, while the dopamine pool lasts (~1 h), by items studied next; captured
    salience raises the item's consolidation at the next sleep. Defaults differ from Review-v0 in
    ``learner="brain"``, 20 items over 7 days (so 10 events touch a fair share of the learning) and
    30-minute slots (a 5-hour daily session), so the tag window spans a few slots rather than the
    whole session, and timing matters.

    - **Observation** ``Box(float32, (N * 5 + 6,))``: Review-v0's (per item: days since last review,
      reviews, lapses, last grade, seen; globals: progress, slot of the day, last step's grade, its
      recall), then 2 globals in [0, 1]: budget left / ``reward_budget`` (0 when the budget is 0) and
      hours since the last delivered event / 24 (clipped; 1 if none yet).
      ``env.obs_layout == (N, 5, 6)``.
    - **Action** ``Discrete(2 * (N + 1))`` with ``env.action_layout == (2, 1)``: block 0, ``a < N + 1``,
      is Review-v0's action (item ``a`` or rest ``N``); block 1, ``a = N + 1 + j``, first delivers
      an event now, then does ``j``. The observation shows the previous step's grade, so "reward
      after the success just seen" is an action. With the budget spent the event is not delivered
      (``info["reward_denied"]``) and the step does ``j``. Inside ``jit`` an out-of-range action
      rests and sets ``info["invalid_action"]``; the Gymnasium adapter raises.
    - **Reward**: Review-v0's (gain in knowledge minus ``cost_per_minute`` x minutes studied), plus
      ``retention_weight`` (1) x ``retention_delayed`` at the last step; the return is final
      knowledge + retention_weight x delayed retention - study cost. Events cost nothing but budget.
    - **Termination**: ``terminated`` after ``slots_per_day * n_days`` steps; never truncated.
    - **State** :class:`TaggingState`: Review-v0's plus ``budget_left``, ``events_used`` and
      ``last_event_time``.
    - **Info** every step: Review-v0's keys plus ``reward_event`` (delivered this step),
      ``reward_denied`` (asked for with the budget spent), ``events_used``, ``budget_left``; at the
      last step ``knowledge_final``, ``knowledge_auc`` and ``retention_delayed`` (0 before).
    - **Science**: behavioural tagging and capture (Frey & Morris 1997; Wang, Redondo & Morris 2010,
      PNAS 107:19537), reward helps delayed, not immediate, memory (Murayama & Kuhbandner 2011,
      Cognition 119:120), novelty shortly before weak learning makes it last (Ballarini et al. 2009,
      PNAS 106:14599), reward-prediction error (Jang et al. 2019, Nat Hum Behav 3:719). See
      ``tests/science/test_facts_dopamine_schema.py``; ``tests/test_tagging.py`` checks that
      rewards after reviews raise delayed retention on this env.

    Example::

        >>> import jax, studygym
        >>> env, params = studygym.make("Tagging-v0", n_items=5, reward_budget=1)
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(1), state, 0, params)
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(2), state, 6 + 1, params)
        >>> bool(info["reward_event"]), int(state.budget_left)  # reward, then review item 1
        (True, 0)
    """

    def __init__(self, config: TaggingConfig | None = None):
        super().__init__(TaggingConfig() if config is None else config)

    # -- params ------------------------------------------------------------------------------
    @property
    def default_params(self) -> TaggingParams:
        review = super().default_params
        fields = {name: getattr(review, name) for name in ReviewParams.__dataclass_fields__}
        slot_minutes = 30.0
        fields.update(slot_minutes=jnp.float32(slot_minutes),
                      night_hours=jnp.float32(24.0 - self.config.slots_per_day * slot_minutes / 60.0))
        return TaggingParams(**fields, reward_magnitude=jnp.float32(1.0), retention_weight=jnp.float32(1.0))

    def validate_params(self, params: TaggingParams) -> None:
        super().validate_params(params)
        check_range("reward_magnitude", params.reward_magnitude, 0.0, 100.0)
        check_range("retention_weight", params.retention_weight, 0.0, None)

    # -- spaces --------------------------------------------------------------------------------
    # Review-v0's names, then Tagging-v0's globals (obs_layout (N, 5, 6) derives from them).
    family = "tagging"
    item_features = ReviewEnv.item_features
    global_features = ReviewEnv.global_features + TAGGING_GLOBAL_FEATURES
    #: Two blocks of N items + rest: block 1 delivers a reward/novelty event first.
    action_layout = (2, 1)

    def action_space(self, params: TaggingParams | None = None) -> Discrete:
        return Discrete(2 * (self.config.n_items + 1))

    # -- dynamics ------------------------------------------------------------------------------
    def reset_env(self, key: Array, params: TaggingParams) -> tuple[Array, TaggingState]:
        _, review_state = super().reset_env(key, params)
        state = extend_review_state(TaggingState, review_state, budget_left=jnp.int32(self.config.reward_budget),
                                    events_used=jnp.int32(0), last_event_time=jnp.float32(NO_EVENT))
        return self.get_obs(state, params), state

    def step_env(self, key: Array, state: TaggingState, action: Any, params: TaggingParams):
        n = self.config.n_items
        action = jnp.asarray(action).astype(jnp.int32)
        invalid = (action < 0) | (action >= 2 * (n + 1))
        asks = ~invalid & (action > n)
        delivers = asks & (state.budget_left > 0)
        now = self.time(state.step, params)
        learner_state = cond_any(delivers, self._reward_event, self._no_event, state.learner, now, params)
        review_action = jnp.where(invalid, n, action % (n + 1))
        _, review_state, reward, terminated, truncated, info = super().step_env(
            key, state.replace(learner=learner_state), review_action, params)
        used = delivers.astype(jnp.int32)
        new_state = extend_review_state(
            TaggingState, review_state, budget_left=state.budget_left - used, events_used=state.events_used + used,
            last_event_time=jnp.where(delivers, now, state.last_event_time))
        reward = reward + jnp.where(terminated, params.retention_weight * info["retention_delayed"], 0.0)
        info = dict(info, invalid_action=invalid, reward_event=delivers, reward_denied=asks & ~delivers,
                    events_used=new_state.events_used, budget_left=new_state.budget_left)
        return self.get_obs(new_state, params), new_state, reward, terminated, truncated, info

    def _reward_event(self, learner_state: Any, now: Array, params: TaggingParams) -> Any:
        return self.learner.reward_event(learner_state, now, params.learner, params.reward_magnitude)

    def _no_event(self, learner_state: Any, now: Array, params: TaggingParams) -> Any:
        return learner_state

    def get_obs(self, state: ReviewState, params: TaggingParams) -> Array:
        base = super().get_obs(state, params)
        if not isinstance(state, TaggingState):  # Review-v0's step inside ours; rebuilt from our state
            return base
        budget = self.config.reward_budget
        since_hours = (self.time(state.step, params) - state.last_event_time) * 24.0
        extra = jnp.stack([state.budget_left.astype(jnp.float32) / max(budget, 1),
                           jnp.clip(since_hours / EVENT_HOURS_SCALE, 0.0, 1.0)])
        return jnp.concatenate([base, extra])


__all__ = ["TaggingConfig", "TaggingParams", "TaggingState", "TaggingEnv", "TAGGING_GLOBAL_FEATURES"]
