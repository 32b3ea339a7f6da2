"""Output files: nothing a user has is overwritten unless they ask (``--force``)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable


def check_writable(out_dir: str | Path, force: bool, names: Iterable[str]) -> None:
    """Raise ``FileExistsError`` naming the files in ``out_dir`` that would be overwritten (unless ``force``)."""
    existing = [str(Path(out_dir) / n) for n in names if (Path(out_dir) / n).exists()]
    if existing and not force:
        raise FileExistsError(f"would overwrite {', '.join(existing)}; pass --force (force=True) to replace them")
