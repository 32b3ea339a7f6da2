"""Error-message helpers shared by every registry and checker: "did you mean" suggestions.

At the bottom of the package's import graph (it imports nothing of studygym), so envs, learners,
schedulers, agents and the CLI all use this one copy.
"""

from __future__ import annotations

import difflib
from typing import Iterable


def close_matches(name: str, known: Iterable[str], n: int = 3, cutoff: float = 0.4) -> list[str]:
    """Up to ``n`` names of ``known`` closest to ``name`` (``difflib`` ratio at least ``cutoff``)."""
    return difflib.get_close_matches(str(name), [str(k) for k in known], n=n, cutoff=cutoff)


def suggestion(close: Iterable[str], before: str = "; ", capitalize: bool = False) -> str:
    """``"; did you mean 'a', 'b'?"`` for the names in ``close``; ``""`` when there are none."""
    close = list(close)
    if not close:
        return ""
    return f"{before}{'Did' if capitalize else 'did'} you mean {', '.join(repr(c) for c in close)}?"


def did_you_mean(name: str, known: Iterable[str], *, n: int = 3, cutoff: float = 0.4, before: str = "; ",
                 capitalize: bool = False) -> str:
    """:func:`suggestion` of the :func:`close_matches` of ``name`` (``""`` if none is close)."""
    return suggestion(close_matches(name, known, n, cutoff), before, capitalize)


def unknown_names(names: Iterable[str], known: Iterable[str], *, n: int = 3, cutoff: float = 0.5) -> str:
    """``"'lr' (did you mean 'learning_rate'?), 'foo'"``: each unknown name with its closest known ones."""
    known = list(known)
    parts = []
    for name in names:
        close = close_matches(name, known, n, cutoff)
        parts.append(f"{name!r}" + (f" ({suggestion(close, before='')})" if close else ""))
    return ", ".join(parts)


__all__ = ["close_matches", "suggestion", "did_you_mean", "unknown_names"]
