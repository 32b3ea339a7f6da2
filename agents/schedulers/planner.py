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
learners (``studygym.evaluation.tuning.TUNING_SEED``) so that 1000 learners take at most about 5 minutes on a
2-core CPU.

On Deck-v0, Practice-v0 and SSPMMC-DHP-v0 the action is not an item (a desired retention; a
skill and a level; an interval per word), so the same registered name builds a
:class:`PortfolioPlanner`: the same rollouts over the true env, with whole privileged policies as
the candidates (:func:`portfolio_candidates`) and a decision every few steps
(:func:`portfolio_defaults`).

It is a reference point, not a baseline to beat: it reads what no real app can.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from studygym.agents.policy import Constant
from studygym.envs.core import Array, check_range, cond_any, pytree_dataclass
from studygym.envs.learners import dhp as dhp_maths
from studygym.envs.tasks.curriculum import CurriculumEnv
from studygym.envs.tasks.deeptutor import DeepTutorEnv
from studygym.policies import policy_by_name

from .base import ItemScheduler, check_int_kwarg, check_kwarg
from .practice import OracleTarget
from .sspmmc import DHPChain, N_DIFFICULTIES, ThresholdIntervalScheduler, grid_index

#: Envs whose action is not an item choice over Review-v0's step: there the planner chooses among
#: whole policies by rollouts (:class:`PortfolioPlanner`).
PORTFOLIO_ENVS = ("Deck-v0", "Practice-v0", "SSPMMC-DHP-v0")
REWARD_RULES = ("success", "never")


def env_kind(env: Any) -> str:
    """``"review"`` (Review-v0 and the envs built on its step: Curriculum-v0, DeepTutor-*-v0),
    ``"sleep"``, ``"tagging"``, or ``""`` (not supported): the env's declared ``family``."""
    return env.family if env.family in ("review", "sleep", "tagging") else ""


def check_search_settings(n_samples: Any, window: Any, confidence: Any, min_advantage: Any,
                          max_steps: int) -> tuple[int, int, float, float]:
    """Both planners' search settings, checked: ``n_samples`` futures per candidate (>= 1), the rollout
    ``window`` in steps (``None``: to the episode's end; at most ``max_steps``), and the switching
    test's ``confidence`` (standard errors) and ``min_advantage`` (both >= 0; :func:`clear_gains`)."""
    return (check_int_kwarg("n_samples", n_samples, 1),
            max_steps if window is None else min(check_int_kwarg("window", window, 0), max_steps),
            check_kwarg("confidence", confidence, 0.0, None), check_kwarg("min_advantage", min_advantage, 0.0, None))


def clear_gains(advantage: Array, confidence: float, min_advantage: float) -> tuple[Array, Array]:
    """The paired test both planners use. ``advantage``: (candidates, futures) returns minus the
    incumbent's on the same futures. Returns each candidate's mean advantage and whether it clears
    ``min_advantage`` by ``confidence`` standard errors (sample standard deviation over futures)."""
    n = advantage.shape[1]
    mean = jnp.mean(advantage, axis=1)
    spread = jnp.std(advantage, axis=1) * jnp.sqrt(n / max(n - 1, 1))
    return mean, mean > min_advantage + confidence * spread / jnp.sqrt(float(n))


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
            raise ValueError(f"recall_rule does not support env {env.name!r}")
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
    return policy_by_name(spec, env, **settings)


def default_settings(env: Any) -> dict:
    """The planner's defaults for ``env``: its base policy (followed before the window and always a
    candidate), rollout policy (``None``: the base) and planning window (steps from the end).

    Chosen on training learners (``studygym.evaluation.tuning.TUNING_SEED``) for each env's objective (the
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
    learner = env.learner.name
    max_steps = int(env.max_steps)
    if kind == "sleep":
        return {"base": "spaced+sleep", "base_settings": None, "rollout_policy": None, "window": 48}
    if kind == "tagging":
        return {"base": "recall_rule", "base_settings": {"threshold": 0.8, "reward": "success"},
                "rollout_policy": None, "window": 30}
    if isinstance(env, DeepTutorEnv):
        if learner == "dash":
            return {"base": "round_robin", "base_settings": None, "rollout_policy": None, "window": 20}
        return {"base": "oracle_greedy", "base_settings": {"horizon": "step"}, "rollout_policy": None, "window": 10}
    if isinstance(env, CurriculumEnv):
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

    def __new__(cls, env: Any, *args: Any, **kwargs: Any):
        # Deck-v0, Practice-v0 and SSPMMC-DHP-v0 (actions that are not an item): the same rollout
        # idea over whole policies, under the same registered name.
        if portfolio_kind(env):
            if args:
                raise ValueError("planner settings must be given by name on this env")
            known = set(inspect.signature(PortfolioPlanner.__init__).parameters) - {"self", "env"}
            other = sorted(k for k in kwargs if k not in known)
            if other:
                raise ValueError(f"planner on {env.name} plans over whole policies "
                                 f"(PortfolioPlanner): settings {other} do not apply; it takes {sorted(known)}")
            return PortfolioPlanner(env, **kwargs)
        return super().__new__(cls)

    def __init__(self, env: Any, base: Any = "auto", n_candidates: int = 3, n_samples: Any = 4,
                 window: Any = "auto", confidence: float = 2.0, min_advantage: float = 0.0,
                 rollout_policy: Any = None, base_settings: dict | None = None,
                 rollout_settings: dict | None = None, score: str = "now", stride: Any = 1,
                 candidates: Any = "auto"):
        kind = env_kind(env)
        if not kind:
            raise ValueError(f"planner does not support env {env.name!r}: it plans over the "
                             "Review-v0 family (Review-v0, Curriculum-v0, Sleep-v0, Tagging-v0, DeepTutor-*-v0), "
                             "whose action is an item (or rest) and whose step its rollouts replay, and over "
                             f"whole policies on {', '.join(PORTFOLIO_ENVS)}")
        if not (isinstance(candidates, str) and candidates == "auto"):
            raise ValueError("candidates (whole policies) apply to the planner on "
                             f"{', '.join(PORTFOLIO_ENVS)}; on {env.name} its candidates are actions (n_candidates)")
        n_samples = 4 if n_samples == "auto" else n_samples
        stride = 1 if stride == "auto" else stride
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
        self.n_candidates = check_int_kwarg("n_candidates", n_candidates, 0)
        self.n_samples, self.window, self.confidence, self.min_advantage = check_search_settings(
            n_samples, window, confidence, min_advantage, self.max_steps)
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
        mean, clear = clear_gains(advantage, self.confidence, self.min_advantage)
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


# ----------------------------------------------------------------------------------------------
# Envs whose action is not an item: rollouts choose among whole policies
# ----------------------------------------------------------------------------------------------

#: Desired retentions the Deck-v0 planner chooses among (inside the action's range [0.70, 0.99]).
DECK_CANDIDATE_RETENTIONS = (0.93, 0.95, 0.97)
#: Target success rates of the privileged Practice-v0 level rule (:class:`~.practice.OracleTarget`).
PRACTICE_CANDIDATE_TARGETS = (0.8, 0.85)


def portfolio_kind(env: Any) -> str:
    """``"deck"``, ``"practice"``, ``"sspmmc"``, or ``""``: the envs :class:`PortfolioPlanner` plans."""
    return {"DeckEnv": "deck", "PracticeEnv": "practice", "SSPMMCEnv": "sspmmc"}.get(type(env).__name__, "")


class TrueDHPScheduler:
    """SSP-MMC's interval table (value iteration on the DHP chain) applied to the learner's *true*
    memory (privileged, SSPMMC-DHP-v0): each word's true half-life and difficulty after the review,
    and the learner's own forgetting clock (``forget_mult``; recall is ``2^(-t m / h)``, so an
    interval of ``tau`` chain days is ``tau / m`` real days).

    The table is solved (NumPy, once) with the learner population's DHP coefficients as the env's
    default params give them (``env.default_params.learner``; every learner shares them, only the
    clock ``m`` differs) and SSP-MMC's costs (``recall_cost``, ``forget_cost``, as the paper's value
    iteration). At the registered default (``forget_sd = 0``, the app's coefficients equal the
    learner's) it chooses the same intervals as ``sspmmc``.
    """

    privileged = True

    def __init__(self, env: Any, target_half_life: float = 360.0, recall_cost: float = 3.0, forget_cost: float = 9.0):
        if portfolio_kind(env) != "sspmmc":
            raise ValueError(f"TrueDHPScheduler needs SSPMMC-DHP-v0, got {env.name!r}")
        self.env = env
        self.target_half_life = check_kwarg("target_half_life", target_half_life, 1.0, 3650.0, low_open=True)
        self.recall_cost = check_kwarg("recall_cost", recall_cost, 0.0, None, low_open=True)
        self.forget_cost = check_kwarg("forget_cost", forget_cost, 0.0, None, low_open=True)
        learner = env.default_params.learner
        chain = DHPChain(self.target_half_life, self.recall_cost, self.forget_cost,
                         recall_coef=np.asarray(learner.recall_coef), forget_coef=np.asarray(learner.forget_coef))
        _, table = chain.solve()
        self.chain, self.table = chain, jnp.asarray(table, jnp.float32)
        self._grid_index, self._n_difficulties, self._dhp = grid_index, N_DIFFICULTIES, dhp_maths
        self.name = ("dhp_true" if (self.target_half_life, self.recall_cost, self.forget_cost) == (360.0, 3.0, 9.0)
                     else f"dhp_true[{self.target_half_life:g},{self.recall_cost:g},{self.forget_cost:g}]")

    def init(self, key: Array, env_params: Any) -> Any:
        return env_params

    def interval(self, difficulty: Array, half_life: Array) -> Array:
        di = jnp.clip(jnp.round(difficulty).astype(jnp.int32), 1, self._n_difficulties) - 1
        return self.table[di, self._grid_index(half_life, self.chain.n_states)]

    def act(self, key: Array, pstate: Any, obs: Array, env_state: Any) -> tuple[Array, Any]:
        dhp, lp = self._dhp, pstate.learner
        n = self.env.config.deck_size
        memory = env_state.learner
        card = jnp.minimum(env_state.batch, n - 1)
        is_review = jnp.arange(env_state.batch.shape[0]) < self.env.config.review_limit
        now = env_state.day.astype(jnp.float32)
        mult = memory.forget_mult
        h, d = memory.half_life[card], memory.difficulty[card]
        p = dhp.recall_probability((now - memory.last_review[card]) * mult, h)
        ones = jnp.ones_like(p, bool)
        h_recall, d_recall = dhp.next_memory(lp.recall_coef, lp.forget_coef, d, h, p, ones)
        h_forget, d_forget = dhp.next_memory(lp.recall_coef, lp.forget_coef, d, h, p, ~ones)
        d0 = memory.initial_difficulty[card]
        h_recall = jnp.where(is_review, h_recall, dhp.start_half_life(d0))
        d_recall = jnp.where(is_review, d_recall, d0)
        action = jnp.concatenate([self.interval(d_recall, h_recall), self.interval(d_forget, h_forget)])
        action = action / mult
        return jnp.clip(jnp.round(action), 1.0, float(self.env.config.max_interval)).astype(jnp.float32), pstate


class ClusteredOracle:
    """Privileged Practice-v0 rule: the level whose true success probability is nearest ``target``
    (as ``oracle_85``), with the skills in an order that uses the learner's cluster structure:
    each day's session is cut into one block per cluster of similar skills, and within a block the
    cluster's skills alternate, so every trial but the first of a block switches to a different
    skill of the same cluster (the slow-trace bonus ``interleave_gain`` of
    :mod:`studygym.envs.learners.skill`; plain interleaving earns it on every other trial with
    clusters of two). The cluster size is the learner population's (``env.default_params``): a
    reference, not a baseline.
    """

    privileged = True

    def __init__(self, env: Any, target: float = 0.85):
        if portfolio_kind(env) != "practice":
            raise ValueError(f"ClusteredOracle needs Practice-v0, got {env.name!r}")
        check_range("target", target, 0.0, 1.0, low_open=True, high_open=True)
        self.env, self.target = env, float(target)
        self.n_skills, self.n_levels = int(env.config.n_skills), int(env.config.n_levels)
        self.trials_per_day = int(env.config.trials_per_day)
        self.cluster = max(1, min(int(round(float(env.default_params.learner.cluster_size))), self.n_skills))
        self.n_clusters = -(-self.n_skills // self.cluster)
        self.name = f"oracle_{round(100 * self.target)}_clustered"

    def init(self, key: Array, env_params: Any) -> Any:
        return (jnp.int32(0), env_params)

    def skill(self, t: Array) -> Array:
        trial = t % self.trials_per_day
        block = trial * self.n_clusters // self.trials_per_day
        start = block * self.cluster
        size = jnp.minimum(self.cluster, self.n_skills - start)
        return (start + trial % size).astype(jnp.int32)

    def act(self, key: Array, pstate: Any, obs: Array, env_state: Any) -> tuple[Array, Any]:
        t, env_params = pstate
        skill = self.skill(t)
        p = self.env.learner.success_prob(env_state.learner, skill, self.env.difficulties(env_params),
                                          env_params.learner)
        level = jnp.argmin(jnp.abs(p - self.target)).astype(jnp.int32)
        return (skill * self.n_levels + level).astype(jnp.int32), (t + 1, env_params)


def portfolio_candidates(env: Any) -> tuple[list, int]:
    """(candidate policies, index of the default base) of :class:`PortfolioPlanner` for ``env``.

    - Deck-v0: the app's FSRS at each desired retention of :data:`DECK_CANDIDATE_RETENTIONS`
      (base 0.9, Anki's default);
    - Practice-v0: the privileged level rule (the level whose true success probability is nearest
      a target, interleaved) at each target of :data:`PRACTICE_CANDIDATE_TARGETS` (base 0.85, the
      ``oracle_85`` reference), and the staircase, the best observation-only rule;
    - SSPMMC-DHP-v0: SSP-MMC's value-iteration table on the learner's true memory
      (:class:`TrueDHPScheduler`, base) and with a lapse costing more or less, and THRESHOLD at
      0.9 and 0.8 (the paper's baselines).
    """
    kind = portfolio_kind(env)
    if kind == "deck":
        return [Constant(r, name=f"fsrs_dr_{r:.2f}") for r in DECK_CANDIDATE_RETENTIONS], \
            DECK_CANDIDATE_RETENTIONS.index(0.95)
    if kind == "practice":
        cands = [ClusteredOracle(env, target=t) for t in PRACTICE_CANDIDATE_TARGETS] + [OracleTarget(env, 0.85)]
        return cands, PRACTICE_CANDIDATE_TARGETS.index(0.85)
    if kind == "sspmmc":
        cands = [TrueDHPScheduler(env), TrueDHPScheduler(env, forget_cost=15.0), ThresholdIntervalScheduler(env, 0.9)]
        return cands, 0
    raise ValueError(f"no policy portfolio for env {env.name!r}")


#: SSPMMC-DHP-v0's rollout budget per candidate and decision, in word-days (deck size x days): 8
#: futures of a 300-word, 250-day deck; 2 (the floor) at 1,000 words and up, where one future of
#: the default 10,000-word, 365-day deck already costs 3.65 M word-days.
SSPMMC_ROLLOUT_WORD_DAYS = 600_000


def portfolio_defaults(env: Any) -> dict:
    """:class:`PortfolioPlanner`'s defaults per env: ``n_samples`` futures per candidate, replanning
    every ``stride`` steps over the last ``window`` steps (``None``: the whole episode).

    Measured on training learners (``studygym.evaluation.tuning.TUNING_SEED``) on the 2-core CPU, shared with
    other jobs (load ~8), when these defaults were set:

    - Deck-v0 (1,000 cards): 5 retentions 0.85-0.97, 2 futures, a decision every 73 days: 0.9239
      against 0.9221 for the best fixed retention (0.95), paired +0.0018 (SE 0.0002, 64 learners),
      but 30 episodes of rollouts per learner (235 s for 64 learners). The default keeps the three
      retentions around the tuned 0.95 and 3 decisions (days 0, 122, 244): 12 episodes per learner.
    - Practice-v0: among the privileged level rule's targets 0.5-0.95 (interleaved), 0.85 was the
      best for every one of 128 learners, so a portfolio of targets gains nothing; the clustered
      order (:class:`ClusteredOracle`) does (0.942 against 0.904 for ``oracle_85``, 256 learners).
      Two decisions (trials 0 and 140), 2 futures: 6 + 3 episodes of rollouts per learner.
    - SSPMMC-DHP-v0 (1,000 words, daily cost limit 60, 16 learners): 0.4685 against 0.4673 for
      ``sspmmc``. Its episodes are long (10,000 words at the default), so 3 decisions and 2 futures on
      decks of 1,000 words and up, more on small decks (:data:`SSPMMC_ROLLOUT_WORD_DAYS`).

    On Deck-v0 at its default 10,000 cards and on SSPMMC-DHP-v0 at its defaults, 1000 learners take
    far more than a few minutes: the planner runs there on the suites' smaller decks and few learners.
    """
    kind = portfolio_kind(env)
    steps = int(env.max_steps)
    if kind == "deck":
        return {"n_samples": 2, "stride": -(-steps // 3), "window": None, "confidence": 2.0}
    if kind == "practice":
        return {"n_samples": 2, "stride": -(-steps // 2), "window": None, "confidence": 2.0}
    # SSPMMC-DHP-v0: the candidates differ by little, and with 2 futures a 2-SE test switched on
    # noise (-0.0008 against sspmmc on 8 small-deck learners): switch only on a 4-SE advantage.
    # Returns are whole words, so 2 futures often agree exactly, show no spread and pass the test
    # on a 1-word rollout advantage: still -0.0008 at 4 SE (300 words, 250 days, 8 learners, seed 3).
    # More futures fix it (8: +0.0000, the same words as sspmmc on every learner), but a future costs
    # a whole episode of the deck, so the futures fill a fixed budget of word-days per decision.
    words, days = int(env.config.deck_size), int(env.config.n_days)
    n_samples = int(np.clip(SSPMMC_ROLLOUT_WORD_DAYS // max(1, words * days), 2, 8))
    return {"n_samples": n_samples, "stride": max(1, steps // 3), "window": None, "confidence": 4.0}


@pytree_dataclass
class PortfolioState:
    env_params: Any  # the env's params (the planner simulates the true learner)
    states: Any  # tuple: every candidate's own state, advanced on the real trajectory
    current: Array  # () int32 the candidate followed now
    t: Array  # () int32 steps taken


class PortfolioPlanner:
    """Rollout choice among whole policies over the true env (privileged): the upper reference of
    envs whose action is not an item (Deck-v0's desired retention, Practice-v0's skill and level,
    SSPMMC-DHP-v0's intervals per word).

    The same idea as :class:`Planner` (one step of policy iteration on the true model, Bertsekas'
    rollout), with whole policies as the candidates: at its decision steps (every ``stride`` steps
    within the last ``window``) it rolls every candidate policy (:func:`portfolio_candidates`) from
    the learner's true current state to the episode's end on ``n_samples`` sampled futures and
    switches to the candidate of highest mean return (the env's own reward summed to the end,
    study cost included: non-myopic and cost-aware), but only when its mean paired advantage over
    the candidate followed now exceeds ``confidence`` standard errors (and ``min_advantage``).
    Futures share random numbers: sample ``m`` of every candidate draws its step ``t`` from the
    same key. Between decisions it follows its choice; every candidate's own state is advanced on
    the real trajectory, so a switch continues the candidate as if it had run from the start.

    With exact returns the choice scores at least the best candidate from every decision point;
    sampled returns and the paired test make that hold up to noise, which the tests measure.
    """

    privileged = True

    def __init__(self, env: Any, base: Any = "auto", n_samples: Any = "auto", window: Any = "auto",
                 confidence: Any = "auto", min_advantage: float = 0.0, stride: Any = "auto",
                 candidates: Any = "auto"):
        self.kind = portfolio_kind(env)
        if not self.kind:
            raise ValueError(f"PortfolioPlanner supports Deck-v0, Practice-v0 and SSPMMC-DHP-v0, got "
                             f"{env.name!r}")
        self.env = env
        self.max_steps = int(env.max_steps)
        defaults = portfolio_defaults(env)
        if isinstance(candidates, str) and candidates == "auto":
            cands, base_index = portfolio_candidates(env)
        else:
            cands = [_build(env, c, None, "candidate") for c in candidates]
            base_index = 0
            if not cands:
                raise ValueError("candidates must name at least one policy")
        names = [getattr(c, "name", type(c).__name__) for c in cands]
        if len(set(names)) != len(names):
            raise ValueError(f"candidate names must be unique, got {names}")
        if not (isinstance(base, str) and base == "auto"):
            if base not in names:
                raise ValueError(f"base must be one of the candidates {names}, got {base!r}")
            base_index = names.index(base)
        self.candidates, self.names, self.base_index = cands, names, int(base_index)
        self.stride = check_int_kwarg("stride", defaults["stride"] if stride == "auto" else stride, 1)
        self.n_samples, self.window, self.confidence, self.min_advantage = check_search_settings(
            defaults["n_samples"] if n_samples == "auto" else n_samples,
            defaults["window"] if window == "auto" else window,
            defaults["confidence"] if confidence == "auto" else confidence, min_advantage, self.max_steps)
        self.name = "planner"

    def __repr__(self) -> str:
        return (f"PortfolioPlanner(candidates={self.names}, base={self.names[self.base_index]!r}, "
                f"n_samples={self.n_samples}, stride={self.stride}, window={self.window}, "
                f"confidence={self.confidence:g})")

    def settings(self) -> dict:
        return {"candidates": list(self.names), "base": self.names[self.base_index], "n_samples": self.n_samples,
                "stride": self.stride, "window": self.window, "confidence": self.confidence,
                "min_advantage": self.min_advantage}

    def init(self, key: Array, env_params: Any) -> PortfolioState:
        keys = jax.random.split(key, len(self.candidates))
        states = tuple(c.init(k, env_params) for c, k in zip(self.candidates, keys))
        return PortfolioState(env_params=env_params, states=states, current=jnp.int32(self.base_index),
                              t=jnp.int32(0))

    def _act_one(self, i: int, key: Array, pstate: Any, obs: Array, env_state: Any) -> tuple[Array, Any]:
        policy = self.candidates[i]
        extra = (env_state,) if getattr(policy, "privileged", False) else ()
        return policy.act(key, pstate, obs, *extra)

    def _act_all(self, key: Array, states: tuple, obs: Array, env_state: Any) -> tuple[Array, tuple]:
        outs = [self._act_one(i, jax.random.fold_in(key, i), s, obs, env_state) for i, s in enumerate(states)]
        actions = jnp.stack([jnp.asarray(a, jnp.asarray(outs[0][0]).dtype) for a, _ in outs])
        return actions, tuple(s for _, s in outs)

    def rollout(self, i: int, key: Array, env_state: Any, obs: Array, pstate: Any, t: Array, params: Any) -> Array:
        """Sum of the env's rewards from step ``t`` to the episode's end following candidate ``i``."""
        env = self.env
        key_env, key_policy = jax.random.split(key)

        def body(step, carry):
            obs, state, own, total = carry
            action, own = self._act_one(i, jax.random.fold_in(key_policy, step), own, obs, state)
            obs, state, reward, _, _, _ = env.step(jax.random.fold_in(key_env, step), state, action, params)
            return obs, state, own, total + reward

        return jax.lax.fori_loop(t, self.max_steps, body, (obs, env_state, pstate, jnp.float32(0.0)))[3]

    def choose(self, key: Array, env_state: Any, obs: Array, states: tuple, current: Array, t: Array,
               params: Any) -> Array:
        """The candidate to follow from step ``t``: the current one unless another clearly beats it."""
        sample_keys = jax.random.split(key, self.n_samples)
        returns = jnp.stack([jax.vmap(lambda k, i=i: self.rollout(i, k, env_state, obs, states[i], t, params))(
            sample_keys) for i in range(len(self.candidates))])  # (C, M)
        advantage = returns - returns[current][None, :]  # paired, future by future
        mean, clear = clear_gains(advantage, self.confidence, self.min_advantage)
        best = jnp.argmax(jnp.where(clear, mean, -jnp.inf).at[current].set(0.0))
        return best.astype(jnp.int32)

    def act(self, key: Array, pstate: PortfolioState, obs: Array, env_state: Any) -> tuple[Array, PortfolioState]:
        params, t = pstate.env_params, pstate.t
        key_act, key_plan = jax.random.split(key)
        start = self.max_steps - self.window
        planning = (t >= start) & ((t - start) % self.stride == 0) & (self.window > 0)
        current = cond_any(planning, self._choose, self._keep, key_plan, env_state, obs, pstate.states,
                           pstate.current, t, params)
        actions, states = self._act_all(key_act, pstate.states, obs, env_state)
        action = actions[current]
        return action, pstate.replace(states=states, current=current, t=t + 1)

    # Branches of cond_any: pure functions of their operands.
    def _choose(self, key, env_state, obs, states, current, t, params):
        return self.choose(key, env_state, obs, states, current, t, params)

    def _keep(self, key, env_state, obs, states, current, t, params):
        return jnp.asarray(current, jnp.int32)


__all__ = ["Planner", "PlannerState", "PortfolioPlanner", "PortfolioState", "RecallRule", "RuleState",
           "TrueDHPScheduler", "default_settings", "env_kind", "portfolio_candidates", "portfolio_defaults",
           "portfolio_kind", "true_recall"]
