"""The one "did you mean" helper (studygym/errors.py) and the messages built with it."""

import pytest

import studygym
from studygym.agents.schedulers import make_policy
from studygym.errors import close_matches, did_you_mean, suggestion, unknown_names


def test_suggestion_formats_the_close_names_or_nothing():
    assert did_you_mean("fsrz", ["fsrs", "sm2"]) == "; did you mean 'fsrs'?"
    assert did_you_mean("zzz", ["fsrs", "sm2"]) == ""
    assert suggestion(["a", "b"], before=" ", capitalize=True) == " Did you mean 'a', 'b'?"
    assert close_matches("lerning_rate", ["learning_rate", "gamma"], cutoff=0.5) == ["learning_rate"]
    assert unknown_names(["lr_x", "n_itmes"], ["n_items", "gamma"]) == "'lr_x', 'n_itmes' (did you mean 'n_items'?)"


def test_registries_suggest_the_close_names():
    with pytest.raises(ValueError, match=r"Unknown env id 'Revew-v0'\. Did you mean 'Review-v0'"):
        studygym.make("Revew-v0")
    with pytest.raises(ValueError, match=r"'n_itmes' \(did you mean 'n_items'\?\)"):
        studygym.make("Review-v0", n_itmes=5)
    env, _ = studygym.make("Review-v0")
    with pytest.raises(ValueError, match=r"Unknown scheduler 'fsrz'\. Did you mean 'fsrs'"):
        make_policy("fsrz", env)
    with pytest.raises(ValueError, match=r"unknown learner 'fsr'; did you mean 'fsrs'"):
        studygym.make("Review-v0", learner="fsr")
