"""`studygym smoke` passes every registered env and catches each kind of broken env."""

import jax
import jax.numpy as jnp
import pytest

import studygym
from studygym.cli import main
from studygym.envs.tasks.review import ReviewConfig, ReviewEnv
from studygym.smoke import smoke, smoke_env

SMALL = ReviewConfig(n_items=5, slots_per_day=3, n_days=3)


def test_every_registered_env_passes():
    results = smoke()
    assert [r.env_id for r in results] == studygym.registered_ids()
    for result in results:
        assert result.ok, result.line()
        assert result.steps > 0


class NaNReward(ReviewEnv):
    def step_env(self, key, state, action, params):
        obs, state, reward, terminated, truncated, info = super().step_env(key, state, action, params)
        return obs, state, jnp.where(state.step > 4, jnp.nan, reward), terminated, truncated, info


class Retraces(ReviewEnv):
    def step_env(self, key, state, action, params):
        obs, state, *rest = super().step_env(key, state, action, params)
        return (obs, state.replace(step=state.step.astype(jnp.float32)), *rest)  # dtype drifts -> re-trace


class IgnoresKey(ReviewEnv):
    def step_env(self, key, state, action, params):
        return super().step_env(jax.random.key(0), state, action, params)

    def reset_env(self, key, params):
        return super().reset_env(jax.random.key(0), params)


class ObsOutside(ReviewEnv):
    def get_obs(self, state, params):
        return -1.0 - super().get_obs(state, params)


class NeverEnds(ReviewEnv):
    def step_env(self, key, state, action, params):
        obs, state, reward, terminated, truncated, info = super().step_env(key, state, action, params)
        return obs, state, reward, jnp.bool_(False), truncated, info


@pytest.mark.parametrize("cls, message", [
    (NaNReward, "non-finite"), (Retraces, "re-traced"), (IgnoresKey, "identical trajectories"),
    (ObsOutside, "outside the observation space"), (NeverEnds, "did not end"),
])
def test_broken_envs_fail_with_the_reason(cls, message):
    env = cls(SMALL)
    result = smoke_env(env, env.default_params)
    assert not result.ok
    assert message in result.message, result.message


def test_cli_exit_status_and_output(capsys):
    assert main(["smoke", "Review-v0"]) == 0
    out = capsys.readouterr().out
    assert "PASS Review-v0" in out
    assert main(["smoke", "Revew-v0"]) == 2
    assert "Did you mean 'Review-v0'" in capsys.readouterr().err
