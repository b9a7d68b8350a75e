"""Writing output files whole: each goes to a temporary file first and is renamed into place.

Files go where the user said and nowhere else: a name that comes from a spec is made a plain
file name (:func:`safe_stem`), every file written into a folder is checked to be a plain name
in it (:func:`publish`), an existing file keeps its mode, and a device, FIFO or symbolic link
is written through or refused, never replaced by a regular file. Every OS error is one line.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from .errors import UsageError

#: The longest file name stem made from a spec's name, in UTF-8 bytes (file systems allow 255).
MAX_STEM_BYTES = 120


def _shown(path) -> str:
    """A path as a message shows it: quoted, on one line whatever it contains."""
    return repr(str(path))


def _cannot(path, error: OSError) -> UsageError:
    return UsageError(f"cannot write {_shown(path)}: {error.strerror or error}")


def safe_stem(name: str, fallback: str = "derive") -> str:
    """A file name stem made from a name a spec chose: letters, digits, ``.``, ``_`` and ``-``
    only (anything else, a path separator included, becomes ``-``), no ``..``, no leading dot
    or dash, at most MAX_STEM_BYTES bytes; ``fallback`` if nothing is left."""
    stem = re.sub(r"\.{2,}", ".", re.sub(r"[^\w.-]+", "-", str(name)))
    stem = stem.encode("utf-8", "ignore")[:MAX_STEM_BYTES].decode("utf-8", "ignore")
    return stem.lstrip(".-").rstrip(".") or fallback


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` whole, through a temporary file in the same folder.

    An existing file keeps its mode (a new one gets the umask's); a symbolic link keeps
    pointing where it did and its target is replaced; a character device, a FIFO and whatever
    is reached through ``/dev`` or ``/proc`` (``/dev/null``, ``/dev/stdout``) is written through,
    appended to as it is open; a folder, a block device or a socket is refused.

    Raises:
        UsageError: one line, for each of those refusals and for every OS error.
    """
    if not str(path):
        raise UsageError("the output file name is empty")
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        status = None
        if path.is_symlink():
            raise UsageError(f"cannot write {_shown(path)}: a symbolic link to a missing file") from None
    except OSError as error:
        raise _cannot(path, error) from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise UsageError(f"cannot write {_shown(path)}: it is a folder")
    if status is not None and not (stat.S_ISREG(status.st_mode) or stat.S_ISCHR(status.st_mode)
                                   or stat.S_ISFIFO(status.st_mode)):
        raise UsageError(f"cannot write {_shown(path)}: not a regular file, a character device or a FIFO")
    if status is None and _system(path):
        raise UsageError(f"cannot write {_shown(path)}: no such device")
    if status is not None and (not stat.S_ISREG(status.st_mode) or _system(path)):
        return _write_through(path, data)
    target = Path(os.path.realpath(path)) if status is not None else path
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {_shown(path)}: folder {_shown(target.parent)} does not exist")
    temporary = None
    try:
        handle, temporary = _temporary(target.parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        if status is not None:
            os.chmod(temporary, stat.S_IMODE(status.st_mode))
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise _cannot(path, error) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return path


def refuse_overwrite(output: str | Path | None, *inputs: str | Path | None) -> None:
    """A UsageError when ``output`` is one of the ``inputs`` (the same regular file, by any path):
    ``export SPEC -o SPEC`` or ``grade --variants V -o V`` would replace what it reads."""
    if output is None or not str(output):
        return
    for given in inputs:
        try:
            if given is not None and str(given) != "-" and Path(given).is_file() and Path(output).is_file() \
                    and os.path.samefile(output, given):
                raise UsageError(f"cannot write {_shown(output)}: it is an input of this command (write the output "
                                 "to another file)")
        except OSError:
            continue


def _temporary(folder: Path) -> tuple[int, Path]:
    """A new hidden file in ``folder``, open for writing, with the umask's mode (as any new file)."""
    for _ in range(100):
        candidate = folder / f".derive-{secrets.token_hex(6)}.tmp"
        try:
            return os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def _system(path: Path) -> bool:
    """Whether ``path`` is reached through /dev or /proc (``/dev/stdout`` may be a shell's
    redirection to a regular file, which replacing would empty or cut loose)."""
    return os.path.abspath(path).startswith(("/dev/", "/proc/"))


def _write_through(path: Path, data: str | bytes) -> Path:
    """Write into a device, a FIFO or a file the shell opened, as it is: appended, never
    truncated or replaced (a FIFO nobody reads is an error, not a hang)."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        reason = "no process is reading the FIFO" if error.errno == errno.ENXIO else error.strerror
        raise UsageError(f"cannot write {_shown(path)}: {reason}") from None
    try:
        fcntl.fcntl(handle, fcntl.F_SETFL, fcntl.fcntl(handle, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as error:
        raise _cannot(path, error) from None
    return path


def output_folder(folder: str | Path) -> Path:
    """The output folder, created if missing; an empty name, or a path that is not a folder, is an error."""
    if not str(folder):
        raise UsageError("the output folder name is empty")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"output folder {_shown(folder)} is a file, not a folder") from None
    except OSError as error:
        raise UsageError(f"cannot create output folder {_shown(folder)}: {error.strerror or error}") from None
    return folder


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, checked to lie in ``folder``: ``name`` is a plain file name (no path
    separator, no leading dot) and, if it exists there, a regular file (not a link, a device,
    a FIFO or a folder)."""
    if not name or name != Path(name).name or name.startswith(".") or "\0" in name:
        raise UsageError(f"refusing to write {_shown(name)} into {_shown(folder)}: not a plain file name")
    path = folder / name
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return path
    except OSError as error:
        raise _cannot(path, error) from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"refusing to replace {_shown(path)}: it is not a regular file (a link, a device, "
                         "a FIFO or a folder)")
    return path


def publish(files: Mapping[str, str | bytes], folder: Path) -> list[Path]:
    """Write several files into ``folder``, each whole and each checked to lie in it (:func:`inside`);
    returns their paths in order."""
    return [write_atomic(inside(folder, name), data) for name, data in files.items()]


def read_limited(path: str | Path, cap: int, label: str | None = None, error: type = UsageError) -> bytes:
    """A regular file's bytes, at most ``cap`` and one read (a larger file is one error line).

    Raises:
        ``error`` (a UsageError class), its message starting with ``label`` (default: the path): no
        such file, a folder, not a regular file (a device such as ``/dev/zero``, a FIFO), unreadable,
        more than ``cap`` bytes.
    """
    path, label = Path(path), str(path) if label is None else label
    try:
        if path.is_dir():
            raise error(f"{label}: is a folder, not a file")
        if path.exists() and not path.is_file():
            raise error(f"{label}: not a regular file (a device or a FIFO)")
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except FileNotFoundError:
        raise error(f"{label}: no such file") from None
    except OSError as failure:
        raise error(f"{label}: cannot read: {failure.strerror or failure}") from None
    if len(data) > cap:
        raise error(f"{label}: more than {cap:,} bytes")
    return data


def read_toml(path: str | Path) -> dict:
    """A TOML file's table, read within the limits ``file.bytes`` and ``file.depth``.

    Raises:
        UsageError: one line for a missing or unreadable file, one that is not a regular file
            (a device such as ``/dev/zero``, a FIFO, a folder), TOML syntax, and (a LimitError)
            a file over ``file.bytes`` (at most that many bytes and one are read) or nested deeper
            than ``file.depth``.
    """
    from . import limits

    path = Path(path)
    cap = limits.value("file.bytes")
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise UsageError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    limits.check("file.bytes", max(len(data), status.st_size), str(path), "bytes in the file")
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: cannot read: not UTF-8 ({error.reason} at byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: TOML syntax: {error}") from None
    except ValueError:  # an integer of more digits than Python converts
        raise UsageError(f"{path}: cannot read: an integer with too many digits") from None
    except RecursionError:
        table = None
    most = limits.value("file.depth")
    if table is None or _depth(table, most) > most:
        limits.refuse("file.depth", f"{most + 1} or more levels", str(path), "nesting of arrays and tables")
    return table


def _depth(value, most: int) -> int:
    """How deeply arrays and tables nest in ``value`` (a table alone is 1); counting stops past ``most``."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= most:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
