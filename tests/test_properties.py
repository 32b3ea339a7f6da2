"""Issue 20, part 2: property-based tests (hypothesis) of every public entry point.

Each feeds generated bad values (wrong types, shapes, NaN/inf, extremes) and asserts one of two
outcomes: a ``ValueError``/``TypeError`` whose message names the argument (or the file and line),
or a finite result inside the declared spaces. Every test compiles at most once (the jitted step is
built once per module and reused; params keep their shapes), so the whole file runs in the default
suite in well under a minute.
"""

import functools
import json
import math
import tempfile
from pathlib import Path

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import studygym
from studygym.cli.evaluate import parse_override
from studygym.fitting.data import CSV_COLUMNS, load_csv

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TINY = {"n_items": 5, "n_days": 2, "slots_per_day": 3}

#: Generated bad values of every kind: wrong types, shapes, NaN/inf, extremes.
BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=8),
    st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 1e-320, 0, -1, 2**31, 2**63]),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.lists(st.lists(st.integers(-3, 3), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
CONFIG_KEYS = ("n_items", "slots_per_day", "n_days", "delay_days", "learner")
PARAM_KEYS = ("slot_minutes", "night_hours", "sleep_hours", "cost_per_minute", "rating_seconds",
              "w", "forget_sd", "difficulty_sd", "first_grade_probs", "success_grade_probs", "start_hour")


def params_finite(params) -> bool:
    return all(np.all(np.isfinite(np.asarray(leaf, np.float64))) for leaf in jax.tree.leaves(params))


def check_make(key, value, env_id="Review-v0", base=None):
    """``make(env_id, key=value)`` raises naming ``key``, or gives finite params."""
    try:
        env, params = studygym.make(env_id, **{**(base or {}), key: value})
    except (ValueError, TypeError) as error:
        assert key in str(error), f"{key}={value!r}: {error}"
        return None
    assert params_finite(params), f"{key}={value!r} gave non-finite params"
    return env, params


# -- studygym.make / gymnasium.make ------------------------------------------------------------


@FAST
@given(key=st.sampled_from(CONFIG_KEYS + PARAM_KEYS), value=BAD_VALUES)
def test_make_rejects_bad_values_naming_them(key, value):
    check_make(key, value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(("deck_size", "n_days", "new_per_day", "max_interval", "cost_per_minute",
                            "max_minutes_per_day")), value=BAD_VALUES)
def test_make_deck_rejects_bad_values_naming_them(key, value):
    check_make(key, value, "Deck-v0")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(CONFIG_KEYS + PARAM_KEYS[:4]), value=BAD_VALUES)
def test_gymnasium_make_rejects_bad_values_naming_them(key, value):
    try:
        env = gymnasium.make("studygym/Review-v0", disable_env_checker=True, **{**TINY, key: value})
    except (ValueError, TypeError) as error:
        assert key in str(error), f"{key}={value!r}: {error}"
        return
    assert params_finite(env.unwrapped.params)


# -- functional env reset/step -----------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def functional_env():
    """Review-v0 (tiny) with a jitted reset+step: compiled once for float32 and once for int32 actions."""
    env, params = studygym.make("Review-v0", **TINY)

    @jax.jit
    def reset_step(key, action, params):
        obs0, state = env.reset(key, params)
        obs, state, reward, terminated, truncated, info = env.step(jax.random.fold_in(key, 1), state, action, params)
        return obs0, obs, reward, info["invalid_action"], info["reviews"]

    return env, params, reset_step


def check_in_space(env, params, obs):
    space = env.observation_space(params)
    obs = np.asarray(obs)
    assert obs.shape == space.shape and np.all(np.isfinite(obs))
    assert np.all(obs >= space.low) and np.all(obs <= space.high)


@FAST
@given(action=st.floats(allow_nan=True, allow_infinity=True, width=32), seed=st.integers(0, 2**32 - 1))
def test_functional_step_float_actions_stay_in_the_spaces(action, seed):
    env, params, reset_step = functional_env()
    obs0, obs, reward, invalid, reviews = reset_step(jax.random.key(seed), jnp.float32(action), params)
    check_in_space(env, params, obs0)
    check_in_space(env, params, obs)
    assert math.isfinite(float(reward))
    whole = math.isfinite(action) and action == round(action) and 0 <= action <= TINY["n_items"]
    assert bool(invalid) == (not whole)
    assert int(reviews) == (1 if whole and action < TINY["n_items"] else 0)


@FAST
@given(action=st.integers(-2**31, 2**31 - 1), seed=st.integers(0, 2**32 - 1))
def test_functional_step_int_actions_stay_in_the_spaces(action, seed):
    env, params, reset_step = functional_env()
    obs0, obs, reward, invalid, _ = reset_step(jax.random.key(seed), jnp.int32(action), params)
    check_in_space(env, params, obs)
    assert math.isfinite(float(reward)) and bool(invalid) == (not 0 <= action <= TINY["n_items"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(("slot_minutes", "sleep_hours", "cost_per_minute", "forget_sd", "difficulty_sd",
                            "start_hour")),
       value=st.one_of(st.floats(-5, 30), st.floats(0, 1), st.floats(allow_nan=True, allow_infinity=True),
                       st.integers(-2**40, 2**40)))
def test_functional_env_with_any_accepted_param_stays_in_the_spaces(key, value):
    """Whatever ``make`` accepts, the (same-shaped, so not recompiled) step stays finite and in bounds."""
    made = check_make(key, value, base=TINY)
    if made is None:  # rejected, naming the key: the other outcome of the property
        return
    env, params = made
    _, _, reset_step = functional_env()
    obs0, obs, reward, _, _ = reset_step(jax.random.key(0), jnp.int32(1), params)
    check_in_space(env, params, obs0)
    check_in_space(env, params, obs)
    assert math.isfinite(float(reward))


# -- Gymnasium env reset/step ------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def gym_env():
    env = gymnasium.make("studygym/Review-v0", **TINY)
    env.reset(seed=0)
    return env


GYM_ACTIONS = st.one_of(BAD_VALUES, st.integers(-3, 8), st.floats(-2, 8),
                        st.builds(np.float32, st.floats(-2, 8, width=32)), st.builds(np.int64, st.integers(-3, 8)))


@FAST
@given(action=GYM_ACTIONS)
def test_gymnasium_step_rejects_or_stays_in_the_spaces(action):
    env = gym_env()
    try:
        obs, reward, terminated, truncated, info = env.step(action)
    except (ValueError, TypeError) as error:
        assert "action" in str(error), f"{action!r}: {error}"
        return
    assert env.observation_space.contains(obs) and math.isfinite(reward)
    if terminated or truncated:
        env.reset(seed=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.one_of(st.integers(-2**70, 2**70), st.none()))
def test_gymnasium_reset_seeds_reject_or_stay_in_the_space(seed):
    env = gym_env()
    try:
        obs, _ = env.reset(seed=seed)
    except (ValueError, TypeError, gymnasium.error.Error) as error:  # gymnasium's own seed check
        assert "eed" in str(error), f"{seed!r}: {error}"
        return
    assert env.observation_space.contains(obs)


# -- the CSV / revlog importer ---------------------------------------------------------------

FIELD = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters=',"\r\n', blacklist_categories=("Cs",)), max_size=12),
    st.integers(-2**70, 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["20240105", "2024-01-05", "2024-01-05T10:00:00Z", "0001-01-01", "9999-12-31T00:00:00",
                     "1711744352250", "-1", "", "None", "nan", "1e30", "01", "4", "0", "5"]),
)
GOOD_ROW = {"card_id": "1", "review_rating": "3", "review_time": "2024-01-05T10:00:00Z", "review_duration": "100"}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(column=st.sampled_from(CSV_COLUMNS), value=FIELD)
def test_csv_import_names_file_and_line_or_gives_a_tidy_log(column, value):
    row = {**GOOD_ROW, column: value}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        path.write_text(",".join(CSV_COLUMNS) + "\n" + ",".join(row[c] for c in CSV_COLUMNS) + "\n",
                        encoding="utf-8")
        try:
            log = load_csv(path)
        except ValueError as error:
            assert str(path) in str(error) and ("line 2" in str(error)), f"{column}={value!r}: {error}"
            return
    assert len(log) == 1
    assert log["card_id"].iloc[0] == row["card_id"].strip()  # ids stay the text written
    assert 1 <= int(log["rating"].iloc[0]) <= 4
    stamp = log["review_time"].iloc[0]
    assert str(stamp.tz) == "UTC" and 2006 <= stamp.year < 2200
    duration = log["duration_ms"].iloc[0]
    if not pd.isna(duration):
        assert 0 <= int(duration) <= 86_400_000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(review_id=st.integers(-2**63, 2**63 - 1), card_id=st.integers(-2**63, 2**63 - 1),
       ease=st.integers(-5, 9), spent=st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True)))
def test_revlog_import_names_the_row_or_gives_a_tidy_log(review_id, card_id, ease, spent):
    import sqlite3
    import zipfile

    from studygym.fitting.data import load_log

    with tempfile.TemporaryDirectory() as tmp:
        collection = Path(tmp) / "collection.anki21"
        connection = sqlite3.connect(collection)
        connection.execute("CREATE TABLE revlog (id INTEGER PRIMARY KEY, cid INTEGER, usn INTEGER, ease INTEGER, "
                           "ivl INTEGER, lastIvl INTEGER, factor INTEGER, time, type INTEGER)")
        connection.execute("INSERT INTO revlog VALUES (?, ?, 0, ?, 1, 0, 2500, ?, 1)", (review_id, card_id, ease, spent))
        connection.commit()
        connection.close()
        export = Path(tmp) / "deck.colpkg"
        with zipfile.ZipFile(export, "w") as archive:
            archive.write(collection, "collection.anki21")
        try:
            log = load_log(export)
        except ValueError as error:
            assert "deck.colpkg" in str(error), str(error)
            return
    assert log["card_id"].tolist() == [card_id] and 1 <= int(log["rating"].iloc[0]) <= 4
    assert 2006 <= log["review_time"].iloc[0].year < 2200


# -- the policy loaders ------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def saved_ppo_run() -> Path:
    from studygym.agents.ppo import untrained

    return untrained("Review-v0", overrides=TINY).save(Path(tempfile.mkdtemp(prefix="studygym-prop-")) / "ppo")


ARRAYS = st.one_of(
    st.builds(lambda shape, fill: np.full(shape, fill, np.float32),
              st.lists(st.integers(0, 4), max_size=3).map(tuple),
              st.floats(allow_nan=True, allow_infinity=True, width=32)),
    st.builds(lambda n: np.arange(n), st.integers(0, 5)),
    st.just(np.array(["x"])),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_ppo_loader_names_the_file_or_loads_a_working_policy(data):
    import shutil

    from studygym.agents.ppo import load_ppo

    source = saved_ppo_run()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        shutil.copytree(source, run)
        arrays = dict(np.load(run / "params.npz"))
        config = json.loads((run / "config.json").read_text())
        if data.draw(st.booleans(), label="damage params.npz"):
            name = data.draw(st.sampled_from(sorted(arrays)), label="array")
            arrays[name] = data.draw(ARRAYS, label="value")
            np.savez(run / "params.npz", **arrays)
        else:
            field = data.draw(st.sampled_from(sorted(config["network"])), label="network field")
            config["network"][field] = data.draw(BAD_VALUES.filter(lambda v: not isinstance(v, float) or math.isfinite(v)),
                                                 label="value")
            (run / "config.json").write_text(json.dumps(config))
        try:
            policy = load_ppo(run)
        except (ValueError, TypeError, FileNotFoundError) as error:
            assert "params.npz" in str(error) or "config.json" in str(error), str(error)
            return
        env, params = studygym.make("Review-v0", **TINY)
        obs, _ = env.reset(jax.random.key(0), params)
        action, _ = policy.act(jax.random.key(1), policy.init(jax.random.key(2), params), obs)
        assert 0 <= int(action) < env.action_space(params).n


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["layer0_w", "layer0_b", "layer1_w", "layer1_b", "obs_mean", "obs_var"]), value=ARRAYS)
def test_sb3_loader_names_the_file_or_loads_a_working_policy(name, value):
    from test_reliability import sb3_run

    from studygym.agents.sb3 import load_sb3

    with tempfile.TemporaryDirectory() as tmp:
        run = sb3_run(Path(tmp), **{name: value})
        env, params = studygym.make("Review-v0", n_items=5)
        try:
            policy = load_sb3(run, env)
        except (ValueError, FileNotFoundError) as error:
            assert "params.npz" in str(error) or "config.json" in str(error), str(error)
            return
        action, _ = policy.act(jax.random.key(0), (), env.reset(jax.random.key(0), params)[0])
        assert 0 <= int(action) < 6


# -- the CLI's --set parsing -------------------------------------------------------------------

SET_VALUES = st.one_of(
    st.sampled_from(["[0.1,0.2]", "None", "nan", "inf", "-inf", "1e400", "-1", "0", "'x'", "{}", "(1,)", "[]",
                     "True", "2**31", "10**9", "1_000_000_000", "[[1,2],[3,4]]", "", "=", "0x10", "1e-320"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-2**70, 2**70).map(str),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(CONFIG_KEYS + PARAM_KEYS), value=SET_VALUES)
def test_cli_set_parsing_names_the_key_or_gives_finite_params(key, value):
    parsed_key, parsed = parse_override(f"{key}={value}")
    assert parsed_key == key
    check_make(key, parsed, base=TINY)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(("cost_per_minute", "n_items", "learner", "slot_minutes", "delay_days")),
       value=st.sampled_from(["[0.1,0.2]", "None", "nan", "inf", "-1", "'x'", "{}", "10**9", "1e400"]))
def test_cli_bad_set_is_one_line_before_any_work(key, value, capsys):
    from studygym.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        rc = main(["evaluate", "--env", "Review-v0", "--policies", "random", "--learners", "1",
                   "--set", f"{key}={value}", "--out", str(Path(tmp) / "o")])
        err = capsys.readouterr().err
        assert rc == 2, (key, value, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("studygym: error: ") and key in lines[0], err
        assert not (Path(tmp) / "o").exists()
