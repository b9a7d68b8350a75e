"""Writing output files whole: each goes to a temporary file first and is renamed into place."""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .errors import UsageError


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    if not path.parent.is_dir():
        raise UsageError(f"cannot write '{path}': folder '{path.parent}' does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def output_folder(folder: str | Path) -> Path:
    """The output folder, created if missing; a path that is a file is an error."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"output folder '{folder}' is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create output folder '{folder}': {error.strerror}") from None
    return folder


def publish(files: Mapping[str, str], folder: Path) -> list[Path]:
    """Write several files into ``folder``, each whole; returns their paths in order."""
    return [write_atomic(folder / name, text) for name, text in files.items()]


def read_toml(path: Path) -> dict:
    """A TOML file's table; a missing, unreadable or malformed file is one-line UsageError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: TOML syntax: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read: {error}") from None
