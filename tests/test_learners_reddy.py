"""HLR, EFC and GPL/DASH learners: the papers' formulas on hand histories, population, validation,
Review-v0, and their fit models on the real log."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import studygym
from studygym.fitting import core as F
from studygym.fitting.data import builtin_log
from studygym.envs.learners import get_learner
from studygym.envs.learners import dash as dash_module
from studygym.envs.learners import efc as efc_module
from studygym.envs.learners import hlr as hlr_module

NAMES = ("hlr", "efc", "dash")


def history(learner, params, times, item=0, n_items=3, seed=0):
    """Practise ``item`` at ``times`` (days); returns the state and the grades."""
    state = learner.init(jax.random.key(seed), params, n_items)
    practice = jax.jit(learner.practice)  # eager dispatch of each op is slow; one compile per learner
    grades = []
    for k, t in enumerate(times):
        grade, state = practice(jax.random.key(100 + k), state, jnp.int32(item), jnp.float32(t), params)
        grades.append(int(grade))
    return state, grades


# -- the papers' formulas, evaluated directly in NumPy on a hand history --------------------------


def test_efc_is_reddys_exponential_forgetting_curve():
    # Reddy et al. 2017: p = exp(-θ Δt / n), n = attempts; θ fixed by a zero spread.
    params = efc_module.default_params(rate_log_mean=math.log(0.2), rate_log_sd=0.0)
    state, _ = history(efc_module.EFC, params, [0.0, 2.0, 3.5])
    for t in (3.5, 5.0, 20.0):
        p = float(efc_module.EFC.recall_prob(state, jnp.float32(t), params)[0])
        assert p == pytest.approx(np.exp(-0.2 * (t - 3.5) / 3), rel=1e-5)
    # Unpractised items are unseen (recall 0) unless exposed before the course.
    assert float(efc_module.EFC.recall_prob(state, jnp.float32(5.0), params)[1]) == 0.0


def test_hlr_is_settles_and_meeders_half_life_regression():
    # Settles & Meeder 2016: p = 2^(-Δ/h), h = 2^(θ·x), x = (√(1+c), √(1+w), 1); θ = (1, -0.5, -1):
    # short half-lives, so that the (seeded) hand history has failures too.
    params = hlr_module.default_params(weights=(1.0, -0.5, -1.0, 0.0, 0.0), item_sd=0.0, learner_sd=0.0)
    times = [0.0, 2.0, 6.0, 14.0, 30.0]
    state, grades = history(hlr_module.HLR, params, times)
    c = sum(g > 1 for g in grades)
    w = len(grades) - c
    assert 0 < c < len(grades), grades
    h = 2.0 ** (np.sqrt(1 + c) - 0.5 * np.sqrt(1 + w) - 1.0)
    for t in (30.0, 31.0, 35.0):
        p = float(hlr_module.HLR.recall_prob(state, jnp.float32(t), params)[0])
        assert p == pytest.approx(2.0 ** (-(t - 30.0) / h), rel=1e-5)


def test_hlr_reddy_parametrisation_is_reddys_student():
    # Reddy et al. 2017: p = exp(-Δ/h'), h' = exp(attempts + correct + z), z ~ N(0, 1) per item.
    params = hlr_module.reddy_params()
    state, grades = history(hlr_module.HLR, params, [0.0, 5.0, 10.0])
    c = sum(g > 1 for g in grades)
    attempts = len(grades)
    z = float(state.offset[0]) * math.log(2.0)  # the item offset in Reddy's natural-log units
    for t in (10.0, 15.0, 40.0):
        p = float(hlr_module.HLR.recall_prob(state, jnp.float32(t), params)[0])
        assert p == pytest.approx(np.exp(-(t - 10.0) / np.exp(attempts + c + z)), rel=1e-4)
    offsets = hlr_module.HLR.init(jax.random.key(1), params, 4000).offset * math.log(2.0)
    assert float(jnp.std(offsets)) == pytest.approx(1.0, abs=0.05)  # z ~ N(0, 1)


def test_dash_is_reddys_generalised_power_law():
    # Reddy et al. 2017 (rddy/deeptutor DASHEnv): m = σ(a − d + Σ_{completed windows} θc log(1+c) +
    # θn log(1+n)), p = m / (1 + r Δt)^f, windows of `window_days`, θ_w = 1/(W − w)^2.
    params = dash_module.default_params(window_days=10.0)
    learner = dash_module.DASH
    state, grades = history(learner, params, [1.0, 4.0, 12.0, 25.0])
    theta = 1.0 / np.arange(1, 6)[::-1] ** 2
    correct, attempts = np.zeros(5), np.zeros(5)
    for t, g in zip([1.0, 4.0, 12.0, 25.0], grades):
        attempts[int(t // 10)] += 1
        correct[int(t // 10)] += g > 1
    bias, f, r = float(state.bias[0]), float(state.decay_exponent[0]), float(state.delay_coef)
    for t in (26.0, 35.0, 80.0):
        window = min(int(t // 10), 4)
        history_term = sum(theta[w] * (np.log1p(correct[w]) + np.log1p(attempts[w])) for w in range(window))
        expected = 1 / (1 + np.exp(-(bias + history_term))) / (1 + r * (t - 25.0)) ** f
        p = float(learner.recall_prob(state, jnp.float32(t), params)[0])
        assert p == pytest.approx(expected, rel=1e-4)
    # The paper's student distribution: d ~ N(1, 1), log log(1/f) ~ N(1, 1), log r ~ N(0, 0.01).
    big = learner.init(jax.random.key(2), params, 4000)
    assert float(jnp.mean(-big.bias)) == pytest.approx(1.0, abs=0.06)
    assert float(jnp.median(jnp.log(-jnp.log(big.decay_exponent)))) == pytest.approx(1.0, abs=0.06)


# -- qualitative behaviour -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_recall_decays_with_time_and_rises_with_practice(name):
    learner = get_learner(name)
    params = learner.default_params()
    if name == "dash":  # practice counts from the next window on (Reddy et al.'s GPL)
        params = params.replace(window_days=jnp.float32(2.0))
    once, _ = history(learner, params, [0.0])
    more, _ = history(learner, params, [0.0, 1.0, 2.0, 3.0])
    times = jnp.asarray([4.0, 8.0, 16.0, 32.0], jnp.float32)
    curve_once = np.array([float(learner.recall_prob(once, t, params)[0]) for t in times])
    curve_more = np.array([float(learner.recall_prob(more, t, params)[0]) for t in times])
    assert np.all(np.diff(curve_once) < 0) and np.all(np.diff(curve_more) < 0)  # forgetting
    assert np.all(curve_more > curve_once)  # same student, same item: more practice, more recall


@pytest.mark.parametrize("name", NAMES)
def test_population_varies_with_the_key(name):
    learner = get_learner(name)
    params = learner.default_params()
    a = learner.init(jax.random.key(0), params, 10)
    b = learner.init(jax.random.key(0), params, 10)
    c = learner.init(jax.random.key(1), params, 10)
    leaves = lambda s: np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in jax.tree.leaves(s)])
    assert np.array_equal(leaves(a), leaves(b))
    assert not np.allclose(leaves(a), leaves(c))


@pytest.mark.parametrize("name,override,match", [
    ("efc", {"rate_log_sd": -1.0}, "rate_log_sd"),
    ("efc", {"prior_exposure": 1.5}, "prior_exposure"),
    ("efc", {"first_grade_probs": [0.5, 0.5, 0.5, 0.5]}, "first_grade_probs"),
    ("hlr", {"weights": [1.0, 2.0]}, "weights"),
    ("hlr", {"half_life_min": 300.0}, "half_life_min"),
    ("hlr", {"item_sd": float("nan")}, "item_sd"),
    ("dash", {"window_days": 0.0}, "window_days"),
    ("dash", {"weights_correct": [1.0, 1.0]}, "weights_correct"),
    ("dash", {"difficulty_sd": -0.1}, "difficulty_sd"),
])
def test_bad_params_raise_naming_the_field(name, override, match):
    with pytest.raises(ValueError, match=match):
        studygym.make("Review-v0", learner=name, **override)


@pytest.mark.parametrize("name", NAMES)
def test_review_v0_runs_with_the_learner(name):
    env, params = studygym.make("Review-v0", learner=name, n_items=6, slots_per_day=4, n_days=3)

    def run(key):
        obs, state = env.reset(key, params)

        def step(carry, t):
            obs, state = carry
            action = t % (env.config.n_items + 1)  # every item, then a rest
            obs, state, reward, terminated, truncated, info = env.step(jax.random.fold_in(key, t), state, action, params)
            return (obs, state), (reward, info["grade"], info["knowledge"], terminated)

        _, out = jax.lax.scan(step, (obs, state), jnp.arange(env.max_steps))
        return out

    rewards, grades, knowledge, terminated = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(0), 4))
    assert np.all(np.isfinite(rewards)) and bool(terminated[:, -1].all())
    assert set(np.unique(grades)) <= {0, 1, 2, 3, 4} and np.any(grades > 1)
    assert np.all((knowledge >= 0) & (knowledge <= 1)) and float(knowledge[:, -1].mean()) > 0.1


# -- fit models on the real log ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def log():
    return builtin_log()


@pytest.fixture(scope="module")
def subset(log):
    codes = pd.factorize(log["card_id"])[0]
    return log[codes % 4 == 0]


@pytest.mark.parametrize("name", ["hlr", "efc", pytest.param("dash", marks=pytest.mark.slow)])
def test_fit_beats_its_own_defaults_on_held_out_reviews(subset, name):
    model = F.get_model(name)
    default = F.evaluate_params(name, model.default_params, subset)
    fitted = F.fit(subset, name, steps=80)
    assert fitted.metrics["test"]["log_loss"] < default.metrics["test"]["log_loss"] - 0.01
    assert np.all(np.asarray(list(fitted.params.values())) >= np.asarray(model.lower) - 1e-6)
    assert np.all(np.asarray(list(fitted.params.values())) <= np.asarray(model.upper) + 1e-6)
    # The fit drives a population of its learner in Review-v0.
    env, params = studygym.make("Review-v0", learner=fitted, n_items=4)
    assert env.learner.name == name
    assert np.allclose(params.learner.first_grade_probs, fitted.grade_probs["first_grade_probs"])
    obs, state = env.reset(jax.random.key(0), params)
    _, _, reward, *_ = env.step(jax.random.key(1), state, 0, params)
    assert np.isfinite(float(reward))


def test_fit_overrides_carry_the_fitted_values(log):
    hlr = F.evaluate_params("hlr", (1.5, -0.5, 0.25, 0.1, 0.0), log)
    _, params = studygym.make("Review-v0", learner=hlr)
    assert np.allclose(params.learner.weights, (1.5, -0.5, 0.25, 0.1, 0.0))
    efc = F.evaluate_params("efc", (-2.0,), log)
    _, params = studygym.make("Review-v0", learner=efc)
    assert float(params.learner.rate_log_mean) == pytest.approx(-2.0)
    dash = F.evaluate_params("dash", F.get_model("dash").default_params, log)
    overrides = dash.overrides(difficulty_sd=0.0)
    _, params = studygym.make("Review-v0", **overrides)
    learner = get_learner("dash").init(jax.random.key(0), params.learner, 3)
    # The median item has the fitted decay exponent and bias.
    assert float(learner.bias[0]) == pytest.approx(dash.params["bias"], abs=1e-5)
    with pytest.raises(ValueError, match="population"):
        dash.overrides(not_a_field=1.0)


def test_bad_fit_params_raise(log):
    with pytest.raises(ValueError, match="5 values"):
        F.evaluate_params("hlr", (1.0, 2.0), log)
    with pytest.raises(ValueError, match="init"):
        F.fit(log, "efc", steps=2, init=(0.0, 1.0))
    bad = F.evaluate_params("efc", (-2.0,), log)
    bad.params["log_rate"] = float("nan")
    with pytest.raises(ValueError, match="rate_log_mean"):
        studygym.make("Review-v0", learner=bad)
