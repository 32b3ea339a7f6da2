"""Fit memory models to real review logs, and score them on held-out reviews.

The pipeline, for a log from :mod:`studygym.fitting.data`:

1. :func:`review_histories` turns the log into padded per-card sequences (cards x max reviews):
   the rating of each review and the time since the card's previous review. Following py-fsrs's
   ``Scheduler`` exactly, FSRS sees *whole days* ``(t - t_prev).days`` (floored 24-hour periods);
   a review less than one whole day after the previous one is a *same-day* review and updates
   stability with FSRS's short-term formula. (Anki's own FSRS counts calendar days from a 4 am
   day start instead; py-fsrs, the reference implementation here, does not.)
2. :func:`time_split`: train on the first ``train_fraction`` of reviews by time, test on the rest
   (srs-benchmark's time-series split, one fold). The model replays each card's whole history, so
   a test review's prediction uses every earlier rating, but the parameters saw only training
   reviews.
3. :func:`fit`: gradient descent (optax's Adam, :func:`projected_adam_step`) on the log
   loss of predicting recall (rating > 1) at each review from the model's state before it, with
   the parameters projected back into the model's bounds after every step (py-fsrs's
   WEIGHT_LOWER/WEIGHT_UPPER for FSRS). The state computation is a ``lax.scan`` over a card's
   reviews, vmapped over cards; one jitted function computes the loss, its gradient and the Adam
   step, compiled once per model and (bucketed) data shape.
4. Metrics on the *predicted* reviews (a card's non-first reviews at least one whole day after the
   previous one, as py-fsrs's optimizer scores them; same-day reviews have R = 1 by construction):
   log loss, RMSE(bins) as srs-benchmark computes it (reviews grouped by interval, review number
   and lapse count; RMSE of mean predicted vs mean observed recall, weighted by bin size), AUC,
   and a calibration table (20 bins of predicted recall) for the calibration plot.

Models are generic: a :class:`FitModel` is a flat parameter vector with bounds, a per-card initial
state and a per-review ``step(params, state, review) -> (recall_prob, state)`` that predicts first
and then updates. FSRS-6 uses ``studygym.envs.learners.fsrs``'s maths; ``constant`` (one average
recall rate for every review) is a prediction baseline any model should beat. Adding a learner is
a :class:`~studygym.fitting.model.FitModel` in its family's module, registered in
:func:`studygym.catalog.register_builtins`.

Example::

    >>> import studygym
    >>> from studygym.fitting.data import builtin_log
    >>> from studygym.fitting.core import fit
    >>> result = fit(builtin_log(), "fsrs")                       # doctest: +SKIP
    >>> env, params = studygym.make("Review-v0", **result.overrides())   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from studygym.envs.learners import fsrs as fsrs_maths
from studygym.files import check_writable, write_json
from studygym.markdown import markdown_table
from studygym.fitting.fsrs import CONSTANT_MODEL, FSRS_MODEL, FSRS_PRIOR_SD  # noqa: F401  (importable here)
from studygym.fitting.model import FitModel
from studygym.registry import FIT_MODELS, get_fit_model, register_fit_model

NANOSECONDS_PER_DAY = 86_400 * 10**9
#: Predictions are clipped to [EPS, 1 - EPS] inside the log loss (a certain wrong answer would
#: otherwise cost infinity; py-fsrs's BCELoss clamps log at -100 for the same reason).
EPS = 1e-6
CALIBRATION_BINS = 20


# ----------------------------------------------------------------------------------------------
# Review histories
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewHistories:
    """A log as padded per-card sequences, shape ``(cards, max_reviews)``; padding has ``valid`` False."""

    card_ids: np.ndarray  # (C,) card ids in log order
    rating: np.ndarray  # (C, L) int32 1..4 (1 on padding)
    elapsed_days: np.ndarray  # (C, L) float32 whole days since the card's previous review (0 first)
    elapsed_real_days: np.ndarray  # (C, L) float32 exact days since the previous review (0 first)
    first: np.ndarray  # (C, L) bool the card's first review
    valid: np.ndarray  # (C, L) bool a real review (not padding)
    review_time_ns: np.ndarray  # (C, L) int64 review time, ns since 1970 UTC
    log_row: np.ndarray  # (C, L) int64 row of the review in the log (-1 on padding)
    review_number: np.ndarray  # (C, L) int32 fsrs-optimizer's ``i``: 1 + earlier first/long-term reviews
    lapses: np.ndarray  # (C, L) int32 earlier long-term reviews rated Again

    @property
    def predicted(self) -> np.ndarray:
        """(C, L) bool: the reviews a model is scored on (not first, >= 1 whole day after the last)."""
        return self.valid & ~self.first & (self.elapsed_days >= 1)

    @property
    def recalled(self) -> np.ndarray:
        return self.rating > 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.rating.shape

    def inputs(self) -> dict[str, jax.Array]:
        """The per-review inputs a model's ``step`` sees, as JAX arrays padded to bucketed shapes."""
        return {
            "rating": padded(self.rating, 1, jnp.int32),
            "elapsed_days": padded(self.elapsed_days, 0.0, jnp.float32),
            "elapsed_real_days": padded(self.elapsed_real_days, 0.0, jnp.float32),
            "first": padded(self.first, False, bool),
            "valid": padded(self.valid, False, bool),
        }


#: Arrays sent to JAX are padded up to multiples of these (cards, reviews), so that logs of similar
#: size share one compilation (compiling the fit's gradient takes seconds; padding costs little).
BUCKET = (128, 64)


def padded(array: np.ndarray, fill, dtype) -> jax.Array:
    """``array`` (cards, reviews) padded with ``fill`` up to the next multiple of :data:`BUCKET`."""
    rows, cols = array.shape
    pad = ((0, -rows % BUCKET[0]), (0, -cols % BUCKET[1]))
    return jnp.asarray(np.pad(np.asarray(array), pad, constant_values=fill), dtype)


def as_review_log(log: pd.DataFrame) -> pd.DataFrame:
    """Check a tidy log (see :mod:`studygym.fitting.data`) and return it with ``review_time`` in UTC
    (naive times are taken as UTC, as the CSV loader does)."""
    if not isinstance(log, pd.DataFrame):
        raise ValueError(f"log must be a pandas DataFrame from studygym.fitting.data.load_log, got {type(log).__name__}")
    missing = [c for c in ("card_id", "review_time", "rating") if c not in log.columns]
    if missing:
        raise ValueError(f"log is missing column(s) {', '.join(missing)}; load it with studygym.fitting.data.load_log")
    if log.empty:
        raise ValueError("log has no reviews")
    bad = ~log["rating"].isin([1, 2, 3, 4])
    if bad.any():
        raise ValueError(f"log.rating must be in 1..4, got {log.loc[bad, 'rating'].iloc[0]!r} "
                         f"at row {log.index[bad.to_numpy().argmax()]}")
    try:
        times = pd.to_datetime(log["review_time"], utc=True)
    except (ValueError, TypeError) as error:
        raise ValueError(f"log.review_time must hold datetimes: {error}") from None
    if times.isna().any():
        raise ValueError(f"log.review_time is missing at row {log.index[times.isna().to_numpy().argmax()]}")
    if times is log["review_time"] or times.equals(log["review_time"]):
        return log
    out = log.copy()
    out["review_time"] = times
    return out


def review_histories(log: pd.DataFrame) -> ReviewHistories:
    """Padded per-card review sequences from a tidy log (see :mod:`studygym.fitting.data`)."""
    log = as_review_log(log).reset_index(drop=True)
    all_ns = log["review_time"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
    order = np.lexsort((all_ns.astype(np.int64), pd.factorize(log["card_id"])[0]))  # stable: ties keep order
    log = log.iloc[order]
    time_ns = all_ns[order].astype(np.int64)
    codes, card_ids = pd.factorize(log["card_id"], sort=False)
    position = log.groupby(codes, sort=False).cumcount().to_numpy()
    n_cards, max_reviews = len(card_ids), int(position.max()) + 1

    first = position == 0
    previous_ns = np.where(first, time_ns, np.roll(time_ns, 1))
    delta_ns = time_ns - previous_ns
    elapsed_days = delta_ns // NANOSECONDS_PER_DAY  # timedelta.days, as py-fsrs
    rating = log["rating"].to_numpy().astype(np.int32)
    long_term = ~first & (elapsed_days >= 1)
    # fsrs-optimizer/srs-benchmark bin features: review number among first + long-term reviews,
    # and the number of earlier long-term lapses (both counted before the current review).
    counted = (first | long_term).astype(np.int32)
    lapse = (long_term & (rating == 1)).astype(np.int32)
    earlier_counted = pd.Series(counted).groupby(codes).cumsum().to_numpy() - counted
    earlier_lapses = pd.Series(lapse).groupby(codes).cumsum().to_numpy() - lapse

    def padded(values, fill, dtype):
        out = np.full((n_cards, max_reviews), fill, dtype=dtype)
        out[codes, position] = values
        return out

    return ReviewHistories(
        card_ids=np.asarray(card_ids),
        rating=padded(rating, 1, np.int32),
        elapsed_days=padded(elapsed_days, 0, np.float32),
        elapsed_real_days=padded(delta_ns / NANOSECONDS_PER_DAY, 0, np.float32),
        first=padded(first, False, bool),
        valid=padded(True, False, bool),
        review_time_ns=padded(time_ns, np.iinfo(np.int64).max, np.int64),
        log_row=padded(order, -1, np.int64),
        review_number=padded(earlier_counted + 1, 0, np.int32),
        lapses=padded(earlier_lapses, 0, np.int32),
    )


def time_split(log: pd.DataFrame, train_fraction: float = 0.8) -> pd.Timestamp:
    """The cutoff time: reviews strictly before it (the first ``train_fraction``) are for training."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    log = as_review_log(log)
    times = log["review_time"].sort_values(kind="stable").reset_index(drop=True)
    if len(times) < 2:
        raise ValueError("log needs at least 2 reviews to split into train and test")
    index = min(max(int(round(train_fraction * len(times))), 1), len(times) - 1)
    return times.iloc[index]


def train_mask(histories: ReviewHistories, cutoff: pd.Timestamp) -> np.ndarray:
    """(C, L) bool: valid reviews before ``cutoff``."""
    cutoff_ns = pd.Timestamp(cutoff).tz_convert("UTC").value
    return histories.valid & (histories.review_time_ns < cutoff_ns)


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------


#: name -> model: the table of :mod:`studygym.registry` (``FIT_MODELS``), in display order.
#: :func:`studygym.catalog.register_builtins` registers every model family that ships: FSRS-6 and the
#: baseline (studygym.fitting.fsrs), the Reddy et al. learners (studygym.fitting.reddy), ACT-R and DHP
#: (studygym.fitting.actr_dhp), Ebisu (studygym.fitting.ebisu).
MODELS: dict[str, FitModel] = FIT_MODELS
register_model = register_fit_model


def get_model(name: str | FitModel) -> FitModel:
    return name if isinstance(name, FitModel) else get_fit_model(name)


# ----------------------------------------------------------------------------------------------
# Prediction and fitting (JAX)
# ----------------------------------------------------------------------------------------------


def predict(model: FitModel | str, params, histories: ReviewHistories) -> np.ndarray:
    """(C, L) predicted recall before every review (meaningless at first reviews and padding)."""
    model = get_model(model)
    rows, cols = histories.shape
    return np.asarray(_predict_fn(model)(jnp.asarray(params, jnp.float32), histories.inputs()))[:rows, :cols]


def _card_predictions(model: FitModel, params, inputs):
    """Predicted recall at each of one card's reviews: a scan over its (padded) reviews."""

    def body(state, review):
        recall, updated = model.step(params, state, review)
        state = jax.tree.map(lambda new, old: jnp.where(review["valid"], new, old), updated, state)
        return state, recall

    _, recall = jax.lax.scan(body, model.init_state(params), inputs)
    return recall


def _predict_all(model: FitModel, params, inputs):
    return jax.vmap(lambda card: _card_predictions(model, params, card))(inputs)


@functools.lru_cache(maxsize=16)
def _predict_fn(model: FitModel):
    return jax.jit(lambda params, inputs: _predict_all(model, params, inputs))


def log_loss_of(recall, recalled, weight):
    recall = jnp.clip(recall, EPS, 1.0 - EPS)
    losses = -(recalled * jnp.log(recall) + (1.0 - recalled) * jnp.log1p(-recall))
    return jnp.sum(losses * weight) / jnp.maximum(jnp.sum(weight), 1.0)


#: Adam's moment decays and epsilon (Kingma & Ba 2015's defaults; py-fsrs's torch Adam uses the same).
ADAM = optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8)


def projected_adam_step(params, opt_state, grad, learning_rate, lower, upper):
    """One step of projected Adam (Kingma & Ba 2015, optax's ``scale_by_adam``): the Adam step, then a
    clip into [lower, upper] (how py-fsrs keeps FSRS weights in their bounds). Non-finite gradient
    entries are skipped."""
    grad = jnp.where(jnp.isfinite(grad), grad, 0.0)
    direction, opt_state = ADAM.update(grad, opt_state)
    return jnp.clip(params - learning_rate * direction, lower, upper), opt_state


def prior_penalty(model: FitModel, params, prior_scale):
    """``prior_scale * sum(((params - default) / prior_sd) ** 2)``; 0 for a model without a prior."""
    if model.prior_sd is None:
        return jnp.float32(0.0)
    centre = jnp.asarray(model.default_params, jnp.float32)
    return prior_scale * jnp.sum(((params - centre) / jnp.asarray(model.prior_sd, jnp.float32)) ** 2)


@functools.lru_cache(maxsize=16)
def _train_step_fn(model: FitModel):
    """(params, Adam state, learning rate, data) -> (next params, next state, loss before the step),
    jitted per model.

    One jitted step called in a Python loop, rather than the whole loop under one jit: compiling
    the gradient of the scan dominates a fit's time on CPU (5-10 s), and this way every fit of a
    model with the same (bucketed) data shape reuses one compilation, whatever its step count.
    """
    lower = jnp.asarray(model.lower, jnp.float32)
    upper = jnp.asarray(model.upper, jnp.float32)

    def loss_fn(params, inputs, recalled, weight, prior_scale):
        return (log_loss_of(_predict_all(model, params, inputs), recalled, weight)
                + prior_penalty(model, params, prior_scale))

    @jax.jit
    def train_step(params, opt_state, learning_rate, inputs, recalled, weight, prior_scale=0.0):
        loss, grad = jax.value_and_grad(loss_fn)(params, inputs, recalled, weight, prior_scale)
        return *projected_adam_step(params, opt_state, grad, learning_rate, lower, upper), loss

    return train_step


# ----------------------------------------------------------------------------------------------
# Metrics (NumPy: they run once per fit)
# ----------------------------------------------------------------------------------------------


def log_loss(recall: np.ndarray, recalled: np.ndarray) -> float:
    recall = np.clip(np.asarray(recall, np.float64), EPS, 1.0 - EPS)
    recalled = np.asarray(recalled, np.float64)
    return float(-np.mean(recalled * np.log(recall) + (1 - recalled) * np.log1p(-recall)))


def auc(recall: np.ndarray, recalled: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN with one class."""
    recalled = np.asarray(recalled, bool)
    n_pos, n_neg = int(recalled.sum()), int((~recalled).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(np.asarray(recall, np.float64)).rank(method="average").to_numpy()
    return float((ranks[recalled].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _log_bin(x: np.ndarray, scale: float, base: float, digits: int) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.round(scale * np.power(base, np.floor(np.log(x) / np.log(base))), digits)


def rmse_bins(recall, recalled, elapsed_days, review_number, lapses) -> float:
    """srs-benchmark's RMSE(bins): group reviews by (interval, review number, lapses) on log scales,
    then the RMSE between mean observed and mean predicted recall per group, weighted by group size.

    The bin edges are srs-benchmark's / fsrs-optimizer's ``rmse_matrix``.
    """
    frame = pd.DataFrame({
        "interval": _log_bin(np.asarray(elapsed_days, np.float64), 2.48, 3.62, 2),
        "number": _log_bin(np.asarray(review_number, np.float64), 1.99, 1.89, 0),
        "lapses": np.where(np.asarray(lapses) > 0,
                           _log_bin(np.maximum(np.asarray(lapses, np.float64), 1), 1.65, 1.73, 0), 0),
        "y": np.asarray(recalled, np.float64),
        "p": np.asarray(recall, np.float64),
    })
    groups = frame.groupby(["interval", "number", "lapses"]).agg(y=("y", "mean"), p=("p", "mean"),
                                                                 n=("y", "size"))
    return float(np.sqrt(np.average((groups["y"] - groups["p"]) ** 2, weights=groups["n"])))


def calibration_table(recall, recalled, n_bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Reviews in ``n_bins`` equal-width bins of predicted recall: mean predicted vs observed recall."""
    recall = np.asarray(recall, np.float64)
    bins = np.clip((recall * n_bins).astype(int), 0, n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "predicted": recall, "observed": np.asarray(recalled, np.float64)})
    table = frame.groupby("bin").agg(predicted=("predicted", "mean"), observed=("observed", "mean"),
                                     reviews=("observed", "size")).reset_index()
    table["bin_low"] = table["bin"] / n_bins
    return table[["bin_low", "predicted", "observed", "reviews"]]


def metrics(recall, recalled, elapsed_days, review_number, lapses) -> dict[str, float]:
    recall, recalled = np.asarray(recall), np.asarray(recalled)
    table = calibration_table(recall, recalled)
    return {
        "reviews": int(recall.size),
        "log_loss": log_loss(recall, recalled),
        "rmse_bins": rmse_bins(recall, recalled, elapsed_days, review_number, lapses),
        "auc": auc(recall, recalled),
        "rmse_calibration": float(np.sqrt(np.average((table["observed"] - table["predicted"]) ** 2,
                                                     weights=table["reviews"]))),
        "mean_predicted": float(recall.mean()),
        "mean_observed": float(recalled.mean()),
    }


# ----------------------------------------------------------------------------------------------
# Fit results
# ----------------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """A fitted model: its params, held-out metrics and the data it came from."""

    model: str
    params: dict[str, float]
    metrics: dict[str, dict[str, float]]  # "train" and "test" -> metric -> value
    split: dict[str, Any]  # train_fraction, cutoff, reviews per part, cards
    fitter: str
    source: str = ""
    grade_probs: dict[str, list[float]] = field(default_factory=dict)  # from the training reviews
    loss_history: list[float] = field(default_factory=list)
    predictions: pd.DataFrame | None = field(default=None, repr=False)  # held-out reviews, p and y
    #: Population spreads estimated from the log (``studygym.fitting.population.estimate_population``:
    #: ``forget_sd``, ``difficulty_sd`` and how); empty until estimated.
    population: dict[str, Any] = field(default_factory=dict)

    @property
    def weights(self) -> np.ndarray:
        """The fitted parameters in the model's ``param_names`` order, read by name (never by the
        key order of a params.json); a missing or unknown name is a ``ValueError``."""
        names = tuple(get_model(self.model).param_names)
        missing = [n for n in names if n not in self.params]
        unknown = [k for k in self.params if k not in names]
        if missing or unknown:
            raise ValueError(f"fit result params for model {self.model!r} must name {', '.join(names)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(map(str, unknown))}" if unknown else ""))
        values = np.asarray([self.params[n] for n in names], np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"fit result params for model {self.model!r} must be finite, got "
                             f"{[n for n, v in zip(names, values) if not np.isfinite(v)]} non-finite")
        return values.astype(np.float32)

    def learner_params(self, forget_sd: float | None = None, difficulty_sd: float | None = None):
        """FSRSParams around the fitted weights, for Review-v0: ``make("Review-v0", **result.overrides())``.

        The grade distributions come from the training reviews. ``forget_sd``/``difficulty_sd``
        (the population's spread) default to the ones estimated from the log
        (:attr:`population`, :mod:`studygym.fitting.population`: per-card difficulty spread, the fit's
        uncertainty, the spread between people where the log has several); a result without them
        (``fit()`` alone does not estimate them; ``studygym fit`` and
        ``studygym.fitting.population.with_population`` do) falls back to the learner's defaults.
        """
        if get_model(self.model).learner != "fsrs":
            raise ValueError(f"learner_params: model {self.model!r} drives no studygym learner (only 'fsrs' does)")
        defaults = fsrs_maths.FSRS.default_params()
        if forget_sd is None and "forget_sd" in self.population:
            forget_sd = float(self.population["forget_sd"])
        if difficulty_sd is None and "difficulty_sd" in self.population:
            difficulty_sd = float(self.population["difficulty_sd"])
        params = fsrs_maths.default_params(
            weights=self.weights,
            forget_sd=float(defaults.forget_sd) if forget_sd is None else forget_sd,
            difficulty_sd=float(defaults.difficulty_sd) if difficulty_sd is None else difficulty_sd,
        )
        if self.grade_probs:
            params = params.replace(
                first_grade_probs=jnp.asarray(self.grade_probs["first_grade_probs"], jnp.float32),
                success_grade_probs=jnp.asarray(self.grade_probs["success_grade_probs"], jnp.float32),
            )
        fsrs_maths.validate_params(params, "learner_params")
        return params

    def overrides(self, **population) -> dict[str, Any]:
        """Keyword overrides for ``studygym.make("Review-v0", **overrides)`` (learner, w, grade probs,
        and the population's spreads: :meth:`learner_params`)."""
        model = get_model(self.model)
        if model.learner_overrides is not None:
            return model.learner_overrides(self.params, self.grade_probs, **population)
        params = self.learner_params(**population)
        return {"learner": "fsrs", "w": np.asarray(params.w).tolist(),
                "first_grade_probs": np.asarray(params.first_grade_probs).tolist(),
                "success_grade_probs": np.asarray(params.success_grade_probs).tolist(),
                "forget_sd": float(params.forget_sd), "difficulty_sd": float(params.difficulty_sd)}

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("model", "params", "metrics", "split", "fitter", "source",
                                             "grade_probs", "loss_history", "population")}
        return json.loads(json.dumps(out, default=_json_default))

    def save_params(self, path: str | Path) -> None:
        write_json(path, self.to_dict(), indent=2)  # NaN/inf as null: strict JSON

    @classmethod
    def load(cls, path: str | Path) -> "FitResult":
        """Read a ``params.json`` written by :meth:`save_params` (or ``studygym fit``)."""
        path = Path(path)
        if path.is_dir():
            path = path / "params.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a readable fit result ({error})") from None
        missing = [k for k in ("model", "params", "metrics", "split", "fitter") if k not in data]
        if missing:
            raise ValueError(f"{path}: fit result lacks {', '.join(missing)}")
        known = {f.name for f in dataclasses.fields(cls)} - {"predictions"}
        return cls(**{k: v for k, v in data.items() if k in known})


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def grade_probs(log: pd.DataFrame) -> dict[str, list[float]]:
    """First-review and recalled-review grade frequencies (as py-fsrs's optimizer computes them)."""
    is_first = ~log.duplicated("card_id", keep="first")
    first_counts = np.bincount(log.loc[is_first, "rating"], minlength=5)[1:].astype(float)
    later = log.loc[~is_first, "rating"]
    success_counts = np.bincount(later[later > 1], minlength=5)[2:].astype(float)
    # Add-one smoothing keeps every grade possible in the simulator when the log lacks one.
    first_counts += 1.0
    success_counts += 1.0
    return {"first_grade_probs": (first_counts / first_counts.sum()).tolist(),
            "success_grade_probs": (success_counts / success_counts.sum()).tolist()}


def evaluate_params(model: FitModel | str, params, log: pd.DataFrame, train_fraction: float = 0.8,
                    fitter: str = "given", histories: ReviewHistories | None = None,
                    loss_history=None) -> FitResult:
    """Score given params on the train and held-out parts of ``log``."""
    model = get_model(model)
    params = np.asarray(params, np.float64)
    if params.shape != (model.n_params,):
        raise ValueError(f"params for {model.name!r} must have {model.n_params} values, got shape {params.shape}")
    log = as_review_log(log)
    histories = review_histories(log) if histories is None else histories
    cutoff = time_split(log, train_fraction)
    in_train = train_mask(histories, cutoff)
    recall = predict(model, params, histories)
    scored = histories.predicted
    parts = {"train": scored & in_train, "test": scored & ~in_train}
    results = {}
    for part, mask in parts.items():
        if not mask.any():
            raise ValueError(f"the {part} part has no predictable reviews (non-first, >= 1 day apart); "
                             f"use a longer log or another train_fraction")
        results[part] = metrics(recall[mask], histories.recalled[mask], histories.elapsed_days[mask],
                                histories.review_number[mask], histories.lapses[mask])
    test = parts["test"]
    predictions = pd.DataFrame({
        "card_id": histories.card_ids[np.nonzero(test)[0]],
        "review_time": pd.to_datetime(histories.review_time_ns[test], utc=True),
        "elapsed_days": histories.elapsed_days[test],
        "recall_prob": recall[test],
        "recalled": histories.recalled[test],
    })
    train_log = log[log["review_time"] < cutoff]
    split = {
        "train_fraction": train_fraction,
        "cutoff": pd.Timestamp(cutoff).isoformat(),
        "cards": int(histories.shape[0]),
        "train_reviews": int((histories.valid & in_train).sum()),
        "test_reviews": int((histories.valid & ~in_train).sum()),
        "train_predicted_reviews": int(parts["train"].sum()),
        "test_predicted_reviews": int(parts["test"].sum()),
    }
    return FitResult(
        model=model.name,
        params={name: float(value) for name, value in zip(model.param_names, params)},
        metrics=results,
        split=split,
        fitter=fitter,
        source=str(log.attrs.get("source", "")),
        grade_probs=grade_probs(train_log),
        loss_history=[float(x) for x in (loss_history if loss_history is not None else [])],
        predictions=predictions,
    )


def fit(log: pd.DataFrame, model: FitModel | str = "fsrs", train_fraction: float = 0.8,
        steps: int = 300, learning_rate: float = 0.04, init=None, prior_weight: float = 1.0) -> FitResult:
    """Fit ``model`` to the first ``train_fraction`` of ``log`` by projected Adam; score it on the rest.

    A model with a ``prior_sd`` (FSRS-6) is fitted MAP-style: the training loss adds
    ``prior_weight`` times its Gaussian prior penalty (see :class:`~studygym.fitting.model.FitModel`);
    ``prior_weight=0`` is the plain maximum-likelihood fit."""
    model = get_model(model)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not (isinstance(learning_rate, (int, float)) and 0.0 < learning_rate <= 10.0):
        raise ValueError(f"learning_rate must be in (0, 10], got {learning_rate!r}")
    log = as_review_log(log)
    histories = review_histories(log)
    cutoff = time_split(log, train_fraction)
    weight = padded(histories.predicted & train_mask(histories, cutoff), 0.0, jnp.float32)
    if float(weight.sum()) == 0:
        raise ValueError("no predictable training reviews (non-first, >= 1 day after the previous one)")
    if isinstance(prior_weight, bool) or not (isinstance(prior_weight, (int, float)) and 0.0 <= prior_weight < math.inf):
        raise ValueError(f"prior_weight must be a finite number >= 0, got {prior_weight!r}")
    prior_scale = jnp.float32(prior_weight / float(weight.sum()))
    inputs = histories.inputs()
    recalled = padded(histories.recalled, 0.0, jnp.float32)
    lower, upper = np.asarray(model.lower, np.float32), np.asarray(model.upper, np.float32)
    start = np.asarray(model.default_params if init is None else init, np.float32)
    if start.shape != (model.n_params,):
        raise ValueError(f"init for {model.name!r} must have {model.n_params} values, got shape {start.shape}")
    start = jnp.asarray(np.clip(start, lower, upper))
    train_step = _train_step_fn(model)
    params, opt_state = start, ADAM.init(start)
    losses, best_params, best_loss = [], start, np.inf
    for t in range(int(steps)):
        rate = learning_rate * 0.5 * (1.0 + math.cos(math.pi * t / steps))  # cosine decay, as py-fsrs
        before = params
        params, opt_state, loss = train_step(params, opt_state, jnp.float32(rate), inputs, recalled, weight,
                                             prior_scale)
        loss = float(loss)
        losses.append(loss)
        if loss < best_loss:  # the loss belongs to the params before this step
            best_loss, best_params = loss, before
    final_loss = float(log_loss_of(jnp.asarray(predict(model, params, histories)),
                                   jnp.asarray(histories.recalled, jnp.float32),
                                   jnp.asarray(histories.predicted & train_mask(histories, cutoff), jnp.float32))
                       + prior_penalty(model, params, prior_scale))
    params = params if final_loss < best_loss else best_params
    fitter = "studygym projected Adam (JAX)"
    if model.prior_sd is not None and prior_weight > 0:
        fitter += f", MAP (Gaussian prior x{prior_weight:g})"
    return evaluate_params(model, np.asarray(params), log, train_fraction, fitter=fitter,
                           histories=histories, loss_history=losses)


# ----------------------------------------------------------------------------------------------
# The reference: py-fsrs's own optimizer
# ----------------------------------------------------------------------------------------------


def fit_pyfsrs_optimizer(log: pd.DataFrame, train_fraction: float = 0.8) -> FitResult:
    """Fit FSRS-6 with py-fsrs's ``Optimizer`` (torch) on the same training reviews; score it as ours."""
    try:
        from fsrs import Optimizer, Rating, ReviewLog
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('py-fsrs\'s optimizer is needed: pip install "fsrs[optimizer]"') from error
    log = as_review_log(log)
    train = training_part(log, train_fraction)
    card_ids = pd.factorize(train["card_id"])[0]  # py-fsrs wants int ids
    review_logs = [
        ReviewLog(card_id=int(card), rating=Rating(int(rating)), review_datetime=stamp.to_pydatetime(),
                  review_duration=None)
        for card, rating, stamp in zip(card_ids, train["rating"], train["review_time"])
    ]
    weights = Optimizer(review_logs).compute_optimal_parameters()
    return evaluate_params("fsrs", [float(w) for w in weights], log, train_fraction,
                           fitter="py-fsrs Optimizer (torch)")


def training_part(log: pd.DataFrame, train_fraction: float = 0.8) -> pd.DataFrame:
    """The training reviews of the time split (before :func:`time_split`'s cutoff), the part every
    fitter sees; the peers below fit on exactly this and are scored by :func:`evaluate_params`."""
    log = as_review_log(log)
    return log[log["review_time"] < time_split(log, train_fraction)]


def fit_fsrs_rs(log: pd.DataFrame, train_fraction: float = 0.8, seed: int = 2023) -> FitResult:
    """Fit FSRS-6 with fsrs-rs (``fsrs-rs-python``, the Rust optimiser inside Anki) on the same
    training reviews; score it as ours.

    Each training item is a card's history up to a review at least one whole day after the
    previous one (the reviews studygym scores), as ``FSRSReview(rating, delta_t)`` with ``delta_t``
    the whole days since the card's previous review (0 for same-day reviews, which fsrs-rs's
    short-term model then sees, ``enable_short_term=True``), the layout Anki builds in
    ``rslib/src/scheduler/fsrs/params.rs``. Training is seeded (``TrainingConfig.seed``).
    """
    try:
        import fsrs_rs_python as fsrs_rs
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("fsrs-rs is needed: pip install fsrs-rs-python") from error
    log = as_review_log(log)
    histories = review_histories(training_part(log, train_fraction))
    items, card_index = [], []
    for card in range(histories.shape[0]):
        valid = histories.valid[card]
        reviews = [fsrs_rs.FSRSReview(int(r), int(d)) for r, d in
                   zip(histories.rating[card][valid], histories.elapsed_days[card][valid])]
        for end in np.nonzero(histories.predicted[card][valid])[0]:
            items.append(fsrs_rs.FSRSItem(reviews[: end + 1]))
            card_index.append(card)
    if not items:
        raise ValueError("no predictable training reviews (non-first, >= 1 whole day after the previous one)")
    config = fsrs_rs.TrainingConfig(seed=int(seed))
    weights = fsrs_rs.FSRS(fsrs_rs.DEFAULT_PARAMETERS).compute_parameters(
        items, card_ids=card_index, enable_short_term=True, training_config=config)
    return evaluate_params("fsrs", [float(w) for w in weights], log, train_fraction,
                           fitter="fsrs-rs compute_parameters (Rust, as in Anki)")


# ----------------------------------------------------------------------------------------------
# Reports
# ----------------------------------------------------------------------------------------------


def metrics_markdown(result: FitResult) -> str:
    rows = []
    for part in ("train", "test"):
        m = result.metrics[part]
        rows.append([part, m["reviews"], f"{m['log_loss']:.4f}", f"{m['rmse_bins']:.4f}", f"{m['auc']:.4f}",
                     f"{m['mean_predicted']:.3f}", f"{m['mean_observed']:.3f}"])
    s = result.split
    head = (f"# Fit of `{result.model}` to {result.source or 'a review log'}\n\n"
            f"Fitter: {result.fitter}. Time-series split at {s['cutoff']}: {s['train_reviews']} training "
            f"reviews, {s['test_reviews']} held-out reviews ({s['cards']} cards). Scored: non-first reviews "
            f">= 1 whole day after the card's previous review. RMSE(bins) as srs-benchmark.\n\n")
    table = markdown_table(["part", "reviews scored", "log loss", "RMSE(bins)", "AUC", "mean predicted",
                            "mean observed"], rows, right=[False] + [True] * 6)
    return head + table + "\n"


def plot_calibration(results: dict[str, FitResult] | FitResult, path: str | Path, title: str = "") -> None:
    """Predicted vs observed recall on held-out reviews (20 bins), with the review count per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(results, FitResult):
        results = {results.model: results}
    fig, (ax, ax_count) = plt.subplots(2, 1, figsize=(6, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for label, result in results.items():
        if result.predictions is None:
            continue
        table = calibration_table(result.predictions["recall_prob"], result.predictions["recalled"])
        test = result.metrics["test"]
        # Dots sized by reviews per bin: a bin of 3 reviews says little, so the line skips bins < 10.
        line, = ax.plot(*table.loc[table["reviews"] >= 10, ["predicted", "observed"]].to_numpy().T, lw=1.2,
                        label=f"{label} (log loss {test['log_loss']:.3f}, RMSE(bins) {test['rmse_bins']:.3f})")
        ax.scatter(table["predicted"], table["observed"], s=4 + 60 * table["reviews"] / table["reviews"].max(),
                   color=line.get_color(), alpha=0.7)
        ax_count.step(table["bin_low"] + 0.5 / CALIBRATION_BINS, table["reviews"], where="mid", lw=1,
                      color=line.get_color())
    ax.set_ylabel("observed recall (held-out reviews)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or "Calibration on held-out reviews")
    ax_count.set_xlabel("predicted recall")
    ax_count.set_ylabel("reviews")
    ax_count.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


FIT_FILES = ("params.json", "metrics.json", "metrics.md", "calibration.png")


def write_fit(result: FitResult, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write params.json, metrics.json, metrics.md and calibration.png into ``out_dir``."""
    out = Path(out_dir)
    check_writable(out, force, FIT_FILES)
    out.mkdir(parents=True, exist_ok=True)
    result.save_params(out / "params.json")

    metrics = json.loads(json.dumps({"model": result.model, "fitter": result.fitter, "split": result.split,
                                     **result.metrics}, default=_json_default))
    write_json(out / "metrics.json", metrics, indent=2)  # NaN/inf as null: strict JSON
    (out / "metrics.md").write_text(metrics_markdown(result))
    plot_calibration(result, out / "calibration.png", title=f"{result.model}: held-out calibration")
    return [out / name for name in FIT_FILES]


