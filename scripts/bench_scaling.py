"""Scaling: env-steps/s against devices and learners, cost against items and horizon, sweep wall time.

    .venv/bin/python scripts/bench_scaling.py [--quick] [--devices 1,2] [--out results/bench/scaling.md]

All in one run, so the numbers are comparable:

1. **Devices x learners**: whole Review-v0 episodes of the FSRS scheduler (the harness's jitted
   ``lax.scan`` vmapped over learners, learner batch split over devices by ``studygym.sharding``)
   for 1k..64k learners, on 1 and 2 devices. On a CPU the devices are forced host devices
   (``XLA_FLAGS=--xla_force_host_platform_device_count=N``, one subprocess per N, since the flag
   must be set before jax starts); on a GPU machine they are the GPUs.
2. **Cost against items and horizon**: seconds per learner-episode as the number of items and
   the number of days grow (1 device).
3. **Sweep**: wall time of the same small ``studygym sweep`` grid on a local Ray with 1 and with 2
   workers (Ray's start-up not counted; every cell compiles its own episode, as a real sweep does).

Timings are the best of ``repeats`` runs after one compiling run. Writes ``scaling.md`` and
``scaling.png`` next to ``--out``; ``--parts`` picks sections (``devices,cost,sweep``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

POLICY = "fsrs"
PARTS = ("devices", "cost", "sweep")  # the report's sections
BASE = {"n_items": 30, "n_days": 10}  # 100 steps per episode (10 slots a day)


def episode_seconds(n_learners: int, overrides: dict, repeats: int) -> tuple[float, int]:
    """Best seconds for ``n_learners`` whole episodes (batch split over every device); and steps each."""
    import jax
    import numpy as np

    from studygym.evaluation.harness import learner_keys, make_episode_fn
    from studygym.machine import best_seconds
    from studygym.registry import make
    from studygym.sharding import batch_mesh, pad_to_devices, shard_batch
    from studygym.evaluation.suites import policy_by_name

    env, params = make("Review-v0", **overrides)
    run = jax.jit(jax.vmap(make_episode_fn(env, params, policy_by_name(POLICY, env))))
    mesh = batch_mesh()
    keys = shard_batch(learner_keys(0, pad_to_devices(np.arange(n_learners), mesh)), mesh)
    jax.block_until_ready(run(keys))  # compile
    return best_seconds(lambda: jax.block_until_ready(run(keys)), repeats), env.max_steps


def worker(parts: list[str], learners: list[int], items: list[int], days: list[int], repeats: int) -> dict:
    """Runs inside a subprocess whose XLA_FLAGS fixed the device count."""
    import jax

    out = {"devices": jax.device_count(), "platform": jax.devices()[0].platform,
           "device_kind": jax.devices()[0].device_kind, "learners": {}, "items": {},
           "days": {}}
    if "devices" in parts:
        for n in learners:
            seconds, steps = episode_seconds(n, BASE, repeats)
            out["learners"][n] = n * steps / seconds
    if "cost" in parts:
        n = 4096
        for n_items in items:
            seconds, _ = episode_seconds(n, {**BASE, "n_items": n_items}, repeats)
            out["items"][n_items] = seconds / n
        for n_days in days:
            seconds, _ = episode_seconds(n, {**BASE, "n_days": n_days}, repeats)
            out["days"][n_days] = seconds / n
    return out


def run_worker(devices: int, args, parts: list[str]) -> dict:
    """One subprocess per device count: the forced-device flag must be set before jax starts."""
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false")
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    if args.platform == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
    else:  # the first `devices` GPUs
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(devices))
    command = [sys.executable, __file__, "--worker", ",".join(parts), "--learners", args.learners, "--items",
               args.items, "--days", args.days, "--repeats", str(args.repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_sweep(workers_list: list[int], learners: int) -> dict[int, float]:
    """Wall seconds of one small sweep (2 policies x 4 seeds) on a local Ray with each worker count."""
    import ray

    from studygym.evaluation.sweep import config_from_dict, run_sweep

    config = config_from_dict({"envs": ["Review-v0"], "policies": ["fsrs", "sm2"], "seeds": [0, 1, 2, 3],
                               "learners": learners, "overrides": BASE})
    wall = {}
    for workers in workers_list:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            # Warm the worker processes (Ray start-up and imports are not the sweep's cost).
            warm = ray.remote(num_cpus=1)(lambda: __import__("studygym.evaluation.harness") and 0)
            ray.get([warm.remote() for _ in range(workers)])
            wall[workers] = run_sweep(config, backend="ray").attrs["wall_seconds"]
        finally:
            ray.shutdown()
    return wall


def figure(results: dict, sweep: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    ax = axes[0]
    for devices, res in sorted(results.items()):
        if res["learners"]:
            xs = sorted(int(k) for k in res["learners"])
            ax.plot(xs, [res["learners"][str(x)] for x in xs], "o-", label=f"{devices} device(s)")
    ax.set(xscale="log", yscale="log", xlabel="learners (batch)", ylabel="env-steps/s",
           title="Throughput vs learners and devices")
    if results:
        ax.legend()
    one = results[min(results)] if results else {}
    for ax, key, label in ((axes[1], "items", "items per learner"), (axes[2], "days", "horizon (days, 10 steps/day)")):
        if one.get(key):
            xs = sorted(int(k) for k in one[key])
            ax.plot(xs, [one[key][str(x)] * 1e6 for x in xs], "o-")
        ax.set(xscale="log", yscale="log", xlabel=label, ylabel="µs per learner-episode",
               title=f"Cost vs {key} (4096 learners)")
    ax = axes[3]
    if sweep:
        ax.bar([str(w) for w in sweep], list(sweep.values()))
    ax.set(xlabel="Ray workers", ylabel="wall seconds", title="Sweep of 8 cells on local Ray")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cost_table(name: str, xs: list[int], costs: list[float]) -> list[str]:
    """Microseconds per learner-episode against ``name`` (items or days), with the log-log slope."""
    from studygym.markdown import table_lines

    return table_lines([name, *xs, "log-log slope"], [["µs", *(f"{c * 1e6:.1f}" for c in costs), f"{slope(xs, costs):.2f}"]])


def slope(xs: list[int], ys: list[float]) -> float:
    """Log-log slope: cost ~ x^slope."""
    import numpy as np

    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller points (a check, not a measurement)")
    parser.add_argument("--devices", default="1,2")
    parser.add_argument("--learners", default="1024,4096,16384,65536,262144")
    parser.add_argument("--items", default="10,30,100,300")
    parser.add_argument("--days", default="5,10,30,100")
    parser.add_argument("--workers", default="1,2", help="Ray worker counts for the sweep timing")
    parser.add_argument("--sweep-learners", type=int, default=1024)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--platform", default="cpu", choices=("cpu", "gpu"),
                        help="cpu: forced host devices; gpu: the first N GPUs")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default="results/bench/scaling.md")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    if args.quick:
        args.learners, args.items, args.days, args.sweep_learners = "256,1024", "10,30", "5,10", 64
    if args.worker is not None:
        print(json.dumps(worker(args.worker.split(","), ints(args.learners), ints(args.items), ints(args.days),
                                args.repeats)))
        return 0
    # here, after the worker branch: a worker sets its device count before jax loads (studygym imports jax)
    from studygym.machine import load_average, machine_description
    from studygym.markdown import table_lines

    parts = args.parts.split(",")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(PARTS)}")
    start, load_start = time.perf_counter(), load_average()
    results = {}
    for devices in ints(args.devices):
        worker_parts = [p for p in ("devices", "cost") if p in parts and (p == "devices" or devices == 1)]
        if worker_parts:
            results[devices] = run_worker(devices, args, worker_parts)
            print(f"{devices} device(s): {json.dumps(results[devices])}", flush=True)
    sweep = bench_sweep(ints(args.workers), args.sweep_learners) if "sweep" in parts else {}
    if sweep:
        print(f"sweep wall seconds by Ray workers: {sweep}", flush=True)

    first = next(iter(results.values())) if results else {}
    platform_name = first.get("platform", "cpu") + (f", {first['device_kind']}" if first.get("platform") == "gpu" else "")
    lines = [f"### Scaling ({machine_description()}, JAX platform {platform_name})", "",
             f"Review-v0 whole episodes of the `{POLICY}` scheduler ({BASE['n_items']} items, {BASE['n_days']} days "
             "x 10 slots = 100 steps unless varied); best of "
             f"{args.repeats} after compiling. Generated by `scripts/bench_scaling.py` in {time.perf_counter() - start:.0f} s "
             f"(load average at start {load_start:.1f}, at end {load_average():.1f}: timings on a shared machine "
             "are noisy).", ""]
    with_learners = {d: r for d, r in results.items() if r["learners"]}
    if with_learners:
        counts = sorted(with_learners)
        lines += ["**Env-steps/s against learners and devices** (the learner batch split over devices by "
                  "`studygym.sharding`; CPU devices are forced host devices, each a thread):", "",
                  ]
        header = ["learners", *(f"{d} device(s)" for d in counts)]
        header += [f"speed-up {counts[-1]} vs {counts[0]}"] if len(counts) > 1 else []
        rows = []
        for n in ints(args.learners):
            row = [with_learners[d]["learners"].get(str(n)) for d in counts]
            cells = [f"{n:,}", *(f"{v:,.0f}" if v else "-" for v in row)]
            if len(counts) > 1:
                cells.append(f"{row[-1] / row[0]:.2f}x" if row[0] and row[-1] else "-")
            rows.append(cells)
        lines += [*table_lines(header, rows), ""]
    one = results.get(min(results)) if results else None
    if one and one["items"]:
        items = sorted(int(k) for k in one["items"])
        days = sorted(int(k) for k in one["days"])
        item_costs = [one["items"][str(x)] for x in items]
        day_costs = [one["days"][str(x)] for x in days]
        lines += ["**Cost against items and horizon** (4,096 learners, 1 device; µs per learner-episode):", "",
                  *cost_table("items", items, item_costs), "", *cost_table("days", days, day_costs), ""]
    if sweep:
        w = sorted(sweep)
        lines += [f"**Sweep wall time** (2 policies x 4 seeds = 8 cells of {args.sweep_learners} learners, "
                  "local Ray, worker start-up excluded; each cell compiles its own episode):", "",
                  *table_lines(["Ray workers", *w], [["seconds", *(f"{sweep[x]:.1f}" for x in w)]]), ""]
        if len(w) > 1:
            lines += [f"Speed-up {w[-1]} vs {w[0]} workers: {sweep[w[0]] / sweep[w[-1]]:.2f}x.", ""]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    figure(results, sweep, out.with_suffix(".png"))
    print("\n".join(lines))
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
