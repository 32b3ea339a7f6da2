"""Populations from data: how much simulated learners and cards spread around a fit, from the log.

``studygym.make("Review-v0", learner=result)`` simulates FSRS-6 learners around a fit's weights.
The FSRS learner (:mod:`studygym.envs.learners.fsrs`) varies in two ways: each learner's
forgetting runs ``exp(forget_sd * z)`` times faster (``z ~ N(0, 1)``), and each card's initial
difficulty is shifted by ``difficulty_sd * z``. :func:`estimate_population` estimates both SDs from
the review log the fit came from, under exactly that model, instead of the learner's hand-set
defaults (0.3 and 1.0):

- **Per-card difficulty spread** (``difficulty_sd``): the maximum-likelihood SD of a random
  per-card offset on the initial difficulty. Every card's history is replayed with the fitted
  weights and each offset of a fine grid (-9 .. 9 difficulty units, step 0.125: difficulty lives in
  [1, 10]); a card's likelihood under SD ``s`` is its likelihood averaged over the grid with
  normal weights of SD ``s``, and ``s`` maximises the product over cards (marginal likelihood,
  searched on a grid of step 0.01), with its 95% likelihood interval. All of the log's scored reviews count (non-first, at least one
  whole day after the previous review, as the fit scores them).
- **Per-learner spread between people** (``forget_sd_between``), only where the log allows: a log
  with a ``user_id`` column holding at least two users. The same marginal likelihood over a
  per-user log forgetting multiplier (grid -2.5 .. 2.5, step 0.05). A one-person log (every
  Anki export, the shipped log) has no between-person spread to estimate: it is reported as
  ``None`` and counts as 0.
- **The fit's uncertainty** (``forget_sd_fit``): a Laplace approximation to the posterior of the
  fitted weights, with the Fisher information of the training reviews (the reviews the fit saw;
  Gauss-Newton: ``sum dp dp^T / (p (1 - p))``, always positive semi-definite, unlike the raw Hessian
  at weights clipped to their bounds) plus the precision of the fit's Gaussian prior on the
  FSRS-6 weights (fsrs-rs's per-weight SDs, :data:`studygym.fitting.core.FSRS_PRIOR_SD`, at the fit's
  default ``prior_weight`` 1). The simulator keeps one weight vector for everybody, so the
  posterior is carried by the forgetting multiplier: a weight perturbation ``dw`` is mapped to the
  log multiplier that changes the predictions most like it (weighted least squares,
  ``F_mw dw / F_mm``), and ``forget_sd_fit`` is the posterior SD of that projection.

``forget_sd = sqrt(forget_sd_between**2 + forget_sd_fit**2)``: for a one-person log, the population
is "this person, as uncertain as the log leaves them". Both SDs are stored in the fit result
(``FitResult.population``), saved in params.json, and used by ``FitResult.overrides`` (hence
``make(..., learner=result)``). ``studygym fit`` and ``studygym evaluate --learner-from LOG`` add
them; a fit result without them falls back to the learner's defaults.

:func:`simulate_log` generates a log from a known population (used to check that the spreads are
recovered).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from studygym.envs.learners import fsrs as fsrs_maths
from studygym.fitting.core import (FitResult, as_review_log, get_model, padded, review_histories, time_split,
                          train_mask)
from studygym.fitting.fsrs import FSRS_PRIOR_SD

#: Offsets on the initial difficulty at which every card is replayed (difficulty units).
DIFFICULTY_GRID = np.linspace(-9.0, 9.0, 145)
#: Log forgetting multipliers at which every user is replayed (multi-user logs only).
LOG_FORGET_GRID = np.linspace(-2.5, 2.5, 101)
#: Candidate SDs searched for the marginal-likelihood maximum.
SD_GRID = np.round(np.arange(0.0, 6.0001, 0.01), 2)
#: The fit's prior weight assumed for the Laplace approximation (``studygym.fitting.core.fit``'s default;
#: fsrs-rs's ``gamma`` 1).
PRIOR_WEIGHT = 1.0
#: Column of a multi-user log naming the person.
USER_COLUMN = "user_id"


def _replay(w, inputs, offset, log_mult):
    """(C, L) predicted recall of every review of every card, each card replayed with the FSRS-6
    weights ``w``, its initial-difficulty ``offset`` (C,) and log forgetting multiplier
    ``log_mult`` (C,), as the simulated learner applies them."""

    def card(inp, off, lm):
        mult = jnp.exp(lm)

        def body(state, review):
            stability, difficulty = state
            recall = fsrs_maths.retrievability(w, review["elapsed_days"] * mult, stability)
            s_next, d_next = fsrs_maths.review(w, stability, difficulty, review["elapsed_days"], review["rating"],
                                               review["first"], recall)
            d_next = jnp.where(review["first"], jnp.clip(d_next + off, fsrs_maths.DIFFICULTY_MIN,
                                                         fsrs_maths.DIFFICULTY_MAX), d_next)
            keep = review["valid"]
            return (jnp.where(keep, s_next, stability), jnp.where(keep, d_next, difficulty)), recall

        _, recall = jax.lax.scan(body, (jnp.float32(1.0), jnp.float32(5.0)), inp)
        return recall

    return jax.vmap(card)(inputs, offset, log_mult)


def _log_likelihood(recall, recalled, weight):
    recall = jnp.clip(recall, 1e-6, 1.0 - 1e-6)
    return jnp.sum(weight * (recalled * jnp.log(recall) + (1.0 - recalled) * jnp.log1p(-recall)), axis=-1)


@jax.jit
def _card_log_likelihood_on_grid(w, inputs, recalled, weight, offsets, log_mults):
    """(G, C): each card's log-likelihood with offset ``offsets[g]`` and multiplier ``log_mults[g]``."""
    n_cards = recalled.shape[0]

    def one(values):
        offset, log_mult = values
        recall = _replay(w, inputs, jnp.full(n_cards, offset), jnp.full(n_cards, log_mult))
        return _log_likelihood(recall, recalled, weight)

    return jax.lax.map(one, (offsets, log_mults))


@jax.jit
def _fisher(w, inputs, weight):
    """Fisher information of the scored reviews in ``weight`` about (w0..w20, log multiplier)."""
    n_cards = weight.shape[0]

    def predictions(theta):
        return _replay(theta[:21], inputs, jnp.zeros(n_cards), jnp.full(n_cards, theta[21]))

    theta = jnp.concatenate([w, jnp.zeros(1)])
    recall = jnp.clip(predictions(theta), 1e-6, 1.0 - 1e-6)
    jacobian = jax.jacfwd(predictions)(theta)  # (C, L, 22)
    scale = weight / (recall * (1.0 - recall))
    return jnp.einsum("clp,cl,clq->pq", jacobian, scale, jacobian)


def logsumexp(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``log(sum(exp(values)))`` along ``axis`` (all entries for None), without overflow."""
    values = np.asarray(values, np.float64)
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True)) + top
    return out.reshape(()) if axis is None else np.squeeze(out, axis=axis)


def random_effect_sd(log_likelihood: np.ndarray, grid: np.ndarray, sds: np.ndarray = SD_GRID) -> tuple[float, list[float]]:
    """Maximum-marginal-likelihood SD of a zero-mean normal random effect, and its 95% likelihood
    interval.

    ``log_likelihood`` (groups, G): each group's log-likelihood with the effect at ``grid[g]``. A
    group's likelihood under SD ``s`` is the average over the grid with normal weights of SD ``s``
    (all weight at the grid point nearest 0 for ``s`` = 0); the SD maximising the product over
    groups is returned (searched over ``sds``), with the range of SDs whose log marginal likelihood
    is within 1.92 (chi-square(1) 95% / 2) of the maximum: how well the log pins the spread down."""
    log_likelihood = np.asarray(log_likelihood, np.float64)
    grid = np.asarray(grid, np.float64)
    values = []
    for sd in sds:
        if sd == 0:
            log_w = np.where(np.arange(len(grid)) == np.argmin(np.abs(grid)), 0.0, -np.inf)
        else:
            log_w = -0.5 * (grid / sd) ** 2
            log_w -= logsumexp(log_w)
        values.append(float(np.sum(logsumexp(log_likelihood + log_w, axis=1))))
    values = np.asarray(values)
    inside = np.asarray(sds)[values >= values.max() - 1.92]
    return float(np.asarray(sds)[int(np.argmax(values))]), [float(inside.min()), float(inside.max())]


def _histories_and_users(log: pd.DataFrame):
    """Histories of a log, cards keyed by (user, card) when it has a ``user_id`` column, and each
    card's user code (None for a one-person log)."""
    if USER_COLUMN not in log.columns:
        return review_histories(log), None
    if log[USER_COLUMN].isna().any():
        raise ValueError(f"log.{USER_COLUMN} is missing at row {log.index[log[USER_COLUMN].isna().to_numpy().argmax()]}")
    keyed = log.assign(card_id=log[USER_COLUMN].astype(str) + "\x1f" + log["card_id"].astype(str))
    histories = review_histories(keyed)
    users = pd.Series(histories.card_ids).str.split("\x1f").str[0].to_numpy()
    return histories, users


def estimate_population(result: FitResult, log: pd.DataFrame) -> dict[str, Any]:
    """The population spreads of an FSRS-6 fit, estimated from the log it was fitted to (see the
    module docstring): ``difficulty_sd``, ``forget_sd`` and their parts ``forget_sd_fit`` and
    ``forget_sd_between`` (None for a one-person log), the 95% likelihood intervals of the two
    marginal-likelihood SDs (``difficulty_sd_interval``, ``forget_sd_between_interval``), with ``users``, ``cards``, ``reviews``
    (scored) and ``method``. Store it with :func:`with_population`."""
    if get_model(result.model).learner != "fsrs":
        raise ValueError(f"estimate_population: model {result.model!r} drives no FSRS learner (only 'fsrs' does)")
    log = as_review_log(log)
    histories, users = _histories_and_users(log)
    w = jnp.asarray(result.weights, jnp.float32)
    inputs = histories.inputs()
    recalled = padded(histories.recalled, 0.0, jnp.float32)
    scored = padded(histories.predicted, 0.0, jnp.float32)
    n_scored = int(histories.predicted.sum())
    if n_scored == 0:
        raise ValueError("log has no scored reviews (non-first, >= 1 whole day after the previous one): "
                         "no spread can be estimated")
    n_cards = histories.shape[0]

    grid = jnp.asarray(DIFFICULTY_GRID, jnp.float32)
    per_card = np.asarray(_card_log_likelihood_on_grid(w, inputs, recalled, scored, grid, jnp.zeros_like(grid)))
    difficulty_sd, difficulty_interval = random_effect_sd(per_card[:, :n_cards].T, DIFFICULTY_GRID)

    between, between_interval = None, None
    n_users = 1 if users is None else len(np.unique(users))
    if users is not None and n_users >= 2:
        grid = jnp.asarray(LOG_FORGET_GRID, jnp.float32)
        per_card = np.asarray(_card_log_likelihood_on_grid(w, inputs, recalled, scored, jnp.zeros_like(grid), grid))
        codes = pd.factorize(users)[0]
        per_user = np.stack([np.bincount(codes, weights=row, minlength=n_users) for row in per_card[:, :n_cards]],
                            axis=1)
        between, between_interval = random_effect_sd(per_user, LOG_FORGET_GRID)

    cutoff = pd.Timestamp(result.split["cutoff"]) if result.split.get("cutoff") else time_split(log)
    in_train = padded(histories.predicted & train_mask(histories, cutoff), 0.0, jnp.float32)
    fisher = np.asarray(_fisher(w, inputs, in_train), np.float64)
    precision = fisher[:21, :21] + np.diag(2.0 * PRIOR_WEIGHT / np.asarray(FSRS_PRIOR_SD, np.float64) ** 2)
    projection = fisher[21, :21] / fisher[21, 21]
    fit_var = float(projection @ np.linalg.solve(precision, projection))
    forget_fit = math.sqrt(max(fit_var, 0.0))
    forget_sd = math.sqrt(forget_fit ** 2 + (between or 0.0) ** 2)
    return {
        "difficulty_sd": round(difficulty_sd, 2),
        "difficulty_sd_interval": difficulty_interval,
        "forget_sd": round(forget_sd, 4),
        "forget_sd_fit": round(forget_fit, 4),
        "forget_sd_between": between,
        "forget_sd_between_interval": between_interval,
        "users": n_users,
        "cards": int(n_cards),
        "reviews": n_scored,
        "method": "studygym.fitting.population.estimate_population: difficulty_sd = marginal-likelihood SD of a per-card "
                  "initial-difficulty offset; forget_sd_fit = Laplace (Fisher + prior) posterior SD of the weights "
                  "projected on the log forgetting multiplier; forget_sd_between = marginal-likelihood SD of a "
                  "per-user log forgetting multiplier (user_id logs only)",
    }


def with_population(result: FitResult, log: pd.DataFrame) -> FitResult:
    """``result`` with ``population`` estimated from ``log`` (:func:`estimate_population`)."""
    return dataclasses.replace(result, population=estimate_population(result, log))


@functools.lru_cache(maxsize=8)
def _simulator(n_cards: int, n_reviews: int):
    learner = fsrs_maths.FSRS

    def one_learner(key, params):
        key_init, key_run = jax.random.split(key)
        state = learner.init(key_init, params, n_cards)
        keys = jax.random.split(key_run, n_reviews * n_cards).reshape(n_reviews, n_cards)
        start = jax.random.randint(jax.random.fold_in(key_init, 1), (n_cards,), 0, 30).astype(jnp.float32)

        def one_review(carry, x):
            state, due, app_s, app_d = carry
            k, item = x
            k_grade, k_gap = jax.random.split(k)
            now = due[item]
            seen, last = state.seen[item], state.last_review[item]
            grade, state = learner.practice(k_grade, state, item, now, params)
            # The app's own FSRS estimate (the population's weights, from the grades alone): the next
            # review comes after 0.3x to 4x its stability (whole days >= 1), as a scheduler with noisy
            # intervals would give, so recall rates vary. Scheduling from what was observed only (never
            # the hidden traits) keeps the design ignorable, as a real app's.
            s_next, d_next = fsrs_maths.review(params.w, app_s[item], app_d[item], now - last, grade, ~seen)
            factor = jnp.exp(jax.random.uniform(k_gap, minval=math.log(0.3), maxval=math.log(4.0)))
            gap = jnp.clip(jnp.round(s_next * factor), 1.0, 3650.0)
            carry = (state, due.at[item].add(gap), app_s.at[item].set(s_next), app_d.at[item].set(d_next))
            return carry, (grade, now)

        items = jnp.tile(jnp.arange(n_cards), n_reviews)
        ones = jnp.ones(n_cards, jnp.float32)
        _, (grades, times) = jax.lax.scan(one_review, (state, start, ones, 5.0 * ones), (keys.reshape(-1), items))
        return grades, times, items, state.item_offset, state.forget_mult

    return jax.jit(jax.vmap(one_learner, in_axes=(0, None)))


def simulate_log(params: fsrs_maths.FSRSParams, n_learners: int = 1, n_cards: int = 200, n_reviews: int = 8,
                 seed: int = 0) -> pd.DataFrame:
    """A review log of ``n_learners`` simulated FSRS-6 learners drawn from ``params`` (their
    ``forget_sd`` and ``difficulty_sd`` included), ``n_cards`` cards each reviewed ``n_reviews``
    times at whole-day gaps of 0.3x to 4x the stability an app estimates from the grades (FSRS-6 with
    the population's weights). Columns: ``user_id``
    (``"u0"``, ...), ``card_id``, ``review_time``, ``rating``, ``duration_ms`` (unknown)."""
    fsrs_maths.validate_params(params, "params")
    keys = jax.vmap(lambda j: jax.random.fold_in(jax.random.key(seed), j))(jnp.arange(n_learners))
    grades, times, items, offsets, mults = jax.device_get(_simulator(int(n_cards), int(n_reviews))(keys, params))
    origin = pd.Timestamp("2024-01-01", tz="UTC")
    frames = []
    for j in range(n_learners):
        frames.append(pd.DataFrame({
            USER_COLUMN: f"u{j}",
            "card_id": items[j].astype(np.int64),
            "review_time": origin + pd.to_timedelta(np.asarray(times[j], np.float64), unit="D"),
            "rating": np.asarray(grades[j], np.int64),
        }))
    log = pd.concat(frames, ignore_index=True)
    log["duration_ms"] = pd.array([pd.NA] * len(log), dtype="Int64")
    return log.sort_values([USER_COLUMN, "card_id", "review_time"], kind="stable").reset_index(drop=True)


__all__ = ["estimate_population", "with_population", "simulate_log", "random_effect_sd", "DIFFICULTY_GRID",
           "LOG_FORGET_GRID", "SD_GRID"]
