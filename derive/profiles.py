"""Notation profiles: how a document writes the catalog's quantities, as data.

A profile is a TOML file ``templates/notation/NAME.toml`` (a ``--template-dir`` folder's
``notation/`` is searched first). Each table is a quantity's ``key`` and gives its ``latex``
and ``text``; ``only`` limits it to some catalog entries or families, for a key that means
something else elsewhere (``L`` is the loss in mlp-backprop, the number of layers in mlp-cost):

```toml
description = "the course's answer sheets"

[n_in]
latex = 'M_{l-1}'
text = "M_(l-1)"

[L]
latex = '\\mathcal{L}'
only = ["mlp-backprop", "softmax-ce"]
```

A document is written in one profile (:func:`apply`, before anything is printed); a key the
profile does not name keeps the catalog's own notation, and a worked problem (a network, a
backprop spec, a built-in example) keeps the names its spec gives. The checker reads every
shipped profile's names (:func:`written_forms`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .engine import Derivation
from .errors import UsageError
from .notation import Quantity

DEFAULT = "course"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_FIELDS = {"latex": str, "text": str, "only": list}
#: The TeX commands a profile's LaTeX may use: notation, never a command that reads, writes or redefines.
_COMMANDS = frozenset({
    "mathbb", "mathcal", "mathrm", "mathit", "mathbf", "mathsf", "operatorname", "text", "frac", "partial",
    "hat", "widehat", "tilde", "bar", "nabla", "ell", "cdot", "sum", "prod", "max", "min", "left", "right",
    "prime", "top", "mid", "lvert", "rvert", "vert", "alpha", "beta", "gamma", "delta", "epsilon",
    "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi",
    "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
    "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
})
_COMMAND = re.compile(r"\\([A-Za-z]+|.?)")


class NotationError(UsageError):
    """A notation profile that does not exist or cannot be used; the message names it and the choices."""


@dataclass(frozen=True)
class Written:
    """How a profile writes one quantity: ``latex`` and ``text`` (``None``: the catalog's), and
    ``only``, the catalog entries or families it applies to (``None``: all)."""

    latex: str | None
    text: str | None
    only: frozenset[str] | None


@dataclass(frozen=True)
class Profile:
    """A notation profile: its name, its file, what it is for, and its names by quantity key."""

    name: str
    path: Path
    description: str
    names: dict[str, Written]

    def written(self, quantity: Quantity, derivation: Derivation) -> Written | None:
        """How this profile writes ``quantity`` of ``derivation``; ``None`` where it does not say
        (a key it does not name, an ``only`` that leaves the derivation out, a worked problem)."""
        entry = self.names.get(quantity.key)
        if entry is None or derivation.family not in _catalog_families():
            return None
        if entry.only is not None and not entry.only & {derivation.name, derivation.family}:
            return None
        return entry

    def dress(self, quantity: Quantity, derivation: Derivation) -> Quantity:
        """``quantity`` written the profile's way (itself where the profile does not say)."""
        entry = self.written(quantity, derivation)
        if entry is None:
            return quantity
        return replace(quantity, latex=entry.latex or quantity.latex, text=entry.text or quantity.text)


def _folders(template_dir: str | None) -> list[Path]:
    from .render import package_templates  # late: render imports this module

    return [*([Path(template_dir) / "notation"] if template_dir else []), package_templates() / "notation"]


def choices(template_dir: str | None = None) -> list[str]:
    """The names of the profiles there are: the shipped ones and a template folder's."""
    found = {path.stem for folder in _folders(template_dir) if folder.is_dir()
             for path in folder.glob("*.toml") if _NAME.fullmatch(path.stem)}
    return sorted(found)


@functools.cache
def load(name: str = DEFAULT, template_dir: str | None = None) -> Profile:
    """The profile called ``name``, read and checked whole.

    Raises:
        NotationError: one line naming the profile (or its file, field and key) and the choices,
            for an unknown name, a name that is not a plain word, or a file that is not a
            valid profile.
    """
    known = ", ".join(choices(template_dir))
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = str(name)[:80]
        raise NotationError(f"notation profile {shown!r} is not a profile name (choose one of: {known})")
    for folder in _folders(template_dir):
        path = folder / f"{name}.toml"
        if path.exists() or path.is_symlink():  # read_toml says what is wrong with what is there
            return _read(name, path, known)
    raise NotationError(f"unknown notation profile '{name}' (choose one of: {known})")


def _read(name: str, path: Path, known: str) -> Profile:
    from .files import read_toml

    def refuse(message: str):
        raise NotationError(f"notation profile '{name}' ({path}): {message} (choose one of: {known})")

    try:
        table = read_toml(path)
    except UsageError as error:
        refuse(str(error).removeprefix(f"{path}: "))
    description = table.pop("description", "")
    if not isinstance(description, str):
        refuse("'description' must be a string")
    names = {}
    for key, fields in table.items():
        if not isinstance(fields, dict):
            refuse(f"'{key}' must be a table of latex, text and only, not {type(fields).__name__}")
        for field, value in fields.items():
            if field not in _FIELDS:
                refuse(f"unknown field '{key}.{field}' (allowed: {', '.join(_FIELDS)})")
            if not isinstance(value, _FIELDS[field]):
                refuse(f"'{key}.{field}' must be {_FIELDS[field].__name__}, not {type(value).__name__}")
        if "latex" not in fields and "text" not in fields:
            refuse(f"'{key}' gives neither latex nor text")
        for field in ("latex", "text"):
            if field in fields and (not fields[field].strip() or not fields[field].isprintable()):
                refuse(f"'{key}.{field}' must be one line of printable text")
        if "latex" in fields:
            _check_latex(fields["latex"], f"{key}.latex", refuse)
        only = fields.get("only")
        if only is not None and (not only or not all(isinstance(each, str) for each in only)):
            refuse(f"'{key}.only' must be a non-empty list of catalog entries or families")
        unknown = sorted(set(only or ()) - _catalog_scopes())
        if unknown:
            refuse(f"'{key}.only' names '{unknown[0]}', which is no catalog entry or family")
        names[key] = Written(fields.get("latex"), fields.get("text"), only and frozenset(only))
    return Profile(name, path, description, names)


def _check_latex(latex: str, where: str, refuse) -> None:
    """A profile's LaTeX is notation: known math commands only, and none of the characters that
    end math, comment out or align (``$ % # &``), nor TeX's ``^^`` escapes."""
    for command in _COMMAND.findall(latex):
        if command not in _COMMANDS and command not in (",", ";", "!", "{", "}", " ", "|", "#"):
            refuse(f"'{where}' uses \\{command}, which a notation may not")
    special = next((c for c in ("$", "%", "#", "&", "~", "^^") if c in latex.replace("\\#", "")), None)
    if special:
        refuse(f"'{where}' has '{special}', which a notation may not")


def apply(derivation: Derivation, name: str = DEFAULT, template_dir: str | None = None) -> Derivation:
    """``derivation`` with its quantities written in the profile ``name`` (the mathematics is the same)."""
    profile = load(name, template_dir)
    quantities = tuple(profile.dress(quantity, derivation) for quantity in derivation.quantities)
    return derivation if quantities == derivation.quantities else replace(derivation, quantities=quantities)


def written_forms(quantity: Quantity, derivation: Derivation) -> tuple[str, ...]:
    """Every shipped profile's LaTeX for ``quantity`` of ``derivation``: the checker reads each
    as that quantity."""
    forms = []
    for profile in _shipped():
        entry = profile.written(quantity, derivation)
        if entry is not None and entry.latex and entry.latex not in forms:
            forms.append(entry.latex)
    return tuple(forms)


@functools.cache
def _shipped() -> tuple[Profile, ...]:
    """The profiles shipped with the package (what the checker reads), loaded once."""
    return tuple(load(name) for name in choices())


@functools.cache
def _catalog_families() -> frozenset[str]:
    from . import catalog

    return frozenset(entry.family for entry in catalog.entries())


def _catalog_scopes() -> frozenset[str]:
    """What ``only`` may name: a catalog entry or a catalog family."""
    from . import catalog

    return _catalog_families() | {entry.name for entry in catalog.entries()}
