"""SSPMMC-DHP-v0: the set-up of SSP-MMC (Ye, Su & Cao, KDD 2022): schedule reviews of a large
vocabulary under a daily time budget, for DHP learners, so that the most words reach a target
half-life.

Why a day-stepped deck and not Review-v0 with ``learner="dhp"``: the paper's simulation
(``maimemo/SSP-MMC``, ``simulator.py``) is a deck of words studied day by day, where each day the
due words are reviewed in order and new words are learned with what is left of a daily cost
budget, and a word leaves the schedule once its half-life reaches the target. Its policies choose
an *interval per word* from the word's memory state after each review. Review-v0 (a few items, one
item per slot, a month) can express none of the budget, the daily arrival of new words or the
one-year target; Deck-v0 is day-stepped but its action is one desired retention for the whole day.
So this env keeps Deck-v0's day step and gives the policy the interval of every word of the day.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..core import (Array, Box, Environment, check_positive_int, check_range, item_obs,
                    item_obs_high, pytree_dataclass, static_dataclass)
from ..learners import dhp
from ..learners.dhp import DHPParams, DHPState
from .deck import first_true

#: ``due`` of a card the app has not scheduled (new) or has retired (reached the target).
NEVER = 2**30
SLOT_FEATURES = ("exists", "new", "difficulty", "half_life", "days_since_review", "reps", "lapses")
GLOBAL_FEATURES = ("progress", "learned", "targets_met", "last_cost")


@static_dataclass
class SSPMMCConfig:
    """Static config of SSPMMC-DHP-v0 (fixes shapes; hashable)."""

    deck_size: int = 10_000  # words, all new at the start, introduced in deck order
    n_days: int = 365  # days simulated (one step per day); the paper simulates 1,000
    review_limit: int = 201  # due words considered per day (600 budget / 3 per recall, +1)
    new_per_day: int = 101  # new words considered per day (600 budget / 6 per new word, +1)
    max_interval: int = 1000  # longest interval an action may set (days)
    learner: str = "dhp"  # memory model: only DHP (the day update is DHP maths); here so that
    # ``make("SSPMMC-DHP-v0", learner=dhp_fit_result)`` simulates fitted learners

    def validate(self) -> None:
        for name in ("deck_size", "n_days", "review_limit", "new_per_day", "max_interval"):
            check_positive_int(name, getattr(self, name))
        if self.learner != "dhp":
            raise ValueError(f"learner must be 'dhp' for SSPMMC-DHP-v0, got {self.learner!r}")

    @property
    def batch_size(self) -> int:
        """Words of the day: ``review_limit`` due words, then ``new_per_day`` new ones."""
        return self.review_limit + self.new_per_day


@pytree_dataclass
class SSPMMCParams:
    """Dynamic params of SSPMMC-DHP-v0 (a pytree: vmap over it for a population)."""

    learner: DHPParams  # the simulated learners' DHP traits (their true memory)
    app_recall_coef: Array  # (4,) the app's DHP recall coefficients (its own half-life estimates)
    app_forget_coef: Array  # (4,) the app's DHP lapse coefficients
    recall_cost: Array  # () cost of a recalled review (the paper: 3)
    forget_cost: Array  # () cost of a forgotten review (the paper: 9)
    new_cost: Array  # () cost of learning a new word (the paper: 6)
    day_cost_limit: Array  # () daily budget: a word is studied while the day's cost so far is within it
    target_half_life: Array  # () days: a word whose half-life reaches it is retired (the paper: 360)


@pytree_dataclass
class SSPMMCState:
    """Env state: the learners' hidden memory plus what the app has recorded."""

    learner: DHPState  # hidden true half-life (difficulty, last review and d0 are the app's too)
    day: Array  # () int32 the day about to be studied
    app_half_life: Array  # (N,) the app's half-life estimate (its DHP, from observed outcomes)
    due: Array  # (N,) int32 day the word is due (NEVER while new or once retired)
    reps: Array  # (N,) int32 recalls in a row since the last lapse
    lapses: Array  # (N,) int32 lapses so far
    retired: Array  # (N,) bool: the app's half-life reached the target
    n_learned: Array  # () int32 words introduced (always the first n_learned of the deck)
    batch: Array  # (B,) int32 today's words: due ones then new ones (N = empty slot)
    memorized: Array  # () sum of recall probabilities at the end of the previous day
    memorized_sum: Array  # () sum over days of memorized (for the AUC)
    targets_met: Array  # () int32 words retired so far
    cost: Array  # () total cost so far
    last_cost: Array  # () cost of the previous day
    reviews: Array  # () int32 reviews so far (new words not counted)
    successes: Array  # () int32 recalled reviews


class SSPMMCEnv(Environment[SSPMMCState, SSPMMCParams]):
    """SSPMMC-DHP-v0: intervals for each day's words, so the most words reach a target half-life
    within a daily cost budget (the simulation of SSP-MMC, Ye, Su & Cao, KDD 2022).

    A deck of ``deck_size`` new words studied for ``n_days`` days by a DHP learner
    (``studygym.envs.learners.dhp``: half-life ``h``, difficulty ``d``, recall ``p = 2^(-t/h)``).
    **A day**, as the authors' ``simulator.py``: (1) the due words (due day reached, not retired),
    in deck order, the first ``review_limit``; each is recalled with probability ``p`` and costs
    ``recall_cost`` (3) if recalled, ``forget_cost`` (9) if not; the memory is updated by DHP (a
    lapse adds 2 to ``d``); (2) new words in deck order, up to ``new_per_day``, each costing
    ``new_cost`` (6), starting at ``h0(d0)``; (3) the budget: words are taken in that order while
    the day's cost *before* the word is within ``day_cost_limit`` (600), so the last may overrun
    it, as in the simulator; the rest wait for tomorrow. A recalled word whose half-life (the
    app's estimate) reaches ``target_half_life`` (360 days) is *retired*: counted in
    ``targets_met`` and never reviewed again. Every other studied word is scheduled by the action.
    At default params the buffers (201 reviews, 101 new words) never bind: the budget does.

    - **Observation** ``Box(float32, (B * 7 + 4,))``, ``B = review_limit + new_per_day``: for each
      of today's words (feature-major: 7 blocks of B; due words first, then new, empty slots all zero)
      ``exists``, ``new``, the difficulty ``d`` (known to the app: d0 is the word's population
      difficulty, +2 per observed lapse), the app's half-life estimate (days; 0 if new), days since
      its last review, recalls in a row and lapses; then 4 globals: ``day / n_days``, words
      introduced / ``deck_size``, words retired / ``deck_size``, yesterday's cost /
      ``day_cost_limit`` (clipped to [0, 2]). Never the learner's hidden half-life.
    - **Action** ``Box(float32, (2 B,), 1, max_interval)``: the interval (days) of each of today's
      words if it is recalled (first ``B``; also used for new words after learning), then if it is
      forgotten (last ``B``). Rounded to whole days. Inside ``jit`` out-of-range values are clipped
      (a non-finite one becomes 1) and ``info["invalid_action"]`` set; the Gymnasium adapter raises.
      ``env.obs_layout`` is ``(B, 7, 4)``.
    - **Reward**: words retired today / ``deck_size``; summed over an episode: the fraction of the
      deck that reached the target half-life (the paper's objective under a fixed budget).
    - **Termination**: ``terminated`` after ``n_days`` steps; never truncated. No auto-reset.
    - **State** :class:`SSPMMCState`: the learner's hidden memory (``(N,)`` float32), the app's
      per-word records (``(N,)``), today's word indices ``(B,)`` and day counters.
    - **Info** each step: ``knowledge`` (memorized / deck_size), ``memorized`` (sum of recall
      probabilities at the end of the day; studied words at 1), ``targets_met``, ``cost_today``,
      ``cost``, ``reviews``, ``new_cards``, ``study_minutes`` (cost / 60: the paper's costs read
      as seconds), ``retrievals`` (= reviews), ``successes``, ``invalid_action``; at the last step
      ``knowledge_final`` and ``knowledge_auc``, 0 before. ``env.extra_metrics`` names
      ``targets_met``, ``cost``, ``memorized`` and ``new_cards`` for the harness.
    - **Science**: DHP memory and the SSP-MMC evaluation (Ye, Su & Cao 2022; ``maimemo/SSP-MMC``).
      Deliberate differences from ``simulator.py``: words retire on the app's half-life estimate
      (equal to the truth when ``learner.forget_sd = 0`` and the app's coefficients are the
      learner's, the registered default); after a lapse the interval is chosen knowing the new
      difficulty (the simulator looks it up with the old one, while its value iteration assumes the
      new one); memorized is counted at the end of the day; a finite deck and horizon (default
      10,000 words, 365 days: the paper's 100,000 words over 1,000 days need more memory than a
      batch of learners should hold; the deck is not exhausted at default params).
      Policies: ``studygym.agents.schedulers.sspmmc`` (SSP-MMC by value iteration, and the
      paper's THRESHOLD, HALF-LIFE and ANKI baselines).

    Example::

        >>> import jax, studygym
        >>> from studygym.agents.schedulers.sspmmc import SSPMMCScheduler
        >>> env, params = studygym.make("SSPMMC-DHP-v0", deck_size=500, n_days=20)
        >>> policy = SSPMMCScheduler(env)
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> action, _ = policy.act(jax.random.key(1), policy.init(jax.random.key(2), params), obs)
        >>> obs, state, reward, terminated, truncated, info = env.step(jax.random.key(3), state, action, params)
        >>> int(info["new_cards"])  # the first day's budget: 600 / 6 = 100 new words, +1 overrun
        101
    """

    extra_metrics = ("targets_met", "cost", "memorized", "new_cards")

    def __init__(self, config: SSPMMCConfig | None = None):
        self.config = SSPMMCConfig() if config is None else config
        self.config.validate()
        self.learner = dhp.DHP

    # -- params ------------------------------------------------------------------------------
    @property
    def default_params(self) -> SSPMMCParams:
        return SSPMMCParams(
            learner=dhp.default_params(forget_sd=0.0),
            app_recall_coef=jnp.asarray(dhp.RECALL_COEF, jnp.float32),
            app_forget_coef=jnp.asarray(dhp.FORGET_COEF, jnp.float32),
            recall_cost=jnp.float32(3.0),
            forget_cost=jnp.float32(9.0),
            new_cost=jnp.float32(6.0),
            day_cost_limit=jnp.float32(600.0),
            target_half_life=jnp.float32(360.0),
        )

    def validate_params(self, params: SSPMMCParams) -> None:
        self.learner.validate_params(params.learner, "learner")
        app = dhp.default_params().replace(recall_coef=params.app_recall_coef, forget_coef=params.app_forget_coef)
        dhp.validate_params(app, "app")
        for name in ("recall_cost", "forget_cost", "new_cost"):
            check_range(name, getattr(params, name), 0.0, 1e6, low_open=True)
        check_range("day_cost_limit", params.day_cost_limit, 0.0, 1e9, low_open=True)
        check_range("target_half_life", params.target_half_life, 1.0, dhp.HALF_LIFE_MAX)

    # -- spaces --------------------------------------------------------------------------------
    @property
    def max_steps(self) -> int:
        return self.config.n_days

    # The declared contract: one row per slot of today's batch (obs_layout (B, 7, 4); not Review-v0's
    # names) and a Box action of intervals, not an item choice.
    family = "sspmmc"
    item_features = SLOT_FEATURES
    global_features = GLOBAL_FEATURES
    action_layout = None

    @property
    def n_obs_items(self) -> int:
        """Words shown per day: the batch of review slots then new-word slots."""
        return int(self.config.batch_size)

    def observation_space(self, params: SSPMMCParams | None = None) -> Box:
        cfg = self.config
        slot_high = np.array([1.0, 1.0, dhp.DIFFICULTY_LIMIT, dhp.HALF_LIFE_MAX, cfg.n_days, cfg.n_days, cfg.n_days],
                             np.float32)
        high = item_obs_high(slot_high, cfg.batch_size, [1.0, 1.0, 1.0, 2.0])
        return Box(0.0, high, (high.size,))

    def action_space(self, params: SSPMMCParams | None = None) -> Box:
        return Box(1.0, float(self.config.max_interval), (2 * self.config.batch_size,))

    # -- dynamics ------------------------------------------------------------------------------
    def _batch(self, due: Array, retired: Array, n_learned: Array, day: Array) -> Array:
        cfg = self.config
        n = cfg.deck_size
        review_idx, has_review = first_true((due <= day) & ~retired, cfg.review_limit)
        new_idx = n_learned + jnp.arange(cfg.new_per_day, dtype=jnp.int32)
        return jnp.concatenate([jnp.where(has_review, review_idx, n), jnp.where(new_idx < n, new_idx, n)])

    def reset_env(self, key: Array, params: SSPMMCParams) -> tuple[Array, SSPMMCState]:
        n = self.config.deck_size
        zero_i, zero_f = jnp.int32(0), jnp.float32(0.0)
        due = jnp.full(n, NEVER, jnp.int32)
        retired = jnp.zeros(n, bool)
        state = SSPMMCState(
            learner=self.learner.init(key, params.learner, n),
            day=zero_i,
            app_half_life=jnp.ones(n, jnp.float32),
            due=due,
            reps=jnp.zeros(n, jnp.int32),
            lapses=jnp.zeros(n, jnp.int32),
            retired=retired,
            n_learned=zero_i,
            batch=self._batch(due, retired, zero_i, zero_i),
            memorized=zero_f,
            memorized_sum=zero_f,
            targets_met=zero_i,
            cost=zero_f,
            last_cost=zero_f,
            reviews=zero_i,
            successes=zero_i,
        )
        return self.get_obs(state, params), state

    def intervals(self, action: Any) -> tuple[Array, Array, Array]:
        """(interval if recalled, interval if forgotten, whether the action was invalid), each (B,)."""
        cfg = self.config
        # A scalar (one interval for every word and outcome) is broadcast.
        action = jnp.broadcast_to(jnp.asarray(action, jnp.float32).reshape(-1), (2 * cfg.batch_size,))
        action = action.reshape(2, cfg.batch_size)
        finite = jnp.isfinite(action)
        invalid = jnp.any(~finite | (action < 1.0) | (action > cfg.max_interval))
        days = jnp.clip(jnp.round(jnp.where(finite, action, 1.0)), 1, cfg.max_interval).astype(jnp.int32)
        return days[0], days[1], invalid

    def step_env(self, key: Array, state: SSPMMCState, action: Any, params: SSPMMCParams):
        cfg = self.config
        n, n_review = cfg.deck_size, cfg.review_limit
        lp = params.learner
        if_recalled, if_forgotten, invalid = self.intervals(action)
        memory: DHPState = state.learner
        today = state.day
        now = today.astype(jnp.float32)
        cards = state.batch
        exists = cards < n
        card = jnp.minimum(cards, n - 1)
        is_review = jnp.arange(cfg.batch_size) < n_review

        # Reviews: recalled with the learner's true p; both the true and the app's memory update.
        elapsed = now - memory.last_review[card]
        difficulty = memory.difficulty[card]
        true_h, app_h = memory.half_life[card], state.app_half_life[card]
        p_true = dhp.recall_probability(elapsed * memory.forget_mult, true_h)
        p_app = dhp.recall_probability(elapsed, app_h)
        recalled = jax.random.uniform(key, (cfg.batch_size,)) < p_true
        true_next, d_next = dhp.next_memory(lp.recall_coef, lp.forget_coef, difficulty, true_h, p_true, recalled)
        app_next, _ = dhp.next_memory(params.app_recall_coef, params.app_forget_coef, difficulty, app_h, p_app,
                                      recalled)
        # New words: learned at h0(d0).
        d0 = memory.initial_difficulty[card]
        h0 = dhp.start_half_life(d0)
        true_next = jnp.where(is_review, true_next, h0)
        app_next = jnp.where(is_review, app_next, h0)
        d_next = jnp.where(is_review, d_next, d0)
        recalled = recalled & is_review

        # The budget: a word is studied while the day's cost before it is within the limit.
        word_cost = jnp.where(is_review, jnp.where(recalled, params.recall_cost, params.forget_cost), params.new_cost)
        word_cost = jnp.where(exists, word_cost, 0.0)
        done = exists & (jnp.cumsum(word_cost) - word_cost <= params.day_cost_limit)
        cost_today = jnp.sum(jnp.where(done, word_cost, 0.0))
        done_review, done_new = done & is_review, done & ~is_review

        retire = done_review & recalled & (app_next >= params.target_half_life)
        interval = jnp.where(recalled | ~is_review, if_recalled, if_forgotten)
        target = jnp.where(done, card, n)

        def put(array, values):
            return array.at[target].set(jnp.asarray(values).astype(array.dtype), mode="drop")

        learner_state = memory.replace(
            half_life=put(memory.half_life, true_next),
            difficulty=put(memory.difficulty, d_next),
            last_review=put(memory.last_review, jnp.full(cfg.batch_size, now)),
            seen=put(memory.seen, jnp.ones(cfg.batch_size, bool)),
        )
        due = put(state.due, jnp.where(retire, NEVER, today + interval))
        retired = put(state.retired, retire)
        reps = put(state.reps, jnp.where(recalled, state.reps[card] + 1, 0))
        lapses = put(state.lapses, state.lapses[card] + (is_review & ~recalled).astype(jnp.int32))
        n_learned = state.n_learned + jnp.sum(done_new.astype(jnp.int32))
        retired_today = jnp.sum(retire.astype(jnp.int32))

        # Memorized at the end of the day (studied words at p = 1).
        memorized = jnp.sum(self.learner.recall_prob(learner_state, now, lp))
        next_day = today + 1
        new_state = SSPMMCState(
            learner=learner_state,
            day=next_day,
            app_half_life=put(state.app_half_life, app_next),
            due=due,
            reps=reps,
            lapses=lapses,
            retired=retired,
            n_learned=n_learned,
            batch=self._batch(due, retired, n_learned, next_day),
            memorized=memorized,
            memorized_sum=state.memorized_sum + memorized,
            targets_met=state.targets_met + retired_today,
            cost=state.cost + cost_today,
            last_cost=cost_today,
            reviews=state.reviews + jnp.sum(done_review.astype(jnp.int32)),
            successes=state.successes + jnp.sum((done_review & recalled).astype(jnp.int32)),
        )
        terminated = next_day >= cfg.n_days
        knowledge = memorized / n
        reward = retired_today.astype(jnp.float32) / n
        info = {
            "knowledge": knowledge,
            "memorized": memorized,
            "targets_met": new_state.targets_met,
            "cost_today": cost_today,
            "cost": new_state.cost,
            "reviews": new_state.reviews,
            "new_cards": n_learned,
            "study_minutes": new_state.cost / 60.0,
            "retrievals": new_state.reviews,
            "successes": new_state.successes,
            "invalid_action": invalid,
            "knowledge_final": jnp.where(terminated, knowledge, 0.0),
            "knowledge_auc": jnp.where(terminated, new_state.memorized_sum / (n * cfg.n_days), 0.0),
        }
        return self.get_obs(new_state, params), new_state, reward, terminated, jnp.bool_(False), info

    def get_obs(self, state: SSPMMCState, params: SSPMMCParams) -> Array:
        cfg = self.config
        n = cfg.deck_size
        cards = state.batch
        exists = cards < n
        card = jnp.minimum(cards, n - 1)
        memory = state.learner
        seen = exists & memory.seen[card]
        now = state.day.astype(jnp.float32)
        columns = [
            exists.astype(jnp.float32),
            (exists & ~seen).astype(jnp.float32),
            jnp.where(exists, memory.difficulty[card], 0.0),
            jnp.where(seen, state.app_half_life[card], 0.0),
            jnp.where(seen, now - memory.last_review[card], 0.0),
            jnp.where(seen, state.reps[card], 0).astype(jnp.float32),
            jnp.where(seen, state.lapses[card], 0).astype(jnp.float32),
        ]
        glob = jnp.stack([
            now / cfg.n_days,
            state.n_learned.astype(jnp.float32) / n,
            state.targets_met.astype(jnp.float32) / n,
            jnp.clip(state.last_cost / params.day_cost_limit, 0.0, 2.0),
        ])
        return item_obs(columns, glob)
