"""Issue 20, part 1: the fuzzing findings, one regression test per case.

Each test feeds the bad input the fuzzing pass found and asserts a clear error (naming the field,
file and line, or the saved-policy file) or the defined behaviour. Grouped as the issue groups them:
data overwritten or work lost, silent wrong results, obscure crashes, and the CLI's one-line errors.
"""

import json
import math
import os
import shutil
from pathlib import Path

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import studygym
from studygym.cli import main
from studygym.fitting.data import CSV_COLUMNS, load_csv

TINY = {"n_items": 5, "n_days": 2, "slots_per_day": 3}
HEADER = ",".join(CSV_COLUMNS)


def write_csv(tmp_path: Path, rows: list[str], name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def one_error_line(capsys) -> str:
    """The CLI's stderr: exactly one line, ``studygym: error: ...`` (no traceback)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("studygym: error: "), err
    assert "Traceback" not in err
    return lines[0]


# ================================================================================================
# Data overwritten or work lost
# ================================================================================================


def test_bench_refuses_an_existing_suite_leaderboard_before_any_work(tmp_path, capsys):
    (tmp_path / "classic").mkdir()
    board = tmp_path / "classic" / "leaderboard.md"
    board.write_text("mine")
    assert main(["bench", "--suite", "classic", "--out", str(tmp_path), "--learners", "1"]) == 2
    assert "leaderboard.md" in capsys.readouterr().err
    assert board.read_text() == "mine"
    assert not (tmp_path / "classic" / "review-v0").exists()  # refused before the first env ran


def test_demo_refuses_to_overwrite_without_force(tmp_path, capsys):
    run = tmp_path / "demo" / "ppo"
    run.mkdir(parents=True)
    (run / "config.json").write_text("{}")
    # Refused before training: the default 400k steps would take minutes.
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert "config.json" in one_error_line(capsys) and (run / "config.json").read_text() == "{}"
    (tmp_path / "classic").mkdir()
    (tmp_path / "classic" / "leaderboard.md").write_text("mine")
    assert main(["demo", "--out", str(tmp_path), "--train-steps", "0"]) == 2
    assert "leaderboard.md" in one_error_line(capsys)
    assert (tmp_path / "classic" / "leaderboard.md").read_text() == "mine"


def test_demo_reuse_agent_needs_a_saved_run_and_suite_envs_are_checked(tmp_path, capsys):
    """``studygym demo --reuse-agent`` re-runs only the classic suite with the saved PPO run: without
    one it is a clear error before any work; ``run_suite(env_ids=...)`` names the suite's envs."""
    from studygym.evaluation.suites import run_suite

    assert main(["demo", "--out", str(tmp_path), "--reuse-agent"]) == 2
    assert "--reuse-agent: no saved PPO run" in one_error_line(capsys)
    assert not (tmp_path / "classic").exists()
    with pytest.raises(ValueError, match="has no env.*Review-v0"):
        run_suite("classic", tmp_path, learners=1, env_ids=["Nope-v0"])


def test_make_demo_passes_force_for_its_committed_results():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    demo_rule = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "studygym demo --force" in demo_rule


def test_sweep_presets_sanitising_to_one_folder_are_rejected():
    from studygym.evaluation.sweep import config_from_dict

    with pytest.raises(ValueError, match="would both write the folder"):
        config_from_dict({"envs": ["Review-v0"], "policies": ["random"], "learners": 1,
                          "overrides": {"n_items": 5}, "presets": {"a b": {}, "a/b": {}}})


SWEEP_TOML = """
envs = ["Review-v0"]
policies = ["random"]
learners = 1
[overrides]
n_items = 5
n_days = 2
"""


def test_sweep_with_an_old_group_folder_refuses_before_any_cell(tmp_path, capsys):
    from studygym.evaluation.sweep import check_sweep_writable, group_folder, load_config

    config_path = tmp_path / "sweep.toml"
    config_path.write_text(SWEEP_TOML)
    out = tmp_path / "out"
    old = out / group_folder("Review-v0", "default")
    old.mkdir(parents=True)
    (old / "leaderboard.md").write_text("old")
    with pytest.raises(FileExistsError, match="leaderboard.md"):
        check_sweep_writable(load_config(config_path), out)
    assert main(["sweep", str(config_path), "--out", str(out), "--serial"]) == 2
    captured = capsys.readouterr()
    assert "[1/" not in captured.out  # no cell ran (the serial backend prints each finished cell)
    assert "leaderboard.md" in captured.err
    assert (old / "leaderboard.md").read_text() == "old" and not (out / "episodes.csv").exists()


@pytest.mark.parametrize("command", [
    ["evaluate", "--env", "Review-v0", "--policies", "random", "--learners", "1", "--set", "n_items=5"],
    ["fit", "builtin", "--steps", "1"],
])
def test_unwritable_out_fails_before_the_run(tmp_path, capsys, command):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main([*command, "--out", str(blocker / "results")]) == 2
    line = one_error_line(capsys)
    assert "a_file" in line and "is a file" in line


def test_reference_typo_fails_before_the_run(tmp_path, capsys):
    assert main(["evaluate", "--env", "Review-v0", "--policies", "random,fsrs", "--learners", "1",
                 "--set", "n_items=5", "--reference", "fsrss", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--reference 'fsrss'" in err and "did you mean 'fsrs'" in err
    assert "evaluate Review-v0" not in err  # no progress bar: no learner ran
    assert not (tmp_path / "o").exists()


# ================================================================================================
# Silent wrong results
# ================================================================================================


@pytest.mark.parametrize("key, value, name", [("cost_per_minute", [0.1, 0.2], "cost_per_minute"),
                                              ("slot_minutes", [1, 2], "slot_minutes"),
                                              ("forget_sd", [0.1, 0.2, 0.3], "learner.forget_sd")])
def test_list_for_a_scalar_param_is_rejected_naming_it(key, value, name):
    with pytest.raises(ValueError, match=f"^{name} must be a scalar"):
        studygym.make("Review-v0", **{key: value})


def test_an_array_param_keeps_its_shape():
    """Two grade probabilities for four would be read out of bounds (JAX clamps indices)."""
    with pytest.raises(ValueError, match=r"^learner\.first_grade_probs must be of shape \(4,\)"):
        studygym.make("Review-v0", first_grade_probs=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"^cost_per_minute must fit in float32"):
        studygym.make("Review-v0", cost_per_minute=1e300)


def test_cli_set_list_for_a_scalar_param_is_one_error_line(tmp_path, capsys):
    assert main(["evaluate", "--env", "Review-v0", "--policies", "random", "--learners", "1",
                 "--set", "cost_per_minute=[0.1,0.2]", "--out", str(tmp_path / "o")]) == 2
    assert "cost_per_minute must be a scalar" in one_error_line(capsys)


def saved_ppo(tmp_path: Path) -> Path:
    from studygym.agents.ppo import untrained

    return untrained("Review-v0", overrides={"n_items": 5}).save(tmp_path / "ppo_run")


def test_nan_weights_in_a_ppo_run_are_rejected_naming_the_file(tmp_path):
    from studygym.agents.ppo import load_ppo

    run = saved_ppo(tmp_path)
    arrays = dict(np.load(run / "params.npz"))
    name = sorted(arrays)[0]
    arrays[name] = np.full_like(arrays[name], np.nan)
    np.savez(run / "params.npz", **arrays)
    with pytest.raises(ValueError, match=r"params\.npz: array .* NaN/inf"):
        load_ppo(run)


def sb3_run(tmp_path: Path, obs_size: int = 29, n_actions: int = 6, hidden: int = 4, **arrays) -> Path:
    """A saved SB3 run in the exporter's format (agents/sb3.py ``export``): one hidden layer."""
    rng = np.random.default_rng(0)
    data = {"layer0_w": rng.normal(size=(obs_size, hidden)).astype(np.float32),
            "layer0_b": np.zeros(hidden, np.float32),
            "layer1_w": rng.normal(size=(hidden, n_actions)).astype(np.float32),
            "layer1_b": np.zeros(n_actions, np.float32),
            "obs_mean": np.zeros(obs_size), "obs_var": np.ones(obs_size)}
    data.update(arrays)
    network = {"kind": "actor_mlp", "obs_shape": [obs_size], "obs_size": obs_size, "sizes": [obs_size, hidden, n_actions],
               "activations": ["tanh", None], "action": "discrete", "n_actions": n_actions, "action_shape": [],
               "action_low": None, "action_high": None, "normalize_obs": True, "clip_obs": 10.0, "obs_epsilon": 1e-8}
    run = tmp_path / "sb3_run"
    run.mkdir(exist_ok=True)
    np.savez(run / "params.npz", **data)
    (run / "config.json").write_text(json.dumps({"agent": "sb3-ppo", "algo": "ppo", "network": network}))
    return run


def test_sb3_loader_reads_a_good_run(tmp_path):
    from studygym.agents.sb3 import load_sb3

    env, params = studygym.make("Review-v0", n_items=5)
    policy = load_sb3(sb3_run(tmp_path), env)
    action, _ = policy.act(jax.random.key(0), (), env.reset(jax.random.key(0), params)[0])
    assert 0 <= int(action) < 6


@pytest.mark.parametrize("env_id, match", [("Reveiw-v0", "not a registered env.*Review-v0"),
                                            ("Curriculum-v0", "trained on 'Curriculum-v0'.*'Review-v0'")])
def test_sb3_run_with_a_tampered_env_id_is_rejected(tmp_path, env_id, match):
    """config.json's env_id must be a registered env, and the env the policy runs on (its MLP
    reads that env's flat observation layout, even where another env has the same size)."""
    from studygym.agents.sb3 import load_sb3

    run = sb3_run(tmp_path)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "env_id": env_id}))
    env, _ = studygym.make("Review-v0", n_items=5)
    with pytest.raises(ValueError, match=match):
        load_sb3(run, env)


@pytest.mark.parametrize("bad", [{"layer1_w": np.full((4, 6), np.inf, np.float32)},
                                 {"obs_mean": np.full(29, np.nan)}, {"obs_var": np.full(29, np.nan)},
                                 {"obs_var": -np.ones(29)}])
def test_nan_weights_and_normalisation_stats_in_an_sb3_run_are_rejected(tmp_path, bad):
    from studygym.agents.sb3 import load_sb3

    with pytest.raises(ValueError, match=r"params\.npz"):
        load_sb3(sb3_run(tmp_path, **bad))


ENV_ACTIONS = [2.7, -0.5, float("nan"), float("inf"), -float("inf"), 3.0, 5.0, 6.0]


def test_functional_env_action_rule_is_the_same_eagerly_and_jitted():
    """Float actions count only as finite whole numbers in range (3.0 is item 3); the rest (2.7,
    -0.5, NaN, inf) are invalid actions: rest and ``invalid_action``, eagerly as under jit."""
    env, params = studygym.make("Review-v0", **TINY)
    _, state = env.reset(jax.random.key(0), params)
    jitted = jax.jit(env.step)
    for action in ENV_ACTIONS:
        expected_invalid = not (math.isfinite(action) and action == round(action) and 0 <= action <= 5)
        eager = env.step(jax.random.key(1), state, action, params)
        traced = jitted(jax.random.key(1), state, jnp.float32(action), params)
        for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(traced)):  # op-by-op vs fused: 1 ulp
            np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=1e-6, atol=1e-7)
        assert bool(eager[5]["invalid_action"]) == expected_invalid, action
        if expected_invalid:  # like resting: no review recorded
            assert int(eager[5]["reviews"]) == 0 and int(eager[5]["grade"]) == 0
    whole = env.step(jax.random.key(1), state, 3.0, params)
    as_int = env.step(jax.random.key(1), state, 3, params)
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(as_int)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_functional_env_rejects_bool_and_non_int32_actions_eagerly_and_jitted():
    env, params = studygym.make("Review-v0", **TINY)
    _, state = env.reset(jax.random.key(0), params)
    for step in (env.step, jax.jit(env.step)):
        with pytest.raises(TypeError, match="bool"):
            step(jax.random.key(1), state, True, params)
        with pytest.raises(ValueError, match="scalar"):
            step(jax.random.key(1), state, jnp.array([1, 2]), params)
    with pytest.raises(ValueError, match="does not fit in int32"):
        env.step(jax.random.key(1), state, 2**31, params)


def test_functional_env_action_rule_holds_inside_evaluate():
    """A policy emitting NaN is flagged as invalid in evaluate exactly as eagerly."""
    from studygym.agents.policy import Constant
    from studygym.evaluation.harness import evaluate

    df = evaluate([Constant(float("nan"), name="nan_action")], "Review-v0", n_learners=2, **TINY)
    assert df["failed"].all() and "invalid" in df["failure"].iloc[0]


def test_deck_list_action_is_rejected():
    env, params = studygym.make("Deck-v0", deck_size=20, n_days=3)
    _, state = env.reset(jax.random.key(0), params)
    with pytest.raises(ValueError, match=r"shape \(1,\)"):  # raised before any computation
        env.step(jax.random.key(1), state, jnp.array([0.75, 0.99]), params)
    from studygym.envs.core import normalize_action

    for ok in (jnp.array([0.9]), 0.9):  # the declared shape, and a scalar for a one-value Box
        assert np.asarray(normalize_action(env.action_space(), ok)).size == 1


def test_compact_iso_date_is_a_date_not_milliseconds(tmp_path):
    log = load_csv(write_csv(tmp_path, ["1,3,20240105,100", "1,3,2024-01-07T00:00:00Z,100"]))
    assert log["review_time"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-05", "2024-01-07"]


def test_card_ids_01_and_1_are_two_cards(tmp_path):
    log = load_csv(write_csv(tmp_path, ["01,3,2024-01-05T00:00:00Z,100", "1,3,2024-01-06T00:00:00Z,100"]))
    assert sorted(log["card_id"]) == ["01", "1"] and log["card_id"].nunique() == 2


def test_fitted_weights_follow_key_names_not_order(tmp_path):
    from studygym.fitting.core import FitResult, get_model

    names = get_model("fsrs").param_names
    values = np.linspace(0.1, 2.1, len(names))
    result = FitResult("fsrs", {n: float(v) for n, v in zip(names, values)}, {}, {}, "test")
    path = tmp_path / "params.json"
    data = result.to_dict()
    data["params"] = dict(reversed(list(data["params"].items())))  # a hand-edited or re-serialised file
    path.write_text(json.dumps(data))
    np.testing.assert_allclose(FitResult.load(path).weights, values.astype(np.float32))
    data["params"].pop(names[0])
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="missing w0"):
        FitResult.load(path).weights


def test_vector_env_reset_needs_one_seed_per_sub_env():
    env = gymnasium.make_vec("studygym/Review-v0", num_envs=3, **TINY)
    with pytest.raises(ValueError, match="expected 3 seeds"):
        env.reset(seed=[1, 2])
    assert env.reset(seed=[1, 2, 3])[0].shape[0] == 3


def test_learners_zero_is_an_error_not_the_default(tmp_path, capsys):
    from studygym.evaluation.suites import run_suite

    with pytest.raises(ValueError, match="learners must be a positive integer, got 0"):
        run_suite("classic", tmp_path, learners=0)
    assert main(["bench", "--learners", "0", "--out", str(tmp_path)]) != 0
    assert "positive integer" in capsys.readouterr().err and not (tmp_path / "classic").exists()


def strict_json(text: str):
    def no_constants(name):
        raise ValueError(f"bare {name} in JSON")

    return json.loads(text, parse_constant=no_constants)


def test_params_and_metrics_json_are_strict_json_with_null_for_nan(tmp_path):
    from studygym.files import dumps_json
    from studygym.fitting.core import FitResult

    result = FitResult("hlr", {"logit_recall": 1.0}, {"test": {"auc": float("nan"), "log_loss": float("inf")}},
                       {"cutoff": "x"}, "test")
    result.save_params(tmp_path / "params.json")
    data = strict_json((tmp_path / "params.json").read_text())
    assert data["metrics"]["test"] == {"auc": None, "log_loss": None}
    assert strict_json(dumps_json({"a": [np.float32("nan"), 1.5]})) == {"a": [None, 1.5]}


def test_tampered_ppo_config_is_rejected_naming_the_file(tmp_path):
    from studygym.agents.ppo import load_ppo

    run = saved_ppo(tmp_path)
    original = json.loads((run / "config.json").read_text())
    for change in ({"network": {**original["network"], "history_columns": [0, 1, 99, 4]}},
                   {"env_id": "Deck-v0"}):
        (run / "config.json").write_text(json.dumps({**original, **change}))
        with pytest.raises(ValueError, match=r"config\.json"):
            load_ppo(run)


def test_gymnasium_env_refuses_to_step_past_the_horizon():
    """Past the end the observation would leave its Box: the Gymnasium env raises until reset()
    (it passes Gymnasium's checker, and every observation it returns is inside the space)."""
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make("studygym/Review-v0", **TINY)
    check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=0)
    steps = studygym.make("Review-v0", **TINY)[0].max_steps
    for t in range(steps):
        obs, _, terminated, _, _ = env.step(t % 6)
        assert env.observation_space.contains(obs) and terminated == (t == steps - 1)
    with pytest.raises(RuntimeError, match="episode has ended.*call reset"):
        env.step(1)
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    env.step(1)  # a new episode steps again


# ================================================================================================
# Obscure crashes
# ================================================================================================


@pytest.mark.parametrize("damage, match", [
    (lambda run: shutil.rmtree(run), r"params\.npz not found"),
    (lambda run: (run / "config.json").unlink(), r"config\.json not found"),
    (lambda run: (run / "config.json").write_text("{not json"), r"config\.json: not valid JSON \(line 1"),
    (lambda run: (run / "config.json").write_text("[1, 2]"), r"config\.json must hold a JSON object"),
    (lambda run: (run / "params.npz").write_bytes(b""), r"params\.npz: not a readable \.npz"),
    (lambda run: (run / "params.npz").write_bytes(b"garbage" * 20), r"params\.npz: not a readable \.npz"),
    (lambda run: np.savez(run / "params.npz", x=np.zeros(3)), r"params\.npz does not match the network"),
])
def test_damaged_ppo_run_is_one_clear_error_naming_the_file(tmp_path, capsys, damage, match):
    from studygym.agents.ppo import load_ppo

    run = saved_ppo(tmp_path)
    damage(run)
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_ppo(run)
    assert main(["evaluate", "--env", "Review-v0", "--set", "n_items=5", "--policies", f"ppo:{run}",
                 "--learners", "1", "--out", str(tmp_path / "o")]) == 2
    assert "ppo_run" in one_error_line(capsys)


@pytest.mark.parametrize("damage, match", [
    (lambda run: (run / "params.npz").write_bytes(b""), r"params\.npz: not a readable"),
    (lambda run: (run / "config.json").write_text("{"), r"config\.json: not valid JSON"),
    (lambda run: np.savez(run / "params.npz", layer0_w=np.zeros((3, 3))), r"network does not match params\.npz"),
])
def test_damaged_sb3_run_is_one_clear_error_naming_the_file(tmp_path, damage, match):
    from studygym.agents.sb3 import load_sb3

    run = sb3_run(tmp_path)
    damage(run)
    with pytest.raises(ValueError, match=match):
        load_sb3(run)


@pytest.mark.parametrize("row, match", [
    ("123456789012345678901234567890,3,2024-01-05T00:00:00Z,100", None),  # a huge id is just text
    ("1,3,2024-01-05T00:00:00Z,1e30", "line 2: review_duration must be at most"),
    ("1,3,2024-01-05T00:00:00Z,inf", "line 2: review_duration"),
    ("1,3,99999999999999999999,100", "line 2: review_time"),
    ("1,3,0001-01-01T00:00:00,100", "line 2: review_time .* between 2006 and 2199"),
    ("1,3,9999-12-31T00:00:00,100", "line 2: review_time"),
    ("1,3,-99999999999999,100", "line 2: review_time"),
])
def test_csv_extremes_name_the_file_and_line(tmp_path, row, match):
    path = write_csv(tmp_path, [row])
    if match is None:
        assert load_csv(path)["card_id"].tolist() == [row.split(",")[0]]
        return
    with pytest.raises(ValueError, match=match) as error:
        load_csv(path)
    assert str(path) in str(error.value)


def test_fit_on_huge_card_ids_runs(tmp_path, capsys):
    """Card ids of 30+ digits (an OverflowError in fit before ids stayed text) fit like any others."""
    from studygym.fitting.data import builtin_log

    log = builtin_log()
    part = log[log["card_id"].isin(log["card_id"].drop_duplicates().iloc[:40])]
    codes = pd.factorize(part["card_id"])[0]
    pd.DataFrame({"card_id": ["9" * 30 + str(c) for c in codes], "review_rating": part["rating"].values,
                  "review_time": part["review_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").values,
                  "review_duration": part["duration_ms"].astype("float").fillna(0).astype(int).values,
                  }).to_csv(tmp_path / "huge.csv", index=False)
    assert main(["fit", str(tmp_path / "huge.csv"), "--steps", "3", "--out", str(tmp_path / "o")]) == 0
    metrics = strict_json((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["split"]["cards"] == 40 and metrics["test"]["reviews"] > 0


def revlog_export(tmp_path: Path, rows) -> Path:
    import sqlite3
    import zipfile

    collection = tmp_path / "collection.anki21"
    connection = sqlite3.connect(collection)
    connection.execute("CREATE TABLE revlog (id INTEGER PRIMARY KEY, cid INTEGER, usn INTEGER, ease INTEGER, "
                       "ivl INTEGER, lastIvl INTEGER, factor INTEGER, time INTEGER, type INTEGER)")
    connection.executemany("INSERT INTO revlog VALUES (?, ?, 0, ?, 1, 0, 2500, ?, ?)", rows)
    connection.commit()
    connection.close()
    export = tmp_path / "deck.colpkg"
    with zipfile.ZipFile(export, "w") as archive:
        archive.write(collection, "collection.anki21")
    return export


@pytest.mark.parametrize("row, match", [
    ((2**62, 1, 3, 1000, 1), "row id 4611686018427387904: id is not a millisecond timestamp"),
    ((1_700_000_000_000, 1, 3, 2**62, 1), "time must be at most"),
    ((1_700_000_000_000, 2**62, 3, 1000, 1), None),  # a huge card id is a card id
])
def test_revlog_extremes_name_the_row(tmp_path, row, match):
    from studygym.fitting.data import load_log

    export = revlog_export(tmp_path, [row])
    if match is None:
        assert load_log(export)["card_id"].tolist() == [row[1]]
        return
    with pytest.raises(ValueError, match=match) as error:
        load_log(export)
    assert "deck.colpkg" in str(error.value)


@pytest.mark.parametrize("overrides, match", [
    ({"learner": None}, "^learner must be a str"),
    ({"n_items": 10**9}, "^n_items must be at most 1,000,000"),
    ({"delay_days": 10**9}, "^delay_days must be at most 36,500"),
    ({"n_items": 2.5}, "^n_items must be a int"),
    ({"n_days": 10**7}, "episode of 100,000,000 steps"),
])
def test_extreme_config_values_name_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        studygym.make("Review-v0", **overrides)


def test_gymnasium_step_inf_and_huge_actions_are_clear_errors():
    env = gymnasium.make("studygym/Review-v0", **TINY)
    env.reset(seed=0)
    for action in (float("inf"), float("nan"), 2**31, 2.7, True):
        with pytest.raises(ValueError, match="Review-v0: action"):
            env.step(action)


def test_huge_seed_is_an_error_naming_it(tmp_path, capsys):
    from studygym.evaluation.harness import evaluate

    with pytest.raises(ValueError, match=r"^seed must be an integer in \[0, 2\*\*63 - 1\]"):
        evaluate("random", "Review-v0", n_learners=1, seed=2**64, **TINY)
    assert main(["evaluate", "--env", "Review-v0", "--policies", "random", "--learners", "1", "--seed", str(2**64),
                 "--out", str(tmp_path / "o")]) == 2
    assert "--seed must be an integer" in one_error_line(capsys)
    venv = gymnasium.make_vec("studygym/Review-v0", num_envs=2, **TINY)
    with pytest.raises(ValueError, match="seed must be an integer"):
        venv.reset(seed=[0, 2**64])


# ================================================================================================
# No traceback reaches a CLI user
# ================================================================================================


@pytest.mark.parametrize("argv", [
    ["evaluate", "--env", "Reveiw-v0", "--out", "{tmp}/o"],  # ValueError: unknown env
    ["evaluate", "--env", "Review-v0", "--policies", "ppo:{tmp}/missing", "--out", "{tmp}/o"],  # FileNotFoundError
    ["evaluate", "--env", "Review-v0", "--set", "learner=None", "--out", "{tmp}/o"],
    ["fit", "{tmp}/missing.csv", "--out", "{tmp}/o"],
    ["sweep", "{tmp}/missing.toml", "--out", "{tmp}/o"],
])
def test_cli_user_errors_are_one_line(tmp_path, capsys, argv):
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    one_error_line(capsys)


def test_cli_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    """--debug (before the command) or STUDYGYM_DEBUG=1 lets the exception through."""
    run = saved_ppo(tmp_path)
    argv = ["evaluate", "--env", "Review-v0", "--set", "n_items=5", "--policies", f"ppo:{run}",
            "--learners", "1", "--out", str(tmp_path / "o")]
    (run / "config.json").write_text(json.dumps({"agent": "ppo", "network": None}))
    assert main(argv) == 2
    assert "config.json" in one_error_line(capsys)
    monkeypatch.setenv("STUDYGYM_DEBUG", "1")
    with pytest.raises(ValueError, match="config.json"):
        main(argv)
    monkeypatch.delenv("STUDYGYM_DEBUG")
    with pytest.raises(ValueError, match="config.json"):
        main(["--debug", *argv])


def test_cli_internal_error_is_one_line_with_a_hint(tmp_path, capsys, monkeypatch):
    """An internal error (not a user-input one): exit 1, one line saying how to see the traceback.
    A command module that fails the way a bug would (RuntimeError) stands in for one."""
    import sys
    import types

    from studygym import cli

    module = types.ModuleType("studygym_test_broken_command")
    module.add_arguments = lambda parser: None

    def broken(args):
        raise RuntimeError("an internal bug")

    module.run = broken
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(cli.COMMANDS, "broken", (module.__name__, "a broken command"))
    assert main(["broken"]) == 1
    line = one_error_line(capsys)
    assert "internal error RuntimeError: an internal bug" in line and "STUDYGYM_DEBUG=1" in line
    with pytest.raises(RuntimeError):
        main(["--debug", "broken"])
