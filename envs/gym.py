"""Gymnasium and Stable-Baselines3 adapters over the functional envs.

- :class:`StudyGymEnv`: a numpy-speaking ``gymnasium.Env`` (one learner). Passes both
  ``gymnasium.utils.env_checker.check_env`` and SB3's ``check_env``: numpy observations of the
  space's dtype, Python ``float`` rewards and ``bool`` flags, ``super().reset(seed=seed)``.
  Out-of-range actions raise ``ValueError`` (inside ``jit`` they would rest silently).
- :class:`StudyGymVectorEnv`: a Gymnasium ``VectorEnv`` (``autoreset_mode`` = same step, the final
  observation in ``info["final_obs"]``) that steps every sub-env in one jitted call.
- ``StudySB3VecEnv``: an SB3 ``VecEnv`` over the same batched core, with SB3's terminal
  semantics (``info["terminal_observation"]``, ``info["TimeLimit.truncated"]``). Imported lazily
  so that ``import studygym`` does not import torch.

After ``import studygym`` every registered id ``X`` is also ``gymnasium.make("studygym/X")`` and
``gymnasium.make_vec("studygym/X", num_envs=n)``; keyword arguments are ``studygym.make``
overrides (``n_items=50``, ``cost_per_minute=0.01``, ...).
"""

from __future__ import annotations

from typing import Any

import time

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import batch_space

from studygym import render
from studygym.envs.core import (AutoReset, Box, check_positive_int, check_seed, feature_columns,
                                unrolled_keys)
from studygym.registry import make, registered_ids

try:  # gymnasium >= 1.1 declares a vector env's autoreset mode; 1.0 has no AutoresetMode
    from gymnasium.vector import AutoresetMode
except ImportError:  # pragma: no cover - exercised by tests/test_install.py's gymnasium-1.0 check
    AutoresetMode = None

GYM_NAMESPACE = "studygym"
_SEED_HIGH = 2**31 - 1


def gym_id(env_id: str) -> str:
    return f"{GYM_NAMESPACE}/{env_id}"


def register_gym_env(env_id: str) -> None:
    """Register ``studygym/<env_id>`` with Gymnasium (single and vector entry points)."""
    name = gym_id(env_id)
    if name in gymnasium.registry:
        del gymnasium.registry[name]
    gymnasium.register(id=name, entry_point=f"{__name__}:StudyGymEnv",
                       vector_entry_point=f"{__name__}:StudyGymVectorEnv", kwargs={"env_id": env_id},
                       disable_env_checker=False)


def _as_action_array(action: Any, where: str, dtype=None) -> np.ndarray:
    """``np.asarray(action)``, or ``ValueError`` naming the action (ragged lists, strings for a Box)."""
    try:
        return np.asarray(action) if dtype is None else np.asarray(action, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"{where}: action must be a number or an array of numbers, got {action!r}") from None


def check_action(space: gymnasium.Space, action: Any, where: str) -> np.ndarray:
    """Return ``action`` as a numpy array, or raise ``ValueError`` saying why it is invalid."""
    if isinstance(space, gymnasium.spaces.Discrete):
        if isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_)) \
                and 0 <= action < space.n:  # the common case, without building an array first
            return np.int32(action)
        arr = _as_action_array(action, where)
        if arr.shape != () or not (np.issubdtype(arr.dtype, np.integer) or
                                   (np.issubdtype(arr.dtype, np.floating) and np.isfinite(arr)
                                    and float(arr) == int(arr))):
            raise ValueError(f"{where}: action must be an integer in [0, {space.n - 1}], got {action!r}")
        if not 0 <= int(arr) < space.n:
            raise ValueError(f"{where}: action {int(arr)} is out of range; valid actions are 0..{space.n - 1}")
        return arr.astype(np.int32)
    arr = _as_action_array(action, where, np.float32)
    if arr.shape != space.shape:
        raise ValueError(f"{where}: action must have shape {space.shape}, got {arr.shape}")
    if not (np.all(np.isfinite(arr)) and np.all(arr >= space.low) and np.all(arr <= space.high)):
        raise ValueError(f"{where}: action {arr.tolist()} is outside [{space.low.tolist()}, {space.high.tolist()}]")
    return arr


def check_actions(space: gymnasium.Space, actions: Any, n_envs: int, where: str) -> np.ndarray:
    """Validate a batch of actions (one per sub-env)."""
    if isinstance(space, gymnasium.spaces.Discrete):
        arr = np.asarray(actions).reshape(-1)
        if arr.shape != (n_envs,):
            raise ValueError(f"{where}: expected {n_envs} actions, got shape {np.shape(actions)}")
        if arr.dtype.kind in "iu" and arr.min() >= 0 and arr.max() < space.n:
            return arr.astype(np.int32)  # the common case (an agent's integer actions): two reductions
        if not np.issubdtype(arr.dtype, np.integer):
            if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
                raise ValueError(f"{where}: actions must be integers in [0, {space.n - 1}], got {arr[:5]}")
        bad = (arr < 0) | (arr >= space.n)
        if np.any(bad):
            raise ValueError(f"{where}: actions {arr[bad][:5].tolist()} (sub-envs {np.flatnonzero(bad)[:5].tolist()})"
                             f" are out of range; valid actions are 0..{space.n - 1}")
        return arr.astype(np.int32)
    arr = np.asarray(actions, dtype=np.float32).reshape((n_envs, *space.shape))
    bad = ~np.all(np.isfinite(arr) & (arr >= space.low) & (arr <= space.high),
                  axis=tuple(range(1, arr.ndim)))
    if np.any(bad):
        raise ValueError(f"{where}: actions of sub-envs {np.flatnonzero(bad)[:5].tolist()} are outside "
                         f"[{space.low.tolist()}, {space.high.tolist()}]")
    return arr


def _to_numpy_info(info: dict) -> dict:
    return {k: np.asarray(v) for k, v in info.items()}


#: XLA:CPU runs a call's kernels one after another on the calling thread when no buffer they touch
#: is larger than 512 bytes; otherwise it spreads them over its thread pool, and on a machine with
#: few cores the handoffs between threads cost more than the kernels of a single-env step (measured
#: 2-3x). The single env therefore passes its carry and outputs as vectors of at most this many
#: 32-bit words, so that a step of an env with up to 128 items stays in one thread.
SMALL_BUFFER_WORDS = 128


def _groups(sizes: list[int], limit: int | None, cut: bool = True) -> list[list[tuple[int, int, int]]]:
    """Split leaves of ``sizes`` (flat 32-bit words) into chunks of at most ``limit`` words.

    Each chunk is a list of ``(leaf, start, stop)`` pieces. A leaf larger than ``limit`` is cut
    into pieces (``cut``) or gets a chunk of its own. ``limit=None``: one chunk of every leaf."""
    chunks, current, used = [], [], 0
    for leaf, size in enumerate(sizes):
        step = limit if cut and limit is not None else max(size, 1)
        for start in range(0, max(size, 1), step):
            stop = min(start + step, size)
            if limit is not None and current and used + stop - start > limit:
                chunks.append(current)
                current, used = [], 0
            current.append((leaf, start, stop))
            used += stop - start
    return chunks + [current] if current else chunks


def _join(pieces: list) -> jax.Array:
    return pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces)


class Packer:
    """Packs a pytree of small arrays into float32 vectors inside ``jit`` and unpacks on the host.

    A few device-to-host copies instead of one per leaf: per-leaf copies cost more than the step
    itself for a single env. ``chunk`` (words) caps each vector's size (see
    :data:`SMALL_BUFFER_WORDS`); ``None`` packs everything into one vector. Integer and bool
    leaves must fit float32 exactly (|x| < 2**24). Scalar leaves come back as Python
    ``float``/``int``/``bool``: building a numpy scalar per leaf cost more than the rest of the
    host side of a single-env step.
    """

    def __init__(self, fn, *example_args, chunk: int | None = None):
        shapes = jax.eval_shape(fn, *example_args)
        leaves, self.treedef = jax.tree.flatten(shapes)
        self.shapes = [leaf.shape for leaf in leaves]
        self.dtypes = [np.dtype(leaf.dtype) for leaf in leaves]
        sizes = [int(np.prod(shape)) for shape in self.shapes]
        self._chunks = _groups(sizes, chunk)
        offsets = np.cumsum([0] + sizes).tolist()  # the host joins the vectors back in leaf order
        # Arrays: (leaf position, slice, shape, dtype or None when float32); scalars: their offsets
        # and, where not float, the Python type each becomes.
        self._arrays, self._casts, self._scalar_pos, index = [], [], [], []
        for pos, (shape, dtype) in enumerate(zip(self.shapes, self.dtypes)):
            start, stop = offsets[pos], offsets[pos + 1]
            if shape:
                self._arrays.append((pos, start, stop, shape, None if dtype == np.float32 else dtype))
            else:
                if dtype != np.float32:
                    self._casts.append((pos, bool if dtype == np.bool_ else int))
                self._scalar_pos.append(pos)
                index.append(start)
        contiguous = bool(index) and index == list(range(index[0], index[0] + len(index)))
        self._scalar_index = slice(index[0], index[-1] + 1) if contiguous else np.asarray(index, np.intp)

    def pack(self, tree) -> tuple[jax.Array, ...]:
        flat = [jnp.ravel(leaf).astype(jnp.float32) for leaf in jax.tree.leaves(tree)]
        return tuple(_join([flat[leaf][start:stop] for leaf, start, stop in chunk]) for chunk in self._chunks)

    def unpack(self, packed):
        """The pytree from ``pack``'s output (device arrays or numpy): arrays are views of one
        fresh, writable host copy (nothing aliases device buffers), scalars Python values."""
        flat = np.concatenate([np.asarray(part) for part in packed]) if len(packed) > 1 else np.array(packed[0])
        leaves = [None] * len(self.shapes)
        for pos, value in zip(self._scalar_pos, flat[self._scalar_index].tolist()):  # one tolist for all
            leaves[pos] = value
        for pos, kind in self._casts:
            leaves[pos] = kind(leaves[pos])
        for pos, start, stop, shape, dtype in self._arrays:
            view = flat[start:stop].reshape(shape)
            leaves[pos] = view if dtype is None else view.astype(dtype)
        return jax.tree.unflatten(self.treedef, leaves)


class FlatCarry:
    """Carries a pytree of 32-bit arrays, bools and PRNG keys between jitted calls as uint32 vectors.

    A jitted call pays per argument and per result buffer; the env state is ~20 small leaves plus
    the key, so a single env step spent more time passing them than computing. Packed (bit-cast,
    not converted: values round-trip exactly) into a few vectors of at most ``chunk`` words each
    (whole leaves; a larger leaf gets a vector of its own; ``None``: one vector), a step takes
    the carry and the action and returns as few buffers. ``pack``/``unpack`` run inside ``jit``.
    """

    def __init__(self, example, chunk: int | None = None):
        leaves, self.treedef = jax.tree.flatten(example)
        self.specs = []
        for leaf in leaves:
            is_key = jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)
            data = jax.eval_shape(jax.random.key_data, leaf) if is_key else leaf
            if not is_key and np.dtype(data.dtype).itemsize != 4 and data.dtype != jnp.bool_:
                raise TypeError(f"FlatCarry carries 32-bit, bool and key leaves, got {data.dtype}")
            self.specs.append((is_key, tuple(data.shape), data.dtype, int(np.prod(data.shape))))
        sizes = [size for *_, size in self.specs]
        # Whole leaves per vector: a leaf is never cut (rebuilding it would copy it).
        self._chunks = [[leaf for leaf, _, _ in chunk] for chunk in _groups(sizes, chunk, cut=False)]

    def pack(self, tree) -> tuple[jax.Array, ...]:
        words = []
        for leaf, (is_key, _, dtype, _) in zip(jax.tree.leaves(tree), self.specs):
            if is_key:
                leaf = jax.random.key_data(leaf)
            elif dtype == jnp.bool_:
                leaf = leaf.astype(jnp.uint32)
            words.append(jax.lax.bitcast_convert_type(leaf, jnp.uint32).ravel())
        return tuple(_join([words[leaf] for leaf in chunk]) for chunk in self._chunks)

    def _parts(self, vectors):
        """``(leaf, spec, part)`` for every leaf: its slice of ``pack``'s vectors, in its shape."""
        for chunk, flat in zip(self._chunks, vectors):
            start = 0
            for leaf in chunk:
                spec = self.specs[leaf]
                yield leaf, spec, flat[start:start + spec[3]].reshape(spec[1])
                start += spec[3]

    def unpack(self, packed: tuple[jax.Array, ...]):
        leaves = [None] * len(self.specs)
        for leaf, (is_key, _, dtype, _), part in self._parts(packed):
            if is_key:
                leaves[leaf] = jax.random.wrap_key_data(part)
            elif dtype == jnp.bool_:
                leaves[leaf] = part != 0
            else:
                leaves[leaf] = jax.lax.bitcast_convert_type(part, dtype)
        return jax.tree.unflatten(self.treedef, leaves)

    def unpack_numpy(self, packed):
        """The pytree from ``pack``'s vectors, each copied to the host once: each leaf a numpy view
        of that copy (bools a fresh array), bit for bit the packed values. Not for keys."""
        leaves = [None] * len(self.specs)
        for leaf, (is_key, _, dtype, _), part in self._parts([np.asarray(vector) for vector in packed]):
            if is_key:
                raise TypeError("FlatCarry.unpack_numpy does not unpack PRNG keys")
            leaves[leaf] = part != 0 if dtype == jnp.bool_ else part.view(np.dtype(dtype))
        return jax.tree.unflatten(self.treedef, leaves)


# ----------------------------------------------------------------------------------------------
# Action masks (sb3-contrib's MaskablePPO convention: ``env.action_masks()``)
# ----------------------------------------------------------------------------------------------


class IntroductionMask:
    """Valid actions of an item-choice env for action masking: every item already seen, the **next
    unseen item** (the lowest index, as every classic scheduler introduces them), and every global
    action (rest, sleep). Unseen items look alike to the tutor (their features are all zero), so
    allowing only the next one removes no choice an agent could tell apart, and it fixes the order
    in which items enter: item ``i`` is the ``i``-th introduced.

    Derived from the env's declared contract (:class:`studygym.envs.core.Environment`), never from
    probing: the ``seen`` per-item feature (``item_features``), ``n_obs_items`` and the
    ``action_layout`` ``(blocks, g)`` (in each of the ``blocks`` blocks of ``N + g`` actions, the
    same items, then ``g`` global actions). An env that declares no ``action_layout`` or no ``seen``
    feature gets a ``ValueError`` naming what is missing. ``to_config``/``from_config`` carry the
    mask into a saved policy (plain JSON). ``__call__(obs, xp)`` reads one observation ``(F,)`` or a
    batch ``(..., F)`` (raw or ``normalize=True``: ``seen`` is 0/1 in both) with numpy (``xp=np``)
    or inside ``jit`` (``xp=jnp``) and returns a bool mask ``(..., blocks * (N + g))``.
    """

    KIND = "introduce_in_order"

    def __init__(self, n_items: int, seen_feature: int, action_layout: tuple[int, int]):
        self.n_items, self.seen_feature = int(n_items), int(seen_feature)
        self.blocks, self.n_global = (int(x) for x in action_layout)
        if self.n_items < 1 or self.seen_feature < 0 or self.blocks < 1 or self.n_global < 0:
            raise ValueError(f"IntroductionMask: n_items={n_items}, seen_feature={seen_feature}, "
                             f"action_layout={tuple(action_layout)} do not describe an item-choice action")
        self.start = self.seen_feature * self.n_items  # the seen block, obs[start:start + N]
        self.n_actions = self.blocks * (self.n_items + self.n_global)

    @classmethod
    def of_env(cls, env) -> "IntroductionMask":
        if env.action_layout is None:
            raise ValueError(f"env {env.name!r} declares no item-choice action_layout: action masking "
                             f"(action_masks(), MaskablePPO) needs one (see studygym.envs.core.Environment)")
        (seen,) = feature_columns(env, ("seen",), block="item", user="action masking (action_masks())")
        return cls(env.n_obs_items, seen, env.action_layout)

    def to_config(self) -> dict:
        return {"kind": self.KIND, "n_items": self.n_items, "seen_feature": self.seen_feature,
                "action_layout": [self.blocks, self.n_global]}

    @classmethod
    def from_config(cls, config: dict) -> "IntroductionMask":
        if not isinstance(config, dict) or config.get("kind") != cls.KIND:
            raise ValueError(f"action_mask must be {{'kind': {cls.KIND!r}, ...}}, got {config!r}")
        return cls(config["n_items"], config["seen_feature"], config["action_layout"])

    def __call__(self, obs, xp=np):
        obs = xp.asarray(obs)
        unseen = obs[..., self.start:self.start + self.n_items] < 0.5
        first_unseen = unseen & (xp.cumsum(unseen, axis=-1) == 1)
        items = ~unseen | first_unseen
        globals_ = xp.ones(obs.shape[:-1] + (self.n_global,), dtype=bool)
        block = xp.concatenate([items, globals_], axis=-1)
        return xp.concatenate([block] * self.blocks, axis=-1) if self.blocks > 1 else block


# ----------------------------------------------------------------------------------------------
# Single env
# ----------------------------------------------------------------------------------------------


class UnitObservation:
    """``normalize=True``: a fixed map of an env's observation onto ``[0, 1]``, for generic MLPs.

    Raw studygym observations are what an app records: counts, days and seconds whose declared
    bounds are loose (a review count is bounded by the episode's 300 steps where ~17 occur). Per
    feature, from its declared ``Box`` bounds ``[low, high]`` and nothing else (no running
    statistics, so the map is the same in every run and batch):

    - ``high - low <= 10`` (flags, fractions, grades 0-4): linear, ``(x - low) / (high - low)``;
    - larger finite ranges (counts, days, seconds): logarithmic, ``log1p(x - low) / log1p(high - low)``
      (17 of 300 reviews maps to 0.50, 1 to 0.12);
    - no upper bound (days since a review): ``u / (1 + u)`` with ``u = log1p(x - low)``
      (1 day 0.41, 7 days 0.68, 30 days 0.77).

    Every feature then lies in ``[0, 1]`` (clipped), the declared space is ``Box(0, 1)``, and the
    map is monotone, so no information is lost. ``arrays()`` / ``from_arrays`` carry it into a
    saved policy (all finite numbers).
    """

    LINEAR, LOG, UNBOUNDED = 0, 1, 2
    #: widest range mapped linearly
    LINEAR_SPAN = 10.0

    def __init__(self, low, kind, scale):
        self.low = np.asarray(low, np.float32).reshape(-1)
        self.kind = np.asarray(kind, np.int32).reshape(-1)
        self.scale = np.asarray(scale, np.float32).reshape(-1)
        if not (self.low.shape == self.kind.shape == self.scale.shape):
            raise ValueError(f"UnitObservation: low, kind and scale must have one value per feature, got "
                             f"{self.low.shape}, {self.kind.shape}, {self.scale.shape}")
        if not (np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.scale))):
            raise ValueError("UnitObservation: low and scale must be finite")

    @classmethod
    def of_space(cls, space) -> "UnitObservation":
        low = np.asarray(space.low, np.float64).reshape(-1)
        high = np.asarray(space.high, np.float64).reshape(-1)
        if not np.all(np.isfinite(low)):
            raise ValueError("normalize=True needs finite lower bounds on every observation feature")
        span = high - low
        finite = np.isfinite(high)
        kind = np.where(~finite, cls.UNBOUNDED, np.where(span <= cls.LINEAR_SPAN, cls.LINEAR, cls.LOG))
        safe = np.where(finite & (span > 0), span, 1.0)
        scale = np.where(kind == cls.LINEAR, 1.0 / safe, np.where(kind == cls.LOG, 1.0 / np.log1p(safe), 1.0))
        return cls(low, kind, scale)

    @classmethod
    def from_arrays(cls, arrays: dict) -> "UnitObservation":
        return cls(arrays["unit_low"], arrays["unit_kind"], arrays["unit_scale"])

    def arrays(self) -> dict[str, np.ndarray]:
        return {"unit_low": self.low, "unit_kind": self.kind, "unit_scale": self.scale}

    def space(self):
        return Box(0.0, 1.0, (self.low.size,))

    def __call__(self, obs):
        """The map, on one observation ``(F,)`` or a batch ``(..., F)`` (jit-able)."""
        x = jnp.maximum(jnp.asarray(obs, jnp.float32) - self.low, 0.0)
        u = jnp.log1p(x)
        out = jnp.where(self.kind == self.LINEAR, x * self.scale,
                        jnp.where(self.kind == self.LOG, u * self.scale, u / (1.0 + u)))
        return jnp.clip(out, 0.0, 1.0).astype(jnp.float32)


def _freeze(value):
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (str, int, float, bool, np.generic)) or value is None:
        return value
    raise TypeError(f"not a plain override: {type(value).__name__}")


def _overrides_key(env_id: str, overrides: dict):
    """A hashable key of ``make(env_id, **overrides)``, or ``None`` if an override is not plain data
    (a fit result, a device array): such envs compile their own step."""
    try:
        key = (env_id, tuple(sorted((k, _freeze(v)) for k, v in overrides.items())))
        hash(key)
        return key
    except TypeError:
        return None


#: Jitted single-env functions by ``_overrides_key``: equal ids and overrides give equal envs and
#: params, so their instances share one compile.
_COMPILED: dict = {}


def _compile_single(env, params, action_space, unit: UnitObservation | None = None):
    """``(packer, carry, reset, step)``: the single env's jitted, packed reset and step
    (observations mapped by ``unit`` when given: ``normalize=True``)."""
    scale = (lambda obs: obs) if unit is None else unit

    def reset(key):
        key, sub = jax.random.split(key)
        obs, state = env.reset(sub, params)
        return key, scale(obs), state

    def step(key, state, action):
        key, sub = jax.random.split(key)
        obs, state, reward, terminated, truncated, info = env.step(sub, state, action, params)
        return key, state, (scale(obs), reward, terminated, truncated, info)

    key, _, state = jax.eval_shape(reset, jax.random.key(0))
    action = jnp.zeros(action_space.shape, jnp.asarray(action_space.sample()).dtype)
    # Key and env state travel as a few small uint32 vectors, the outputs as a few small float32
    # vectors: no buffer over SMALL_BUFFER_WORDS keeps the step on one thread (for N <= 128).
    packer = Packer(lambda *args: step(*args)[2], key, state, action, chunk=SMALL_BUFFER_WORDS)
    carry_spec = FlatCarry((key, state), chunk=SMALL_BUFFER_WORDS)

    def packed_reset(key):
        key, obs, state = reset(key)
        return carry_spec.pack((key, state)), obs

    def packed_step(carry, action):
        key, state, out = step(*carry_spec.unpack(carry), action)
        return carry_spec.pack((key, state)), packer.pack(out)

    return packer, carry_spec, jax.jit(packed_reset), jax.jit(packed_step, donate_argnums=0)


class StudyGymEnv(gymnasium.Env):
    """One studygym env as a numpy ``gymnasium.Env``. ``StudyGymEnv("Review-v0", n_items=50)``."""

    #: ``rgb_array``: an HxWx3 uint8 frame of the learner as the tutor sees it and as it really is
    #: (:mod:`studygym.render`); ``human``: the same in a matplotlib window (a warning, no window,
    #: where no display is available); ``ansi``: a text table.
    metadata = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 4}

    def __init__(self, env_id: str = "Review-v0", render_mode: str | None = None, normalize: bool = False,
                 **overrides):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.env, self.params = make(env_id, **overrides)
        self.env_id = env_id
        self.render_mode = render_mode
        self._renderer = self._window = None
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(f"normalize must be True or False, got {normalize!r}")
        self.normalize = bool(normalize)
        raw_space = self.env.observation_space(self.params)
        unit = UnitObservation.of_space(raw_space) if self.normalize else None
        self.observation_space = (raw_space if unit is None else unit.space()).to_gym()
        self.action_space = self.env.action_space(self.params).to_gym()
        cache_key = _overrides_key(env_id, {**overrides, "__normalize__": self.normalize})
        built = _COMPILED.get(cache_key) if cache_key is not None else None
        if built is None:  # envs made alike share one compile (SB3's make_vec_env builds n of them)
            built = _compile_single(self.env, self.params, self.action_space, unit)
            if cache_key is not None:
                _COMPILED[cache_key] = built
        self._packer, self._carry, self._reset, self._step = built
        self._state = None  # the packed (key, env state)
        self._ended = False  # the last step ended the episode: step() raises until reset()
        self._last = None
        self._shown = (None, None, None)  # last observation, action and reward, for render()
        self._obs = None  # the last observation returned, for action_masks()
        self._masker = None  # IntroductionMask, built on the first action_masks()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        key = jax.random.key(int(self.np_random.integers(0, _SEED_HIGH)))
        self._state, obs = self._reset(key)
        self._ended = False
        self._last = None
        obs = self._obs = np.array(obs)
        if self.render_mode is not None:
            self._shown = (obs, None, None)
            if self.render_mode == "human":
                self.render()
        return obs, {}

    def step(self, action):
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if self._ended:  # past the horizon the observation would leave its Box (see Environment.step)
            raise RuntimeError(f"{self.env_id}: the episode has ended (terminated); call reset() before step()")
        action = check_action(self.action_space, action, self.env_id)
        self._state, packed = self._step(self._state, action)
        obs, reward, terminated, truncated, info = self._packer.unpack(packed)
        self._ended = bool(terminated) or bool(truncated)
        self._last = info
        self._obs = obs
        if self.render_mode is not None:
            self._shown = (obs, action, reward)
            if self.render_mode == "human":
                self.render()
        return obs, float(reward), bool(terminated), bool(truncated), info

    def action_masks(self) -> np.ndarray:
        """Bool mask of the valid actions now (sb3-contrib's ``MaskablePPO`` convention): every seen
        item, the next unseen one and every global action (:class:`IntroductionMask`, from the env's
        declared layout; ``ValueError`` for an env without an item-choice ``action_layout``)."""
        if self._obs is None:
            raise RuntimeError("call reset() before action_masks()")
        if self._masker is None:
            self._masker = IntroductionMask.of_env(self.env)
        return self._masker(self._obs)

    def snapshot(self) -> dict:
        """What a rendered frame shows (:func:`studygym.render.snapshot`), from the current state."""
        if self._state is None:
            raise RuntimeError("call reset() before render()")
        _, state = self._carry.unpack(self._state)
        obs, action, reward = self._shown
        if self.normalize:  # the picture shows what the app records, not the [0, 1] map of it
            obs = np.asarray(self.env.get_obs(state, self.params))
        return render.snapshot(self.env, state, self.params, obs, self._last, action, reward)

    def render(self):
        """``rgb_array``: an HxWx3 ``uint8`` frame; ``ansi``: a text table; ``human``: shows the
        frame in a window (warns once if none can open); ``None``: nothing."""
        if self.render_mode is None:
            return None
        snap = self.snapshot()
        if self.render_mode == "ansi":
            return render.ansi_table(snap)
        if self._renderer is None:
            self._renderer = render.Renderer(self.env)
        frame = self._renderer.frame(snap)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = render.HumanWindow(f"studygym {self.env_id}")
        self._window.show(frame)
        return None

    def close(self):
        self._state = None
        if self._window is not None:
            self._window.close()
            self._window = None


# ----------------------------------------------------------------------------------------------
# Batched core shared by the Gymnasium VectorEnv and the SB3 VecEnv
# ----------------------------------------------------------------------------------------------


class BatchedCore:
    """``n_envs`` copies of one env stepped in one jitted call, with per-env same-step resets.

    Each sub-env has its own key stream, so sub-env ``i``'s trajectory depends only on its seed,
    not on the batch size.
    """

    def __init__(self, env_id: str, n_envs: int, overrides: dict, normalize: bool = False):
        check_positive_int("n_envs", n_envs)
        self.env_id = env_id
        self.n_envs = n_envs
        self.env, self.params = make(env_id, **overrides)
        env, params = self.env, self.params
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(f"normalize must be True or False, got {normalize!r}")
        raw_space = env.observation_space(params)
        unit = UnitObservation.of_space(raw_space) if normalize else None
        self.unit = unit  # the fixed [0, 1] map of observations (normalize=True), or None
        scale = (lambda obs: obs) if unit is None else unit
        self.single_observation_space = (raw_space if unit is None else unit.space()).to_gym()
        self.single_action_space = env.action_space(params).to_gym()
        batched_reset = jax.vmap(env.reset, in_axes=(0, None))
        autoreset = AutoReset(env)

        # Keys travel between calls as raw key data (uint32): typed key arrays cost Python time
        # on every call (wrapping and checking the outputs). Inside, unrolled_keys makes them jax's
        # threefry keys with the hash unrolled on the CPU (the same numbers, one kernel per hash
        # instead of a loop of several); any other PRNG or backend keeps jax's own keys.
        def reset(key_data):
            split = jax.vmap(jax.random.split)(unrolled_keys(key_data))
            obs, state = batched_reset(split[:, 1], params)
            return jax.random.key_data(split[:, 0]), scale(obs), state

        def step(key_data, state, actions):
            split = jax.vmap(jax.random.split)(unrolled_keys(key_data))
            # The observation map runs once per step (before step_some's per-env select), and
            # maps both the next and the final observations.
            next_obs, state, reward, terminated, truncated, info = autoreset.step_some(
                split[:, 1], state, actions, params, obs_map=unit)
            final_obs = info.pop("final_obs")
            return jax.random.key_data(split[:, 0]), state, (next_obs, reward, terminated, truncated), info, final_obs

        keys0 = jax.eval_shape(lambda: jax.random.key_data(jax.random.split(jax.random.key(0), n_envs)))
        keys, _, state = jax.eval_shape(reset, keys0)
        actions0 = jnp.zeros((n_envs, *self.single_action_space.shape), jnp.asarray(self.single_action_space.sample()).dtype)
        # A jitted call pays per argument and result buffer (~20 state leaves, ~10 info entries: a
        # no-op jit with those 18 arguments and 30 results took ~165 us at 64 envs, a quarter of
        # the step). So, per step: one host copy of (obs, reward,
        # terminated, truncated); the info as one uint32 vector (bit-cast: exact), fetched only
        # when read; the final observations stay on the device unless an episode ended. The
        # batch's key and state travel as one uint32 vector when small (FLAT_CARRY_WORDS: the
        # vector is rebuilt, a copy of the state, every step), else as the pytree.
        self._packer = Packer(lambda *args: step(*args)[2], keys, state, actions0)
        info_shapes = jax.eval_shape(step, keys, state, actions0)[3]
        self._info = _flat_or_none(info_shapes)
        carry_words = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves((keys, state)))
        self._carry = _flat_or_none((keys, state)) if carry_words <= FLAT_CARRY_WORDS else None
        carry_in = (lambda carry: carry) if self._carry is None else self._carry.unpack
        carry_out = (lambda carry: carry) if self._carry is None else self._carry.pack
        info_out = (lambda info: info) if self._info is None else self._info.pack

        def packed_reset(key_data):
            keys, obs, state = reset(key_data)
            return carry_out((keys, state)), obs

        def packed_step(carry, actions):
            keys, state, out, info, final_obs = step(*carry_in(carry), actions)
            return carry_out((keys, state)), self._packer.pack(out), info_out(info), final_obs

        self._reset = jax.jit(packed_reset)
        # The carry is donated: the step updates the per-item records in place instead of copying
        # the batch's state every call (a pytree carry), or rebuilds the vector in its buffer.
        self._step = jax.jit(packed_step, donate_argnums=0)
        self.state = None  # the carry: (key data, env states), packed unless large

    def reset(self, seeds: list[int]) -> np.ndarray:
        keys = jnp.stack([jax.random.key_data(jax.random.key(check_seed("seed", s))) for s in seeds])
        self.state, obs = self._reset(keys)
        return np.array(obs)  # a writable copy (SB3 hands it to torch)

    def step(self, actions: np.ndarray):
        """``(obs, reward, terminated, truncated)`` as numpy, then ``info`` and ``final_obs`` as
        device values (fetch them only when needed: :meth:`info_numpy`, ``np.asarray``)."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        self.state, packed, info, final_obs = self._step(self.state, actions)  # numpy in: no device_put here
        obs, reward, terminated, truncated = self._packer.unpack(packed)
        return obs, reward, terminated, truncated, info, final_obs

    def info_numpy(self, info) -> dict:
        """``step``'s ``info`` as a dict of numpy arrays (one host copy)."""
        return _to_numpy_info(info) if self._info is None else self._info.unpack_numpy(info)


#: Largest batch carry (32-bit words: keys and every env's state) passed between steps as one
#: vector; a larger one stays a pytree, updated in place (its copy would cost more than the buffers).
FLAT_CARRY_WORDS = 2**16


def _flat_or_none(example) -> FlatCarry | None:
    """A :class:`FlatCarry` of one vector for ``example``, or ``None`` where a leaf is not 32-bit or
    bool (or there is none)."""
    if not jax.tree.leaves(example):
        return None
    try:
        return FlatCarry(example, chunk=None)
    except TypeError:
        return None


class StudyGymVectorEnv(VectorEnv):
    """A Gymnasium ``VectorEnv`` stepping ``num_envs`` sub-envs in one jitted call (same-step reset)."""

    metadata = {"render_modes": []}
    if AutoresetMode is not None:
        metadata["autoreset_mode"] = AutoresetMode.SAME_STEP

    def __init__(self, num_envs: int = 1, env_id: str = "Review-v0", render_mode: str | None = None,
                 normalize: bool = False, **overrides):
        if render_mode is not None:
            raise ValueError(f"{env_id} vector env supports render_mode=None only, got {render_mode!r}")
        overrides.pop("max_episode_steps", None)  # studygym envs end themselves (fixed horizon)
        self.core = BatchedCore(env_id, num_envs, overrides, normalize)
        self.num_envs = num_envs
        self.render_mode = None
        self.single_observation_space = self.core.single_observation_space
        self.single_action_space = self.core.single_action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if isinstance(seed, (list, tuple)) and len(seed) != self.num_envs:
            raise ValueError(f"reset(seed=...): expected {self.num_envs} seeds (one per sub-env), got {len(seed)}")
        if seed is not None or self._np_random is None:
            base = seed[0] if isinstance(seed, (list, tuple)) else seed
            self._np_random, self._np_random_seed = gymnasium.utils.seeding.np_random(base)
        if isinstance(seed, (list, tuple)):
            seeds = list(seed)
        elif seed is not None:
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = self.np_random.integers(0, _SEED_HIGH, self.num_envs).tolist()
        return self.core.reset(seeds), {}

    def step(self, actions):
        actions = check_actions(self.single_action_space, actions, self.num_envs, self.core.env_id)
        obs, reward, terminated, truncated, info, final_obs = self.core.step(actions)
        terminated, truncated = np.asarray(terminated), np.asarray(truncated)
        info = self.core.info_numpy(info)
        infos = dict(info)
        done = terminated | truncated
        if done.any():
            final = np.asarray(final_obs)
            final_obs_arr = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs_arr[i] = final[i]
            infos["final_obs"] = final_obs_arr
            infos["_final_obs"] = done
            infos["final_info"] = {**{k: v for k, v in infos.items() if not k.startswith(("final", "_final"))},
                                   **{f"_{k}": done for k in info}}
            infos["_final_info"] = done
        return obs, np.asarray(reward, dtype=np.float32), terminated, truncated, infos

    def close_extras(self, **kwargs):
        self.core.state = None


# ----------------------------------------------------------------------------------------------
# SB3 VecEnv (built on first access: SB3 imports torch)
# ----------------------------------------------------------------------------------------------


def _make_sb3_vec_env_class():
    from stable_baselines3.common.vec_env import VecEnv

    class StudySB3VecEnv(VecEnv):
        """An SB3 ``VecEnv``: ``StudySB3VecEnv("Review-v0", n_envs=64, seed=0, **overrides)``.

        All sub-envs step in one jitted call. On episode end, as SB3's ``DummyVecEnv``:
        ``done = terminated or truncated``, ``info["terminal_observation"]`` holds the last
        observation, ``info["TimeLimit.truncated"] = truncated and not terminated``, the returned
        observation is the first of the next episode, and the episode's end metrics
        (``knowledge_final``, ``retention_delayed``, ...) are in ``info``. Like SB3's ``Monitor``,
        ``info["episode"] = {"r": return, "l": length, "t": seconds since the VecEnv started}`` at
        each episode's end, so SB3 logs ``rollout/ep_rew_mean`` without a ``VecMonitor``
        (wrapping it in one anyway is harmless: ``VecMonitor`` replaces the entry with the same
        return and length, and each episode is still counted once).
        """

        def __init__(self, env_id: str = "Review-v0", n_envs: int = 8, seed: int | None = None,
                     normalize: bool = False, **overrides):
            self.core = BatchedCore(env_id, n_envs, overrides, normalize)
            self.render_mode = None
            self._actions = None
            super().__init__(n_envs, self.core.single_observation_space, self.core.single_action_space)
            self.seed(seed)
            self.t_start = time.time()
            self._episode_returns = np.zeros(n_envs, np.float64)
            self._episode_lengths = np.zeros(n_envs, np.int64)
            self._obs = None  # the last observations returned, for action_masks()
            self._masker = None  # IntroductionMask, built on the first action_masks()

        def reset(self):
            seeds = [int(np.random.randint(0, _SEED_HIGH)) if s is None else int(s) for s in self._seeds]
            obs = self.core.reset(seeds)
            self._reset_seeds()
            self.reset_infos = [{} for _ in range(self.num_envs)]
            self._episode_returns[:] = 0.0
            self._episode_lengths[:] = 0
            self._obs = obs
            return obs

        def step_async(self, actions):
            self._actions = check_actions(self.action_space, actions, self.num_envs, self.core.env_id)

        def step_wait(self):
            obs, reward, terminated, truncated, info, final_obs = self.core.step(self._actions)
            terminated, truncated = np.asarray(terminated), np.asarray(truncated)
            done = terminated | truncated
            reward = np.asarray(reward, dtype=np.float32)
            self._episode_returns += reward
            self._episode_lengths += 1
            infos = [{} for _ in range(self.num_envs)]
            if done.any():
                final = np.asarray(final_obs)
                info = self.core.info_numpy(info)
                elapsed = round(time.time() - self.t_start, 6)
                for i in np.flatnonzero(done):
                    infos[i] = {k: v[i].item() for k, v in info.items()}
                    infos[i]["terminal_observation"] = final[i]
                    infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                    infos[i]["episode"] = {"r": round(float(self._episode_returns[i]), 6),
                                           "l": int(self._episode_lengths[i]), "t": elapsed}
                self._episode_returns[done] = 0.0
                self._episode_lengths[done] = 0
            self._obs = obs  # after an episode's end, the next episode's first observation
            return obs, reward, done, infos

        def action_masks(self) -> np.ndarray:
            """``(n_envs, n_actions)`` bool masks of the valid actions now, one row per sub-env
            (:class:`IntroductionMask`); ``env_method("action_masks")`` returns the rows, as
            sb3-contrib's ``MaskablePPO`` reads them (also through ``VecNormalize``)."""
            if self._obs is None:
                raise RuntimeError("call reset() before action_masks()")
            if self._masker is None:
                self._masker = IntroductionMask.of_env(self.core.env)
            return self._masker(self._obs)

        def close(self):
            self.core.state = None

        def _indices(self, indices):
            if indices is None:
                return range(self.num_envs)
            return [indices] if isinstance(indices, int) else indices

        def get_attr(self, attr_name, indices=None):
            target = self if attr_name in ("render_mode",) or not hasattr(self.core.env, attr_name) else self.core.env
            return [getattr(target, attr_name) for _ in self._indices(indices)]

        def set_attr(self, attr_name, value, indices=None):
            setattr(self, attr_name, value)

        def env_method(self, method_name, *method_args, indices=None, **method_kwargs):
            if method_name == "action_masks":  # per sub-env rows of the batch's masks
                masks = self.action_masks(*method_args, **method_kwargs)
                return [masks[i] for i in self._indices(indices)]
            method = getattr(self.core.env, method_name)
            return [method(*method_args, **method_kwargs) for _ in self._indices(indices)]

        def env_is_wrapped(self, wrapper_class, indices=None):
            # The sub-envs report episode statistics as SB3's Monitor does: evaluate_policy then
            # reads returns from info["episode"] (and does not warn that no Monitor is there).
            from stable_baselines3.common.monitor import Monitor

            wrapped = wrapper_class is Monitor
            return [wrapped for _ in self._indices(indices)]

    return StudySB3VecEnv


def make_sb3_vec_env(env_id: str = "Review-v0", n_envs: int = 64, seed: int | None = 0, *,
                     normalize: bool = False, vec_normalize: bool = False, gamma: float = 0.995, **overrides):
    """The fastest way to give SB3 a studygym env: one call, one jitted step for all ``n_envs``.

    Returns a :class:`StudySB3VecEnv` (episode statistics in ``info["episode"]``, so SB3 logs
    ``ep_rew_mean`` with no ``VecMonitor``). ``normalize``: observations mapped onto ``[0, 1]``
    by the fixed :class:`UnitObservation`. ``vec_normalize``: wrapped in SB3's ``VecNormalize``
    (running statistics of observations, unless ``normalize``, and of rewards, discount
    ``gamma``). ``overrides`` are ``studygym.make``'s::

        venv = make_sb3_vec_env("Review-v0", n_envs=64, seed=0, normalize=True, vec_normalize=True)
        PPO("MlpPolicy", venv).learn(100_000)
    """
    venv = __getattr__("StudySB3VecEnv")(env_id, n_envs=n_envs, seed=seed, normalize=normalize, **overrides)
    if vec_normalize:
        from stable_baselines3.common.vec_env import VecNormalize

        venv = VecNormalize(venv, norm_obs=not normalize, norm_reward=True, gamma=float(gamma))
    return venv


_LAZY = {}


def __getattr__(name: str):
    if name == "StudySB3VecEnv":
        if name not in _LAZY:
            _LAZY[name] = _make_sb3_vec_env_class()
        return _LAZY[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_all() -> None:
    """Register every id of :mod:`studygym.registry` with Gymnasium. Ids registered after this module is
    imported (the built-in ones included: :func:`studygym.catalog.register_builtins`) are registered
    with Gymnasium as they are registered (:func:`studygym.registry.register`)."""
    for env_id in registered_ids():
        register_gym_env(env_id)

__all__ = ["StudyGymEnv", "StudyGymVectorEnv", "StudySB3VecEnv", "make_sb3_vec_env", "UnitObservation", "IntroductionMask",
           "BatchedCore", "register_gym_env",
           "check_action", "check_actions", "gym_id"]
