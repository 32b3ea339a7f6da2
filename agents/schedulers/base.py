"""What every classic scheduler shares: reading the observation, learning from grades, due logic.

A scheduler sees only what a real app records (the Review-v0 observation). It remembers which
item it showed at the previous step; at the next ``act`` the observation carries that review's
grade (``last_step_grade``), and the scheduler updates its own estimate for the item then, as a
real app updates a card when the answer button is pressed.

Two clocks are used, as the apps do:

- ``days_since_review`` (real, fractional days) feeds memory models (FSRS retrievability, HLR,
  MEMORIZE), which are continuous in time.
- Calendar days (whole days between the study sessions in which an item was shown) decide when an
  item with an interval of one day or more is due, as Anki and SuperMemo count due dates. With
  fractional days an item shown in the last slot of a session would only come due in the last slot
  of the session ``interval`` days later (or, with float rounding, a day late). Intervals shorter
  than a day (Pimsleur's first steps, HLR) use real time.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from studygym.envs.core import Array, check_range, feature_columns, pytree_dataclass, split_item_obs

#: The per-item features a classic scheduler reads, by name (``env.item_features``).
ITEM_COLUMNS = ("days_since_review", "reviews", "lapses", "last_grade", "seen")
#: Review-v0's globals; a classic scheduler reads these two of them, by name (``env.global_features``).
GLOBAL_COLUMNS = ("progress", "slot_of_day", "last_step_grade", "last_step_recalled")
VIEW_GLOBALS = ("progress", "last_step_grade")


@pytree_dataclass
class ObsView:
    """The Review-v0 observation, split into named per-item and global features."""

    days_since_review: Array  # (N,) float32 real days since each item's last review (0 if unseen)
    reviews: Array  # (N,) float32 reviews so far
    lapses: Array  # (N,) float32 failed recalls of seen items
    last_grade: Array  # (N,) int32 0 unseen, 1 Again .. 4 Easy
    seen: Array  # (N,) bool
    last_step_grade: Array  # () int32 grade at the previous step (0 = rest)
    today: Array  # () int32 calendar day of the course (0-based)


@pytree_dataclass
class ReviewEvent:
    """One observed review of an item, as the scheduler saw it when it chose the item."""

    grade: Array  # () int32 1 Again .. 4 Easy
    first: Array  # () bool: the item was unseen (this was its first study)
    elapsed_days: Array  # () float32 real days since its previous review (0 if first)
    calendar_days: Array  # () int32 calendar days since its previous review (0 if first or same day)
    calendar_elapsed: Array  # () float32 the same in real days (calendar_days x the env's day length)
    today: Array  # () int32 the day of the review


@pytree_dataclass
class SchedulerState:
    """A classic scheduler's memory: its per-item estimates and the item it showed last step."""

    items: Any  # pytree of (N,) arrays: the scheduler's own per-item estimates
    last_day: Array  # (N,) int32 calendar day each item was last shown (0 if never)
    shown: Array  # () int32 item shown at the previous step (N = rested / nothing yet)
    shown_elapsed: Array  # () float32 its days_since_review when chosen
    shown_calendar: Array  # () int32 calendar days since its previous showing, when chosen
    shown_first: Array  # () bool: it was unseen when chosen


def check_kwarg(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """Validate one numeric scheduler setting (ValueError naming it), return it as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"{name} must be a number, got {value!r}")
    check_range(name, value, low, high, low_open=low_open, high_open=high_open)
    return float(value)


def check_int_kwarg(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def first_true(mask: Array) -> Array:
    """Index of the first True in ``mask`` (0 if none; check ``mask.any()`` separately)."""
    return jnp.argmax(mask)


def argmax_where(mask: Array, score: Array) -> Array:
    """Index of the largest ``score`` among ``mask`` (ties: lowest index)."""
    return jnp.argmax(jnp.where(mask, score, -jnp.inf))


class ObsScheduler:
    """Base for schedulers that act on the Review-v0 observation (a real app's view), read by name:
    the env must declare :data:`ITEM_COLUMNS` among its ``item_features`` and ``progress`` and
    ``last_step_grade`` among its ``global_features``."""

    name = "scheduler"
    privileged = False

    def __init__(self, env: Any):
        # Columns by name from the env's declared contract (ValueError naming the env and any
        # missing name): envs built on Review-v0 (Sleep, Tagging, Curriculum, DeepTutor) may add
        # features anywhere, and a scheduler still reads the ones it needs.
        user = f"classic scheduler {type(self).__name__}"
        item_columns = feature_columns(env, ITEM_COLUMNS, block="item", user=user)
        global_columns = feature_columns(env, VIEW_GLOBALS, block="global", user=user)
        n_items, n_item_features, _ = env.obs_layout
        self.n_items = int(n_items)
        self.n_item_features = int(n_item_features)
        self.item_columns = dict(zip(ITEM_COLUMNS, item_columns))
        self.global_columns = dict(zip(VIEW_GLOBALS, global_columns))
        self.slots_per_day = int(env.config.slots_per_day)
        self.max_steps = int(env.max_steps)
        # An app day is one study session; it lasts one real day except where the env says otherwise
        # (DeepTutor-*: one session every 5 days). Memory models get elapsed time in real days.
        self.day_days = float(np.max(np.asarray(env.day_length(env.default_params))))

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({settings})"

    def settings(self) -> dict:
        """The scheduler's configurable settings (for reports)."""
        return {}

    def view(self, obs: Array) -> ObsView:
        n = self.n_items
        obs = jnp.asarray(obs, jnp.float32)
        items, glob = split_item_obs(obs, (n, self.n_item_features, 0))
        col = {c: items[:, i] for c, i in self.item_columns.items()}
        g = {c: glob[i] for c, i in self.global_columns.items()}
        # The step counter is exactly progress * max_steps (an integer) up to float32 rounding.
        step = jnp.round(g["progress"] * self.max_steps).astype(jnp.int32)
        return ObsView(
            days_since_review=col["days_since_review"],
            reviews=col["reviews"],
            lapses=col["lapses"],
            last_grade=jnp.round(col["last_grade"]).astype(jnp.int32),
            seen=col["seen"] > 0.5,
            last_step_grade=jnp.round(g["last_step_grade"]).astype(jnp.int32),
            today=step // self.slots_per_day,
        )


class ItemScheduler(ObsScheduler):
    """A scheduler with its own per-item estimates, updated from the grades it observes.

    Subclasses define ``init_items(n)`` (a pytree of ``(n,)`` arrays), ``update_item(est, event)``
    (the estimate of one item after one observed review; ``est`` holds scalars) and
    ``select(key, items, view, state) -> (action, items)``.
    """

    def init_items(self, n_items: int) -> Any:
        raise NotImplementedError

    def update_item(self, est: Any, event: ReviewEvent) -> Any:
        raise NotImplementedError

    def select(self, key: Array, items: Any, view: ObsView, state: SchedulerState) -> tuple[Array, Any]:
        raise NotImplementedError

    def init(self, key: Array, env_params: Any) -> SchedulerState:
        n = self.n_items
        return SchedulerState(
            items=self.init_items(n),
            last_day=jnp.zeros(n, jnp.int32),
            shown=jnp.int32(n),
            shown_elapsed=jnp.float32(0.0),
            shown_calendar=jnp.int32(0),
            shown_first=jnp.bool_(False),
        )

    def observe(self, pstate: SchedulerState, view: ObsView) -> SchedulerState:
        """Update the estimate of the item shown last step with the grade it got."""
        n = self.n_items
        item = jnp.clip(pstate.shown, 0, n - 1)
        reviewed = (pstate.shown < n) & (view.last_step_grade > 0)
        event = ReviewEvent(
            grade=jnp.clip(view.last_step_grade, 1, 4),
            first=pstate.shown_first,
            elapsed_days=pstate.shown_elapsed,
            calendar_days=pstate.shown_calendar,
            calendar_elapsed=pstate.shown_calendar.astype(jnp.float32) * self.day_days,
            today=view.today,
        )
        before = jax.tree.map(lambda a: a[item], pstate.items)
        after = self.update_item(before, event)
        items = jax.tree.map(lambda a, new: a.at[item].set(jnp.where(reviewed, new, a[item]).astype(a.dtype)),
                             pstate.items, after)
        return pstate.replace(items=items)

    def act(self, key: Array, pstate: SchedulerState, obs: Array) -> tuple[Array, SchedulerState]:
        view = self.view(obs)
        pstate = self.observe(pstate, view)
        action, items = self.select(key, pstate.items, view, pstate)
        action = jnp.asarray(action, jnp.int32)
        n = self.n_items
        item = jnp.clip(action, 0, n - 1)
        shows = action < n
        calendar = jnp.where(view.seen[item], view.today - pstate.last_day[item], 0)
        pstate = pstate.replace(
            items=items,
            last_day=pstate.last_day.at[item].set(jnp.where(shows, view.today, pstate.last_day[item])),
            shown=action,
            shown_elapsed=jnp.where(shows, view.days_since_review[item], 0.0),
            shown_calendar=jnp.where(shows, calendar, 0).astype(jnp.int32),
            shown_first=shows & ~view.seen[item],
        )
        return action, pstate


def introduce_or_rest(view: ObsView, n_items: int) -> Array:
    """The lowest-index unseen item, or rest (``n_items``) when every item has been introduced."""
    unseen = ~view.seen
    return jnp.where(unseen.any(), first_true(unseen), n_items).astype(jnp.int32)


class IntervalScheduler(ItemScheduler):
    """A scheduler that gives each item an interval in days; ``items.interval`` holds it.

    In this slot-based env it reviews the most overdue due item (due: the interval has elapsed;
    most overdue: largest ``days_since_review / interval``), else introduces the lowest-index
    unseen item, else rests. Intervals of a day or more count calendar days (rounded to whole
    days, at least 1); shorter ones count real time. There is no daily quota of new items (Anki's
    "new cards per day"): when due reviews fill every slot, new items wait.
    """

    def due(self, items: Any, view: ObsView, state: SchedulerState) -> Array:
        interval = items.interval
        calendar = view.today - state.last_day
        whole_days = jnp.maximum(jnp.round(interval), 1.0)
        # Below half a day, real time; from half a day on, whole calendar days (so Pimsleur's
        # 0.99-day step is due at the next session, not at the slot 0.99 real days later).
        due = jnp.where(interval < 0.5, view.days_since_review >= interval, calendar >= whole_days)
        return view.seen & due

    def select(self, key: Array, items: Any, view: ObsView, state: SchedulerState) -> tuple[Array, Any]:
        due = self.due(items, view, state)
        overdue = view.days_since_review / jnp.maximum(items.interval, 1e-6)
        action = jnp.where(due.any(), argmax_where(due, overdue), introduce_or_rest(view, self.n_items))
        return action.astype(jnp.int32), items

