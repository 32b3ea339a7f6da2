"""FSRS-6: the memory model of the Free Spaced Repetition Scheduler, as a simulated learner.

The maths follows py-fsrs (``fsrs/scheduler.py``, the reference implementation) symbol for symbol;
``tests/test_fsrs_pyfsrs.py`` checks agreement to 1e-4 on hypothesis-generated review histories.
Grades G are 1 Again, 2 Hard, 3 Good, 4 Easy; time is in days.

- Retrievability ``R(t, S) = (1 + F t / S)^(-w20)`` with ``F = 0.9^(-1/w20) - 1`` (so R(S, S) = 0.9).
- First review: ``S0 = w[G-1]``, ``D0(G) = w4 - e^(w5 (G-1)) + 1`` clamped to [1, 10].
- Difficulty: ``D' = w7 D0(4) + (1 - w7) (D + dD (10 - D) / 9)``, ``dD = -w6 (G - 3)``, clamped.
- Recall (G >= 2): ``S' = S (1 + e^w8 (11 - D) S^-w9 (e^(w10 (1 - R)) - 1) h b)``.
- Lapse (G = 1): ``S' = min(w11 D^-w12 ((S + 1)^w13 - 1) e^(w14 (1 - R)), S / e^(w17 w18))``.
- Same day: ``S' = S e^(w17 (G - 3 + w18)) S^-w19``, the factor floored at 1 for G >= 2. py-fsrs
  counts whole elapsed days (``floor(elapsed) < 1``); :func:`review` does that by default.

**One clock.** The simulated learner decides "same day" by the calendar, as Anki and fsrs-rs do
(FSRS-6 was fitted on their logs): two reviews are on the same day when no day boundary
(``day_boundary_hour``, default 4 am, Anki's default "next day starts at") lies between them.
Deciding it by elapsed < 24 h instead put a step into memory at the 24-hour mark: a next-morning
review 5 minutes early got the tiny same-day gain, 5 minutes late the full one, which penalised
exactly the schedulers that count calendar days. The env's clock starts at ``start_hour``
(default 8 am: Review-v0's first slot of a day, Sleep-v0's first slot).

The simulated learner draws grades as fsrs-optimizer's simulator does: a new item's first grade
from a fixed distribution; afterwards recall ~ Bernoulli(R), failure -> Again, success -> Hard,
Good or Easy with fixed probabilities. A population varies per learner (a log-normal multiplier
on the forgetting rate) and per item (an additive offset on initial difficulty), sampled from
params at ``init``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .base import WithoutSleep
from ..core import Array, categorical_draw, check_range, pow1p, pytree_dataclass

#: FSRS-6 default weights w0..w20 (medians over ~10k Anki collections; py-fsrs DEFAULT_PARAMETERS).
FSRS6_DEFAULT_WEIGHTS = (
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
)
STABILITY_MIN = 0.001  # days, as py-fsrs
DIFFICULTY_MIN, DIFFICULTY_MAX = 1.0, 10.0
MAX_INTERVAL = 36500  # days

# Grade probabilities of fsrs-optimizer's simulator.
SUCCESS_GRADE_PROBS = (0.224, 0.631, 0.145)  # Hard, Good, Easy given recall
FIRST_GRADE_PROBS = (0.24, 0.094, 0.495, 0.171)  # Again, Hard, Good, Easy at first exposure

# Bounds on weights: py-fsrs's LOWER_BOUNDS_PARAMETERS and UPPER_BOUNDS_PARAMETERS.
WEIGHT_LOWER = (0.001, 0.001, 0.001, 0.001, 1.0, 0.001, 0.001, 0.001, 0.0, 0.0, 0.001,
                0.001, 0.001, 0.001, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.1)
WEIGHT_UPPER = (100.0, 100.0, 100.0, 100.0, 10.0, 4.0, 4.0, 0.75, 4.5, 0.8, 3.5,
                5.0, 0.25, 0.9, 4.0, 1.0, 6.0, 2.0, 2.0, 0.8, 0.8)


# ----------------------------------------------------------------------------------------------
# The FSRS-6 maths (pure, elementwise; ``w`` is the 21-vector)
# ----------------------------------------------------------------------------------------------


def decay(w: Array) -> Array:
    return -w[20]


def factor(w: Array) -> Array:
    """F = 0.9^(1/decay) - 1, so that R(S, S) = 0.9."""
    return jnp.exp(jnp.log(0.9) / decay(w)) - 1.0


def retrievability(w: Array, elapsed_days: Array, stability: Array) -> Array:
    """R(t, S) = (1 + F t / S)^decay.

    Evaluated as ``exp(decay * log(1 + x))``: XLA's ``log`` is much faster than its ``log1p`` on
    CPU, and this is the hot loop (every item, every step). Rounding ``1 + x`` costs at most ~1e-7
    of absolute error in R, a probability, where no relative precision near R = 1 is needed.
    """
    x = factor(w) * jnp.maximum(elapsed_days, 0.0) / stability
    return jnp.exp(decay(w) * jnp.log(1.0 + x))


def initial_stability(w: Array, grade: Array) -> Array:
    return jnp.maximum(w[jnp.asarray(grade, jnp.int32) - 1], STABILITY_MIN)


def initial_difficulty(w: Array, grade: Array, clamp: bool = True) -> Array:
    d0 = w[4] - jnp.exp(w[5] * (grade - 1.0)) + 1.0
    return jnp.clip(d0, DIFFICULTY_MIN, DIFFICULTY_MAX) if clamp else d0


def next_difficulty(w: Array, difficulty: Array, grade: Array) -> Array:
    delta = -w[6] * (grade - 3.0)
    damped = difficulty + (10.0 - difficulty) * delta / 9.0
    reverted = w[7] * initial_difficulty(w, 4.0, clamp=False) + (1.0 - w[7]) * damped
    return jnp.clip(reverted, DIFFICULTY_MIN, DIFFICULTY_MAX)


def recall_stability(w: Array, difficulty: Array, stability: Array, recall: Array, grade: Array) -> Array:
    """Stability after a successful review (G >= 2): the desirable-difficulty gain."""
    hard_penalty = jnp.where(grade == 2, w[15], 1.0)
    easy_bonus = jnp.where(grade == 4, w[16], 1.0)
    gain = (jnp.exp(w[8]) * (11.0 - difficulty) * jnp.exp(-w[9] * jnp.log(stability))
            * (jnp.exp((1.0 - recall) * w[10]) - 1.0) * hard_penalty * easy_bonus)
    return stability * (1.0 + gain)


def forget_stability(w: Array, difficulty: Array, stability: Array, recall: Array) -> Array:
    """Stability after a lapse (G = 1)."""
    long_term = (w[11] * jnp.exp(-w[12] * jnp.log(difficulty)) * (pow1p(stability, w[13]) - 1.0)
                 * jnp.exp((1.0 - recall) * w[14]))
    short_term = stability / jnp.exp(w[17] * w[18])
    return jnp.minimum(long_term, short_term)


def short_term_stability(w: Array, stability: Array, grade: Array) -> Array:
    """Stability after a review on the same day as the previous one."""
    increase = jnp.exp(w[17] * (grade - 3.0 + w[18])) * jnp.exp(-w[19] * jnp.log(stability))
    increase = jnp.where(grade >= 2, jnp.maximum(increase, 1.0), increase)
    return jnp.maximum(stability * increase, STABILITY_MIN)


def review(w: Array, stability: Array, difficulty: Array, elapsed_days: Array, grade: Array,
           first: Array, recall: Array | None = None, same_day: Array | None = None) -> tuple[Array, Array]:
    """(S, D) after one review, dispatching as py-fsrs does.

    ``first``: the item's first review (S and D are initialised). ``same_day``: the short-term
    update; by default ``elapsed_days < 1`` (py-fsrs's whole elapsed days). Callers that keep a
    calendar (the simulated learner, the FSRS scheduler) pass "same calendar day" instead, as Anki
    and fsrs-rs decide it. Otherwise the long-term update with ``recall`` (default: R(elapsed, S)).
    """
    grade = jnp.asarray(grade, jnp.float32)
    stability = jnp.maximum(stability, STABILITY_MIN)
    difficulty = jnp.clip(difficulty, DIFFICULTY_MIN, DIFFICULTY_MAX)
    if recall is None:
        recall = retrievability(w, elapsed_days, stability)
    long_term = jnp.where(
        grade == 1,
        forget_stability(w, difficulty, stability, recall),
        recall_stability(w, difficulty, stability, recall, grade),
    )
    if same_day is None:
        same_day = elapsed_days < 1.0
    short_term = short_term_stability(w, stability, grade)
    s_next = jnp.where(same_day, short_term, jnp.maximum(long_term, STABILITY_MIN))
    d_next = next_difficulty(w, difficulty, grade)
    s_next = jnp.where(first, initial_stability(w, grade), s_next)
    d_next = jnp.where(first, initial_difficulty(w, grade), d_next)
    return s_next, d_next


def next_interval(w: Array, stability: Array, desired_retention: Array,
                  maximum_interval: int = MAX_INTERVAL) -> Array:
    """Days until R falls to ``desired_retention``, rounded, clamped to [1, maximum_interval]."""
    raw = (stability / factor(w)) * (jnp.exp(jnp.log(desired_retention) / decay(w)) - 1.0)
    # py-fsrs uses Python's round (half to even); jnp.round does the same.
    return jnp.clip(jnp.round(raw), 1, maximum_interval)


# ----------------------------------------------------------------------------------------------
# The simulated learner
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class FSRSParams:
    """Traits of an FSRS-6 learner population."""

    w: Array  # (21,) FSRS-6 weights of the true memory
    success_grade_probs: Array  # (3,) P(Hard, Good, Easy | recalled)
    first_grade_probs: Array  # (4,) P(Again .. Easy) at an item's first exposure
    forget_sd: Array  # () SD of log forgetting-rate multiplier across learners (0 = identical)
    difficulty_sd: Array  # () SD of the per-item offset on initial difficulty (difficulty units)
    start_hour: Array  # () hour of day at the env's time 0 (0 <= h < 24)
    day_boundary_hour: Array  # () hour at which a new calendar day starts (Anki: 4 am)


def calendar_day(now: Array, params: FSRSParams) -> Array:
    """Calendar day (int32) of time ``now`` (days since the env's origin), days starting at
    ``day_boundary_hour``."""
    offset = (params.start_hour - params.day_boundary_hour) / 24.0
    return jnp.floor(now + offset).astype(jnp.int32)


@pytree_dataclass
class FSRSState:
    """Per-item memory of one learner (hidden from policies)."""

    stability: Array  # (N,) days; meaningless until seen
    difficulty: Array  # (N,) 1..10
    last_review: Array  # (N,) time of the last review, days
    seen: Array  # (N,) bool
    forget_mult: Array  # () this learner's forgetting-rate multiplier (time runs this much faster)
    item_offset: Array  # (N,) per-item offset added to the initial difficulty


def default_params(weights=FSRS6_DEFAULT_WEIGHTS, forget_sd: float = 0.0,
                   difficulty_sd: float = 0.0, start_hour: float = 8.0,
                   day_boundary_hour: float = 4.0) -> FSRSParams:
    return FSRSParams(
        w=jnp.asarray(weights, jnp.float32),
        success_grade_probs=jnp.asarray(SUCCESS_GRADE_PROBS, jnp.float32),
        first_grade_probs=jnp.asarray(FIRST_GRADE_PROBS, jnp.float32),
        forget_sd=jnp.asarray(forget_sd, jnp.float32),
        difficulty_sd=jnp.asarray(difficulty_sd, jnp.float32),
        start_hour=jnp.asarray(start_hour, jnp.float32),
        day_boundary_hour=jnp.asarray(day_boundary_hour, jnp.float32),
    )


def check_probs(name: str, probs) -> None:
    check_range(name, probs, 0.0, 1.0)
    if abs(float(np.sum(np.asarray(probs))) - 1.0) > 1e-4:
        raise ValueError(f"{name} must sum to 1, got {np.asarray(probs).tolist()}")


def check_weights(name: str, w, vector: bool = False) -> tuple[float, ...] | np.ndarray:
    """Raise ``ValueError`` naming ``name`` (and the weight, ``name[i]``) unless ``w`` holds 21 FSRS-6
    weights on its last axis, each finite and within py-fsrs's bounds (:data:`WEIGHT_LOWER`,
    :data:`WEIGHT_UPPER`). The one check for every FSRS-6 weight vector: the learners' ``w``,
    Deck-v0's ``scheduler_w``, the FSRS scheduler's ``weights``. Returns them as float64 (a tuple
    for one vector). ``vector``: exactly one vector of 21 (no batch axes)."""
    try:
        arr = np.asarray(w, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be 21 numbers (FSRS-6 weights), got {w!r}") from None
    if arr.shape[-1:] != (21,) or (vector and arr.ndim != 1):
        raise ValueError(f"{name} must have 21 FSRS-6 weights, got shape {arr.shape}")
    for i in range(21):
        check_range(f"{name}[{i}]", arr[..., i], WEIGHT_LOWER[i], WEIGHT_UPPER[i])
    return tuple(arr.tolist()) if arr.ndim == 1 else arr


def validate_params(p: FSRSParams, prefix: str = "learner") -> None:
    check_weights(f"{prefix}.w", p.w)
    check_probs(f"{prefix}.success_grade_probs", p.success_grade_probs)
    check_probs(f"{prefix}.first_grade_probs", p.first_grade_probs)
    check_range(f"{prefix}.forget_sd", p.forget_sd, 0.0, 3.0)
    check_range(f"{prefix}.difficulty_sd", p.difficulty_sd, 0.0, 9.0)
    check_range(f"{prefix}.start_hour", p.start_hour, 0.0, 24.0, high_open=True)
    check_range(f"{prefix}.day_boundary_hour", p.day_boundary_hour, 0.0, 24.0, high_open=True)


class FSRSLearner(WithoutSleep):
    """FSRS-6 learner: the learner protocol over :class:`FSRSState`."""

    name = "fsrs"
    Params = FSRSParams
    State = FSRSState

    def default_params(self) -> FSRSParams:
        return default_params(forget_sd=0.3, difficulty_sd=1.0)

    def validate_params(self, params: FSRSParams, prefix: str = "learner") -> None:
        validate_params(params, prefix)

    def init(self, key: Array, params: FSRSParams, n_items: int) -> FSRSState:
        key_learner, key_items = jax.random.split(key)
        forget_mult = jnp.exp(params.forget_sd * jax.random.normal(key_learner, ()))
        item_offset = params.difficulty_sd * jax.random.normal(key_items, (n_items,))
        return FSRSState(
            stability=jnp.ones(n_items, jnp.float32),
            difficulty=jnp.full(n_items, 5.0, jnp.float32),
            last_review=jnp.zeros(n_items, jnp.float32),
            seen=jnp.zeros(n_items, bool),
            forget_mult=forget_mult,
            item_offset=item_offset,
        )

    def recall_prob(self, state: FSRSState, now: Array, params: FSRSParams) -> Array:
        elapsed = (now - state.last_review) * state.forget_mult
        return jnp.where(state.seen, retrievability(params.w, elapsed, state.stability), 0.0)

    #: ``practice`` with an item index >= N reviews nothing and returns the state unchanged (its
    #: grade is then meaningless). Review-v0 rests this way instead of a select over the state.
    out_of_range_item_rests = True

    def practice(self, key: Array, state: FSRSState, item: Array, now: Array,
                 params: FSRSParams) -> tuple[Array, FSRSState]:
        w = params.w
        item = jnp.asarray(item, jnp.int32)
        # Gather the item's scalars (clamped), review them, scatter back (dropped if out of range):
        # the review touches one item, so nothing of size N is rewritten.
        def get(values):
            return values.at[item].get(mode="clip")

        def put(values, value):
            return values.at[item].set(value, mode="drop")

        seen = get(state.seen)
        stability, difficulty, last_review = get(state.stability), get(state.difficulty), get(state.last_review)
        offset = get(state.item_offset)
        elapsed = now - last_review
        recall = retrievability(w, elapsed * state.forget_mult, stability)
        # One uniform draw decides both the recall and the grade: given recall (u < R), u / R is
        # again uniform and picks Hard/Good/Easy by the inverse CDF; at first exposure u picks it.
        u = jax.random.uniform(key)
        recalled = u < recall
        success_grade = 2 + categorical_draw(u / jnp.maximum(recall, 1e-12), params.success_grade_probs)
        first_grade = 1 + categorical_draw(u, params.first_grade_probs)
        grade = jnp.where(seen, jnp.where(recalled, success_grade, 1), first_grade).astype(jnp.int32)
        same_day = calendar_day(now, params) == calendar_day(last_review, params)
        s_next, d_next = review(w, stability, difficulty, elapsed, grade, ~seen, recall, same_day)
        d_next = jnp.where(seen, d_next, jnp.clip(d_next + offset, 1.0, 10.0))
        # Every value scattered back is computed from the values gathered above (in_range makes
        # that explicit for time and the seen flag): XLA then orders the reads before the writes
        # and updates the arrays in place; a write independent of the reads costs a copy of the array.
        in_range = item < state.seen.shape[-1]
        state = state.replace(
            stability=put(state.stability, s_next),
            difficulty=put(state.difficulty, d_next),
            last_review=put(state.last_review, jnp.where(in_range, now, last_review)),
            seen=put(state.seen, seen | in_range),
        )
        return grade, state



FSRS = FSRSLearner()
