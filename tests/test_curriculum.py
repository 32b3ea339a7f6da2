"""Curriculum-v0: the graph and the orders, the observation, bad input, and that a good order
(prerequisites first, similar items apart) beats a random one for the classic schedulers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.envs.core import split_item_obs
from studygym.envs.tasks.curriculum import ORDERS
from studygym.evaluation.harness import evaluate
from conftest import assert_classic_schedulers_run_unchanged

SMALL = dict(n_items=12, n_clusters=3, slots_per_day=4, n_days=3)


def test_layout_spaces_and_a_rollout():
    env, params = studygym.make("Curriculum-v0", **SMALL)
    assert env.obs_layout == (12, 9, 4) and env.action_layout == (1, 1)
    assert env.action_space(params).n == 13
    obs, state = env.reset(jax.random.key(0), params)
    assert obs.shape == env.observation_space(params).shape == (12 * 9 + 4,)
    step = jax.jit(env.step)
    for t in range(env.max_steps):
        obs, state, reward, terminated, truncated, info = step(jax.random.key(t), state, t % 13, params)
        assert bool(env.observation_space(params).contains(obs)) and np.isfinite(float(reward))
    assert bool(terminated) and 0.0 < float(info["retention_delayed"]) <= 1.0


@pytest.mark.parametrize("order", ORDERS)
def test_orders_map_the_same_graph_and_learner_to_indices(order):
    """Index order is the designer's order; the node graph and per-item traits do not depend on it."""
    env, params = studygym.make("Curriculum-v0", n_items=30, n_clusters=5, order=order)
    reference, ref_params = studygym.make("Curriculum-v0", n_items=30, n_clusters=5, order="good")
    key = jax.random.key(7)
    node_of, prerequisite, cluster = env.curriculum(jax.random.split(key)[1])
    ref_node_of, ref_prerequisite, ref_cluster = reference.curriculum(jax.random.split(key)[1])
    assert sorted(np.asarray(node_of).tolist()) == list(range(30))
    # The same node has the same prerequisite node, cluster and difficulty offset in every order.
    def by_node(node_of, prerequisite, cluster, difficulty):
        node_of = np.asarray(node_of)
        parent = np.where(np.asarray(prerequisite) >= 0, node_of[np.asarray(prerequisite)], -1)
        out = np.zeros((30, 3))
        out[node_of] = np.stack([parent, np.asarray(cluster), np.asarray(difficulty)], axis=1)
        return out

    _, state = env.reset(key, params)
    _, ref_state = reference.reset(key, ref_params)
    assert np.array_equal(np.asarray(state.learner.prerequisite), np.asarray(prerequisite))
    np.testing.assert_allclose(by_node(node_of, prerequisite, cluster, state.learner.difficulty),
                               by_node(ref_node_of, ref_prerequisite, ref_cluster, ref_state.learner.difficulty))
    has = np.asarray(prerequisite) >= 0
    assert has.sum() == 29  # prerequisite_prob = 1: a tree
    before = np.asarray(prerequisite)[has] < np.arange(30)[has]
    if order in ("good", "blocked"):
        assert before.all()  # topological
    elif order == "reverse":
        assert not before.any()


def test_good_order_spreads_similar_items_and_blocked_groups_them():
    gaps = {}
    for order in ("good", "blocked"):
        env, _ = studygym.make("Curriculum-v0", n_items=40, n_clusters=8, order=order)
        runs = []
        for seed in range(20):
            cluster = np.asarray(env.curriculum(jax.random.key(seed))[2])
            runs.append(np.mean(cluster[1:] == cluster[:-1]))  # neighbours from the same cluster
        gaps[order] = np.mean(runs)
    # A random order puts cluster-mates side by side 1/8 of the time; blocking (under the
    # prerequisites-first constraint, which sometimes forces a switch) at least 3x that.
    assert gaps["good"] < 0.05 and gaps["blocked"] > 3 / 8


def test_curriculum_features_track_prerequisites_and_cluster_mates():
    env, params = studygym.make("Curriculum-v0", **SMALL)
    obs, state = env.reset(jax.random.key(3), params)
    prerequisite = np.asarray(state.learner.prerequisite)
    cluster = np.asarray(state.learner.cluster)
    child = int(np.flatnonzero(prerequisite >= 0)[0])
    parent = int(prerequisite[child])
    items = lambda o: np.asarray(split_item_obs(o, env.obs_layout)[0])
    assert items(obs)[child, 5:8].tolist() == [1.0, 0.0, 0.0]
    assert items(obs)[:, 8].max() == 0.0
    obs, state, *_ = env.step(jax.random.key(0), state, parent, params)
    after = items(obs)
    assert after[child, 6] == 1.0  # prerequisite seen
    assert after[child, 7] == float(int(state.last_grade[parent]) > 1)
    mates = (cluster == cluster[parent]) & (np.arange(12) != parent)
    np.testing.assert_allclose(after[mates, 8], 1.0 / mates.sum(), rtol=1e-6)
    assert after[parent, 8] == 0.0


@pytest.mark.parametrize("override, field", [
    (dict(order="best"), "order"), (dict(learner="fsrs"), "learner"), (dict(n_clusters=0), "n_clusters"),
    (dict(n_items=4, n_clusters=5), "n_clusters"), (dict(prerequisite_prob=1.5), "prerequisite_prob"),
    (dict(preset="older"), "older_adult"),
])
def test_bad_input_raises_naming_the_field(override, field):
    with pytest.raises(ValueError, match=field):
        studygym.make("Curriculum-v0", **override)


def test_jit_vmap_and_determinism():
    env, params = studygym.make("Curriculum-v0", **SMALL)
    keys = jax.random.split(jax.random.key(1), 3)
    obs, states = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(keys, params)
    one, _ = env.reset(keys[1], params)
    np.testing.assert_allclose(obs[1], one, atol=1e-6)
    actions = jnp.array([0, 1, 12])
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    out_a = step(keys, states, actions, params)
    out_b = step(keys, states, actions, params)
    np.testing.assert_array_equal(np.asarray(out_a[0]), np.asarray(out_b[0]))


# ----------------------------------------------------------------------------------------------
# The science: order matters through the brain learner's schema and interference
# ----------------------------------------------------------------------------------------------


def order_gap(policy: str, n_learners: int, orders=("good", "random"), **overrides) -> np.ndarray:
    """Per-learner retention_delayed of ``orders[0]`` minus ``orders[1]`` (same learners, same seed)."""
    runs = [evaluate([policy], "Curriculum-v0", n_learners=n_learners, seed=0, curves=False, order=order,
                     **overrides) for order in orders]
    assert not any(df["failed"].any() for df in runs)
    return runs[0]["retention_delayed"].to_numpy() - runs[1]["retention_delayed"].to_numpy()


def paired_t(diff: np.ndarray) -> float:
    return float(diff.mean() / (diff.std(ddof=1) / np.sqrt(diff.size)))


def test_every_classic_scheduler_runs_unchanged():
    """README: classic schedulers run on Curriculum-v0 unchanged (default CI: all of them, 2 learners)."""
    assert_classic_schedulers_run_unchanged("Curriculum-v0", **SMALL)


def test_good_order_beats_random_for_round_robin():
    """Prerequisites first and similar items apart beats a random order on delayed retention
    (schema: Tse et al. 2007, Science 316:76; interference: Ellenbogen et al. 2006, Curr Biol
    16:1290), for the same learners under Round-robin."""
    gap = order_gap("round_robin", 48)
    assert gap.mean() > 0.004 and paired_t(gap) > 3.0


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["fsrs", "round_robin", "threshold"])
def test_good_order_beats_random_for_classic_schedulers(policy):
    """As above, for each classic scheduler (unchanged: it introduces the lowest unseen index),
    over 256 paired learners: a mean gain of at least 0.004 and a paired t above 3."""
    gap = order_gap(policy, 256)
    assert gap.mean() > 0.004 and paired_t(gap) > 3.0


@pytest.mark.slow
def test_the_gap_comes_from_schema_and_interference():
    """Ablation: without the brain's schema gains and interference the good-vs-random gap
    shrinks to under half (the test fails if those mechanisms break)."""
    with_mechanisms = order_gap("round_robin", 128)
    without = order_gap("round_robin", 128, schema_encoding_gain=0.0, schema_consolidation_gain=0.0,
                        interference=0.0)
    assert with_mechanisms.mean() > 0.004
    assert abs(without.mean()) < with_mechanisms.mean() / 2
