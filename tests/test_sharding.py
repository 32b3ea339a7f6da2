"""studygym.sharding: the learner batch split over devices changes no result.

Several CPU devices are forced with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``, which
must be set before jax is imported: the multi-device runs happen in subprocesses, and their
results are compared with the same run on one device. ``evaluate`` must match exactly (a learner's
numbers depend on its own key only); PPO's parameters to float32 rounding (its losses and
gradients are means over the batch, summed in another order once split).
"""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pandas as pd
import pytest

from studygym.sharding import (batch_mesh, constrain_batch, device_count, pad_to_devices, padded_size, replicate,
                               shard_batch)

# One script, two modes (evaluate; PPO), run once per device count.
SCRIPT = r"""
import json, sys
import jax, numpy as np
from studygym.evaluation.harness import evaluate
from studygym.sharding import batch_mesh, shard_batch, device_count
from studygym.evaluation.harness import learner_keys

out, mode = sys.argv[1], sys.argv[2]
mesh = batch_mesh()
meta = {"devices": device_count(), "keys_on": len(shard_batch(learner_keys(0, np.arange(6)), mesh).sharding.device_set)}
if mode == "evaluate":
    # 7 learners in chunks of 4: neither 4 nor the last chunk (3) divides by 3 devices: padding is dropped.
    df = evaluate("fsrs,random", "Review-v0", n_learners=7, seed=3, chunk_size=4, n_items=5, n_days=3)
    df.to_csv(out + "/episodes.csv", index=False)
    df.attrs["curves"].to_csv(out + "/curves.csv", index=False)
else:
    from studygym.agents import ppo
    from studygym.registry import make

    hyper = dict(n_learners=24, n_steps=16, n_minibatches=4, update_epochs=2, hidden=16)
    overrides = {"n_items": 5, "n_days": 3}
    trained = ppo.train("Review-v0", total_steps=2 * 24 * 16, seed=0, overrides=overrides, **hyper)
    np.savez(out + "/params.npz", **ppo.flatten_params(trained.params))
    env, params = make("Review-v0", **overrides)
    spec = ppo.net_spec_for(env, params, 16)
    init, _ = ppo.make_train(env, params, spec, ppo.check_hyper(hyper), 2, mesh=mesh)
    runner = jax.jit(init)(jax.random.key(0))
    meta.update({"obs_on": len(runner.obs.sharding.device_set),
                 "obs_shard_rows": runner.obs.addressable_shards[0].data.shape[0],
                 "params_on": len(jax.tree.leaves(runner.params)[0].sharding.device_set),
                 "curve": trained.curve["value_loss"].tolist()})
json.dump(meta, open(out + "/meta.json", "w"))
"""


def run_on_devices(tmp_path_factory, mode: str) -> dict:
    """The script's ``mode`` on 1 and on 3 forced CPU devices (run side by side): device count -> folder."""
    procs, outs = {}, {}
    for devices in (1, 3):
        out = tmp_path_factory.mktemp(f"{mode}{devices}")
        env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
               "JAX_PLATFORMS": "cpu"}
        procs[devices] = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), mode], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        outs[devices] = out
    for devices, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    return outs


@pytest.fixture(scope="module")
def eval_runs(tmp_path_factory):
    return run_on_devices(tmp_path_factory, "evaluate")


@pytest.fixture(scope="module")
def ppo_runs(tmp_path_factory):
    return run_on_devices(tmp_path_factory, "ppo")


def test_evaluate_is_unchanged_by_device_count(eval_runs):
    runs = eval_runs
    one = json.loads((runs[1] / "meta.json").read_text())
    three = json.loads((runs[3] / "meta.json").read_text())
    assert (one["devices"], one["keys_on"]) == (1, 1)
    assert (three["devices"], three["keys_on"]) == (3, 3)  # the learner keys really are split
    one = pd.read_csv(runs[1] / "episodes.csv")
    three = pd.read_csv(runs[3] / "episodes.csv")
    assert len(one) == 14 and list(one["learner"].unique()) == list(range(7))
    pd.testing.assert_frame_equal(one, three, check_exact=True)  # bit for bit
    pd.testing.assert_frame_equal(pd.read_csv(runs[1] / "curves.csv"), pd.read_csv(runs[3] / "curves.csv"),
                                  check_exact=True)


# Two short PPO trainings (~40 s on an idle 2-core machine), in default CI: the README states it.
def test_ppo_training_is_unchanged_by_device_count(ppo_runs):
    runs = ppo_runs
    meta = json.loads((runs[3] / "meta.json").read_text())
    assert meta["devices"] == 3 and meta["obs_on"] == 3
    assert meta["obs_shard_rows"] == 24 // 3  # the rollout batch is split over the devices
    assert meta["params_on"] == 3  # weights replicated on every device
    one = np.load(runs[1] / "params.npz")
    three = np.load(runs[3] / "params.npz")
    assert sorted(one.files) == sorted(three.files)
    moved = max(float(np.max(np.abs(one[k]))) for k in one.files)
    assert moved > 0.1  # the network trained at all
    for name in one.files:
        # Gradient means and advantage normalisation sum over a split batch in another order.
        np.testing.assert_allclose(one[name], three[name], atol=1e-5, rtol=1e-5, err_msg=name)
    curve_one = json.loads((runs[1] / "meta.json").read_text())["curve"]
    curve_three = json.loads((runs[3] / "meta.json").read_text())["curve"]
    np.testing.assert_allclose(curve_one, curve_three, rtol=1e-4)


def test_padding_helpers():
    mesh = batch_mesh()
    assert device_count() == mesh.size == len(jax.local_devices())
    assert padded_size(5, None) == 5
    padded = pad_to_devices(np.arange(3), mesh, size=4)
    assert list(padded[:3]) == [0, 1, 2] and len(padded) == padded_size(4, mesh) and np.all(padded[3:] == 2)
    assert len(pad_to_devices(np.arange(6), mesh, size=4)) == padded_size(6, mesh)  # never truncates
    tree = {"x": np.arange(8.0), "scalar": np.float32(1.0)}
    placed = shard_batch(tree, mesh)
    np.testing.assert_array_equal(np.asarray(placed["x"]), tree["x"])
    np.testing.assert_array_equal(np.asarray(replicate(tree, mesh)["x"]), tree["x"])
    assert constrain_batch(tree, None) is tree
    with pytest.raises(ValueError, match="devices"):
        batch_mesh([])
