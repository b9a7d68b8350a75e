"""A wheel of the running derive, built with the standard library (zipfile, hashlib).

An autograder installs derive from a wheel inside its zip. The wheel is built from the files
this process runs (the ``derive`` package and its templates, as :mod:`derive.render` finds
them) with the metadata of the installed distribution (name, version, dependencies, the
``derive`` command): no build backend, no network, the same bytes for the same files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path

#: a fixed time stamp for every entry (a zip cannot hold dates before 1980)
_STAMP = (1980, 1, 1, 0, 0, 0)
_SKIP = {"__pycache__", ".pytest_cache"}


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _files(folder: Path, prefix: str) -> list[tuple[str, bytes]]:
    """Every file under ``folder`` (compiled files and caches left out) as (name in the wheel, bytes)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not _SKIP & set(path.relative_to(folder).parts) and path.suffix != ".pyc":
            found.append((f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes()))
    return found


def _metadata(name: str, version: str) -> tuple[str, str]:
    """METADATA and entry_points.txt of the installed distribution (or a minimal one)."""
    try:
        distribution = metadata.distribution(name)
        requires = distribution.requires or []
        summary = distribution.metadata.get("Summary", "")
        python = distribution.metadata.get("Requires-Python", ">=3.11")
    except metadata.PackageNotFoundError:
        requires, summary, python = [], "", ">=3.11"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {summary}",
             f"Requires-Python: {python}", *(f"Requires-Dist: {requirement}" for requirement in requires)]
    return "\n".join(lines) + "\n", "[console_scripts]\nderive = derive.cli:main\n"


def build() -> tuple[str, bytes]:
    """The wheel's file name and bytes."""
    import derive
    from derive.render import package_templates

    name = "derive"
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        version = "0.0.0"
    package = Path(derive.__file__).parent
    files = _files(package, "derive")
    templates = package_templates()
    if templates.resolve() != (package / "templates").resolve():  # a source tree: templates beside the package
        files += _files(templates, "derive/templates")
    info = f"{name}-{version}.dist-info"
    meta, entry_points = _metadata(name, version)
    files += [(f"{info}/METADATA", meta.encode()), (f"{info}/entry_points.txt", entry_points.encode()),
              (f"{info}/WHEEL", (b"Wheel-Version: 1.0\nGenerator: derive.export.wheel\nRoot-Is-Purelib: true\n"
                                 b"Tag: py3-none-any\n"))]
    record = "".join(f"{path},{_digest(data)},{len(data)}\n" for path, data in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files:
            wheel.writestr(zipfile.ZipInfo(path, _STAMP), data, zipfile.ZIP_DEFLATED)
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()
