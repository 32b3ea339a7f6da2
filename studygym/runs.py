"""A trained agent's run folder, shared by the JAX PPO (``agents/ppo.py``) and SB3 (``agents/sb3.py``) agents.

A run folder holds ``params.npz`` (the policy's arrays, no pickle), ``config.json`` (what trained it:
env, overrides, hyper-parameters, network), ``curve.csv`` (one row per point of the learning curve)
and ``learning_curve.png`` (:func:`plot_learning_curve`). Each agent decides what goes in its config
and arrays; this module writes and reads the curve and draws the figure, one copy for both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_curve(curve: dict, path: str | Path, index: str) -> None:
    """Write ``curve`` (name -> values, one per point) as CSV with ``index`` as the first column.

    If ``curve`` has an ``index`` entry (SB3's ``env_steps``) it is that column, else the column counts
    the points from 1 (PPO's ``update``). Index values are written as integers, the others as
    ``repr(float)`` (exact round trip, ``nan`` where no episode ended).
    """
    names = [n for n in curve if n != index]
    n_points = len(curve[index]) if index in curve else (len(curve[names[0]]) if names else 0)
    positions = curve[index] if index in curve else range(1, n_points + 1)
    rows = [",".join([index, *names])]
    for i, position in enumerate(positions):
        rows.append(",".join([str(int(position)), *(repr(float(curve[n][i])) for n in names)]))
    Path(path).write_text("\n".join(rows) + "\n")


def read_curve(path: str | Path) -> dict:
    """A curve written by :func:`write_curve`, without its index column: name -> float array."""
    path = Path(path)
    lines = path.read_text().strip().splitlines()
    names = lines[0].split(",")[1:]
    try:
        values = np.array([[float(x) for x in line.split(",")[1:]] for line in lines[1:]], np.float64)
    except ValueError as error:
        raise ValueError(f"{path}: not a learning curve of numbers ({error})") from None
    values = values.reshape(-1, len(names))
    return {n: values[:, i] for i, n in enumerate(names)}


def plot_learning_curve(curve: dict, path: str | Path, title: str) -> None:
    """Mean episode return (and final knowledge, if recorded) against env steps."""
    import matplotlib  # a few seconds to import: only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.asarray(curve["env_steps"])
    panels = [("episode_return", "mean episode return")]
    if np.isfinite(np.asarray(curve.get("knowledge_final", [np.nan]))).any() and \
            np.nanmax(np.abs(curve["knowledge_final"])) > 0:
        panels.append(("knowledge_final", "knowledge at the end (mean recall)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (name, label) in zip(axes[0], panels):
        values = np.asarray(curve[name])
        finite = np.isfinite(values)  # updates in which no episode ended have no return
        ax.plot(steps[finite], values[finite], marker="." if finite.sum() < 50 else None, lw=1.4)
        ax.set_xlabel("env steps")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["write_curve", "read_curve", "plot_learning_curve"]
