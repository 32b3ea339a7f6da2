"""`studygym evaluate --learner-from LOG`: which schedule is best for this person, end to end (tiny sizes)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from studygym import datasets
from studygym.cli import main
from studygym.cli.evaluate import personal_fit
from studygym.fitting.data import BUILTIN_LOG
from studygym.fitting.core import FitResult

SHIPPED = Path(datasets.__file__).parent / BUILTIN_LOG
TINY = ["--set", "n_items=5", "--set", "n_days=3", "--policies", "random,leitner", "--learners", "4",
        "--tune-learners", "2", "--fit-steps", "5"]


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    """The shipped log's first 60 cards (a real person's reviews), as a py-fsrs CSV."""
    log = pd.read_csv(SHIPPED, dtype={"card_id": str})
    cards = log["card_id"].drop_duplicates().head(60)
    path = tmp_path_factory.mktemp("log") / "person.csv"
    log[log["card_id"].isin(cards)].to_csv(path, index=False)
    return path


def test_learner_from_a_log_ranks_the_schedulers_for_that_person(small_log, tmp_path, capsys):
    out = tmp_path / "me"
    assert main(["evaluate", "--learner-from", str(small_log), *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Population from the log: difficulty_sd" in printed
    population = json.loads((out / "population.json").read_text())
    result = FitResult.load(out / "params.json")
    assert result.population == population and result.model == "fsrs" and result.split["cards"] == 60
    episodes = pd.read_csv(out / "episodes.csv")
    # the evaluated schedulers and the tuned row (leitner's knob tuned on training learners of this population)
    assert sorted(episodes["policy"].unique()) == ["leitner", "leitner_tuned", "random"]
    assert not episodes["failed"].any() and len(episodes) == 12
    assert "leitner_tuned" in (out / "leaderboard.md").read_text()
    # the saved fit result is itself a valid --learner-from: read, not refitted, with the same population
    again = personal_fit(str(out))
    assert again.population == population and again.params == result.params
    assert again.loss_history == result.loss_history


def test_learner_from_gives_the_planner_the_best_app_side_base_on_training_learners(small_log, tmp_path, capsys):
    """The planner's defaults were chosen for the registered populations; for a person's fit its base is
    the app-side policy of highest objective on the training learners (not the evaluation's)."""
    from studygym.evaluation.harness import evaluate
    from studygym.evaluation.tuning import TUNING_SEED
    from studygym.registry import make

    tiny = [a if a != "random,leitner" else "massed,pimsleur,planner" for a in TINY]
    out = tmp_path / "me"
    assert main(["evaluate", "--learner-from", str(small_log), *tiny, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    overrides = {**personal_fit(str(out)).overrides(), "n_items": 5, "n_days": 3}
    env, _ = make("Review-v0", **overrides)
    train = evaluate("massed,pimsleur", "Review-v0", n_learners=2, seed=TUNING_SEED, curves=False, **overrides)
    best = train.groupby("policy")[env.objective].mean().idxmax()
    assert f"The planner's base: {best}, the best app-side policy on the 2 training learners" in printed
    episodes = pd.read_csv(out / "episodes.csv")
    assert sorted(episodes["policy"].unique()) == ["massed", "pimsleur", "planner"]
    assert not episodes["failed"].any()


@pytest.mark.parametrize("make_source, message", [
    (lambda d: d / "missing.csv", "no such file"),
    (lambda d: (d / "junk.csv").write_text("not,a,log\n1,2,3\n") and d / "junk.csv", "junk.csv"),
    (lambda d: d / "empty_dir", "params.json"),
])
def test_learner_from_a_bad_source_names_it(make_source, message, tmp_path, capsys):
    (tmp_path / "empty_dir").mkdir()
    source = make_source(tmp_path)
    assert main(["evaluate", "--learner-from", str(source), *TINY, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("studygym: error:") and message in err and str(source.name) in err


def test_learner_from_refuses_a_non_fsrs_fit_and_a_non_fsrs_env(tmp_path, capsys):
    fit_json = tmp_path / "constant.json"
    fit_json.write_text(json.dumps({"model": "constant", "params": {"logit_recall": 2.0}, "metrics": {},
                                    "split": {}, "fitter": "given"}))
    assert main(["evaluate", "--learner-from", str(fit_json), *TINY, "--out", str(tmp_path / "a")]) == 2
    assert "FSRS-6 fit" in capsys.readouterr().err
    assert main(["evaluate", "--learner-from", "builtin", "--env", "Review-v0", "--set", "learner=hlr",
                 "--out", str(tmp_path / "b")]) == 2
    assert "learner" in capsys.readouterr().err
