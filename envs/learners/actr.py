"""ACT-R declarative memory with spacing-dependent decay (Pavlik & Anderson, Cognitive Science 2005).

Every presentation ``k`` of an item leaves a trace that decays as a power of its age; the item's
activation sums them, and recall is a logistic function of activation:

- Activation ``m(t) = ln sum_k (h * age_k)^(-d_k)``, ``age_k = t - t_k`` in seconds; ``h`` scales
  real time to psychological time (Pavlik & Anderson scale only the time between sessions; here,
  as in ``reference/peers.md``, all elapsed time, so no session bookkeeping is needed).
- Decay of trace ``k``: ``d_k = c * e^(m(t_k)) + a``, where ``m(t_k)`` is the activation from the
  earlier presentations at the moment of presentation ``k`` (the first trace gets ``d = a``).
  High activation at study (massed practice) makes a fast-decaying trace: the spacing effect.
- Recall ``P = 1 / (1 + e^((tau - m) / s))``.

Parameters: the paper's ``a = 0.177``, ``c = 0.217``, ``s = 0.255``, ``tau = -0.704``,
``h = 0.025``. A population varies per learner and per item by offsets on the threshold ``tau``
(``learner_sd``, ``item_sd``; 0 reproduces the paper's single student), as the learner and item
"beta" terms of later ACT-R models (Pavlik, Presson & Koedinger 2007) do.

**Bounded history**: the state keeps the last ``history`` presentation times and decays per item
(a ring buffer; default 32); older traces are dropped. Their contribution is small by then (each
decays as a power of its age), but a policy that reviews one item more than ``history`` times
sees it forgotten slightly faster than the unbounded model would.

**Numerical floor**: psychological age ``h * age`` is floored at 1 (40 real seconds at the default
``h``), so a trace never contributes more than 1 and activation stays below ``ln(history)``;
without it a massed trace's large decay would overflow float32 at sub-second ages.

Grades: recall ~ Bernoulli(P); a recall is graded Hard/Good/Easy and a first exposure (a study
trial, not a test) as in FSRS's simulator; in ACT-R only the presentation counts, not the grade.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .base import WithoutSleep
from ..core import Array, categorical_draw, check_range, pytree_dataclass
from .fsrs import FIRST_GRADE_PROBS, SUCCESS_GRADE_PROBS, check_probs

SECONDS_PER_DAY = 86_400.0
#: Pavlik & Anderson (2005) parameters: (a, c, s, tau, h).
PAVLIK_ANDERSON_2005 = {"a": 0.177, "c": 0.217, "s": 0.255, "tau": -0.704, "h": 0.025}
#: Bounds on the parameters (for validation and for the fitter).
BOUNDS = {"a": (0.001, 2.0), "c": (0.0, 2.0), "s": (0.01, 5.0), "tau": (-10.0, 10.0), "h": (1e-5, 1.0)}
HISTORY = 32
#: Masked (empty) slots of the history get this log-term: exp of it is 0 in float32.
EMPTY_LOG_TERM = -1e4


# ----------------------------------------------------------------------------------------------
# The ACT-R maths (pure; times in days, the history on the last axis)
# ----------------------------------------------------------------------------------------------


def activation(times: Array, decays: Array, count: Array, now: Array, h: Array) -> Array:
    """m = ln sum_k (h * age_k)^(-d_k) over the stored traces (-1e4 when there is none).

    ``times``, ``decays``: (..., K) ring buffers; slots ``k < count`` hold traces.
    """
    age = jnp.maximum(h * (jnp.asarray(now)[..., None] - times) * SECONDS_PER_DAY, 1.0)
    log_terms = -decays * jnp.log(age)
    valid = jnp.arange(times.shape[-1]) < jnp.asarray(count)[..., None]
    return jax.nn.logsumexp(jnp.where(valid, log_terms, EMPTY_LOG_TERM), axis=-1)


def recall_from_activation(m: Array, s: Array, tau: Array) -> Array:
    """P = 1 / (1 + e^((tau - m) / s))."""
    return jax.nn.sigmoid((m - tau) / s)


def new_decay(m: Array, count: Array, a: Array, c: Array) -> Array:
    """d = c e^m + a for a presentation at activation m (a alone for the first)."""
    return jnp.where(count > 0, c * jnp.exp(jnp.minimum(m, 30.0)) + a, a)


def add_trace(times: Array, decays: Array, count: Array, now: Array, decay: Array):
    """Store a presentation at ``now`` with ``decay`` in the ring (overwriting the oldest when full)."""
    slot = count % times.shape[-1]
    return times.at[slot].set(now), decays.at[slot].set(decay), count + 1


# ----------------------------------------------------------------------------------------------
# The simulated learner
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class ACTRParams:
    """Traits of an ACT-R learner population (time in seconds inside the model)."""

    a: Array  # () base decay
    c: Array  # () decay scale: how much activation at study speeds the new trace's decay
    s: Array  # () recall noise (logistic scale)
    tau: Array  # () recall threshold (activation at P = 1/2)
    h: Array  # () psychological time per real second
    success_grade_probs: Array  # (3,) P(Hard, Good, Easy | recalled)
    first_grade_probs: Array  # (4,) P(Again .. Easy) at first exposure (no effect on memory)
    learner_sd: Array  # () SD of the per-learner offset on tau (activation units)
    item_sd: Array  # () SD of the per-item offset on tau


@pytree_dataclass
class ACTRState:
    """Per-item memory of one learner (hidden from policies)."""

    times: Array  # (N, K) presentation times, days (ring buffer)
    decays: Array  # (N, K) decay of each stored trace
    count: Array  # (N,) int32 presentations so far (slots k < min(count, K) hold traces)
    threshold_offset: Array  # (N,) learner + item offset added to tau


def default_params(learner_sd: float = 0.0, item_sd: float = 0.0, **values) -> ACTRParams:
    p = {**PAVLIK_ANDERSON_2005, **values}
    return ACTRParams(
        **{k: jnp.asarray(p[k], jnp.float32) for k in PAVLIK_ANDERSON_2005},
        success_grade_probs=jnp.asarray(SUCCESS_GRADE_PROBS, jnp.float32),
        first_grade_probs=jnp.asarray(FIRST_GRADE_PROBS, jnp.float32),
        learner_sd=jnp.asarray(learner_sd, jnp.float32),
        item_sd=jnp.asarray(item_sd, jnp.float32),
    )


def validate_params(p: ACTRParams, prefix: str = "learner") -> None:
    for name, (low, high) in BOUNDS.items():
        check_range(f"{prefix}.{name}", getattr(p, name), low, high)
    check_probs(f"{prefix}.success_grade_probs", p.success_grade_probs)
    check_probs(f"{prefix}.first_grade_probs", p.first_grade_probs)
    check_range(f"{prefix}.learner_sd", p.learner_sd, 0.0, 3.0)
    check_range(f"{prefix}.item_sd", p.item_sd, 0.0, 3.0)


class ACTRLearner(WithoutSleep):
    """ACT-R learner (Pavlik & Anderson 2005): the learner protocol over :class:`ACTRState`."""

    name = "actr"
    Params = ACTRParams
    State = ACTRState
    out_of_range_item_rests = True

    def __init__(self, history: int = HISTORY):
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise ValueError(f"history must be a positive integer, got {history!r}")
        self.history = history

    def default_params(self) -> ACTRParams:
        return default_params(learner_sd=0.1, item_sd=0.1)

    def validate_params(self, params: ACTRParams, prefix: str = "learner") -> None:
        validate_params(params, prefix)

    def init(self, key: Array, params: ACTRParams, n_items: int) -> ACTRState:
        key_learner, key_items = jax.random.split(key)
        offset = (params.learner_sd * jax.random.normal(key_learner, ())
                  + params.item_sd * jax.random.normal(key_items, (n_items,)))
        return ACTRState(
            times=jnp.zeros((n_items, self.history), jnp.float32),
            decays=jnp.zeros((n_items, self.history), jnp.float32),  # empty slots are masked
            count=jnp.zeros(n_items, jnp.int32),
            threshold_offset=offset.astype(jnp.float32),
        )

    def recall_prob(self, state: ACTRState, now: Array, params: ACTRParams) -> Array:
        m = activation(state.times, state.decays, state.count, jnp.broadcast_to(now, state.count.shape), params.h)
        p = recall_from_activation(m, params.s, params.tau + state.threshold_offset)
        return jnp.where(state.count > 0, p, 0.0)

    def practice(self, key: Array, state: ACTRState, item: Array, now: Array,
                 params: ACTRParams) -> tuple[Array, ACTRState]:
        item = jnp.asarray(item, jnp.int32)
        times = state.times.at[item].get(mode="clip")
        decays = state.decays.at[item].get(mode="clip")
        count = state.count.at[item].get(mode="clip")
        m = activation(times, decays, count, now, params.h)
        p = jnp.where(count > 0, recall_from_activation(m, params.s,
                                                        params.tau + state.threshold_offset.at[item].get(mode="clip")),
                      0.0)
        u = jax.random.uniform(key)
        recalled = u < p
        success_grade = 2 + categorical_draw(u / jnp.maximum(p, 1e-12), params.success_grade_probs)
        first_grade = 1 + categorical_draw(u, params.first_grade_probs)
        grade = jnp.where(count > 0, jnp.where(recalled, success_grade, 1), first_grade).astype(jnp.int32)
        times, decays, count = add_trace(times, decays, count, now, new_decay(m, count, params.a, params.c))
        state = state.replace(
            times=state.times.at[item].set(times, mode="drop"),
            decays=state.decays.at[item].set(decays, mode="drop"),
            count=state.count.at[item].set(count, mode="drop"),
        )
        return grade, state



ACTR = ACTRLearner()
