"""FSRS-6 maths agree with py-fsrs, the reference implementation, on arbitrary review histories.

Hypothesis generates histories of (gap, grade) pairs, same-day reviews included; py-fsrs replays them
with its Scheduler and studygym replays them with `studygym.envs.learners.fsrs.review` (float32,
jitted). Stability, difficulty, retrievability at each review and the next interval at a desired
retention must agree to 1e-4 relative.
"""

from datetime import datetime, timedelta, timezone

import fsrs as pyfsrs
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studygym.envs.learners import fsrs

MAX_LEN = 16
REL = 1e-4

history = st.lists(
    st.tuples(
        # gap since the previous review in minutes: same-day (< 1 day) and long gaps alike
        st.one_of(st.integers(1, 60 * 23), st.integers(60 * 24, 60 * 24 * 400)),
        st.integers(1, 4),
    ),
    min_size=1,
    max_size=MAX_LEN,
)
weights = st.one_of(
    st.just(fsrs.FSRS6_DEFAULT_WEIGHTS),
    st.lists(st.floats(0.0, 1.0), min_size=21, max_size=21).map(
        lambda u: tuple(lo + x * (hi - lo) for x, lo, hi in zip(u, fsrs.WEIGHT_LOWER, fsrs.WEIGHT_UPPER))
    ),
)


@jax.jit
def replay(w, elapsed_days, grades, mask, desired_retention):
    """studygym's replay of one padded history: (S, D, R-at-review, next interval) per review."""

    def body(carry, x):
        stability, difficulty, first = carry
        elapsed, grade, valid = x
        recall = fsrs.retrievability(w, elapsed, stability)
        s_next, d_next = fsrs.review(w, stability, difficulty, elapsed, grade, first)
        s_next = jnp.where(valid, s_next, stability)
        d_next = jnp.where(valid, d_next, difficulty)
        interval = fsrs.next_interval(w, s_next, desired_retention)
        raw = (s_next / fsrs.factor(w)) * (desired_retention ** (1.0 / fsrs.decay(w)) - 1.0)
        return (s_next, d_next, first & ~valid), (s_next, d_next, recall, interval, raw)

    init = (jnp.float32(1.0), jnp.float32(5.0), jnp.bool_(True))
    _, out = jax.lax.scan(body, init, (elapsed_days, grades, mask))
    return out


def reference(w, hist, desired_retention):
    scheduler = pyfsrs.Scheduler(parameters=w, desired_retention=desired_retention, learning_steps=(),
                                 relearning_steps=(), enable_fuzzing=False)
    card = pyfsrs.Card(card_id=1)
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = []
    for gap_minutes, grade in hist:
        now = now + timedelta(minutes=gap_minutes)
        recall = scheduler.get_card_retrievability(card, now) if card.last_review else None
        elapsed = (now - card.last_review).days if card.last_review else 0
        card, _ = scheduler.review_card(card, pyfsrs.Rating(grade), now)
        interval = (card.due - now).days
        rows.append((card.stability, card.difficulty, recall, interval, elapsed))
    return rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hist=history, w=weights, desired_retention=st.floats(0.7, 0.97))
def test_fsrs_matches_py_fsrs(hist, w, desired_retention):
    ref = reference(w, hist, desired_retention)
    n = len(hist)
    pad = MAX_LEN - n
    elapsed = np.array([r[4] for r in ref] + [0] * pad, np.float32)  # py-fsrs counts whole days
    grades = np.array([g for _, g in hist] + [3] * pad, np.int32)
    mask = np.array([True] * n + [False] * pad)
    s, d, r, interval, raw = (np.asarray(x) for x in replay(jnp.asarray(w, jnp.float32), elapsed, grades, mask,
                                                            jnp.float32(desired_retention)))
    for i, (s_ref, d_ref, r_ref, ivl_ref, _) in enumerate(ref):
        np.testing.assert_allclose(s[i], s_ref, rtol=REL, err_msg=f"stability after review {i}")
        np.testing.assert_allclose(d[i], d_ref, rtol=REL, err_msg=f"difficulty after review {i}")
        if r_ref is not None:
            np.testing.assert_allclose(r[i], r_ref, rtol=REL, err_msg=f"retrievability at review {i}")
        # intervals are rounded days: equal unless the raw interval sits on a rounding edge
        if abs(raw[i] - np.floor(raw[i]) - 0.5) > 1e-3 * max(1.0, raw[i]):
            assert interval[i] == ivl_ref, f"interval after review {i}: {interval[i]} vs {ivl_ref}"


def test_default_curve_anchor_points():
    """R(S, S) = 0.9 by construction, and the documented anchor S=2.3 d -> R = 0.95/0.81/0.67 at 1/7/30 d."""
    w = jnp.asarray(fsrs.FSRS6_DEFAULT_WEIGHTS)
    assert abs(float(fsrs.retrievability(w, 5.0, 5.0)) - 0.9) < 1e-6
    r = np.asarray(fsrs.retrievability(w, jnp.array([1.0, 7.0, 30.0]), 2.3))
    np.testing.assert_allclose(r, [0.95, 0.81, 0.67], atol=0.01)
