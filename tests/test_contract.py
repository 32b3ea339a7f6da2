"""The declared observation contract: every env names its per-item and global features and its
action layout; schedulers and PPO read columns by name and fail loudly on a missing name."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import studygym
from studygym.agents import ppo
from studygym.agents.schedulers import make_policy
from studygym.agents.schedulers.tutoring import Bedtime, RewardRule
from studygym.envs.core import Environment, check_contract, feature_columns, split_item_obs
from studygym.envs.tasks.review import ReviewConfig, ReviewEnv
from studygym.envs.tasks.sleep import SleepEnv

REVIEW_ITEMS = ("days_since_review", "reviews", "lapses", "last_grade", "seen")
REVIEW_GLOBALS = ("progress", "slot_of_day", "last_step_grade", "last_step_recalled")
#: Registered envs built on Review-v0: PPO's item network with its history must run on each.
REVIEW_FAMILY = ("Review-v0", "Sleep-v0", "Tagging-v0", "Curriculum-v0", "DeepTutor-EFC-v0", "DeepTutor-HLR-v0",
                 "DeepTutor-GPL-v0")
TINY = {"n_items": 4, "slots_per_day": 3, "n_days": 4}


# ----------------------------------------------------------------------------------------------
# Test envs: Review-v0 with its columns reordered, and Review-v0 / Sleep-v0 missing a name
# ----------------------------------------------------------------------------------------------

ITEM_ORDER = (4, 3, 0, 2, 1)  # Review-v0's feature f goes to position ITEM_ORDER.index(f)
GLOBAL_ORDER = (3, 2, 1, 0)


class ShuffledReview(ReviewEnv):
    """Review-v0's dynamics with its item features and globals in another (declared) order."""

    item_features = tuple(ReviewEnv.item_features[i] for i in ITEM_ORDER)
    global_features = tuple(ReviewEnv.global_features[i] for i in GLOBAL_ORDER)

    def _permute(self, values):
        n, f = self.config.n_items, len(ITEM_ORDER)
        items = values[: n * f].reshape(f, n)[np.array(ITEM_ORDER)].reshape(-1)
        return jnp.concatenate([jnp.asarray(items), jnp.asarray(values[n * f:])[np.array(GLOBAL_ORDER)]])

    def get_obs(self, state, params):
        return self._permute(super().get_obs(state, params))

    def observation_space(self, params=None):
        base = super().observation_space(params)
        high = np.asarray(self._permute(base.high))
        return type(base)(0.0, high, high.shape)


class NoLastGrade(ReviewEnv):
    """Review-v0 whose per-item ``last_grade`` is declared under another name."""

    id = "NoLastGrade-v0"
    item_features = ("days_since_review", "reviews", "lapses", "grade_shown", "seen")


class SleepNoAsleep(SleepEnv):
    id = "SleepNoAsleep-v0"
    global_features = SleepEnv.global_features[:-2] + ("sleeping", "days_to_exam")


def make_env(cls, **config):
    env = cls(ReviewConfig(**config)) if cls is not SleepNoAsleep else cls()
    return env, env.default_params


# ----------------------------------------------------------------------------------------------
# Every registered env declares a contract that matches its spaces
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", studygym.registered_ids())
def test_every_env_declares_names_that_match_its_observation(env_id):
    env, params = studygym.make(env_id)
    check_contract(env, params)  # unique names, sizes, obs_layout and action_layout agree with the spaces
    items, globals_ = env.item_features, env.global_features
    assert isinstance(items, tuple) and isinstance(globals_, tuple) and globals_
    size = int(np.prod(env.observation_space(params).shape))
    if items:
        n = env.n_obs_items
        assert env.obs_layout == (n, len(items), len(globals_))
        assert size == n * len(items) + len(globals_)
    else:
        assert env.obs_layout is None and size == len(globals_)
    if env.action_layout is not None:
        blocks, n_global = env.action_layout
        assert env.action_space(params).n == blocks * (env.n_obs_items + n_global)


@pytest.mark.parametrize("env_id", REVIEW_FAMILY)
def test_review_family_lists_review_names_first_then_its_own(env_id):
    env, _ = studygym.make(env_id)
    assert env.item_features[:5] == REVIEW_ITEMS and env.global_features[:4] == REVIEW_GLOBALS
    extra = {"Sleep-v0": ("global", ("hour_of_day", "hours_awake", "asleep", "days_to_exam")),
             "Tagging-v0": ("global", ("budget_left", "hours_since_event")),
             "Curriculum-v0": ("item", ("has_prerequisite", "prerequisite_seen", "prerequisite_recalled",
                                        "cluster_seen"))}.get(env_id, ("item", ()))
    block, names = extra
    own = env.item_features[5:] if block == "item" else env.global_features[4:]
    assert own == names
    assert (env.item_features[5:] if block == "global" else env.global_features[4:]) == ()


@pytest.mark.parametrize("env_id", REVIEW_FAMILY)
def test_named_columns_hold_what_their_names_say(env_id):
    """After reviewing item 0 once, its ``reviews`` and ``seen`` are 1 and the others' 0, read by name."""
    env, params = studygym.make(env_id, n_items=4, **({"n_clusters": 2} if env_id == "Curriculum-v0" else {}))
    obs, state = env.reset(jax.random.key(0), params)
    obs, *_ = jax.jit(env.step)(jax.random.key(1), state, 0, params)
    items, glob = split_item_obs(obs, env.obs_layout)
    reviews, seen, grade = feature_columns(env, ("reviews", "seen", "last_grade"))
    (progress,) = feature_columns(env, ("progress",), block="global")
    np.testing.assert_array_equal(np.asarray(items[:, reviews]), [1, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(items[:, seen]), [1, 0, 0, 0])
    assert 1 <= float(items[0, grade]) <= 4
    np.testing.assert_allclose(float(glob[progress]), 1 / env.max_steps, rtol=1e-6)


def test_feature_columns_names_the_env_and_every_missing_name():
    env, _ = studygym.make("Deck-v0", deck_size=20, n_days=3)
    with pytest.raises(ValueError, match=r"'Deck-v0'.*days_since_review, seen.*my reader"):
        feature_columns(env, ("days_since_review", "seen"), user="my reader")
    with pytest.raises(ValueError, match="declares no item_features"):
        feature_columns(object(), ("seen",))
    env, _ = studygym.make("Review-v0", n_items=3)
    assert feature_columns(env, ("seen", "days_since_review")) == (4, 0)
    assert feature_columns(env, ("last_step_grade",), block="global") == (2,)


def test_check_contract_catches_a_declaration_that_miscounts_the_observation():
    class Miscounted(ReviewEnv):
        item_features = ReviewEnv.item_features + ("extra",)

    env = Miscounted(ReviewConfig(n_items=3))
    with pytest.raises(ValueError, match="observation has 19 values"):
        check_contract(env)

    class WrongActions(ReviewEnv):
        action_layout = (2, 1)

    with pytest.raises(ValueError, match="action_layout"):
        check_contract(WrongActions(ReviewConfig(n_items=3)))
    assert Environment.action_layout is None and Environment().obs_layout is None  # the base declares nothing


# ----------------------------------------------------------------------------------------------
# PPO: the history is built by name wherever the item features exist
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", studygym.registered_ids())
def test_ppo_spec_builds_the_history_wherever_its_item_features_exist(env_id):
    env, params = studygym.make(env_id)
    spec = ppo.net_spec_for(env, params, 8)
    has_names = set(ppo.HISTORY_FEATURES) <= set(env.item_features)
    if env.action_layout is not None and has_names:
        assert spec.kind == "items" and len(spec.history_columns) == len(ppo.HISTORY_FEATURES)
        assert tuple(env.item_features[c] for c in spec.history_columns) == ppo.HISTORY_FEATURES
        net = ppo.init_network(jax.random.key(0), spec)
        assert net["embed"][0]["w"].shape[0] == len(env.item_features) + ppo.N_HISTORY  # the history is an input
    else:
        assert spec.kind == "flat" and spec.history_columns == ()
    if env_id in REVIEW_FAMILY:
        assert spec.kind == "items" and spec.history_columns  # the regression: Sleep/Tagging/DeepTutor had ()


def test_ppo_spec_raises_when_the_env_lacks_a_history_name():
    env, params = make_env(NoLastGrade, n_items=3)
    with pytest.raises(ValueError, match=r"'NoLastGrade-v0' lacks .*last_grade.*PPO"):
        ppo.net_spec_for(env, params, 8)
    assert ppo.net_spec_for(env, params, 8, network="mlp").kind == "flat"  # the MLP needs no names


def test_ppo_history_reads_columns_by_name_not_position():
    """On Review-v0 with its columns reordered, PPO's history is the same as on Review-v0."""
    review, params = make_env(ReviewEnv, n_items=3, slots_per_day=2, n_days=4)
    shuffled, _ = make_env(ShuffledReview, n_items=3, slots_per_day=2, n_days=4)
    check_contract(shuffled, params)
    spec_r, spec_s = ppo.net_spec_for(review, params, 8), ppo.net_spec_for(shuffled, params, 8)
    assert spec_r.history_columns != spec_s.history_columns

    def histories(env, spec):
        def run(key):
            obs, state = env.reset(key, params)
            history = ppo.history_update(spec, ppo.history_init(spec), obs)

            def step(carry, t):
                state, history = carry
                obs, state, *_ = env.step(jax.random.fold_in(key, t), state, jnp.array([0, 1, 0, 3, 0, 2, 0, 3])[t],
                                          params)
                history = ppo.history_update(spec, history, obs)
                return (state, history), history

            return jax.lax.scan(step, (state, history), jnp.arange(8))[1]

        return jax.jit(run)(jax.random.key(3))

    h_review, h_shuffled = histories(review, spec_r), histories(shuffled, spec_s)
    assert float(h_review.streak.max()) > 0 or float(h_review.last_interval.max()) > 0  # it saw retrievals
    for a, b in zip(h_review, h_shuffled):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# ----------------------------------------------------------------------------------------------
# PPO: saved runs record their columns and loading checks them against the env
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_sleep_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sleep_run")
    ppo.untrained("Sleep-v0", seed=0, overrides={"n_items": 4}, hidden=4).save(out)
    return out


def tamper(run, **network):
    config = json.loads((run / "config.json").read_text())
    config["network"].update(network)
    (run / "config.json").write_text(json.dumps(config))


def test_saved_run_records_its_history_columns_and_names(saved_sleep_run):
    config = json.loads((saved_sleep_run / "config.json").read_text())
    env, _ = studygym.make("Sleep-v0", n_items=4)
    assert config["network"]["history_columns"] == [0, 1, 3, 4]
    assert config["observation"]["item_features"] == list(env.item_features)
    assert config["observation"]["global_features"] == list(env.global_features)
    assert config["observation"]["action_layout"] == [1, 2]
    assert config["observation"]["history_features"] == list(ppo.HISTORY_FEATURES)
    policy = ppo.load_ppo(saved_sleep_run, env=env)
    assert policy.spec.history_columns == (0, 1, 3, 4)


@pytest.mark.parametrize("columns, message", [
    ([0, 1, 3, 9], "outside the item block"),
    ([0, 1, 3], "4 integer columns"),
    ([0, 1, 1, 4], "repeats a column"),
    ([0, 1, 2.5, 4], "config.json.*history_columns must be integers"),
    ([0, 1, 2, 4], r"read \['days_since_review', 'reviews', 'lapses', 'seen'\]"),
    ([], "no per-item history.*retrain"),
])
def test_load_rejects_tampered_history_columns(tmp_path, saved_sleep_run, columns, message):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("params.npz", "config.json"):
        (run / name).write_bytes((saved_sleep_run / name).read_bytes())
    tamper(run, history_columns=columns)
    with pytest.raises(ValueError, match=message):
        ppo.load_ppo(run)


def test_load_rejects_a_run_whose_env_declares_other_names(tmp_path, saved_sleep_run):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("params.npz", "config.json"):
        (run / name).write_bytes((saved_sleep_run / name).read_bytes())
    config = json.loads((run / "config.json").read_text())
    config["observation"]["global_features"][-1] = "hours_to_exam"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="global_features"):
        ppo.load_ppo(run)


def test_policy_refuses_an_env_whose_columns_differ_from_the_network():
    trained = ppo.untrained("Review-v0", seed=0, overrides={"n_items": 3}, hidden=4)
    shuffled, _ = make_env(ShuffledReview, n_items=3)
    with pytest.raises(ValueError, match="history_columns|item_features"):
        trained.policy(env=shuffled)
    no_grade, _ = make_env(NoLastGrade, n_items=3)
    with pytest.raises(ValueError, match="last_grade"):
        trained.policy(env=no_grade)


# ----------------------------------------------------------------------------------------------
# Schedulers: columns by name, the same actions whatever the order, loud errors
# ----------------------------------------------------------------------------------------------


def test_scheduler_view_reads_every_column_by_name():
    review, params = make_env(ReviewEnv, **TINY)
    shuffled, _ = make_env(ShuffledReview, **TINY)
    n = TINY["n_items"]
    rng = np.random.default_rng(0)
    obs = np.concatenate([rng.uniform(0.0, 3.0, n), rng.integers(0, 5, n), rng.integers(0, 3, n),
                          rng.integers(1, 5, n), rng.integers(0, 2, n), [0.25, 0.5, 3.0, 1.0]]).astype(np.float32)
    view_r = make_policy("sm2", review).view(jnp.asarray(obs))
    view_s = make_policy("sm2", shuffled).view(shuffled._permute(obs))
    for field in ("days_since_review", "reviews", "lapses", "last_grade", "seen", "last_step_grade", "today"):
        np.testing.assert_array_equal(np.asarray(getattr(view_r, field)), np.asarray(getattr(view_s, field)),
                                      err_msg=field)
    np.testing.assert_array_equal(np.asarray(view_r.reviews), obs[n:2 * n])
    assert int(view_r.last_step_grade) == 3 and int(view_r.today) == int(0.25 * review.max_steps) // 3


def test_scheduler_actions_do_not_depend_on_column_order():
    review, params = make_env(ReviewEnv, **TINY)
    shuffled, _ = make_env(ShuffledReview, **TINY)

    def actions(env):
        policy = make_policy("fsrs", env)

        def run(key):
            obs, state = env.reset(key, params)

            def step(carry, t):
                obs, state, pstate = carry
                k = jax.random.fold_in(key, t)
                action, pstate = policy.act(k, pstate, obs)
                obs, state, *_ = env.step(k, state, action, params)
                return (obs, state, pstate), action

            return jax.lax.scan(step, (obs, state, policy.init(key, params)), jnp.arange(env.max_steps))[1]

        return np.asarray(jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(5), 3)))

    a_review, a_shuffled = actions(review), actions(shuffled)
    assert len(np.unique(a_review)) > 2  # a real schedule, not all rests
    np.testing.assert_array_equal(a_review, a_shuffled)


def test_schedulers_name_the_env_and_the_missing_names():
    env, _ = make_env(NoLastGrade, n_items=3)
    with pytest.raises(ValueError, match=r"'NoLastGrade-v0' lacks .*last_grade"):
        make_policy("sm2", env)
    env, _ = studygym.make("SSPMMC-DHP-v0", deck_size=50, n_days=5)
    with pytest.raises(ValueError, match=r"'SSPMMC-DHP-v0' lacks .*reviews, last_grade, seen"):
        make_policy("fsrs", env)
    sleep, _ = make_env(SleepNoAsleep)
    with pytest.raises(ValueError, match=r"'SleepNoAsleep-v0' lacks the global .*asleep.*Bedtime"):
        Bedtime(sleep, make_policy("round_robin", sleep))


def test_tutoring_wrappers_check_the_action_layout():
    tagging, _ = studygym.make("Tagging-v0", n_items=3)
    sleep, _ = studygym.make("Sleep-v0", n_items=3)

    class OneBlockTagging(type(tagging)):
        action_layout = (1, 1)

    odd = OneBlockTagging(tagging.config)
    with pytest.raises(ValueError, match=r"action_layout \(2, 1\)"):
        RewardRule(odd, make_policy("fsrs", odd))
    rule = RewardRule(tagging, make_policy("fsrs", tagging))
    bed = Bedtime(sleep, make_policy("fsrs", sleep))
    assert bed.asleep_column == sleep.global_features.index("asleep") and rule.n_items == 3
