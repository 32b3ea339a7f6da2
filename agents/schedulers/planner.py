"""A privileged planner: rollout policy improvement over the true learner (each env's upper reference).

``planner`` reads the env's true state (the hidden learner, as :mod:`.oracle` does) and plans on
the env itself: ``env.step`` is pure and jittable, so the true model of the future is the env.
In each step of its planning window it takes a few candidate actions (its base policy's choice,
rest, the next unseen item, the seen items of lowest true recall, and the env's own global
actions: sleep on Sleep-v0, a reward event on Tagging-v0), simulates the rest of the episode after
each with a rollout policy on ``n_samples`` sampled futures, and takes the candidate with the best
mean return: the env's own reward summed to the episode's end, study cost included, so it is
non-myopic and cost-aware by construction. This is one step of policy iteration (Bertsekas'
rollout algorithm): with exact returns it scores at least what its rollout policy scores.

Sampled returns are noisy, and taking the best of several noisy estimates at every step adds up
to real losses when the candidates are nearly equal (most steps). Two things keep the estimates
honest:

- **Common random numbers per review.** A rollout's env key is a function of (item, that item's
  review count), not of the step, so the k-th review of an item draws the same outcome in every
  candidate's future; the futures differ only where the candidates really differ.
- **A paired test.** A candidate replaces the base's choice only when its mean advantage over it,
  sample by sample on the same futures, exceeds ``confidence`` standard errors.

Rollouts to the end cost ``candidates x n_samples x steps left`` env steps, so the planner plans
only the last ``window`` steps of an episode (where a step's effect on the objective is largest
and rollouts shortest) and follows its base policy before; steps where the learner is asleep
(Sleep-v0) are not planned. Defaults per env (:func:`default_settings`) were chosen on training
learners (``studygym.tuning.TUNING_SEED``) so that 1000 learners take at most about 5 minutes on a
2-core CPU.

It is a reference point, not a baseline to beat: it reads what no real app can.
"""

from __future__ import annotations

import copy
from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Array, cond_any, pytree_dataclass

from .base import ItemScheduler, check_int_kwarg, check_kwarg

#: Envs the planner does not support (their actions are not an item choice over Review-v0's step).
UNSUPPORTED = ("Deck-v0", "Practice-v0", "SSPMMC-DHP-v0")
REWARD_RULES = ("success", "never")


def env_kind(env: Any) -> str:
    """``"review"`` (Review-v0 and the envs built on its step: Curriculum-v0, DeepTutor-*-v0),
    ``"sleep"``, ``"tagging"``, or ``""`` (not supported)."""
    from studygym.envs.tasks.review import ReviewEnv
    from studygym.envs.tasks.sleep import SleepEnv
    from studygym.envs.tasks.tagging import TaggingEnv

    if isinstance(env, SleepEnv):
        return "sleep"
    if isinstance(env, TaggingEnv):
        return "tagging"
    if isinstance(env, ReviewEnv):
        return "review"
    return ""


def true_recall(env: Any, env_state: Any, params: Any) -> Array:
    """True recall probability of every item now (0 for items the learner has never met)."""
    now = env.time(env_state.step, params)
    return env.learner.recall_prob(env_state.learner, now, params.learner)


# ----------------------------------------------------------------------------------------------
# A privileged base rule
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class RuleState:
    env_params: Any  # the env's params (the rule reads the true learner)


class RecallRule:
    """Privileged rule on the true recall: review the known item of lowest true recall once it is
    below ``threshold``; else introduce the lowest-index unseen item; else rest (``fill``: review
    the weakest item anyway). Known: reviewed in the course, or with recall > 0 (DeepTutor's
    students met every item before it).

    On Sleep-v0 it studies from ``study_from_hour`` until ``bed_hour`` (resting before) and sleeps
    from ``bed_hour``; on Tagging-v0 it delivers a reward event right after a successful recall
    while the budget lasts (``reward="success"``), or never (``"never"``). It reads only the true
    state, so it is cheap to roll out.
    """

    privileged = True

    def __init__(self, env: Any, threshold: float = 0.8, fill: bool = True, study_from_hour: float = 18.0,
                 bed_hour: float = 23.0, reward: str = "success"):
        self.kind = env_kind(env)
        if not self.kind:
            raise ValueError(f"recall_rule does not support env {getattr(env, 'name', env)!r}")
        self.env = env
        self.n_items = int(env.config.n_items)
        self.threshold = check_kwarg("threshold", threshold, 0.0, 1.0)
        if not isinstance(fill, bool):
            raise ValueError(f"fill must be True or False, got {fill!r}")
        self.fill = fill
        self.study_from_hour = check_kwarg("study_from_hour", study_from_hour, 0.0, 24.0, high_open=True)
        self.bed_hour = check_kwarg("bed_hour", bed_hour, 0.0, 24.0, high_open=True)
        if reward not in REWARD_RULES:
            raise ValueError(f"reward must be one of {REWARD_RULES}, got {reward!r}")
        self.reward = reward
        self.name = f"recall_rule_{self.threshold:g}"

    def __repr__(self) -> str:
        return (f"RecallRule(threshold={self.threshold:g}, fill={self.fill}, study_from_hour={self.study_from_hour:g}, "
                f"bed_hour={self.bed_hour:g}, reward={self.reward!r})")

    def init(self, key: Array, env_params: Any) -> RuleState:
        return RuleState(env_params=env_params)

    def act(self, key: Array, pstate: RuleState, obs: Array, env_state: Any) -> tuple[Array, RuleState]:
        return self.choose(env_state, pstate.env_params), pstate

    def choose(self, env_state: Any, params: Any) -> Array:
        """The rule's action from the true state."""
        env, n = self.env, self.n_items
        recall = true_recall(env, env_state, params)
        known = (env_state.reviews > 0) | (recall > 0)
        masked = jnp.where(known, recall, jnp.inf)
        weakest = jnp.argmin(masked)
        unseen = ~known
        otherwise = jnp.where(unseen.any(), jnp.argmax(unseen), weakest if self.fill else n)
        action = jnp.where(masked[weakest] < self.threshold, weakest, otherwise).astype(jnp.int32)
        if self.kind == "sleep":
            wake = env.config.wake_hour
            since_wake = jnp.mod(env.hour_of_day(env_state.step) - wake, 24.0)
            bedtime = since_wake >= (self.bed_hour - wake) % 24.0
            studying = (since_wake >= (self.study_from_hour - wake) % 24.0) & ~bedtime
            action = jnp.where(bedtime, n + 1, jnp.where(studying, action, n))
        elif self.kind == "tagging" and self.reward == "success":
            success = (env_state.last_step_grade > 1) & (env_state.budget_left > 0)
            action = action + success.astype(jnp.int32) * (n + 1)
        return jnp.asarray(action, jnp.int32)


# ----------------------------------------------------------------------------------------------
# Policies as the planner drives them
# ----------------------------------------------------------------------------------------------


class _Driven:
    """A policy the planner follows or rolls out: act from (obs, true state) and, once the planner
    took another action, the policy's own state as if it had chosen that action."""

    def __init__(self, env: Any, policy: Any):
        self.policy = policy
        self.name = getattr(policy, "name", type(policy).__name__)
        self.rule = isinstance(policy, RecallRule)
        self.privileged = bool(getattr(policy, "privileged", False))
        self.review_actions = int(env.config.n_items) + 1  # item or rest, before any env-specific block
        # A privileged policy whose state is its env params (oracle_greedy) keeps it constant.
        self.constant = self.rule or type(policy).__name__ == "OracleGreedy"
        shapes = jax.eval_shape(policy.init, jax.random.key(0), env.default_params)
        self.stateless = self.constant or not jax.tree.leaves(shapes)
        if not self.stateless and not isinstance(policy, ItemScheduler):
            raise ValueError(f"policy {self.name!r} keeps a state the planner cannot replay after overriding its "
                             "choice: use a stateless policy or a classic ItemScheduler")

    def init(self, key: Array, params: Any) -> Any:
        return () if self.constant else self.policy.init(key, params)

    def act(self, key: Array, pstate: Any, obs: Array, env_state: Any, params: Any) -> tuple[Array, Any]:
        if self.rule:
            return self.policy.choose(env_state, params), pstate
        if self.constant:
            action, _ = self.policy.act(key, self.policy.init(key, params), obs, env_state)
            return jnp.asarray(action, jnp.int32), pstate
        extra = (env_state,) if self.privileged else ()
        action, pstate = self.policy.act(key, pstate, obs, *extra)
        return jnp.asarray(action, jnp.int32), pstate

    def act_as(self, key: Array, pstate: Any, obs: Array, action: Array) -> Any:
        """The policy's state after this step, had it chosen ``action`` (a classic scheduler records
        the item it showed and learns its grade at the next step)."""
        if self.stateless:
            return pstate
        forced = copy.copy(self.policy)
        select = self.policy.select
        shown = jnp.mod(action, self.review_actions)  # Tagging-v0's event block shows item j too

        def select_forced(key, items, view, state):
            return shown, select(key, items, view, state)[1]

        forced.select = select_forced
        return forced.act(key, pstate, obs)[1]


def _build(env: Any, spec: Any, settings: dict | None, what: str) -> Any:
    """A policy from a name (``"recall_rule"``, a scheduler or env baseline name) or an object."""
    settings = dict(settings or {})
    if not isinstance(spec, str):
        if settings:
            raise ValueError(f"{what}_settings apply to a {what} given by name, not to a policy object")
        return spec
    if spec == "recall_rule":
        return RecallRule(env, **settings)
    if spec == "planner":
        raise ValueError(f"{what} cannot be the planner itself")
    from studygym.suites import policy_by_name

    return policy_by_name(spec, env, **settings)


def default_settings(env: Any) -> dict:
    """The planner's defaults for ``env``: its base policy (followed before the window and always a
    candidate), rollout policy (``None``: the base) and planning window (steps from the end).

    Chosen on training learners (``studygym.tuning.TUNING_SEED``) for each env's objective (the
    episode return), among the env's baselines and :class:`RecallRule` thresholds, within about 5
    minutes per 1000 learners on a 2-core CPU:

    - Review-v0 with FSRS learners: tuned HLR (threshold 0.1, the best tuned classic there);
    - brain learners (Review-v0, Curriculum-v0, Tagging-v0): :class:`RecallRule` (0.8; 0.7 on
      Curriculum-v0, whose 80 items outnumber what 200 slots can keep above 0.8);
    - Sleep-v0: ``spaced+sleep`` (its best baseline by far);
    - DeepTutor-*-v0 (reward: knowledge at every step, no cost): the reward-greedy oracle
      (``oracle_greedy`` with ``horizon="step"``) as base and rollout policy, over a short window
      (it costs ~35 env steps a call); round robin for GPL (DASH) students, where it scores higher.
    """
    kind = env_kind(env)
    learner = getattr(getattr(env, "learner", None), "name", "")
    max_steps = int(env.max_steps)
    if kind == "sleep":
        return {"base": "spaced+sleep", "base_settings": None, "rollout_policy": None, "window": 48}
    if kind == "tagging":
        return {"base": "recall_rule", "base_settings": {"threshold": 0.8, "reward": "success"},
                "rollout_policy": None, "window": 30}
    if type(env).__name__ == "DeepTutorEnv":
        if learner == "dash":
            return {"base": "round_robin", "base_settings": None, "rollout_policy": None, "window": 20}
        return {"base": "oracle_greedy", "base_settings": {"horizon": "step"}, "rollout_policy": None, "window": 10}
    if type(env).__name__ == "CurriculumEnv":
        return {"base": "recall_rule", "base_settings": {"threshold": 0.7}, "rollout_policy": None,
                "window": min(30, max_steps)}
    if learner == "fsrs":
        return {"base": "hlr", "base_settings": {"threshold": 0.1}, "rollout_policy": None,
                "window": min(30, max_steps)}
    return {"base": "recall_rule", "base_settings": {"threshold": 0.8}, "rollout_policy": None,
            "window": min(30, max_steps)}


# ----------------------------------------------------------------------------------------------
# The planner
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class PlannerState:
    env_params: Any  # the env's params (the planner simulates the true learner)
    base: Any  # the base policy's state on the real trajectory
    rollout: Any  # the rollout policy's state on the real trajectory


class Planner:
    """Rollout planner over the true env (privileged); see the module docstring.

    Settings (``"auto"``: :func:`default_settings` for the env):

    - ``base``: the policy followed outside the window, whose choice is always a candidate and wins
      ties: ``"recall_rule"`` (:class:`RecallRule`), a scheduler or env-baseline name (``"hlr"``,
      ``"spaced+sleep"``, ...) with ``base_settings``, or a policy object (stateless, privileged
      with constant state, or a classic :class:`~.base.ItemScheduler`).
    - ``rollout_policy``: the policy the rollouts follow after the candidate (default: the base).
      It runs ``n_samples x candidates`` times per planned step: a cheap one keeps the planner fast.
    - ``n_candidates`` (K, default 3): seen items of lowest true recall among the candidates, beside
      the base's choice, the rollout policy's, rest, the next unseen item and the env's global
      actions (sleep; the base's choice with and without a reward event).
    - ``n_samples`` (M, default 4): sampled futures per candidate, shared by every candidate.
    - ``window`` (H): plan the last H steps of the episode (rollouts to its end); ``None``: all.
    - ``confidence`` (default 2): standard errors by which a candidate's mean paired advantage
      must beat the base's choice; ``min_advantage`` (default 0): and by this much.
    """

    privileged = True

    def __init__(self, env: Any, base: Any = "auto", n_candidates: int = 3, n_samples: int = 4,
                 window: Any = "auto", confidence: float = 2.0, min_advantage: float = 0.0,
                 rollout_policy: Any = None, base_settings: dict | None = None,
                 rollout_settings: dict | None = None, score: str = "now", stride: int = 1):
        kind = env_kind(env)
        if not kind:
            raise ValueError(f"planner does not support env {getattr(env, 'name', env)!r}: it plans over the "
                             "Review-v0 family (Review-v0, Curriculum-v0, Sleep-v0, Tagging-v0, DeepTutor-*-v0), "
                             "whose action is an item (or rest) and whose step its rollouts replay; "
                             f"{', '.join(UNSUPPORTED)} are not")
        self.env, self.kind = env, kind
        self.n_items = int(env.config.n_items)
        self.max_steps = int(env.max_steps)
        defaults = default_settings(env)
        if isinstance(base, str) and base == "auto":
            base = defaults["base"]
            base_settings = defaults["base_settings"] if base_settings is None else base_settings
            if rollout_policy is None:
                rollout_policy = defaults["rollout_policy"]
        if window == "auto":
            window = defaults["window"]
        self.window = self.max_steps if window is None else min(check_int_kwarg("window", window, 0), self.max_steps)
        self.n_candidates = check_int_kwarg("n_candidates", n_candidates, 0)
        self.n_samples = check_int_kwarg("n_samples", n_samples, 1)
        self.confidence = check_kwarg("confidence", confidence, 0.0, None)
        self.min_advantage = check_kwarg("min_advantage", min_advantage, 0.0, None)
        self.base = _Driven(env, _build(env, base, base_settings, "base"))
        if rollout_policy is None:
            if rollout_settings:
                raise ValueError("rollout_settings need a rollout_policy")
            self.rollout_policy = self.base
        else:
            self.rollout_policy = _Driven(env, _build(env, rollout_policy, rollout_settings, "rollout"))
        self.separate_rollout = self.rollout_policy is not self.base
        self.score = score
        self.stride = check_int_kwarg("stride", stride, 1)
        self.name = "planner"

    def __repr__(self) -> str:
        rollout = f", rollout_policy={self.rollout_policy.name!r}" if self.separate_rollout else ""
        return (f"Planner(base={self.base.name!r}{rollout}, n_candidates={self.n_candidates}, "
                f"n_samples={self.n_samples}, window={self.window}, confidence={self.confidence:g}, "
                f"min_advantage={self.min_advantage:g})")

    def settings(self) -> dict:
        return {"base": self.base.name, "rollout_policy": self.rollout_policy.name,
                "n_candidates": self.n_candidates, "n_samples": self.n_samples, "window": self.window,
                "confidence": self.confidence, "min_advantage": self.min_advantage}

    def init(self, key: Array, env_params: Any) -> PlannerState:
        key_base, key_rollout = jax.random.split(key)
        rollout = self.rollout_policy.init(key_rollout, env_params) if self.separate_rollout else ()
        return PlannerState(env_params=env_params, base=self.base.init(key_base, env_params), rollout=rollout)

    # -- candidates --------------------------------------------------------------------------------
    def candidates(self, base_action: Array, rollout_action: Array, env_state: Any, params: Any) -> Array:
        """(C,) candidate actions, the base's choice first; repeats are masked out in :meth:`plan`."""
        n = self.n_items
        recall = true_recall(self.env, env_state, params)
        known = (env_state.reviews > 0) | (recall > 0)
        unseen = ~known
        fixed = [base_action, jnp.int32(n), jnp.where(unseen.any(), jnp.argmax(unseen), base_action)]
        if self.separate_rollout:
            fixed.append(rollout_action)
        if self.kind == "sleep":
            fixed.append(jnp.int32(n + 1))
        if self.kind == "tagging":  # the base's item (or rest) with the reward event toggled
            shown = jnp.mod(base_action, n + 1)
            toggled = jnp.where(base_action > n, shown, shown + n + 1)
            fixed.append(jnp.where((base_action > n) | (env_state.budget_left > 0), toggled, base_action))
        cands = jnp.stack([jnp.asarray(a, jnp.int32) for a in fixed])
        k = min(self.n_candidates, n)
        if k:
            scores = []
            if self.score in ("now", "both"):
                scores.append(recall)
            if self.score in ("end", "both"):
                end = self.env.time(jnp.int32(self.max_steps), params)
                learner, lp = self.env.learner, params.learner
                scores.append(learner.recall_prob(learner.elapse(env_state.learner, end, lp), end, lp))
            for score in scores:
                _, weakest = jax.lax.top_k(-jnp.where(known, score, jnp.inf), k)
                weakest = jnp.where(known[weakest], weakest, base_action).astype(jnp.int32)
                cands = jnp.concatenate([cands, weakest])
        return cands

    # -- rollouts ----------------------------------------------------------------------------------
    def review_key(self, key: Array, env_state: Any, action: Array) -> Array:
        """A rollout step's env key: a function of (item shown, its review count), so the k-th
        review of an item draws the same outcome in every candidate's future; each review of a
        trajectory still gets a key of its own (rests and sleeps: the step)."""
        n = self.n_items
        item = jnp.mod(jnp.asarray(action, jnp.int32), n + 1) if self.kind == "tagging" else action
        shows = (item >= 0) & (item < n)
        count = env_state.reviews[jnp.clip(item, 0, n - 1)].astype(jnp.int32)
        key = jax.random.fold_in(key, jnp.where(shows, item, n))
        return jax.random.fold_in(key, jnp.where(shows, count, self.max_steps + env_state.step))

    def rollout(self, key: Array, env_state: Any, pstate: Any, first: Array, params: Any) -> Array:
        """Sum of the env's rewards from now to the episode's end: ``first``, then the rollout policy."""
        env, policy = self.env, self.rollout_policy
        key_env, key_policy = jax.random.split(key)
        obs, state, total, _, _, _ = env.step(self.review_key(key_env, env_state, first), env_state, first, params)

        def body(i, carry):
            obs, state, pstate, total = carry
            action, pstate = policy.act(jax.random.fold_in(key_policy, i), pstate, obs, state, params)
            obs, state, reward, _, _, _ = env.step(self.review_key(key_env, state, action), state, action, params)
            return obs, state, pstate, total + reward

        # Every learner of a batch is at the same step, so the loop runs no step in vain under vmap.
        _, _, _, total = jax.lax.fori_loop(1, 1 + self.max_steps - state.step, body, (obs, state, pstate, total))
        return total

    def plan(self, key: Array, env_state: Any, obs: Array, rollout_state: Any, base_action: Array,
             rollout_action: Array, params: Any) -> Array:
        cands = self.candidates(base_action, rollout_action, env_state, params)
        key_policy, key_samples = jax.random.split(key)
        # The rollout policy's state after each candidate, as if it had chosen it.
        states = jax.vmap(lambda a: self.rollout_policy.act_as(key_policy, rollout_state, obs, a))(cands)
        sample_keys = jax.random.split(key_samples, self.n_samples)

        def returns(first, state_after):
            return jax.vmap(lambda k: self.rollout(k, env_state, state_after, first, params))(sample_keys)

        advantage = jax.vmap(returns)(cands, states)  # (C, M) returns
        advantage = advantage - advantage[:1]  # paired with the base's choice, future by future
        mean = jnp.mean(advantage, axis=1)
        spread = jnp.std(advantage, axis=1) * jnp.sqrt(self.n_samples / max(self.n_samples - 1, 1))
        clear = mean > self.min_advantage + self.confidence * spread / jnp.sqrt(float(self.n_samples))
        first = jnp.argmax(cands[None, :] == cands[:, None], axis=1) == jnp.arange(cands.shape[0])
        best = jnp.argmax(jnp.where(clear & first, mean, -jnp.inf).at[0].set(0.0))
        return cands[best]

    def act(self, key: Array, pstate: PlannerState, obs: Array, env_state: Any) -> tuple[Array, PlannerState]:
        params = pstate.env_params
        key_base, key_rollout, key_plan = jax.random.split(key, 3)
        base_action, base_state = self.base.act(key_base, pstate.base, obs, env_state, params)
        if self.separate_rollout:
            rollout_action, rollout_state = self.rollout_policy.act(key_rollout, pstate.rollout, obs, env_state, params)
        else:
            rollout_action, rollout_state = base_action, pstate.base
        if self.window == 0:
            return base_action, pstate.replace(base=base_state, rollout=pstate.rollout)
        planning = env_state.step >= self.max_steps - self.window
        if self.stride > 1:
            planning = planning & ((self.max_steps - 1 - env_state.step) % self.stride == 0)
        if self.kind == "sleep":  # asleep, the action is ignored: nothing to plan
            planning = planning & (env_state.asleep_until <= env_state.step)
        rollout_before = pstate.rollout if self.separate_rollout else pstate.base
        action = cond_any(planning, self._plan, self._follow, key_plan, env_state, obs, rollout_before,
                          base_action, rollout_action, params)
        # The policies record the action taken, not their own choice.
        base_state = self.base.act_as(key_base, pstate.base, obs, action)
        if self.separate_rollout:
            rollout_state = self.rollout_policy.act_as(key_rollout, pstate.rollout, obs, action)
            return action, pstate.replace(base=base_state, rollout=rollout_state)
        return action, pstate.replace(base=base_state)

    # Branches of cond_any: pure functions of their operands.
    def _plan(self, key, env_state, obs, rollout_state, base_action, rollout_action, params):
        return self.plan(key, env_state, obs, rollout_state, base_action, rollout_action, params).astype(jnp.int32)

    def _follow(self, key, env_state, obs, rollout_state, base_action, rollout_action, params):
        return jnp.asarray(base_action, jnp.int32)


__all__ = ["Planner", "PlannerState", "RecallRule", "RuleState", "default_settings", "env_kind", "true_recall"]
