"""Output files: nothing a user has is overwritten unless they ask (``--force``)."""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np


def check_writable(out_dir: str | Path, force: bool, names: Iterable[str]) -> None:
    """Raise ``FileExistsError`` naming the files in ``out_dir`` that would be overwritten (unless
    ``force``), or ``OSError`` if ``out_dir`` is not a writable folder (:func:`check_out_dir`)."""
    check_out_dir(out_dir)
    existing = [str(Path(out_dir) / n) for n in names if (Path(out_dir) / n).exists()]
    if existing and not force:
        raise FileExistsError(f"would overwrite {', '.join(existing)}; pass --force (force=True) to replace them")


def check_out_dir(out_dir: str | Path) -> None:
    """Raise ``OSError`` naming ``out_dir`` if results could not be written there: it is a file, or
    neither it nor its nearest existing parent is a writable folder. Called before any work starts,
    so an unwritable ``--out`` fails in a second, not after the run."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write results to {out}: it exists and is not a folder")
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise NotADirectoryError(f"cannot write results to {out}: {probe} is a file, so the folder cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write results to {out}: {probe} is not writable")


def read_json(path: str | Path) -> object:
    """The JSON in ``path``; a missing file is ``FileNotFoundError`` and bad JSON a ``ValueError``,
    both naming the file (and the line)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read it ({error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None


def _finite_json(value):
    """``value`` with every non-finite float replaced by ``None`` (JSON has no NaN or inf)."""
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return _finite_json(value.tolist())
    if isinstance(value, np.generic):
        return _finite_json(value.item())
    return value


def dumps_json(value, **kwargs) -> str:
    """Strict JSON text of ``value``: a NaN or inf float is written as ``null`` (never a bare ``NaN``,
    which strict JSON readers reject)."""
    return json.dumps(_finite_json(value), allow_nan=False, **kwargs)


def write_json(path: str | Path, value, **kwargs) -> None:
    """Write :func:`dumps_json` of ``value`` to ``path`` (NaN/inf as ``null``)."""
    Path(path).write_text(dumps_json(value, **kwargs) + "\n")


def load_arrays(path: str | Path, *, finite: bool = True) -> dict:
    """The arrays of a ``.npz`` file (no pickle), or ``ValueError`` naming the file: missing,
    empty, not an npz, holding objects, or (``finite``) holding a NaN/inf value (naming the array)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ValueError("a single array, not an .npz archive")
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ValueError(f"{path}: not a readable .npz of arrays ({type(error).__name__}: {error})") from None
    if not arrays:
        raise ValueError(f"{path}: holds no arrays")
    for name, array in arrays.items():
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise ValueError(f"{path}: array {name!r} has dtype {array.dtype}, not numbers")
        if finite and np.issubdtype(array.dtype, np.inexact) and not np.all(np.isfinite(array)):
            raise ValueError(f"{path}: array {name!r} holds {int(np.sum(~np.isfinite(array)))} NaN/inf value(s)")
    return arrays
