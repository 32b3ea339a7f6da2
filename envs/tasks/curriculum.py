"""Curriculum-v0: Review-v0 over items linked by prerequisites and similarity, in a chosen order."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..core import Array, Box, check_positive_int, check_range, item_obs, static_dataclass
from .review import ReviewConfig, ReviewEnv, ReviewParams, ReviewState

#: Per-item features appended after Review-v0's five (what a course designer's app knows).
CURRICULUM_FEATURES = ("has_prerequisite", "prerequisite_seen", "prerequisite_recalled", "cluster_seen")

#: Introduction orders: how item indices map to graph nodes (classic schedulers introduce the
#: lowest-index unseen item first, so this is the order in which they meet new material).
ORDERS = ("good", "blocked", "random", "reverse")


@static_dataclass
class CurriculumConfig(ReviewConfig):
    """Static config of Curriculum-v0: Review-v0's fields plus the curriculum's structure."""

    n_items: int = 80  # items (graph nodes) to learn: more than the 200 slots can review well, so the
    #   course is paced and the order in which items arrive matters
    n_days: int = 20  # course length in days
    learner: str = "brain"  # the brain learner (schema and interference are its mechanisms)
    order: str = "good"  # introduction order, one of ORDERS
    n_clusters: int = 8  # similarity clusters (balanced; 1 = every item similar to every other)
    prerequisite_prob: float = 1.0  # chance that an item (other than the first) has a prerequisite (1: a tree)

    def validate(self) -> None:
        super().validate()
        if self.learner != "brain":
            raise ValueError(f"learner must be 'brain' for Curriculum-v0 (its schema and interference model "
                             f"the curriculum), got {self.learner!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(repr(o) for o in ORDERS)}, got {self.order!r}")
        check_positive_int("n_clusters", self.n_clusters)
        if self.n_clusters > self.n_items:
            raise ValueError(f"n_clusters must be at most n_items ({self.n_items}), got {self.n_clusters}")
        if isinstance(self.prerequisite_prob, bool):
            raise ValueError(f"prerequisite_prob must be a number in [0, 1], got {self.prerequisite_prob!r}")
        check_range("prerequisite_prob", self.prerequisite_prob, 0.0, 1.0)


def random_curriculum(key: Array, n_items: int, n_clusters: int, prerequisite_prob: float) -> tuple[Array, Array]:
    """A random curriculum over nodes ``0 .. n-1``: (prerequisite node or -1, cluster id), each ``(n,)``.

    Node ``k > 0`` has, with probability ``prerequisite_prob``, one prerequisite drawn uniformly
    among nodes ``0 .. k-1`` (so node order is topological and the graph is a forest: the brain
    learner models one prerequisite per item). Clusters are balanced and assigned at random.
    """
    key_has, key_parent, key_cluster = jax.random.split(key, 3)
    node = jnp.arange(n_items)
    has_parent = (node > 0) & jax.random.bernoulli(key_has, prerequisite_prob, (n_items,))
    parent = jnp.floor(jax.random.uniform(key_parent, (n_items,)) * node).astype(jnp.int32)
    prerequisite = jnp.where(has_parent, parent, -1).astype(jnp.int32)
    cluster = (jax.random.permutation(key_cluster, n_items) % n_clusters).astype(jnp.int32)
    return prerequisite, cluster


def topological_order(prerequisite: Array, cluster: Array, n_clusters: int, spread: bool) -> Array:
    """Nodes in an order where every prerequisite comes first; among the items available at each
    position, the one whose cluster was introduced longest ago (``spread``: similar items apart)
    or most recently (blocked: similar items together); ties go to the lower node."""
    n = prerequisite.shape[0]
    node = jnp.arange(n)

    def place(position, carry):
        order, placed, cluster_last = carry
        ready = ~placed & ((prerequisite < 0) | placed[jnp.maximum(prerequisite, 0)])
        last = cluster_last[cluster]  # position at which the node's cluster last appeared (-1: never)
        score = jnp.where(spread, -last, last) * n - node  # cluster first, then lower node
        choice = jnp.argmax(jnp.where(ready, score, jnp.iinfo(jnp.int32).min))
        return (order.at[position].set(choice), placed.at[choice].set(True),
                cluster_last.at[cluster[choice]].set(position))

    init = (jnp.zeros(n, jnp.int32), jnp.zeros(n, bool), jnp.full(n_clusters, -1, jnp.int32))
    order, _, _ = jax.lax.fori_loop(0, n, place, init)
    return order


class CurriculumEnv(ReviewEnv):
    """Curriculum-v0: review items that build on each other, introduced in a designer's order.

    Review-v0 (same slots, days, costs, reward and metrics) on the ``brain`` learner, over a
    curriculum drawn per episode from the reset key: ``n_items`` items, each (but the first) with
    probability ``prerequisite_prob`` linked to one earlier prerequisite (a random forest, a
    DAG), and ``n_clusters`` balanced similarity clusters. The env maps its item indices to graph
    nodes so that **index order is the introduction order** a course designer chose
    (``order``); classic schedulers introduce the lowest-index unseen item first, so ``order``
    decides theirs:

    - ``"good"``: topological (prerequisites first), similar items spread apart;
    - ``"blocked"``: topological, similar items back to back;
    - ``"random"``: a random permutation (from the reset key);
    - ``"reverse"``: ``"good"`` reversed (items before their prerequisites).

    The same reset key gives the same learner and the same graph under every order (per-item
    traits follow the node), so orders are compared on paired learners.

    - **Observation** ``Box(float32, (N * 9 + 4,))``: per item (feature-major: 9 blocks of N) Review-v0's
      five features (days since review, reviews, lapses, last grade, seen) then
      ``has_prerequisite``, ``prerequisite_seen`` (1 when the item has none),
      ``prerequisite_recalled`` (its prerequisite's last grade was a success; 1 when none) and
      ``cluster_seen`` (share of its cluster-mates already seen); then Review-v0's 4 globals.
      What the course's app knows (the graph, the history); never the hidden memory.
      ``env.obs_layout == (N, 9, 4)``.
    - **Action** ``Discrete(N + 1)``: an item index, or ``N`` to rest (``action_layout == (1, 1)``);
      out of range inside ``jit`` rests and sets ``info["invalid_action"]``.
    - **Reward**, **termination**, **info**: as Review-v0 (knowledge gain minus study cost; the
      episode ends after ``slots_per_day * n_days`` steps; ``knowledge_final``, ``knowledge_auc``,
      ``retention_delayed`` at the last step).
    - **State** :class:`~studygym.envs.tasks.review.ReviewState`; the graph lives in the brain
      learner's state (``learner.prerequisite``: ``(N,)`` int32 item index or -1;
      ``learner.cluster``: ``(N,)`` int32), in item-index space. The learner params
      ``prerequisite_chain`` and ``cluster_size`` are replaced by this graph.
    - **Params** :class:`~studygym.envs.tasks.review.ReviewParams` with brain-learner params; the
      registered Curriculum-v0 raises the learner's ``similarity`` within a cluster to 0.5
      (confusable items; the brain default 0.2 is for loosely related ones).
    - **Science**: the brain learner's schema effect (an item whose prerequisite is consolidated
      is encoded and consolidated faster; Tse et al. 2007, Science 316:76) and interference
      (waking exposure to a similar item erodes unconsolidated traces; Ellenbogen et al. 2006,
      Curr Biol 16:1290). Prerequisites first pays (sequencing by prerequisites: Gagne 1968's
      learning hierarchies); interleaving similar material with dissimilar material reduces
      interference (Underwood 1957 on proactive interference; spacing similar items apart).

    Example::

        >>> import jax, studygym
        >>> env, params = studygym.make("Curriculum-v0", n_items=10, n_clusters=3, order="good")
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> env.obs_layout
        (10, 9, 4)
        >>> bool((state.learner.prerequisite < jax.numpy.arange(10)).all())  # prerequisites come first
        True
    """

    def __init__(self, config: CurriculumConfig | None = None):
        super().__init__(CurriculumConfig() if config is None else config)

    # Review-v0's per-item names, then the curriculum's (obs_layout (N, 9, 4) derives from them).
    item_features = ReviewEnv.item_features + CURRICULUM_FEATURES
    global_features = ReviewEnv.global_features

    def observation_space(self, params: ReviewParams | None = None) -> Box:
        base = super().observation_space(params)
        n, f = self.config.n_items, len(ReviewEnv.item_features)
        extra = np.ones(n * len(CURRICULUM_FEATURES), np.float32)  # feature-major: appended blocks
        high = np.concatenate([base.high[: n * f], extra, base.high[n * f:]])
        return Box(0.0, high, (high.size,))

    def curriculum(self, key: Array) -> tuple[Array, Array, Array]:
        """(node of each item index, prerequisite item index or -1, cluster) for a reset key."""
        cfg = self.config
        key_graph, key_order = jax.random.split(key)
        parent_node, cluster_node = random_curriculum(key_graph, cfg.n_items, cfg.n_clusters, cfg.prerequisite_prob)
        if cfg.order == "random":
            node_of = jax.random.permutation(key_order, cfg.n_items).astype(jnp.int32)
        else:
            node_of = topological_order(parent_node, cluster_node, cfg.n_clusters, cfg.order != "blocked")
            node_of = node_of[::-1] if cfg.order == "reverse" else node_of
        index_of = jnp.zeros(cfg.n_items, jnp.int32).at[node_of].set(jnp.arange(cfg.n_items, dtype=jnp.int32))
        parent = parent_node[node_of]
        prerequisite = jnp.where(parent >= 0, index_of[jnp.maximum(parent, 0)], -1).astype(jnp.int32)
        return node_of, prerequisite, cluster_node[node_of]

    def reset_env(self, key: Array, params: ReviewParams) -> tuple[Array, ReviewState]:
        key_learner, key_graph = jax.random.split(key)
        _, state = super().reset_env(key_learner, params)
        node_of, prerequisite, cluster = self.curriculum(key_graph)
        n = self.config.n_items
        # Per-item traits drawn by the learner (e.g. difficulty offsets) belong to the node, so an
        # item is the same item whatever position the order gives it.
        learner = jax.tree.map(lambda x: x[node_of] if jnp.ndim(x) >= 1 and x.shape[0] == n else x,
                               state.learner)
        state = state.replace(learner=learner.replace(prerequisite=prerequisite, cluster=cluster))
        return self.get_obs(state, params), state

    def get_obs(self, state: ReviewState, params: ReviewParams) -> Array:
        base = super().get_obs(state, params)
        n, f = self.config.n_items, len(ReviewEnv.item_features)
        prerequisite, cluster = state.learner.prerequisite, state.learner.cluster
        has = prerequisite >= 0
        parent = jnp.maximum(prerequisite, 0)
        seen = state.seen > 0
        prerequisite_seen = jnp.where(has, seen[parent], True)
        prerequisite_recalled = jnp.where(has, state.last_grade[parent] > 1, True)
        mates = (cluster[:, None] == cluster[None, :]) & ~jnp.eye(n, dtype=bool)
        cluster_seen = jnp.sum(mates & seen[None, :], axis=1) / jnp.maximum(jnp.sum(mates, axis=1), 1)
        # Feature-major: the extra features are further blocks of N after Review-v0's.
        return item_obs([base[: n * f], has, prerequisite_seen, prerequisite_recalled, cluster_seen], base[n * f:])


__all__ = ["CurriculumConfig", "CurriculumEnv", "CURRICULUM_FEATURES", "ORDERS", "random_curriculum",
           "topological_order"]
