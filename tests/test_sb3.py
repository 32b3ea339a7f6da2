"""Stable-Baselines3 agents: each algorithm trains on the batched VecEnv and writes its files, the
exported JAX forward equals SB3's ``predict``, the harness evaluates the saved policy, the CLI path,
and that a short SB3 PPO run beats Random on held-out learners."""

import argparse
import json

import jax
import numpy as np
import pytest

import studygym
from studygym.cli import evaluate as cli_evaluate, main as cli_main
from studygym.agents import sb3
from studygym.agents.policy import Policy
from studygym.evaluation.harness import evaluate, summarize

TINY = {"n_items": 5, "slots_per_day": 3, "n_days": 3}  # 9-step episodes
N_ENVS = 8
#: Small rollouts so that a 1,200-step run has several updates.
QUICK = {"ppo": {"n_steps": 32, "batch_size": 64, "n_epochs": 4}, "a2c": {},
         "dqn": {"learning_starts": 200, "target_update_interval": 200},
         "ppo_mask": {"n_steps": 32, "batch_size": 64, "n_epochs": 4}}


@pytest.fixture(scope="module")
def vec_env():
    """One TINY Review-v0 VecEnv for every training here (its jitted step compiles once)."""
    from studygym.envs.gym import StudySB3VecEnv

    return StudySB3VecEnv("Review-v0", n_envs=N_ENVS, seed=0, **TINY)


@pytest.fixture(scope="module")
def trained(vec_env, tmp_path_factory):
    """Each algorithm trained for ~1,200 env steps into its own folder."""
    runs = {}
    for algo in sb3.ALGOS:
        out = tmp_path_factory.mktemp(f"sb3_{algo}")
        runs[algo] = sb3.train_sb3(algo, "Review-v0", 1_200, seed=3, out=out, overrides=TINY, hyper=QUICK[algo],
                                   progress=False, vec_env=vec_env)
    return runs


def real_observations(vec_env, n_steps=12, masks=False):
    """Observations met while stepping the env with random actions (several episodes); with
    ``masks``, also the VecEnv's ``action_masks()`` at each of them."""
    rng = np.random.default_rng(0)
    obs = [vec_env.reset()]
    valid = [vec_env.action_masks()]
    for _ in range(n_steps):
        step_obs, _, _, _ = vec_env.step(rng.integers(0, vec_env.action_space.n, vec_env.num_envs))
        obs.append(step_obs)
        valid.append(vec_env.action_masks())
    return (np.concatenate(obs), np.concatenate(valid)) if masks else np.concatenate(obs)


# ----------------------------------------------------------------------------------------------
# Training writes its files
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algo", sb3.ALGOS)
def test_training_writes_tensorboard_checkpoints_policy_config_and_curve(trained, algo):
    run = trained[algo]
    out = run.out
    assert list((out / "tb").rglob("events.out.tfevents.*")), "no TensorBoard event file"
    checkpoints = sorted((out / "checkpoints").glob(f"sb3_{algo}_*_steps.zip"))
    assert len(checkpoints) >= 2
    assert (out / "checkpoints" / checkpoints[0].name.replace(f"sb3_{algo}_", f"sb3_{algo}_vecnormalize_")
            .replace(".zip", ".pkl")).exists()
    for name in ("params.npz", "config.json", "curve.csv", "learning_curve.png", "model.zip", "vecnormalize.pkl"):
        assert (out / name).stat().st_size > 0, name
    config = json.loads((out / "config.json").read_text())
    assert config["agent"] == f"sb3-{algo}" and config["env_id"] == "Review-v0" and config["overrides"] == TINY
    assert config["seed"] == 3 and config["n_envs"] == N_ENVS and config["env_steps"] >= 1_200
    assert config["hyper"]["gamma"] == sb3.ALGO_DEFAULTS[algo]["gamma"]
    for key, value in QUICK[algo].items():
        assert config["hyper"][key] == value
    assert config["network"]["sizes"][0] == 5 * 5 + 4 and config["network"]["sizes"][-1] == 6
    # 9-step episodes, all sub-envs in step: every sub-env ended (its steps) // 9 of them.
    assert config["episodes"] == N_ENVS * (config["env_steps"] // N_ENVS // 9)
    lines = (out / "curve.csv").read_text().strip().splitlines()
    assert lines[0].split(",")[:3] == ["env_steps", "episode_return", "knowledge_final"]
    rows = np.array([[float(x) for x in line.split(",")] for line in lines[1:]])
    # As many rows as episode-end times (all sub-envs end together), at most CURVE_POINTS.
    assert len(rows) == min(sb3.CURVE_POINTS, (config["env_steps"] // N_ENVS) // 9)
    assert np.all(np.diff(rows[:, 0]) > 0) and rows[-1, 0] == config["env_steps"]
    assert rows[:, 3].sum() == config["episodes"]
    assert np.isfinite(rows[:, 1]).mean() >= 0.8
    assert np.nanmax(rows[:, 2]) <= 1.0 and np.nanmin(rows[:, 2]) > 0.0


def test_params_file_holds_plain_float_arrays(trained):
    with np.load(trained["ppo"].out / "params.npz", allow_pickle=False) as data:
        names = set(data.files)
        assert {"layer0_w", "layer0_b", "obs_mean", "obs_var"} <= names
        assert all(data[k].dtype.kind == "f" for k in data.files)


# ----------------------------------------------------------------------------------------------
# The JAX forward is SB3's predict
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algo", sb3.ALGOS)
def test_jax_forward_equals_sb3_predict(trained, vec_env, algo):
    run = trained[algo]
    policy = sb3.load_sb3(run.out)
    assert isinstance(policy, Policy) and policy.privileged is False and policy.name == f"sb3_{algo}"
    raw, valid = real_observations(vec_env, masks=True)
    # MaskablePPO predicts under the env's masks; the exported policy derives them from the observation.
    masks = {"action_masks": valid} if algo == "ppo_mask" else {}
    expected, _ = run.model.predict(run.venv.normalize_obs(raw), deterministic=True, **masks)
    act = jax.jit(jax.vmap(lambda o: policy.act(jax.random.key(0), policy.init(jax.random.key(0), None), o)[0]))
    actions = np.asarray(act(raw))
    np.testing.assert_array_equal(actions, expected)
    if algo == "ppo_mask":
        assert valid[np.arange(len(actions)), actions].all()
    assert len(np.unique(expected)) >= 2  # the batch exercises more than one action
    # And the raw outputs (logits or Q-values) agree, not only their arg-max.
    import torch

    with torch.no_grad():
        obs_tensor = torch.as_tensor(run.venv.normalize_obs(raw), dtype=torch.float32)
        if algo == "dqn":
            torch_out = run.model.policy.q_net(obs_tensor).numpy()
        else:
            torch_out = run.model.policy.get_distribution(obs_tensor).distribution.logits.numpy()
    jax_out = np.asarray(jax.vmap(policy.forward)(raw))
    if algo != "dqn":  # torch's Categorical stores normalised logits
        jax_out = jax_out - jax.scipy.special.logsumexp(jax_out, axis=-1, keepdims=True)
    np.testing.assert_allclose(jax_out, torch_out, rtol=1e-4, atol=1e-5)


def test_box_actions_are_the_clipped_gaussian_mean(tmp_path):
    """Deck-v0 (a Box action): the exported policy returns SB3's deterministic action (mean, clipped)."""
    from stable_baselines3 import PPO

    from studygym.envs.gym import StudySB3VecEnv

    venv = StudySB3VecEnv("Deck-v0", n_envs=2, seed=0, deck_size=20, n_days=3)
    model = PPO("MlpPolicy", venv, n_steps=8, batch_size=16, seed=0, device="cpu")
    import torch

    torch.manual_seed(0)
    with torch.no_grad():  # means spread over and beyond the box [0.7, 0.99]
        model.policy.action_net.bias.fill_(0.85)
        model.policy.action_net.weight.normal_(0.0, 0.03)
        for layer in model.policy.mlp_extractor.policy_net:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.normal_(0.0, 1.0)
    arrays, network = sb3.export_policy(model)
    policy = sb3.SB3Policy(arrays, network, name="deck")
    obs = np.random.default_rng(1).uniform(0, 1, (64, 9)).astype(np.float32)
    expected, _ = model.predict(obs, deterministic=True)
    actions = np.asarray(jax.vmap(lambda o: policy.act(None, (), o)[0])(obs))
    assert actions.shape == (64, 1)
    np.testing.assert_allclose(actions, expected, rtol=1e-5, atol=1e-6)
    assert (actions == np.float32(0.7)).any() and (actions == np.float32(0.99)).any() and \
        ((actions > 0.7) & (actions < 0.99)).any()


# ----------------------------------------------------------------------------------------------
# Loading, checks and errors
# ----------------------------------------------------------------------------------------------


def test_load_refuses_an_env_of_another_shape_and_a_ppo_run(trained, tmp_path):
    env, _ = studygym.make("Review-v0", n_items=7)
    with pytest.raises(ValueError, match="shape"):
        sb3.load_sb3(trained["a2c"].out, env=env)
    with pytest.raises(FileNotFoundError, match="params.npz"):
        sb3.load_sb3(tmp_path / "nowhere")
    (tmp_path / "params.npz").write_bytes((trained["a2c"].out / "params.npz").read_bytes())
    (tmp_path / "config.json").write_text(json.dumps({"agent": "ppo"}))
    with pytest.raises(ValueError, match="not an SB3 run"):
        sb3.load_sb3(tmp_path)


def test_unknown_hyper_parameter_names_close_ones():
    with pytest.raises(ValueError, match="learning_rate"):
        sb3.check_hyper("ppo", {"learning_rat": 1e-3})
    with pytest.raises(ValueError, match="exploration_fraction"):
        sb3.check_hyper("dqn", {"exploration_frac": 0.1})
    with pytest.raises(ValueError, match="activation_fn"):
        sb3.check_hyper("a2c", {"activation_fn": "swish9"})
    with pytest.raises(ValueError, match="algo"):
        sb3.check_hyper("sac", {})


def test_dqn_on_a_box_action_env_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="DQN needs a Discrete action space"):
        sb3.train_sb3("dqn", "Deck-v0", 1_000, out=tmp_path, overrides={"deck_size": 20}, progress=False)
    assert not list(tmp_path.iterdir())  # nothing written


def test_training_refuses_to_overwrite_unless_forced(trained, vec_env):
    out = trained["ppo"].out
    before = (out / "params.npz").read_bytes()
    with pytest.raises(FileExistsError, match="--force"):
        sb3.train_sb3("ppo", "Review-v0", 100, out=out, overrides=TINY, progress=False, vec_env=vec_env)
    assert (out / "params.npz").read_bytes() == before


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------


def run_train_cli(argv):
    """``studygym train ...`` through the dispatcher (which turns user errors into exit status 2)."""
    return cli_main(["train", *argv])


def test_cli_trains_and_evaluate_reads_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--agent", "sb3-a2c", "--env", "Review-v0", "--steps", "400", "--seed", "2", "--out", str(out),
            "--set", "n_items=5", "--set", "slots_per_day=3", "--set", "n_days=3",
            "--hyper", "n_envs=4", "--hyper", "net_arch=[16]", "--hyper", "learning_rate=1e-3"]
    assert run_train_cli(argv) == 0
    assert "sb3:" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["n_envs"] == 4 and config["seed"] == 2 and config["network"]["sizes"] == [29, 16, 6]
    assert config["hyper"]["learning_rate"] == 1e-3
    assert run_train_cli(argv) == 2  # the run exists: refused without --force
    assert "--force" in capsys.readouterr().err
    assert run_train_cli([*argv[:-2], "--hyper", "learning_rat=1e-3"]) == 2
    assert "learning_rate" in capsys.readouterr().err
    parser = argparse.ArgumentParser()
    cli_evaluate.add_arguments(parser)
    args = parser.parse_args(["--policies", f"fsrs,sb3:{out}", "--env", "Review-v0", "--learners", "4",
                              "--out", str(tmp_path / "eval"), "--set", "n_items=5", "--set", "slots_per_day=3",
                              "--set", "n_days=3"])
    assert cli_evaluate.run(args) == 0
    assert "sb3_a2c" in (tmp_path / "eval" / "leaderboard.md").read_text()
    import pandas as pd

    episodes = pd.read_csv(tmp_path / "eval" / "episodes.csv")
    mine = episodes[episodes["policy"] == "sb3_a2c"]
    assert len(mine) == 4 and not mine["failed"].any() and (mine["invalid_actions"] == 0).all()
    assert mine["knowledge_final"].between(0, 1).all()


def test_cli_dqn_on_deck_says_why(tmp_path, capsys):
    assert run_train_cli(["--agent", "sb3-dqn", "--env", "Deck-v0", "--steps", "100", "--out", str(tmp_path)]) == 2
    assert "Discrete" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------
# Learning
# ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_short_sb3_ppo_training_beats_random_on_held_out_learners(vec_env, tmp_path):
    run = sb3.train_sb3("ppo", "Review-v0", 30_000, seed=0, out=tmp_path, overrides=TINY, progress=False,
                        hyper={"n_steps": 64, "batch_size": 128, "learning_rate": 1e-3}, vec_env=vec_env)
    # Held out: the harness draws learners from seed 777 (training used sub-env seeds 0..7).
    df = evaluate([run.policy(), "random"], "Review-v0", n_learners=400, seed=777, curves=False, **TINY)
    summary = summarize(df, reference="random").set_index("policy")
    assert summary.loc["sb3_ppo", "knowledge_final_diff_lo"] > 0, summary.T


def test_unit_obs_training_exports_the_same_fixed_map(tmp_path):
    """hyper unit_obs=True trains on the env's normalize=True observations; the saved JAX policy maps
    raw observations the same way, so it acts as SB3 does on what the harness gives it."""
    from studygym.envs.gym import StudySB3VecEnv, UnitObservation

    run = sb3.train_sb3("ppo", "Review-v0", 512, seed=1, out=tmp_path, overrides=TINY, progress=False, n_envs=8,
                        hyper={**QUICK["ppo"], "unit_obs": True, "normalize_obs": False})
    assert run.config["network"]["unit_obs"] is True and run.venv.observation_space.high.max() == 1.0
    policy = sb3.load_sb3(tmp_path)
    raw_env = StudySB3VecEnv("Review-v0", n_envs=N_ENVS, seed=5, **TINY)
    raw = real_observations(raw_env)
    env, _ = studygym.make("Review-v0", **TINY)
    unit = UnitObservation.of_space(env.observation_space())
    scaled = np.asarray(unit(raw))
    assert scaled.min() >= 0.0 and scaled.max() <= 1.0
    expected, _ = run.model.predict(scaled, deterministic=True)
    act = jax.jit(jax.vmap(lambda o: policy.act(jax.random.key(0), policy.init(jax.random.key(0), None), o)[0]))
    np.testing.assert_array_equal(np.asarray(act(raw)), expected)
    with pytest.raises(ValueError, match="normalize"):
        sb3.train_sb3("ppo", "Review-v0", 64, seed=1, out=tmp_path / "x", overrides=TINY, progress=False,
                      hyper={"unit_obs": True}, vec_env=raw_env)


def test_shipped_hyperparams_load_as_train_sb3_arguments(tmp_path):
    entry = sb3.load_hyperparams("ppo", "studygym/Review-v0")
    assert entry["hyper"]["unit_obs"] is True and entry["hyper"]["normalize_obs"] is False
    assert entry["hyper"]["net_arch"] == [32] and entry["hyper"]["network"] == "items"  # policy: 'ItemPolicy'
    assert entry["n_envs"] == 64 and entry["n_timesteps"] == 999_424 <= 1_000_000  # 61 whole rollouts
    assert entry["overrides"] == {"n_items": 60}
    studygym.make("Review-v0", **entry["overrides"])  # the env kwargs are valid overrides
    bad = tmp_path / "ppo.yml"
    bad.write_text("studygym/Review-v0:\n  n_step: 128\n")
    with pytest.raises(ValueError, match="n_step.*did you mean.*n_steps"):
        sb3.load_hyperparams("ppo", "studygym/Review-v0", bad)
    with pytest.raises(ValueError, match="no entry for 'studygym/Deck-v0'"):
        sb3.load_hyperparams("ppo", "studygym/Deck-v0", bad)
    bad.write_text("studygym/Review-v0: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        sb3.load_hyperparams("ppo", "studygym/Review-v0", bad)


def test_sampled_policy_draws_from_the_softmax(trained, vec_env):
    run = trained["ppo"]
    policy = sb3.load_sb3(run.out, sample=True)
    obs = real_observations(vec_env)[0]
    logits = np.asarray(policy.forward(obs))
    draws = np.asarray(jax.vmap(lambda k: policy.act(k, (), obs)[0])(jax.random.split(jax.random.key(0), 4000)))
    freq = np.bincount(draws, minlength=logits.size) / draws.size
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(freq, probs, atol=0.03)
    with pytest.raises(ValueError, match="sample=True needs a Discrete PPO/A2C"):
        sb3.load_sb3(trained["dqn"].out, sample=True)


# ----------------------------------------------------------------------------------------------
# Action masks (sb3-contrib's MaskablePPO)
# ----------------------------------------------------------------------------------------------


def test_action_masks_allow_seen_items_the_next_new_one_and_global_actions():
    import gymnasium

    env = gymnasium.make("studygym/Review-v0", n_items=5, normalize=True)
    env.reset(seed=0)
    assert env.unwrapped.action_masks().tolist() == [True, False, False, False, False, True]
    env.step(3)  # the unmasked env still accepts any item; the mask follows what has been seen
    assert env.unwrapped.action_masks().tolist() == [True, False, False, True, False, True]
    env.step(0)
    assert env.unwrapped.action_masks().tolist() == [True, True, False, True, False, True]
    for _ in range(3):
        env.step(1), env.step(2), env.step(4)
    assert env.unwrapped.action_masks().all()  # every item seen


@pytest.mark.parametrize("env_id, blocks, n_global", [("Sleep-v0", 1, 2), ("Tagging-v0", 2, 1)])
def test_action_masks_follow_each_envs_declared_action_layout(env_id, blocks, n_global):
    from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
    from stable_baselines3.common.vec_env import VecNormalize

    from studygym.envs.gym import StudySB3VecEnv

    venv = StudySB3VecEnv(env_id, n_envs=3, seed=0)
    obs = venv.reset()
    env, _ = studygym.make(env_id)
    n = env.n_obs_items
    assert env.action_layout == (blocks, n_global)
    wrapped = VecNormalize(venv)
    assert is_masking_supported(wrapped)
    rng = np.random.default_rng(1)
    for _ in range(5):
        masks = get_action_masks(wrapped)  # through VecNormalize's env_method, as MaskablePPO reads them
        assert masks.shape == (3, venv.action_space.n) and masks.dtype == bool
        seen = obs[:, env.item_features.index("seen") * n:][:, :n] > 0
        for row, seen_row in zip(masks, seen):
            block = row.reshape(blocks, n + n_global)
            assert (block == block[0]).all() and block[0, n:].all()  # same items in every block; globals valid
            new = np.flatnonzero(~seen_row)
            assert (block[0, :n] == (seen_row | (np.arange(n) == (new[0] if new.size else -1)))).all()
        obs, _, _, _ = venv.step(np.array([rng.choice(np.flatnonzero(m)) for m in masks]))


def test_action_masks_need_an_item_choice_layout():
    from studygym.envs.gym import StudySB3VecEnv

    venv = StudySB3VecEnv("Deck-v0", n_envs=2, seed=0, deck_size=20, n_days=3)
    venv.reset()
    with pytest.raises(ValueError, match="declares no item-choice action_layout"):
        venv.action_masks()
    with pytest.raises(ValueError, match="declares no item-choice action_layout"):
        sb3.train_sb3("ppo_mask", "Deck-v0", 64, out="unused", overrides={"deck_size": 20}, progress=False,
                      vec_env=venv)


def test_masked_policy_never_chooses_a_masked_action(trained, vec_env):
    run = trained["ppo_mask"]
    assert run.config["network"]["action_mask"]["kind"] == "introduce_in_order"
    raw, valid = real_observations(vec_env, masks=True)
    for sample in (False, True):
        policy = sb3.load_sb3(run.out, sample=sample)
        keys = jax.random.split(jax.random.key(0), len(raw))
        actions = np.asarray(jax.vmap(lambda k, o: policy.act(k, (), o)[0])(keys, raw))
        assert valid[np.arange(len(actions)), actions].all()
    env, _ = studygym.make("Sleep-v0", n_items=5)  # same item count, another action layout: refused
    with pytest.raises(ValueError):
        sb3.load_sb3(run.out, env=env)


@pytest.mark.parametrize("algo", sb3.ALGOS)
def test_every_shipped_yaml_trains_a_few_hundred_steps_on_its_env(algo, tmp_path):
    """studygym/hyperparams/<algo>.yml: its env kwargs make the env, SB3 accepts every
    hyper-parameter, and a few hundred steps train (rollouts shortened to fit; nothing else changed)."""
    entry = sb3.load_hyperparams(algo, "studygym/Review-v0")
    assert entry["overrides"] == {"n_items": 60} and entry["hyper"]["unit_obs"] is True
    short = {"n_steps": 32, "batch_size": 64} if algo in ("ppo", "ppo_mask") else \
        {"learning_starts": 64} if algo == "dqn" else {}
    run = sb3.train_sb3(algo, "Review-v0", 256, seed=0, out=tmp_path, overrides=entry["overrides"],
                        hyper={**entry["hyper"], **short}, n_envs=4, progress=False, n_checkpoints=1)
    assert run.config["env_steps"] >= 256 and run.config["network"]["sizes"][0] == 60 * 5 + 4
    assert run.config["hyper"]["learning_rate"] == entry["hyper"]["learning_rate"]
    policy = sb3.load_sb3(tmp_path, env=studygym.make("Review-v0", **entry["overrides"])[0])
    assert (policy.mask is not None) == (algo == "ppo_mask")


def test_cli_trains_maskable_ppo(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--agent", "sb3-ppo_mask", "--env", "Review-v0", "--steps", "200", "--out", str(out),
            "--set", "n_items=5", "--set", "slots_per_day=3", "--set", "n_days=3",
            "--hyper", "n_envs=4", "--hyper", "n_steps=16", "--hyper", "batch_size=32"]
    assert run_train_cli(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["agent"] == "sb3-ppo_mask" and config["network"]["action_mask"]["n_items"] == 5
    assert sb3.load_sb3(out).mask is not None


# ----------------------------------------------------------------------------------------------
# ItemPolicy (network="items"): one scorer shared by every item
# ----------------------------------------------------------------------------------------------


def test_item_policy_exports_to_jax_and_is_permutation_equivariant(vec_env, tmp_path):
    """hyper network="items" trains SB3 PPO with studygym's ItemPolicy; the exported JAX forward gives
    the torch logits, and permuting the items of an observation permutes their logits (rest unchanged)."""
    import torch

    # The env's fixed [0, 1] map, as shipped (VecNormalize's per-position statistics would differ per item).
    run = sb3.train_sb3("ppo", "Review-v0", 512, seed=2, out=tmp_path, overrides=TINY, progress=False, n_envs=N_ENVS,
                        hyper={**QUICK["ppo"], "network": "items", "net_arch": [16], "unit_obs": True,
                               "normalize_obs": False})
    assert isinstance(run.model.policy, sb3.item_policy_class())
    network = run.config["network"]
    assert network["kind"] == "actor_items" and network["item_layout"] == [5, 5, 4] and network["hidden"] == 16
    policy = sb3.load_sb3(tmp_path, env=studygym.make("Review-v0", **TINY)[0])
    raw = real_observations(vec_env)
    scaled = np.asarray(policy.unit(raw))  # what the normalize=True env gave SB3
    with torch.no_grad():
        torch_out = run.model.policy.get_distribution(
            torch.as_tensor(scaled, dtype=torch.float32)).distribution.logits.numpy()
    jax_out = np.asarray(jax.vmap(policy.forward)(raw))
    jax_out = jax_out - jax.scipy.special.logsumexp(jax_out, axis=-1, keepdims=True)
    np.testing.assert_allclose(jax_out, torch_out, rtol=1e-4, atol=1e-5)
    expected, _ = run.model.predict(scaled, deterministic=True)
    act = jax.jit(jax.vmap(lambda o: policy.act(jax.random.key(0), (), o)[0]))
    np.testing.assert_array_equal(np.asarray(act(raw)), expected)
    # Equivariance: items reordered (feature-major layout: 5 blocks of 5) reorder the item logits.
    perm = np.array([3, 0, 4, 1, 2])
    obs = raw[-1]
    items, globals_ = obs[:25].reshape(5, 5), obs[25:]
    permuted = np.concatenate([items[:, perm].reshape(-1), globals_])
    logits, permuted_logits = np.asarray(policy.forward(obs)), np.asarray(policy.forward(permuted))
    np.testing.assert_allclose(permuted_logits[:5], logits[:5][perm], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(permuted_logits[5], logits[5], rtol=1e-5, atol=1e-6)


def test_item_policy_hyper_is_checked(tmp_path):
    with pytest.raises(ValueError, match="network must be one of"):
        sb3.check_hyper("ppo", {"network": "transformer"})
    with pytest.raises(ValueError, match="ppo or a2c"):
        sb3.check_hyper("dqn", {"network": "items"})
    with pytest.raises(ValueError, match=r"net_arch \[H\]"):
        sb3.check_hyper("ppo", {"network": "items", "net_arch": [64, 64]})
    yml = tmp_path / "ppo.yml"
    yml.write_text("studygym/Review-v0:\n  policy: 'ItemPolicy'\n  policy_kwargs: \"dict(net_arch=[32])\"\n")
    assert sb3.load_hyperparams("ppo", "studygym/Review-v0", yml)["hyper"]["network"] == "items"
    yml.write_text("studygym/Review-v0:\n  policy: 'CnnPolicy'\n")
    with pytest.raises(ValueError, match="MlpPolicy' or 'ItemPolicy"):
        sb3.load_hyperparams("ppo", "studygym/Review-v0", yml)
