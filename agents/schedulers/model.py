"""Model-based schedulers: they predict each item's recall and review by the prediction.

- ``hlr``: half-life regression (Settles & Meeder, ACL 2016), due when predicted recall falls to a
  threshold.
- ``memorize``: MEMORIZE (Tabibian et al., PNAS 2019, "Enhancing human learning via spaced
  repetition optimization"), review times sampled from the optimal intensity
  ``q^(-1/2) (1 - m(t))`` of an exponential memory model.
- ``threshold``: the Threshold tutor of Reddy, Levine & Dragan (2017, "Accelerating Human Learning
  with Deep Reinforcement Learning"), review the item whose predicted recall (here the
  scheduler's own FSRS-6 estimate) is nearest a threshold.
- ``ebisu``: Ebisu's Bayesian recall model (Fasih, ``ebisu`` 2.x), the lowest predicted recall
  reviewed once it falls to a threshold.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from studygym.envs.core import Array, pytree_dataclass
from studygym.envs.learners import ebisu as ebisu_maths
from studygym.envs.learners import fsrs as fsrs_maths

from .base import ItemScheduler, ReviewEvent, argmax_where, check_kwarg, introduce_or_rest
from .interval import fsrs_calendar_review

MINUTES = 1.0 / 1440.0  # in days

# ----------------------------------------------------------------------------------------------
# Half-life regression
# ----------------------------------------------------------------------------------------------

#: HLR weights (right, wrong, bias) on the features (sqrt(1 + right), sqrt(1 + wrong), 1), half-life
#: in days. Untrained, set by hand: the half-life grows with each recall roughly as Leitner's
#: boxes do early on (1, 2.4, 4.6, 8, 13, 20 days after 0..5 recalls without a lapse; a first
#: study graded Hard or better counts as a recall, so it leaves 2.4 days); a lapse cuts it by
#: about 2^-0.8 (the first) to 2^-0.5 (the third).
HLR_DEFAULT_WEIGHTS = (3.0, -2.0, -1.0)
#: Settles & Meeder bound half-lives to [15 min, 9 months] (paper, appendix A.3); their code
#: (``experiment.py``, ``MIN_HALF_LIFE``, ``MAX_HALF_LIFE``) uses 15 minutes and 274 days.
HLR_MIN_HALF_LIFE = 15.0 * MINUTES
HLR_MAX_HALF_LIFE = 274.0


@pytree_dataclass
class HLREstimate:
    right: Array  # recalls (grade >= 2), the first study counted when not Again
    wrong: Array  # failures (grade 1)


def hlr_half_life(weights: Array, right: Array, wrong: Array) -> Array:
    """h = 2^(theta . x), x = (sqrt(1 + right), sqrt(1 + wrong), 1), clipped to [15 min, 274 days]."""
    exponent = weights[0] * jnp.sqrt(1.0 + right) + weights[1] * jnp.sqrt(1.0 + wrong) + weights[2]
    return jnp.clip(jnp.exp2(exponent), HLR_MIN_HALF_LIFE, HLR_MAX_HALF_LIFE)


def hlr_recall(elapsed_days: Array, half_life: Array) -> Array:
    """p = 2^(-elapsed / h)."""
    return jnp.exp2(-elapsed_days / half_life)


class HLRScheduler(ItemScheduler):
    """Half-life regression (Settles & Meeder, ACL 2016, "A Trainable Spaced Repetition Model for
    Language Learning"): ``p = 2^(-delta / h)``, ``h = 2^(theta . x)`` (their eqs. 1-2).

    Features as in the authors' code (duolingo/halflife-regression, ``experiment.py``,
    ``read_data``): ``sqrt(1 + right)``, ``sqrt(1 + wrong)`` and a bias (the paper's footnote 5:
    square roots of the counts worked better); lexeme features are not used (no item identity
    carries over). The scheduler counts each item's recalls and failures itself. An item is due
    once its predicted recall has fallen to ``threshold`` (default 0.5: review at the half-life,
    the reading under which Settles & Meeder, appendix A.2, fit Pimsleur's and Leitner's schedules
    as HLR half-lives: "students should practice when p = 0.5"); the due item with the lowest
    predicted recall goes first, else a new item is introduced, else it rests. ``weights`` =
    (theta_right, theta_wrong, theta_bias), default :data:`HLR_DEFAULT_WEIGHTS` (untrained, see
    there). On default Review-v0 (64 learners, seed 0) thresholds 0.5, 0.7, 0.9 give 157, 196,
    258 reviews and delayed retention 0.932, 0.947, 0.951.
    """

    name = "hlr"

    def __init__(self, env: Any, threshold: float = 0.5, weights: Any = HLR_DEFAULT_WEIGHTS):
        super().__init__(env)
        self.threshold = check_kwarg("threshold", threshold, 0.0, 1.0, low_open=True, high_open=True)
        weights = tuple(weights)
        if len(weights) != 3:
            raise ValueError(f"weights must be (theta_right, theta_wrong, theta_bias), got {weights!r}")
        self.weights = tuple(check_kwarg(f"weights[{i}]", w, -20.0, 20.0) for i, w in enumerate(weights))

    def settings(self) -> dict:
        return {"threshold": self.threshold, "weights": self.weights}

    def init_items(self, n_items: int) -> HLREstimate:
        return HLREstimate(right=jnp.zeros(n_items, jnp.float32), wrong=jnp.zeros(n_items, jnp.float32))

    def update_item(self, est: HLREstimate, event: ReviewEvent) -> HLREstimate:
        recalled = event.grade >= 2
        return HLREstimate(right=est.right + recalled, wrong=est.wrong + ~recalled)

    def predicted_recall(self, items: HLREstimate, days_since_review: Array) -> Array:
        half_life = hlr_half_life(jnp.asarray(self.weights, jnp.float32), items.right, items.wrong)
        return hlr_recall(days_since_review, half_life)

    def select(self, key: Array, items: HLREstimate, view, state) -> tuple[Array, Any]:
        recall = self.predicted_recall(items, view.days_since_review)
        due = view.seen & (recall <= self.threshold)
        action = jnp.where(due.any(), argmax_where(due, -recall), introduce_or_rest(view, self.n_items))
        return action.astype(jnp.int32), items


# ----------------------------------------------------------------------------------------------
# MEMORIZE
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class MemorizeEstimate:
    forgetting_rate: Array  # n: m(t) = exp(-n (t - t_last)), per day
    pending: Array  # bool: a review time has been sampled and the review not yet given
    days_before: Array  # days_since_review at the previous step (to integrate the intensity)


#: MEMORIZE's q in the authors' code: ``Q = 1.0  # parameter q defined in eq. 8 in the paper.``
#: at the top of ``memorize.py`` (github Networks-Learning/memorize), passed to
#: ``sampler(n_t, Q, T)`` in its ``__main__`` block (commit e8ea446, "Fixing default value of q";
#: the first version read ``q = 0.1`` there but already called ``sampler(n_t, 1.0, 10.0)``).
MEMORIZE_Q = 1.0


class MemorizeScheduler(ItemScheduler):
    """MEMORIZE (Tabibian, Upadhyay, De, Zarezade, Schoelkopf & Gomez-Rodriguez, "Enhancing human
    learning via spaced repetition optimization", PNAS 116(10):3988, 2019).

    Memory is exponential, ``m(t) = exp(-n (t - t_last))``; after a review the forgetting rate
    ``n`` becomes ``(1 - alpha) n`` on a recall and ``(1 + beta) n`` on a failure; a new item starts
    at ``n0`` after its first study. The review intensity is the paper's optimal
    ``u(t) = q^(-1/2) (1 - m(t))``, q weighting the cost of reviewing against forgetting (smaller
    q, more reviews). The parameterisation is the authors' code's: its ``intensity(t, n_t, q)`` is
    ``1.0/np.sqrt(q)*(1-np.exp(-n_t*t))``, time in days, the same expression as :meth:`intensity`,
    so a q here is a q there.

    Review times are sampled from that intensity as the paper does (a point process; the code's
    ``sampler`` thins a Poisson process of rate ``q^(-1/2)``), adapted to slots: between two slots
    the scheduler integrates each item's intensity exactly and marks the item *pending* with
    probability ``1 - exp(-integral)``; each slot it reviews the pending item of largest
    intensity, else introduces a new item, else rests.

    Defaults: ``q = 1.0`` (:data:`MEMORIZE_Q`, the authors' code; in the paper's Duolingo analysis
    q is fitted by maximum likelihood, ``spaced_rep_code.py``). ``n0``, ``alpha`` and ``beta`` are
    set by hand, not fitted: the authors fit them per lexeme to Duolingo with HLR
    (``hlr.duolingo.weights`` in their repository), which carries no item identity here.
    ``n0 = 0.1`` per day (recall ~0.9 a day after a first study, about what FSRS-6 predicts after a
    Good), ``alpha = 0.5`` (a recall halves the forgetting rate; FSRS-6 stability roughly triples
    per recall at R = 0.9), ``beta = 1.0`` (a failure doubles it). On default Review-v0 (64
    learners, seed 0) q = 1, 0.1, 0.01 give 145, 185, 221 reviews of 300 slots and delayed
    retention 0.924, 0.939, 0.945; on Review-v0 with 60 items (128 learners, seed 5) the episode
    return is 0.827 at q = 1 and 0.805 at q = 0.1.
    """

    name = "memorize"

    def __init__(self, env: Any, q: float = MEMORIZE_Q, n0: float = 0.1, alpha: float = 0.5, beta: float = 1.0):
        super().__init__(env)
        self.q = check_kwarg("q", q, 0.0, None, low_open=True)
        self.n0 = check_kwarg("n0", n0, 0.0, None, low_open=True)
        self.alpha = check_kwarg("alpha", alpha, 0.0, 1.0, high_open=True)
        self.beta = check_kwarg("beta", beta, 0.0, None)

    def settings(self) -> dict:
        return {"q": self.q, "n0": self.n0, "alpha": self.alpha, "beta": self.beta}

    def init_items(self, n_items: int) -> MemorizeEstimate:
        return MemorizeEstimate(forgetting_rate=jnp.full(n_items, self.n0, jnp.float32),
                                pending=jnp.zeros(n_items, bool), days_before=jnp.zeros(n_items, jnp.float32))

    def update_item(self, est: MemorizeEstimate, event: ReviewEvent) -> MemorizeEstimate:
        updated = jnp.where(event.grade >= 2, (1.0 - self.alpha) * est.forgetting_rate,
                            (1.0 + self.beta) * est.forgetting_rate)
        rate = jnp.where(event.first, self.n0, updated)
        # Reviewed at the previous step: its intensity restarts from zero elapsed time.
        return MemorizeEstimate(forgetting_rate=rate, pending=jnp.bool_(False), days_before=jnp.float32(0.0))

    def intensity(self, items: MemorizeEstimate, days_since_review: Array) -> Array:
        """u = q^(-1/2) (1 - exp(-n t))."""
        return -jnp.expm1(-items.forgetting_rate * days_since_review) / jnp.sqrt(self.q)

    def integrated_intensity(self, items: MemorizeEstimate, start: Array, end: Array) -> Array:
        """Integral of u over elapsed times [start, end]: ((end - start) - (e^-na - e^-nb) / n) / sqrt(q)."""
        n = items.forgetting_rate
        decayed = (jnp.exp(-n * start) - jnp.exp(-n * end)) / n
        return jnp.maximum((end - start) - decayed, 0.0) / jnp.sqrt(self.q)

    def select(self, key: Array, items: MemorizeEstimate, view, state) -> tuple[Array, Any]:
        start = jnp.minimum(items.days_before, view.days_since_review)
        hazard = self.integrated_intensity(items, start, view.days_since_review)
        fires = jax.random.uniform(key, hazard.shape) < -jnp.expm1(-hazard)
        pending = view.seen & (items.pending | fires)
        urgency = self.intensity(items, view.days_since_review)
        action = jnp.where(pending.any(), argmax_where(pending, urgency), introduce_or_rest(view, self.n_items))
        items = items.replace(pending=pending, days_before=view.days_since_review)
        return action.astype(jnp.int32), items


# ----------------------------------------------------------------------------------------------
# THRESHOLD (Reddy, Levine & Dragan 2017)
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class StabilityEstimate:
    stability: Array  # days, FSRS-6 with the scheduler's weights
    difficulty: Array


class ThresholdScheduler(ItemScheduler):
    """The Threshold tutor (Reddy, Levine & Dragan 2017, "Accelerating Human Learning with Deep
    Reinforcement Learning"; code rddy/deeptutor, ``ThresholdTutor``): "review item with recall
    likelihood closest to some threshold".

    Reddy et al.'s tutor reads the recall likelihoods of a copy of the simulated student model
    itself, and picks its threshold from 0, 0.01, ..., 0.99 by the reward on training episodes.
    Here predicted recall is the scheduler's own FSRS-6 estimate (default weights), updated from
    the grades it observes, as :class:`~.interval.FSRSScheduler` does. Reddy et al.'s simulated
    students start with a last-review time for every item (none is unseen); here items must be
    introduced, and an unseen item (predicted recall 0) would never be nearest a threshold above
    1/2, so: if some seen item's predicted recall has fallen to the threshold, review the one
    nearest it (the most recently crossed); else introduce the next unseen item; once all are
    introduced, review the seen item nearest the threshold (Reddy et al.'s rule as is; it never
    rests). Default threshold 0.7, the best of {0.5, 0.6, 0.7, 0.8, 0.9} on ``retention_delayed``
    on default Review-v0 over 64 learners (seed 0), by a hair (0.964-0.965): it reviews in every
    slot, so the threshold barely matters there.
    """

    name = "threshold"

    def __init__(self, env: Any, threshold: float = 0.7):
        super().__init__(env)
        self.threshold = check_kwarg("threshold", threshold, 0.0, 1.0, low_open=True, high_open=True)

    def settings(self) -> dict:
        return {"threshold": self.threshold}

    def init_items(self, n_items: int) -> StabilityEstimate:
        return StabilityEstimate(stability=jnp.ones(n_items, jnp.float32),
                                 difficulty=jnp.full(n_items, 5.0, jnp.float32))

    def update_item(self, est: StabilityEstimate, event: ReviewEvent) -> StabilityEstimate:
        w = jnp.asarray(fsrs_maths.FSRS6_DEFAULT_WEIGHTS, jnp.float32)
        stability, difficulty = fsrs_calendar_review(w, est.stability, est.difficulty, event)
        return StabilityEstimate(stability=stability, difficulty=difficulty)

    def predicted_recall(self, items: StabilityEstimate, view) -> Array:
        w = jnp.asarray(fsrs_maths.FSRS6_DEFAULT_WEIGHTS, jnp.float32)
        recall = fsrs_maths.retrievability(w, view.days_since_review, items.stability)
        return jnp.where(view.seen, recall, 0.0)

    def select(self, key: Array, items: StabilityEstimate, view, state) -> tuple[Array, Any]:
        recall = self.predicted_recall(items, view)
        distance = jnp.abs(recall - self.threshold)
        crossed = view.seen & (recall <= self.threshold)
        nearest_seen = argmax_where(view.seen, -distance)
        otherwise = jnp.where((~view.seen).any(), introduce_or_rest(view, self.n_items), nearest_seen)
        action = jnp.where(crossed.any(), argmax_where(crossed, -distance), otherwise)
        return action.astype(jnp.int32), items


# ----------------------------------------------------------------------------------------------
# Ebisu (Fasih)
# ----------------------------------------------------------------------------------------------


@pytree_dataclass
class EbisuEstimate:
    alpha: Array  # Beta(alpha, beta) on recall at time t after the last review
    beta: Array
    t: Array  # days


class EbisuScheduler(ItemScheduler):
    """Ebisu's scheduling rule (Fasih, ``ebisu`` 2.x README: "predictRecall ... to find the fact
    most in danger of being forgotten"): keep a Beta model of each item's recall
    (``studygym.envs.learners.ebisu``'s closed forms of ``ebisu.predictRecall``/``updateRecall``),
    starting at ``defaultModel(half_life, alpha)`` after the first study and updated after every
    review (recalled = grade > 1); review the item with the lowest predicted recall once it is at
    or below ``threshold``, else introduce the next new item, else rest. Ebisu itself has no
    threshold (its README: an app "can ensure that only the facts most in danger of being forgotten
    are reviewed" in the time it has); it is the knob an app tunes (``studygym.evaluation.tuning.TUNABLE``).

    Defaults, from the README's "Choice of initial model parameters" (fasiha/ebisu, Ebisu 2.x):
    "Set t equal to your best guess of the fact's half-life. In Memrise, the first quiz occurs four
    hours after first learning a fact; in Anki, it's a day after. To mimic these, set t to four hours
    or a day" (the author's own apps use a quarter-hour), so ``half_life`` is one day, as Anki;
    "a good default is α = β = 3", so ``alpha`` is 3 (also ``defaultModel``'s). ``threshold`` 0.5
    (review at the predicted half-life) is studygym's choice. Ebisu 2.x's half-life grows slowly
    with each recall at the half-life (``ebisu.updateRecall((3, 3, 1), 1, 1, 1.0)``, ebisu 2.2, gives a
    half-life of 1.27; the author acknowledges in fasiha/ebisu issue #43 that Ebisu assumes half-lives
    do not change after reviews), so when the study budget binds, reviews at 0.5
    crowd out new items and the tuned threshold is much lower (``results/tuning``)."""

    name = "ebisu"

    def __init__(self, env: Any, threshold: float = 0.5, half_life: float = 1.0, alpha: float = 3.0):
        super().__init__(env)
        self.threshold = check_kwarg("threshold", threshold, 0.0, 1.0, low_open=True, high_open=True)
        self.half_life = check_kwarg("half_life", half_life, 1e-4, 1e5)
        self.alpha = check_kwarg("alpha", alpha, 0.05, 1e3)

    def settings(self) -> dict:
        return {"threshold": self.threshold, "half_life": self.half_life, "alpha": self.alpha}

    def init_items(self, n_items: int) -> EbisuEstimate:
        return EbisuEstimate(alpha=jnp.full(n_items, self.alpha, jnp.float32),
                             beta=jnp.full(n_items, self.alpha, jnp.float32),
                             t=jnp.full(n_items, self.half_life, jnp.float32))

    def update_item(self, est: EbisuEstimate, event: ReviewEvent) -> EbisuEstimate:
        alpha, beta, t = ebisu_maths.update_recall(est.alpha, est.beta, est.t, event.grade >= 2, event.elapsed_days)
        prior = (jnp.float32(self.alpha), jnp.float32(self.alpha), jnp.float32(self.half_life))
        alpha, beta, t = (jnp.where(event.first, p, new) for p, new in zip(prior, (alpha, beta, t)))
        return EbisuEstimate(alpha=alpha, beta=beta, t=t)

    def predicted_recall(self, items: EbisuEstimate, days_since_review: Array) -> Array:
        return ebisu_maths.predict_recall(items.alpha, items.beta, items.t, days_since_review)

    def select(self, key: Array, items: EbisuEstimate, view, state) -> tuple[Array, Any]:
        recall = self.predicted_recall(items, view.days_since_review)
        due = view.seen & (recall <= self.threshold)
        action = jnp.where(due.any(), argmax_where(due, -recall), introduce_or_rest(view, self.n_items))
        return action.astype(jnp.int32), items
