"""Find the real SQLite collection inside any file current Anki writes (used by :func:`studygym.fitting.data.load_anki`).

Anki's exports (``.colpkg`` = whole collection, ``.apkg`` = deck package) are zip archives. What a
given Anki writes inside (Anki's ``rslib/src/import_export/package/meta.rs``, ``Version``):

==================  =========================  ==================================================
member              written by                 content
==================  =========================  ==================================================
collection.anki21b  Anki >= 2.1.50, default    the collection, SQLite compressed with zstd
                    ("legacy=False")           (frame magic ``28 b5 2f fd``); beside it a
                                               *placeholder* ``collection.anki2`` for old clients
collection.anki21   Anki 2.1.x, and newer      the collection, plain SQLite (schema 11)
                    with "Support older Anki
                    versions" ticked
collection.anki2    Anki 2.0 (and the          plain SQLite; in a modern export it is the
                    placeholder above)         placeholder
==================  =========================  ==================================================

The placeholder is a valid collection holding one note, "Please update to the latest Anki
version, then import the .colpkg/.apkg file again.", and an empty revlog. So members are tried
newest first (``anki21b``, ``anki21``, ``anki2``) and each is judged by its *content*: zstd frames
are decompressed whatever the member is called, the result must be SQLite, and a placeholder is
skipped. An archive holding only a placeholder, a truncated zip, a corrupt zstd stream or a member
that is not SQLite is a ``ValueError`` naming the file and the member. The ``zstandard`` package
(a runtime dependency) decompresses; the ``anki`` package is never needed to read a file.
"""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from pathlib import Path

import zstandard  # a declared dependency: modern Anki exports (collection.anki21b) are zstd-compressed

#: Collection members of an Anki export, tried first to last (newest format first).
COLLECTION_MEMBERS = ("collection.anki21b", "collection.anki21", "collection.anki2")
SQLITE_MAGIC = b"SQLite format 3\x00"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGIC = b"PK\x03\x04"
#: The text of the one note in the placeholder ``collection.anki2`` a modern export carries.
PLACEHOLDER_TEXT = "Please update to the latest Anki version"


def _write_collection(source, target: Path, where: str) -> None:
    """Copy an open binary stream to ``target``, decompressing zstd; check the result is SQLite."""
    head = source.read(4)
    if head == ZSTD_MAGIC:
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        try:
            data = decompressor.decompress(head + source.read())
        except zstandard.ZstdError as error:
            raise ValueError(f"{where}: corrupt zstd-compressed collection ({error})") from None
        if not decompressor.eof:
            raise ValueError(f"{where}: truncated zstd-compressed collection (the stream ends mid-frame)")
        with open(target, "wb") as out:
            out.write(data)
    else:
        with open(target, "wb") as out:
            out.write(head)
            shutil.copyfileobj(source, out)
    with open(target, "rb") as handle:
        magic = handle.read(16)
    if magic != SQLITE_MAGIC:
        what = "zstd data that does not decompress to" if head == ZSTD_MAGIC else "neither zstd nor"
        raise ValueError(f"{where}: {what} an SQLite collection (starts with {magic[:8]!r})")


def is_placeholder(collection: Path) -> bool:
    """True for the stub ``collection.anki2`` a modern export carries: no reviews, and a note asking
    the user to update Anki."""
    try:
        connection = sqlite3.connect(f"file:{collection}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        if connection.execute("SELECT count(*) FROM revlog").fetchone()[0]:
            return False
        fields = connection.execute("SELECT flds FROM notes LIMIT 2").fetchall()
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()
    return len(fields) == 1 and PLACEHOLDER_TEXT in str(fields[0][0])


def extract_collection(path: str | Path, folder: str | Path) -> tuple[Path, str]:
    """Write the real SQLite collection of the Anki file ``path`` into ``folder``.

    ``path`` is a ``.colpkg``/``.apkg`` zip or a bare collection (``.anki2``, ``.anki21``, or a
    zstd ``.anki21b``). Returns the SQLite file and a description naming ``path`` (and the member
    used) for error messages. Nothing is written next to ``path``.
    """
    path, folder = Path(path), Path(folder)
    with open(path, "rb") as handle:
        magic = handle.read(16)
    if magic.startswith(ZIP_MAGIC) or zipfile.is_zipfile(path):
        return _from_archive(path, folder)
    if not (magic == SQLITE_MAGIC or magic.startswith(ZSTD_MAGIC)):
        raise ValueError(f"{path}: neither a zip (.colpkg/.apkg) nor an SQLite (or zstd-compressed "
                         f".anki21b) Anki collection")
    target = folder / "collection.sqlite"
    with open(path, "rb") as source:
        _write_collection(source, target, str(path))
    if is_placeholder(target):
        raise ValueError(f"{path}: this is the placeholder collection a modern Anki export carries "
                         f"for old clients ({PLACEHOLDER_TEXT!r}), with no reviews; load the "
                         f".colpkg/.apkg itself")
    return target, str(path)


def _from_archive(path: Path, folder: Path) -> tuple[Path, str]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{path}: not a readable zip (truncated or corrupt Anki export?): {error}") from None
    with archive:
        names = set(archive.namelist())
        present = [name for name in COLLECTION_MEMBERS if name in names]
        if not present:
            raise ValueError(f"{path}: the zip holds no Anki collection ({', '.join(COLLECTION_MEMBERS)}); "
                             f"found {sorted(names)[:5]}")
        placeholders = []
        for index, name in enumerate(present):
            where = f"{path} ({name})"
            target = folder / f"{index}-{name}.sqlite"
            try:
                with archive.open(name) as source:
                    _write_collection(source, target, where)
            except (zipfile.BadZipFile, EOFError, OSError) as error:
                raise ValueError(f"{where}: cannot be read from the zip (truncated or corrupt export?): "
                                 f"{error}") from None
            if is_placeholder(target):
                placeholders.append(name)
                continue
            return target, where
    raise ValueError(f"{path}: holds only the placeholder collection ({', '.join(placeholders)}: "
                     f"{PLACEHOLDER_TEXT!r}) that modern Anki writes for old clients; the real "
                     f"collection.anki21b is missing, so the export is incomplete")
