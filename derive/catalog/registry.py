"""Catalog entries and the lookup of a derivation by its CLI name."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from .. import cache
from ..engine import Derivation
from ..errors import UnknownNameError, UsageError


@dataclass(frozen=True)
class Entry:
    """A catalog entry: its CLI name, its family, the function that derives it, and the
    names of the targets it promises (a contract the checker and the CLI rely on; the tests
    check that the derivation delivers exactly these)."""

    name: str
    family: str
    build: Callable[[], Derivation]
    targets: tuple[str, ...]
    #: a teacher's entry (derive.catalog.teacher): the hash of its own text, its disk-cache key, and its title
    key: str | None = None
    title: str | None = None
    titles: Mapping[str, str] = field(default_factory=dict)  # the title in another language (zh)


#: A teacher's entries, registered from catalog files (``--catalog``, a sheet's ``catalog``), by name.
_REGISTERED: dict[str, Entry] = {}


def builtin_entries() -> tuple[Entry, ...]:
    """The entries the package itself defines."""
    from . import ENTRIES

    return ENTRIES


def entries() -> tuple[Entry, ...]:
    """Every entry of the catalog, in the order the catalog lists them, then a teacher's registered ones
    (those of the files ``DERIVE_CATALOG`` lists too: how a worker process learns the command's catalog)."""
    from .teacher import load_environment

    load_environment()
    return (*builtin_entries(), *_REGISTERED.values())


def register(new: Iterable[Entry]) -> None:
    """Add a teacher's entries (see :mod:`derive.catalog.teacher`). The same entry again (same name and
    content key) is kept once; a name a built-in or another registered entry holds is refused."""
    new = tuple(new)
    builtin = {entry.name for entry in builtin_entries()}
    for entry in new:
        held = _REGISTERED.get(entry.name)
        if entry.name in builtin or (held is not None and held.key != entry.key):
            raise UsageError(f"catalog entry '{entry.name}' collides with "
                             f"{'a built-in' if entry.name in builtin else 'another catalog entry'} of that name")
    for entry in new:
        _REGISTERED[entry.name] = entry
    get.cache_clear()


def forget() -> None:
    """Drop every registered entry (a new command in the same process starts from the built-in catalog)."""
    _REGISTERED.clear()
    get.cache_clear()


@functools.cache
def get(name: str) -> Derivation:
    """The verified derivation called ``name`` (built once per process, and kept in the disk
    cache of verified derivations, see :mod:`derive.cache`).

    Raises:
        UnknownNameError: no entry has that name; the message suggests the closest one.
    """
    by_name = {entry.name: entry for entry in entries()}
    if name not in by_name:
        raise UnknownNameError("derivation", name, by_name)
    key = by_name[name].key
    derivation = cache.load(name, key)
    if derivation is None:
        derivation = by_name[name].build()
        cache.store(derivation, key)
    return derivation
