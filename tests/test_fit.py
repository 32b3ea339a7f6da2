"""Fitting memory models to review logs: histories, py-fsrs agreement, metrics, fits, CLI, populations."""

import importlib.util
from datetime import datetime, timedelta, timezone

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import studygym
from studygym.fitting import core as F
from studygym.fitting.data import builtin_log

fsrs = pytest.importorskip("fsrs")

DEFAULT_W = np.asarray(F.get_model("fsrs").default_params)
#: A valid FSRS-6 weight vector far from the defaults (used as a "true" learner and an oracle check).
OTHER_W = np.array([0.05, 0.4, 0.8, 3.0, 5.5, 0.6, 2.0, 0.02, 1.1, 0.25, 1.1,
                    1.8, 0.1, 0.35, 1.2, 0.5, 2.5, 0.3, 0.2, 0.1, 0.35])


@pytest.fixture(scope="module")
def log():
    return builtin_log()


@pytest.fixture(scope="module")
def subset(log):
    """A seventh of the real log's cards (~1,800 reviews): big enough for py-fsrs's optimizer to run
    (it needs 512 long-term reviews), small enough for fast tests."""
    codes = pd.factorize(log["card_id"])[0]
    return log[codes % 7 == 0]


def make_log(rows) -> pd.DataFrame:
    """rows: (card_id, datetime, rating)."""
    frame = pd.DataFrame(rows, columns=["card_id", "review_time", "rating"])
    frame["review_time"] = pd.to_datetime(frame["review_time"], utc=True)
    return frame.sort_values(["card_id", "review_time"]).reset_index(drop=True)


def pyfsrs_recall(log: pd.DataFrame, weights) -> dict[int, float]:
    """py-fsrs's retrievability before each review, keyed by log row (the reference implementation)."""
    scheduler = fsrs.Scheduler(parameters=tuple(float(w) for w in weights), enable_fuzzing=False)
    out = {}
    for card_id, reviews in log.groupby("card_id", sort=False):
        card = None
        for row, stamp, rating in zip(reviews.index, reviews["review_time"], reviews["rating"]):
            stamp = stamp.to_pydatetime()
            if card is None:
                card = fsrs.Card(card_id=int(card_id), due=stamp)
            out[row] = float(scheduler.get_card_retrievability(card, stamp))
            card, _ = scheduler.review_card(card, fsrs.Rating(int(rating)), stamp)
    return out


# -- histories and split -------------------------------------------------------------------------


def test_histories_count_whole_days_as_py_fsrs():
    t0 = datetime(2024, 5, 1, 22, 0, tzinfo=timezone.utc)
    rows = [
        (1, t0, 3),
        (1, t0 + timedelta(hours=3), 1),  # next calendar day, < 24 h: same day for py-fsrs
        (1, t0 + timedelta(hours=3 + 23, minutes=59), 3),  # 23:59 later: still 0 whole days
        (1, t0 + timedelta(hours=3 + 23 + 49), 1),  # 2 whole days + 0:01
        (1, t0 + timedelta(days=10), 4),
        (2, t0 + timedelta(days=1), 2),
    ]
    h = F.review_histories(make_log(rows))
    assert h.shape == (2, 5)
    assert h.elapsed_days[0].tolist() == [0, 0, 0, 2, 6]
    assert np.allclose(h.elapsed_real_days[0, 1], 3 / 24)
    assert h.first.tolist() == [[True, False, False, False, False], [True, False, False, False, False]]
    assert h.valid[1].tolist() == [True, False, False, False, False]
    assert h.predicted[0].tolist() == [False, False, False, True, True]
    # fsrs-optimizer's i: 1 + earlier (first or >= 1 day) reviews; lapses: earlier long-term Agains
    assert h.review_number[0].tolist() == [1, 2, 2, 2, 3]
    assert h.lapses[0].tolist() == [0, 0, 0, 0, 1]


def test_naive_times_are_taken_as_utc(log):
    part = log.head(200)
    naive = part.assign(review_time=part["review_time"].dt.tz_localize(None))
    assert np.array_equal(F.review_histories(naive).elapsed_days, F.review_histories(part).elapsed_days)
    assert F.time_split(naive) == F.time_split(part)
    with pytest.raises(ValueError, match="log.review_time must hold datetimes"):
        F.review_histories(part.assign(review_time="soon"))


def test_predictions_agree_with_py_fsrs_on_the_real_log(log):
    cards = log["card_id"].drop_duplicates().iloc[::4]  # a quarter of the cards keeps this fast
    part = log[log["card_id"].isin(cards)]
    h = F.review_histories(part)
    for weights in (DEFAULT_W, OTHER_W):
        ours = F.predict("fsrs", weights, h)
        reference = pyfsrs_recall(part, weights)
        rows = h.log_row[h.valid & ~h.first]
        theirs = np.array([reference[part.index[r]] for r in rows])
        assert np.max(np.abs(ours[h.valid & ~h.first] - theirs)) < 2e-4


def test_time_split_trains_on_the_past(log):
    cutoff = F.time_split(log, 0.8)
    train = log["review_time"] < cutoff
    assert abs(train.mean() - 0.8) < 0.01
    assert log.loc[train, "review_time"].max() < log.loc[~train, "review_time"].min()


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_bad_train_fraction(log, fraction):
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        F.time_split(log, fraction)


# -- metrics against independent implementations ------------------------------------------------


def test_metrics_match_sklearn_and_fsrs_optimizer(log):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    fsrs_optimizer = pytest.importorskip("fsrs_optimizer")
    h = F.review_histories(log)
    mask = h.predicted
    rng = np.random.default_rng(0)
    p = rng.uniform(0.3, 0.99, mask.sum())
    y = h.recalled[mask]
    assert F.log_loss(p, y) == pytest.approx(sklearn_metrics.log_loss(y, p), rel=1e-9)
    assert F.auc(p, y) == pytest.approx(sklearn_metrics.roc_auc_score(y, p), rel=1e-9)
    p_tied = np.round(p, 1)  # ties get average ranks
    assert F.auc(p_tied, y) == pytest.approx(sklearn_metrics.roc_auc_score(y, p_tied), rel=1e-9)

    # srs-benchmark's RMSE(bins) is fsrs-optimizer's rmse_matrix over its revlog features
    t_hist, r_hist = [], []
    for card in range(h.shape[0]):
        for j in range(h.shape[1]):
            if mask[card, j]:
                t_hist.append(",".join(str(int(t)) for t in h.elapsed_days[card, :j]))
                r_hist.append(",".join(str(int(r)) for r in h.rating[card, :j]))
    frame = pd.DataFrame({"t_history": t_hist, "r_history": r_hist, "delta_t": h.elapsed_days[mask],
                          "i": h.review_number[mask], "y": y.astype(float), "p": p})
    expected = fsrs_optimizer.fsrs_optimizer.rmse_matrix(frame)
    ours = F.rmse_bins(p, y, h.elapsed_days[mask], h.review_number[mask], h.lapses[mask])
    assert ours == pytest.approx(expected, rel=1e-9)


def test_calibration_table_bins_predictions():
    p = np.array([0.01, 0.02, 0.51, 0.55, 0.99, 1.0])
    y = np.array([0, 0, 1, 0, 1, 1])
    table = F.calibration_table(p, y, n_bins=20)
    assert table["reviews"].tolist() == [2, 1, 1, 2]
    assert table["observed"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert table["predicted"].iloc[-1] == pytest.approx(0.995)


# -- fitting -----------------------------------------------------------------------------------


def simulate_log(weights, n_cards=500, reviews=12, seed=0) -> pd.DataFrame:
    """Reviews of an FSRS learner with known weights; recall drawn from py-fsrs's retrievability.

    Gaps are a random multiple (0.3x to 4x) of the card's true stability, as a scheduler with noisy
    intervals would give, so that recall rates vary and weights are identifiable; 15% same-day.
    """
    rng = np.random.default_rng(seed)
    scheduler = fsrs.Scheduler(parameters=tuple(float(w) for w in weights), enable_fuzzing=False)
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = []
    for card_id in range(n_cards):
        now = t0 + timedelta(hours=float(rng.uniform(0, 24 * 30)))
        card = fsrs.Card(card_id=card_id, due=now)
        for k in range(reviews):
            if k == 0:
                rating = int(rng.choice(4, p=[0.25, 0.1, 0.5, 0.15])) + 1
            else:
                recall = float(scheduler.get_card_retrievability(card, now))
                rating = 1 if rng.uniform() > recall else int(rng.choice(3, p=[0.2, 0.65, 0.15])) + 2
            rows.append((card_id, now, rating))
            card, _ = scheduler.review_card(card, fsrs.Rating(rating), now)
            same_day = rng.uniform() < 0.15
            gap_days = (rng.uniform(0.01, 0.3) if same_day
                        else max(1.0, float(card.stability) * float(np.exp(rng.uniform(np.log(0.3), np.log(4))))))
            now = now + timedelta(days=gap_days)
    return make_log(rows)


def test_fit_recovers_a_known_learner():
    synthetic = simulate_log(OTHER_W)
    result = F.fit(synthetic, "fsrs", steps=150)
    truth = F.evaluate_params("fsrs", OTHER_W, synthetic)
    # the fit explains the training reviews at least as well as the true weights do ...
    assert result.metrics["train"]["log_loss"] <= truth.metrics["train"]["log_loss"] + 2e-3
    # ... and its recall predictions are close to the true learner's, far closer than the defaults'
    h = F.review_histories(synthetic)
    true_recall = F.predict("fsrs", OTHER_W, h)[h.predicted]
    fit_gap = np.abs(F.predict("fsrs", result.weights, h)[h.predicted] - true_recall).mean()
    default_gap = np.abs(F.predict("fsrs", DEFAULT_W, h)[h.predicted] - true_recall).mean()
    assert fit_gap < 0.025 and fit_gap < 0.5 * default_gap, (fit_gap, default_gap)
    # weights stay within py-fsrs's bounds
    assert np.all(result.weights >= np.asarray(F.fsrs_maths.WEIGHT_LOWER) - 1e-6)
    assert np.all(result.weights <= np.asarray(F.fsrs_maths.WEIGHT_UPPER) + 1e-6)
    assert result.loss_history[-1] < result.loss_history[0]


def test_constant_baseline_fits_the_training_recall_rate(log):
    result = F.fit(log, "constant", steps=300, learning_rate=0.05)
    h = F.review_histories(log)
    train = h.predicted & F.train_mask(h, F.time_split(log))
    rate = 1 / (1 + np.exp(-result.params["logit_recall"]))
    assert rate == pytest.approx(h.recalled[train].mean(), abs=2e-3)
    assert result.metrics["test"]["auc"] == pytest.approx(0.5)


def test_prediction_vmaps_over_a_population_of_weights(log):
    h = F.review_histories(log[log["card_id"].isin(log["card_id"].unique()[:50])])
    population = jnp.stack([jnp.asarray(DEFAULT_W, jnp.float32), jnp.asarray(OTHER_W, jnp.float32)])
    model = F.get_model("fsrs")
    batched = jax.jit(jax.vmap(lambda w: F._predict_all(model, w, h.inputs())))(population)
    rows, cols = h.shape
    assert batched.shape[0] == 2 and batched.shape[1] >= rows and batched.shape[2] >= cols
    assert np.allclose(batched[1, :rows, :cols], F.predict("fsrs", OTHER_W, h), atol=1e-6)
    assert not np.allclose(batched[0, :rows, :cols], batched[1, :rows, :cols], atol=1e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"model": "sm2"}, r"model must be one of .*fsrs"),
    ({"steps": 0}, r"steps must be a positive integer"),
    ({"learning_rate": -1.0}, r"learning_rate must be in"),
    ({"init": [1.0, 2.0]}, r"init for 'fsrs' must have 21 values"),
    ({"train_fraction": 1.0}, r"train_fraction"),
])
def test_bad_fit_arguments(log, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.fit(log, **kwargs)


def test_bad_params_and_logs(log):
    with pytest.raises(ValueError, match=r"params for 'fsrs' must have 21 values"):
        F.evaluate_params("fsrs", [0.1] * 3, log)
    with pytest.raises(ValueError, match=r"log is missing column\(s\) rating"):
        F.review_histories(log.drop(columns="rating"))
    with pytest.raises(ValueError, match=r"log.rating must be in 1..4"):
        F.review_histories(log.assign(rating=log["rating"].where(log.index != 5, 7)))


# -- results, populations, CLI -----------------------------------------------------------------


@pytest.fixture(scope="module")
def small_fit(subset):
    return F.fit(subset, "fsrs", steps=60)


def test_fit_result_drives_review_v0(small_fit):
    overrides = small_fit.overrides()
    env, params = studygym.make("Review-v0", n_items=5, **overrides)
    assert np.allclose(np.asarray(params.learner.w), small_fit.weights, atol=1e-6)
    assert np.allclose(np.asarray(params.learner.first_grade_probs), small_fit.grade_probs["first_grade_probs"])
    assert float(params.learner.forget_sd) > 0  # a population around the fitted learner
    obs, state = env.reset(jax.random.key(0), params)
    obs, state, reward, terminated, truncated, info = jax.jit(env.step)(jax.random.key(1), state, 0, params)
    assert int(info["grade"]) in (1, 2, 3, 4)
    learner = small_fit.learner_params(forget_sd=0.0)
    assert float(learner.forget_sd) == 0.0


def test_fit_result_round_trips_through_json(small_fit, tmp_path):
    paths = F.write_fit(small_fit, tmp_path / "fit")
    assert [p.name for p in paths] == list(F.FIT_FILES) and all(p.stat().st_size > 0 for p in paths)
    loaded = F.FitResult.load(tmp_path / "fit")
    assert loaded.params == small_fit.params and loaded.metrics == small_fit.metrics
    assert np.allclose(np.asarray(loaded.learner_params().w), small_fit.weights)
    with pytest.raises(FileExistsError, match="params.json"):
        F.write_fit(small_fit, tmp_path / "fit")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="broken.json"):
        F.FitResult.load(tmp_path / "broken.json")


def test_baseline_has_no_learner_params(log):
    result = F.evaluate_params("constant", [1.5], log)
    with pytest.raises(ValueError, match="drives no studygym learner"):
        result.learner_params()


def cli_fit(argv: list[str]) -> int:
    """``studygym fit ARGS`` through the real entry point (its one-line error handling included)."""
    from studygym.cli import main

    return main(["fit", *argv])


def test_cli_fit_writes_and_refuses_to_overwrite(tmp_path, subset, capsys):
    part = subset
    csv_path = tmp_path / "mine.csv"
    pd.DataFrame({"card_id": part["card_id"], "review_rating": part["rating"],
                  "review_time": part["review_time"].map(lambda t: t.isoformat()),
                  "review_duration": part["duration_ms"]}).to_csv(csv_path, index=False)
    out = tmp_path / "out"
    assert cli_fit([str(csv_path), "--model", "fsrs", "--out", str(out), "--steps", "20"]) == 0
    assert all((out / name).exists() for name in F.FIT_FILES)
    before = (out / "params.json").read_text()
    assert cli_fit([str(csv_path), "--out", str(out), "--steps", "20"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (out / "params.json").read_text() == before
    assert cli_fit([str(csv_path), "--model", "constant", "--out", str(out), "--force", "--steps", "20"]) == 0
    assert F.FitResult.load(out).model == "constant"
    assert cli_fit([str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o2")]) == 2
    assert cli_fit(["builtin", "--model", "hlr9", "--out", str(tmp_path / "o3")]) == 2


# -- against py-fsrs's own optimizer ----------------------------------------------------------


def compare_with_pyfsrs_optimizer(log, steps):
    """studygym's FSRS fit is within 1% of the better of the two peers (py-fsrs's optimizer and
    fsrs-rs, Anki's own) on held-out log loss, all fitted on the same training reviews."""
    ours = F.fit(log, "fsrs", steps=steps)
    peers = {"py-fsrs": F.fit_pyfsrs_optimizer(log)}
    if importlib.util.find_spec("fsrs_rs_python") is not None:  # in the test extra
        peers["fsrs-rs"] = F.fit_fsrs_rs(log)
    for peer in peers.values():
        assert peer.split == ours.split  # the same split, scored by the same code
    ours_loss = ours.metrics["test"]["log_loss"]
    reference_loss = min(peer.metrics["test"]["log_loss"] for peer in peers.values())
    assert ours_loss <= reference_loss * 1.01, (ours_loss, {k: p.metrics["test"]["log_loss"] for k, p in peers.items()})
    return ours_loss, reference_loss


def test_fsrs_rs_fit_is_seeded_and_beats_default_weights(subset):
    pytest.importorskip("fsrs_rs_python")
    first, again = F.fit_fsrs_rs(subset), F.fit_fsrs_rs(subset)
    assert first.params == again.params and first.fitter.startswith("fsrs-rs")
    default = F.evaluate_params("fsrs", F.get_model("fsrs").default_params, subset)
    assert first.metrics["train"]["log_loss"] < default.metrics["train"]["log_loss"]


def test_prior_keeps_a_small_fit_from_overfitting(subset):
    """The MAP fit (fsrs-rs's weight SDs as a Gaussian prior) generalises better on the subset than
    the plain maximum-likelihood fit, which fits the training reviews more closely."""
    plain, map_fit = F.fit(subset, "fsrs", steps=150, prior_weight=0.0), F.fit(subset, "fsrs", steps=150)
    assert plain.metrics["train"]["log_loss"] < map_fit.metrics["train"]["log_loss"]
    assert map_fit.metrics["test"]["log_loss"] < plain.metrics["test"]["log_loss"]
    with pytest.raises(ValueError, match="prior_weight"):
        F.fit(subset, "fsrs", steps=2, prior_weight=-1.0)


def test_fit_is_no_worse_than_py_fsrs_optimizer_on_a_subset(subset):
    compare_with_pyfsrs_optimizer(subset, steps=150)


@pytest.mark.slow
def test_fit_is_no_worse_than_py_fsrs_optimizer_on_the_real_log(log):
    compare_with_pyfsrs_optimizer(log, steps=300)
