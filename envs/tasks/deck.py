"""Deck-v0: an Anki-like deck, one step per day; the action is the day's desired retention.

The day's scheduling (which due cards are reviewed, in what order, under which limits) is part of
the env, as in the apps; the agent only sets the desired retention that the FSRS scheduler turns
into intervals. The semantics follow fsrs-optimizer's workload simulator (``fsrs_simulator.py``,
``simulate``) so that results can be compared with it; where they differ, the docstring of
:class:`DeckEnv` says so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..core import (Array, Box, Environment, categorical_draw, check_positive_int, check_range, pytree_dataclass,
                    static_dataclass)
from ..learners import get_learner
from ..learners import fsrs
from ..learners.fsrs import FSRSParams, FSRSState
from .review import RATING_SECONDS
from ..anki import (ANKI_EASY_INTERVAL, ANKI_GRADUATING_INTERVAL, ANKI_MIN_EASE, ANKI_START_EASE,
                    anki_sm2_review)

#: The desired retention an agent may ask for (the action's range).
RETENTION_LOW, RETENTION_HIGH = 0.70, 0.99
#: Desired retention used when the action is not finite (Anki's default).
RETENTION_FALLBACK = 0.9
#: At most this many same-day (re)learning steps after a first exposure or a lapse (as
#: fsrs-optimizer's simulator, ``MAX_RELEARN_STEPS``).
MAX_SHORT_TERM_STEPS = 5
#: ``due`` of a card the app has not scheduled yet (never reached).
UNSCHEDULED = 2**30

#: Grade transitions during learning steps (after a first exposure) and relearning steps (after a
#: lapse): row = previous grade (Again, Hard, Good), column = next grade (Again .. Easy).
#: fsrs-optimizer's simulator defaults, estimated from Anki review logs.
LEARNING_STEP_TRANSITIONS = ((0.3687, 0.0628, 0.5108, 0.0577),
                             (0.0441, 0.4553, 0.4457, 0.0549),
                             (0.0518, 0.0470, 0.8462, 0.0550))
RELEARNING_STEP_TRANSITIONS = ((0.2157, 0.0643, 0.6595, 0.0605),
                               (0.0500, 0.4638, 0.4475, 0.0387),
                               (0.1056, 0.1434, 0.7266, 0.0244))

SCHEDULERS = ("fsrs", "anki_sm2", "fixed")

# Anki SM-2 constants (Anki's defaults, as fsrs-optimizer's ``anki_sm2_scheduler``).
SM2_GRADUATING_INTERVAL, SM2_EASY_INTERVAL = ANKI_GRADUATING_INTERVAL, ANKI_EASY_INTERVAL
SM2_START_EASE, SM2_MIN_EASE = ANKI_START_EASE, ANKI_MIN_EASE

OBS_FEATURES = ("progress", "learned", "due_today", "due_tomorrow", "last_reviews", "last_new_cards",
                "last_minutes", "predicted_retention", "last_desired_retention")


@static_dataclass
class DeckConfig:
    """Static config of Deck-v0 (fixes shapes; hashable)."""

    deck_size: int = 10_000  # cards in the deck, all new at the start
    n_days: int = 365  # days simulated (one step per day); fsrs-optimizer's ``learn_span``
    new_per_day: int = 20  # new cards a day at most (Anki's default)
    review_limit: int = 200  # reviews a day at most (Anki's default); also the day's review buffer
    scheduler: str = "fsrs"  # "fsrs" (the action sets desired retention), "anki_sm2" or "fixed"
    fixed_interval: int = 7  # days between reviews with scheduler="fixed"
    max_interval: int = fsrs.MAX_INTERVAL  # longest interval the scheduler gives (days)
    learning_steps: int = 2  # Good answers needed to graduate a new card (Anki: 1m 10m)
    relearning_steps: int = 1  # Good answers needed to graduate a lapsed card (Anki: 10m)
    relearning_updates_memory: bool = True  # same-day relearning answers update memory (py-fsrs);
    # False: they only cost time, as in fsrs-optimizer's simulate
    learner: str = "fsrs"  # memory model of the simulated learner (only FSRS-6 for now)

    def validate(self) -> None:
        for name in ("deck_size", "n_days", "new_per_day", "review_limit", "fixed_interval", "max_interval"):
            check_positive_int(name, getattr(self, name))
        if self.max_interval > fsrs.MAX_INTERVAL:
            raise ValueError(f"max_interval must be in [1, {fsrs.MAX_INTERVAL}], got {self.max_interval}")
        if self.fixed_interval > self.max_interval:
            raise ValueError(f"fixed_interval must be in [1, max_interval={self.max_interval}], "
                             f"got {self.fixed_interval}")
        for name in ("learning_steps", "relearning_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or not 0 <= value <= MAX_SHORT_TERM_STEPS:
                raise ValueError(f"{name} must be an integer in [0, {MAX_SHORT_TERM_STEPS}], got {value!r}")
        if not isinstance(self.relearning_updates_memory, (bool, np.bool_)):
            raise ValueError(f"relearning_updates_memory must be True or False, got {self.relearning_updates_memory!r}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        get_learner(self.learner)  # unknown names raise with suggestions
        if self.learner != "fsrs":
            raise ValueError(f"learner must be 'fsrs' for Deck-v0 (its day update is vectorised FSRS-6 "
                             f"maths), got {self.learner!r}")

    @property
    def review_buffer(self) -> int:
        """Due cards handled per day: the first ``review_limit`` in deck order."""
        return min(self.review_limit, self.deck_size)


@pytree_dataclass
class DeckParams:
    """Dynamic params of Deck-v0 (a pytree: vmap over it for a population)."""

    learner: FSRSParams  # the simulated learner's FSRS-6 traits (its true memory)
    scheduler_w: Array  # (21,) FSRS-6 weights the app schedules with (its own memory estimates)
    max_minutes_per_day: Array  # () daily time limit; a card that would pass it waits for tomorrow
    rating_seconds: Array  # (3, 4) seconds per answer by phase (learning, review, relearning) x grade
    learning_step_transitions: Array  # (3, 4) P(next grade | previous grade) in learning steps
    relearning_step_transitions: Array  # (3, 4) the same in relearning steps after a lapse
    cost_per_minute: Array  # () reward cost per minute studied (memorized is in deck fractions)


@pytree_dataclass
class DeckState:
    """Env state: the learner's hidden memory plus what the app has recorded."""

    learner: FSRSState  # hidden: true stability, difficulty; last_review and seen are the app's too
    day: Array  # () int32 the day about to be studied (0 .. n_days)
    app_stability: Array  # (N,) the app's FSRS stability estimate (scheduler_w, from observed grades)
    app_difficulty: Array  # (N,) the app's FSRS difficulty estimate
    first_grade: Array  # (N,) int32 hidden: the grade each card gets at its first exposure
    due: Array  # (N,) int32 day the card is due (UNSCHEDULED while new)
    due_calendar: Array  # (n_days + 1,) int32 cards due on each day; the last bin: on or after n_days
    interval: Array  # (N,) int32 last scheduled interval (days); kept with scheduler="anki_sm2" only
    ease: Array  # (N,) float32 SM-2 ease (0 while new); kept with scheduler="anki_sm2" only
    n_learned: Array  # () int32 cards introduced so far (always the first n_learned of the deck)
    memorized: Array  # () sum of recall probabilities at the end of the previous day
    memorized_sum: Array  # () sum over days so far of memorized (for the AUC)
    last_reviews: Array  # () int32 reviews on the previous day
    last_new_cards: Array  # () int32 new cards on the previous day
    last_minutes: Array  # () minutes studied on the previous day
    last_desired_retention: Array  # () desired retention used on the previous day
    reviews: Array  # () int32 reviews so far (not counting first exposures)
    new_cards: Array  # () int32 cards introduced so far
    study_seconds: Array  # () seconds studied so far
    successes: Array  # () int32 successful recalls among the reviews


def _select_bit(word: Array, rank: Array) -> Array:
    """Position of the set bit of rank ``rank`` (0-based, from the lowest) in each uint32 ``word``."""
    position = jnp.zeros_like(rank)
    for width in (16, 8, 4, 2, 1):
        low = jax.lax.population_count((word >> position.astype(jnp.uint32)) & jnp.uint32((1 << width) - 1))
        skip = rank >= low.astype(rank.dtype)
        rank = jnp.where(skip, rank - low.astype(rank.dtype), rank)
        position = jnp.where(skip, position + width, position)
    return position


def _pack_bits(mask: Array) -> Array:
    """``mask`` (N,) packed 32 flags to a uint32 word (the tail padded with False): one pass.

    Flags are packed 8 to a byte, then 4 bytes viewed as one little-endian word (flag ``32 j + k``
    is bit ``k`` of word ``j``): twice as fast on CPU as shifting 32 flags into a word.
    """
    n_words = -(-mask.shape[0] // 32)
    padded = jnp.pad(mask, (0, n_words * 32 - mask.shape[0]))
    bits = padded.reshape(n_words, 4, 8).astype(jnp.uint8)
    packed = jnp.sum(bits << jnp.arange(8, dtype=jnp.uint8), axis=-1, dtype=jnp.uint8)
    if np.little_endian:
        return jax.lax.bitcast_convert_type(packed, jnp.uint32)
    return jax.lax.bitcast_convert_type(packed[:, ::-1], jnp.uint32)


def first_true(mask: Array, count: int) -> tuple[Array, Array]:
    """Indices of the first ``count`` True entries of ``mask`` (N,) in order, and which exist.

    Missing entries get index N. A prefix sum over the whole mask would cost more than the rest
    of a day's work (XLA's cumsum makes log2(N) passes); instead the flags are packed 32 to a word
    (one pass), the prefix sum runs over the words, and the k-th entry is found by a binary search
    over word counts, then within its word by popcounts.
    """
    n = mask.shape[0]
    words = _pack_bits(mask)
    per_word = jax.lax.population_count(words).astype(jnp.int32)
    before = jnp.cumsum(per_word)
    rank = jnp.arange(count, dtype=jnp.int32)
    word = jnp.minimum(jnp.searchsorted(before, rank, side="right"), words.shape[0] - 1).astype(jnp.int32)
    in_word = rank - (before[word] - per_word[word])
    index = word * 32 + _select_bit(words[word], in_word)
    exists = rank < before[-1]
    return jnp.where(exists, index, n), exists


def _uniform(bits: Array) -> Array:
    """Uniform float32 in [0, 1) from uint32 random bits (the top 24 bits)."""
    return (bits >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)


def _substream(bits: Array, stream: int) -> Array:
    """Further random bits derived from ``bits`` for sub-stream ``stream`` (murmur3's fmix32 finaliser).

    One threefry draw per card and day, with the (re)learning steps' numbers derived by this
    bijective avalanche hash: threefry costs far more per number on CPU than the rest of a card's
    day, and only a few cards need the extra numbers.
    """
    h = bits ^ jnp.uint32((0x9E3779B9 * (stream + 1)) & 0xFFFFFFFF)
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def _short_term_steps(bits: Array, grade: Array, needed: Array, active: Array, is_review: Array,
                      params: "DeckParams", memories: tuple) -> tuple:
    """Same-day (re)learning steps, as Anki runs them and fsrs-optimizer simulates them.

    Per card (arrays of shape (M,)): ``bits`` its random bits, ``grade`` its first answer,
    ``needed`` the Good/Easy answers in a row that end its steps, ``active`` whether it has steps,
    ``is_review`` relearning (after a lapse) rather than learning (after a first exposure). The
    learner answers again (grade drawn from the step transitions given the previous grade) until
    ``needed`` Good/Easy answers in a row (Again resets the count), an Easy, or
    ``MAX_SHORT_TERM_STEPS`` steps. Each answer is a same-day FSRS review of every memory in
    ``memories`` (``(w, stability, difficulty)`` triples: the learner's and the app's). Returns the
    updated memories and the seconds the steps took.
    """
    consecutive = jnp.zeros_like(grade)
    seconds = jnp.zeros(grade.shape, jnp.float32)
    step_seconds = jnp.where(is_review[:, None], params.rating_seconds[2], params.rating_seconds[0])
    learning_cdf = jnp.cumsum(params.learning_step_transitions, axis=-1)
    relearning_cdf = jnp.cumsum(params.relearning_step_transitions, axis=-1)
    for step in range(MAX_SHORT_TERM_STEPS):
        active = active & (consecutive < needed) & (grade < 4)
        previous = jnp.clip(grade - 1, 0, 2)
        row_cdf = jnp.where(is_review[:, None], relearning_cdf[previous], learning_cdf[previous])
        answer = 1 + categorical_draw(_uniform(_substream(bits, step)), None, row_cdf)
        memories = tuple(
            (w, jnp.where(active, fsrs.short_term_stability(w, stability, answer), stability),
             jnp.where(active, fsrs.next_difficulty(w, difficulty, answer), difficulty))
            for w, stability, difficulty in memories)
        answer_seconds = jnp.take_along_axis(step_seconds, (answer - 1)[:, None], axis=1)[:, 0]
        seconds = seconds + jnp.where(active, answer_seconds, 0.0)
        consecutive = jnp.where(active, jnp.where(answer > 2, consecutive + 1, jnp.where(answer == 1, 0, consecutive)),
                                consecutive)
        grade = jnp.where(active, answer, grade)
    return memories, seconds


class _Cards(NamedTuple):
    """A day's batch of cards: the first ``review_buffer`` due cards, then ``new_per_day`` new ones."""

    review: Array  # (n_review,) due cards in deck order (clamped to the deck)
    new: Array  # (n_new,) the next new cards of the deck (clamped)
    is_review: Array  # (n_review + n_new,) bool: the first n_review
    exists: Array  # (n_review + n_new,) bool: a due card / a card left in the deck


class _Reviews(NamedTuple):
    """The day's reviews (shape (n_review,)), before any same-day step."""

    elapsed: Array  # days since the last review
    recall: Array  # the learner's recall probability R
    recalled: Array  # bool
    grade: Array  # 1..4
    true_s: Array  # the learner's stability and difficulty after the review
    true_d: Array
    app_s: Array  # the app's estimate of them
    app_d: Array


class _Done(NamedTuple):
    """Which cards of the batch are studied today (the time limit): all of them, the reviews, the new."""

    all: Array  # (n_review + n_new,) bool
    review: Array  # (n_review,)
    new: Array  # (n_new,)


class _Answers(NamedTuple):
    """Every card of the batch after its same-day steps (shape (n_review + n_new,))."""

    answer: Array  # the first answer of the day (a review's grade, a new card's first grade)
    true_s: Array
    true_d: Array
    app_s: Array
    app_d: Array
    card_seconds: Array  # the first answer plus the steps; 0 for a card that does not exist


def anki_sm2_interval(scheduled: Array, elapsed: Array, ease: Array, grade: Array,
                      max_interval: int) -> tuple[Array, Array]:
    """Anki's SM-2 (its defaults): next interval and ease after answering ``grade``.

    New cards (``ease == 0``) graduate to 1 day (4 if Easy) with ease 2.5. Reviews: Again 1 day;
    Hard ``scheduled * 1.2`` (at least ``scheduled + 1``); Good ``(scheduled + delay / 2) * ease``
    (at least Hard + 1); Easy ``elapsed * ease * 1.3`` (at least Good + 1); ease -0.2 / -0.15 / 0 /
    +0.15, floored at 1.3. Follows fsrs-optimizer's ``anki_sm2_scheduler``.
    """
    scheduled = scheduled.astype(jnp.float32)
    review_interval, review_ease = anki_sm2_review(jnp.maximum(ease, SM2_MIN_EASE), scheduled, elapsed,
                                                   jnp.clip(grade, 1, 4), float(max_interval))
    new = ease == 0
    new_interval = jnp.where(grade == 4, float(SM2_EASY_INTERVAL), float(SM2_GRADUATING_INTERVAL))
    interval = jnp.where(new, new_interval, review_interval)
    return interval.astype(jnp.int32), jnp.where(new, SM2_START_EASE, review_ease)


class DeckEnv(Environment[DeckState, DeckParams]):
    """Deck-v0: an Anki-like deck studied one day at a time; the agent sets the desired retention.

    A deck of ``deck_size`` new cards studied for ``n_days`` days, as in Anki with FSRS. Each day
    the app reviews the cards that are due, then introduces new cards, under the daily limits;
    the simulated learner (FSRS-6, ``studygym.envs.learners.fsrs``) answers each card; the FSRS
    scheduler (its own weights ``scheduler_w`` and its own memory estimates, updated from the
    grades it sees) schedules each card's next review for the day's desired retention.

    - **Action** ``Box(float32, (1,), 0.70, 0.99)``: the day's desired retention (a scalar is
      accepted too). Inside ``jit`` an out-of-range value is clipped (a non-finite one becomes
      0.9) and ``info["invalid_action"]`` is set; the Gymnasium adapter raises instead. With
      ``scheduler="anki_sm2"`` or ``"fixed"`` the action is ignored (those schedulers have no
      retention target): they are the alternative schedulers to compare against.
    - **Observation** ``Box(float32, (9,))``, all in [0, 1], what the app knows at the start of
      the day (never the learner's hidden memory): ``progress`` (day / n_days), ``learned`` (cards
      introduced / deck_size), ``due_today`` and ``due_tomorrow`` (cards due / deck_size; due today
      includes overdue), ``last_reviews`` (yesterday's reviews / review_limit), ``last_new_cards``
      (/ new_per_day), ``last_minutes`` (/ max_minutes_per_day), ``predicted_retention`` (mean
      recall probability of the introduced cards now by the app's own FSRS estimates, estimated
      on a fixed sample of ~1,000 cards, every k-th of the deck) and ``last_desired_retention``.
      ``env.obs_names`` lists them.
    - **Reward**: gain in memorized (sum of the learner's recall probabilities over the deck, at
      the end of the day, divided by ``deck_size``) minus ``cost_per_minute`` x minutes studied
      that day. Summed over an episode: final memorized fraction minus the cost of study time.
      The default 1e-5 per minute values ten minutes of study as much as one card of a
      10,000-card deck kept in memory.
    - **Termination**: ``terminated`` after ``n_days`` steps; never truncated. No auto-reset.
    - **State** :class:`DeckState`: the learner's hidden memory (``(N,)`` float32 stability and
      difficulty, each card's first grade), the app's per-card records (``(N,)`` estimates, due
      day, interval, ease), a due calendar (``(n_days + 1,)`` counts) and day counters and totals
      (scalars).
    - **Info** each step: ``memorized`` (sum of recall probabilities at the end of the day),
      ``knowledge`` (memorized / deck_size), ``reviews_today``, ``new_cards_today``,
      ``minutes_today``, ``desired_retention`` (after clipping), ``invalid_action``; running totals
      ``reviews``, ``new_cards``, ``study_minutes``, ``retrievals`` (= reviews) and ``successes``;
      at the last step ``knowledge_final`` (memorized / deck_size) and ``knowledge_auc`` (mean
      knowledge over days), 0 before.

    **A day**, as fsrs-optimizer's ``simulate``: (1) due cards, in deck order (the order they were
    introduced), the first ``review_limit`` of them; each is recalled with the learner's recall
    probability R; a recalled card is graded Hard/Good/Easy with ``success_grade_probs``, a
    forgotten one Again, followed by relearning steps; (2) new cards in deck order, up to
    ``new_per_day``: a first grade from ``first_grade_probs`` (drawn per card at reset, so a card
    the time limit postpones keeps it), then learning steps; (3) the time
    limit: answers are timed (seconds by phase and grade, plus the steps) and taken in that order
    while the day's total stays within ``max_minutes_per_day``; cards past it wait for tomorrow
    (overdue reviews keep their order). Each studied card is scheduled: FSRS interval
    ``(S / F) (r^(1/decay) - 1)`` rounded, clamped to [1, max_interval] (no fuzz), or Anki SM-2,
    or ``fixed_interval`` days.

    **Where it differs from** ``simulate`` (deliberately; ``tests/test_deck.py`` checks agreement
    within 3% on final memorized and 5% on reviews): (a) same-day steps after a lapse update the
    memory as FSRS-6 (py-fsrs) does; ``simulate`` counts their time but discards their memory
    update (``relearning_updates_memory=False`` does the same; the default gives ~5% more reviews
    without a time limit, and ~2% fewer new cards when the time limit binds); (b) a Hard answer
    in a same-day step never lowers stability, as in py-fsrs (``simulate`` lets it: ~2% more new
    cards here when the time limit binds); (c) a review cut by the time limit leaves the card
    untouched (``simulate`` still resets its last-review date); (d) learners may differ from the
    scheduler (``scheduler_w`` vs ``learner.w``, ``forget_sd``, ``difficulty_sd``): set them equal
    (and the SDs to 0) to match; (e) ``simulate`` evaluates end-of-day memorized with the default
    decay whatever ``w[20]``; here the learner's own.

    **Science**: the FSRS-6 forgetting curve and stability updates (Ye et al.; py-fsrs), Anki's
    learning steps and SM-2, and the time-per-answer and grade statistics fsrs-optimizer estimated
    from Anki logs. Per-learner variation: ``forget_sd`` (log-normal forgetting speed) and
    ``difficulty_sd`` (per-card difficulty offsets) of :class:`~studygym.envs.learners.fsrs.FSRSParams`.

    Example::

        >>> import jax, jax.numpy as jnp, studygym
        >>> env, params = studygym.make("Deck-v0", deck_size=500, n_days=30)
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> obs, state, reward, terminated, truncated, info = env.step(
        ...     jax.random.key(1), state, jnp.array([0.9]), params)
        >>> int(info["new_cards_today"]) <= env.config.new_per_day
        True
    """

    # The declared contract: a flat observation of globals (no per-item block) and a Box action.
    family = "deck"
    item_features = ()
    global_features = OBS_FEATURES
    action_layout = None
    obs_names = OBS_FEATURES  # the same names (older spelling)

    def __init__(self, config: DeckConfig | None = None):
        self.config = DeckConfig() if config is None else config
        self.config.validate()
        self.learner = get_learner(self.config.learner)

    # -- params ------------------------------------------------------------------------------
    @property
    def default_params(self) -> DeckParams:
        return DeckParams(
            learner=self.learner.default_params(),
            scheduler_w=jnp.asarray(fsrs.FSRS6_DEFAULT_WEIGHTS, jnp.float32),
            max_minutes_per_day=jnp.float32(30.0),
            rating_seconds=jnp.asarray(RATING_SECONDS, jnp.float32),
            learning_step_transitions=jnp.asarray(LEARNING_STEP_TRANSITIONS, jnp.float32),
            relearning_step_transitions=jnp.asarray(RELEARNING_STEP_TRANSITIONS, jnp.float32),
            cost_per_minute=jnp.float32(1e-5),
        )

    def validate_params(self, params: DeckParams) -> None:
        check_range("max_minutes_per_day", params.max_minutes_per_day, 0.0, 24 * 60, low_open=True)
        check_range("cost_per_minute", params.cost_per_minute, 0.0, None)
        if np.shape(params.rating_seconds)[-2:] != (3, 4):
            raise ValueError(f"rating_seconds must have shape (3, 4), got {np.shape(params.rating_seconds)}")
        check_range("rating_seconds", params.rating_seconds, 0.0, 3600.0)
        for name in ("learning_step_transitions", "relearning_step_transitions"):
            value = np.asarray(getattr(params, name))
            if value.shape[-2:] != (3, 4):
                raise ValueError(f"{name} must have shape (3, 4), got {value.shape}")
            check_range(name, value, 0.0, 1.0)
            if np.any(np.abs(value.sum(-1) - 1.0) > 1e-4):
                raise ValueError(f"{name} rows must sum to 1, got row sums {value.sum(-1).tolist()}")
        fsrs.check_weights("scheduler_w", params.scheduler_w)
        self.learner.validate_params(params.learner, "learner")

    # -- spaces --------------------------------------------------------------------------------
    @property
    def max_steps(self) -> int:
        return self.config.n_days

    def observation_space(self, params: DeckParams | None = None) -> Box:
        return Box(0.0, 1.0, (len(OBS_FEATURES),))

    def action_space(self, params: DeckParams | None = None) -> Box:
        return Box(RETENTION_LOW, RETENTION_HIGH, (1,))

    # -- dynamics ------------------------------------------------------------------------------
    def reset_env(self, key: Array, params: DeckParams) -> tuple[Array, DeckState]:
        n = self.config.deck_size
        zero_i, zero_f = jnp.int32(0), jnp.float32(0.0)
        key_learner, key_first = jax.random.split(key)
        state = DeckState(
            learner=self.learner.init(key_learner, params.learner, n),
            # Drawn once per card, as simulate does: a new card cut by the time limit keeps its
            # first grade for the next day (redrawing it would let the limit favour cheap grades).
            first_grade=(1 + categorical_draw(jax.random.uniform(key_first, (n,)),
                                          params.learner.first_grade_probs)).astype(jnp.int32),
            day=zero_i,
            app_stability=jnp.ones(n, jnp.float32),
            app_difficulty=jnp.full(n, 5.0, jnp.float32),
            due=jnp.full(n, UNSCHEDULED, jnp.int32),
            due_calendar=jnp.zeros(self.config.n_days + 1, jnp.int32),
            interval=jnp.zeros(n, jnp.int32),
            ease=jnp.zeros(n, jnp.float32),
            n_learned=zero_i,
            memorized=zero_f,
            memorized_sum=zero_f,
            last_reviews=zero_i,
            last_new_cards=zero_i,
            last_minutes=zero_f,
            last_desired_retention=jnp.float32(RETENTION_FALLBACK),
            reviews=zero_i,
            new_cards=zero_i,
            study_seconds=zero_f,
            successes=zero_i,
        )
        return self.get_obs(state, params), state

    def desired_retention(self, action: Any) -> tuple[Array, Array]:
        """(retention used, whether the action was out of range): clipped, never NaN."""
        action = jnp.asarray(action, jnp.float32).reshape(-1)[0]
        finite = jnp.isfinite(action)
        invalid = ~finite | (action < RETENTION_LOW) | (action > RETENTION_HIGH)
        retention = jnp.clip(jnp.where(finite, action, RETENTION_FALLBACK), RETENTION_LOW, RETENTION_HIGH)
        return retention, invalid

    @staticmethod
    def long_term_review(w: Array, stability: Array, difficulty: Array, recall: Array,
                         grade: Array) -> tuple[Array, Array]:
        """(S, D) after a review a day or more after the last one (every scheduled review is)."""
        lapse = fsrs.forget_stability(w, difficulty, stability, recall)
        success = fsrs.recall_stability(w, difficulty, stability, recall, grade)
        stability = jnp.maximum(jnp.where(grade == 1, lapse, success), fsrs.STABILITY_MIN)
        return stability, fsrs.next_difficulty(w, difficulty, grade)

    #: Cards per block when summing recall probabilities over the introduced cards.
    MEMORIZED_BLOCK = 1024

    def memorized_now(self, memory: FSRSState, now: Array, n_learned: Array, w: Array) -> Array:
        """Sum of the learner's recall probabilities at ``now`` over the introduced cards.

        Introduced cards are the first ``n_learned`` of the deck, so the sum runs block by block
        over that prefix only (a while loop: under vmap it stops at the batch's largest prefix),
        not over the whole deck: early in a course most of the deck is still new.
        """
        n = self.config.deck_size
        block = min(self.MEMORIZED_BLOCK, n)

        def body(carry):
            index, total = carry
            # The last block is shifted back to stay inside the deck; the mask drops the overlap.
            start = jnp.minimum(index * block, n - block)
            cards = start + jnp.arange(block)
            last = jax.lax.dynamic_slice(memory.last_review, (start,), (block,))
            stability = jax.lax.dynamic_slice(memory.stability, (start,), (block,))
            recall = fsrs.retrievability(w, (now - last) * memory.forget_mult, stability)
            counted = (cards >= index * block) & (cards < n_learned)
            return index + 1, total + jnp.sum(jnp.where(counted, recall, 0.0))

        def more(carry):
            return carry[0] * block < n_learned

        return jax.lax.while_loop(more, body, (jnp.int32(0), jnp.float32(0.0)))[1]

    def step_env(self, key: Array, state: DeckState, action: Any, params: DeckParams):
        """One day, in the phases of "A day" above: today's cards, (1) reviews, (2) new cards, their
        same-day steps, (3) the time limit, scheduling, and the write-back of every studied card."""
        cfg = self.config
        retention, invalid = self.desired_retention(action)
        now = state.day.astype(jnp.float32)
        bits = jax.random.bits(key, (cfg.review_buffer + cfg.new_per_day,), jnp.uint32)
        review_bits = bits[:cfg.review_buffer]
        # Memorized before today's study: the sum of the learner's recall probabilities.
        memorized_before = self.memorized_now(state.learner, now, state.n_learned, params.learner.w)
        cards = self._todays_cards(state)
        reviews = self._reviews(state, params, cards, now, review_bits)
        answers = self._same_day_steps(params, cards, reviews, self._new_cards(state, params, cards), bits)
        done, seconds = self._time_limit(params, cards, answers)
        card = jnp.concatenate([cards.review, cards.new])  # the batch's card indices
        interval, ease = self._schedule(state, params, cards, card, reviews, answers, retention)
        new_state, reward = self._write_back(state, params, cards, card, reviews, answers, done, seconds, interval,
                                             ease, memorized_before, retention, now)
        terminated = new_state.day >= cfg.n_days
        info = self._day_info(new_state, invalid, terminated)
        return self.get_obs(new_state, params), new_state, reward, terminated, jnp.bool_(False), info

    def _todays_cards(self, state: DeckState) -> _Cards:
        """Today's cards, as one batch of n_review + n_new: (1) the first n_review due cards in deck
        order, (2) the next n_new new cards of the deck (cards are introduced in deck order)."""
        cfg = self.config
        n, n_review, n_new = cfg.deck_size, cfg.review_buffer, cfg.new_per_day
        review_idx, has_review = first_true(state.due <= state.day, n_review)
        new_idx = state.n_learned + jnp.arange(n_new, dtype=jnp.int32)
        has_new = new_idx < n
        review_card, new_card = jnp.minimum(review_idx, n - 1), jnp.minimum(new_idx, n - 1)
        is_review = jnp.arange(n_review + n_new) < n_review
        return _Cards(review_card, new_card, is_review, jnp.concatenate([has_review, has_new]))

    def _reviews(self, state: DeckState, params: DeckParams, cards: _Cards, now: Array,
                 review_bits: Array) -> _Reviews:
        """(1) Reviews: recalled with the learner's recall probability R; both memories (the learner's
        and the app's estimate) updated from the same answers."""
        memory: FSRSState = state.learner
        w_true, w_app = params.learner.w, params.scheduler_w
        review_card = cards.review
        elapsed = now - memory.last_review[review_card]
        recall = fsrs.retrievability(w_true, elapsed * memory.forget_mult, memory.stability[review_card])
        app_recall = fsrs.retrievability(w_app, elapsed, state.app_stability[review_card])
        u_recall = _uniform(review_bits)
        recalled = u_recall < recall
        # Given recall (u < R), u / R is uniform: it draws the success grade without a second number.
        success_grade = 2 + categorical_draw(u_recall / jnp.maximum(recall, 1e-12), params.learner.success_grade_probs)
        grade = jnp.where(recalled, success_grade, 1).astype(jnp.int32)
        true_s, true_d = self.long_term_review(w_true, memory.stability[review_card], memory.difficulty[review_card],
                                               recall, grade)
        app_s, app_d = self.long_term_review(w_app, state.app_stability[review_card],
                                             state.app_difficulty[review_card], app_recall, grade)
        return _Reviews(elapsed, recall, recalled, grade, true_s, true_d, app_s, app_d)

    def _new_cards(self, state: DeckState, params: DeckParams, cards: _Cards) -> tuple[Array, Array]:
        """(2) New cards: (first grade, the learner's initial difficulty plus the card's own offset)."""
        memory: FSRSState = state.learner
        first_grade = state.first_grade[cards.new]
        first_true_d = jnp.clip(fsrs.initial_difficulty(params.learner.w, first_grade) + memory.item_offset[cards.new],
                                fsrs.DIFFICULTY_MIN, fsrs.DIFFICULTY_MAX)
        return first_grade, first_true_d

    def _same_day_steps(self, params: DeckParams, cards: _Cards, reviews: _Reviews, new_cards: tuple[Array, Array],
                        bits: Array) -> _Answers:
        """Same-day steps: relearning after a lapse, learning after a first exposure; the memories after
        them and each card's seconds (first answer plus steps)."""
        cfg = self.config
        w_true, w_app = params.learner.w, params.scheduler_w
        first_grade, first_true_d = new_cards
        is_review, exists = cards.is_review, cards.exists
        # The batch is materialised first (the barrier): fused into the FSRS maths, the concatenations
        # keep XLA from vectorising it (several times slower on CPU).
        answer, true_s, true_d, app_s, app_d = jax.lax.optimization_barrier((
            jnp.concatenate([reviews.grade, first_grade]),
            jnp.concatenate([reviews.true_s, fsrs.initial_stability(w_true, first_grade)]),
            jnp.concatenate([reviews.true_d, first_true_d]),
            jnp.concatenate([reviews.app_s, fsrs.initial_stability(w_app, first_grade)]),
            jnp.concatenate([reviews.app_d, fsrs.initial_difficulty(w_app, first_grade)])))
        needed = jnp.where(is_review, cfg.relearning_steps, cfg.learning_steps - (answer >= 3)).astype(jnp.int32)
        stepped, steps_seconds = _short_term_steps(
            bits, answer, needed, exists & (~is_review | (answer == 1)), is_review, params,
            ((w_true, true_s, true_d), (w_app, app_s, app_d)))
        if cfg.relearning_updates_memory:
            (_, true_s, true_d), (_, app_s, app_d) = stepped
        else:  # as fsrs-optimizer's simulate: relearning steps cost time only
            (_, true_s2, true_d2), (_, app_s2, app_d2) = stepped
            true_s, true_d = jnp.where(is_review, true_s, true_s2), jnp.where(is_review, true_d, true_d2)
            app_s, app_d = jnp.where(is_review, app_s, app_s2), jnp.where(is_review, app_d, app_d2)
        first_seconds = params.rating_seconds[jnp.where(is_review, 1, 0), answer - 1]
        card_seconds = jnp.where(exists, first_seconds + steps_seconds, 0.0)
        return _Answers(answer, true_s, true_d, app_s, app_d, card_seconds)

    def _time_limit(self, params: DeckParams, cards: _Cards, answers: _Answers) -> tuple[_Done, Array]:
        """(3) The time limit: (which cards are studied, the day's seconds); answers in order (reviews,
        then new cards) while the day's total fits."""
        n_review = self.config.review_buffer
        done = cards.exists & (jnp.cumsum(answers.card_seconds) <= params.max_minutes_per_day * 60.0)
        done = _Done(done, done[:n_review], done[n_review:])
        return done, jnp.sum(jnp.where(done.all, answers.card_seconds, 0.0))

    def _schedule(self, state: DeckState, params: DeckParams, cards: _Cards, card: Array, reviews: _Reviews,
                  answers: _Answers, retention: Array) -> tuple[Array, Array | None]:
        """Scheduling of every card of the batch (``card``: its indices): (interval in days, the SM-2
        ease; ``None`` unless ``scheduler="anki_sm2"``)."""
        cfg = self.config
        if cfg.scheduler == "fsrs":
            interval = fsrs.next_interval(params.scheduler_w, answers.app_s, retention, cfg.max_interval)
            return interval.astype(jnp.int32), None
        if cfg.scheduler == "anki_sm2":
            zeros = jnp.zeros(cfg.new_per_day, jnp.int32)
            return anki_sm2_interval(
                jnp.concatenate([state.interval[cards.review], zeros]),
                jnp.concatenate([reviews.elapsed, zeros.astype(jnp.float32)]),
                jnp.where(cards.is_review, state.ease[card], 0.0), answers.answer, cfg.max_interval)
        return jnp.full(cfg.review_buffer + cfg.new_per_day, cfg.fixed_interval, jnp.int32), None

    def _write_back(self, state: DeckState, params: DeckParams, cards: _Cards, card: Array, reviews: _Reviews,
                    answers: _Answers, done: _Done, seconds: Array, interval: Array, ease: Array | None,
                    memorized_before: Array, retention: Array, now: Array) -> tuple[DeckState, Array]:
        """Write back, one scatter per array (cards not studied go out of bounds and are dropped), and
        the day's totals: (the next state, the reward)."""
        cfg = self.config
        n, n_review = cfg.deck_size, cfg.review_buffer
        memory: FSRSState = state.learner
        today = state.day
        target = jnp.where(done.all, card, n)

        def put(array, values):
            return array.at[target].set(values.astype(array.dtype), mode="drop")

        learner_state = memory.replace(
            stability=put(memory.stability, answers.true_s),
            difficulty=put(memory.difficulty, answers.true_d),
            last_review=put(memory.last_review, jnp.full(n_review + cfg.new_per_day, now)),
            seen=put(memory.seen, jnp.ones(n_review + cfg.new_per_day, bool)),
        )
        done_review, done_new = done.review, done.new
        reviews_today = jnp.sum(done_review.astype(jnp.int32))
        new_today = jnp.sum(done_new.astype(jnp.int32))
        successes_today = jnp.sum((done_review & reviews.recalled).astype(jnp.int32))
        # End of the day: studied cards are at R = 1 (just answered); the rest as they were.
        memorized = (memorized_before - jnp.sum(jnp.where(done_review, reviews.recall, 0.0))
                     + (reviews_today + new_today).astype(jnp.float32))
        minutes = seconds / 60.0
        reward = (memorized - state.memorized) / n - params.cost_per_minute * minutes

        # The due calendar (for the observation, without a pass over the deck): studied cards move
        # from their old due day to the new one.
        last_bin = cfg.n_days
        old_bin = jnp.where(done_review, jnp.minimum(state.due[cards.review], last_bin), last_bin + 1)
        new_bin = jnp.where(done.all, jnp.minimum(today + interval, last_bin), last_bin + 1)
        due_calendar = state.due_calendar.at[old_bin].add(-1, mode="drop").at[new_bin].add(1, mode="drop")

        new_state = DeckState(
            learner=learner_state,
            day=today + 1,
            app_stability=put(state.app_stability, answers.app_s),
            app_difficulty=put(state.app_difficulty, answers.app_d),
            first_grade=state.first_grade,
            due=put(state.due, today + interval),
            due_calendar=due_calendar,
            # Only SM-2 reads them: other schedulers skip the per-card writes.
            interval=put(state.interval, interval) if cfg.scheduler == "anki_sm2" else state.interval,
            ease=put(state.ease, ease) if cfg.scheduler == "anki_sm2" else state.ease,
            n_learned=state.n_learned + new_today,
            memorized=memorized,
            memorized_sum=state.memorized_sum + memorized,
            last_reviews=reviews_today,
            last_new_cards=new_today,
            last_minutes=minutes,
            last_desired_retention=retention,
            reviews=state.reviews + reviews_today,
            new_cards=state.new_cards + new_today,
            study_seconds=state.study_seconds + seconds,
            successes=state.successes + successes_today,
        )
        return new_state, reward

    def _day_info(self, state: DeckState, invalid: Array, terminated: Array) -> dict:
        """The step's info (see the class docstring), from the state after the day."""
        n = self.config.deck_size
        knowledge = state.memorized / n
        return {
            "memorized": state.memorized,
            "knowledge": knowledge,
            "reviews_today": state.last_reviews,
            "new_cards_today": state.last_new_cards,
            "minutes_today": state.last_minutes,
            "desired_retention": state.last_desired_retention,
            "invalid_action": invalid,
            "reviews": state.reviews,
            "new_cards": state.new_cards,
            "study_minutes": state.study_seconds / 60.0,
            "retrievals": state.reviews,
            "successes": state.successes,
            "knowledge_final": jnp.where(terminated, knowledge, 0.0),
            "knowledge_auc": jnp.where(terminated, state.memorized_sum / (n * self.config.n_days), 0.0),
        }

    @property
    def retention_sample(self) -> slice:
        """The cards whose predicted retention the observation averages: every k-th card, ~1,000."""
        return slice(0, None, max(1, self.config.deck_size // 1024))

    def get_obs(self, state: DeckState, params: DeckParams) -> Array:
        cfg = self.config
        memory = state.learner
        now = state.day.astype(jnp.float32)
        # The app's mean predicted retention over introduced cards, estimated on a fixed systematic
        # sample (cards are introduced in deck order, so every k-th card samples every cohort):
        # a whole-deck pass would cost as much as the rest of the day.
        sample = self.retention_sample
        sampled = (jnp.arange(cfg.deck_size)[sample] < state.n_learned).astype(jnp.float32)
        predicted = fsrs.retrievability(params.scheduler_w, now - memory.last_review[sample],
                                        state.app_stability[sample])
        predicted_retention = jnp.sum(sampled * predicted) / jnp.maximum(jnp.sum(sampled), 1.0)
        days = jnp.arange(cfg.n_days + 1)
        due_today = jnp.sum(jnp.where(days <= state.day, state.due_calendar, 0))
        due_tomorrow = jnp.sum(jnp.where(days == state.day + 1, state.due_calendar, 0))
        features = jnp.stack([
            state.day.astype(jnp.float32) / cfg.n_days,
            state.n_learned.astype(jnp.float32) / cfg.deck_size,
            due_today.astype(jnp.float32) / cfg.deck_size,
            due_tomorrow.astype(jnp.float32) / cfg.deck_size,
            state.last_reviews.astype(jnp.float32) / cfg.review_buffer,
            state.last_new_cards.astype(jnp.float32) / cfg.new_per_day,
            state.last_minutes / params.max_minutes_per_day,
            predicted_retention,
            state.last_desired_retention,
        ])
        return jnp.clip(features, 0.0, 1.0).astype(jnp.float32)
