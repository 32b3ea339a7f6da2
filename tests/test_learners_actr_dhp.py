"""ACT-R (Pavlik & Anderson 2005) and DHP (Ye, Su & Cao 2022) learners and their fit models."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.fitting.data import builtin_log
from studygym.envs.learners import actr, dhp, get_learner
from studygym.fitting.core import evaluate_params, fit, get_model
from studygym.evaluation.harness import evaluate

# ----------------------------------------------------------------------------------------------
# Oracles: the papers' formulas written out directly in NumPy (float64) on a hand history
# ----------------------------------------------------------------------------------------------


def actr_recall_numpy(times_days, test_day, a=0.177, c=0.217, s=0.255, tau=-0.704, h=0.025):
    """Pavlik & Anderson (2005), eqs. 1-3: m = ln sum (h t_k)^-d_k, d_k = c e^{m_{k-1}} + a."""
    decays = []
    for k, t_k in enumerate(times_days):
        if k == 0:
            decays.append(a)
        else:
            m = math.log(sum((h * (t_k - t_j) * 86400) ** -d_j for t_j, d_j in zip(times_days[:k], decays)))
            decays.append(c * math.exp(m) + a)
    m = math.log(sum((h * (test_day - t_j) * 86400) ** -d_j for t_j, d_j in zip(times_days, decays)))
    return 1.0 / (1.0 + math.exp((tau - m) / s))


def dhp_half_life_numpy(d0, intervals, recalled):
    """maimemo/SSP-MMC model/utils.py: cal_start_halflife, cal_recall_halflife, cal_forget_halflife."""
    d = d0
    h = -1 / np.log2(max(0.925 - 0.05 * d, 0.025))
    for t, ok in zip(intervals, recalled):
        p = 2 ** (-t / h)
        if ok:
            h = h * (1 + np.exp(3.80863264) * d ** -0.53420593 * h ** -0.127362 * (1 - p) ** 0.9678043)
        else:
            h = np.exp(-0.04158382) * d ** -0.04067209 * h ** 0.37745957 * (1 - p) ** -0.22724425
            d = min(d + 2, 18)
    return h, d


_JITTED = {}


def practice_history(learner, params, times, key=0, n_items=3):
    """Review item 0 at ``times`` (days); returns the state and the grades."""
    if learner not in _JITTED:
        _JITTED[learner] = (jax.jit(learner.init, static_argnums=2), jax.jit(learner.practice))
    init, practice = _JITTED[learner]
    state = init(jax.random.key(key), params, n_items)
    grades = []
    for i, t in enumerate(times):
        grade, state = practice(jax.random.fold_in(jax.random.key(key), 100 + i), state, 0, jnp.float32(t), params)
        grades.append(int(grade))
    return state, grades


def test_actr_matches_paper_formula_on_a_hand_history():
    params = actr.default_params()  # no population spread
    times = [0.0, 0.01, 1.0, 3.0, 10.0, 10.002]
    state, _ = practice_history(actr.ACTR, params, times)
    for test_day in (10.5, 12.0, 40.0):
        ours = float(actr.ACTR.recall_prob(state, jnp.float32(test_day), params)[0])
        assert ours == pytest.approx(actr_recall_numpy(times, test_day), abs=2e-5)
    assert float(actr.ACTR.recall_prob(state, jnp.float32(12.0), params)[1]) == 0.0  # never presented


def test_actr_ring_keeps_the_last_presentations():
    learner = actr.ACTRLearner(history=4)
    params = actr.default_params()
    times = [0.0, 1.0, 2.0, 4.0, 7.0, 11.0]
    state, _ = practice_history(learner, params, times)
    assert int(state.count[0]) == 6
    assert sorted(np.asarray(state.times[0]).tolist()) == [2.0, 4.0, 7.0, 11.0]


def test_dhp_matches_paper_formula_on_a_hand_history():
    params = dhp.default_params()
    times = [0.0, 1.0, 3.0, 8.0, 20.0, 45.0]
    for key in range(50):  # the first learner whose history holds both outcomes
        state, grades = practice_history(dhp.DHP, params, times, key=key)
        recalled = [g > 1 for g in grades[1:]]
        if any(recalled) and not all(recalled):
            break
    assert any(recalled) and not all(recalled)
    d0 = float(state.initial_difficulty[0])
    h, d = dhp_half_life_numpy(d0, np.diff(times), recalled)
    assert float(state.half_life[0]) == pytest.approx(h, rel=1e-4)
    assert float(state.difficulty[0]) == d
    assert float(dhp.DHP.recall_prob(state, jnp.float32(60.0), params)[0]) == pytest.approx(2 ** (-15 / h), rel=1e-4)


@pytest.mark.parametrize("name", ["actr", "dhp"])
def test_recall_decays_with_time_and_rises_with_practice(name):
    learner = get_learner(name)
    params = learner.default_params()

    def recall_at(times, test_day, key):
        state, _ = practice_history(learner, params, times, key=key)
        return float(learner.recall_prob(state, jnp.float32(test_day), params)[0])

    keys = range(40)
    once = np.array([[recall_at([0.0], t, k) for t in (1.0, 3.0, 10.0)] for k in keys])
    assert np.all(np.diff(once, axis=1) < 0)  # forgetting: recall falls with time
    twice = np.array([recall_at([0.0, 2.0], 10.0, k) for k in keys])
    # A second (spaced) study raises recall at day 10, on average over outcomes and learners.
    assert twice.mean() > once[:, 2].mean() + 0.05


@pytest.mark.parametrize("name", ["actr", "dhp"])
def test_population_varies_with_the_key(name):
    learner = get_learner(name)
    params = learner.default_params()
    times = [0.0, 1.0, 4.0]

    def recall(key):
        state, _ = practice_history(learner, params, times, key=key, n_items=20)
        state = jax.tree.map(lambda x: x, state)
        return np.asarray(learner.recall_prob(state, jnp.float32(9.0), params))

    a, b = recall(0), recall(1)
    assert not np.allclose(a[0], b[0]) or not np.allclose(a, b)
    env, env_params = studygym.make("Review-v0", learner=name, n_items=20)
    s1 = env.reset(jax.random.key(1), env_params)[1].learner
    s2 = env.reset(jax.random.key(2), env_params)[1].learner
    assert any(not np.allclose(x, y) for x, y in zip(jax.tree.leaves(s1), jax.tree.leaves(s2)))


@pytest.mark.parametrize("override, name", [
    ({"learner": "actr", "s": -1.0}, "learner.s"),
    ({"learner": "actr", "tau": float("nan")}, "learner.tau"),
    ({"learner": "actr", "learner_sd": 5.0}, "learner.learner_sd"),
    ({"learner": "dhp", "difficulty_probs": [0.5] * 10}, "learner.difficulty_probs"),
    ({"learner": "dhp", "recall_coef": [1.0, 2.0]}, "learner.recall_coef"),
    ({"learner": "dhp", "forget_coef": [0.0, 0.0, 3.0, -0.2]}, "learner.forget_coef"),
])
def test_bad_params_raise_value_error_naming_them(override, name):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        studygym.make("Review-v0", **override)


def test_actr_history_must_be_positive():
    with pytest.raises(ValueError, match="history"):
        actr.ACTRLearner(history=0)


@pytest.mark.parametrize("name", ["actr", "dhp"])
def test_review_env_runs_with_the_learner(name):
    df = evaluate("random,sm2", "Review-v0", n_learners=4, learner=name, n_items=8, slots_per_day=4, n_days=6)
    assert not df["failed"].any()
    assert df["knowledge_final"].between(0.0, 1.0).all() and (df["knowledge_final"] > 0).all()
    assert np.isfinite(df["retention_delayed"]).all()


# ----------------------------------------------------------------------------------------------
# Fit models on the built-in log
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_log():
    """The built-in py-fsrs log, its first 300 cards (keeps the fit test fast)."""
    log = builtin_log()
    cards = log["card_id"].drop_duplicates().iloc[:300]
    return log[log["card_id"].isin(cards)].reset_index(drop=True)


@pytest.mark.parametrize("name", ["actr", "dhp"])
def test_fit_beats_default_params_on_held_out_log_loss(small_log, name):
    model = get_model(name)
    default = evaluate_params(model, model.default_params, small_log)
    fitted = fit(small_log, name, steps=80, learning_rate=0.05)
    assert fitted.metrics["test"]["log_loss"] < default.metrics["test"]["log_loss"]
    assert fitted.metrics["train"]["log_loss"] < default.metrics["train"]["log_loss"] - 0.01
    assert all(lo - 1e-6 <= v <= hi + 1e-6 for v, lo, hi in zip(fitted.params.values(), model.lower, model.upper))


@pytest.mark.parametrize("name", ["actr", "dhp"])
def test_fit_result_builds_a_review_population(small_log, name):
    model = get_model(name)
    result = evaluate_params(model, model.default_params, small_log)
    env, params = studygym.make("Review-v0", learner=result, n_items=5)
    assert env.learner.name == name
    assert np.allclose(params.learner.first_grade_probs, result.grade_probs["first_grade_probs"])
    if name == "actr":
        assert float(params.learner.h) == pytest.approx(math.exp(result.params["log_h"]), rel=1e-5)
        assert float(params.learner.tau) == pytest.approx(result.params["tau"])
    else:
        assert np.allclose(params.learner.recall_coef, [result.params[n] for n in model.param_names[:4]])
    obs, state = env.reset(jax.random.key(0), params)
    obs, *_ = env.step(jax.random.key(1), state, 0, params)
    assert np.all(np.isfinite(obs))
    if name == "dhp":  # the SSP-MMC set-up simulates fitted DHP learners too
        env, params = studygym.make("SSPMMC-DHP-v0", learner=result, deck_size=50, n_days=3)
        assert np.allclose(params.learner.forget_coef, [result.params[n] for n in model.param_names[4:8]])
