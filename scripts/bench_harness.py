"""Harness speed: learner-episodes/s of ``evaluate``, and Deck-v0 card-days/s against fsrs-optimizer.

    .venv/bin/python scripts/bench_harness.py [--quick] [--out results/bench/harness.md]

Both sides run in this process, on the same settings, so the printed ratios are comparable even on
a noisy machine. Deck-v0: 64 learners batched (one jitted scan over days, vmapped over learners)
against fsrs-optimizer's NumPy ``simulate`` run for one learner (its only mode), at the same deck
size, horizon, desired retention and limits. Target: >= 20x its card-days/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np

from studygym.machine import machine_description
from studygym.markdown import table_lines


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_evaluate(n_learners: int, repeats: int) -> list[tuple[str, float]]:
    from studygym.evaluation.harness import evaluate, make_episode_fn, learner_keys
    from studygym.registry import make
    from studygym.evaluation.suites import policy_by_name

    rows = []
    env, params = make("Review-v0")
    for name in ("random", "fsrs", "oracle_greedy"):
        policy = policy_by_name(name, env)
        run = jax.jit(jax.vmap(make_episode_fn(env, params, policy)))
        keys = learner_keys(0, np.arange(n_learners))
        jax.block_until_ready(run(keys))  # compile
        seconds = best_of(lambda: jax.block_until_ready(run(keys)), repeats)
        rows.append((f"evaluate Review-v0, {name}, {n_learners} learners", n_learners / seconds))
    start = time.perf_counter()
    evaluate("fsrs", "Review-v0", n_learners=n_learners)
    rows.append((f"evaluate() end to end incl. compile, fsrs, {n_learners} learners",
                 n_learners / (time.perf_counter() - start)))
    return rows


def bench_deck(deck_size: int, n_days: int, n_learners: int, repeats: int) -> tuple[float, float]:
    from fsrs_optimizer import simulate

    from studygym.evaluation.harness import learner_keys, make_episode_fn
    from studygym.agents.policy import Constant
    from studygym.registry import make

    env, params = make("Deck-v0", deck_size=deck_size, n_days=n_days)
    run = jax.jit(jax.vmap(make_episode_fn(env, params, Constant(0.9, "dr_0.90"))))
    keys = learner_keys(0, np.arange(n_learners))
    jax.block_until_ready(run(keys))
    ours = best_of(lambda: jax.block_until_ready(run(keys)), repeats)
    ours_rate = n_learners * deck_size * n_days / ours
    w = np.asarray(params.learner.w, dtype=np.float64).tolist()

    def peer():
        simulate(w=w, request_retention=0.9, deck_size=deck_size, learn_span=n_days,
                 max_cost_perday=float(params.max_minutes_per_day) * 60.0, learn_limit_perday=env.config.new_per_day,
                 review_limit_perday=env.config.review_limit, seed=42)

    peer()
    peer_seconds = best_of(peer, repeats)
    return ours_rate, deck_size * n_days / peer_seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI smoke)")
    parser.add_argument("--out", default="results/bench/harness.md")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    n_learners = 64 if args.quick else 1000
    deck_size, n_days = (1000, 60) if args.quick else (10_000, 365)

    lines = [f"### Harness speed ({time.strftime('%Y-%m-%d')}, {machine_description()}, jax {jax.__version__})", "",
             ]
    rows = []
    for label, rate in bench_evaluate(n_learners, repeats):
        rows.append([label, f"{rate:,.0f} learner-episodes/s", "-", "-", "-"])
        print(rows[-1], flush=True)
    ours, peer = bench_deck(deck_size, n_days, 64, repeats)
    ratio = ours / peer
    rows.append([f"Deck-v0 {deck_size} cards x {n_days} days, 64 learners batched", f"{ours:,.0f} card-days/s",
                 f"fsrs-optimizer simulate: {peer:,.0f} card-days/s", f"{ratio:.1f}x",
                 f">= 20x {'(met)' if ratio >= 20 else '(NOT met)'}"])
    print(rows[-1], flush=True)
    lines += table_lines(["what", "ours", "peer (same run)", "ratio", "target"], rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
