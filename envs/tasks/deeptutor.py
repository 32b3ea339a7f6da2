"""DeepTutor-{EFC,HLR,GPL}-v0: the simulated-student set-ups of Reddy, Levine & Dragan 2017.

Reddy, Levine & Dragan, "Accelerating Human Learning with Deep Reinforcement Learning" (NIPS 2017
workshop on teaching machines, robots and humans; code: rddy/deeptutor, ``spaced-repetition.ipynb``)
train a TRPO tutor against three synthetic students and compare it with Random, Leitner, SuperMemo
and Threshold tutors, reported as "% better than Random". Their set-up: 30 items, 200 steps, a
constant delay of 5 time units between steps, discount 0.99; each step the tutor shows one item,
the student answers (recall ~ Bernoulli(p)), and the reward is the mean recall likelihood over
all items (or the mean log-likelihood); an episode's score is the mean reward over its steps.

Here each set-up is Review-v0 (:class:`studygym.envs.tasks.review.ReviewEnv`) run with one step
per "day" of 5 days, so the observation, action and scheduler interfaces are Review-v0's and the
classic schedulers run unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from ..core import Array, static_dataclass
from ..learners import dash as dash_learner
from ..learners import efc as efc_learner
from ..learners import hlr as hlr_learner
from .review import ReviewConfig, ReviewEnv, ReviewParams, ReviewState

STEP_DAYS = 5.0  # the paper's constant delay, its time unit read as one day
SLOT_MINUTES = 1.0  # the review itself; the rest of the step is "night" (no sleep effect here)
REWARDS = ("likelihood", "log_likelihood")
LOG_EPS = 1e-9  # rddy/deeptutor's _recall_log_likelihoods
DISCOUNT = 0.99  # the paper's γ (for agents; the env's reward is undiscounted)

#: Reddy et al.'s students start with every item studied once before the course: EFC/HLR at
#: t_last ~ exp(N(0, 1)), GPL at t_last ~ exp(N(0, 0.01)) time units, with the first decision at
#: t = 5. Read here as a study ``exp(N(log 4, sd))`` days before the course's start.
PRIOR_LAG_LOG_MEAN = math.log(4.0)


def deeptutor_learner_params(learner: str) -> Any:
    """The paper's student distribution for ``learner`` (None for learners the paper has not)."""
    if learner == "efc":
        return efc_learner.default_params(prior_exposure=1.0, prior_lag_log_mean=PRIOR_LAG_LOG_MEAN,
                                          prior_lag_log_sd=0.5)
    if learner == "hlr":
        return hlr_learner.reddy_params(prior_exposure=1.0, prior_lag_log_mean=PRIOR_LAG_LOG_MEAN,
                                        prior_lag_log_sd=0.5)
    if learner == "dash":
        # 5 windows over 200 steps: 40 steps of 5 days each.
        return dash_learner.default_params(window_days=40 * STEP_DAYS, prior_exposure=1.0,
                                           prior_lag_log_mean=PRIOR_LAG_LOG_MEAN, prior_lag_log_sd=0.01)
    return None


@static_dataclass
class DeepTutorConfig(ReviewConfig):
    """Static config of the DeepTutor set-ups: Review-v0's fields with the paper's values."""

    n_items: int = 30  # the paper's 30 items
    slots_per_day: int = 1  # one step per 5-day "day"
    n_days: int = 200  # the paper's 200 steps
    delay_days: int = 0  # no delayed test in the paper
    learner: str = "efc"  # "efc", "hlr" or "dash" (GPL); any registered learner runs
    reward: str = "likelihood"  # "likelihood": mean recall; "log_likelihood": mean log(1e-9 + recall)

    def validate(self) -> None:
        super().validate()
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")


class DeepTutorEnv(ReviewEnv):
    """DeepTutor-{EFC,HLR,GPL}-v0: Reddy et al. 2017's tutoring set-ups on Review-v0's interface.

    200 steps, one item review per step, 5 days between steps, 30 items, and a student drawn from
    the paper's distributions (:func:`deeptutor_learner_params`): EFC ``p = exp(-θ Δt / n)`` with
    ``log θ ~ N(log 0.077, 1)``; HLR ``p = exp(-Δt / h)``, ``h = exp(θ·[attempts, correct, wrong,
    item])``, ``θ = (1, 1, 0, N(0, 1))``; GPL ``p = σ(a − d + Σ_w θ_w log(1 + counts_w)) / (1 + rΔt)^f``
    over 5 windows of 40 steps, ``d ~ N(1, 1)``, ``log log(1/f) ~ N(1, 1)``, ``log r ~ N(0, 0.01)``.
    Every item starts studied once (the paper's students have a recall probability for every item
    from the start). The paper's discount γ = 0.99 is in :data:`DISCOUNT` for agents.

    - **Observation** ``Box(float32, (30 * 5 + 4,))``: Review-v0's (per item days since review,
      reviews, lapses, last grade, seen; then progress, slot of day (always 0), last grade, last
      recalled). The app records only reviews made during the course: pre-course studies are
      hidden, so every item starts "unseen" to the tutor.
    - **Action** ``Discrete(31)``: an item, or 30 to rest (the paper has no rest; a rest is a
      step with no review).
    - **Reward**: the paper's, the *level* each step: mean recall probability over the items
      after the step (``reward="log_likelihood"``: mean ``log(1e-9 + p)``); no study cost. An
      episode's mean reward (``info["knowledge_auc"]`` for the likelihood reward) is the paper's score.
    - **Termination**: after 200 steps; never truncated.
    - **State**: :class:`~studygym.envs.tasks.review.ReviewState`.
    - **Info**: Review-v0's; ``knowledge_final`` equals the recall at the end (no delayed test).
    - **Timing differs from the paper's code in one way**: there the review is stamped at the end
      of its 5-unit step, when the reward is measured, so the reviewed item counts at full recall;
      here the review happens at the start of the step and recall is measured 5 days later.
    - **Two clocks, on purpose**: the observation's "days since review" and the interval
      schedulers' due dates count *steps* (Review-v0's course days, one per 5-day session), as the
      paper's tutors see the course; the learner, and the app-side FSRS / THRESHOLD updates, get
      real days (``5 x`` sessions). A Leitner box of "2 days" is therefore 2 sessions (10 days).

    Example::

        >>> import jax, studygym
        >>> env, params = studygym.make("DeepTutor-EFC-v0")
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(1), state, 3, params)
        >>> 0.0 < float(reward) <= 1.0
        True
    """

    # Review-v0's contract unchanged (no names of its own): the classic schedulers run as on Review-v0.
    item_features = ReviewEnv.item_features
    global_features = ReviewEnv.global_features
    action_layout = ReviewEnv.action_layout

    def __init__(self, config: DeepTutorConfig | None = None):
        super().__init__(DeepTutorConfig() if config is None else config)

    @property
    def default_params(self) -> ReviewParams:
        params = super().default_params
        learner_params = deeptutor_learner_params(self.config.learner)
        return params.replace(
            learner=params.learner if learner_params is None else learner_params,
            slot_minutes=jnp.float32(SLOT_MINUTES),
            night_hours=jnp.float32(STEP_DAYS * 24.0 - SLOT_MINUTES / 60.0),
            sleep_hours=jnp.float32(8.0),
            cost_per_minute=jnp.float32(0.0),
        )

    def step_env(self, key: Array, state: ReviewState, action: Any, params: ReviewParams):
        obs, new_state, _, terminated, truncated, info = super().step_env(key, state, action, params)
        if self.config.reward == "likelihood":
            reward = new_state.knowledge
        else:
            now = self.time(new_state.step, params)
            recall = self.learner.recall_prob(new_state.learner, now, params.learner)
            reward = jnp.mean(jnp.log(LOG_EPS + recall))
        return obs, new_state, reward, terminated, truncated, info
