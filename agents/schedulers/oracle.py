"""A privileged oracle: it reads the learner's true memory state (no real app can).

It is a reference point, not a baseline to beat: the harness never ranks a privileged policy
against the classic schedulers.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Array, pytree_dataclass

from .base import check_int_kwarg, check_kwarg

HORIZONS = ("step", "test")


@pytree_dataclass
class OracleState:
    env_params: Any  # the env's params (the oracle may read the true learner traits)


class OracleGreedy:
    """Greedy on the true memory: review the item whose review most raises expected knowledge.

    For every item it simulates a review now on the hidden learner state (``learner.practice``,
    ``n_samples`` draws of the outcome, shared across items so the comparison is paired), lets
    time run to the horizon (``learner.elapse``) and sums true recall over all items; the gain is
    that sum minus the sum without the review. It reviews the item of largest expected gain, or
    rests when no gain exceeds ``min_gain``. ``horizon``: ``"test"`` (default) is the delayed
    retention test (the course's end plus ``delay_days``), ``"step"`` the next slot (the
    reward-greedy choice: knowledge one step ahead), or a number of days from now. Nights' sleep
    before the horizon is not simulated (identity for the FSRS learner).
    """

    privileged = True

    def __init__(self, env: Any, horizon: Any = "test", n_samples: int = 4, min_gain: float = 0.0):
        if env.family not in ("review", "sleep", "tagging"):  # the learner's state and clock of Review-v0's step
            raise ValueError(f"env {env.name!r} is not a Review-family env (family {env.family!r}): "
                             "oracle_greedy needs a Review-v0-like env")
        if isinstance(horizon, str):
            if horizon not in HORIZONS:
                raise ValueError(f"horizon must be one of {HORIZONS} or a number of days > 0, got {horizon!r}")
            self.horizon = horizon
        else:
            self.horizon = check_kwarg("horizon", horizon, 0.0, 36500.0, low_open=True)
        self.n_samples = check_int_kwarg("n_samples", n_samples, 1)
        self.min_gain = check_kwarg("min_gain", min_gain, None, None)
        self.env = env
        self.n_items = int(env.config.n_items)
        self.name = "oracle_greedy"

    def __repr__(self) -> str:
        return f"OracleGreedy(horizon={self.horizon!r}, n_samples={self.n_samples}, min_gain={self.min_gain})"

    def init(self, key: Array, env_params: Any) -> OracleState:
        return OracleState(env_params=env_params)

    def horizon_time(self, now: Array, step: Array, params: Any) -> Array:
        env = self.env
        if self.horizon == "step":
            return env.time(step + 1, params)
        if self.horizon == "test":
            delay = float(env.config.delay_days)  # every Review-family config declares it (checked in __init__)
            return env.time(jnp.int32(env.max_steps), params) + delay
        return now + jnp.float32(self.horizon)

    def expected_gains(self, key: Array, env_state: Any, params: Any) -> Array:
        """Expected gain in summed true recall at the horizon from reviewing each item now."""
        env, learner = self.env, self.env.learner
        learner_params = params.learner
        now = env.time(env_state.step, params)
        later = self.horizon_time(now, env_state.step, params)

        def knowledge_later(memory):
            return jnp.sum(learner.recall_prob(learner.elapse(memory, later, learner_params), later, learner_params))

        baseline = knowledge_later(env_state.learner)
        keys = jax.random.split(key, self.n_samples)

        def gain(item):
            def after_review(sample_key):
                _, memory = learner.practice(sample_key, env_state.learner, item, now, learner_params)
                return knowledge_later(memory)

            return jnp.mean(jax.vmap(after_review)(keys)) - baseline

        return jax.vmap(gain)(jnp.arange(self.n_items))

    def act(self, key: Array, pstate: OracleState, obs: Array, env_state: Any) -> tuple[Array, OracleState]:
        gains = self.expected_gains(key, env_state, pstate.env_params)
        best = jnp.argmax(gains)
        action = jnp.where(gains[best] > self.min_gain, best, self.n_items).astype(jnp.int32)
        return action, pstate
