"""Catalog entries and the lookup of a derivation by its CLI name."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from .. import cache
from ..engine import Derivation
from ..errors import UnknownNameError


@dataclass(frozen=True)
class Entry:
    """A catalog entry: its CLI name, its family, the function that derives it, and the
    names of the targets it promises (a contract the checker and the CLI rely on; the tests
    check that the derivation delivers exactly these)."""

    name: str
    family: str
    build: Callable[[], Derivation]
    targets: tuple[str, ...]


def entries() -> tuple[Entry, ...]:
    """Every entry of the catalog, in the order the catalog lists them."""
    from . import ENTRIES

    return ENTRIES


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
    derivation = cache.load(name)
    if derivation is None:
        derivation = by_name[name].build()
        cache.store(derivation)
    return derivation
