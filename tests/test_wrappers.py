"""The gymnax-compatible view (studygym.wrappers): a PureJaxRL-shaped PPO loop runs on it
unchanged, auto-reset and LogWrapper statistics are right, spaces build under jit for every env,
and every wrapper copies, deep-copies and pickles."""

import copy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import studygym
from studygym import wrappers
from studygym.envs.core import AutoReset

TINY = {"n_items": 5, "slots_per_day": 3, "n_days": 3}  # 9-step episodes


# ----------------------------------------------------------------------------------------------
# A training loop written the way PureJaxRL's ppo.py uses a gymnax env (MLP by hand: no flax here)
# ----------------------------------------------------------------------------------------------


def _dense(key, n_in, n_out, scale):
    return {"w": jax.nn.initializers.orthogonal(scale)(key, (n_in, n_out)), "b": jnp.zeros(n_out)}


def _actor_critic_init(key, n_obs, n_actions, hidden=32):
    keys = jax.random.split(key, 6)
    return {"a0": _dense(keys[0], n_obs, hidden, np.sqrt(2)), "a1": _dense(keys[1], hidden, hidden, np.sqrt(2)),
            "a2": _dense(keys[2], hidden, n_actions, 0.01), "c0": _dense(keys[3], n_obs, hidden, np.sqrt(2)),
            "c1": _dense(keys[4], hidden, hidden, np.sqrt(2)), "c2": _dense(keys[5], hidden, 1, 1.0)}


def _actor_critic_apply(params, x):
    def mlp(prefix):
        h = jnp.tanh(x @ params[prefix + "0"]["w"] + params[prefix + "0"]["b"])
        h = jnp.tanh(h @ params[prefix + "1"]["w"] + params[prefix + "1"]["b"])
        return h @ params[prefix + "2"]["w"] + params[prefix + "2"]["b"]

    return mlp("a"), jnp.squeeze(mlp("c"), -1)


def make_train(config, env, env_params):
    """PureJaxRL's ppo.make_train, with its env calls unchanged."""
    config["NUM_UPDATES"] = config["TOTAL_TIMESTEPS"] // config["NUM_STEPS"] // config["NUM_ENVS"]
    config["MINIBATCH_SIZE"] = config["NUM_ENVS"] * config["NUM_STEPS"] // config["NUM_MINIBATCHES"]
    env = wrappers.FlattenObservationWrapper(env)
    env = wrappers.LogWrapper(env)

    def train(rng):
        # Inside jit, as PureJaxRL does: spaces must build from traced params.
        n_actions = env.action_space(env_params).n
        rng, _rng = jax.random.split(rng)
        params = _actor_critic_init(_rng, env.observation_space(env_params).shape[0], n_actions)
        tx = optax.chain(optax.clip_by_global_norm(config["MAX_GRAD_NORM"]), optax.adam(config["LR"], eps=1e-5))
        opt_state = tx.init(params)
        rng, _rng = jax.random.split(rng)
        reset_rng = jax.random.split(_rng, config["NUM_ENVS"])
        obsv, env_state = jax.vmap(env.reset, in_axes=(0, None))(reset_rng, env_params)

        def _update_step(runner_state, unused):
            def _env_step(runner_state, unused):
                params, opt_state, env_state, last_obs, rng = runner_state
                rng, _rng = jax.random.split(rng)
                logits, value = _actor_critic_apply(params, last_obs)
                action = jax.random.categorical(_rng, logits)
                log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], -1)[:, 0]
                rng, _rng = jax.random.split(rng)
                rng_step = jax.random.split(_rng, config["NUM_ENVS"])
                obsv, env_state, reward, done, info = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                    rng_step, env_state, action, env_params)
                transition = (done, action, value, reward, log_prob, last_obs, info)
                return (params, opt_state, env_state, obsv, rng), transition

            runner_state, traj = jax.lax.scan(_env_step, runner_state, None, config["NUM_STEPS"])
            params, opt_state, env_state, last_obs, rng = runner_state
            done, action, value, reward, log_prob, obs, info = traj
            _, last_val = _actor_critic_apply(params, last_obs)

            def _gae(carry, xs):
                gae, next_value = carry
                done_t, value_t, reward_t = xs
                delta = reward_t + config["GAMMA"] * next_value * (1 - done_t) - value_t
                gae = delta + config["GAMMA"] * config["GAE_LAMBDA"] * (1 - done_t) * gae
                return (gae, value_t), gae

            _, advantages = jax.lax.scan(_gae, (jnp.zeros_like(last_val), last_val),
                                         (done.astype(jnp.float32), value, reward), reverse=True)
            targets = advantages + value

            def _loss(params, batch):
                obs_b, action_b, logp_b, value_b, adv_b, target_b = batch
                logits, value_new = _actor_critic_apply(params, obs_b)
                logp = jnp.take_along_axis(jax.nn.log_softmax(logits), action_b[:, None], -1)[:, 0]
                value_clipped = value_b + jnp.clip(value_new - value_b, -config["CLIP_EPS"], config["CLIP_EPS"])
                value_loss = 0.5 * jnp.maximum((value_new - target_b) ** 2, (value_clipped - target_b) ** 2).mean()
                ratio = jnp.exp(logp - logp_b)
                adv_b = (adv_b - adv_b.mean()) / (adv_b.std() + 1e-8)
                actor_loss = -jnp.minimum(ratio * adv_b, jnp.clip(ratio, 1 - config["CLIP_EPS"],
                                                                  1 + config["CLIP_EPS"]) * adv_b).mean()
                entropy = -(jax.nn.softmax(logits) * jax.nn.log_softmax(logits)).sum(-1).mean()
                return actor_loss + config["VF_COEF"] * value_loss - config["ENT_COEF"] * entropy

            def _update_epoch(update_state, unused):
                params, opt_state, rng = update_state
                rng, _rng = jax.random.split(rng)
                batch_size = config["MINIBATCH_SIZE"] * config["NUM_MINIBATCHES"]
                batch = (obs, action, log_prob, value, advantages, targets)
                batch = jax.tree.map(lambda x: x.reshape((batch_size,) + x.shape[2:]), batch)
                permutation = jax.random.permutation(_rng, batch_size)
                shuffled = jax.tree.map(lambda x: jnp.take(x, permutation, axis=0), batch)
                minibatches = jax.tree.map(
                    lambda x: x.reshape((config["NUM_MINIBATCHES"], -1) + x.shape[1:]), shuffled)

                def _update_minibatch(state, minibatch):
                    params, opt_state = state
                    loss, grads = jax.value_and_grad(_loss)(params, minibatch)
                    updates, opt_state = tx.update(grads, opt_state)
                    return (optax.apply_updates(params, updates), opt_state), loss

                (params, opt_state), losses = jax.lax.scan(_update_minibatch, (params, opt_state), minibatches)
                return (params, opt_state, rng), losses

            (params, opt_state, rng), losses = jax.lax.scan(
                _update_epoch, (params, opt_state, rng), None, config["UPDATE_EPOCHS"])
            metric = dict(info, loss=losses, reward=reward)
            return (params, opt_state, env_state, last_obs, rng), metric

        runner_state = (params, opt_state, env_state, obsv, rng)
        runner_state, metric = jax.lax.scan(_update_step, runner_state, None, config["NUM_UPDATES"])
        return {"runner_state": runner_state, "metrics": metric}

    return train


CONFIG = {"LR": 2.5e-4, "NUM_ENVS": 8, "NUM_STEPS": 16, "TOTAL_TIMESTEPS": 8 * 16 * 3, "UPDATE_EPOCHS": 2,
          "NUM_MINIBATCHES": 2, "GAMMA": 0.99, "GAE_LAMBDA": 0.95, "CLIP_EPS": 0.2, "ENT_COEF": 0.01,
          "VF_COEF": 0.5, "MAX_GRAD_NORM": 0.5}


def test_purejaxrl_shaped_ppo_runs_unchanged_and_logs_episodes():
    env, env_params = wrappers.make("Review-v0", **TINY)
    out = jax.jit(make_train(dict(CONFIG), env, env_params))(jax.random.key(0))
    m = jax.tree.map(np.asarray, out["metrics"])
    assert np.all(np.isfinite(m["loss"])) and np.all(np.isfinite(m["reward"]))
    done = m["returned_episode"].reshape(-1, CONFIG["NUM_ENVS"])  # (updates x steps, envs)
    steps = done.shape[0]
    # Every episode is 9 steps: each env ends one every 9th step, and LogWrapper says 9 and the return.
    assert done.sum(axis=0).tolist() == [steps // 9] * CONFIG["NUM_ENVS"]
    assert np.all(m["returned_episode_lengths"].reshape(-1, CONFIG["NUM_ENVS"])[done] == 9)
    rewards = m["reward"].reshape(-1, CONFIG["NUM_ENVS"])
    returns = m["returned_episode_returns"].reshape(-1, CONFIG["NUM_ENVS"])
    for t, e in zip(*np.nonzero(done)):
        np.testing.assert_allclose(returns[t, e], rewards[t - 8:t + 1, e].sum(), rtol=1e-5, atol=1e-6)
    assert np.array_equal(m["timestep"].reshape(-1, CONFIG["NUM_ENVS"])[:, 0], np.arange(1, steps + 1))


def test_auto_reset_returns_the_next_episode_and_the_final_observation():
    env, params = wrappers.make("Review-v0", **TINY)
    raw = env.unwrapped
    progress = raw.obs_layout[0] * raw.obs_layout[1]  # the first global feature: step / max_steps
    obs, state = env.reset(jax.random.key(1), params)
    step = jax.jit(env.step)
    for t in range(9):
        obs, state, reward, done, info = step(jax.random.key(10 + t), state, jnp.int32(t % 5), params)
        assert bool(done) == (t == 8)
    assert float(info["final_obs"][progress]) == 1.0  # the terminal observation, at the course's end
    assert float(obs[progress]) == 0.0 and int(state.step) == 0  # already the next episode's start
    assert float(info["discount"]) == 0.0


@pytest.mark.parametrize("env_id", studygym.registered_ids())
def test_spaces_build_under_jit_for_every_env(env_id):
    env, params = wrappers.make(env_id)

    @jax.jit
    def spaces(p, key):
        obs_space, action_space = env.observation_space(p), env.action_space(p)
        return obs_space.sample(key), action_space.sample(key), jnp.asarray(obs_space.shape)

    obs_sample, action_sample, shape = spaces(params, jax.random.key(0))
    obs, _ = env.reset(jax.random.key(0), params)
    assert tuple(shape.tolist()) == obs.shape == env.observation_space(params).shape
    assert bool(env.observation_space(params).contains(obs))
    assert bool(env.action_space(params).contains(action_sample))


def _wrapped_envs():
    env, _ = studygym.make("Review-v0", **TINY)
    gymnax_env = wrappers.GymnaxEnv(env)
    return {"GymnaxEnv": gymnax_env, "LogWrapper": wrappers.LogWrapper(gymnax_env),
            "FlattenObservationWrapper": wrappers.FlattenObservationWrapper(gymnax_env),
            "LogWrapper(Flatten)": wrappers.LogWrapper(wrappers.FlattenObservationWrapper(env)),
            "AutoReset": AutoReset(env)}


@pytest.mark.parametrize("name", list(_wrapped_envs()))
@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_every_wrapper_copies_deepcopies_and_pickles(name, how):
    wrapper = _wrapped_envs()[name]
    clone = {"copy": copy.copy, "deepcopy": copy.deepcopy,
             "pickle": lambda w: pickle.loads(pickle.dumps(w))}[how](wrapper)
    assert type(clone) is type(wrapper) and clone.max_steps == wrapper.max_steps  # forwarded attribute
    params = clone.default_params
    key = jax.random.key(3)
    outs = []
    for w in (wrapper, clone):
        obs, state = w.reset(key, params)
        outs.append(w.step(jax.random.key(4), state, jnp.int32(2), params)[:3])
    for a, b in zip(jax.tree.leaves(outs[0]), jax.tree.leaves(outs[1])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_wrappers_refuse_what_they_cannot_wrap():
    with pytest.raises(TypeError, match="studygym Environment"):
        wrappers.GymnaxEnv("Review-v0")
    with pytest.raises(AttributeError):
        wrappers.GymnaxEnv.__new__(wrappers.GymnaxEnv).anything  # no _env yet: no recursion
