"""Pictures of an episode: the learner as the tutor sees it and as it really is.

- :func:`snapshot`: host-side numbers of one moment (per item: hidden recall now, stability, due;
  what the app records: days since the last review, last grade; the clock, sleep, budget, info).
- :class:`Renderer`: draws a snapshot as an ``H x W x 3`` ``uint8`` image with matplotlib's Agg
  canvas. The figure and its bars are built once and updated in place, so a frame costs a few
  tens of milliseconds (fast enough for video capture).
- :func:`ansi_table`: the same snapshot as a readable text table (``render_mode="ansi"``).
- :func:`write_gif`: save frames as a GIF. ``studygym.cli.render`` records a policy's episode with
  them (``studygym render Review-v0 --policy fsrs --out run.gif``; :func:`~studygym.cli.render.record_episode`).

"Due" is where the learner's stability says recall falls to 90%: ``last review + S`` (FSRS's
definition of stability S, also the brain learner's); learners without a stability (EFC, HLR,
DASH, ...) show recall only.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

RENDER_MODES = ("ansi", "rgb_array", "human")
#: Frames per second of a saved animation and of ``metadata["render_fps"]``.
RENDER_FPS = 4
#: Items drawn at most (a 10,000-card deck shows its first ones).
MAX_DRAWN_ITEMS = 100
#: Frame size in pixels (width, height).
FRAME_SIZE = (800, 480)

GRADE_COLOURS = {0: "#bbbbbb", 1: "#d62728", 2: "#ff7f0e", 3: "#2ca02c", 4: "#1f77b4"}
GRADE_NAMES = {0: "unseen", 1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


def _np(x) -> np.ndarray:
    return np.asarray(x)


def _scalar(x) -> float:
    return float(np.asarray(x).reshape(-1)[0]) if np.size(x) else float("nan")


def snapshot(env, state, params, obs=None, info: dict | None = None, action: Any = None,
             reward: Any = None) -> dict:
    """What a frame shows, as numpy values (no JAX types), for env ``state`` under ``params``.

    Keys: ``env_id``, ``step``, ``max_steps``, ``day``/``slot`` (when the env has daily slots),
    ``time_days``, ``asleep`` (Sleep-v0), ``budget_left`` (Tagging-v0), ``items`` (a dict of
    per-item arrays: ``recall``, ``stability``, ``due_in``, ``last_grade``, ``days_since``,
    ``reviews``, ``seen``; only those the env has), ``n_items``, ``features`` (the observation's
    global features by name), ``info`` (scalar info values), ``action``, ``reward``.
    """
    snap: dict[str, Any] = {"env_id": getattr(env, "id", "") or type(env).__name__, "action": action,
                            "reward": None if reward is None else float(np.asarray(reward)),
                            "max_steps": int(env.max_steps)}
    step = getattr(state, "step", None)
    snap["step"] = None if step is None else int(_np(step))
    cfg = getattr(env, "config", None)
    slots = getattr(cfg, "slots_per_day", None)
    if step is not None and isinstance(slots, int):
        snap["day"], snap["slot"] = divmod(int(_np(step)), slots)
    now = None
    if step is not None and hasattr(env, "time"):
        now = env.time(step, params)
        snap["time_days"] = _scalar(now)
        snap["horizon_days"] = _scalar(env.time(np.int32(env.max_steps), params))
    if hasattr(state, "asleep_until") and step is not None:
        snap["asleep"] = bool(int(_np(state.asleep_until)) > int(_np(step)))
    if hasattr(state, "budget_left"):
        snap["budget_left"] = int(_np(state.budget_left))
    items: dict[str, np.ndarray] = {}
    learner, lstate = getattr(env, "learner", None), getattr(state, "learner", None)
    if now is not None and lstate is not None and hasattr(learner, "recall_prob") and hasattr(params, "learner"):
        recall = _np(learner.recall_prob(lstate, now, params.learner))
        if recall.ndim == 1:
            items["recall"] = recall.astype(np.float64)
            stability = getattr(lstate, "stability", None)
            last_review = getattr(lstate, "last_review", None)
            if stability is not None and np.shape(stability) == recall.shape:
                items["stability"] = _np(stability).astype(np.float64)
                if last_review is not None:
                    items["due_in"] = _np(last_review) + items["stability"] - _scalar(now)
    layout = getattr(env, "obs_layout", None)
    if obs is not None and layout is not None:
        n, f = int(layout[0]), int(layout[1])
        flat = _np(obs).reshape(-1)
        blocks = flat[: n * f].reshape(f, n)
        by_name = dict(zip(env.item_features, blocks))
        for ours, theirs in (("days_since", "days_since_review"), ("reviews", "reviews"),
                             ("last_grade", "last_grade"), ("seen", "seen")):
            if theirs in by_name:
                items[ours] = by_name[theirs].astype(np.float64)
        snap["features"] = dict(zip(env.global_features, flat[n * f:].astype(np.float64).tolist()))
    elif obs is not None:
        snap["features"] = dict(zip(env.global_features, _np(obs).reshape(-1).astype(np.float64).tolist()))
    if "seen" in items and "recall" in items:  # an unseen item has no stability or due date yet
        unseen = items["seen"] <= 0
        for key in ("stability", "due_in"):
            if key in items:
                items[key] = np.where(unseen, np.nan, items[key])
    snap["items"] = items
    snap["n_items"] = max((len(v) for v in items.values()), default=0)
    snap["info"] = {k: float(np.asarray(v)) for k, v in (info or {}).items() if np.ndim(v) == 0}
    return snap


def _header(snap: dict) -> str:
    parts = [snap["env_id"]]
    if snap.get("step") is not None:
        parts.append(f"step {snap['step']}/{snap['max_steps']}")
    if "day" in snap:
        parts.append(f"day {snap['day'] + 1} slot {snap['slot'] + 1}")
    if "time_days" in snap:
        parts.append(f"t = {snap['time_days']:.2f} d")
    if "asleep" in snap:
        parts.append("asleep" if snap["asleep"] else "awake")
    if "budget_left" in snap:
        parts.append(f"budget left {snap['budget_left']}")
    return "  |  ".join(parts)


def _footer(snap: dict) -> str:
    parts = []
    if "knowledge" in snap["info"]:
        parts.append(f"knowledge {snap['info']['knowledge']:.3f}")
    if snap.get("action") is not None:
        parts.append(f"action {np.asarray(snap['action']).tolist()}")
    if snap.get("reward") is not None:
        parts.append(f"reward {snap['reward']:+.4f}")
    for key in ("study_minutes", "reviews"):
        if key in snap["info"]:
            parts.append(f"{key} {snap['info'][key]:.4g}")
    return "  |  ".join(parts)


def ansi_table(snap: dict, max_rows: int = 40) -> str:
    """A readable text table of a snapshot: a header line, then one row per item."""
    lines = [_header(snap)]
    footer = _footer(snap)
    if footer:
        lines.append(footer)
    items = snap["items"]
    columns = [("recall", "recall now*", "{:.3f}"), ("stability", "stability d*", "{:.2f}"),
               ("due_in", "due in d*", "{:+.2f}"), ("days_since", "days since", "{:.2f}"),
               ("reviews", "reviews", "{:.0f}"), ("last_grade", "last grade", None)]
    columns = [c for c in columns if c[0] in items]
    if columns:
        widths = [max(len(title), 8) for _, title, _ in columns]
        lines.append("item  " + "  ".join(t.rjust(w) for (_, t, _), w in zip(columns, widths)))
        for i in range(min(snap["n_items"], max_rows)):
            cells = []
            for (key, _, fmt), w in zip(columns, widths):
                value = items[key][i]
                if fmt is None:
                    text = GRADE_NAMES.get(int(value), str(value))
                else:
                    text = "-" if not np.isfinite(value) else fmt.format(value)
                cells.append(text.rjust(w))
            lines.append(f"{i:4d}  " + "  ".join(cells))
        if snap["n_items"] > max_rows:
            lines.append(f"... {snap['n_items'] - max_rows} more items")
        lines.append("* hidden from the tutor (the learner as it really is)")
    elif snap.get("features"):
        lines.extend(f"{k:>24s}  {v:.4g}" for k, v in snap["features"].items())
    return "\n".join(lines)


class Renderer:
    """Draws snapshots of one env as ``uint8`` RGB frames with matplotlib's Agg canvas.

    The axes, ticks and titles are drawn once (fixed limits: recall 0-1, days up to the course's
    length) and kept as a background; each frame restores it and draws only the changing artists
    (one collection of bars per row, and the text), so a frame costs milliseconds, not a redraw.
    """

    def __init__(self, env, size: tuple[int, int] = FRAME_SIZE, dpi: int = 80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.env = env
        self.size = size
        self.fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self._built = None  # the layout the figure was built for (per-item rows, or features)

    @staticmethod
    def _rects(heights: np.ndarray, base: float = 0.0, horizontal: bool = False) -> list:
        h = np.asarray(heights, np.float64)
        i = np.arange(h.size, dtype=np.float64)
        lo, hi = i - 0.4, i + 0.4
        b = np.full_like(h, base)
        if horizontal:
            return np.stack([np.stack([b, lo], 1), np.stack([h, lo], 1), np.stack([h, hi], 1),
                             np.stack([b, hi], 1)], 1)
        return np.stack([np.stack([lo, b], 1), np.stack([lo, h], 1), np.stack([hi, h], 1),
                         np.stack([hi, b], 1)], 1)

    def _build(self, snap: dict) -> None:
        from matplotlib.collections import PolyCollection

        fig = self.fig
        fig.clear()
        animated = []
        self._header = fig.text(0.01, 0.975, "", fontsize=10, va="top", family="monospace")
        self._footer = fig.text(0.01, 0.01, "", fontsize=9, va="bottom", family="monospace")
        animated += [self._header, self._footer]
        items = snap["items"]
        n = min(snap["n_items"], MAX_DRAWN_ITEMS)
        horizon = max(1.0, float(snap.get("horizon_days", snap["max_steps"])))
        self._rows = {}
        if n:
            rows = [key for key in ("recall", "stability", "days_since") if key in items]
            axes = fig.subplots(len(rows), 1, sharex=True, squeeze=False)[:, 0]
            fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.1, hspace=0.45)
            for ax, key in zip(axes, rows):
                bars = PolyCollection(self._rects(np.zeros(n)), facecolors="#bbbbbb", edgecolors="none")
                ax.add_collection(bars, autolim=False)
                extra = None
                ax.set_xlim(-0.7, n - 0.3)
                if key == "recall":
                    ax.set_ylim(0, 1)
                    ax.axhline(0.9, color="k", lw=0.6, ls=":")
                    ax.set_title("the learner as it really is: recall probability now", fontsize=9, loc="left")
                elif key == "stability":
                    ax.set_yscale("symlog", linthresh=1.0)
                    ax.set_ylim(-horizon, 10.0 * horizon)
                    ax.axhline(0.0, color="k", lw=0.6)
                    extra = ax.scatter(np.arange(n), np.zeros(n), s=14, marker="v", color="k", zorder=3)
                    animated.append(extra)
                    ax.set_title("hidden: stability in days (bars) and due in days (v; below 0 = overdue)",
                                 fontsize=9, loc="left")
                else:
                    ax.set_ylim(0, horizon)
                    ax.set_title("the tutor sees: days since last review, coloured by last grade "
                                 "(grey unseen, red Again, orange Hard, green Good, blue Easy)", fontsize=9,
                                 loc="left")
                ax.tick_params(labelsize=7)
                animated.append(bars)
                self._rows[key] = (ax, bars, extra)
            axes[-1].set_xlabel("item" + (f" (first {n} of {snap['n_items']})" if snap["n_items"] > n else ""),
                                fontsize=8)
            self._built = ("items", n)
        else:
            names = list(snap.get("features", {}))
            ax = fig.subplots(1, 1)
            fig.subplots_adjust(left=0.3, right=0.95, top=0.88, bottom=0.12)
            bars = PolyCollection(self._rects(np.zeros(len(names)), horizontal=True), facecolors="#1f77b4",
                                  edgecolors="none")
            ax.add_collection(bars, autolim=False)
            ax.set_yticks(np.arange(len(names)), names, fontsize=8)
            ax.set_ylim(-0.7, len(names) - 0.3)
            space = self.env.observation_space()
            high = np.asarray(getattr(space, "high", np.ones(len(names))), np.float64).reshape(-1)
            finite = high[np.isfinite(high)]
            ax.set_xlim(0, float(np.max(finite)) * 1.05 if finite.size else 1.0)
            ax.set_title("observation (what the tutor sees)", fontsize=9, loc="left")
            animated.append(bars)
            self._rows["features"] = (ax, bars, None)
            self._built = ("features", len(names))
        for artist in animated:
            artist.set_animated(True)
        self._animated = animated
        self.canvas.draw()  # everything static, once
        self._background = self.canvas.copy_from_bbox(fig.bbox)

    def frame(self, snap: dict) -> np.ndarray:
        """The snapshot as an ``(H, W, 3)`` ``uint8`` image."""
        import matplotlib

        n = min(snap["n_items"], MAX_DRAWN_ITEMS)
        wanted = ("items", n) if n else ("features", len(snap.get("features", {})))
        if self._built != wanted:
            self._build(snap)
        self._header.set_text(_header(snap))
        self._footer.set_text(_footer(snap))
        items = snap["items"]
        grades = np.nan_to_num(items.get("last_grade", np.zeros(n))[:n]).astype(int)
        for key, (ax, bars, extra) in self._rows.items():
            if key == "features":
                values = np.nan_to_num(np.asarray(list(snap.get("features", {}).values()), np.float64))
                bars.set_verts(self._rects(values, horizontal=True))
                continue
            values = np.nan_to_num(items[key][:n], nan=0.0, posinf=0.0)
            if key == "recall":
                bars.set_verts(self._rects(values))
                bars.set_facecolors(matplotlib.colormaps["viridis"](np.clip(values, 0, 1)))
            elif key == "stability":
                bars.set_verts(self._rects(values))
                due = items.get("due_in")
                shown = np.full(n, np.nan) if due is None else np.where(np.isfinite(due[:n]), due[:n], np.nan)
                extra.set_offsets(np.column_stack([np.arange(n), shown]))
            else:
                top = ax.get_ylim()[1]
                seen = items.get("seen", values)[:n] > 0
                # An item reviewed this step is 0 days old: a stub keeps its grade's colour visible.
                bars.set_verts(self._rects(np.where(seen, np.maximum(values, 0.02 * top), values)))
                bars.set_facecolors([GRADE_COLOURS.get(g, "#bbbbbb") for g in grades])
        self.canvas.restore_region(self._background)
        for artist in self._animated:
            self.fig.draw_artist(artist)
        image = np.asarray(self.canvas.buffer_rgba())[..., :3]
        return np.array(image)  # a copy: the canvas buffer is reused by the next frame

    def close(self) -> None:
        self.fig.clear()
        self._built = None


# ----------------------------------------------------------------------------------------------
# Human mode: a matplotlib window
# ----------------------------------------------------------------------------------------------


def has_display() -> tuple[bool, str]:
    """Whether a matplotlib window can open here, and why not."""
    import matplotlib

    backend = matplotlib.get_backend().lower()
    if backend in ("agg", "pdf", "ps", "svg", "cairo", "template") or backend.endswith("inline"):
        return False, f"matplotlib's backend is {backend!r} (non-interactive)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    return True, ""


class HumanWindow:
    """Shows frames in a matplotlib window; where none can open, warns once and shows nothing."""

    def __init__(self, title: str):
        self.title = title
        self._window = None
        self._image = None
        self.available, self.reason = has_display()
        self._warned = False

    def show(self, image: np.ndarray) -> None:
        if not self.available:
            if not self._warned:
                warnings.warn(f"render_mode='human' cannot open a window: {self.reason}; nothing is shown. "
                              "Use render_mode='rgb_array' (frames) or 'ansi' (text), or "
                              "`studygym render ENV --out run.gif`.", RuntimeWarning, stacklevel=3)
                self._warned = True
            return
        import matplotlib.pyplot as plt

        if self._window is None:
            self._window = plt.figure(self.title)
            ax = self._window.add_axes([0, 0, 1, 1])
            ax.axis("off")
            self._image = ax.imshow(image)
            plt.show(block=False)
        else:
            self._image.set_data(image)
        self._window.canvas.draw_idle()
        plt.pause(1.0 / RENDER_FPS)

    def close(self) -> None:
        if self._window is not None:
            import matplotlib.pyplot as plt

            plt.close(self._window)
            self._window = None


# ----------------------------------------------------------------------------------------------
# Episodes as animations
# ----------------------------------------------------------------------------------------------


def write_gif(frames: list[np.ndarray], out: str | Path, fps: int = RENDER_FPS, *, force: bool = False) -> Path:
    """Save ``frames`` (``uint8`` HxWx3) as a looping GIF; refuses to overwrite ``out`` unless ``force``."""
    from PIL import Image

    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"would overwrite {out}; pass --force (force=True) to replace it")
    if not frames:
        raise ValueError("write_gif needs at least one frame")
    images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    out.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out, save_all=True, append_images=images[1:], duration=int(round(1000 / fps)), loop=0,
                   optimize=False)
    return out


__all__ = ["snapshot", "Renderer", "ansi_table", "write_gif", "HumanWindow", "RENDER_MODES", "RENDER_FPS"]
