"""Populations from data: the spreads of ``make(..., learner=fit_result)`` come from the log.

Logs are generated from known FSRS-6 populations (``studygym.fitting.population.simulate_log``: the
simulated learner itself, scheduled by an app that sees only the grades) and the spreads are
estimated back with the generating weights as the "fit" (``evaluate_params``: no fitting, fast).
"""

import json

import numpy as np
import pytest

import studygym
from studygym.envs.learners import fsrs
from studygym.fitting.core import FitResult, evaluate_params
from studygym.fitting.population import estimate_population, random_effect_sd, simulate_log, with_population

#: Weights under which a card's difficulty shows in its recalls: a steeper forgetting curve
#: (w20 0.5) and difficulty that moves little per grade (w6 0.5). Under the FSRS-6 defaults
#: (w20 0.154, w6 3.0) the marginal likelihood of the difficulty spread is nearly flat (measured:
#: within 0.6 log-likelihood units from SD 0 to 2 on 1,600 cards x 10 reviews), so no estimator
#: could recover it there; the estimator reports that flatness as a wide likelihood interval.
IDENTIFIABLE_W = np.array(fsrs.FSRS6_DEFAULT_WEIGHTS)
IDENTIFIABLE_W[20], IDENTIFIABLE_W[6] = 0.5, 0.5


def spreads(params, **sizes):
    log = simulate_log(params, **sizes)
    return estimate_population(evaluate_params("fsrs", np.asarray(params.w), log), log)


@pytest.fixture(scope="module")
def difficulty_spreads():
    return {sd: spreads(fsrs.default_params(weights=IDENTIFIABLE_W, difficulty_sd=sd), n_cards=400, n_reviews=10,
                        seed=1)
            for sd in (0.5, 2.0)}


@pytest.mark.slow
def test_difficulty_spread_is_recovered_and_wider_for_a_more_heterogeneous_deck(difficulty_spreads):
    narrow, wide = difficulty_spreads[0.5], difficulty_spreads[2.0]
    for truth, estimate in ((0.5, narrow), (2.0, wide)):
        low, high = estimate["difficulty_sd_interval"]
        assert low <= truth <= high, (truth, estimate)  # the truth lies in the 95% likelihood interval
        assert estimate["users"] == 1 and estimate["forget_sd_between"] is None
    assert wide["difficulty_sd"] == pytest.approx(2.0, abs=0.5)
    assert wide["difficulty_sd"] > narrow["difficulty_sd"] + 1.0


def test_spread_between_people_is_recovered_from_a_multi_user_log():
    same = spreads(fsrs.default_params(forget_sd=0.0, difficulty_sd=1.0), n_learners=12, n_cards=50, n_reviews=8,
                   seed=2)
    varied = spreads(fsrs.default_params(forget_sd=0.6, difficulty_sd=1.0), n_learners=12, n_cards=50, n_reviews=8,
                     seed=2)
    assert same["users"] == varied["users"] == 12
    assert same["forget_sd_between"] <= 0.15
    assert varied["forget_sd_between"] == pytest.approx(0.6, abs=0.2)
    low, high = varied["forget_sd_between_interval"]
    assert low <= 0.6 <= high and low > 0.0
    # the learner spread combines both parts
    assert varied["forget_sd"] == pytest.approx(np.hypot(varied["forget_sd_between"], varied["forget_sd_fit"]),
                                                abs=1e-3)


@pytest.mark.slow
def test_the_fit_is_more_uncertain_on_a_shorter_log():
    params = fsrs.default_params(difficulty_sd=1.0)
    short = spreads(params, n_cards=40, n_reviews=8, seed=3)
    long = spreads(params, n_cards=320, n_reviews=8, seed=3)
    assert short["forget_sd_fit"] > 2 * long["forget_sd_fit"] > 0
    assert short["forget_sd"] == pytest.approx(short["forget_sd_fit"], abs=1e-3)  # one person: no between part


def test_make_samples_around_the_fit_with_the_estimated_spreads(tmp_path):
    log = simulate_log(fsrs.default_params(difficulty_sd=1.0), n_cards=40, n_reviews=8, seed=3)
    bare = evaluate_params("fsrs", fsrs.FSRS6_DEFAULT_WEIGHTS, log)
    result = with_population(bare, log)
    env, params = studygym.make("Review-v0", learner=result, n_items=10)
    assert float(params.learner.forget_sd) == pytest.approx(result.population["forget_sd"], abs=1e-6)
    assert float(params.learner.difficulty_sd) == pytest.approx(result.population["difficulty_sd"], abs=1e-6)
    assert np.allclose(np.asarray(params.learner.w), result.weights)
    # the population travels with params.json
    result.save_params(tmp_path / "params.json")
    loaded = FitResult.load(tmp_path / "params.json")
    assert loaded.population == json.loads(json.dumps(result.population))
    _, params_loaded = studygym.make("Review-v0", learner=loaded, n_items=10)
    assert float(params_loaded.learner.forget_sd) == pytest.approx(result.population["forget_sd"], abs=1e-6)
    # explicit spreads still win, and a result without a population keeps the learner's defaults
    assert result.overrides(forget_sd=0.0)["forget_sd"] == 0.0
    assert bare.overrides()["forget_sd"] == float(fsrs.FSRS.default_params().forget_sd)


def test_random_effect_sd_on_a_known_profile():
    grid = np.linspace(-5, 5, 81)
    rng = np.random.default_rng(0)
    effects = rng.normal(0, 1.5, 2000)
    # each group observes its effect with noise SD 0.5: a Gaussian log-likelihood around it
    observed = effects + rng.normal(0, 0.5, effects.size)
    log_likelihood = -0.5 * ((grid[None, :] - observed[:, None]) / 0.5) ** 2
    sd, (low, high) = random_effect_sd(log_likelihood, grid)
    assert sd == pytest.approx(1.5, abs=0.1) and low <= 1.5 <= high


def test_bad_input():
    log = simulate_log(fsrs.default_params(), n_cards=5, n_reviews=3, seed=0)
    constant = evaluate_params("constant", [2.0], log)
    with pytest.raises(ValueError, match="drives no FSRS learner"):
        estimate_population(constant, log)
    result = evaluate_params("fsrs", fsrs.FSRS6_DEFAULT_WEIGHTS, log)
    with pytest.raises(ValueError, match="user_id is missing"):
        estimate_population(result, log.assign(user_id=[None] + ["u0"] * (len(log) - 1)))
