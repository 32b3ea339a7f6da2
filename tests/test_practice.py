"""Practice-v0 and its skill learner: validation, the action mapping, the episode contract, the
baselines, and that the harness, the CLI, the Gymnasium/SB3 adapters and the JAX PPO run on it."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import studygym
from studygym.agents.schedulers.practice import (Adaptive, PRACTICE_POLICIES, Staircase, make_practice_policy,
                                                 practice_policies)
from studygym.cli import main
from studygym.envs.learners.skill import SKILL, learning_factor, skill_params
from studygym.evaluation.suites import all_policies, policy_by_name

SMALL = dict(n_skills=2, n_levels=5, trials_per_day=6, n_days=2, delay_days=2)


@pytest.fixture(scope="module")
def small():
    return studygym.make("Practice-v0", **SMALL)


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("override, name", [
    ({"n_skills": 0}, "n_skills"), ({"n_levels": 2.5}, "n_levels"), ({"delay_days": -1}, "delay_days"),
    ({"learning_rate": -0.1}, "learner.learning_rate"), ({"noise": 0.0}, "learner.noise"),
    ({"sleep_retention": 1.5}, "learner.sleep_retention"), ({"difficulty_max": -2.0}, "difficulty_max"),
    ({"cost_per_minute": float("nan")}, "cost_per_minute"), ({"trials_per_day": 2000}, "24 hours"),
    ({"learning_rat": 0.1}, "learning_rate"),
])
def test_bad_config_and_params_raise_naming_the_field(override, name):
    with pytest.raises(ValueError, match=name):
        studygym.make("Practice-v0", **override)


def test_skill_params_reject_unknown_fields():
    with pytest.raises(ValueError, match="unknown SkillParams"):
        skill_params(learnig_rate=0.1)


def test_learning_factor_is_wilsons_85_percent_rule():
    """f(z) = max(z, 0) phi(z) / phi(1): 1 at z = 1 (p = 0.841); the values science.md quotes."""
    from scipy.stats import norm

    p = np.array([0.6, 0.75, 0.85, 0.9, 0.97, 0.5, 0.3])
    f = np.asarray(learning_factor(jnp.asarray(norm.ppf(p), jnp.float32)))
    np.testing.assert_allclose(f[:5], [0.41, 0.89, 1.00, 0.93, 0.53], atol=0.01)
    assert f[5] == 0.0 and f[6] == 0.0
    z = np.linspace(0, 3, 301)
    assert abs(z[np.argmax(np.asarray(learning_factor(jnp.asarray(z))))] - 1.0) < 0.011


# ----------------------------------------------------------------------------------------------
# The env contract
# ----------------------------------------------------------------------------------------------


def test_action_mapping_and_invalid_actions(small):
    env, params = small
    k, levels = SMALL["n_skills"], SMALL["n_levels"]
    assert env.action_space(params).n == k * levels
    assert env.decode_action(env.encode_action(1, 3)) == (1, 3) and env.encode_action(1, 3) == levels + 3
    step = jax.jit(env.step)
    obs, state = env.reset(jax.random.key(0), params)
    for action, expect in [(env.encode_action(1, 3), (1, 3)), (k * levels, None), (-1, None)]:
        obs2, state2, reward, terminated, truncated, info = step(jax.random.key(1), state, action, params)
        if expect is None:
            assert bool(info["invalid_action"]) and int(jnp.sum(state2.trials)) == 0
            assert float(info["study_minutes"]) == 0.0
        else:
            assert not bool(info["invalid_action"]) and (int(info["skill"]), int(info["level"])) == expect
            assert int(state2.trials[1]) == 1 and int(state2.last_level[1]) == 4
            assert float(info["rt_seconds"]) > 0.0 and float(info["study_minutes"]) > 0.0
        assert bool(env.observation_space(params).contains(obs2))
    from studygym.envs.gym import StudyGymEnv

    gym_env = StudyGymEnv("Practice-v0", **SMALL)
    gym_env.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        gym_env.step(k * levels)


def run_episode(env, params, key, actions):
    """Play ``actions`` (one per step) from reset; returns observations, rewards and infos."""

    def body(carry, inputs):
        obs, state = carry
        t, action = inputs
        obs, state, reward, terminated, truncated, info = env.step(jax.random.fold_in(key, t), state, action, params)
        return (obs, state), (obs, reward, terminated, info)

    obs0, state0 = env.reset(jax.random.fold_in(key, 10**6), params)
    _, out = jax.lax.scan(body, (obs0, state0), (jnp.arange(env.max_steps), actions))
    return state0, out


def test_episode_reward_telescopes_metrics_at_the_end_and_determinism(small):
    env, params = small
    actions = jnp.asarray(np.arange(env.max_steps) % (SMALL["n_skills"] * SMALL["n_levels"]), jnp.int32)
    episode = jax.jit(jax.vmap(lambda key: run_episode(env, params, key, actions)))
    keys = jnp.stack([jax.random.key(1), jax.random.key(1), jax.random.key(2)])
    state0, (obs, reward, terminated, info) = episode(keys)
    # Same seed, same trajectory; another seed, another one.
    np.testing.assert_array_equal(np.asarray(obs[0]), np.asarray(obs[1]))
    assert not np.array_equal(np.asarray(obs[0]), np.asarray(obs[2]))
    terminated = np.asarray(terminated)
    assert terminated[:, -1].all() and not terminated[:, :-1].any()
    for name in ("knowledge_final", "knowledge_auc", "retention_delayed", "proficiency_final", "rt_final",
                 "automaticity"):
        values = np.asarray(info[name])
        assert np.all(values[:, :-1] == 0.0) and np.all(values[:, -1] > 0.0), name
    # The return is the proficiency gained (in ladder lengths) minus the cost of the minutes practised.
    start = np.asarray(jax.vmap(SKILL.proficiency, in_axes=(0, None))(state0.learner, params.learner)).mean(1)
    span = float(params.difficulty_max - params.difficulty_min)
    expected = (np.asarray(info["proficiency_final"])[:, -1] - start) / span \
        - float(params.cost_per_minute) * np.asarray(info["study_minutes"])[:, -1]
    np.testing.assert_allclose(np.asarray(reward).sum(1), expected, atol=1e-4)
    assert np.all(np.asarray(info["reviews"])[:, -1] == env.max_steps)
    space = env.observation_space(params)
    assert all(bool(space.contains(o)) for o in np.asarray(obs).reshape(-1, obs.shape[-1])[::5])


# `studygym smoke`, Gymnasium's and SB3's checkers run on every registered env, Practice-v0 included:
# tests/test_smoke.py and tests/test_gym.py.


# ----------------------------------------------------------------------------------------------
# Baselines
# ----------------------------------------------------------------------------------------------


def _obs_with_outcome(env, params, success):
    obs, _ = env.reset(jax.random.key(0), params)
    k, f, _ = env.skill_layout
    return obs.at[k * f + 2].set(float(success))


def test_staircase_and_adaptive_rules_move_as_specified(small):
    env, params = small
    win, lose = _obs_with_outcome(env, params, 1), _obs_with_outcome(env, params, 0)
    staircase = Staircase(env)
    ps = staircase.init(jax.random.key(0), params)
    levels = []
    for obs in [win, win, win, win, win, lose, win]:  # interleaved: skill 0, 1, 0, 1, ...
        action, ps = staircase.act(jax.random.key(0), ps, obs)
        levels.append(env.decode_action(int(action)))
    # The outcome seen at step t is that of step t-1's trial: skill 0 wins at t = 1, 3 (two in a row:
    # up) and loses at t = 5 (down); skill 1 wins at t = 2, 4 (up) and 6.
    assert levels == [(0, 0), (1, 0), (0, 0), (1, 0), (0, 1), (1, 1), (0, 0)]
    adaptive = Adaptive(env, target=0.8, step=1.0)
    pa = adaptive.init(jax.random.key(0), params)
    for obs in [win, win, lose]:
        _, pa = adaptive.act(jax.random.key(0), pa, obs)
    np.testing.assert_allclose(np.asarray(pa.levels), [0.2, 0.0], atol=1e-6)  # +0.2 then -0.8 clipped at 0
    with pytest.raises(ValueError, match="target"):
        Adaptive(env, target=1.0)


def test_suites_return_the_practice_baselines(small):
    env, _ = small
    names = [p.name for p in all_policies(env)]
    assert names == [p.name for p in practice_policies(env)] + ["planner"]  # the upper reference last
    assert {"random", "staircase_2down1up", "adaptive_85", "adaptive_85_blocked", "oracle_85"} <= set(names)
    assert "fixed_level_6" not in names  # only 5 levels here
    assert policy_by_name("adaptive_70_blocked", env).name == "adaptive_70_blocked"
    assert policy_by_name("fixed_level_3", env).name == "fixed_level_3"
    assert set(PRACTICE_POLICIES) >= {"random", "adaptive_85"}
    with pytest.raises(ValueError, match="adaptive_85"):
        make_practice_policy("adaptiv_85", env)
    with pytest.raises(ValueError, match="level"):
        make_practice_policy("fixed_level_9", env)
    review, _ = studygym.make("Review-v0", n_items=5)
    with pytest.raises(ValueError, match="Practice-v0"):
        Adaptive(review)


def test_cli_evaluate_runs_the_baselines_and_adaptive_beats_fixed(tmp_path):
    """`studygym evaluate --env Practice-v0`: the harness gives the env's extra metrics, and the 85%
    controller leaves learners more proficient than a fixed difficulty (paired, same learners)."""
    out = tmp_path / "run"
    args = ["evaluate", "--env", "Practice-v0", "--policies", "adaptive_85,fixed_level_2", "--learners", "48",
            "--reference", "fixed_level_2", "--out", str(out)]
    assert main(args) == 0
    episodes = pd.read_csv(out / "episodes.csv")
    for column in ("proficiency_final", "rt_final", "automaticity", "retention_delayed"):
        assert episodes[column].notna().all(), column
    assert not episodes["failed"].any()
    wide = episodes.pivot(index="learner", columns="policy", values="retention_delayed")
    diff = wide["adaptive_85"] - wide["fixed_level_2"]
    assert diff.mean() > 0.15 and (diff > 0).mean() > 0.8
    board = (out / "leaderboard.md").read_text()
    assert "rt_final" in board and "| adaptive_85 |" in board.replace(" (privileged)", "")


@pytest.mark.slow  # compiles the whole PPO training loop (~20-30 s on 2 cores), like tests/test_ppo.py
def test_jax_ppo_trains_on_practice_v0(tmp_path):
    from studygym.agents import ppo

    trained = ppo.train("Practice-v0", total_steps=2 * 8 * 12, seed=0, overrides=SMALL, n_learners=8, n_steps=12,
                        n_minibatches=2, update_epochs=1, hidden=8)
    assert np.all(np.isfinite(trained.curve["mean_return"] if "mean_return" in trained.curve
                              else next(iter(trained.curve.values()))))
    trained.save(tmp_path / "ppo")
    policy = ppo.load_ppo(tmp_path / "ppo")
    env, params = studygym.make("Practice-v0", **SMALL)
    obs, _ = env.reset(jax.random.key(0), params)
    action, _ = policy.act(jax.random.key(1), policy.init(jax.random.key(2), params), obs)
    assert 0 <= int(action) < env.action_space(params).n
