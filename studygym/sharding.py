"""Spread a batch of simulated learners over every local JAX device (data parallelism).

studygym's work is embarrassingly parallel over learners: the harness vmaps whole episodes over
learners and PPO vmaps its rollout over them. This module places that learner axis on a one-axis
device mesh (``jax.sharding.Mesh`` over ``jax.local_devices()``, axis name ``"batch"``), so that
``jit`` runs each device's slice of learners on that device and XLA inserts the collectives a
computation needs (PPO's gradient mean over a sharded minibatch becomes an all-reduce). Parameters
(network weights, optimiser state, env params) are replicated.

**Results do not depend on the device count.** A learner's random stream is a function of
``(seed, learner index)`` only (:func:`studygym.evaluation.harness.learner_keys`), and JAX's threefry keys are
partitionable (``jax_threefry_partitionable``, on by default since JAX 0.5), so a learner draws the
same numbers on any device. Per-learner results (``evaluate``) are therefore equal exactly; what
reduces *over* learners (PPO's losses, advantage normalisation, gradient means) may sum in a
different order and differ by float32 rounding (~1e-7 relative per step).

A batch whose size is not a multiple of the device count is padded (repeating its last element)
and the padding dropped after the run (:func:`pad_to_devices`).

**Devices.**

- *CPU*: one device by default. ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (set before
  ``jax`` is imported) splits the CPU into N devices; each then runs its slice of learners on its
  own thread, which is how several cores work on one ``lax.scan`` (XLA runs a scan's body on one
  thread per device). See ``scripts/bench_scaling.py`` for what it buys.
- *GPU*: every visible GPU is a device (``CUDA_VISIBLE_DEVICES`` selects them); nothing else to
  set. One GPU is one device: the batch then simply runs there.
- *Several hosts*: not handled here (``jax.distributed``); use ``studygym sweep`` on a Ray cluster
  to spread independent runs over machines instead.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

#: Name of the mesh axis the learner batch is split along.
BATCH_AXIS = "batch"


def device_count() -> int:
    """Number of local JAX devices the batch is spread over."""
    return jax.local_device_count()


def batch_mesh(devices: Any = None) -> Mesh:
    """A one-axis mesh (``"batch"``) over ``devices`` (default: every local device)."""
    devices = jax.local_devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("devices must name at least one JAX device")
    return Mesh(np.asarray(devices), (BATCH_AXIS,))


def batch_sharding(mesh: Mesh, ndim: int = 1) -> NamedSharding:
    """Sharding of an array whose leading axis is the learner batch (other axes not split)."""
    return NamedSharding(mesh, PartitionSpec(BATCH_AXIS, *([None] * (ndim - 1))))


def replicated(mesh: Mesh) -> NamedSharding:
    """Sharding of an array every device holds whole (weights, env params)."""
    return NamedSharding(mesh, PartitionSpec())


def padded_size(n: int, mesh: Mesh | None = None) -> int:
    """``n`` rounded up to a multiple of the mesh's device count."""
    devices = 1 if mesh is None else mesh.size
    return -(-int(n) // devices) * devices


def pad_to_devices(indices: np.ndarray, mesh: Mesh | None = None, size: int | None = None) -> np.ndarray:
    """``indices`` padded (repeating the last) to ``size`` rounded up to a multiple of the device count.

    The caller drops results past ``len(indices)``.
    """
    indices = np.asarray(indices)
    target = padded_size(len(indices) if size is None else max(size, len(indices)), mesh)
    return np.pad(indices, (0, target - len(indices)), mode="edge")


def _divisible(leaf: Any, mesh: Mesh) -> bool:
    shape = getattr(leaf, "shape", ())
    return len(shape) >= 1 and shape[0] % mesh.size == 0


def shard_batch(tree: Any, mesh: Mesh | None = None) -> Any:
    """Place every leaf of ``tree`` split along its leading (learner) axis over the mesh's devices.

    Leaves whose leading axis does not divide evenly (and scalars) are replicated.
    """
    mesh = batch_mesh() if mesh is None else mesh
    return jax.tree.map(lambda x: jax.device_put(x, batch_sharding(mesh, x.ndim) if _divisible(x, mesh)
                                                 else replicated(mesh)), tree)


def replicate(tree: Any, mesh: Mesh | None = None) -> Any:
    """Place every leaf of ``tree`` whole on every device of the mesh."""
    mesh = batch_mesh() if mesh is None else mesh
    return jax.device_put(tree, replicated(mesh))


def constrain_batch(tree: Any, mesh: Mesh | None, axis: int = 0) -> Any:
    """Inside ``jit``: ask XLA to keep ``tree``'s leaves split along ``axis`` over the mesh.

    A no-op without a mesh or on one device; leaves whose ``axis`` does not divide evenly are left
    to XLA. This is how a batch created inside a jitted function (PPO's rollout) is placed.
    """
    if mesh is None or mesh.size == 1:
        return tree

    def constrain(x):
        shape = getattr(x, "shape", ())
        if len(shape) <= axis or shape[axis] % mesh.size:
            return x
        spec = PartitionSpec(*([None] * axis), BATCH_AXIS, *([None] * (len(shape) - axis - 1)))
        return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))

    return jax.tree.map(constrain, tree)


__all__ = ["BATCH_AXIS", "device_count", "batch_mesh", "batch_sharding", "replicated", "padded_size",
           "pad_to_devices", "shard_batch", "replicate", "constrain_batch"]
