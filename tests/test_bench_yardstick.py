"""The NumPy yardstick of scripts/bench_throughput.py does Review-v0's per-step maths (issue 21): its
shortcuts (per-item recall rates, unseen items counted instead of masked) give the direct formula's
knowledge, its rewards telescope to the final knowledge, and its learners end a random-action
course knowing what Review-v0's FSRS learners know. With ``observe=True`` it also keeps Review-v0's
observation, in the env's declared layout, without changing the dynamics."""

import numpy as np
import pytest
from conftest import load_script

BENCH = load_script("bench_throughput")


def direct_knowledge(y) -> np.ndarray:
    """Mean recall over items from the FSRS-6 formula, masked by the seen flag (Review-v0's form)."""
    elapsed = (y.time(y.step_count) - y.items(y.last_review)) * y.forget_mult[:, None]
    recall = (1.0 + y.factor * np.maximum(elapsed, 0.0) / y.items(y.stability)) ** y.decay
    return np.where(y.items(y.seen), recall, 0.0).mean(axis=1)


def test_yardstick_knowledge_is_the_direct_formula_and_rewards_telescope():
    y = BENCH.NumpyReviewYardstick(32, 20, seed=1)
    total = np.zeros(32)
    for _ in range(y.horizon):
        total += y.step()
        assert y.stability.dtype == y.rate.dtype == y.buffer.dtype == np.float32
    np.testing.assert_allclose(y.knowledge, direct_knowledge(y), atol=2e-6)
    np.testing.assert_allclose(total, y.knowledge, atol=1e-5)
    assert 0.5 < y.knowledge.mean() < 1.0  # random reviews of 20 items over 30 days: most are known
    y.step()  # past the horizon: a new episode starts, as AutoReset does
    assert y.step_count == 1 and (~y.seen).sum() >= y.batch * (y.n_items - 1)


@pytest.mark.slow
def test_yardstick_learners_know_what_review_v0_learners_know():
    import jax

    import studygym

    batch, n_items = 512, 100
    env, params = studygym.make("Review-v0", n_items=n_items)

    @jax.jit
    def final_knowledge(key):
        key_reset, key_loop = jax.random.split(key)
        _, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key_reset, batch), params)

        def body(states, key_t):
            key_action, key_env = jax.random.split(key_t)
            actions = jax.random.randint(key_action, (batch,), 0, n_items + 1)
            _, states, _, _, _, info = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(key_env, batch), states, actions, params)
            return states, info["knowledge"]

        return jax.lax.scan(body, states, jax.random.split(key_loop, env.max_steps))[1][-1]

    ours = float(np.mean(final_knowledge(jax.random.key(0))))
    y = BENCH.NumpyReviewYardstick(batch, n_items, seed=0)
    for _ in range(y.horizon):
        y.step()
    # Two samples of 512 learners (SD of a learner's final knowledge ~0.03): their means agree
    # to well within 0.01 when the maths is the same.
    assert abs(float(y.knowledge.mean()) - ours) < 0.01, (float(y.knowledge.mean()), ours)


def test_yardstick_observation_is_review_v0s_layout_and_values():
    import studygym
    from studygym.envs.core import split_item_obs

    batch, n_items = 16, 12
    env, params = studygym.make("Review-v0", n_items=n_items)
    assert env.item_features == ("days_since_review", "reviews", "lapses", "last_grade", "seen")
    assert env.global_features == ("progress", "slot_of_day", "last_step_grade", "last_step_recalled")
    plain = BENCH.NumpyReviewYardstick(batch, n_items, seed=3)
    y = BENCH.NumpyReviewYardstick(batch, n_items, seed=3, observe=True)
    assert y.obs.shape == (batch, env.observation_space(params).shape[0]) and not y.obs.any()
    # The records replayed one learner at a time from each step's actions and grades.
    reviews, lapses, last_grade = (np.zeros((batch, n_items)) for _ in range(3))
    for _ in range(y.horizon):
        np.testing.assert_array_equal(y.step(), plain.step())  # observing leaves the dynamics as they are
        items, globals_ = (np.asarray(part) for part in split_item_obs(y.obs, env.obs_layout))
        grades = globals_[:, 2]
        for b, action in enumerate(y.actions):
            if action < n_items:
                lapses[b, action] += reviews[b, action] > 0 and grades[b] == 1
                reviews[b, action] += 1
                last_grade[b, action] = grades[b]
            else:
                assert grades[b] == 0  # a rest has no grade
        seen = y.items(y.seen)
        np.testing.assert_array_equal(items[..., 1], reviews)
        np.testing.assert_array_equal(items[..., 2], lapses)
        np.testing.assert_array_equal(items[..., 3], last_grade)
        np.testing.assert_array_equal(items[..., 4], seen)
        since = np.where(seen, y.time(y.step_count) - y.items(y.last_review), 0.0)
        np.testing.assert_allclose(items[..., 0], since, atol=1e-6)
        np.testing.assert_allclose(globals_[:, 0], y.step_count / y.horizon)
        np.testing.assert_allclose(globals_[:, 1], (y.step_count % y.slots_per_day) / y.slots_per_day)
        np.testing.assert_array_equal(globals_[:, 3], grades > 1)
        assert (grades >= 0).all() and (grades <= 4).all()
    assert lapses.sum() > 0 and reviews.all()  # every branch of the records was exercised
    y.step()  # a new episode: the observation starts again from the step's records only
    assert y.step_count == 1 and y.obs[:, n_items:2 * n_items].sum() == (y.actions < n_items).sum()


def test_jax_rows_do_the_same_work_on_either_loop_key():
    """The benchmark's Review-v0 loop on unrolled threefry keys (its targeted rows) and on jax's default
    keys (the "jax's default keys in the loop" rows) draws the same actions and grades: the same rollout."""
    results = [np.asarray(BENCH.prepare_jax(16, 40, loop_keys=keys)[0]()) for keys in ("unrolled", "jax")]
    assert results[0].tobytes() == results[1].tobytes()
    with pytest.raises(ValueError, match="loop_keys"):
        BENCH.prepare_jax(16, 40, loop_keys="rbg")
