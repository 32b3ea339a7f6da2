"""Functional environment core: the gymnax 1.x contract, spaces, pytree dataclasses, auto-reset.

An environment is a plain Python object holding its *static config* (shapes: a frozen, hashable
dataclass) and exposing pure functions over *params* (a pytree: learner traits, costs) and *state*
(a pytree). ``reset`` and ``step`` jit, vmap and scan; a population of learners is a vmap over
params or keys. ``step`` never resets: wrap the env in :class:`AutoReset` for that.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap
from jax.extend.random import define_prng_impl, threefry_prng_impl

Array = jax.Array
PRNGKey = jax.Array


def pytree_dataclass(cls):
    """A frozen dataclass registered as a JAX pytree (every field is a leaf or a sub-tree).

    Instances gain ``.replace(**changes)``.
    """
    cls = dataclasses.dataclass(frozen=True)(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    jax.tree_util.register_dataclass(cls, data_fields=fields, meta_fields=[])
    cls.replace = lambda self, **changes: dataclasses.replace(self, **changes)
    return cls


def static_dataclass(cls):
    """A frozen, hashable dataclass for static config (anything that fixes a shape)."""
    cls = dataclasses.dataclass(frozen=True)(cls)
    cls.replace = lambda self, **changes: dataclasses.replace(self, **changes)
    return cls


# ----------------------------------------------------------------------------------------------
# Validation: bad input fails at construction with the field name and the allowed range.
# ----------------------------------------------------------------------------------------------


def categorical_draw(uniform: Array, probs: Array | None = None, cumulative: Array | None = None) -> Array:
    """Index drawn from ``probs`` (last axis) by the inverse CDF of ``uniform``: the ``k`` with
    ``cumsum(probs)[k-1] <= u < cumsum(probs)[k]`` (int32; ``uniform``'s shape, any batch axes).

    ``cumulative``: ``cumsum(probs)`` if already known (a cumsum per draw is costly on CPU). The one
    categorical draw of the package: grades, first-review difficulties, Deck-v0's learning steps.
    """
    upper = (jnp.cumsum(probs, axis=-1) if cumulative is None else cumulative)[..., :-1]
    return jnp.sum(jnp.asarray(uniform)[..., None] >= upper, axis=-1).astype(jnp.int32)


def check_range(name: str, value: Any, low: float | None = None, high: float | None = None,
                *, low_open: bool = False, high_open: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless every element of ``value`` is finite and in range."""
    arr = np.asarray(value, dtype=np.float64)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    allowed = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if arr.size == 0:
        return
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite and in {allowed}, got {value!r}")
    bad = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if np.any(bad):
        shown = arr[bad].ravel()[:3].tolist()
        raise ValueError(f"{name} must be in {allowed}, got {shown if arr.ndim else float(arr)}")


def check_positive_int(name: str, value: Any, high: int | None = None, why: str = "") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an integer in ``[1, high]``.

    ``high`` is a sane upper bound (a value above it would take hours or exhaust memory); ``why``
    says so in the error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be at most {high:,}{f' ({why})' if why else ''}, got {value!r}")


def check_nonnegative_int(name: str, value: Any, high: int | None = None, why: str = "") -> None:
    """Like :func:`check_positive_int`, but 0 is allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be at most {high:,}{f' ({why})' if why else ''}, got {value!r}")


#: Largest seed accepted anywhere: ``jax.random.key`` raises OverflowError above a signed 64-bit
#: integer, so seeds are checked up front and the error names the argument.
SEED_HIGH = 2**63 - 1


def check_seed(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` naming ``name`` unless it is an integer in
    ``[0, 2**63 - 1]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= SEED_HIGH:
        raise ValueError(f"{name} must be an integer in [0, 2**63 - 1], got {value!r}")
    return int(value)


#: Upper bounds on static-config sizes shared by every env (a field of that name, where present):
#: above them a population would exhaust memory or a single episode would run for hours.
CONFIG_BOUNDS = {
    "n_items": (1_000_000, "items per learner; more would exhaust memory for a population"),
    "deck_size": (1_000_000, "cards per learner; more would exhaust memory for a population"),
    "n_skills": (100_000, "skills per learner; more would exhaust memory for a population"),
    "n_levels": (10_000, "difficulty levels"),
    "delay_days": (36_500, "100 years: the delayed test simulates every night of the delay"),
    "retention_delay_days": (36_500, "100 years: the delayed test simulates every night of the delay"),
}
#: Longest episode any env may have: per-item counts are float32, exact below 2**24.
MAX_EPISODE_STEPS = 2**24


def check_config_types(config: Any) -> None:
    """Raise ``ValueError`` naming the field of a static-config dataclass whose value has another type
    than its declared default (``learner=None`` for a name, ``n_items=2.5`` for a count; an int is
    accepted for a float field), or a size above its :data:`CONFIG_BOUNDS` bound."""
    for name, (high, why) in CONFIG_BOUNDS.items():
        value = getattr(config, name, None)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > high:
            raise ValueError(f"{name} must be at most {high:,} ({why}), got {value!r}")
    for field in dataclasses.fields(config):
        default = field.default
        if default is dataclasses.MISSING or default is None:
            continue
        value = getattr(config, field.name)
        if isinstance(default, bool):
            ok = isinstance(value, (bool, np.bool_))
        elif isinstance(default, int):
            ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        elif isinstance(default, float):
            ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        elif isinstance(default, str):
            ok = isinstance(value, str)
        elif isinstance(default, tuple):
            ok = isinstance(value, (tuple, list))
        else:
            continue
        if not ok:
            raise ValueError(f"{field.name} must be a {type(default).__name__} (like its default {default!r}), "
                             f"got {value!r}")


def check_param_shape(name: str, value: Any, like: Any) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` has the shape of the default ``like``
    (a scalar param given a list, ``cost_per_minute=[0.1, 0.2]``, would make the reward a vector)."""
    try:
        shape = np.shape(value)
    except ValueError:  # ragged nested lists
        raise ValueError(f"{name} must be a number or a rectangular array of numbers, got {value!r}") from None
    expected = np.shape(like)
    if shape != expected:
        what = "a scalar" if expected == () else f"of shape {expected}"
        raise ValueError(f"{name} must be {what}, got shape {shape}: {value!r}")


# ----------------------------------------------------------------------------------------------
# Spaces (JAX side). Each converts to its Gymnasium twin with ``to_gym()``.
# ----------------------------------------------------------------------------------------------


class Space:
    shape: tuple[int, ...]
    dtype: Any

    def sample(self, key: PRNGKey) -> Array:
        raise NotImplementedError

    def contains(self, x: Any) -> Array:
        raise NotImplementedError

    def to_gym(self):
        raise NotImplementedError


class Discrete(Space):
    """Integers ``0 .. n-1``."""

    def __init__(self, n: int):
        check_positive_int("n", n)
        self.n = int(n)
        self.shape = ()
        self.dtype = jnp.int32

    def sample(self, key: PRNGKey) -> Array:
        return jax.random.randint(key, (), 0, self.n, dtype=self.dtype)

    def contains(self, x: Any) -> Array:
        x = jnp.asarray(x)
        return jnp.logical_and(x >= 0, x < self.n)

    def to_gym(self):
        import gymnasium

        return gymnasium.spaces.Discrete(self.n)

    def __repr__(self) -> str:
        return f"Discrete({self.n})"


class Box(Space):
    """Real vectors between ``low`` and ``high`` (inclusive)."""

    def __init__(self, low: Any, high: Any, shape: tuple[int, ...], dtype: Any = jnp.float32):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.low = np.broadcast_to(np.asarray(low, dtype=np.float32), self.shape).copy()
        self.high = np.broadcast_to(np.asarray(high, dtype=np.float32), self.shape).copy()

    def sample(self, key: PRNGKey) -> Array:
        low = jnp.asarray(np.maximum(self.low, -1e6))
        high = jnp.asarray(np.minimum(self.high, 1e6))
        return jax.random.uniform(key, self.shape, minval=low, maxval=high).astype(self.dtype)

    def contains(self, x: Any) -> Array:
        x = jnp.asarray(x)
        return jnp.logical_and(
            jnp.all(x >= self.low), jnp.logical_and(jnp.all(x <= self.high), jnp.all(jnp.isfinite(x)))
        )

    def to_gym(self):
        import gymnasium

        return gymnasium.spaces.Box(self.low, self.high, self.shape, dtype=np.float32)

    def __repr__(self) -> str:
        return f"Box(shape={self.shape})"


# ----------------------------------------------------------------------------------------------
# The environment base class
# ----------------------------------------------------------------------------------------------

TState = TypeVar("TState")
TParams = TypeVar("TParams")


class Environment(Generic[TState, TParams]):
    """Base class: pure ``reset``/``step`` over an explicit state and params.

    Subclasses implement ``reset_env``, ``step_env``, ``default_params``, ``observation_space``,
    ``action_space`` and ``validate_params``. ``reset``/``step`` fill in default params.

    Every env also **declares its observation and action contract**, which schedulers and agents
    read by name (:func:`feature_columns`; a missing name is a ``ValueError``, never a guess):

    - ``item_features``: names of the per-item features, in observation order. The observation
      starts with ``len(item_features)`` feature-major blocks of ``n_obs_items`` values (see
      :func:`item_obs`); ``()`` when the observation has no per-item block.
    - ``global_features``: names of the global features that follow, in order (for an env without
      items, the whole observation).
    - ``action_layout``: ``(blocks, g)`` for an item-selection action, ``b * (N + g) + j`` being item
      ``j < N`` (or global action ``j - N``) of block ``b``; ``None`` when the action is not an item
      choice (a ``Box``, or a skill x level grid).
    - ``obs_layout`` is derived from them: ``(n_obs_items, len(item_features), len(global_features))``,
      or ``None`` without items. :func:`check_contract` checks a declaration against the spaces.

    and **what it reports and which baselines apply**:

    - ``extra_metrics``: names of the env's own per-episode metrics (info keys the harness reports
      beside its standard ones: return, knowledge, study time, ...).
    - ``objective``: the metric the env is ranked by (leaderboards, tuning, the planner).
    - ``family``: which baselines and privileged references apply (``studygym.policies`` reads it):
      ``"review"`` (item choice over Review-v0's step: the classic schedulers), ``"sleep"``,
      ``"tagging"`` (Review-v0's step plus rest/sleep or reward events: the classic schedulers and
      their wrappers), ``"deck"``, ``"practice"``, ``"sspmmc"`` (each its own set).
    """

    #: the registered id, set by the registry
    id: str = ""
    #: per-item observation feature names, in order (``()``: no per-item block)
    item_features: tuple[str, ...] = ()
    #: global observation feature names, in order (after the per-item block)
    global_features: tuple[str, ...] = ()
    #: ``(blocks, global actions per block)`` of an item-selection action; ``None`` if the action is not one
    action_layout: tuple[int, int] | None = None
    #: the env's own per-episode metrics (info keys), reported beside the harness's standard ones
    extra_metrics: tuple[str, ...] = ()
    #: the metric the env is ranked by
    objective: str = "episode_return"
    #: which baselines apply (see above); ``""``: none registered
    family: str = ""

    @property
    def n_obs_items(self) -> int:
        """N: rows of the observation's per-item block (items, skills, today's cards); 0 without one.

        Defaults to ``config.n_items``; envs whose rows are something else override it.
        """
        if not self.item_features:
            return 0
        return int(self.config.n_items)

    @property
    def obs_layout(self) -> tuple[int, int, int] | None:
        """``(N, F, G)`` derived from the declared names: ``obs[:N*F].reshape(F, N)`` are the item
        features (feature-major), ``obs[N*F:]`` the ``G`` globals; ``None`` if there are no items.
        See :func:`split_item_obs`."""
        if not self.item_features:
            return None
        return int(self.n_obs_items), len(self.item_features), len(self.global_features)

    @property
    def default_params(self) -> TParams:
        raise NotImplementedError

    def validate_params(self, params: TParams) -> None:
        """Raise ``ValueError`` naming the field if ``params`` is outside its allowed range."""

    def reset(self, key: PRNGKey, params: TParams | None = None) -> tuple[Array, TState]:
        params = self.default_params if params is None else params
        return self.reset_env(unrolled_keys(jnp.asarray(key)), params)

    def step(self, key: PRNGKey, state: TState, action: Any, params: TParams | None = None):
        """One step, no auto-reset: ``(obs, state, reward, terminated, truncated, info)``.

        **Action rule** (the same eagerly, under ``jit``, ``vmap`` and in ``evaluate``; see
        :func:`normalize_action`): a ``bool`` action, or one of the wrong shape, raises
        ``TypeError``/``ValueError`` (both are known at trace time); a Python int that does not fit
        in int32 raises ``ValueError``. For a ``Discrete`` space a float action counts only if it is a
        finite whole number (``3.0`` is item 3); ``2.7``, ``-0.5``, NaN and inf are *invalid actions*,
        which the env treats like any out-of-range action (it rests or runs no trial, and sets
        ``info["invalid_action"]``). ``Box`` actions are checked by the env (non-finite or out of
        range: clipped and flagged); a scalar ``Box`` action is broadcast to every entry.

        **Past the horizon** the functional ``step`` is outside the contract: an episode ends after
        ``max_steps`` steps (``terminated``), and loops reset it (:class:`AutoReset`, the vector
        envs). A state stepped further goes on (time passes) and its observation may leave the
        Box. Freezing it inside ``step`` (a ``cond`` that keeps the old state) measured 1.2-1.5x
        slower batched steps (B=1024 Review-v0, two runs on a loaded 2-core CPU: the kept state
        stops XLA updating the carry in place), so the single Gymnasium env enforces the horizon instead: ``step()`` after the
        end raises ``RuntimeError`` until ``reset()``.
        """
        params = self.default_params if params is None else params
        action = normalize_action(self.action_space(), action, self.name)
        return self.step_env(unrolled_keys(jnp.asarray(key)), state, action, params)

    def reset_env(self, key: PRNGKey, params: TParams) -> tuple[Array, TState]:
        raise NotImplementedError

    def step_env(self, key: PRNGKey, state: TState, action: Any, params: TParams):
        raise NotImplementedError

    def get_obs(self, state: TState, params: TParams) -> Array:
        raise NotImplementedError

    def observation_space(self, params: TParams | None = None) -> Space:
        raise NotImplementedError

    def action_space(self, params: TParams | None = None) -> Space:
        raise NotImplementedError

    @property
    def max_steps(self) -> int:
        """Episode length in steps (every studygym task has a fixed horizon)."""
        raise NotImplementedError

    @property
    def steps_per_day(self) -> int:
        """Steps per course day (the harness's day axis for learning curves); 1 unless overridden."""
        return 1

    def day_length(self, params: TParams) -> Array:
        """Real days one course day lasts (an app session's spacing; DeepTutor-*: 5); 1 unless overridden."""
        return jnp.float32(1.0)

    @property
    def name(self) -> str:
        return self.id or type(self).__name__


_INT32_MIN, _INT32_MAX = -2**31, 2**31 - 1


def normalize_action(space: Space, action: Any, where: str = "env") -> Any:
    """The action as the env's ``step_env`` reads it, by the rule of :meth:`Environment.step`.

    Checks types and shapes (static, so raising is the same eagerly and under ``jit``); for a
    ``Discrete`` space maps a float action that is not a finite whole number in int32 to -1 (an
    out-of-range, hence invalid, action). Integer actions pass through unchanged.
    """
    if isinstance(action, (list, tuple)):
        try:
            action = np.asarray(action)
        except ValueError:  # ragged
            raise ValueError(f"{where}: action must be a number or an array of numbers, got {action!r}") from None
    if isinstance(action, (bool, np.bool_)) or getattr(action, "dtype", None) == np.bool_:
        raise TypeError(f"{where}: action must be a number, got a bool ({action!r})")
    if isinstance(action, (int, np.integer)) and not _INT32_MIN <= int(action) <= _INT32_MAX:
        raise ValueError(f"{where}: action {int(action)} does not fit in int32; "
                         f"{'valid actions are 0..' + str(space.n - 1) if isinstance(space, Discrete) else 'see the action space'}")
    if isinstance(space, Discrete):
        if np.shape(action) != ():
            raise ValueError(f"{where}: action must be a scalar integer in [0, {space.n - 1}], got shape "
                             f"{np.shape(action)}")
        if isinstance(action, (int, np.integer)):
            return action
        action = jnp.asarray(action)
        if jnp.issubdtype(action.dtype, jnp.integer):
            return action
        if not jnp.issubdtype(action.dtype, jnp.floating):
            raise TypeError(f"{where}: action must be an integer in [0, {space.n - 1}], got dtype {action.dtype}")
        whole = jnp.isfinite(action) & (action == jnp.round(action)) & (action >= 0) & (action < space.n)
        return jnp.where(whole, action, -1.0).astype(jnp.int32)
    if isinstance(space, Box):
        # A scalar is one value for every entry: the Box envs broadcast it (Deck-v0's one retention,
        # SSPMMC-DHP-v0's one interval for every word and outcome).
        size = int(np.prod(space.shape))
        if np.ndim(action) == 0:
            return action
        if int(np.prod(np.shape(action))) != size or (np.shape(action) != space.shape and np.ndim(action) > 1):
            raise ValueError(f"{where}: action must have shape {space.shape} or be a scalar (broadcast), "
                             f"got shape {np.shape(action)}")
    return action


class AutoReset:
    """Wraps an env so that ``step`` resets finished episodes (for PureJaxRL-style loops).

    Two ways to step a batch. :meth:`step_batch` is the fast path for fixed-horizon tasks: it
    assumes a batch of envs whose episodes end together and resets the whole batch (one
    ``lax.cond``). :meth:`step_some` resets exactly the envs whose episode ended (correct for any
    batch; the Gymnasium and SB3 vector envs use it); :meth:`step` is the same for one env. The
    terminal observation is returned in ``info["final_obs"]``.
    """

    def __init__(self, env: Environment):
        self.env = env

    def __getattr__(self, name):
        # Only called for names not found normally. While copy/pickle rebuild the object, ``env``
        # is not set yet: looking it up through __getattr__ again would recurse forever.
        if name == "env" or "env" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, key, params=None):
        return self.env.reset(key, params)

    def step(self, key, state, action, params=None):
        """Per-env auto-reset of one env (a batch of one through :meth:`step_some`)."""
        add = lambda x: jnp.expand_dims(x, 0)  # noqa: E731
        obs, state, reward, terminated, truncated, info = self.step_some(
            add(key), jax.tree.map(add, state), add(jnp.asarray(action)), params)
        return jax.tree.map(lambda x: x[0], (obs, state, reward, terminated, truncated, info))

    def _step_all(self, keys, states, actions, params, params_axis):
        """Step every env of the batch: (the vmapped step's outputs, done, ``reset_all()`` -> every
        env's reset). Step and reset keys are folded out of each env's key (data 0 and 1): one hash
        per env per step (a split costs two), and the reset keys are derived only when a reset runs."""
        params = self.env.default_params if params is None else params
        fold = jax.vmap(jax.random.fold_in, in_axes=(0, None))
        keys = unrolled_keys(jnp.asarray(keys))
        step = jax.vmap(self.env.step, in_axes=(0, 0, 0, params_axis))
        out = step(fold(keys, 0), states, actions, params)
        done = jnp.logical_or(out[3], out[4])  # terminated | truncated
        reset = jax.vmap(self.env.reset, in_axes=(0, params_axis))
        return out, done, lambda: reset(fold(keys, 1), params)

    def step_some(self, keys, states, actions, params=None, *, params_axis=None, obs_map=None):
        """Batched step (vmapped over the leading axis) that resets exactly the envs whose episode
        ended, for batches whose episodes do not end together. The reset is computed (for the
        whole batch, then selected per env) inside one ``lax.cond`` on "some env ended", so steps
        where none did cost nothing extra.

        ``obs_map``: an elementwise map of observations (the adapters' ``normalize=True``), applied
        to the step's observations and, inside the reset branch, to the reset's: both returned
        observations (the next and ``info["final_obs"]``) are then mapped, with the map computed
        once per step instead of once for each.
        """
        (obs, states, reward, terminated, truncated, info), done, reset_all = self._step_all(
            keys, states, actions, params, params_axis)
        if obs_map is not None:
            obs = obs_map(obs)

        def reset_done(carry):
            obs, states = carry
            new_obs, new_states = reset_all()
            if obs_map is not None:
                new_obs = obs_map(new_obs)
            return select_rows(done, (new_obs, new_states), (obs, states))

        next_obs, states = jax.lax.cond(jnp.any(done), reset_done, lambda carry: carry, (obs, states))
        info = dict(info, final_obs=obs)
        return next_obs, states, reward, terminated, truncated, info

    def step_batch(self, keys, states, actions, params=None, *, params_axis=None):
        """Batched step (vmapped over the leading axis) with one ``lax.cond`` for the reset.

        Valid when all episodes in the batch end on the same step (every studygym task has a fixed
        horizon and the batch is started together); asserts nothing at run time.
        """
        (obs, states, reward, terminated, truncated, info), done, reset_all = self._step_all(
            keys, states, actions, params, params_axis)

        def do_reset(_):
            return reset_all()

        def keep(_):
            return obs, states

        new_obs, new_states = jax.lax.cond(done[0], do_reset, keep, None)
        info = dict(info, final_obs=obs)
        return new_obs, new_states, reward, terminated, truncated, info


def scripted_rollout(env: Environment, keys: Array, params: Any, actions: Array):
    """Run a fixed action sequence on a population: ``keys`` (L,) learners, ``actions`` (T,) the same
    for every learner. Learner ``l`` is reset with ``keys[l]`` and step ``t`` uses
    ``fold_in(keys[l], t)``. Returns ``(final states, (obs, reward, terminated, info))``, each
    stacked (L, T, ...). Pure: wrap it in ``jax.jit`` (``env`` static) to reuse one compile for
    other actions and params. No reset inside: steps past an episode's end are the env's own.
    """

    def one(key):
        _, state = env.reset(key, params)

        def step(state, xs):
            t, action = xs
            obs, state, reward, terminated, _, info = env.step(jax.random.fold_in(key, t), state, action, params)
            return state, (obs, reward, terminated, info)

        return jax.lax.scan(step, state, (jnp.arange(jnp.shape(actions)[0]), actions))

    return jax.vmap(one)(keys)


# ----------------------------------------------------------------------------------------------
# Item-env observations: N items x F features, then G globals, feature-major
# ----------------------------------------------------------------------------------------------
#
# Every env with an ``obs_layout`` (N, F, G) lays its observation out feature-major: F contiguous
# blocks of N values (feature 0 of every item, then feature 1, ...), then the G globals. Each block
# is one contiguous write, where an item-major (N, F) interleave writes with a stride of F (about
# 1.3x slower steps at 8192 learners on a 2-core CPU). Read it with :func:`split_item_obs`.


def item_obs(columns, globals_: Array) -> Array:
    """The observation from F per-item feature columns (each shape (N,)) and the globals (G,)."""
    return jnp.concatenate([jnp.asarray(c, jnp.float32) for c in columns] + [jnp.asarray(globals_, jnp.float32)])


def split_item_obs(obs: Array, layout: tuple[int, int, int]) -> tuple[Array, Array]:
    """``(items, globals)`` of an observation (or a batch, leading axes kept): ``items[..., i, f]``
    is feature ``f`` of item ``i``, shape (..., N, F); ``globals`` (..., G)."""
    n, f = int(layout[0]), int(layout[1])
    obs = jnp.asarray(obs)
    items = obs[..., : n * f].reshape(obs.shape[:-1] + (f, n))
    return jnp.swapaxes(items, -1, -2), obs[..., n * f:]


def item_obs_index(layout: tuple[int, int, int], item: int, feature: int) -> int:
    """Flat index of ``feature`` of ``item`` in an observation with this layout."""
    return int(feature) * int(layout[0]) + int(item)


def item_obs_high(item_high, n_items: int, global_high) -> np.ndarray:
    """Upper bounds of an item observation: ``item_high`` (F,) for every item, then the globals."""
    return np.concatenate([np.repeat(np.asarray(item_high, np.float32), n_items),
                           np.asarray(global_high, np.float32)]).astype(np.float32)


def _env_name(env: Any) -> str:
    return getattr(env, "name", None) or getattr(env, "id", None) or type(env).__name__


def feature_columns(env: Any, names, *, block: str = "item", user: str = "") -> tuple[int, ...]:
    """Position of each of ``names`` among ``env``'s declared per-item (``block="item"``) or global
    (``block="global"``) feature names, in the order given.

    Raises ``ValueError`` naming the env and every missing name (and ``user``, who needs them)
    when the env does not declare one of them: readers of an observation never guess a column.
    The position of an item feature ``f`` is its block (``obs[f * N:(f + 1) * N]``); of a global,
    its index after the item block.
    """
    if block not in ("item", "global"):
        raise ValueError(f"block must be 'item' or 'global', got {block!r}")
    attr = f"{block}_features"
    declared = getattr(env, attr, None)
    who = f"{user} needs" if user else "needs"
    names = tuple(names)
    if declared is None:
        raise ValueError(f"env {_env_name(env)!r} declares no {attr}: {who} the {block} feature(s) "
                         f"{', '.join(names)} (see studygym.envs.core.Environment)")
    declared = tuple(declared)
    missing = [n for n in names if n not in declared]
    if missing:
        kind = "per-item" if block == "item" else "global"
        raise ValueError(f"env {_env_name(env)!r} lacks the {kind} observation feature(s) {', '.join(missing)}: "
                         f"{who} them; it declares {attr}={declared}")
    return tuple(declared.index(n) for n in names)


def check_contract(env: Any, params: Any = None) -> None:
    """Raise ``ValueError`` unless ``env``'s declared names and layouts agree with its spaces: unique
    names, an observation of ``N * len(item_features) + len(global_features)`` values, and an
    ``action_layout`` (if any) that counts ``Discrete(blocks * (N + g))`` actions."""
    name = _env_name(env)
    items = tuple(getattr(env, "item_features", ()) or ())
    globals_ = tuple(getattr(env, "global_features", ()) or ())
    for attr, names in (("item_features", items), ("global_features", globals_)):
        if not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"env {name!r}: {attr} must be non-empty strings, got {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"env {name!r}: {attr} repeats a name: {names}")
    if set(items) & set(globals_):
        raise ValueError(f"env {name!r}: {sorted(set(items) & set(globals_))} are both item and global features")
    n_items = int(env.n_obs_items) if items else 0
    if items and n_items <= 0:
        raise ValueError(f"env {name!r} declares item_features but has n_obs_items={n_items}")
    layout = env.obs_layout
    expected_layout = (n_items, len(items), len(globals_)) if items else None
    if (None if layout is None else tuple(int(x) for x in layout)) != expected_layout:
        raise ValueError(f"env {name!r}: obs_layout {layout} is not (n_obs_items, len(item_features), "
                         f"len(global_features)) = {expected_layout}")
    size = int(np.prod(env.observation_space(params).shape))
    if size != n_items * len(items) + len(globals_):
        raise ValueError(f"env {name!r}: the observation has {size} values, but its names declare "
                         f"{n_items} x {len(items)} item features + {len(globals_)} globals = "
                         f"{n_items * len(items) + len(globals_)}")
    action_layout = getattr(env, "action_layout", None)
    if action_layout is not None:
        if not items:
            raise ValueError(f"env {name!r} declares action_layout {action_layout} but no item_features")
        blocks, n_global = (int(x) for x in action_layout)
        space = env.action_space(params)
        expected_n = blocks * (n_items + n_global)
        if not isinstance(space, Discrete) or space.n != expected_n:
            raise ValueError(f"env {name!r}: action_layout {tuple(action_layout)} means Discrete({expected_n}) "
                             f"for {n_items} items, but the action space is {space!r}")


def time_days(step: Array, steps_per_day: int, slot_days: Array, day_length: Array) -> Array:
    """Real time in days at an integer step: ``day * day_length + slot * slot_days``.

    Time is always derived from the integer step counter, never accumulated in float, so long
    horizons do not drift.
    """
    step = jnp.asarray(step, jnp.int32)
    day = step // steps_per_day
    slot = step % steps_per_day
    return day.astype(jnp.float32) * day_length + slot.astype(jnp.float32) * slot_days


def select_rows(pred: Array, new, old):
    """Per leading-axis element, ``new`` where ``pred`` else ``old`` (pytrees of the same structure, ``pred`` of
    shape (B,), leaves (B, ...)): how a batched branch keeps its result only for the elements that needed it."""
    return jax.tree.map(lambda t, f: jnp.where(pred.reshape(pred.shape + (1,) * (t.ndim - 1)), t, f), new, old)


def _batch_all(tree, batched, axis_size: int):
    """``tree`` with every leaf that ``batched`` marks unbatched broadcast to a leading axis of ``axis_size``."""
    return jax.tree.map(lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + jnp.shape(x)), tree, batched)


def cond_any(pred: Array, true_fun, false_fun, *operands):
    """``lax.cond(pred, true_fun, false_fun, *operands)`` that stays a branch under ``vmap``.

    Under ``vmap`` with a batched ``pred``, ``lax.cond`` becomes a ``select`` that evaluates both
    branches for every element on every call. Here a batched ``pred`` instead runs ``true_fun`` (for
    the whole batch, then selects per element) only when *some* element needs it, so a branch
    that fires rarely (the end of an episode, a night) costs nothing on the other steps.

    ``true_fun``/``false_fun`` must be pure functions of ``operands`` that return pytrees of the
    same structure: they may not close over traced values (pass those in ``operands``).
    """
    @custom_vmap
    def branch(pred, operands):
        return jax.lax.cond(pred, true_fun, false_fun, *operands)

    @branch.def_vmap
    def branch_batched(axis_size, in_batched, pred, operands):
        pred_batched, operands_batched = in_batched
        operands = _batch_all(operands, operands_batched, axis_size)
        true_all, false_all = jax.vmap(true_fun), jax.vmap(false_fun)
        def all_batched(out):
            return out, jax.tree.map(lambda _: True, out)

        if not pred_batched:
            return all_batched(jax.lax.cond(pred, true_all, false_all, *operands))

        def some_true(pred, *operands):
            return select_rows(pred, true_all(*operands), false_all(*operands))

        def none_true(pred, *operands):
            return false_all(*operands)

        # Recursing keeps the any-branch a branch under an outer vmap too (e.g. over params).
        return all_batched(cond_any(jnp.any(pred), some_true, none_true, pred, *operands))

    return branch(jnp.asarray(pred), operands)


def when_any(pred: Array, fun, state, *args):
    """``fun(state, *args)`` where ``pred``, else ``state`` unchanged: :func:`cond_any` for a rare branch whose
    other side leaves the state as it is (Review-v0's night), run as a loop of zero or one iteration.

    ``fun`` runs only when *some* element needs it (under ``vmap`` for the whole batch, then selected
    per element), as with :func:`cond_any`, and gives the same values bit for bit. The loop is the
    point: XLA updates a loop's carried state in place, while a ``cond`` whose other branch returns its
    operands copied about a dozen of a brain learner's per-item arrays on every Review-v0 step, for a
    night every tenth step (issue 21). Where the branch runs on most steps (Tagging-v0's reward events
    under random actions) a loop measured no faster, so such branches (that one, Sleep-v0's falling
    asleep) stay :func:`cond_any`. ``fun`` must be a pure function of its operands returning ``state``'s structure
    (no captured tracers); a loop has no reverse-mode derivative, which no env step needs.
    """
    @custom_vmap
    def run(pred, state, args):
        def body(carry):
            return jnp.bool_(False), fun(carry[1], *args)

        return jax.lax.while_loop(lambda carry: carry[0], body, (pred, state))[1]

    @run.def_vmap
    def run_batched(axis_size, in_batched, pred, state, args):
        pred_batched, state_batched, args_batched = in_batched
        state, args = _batch_all((state, args), (state_batched, args_batched), axis_size)
        pred = jnp.broadcast_to(pred, (axis_size,))

        def some(carry, *args):  # pred travels in the carry: the function may not capture it
            pred, state = carry
            return pred, select_rows(pred, jax.vmap(fun)(state, *args), state)

        # Recursing keeps it a loop under an outer vmap too (e.g. over params).
        out = when_any(jnp.any(pred), some, (pred, state), *args)[1]
        return out, jax.tree.map(lambda _: True, out)

    return run(jnp.asarray(pred), state, args)


# ----------------------------------------------------------------------------------------------
# Threefry keys whose hash is unrolled (the same bits as jax's default keys, fewer kernels on CPU)
# ----------------------------------------------------------------------------------------------
#
# On CPU, jax lowers the Threefry-2x32 hash as a rolled loop (a ``while`` of 5 iterations, to keep
# compile times short), so each split, fold_in or draw of a jitted step runs as a loop of several
# small kernels. A step of a small batch (an adapter's 64 envs) spends more time starting those
# kernels than computing. ``UNROLLED_THREEFRY`` is jax's threefry2x32 PRNG (the same seed, split,
# fold_in and random bits, hence bit for bit the same numbers from the same key data) with the 20
# rounds written out, which XLA fuses into one kernel per hash. Each hash's output is stored once
# (:func:`_stored`): left to itself, XLA copies the cheap fused hash into every kernel that reads
# its output, some of them loops over all items, and a batch of 8192 learners then ran slower than
# with the rolled loop.
#
# On the CPU, ``Environment.reset``/``step`` and ``AutoReset`` move jax's own threefry keys onto
# this PRNG (:func:`unrolled_keys`), so every env draws the same numbers as before, in fewer kernels.

_THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def threefry2x32(k1: Array, k2: Array, x1: Array, x2: Array) -> tuple[Array, Array]:
    """The Threefry-2x32 hash (20 rounds, Salmon et al. 2011) of counts ``(x1, x2)`` under key
    ``(k1, k2)``, uint32, broadcast; unrolled. The same bits as ``jax.random``'s threefry2x32."""
    ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
    x1, x2 = x1 + ks[0], x2 + ks[1]
    for i in range(5):
        for r in _THREEFRY_ROTATIONS[i % 2]:
            x1 = x1 + x2
            x2 = ((x2 << np.uint32(r)) | (x2 >> np.uint32(32 - r))) ^ x1
        x1 = x1 + ks[(i + 1) % 3]
        x2 = x2 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x1, x2


def _counts(shape) -> tuple[Array, Array]:
    """``jax.random``'s counters for ``shape``: a uint64 iota as (high, low) uint32 halves."""
    size = int(np.prod(shape, dtype=np.int64))
    if size >= 2**32:
        raise ValueError(f"UNROLLED_THREEFRY draws at most 2**32 - 1 values at once, asked for shape {shape}")
    return jnp.zeros(shape, jnp.uint32), jax.lax.iota(jnp.uint32, size).reshape(shape)


def _partitionable() -> bool:
    # jax's threefry derives split keys and bits one way with this flag (the default) and another
    # without it; the unrolled hash implements the default and defers to jax otherwise.
    return bool(jax.config.jax_threefry_partitionable)


def _stored(bits: Array, key: Array) -> Array:
    """``bits`` unchanged, divided by a 1 that the compiler cannot see is 1 (it is computed from the
    key). XLA does not copy a division into each of its consumers, so the hash feeding it runs once
    and its output is stored; an ``optimization_barrier`` does not do this (XLA's CPU pipeline
    expands it away before fusion)."""
    one = jnp.minimum(key[0], np.uint32(1)) | np.uint32(1)
    return bits // one.astype(bits.dtype)


def _unrolled_split(key: Array, shape) -> Array:
    if not _partitionable():
        return threefry_prng_impl.split(key, shape)
    bits1, bits2 = threefry2x32(key[0], key[1], *_counts(shape))
    return _stored(jnp.stack([bits1, bits2], axis=bits1.ndim), key)


def _unrolled_fold_in(key: Array, data: Array) -> Array:
    count = threefry_prng_impl.seed(jnp.asarray(data, jnp.uint32))  # (0, data), as jax's fold_in
    bits1, bits2 = threefry2x32(key[0], key[1], count[0], count[1])
    return _stored(jnp.stack([bits1, bits2]), key)


def _unrolled_random_bits(key: Array, bit_width: int, shape) -> Array:
    if not _partitionable():
        return threefry_prng_impl.random_bits(key, bit_width, shape)
    bits1, bits2 = threefry2x32(key[0], key[1], *_counts(shape))
    if bit_width == 64:
        return _stored((bits1.astype(jnp.uint64) << jnp.uint64(32)) | bits2.astype(jnp.uint64), key)
    bits = bits1 ^ bits2
    return _stored(bits if bit_width == 32 else bits.astype({8: jnp.uint8, 16: jnp.uint16}[bit_width]), key)


#: jax's threefry2x32 PRNG with the hash unrolled: ``jax.random.wrap_key_data(data, impl=UNROLLED_THREEFRY)``
#: of a threefry key's data gives the same numbers from every ``jax.random`` function.
UNROLLED_THREEFRY = define_prng_impl(key_shape=(2,), seed=threefry_prng_impl.seed, split=_unrolled_split,
                                     random_bits=_unrolled_random_bits, fold_in=_unrolled_fold_in,
                                     name="threefry2x32_unrolled", tag="fry_unrolled")


def unrolled_keys(key: Array) -> Array:
    """``key`` on :data:`UNROLLED_THREEFRY` if it is jax's threefry2x32 (a typed key, or raw uint32
    key data while threefry2x32 is jax's default PRNG) and jax runs on the CPU: the same numbers
    from every draw, in fewer kernels. Any other key, and every key on another backend (where jax
    already lowers the hash unrolled), is returned as it is."""
    if jax.default_backend() != "cpu":
        return key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if str(jax.random.key_impl(key)) != "threefry2x32":
            return key
        return jax.random.wrap_key_data(jax.random.key_data(key), impl=UNROLLED_THREEFRY)
    if (key.dtype == jnp.uint32 and key.shape[-1:] == (2,)
            and str(jax.config.jax_default_prng_impl) == "threefry2x32"):
        return jax.random.wrap_key_data(key, impl=UNROLLED_THREEFRY)
    return key


def fast_pow(x: Array, c: Array) -> Array:
    """``x ** c`` for ``x > 0`` as ``exp(c * log(x))`` (several times faster under XLA on CPU)."""
    return jnp.exp(c * jnp.log(x))


def pow1p(x: Array, c: Array) -> Array:
    """``(1 + x) ** c`` as ``exp(c * log1p(x))``."""
    return jnp.exp(c * jnp.log1p(x))


__all__ = [
    "Array", "PRNGKey", "pytree_dataclass", "static_dataclass", "check_range", "check_positive_int",
    "Space", "Discrete", "Box", "Environment", "AutoReset", "time_days", "cond_any", "when_any", "fast_pow", "pow1p",
    "item_obs", "split_item_obs", "item_obs_index", "item_obs_high", "scripted_rollout", "feature_columns",
    "check_contract", "normalize_action", "check_nonnegative_int", "check_seed", "check_config_types",
    "check_param_shape", "SEED_HIGH", "UNROLLED_THREEFRY", "threefry2x32", "unrolled_keys", "CONFIG_BOUNDS", "MAX_EPISODE_STEPS",
]
