"""Tuned baselines (studygym.evaluation.tuning): a small grid on a small env, run as CI runs it."""

import json

import numpy as np
import pytest

import studygym
from conftest import load_script
from studygym.evaluation.harness import evaluate
from studygym.evaluation.tuning import (TUNED_SUFFIX, TUNING_SEED, load_tuning, merge_tuning, save_tuning, tune,
                             tuned_policies, tuning_markdown)

ENV = "Review-v0"
SMALL = {"n_items": 8, "n_days": 4}
GRIDS = {"hlr": (0.1, 0.9), "fsrs": (0.7, 0.95)}


@pytest.fixture(scope="module")
def record():
    return tune(ENV, SMALL, n_learners=16, policies=["hlr", "fsrs"], grids=GRIDS)


def test_tuning_picks_the_best_grid_value_on_training_learners(record):
    assert record["seed"] == TUNING_SEED and record["objective"] == "episode_return"
    for name, entry in record["policies"].items():
        means = [r["mean"] for r in entry["grid"]]
        assert [r["value"] for r in entry["grid"]] == list(GRIDS[name])
        assert entry["chosen"][entry["setting"]] == GRIDS[name][int(np.argmax(means))]
    # Re-measured independently: the recorded mean of the chosen hlr threshold is what the harness gives.
    hlr = record["policies"]["hlr"]
    env, _ = studygym.make(ENV, **SMALL)
    (policy,) = [p for p in tuned_policies(env, record) if p.name == "hlr" + TUNED_SUFFIX]
    assert policy.threshold == hlr["chosen"]["threshold"]
    df = evaluate([policy], ENV, n_learners=16, seed=TUNING_SEED, curves=False, **SMALL)
    chosen_row = [r for r in hlr["grid"] if r["value"] == policy.threshold][0]
    assert df["episode_return"].mean() == pytest.approx(chosen_row["mean"], abs=1e-6)


def test_grid_values_differ_so_the_knob_matters(record):
    fsrs = [r["mean"] for r in record["policies"]["fsrs"]["grid"]]
    assert abs(fsrs[0] - fsrs[1]) > 1e-4


def test_saved_tuning_round_trips_and_is_not_overwritten(record, tmp_path):
    path = save_tuning(record, tmp_path)
    assert load_tuning(tmp_path, ENV, SMALL) == json.loads(path.read_text())
    with pytest.raises(FileExistsError, match="force"):
        save_tuning(record, tmp_path)
    assert load_tuning(tmp_path, ENV, {"n_items": 9}) is None
    tampered = json.loads(path.read_text())
    tampered["overrides"] = {"n_items": 99}
    path.write_text(json.dumps(tampered))
    with pytest.raises(ValueError, match="expected"):
        load_tuning(tmp_path, ENV, SMALL)
    assert "| hlr | threshold |" in tuning_markdown(record)


def test_merge_adds_a_baseline_and_keeps_the_others(record):
    """tune_baselines --merge: a newly tuned baseline joins an existing record; the others, and the
    record's own learners, stay as they were; the new entry says on how many learners it was tuned."""
    fsrs_only = {**record, "n_learners": 4, "seconds": 1.0,
                 "policies": {"fsrs": {**record["policies"]["fsrs"], "chosen": {"desired_retention": 0.7}}}}
    old = {**record, "policies": {"hlr": record["policies"]["hlr"]}}
    merged = merge_tuning(old, fsrs_only)
    assert list(merged["policies"]) == ["hlr", "fsrs"] and merged["n_learners"] == record["n_learners"]
    assert merged["policies"]["hlr"] == record["policies"]["hlr"]
    assert merged["policies"]["fsrs"]["chosen"] == {"desired_retention": 0.7}
    assert merged["policies"]["fsrs"]["n_learners"] == 4
    assert "| fsrs (4 learners) |" in tuning_markdown(merged)
    assert merge_tuning(None, fsrs_only) is fsrs_only
    with pytest.raises(ValueError, match="overrides"):
        merge_tuning(old, {**fsrs_only, "overrides": {"n_items": 9}})


def test_tuned_rows_sit_beside_the_published_defaults(record):
    from studygym.evaluation.harness import resolve_policies

    env, _ = studygym.make(ENV, **SMALL)
    names = [p.name for p in resolve_policies("hlr,fsrs", env) + tuned_policies(env, record)]
    assert names == ["hlr", "fsrs", "hlr_tuned", "fsrs_tuned"]


def test_unknown_knob_is_a_clear_error():
    with pytest.raises(ValueError, match="no tunable knob"):
        tune(ENV, SMALL, n_learners=2, policies=["sm2"])


def test_tuning_script_writes_the_grid_and_the_table(tmp_path):
    """scripts/tune_baselines.py on a small grid, as CI runs it."""
    script = load_script("tune_baselines")
    args = ["--env", ENV, "--overrides", json.dumps(SMALL), "--learners", "4", "--policies", "hlr",
            "--grids", json.dumps({"hlr": [0.1, 0.9]}), "--out", str(tmp_path)]
    assert script.main(args) == 0
    record = load_tuning(tmp_path, ENV, SMALL)
    assert [r["value"] for r in record["policies"]["hlr"]["grid"]] == [0.1, 0.9]
    assert "| hlr | threshold |" in (tmp_path / "tuning.md").read_text()
    with pytest.raises(SystemExit):  # an existing tuning is not overwritten without --force
        script.main(args)


@pytest.mark.parametrize("env_id, overrides, name, grid, attribute", [
    ("Practice-v0", {"n_days": 2, "trials_per_day": 12}, "adaptive_85", (0.6, 0.85), "target"),
    ("Practice-v0", {"n_days": 2, "trials_per_day": 12, "n_levels": 4}, "fixed_level_2", (0, 3, 7), "fixed_level"),
    ("SSPMMC-DHP-v0", {"deck_size": 100, "n_days": 30}, "dhp_threshold", (0.5, 0.9), "threshold"),
])
def test_practice_and_sspmmc_knobs_tune_and_build(env_id, overrides, name, grid, attribute):
    """The Practice-v0 rules' and SSP-MMC THRESHOLD's knobs: the grid (only the env's levels) is
    evaluated and the tuned row carries the chosen value."""
    rec = tune(env_id, overrides, n_learners=4, policies=[name], grids={name: grid})
    entry = rec["policies"][name]
    values = [r["value"] for r in entry["grid"]]
    levels = overrides.get("n_levels")
    assert values == [v for v in grid if levels is None or v < levels]
    means = [r["mean"] for r in entry["grid"]]
    assert entry["chosen"][entry["setting"]] == values[int(np.argmax(means))]
    env, _ = studygym.make(env_id, **overrides)
    (policy,) = tuned_policies(env, rec)
    assert policy.name == name + TUNED_SUFFIX
    assert getattr(policy, attribute) == entry["chosen"][entry["setting"]]


def test_extending_a_grid_equals_tuning_the_whole_grid(tmp_path):
    """tune_baselines --extend: only the values a saved grid lacks are evaluated (and the value chosen
    before, re-checked); the record equals a full tuning of the grown grid on the same learners."""
    script = load_script("tune_baselines")
    base = ["--env", ENV, "--overrides", json.dumps(SMALL), "--learners", "4", "--policies", "hlr", "--out", str(tmp_path)]
    assert script.main([*base, "--grids", json.dumps({"hlr": [0.1, 0.9]})]) == 0
    assert script.main([*base, "--grids", json.dumps({"hlr": [0.05, 0.1, 0.5, 0.9]}), "--extend"]) == 0
    extended = load_tuning(tmp_path, ENV, SMALL)["policies"]["hlr"]
    full = tune(ENV, SMALL, n_learners=4, policies=["hlr"], grids={"hlr": (0.05, 0.1, 0.5, 0.9)})["policies"]["hlr"]
    assert [r["value"] for r in extended["grid"]] == [0.05, 0.1, 0.5, 0.9]
    assert np.allclose([r["mean"] for r in extended["grid"]], [r["mean"] for r in full["grid"]], atol=1e-6)
    assert extended["chosen"] == full["chosen"]


def test_extending_refuses_saved_means_that_do_not_reproduce(record):
    from studygym.evaluation.tuning import extend_tuning

    hlr = record["policies"]["hlr"]
    stale = {**record, "policies": {"hlr": {**hlr, "grid": [{**r, "mean": r["mean"] + 0.01} for r in hlr["grid"]]}}}
    with pytest.raises(ValueError, match="does not reproduce"):
        extend_tuning(stale, {**record, "policies": {"hlr": hlr}})
    with pytest.raises(ValueError, match="not in the saved tuning"):
        extend_tuning({**record, "policies": {}}, {**record, "policies": {"hlr": hlr}})


def test_edge_and_flat_choices_are_marked_in_the_table():
    from studygym.evaluation.tuning import edge_note

    def entry(means, chosen):
        grid = [{"value": v, "mean": m, "lo": m, "hi": m, "failed": False} for v, m in zip((0.1, 0.5, 0.9), means)]
        return {"setting": "threshold", "grid": grid, "chosen": {"threshold": chosen}}

    assert edge_note("hlr", entry((0.2, 0.2, 0.2), 0.1)) == " (flat)"
    assert edge_note("hlr", entry((0.1, 0.2, 0.3), 0.9)) == " (grid edge; between 0 and 1)"
    assert edge_note("hlr", entry((0.1, 0.3, 0.2), 0.5)) == ""
    record = {"env_id": ENV, "overrides": {}, "objective": "episode_return", "seed": 0, "n_learners": 4,
              "policies": {"hlr": entry((0.1, 0.2, 0.3), 0.9)}}
    assert "| 0.9 (grid edge; between 0 and 1) |" in tuning_markdown(record)


def test_board_policies_are_the_defaults_the_references_and_the_tuned_rows(record, tmp_path):
    """suites.board_policies (run_agents, run_curriculum, run_brain_tasks): every published-default row,
    oracle_greedy and the planner, then one ``_tuned`` row per saved tuning."""
    from studygym.evaluation.suites import all_policies, board_policies

    save_tuning(record, tmp_path)
    env, _ = studygym.make(ENV, **SMALL)
    names = [p.name for p in board_policies(ENV, SMALL, tuning_dir=tmp_path)]
    assert names == [p.name for p in all_policies(env)] + ["hlr" + TUNED_SUFFIX, "fsrs" + TUNED_SUFFIX]
    assert {"oracle_greedy", "planner"} <= set(names)
