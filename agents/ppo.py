"""JAX-native PPO: the whole training loop under one ``jit``, vmapped over simulated learners.

PureJaxRL-style (Lu et al. 2022, "Discovered policy optimisation"; the clipped objective of
Schulman et al. 2017, GAE of Schulman et al. 2016). One training update is:

1. **Rollout**: ``lax.scan`` over ``n_steps`` steps of a batch of ``n_learners`` simulated learners,
   stepped through the env's functional API (``AutoReset.step_batch``: every studygym task has a
   fixed horizon, so the whole batch resets together with one ``lax.cond``).
2. **Advantages**: generalised advantage estimation, a reverse ``lax.scan``.
3. **Optimisation**: ``update_epochs`` passes of shuffled minibatches; Adam with global-norm
   gradient clipping from optax (``clip_by_global_norm`` then ``scale_by_adam``, :func:`adam`).

``train`` runs updates in chunks (one jitted ``lax.scan`` over updates per chunk) so that the CLI can
show progress; with ``chunk_updates=None`` the whole training is a single jitted call.

**Network.** For item-selection envs (an ``obs_layout`` of N items x F features + G globals and a
``Discrete(N + 1)`` action: N items, then rest) the policy is permutation-equivariant, in the
spirit of Deep Sets (Zaheer et al. 2017): a shared MLP embeds every item from its own features; a
learner summary is the mean of the item embeddings plus the globals; a shared scorer gives each
item a logit from its embedding and the summary; the rest logit and the value come from the
summary. One network therefore serves any number of items. Envs with richer actions declare
``env.action_layout = (blocks, g)``: ``blocks`` groups of N items followed by ``g`` global actions
(Sleep-v0: items, rest, sleep; Tagging-v0: review, and review + a reward event); the scorer then
gives each item one logit per block and the summary gives the ``blocks * g`` global logits. For other envs (e.g. Deck-v0: a flat
observation and a ``Box`` action) actor and critic are plain MLPs and the policy is a Gaussian
squashed into the box with a sigmoid (the PPO ratio is taken on the pre-squash sample, where the
Jacobian of the squash cancels).

**Memory (partial observability).** The learner's memory state is hidden; what a real app records
is the observation's per-item history (days since last review, reviews, lapses, last grade), read
by name from the env's declared ``item_features`` (:data:`HISTORY_FEATURES`; an item env lacking
one raises ``ValueError``, and a saved run's columns are checked against the env at load). That
history drops one thing FSRS-like memory models depend on: *at what interval* past recalls
happened (stability grows most when an item is recalled after a long gap). The policy therefore
keeps, per item, a running summary updated from consecutive observations (no gradient flows
through it, so it is part of the input, not a recurrent network): the interval before the item's
last review, the longest interval at which it was recalled, and its current streak of successful
recalls. This is cheap (three numbers per item), deterministic, and identical in training and
evaluation. A recurrent network was not used: the learner-level hidden trait (how fast this
learner forgets) shows in the lapse counts of all items, which the mean-pooled summary sees, and
backpropagation through time would slow training several-fold on this CPU.

**Rewards** are normalised by a running standard deviation of the discounted return (as SB3's
``VecNormalize`` does): Review-v0's rewards are ~1e-3 per step, too small for a value network.
**Observations** are normalised inside the network (``log1p`` of counts and days).

Example::

    >>> from studygym.agents.ppo import train, load_ppo
    >>> trained = train("Review-v0", total_steps=20_000, seed=0, n_learners=64,
    ...                 overrides={"n_items": 10, "slots_per_day": 5, "n_days": 10})  # doctest: +SKIP
    >>> trained.save("runs/ppo")  # doctest: +SKIP
    >>> policy = load_ppo("runs/ppo")  # a Policy: studygym.evaluation.harness.evaluate([policy, "fsrs"], ...)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from studygym.envs.core import (AutoReset, Box, Discrete, check_positive_int, check_range, feature_columns,
                                split_item_obs)
from studygym.errors import unknown_names
from studygym.files import check_writable, dumps_json, load_arrays, read_json
from studygym.registry import make
from studygym.runs import read_curve, write_curve
from studygym.sharding import batch_mesh, constrain_batch

# ----------------------------------------------------------------------------------------------
# Hyper-parameters
# ----------------------------------------------------------------------------------------------

#: Defaults of every hyper-parameter ``train`` accepts (``n_learners`` is the batch of envs).
HYPER_DEFAULTS: dict[str, Any] = {
    "n_learners": 128,  # simulated learners stepped in parallel (the batch of envs)
    "n_steps": 64,  # env steps per learner per update (rollout length)
    "update_epochs": 4,  # passes over each rollout
    "n_minibatches": 8,  # minibatches per pass (more, smaller steps learned faster on Review-v0)
    "learning_rate": 1e-3,  # Adam step size (annealed linearly to 0 if anneal_lr)
    "anneal_lr": True,
    "gamma": 0.995,  # discount; episodes are 50-300 steps and the objective is the final knowledge
    "gae_lambda": 0.95,
    "clip_eps": 0.2,  # PPO ratio clip
    "ent_coef": 0.01,  # entropy bonus
    "vf_coef": 0.5,  # value-loss weight
    "max_grad_norm": 0.5,  # global gradient-norm clip
    "hidden": 32,  # width of every hidden layer
    "network": "auto",  # "auto": the item scorer where the env has items, else an MLP; "mlp": always an MLP
    "normalize_reward": True,  # divide rewards by a running std of the discounted return
}

#: Allowed ranges: (low, high, low_open, high_open); ints are checked as positive integers.
_INT_HYPER = ("n_learners", "n_steps", "update_epochs", "n_minibatches", "hidden")
_FLOAT_RANGES = {
    "learning_rate": (0.0, 1.0, True, False),
    "gamma": (0.0, 1.0, False, False),
    "gae_lambda": (0.0, 1.0, False, False),
    "clip_eps": (0.0, 1.0, True, False),
    "ent_coef": (0.0, None, False, False),
    "vf_coef": (0.0, None, False, False),
    "max_grad_norm": (0.0, None, True, False),
}
_BOOL_HYPER = ("anneal_lr", "normalize_reward")
NETWORKS = ("auto", "mlp")


def check_hyper(hyper: dict) -> dict:
    """Defaults filled in; unknown names and out-of-range values raise ``ValueError``."""
    unknown = [k for k in hyper if k not in HYPER_DEFAULTS]
    if unknown:
        raise ValueError(f"Unknown PPO hyper-parameter(s): {unknown_names(unknown, HYPER_DEFAULTS, n=2)}. "
                         f"Known: {', '.join(HYPER_DEFAULTS)}")
    merged = {**HYPER_DEFAULTS, **hyper}
    for name in _INT_HYPER:
        check_positive_int(name, merged[name])
        merged[name] = int(merged[name])
    for name, (low, high, low_open, high_open) in _FLOAT_RANGES.items():
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        check_range(name, value, low, high, low_open=low_open, high_open=high_open)
        merged[name] = float(value)
    for name in _BOOL_HYPER:
        if not isinstance(merged[name], (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {merged[name]!r}")
        merged[name] = bool(merged[name])
    if merged["network"] not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}, got {merged['network']!r}")
    batch = merged["n_learners"] * merged["n_steps"]
    if batch % merged["n_minibatches"]:
        raise ValueError(f"n_minibatches must divide n_learners * n_steps = {batch}, got {merged['n_minibatches']}")
    return merged


# ----------------------------------------------------------------------------------------------
# Network shapes (static): what the env looks like to the network
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NetSpec:
    """Static description of the network: input layout, action kind and sizes."""

    kind: str  # "items" (permutation-equivariant item scorer) or "flat" (MLP)
    hidden: int
    obs_size: int  # flat observation length
    n_items: int = 0  # items (kind "items")
    n_item_features: int = 0  # F: features per item in the observation
    n_globals: int = 0  # G: global features after the items
    history_columns: tuple = ()  # columns of HISTORY_FEATURES in the item block (by name), or () for none
    action: str = "discrete"  # "discrete" or "box"
    n_actions: int = 0  # discrete: number of actions; box: action dimension
    action_low: tuple = ()  # box bounds
    action_high: tuple = ()
    blocks: int = 1  # item-selection action layout (env.action_layout): blocks of N items + global actions
    n_global_actions: int = 1  # per block, after its items (Review-v0: rest)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "NetSpec":
        """The spec a saved ``config.json`` describes; ``ValueError`` naming the field whose value has
        the wrong type or range (a tampered file never reaches the network as a shape or a None)."""
        if not isinstance(data, dict):
            raise ValueError(f"the network description must be a JSON object, got {data!r}")
        data = dict(data)
        for name in ("history_columns", "action_low", "action_high"):
            value = data.get(name, ())
            if value is None:
                value = ()
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{name} must be a list, got {value!r}")
            data[name] = tuple(value)
        spec = cls(**data)
        _check_spec_fields(spec)
        check_history_columns(spec)
        return spec

    def for_items(self, n_items: int) -> "NetSpec":
        """The same network for another number of items (its weights do not depend on N)."""
        if self.kind != "items":
            return self
        obs_size = n_items * self.n_item_features + self.n_globals
        return dataclasses.replace(self, n_items=n_items, obs_size=obs_size,
                                   n_actions=self.blocks * (n_items + self.n_global_actions))


#: Largest hidden width a saved network may declare (a tampered value must not exhaust memory).
MAX_HIDDEN = 65_536


def _check_spec_fields(spec: NetSpec) -> None:
    """Types and ranges of a :class:`NetSpec`'s fields (``ValueError`` naming the field)."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    if spec.kind not in ("items", "flat"):
        raise ValueError(f"kind must be 'items' or 'flat', got {spec.kind!r}")
    if spec.action not in ("discrete", "box"):
        raise ValueError(f"action must be 'discrete' or 'box', got {spec.action!r}")
    for name in ("hidden", "obs_size", "n_actions", "blocks"):
        value = getattr(spec, name)
        if not is_int(value) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if spec.hidden > MAX_HIDDEN:
        raise ValueError(f"hidden must be at most {MAX_HIDDEN:,}, got {spec.hidden!r}")
    for name in ("n_items", "n_item_features", "n_globals", "n_global_actions"):
        value = getattr(spec, name)
        if not is_int(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if not all(is_int(c) for c in spec.history_columns):
        raise ValueError(f"history_columns must be integers, got {list(spec.history_columns)}")
    for name in ("action_low", "action_high"):
        values = getattr(spec, name)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in values):
            raise ValueError(f"{name} must be finite numbers, got {list(values)}")
    if spec.action == "box" and not (len(spec.action_low) == len(spec.action_high) == spec.n_actions):
        raise ValueError(f"action_low and action_high must have n_actions={spec.n_actions} values, got "
                         f"{len(spec.action_low)} and {len(spec.action_high)}")


#: Per-item history features the policy keeps itself (see the module docstring).
N_HISTORY = 3
#: The per-item observation features the history is built from, read by name from
#: ``env.item_features`` (``NetSpec.history_columns`` holds their columns, in this order).
HISTORY_FEATURES = ("days_since_review", "reviews", "last_grade", "seen")


def history_columns_for(env) -> tuple[int, ...]:
    """Columns of :data:`HISTORY_FEATURES` in ``env``'s per-item block, found by name in its declared
    ``item_features``. ``ValueError`` naming the env and the missing names if it lacks one: the item
    network never runs without its history."""
    return feature_columns(env, HISTORY_FEATURES, block="item",
                           user="PPO's per-item history (the item network; network='mlp' needs none)")


def net_spec_for(env, params, hidden: int, network: str = "auto") -> NetSpec:
    """The network an env needs: the item scorer for item-selection envs, else an MLP.

    An item-selection env is one that declares per-item features (``env.obs_layout``) and an
    ``env.action_layout`` over a ``Discrete`` action. Its network reads the history's columns by
    name (:func:`history_columns_for`): an env lacking one raises ``ValueError``.
    ``network="mlp"`` forces a plain MLP on the flat observation (an ablation, and the network
    SB3 would use).
    """
    obs_space = env.observation_space(params)
    action_space = env.action_space(params)
    obs_size = int(np.prod(obs_space.shape))
    layout = env.obs_layout
    action_layout = env.action_layout
    if network == "auto" and layout is not None and action_layout is not None \
            and isinstance(action_space, Discrete):
        n_items, n_features, n_globals = (int(x) for x in layout)
        blocks, n_global = (int(x) for x in action_layout)
        if action_space.n != blocks * (n_items + n_global):
            raise ValueError(f"env {_env_name(env)!r} declares action_layout {tuple(action_layout)} "
                             f"(Discrete({blocks * (n_items + n_global)}) for {n_items} items) but its action "
                             f"space is {action_space!r}")
        if obs_size != n_items * n_features + n_globals:
            raise ValueError(f"env {_env_name(env)!r}: obs_layout {tuple(layout)} does not match its "
                             f"observation of {obs_size} values")
        columns = history_columns_for(env)
        return NetSpec("items", hidden, obs_size, n_items, n_features, n_globals, columns, "discrete",
                       action_space.n, blocks=blocks, n_global_actions=n_global)
    if isinstance(action_space, Discrete):
        return NetSpec("flat", hidden, obs_size, action="discrete", n_actions=action_space.n)
    if isinstance(action_space, Box):
        return NetSpec("flat", hidden, obs_size, action="box", n_actions=int(np.prod(action_space.shape)),
                       action_low=tuple(float(x) for x in np.ravel(action_space.low)),
                       action_high=tuple(float(x) for x in np.ravel(action_space.high)))
    raise ValueError(f"PPO supports Discrete and Box action spaces, got {action_space!r}")


def _env_name(env) -> str:
    return env.name


def check_history_columns(spec: NetSpec) -> None:
    """Raise ``ValueError`` unless ``spec.history_columns`` is ``()`` or one column per
    :data:`HISTORY_FEATURES`: distinct integers inside the item block (a saved config is input)."""
    columns = spec.history_columns
    if not columns:
        return
    if spec.kind != "items":
        raise ValueError(f"history_columns {list(columns)} given for a {spec.kind!r} network; only the item "
                         "network keeps a per-item history")
    if len(columns) != len(HISTORY_FEATURES) or not all(
            isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) for c in columns):
        raise ValueError(f"history_columns must be {len(HISTORY_FEATURES)} integer columns (of "
                         f"{', '.join(HISTORY_FEATURES)}), got {list(columns)}")
    bad = [int(c) for c in columns if not 0 <= int(c) < spec.n_item_features]
    if bad:
        raise ValueError(f"history_columns {list(columns)} has column(s) {bad} outside the item block's "
                         f"{spec.n_item_features} features (0..{spec.n_item_features - 1})")
    if len(set(int(c) for c in columns)) != len(columns):
        raise ValueError(f"history_columns {list(columns)} repeats a column; the features "
                         f"{', '.join(HISTORY_FEATURES)} are distinct")


def check_spec_matches_env(spec: NetSpec, env, where: str = "the network") -> None:
    """Raise ``ValueError`` unless ``spec`` reads ``env``'s observation as it was trained to: the
    same item/global feature counts and action layout and, by name, the same history columns."""
    name = _env_name(env)
    check_history_columns(spec)
    if spec.kind != "items":
        obs_size = int(np.prod(env.observation_space(None).shape))
        if obs_size != spec.obs_size:
            raise ValueError(f"{where} takes observations of {spec.obs_size} values; env {name!r} gives {obs_size}")
        return
    layout = env.obs_layout
    if layout is None or tuple(int(x) for x in layout[1:]) != (spec.n_item_features, spec.n_globals):
        raise ValueError(f"env {name!r}'s obs_layout {layout} does not match {where}'s "
                         f"(N, {spec.n_item_features}, {spec.n_globals})")
    action_layout = env.action_layout
    if action_layout is None or tuple(int(x) for x in action_layout) != (spec.blocks, spec.n_global_actions):
        raise ValueError(f"env {name!r}'s action_layout {action_layout} does not match {where}'s "
                         f"({spec.blocks}, {spec.n_global_actions})")
    expected = history_columns_for(env)
    if tuple(int(c) for c in spec.history_columns) != expected:
        if not spec.history_columns:
            raise ValueError(f"{where} has no per-item history (history_columns []) but env {name!r} declares "
                             f"{', '.join(HISTORY_FEATURES)} (columns {list(expected)}): the run was trained without "
                             "its history inputs (by a PPO before the declared observation contract); retrain it")
        names = tuple(env.item_features)
        saved = [names[int(c)] for c in spec.history_columns]
        raise ValueError(f"{where}'s history_columns {list(spec.history_columns)} read {saved} from env {name!r}, "
                         f"which has {', '.join(HISTORY_FEATURES)} at columns {list(expected)}")


def observation_contract(env, spec: NetSpec) -> dict:
    """What a run's ``config.json`` records of the env it was trained on: its declared names and
    action layout, and the names behind ``history_columns`` (checked again at load)."""
    action_layout = env.action_layout
    return {"item_features": list(env.item_features),
            "global_features": list(env.global_features),
            "action_layout": None if action_layout is None else [int(x) for x in action_layout],
            "history_features": list(HISTORY_FEATURES) if spec.history_columns else []}


def check_run_matches_env(config: dict, spec: NetSpec, env, where: str) -> None:
    """A saved run's network (``spec``) and its recorded observation contract against ``env``."""
    check_spec_matches_env(spec, env, where)
    recorded = config.get("observation")
    if recorded is None:  # runs saved before the contract was recorded: the spec checks above suffice
        return
    current = observation_contract(env, spec)
    for key in ("item_features", "global_features"):
        if list(recorded.get(key, [])) != current[key]:
            raise ValueError(f"{where} was trained on {key} {recorded.get(key)}; env {_env_name(env)!r} now "
                             f"declares {current[key]}")
    if spec.history_columns and list(recorded.get("history_features", [])) != list(HISTORY_FEATURES):
        raise ValueError(f"{where} built its history from {recorded.get('history_features')}; this PPO builds it "
                         f"from {list(HISTORY_FEATURES)}")


# ----------------------------------------------------------------------------------------------
# Per-item history (the policy's own running summary; part of its input, no gradient)
# ----------------------------------------------------------------------------------------------


class History(NamedTuple):
    """What the policy remembers between steps, per item (shapes ``(N,)``)."""

    prev_reviews: jax.Array  # review counts in the previous observation
    prev_days_since: jax.Array  # days since last review in the previous observation
    last_interval: jax.Array  # days between the item's last two reviews (0 if reviewed < 2 times)
    longest_recalled: jax.Array  # longest interval after which the item was recalled (days)
    streak: jax.Array  # successful recalls in a row (reset by a lapse)


def history_init(spec: NetSpec) -> History:
    zeros = jnp.zeros(spec.n_items if spec.history_columns else 0, jnp.float32)
    return History(zeros, zeros, zeros, zeros, zeros)


def history_update(spec: NetSpec, history: History, obs: jax.Array) -> History:
    """Fold the newest observation in: an item whose review count grew was just reviewed, at an
    interval of its previous ``days_since``; its new ``last_grade`` is the outcome."""
    if not spec.history_columns:
        return history
    items, _ = split_item_obs(obs, (spec.n_items, spec.n_item_features, spec.n_globals))
    col_since, col_reviews, col_grade, _ = spec.history_columns
    reviews, grade = items[:, col_reviews], items[:, col_grade]
    reviewed = reviews > history.prev_reviews
    retrieval = reviewed & (history.prev_reviews > 0)  # not the first study
    recalled = retrieval & (grade > 1.5)
    interval = history.prev_days_since
    return History(
        prev_reviews=reviews,
        prev_days_since=items[:, col_since],
        last_interval=jnp.where(retrieval, interval, history.last_interval),
        longest_recalled=jnp.where(recalled, jnp.maximum(history.longest_recalled, interval),
                                   history.longest_recalled),
        streak=jnp.where(reviewed, jnp.where(recalled, history.streak + 1.0, 0.0), history.streak),
    )


def network_input(spec: NetSpec, history: History, obs: jax.Array):
    """Normalised network input: ``(items (N, F + history), globals (G,))`` or a flat vector."""
    symlog = lambda x: jnp.sign(x) * jnp.log1p(jnp.abs(x))  # noqa: E731  (counts and days span decades)
    obs = jnp.asarray(obs, jnp.float32)
    if spec.kind != "items":
        return symlog(obs)
    items, glob = split_item_obs(obs, (spec.n_items, spec.n_item_features, spec.n_globals))
    items = symlog(items)
    if spec.history_columns:
        extra = jnp.stack([history.last_interval, history.longest_recalled, history.streak], axis=-1)
        items = jnp.concatenate([items, symlog(extra)], axis=-1)
    return items, symlog(glob)


# ----------------------------------------------------------------------------------------------
# Network: parameters are nested dicts of arrays (saved flat in .npz)
# ----------------------------------------------------------------------------------------------


def _dense_init(key, n_in: int, n_out: int, scale: float) -> dict:
    return {"w": jax.nn.initializers.orthogonal(scale)(key, (n_in, n_out), jnp.float32),
            "b": jnp.zeros((n_out,), jnp.float32)}


def _mlp_init(key, sizes: list[int], last_scale: float) -> list:
    keys = jax.random.split(key, len(sizes) - 1)
    return [_dense_init(k, a, b, last_scale if i == len(sizes) - 2 else math.sqrt(2.0))
            for i, (k, a, b) in enumerate(zip(keys, sizes[:-1], sizes[1:]))]


def _mlp(layers: list, x: jax.Array, activate_last: bool = False) -> jax.Array:
    for i, layer in enumerate(layers):
        x = x @ layer["w"] + layer["b"]
        if i < len(layers) - 1 or activate_last:
            x = jnp.tanh(x)
    return x


def init_network(key: jax.Array, spec: NetSpec) -> dict:
    """Fresh parameters (orthogonal init; small policy head so the first policy is near uniform)."""
    h = spec.hidden
    keys = jax.random.split(key, 6)
    if spec.kind == "items":
        n_in = spec.n_item_features + (N_HISTORY if spec.history_columns else 0)
        return {
            "embed": _mlp_init(keys[0], [n_in, h, h], math.sqrt(2.0)),
            "summary": _mlp_init(keys[1], [h + spec.n_globals, h], math.sqrt(2.0)),
            # The scorer's first layer on [item embedding, summary] is split in two so that the
            # summary's half is computed once per learner, not once per item (half the FLOPs).
            "score_item": _dense_init(keys[2], h, h, math.sqrt(2.0)),
            "score_summary": _dense_init(keys[5], h, h, math.sqrt(2.0)),
            "score_out": _dense_init(jax.random.fold_in(keys[2], 1), h, spec.blocks, 0.01),
            "rest": _mlp_init(keys[3], [h, spec.blocks * spec.n_global_actions], 0.01),
            "value": _mlp_init(keys[4], [h, h, 1], 1.0),
        }
    params = {
        "actor": _mlp_init(keys[0], [spec.obs_size, h, h, spec.n_actions], 0.01),
        "critic": _mlp_init(keys[1], [spec.obs_size, h, h, 1], 1.0),
    }
    if spec.action == "box":
        params["log_std"] = jnp.full((spec.n_actions,), -0.5, jnp.float32)
    return params


def apply_network(spec: NetSpec, params: dict, net_in) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(logits or Gaussian mean, log_std (box only, else zeros), value)`` for one observation."""
    if spec.kind == "items":
        items, globals_ = net_in
        embed = _mlp(params["embed"], items, activate_last=True)  # (N, H): the same MLP for every item
        summary = _mlp(params["summary"], jnp.concatenate([embed.mean(axis=0), globals_]), activate_last=True)
        hidden = jnp.tanh(embed @ params["score_item"]["w"]
                          + (summary @ params["score_summary"]["w"] + params["score_item"]["b"]))
        item_logits = hidden @ params["score_out"]["w"] + params["score_out"]["b"]  # (N, blocks)
        global_logits = _mlp(params["rest"], summary).reshape(spec.blocks, spec.n_global_actions)
        # Action b * (N + g) + j: block b's items, then its global actions (Review-v0: rest).
        logits = jnp.concatenate([item_logits.T, global_logits], axis=1).reshape(-1)
        value = _mlp(params["value"], summary)[0]
        return logits, jnp.zeros(()), value
    head = _mlp(params["actor"], net_in)
    value = _mlp(params["critic"], net_in)[0]
    log_std = params["log_std"] if spec.action == "box" else jnp.zeros(())
    return head, log_std, value


# -- the action distribution ------------------------------------------------------------------


def sample_action(spec: NetSpec, key, head, log_std) -> jax.Array:
    if spec.action == "discrete":
        return jax.random.categorical(key, head)
    return head + jnp.exp(log_std) * jax.random.normal(key, head.shape)


def log_prob(spec: NetSpec, head, log_std, action) -> jax.Array:
    if spec.action == "discrete":
        return jax.nn.log_softmax(head)[action]
    z = (action - head) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi))


def entropy(spec: NetSpec, head, log_std) -> jax.Array:
    if spec.action == "discrete":
        logp = jax.nn.log_softmax(head)
        return -jnp.sum(jnp.exp(logp) * logp)
    return jnp.sum(log_std + 0.5 * math.log(2 * math.pi * math.e))


def env_action(spec: NetSpec, action: jax.Array) -> jax.Array:
    """What the env receives: the item index, or the Gaussian sample squashed into the box."""
    if spec.action == "discrete":
        return action.astype(jnp.int32)
    low, high = jnp.asarray(spec.action_low), jnp.asarray(spec.action_high)
    return low + (high - low) * jax.nn.sigmoid(action)


def greedy_action(spec: NetSpec, head) -> jax.Array:
    return jnp.argmax(head) if spec.action == "discrete" else head


# ----------------------------------------------------------------------------------------------
# Adam with global-norm gradient clipping (Kingma & Ba 2015), from optax
# ----------------------------------------------------------------------------------------------


def adam(max_grad_norm: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-5):
    """PPO's optimiser without its learning rate: clip the gradient's global norm to
    ``max_grad_norm``, then Adam's direction (``eps`` 1e-5, as PureJaxRL and SB3's PPO)."""
    return optax.chain(optax.clip_by_global_norm(max_grad_norm), optax.scale_by_adam(b1=b1, b2=b2, eps=eps))


#: The optimiser state (optax's): ``(clip state, ScaleByAdamState(count, mu, nu))``.
AdamState = optax.OptState


def adam_init(params) -> AdamState:
    return adam(1.0).init(params)  # clipping keeps no state: the same for every max_grad_norm


def adam_step(params, grads, state: AdamState, learning_rate, max_grad_norm: float,
              b1: float = 0.9, b2: float = 0.999, eps: float = 1e-5):
    """One Adam step at ``learning_rate`` (annealed per update by the caller)."""
    direction, state = adam(max_grad_norm, b1, b2, eps).update(grads, state)
    return jax.tree.map(lambda p, d: p - learning_rate * d, params, direction), state


# ----------------------------------------------------------------------------------------------
# The training loop
# ----------------------------------------------------------------------------------------------


class RewardNorm(NamedTuple):
    """Running statistics of the discounted return (to scale rewards, as SB3's VecNormalize)."""

    discounted: jax.Array  # (B,) running discounted return per env
    count: jax.Array
    mean: jax.Array
    var: jax.Array


class Runner(NamedTuple):
    params: dict
    opt: AdamState
    env_state: Any
    obs: jax.Array  # (B, obs) the current observations
    history: History  # (B, ...) the policy's per-item history
    episode_return: jax.Array  # (B,) undiscounted return of the running episode
    reward_norm: RewardNorm
    update: jax.Array  # () updates done
    key: jax.Array


class Transition(NamedTuple):
    net_in: Any
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array  # normalised
    done: jax.Array


#: Metrics recorded per update (the learning curve).
CURVE_FIELDS = ("episode_return", "knowledge_final", "retention_delayed", "episodes", "value_loss",
                "policy_loss", "entropy", "approx_kl", "learning_rate")


def learning_rate_at(hyper: dict, total_updates: int, update: jax.Array) -> jax.Array:
    """The learning rate at ``update``: constant, or annealed linearly to 0 over ``total_updates``."""
    if not hyper["anneal_lr"]:
        return jnp.float32(hyper["learning_rate"])
    return hyper["learning_rate"] * (1.0 - update.astype(jnp.float32) / total_updates)


def update_reward_norm(norm: RewardNorm, reward: jax.Array, done: jax.Array, gamma: float,
                       n_envs: int) -> RewardNorm:
    """The running statistics of the discounted return after one step of the batch (the parallel
    variance update); rewards are divided by its std (not centred)."""
    discounted = norm.discounted * gamma + reward
    batch_mean, batch_var = discounted.mean(), discounted.var()
    count = norm.count + n_envs
    delta = batch_mean - norm.mean
    mean = norm.mean + delta * n_envs / count
    var = (norm.var * norm.count + batch_var * n_envs + delta**2 * norm.count * n_envs / count) / count
    return RewardNorm(jnp.where(done, 0.0, discounted), count, mean, var)


def reset_finished_history(spec: NetSpec, history: History, done: jax.Array) -> History:
    """The batch resets together: a finished episode starts the next with an empty history."""
    fresh = history_init(spec)
    return jax.tree.map(lambda h, f: jnp.where(done.reshape((-1,) + (1,) * f.ndim), f, h), history, fresh)


def finished_episodes(done: jax.Array, episode_return: jax.Array, info: dict, n_envs: int) -> dict:
    """Per learner, the metrics of an episode that ended this step (0 where none did)."""
    return {
        "episode_return": jnp.where(done, episode_return, 0.0),
        "knowledge_final": jnp.where(done, info.get("knowledge_final", jnp.zeros(n_envs)), 0.0),
        "retention_delayed": jnp.where(done, info.get("retention_delayed", jnp.zeros(n_envs)), 0.0),
        "episodes": done.astype(jnp.float32),
    }


def gae(traj: Transition, last_value: jax.Array, gamma: float, lam: float) -> tuple[jax.Array, jax.Array]:
    """(advantages, value targets): generalised advantage estimation, a reverse scan over the rollout."""
    def backward(carry, t: Transition):
        gae, next_value = carry
        not_done = 1.0 - t.done.astype(jnp.float32)
        delta = t.reward + gamma * next_value * not_done - t.value
        gae = delta + gamma * lam * not_done * gae
        return (gae, t.value), gae

    _, adv = jax.lax.scan(backward, (jnp.zeros_like(last_value), last_value), traj, reverse=True)
    return adv, adv + traj.value


def ppo_loss(spec: NetSpec, hyper: dict, params: dict, t: Transition, adv: jax.Array, target: jax.Array):
    """(total loss, (value loss, policy loss, entropy, approx. KL)) of one minibatch: the clipped
    surrogate on normalised advantages, a clipped value loss and an entropy bonus."""
    head, log_std, value = jax.vmap(lambda p, x: apply_network(spec, p, x), in_axes=(None, 0))(params, t.net_in)
    logp = jax.vmap(lambda h, s, a: log_prob(spec, h, s, a))(head, log_std, t.action)
    ratio = jnp.exp(logp - t.log_prob)
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    policy_loss = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - hyper["clip_eps"], 1 + hyper["clip_eps"]) * adv)
    value_clipped = t.value + jnp.clip(value - t.value, -hyper["clip_eps"], hyper["clip_eps"])
    value_loss = 0.5 * jnp.maximum((value - target) ** 2, (value_clipped - target) ** 2)
    ent = jax.vmap(lambda h, s: entropy(spec, h, s))(head, log_std)
    total = policy_loss.mean() + hyper["vf_coef"] * value_loss.mean() - hyper["ent_coef"] * ent.mean()
    approx_kl = jnp.mean((ratio - 1) - (logp - t.log_prob))
    return total, (value_loss.mean(), policy_loss.mean(), ent.mean(), approx_kl)


def shuffled_minibatches(key: jax.Array, data: Any, batch: int, n_minibatches: int, mesh=None) -> Any:
    """``data`` (leaves ``(n_steps, n_envs, ...)``) flattened to ``batch`` samples, shuffled and split
    into ``n_minibatches`` (leaves ``(n_minibatches, batch // n_minibatches, ...)``); with a ``mesh``,
    each minibatch is split over its devices."""
    order = jax.random.permutation(key, batch)
    flat = jax.tree.map(lambda x: x.reshape((batch,) + x.shape[2:])[order], data)
    shards = jax.tree.map(lambda x: x.reshape((n_minibatches, batch // n_minibatches) + x.shape[1:]), flat)
    return constrain_batch(shards, mesh, axis=1)


def update_curve(ended: dict, aux: tuple, learning_rate: jax.Array) -> dict:
    """One update's row of the learning curve (:data:`CURVE_FIELDS`): means over the episodes that
    ended in its rollout (NaN if none did) and over its minibatches."""
    value_loss, policy_loss, ent, approx_kl = (a.mean() for a in aux)
    episodes = ended["episodes"].sum()
    per_episode = lambda x: jnp.where(episodes > 0, x.sum() / jnp.maximum(episodes, 1.0), jnp.nan)  # noqa: E731
    return {
        "episode_return": per_episode(ended["episode_return"]),
        "knowledge_final": per_episode(ended["knowledge_final"]),
        "retention_delayed": per_episode(ended["retention_delayed"]),
        "episodes": episodes,
        "value_loss": value_loss, "policy_loss": policy_loss, "entropy": ent, "approx_kl": approx_kl,
        "learning_rate": learning_rate,
    }


def make_train(env, env_params, spec: NetSpec, hyper: dict, total_updates: int, mesh=None):
    """``(init(key) -> Runner, run(runner, n_updates) -> (Runner, curve))``; both pure and jittable.

    PureJaxRL's shape: one update is (1) a rollout of ``n_steps`` of the whole batch, (2) GAE
    advantages (:func:`gae`), (3) ``update_epochs`` passes of shuffled minibatches, each an Adam step
    on :func:`ppo_loss`. ``total_updates`` sets the learning-rate schedule, so running the updates in
    chunks gives the same schedule as one call. With a ``mesh`` (:func:`studygym.sharding.batch_mesh`)
    the learner axis of the rollout and of each minibatch is split over its devices (data
    parallelism: XLA all-reduces the gradients); results equal the one-device run up to float rounding.
    """
    wrapper = AutoReset(env)
    n_envs, n_steps = hyper["n_learners"], hyper["n_steps"]
    batch = n_envs * n_steps
    gamma, lam = hyper["gamma"], hyper["gae_lambda"]
    apply = jax.vmap(lambda p, x: apply_network(spec, p, x), in_axes=(None, 0))
    update_history = jax.vmap(lambda h, o: history_update(spec, h, o))
    to_input = jax.vmap(lambda h, o: network_input(spec, h, o))
    batched_log_prob = jax.vmap(lambda h, s, a: log_prob(spec, h, s, a))
    grad_fn = jax.value_and_grad(lambda *args: ppo_loss(spec, hyper, *args), has_aux=True)

    def init(key) -> Runner:
        key, key_net, key_env = jax.random.split(key, 3)
        params = init_network(key_net, spec)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key_env, n_envs), env_params)
        history = jax.tree.map(lambda x: jnp.broadcast_to(x, (n_envs, *x.shape)), history_init(spec))
        zeros = jnp.zeros(n_envs, jnp.float32)
        env_state, obs, history, zeros = constrain_batch((env_state, obs, history, zeros), mesh)
        norm = RewardNorm(zeros, jnp.float32(1e-4), jnp.float32(0.0), jnp.float32(1.0))
        return Runner(params, adam_init(params), env_state, obs, history, zeros, norm, jnp.int32(0), key)

    # -- 1. rollout: one step of the whole batch (scanned n_steps times) ---------------------------
    def env_step(runner: Runner, _):
        key, key_act, key_env = jax.random.split(runner.key, 3)
        history = update_history(runner.history, runner.obs)
        net_in = to_input(history, runner.obs)
        head, log_std, value = apply(runner.params, net_in)
        action = jax.vmap(lambda k, h, s: sample_action(spec, k, h, s))(
            jax.random.split(key_act, n_envs), head, log_std)
        logp = batched_log_prob(head, log_std, action)
        obs, env_state, reward, terminated, truncated, info = wrapper.step_batch(
            jax.random.split(key_env, n_envs), runner.env_state, env_action(spec, action), env_params)
        done = terminated | truncated
        norm = update_reward_norm(runner.reward_norm, reward, done, gamma, n_envs)
        scaled = reward / jnp.sqrt(norm.var + 1e-8) if hyper["normalize_reward"] else reward
        history = reset_finished_history(spec, history, done)
        episode_return = runner.episode_return + reward
        ended = finished_episodes(done, episode_return, info, n_envs)
        env_state, obs, history = constrain_batch((env_state, obs, history), mesh)
        runner = runner._replace(env_state=env_state, obs=obs, history=history,
                                 episode_return=jnp.where(done, 0.0, episode_return), reward_norm=norm, key=key)
        return runner, (Transition(net_in, action, logp, value, scaled, done), ended)

    # -- one update: rollout, advantages, epochs of minibatches -----------------------------------
    def update(runner: Runner, _):
        runner, (traj, ended) = jax.lax.scan(env_step, runner, None, n_steps)
        history = update_history(runner.history, runner.obs)
        _, _, last_value = apply(runner.params, to_input(history, runner.obs))
        adv, target = gae(traj, last_value, gamma, lam)  # -- 2. advantages
        lr = learning_rate_at(hyper, total_updates, runner.update)

        def epoch(carry, key):  # -- 3. a pass of shuffled minibatches, an Adam step each
            def minibatch_step(carry, shard):
                params, opt = carry
                (_, aux), grads = grad_fn(params, *shard)
                params, opt = adam_step(params, grads, opt, lr, hyper["max_grad_norm"])
                return (params, opt), aux

            shards = shuffled_minibatches(key, (traj, adv, target), batch, hyper["n_minibatches"], mesh)
            return jax.lax.scan(minibatch_step, carry, shards)

        key, key_epochs = jax.random.split(runner.key)
        (params, opt), aux = jax.lax.scan(epoch, (runner.params, runner.opt),
                                          jax.random.split(key_epochs, hyper["update_epochs"]))
        curve = update_curve(ended, aux, lr)
        return runner._replace(params=params, opt=opt, update=runner.update + 1, key=key), curve

    def run(runner: Runner, n_updates: int):
        return jax.lax.scan(update, runner, None, n_updates)

    return init, run


# ----------------------------------------------------------------------------------------------
# Public API: train, save, load
# ----------------------------------------------------------------------------------------------

#: Files a saved PPO run consists of (``save`` refuses to overwrite them unless ``force``).
SAVED_FILES = ("params.npz", "config.json", "curve.csv")


@dataclasses.dataclass
class TrainedPPO:
    """A trained PPO agent: its parameters, its config (env, overrides, hyper, seed, net) and curve."""

    params: dict
    config: dict
    curve: dict  # name -> np.ndarray, one value per update (see CURVE_FIELDS); NaN: no episode ended

    @property
    def spec(self) -> NetSpec:
        return NetSpec.from_json(self.config["network"])

    def policy(self, deterministic: bool = True, name: str = "ppo", env=None) -> "PPOPolicy":
        return PPOPolicy(self.params, self.spec, deterministic=deterministic, name=name, env=env,
                         config=self.config)

    def save(self, out_dir: str | Path, force: bool = False) -> Path:
        """Write ``params.npz`` (arrays), ``config.json`` and ``curve.csv``; no pickle."""
        out = Path(out_dir)
        check_writable(out, force, SAVED_FILES)
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / "params.npz", **flatten_params(self.params))
        (out / "config.json").write_text(dumps_json(self.config, indent=2, sort_keys=True) + "\n")  # NaN -> null
        write_curve(self.curve, out / "curve.csv", index="update")
        return out


def flatten_params(params: dict) -> dict[str, np.ndarray]:
    """``{"embed/0/w": array, ...}``: one named array per leaf (the .npz layout)."""
    flat = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        name = "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)
        flat[name] = np.asarray(leaf)
    return flat


def unflatten_params(flat: dict, template: dict) -> dict:
    """Arrays from ``flat`` placed in the tree of ``template`` (names and shapes must match)."""
    expected = flatten_params(template)
    missing = sorted(set(expected) - set(flat))
    extra = sorted(set(flat) - set(expected))
    if missing or extra:
        raise ValueError(f"saved parameters do not match the network: missing {missing}, unexpected {extra}")
    leaves = []
    for name, like in expected.items():
        value = np.asarray(flat[name])
        if value.shape != like.shape:
            raise ValueError(f"saved parameter {name} has shape {value.shape}, the network needs {like.shape}")
        leaves.append(jnp.asarray(value, jnp.float32))
    return jax.tree.unflatten(jax.tree.structure(template), leaves)


def train(env_id: str, total_steps: int, seed: int = 0, *, overrides: dict | None = None,
          chunk_updates: int | None = None, callback: Callable[[int, dict], None] | None = None,
          **hyper) -> TrainedPPO:
    """Train PPO on ``env_id`` for about ``total_steps`` env steps (rounded up to whole updates).

    ``overrides`` are env overrides (as ``studygym.make``); ``hyper`` are PPO hyper-parameters
    (see ``HYPER_DEFAULTS``; e.g. ``n_learners=256``). Runs ``chunk_updates`` updates per jitted
    call (all of them in one call if ``None``) and calls ``callback(updates_done, curve_chunk)``
    after each chunk. Training is deterministic given ``seed``.
    """
    check_positive_int("total_steps", total_steps)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if chunk_updates is not None:
        check_positive_int("chunk_updates", chunk_updates)
    hyper = check_hyper(hyper)
    overrides = dict(overrides or {})
    env, env_params = make(env_id, **overrides)
    spec = net_spec_for(env, env_params, hyper["hidden"], hyper["network"])
    steps_per_update = hyper["n_learners"] * hyper["n_steps"]
    n_updates = max(1, -(-int(total_steps) // steps_per_update))
    init, run = make_train(env, env_params, spec, hyper, n_updates, mesh=batch_mesh())

    start = time.perf_counter()
    # Training keys come from their own stream, so they never coincide with harness learner keys.
    key = jax.random.fold_in(jax.random.key(int(seed)), 0x7EA1)
    chunk = n_updates if chunk_updates is None else min(chunk_updates, n_updates)
    run_chunk = jax.jit(run, static_argnums=1)
    if chunk == n_updates:
        runner, curve = jax.jit(lambda k: run(init(k), n_updates))(key)
        curves = [jax.device_get(curve)]
        if callback is not None:
            callback(n_updates, curves[-1])
    else:
        runner = jax.jit(init)(key)
        curves, done = [], 0
        while done < n_updates:
            size = min(chunk, n_updates - done)
            runner, curve = run_chunk(runner, size)
            curves.append(jax.device_get(curve))
            done += size
            if callback is not None:
                callback(done, curves[-1])
    params = jax.device_get(runner.params)
    seconds = time.perf_counter() - start
    curve = {name: np.concatenate([np.asarray(c[name], np.float64) for c in curves]) for name in CURVE_FIELDS}
    curve["env_steps"] = np.arange(1, n_updates + 1, dtype=np.float64) * steps_per_update
    config = _run_config(env_id, overrides, seed, hyper, spec, total_steps, n_updates, seconds, env)
    return TrainedPPO(params=params, config=config, curve=curve)


def _run_config(env_id, overrides, seed, hyper, spec, total_steps, n_updates, seconds, env) -> dict:
    """What ``config.json`` records: enough to rebuild the network, check it against the env's
    declared observation at load, and reproduce the run."""
    return {
        "agent": "ppo",
        "env_id": env_id,
        "overrides": _jsonable(overrides),
        "seed": int(seed),
        "total_steps": int(total_steps),
        "env_steps": int(n_updates * hyper["n_learners"] * hyper["n_steps"]),
        "updates": int(n_updates),
        "hyper": hyper,
        "network": spec.to_json(),
        "observation": observation_contract(env, spec),
        "train_seconds": round(float(seconds), 3),
        "versions": {"jax": jax.__version__},
    }


def untrained(env_id: str, seed: int = 0, *, overrides: dict | None = None, **hyper) -> TrainedPPO:
    """A freshly initialised network (no training): a baseline, and a cheap fixture for tests."""
    hyper = check_hyper(hyper)
    overrides = dict(overrides or {})
    env, env_params = make(env_id, **overrides)
    spec = net_spec_for(env, env_params, hyper["hidden"], hyper["network"])
    params = jax.device_get(init_network(jax.random.key(int(seed)), spec))
    config = _run_config(env_id, overrides, seed, hyper, spec, 0, 0, 0.0, env)
    return TrainedPPO(params=params, config=config, curve={name: np.zeros(0) for name in (*CURVE_FIELDS, "env_steps")})


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)) or hasattr(value, "tolist"):
        return np.asarray(value).tolist()
    return value


class PPOPolicy:
    """A trained PPO network as a :class:`studygym.agents.policy.Policy` (jittable ``act``).

    ``deterministic=True`` takes the most likely item (or the Gaussian mean); ``False`` samples.
    The item network serves any number of items: pass ``env`` to size it for another env.
    """

    privileged = False

    def __init__(self, params: dict, spec: NetSpec, *, deterministic: bool = True, name: str = "ppo",
                 env=None, config: dict | None = None):
        if env is not None:
            # The network's columns (history included, by name) must be the env's.
            check_run_matches_env(dict(config or {}), spec, env, f"the {name!r} network")
            if spec.kind == "items":
                spec = spec.for_items(int(env.obs_layout[0]))
        self.params = jax.tree.map(jnp.asarray, params)
        self.spec = spec
        self.deterministic = bool(deterministic)
        self.name = name
        self.config = dict(config or {})

    def init(self, key: jax.Array, env_params: Any) -> History:
        return history_init(self.spec)

    def act(self, key: jax.Array, pstate: History, obs: jax.Array) -> tuple[jax.Array, History]:
        spec = self.spec
        history = history_update(spec, pstate, obs)
        head, log_std, _ = apply_network(spec, self.params, network_input(spec, history, obs))
        action = greedy_action(spec, head) if self.deterministic else sample_action(spec, key, head, log_std)
        return env_action(spec, action), history

    def value(self, pstate: History, obs: jax.Array) -> jax.Array:
        """The critic's estimate (normalised-reward units) for one observation."""
        history = history_update(self.spec, pstate, obs)
        return apply_network(self.spec, self.params, network_input(self.spec, history, obs))[2]


def load_trained(run_dir: str | Path) -> TrainedPPO:
    """A saved run (``TrainedPPO.save``) read back: parameters, config and learning curve."""
    run = Path(run_dir)
    for name in ("params.npz", "config.json"):
        if not (run / name).exists():
            raise FileNotFoundError(f"{run / name} not found: is {run} a saved PPO run?")
    config = read_json(run / "config.json")  # ValueError naming the file and line on bad JSON
    if not isinstance(config, dict):
        raise ValueError(f"{run}/config.json must hold a JSON object, got {type(config).__name__}")
    if config.get("agent") != "ppo":
        raise ValueError(f"{run}/config.json is not a PPO run (agent={config.get('agent')!r})")
    try:
        spec = NetSpec.from_json(config["network"])  # checks history_columns' shape and range
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{run}/config.json: bad network description: {e}") from e
    _check_against_trained_env(run, config, spec)
    flat = load_arrays(run / "params.npz")  # ValueError naming the file: empty, garbage, NaN/inf weights
    try:
        params = unflatten_params(flat, init_network(jax.random.key(0), spec))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{run}/params.npz does not match the network in config.json: {e}") from e
    curve = read_curve(run / "curve.csv") if (run / "curve.csv").exists() else {}
    return TrainedPPO(params=params, config=config, curve=curve)


def _check_against_trained_env(run: Path, config: dict, spec: NetSpec) -> None:
    """Rebuild the env the run was trained on (``env_id`` + ``overrides``; no compile) and check the
    saved network's columns against its declared names."""
    env_id = config.get("env_id")
    if not isinstance(env_id, str):
        raise ValueError(f"{run}/config.json has no env_id: cannot check its network against the env's observation")
    try:
        env, _ = make(env_id, **dict(config.get("overrides") or {}))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{run}/config.json: cannot rebuild its env {env_id!r} to check the network: {e}") from e
    check_run_matches_env(config, spec, env, f"{run}/config.json")


def load_ppo(run_dir: str | Path, *, deterministic: bool = True, name: str | None = None, env=None) -> PPOPolicy:
    """The saved PPO policy in ``run_dir`` as a Policy the harness evaluates.

    ``name`` defaults to ``"ppo"``; ``env`` (an env object) sizes the item network for an env with a
    different number of items than the one trained on.
    """
    trained = load_trained(run_dir)
    return trained.policy(deterministic=deterministic, name=name or "ppo", env=env)


__all__ = ["train", "untrained", "TrainedPPO", "PPOPolicy", "load_ppo", "load_trained", "make_train", "HYPER_DEFAULTS",
           "NetSpec", "net_spec_for", "HISTORY_FEATURES", "history_columns_for", "check_history_columns",
           "check_spec_matches_env", "init_network", "apply_network", "History", "history_init",
           "history_update", "network_input", "adam_init", "adam_step", "CURVE_FIELDS", "check_hyper"]
