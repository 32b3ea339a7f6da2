"""Gymnasium and SB3 adapters: both checkers, clear errors, vector semantics, SB3 training."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import studygym
from studygym.envs.gym import StudyGymEnv, StudyGymVectorEnv, StudySB3VecEnv

SMALL = {"Review-v0": dict(n_items=5, slots_per_day=3, n_days=2)}


def small(env_id):
    return SMALL.get(env_id, {})


@pytest.mark.parametrize("env_id", studygym.registered_ids())
def test_gymnasium_checker_passes(env_id):
    env = gymnasium.make(f"studygym/{env_id}", **small(env_id))
    gym_check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", studygym.registered_ids())
def test_sb3_checker_passes(env_id):
    sb3_check_env(StudyGymEnv(env_id, **small(env_id)), warn=True)


@pytest.mark.parametrize("env_id", studygym.registered_ids())
def test_step_returns_plain_python_types(env_id):
    env = StudyGymEnv(env_id, **small(env_id))
    obs, info = env.reset(seed=3)
    assert isinstance(obs, np.ndarray) and obs.dtype == env.observation_space.dtype
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    assert env.observation_space.contains(obs)


def test_out_of_range_actions_raise_clear_errors():
    env = StudyGymEnv("Review-v0", n_items=5)
    env.reset(seed=0)
    for bad in (6, -1, 2.5, "a", [1, 2]):
        with pytest.raises(ValueError, match="action"):
            env.step(bad)
    env.step(5)  # rest is valid
    venv = gymnasium.make_vec("studygym/Review-v0", num_envs=3, n_items=5)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="out of range"):
        venv.step(np.array([0, 1, 9]))
    with pytest.raises(ValueError, match="expected 3 actions"):
        venv.step(np.array([0, 1]))
    sb3 = StudySB3VecEnv("Review-v0", n_envs=2, seed=0, n_items=5)
    sb3.reset()
    with pytest.raises(ValueError, match="out of range"):
        sb3.step(np.array([0, 6]))


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match="reset"):
        StudyGymEnv("Review-v0", n_items=3).step(0)


def test_gymnasium_make_unknown_id_and_override():
    with pytest.raises(ValueError, match="Review-v0"):
        StudyGymEnv("Reveiw-v0")
    env = gymnasium.make("studygym/Review-v0", n_items=7)
    assert env.action_space.n == 8


def test_single_env_seeding():
    env = StudyGymEnv("Review-v0", n_items=5)

    def rollout(seed):
        obs, _ = env.reset(seed=seed)
        rewards = [env.step(i % 6)[1] for i in range(12)]
        return obs, rewards

    assert rollout(1)[1] == rollout(1)[1]
    assert rollout(1)[1] != rollout(2)[1]


def test_single_env_matches_the_functional_env_step_for_step():
    """The Gymnasium env's packed carry and chunked outputs change nothing: its observations,
    rewards and info equal the functional env's, stepped with the same keys (100 items, so the
    observation and state are cut into several small vectors)."""
    import jax

    env = StudyGymEnv("Review-v0", n_items=100, slots_per_day=4, n_days=2)
    obs, _ = env.reset(seed=11)
    functional, params = studygym.make("Review-v0", n_items=100, slots_per_day=4, n_days=2)
    rng = gymnasium.utils.seeding.np_random(11)[0]
    key, sub = jax.random.split(jax.random.key(int(rng.integers(0, 2**31 - 1))))
    expected_obs, state = functional.reset(sub, params)
    np.testing.assert_array_equal(obs, np.asarray(expected_obs))
    for t in range(8):
        action = (7 * t) % 101
        obs, reward, terminated, _, info = env.step(action)
        key, sub = jax.random.split(key)
        expected_obs, state, expected_reward, expected_done, _, expected_info = functional.step(
            sub, state, action, params)
        np.testing.assert_array_equal(obs, np.asarray(expected_obs))
        # Rewards agree to float32 rounding (XLA may fuse the jitted step's sums differently).
        assert reward == pytest.approx(float(expected_reward), rel=1e-5, abs=1e-7)
        assert terminated == bool(expected_done)
        assert info["grade"] == int(expected_info["grade"]) and type(info["grade"]) is int
        assert info["invalid_action"] is bool(expected_info["invalid_action"])
        assert info["knowledge"] == pytest.approx(float(expected_info["knowledge"]), rel=1e-6)
    assert terminated  # 8 steps = the whole course


def test_packer_and_flat_carry_round_trip_in_small_vectors():
    import jax
    import jax.numpy as jnp

    from studygym.envs.gym import SMALL_BUFFER_WORDS, FlatCarry, Packer

    tree = {"big": jnp.arange(300, dtype=jnp.float32) / 7, "count": jnp.int32(-5), "flag": jnp.bool_(True),
            "x": jnp.float32(0.25), "grades": jnp.arange(6, dtype=jnp.int32).reshape(2, 3),
            "empty": jnp.zeros((0,), jnp.float32), "mask": jnp.array([True, False, True])}
    packer = Packer(lambda t: t, tree, chunk=SMALL_BUFFER_WORDS)
    parts = jax.jit(packer.pack)(tree)
    assert len(parts) > 1 and all(p.size <= SMALL_BUFFER_WORDS for p in parts)
    back = packer.unpack(parts)
    np.testing.assert_array_equal(back["big"], np.asarray(tree["big"]))
    assert back["count"] == -5 and type(back["count"]) is int
    assert back["flag"] is True and back["x"] == 0.25 and type(back["x"]) is float
    np.testing.assert_array_equal(back["grades"], np.arange(6).reshape(2, 3))
    assert back["grades"].dtype == np.int32 and back["mask"].tolist() == [True, False, True]
    assert back["empty"].shape == (0,)
    back["big"][0] = 1.0  # a writable host copy, not a view of a device buffer

    carry = dict(tree, key=jax.random.key(3), nan=jnp.float32(np.nan))
    flat = FlatCarry(carry, chunk=SMALL_BUFFER_WORDS)
    parts = jax.jit(flat.pack)(carry)
    # Leaves are never cut: only a leaf larger than the limit makes a larger vector.
    assert sorted(p.size for p in parts)[-1] == 300 and sorted(p.size for p in parts)[-2] <= SMALL_BUFFER_WORDS
    back = jax.jit(flat.unpack)(parts)
    for name in tree:
        np.testing.assert_array_equal(np.asarray(back[name]), np.asarray(tree[name]))
        assert back[name].dtype == tree[name].dtype
    assert np.isnan(back["nan"])
    np.testing.assert_array_equal(jax.random.key_data(back["key"]), jax.random.key_data(carry["key"]))


def _episode(venv_step, actions, n_steps):
    return [venv_step(actions) for _ in range(n_steps)]


def test_vector_env_same_step_autoreset():
    cfg = dict(n_items=4, slots_per_day=2, n_days=2)  # 4-step episodes
    venv = gymnasium.make_vec("studygym/Review-v0", num_envs=3, **cfg)
    assert isinstance(venv, StudyGymVectorEnv)
    assert venv.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (3, 4 * 5 + 4) and venv.observation_space.contains(obs)
    progress = -4  # global feature 0
    for t in range(4):
        obs, reward, terminated, truncated, info = venv.step(np.array([0, 1, 2]))
        assert reward.shape == (3,) and np.all(np.isfinite(reward))
    assert terminated.all() and not truncated.any()
    assert info["_final_obs"].all()
    assert all(final[progress] == 1.0 for final in info["final_obs"])  # the last obs of the episode
    assert np.all(obs[:, progress] == 0.0)  # the first obs of the next episode
    assert np.all(info["final_info"]["knowledge_final"] > 0)
    obs, reward, terminated, truncated, info = venv.step(np.array([0, 1, 2]))
    assert not terminated.any() and "final_obs" not in info


def test_sb3_vec_env_terminal_semantics_and_batch_invariance():
    cfg = dict(n_items=4, slots_per_day=2, n_days=2)
    venv = StudySB3VecEnv("Review-v0", n_envs=3, seed=11, **cfg)
    obs = venv.reset()
    trajectory = []
    for t in range(4):
        obs, rewards, dones, infos = venv.step(np.array([t % 5, 1, 4]))
        trajectory.append(rewards.copy())
    assert dones.all() and rewards.dtype == np.float32
    for info in infos:
        assert info["terminal_observation"][-4] == 1.0 and info["TimeLimit.truncated"] is False
        assert np.isfinite(info["retention_delayed"])
    assert 0.0 < infos[0]["knowledge_final"] <= 1.0 and 0.0 < infos[1]["knowledge_final"] <= 1.0
    assert infos[2]["knowledge_final"] == 0.0 and infos[2]["reviews"] == 0  # action 4 = rest, always
    assert np.all(obs[:, -4] == 0.0)
    # Sub-env 0 follows its own seed: the same trajectory in a batch of one.
    alone = StudySB3VecEnv("Review-v0", n_envs=1, seed=11, **cfg)
    alone.reset()
    for t in range(4):
        rewards = alone.step(np.array([t % 5]))[1]
        assert rewards[0] == trajectory[t][0]


def test_batched_adapters_run_under_another_default_prng():
    """The batched adapters keep their keys as raw key data and unroll jax's threefry hash only where
    it is the default PRNG: under ``rbg`` they run on rbg keys, the same trajectory for the same seed."""
    import jax

    cfg = dict(n_items=4, slots_per_day=2, n_days=2)

    def rewards():
        venv = StudySB3VecEnv("Review-v0", n_envs=2, seed=5, **cfg)
        venv.reset()
        return [venv.step(np.array([t % 5, 1]))[1].copy() for t in range(6)]

    with jax.default_prng_impl("rbg"):
        first, again = rewards(), rewards()
    np.testing.assert_array_equal(first, again)
    assert np.all(np.isfinite(first))


def test_sb3_ppo_trains_on_batched_vec_env():
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    venv = VecMonitor(StudySB3VecEnv("Review-v0", n_envs=8, seed=0, n_items=5, slots_per_day=3, n_days=5))
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, n_epochs=2, seed=0, verbose=0, device="cpu")
    model.learn(total_timesteps=3072)
    assert model.num_timesteps >= 3072
    returns = [ep["r"] for ep in model.ep_info_buffer]
    assert len(returns) >= 8 and np.all(np.isfinite(returns))
    obs = venv.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (8,) and np.all((actions >= 0) & (actions <= 5))


# ----------------------------------------------------------------------------------------------
# SB3 from its own helpers (issue 17): make_vec_env, check_env, evaluate_policy, VecNormalize,
# episode statistics without VecMonitor
# ----------------------------------------------------------------------------------------------

TINY9 = dict(n_items=5, slots_per_day=3, n_days=3)  # 9-step episodes


def _logged(model, tmp_path, steps):
    from stable_baselines3.common.logger import configure

    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(total_timesteps=steps)
    import pandas as pd

    return pd.read_csv(tmp_path / "progress.csv")


def test_sb3_make_vec_env_with_its_render_mode_trains_ppo_and_logs_episodes(tmp_path):
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecNormalize

    torch.set_num_threads(1)
    venv = make_vec_env("studygym/Review-v0", n_envs=8, seed=0, env_kwargs=TINY9)  # render_mode="rgb_array"
    venv.reset()
    assert venv.render_mode == "rgb_array" and venv.get_images()[0].dtype == np.uint8
    venv = VecNormalize(venv, gamma=0.99)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=0, verbose=0, device="cpu")
    log = _logged(model, tmp_path, 512)
    assert np.all(np.isfinite(log["rollout/ep_rew_mean"].dropna())) and log["rollout/ep_rew_mean"].notna().any()
    mean, std = evaluate_policy(model, venv, n_eval_episodes=8)
    assert np.isfinite(mean) and 0.0 < mean < 1.5  # returns are final knowledge minus study cost


def test_batched_vec_env_reports_episode_statistics_like_monitor():
    from studygym.envs.gym import make_sb3_vec_env

    venv = make_sb3_vec_env("Review-v0", n_envs=4, seed=0, **TINY9)
    venv.reset()
    rng = np.random.default_rng(0)
    totals = np.zeros(4)
    episodes = []
    for t in range(18):
        _, rewards, dones, infos = venv.step(rng.integers(0, 6, 4))
        totals += rewards
        for i, info in enumerate(infos):
            assert ("episode" in info) == bool(dones[i])
            if dones[i]:
                assert info["episode"]["l"] == 9 and info["episode"]["t"] >= 0
                np.testing.assert_allclose(info["episode"]["r"], totals[i], rtol=1e-5)
                episodes.append(info["episode"]["r"])
                totals[i] = 0.0
    assert len(episodes) == 8


def test_episode_statistics_are_not_double_counted_under_vec_monitor(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecMonitor

    from studygym.envs.gym import make_sb3_vec_env

    buffers, logs = [], []
    for wrap in (False, True):
        venv = make_sb3_vec_env("Review-v0", n_envs=8, seed=0, **TINY9)
        if wrap:
            with pytest.warns(UserWarning, match="Monitor"):  # SB3 says the Monitor entries get replaced
                venv = VecMonitor(venv)
        model = PPO("MlpPolicy", venv, n_steps=18, batch_size=48, n_epochs=1, seed=0, verbose=0, device="cpu",
                    stats_window_size=1000)
        logs.append(_logged(model, tmp_path / str(wrap), 288))
        buffers.append(np.array([(float(e["r"]), int(e["l"])) for e in model.ep_info_buffer]))
    # 288 steps / 8 envs = 36 steps = 4 episodes per env: 32 episodes, each counted once either way.
    assert len(buffers[0]) == len(buffers[1]) == 32
    np.testing.assert_allclose(buffers[0], buffers[1], rtol=1e-5)  # VecMonitor sums in float32
    assert logs[0]["rollout/ep_rew_mean"].notna().all()
    mean, _ = evaluate_policy(model, venv, n_eval_episodes=8, warn=True)
    assert np.isfinite(mean)


def test_one_call_factory_normalizes_for_sb3():
    from stable_baselines3.common.vec_env import VecNormalize

    from studygym.envs.gym import StudySB3VecEnv, make_sb3_vec_env

    venv = make_sb3_vec_env("Review-v0", n_envs=3, seed=1, vec_normalize=True, **TINY9)
    assert isinstance(venv, VecNormalize) and isinstance(venv.venv, StudySB3VecEnv) and venv.norm_obs
    assert venv.reset().shape == (3, 5 * 5 + 4) and venv.venv.num_envs == 3
    unit = make_sb3_vec_env("Review-v0", n_envs=3, seed=1, normalize=True, vec_normalize=True, **TINY9)
    assert not unit.norm_obs and unit.norm_reward  # the fixed [0, 1] map replaces VecNormalize's on observations
    assert unit.observation_space.low.min() == 0.0 and unit.observation_space.high.max() == 1.0
    obs = unit.venv.reset()
    for _ in range(9):
        obs = unit.venv.step(np.zeros(3, np.int64))[0]
        assert obs.min() >= 0.0 and obs.max() <= 1.0


@pytest.mark.slow
def test_imports_and_runs_on_the_oldest_supported_gymnasium(tmp_path):
    """pyproject says gymnasium>=1.0: a throwaway venv with gymnasium 1.0.0 first on the path (the
    rest from this venv) imports studygym, steps the single and vector envs and passes the checker."""
    import subprocess
    import sys
    import sysconfig

    venv = tmp_path / "gym10"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "gymnasium==1.0.0"], capture_output=True,
                         text=True)
    if pip.returncode != 0:
        pytest.skip(f"cannot install gymnasium 1.0.0 here: {pip.stderr[-300:]}")
    script = f"""
import site
site.addsitedir({sysconfig.get_paths()["purelib"]!r})  # after the throwaway venv's gymnasium 1.0.0
import gymnasium
assert gymnasium.__version__ == "1.0.0", gymnasium.__version__
import studygym
env = gymnasium.make("studygym/Review-v0", n_items=5, slots_per_day=3, n_days=2, render_mode="rgb_array")
env.reset(seed=0)
env.step(0)
assert env.render().shape[2] == 3
venv = gymnasium.make_vec("studygym/Review-v0", num_envs=3, n_items=5, slots_per_day=3, n_days=2)
venv.reset(seed=0)
assert venv.step([0, 1, 2])[0].shape == (3, 29)
from gymnasium.utils.env_checker import check_env
check_env(env.unwrapped)
print("ok")
"""
    run = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]
