"""Throughput of Review-v0, each figure beside a peer measured in the same run.

    .venv/bin/python scripts/bench_throughput.py            # full run, writes results/bench/throughput.md
    .venv/bin/python scripts/bench_throughput.py --quick    # CI smoke: fewer steps, small batches

Sections (N = 100 items, random actions, best of 3 timed runs after a warm-up compile):

- **JAX jit+vmap+scan** at batch 1, 64, 1024, 8192: one jitted function vmaps ``reset`` over the
  batch and ``lax.scan``s the batched step (``AutoReset.step_batch``: episodes end together, one
  ``lax.cond`` resets the batch). Peer: the leanest NumPy version of the same per-step FSRS-6
  maths (:class:`NumpyReviewYardstick`, written here from the formulas; it does not import
  studygym's maths), same batch and N. Target (issue 21): >= 1.5x at B = 1024 and B = 8192.
  Beside it, with no target, the same yardstick also building the observation Review-v0 returns
  (``observe=True``): the same work as the env's step, where the targeted yardstick leaves the
  observation out.
- **Gymnasium single env** ``gymnasium.make("studygym/Review-v0")``, one Python call per step.
  Peer: ``gymnasium.make("CartPole-v1")``.
- **SB3 VecEnv** ``StudySB3VecEnv`` with 64 envs stepped in one jitted call. Peer: SB3's
  ``DummyVecEnv`` over 64 CartPole-v1 envs.
- **SB3 PPO training** (MlpPolicy, torch on 1 thread, 64 envs as the README recommends, and 8) on
  Review-v0 through ``make_sb3_vec_env`` against the same PPO on CartPole-v1. Target: >= 0.9x.
  Beside it, the same PPO on a zero-cost env with Review-v0's spaces splits the gap into what
  the env costs and what the larger observation costs the agent's own network.

Every target is a ratio over a peer timed in the same run, in turns (absolute CPU figures on a
shared machine measure the neighbours; issue 21). ``--json FILE`` also writes the rows, so the
ratios of several runs can be compared (their median is what to quote).

Item-updates/s = env-steps/s x N: every step evaluates every item's recall probability (the
reward's knowledge term). The machine is shared: the header records the load average so noisy
runs can be spotted; compare ratios, which both sides of a row share.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N_ITEMS = 100
# config -> (kind, threshold). Issue 21: every target is a ratio over a peer timed in the same run
# (absolute steps/s on a shared VM measure the neighbours); absolute figures only on a GPU.
# The batch sizes of issue 21's NumPy targets; the brain learner's target is at the first.
TARGET_BATCHES = (1024, 8192)
# 64 envs: the README's path (make_sb3_vec_env's default, studygym/hyperparams/ppo.yml); 8 envs: the
# batch of issue 21's first measurement. The same settings for both envs at each size.
SB3_ENV_COUNTS = (64, 8)
TARGETS = {
    # >= 1.5x the leanest NumPy version of the same per-step maths
    **{f"jax B={batch}": ("ratio", 1.5) for batch in TARGET_BATCHES},
    # within 3x of the FSRS learner's env-steps/s
    f"jax B={TARGET_BATCHES[0]}, brain learner": ("ratio", 1 / 3),
    # SB3 PPO on Review-v0 at >= 0.9x its CartPole speed, same settings: 64 envs is the README's path.
    **{f"SB3 PPO, {n} envs": ("ratio", 0.9) for n in SB3_ENV_COUNTS},
}
# Rows against the yardstick that also builds Review-v0's observation (NumpyReviewYardstick(observe=True)):
# reported in the table and the medians beside the targeted rows, without a target of their own.
OBSERVED_SUFFIX = ", observation in both"
ONE_CORE_SUFFIX = ", process on 1 core"
# Rows whose loop (random actions, per-env keys) draws on jax's default threefry keys instead.
DEFAULT_KEYS_SUFFIX = ", jax's default keys in the loop"
# Also reported: those rows, and SB3 PPO with the whole training process pinned to one core, CartPole's too
# (the README's advice for the SB3 VecEnv on a CPU with few cores).
REPORTED = (*(f"jax B={batch}{suffix}" for suffix in (OBSERVED_SUFFIX, DEFAULT_KEYS_SUFFIX)
              for batch in TARGET_BATCHES),
            *(f"SB3 PPO, {n} envs{ONE_CORE_SUFFIX}" for n in SB3_ENV_COUNTS))
# Adapter rows take the best of more runs: a run is short (~0.3 s) and thread wake-ups on a shared
# VM vary from run to run.
ADAPTER_REPEATS = 7
# The adapter rows are measured in fresh child processes (as a user's training script runs them,
# not after this process's large batches), once per way a user can run them; the targets hold for
# each. mode -> row suffix.
CHILD_MODES = {
    "default": "",
    "sync": ", sync dispatch",
    "one-core": ONE_CORE_SUFFIX,
}
# The SB3 PPO rows' child processes: mode -> suffix after "N envs" in their names.
SB3_CHILD_MODES = {"sb3": "", "sb3-one-core": ONE_CORE_SUFFIX}


def steps_per_second(runners: dict, repeats: int = 3) -> dict:
    """Best-of-``repeats`` steps/s of each ``name -> (run, steps_per_run)``, timed in turns.

    Taking turns (ours, peer, ours, peer, ...) exposes both sides of a row to the same load on a
    shared machine, so their ratio is steadier than either figure; the best run is the least noisy.
    """
    best = {name: float("inf") for name in runners}
    for _ in range(repeats):
        for name, (run, _) in runners.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: steps / best[name] for name, (_, steps) in runners.items()}


# ----------------------------------------------------------------------------------------------
# JAX: jit(vmap(reset) + scan(step_batch))
# ----------------------------------------------------------------------------------------------


def prepare_jax(batch: int, n_steps: int, chunks: int = 1, learner: str = "fsrs", loop_keys: str = "unrolled"):
    """``(run, env_steps)``: ``batch`` Review-v0 envs for ``n_steps`` steps in one jitted call.

    ``chunks > 1`` runs the batch as ``chunks`` groups one after another inside the same call
    (``lax.map`` over groups, each a vmap+scan): a group's state then stays in cache across steps.
    ``loop_keys``: the loop's own key (its random actions and per-env keys) on ``"unrolled"``
    threefry (``unrolled_keys``: the numbers of jax's default keys, fewer kernels on the CPU; the
    yardstick likewise draws from NumPy's fastest generator) or ``"jax"``'s default threefry. The
    env's own draws are on the unrolled hash either way (``Environment.step`` moves the keys).
    """
    import jax
    import jax.numpy as jnp

    import studygym
    from studygym.envs.core import AutoReset, unrolled_keys

    env, params = studygym.make("Review-v0", n_items=N_ITEMS, learner=learner)
    wrapped = AutoReset(env)
    n_actions = env.action_space(params).n
    group = batch // chunks

    def rollout(key):
        key_reset, key_loop = jax.random.split(key)
        obs, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key_reset, group), params)

        def body(carry, key_t):
            obs, states = carry
            key_action, key_env = jax.random.split(key_t)
            # Uniform random actions from one float draw each (randint draws twice).
            actions = jnp.minimum(jax.random.uniform(key_action, (group,)) * n_actions,
                                  n_actions - 1).astype(jnp.int32)
            obs, states, reward, _, _, _ = wrapped.step_batch(
                jax.random.split(key_env, group), states, actions, params)
            return (obs, states), reward.sum()

        (obs, _), rewards = jax.lax.scan(body, (obs, states), jax.random.split(key_loop, n_steps))
        # The observation is carried through every step and returned, so none of it is dead code.
        return rewards.sum() + obs.sum()

    @jax.jit
    def run(key):
        if chunks == 1:
            return rollout(key)
        return jax.lax.map(rollout, jax.random.split(key, chunks)).sum()

    key = jax.random.key(0)
    if loop_keys == "unrolled":
        key = unrolled_keys(key)
    elif loop_keys != "jax":
        raise ValueError(f"loop_keys must be 'unrolled' or 'jax', got {loop_keys!r}")
    run(key).block_until_ready()  # compile
    return (lambda: run(key).block_until_ready()), batch * n_steps


# ----------------------------------------------------------------------------------------------
# The NumPy yardstick: the same per-step work, vectorised over a batch of learners
# ----------------------------------------------------------------------------------------------

# FSRS-6 default weights (py-fsrs DEFAULT_PARAMETERS), as published; see reference/peers.md.
W = np.array([0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
              1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542], np.float32)


class NumpyReviewYardstick:
    """B learners x N items stepped with NumPy as fast as NumPy goes: the same per-step maths as
    Review-v0's FSRS-6 learner, float32 throughout, in place, no per-item Python.

    Per step each learner takes a random action (an item, or rest), the item's recall probability
    decides its grade (one uniform draw, as ``FSRSLearner.practice``: recalled if ``u < R``, then
    ``u / R`` picks Hard/Good/Easy; at first exposure ``u`` picks the grade), its FSRS-6 (S, D)
    update is applied (same calendar day: the short-term update), and the knowledge reward is the
    change in mean recall over all N items at the next slot. Population draws as Review-v0's
    defaults: a log-normal forgetting multiplier per learner, an offset on each item's initial
    difficulty. Episodes of ``slots_per_day * n_days`` steps, then a reset, as ``AutoReset``.

    Lean by construction (the fastest NumPy we could write, so the ratio is against the best peer):
    every per-item array is one flat float32 buffer, item-major (``[item * B + learner]``: a
    feature of every item of every learner is one contiguous run, so the observation's blocks are
    too), the reviewed item of every learner is read with one ``np.take`` and written back with
    one ``np.put`` (resting learners write back the value they read: no masks, no boolean
    indexing), and the knowledge pass runs in place in one scratch buffer. It keeps each item's
    recall rate ``F * m / S`` (updated at the one reviewed item per learner) so the pass over all
    items is ``1 + rate * (t - L)``, then ``exp(-w20 * log(.))`` (NumPy's ``power`` is ~3x slower
    than log + exp), then per-learner sums as one BLAS vector-matrix product; an unseen item has
    rate 0, so recall 1, and each learner subtracts its unseen count instead of a mask pass.

    ``observe=False`` (the core maths) leaves out what Review-v0 also does each step: the
    observation and the app's per-item records, the study-time cost and the episode metrics in
    ``info``. ``observe=True`` adds the observation an agent receives, Review-v0's layout and
    values (:attr:`obs`, ``(B, 5N + 4)``: the days since each item's last review, its reviews,
    lapses, last grade and seen flag, then course progress, slot of the day, the step's grade and
    whether it was recalled), the leanest way we found: it is kept in one buffer updated in place,
    and lent to the caller without a copy (Review-v0 returns a new array every step). The record
    fields live in the buffer itself (one ``take`` and one indexed write of the reviewed item's
    four records per learner), the days since review reuse the knowledge pass's ``t - L``, and the
    buffer is feature-major over learners (``obs`` is its transpose, a view), so every block is a
    contiguous pass: written row by row into a ``(B, 5N + 4)`` array, NumPy's per-row overhead
    made the same writes several times slower.
    """

    def __init__(self, batch: int, n_items: int, seed: int = 0, slots_per_day: int = 10, n_days: int = 30,
                 slot_minutes: float = 3.0, forget_sd: float = 0.3, difficulty_sd: float = 1.0,
                 start_hour: float = 8.0, day_boundary_hour: float = 4.0, observe: bool = False):
        self.rng = np.random.default_rng(seed)
        self.batch, self.n_items, self.slots_per_day = batch, n_items, slots_per_day
        self.horizon = slots_per_day * n_days
        self.forget_sd, self.difficulty_sd = forget_sd, difficulty_sd
        self.slot_days = np.float32(slot_minutes / 1440.0)
        self.day_length = np.float32(1.0)  # Review-v0's default: the night makes the day 24 h
        self.day_offset = np.float32((start_hour - day_boundary_hour) / 24.0)
        self.decay = -W[20]
        self.factor = np.float32(0.9 ** (1.0 / self.decay) - 1.0)
        self.success_cum = np.cumsum(np.array([0.224, 0.631, 0.145], np.float32))[:-1]  # Hard | Good | Easy
        self.first_cum = np.cumsum(np.array([0.24, 0.094, 0.495, 0.171], np.float32))[:-1]  # Again .. Easy
        self.learners = np.arange(batch)  # flat index of each learner's item 0 (item-major)
        # Constants of the (S, D) update, as float32 scalars.
        w = W
        self.exp_w8, self.lapse_cap = np.exp(w[8]), np.exp(w[17] * w[18])
        self.d0_easy = np.float32(w[4] - np.exp(w[5] * 3.0) + 1.0)
        size = batch * n_items
        self.stability = np.empty(size, np.float32)
        self.difficulty = np.empty(size, np.float32)
        self.last_review = np.empty(size, np.float32)
        self.seen = np.empty(size, bool)
        self.rate = np.empty(size, np.float32)
        self.offset = np.empty(size, np.float32)
        self.buffer = np.empty((n_items, batch), np.float32)
        self.ones = np.ones(n_items, np.float32)
        self.observe = observe
        if observe:
            # obs_t[f * N + i, b]: feature f of item i (then the globals) of learner b.
            self.obs_t = np.empty((5 * n_items + 4, batch), np.float32)
            self.obs_flat = self.obs_t.reshape(-1)
            self.record_offsets = size * np.arange(1, 5)  # reviews, lapses, last grade, seen: after "since"
        self.reset()

    def items(self, values: np.ndarray) -> np.ndarray:
        """A flat per-item array as ``(B, N)`` (a view)."""
        return values.reshape(self.n_items, self.batch).T

    @property
    def obs(self) -> np.ndarray:
        """The observation of every learner, ``(B, 5N + 4)`` in Review-v0's layout (a view of the
        buffer the next step overwrites; ``observe=True`` only)."""
        return self.obs_t.T

    def reset(self):
        self.stability.fill(1.0)
        self.difficulty.fill(5.0)
        self.last_review.fill(0.0)
        self.seen.fill(False)
        self.rate.fill(0.0)
        self.offset[:] = self.difficulty_sd * self.rng.standard_normal(self.offset.size, np.float32)
        self.forget_mult = np.exp(self.forget_sd * self.rng.standard_normal(self.batch, np.float32))
        self.factor_mult = self.factor * self.forget_mult
        self.unseen = np.full(self.batch, self.n_items, np.float32)
        self.knowledge = np.zeros(self.batch, np.float32)
        self.step_count = 0
        if self.observe:
            self.obs_t.fill(0.0)  # Review-v0's first observation: nothing seen, step 0

    def time(self, step: int) -> np.float32:
        day, slot = divmod(step, self.slots_per_day)
        return np.float32(day * self.day_length + slot * self.slot_days)

    def step(self) -> np.ndarray:
        if self.step_count == self.horizon:
            self.reset()
        w, rng = W, self.rng
        self.actions = actions = rng.integers(0, self.n_items + 1, self.batch)  # item, or N to rest
        review = actions < self.n_items
        idx = np.minimum(actions, self.n_items - 1) * self.batch + self.learners
        now = self.time(self.step_count)

        s, d = self.stability.take(idx), self.difficulty.take(idx)
        last, seen = self.last_review.take(idx), self.seen.take(idx)
        elapsed = now - last
        recall = np.exp(self.decay * np.log(1.0 + self.factor_mult * elapsed / s))
        u = rng.random(self.batch, np.float32)
        success = 2 + (u / recall >= self.success_cum[0]) + (u / recall >= self.success_cum[1])
        first = 1 + (u >= self.first_cum[0]) + (u >= self.first_cum[1]) + (u >= self.first_cum[2])
        grade = np.where(seen, np.where(u < recall, success, 1), first).astype(np.float32)
        same_day = np.floor(now + self.day_offset) == np.floor(last + self.day_offset)

        # Long-term stability: recall (G >= 2) or lapse (G = 1); same-day: the short-term update.
        log_s = np.log(s)
        s_recall = s * (1.0 + self.exp_w8 * (11.0 - d) * np.exp(-w[9] * log_s) * (np.exp(w[10] * (1.0 - recall)) - 1.0)
                        * np.where(grade == 2, w[15], 1.0) * np.where(grade == 4, w[16], 1.0))
        s_lapse = np.minimum(w[11] * np.exp(-w[12] * np.log(d)) * (np.exp(w[13] * np.log1p(s)) - 1.0)
                             * np.exp(w[14] * (1.0 - recall)), s / self.lapse_cap)
        increase = np.exp(w[17] * (grade - 3.0 + w[18]) - w[19] * log_s)
        increase = np.where(grade >= 2, np.maximum(increase, 1.0), increase)
        s_new = np.where(same_day, np.maximum(s * increase, 0.001),
                         np.maximum(np.where(grade == 1, s_lapse, s_recall), 0.001))
        d_new = np.clip(w[7] * self.d0_easy + (1.0 - w[7]) * (d + (10.0 - d) * (-w[6] * (grade - 3.0)) / 9.0), 1.0, 10.0)
        # First exposure initialises (S, D), D with the item's offset.
        s_new = np.where(seen, s_new, w[grade.astype(np.intp) - 1])
        d_new = np.where(seen, d_new, np.clip(w[4] - np.exp(w[5] * (grade - 1.0)) + 1.0 + self.offset.take(idx),
                                              1.0, 10.0))

        # Write back (a resting learner writes back what it read).
        s_new = np.where(review, s_new, s)
        self.stability.put(idx, s_new)
        self.difficulty.put(idx, np.where(review, d_new, d))
        self.last_review.put(idx, np.where(review, now, last))
        self.seen.put(idx, seen | review)
        self.rate.put(idx, np.where(review, self.factor_mult / s_new, self.rate.take(idx)))
        self.unseen -= review & ~seen
        self.step_count += 1
        if self.observe:
            self._observe_records(idx, review, seen, grade)

        # Knowledge at the next slot: mean recall over all items, in place in one buffer.
        buf = self.buffer
        flat = buf.reshape(-1)
        np.subtract(self.time(self.step_count), self.last_review, out=flat)
        if self.observe:  # the days since each item's last review, 0 if unseen: (t - L) x seen
            np.multiply(buf, self.obs_t[4 * self.n_items:5 * self.n_items], out=self.obs_t[:self.n_items])
        flat *= self.rate
        flat += 1.0
        np.log(flat, out=flat)
        flat *= self.decay
        np.exp(flat, out=flat)
        knowledge = (self.ones @ buf - self.unseen) / np.float32(self.n_items)
        reward = knowledge - self.knowledge
        self.knowledge = knowledge
        return reward

    def _observe_records(self, idx, review, seen, grade):
        """The reviewed item's records (reviews, lapses, last grade, seen) and the globals, in the
        observation buffer (Review-v0's values; a resting learner's grade is 0)."""
        at = idx[:, None] + self.record_offsets
        records = self.obs_flat.take(at)
        records[:, 0] += review
        records[:, 1] += review & seen & (grade == 1)
        np.copyto(records[:, 2], grade, where=review)
        records[:, 3] = seen | review  # the seen flag, as written to self.seen above
        self.obs_flat[at] = records  # ~2x faster than np.put for a (B, 4) index
        step_grade = np.where(review, grade, np.float32(0.0))
        globals_ = self.obs_t[5 * self.n_items:]
        globals_[0] = self.step_count / self.horizon
        globals_[1] = (self.step_count % self.slots_per_day) / self.slots_per_day
        globals_[2] = step_grade
        globals_[3] = step_grade > 1


def prepare_numpy(batch: int, n_steps: int, observe: bool = False):
    env = NumpyReviewYardstick(batch, N_ITEMS, observe=observe)

    def run():
        env.reset()
        for _ in range(n_steps):
            env.step()

    run()  # warm-up
    return run, batch * n_steps


# ----------------------------------------------------------------------------------------------
# Gymnasium single env and SB3 VecEnv, with CartPole peers
# ----------------------------------------------------------------------------------------------


def prepare_gym(env, n_steps: int):
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(n_steps)]

    def run():
        env.reset(seed=0)
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()

    run()  # warm-up (compiles the jitted step for studygym)
    return run, n_steps


def prepare_vec_env(venv, n_steps: int):
    rng = np.random.default_rng(0)
    n_actions = venv.action_space.n
    actions = [rng.integers(0, n_actions, venv.num_envs) for _ in range(n_steps)]

    def run():
        venv.reset()
        for action in actions:
            venv.step(action)

    run()  # warm-up
    return run, venv.num_envs * n_steps


def adapter_rows(quick: bool, repeats: int, notes: list) -> list:
    """The Gymnasium single env and the SB3 VecEnv, each beside its CartPole peer."""
    import gymnasium

    rows = []
    gym_steps = 300 if quick else 3000
    runners = {"peer": prepare_gym(gymnasium.make("CartPole-v1"), gym_steps)}
    try:
        import studygym  # noqa: F401  (registers studygym/* with Gymnasium)

        runners["ours"] = prepare_gym(gymnasium.make("studygym/Review-v0", n_items=N_ITEMS), gym_steps)
    except Exception as exc:  # the adapter may not exist in this tree
        notes.append(f"gymnasium single env skipped: {type(exc).__name__}: {exc}")
    rate = steps_per_second(runners, repeats)
    rows.append(("gymnasium single env", rate.get("ours"), "CartPole-v1 (gymnasium.make)", rate["peer"]))
    print(rows[-1], flush=True)

    vec_steps = 30 if quick else 1000
    runners = {}
    try:
        from stable_baselines3.common.vec_env import DummyVecEnv

        cartpoles = DummyVecEnv([lambda: gymnasium.make("CartPole-v1")] * 64)
        runners["peer"] = prepare_vec_env(cartpoles, vec_steps)
    except Exception as exc:
        notes.append(f"SB3 DummyVecEnv peer skipped: {type(exc).__name__}: {exc}")
    try:
        from studygym.envs.gym import StudySB3VecEnv

        runners["ours"] = prepare_vec_env(StudySB3VecEnv("Review-v0", n_envs=64, seed=0, n_items=N_ITEMS), vec_steps)
    except Exception as exc:
        notes.append(f"SB3 VecEnv skipped: {type(exc).__name__}: {exc}")
    rate = steps_per_second(runners, repeats)
    rows.append(("SB3 VecEnv 64 envs", rate.get("ours"), "SB3 DummyVecEnv, 64 x CartPole-v1", rate.get("peer")))
    print(rows[-1], flush=True)

    return rows


def pin_to_one_core() -> None:
    """Pin this process to one CPU core, as ``taskset -c 0 python ...`` does; before JAX builds its
    thread pool, which then has one thread on that core."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def child_rows(mode: str, notes: list) -> list:
    """Rows measured in a fresh child process: the SB3 PPO rows (:func:`sb3_rows`) run one of the
    :data:`SB3_CHILD_MODES` ways, or the adapter rows run one of the :data:`CHILD_MODES` ways.

    ``default``: as JAX starts by default. ``sync``: JAX's CPU client runs each call on the
    calling thread (``jax.config.update("jax_cpu_enable_async_dispatch", False)`` before JAX
    starts). ``one-core`` and ``sb3-one-core``: the process is pinned to one CPU core
    (:func:`pin_to_one_core`). CartPole runs in the same child.
    """
    import json
    import subprocess

    if mode in ("one-core", "sb3-one-core") and not hasattr(os, "sched_setaffinity"):
        notes.append(f"{mode} rows skipped: no sched_setaffinity on this platform")
        return []
    out = subprocess.run([sys.executable, __file__, "--child", mode], capture_output=True, text=True)
    if out.returncode != 0:
        notes.append(f"{mode} rows failed: {out.stderr.strip().splitlines()[-1:]}")
        return []
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    suffix = CHILD_MODES.get(mode, "")  # the SB3 rows name their mode themselves
    return [(config + suffix, ours, peer_name, peer) for config, ours, peer_name, peer in rows]


# ----------------------------------------------------------------------------------------------
# SB3 PPO training on Review-v0 against the same PPO on CartPole-v1
# ----------------------------------------------------------------------------------------------

SB3_PPO = {"n_steps": 256, "batch_size": 256, "gamma": 0.995}  # the README's PPO settings
SB3_REPEATS = 3


def _zero_cost_vec_env_class():
    from stable_baselines3.common.vec_env import VecEnv

    class ZeroCostVecEnv(VecEnv):
        """An SB3 ``VecEnv`` with another env's spaces that costs (almost) nothing per step: uniform
        random observations and rewards from one NumPy generator, every episode ``length`` steps.
        Training on it times the agent alone with that env's observation and action sizes."""

        def __init__(self, like, n_envs: int, length: int, seed: int = 0):
            super().__init__(n_envs, like.observation_space, like.action_space)
            self.rng = np.random.default_rng(seed)
            self.length, self.t = length, 0
            self.shape = (n_envs, *like.observation_space.shape)

        def reset(self):
            self.t = 0
            return self.rng.random(self.shape, dtype=np.float32)

        def step_async(self, actions):
            pass

        def step_wait(self):
            self.t += 1
            obs = self.rng.random(self.shape, dtype=np.float32)
            done = np.full(self.num_envs, self.t % self.length == 0)
            infos = [{"terminal_observation": obs[i]} if d else {} for i, d in enumerate(done)]
            return obs, self.rng.random(self.num_envs, dtype=np.float32), done, infos

        def close(self):
            pass

        def get_attr(self, attr_name, indices=None):
            return [None] * self.num_envs

        def set_attr(self, attr_name, value, indices=None):
            pass

        def env_method(self, method_name, *method_args, indices=None, **method_kwargs):
            return [None] * self.num_envs

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * self.num_envs

    return ZeroCostVecEnv


def sb3_rows(quick: bool, suffix: str = "") -> list:
    """SB3 PPO (MlpPolicy, torch on 1 thread) training on Review-v0 against the same PPO on
    CartPole-v1, at 64 and 8 envs, timed in turns (best of :data:`SB3_REPEATS` ``learn`` calls
    each, after a warm-up call that compiles the env's jitted step). Review-v0 through the path the
    README recommends, ``make_sb3_vec_env(normalize=True, vec_normalize=True)``; CartPole-v1 through
    SB3's own ``make_vec_env`` and ``VecNormalize``, the wrapper a user adds for it. A third
    run trains the same PPO on a zero-cost VecEnv with Review-v0's spaces (:func:`_zero_cost_vec_env_class`):
    Review-v0 over it is the share of the agent's speed that the env keeps, and it against CartPole
    is what the larger observation and action space cost the agent itself. Run in a child process
    (:func:`child_rows`), as a training script runs; ``suffix`` names the child's mode in the rows."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    import studygym  # noqa: F401  (registers studygym/* with Gymnasium)
    from studygym.envs.gym import make_sb3_vec_env

    torch.set_num_threads(1)
    rows = []
    for n_envs in SB3_ENV_COUNTS[-1:] if quick else SB3_ENV_COUNTS:
        review = make_sb3_vec_env("Review-v0", n_envs=n_envs, seed=0, normalize=True, vec_normalize=True)
        horizon = int(review.venv.core.env.max_steps)
        zero = VecNormalize(_zero_cost_vec_env_class()(review.venv, n_envs, horizon), norm_obs=False,
                            gamma=SB3_PPO["gamma"])
        cartpole = VecNormalize(make_vec_env("CartPole-v1", n_envs=n_envs, seed=0), gamma=SB3_PPO["gamma"])
        rollout = n_envs * SB3_PPO["n_steps"]
        steps = rollout * (1 if quick else 2)
        runners = {}
        for name, venv in (("ours", review), ("zero", zero), ("peer", cartpole)):
            model = PPO("MlpPolicy", venv, seed=0, device="cpu", verbose=0, **SB3_PPO)
            model.learn(rollout)  # warm-up (compiles studygym's jitted step)
            runners[name] = (lambda model=model: model.learn(steps, reset_num_timesteps=False), steps)
        rate = steps_per_second(runners, 1 if quick else SB3_REPEATS)
        name = f"SB3 PPO, {n_envs} envs{suffix}"
        rows += [(name, rate["ours"], "same PPO on CartPole-v1 (make_vec_env)", rate["peer"]),
                 (f"{name}: Review-v0 vs zero-cost env", rate["ours"],
                  "same PPO on a zero-cost env with Review-v0's spaces", rate["zero"]),
                 (f"{name}: zero-cost env vs CartPole", rate["zero"],
                  "same PPO on CartPole-v1 (make_vec_env)", rate["peer"])]
    return rows


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def verdict(config: str, ours: float, peer: float | None) -> tuple[str, str]:
    if config not in TARGETS:
        return "-", "-"
    _, threshold = TARGETS[config]
    ratio = ours / peer if peer else float("nan")
    return f">= {threshold:g}x peer", "pass" if ratio >= threshold else "FAIL"


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1e6:,.2f}M" if x >= 1e6 else f"{x:,.0f}"


def table(rows) -> str:
    from studygym.markdown import markdown_table

    cells = []
    for config, ours, peer_name, peer in rows:
        if ours is None:
            cells.append([config, "skipped", "-", peer_name, fmt(peer), "-", "-", "-"])
            continue
        target, result = verdict(config, ours, peer)
        ratio = f"{ours / peer:.2f}x" if peer else "-"
        items = fmt(ours * N_ITEMS) if config.startswith(("jax", "gymnasium", "SB3 VecEnv")) else "-"
        cells.append([config, fmt(ours), items, peer_name, fmt(peer), ratio, target, result])
    return markdown_table(["config", "ours: env-steps/s", "ours: item-updates/s", "peer", "peer: steps/s", "ratio",
                           "target", "result"], cells, right=[False, True, True, False, True, True, False, False])


def summary(rows) -> str:
    """One line per target: the ratio, the target and whether it is met; then the :data:`REPORTED` ratios."""
    lines = []
    for config, ours, peer_name, peer in rows:
        if config in TARGETS and ours is not None and peer:
            target, result = verdict(config, ours, peer)
            lines.append(f"- **{config}** vs {peer_name}: **{ours / peer:.2f}x** (target {target}: {result})")
    for config, ours, peer_name, peer in rows:
        if config in REPORTED and ours is not None and peer:
            lines.append(f"- {config} vs {peer_name}: {ours / peer:.2f}x (reported beside the targets, no target)")
    return "\n".join(lines)


def median_table(paths) -> str:
    """Markdown: each targeted ratio (then each :data:`REPORTED` one) in every ``--json`` file given,
    their median and the target."""
    import json
    import statistics

    from studygym.markdown import table_lines

    runs = [json.loads(Path(p).read_text()) for p in paths]
    rows = []
    for config in (*TARGETS, *REPORTED):
        ratios = [next((r["ours"] / r["peer"] for r in run["rows"] if r["config"] == config and r["ours"] and r["peer"]),
                       None) for run in runs]
        if all(x is None for x in ratios):
            continue
        median = statistics.median([x for x in ratios if x is not None])
        rows.append([config, *("-" if x is None else f"{x:.2f}x" for x in ratios), f"{median:.2f}x",
                     f">= {TARGETS[config][1]:.3g}x" if config in TARGETS else "-"])
    head = ["ratio", *(f"run {i + 1}" for i in range(len(runs))), "median", "target"]
    loads = "; ".join(f"run {i + 1} finished {run['date']}, load {run['load_start']:.1f} -> {run['load_end']:.1f}"
                      for i, run in enumerate(runs))
    return "\n".join([*table_lines(head, rows, right=[False, *[True] * (len(runs) + 1), False]), "", f"_{loads}. Generated by `scripts/bench_throughput.py --medians "
                       f"{' '.join(Path(p).name for p in paths)}`._", ""])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps and small batches (CI smoke)")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "throughput.md"),
                        help="markdown file to write (default: results/bench/throughput.md)")
    parser.add_argument("--json", help="also write the rows as JSON to this file (for medians over runs)")
    parser.add_argument("--targets-only", action="store_true",
                        help="only the rows with a target or reported beside them (B = 1024 and 8192 against "
                             "NumPy, the brain learner, SB3 PPO against CartPole, also on one core): a shorter run "
                             "for repeating the ratios")
    parser.add_argument("--medians", nargs="+", metavar="JSON",
                        help="print the targeted ratios of these --json files of earlier runs and their median "
                             "(writes --out if given), then exit")
    parser.add_argument("--child", choices=sorted([*CHILD_MODES, *SB3_CHILD_MODES]),
                        help=argparse.SUPPRESS)  # internal: the child process of child_rows
    args = parser.parse_args(argv)
    if args.medians:
        text = median_table(args.medians)
        print(text)
        if "--out" in (argv if argv is not None else sys.argv[1:]):
            Path(args.out).write_text(text)
        return 0
    if args.child:
        import json

        if args.child in SB3_CHILD_MODES:
            if args.child == "sb3-one-core":
                pin_to_one_core()
            print(json.dumps(sb3_rows(False, SB3_CHILD_MODES[args.child])))
            return 0
        if args.child == "one-core":
            pin_to_one_core()
        elif args.child == "sync":
            import jax

            jax.config.update("jax_cpu_enable_async_dispatch", False)  # before JAX builds its CPU client
        print(json.dumps(adapter_rows(False, ADAPTER_REPEATS, [])))
        return 0

    import jax

    from studygym.machine import load_average, machine_description  # here: a child mode sets jax up first

    load = load_average()
    repeats = 3
    batches = (1, 64) if args.quick else TARGET_BATCHES if args.targets_only else (1, 64, *TARGET_BATCHES)
    rows, notes = [], []

    # Steps per timed call: whole 300-step episodes (the batch reset runs inside), sized so each
    # call lasts long enough to time; NumPy takes fewer (its per-step cost does not amortise).
    yardstick = "NumPy FSRS-6 yardstick"
    for batch in batches:
        jax_steps = 30 if args.quick else {1: 3000, 64: 3000, 1024: 600, 8192: 300}[batch]
        numpy_steps = 30 if args.quick else {1: 3000, 64: 1000, 1024: 200, 8192: 30}[batch]
        runners = {"ours": prepare_jax(batch, jax_steps), "peer": prepare_numpy(batch, numpy_steps),
                   "observed": prepare_numpy(batch, numpy_steps, observe=True),
                   "default keys": prepare_jax(batch, jax_steps, loop_keys="jax")}
        if batch == 8192:
            # The same 8192 envs in one call, run as 8 cache-sized groups of 1024 (see notes).
            runners["chunked"] = prepare_jax(batch, jax_steps, chunks=8)
        rate = steps_per_second(runners, repeats)
        rows.append((f"jax B={batch}", rate["ours"], yardstick, rate["peer"]))
        rows.append((f"jax B={batch}{OBSERVED_SUFFIX}", rate["ours"], f"{yardstick} + the observation",
                     rate["observed"]))
        rows.append((f"jax B={batch}{DEFAULT_KEYS_SUFFIX}", rate["default keys"], yardstick, rate["peer"]))
        if "chunked" in rate:
            rows.append((f"jax B={batch} as 8 x 1024", rate["chunked"], yardstick, rate["peer"]))
        print(*rows[-len(rate) + 1:], sep="\n", flush=True)
        if batch == TARGET_BATCHES[0]:
            # The brain learner (sleep, tags, interference) beside the FSRS learner, same run.
            rate = steps_per_second({"ours": prepare_jax(batch, jax_steps, learner="brain"),
                                     "peer": prepare_jax(batch, jax_steps)}, repeats)
            rows.append((f"jax B={batch}, brain learner", rate["ours"], "same env, FSRS learner", rate["peer"]))
            print(rows[-1], flush=True)

    if args.quick:
        rows += adapter_rows(args.quick, repeats, notes)
        rows += sb3_rows(args.quick)
    else:
        for mode in [*SB3_CHILD_MODES] if args.targets_only else [*CHILD_MODES, *SB3_CHILD_MODES]:
            rows += child_rows(mode, notes)

    load_end = load_average()
    header = (f"_Review-v0, N = {N_ITEMS} items, random actions; best of {repeats} timed runs after warm-up "
              f"({ADAPTER_REPEATS} for the adapter rows), ours and peer timed in turns. "
              f"Measured {dt.date.today().isoformat()} on {machine_description()} ("
              f"Python {platform.python_version()}, jax {jax.__version__}, "
              f"numpy {np.__version__}); load average {load:.1f} at start, {load_end:.1f} at end"
              f"{'; `--quick` run (short, noisy)' if args.quick else ''}"
              f"{'; `--targets-only` run' if args.targets_only else ''}. "
              f"Regenerate: `.venv/bin/python scripts/bench_throughput.py`._")
    body = "\n".join([header, "", "Ratios against the same-run peers:", "", summary(rows), "", table(rows)]
                     + (["", *[f"- {note}" for note in notes]] if notes else []))
    footnote = (
        "\n\n- Item-updates/s = env-steps/s x N: each step re-evaluates every item's recall probability."
        "\n- The NumPy yardstick (`NumpyReviewYardstick`) is the leanest NumPy we could write for the same "
        "per-step FSRS-6 maths (an item per learner, its review update, the recall of all items, the "
        "knowledge reward): float32, in place, flat item-major arrays, one gather and one scatter per "
        "array, recall rates kept per item, log + exp (NumPy's `power` is slower), per-learner sums by one "
        "vector-matrix product. It builds no observation and keeps no app records, while each Review-v0 "
        "step also writes a 504-float observation (2 KB per env) and the per-item reviews, lapses, grades "
        "and times. The targets are against it, as issue 21 set them."
        f"\n- \"{OBSERVED_SUFFIX[2:]}\" rows: the same Review-v0 run against the same yardstick also "
        "building the observation Review-v0 returns (`observe=True`: the same layout and values), the "
        "leanest way we found: one buffer updated in place and lent without a copy, the reviewed item's "
        "four records read and written once per learner, the days since review taken from the "
        "knowledge pass, every block a contiguous pass. Reported beside the targets, without one."
        "\n- Every JAX row is one jitted call: vmap(reset), then a scan of `AutoReset.step_batch`. "
        "The loop draws its random actions and per-env keys from `unrolled_keys(jax.random.key(0))`: "
        "jax's threefry numbers with the hash unrolled (on the CPU jax runs it as a loop of small kernels), "
        "as the yardstick draws from NumPy's fastest generator; the env's own draws use that hash with any "
        f"threefry key. \"{DEFAULT_KEYS_SUFFIX[2:]}\" rows: the same loop on `jax.random.key(0)`. "
        "\"as 8 x 1024\" runs the same 8192 envs as 8 groups of 1024 in that call (`lax.map`), so a group's "
        "state and observations stay in cache; at 8192 at once, each step streams ~40 MB through memory."
        "\n- The Gymnasium and SB3 rows are measured in fresh child processes, CartPole included, as a "
        f"training script runs them{' (in this process in a `--quick` run)' if args.quick else ''}. "
        "Each pays one jitted call plus host copies per Python step. XLA's CPU runtime runs a call's "
        "kernels on one thread only when no buffer exceeds 512 bytes (the single env keeps to that; "
        "the 64-env batch cannot) and otherwise spreads them over its thread pool; on a "
        "few-core VM waking a thread on another core costs more than the kernels, and by default "
        "(asynchronous dispatch) every call also hands the work to a pool thread and back. Suffixed rows: "
        "\"sync dispatch\" with `jax.config.update(\"jax_cpu_enable_async_dispatch\", False)` before JAX "
        "starts (each call runs on the calling thread), \"process on 1 core\" pinned to one core "
        "(`os.sched_setaffinity` before JAX starts, as `taskset -c 0 python ...` does)."
        f"\n- SB3 PPO: `PPO(\"MlpPolicy\", n_steps={SB3_PPO['n_steps']}, batch_size={SB3_PPO['batch_size']}, "
        f"gamma={SB3_PPO['gamma']})`, torch on 1 thread, at {' and '.join(map(str, SB3_ENV_COUNTS))} envs (64: the "
        "README's `make_sb3_vec_env` default and studygym/hyperparams/ppo.yml), default Review-v0 (30 items) "
        "through `make_sb3_vec_env(normalize=True, vec_normalize=True)` (the README's path) against CartPole-v1 "
        f"through `make_vec_env` + `VecNormalize`; best of {SB3_REPEATS} `learn` calls of 2 rollouts each, in "
        "turns, after a warm-up call, in a fresh child process; \"process on 1 core\" rows: that child pinned to "
        "one core, CartPole's PPO too (the README's advice for the SB3 VecEnv on a CPU with few cores). The "
        "\"zero-cost env\" rows train the same PPO "
        "on a VecEnv with Review-v0's spaces (154 observation floats, 31 actions) whose step only draws random "
        "numbers: Review-v0 over it is the share of the agent's speed the env leaves it; it over CartPole is "
        "what Review-v0's larger observation and action space cost the agent's own network. Between two "
        "env steps PPO runs torch for a few milliseconds, after which one jitted step of 8 envs took "
        "~800-900 us against ~350 us called back to back (2026-12-05, on the earlier CPU of "
        "results/bench/throughput_runs/README.md, with nothing else running): the compiled step's ~100 kernels "
        "start from a cold cache each time, a fixed cost per call that 64 envs share 8 times better. The adapter "
        "changes of commits 501b31b and de52de0 (fewer "
        "buffers and kernels per call) cut that step by about a fifth in same-run timings on a loaded machine "
        "(right after PPO-like torch work: 64 envs 905 -> 706 us, 8 envs 578 -> 433 us).")
    text = body + footnote + "\n"
    print()
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")
    if args.json:
        import json

        record = {"date": dt.datetime.now().isoformat(timespec="seconds"), "load_start": load, "load_end": load_end,
                  "rows": [{"config": c, "ours": o, "peer_name": n, "peer": p} for c, o, n, p in rows]}
        Path(args.json).write_text(json.dumps(record, indent=1))
    failed = any(verdict(c, o, p)[1] == "FAIL" for c, o, _, p in rows if o is not None)
    return 1 if failed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
