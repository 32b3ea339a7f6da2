"""The evaluation harness: every claim in studygym is made with :func:`evaluate`.

Whole episodes run as one jitted ``lax.scan``, vmapped over learners. **Common random numbers**:
learner ``j`` is built from the same key for every policy, and its step keys (which draw its
recall outcomes and grades) are the same too, so every policy meets the same simulated learners
with the same random streams and comparisons are paired. A learner's key depends on ``(seed, j)``
only, so results do not depend on ``n_learners`` or the batch size.

``evaluate`` returns a tidy DataFrame, one row per (policy, learner); :func:`summarize` gives means
with 95% bootstrap confidence intervals and paired differences against a reference policy.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from studygym.envs.core import check_positive_int, check_seed
from studygym.markdown import markdown_table
from studygym.policies import all_policies, policy_by_name
from studygym.registry import make
from studygym.sharding import batch_mesh, pad_to_devices, shard_batch

#: Per-episode metrics, read from the last step's ``info`` (``success_rate`` is derived).
METRICS = ("knowledge_final", "knowledge_auc", "retention_delayed", "reviews", "study_minutes", "success_rate",
           "episode_return")
#: Metrics where more is better (the others are costs).
HIGHER_IS_BETTER = {"knowledge_final": True, "knowledge_auc": True, "retention_delayed": True,
                    "success_rate": True, "reviews": False, "study_minutes": False, "episode_return": True}
COLUMNS = ("policy", "learner", *METRICS, "invalid_actions", "privileged", "failed", "failure")


def metrics_of(env) -> tuple[str, ...]:
    """The standard ``METRICS`` plus the env's own (``env.extra_metrics``: names of info keys that
    hold a per-episode value at the last step, e.g. Practice-v0's ``rt_final``)."""
    return METRICS + tuple(m for m in env.extra_metrics if m not in METRICS)


def resolve_policies(policies: Any, env) -> list:
    """Policy objects from names (``"all"``, ``"fsrs,sm2"``, a list of names or objects)."""
    if isinstance(policies, str):
        policies = ["all"] if policies == "all" else policies.split(",")
    resolved = []
    for policy in policies:
        if isinstance(policy, str):
            resolved.extend(all_policies(env) if policy == "all" else [policy_by_name(policy.strip(), env)])
        else:
            resolved.append(policy)
    names = [p.name for p in resolved]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"policy names must be unique, repeated: {duplicated}")
    return resolved


def learner_keys(seed: int, learners: np.ndarray) -> jax.Array:
    """Key of each learner: a function of (seed, learner index) only."""
    base = jax.random.key(seed)
    return jax.vmap(lambda j: jax.random.fold_in(base, j))(jnp.asarray(learners, jnp.uint32))


def make_episode_fn(env, params, policy) -> Callable:
    """``episode(learner_key) -> (metrics dict, knowledge curve (T,), invalid count, all finite)``."""
    privileged = bool(getattr(policy, "privileged", False))
    metric_keys = [m for m in metrics_of(env) if m not in ("success_rate", "episode_return")]

    def episode(key):
        key_reset, key_run, key_policy = jax.random.split(key, 3)
        obs, state = env.reset(key_reset, params)
        pstate = policy.init(jax.random.fold_in(key_policy, 0), params)

        def step(carry, t):
            obs, state, pstate = carry
            key_act = jax.random.fold_in(key_policy, t + 1)
            extra = (state,) if privileged else ()
            action, pstate = policy.act(key_act, pstate, obs, *extra)
            obs, state, reward, terminated, truncated, info = env.step(
                jax.random.fold_in(key_run, t), state, action, params)
            finite = jnp.isfinite(reward) & jnp.all(jnp.isfinite(obs))
            out = (info["knowledge"], info.get("invalid_action", jnp.bool_(False)), finite, reward)
            return (obs, state, pstate), (out, info)

        (_, _, _), ((curve, invalid, finite, rewards), infos) = jax.lax.scan(
            step, (obs, state, pstate), jnp.arange(env.max_steps))
        last = {k: infos[k][-1] for k in metric_keys if k in infos}
        last["episode_return"] = jnp.sum(rewards)  # the env's own objective (what agents are trained on)
        if "retrievals" in infos and "successes" in infos:
            retrievals = infos["retrievals"][-1]
            last["success_rate"] = jnp.where(retrievals > 0, infos["successes"][-1] / jnp.maximum(retrievals, 1),
                                             jnp.nan)
        finite_metrics = jnp.all(jnp.stack([jnp.isfinite(v) | (k == "success_rate") for k, v in last.items()]))
        return last, curve, jnp.sum(invalid), jnp.all(finite) & finite_metrics

    return episode


def _chunks(n: int, size: int) -> Iterable[np.ndarray]:
    for start in range(0, n, size):
        yield np.arange(start, min(start + size, n))


def evaluate(policies: Any, env_id: str, n_learners: int = 100, seed: int = 0, *, chunk_size: int = 256,
             progress: bool = False, curves: bool = True, **overrides) -> pd.DataFrame:
    """Evaluate policies on ``n_learners`` simulated learners of ``env_id`` (paired by learner).

    ``policies``: ``"all"``, comma-separated names, or a list of names / policy objects. A policy
    object may carry ``env_overrides`` (a dict) to run on a variant of the env (e.g. Deck-v0's
    built-in Anki SM-2 scheduler); its learners are still the same. Returns one row per
    (policy, learner) with the columns in ``COLUMNS``. A policy that raises, produces non-finite
    values or invalid actions is reported with ``failed=True`` and the reason in ``failure``, never
    dropped. With ``curves=True``, ``df.attrs["curves"]`` holds mean knowledge per step per policy;
    its ``day`` column is the course day (``step / steps_per_day``), not real days: on
    DeepTutor-*-v0 one course day is one 5-day session, on Deck-v0 and SSPMMC-DHP-v0 one step.
    Each chunk of learners is split over every local JAX device (``studygym.sharding``); results
    are identical whatever the device count.
    """
    check_positive_int("n_learners", n_learners)
    check_seed("seed", seed)
    check_positive_int("chunk_size", chunk_size)
    env, params = make(env_id, **overrides)
    policies = resolve_policies(policies, env)
    chunk = min(chunk_size, n_learners)
    mesh = batch_mesh()  # each chunk's learners are split over every local device (studygym.sharding)
    rows, curve_rows = [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(policies) * n_learners, desc=f"evaluate {env_id}", unit="learner")
    for policy in policies:
        env_overrides = dict(getattr(policy, "env_overrides", {}) or {})
        if env_overrides:
            p_env, p_params = make(env_id, **{**overrides, **env_overrides})
        else:
            p_env, p_params = env, params
        privileged = bool(getattr(policy, "privileged", False))
        failure = ""
        results = []
        try:
            run = jax.jit(jax.vmap(make_episode_fn(p_env, p_params, policy)))
            for learners in _chunks(n_learners, chunk):
                padded = pad_to_devices(learners, mesh, chunk)  # one shape: one compile
                out = jax.device_get(run(shard_batch(learner_keys(seed, padded), mesh)))
                results.append((learners, jax.tree.map(lambda x: x[: len(learners)], out)))
                if bar is not None:
                    bar.update(len(learners))
        except Exception as error:  # a policy that crashes is reported as failed, not dropped
            failure = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            if bar is not None:  # count the learners this policy will not run
                bar.update(n_learners - sum(len(r[0]) for r in results))
            results = []
        if failure:
            for j in range(n_learners):
                rows.append({"policy": policy.name, "learner": j, **{m: np.nan for m in metrics_of(env)},
                             "invalid_actions": 0, "privileged": privileged, "failed": True, "failure": failure})
            continue
        curve_sum = None
        for learners, (metrics, curve, invalid, finite) in results:
            curve_sum = curve.sum(0) if curve_sum is None else curve_sum + curve.sum(0)
            for i, j in enumerate(learners):
                reason = []
                if invalid[i] > 0:
                    reason.append(f"{int(invalid[i])} invalid actions")
                if not finite[i]:
                    reason.append("non-finite reward, observation or metric")
                rows.append({"policy": policy.name, "learner": int(j),
                             **{m: float(metrics[m][i]) if m in metrics else np.nan for m in metrics_of(env)},
                             "invalid_actions": int(invalid[i]), "privileged": privileged,
                             "failed": bool(reason), "failure": "; ".join(reason)})
        if curves:
            mean_curve = curve_sum / n_learners
            steps_per_day = p_env.steps_per_day
            curve_rows.extend({"policy": policy.name, "step": t + 1, "day": (t + 1) / steps_per_day,
                               "knowledge": float(k)} for t, k in enumerate(mean_curve))
    if bar is not None:
        bar.close()
    extra = [m for m in metrics_of(env) if m not in METRICS]
    df = pd.DataFrame(rows, columns=list(COLUMNS[:2 + len(METRICS)]) + extra + list(COLUMNS[2 + len(METRICS):]))
    df.attrs["env_id"] = env_id
    df.attrs["extra_metrics"] = tuple(extra)
    df.attrs["objective"] = env.objective
    df.attrs["seed"] = seed
    if curves:
        df.attrs["curves"] = pd.DataFrame(curve_rows, columns=["policy", "step", "day", "knowledge"])
    return df


# ----------------------------------------------------------------------------------------------
# Summaries: bootstrap CIs and paired differences
# ----------------------------------------------------------------------------------------------


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (NaNs ignored)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (n_boot, values.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    return float(np.percentile(means, tail)), float(np.percentile(means, 100.0 - tail))


def summarize(df: pd.DataFrame, reference: str | None = None, metrics: Sequence[str] | None = None,
              n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per policy: mean and 95% bootstrap CI of each metric (default: ``METRICS`` plus the
    env's extra metrics in ``df.attrs["extra_metrics"]``); with ``reference``, the paired difference
    (policy - reference, learner by learner) with its CI."""
    extra = tuple(df.attrs.get("extra_metrics", ())) if metrics is None else ()
    metrics = METRICS + extra if metrics is None else metrics
    policies = list(dict.fromkeys(df["policy"]))
    if reference is not None and reference not in policies:
        raise ValueError(f"reference policy {reference!r} is not among {policies}")
    ref = df[df["policy"] == reference].set_index("learner") if reference else None
    out = []
    for policy in policies:
        part = df[df["policy"] == policy]
        row = {"policy": policy, "learners": len(part), "privileged": bool(part["privileged"].any()),
               "failed": bool(part["failed"].any()),
               "failure": "; ".join(sorted(set(r for r in part["failure"] if r)))}
        for metric in metrics:
            values = part[metric].to_numpy(dtype=np.float64)
            row[metric] = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
            row[f"{metric}_lo"], row[f"{metric}_hi"] = bootstrap_ci(values, n_boot, seed)
            if ref is not None:
                paired = part.set_index("learner")[metric] - ref[metric].reindex(part["learner"]).to_numpy()
                row[f"{metric}_diff"] = float(np.nanmean(paired)) if np.isfinite(paired).any() else math.nan
                row[f"{metric}_diff_lo"], row[f"{metric}_diff_hi"] = bootstrap_ci(paired.to_numpy(), n_boot, seed)
        out.append(row)
    summary = pd.DataFrame(out)
    summary.attrs["reference"] = reference
    summary.attrs["extra_metrics"] = extra
    return summary


def headroom_share(df: pd.DataFrame, agent: str, baseline: str, planner: str, metric: str = "episode_return",
                   n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Share of the headroom an agent captures: ``(agent - baseline) / (planner - baseline)`` on the
    mean of ``metric``, with a paired percentile-bootstrap CI (learners resampled together, so each
    resample compares the three policies on the same learners). 1 = the agent reaches the planner,
    0 = no better than the baseline, < 0 = worse than it."""
    table = df.pivot_table(index="learner", columns="policy", values=metric)
    missing = [p for p in (agent, baseline, planner) if p not in table.columns]
    if missing:
        raise ValueError(f"headroom_share: no {metric} for {missing}")
    values = table[[agent, baseline, planner]].dropna().to_numpy(dtype=np.float64)
    if len(values) == 0:
        return math.nan, math.nan, math.nan

    def share(rows: np.ndarray) -> np.ndarray:
        a, b, p = rows[..., 0], rows[..., 1], rows[..., 2]
        gap = p - b
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(gap != 0, (a - b) / gap, np.nan)

    point = float(share(values.mean(0)))
    rng = np.random.default_rng(seed)
    boots = share(values[rng.integers(0, len(values), (n_boot, len(values)))].mean(1))
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return point, math.nan, math.nan
    tail = (1.0 - level) / 2.0 * 100.0
    return point, float(np.percentile(boots, tail)), float(np.percentile(boots, 100.0 - tail))


def leaderboard_markdown(summary: pd.DataFrame, sort_by: str = "episode_return",
                         metrics: Sequence[str] = ("episode_return", "retention_delayed", "knowledge_final",
                                                   "knowledge_auc", "reviews", "study_minutes", "success_rate"),
                         digits: int = 3) -> str:
    """A markdown leaderboard: policies sorted by ``sort_by`` (best first), mean [95% CI] per metric.

    Privileged policies (that read the hidden learner state) are listed after the baselines and
    marked; failed policies last, with the reason.
    """
    metrics = [*metrics, *(m for m in summary.attrs.get("extra_metrics", ()) if m not in metrics)]
    metrics = [m for m in metrics if m in summary.columns and summary[m].notna().any()]
    reference = summary.attrs.get("reference")
    descending = HIGHER_IS_BETTER.get(sort_by, True)
    ok = summary[~summary["failed"]]
    ranked = pd.concat([ok[~ok["privileged"]].sort_values(sort_by, ascending=not descending),
                        ok[ok["privileged"]].sort_values(sort_by, ascending=not descending)])
    header = ["rank", "policy", *metrics]
    if reference and f"{sort_by}_diff" in summary.columns:
        header.append(f"{sort_by} vs {reference} (paired)")
    rows = []
    rank = 0
    for _, row in ranked.iterrows():
        rank += not row["privileged"]
        cells = ["-" if row["privileged"] else str(rank),
                 f"{row['policy']}" + (" (privileged)" if row["privileged"] else "")]
        for metric in metrics:
            precision = 1 if metric in ("reviews", "study_minutes") else digits
            cells.append(f"{row[metric]:.{precision}f} [{row[f'{metric}_lo']:.{precision}f}, "
                         f"{row[f'{metric}_hi']:.{precision}f}]")
        if len(header) > len(cells):
            cells.append(f"{row[f'{sort_by}_diff']:+.{digits}f} [{row[f'{sort_by}_diff_lo']:+.{digits}f}, "
                         f"{row[f'{sort_by}_diff_hi']:+.{digits}f}]")
        rows.append(cells)
    for _, row in summary[summary["failed"]].iterrows():
        rows.append(["failed", row["policy"], row["failure"], *[""] * (len(header) - 3)])
    return markdown_table(header, rows) + "\n"


__all__ = ["evaluate", "summarize", "leaderboard_markdown", "headroom_share", "bootstrap_ci", "resolve_policies", "METRICS",
           "COLUMNS", "learner_keys", "make_episode_fn", "metrics_of"]
