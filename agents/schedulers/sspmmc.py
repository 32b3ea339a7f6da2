"""SSP-MMC and the baselines of its paper, as policies for ``SSPMMC-DHP-v0``.

SSP-MMC (Ye, Su & Cao, KDD 2022, "A Stochastic Shortest Path Algorithm for Optimizing Spaced
Repetition Scheduling"; ``maimemo/SSP-MMC``, ``algo/main.cpp``) treats one word's memory as a
Markov chain over DHP states ``(d, h)``: a review after ``t`` days is recalled with
``p = 2^(-t/h)`` (cost 3, ``h`` grows) or forgotten (cost 9, ``h`` shrinks, ``d`` += 2); the
chain ends when ``h`` reaches the target half-life (360 days). Value iteration over a grid of
half-lives ``1.05^k`` finds, for every state, the interval minimising the expected total cost to
reach the target (Minimum Memorization Cost); intervals range from 1 day to the one at which
``p`` falls to 0.3, as in the authors' code. The table is computed once with NumPy when the policy
is built and looked up inside ``jit``.

Baselines (the paper's, ``simulator.py``), each an interval from the word's state after review:
``THRESHOLD`` ``-h log2(r)`` (review when predicted recall falls to ``r``; ``peers.md`` gives 0.9,
the authors' simulator 0.8), ``HALF-LIFE`` ``h``, ``ANKI`` ``max(2.5 - 0.15 lapses, 1.2)^reps``
(recalls in a row before this review, as the simulator passes them). MEMORIZE and RANDOM are not
reproduced here.

All policies read only the observation: each word's difficulty (known to the app), the app's
half-life estimate and the days since its last review. From those each computes, with its own
DHP model (the paper's coefficients by default), the word's state after a recall and after a
lapse, and returns the interval for each outcome, as the env's action asks.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs.core import Array, feature_columns, pytree_dataclass, split_item_obs
from studygym.envs.learners import dhp as dhp_maths
from studygym.errors import did_you_mean

from .base import check_kwarg

GRID_BASE = 1.05  # half-life grid ratio (algo/main.cpp's base)
GRID_MIN_INDEX = -30  # the smallest grid half-life is 1.05^-30 = 0.23 days
MIN_RECALL = 0.3  # the longest interval considered lets p fall to 0.3 (algo/main.cpp)
N_DIFFICULTIES = int(dhp_maths.DIFFICULTY_LIMIT)


# ----------------------------------------------------------------------------------------------
# The SSP over (d, h): value iteration and policy evaluation (NumPy, once per policy)
# ----------------------------------------------------------------------------------------------


def half_life_grid(target_half_life: float) -> np.ndarray:
    """Non-terminal grid half-lives ``1.05^k``, ``k = -30 ..``, below ``target_half_life``."""
    top = math.ceil(math.log(target_half_life) / math.log(GRID_BASE))
    return GRID_BASE ** np.arange(GRID_MIN_INDEX, top, dtype=np.float64)


def grid_index(half_life: Array, n_states: int):
    """Nearest grid index of ``half_life`` (NumPy or JAX), clipped to the grid."""
    xp = jnp if isinstance(half_life, jax.Array) else np
    index = xp.round(xp.log(half_life) / math.log(GRID_BASE)) - GRID_MIN_INDEX
    return xp.clip(index, 0, n_states - 1).astype(xp.int32)


class DHPChain:
    """The per-word Markov chain of SSP-MMC on a half-life grid: transitions for every (d, h, interval)."""

    def __init__(self, target_half_life: float = 360.0, recall_cost: float = 3.0, forget_cost: float = 9.0,
                 recall_coef=dhp_maths.RECALL_COEF, forget_coef=dhp_maths.FORGET_COEF):
        self.target_half_life = float(target_half_life)
        self.recall_cost, self.forget_cost = float(recall_cost), float(forget_cost)
        self.half_lives = half_life_grid(self.target_half_life)
        g = self.n_states = self.half_lives.size
        self.max_interval = max(1, int(round(self.half_lives[-1] * math.log(MIN_RECALL) / math.log(0.5))))
        intervals = np.arange(1, self.max_interval + 1, dtype=np.float64)
        h = self.half_lives[:, None]
        self.intervals = intervals
        self.allowed = intervals[None, :] <= np.maximum(1, np.round(h * math.log(MIN_RECALL) / math.log(0.5)))
        d = np.arange(1, N_DIFFICULTIES + 1, dtype=np.float64)[:, None, None]
        p = np.exp2(-intervals[None, :] / h)  # (G, I)
        rc, fc = jnp.asarray(recall_coef, jnp.float32), jnp.asarray(forget_coef, jnp.float32)
        args = (jnp.asarray(d), jnp.asarray(h), jnp.asarray(p))  # (D, 1, 1), (G, 1), (G, I): float32
        h_recall = np.asarray(dhp_maths.recall_half_life(rc, *args), np.float64)  # (D, G, I)
        h_forget = np.asarray(dhp_maths.forget_half_life(fc, *args), np.float64)
        self.p = p  # (G, I)
        # Next grid index, with g (one past the grid) for the terminal state: target reached.
        self.recall_next = np.where(h_recall >= self.target_half_life, g, grid_index(h_recall, g))  # (D, G, I)
        self.forget_next = grid_index(h_forget, g)  # (D, G, I)
        self.forget_difficulty = np.minimum(np.arange(N_DIFFICULTIES) + int(dhp_maths.DIFFICULTY_OFFSET),
                                            N_DIFFICULTIES - 1)  # index of d' after a lapse

    def q_values(self, cost: np.ndarray, di: int, restricted: bool = True) -> np.ndarray:
        """(G, I) expected cost of each interval from each grid state at difficulty index ``di``
        (``inf`` beyond the allowed intervals when ``restricted``)."""
        padded = np.concatenate([cost, np.zeros((N_DIFFICULTIES, 1))], axis=1)  # terminal costs 0
        recall = padded[di][self.recall_next[di]]
        forget = padded[self.forget_difficulty[di]][self.forget_next[di]]
        q = self.p * (self.recall_cost + recall) + (1.0 - self.p) * (self.forget_cost + forget)
        return np.where(self.allowed, q, np.inf) if restricted else q

    def solve(self, tol: float = 1e-6, max_iterations: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
        """Value iteration: (expected cost to the target (D, G), optimal interval (D, G)).

        Difficulties are solved from the hardest down (a lapse moves to d + 2, already solved; the
        two hardest move to themselves), each by Jacobi iteration to ``tol``.
        """
        cost = np.full((N_DIFFICULTIES, self.n_states), 1e6)
        best = np.ones((N_DIFFICULTIES, self.n_states), np.int64)
        for di in reversed(range(N_DIFFICULTIES)):
            for _ in range(max_iterations):
                q = self.q_values(cost, di)
                new = q.min(axis=1)
                best[di] = self.intervals[q.argmin(axis=1)].astype(np.int64)
                change = np.max(np.abs(new - cost[di]))
                cost[di] = new
                if change < tol:
                    break
        return cost, best

    def evaluate(self, interval: np.ndarray, tol: float = 1e-6, max_iterations: int = 20_000) -> np.ndarray:
        """Expected cost to the target (D, G) of a fixed interval table (D, G) (policy evaluation)."""
        interval = np.clip(np.round(interval).astype(np.int64), 1, self.max_interval)
        cost = np.full((N_DIFFICULTIES, self.n_states), 1e6)
        rows = np.arange(self.n_states)
        for di in reversed(range(N_DIFFICULTIES)):
            for _ in range(max_iterations):
                # A baseline may use intervals beyond SSP-MMC's range: evaluate them all.
                q_all = self.q_values(cost, di, restricted=False)
                new = q_all[rows, interval[di] - 1]
                change = np.max(np.abs(new - cost[di]))
                cost[di] = new
                if change < tol:
                    break
        return cost

    def start_cost(self, cost: np.ndarray) -> np.ndarray:
        """Expected cost to the target of a new word of each initial difficulty 1..10 (from h0(d0))."""
        d0 = np.arange(1, 11, dtype=np.float64)
        h0 = np.asarray(dhp_maths.start_half_life(jnp.asarray(d0)), np.float64)
        return cost[np.arange(10), grid_index(h0, self.n_states)]


@functools.lru_cache(maxsize=8)
def solved_chain(target_half_life: float, recall_cost: float, forget_cost: float):
    """(chain, expected cost (D, G), optimal intervals (D, G)), solved once per setting (seconds)."""
    chain = DHPChain(target_half_life, recall_cost, forget_cost)
    cost, table = chain.solve()
    return chain, cost, table


# ----------------------------------------------------------------------------------------------
# Policies on SSPMMC-DHP-v0
# ----------------------------------------------------------------------------------------------


#: The per-word features the DHP policies read, by name (``env.item_features``).
WORD_COLUMNS = ("new", "difficulty", "half_life", "days_since_review", "reps", "lapses")


@pytree_dataclass
class WordsView:
    """Today's words as the SSPMMC-DHP-v0 observation shows them (state before the review)."""

    new: Array  # (B,) bool
    difficulty: Array  # (B,) before the review
    half_life: Array  # (B,) the app's estimate before the review (0 if new)
    days_since_review: Array  # (B,)
    reps: Array  # (B,) recalls in a row before the review
    lapses: Array  # (B,) lapses before the review


class DHPIntervalPolicy:
    """Base: an interval for each of today's words from its DHP state after a recall / a lapse."""

    name = "dhp_interval"
    privileged = False

    def __init__(self, env: Any):
        layout = env.obs_layout
        if env.family != "sspmmc" or layout is None:
            raise ValueError(f"{type(self).__name__} needs the SSPMMC-DHP-v0 env (per-word DHP observation), "
                             f"got {env.name!r}")
        self.batch, self.n_features, _ = layout
        # Per-word columns by name (ValueError naming the env and any missing name).
        self.columns = dict(zip(WORD_COLUMNS, feature_columns(env, WORD_COLUMNS, block="item",
                                                              user=type(self).__name__)))
        self.max_interval = int(env.config.max_interval)
        self.recall_coef = jnp.asarray(dhp_maths.RECALL_COEF, jnp.float32)
        self.forget_coef = jnp.asarray(dhp_maths.FORGET_COEF, jnp.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.settings().items())})"

    def settings(self) -> dict:
        return {}

    def view(self, obs: Array) -> WordsView:
        words, _ = split_item_obs(jnp.asarray(obs, jnp.float32), (self.batch, self.n_features, 0))
        col = {name: words[:, i] for name, i in self.columns.items()}
        return WordsView(new=col["new"] > 0.5, difficulty=jnp.maximum(col["difficulty"], 1.0),
                         half_life=jnp.maximum(col["half_life"], dhp_maths.HALF_LIFE_MIN),
                         days_since_review=col["days_since_review"], reps=col["reps"], lapses=col["lapses"])

    def interval(self, difficulty: Array, half_life: Array, reps: Array, lapses: Array) -> Array:
        """Interval (days) for a word whose state after the review is given."""
        raise NotImplementedError

    def init(self, key: Array, env_params: Any) -> tuple:
        return ()

    def act(self, key: Array, pstate: Any, obs: Array) -> tuple[Array, Any]:
        v = self.view(obs)
        p = dhp_maths.recall_probability(v.days_since_review, v.half_life)
        ones = jnp.ones_like(p, bool)
        memory = (self.recall_coef, self.forget_coef, v.difficulty, v.half_life, p)
        h_recall, d_recall = dhp_maths.next_memory(*memory, ones)
        h_forget, d_forget = dhp_maths.next_memory(*memory, ~ones)
        # A new word is learned at h0(d0): its "recalled" interval is the one after learning.
        h_recall = jnp.where(v.new, dhp_maths.start_half_life(v.difficulty), h_recall)
        d_recall = jnp.where(v.new, v.difficulty, d_recall)
        after_recall = self.interval(d_recall, h_recall, v.reps, v.lapses)
        after_lapse = self.interval(d_forget, h_forget, jnp.zeros_like(v.reps), v.lapses + 1.0)
        action = jnp.concatenate([after_recall, after_lapse])
        return jnp.clip(jnp.round(action), 1.0, self.max_interval).astype(jnp.float32), pstate


class SSPMMCScheduler(DHPIntervalPolicy):
    """SSP-MMC: the interval of least expected cost to reach the target half-life (value iteration).

    Settings: ``target_half_life`` (360), ``recall_cost`` (3), ``forget_cost`` (9), as in the paper.
    ``self.chain``, ``self.expected_cost`` (D, G) and ``self.table`` (D, G) hold the solved SSP.
    """

    name = "sspmmc"

    def __init__(self, env: Any, target_half_life: float = 360.0, recall_cost: float = 3.0, forget_cost: float = 9.0):
        super().__init__(env)
        self.target_half_life = check_kwarg("target_half_life", target_half_life, 1.0, 3650.0, low_open=True)
        self.recall_cost = check_kwarg("recall_cost", recall_cost, 0.0, None, low_open=True)
        self.forget_cost = check_kwarg("forget_cost", forget_cost, 0.0, None, low_open=True)
        self.chain, self.expected_cost, table = solved_chain(self.target_half_life, self.recall_cost,
                                                             self.forget_cost)
        self.table = jnp.asarray(table, jnp.float32)

    def settings(self) -> dict:
        return {"target_half_life": self.target_half_life, "recall_cost": self.recall_cost,
                "forget_cost": self.forget_cost}

    def interval(self, difficulty, half_life, reps, lapses):
        di = jnp.clip(jnp.round(difficulty).astype(jnp.int32), 1, N_DIFFICULTIES) - 1
        return self.table[di, grid_index(half_life, self.chain.n_states)]


class ThresholdIntervalScheduler(DHPIntervalPolicy):
    """THRESHOLD: review when the predicted recall ``2^(-t/h)`` falls to ``threshold``: ``t = -h log2(r)``."""

    name = "dhp_threshold"

    def __init__(self, env: Any, threshold: float = 0.9):
        super().__init__(env)
        self.threshold = check_kwarg("threshold", threshold, 0.0, 1.0, low_open=True, high_open=True)
        self.name = "dhp_threshold" if self.threshold == 0.9 else f"dhp_threshold_{self.threshold:g}"

    def settings(self) -> dict:
        return {"threshold": self.threshold}

    def interval(self, difficulty, half_life, reps, lapses):
        return -half_life * jnp.log2(self.threshold)


class HalfLifeScheduler(DHPIntervalPolicy):
    """HALF-LIFE: the interval is the word's half-life (review at p = 1/2)."""

    name = "dhp_half_life"

    def interval(self, difficulty, half_life, reps, lapses):
        return half_life


class AnkiIntervalScheduler(DHPIntervalPolicy):
    """ANKI as SSP-MMC's simulator writes it: ``max(2.5 - 0.15 lapses, 1.2)^reps`` (recalls in a row
    before this review; after a lapse 0, so 1 day)."""

    name = "dhp_anki"

    def interval(self, difficulty, half_life, reps, lapses):
        ease = jnp.maximum(2.5 - 0.15 * lapses, 1.2)
        return jnp.exp(reps * jnp.log(ease))


#: name -> factory ``(env, **settings)``: the policies of SSPMMC-DHP-v0.
SSPMMC_POLICIES = {
    "sspmmc": SSPMMCScheduler,
    "dhp_threshold": ThresholdIntervalScheduler,
    "dhp_half_life": HalfLifeScheduler,
    "dhp_anki": AnkiIntervalScheduler,
}


def sspmmc_policies(env: Any) -> list:
    """SSP-MMC and the paper's baselines on ``env`` (THRESHOLD at 0.9 and at the simulator's 0.8)."""
    return [SSPMMCScheduler(env), ThresholdIntervalScheduler(env, 0.9), ThresholdIntervalScheduler(env, 0.8),
            HalfLifeScheduler(env), AnkiIntervalScheduler(env)]


def make_sspmmc_policy(name: str, env: Any):
    """A policy of SSPMMC-DHP-v0 by name (as :func:`sspmmc_policies` names them)."""
    by_name = {p.name: p for p in sspmmc_policies(env)}
    if name not in by_name:
        raise ValueError(f"unknown SSPMMC-DHP-v0 policy {name!r}{did_you_mean(name, by_name)}"
                         f" (known: {', '.join(by_name)})")
    return by_name[name]


__all__ = ["DHPChain", "make_sspmmc_policy", "SSPMMCScheduler", "ThresholdIntervalScheduler", "HalfLifeScheduler",
           "AnkiIntervalScheduler", "SSPMMC_POLICIES", "sspmmc_policies", "half_life_grid", "grid_index"]
