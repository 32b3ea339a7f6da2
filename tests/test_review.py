"""Review-v0 and the functional env core: contract, determinism, bad input, metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.envs.core import AutoReset, item_obs_index, split_item_obs
from studygym.envs.learners import LEARNERS


def rollout(env, params, key, actions):
    obs, state = env.reset(key, params)
    step = jax.jit(env.step)
    out = []
    for t, a in enumerate(actions):
        obs, state, reward, term, trunc, info = step(jax.random.fold_in(key, t), state, a, params)
        out.append((np.asarray(obs), float(reward), bool(term), {k: float(v) for k, v in info.items()}))
    return out, state


def test_make_defaults_and_spaces():
    env, params = studygym.make("Review-v0")
    assert env.config.n_items == 30 and env.config.slots_per_day == 10 and env.config.n_days == 30
    assert env.action_space(params).n == 31
    obs, state = env.reset(jax.random.key(0), params)
    assert obs.shape == env.observation_space(params).shape == (30 * 5 + 4,)
    assert bool(env.observation_space(params).contains(obs))
    assert env.max_steps == 300


def test_unknown_id_suggests_near_ids():
    with pytest.raises(ValueError, match="Review-v0"):
        studygym.make("Reveiw-v0")
    with pytest.raises(ValueError, match="Review-v0"):
        studygym.make("review")


@pytest.mark.parametrize(
    "override, field",
    [
        (dict(n_items=0), "n_items"),
        (dict(slots_per_day=-2), "slots_per_day"),
        (dict(n_days=2.5), "n_days"),
        (dict(cost_per_minute=-1.0), "cost_per_minute"),
        (dict(cost_per_minute=float("nan")), "cost_per_minute"),
        (dict(slot_minutes=0.0), "slot_minutes"),
        (dict(forget_sd=-0.1), "forget_sd"),
        (dict(w=[float("nan")] * 21), r"learner\.w\[0\]"),
        (dict(w=[0.2] * 20), "learner.w"),
        (dict(first_grade_probs=[0.5, 0.5, 0.5, 0.5]), "first_grade_probs"),
        (dict(learner="fsrss"), "fsrs"),
        (dict(cost_per_minut=0.1), "cost_per_minute"),
    ],
)
def test_bad_input_raises_naming_the_field(override, field):
    with pytest.raises(ValueError, match=field):
        studygym.make("Review-v0", **override)


def test_overrides_reach_config_params_and_learner():
    env, params = studygym.make("Review-v0", n_items=7, cost_per_minute=0.01, forget_sd=0.5)
    assert env.config.n_items == 7
    assert float(params.cost_per_minute) == pytest.approx(0.01)
    assert float(params.learner.forget_sd) == pytest.approx(0.5)


def test_same_seed_same_trajectory_other_seed_differs():
    env, params = studygym.make("Review-v0", n_items=5, n_days=3, slots_per_day=4)
    actions = [0, 1, 2, 0, 3, 4, 5, 1, 0, 2, 2, 1]
    a, _ = rollout(env, params, jax.random.key(3), actions)
    b, _ = rollout(env, params, jax.random.key(3), actions)
    c, _ = rollout(env, params, jax.random.key(4), actions)
    assert all(np.array_equal(x[0], y[0]) and x[1] == y[1] for x, y in zip(a, b))
    assert any(not np.array_equal(x[0], y[0]) or x[1] != y[1] for x, y in zip(a, c))


def test_batch_size_does_not_change_a_learner():
    """Learner i's episode is the same whether it runs in a batch of 2 or of 16."""
    env, params = studygym.make("Review-v0", n_items=6, n_days=2, slots_per_day=5)

    def episode(keys):
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)

        def body(state, t):
            action = jnp.full(keys.shape[0], t % 7)
            step_keys = jax.vmap(lambda k: jax.random.fold_in(k, t))(keys)
            obs, state, reward, *_ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(step_keys, state, action, params)
            return state, reward

        return jax.lax.scan(body, state, jnp.arange(env.max_steps))[1]

    keys = jax.random.split(jax.random.key(0), 16)
    small, big = np.asarray(jax.jit(episode)(keys[:2])), np.asarray(jax.jit(episode)(keys))
    np.testing.assert_allclose(small, big[:, :2], rtol=1e-6, atol=1e-7)


def test_episode_metrics_and_reward_accounting():
    env, params = studygym.make("Review-v0", n_items=4, n_days=3, slots_per_day=3, cost_per_minute=0.01)
    actions = [0, 1, 2, 3, 0, 1, 4, 2, 3]
    out, state = rollout(env, params, jax.random.key(1), actions)
    info = out[-1][3]
    assert out[-1][2] and not any(o[2] for o in out[:-1]), "terminates exactly at the horizon"
    assert info["reviews"] == 8  # one rest
    total_reward = sum(o[1] for o in out)
    assert total_reward == pytest.approx(info["knowledge_final"] - 0.01 * info["study_minutes"], abs=1e-5)
    assert 0 < info["retention_delayed"] < info["knowledge_final"] <= 1
    assert 0 < info["knowledge_auc"] <= 1
    # per-item observation columns: reviews, lapses, seen
    items, _ = split_item_obs(out[-1][0], env.obs_layout)
    np.testing.assert_array_equal(items[:, 1], [2, 2, 2, 2])
    np.testing.assert_array_equal(items[:, 4], [1, 1, 1, 1])
    assert info["successes"] <= info["retrievals"] == 4


@pytest.mark.parametrize("learner", list(LEARNERS))
def test_app_records_replay_the_reviews_rests_and_invalid_actions(learner):
    """The per-item records and the observation's item blocks (reviews, lapses, last grade, last
    review time, seen) equal a replay of the actions and the grades in ``info``: a rest or an
    invalid action leaves every record as it was. On every learner: the step tells a first review
    from a later one by the last grade, which relies on each learner grading a review 1..4."""
    env, params = studygym.make("Review-v0", n_items=4, n_days=20, slots_per_day=2, learner=learner)
    rng = np.random.default_rng(0)
    actions = rng.integers(-1, 12, size=env.max_steps - 1)  # -1 and 5.. invalid, 4 rests
    out, state = rollout(env, params, jax.random.key(3), actions)
    reviews, lapses, last_grade, last_time = (np.zeros(4) for _ in range(4))
    for t, (a, (_, _, _, info)) in enumerate(zip(actions, out)):
        assert info["grade"] in ((1, 2, 3, 4) if 0 <= a < 4 else (0,))
        if 0 <= a < 4:
            lapses[a] += reviews[a] > 0 and info["grade"] == 1
            reviews[a] += 1
            last_grade[a] = info["grade"]
            last_time[a] = float(env.time(jnp.int32(t), params))
    assert 0 < lapses.sum() < reviews.sum() < len(actions)  # the replay covers lapses and rests
    np.testing.assert_array_equal(state.reviews, reviews)
    np.testing.assert_array_equal(state.lapses, lapses)
    np.testing.assert_array_equal(state.last_grade, last_grade)
    np.testing.assert_array_equal(state.last_time, last_time)
    np.testing.assert_array_equal(state.seen, (reviews > 0).astype(np.float32))
    items, _ = split_item_obs(out[-1][0], env.obs_layout)
    now = float(env.time(jnp.int32(len(actions)), params))
    np.testing.assert_allclose(items[:, 0], np.where(reviews > 0, now - last_time, 0.0), rtol=1e-6)
    np.testing.assert_array_equal(items[:, 1:], np.stack([reviews, lapses, last_grade, reviews > 0], 1))


def test_invalid_action_in_jit_rests_and_is_flagged():
    env, params = studygym.make("Review-v0", n_items=3)
    obs, state = env.reset(jax.random.key(0), params)
    step = jax.jit(env.step)
    for bad in (-1, 4, 99):
        obs2, state2, reward, *_, info = step(jax.random.key(1), state, bad, params)
        assert bool(info["invalid_action"]) and int(info["grade"]) == 0
        assert int(state2.reviews.sum()) == 0
    *_, info = step(jax.random.key(1), state, 3, params)  # n_items = rest, valid
    assert not bool(info["invalid_action"]) and int(info["grade"]) == 0


def test_time_is_derived_from_the_step_counter():
    env, params = studygym.make("Review-v0", n_days=3650, slots_per_day=10)
    t = float(env.time(jnp.int32(3650 * 10 - 1), params))
    expected = 3649 * float(env.day_length(params)) + 9 * 3.0 / 1440
    assert t == pytest.approx(expected, rel=1e-6)


def test_spacing_pays_on_the_fsrs_learner():
    """A spaced schedule leaves more knowledge at the end than cramming the same reviews on day one."""
    env, params = studygym.make("Review-v0", n_items=2, n_days=6, slots_per_day=2, forget_sd=0.0, difficulty_sd=0.0)
    rest = 2
    crammed = [0, 1, 0, 1, 0, 1] + [rest] * 6
    spaced = [0, 1, rest, rest, 0, 1, rest, rest, 0, 1, rest, rest]
    keys = jax.random.split(jax.random.key(0), 200)

    @jax.jit
    def final(actions):
        def episode(key):
            obs, state = env.reset(key, params)

            def body(state, xs):
                t, action = xs
                obs, state, reward, term, trunc, info = env.step(jax.random.fold_in(key, t), state, action, params)
                return state, info["knowledge_final"]

            return jax.lax.scan(body, state, (jnp.arange(len(actions)), actions))[1][-1]

        return jnp.mean(jax.vmap(episode)(keys))

    final = lambda actions, f=final: float(f(jnp.asarray(actions)))

    assert final(spaced) > final(crammed)


def test_auto_reset_batch_and_per_env():
    env, params = studygym.make("Review-v0", n_items=3, n_days=1, slots_per_day=2)
    wrapped = AutoReset(env)
    keys = jax.random.split(jax.random.key(0), 4)
    obs, states = jax.vmap(wrapped.reset, in_axes=(0, None))(keys, params)
    step_batch, step = jax.jit(wrapped.step_batch), jax.jit(wrapped.step)
    for t in range(2):
        obs, states, reward, term, trunc, info = step_batch(jax.random.split(jax.random.key(t), 4), states, jnp.zeros(4, jnp.int32), params)
    assert bool(term.all())
    assert int(states.step.max()) == 0, "the whole batch was reset"
    reviews_0 = item_obs_index(env.obs_layout, 0, 1)  # item 0's review count
    assert float(info["final_obs"][:, reviews_0].min()) == 2.0, "final obs keeps the finished episode (2 reviews of item 0)"
    obs1, state1 = wrapped.reset(keys[0], params)
    for t in range(2):
        obs1, state1, r, te, tr, inf = step(jax.random.key(t), state1, 0, params)
    assert int(state1.step) == 0 and bool(te)


def test_auto_reset_step_some_resets_only_the_envs_that_ended():
    env, params = studygym.make("Review-v0", n_items=3, n_days=1, slots_per_day=2)
    wrapped = AutoReset(env)
    keys = jax.random.split(jax.random.key(0), 3)
    obs, states = jax.vmap(wrapped.reset, in_axes=(0, None))(keys, params)
    # Stagger the batch: env 0 takes one step alone, so it ends one step before the others.
    _, first, *_ = wrapped.step(jax.random.key(9), jax.tree.map(lambda x: x[0], states), 0, params)
    states = jax.tree.map(lambda all_, one: all_.at[0].set(one), states, first)
    step_some = jax.jit(wrapped.step_some)
    obs, states, reward, term, trunc, info = step_some(jax.random.split(jax.random.key(1), 3), states,
                                                       jnp.zeros(3, jnp.int32), params)
    assert term.tolist() == [True, False, False]
    assert states.step.tolist() == [0, 1, 1], "only the env that ended was reset"
    reviews_0 = item_obs_index(env.obs_layout, 0, 1)
    assert float(info["final_obs"][0, reviews_0]) == 2.0 and float(obs[0, reviews_0]) == 0.0
    obs, states, reward, term, trunc, info = step_some(jax.random.split(jax.random.key(2), 3), states,
                                                       jnp.zeros(3, jnp.int32), params)
    assert term.tolist() == [False, True, True] and states.step.tolist() == [1, 0, 0]
