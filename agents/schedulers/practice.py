"""Practice-v0 baselines: how hard to practise, and in what order (jittable Policy objects).

Every baseline is a *difficulty rule* (which level to practise a skill at, updated from the outcome
of its own previous trial) combined with a *skill order*:

- **interleaved** (default): skills in rotation, trial ``t`` practises skill ``t mod K``;
- **blocked**: each day's session is cut into ``K`` blocks of consecutive trials, one per skill
  (trial ``s`` of a session of ``T`` practises skill ``s * K // T``).

Difficulty rules (levels ``0 .. L-1``; every rule starts at the easiest level, as a tutor would):

- ``random``: a uniformly random (skill, level) every trial.
- ``fixed_level_<l>``: always level ``l``.
- ``staircase_2down1up``: two successes in a row on a skill move it one level up, a failure one level
  down; it converges to 70.7% success (Levitt 1971, J Acoust Soc Am 49:467).
- ``adaptive_85``: a weighted up-down rule (Kaernbach 1991, Percept Psychophys 49:227): a success
  moves the skill's level up by ``step * (1 - target)``, a failure down by ``step * target``; the
  drift vanishes at success rate ``target`` = 0.85, the optimal challenge of Wilson et al. (2019).
  ``adaptive_85_blocked`` is the same rule in blocked order.
- ``oracle_85`` (privileged: reads the hidden proficiency): the level whose success probability is
  nearest 0.85 for each skill, interleaved. Not a baseline to beat; a reference for how well an
  observation-only controller can track the optimum.

A policy reads only the observation's ``last_step_success`` (the outcome of the trial it chose at
the previous step) and keeps its own per-skill levels. Example::

    >>> import jax, studygym
    >>> from studygym.agents.schedulers.practice import make_practice_policy
    >>> env, params = studygym.make("Practice-v0")
    >>> policy = make_practice_policy("adaptive_85", env)
    >>> obs, state = env.reset(jax.random.key(0), params)
    >>> action, pstate = policy.act(jax.random.key(1), policy.init(jax.random.key(2), params), obs)
    >>> env.decode_action(int(action))  # skill 0 at the easiest level
    (0, 0)
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from studygym.envs.core import Array, check_range, feature_columns, pytree_dataclass
from studygym.errors import did_you_mean

ORDERS = ("interleaved", "blocked")


@pytree_dataclass
class PracticePolicyState:
    """A practice baseline's memory."""

    levels: Array  # (K,) float32 current level of each skill (continuous; rounded to act)
    streak: Array  # (K,) int32 successes in a row at the current level
    t: Array  # () int32 trials chosen so far
    last_skill: Array  # () int32 skill chosen at the previous step (-1 before the first)


def _check_env(env: Any) -> None:
    if env.family != "practice":
        raise ValueError(f"practice baselines need a Practice-v0 env (with skill_layout), got {type(env).__name__}")


class PracticePolicy:
    """Base class: a skill order plus a per-skill difficulty rule (``update`` and ``level``)."""

    privileged = False
    name = "practice"

    def __init__(self, env: Any, order: str = "interleaved"):
        _check_env(env)
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        self.order = order
        self.n_skills, _, _ = env.skill_layout
        self.n_levels = env.config.n_levels
        self.trials_per_day = env.config.trials_per_day
        # Index of last_step_success in the observation: after the K x F skill features, found by
        # name among the globals (ValueError naming the env if it lacks it).
        k, f, _ = env.skill_layout
        (success_global,) = feature_columns(env, ("last_step_success",), block="global", user=type(self).__name__)
        self.success_index = k * f + success_global

    def init(self, key: Array, env_params: Any) -> PracticePolicyState:
        return PracticePolicyState(levels=jnp.zeros(self.n_skills, jnp.float32),
                                   streak=jnp.zeros(self.n_skills, jnp.int32), t=jnp.int32(0),
                                   last_skill=jnp.int32(-1))

    def skill(self, key: Array, t: Array) -> Array:
        if self.order == "blocked":
            return (t % self.trials_per_day) * self.n_skills // self.trials_per_day
        return t % self.n_skills

    def update(self, pstate: PracticePolicyState, skill: Array, success: Array) -> PracticePolicyState:
        return pstate

    def level(self, key: Array, pstate: PracticePolicyState, skill: Array, obs: Array, *env_state) -> Array:
        return jnp.clip(jnp.round(pstate.levels[skill]), 0, self.n_levels - 1).astype(jnp.int32)

    def act(self, key: Array, pstate: PracticePolicyState, obs: Array, *env_state) -> tuple[Array, PracticePolicyState]:
        success = obs[self.success_index] > 0.5
        last = jnp.maximum(pstate.last_skill, 0)
        updated = self.update(pstate, last, success)
        pstate = jax.tree.map(lambda new, old: jnp.where(pstate.last_skill >= 0, new, old), updated, pstate)
        skill = jnp.asarray(self.skill(key, pstate.t), jnp.int32)
        level = self.level(key, pstate, skill, obs, *env_state)
        action = (skill * self.n_levels + level).astype(jnp.int32)
        return action, pstate.replace(t=pstate.t + 1, last_skill=skill)


class RandomPractice(PracticePolicy):
    """A uniformly random skill and level every trial."""

    name = "random"

    def act(self, key: Array, pstate: PracticePolicyState, obs: Array) -> tuple[Array, PracticePolicyState]:
        action = jax.random.randint(key, (), 0, self.n_skills * self.n_levels, dtype=jnp.int32)
        return action, pstate.replace(t=pstate.t + 1)


class FixedDifficulty(PracticePolicy):
    """Every skill always at one level."""

    def __init__(self, env: Any, level: int = 2, order: str = "interleaved"):
        super().__init__(env, order)
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < self.n_levels:
            raise ValueError(f"level must be an integer in [0, {self.n_levels - 1}], got {level!r}")
        self.fixed_level = level
        self.name = f"fixed_level_{level}" + ("_blocked" if order == "blocked" else "")

    def level(self, key, pstate, skill, obs, *env_state):
        return jnp.int32(self.fixed_level)


class Staircase(PracticePolicy):
    """``down``-down-1-up staircase per skill: ``down`` successes in a row -> one level up (harder),
    a failure -> one level down. 2-down-1-up converges to 70.7% success (Levitt 1971)."""

    def __init__(self, env: Any, down: int = 2, order: str = "interleaved"):
        super().__init__(env, order)
        if isinstance(down, bool) or not isinstance(down, int) or down < 1:
            raise ValueError(f"down must be a positive integer, got {down!r}")
        self.down = down
        self.name = f"staircase_{down}down1up" + ("_blocked" if order == "blocked" else "")

    def update(self, pstate, skill, success):
        streak = jnp.where(success, pstate.streak[skill] + 1, 0)
        up = streak >= self.down
        move = jnp.where(success, jnp.where(up, 1.0, 0.0), -1.0)
        level = jnp.clip(pstate.levels[skill] + move, 0, self.n_levels - 1)
        return pstate.replace(levels=pstate.levels.at[skill].set(level),
                              streak=pstate.streak.at[skill].set(jnp.where(up, 0, streak)))


class Adaptive(PracticePolicy):
    """Weighted up-down (Kaernbach 1991) to a target success rate: up ``step * (1 - target)`` levels
    on a success, down ``step * target`` on a failure (no drift at success rate ``target``)."""

    def __init__(self, env: Any, target: float = 0.85, step: float = 2.0, order: str = "interleaved"):
        super().__init__(env, order)
        check_range("target", target, 0.0, 1.0, low_open=True, high_open=True)
        check_range("step", step, 0.0, float(self.n_levels), low_open=True)
        self.target, self.step = float(target), float(step)
        self.name = f"adaptive_{round(100 * self.target)}" + ("_blocked" if order == "blocked" else "")

    def update(self, pstate, skill, success):
        move = jnp.where(success, self.step * (1.0 - self.target), -self.step * self.target)
        level = jnp.clip(pstate.levels[skill] + move, 0, self.n_levels - 1)
        return pstate.replace(levels=pstate.levels.at[skill].set(level))


class OracleTarget(PracticePolicy):
    """Privileged: reads the hidden proficiency and picks the level whose success probability is
    nearest ``target`` (interleaved order). A reference, not a baseline."""

    privileged = True

    def __init__(self, env: Any, target: float = 0.85, order: str = "interleaved"):
        super().__init__(env, order)
        check_range("target", target, 0.0, 1.0, low_open=True, high_open=True)
        self.env, self.target = env, float(target)
        self.name = f"oracle_{round(100 * self.target)}" + ("_blocked" if order == "blocked" else "")

    def init(self, key: Array, env_params: Any) -> Any:
        return (super().init(key, env_params), env_params)

    def act(self, key, pstate, obs, env_state):
        own, env_params = pstate
        skill = jnp.asarray(self.skill(key, own.t), jnp.int32)
        difficulties = self.env.difficulties(env_params)
        p = self.env.learner.success_prob(env_state.learner, skill, difficulties, env_params.learner)
        level = jnp.argmin(jnp.abs(p - self.target)).astype(jnp.int32)
        return (skill * self.n_levels + level).astype(jnp.int32), (own.replace(t=own.t + 1, last_skill=skill),
                                                                   env_params)


#: name -> factory ``env -> policy``: the Practice-v0 baselines in display order (the oracle last).
PRACTICE_POLICIES: dict[str, Callable[[Any], Any]] = {
    "random": RandomPractice,
    "fixed_level_2": lambda env: FixedDifficulty(env, level=2),
    "fixed_level_4": lambda env: FixedDifficulty(env, level=4),
    "fixed_level_6": lambda env: FixedDifficulty(env, level=6),
    "staircase_2down1up": Staircase,
    "adaptive_85": Adaptive,
    "adaptive_85_blocked": lambda env: Adaptive(env, order="blocked"),
    "oracle_85": OracleTarget,
}


def practice_policies(env: Any) -> list:
    """Every Practice-v0 baseline for ``env`` (fixed levels that do not exist for it are left out)."""
    _check_env(env)
    out = []
    for name, factory in PRACTICE_POLICIES.items():
        if name.startswith("fixed_level_") and int(name.rsplit("_", 1)[1]) >= env.config.n_levels:
            continue
        out.append(factory(env))
    return out


def make_practice_policy(name: str, env: Any):
    """A Practice-v0 baseline by name; also ``fixed_level_<l>`` for any level ``l`` and
    ``adaptive_<percent>`` for any target success rate."""
    _check_env(env)
    if name in PRACTICE_POLICIES:
        return PRACTICE_POLICIES[name](env)
    blocked = name.endswith("_blocked")
    base = name[: -len("_blocked")] if blocked else name
    order = "blocked" if blocked else "interleaved"
    prefix, _, number = base.rpartition("_")
    if number.isdigit():
        if prefix == "fixed_level":
            return FixedDifficulty(env, level=int(number), order=order)
        if prefix == "adaptive":
            return Adaptive(env, target=int(number) / 100.0, order=order)
        if prefix == "oracle":
            return OracleTarget(env, target=int(number) / 100.0, order=order)
    if base == "staircase_2down1up":
        return Staircase(env, order=order)
    if base == "random" and not blocked:
        return RandomPractice(env)
    raise ValueError(f"unknown Practice-v0 policy {name!r}{did_you_mean(name, PRACTICE_POLICIES)}"
                     f" (known: {', '.join(PRACTICE_POLICIES)}, fixed_level_<l>, adaptive_<percent>, "
                       f"oracle_<percent>, and <name>_blocked)")


__all__ = ["PRACTICE_POLICIES", "PracticePolicy", "PracticePolicyState", "RandomPractice", "FixedDifficulty",
           "Staircase", "Adaptive", "OracleTarget", "practice_policies", "make_practice_policy", "ORDERS"]
