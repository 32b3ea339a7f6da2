"""Stable-Baselines3 agents (PPO, A2C, DQN) trained on the batched SB3 VecEnv, evaluated in JAX.

Training runs SB3 unchanged on :class:`studygym.envs.gym.StudySB3VecEnv`, whose ``n_envs`` sub-envs
step in one jitted call, wrapped as ``VecNormalize(...)``:

- the VecEnv reports every episode's return and length in ``info["episode"]`` as SB3's
  ``Monitor`` does (SB3 logs ``rollout/ep_rew_mean`` from it; no ``VecMonitor`` needed);
- ``VecNormalize`` (on by default) standardises observations (counts and days span decades) and
  rewards (Review-v0's are ~1e-3 per step, too small for a value network), as the JAX PPO does.

``train_sb3`` writes into ``out``:

- ``tb/``: TensorBoard logs (``tensorboard --logdir OUT/tb``);
- ``checkpoints/``: SB3 ``CheckpointCallback`` saves (``.zip`` + ``VecNormalize`` statistics) for
  resuming training: these are pickle-based, evaluation never reads them;
- ``params.npz`` + ``config.json``: the policy without pickle. The MLP's weights (from the torch
  ``state_dict``) and the frozen observation-normalisation statistics are arrays; the architecture,
  seeds, hyper-parameters, env id and overrides are JSON. ``load_sb3`` rebuilds the same forward
  pass in JAX, so the harness evaluates the agent inside ``jit``/``vmap`` like every other policy
  (deterministic: the arg-max action for ``Discrete``, the Gaussian mean clipped to the box for
  ``Box``, exactly what ``model.predict(obs, deterministic=True)`` returns);
- ``model.zip`` (+ ``vecnormalize.pkl``): the final SB3 model, for ``PPO.load`` and more training;
- ``curve.csv`` + ``learning_curve.png``: mean episode return (and final knowledge) against env steps.

DQN needs a ``Discrete`` action space (Review-v0, not Deck-v0's ``Box``): ``train_sb3`` says so.

``hyper={"network": "items"}`` (``policy: 'ItemPolicy'`` in a YAML) trains PPO/A2C with studygym's
``ItemPolicy`` instead of ``MlpPolicy``: one small network scores every item (shared weights), which
learns Review-v0 where the MLP stays near Random (README, SB3 section); its actor is exported to JAX
the same way (``network.kind`` ``"actor_items"``).

Example::

    >>> from studygym.agents.sb3 import train_sb3, load_sb3
    >>> trained = train_sb3("ppo", "Review-v0", 20_000, seed=0, out="runs/sb3_ppo",
    ...                     overrides={"n_items": 10}, n_envs=8)  # doctest: +SKIP
    >>> policy = load_sb3("runs/sb3_ppo")  # studygym.evaluation.harness.evaluate([policy, "fsrs"], ...)  # doctest: +SKIP

or ``studygym train --agent sb3-ppo --env Review-v0 --steps 200000 --out runs/sb3_ppo`` and
``studygym evaluate --policies fsrs,sb3:runs/sb3_ppo --env Review-v0 --out results/x``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.metadata
import inspect
import json
import time
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs import gym as gym_adapters  # gym_adapters.StudySB3VecEnv is built on first use (SB3 imports torch)
from studygym.envs.core import Discrete, check_positive_int
from studygym.envs.gym import IntroductionMask, UnitObservation, make_sb3_vec_env  # noqa: F401  (make_sb3_vec_env re-exported)
from studygym.errors import did_you_mean, unknown_names
from studygym.files import check_writable, dumps_json, load_arrays, read_json
from studygym.registry import registered_ids
from studygym.runs import plot_learning_curve, write_curve

#: ``ppo_mask`` is sb3-contrib's ``MaskablePPO`` (rl-zoo3's name for it), trained with the env's
#: ``action_masks()`` (:class:`studygym.envs.gym.IntroductionMask`); it needs ``pip install sb3-contrib``.
ALGOS = ("ppo", "a2c", "dqn", "ppo_mask")

#: studygym's defaults per algorithm (anything else: SB3's own defaults). Episodes are 50-300 steps
#: and the objective is the knowledge at the end, hence the long discount. PPO collects 256 steps
#: per env per update (SB3's 2048 would give a handful of updates in a short run); DQN's replay
#: buffer is capped (SB3's 1e6 transitions of Review-v0's 154 floats would take 1.2 GB).
ALGO_DEFAULTS: dict[str, dict[str, Any]] = {
    "ppo": {"gamma": 0.995, "n_steps": 256, "batch_size": 256, "ent_coef": 0.01},
    "ppo_mask": {"gamma": 0.995, "n_steps": 256, "batch_size": 256, "ent_coef": 0.01},
    "a2c": {"gamma": 0.995, "ent_coef": 0.01},
    "dqn": {"gamma": 0.995, "buffer_size": 100_000, "learning_starts": 1_000, "target_update_interval": 1_000,
            "exploration_fraction": 0.2},
}

#: Hyper-parameters studygym adds to the SB3 constructor's: the network (``net_arch`` as SB3's
#: ``policy_kwargs``, ``activation_fn`` by name), the ``VecNormalize`` switches and ``unit_obs`` (the env's
#: fixed ``normalize=True`` map of observations onto [0, 1], :class:`studygym.envs.gym.UnitObservation`).
EXTRA_HYPER: dict[str, Any] = {"net_arch": None, "activation_fn": None, "normalize_obs": True,
                               "normalize_reward": True, "unit_obs": False, "network": "mlp"}

#: ``network`` hyper: ``"mlp"`` (SB3's ``MlpPolicy``) or ``"items"`` (:class:`ItemPolicy`, PPO/A2C on an
#: item-choice env; ``net_arch`` ``[H]`` is then its layers' width, default :data:`ITEM_HIDDEN`).
NETWORKS = ("mlp", "items")

#: Constructor arguments ``train_sb3`` sets itself (not hyper-parameters).
_RESERVED = ("policy", "env", "tensorboard_log", "seed", "device", "verbose", "_init_setup_model",
             "policy_kwargs", "replay_buffer_class", "replay_buffer_kwargs", "rollout_buffer_class",
             "rollout_buffer_kwargs", "stats_window_size")

#: Activations the JAX forward reproduces (torch module name -> jax function).
ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh, "relu": jax.nn.relu, "elu": jax.nn.elu, "leakyrelu": lambda x: jax.nn.leaky_relu(x, 0.01),
    "silu": jax.nn.silu, "sigmoid": jax.nn.sigmoid, "gelu": lambda x: jax.nn.gelu(x, approximate=False),
}

#: Files ``train_sb3`` writes into ``out`` (refused if present, unless ``force``).
OUTPUT_FILES = ("params.npz", "config.json", "curve.csv", "learning_curve.png", "model.zip", "vecnormalize.pkl",
                "checkpoints")

#: The logit of a masked action (sb3-contrib's ``MaskableCategorical`` uses the same).
MASKED_LOGIT = -1e8

#: Rows of ``curve.csv`` (episodes are averaged within equal spans of env steps).
CURVE_POINTS = 50


def _algo_class(algo: str):
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, got {algo!r}{did_you_mean(algo, ALGOS, n=1, cutoff=0.3)}")
    if algo == "ppo_mask":
        try:
            import sb3_contrib
        except ImportError:
            raise ImportError("algo 'ppo_mask' is sb3-contrib's MaskablePPO: pip install sb3-contrib "
                              "(or studygym[sb3])") from None
        return sb3_contrib.MaskablePPO
    import stable_baselines3

    return getattr(stable_baselines3, algo.upper())


def known_hyper(algo: str) -> list[str]:
    """Hyper-parameter names ``train_sb3`` accepts for ``algo``: the SB3 constructor's plus ``EXTRA_HYPER``."""
    names = [n for n in inspect.signature(_algo_class(algo).__init__).parameters if n not in ("self", *_RESERVED)]
    return names + list(EXTRA_HYPER)


def check_hyper(algo: str, hyper: dict | None) -> dict:
    """studygym's defaults merged with ``hyper``; unknown names raise ``ValueError`` naming close ones."""
    hyper = dict(hyper or {})
    known = known_hyper(algo)
    unknown = [k for k in hyper if k not in known]
    if unknown:
        raise ValueError(f"Unknown SB3 {algo.upper()} hyper-parameter(s): {unknown_names(unknown, known)}. "
                         f"Known: {', '.join(known)}")
    merged = {**ALGO_DEFAULTS[algo], **EXTRA_HYPER, **hyper}
    for name in ("normalize_obs", "normalize_reward", "unit_obs"):
        if not isinstance(merged[name], (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {merged[name]!r}")
    if merged["network"] not in NETWORKS:
        raise ValueError(f"network must be one of {NETWORKS}, got {merged['network']!r}")
    if merged["network"] == "items":
        if algo not in ("ppo", "a2c"):
            raise ValueError(f"network 'items' (ItemPolicy) is an actor-critic policy for ppo or a2c, not {algo!r}")
        arch = merged["net_arch"]
        if arch is not None and not (isinstance(arch, (list, tuple)) and len(arch) == 1
                                     and isinstance(arch[0], (int, np.integer)) and arch[0] > 0):
            raise ValueError(f"network 'items' takes net_arch [H] (its layers' width), got {arch!r}")
    if merged["activation_fn"] is not None and str(merged["activation_fn"]).lower() not in ACTIVATIONS:
        raise ValueError(f"activation_fn must be one of {list(ACTIVATIONS)}, got {merged['activation_fn']!r}")
    return merged


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return np.asarray(value).tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


# ----------------------------------------------------------------------------------------------
# ItemPolicy: a permutation-equivariant actor-critic for item-choice envs (an SB3 policy class)
# ----------------------------------------------------------------------------------------------

#: The width of :class:`ItemPolicy`'s layers when ``net_arch`` does not give one.
ITEM_HIDDEN = 64


def _make_item_policy_class():
    import torch
    import torch.nn as nn
    from stable_baselines3.common.policies import ActorCriticPolicy

    class ItemNetwork(nn.Module):
        """SB3's ``mlp_extractor`` for :class:`ItemPolicy`: ``forward_actor`` returns the N + 1 logits
        themselves (the policy's ``action_net`` is the identity), ``forward_critic`` the value's latent."""

        def __init__(self, item_layout, hidden: int, activation_fn):
            super().__init__()
            self.n_items, self.n_features, self.n_globals = (int(x) for x in item_layout)
            h = int(hidden)
            self.embed = nn.Sequential(nn.Linear(self.n_features, h), activation_fn(), nn.Linear(h, h), activation_fn())
            self.summary = nn.Sequential(nn.Linear(h + self.n_globals, h), activation_fn())
            self.score_item = nn.Linear(h, h)
            self.score_summary = nn.Linear(h, h, bias=False)
            self.score_out = nn.Linear(h, 1)
            self.rest = nn.Linear(h, 1)
            self.value = nn.Sequential(nn.Linear(h, h), activation_fn())
            self.activation = activation_fn()
            self.latent_dim_pi, self.latent_dim_vf = self.n_items + 1, h

        def _embed(self, obs):
            n, f = self.n_items, self.n_features
            items = obs[:, : n * f].reshape(-1, f, n).transpose(1, 2)  # (B, N, F), feature-major layout
            embed = self.embed(items)  # the same MLP for every item
            summary = self.summary(torch.cat([embed.mean(dim=1), obs[:, n * f:]], dim=-1))
            return embed, summary

        def _logits(self, embed, summary):
            hidden = self.activation(self.score_item(embed) + self.score_summary(summary)[:, None, :])
            return torch.cat([self.score_out(hidden).squeeze(-1), self.rest(summary)], dim=-1)

        def forward(self, features):
            embed, summary = self._embed(features)
            return self._logits(embed, summary), self.value(summary)

        def forward_actor(self, features):
            return self._logits(*self._embed(features))

        def forward_critic(self, features):
            return self.value(self._embed(features)[1])

    class ItemPolicy(ActorCriticPolicy):
        """A permutation-equivariant actor-critic for item-choice envs (Review-v0: ``Discrete(N + 1)``,
        N items then rest), in the spirit of Deep Sets (Zaheer et al. 2017), as studygym's JAX PPO:
        one MLP embeds every item from its own features (the same weights for every item); a learner
        summary is the mean of the item embeddings plus the globals; one shared scorer gives each item
        its logit from its embedding and the summary; the rest logit and the value come from the
        summary. An SB3 ``MlpPolicy`` must instead learn the same rule separately for each of the N
        item positions of the flat observation.

        ``PPO(ItemPolicy, venv, policy_kwargs=dict(item_layout=env.obs_layout, hidden=64))``:
        ``item_layout`` is ``(N, F, G)`` of the env's feature-major observation (``env.obs_layout``);
        ``train_sb3`` fills it in for ``hyper={"network": "items"}``. Not an SB3 ``MlpPolicy``: it is
        a studygym-specific architecture (the one thing SB3's ``policy_kwargs`` cannot swap is the final
        linear action head, which here would mix the items' logits, so it is a policy class).
        """

        def __init__(self, observation_space, action_space, lr_schedule, item_layout=None, hidden: int = ITEM_HIDDEN,
                     **kwargs):
            if item_layout is None or len(item_layout) != 3:
                raise ValueError(f"ItemPolicy needs item_layout=(N, F, G) (env.obs_layout), got {item_layout!r}")
            n, f, g = (int(x) for x in item_layout)
            if int(np.prod(observation_space.shape)) != n * f + g or getattr(action_space, "n", None) != n + 1:
                raise ValueError(f"ItemPolicy with item_layout {(n, f, g)} needs a flat observation of {n * f + g} "
                                 f"and Discrete({n + 1}) actions, got {observation_space} and {action_space}")
            self.item_layout, self.hidden = (n, f, g), int(hidden)
            super().__init__(observation_space, action_space, lr_schedule, **kwargs)

        def _build_mlp_extractor(self) -> None:
            self.mlp_extractor = ItemNetwork(self.item_layout, self.hidden, self.activation_fn)

        def _build(self, lr_schedule) -> None:
            super()._build(lr_schedule)
            self.action_net = nn.Identity()  # the item network's output is the logits
            if self.ortho_init:  # small output layers: the first policy is near uniform
                for layer in (self.mlp_extractor.score_out, self.mlp_extractor.rest):
                    layer.apply(functools.partial(self.init_weights, gain=0.01))
            self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

        def _get_constructor_parameters(self) -> dict[str, Any]:
            data = super()._get_constructor_parameters()
            data.update(item_layout=self.item_layout, hidden=self.hidden)
            return data

    return ItemPolicy


#: Layer names of :class:`ItemPolicy`'s item network, saved in ``params.npz`` as ``item_<name>_w/_b``.
ITEM_LAYERS = ("embed.0", "embed.2", "summary.0", "score_item", "score_summary", "score_out", "rest")


def _export_item_policy(policy) -> tuple[dict[str, np.ndarray], dict]:
    """``ItemPolicy``'s actor as arrays (``item_<layer>_w`` ``(in, out)`` and ``_b``) and its architecture."""
    net = policy.mlp_extractor
    arrays = {}
    for name in ITEM_LAYERS:
        linear = net.get_submodule(name)
        arrays[f"item_{name}_w"] = linear.weight.detach().cpu().numpy().T.astype(np.float32)
        bias = linear.bias if linear.bias is not None else None
        arrays[f"item_{name}_b"] = (np.zeros(linear.out_features, np.float32) if bias is None
                                    else bias.detach().cpu().numpy().astype(np.float32))
    activation = type(policy.activation_fn()).__name__.lower()
    if activation not in ACTIVATIONS:
        raise ValueError(f"cannot export the activation {activation} to JAX (supported: {list(ACTIVATIONS)})")
    return arrays, {"item_layout": list(policy.item_layout), "hidden": int(policy.hidden), "item_activation": activation}


def _item_forward(layers: dict, network: dict, x: jax.Array) -> jax.Array:
    """``ItemPolicy``'s logits in JAX for one (normalised) flat observation, as its torch forward."""
    n, f, _ = network["item_layout"]
    act = ACTIVATIONS[network["item_activation"]]
    dense = lambda name, v: v @ layers[name][0] + layers[name][1]  # noqa: E731
    items = x[: n * f].reshape(f, n).T  # (N, F)
    embed = act(dense("embed.2", act(dense("embed.0", items))))
    summary = act(dense("summary.0", jnp.concatenate([embed.mean(axis=0), x[n * f:]])))
    hidden = act(dense("score_item", embed) + dense("score_summary", summary))
    return jnp.concatenate([dense("score_out", hidden)[:, 0], dense("rest", summary)])


_LAZY: dict[str, Any] = {}


def item_policy_class():
    """The :class:`ItemPolicy` class (built on first use: SB3 imports torch)."""
    if "ItemPolicy" not in _LAZY:
        _LAZY["ItemPolicy"] = _make_item_policy_class()
    return _LAZY["ItemPolicy"]


# ----------------------------------------------------------------------------------------------
# Export: the SB3 policy's MLP as arrays + JSON
# ----------------------------------------------------------------------------------------------


def _sequential_layers(module) -> list[tuple[Any, str | None]]:
    """``(linear, activation after it)`` for an ``nn.Sequential`` of ``Linear`` and activation modules."""
    import torch.nn as nn

    layers: list[list] = []
    for part in module:
        if isinstance(part, nn.Linear):
            layers.append([part, None])
        elif type(part).__name__.lower() in ACTIVATIONS and layers and layers[-1][1] is None:
            layers[-1][1] = type(part).__name__.lower()
        else:
            raise ValueError(f"cannot export {type(part).__name__} in the SB3 network to JAX (supported: Linear "
                             f"and the activations {list(ACTIVATIONS)})")
    return [tuple(layer) for layer in layers]


def export_policy(model, venv=None, unit=None, mask: IntroductionMask | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """An SB3 model's deterministic policy as ``(arrays, architecture)``: what ``params.npz`` and the
    ``network`` entry of ``config.json`` hold. ``venv``: its ``VecNormalize`` statistics, if any;
    ``unit``: the env's ``UnitObservation`` when it was trained with ``normalize=True``; ``mask``:
    the action mask it was trained under (``MaskablePPO``), applied to its logits when it acts."""
    import gymnasium
    import torch.nn as nn
    from stable_baselines3.common.torch_layers import FlattenExtractor
    from stable_baselines3.common.vec_env import VecNormalize

    policy = model.policy
    obs_space, action_space = policy.observation_space, policy.action_space
    if not isinstance(obs_space, gymnasium.spaces.Box):
        raise ValueError(f"only Box observation spaces can be exported, got {obs_space}")
    item_network = isinstance(policy, item_policy_class())
    if hasattr(policy, "q_net"):  # DQN: Q-values from one MLP
        extractor, layers = policy.q_net.features_extractor, _sequential_layers(policy.q_net.q_net)
    else:  # actor-critic: features -> policy MLP -> action head
        if getattr(policy, "use_sde", False) or getattr(policy, "squash_output", False):
            raise ValueError("policies with gSDE or squashed outputs cannot be exported to JAX (use_sde=False)")
        extractor = policy.pi_features_extractor
        layers = [] if item_network else \
            _sequential_layers(policy.mlp_extractor.policy_net) + [(policy.action_net, None)]
    if type(extractor) is not FlattenExtractor:
        raise ValueError(f"only SB3's FlattenExtractor can be exported, got {type(extractor).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for i, (linear, _) in enumerate(layers):
        assert isinstance(linear, nn.Linear)
        arrays[f"layer{i}_w"] = linear.weight.detach().cpu().numpy().T.astype(np.float32)  # (in, out)
        arrays[f"layer{i}_b"] = linear.bias.detach().cpu().numpy().astype(np.float32)
    item_arrays, item_arch = _export_item_policy(policy) if item_network else ({}, {})
    arrays.update(item_arrays)
    obs_size = int(np.prod(obs_space.shape))
    normalizer = venv if isinstance(venv, VecNormalize) and venv.norm_obs else None
    if normalizer is not None:
        arrays["obs_mean"] = np.asarray(normalizer.obs_rms.mean, np.float64).reshape(-1)
        arrays["obs_var"] = np.asarray(normalizer.obs_rms.var, np.float64).reshape(-1)
    discrete = isinstance(action_space, gymnasium.spaces.Discrete)
    network = {
        "kind": "q_mlp" if hasattr(policy, "q_net") else "actor_items" if item_network else "actor_mlp",
        "obs_shape": list(obs_space.shape),
        "obs_size": obs_size,
        "sizes": [obs_size] + [int(linear.out_features) for linear, _ in layers],  # [obs_size] for actor_items
        "activations": [act for _, act in layers],
        "action": "discrete" if discrete else "box",
        "n_actions": int(action_space.n) if discrete else int(np.prod(action_space.shape)),
        "action_shape": [] if discrete else list(action_space.shape),
        "action_low": None if discrete else np.asarray(action_space.low, np.float64).reshape(-1).tolist(),
        "action_high": None if discrete else np.asarray(action_space.high, np.float64).reshape(-1).tolist(),
        "normalize_obs": normalizer is not None,
        "clip_obs": float(normalizer.clip_obs) if normalizer is not None else None,
        "obs_epsilon": float(normalizer.epsilon) if normalizer is not None else None,
        "unit_obs": unit is not None,
        "action_mask": None if mask is None else mask.to_config(),
        **item_arch,
    }
    if mask is not None and (not discrete or hasattr(policy, "q_net") or mask.n_actions != int(action_space.n)):
        raise ValueError(f"an action mask of {mask.n_actions} actions needs a Discrete actor-critic policy over as many; "
                         f"got {type(policy).__name__} with {action_space}")
    if unit is not None:
        arrays.update(unit.arrays())
    return arrays, network


# ----------------------------------------------------------------------------------------------
# The JAX policy
# ----------------------------------------------------------------------------------------------


class SB3Policy:
    """An exported SB3 policy as a :class:`studygym.agents.policy.Policy`: the same MLP in JAX.

    ``act`` normalises the observation with the frozen ``VecNormalize`` statistics, runs the MLP and
    returns the arg-max action (``Discrete``; Q-values for DQN, logits for PPO/A2C) or the
    Gaussian mean clipped to the action box (``Box``), like ``model.predict(obs, deterministic=True)``.
    """

    privileged = False

    def __init__(self, arrays: dict[str, np.ndarray], network: dict, *, name: str = "sb3", config: dict | None = None,
                 sample: bool = False):
        self.network = dict(network)
        # sample: draw the action from the policy's softmax (what SB3 does while training) instead of the
        # arg-max; only for Discrete actor-critic policies (the Gaussian's log-std is not exported).
        if sample and (network.get("kind") not in ("actor_mlp", "actor_items") or network.get("action") != "discrete"):
            raise ValueError("sample=True needs a Discrete PPO/A2C policy (not DQN's Q-values or a Box action)")
        self.sample = bool(sample)
        self.name = name
        self.config = dict(config or {})
        n_layers = len(network["activations"])
        sizes = network["sizes"]
        self.layers = []
        for i in range(n_layers):
            w, b = arrays.get(f"layer{i}_w"), arrays.get(f"layer{i}_b")
            if w is None or b is None or w.shape != (sizes[i], sizes[i + 1]) or b.shape != (sizes[i + 1],):
                raise ValueError(f"layer {i} of the saved network does not have the shape its architecture gives "
                                 f"({sizes[i]} -> {sizes[i + 1]}); got {None if w is None else w.shape}")
            self.layers.append((jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32), network["activations"][i]))
        # ItemPolicy: the item network's layers by name (shapes checked against its layout and width)
        self.item_layers = self._item_layers(arrays, network) if network.get("kind") == "actor_items" else None
        self.obs_size = int(network["obs_size"])
        # The env's fixed [0, 1] map (normalize=True at training), applied before VecNormalize's.
        self.unit = UnitObservation.from_arrays(arrays) if network.get("unit_obs") else None
        # MaskablePPO: invalid actions (items not yet introduced, bar the next) get SB3-contrib's
        # logit -1e8 before the arg-max or the draw, as MaskableCategorical does.
        self.mask = IntroductionMask.from_config(network["action_mask"]) if network.get("action_mask") else None
        if self.mask is not None and (network.get("kind") not in ("actor_mlp", "actor_items")
                                      or network.get("action") != "discrete"
                                      or self.mask.n_actions != int(network["n_actions"])):
            raise ValueError(f"action_mask {network['action_mask']} needs a Discrete actor-critic network over "
                             f"{self.mask.n_actions} actions")
        if network["normalize_obs"]:
            mean, var = np.asarray(arrays["obs_mean"], np.float64), np.asarray(arrays["obs_var"], np.float64)
            if mean.shape != (self.obs_size,) or var.shape != (self.obs_size,):
                raise ValueError(f"obs_mean/obs_var must have shape ({self.obs_size},), got {mean.shape}, {var.shape}")
            self.obs_mean = jnp.asarray(mean, jnp.float32)
            self.obs_scale = jnp.asarray(1.0 / np.sqrt(var + network["obs_epsilon"]), jnp.float32)
            self.clip_obs = float(network["clip_obs"])
        if network["action"] == "box":
            self.action_low = jnp.asarray(network["action_low"], jnp.float32)
            self.action_high = jnp.asarray(network["action_high"], jnp.float32)

    @staticmethod
    def _item_layers(arrays: dict, network: dict) -> dict:
        n, f, g = (int(x) for x in network["item_layout"])
        h = int(network["hidden"])
        if network.get("item_activation") not in ACTIVATIONS or network["n_actions"] != n + 1 \
                or network["obs_size"] != n * f + g:
            raise ValueError(f"item network {network['item_layout']} does not fit {network['obs_size']} observations "
                             f"and {network['n_actions']} actions (or its activation is unknown)")
        shapes = {"embed.0": (f, h), "embed.2": (h, h), "summary.0": (h + g, h), "score_item": (h, h),
                  "score_summary": (h, h), "score_out": (h, 1), "rest": (h, 1)}
        layers = {}
        for name in ITEM_LAYERS:
            w, b = arrays.get(f"item_{name}_w"), arrays.get(f"item_{name}_b")
            if w is None or b is None or w.shape != shapes[name] or b.shape != (shapes[name][1],):
                raise ValueError(f"item layer {name} must have weights {shapes[name]}, got "
                                 f"{None if w is None else w.shape}")
            layers[name] = (jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32))
        return layers

    def check_env(self, env, env_params=None) -> None:
        """Raise ``ValueError`` if ``env``'s observation or action space does not fit the network."""
        params = env.default_params if env_params is None else env_params
        obs_shape = tuple(env.observation_space(params).shape)
        action_space = env.action_space(params)
        where = env.name
        if int(np.prod(obs_shape)) != self.obs_size:
            raise ValueError(f"{self.name} was trained on observations of shape {tuple(self.network['obs_shape'])}; "
                             f"{where} gives {obs_shape} (train it with the same env overrides)")
        discrete = isinstance(action_space, Discrete)
        if discrete != (self.network["action"] == "discrete") or \
                (discrete and action_space.n != self.network["n_actions"]):
            raise ValueError(f"{self.name} was trained for {self.network['n_actions']} {self.network['action']} "
                             f"actions; {where} has {action_space}")
        if self.mask is not None and IntroductionMask.of_env(env).to_config() != self.mask.to_config():
            raise ValueError(f"{self.name} was trained under the action mask {self.mask.to_config()}; {where}'s "
                             f"declared layout gives {IntroductionMask.of_env(env).to_config()}")

    def forward(self, obs: jax.Array) -> jax.Array:
        """The network's output for one observation: Q-values, logits or the Gaussian mean."""
        x = jnp.ravel(jnp.asarray(obs, jnp.float32))
        if self.unit is not None:
            x = self.unit(x)
        if self.network["normalize_obs"]:
            x = jnp.clip((x - self.obs_mean) * self.obs_scale, -self.clip_obs, self.clip_obs)
        if self.item_layers is not None:
            return _item_forward(self.item_layers, self.network, x)
        for w, b, activation in self.layers:
            x = x @ w + b
            if activation is not None:
                x = ACTIVATIONS[activation](x)
        return x

    def init(self, key: jax.Array, env_params: Any) -> tuple:
        return ()

    def act(self, key: jax.Array, pstate: tuple, obs: jax.Array) -> tuple[jax.Array, tuple]:
        out = self.forward(obs)
        if self.mask is not None:
            out = jnp.where(self.mask(jnp.ravel(jnp.asarray(obs)), jnp), out, MASKED_LOGIT)
        if self.sample:
            return jax.random.categorical(key, out).astype(jnp.int32), pstate
        if self.network["action"] == "discrete":
            return jnp.argmax(out).astype(jnp.int32), pstate
        low, high = self.action_low, self.action_high
        return jnp.clip(out, low, high).reshape(tuple(self.network["action_shape"])), pstate


def load_sb3(run_dir: str | Path, env=None, *, name: str | None = None, sample: bool = False) -> SB3Policy:
    """The SB3 policy saved in ``run_dir`` (``params.npz`` + ``config.json``; no pickle) as a Policy.

    ``env`` (an env object), if given, is checked against the network's input and output sizes.
    ``name`` defaults to ``sb3_<algo>``. ``sample``: actions drawn from the policy's distribution
    (Discrete PPO/A2C) instead of its arg-max.
    """
    run = Path(run_dir)
    for file in ("params.npz", "config.json"):
        if not (run / file).exists():
            raise FileNotFoundError(f"{run / file} not found: is {run} a saved SB3 run (studygym train --agent sb3-*)?")
    config = read_json(run / "config.json")  # ValueError naming the file and line on bad JSON
    if not isinstance(config, dict) or not str(config.get("agent", "")).startswith("sb3-") or "network" not in config:
        agent = config.get("agent") if isinstance(config, dict) else None
        raise ValueError(f"{run}/config.json is not an SB3 run (agent={agent!r}); "
                         f"a JAX PPO run loads as ppo:{run}")
    # ValueError naming the file: empty, garbage, NaN/inf weights or normalisation statistics
    arrays = load_arrays(run / "params.npz")
    if "obs_var" in arrays and np.any(arrays["obs_var"] < 0):
        raise ValueError(f"{run}/params.npz: obs_var (the observation normalisation variance) has negative values")
    try:
        policy = SB3Policy(arrays, config["network"], name=name or f"sb3_{config.get('algo', 'policy')}",
                           config=config, sample=sample)
    except (KeyError, TypeError, IndexError, ValueError) as e:
        raise ValueError(f"{run}: config.json's network does not match params.npz "
                         f"({type(e).__name__}: {e})") from e
    env_id = config.get("env_id")
    if env_id is not None and env_id not in registered_ids():
        raise ValueError(f"{run}/config.json: env_id {env_id!r} is not a registered env"
                         f"{did_you_mean(str(env_id), registered_ids())}")
    if env is not None:
        # The MLP reads the flat observation of the env it was trained on: another env of the same
        # size would be read column by column as if it were that one.
        if env_id is not None and env_id != env.name:
            raise ValueError(f"{run}/config.json: this SB3 policy was trained on {env_id!r}; it cannot run on "
                             f"{env.name!r} (its network reads {env_id}'s observation layout)")
        policy.check_env(env)
    return policy


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


def _make_callback(total: int, n_envs: int, progress: bool, desc: str):
    """An SB3 callback that records finished episodes (for the curve) and drives a tqdm bar
    (SB3's own ``progress_bar=True`` needs ``rich`` as well)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class EpisodeRecorder(BaseCallback):
        def __init__(self):
            super().__init__()
            self.episodes: list[tuple[int, float, float]] = []  # (env steps, return, knowledge_final)
            self.bar = None

        def _on_training_start(self) -> None:
            if progress:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=desc, unit="step", unit_scale=True)

        def _on_step(self) -> bool:
            finished = []
            for info in self.locals.get("infos", []):
                if "episode" in info:
                    knowledge = float(info.get("knowledge_final", np.nan))
                    self.episodes.append((self.num_timesteps, float(info["episode"]["r"]), knowledge))
                    finished.append(float(info["episode"]["r"]))
            if self.bar is not None:
                self.bar.update(n_envs)
                if finished:
                    recent = [r for _, r, _ in self.episodes[-100:]]
                    self.bar.set_postfix({"return": f"{np.mean(recent):.4f}"}, refresh=False)
            return True

        def _on_training_end(self) -> None:
            if self.bar is not None:
                self.bar.close()

    return EpisodeRecorder()


def episode_curve(episodes: list[tuple[int, float, float]], env_steps: int, points: int = CURVE_POINTS) -> dict:
    """Episodes averaged within ``points`` equal spans of env steps (NaN where none ended); fewer
    spans if episodes ended at fewer distinct steps (sub-envs of a fixed horizon end together)."""
    steps = np.array([e[0] for e in episodes], np.float64)
    points = max(1, min(points, len(np.unique(steps))))
    edges = np.linspace(0, env_steps, points + 1)
    returns = np.array([e[1] for e in episodes], np.float64)
    knowledge = np.array([e[2] for e in episodes], np.float64)
    curve = {"env_steps": edges[1:], "episode_return": np.full(points, np.nan),
             "knowledge_final": np.full(points, np.nan), "episodes": np.zeros(points)}
    span = np.clip(np.searchsorted(edges, steps, side="left") - 1, 0, points - 1)
    for i in range(points):
        chosen = span == i
        if chosen.any():
            curve["episode_return"][i] = returns[chosen].mean()
            curve["knowledge_final"][i] = np.nanmean(knowledge[chosen]) if np.isfinite(knowledge[chosen]).any() else np.nan
            curve["episodes"][i] = chosen.sum()
    return curve


@dataclasses.dataclass
class TrainedSB3:
    """A trained SB3 agent: the SB3 model, its (normalising) VecEnv, what was saved, and the curve."""

    model: Any
    venv: Any
    config: dict
    curve: dict
    out: Path

    def policy(self, name: str | None = None, env=None) -> SB3Policy:
        return load_sb3(self.out, env=env, name=name)


def train_sb3(algo: str, env_id: str, total_steps: int, seed: int = 0, out: str | Path = "runs/sb3", *,
              overrides: dict | None = None, n_envs: int = 8, hyper: dict | None = None, force: bool = False,
              progress: bool = True, n_checkpoints: int = 4, device: str = "cpu", vec_env=None,
              torch_threads: int | None = 1) -> TrainedSB3:
    """Train SB3 ``algo`` (``"ppo"``, ``"a2c"``, ``"dqn"`` or ``"ppo_mask"``) on ``env_id`` for ``total_steps`` env steps.

    ``overrides``: env overrides (as ``studygym.make``); ``n_envs``: sub-envs stepped together;
    ``hyper``: SB3 constructor keyword arguments (``learning_rate=3e-4``, ``n_steps=128``, ...) plus
    ``net_arch``, ``activation_fn`` (``"tanh"``, ``"relu"``, ...), ``normalize_obs``,
    ``normalize_reward``, ``unit_obs`` and ``network`` (``"mlp"``: SB3's ``MlpPolicy``; ``"items"``:
    studygym's ``ItemPolicy``, :func:`item_policy_class`, for PPO/A2C on an item-choice env);
    unknown names raise ``ValueError``. Writes everything listed in the
    module docstring into ``out`` (existing files are refused unless ``force``); ``n_checkpoints``
    checkpoints are spread over the run. Seeds: SB3 (torch, numpy) gets ``seed``; sub-env ``i``
    gets ``seed + i``. ``vec_env``: an existing ``StudySB3VecEnv`` of ``env_id`` to train on instead
    of a new one (its jitted step is already compiled; ``n_envs`` is then its own, and ``overrides`` must be those
    it was built with: they are recorded, not applied). ``torch_threads``: torch's CPU threads while
    training (default 1: for these small MLPs more threads only contend with JAX and, on a busy
    machine, stall in thread barriers; ``None`` leaves torch's setting alone). ``ppo_mask``
    (sb3-contrib's ``MaskablePPO``) trains under the env's ``action_masks()``, and the saved policy
    applies the same mask when it acts.

    The phases, each its own function: check the arguments (:func:`_check_train_args`), build the
    VecEnv (:func:`_training_vec_env`) and the SB3 model (:func:`_build_model`), learn
    (:func:`_learn`), save the run (:func:`_save_run`).
    """
    algo_class, hyper, out = _check_train_args(algo, total_steps, n_envs, n_checkpoints, seed, hyper, out, force,
                                               torch_threads)
    overrides = dict(overrides or {})
    base, venv, mask = _training_vec_env(algo, env_id, int(seed), n_envs, hyper, overrides, vec_env)
    n_envs = base.num_envs
    model = _build_model(algo, algo_class, venv, hyper, out, int(seed), device, base.core.env.obs_layout)
    out.mkdir(parents=True, exist_ok=True)
    recorder = _make_callback(total_steps, n_envs, progress, f"train sb3-{algo} on {env_id}")
    seconds = _learn(model, algo, total_steps, recorder, out, n_envs, n_checkpoints, torch_threads)
    config, curve = _save_run(model, venv, base, mask, recorder, out, seconds, algo=algo, env_id=env_id,
                              overrides=overrides, seed=int(seed), n_envs=n_envs, total_steps=total_steps, hyper=hyper)
    return TrainedSB3(model=model, venv=venv, config=config, curve=curve, out=out)


def _check_train_args(algo, total_steps, n_envs, n_checkpoints, seed, hyper, out, force, torch_threads):
    """``train_sb3``'s checks before anything is built or written: ``(algo class, merged hyper, out)``."""
    algo_class = _algo_class(algo)
    check_positive_int("total_steps", total_steps)
    check_positive_int("n_envs", n_envs)
    check_positive_int("n_checkpoints", n_checkpoints)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if torch_threads is not None:
        check_positive_int("torch_threads", torch_threads)
    hyper = check_hyper(algo, hyper)
    out = Path(out)
    check_writable(out, force, OUTPUT_FILES)
    return algo_class, hyper, out


def _training_vec_env(algo, env_id, seed, n_envs, hyper, overrides, vec_env):
    """``(base StudySB3VecEnv, the VecEnv SB3 trains on, action mask or None)``: a new batched VecEnv
    (or ``vec_env``, checked and reseeded), wrapped in ``VecNormalize`` when the hyper asks for it."""
    import gymnasium
    from stable_baselines3.common.vec_env import VecNormalize

    if vec_env is None:
        base = gym_adapters.StudySB3VecEnv(env_id, n_envs=n_envs, seed=seed, normalize=hyper["unit_obs"], **overrides)
    elif not isinstance(vec_env, gym_adapters.StudySB3VecEnv) or vec_env.core.env_id != env_id:
        raise ValueError(f"vec_env must be a StudySB3VecEnv of {env_id}, got {vec_env!r}")
    else:
        base = vec_env
        base.seed(seed)
    if (base.core.unit is not None) != hyper["unit_obs"]:
        raise ValueError(f"vec_env was made with normalize={base.core.unit is not None}; hyper unit_obs is "
                         f"{hyper['unit_obs']}")
    if algo == "dqn" and not isinstance(base.action_space, gymnasium.spaces.Discrete):
        raise ValueError(f"SB3 DQN needs a Discrete action space; {env_id} has {base.action_space} "
                         f"(train it with --agent sb3-ppo or sb3-a2c, or the JAX --agent ppo)")
    # MaskablePPO reads base.action_masks(); an env without an item-choice layout is refused here.
    mask = IntroductionMask.of_env(base.core.env) if algo == "ppo_mask" else None
    venv = base  # reports info["episode"] itself (a VecMonitor would only repeat it)
    if hyper["normalize_obs"] or hyper["normalize_reward"]:
        venv = VecNormalize(venv, norm_obs=hyper["normalize_obs"], norm_reward=hyper["normalize_reward"],
                            gamma=float(hyper.get("gamma", 0.99)))
    return base, venv, mask


def _build_model(algo, algo_class, venv, hyper, out, seed, device, item_layout=None):
    """The SB3 model: ``MlpPolicy`` (or :class:`ItemPolicy` for ``network="items"``, over the env's
    ``item_layout``) with studygym's extra hypers turned into ``policy_kwargs``."""
    import torch

    kwargs = {k: v for k, v in hyper.items() if k not in EXTRA_HYPER}
    policy_kwargs: dict[str, Any] = {}
    policy = "MlpPolicy"
    if hyper["network"] == "items":
        if item_layout is None:
            raise ValueError("network 'items' needs an env with per-item observations (env.obs_layout)")
        policy = item_policy_class()
        policy_kwargs["item_layout"] = tuple(int(x) for x in item_layout)
        policy_kwargs["hidden"] = int(hyper["net_arch"][0]) if hyper["net_arch"] is not None else ITEM_HIDDEN
    elif hyper["net_arch"] is not None:
        policy_kwargs["net_arch"] = hyper["net_arch"]
    if hyper["activation_fn"] is not None:
        name = str(hyper["activation_fn"]).lower()
        policy_kwargs["activation_fn"] = next(getattr(torch.nn, n) for n in dir(torch.nn) if n.lower() == name)
    try:
        return algo_class(policy, venv, tensorboard_log=str(out / "tb"), seed=seed, device=device,
                          verbose=0, policy_kwargs=policy_kwargs or None, **kwargs)
    except (AssertionError, TypeError, ValueError) as error:
        raise ValueError(f"SB3 {algo.upper()} rejected the hyper-parameters {_jsonable(hyper)}: {error}") from error


def _learn(model, algo, total_steps, recorder, out, n_envs, n_checkpoints, torch_threads) -> float:
    """``model.learn`` with the episode recorder and checkpoints, torch on ``torch_threads``
    (restored afterwards); the seconds it took."""
    import torch
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback
    from stable_baselines3.common.vec_env import VecNormalize

    checkpoint = CheckpointCallback(save_freq=max(1, total_steps // n_checkpoints // n_envs),
                                    save_path=str(out / "checkpoints"), name_prefix=f"sb3_{algo}",
                                    save_vecnormalize=isinstance(model.get_env(), VecNormalize))
    threads_before = torch.get_num_threads()
    if torch_threads is not None:
        torch.set_num_threads(int(torch_threads))
    start = time.perf_counter()
    try:
        model.learn(total_timesteps=int(total_steps), callback=CallbackList([recorder, checkpoint]),
                    tb_log_name=f"sb3_{algo}")
    finally:
        torch.set_num_threads(threads_before)
    return time.perf_counter() - start


def _save_run(model, venv, base, mask, recorder, out, seconds, *, algo, env_id, overrides, seed, n_envs, total_steps,
              hyper) -> tuple[dict, dict]:
    """Write the run's files (module docstring) into ``out``: ``(config, curve)``."""
    import stable_baselines3
    import torch
    from stable_baselines3.common.vec_env import VecNormalize

    env_steps = int(model.num_timesteps)
    arrays, network = export_policy(model, venv, base.core.unit, mask)
    np.savez(out / "params.npz", **arrays)
    model.save(out / "model.zip")
    if isinstance(venv, VecNormalize):
        venv.save(str(out / "vecnormalize.pkl"))
    curve = episode_curve(recorder.episodes, env_steps)
    write_curve(curve, out / "curve.csv", index="env_steps")
    versions = {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__, "jax": jax.__version__}
    if algo == "ppo_mask":
        versions["sb3_contrib"] = importlib.metadata.version("sb3-contrib")
    config = {
        "agent": f"sb3-{algo}",
        "algo": algo,
        "env_id": env_id,
        "overrides": _jsonable(overrides),
        "seed": seed,
        "n_envs": int(n_envs),
        "total_steps": int(total_steps),
        "env_steps": env_steps,
        "episodes": len(recorder.episodes),
        "hyper": _jsonable(hyper),
        "network": network,
        "train_seconds": round(seconds, 3),
        "steps_per_second": round(env_steps / max(seconds, 1e-9), 1),
        "files": {"tensorboard": "tb", "checkpoints": "checkpoints", "sb3_model": "model.zip"},
        "versions": versions,
    }
    (out / "config.json").write_text(dumps_json(config, indent=2, sort_keys=True) + "\n")  # NaN -> null
    plot_learning_curve(curve, out / "learning_curve.png", f"SB3 {algo.upper()} on {env_id} (seed {seed})")
    return config, curve


#: rl-zoo3-style hyper-parameter files shipped with studygym (``studygym/hyperparams/<algo>.yml``).
HYPERPARAMS_DIR = Path(__file__).resolve().parents[1] / "studygym" / "hyperparams"


def _policy_kwargs(text: str, where: str) -> dict:
    """rl-zoo3's ``policy_kwargs`` string (``"dict(net_arch=[64, 64], activation_fn=nn.ReLU)"``) as
    studygym's ``net_arch`` / ``activation_fn`` hypers, parsed without eval."""
    try:
        node = ast.parse(str(text), mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"{where}: policy_kwargs is not a dict(...) expression: {text!r} ({error.msg})") from None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args):
        raise ValueError(f"{where}: policy_kwargs must be dict(net_arch=..., activation_fn=nn.X), got {text!r}")
    out = {}
    for keyword in node.keywords:
        if keyword.arg == "net_arch":
            out["net_arch"] = ast.literal_eval(keyword.value)
        elif keyword.arg == "activation_fn" and isinstance(keyword.value, ast.Attribute):
            out["activation_fn"] = keyword.value.attr.lower()
        else:
            raise ValueError(f"{where}: policy_kwargs supports net_arch and activation_fn=nn.X, got {keyword.arg!r}")
    return out


def load_hyperparams(algo: str, gym_id: str, path: str | Path | None = None) -> dict:
    """An rl-zoo3-style entry (``studygym/hyperparams/<algo>.yml`` unless ``path``) as ``train_sb3``'s
    arguments: ``{"overrides", "hyper", "n_envs", "n_timesteps"}``. ``env_kwargs.normalize`` becomes
    the ``unit_obs`` hyper, rl-zoo3's ``normalize`` the ``VecNormalize`` switches, ``policy_kwargs``
    ``net_arch`` / ``activation_fn``; every other key is a hyper-parameter, checked by ``check_hyper``."""
    import yaml

    _algo_class(algo)
    path = Path(path) if path is not None else HYPERPARAMS_DIR / f"{algo}.yml"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (shipped: {sorted(p.name for p in HYPERPARAMS_DIR.glob('*.yml'))})")
    try:
        entries = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(entries, dict) or gym_id not in entries:
        raise ValueError(f"{path} has no entry for {gym_id!r} (entries: {sorted(entries or {})})")
    entry = dict(entries[gym_id])
    where = f"{path}: {gym_id}"
    overrides = dict(entry.pop("env_kwargs", None) or {})
    hyper: dict[str, Any] = {"unit_obs": bool(overrides.pop("normalize", False))}
    normalize = entry.pop("normalize", False)
    if isinstance(normalize, str):
        normalize = ast.literal_eval(normalize)
    if isinstance(normalize, dict):
        hyper["normalize_obs"] = bool(normalize.get("norm_obs", True))
        hyper["normalize_reward"] = bool(normalize.get("norm_reward", True))
    else:
        hyper["normalize_obs"] = hyper["normalize_reward"] = bool(normalize)
    policy = entry.pop("policy", "MlpPolicy")
    if policy not in ("MlpPolicy", "ItemPolicy"):
        raise ValueError(f"{where}: policy must be 'MlpPolicy' or 'ItemPolicy' (the networks train_sb3 exports), "
                         f"got {policy!r}")
    hyper["network"] = "items" if policy == "ItemPolicy" else "mlp"
    if "policy_kwargs" in entry:
        hyper.update(_policy_kwargs(entry.pop("policy_kwargs"), where))
    n_envs = int(entry.pop("n_envs", 8))
    n_timesteps = int(float(entry.pop("n_timesteps", 1e6)))
    hyper.update(entry)
    return {"overrides": overrides, "hyper": check_hyper(algo, hyper), "n_envs": n_envs, "n_timesteps": n_timesteps}


__all__ = ["train_sb3", "load_sb3", "item_policy_class", "make_sb3_vec_env", "load_hyperparams", "SB3Policy", "TrainedSB3", "export_policy", "check_hyper", "known_hyper",
           "ALGOS", "ALGO_DEFAULTS", "EXTRA_HYPER", "OUTPUT_FILES", "episode_curve"]
