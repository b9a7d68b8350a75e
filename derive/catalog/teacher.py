"""A teacher's catalog file: entries of one's own, read from TOML, derived and verified like the built-in ones.

```toml
[[entry]]
name = "mish"                      # lower-case letters, digits and '-'; never a built-in's name
kind = "activation"                # activation | loss | init
title = "Mish"                     # optional: the documents' title (printed as written, never TeX)
definition = 'f(x) = x \\tanh(\\ln(1 + e^{x}))'
order = 2                          # optional: also the second derivative

[[entry]]
name = "focal"
kind = "loss"
definition = 'L(\\hat{y}, y) = -y (1 - \\hat{y})^{2} \\ln \\hat{y} - (1 - y) \\hat{y}^{2} \\ln(1 - \\hat{y})'
after = "sigmoid"                  # optional: sigmoid | softmax (then the loss sums over the classes i)

[[entry]]
name = "mish-init"
kind = "init"
activation = "mish"                # a catalog activation (built-in or of this file) or 'f(z) = ...'
```

Definitions are read by the course's reader (:mod:`derive.check.reader`), never evaluated; every failure
is one line naming the file, the entry and the key (exit 2). An entry's derivation is built when first
asked for and kept in the disk cache under a hash of the entry's own text (:func:`content_key`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path

import sympy as sp
from sympy.core.function import AppliedUndef

from ..engine import Derivation
from ..errors import DeriveError, UsageError
from . import registry
from .registry import Entry

#: The environment variable listing catalog files (``os.pathsep`` between them): ``--catalog`` and a
#: sheet's ``catalog`` add to it, so that the worker processes of check, grade and check-steps know them.
ENVIRONMENT = "DERIVE_CATALOG"
KINDS = ("activation", "loss", "init")
COMMON_KEYS = {"name": str, "kind": str, "title": str, "title_zh": str}
KIND_KEYS = {"activation": {"definition": str, "order": int},
             "loss": {"definition": str, "after": str, "prediction": str},
             "init": {"activation": str, "density": str}}
REQUIRED = {"activation": ("definition",), "loss": ("definition",), "init": ("activation",)}
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME, MAX_TITLE, MAX_DEFINITION, MAX_ENTRIES = 40, 200, 2000, 200
#: A loss's argument: one Latin letter, perhaps under a hat, tilde or bar (\hat{y}, p, t).
_ARGUMENT = re.compile(r"\s*(?:\\(?P<accent>hat|widehat|tilde|bar)\s*(?:\{\s*(?P<a>[A-Za-z])\s*\}|\s(?P<b>[A-Za-z]))"
                       r"|(?P<c>[A-Za-z]))\s*")
#: A loss's name on the left: L, E, J, \ell, \mathcal{L}.
_LOSS_HEAD = re.compile(r"\s*(?:[LEJl]|\\ell|\\mathcal\s*\{\s*L\s*\})\s*\((?P<args>[^()]*)\)\s*")
_RESERVED = {"z", "L", "C", "i", "j", "k", "e"}
_TYPES = {str: "a string", int: "an integer"}


class CatalogError(UsageError):
    """A catalog file that cannot be used; the message names the file, the entry and the key."""


def content_key(table: dict) -> str:
    """The cache key of an entry: a hash of its own table (name, kind, definition and every other key)."""
    text = json.dumps(table, sort_keys=True, ensure_ascii=False)
    return "teacher-" + hashlib.sha256(text.encode()).hexdigest()[:20]


def load(path: str | Path) -> tuple[Entry, ...]:
    """Read, check and register the catalog file ``path``; returns its entries.

    Raises:
        CatalogError: one line naming the file, the entry and the key of what is wrong.
    """
    from ..files import read_toml

    path = Path(path)
    try:
        table = read_toml(path)
    except CatalogError:
        raise
    except UsageError as error:
        raise CatalogError(f"catalog {error}") from None
    where = f"catalog {path}"
    unknown = sorted(set(table) - {"entry"})
    if unknown:
        raise CatalogError(f"{where}: unknown key '{unknown[0]}' (a catalog holds [[entry]] tables)")
    rows = table.get("entry")
    if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
        raise CatalogError(f"{where}: no [[entry]] tables")
    if len(rows) > MAX_ENTRIES:
        raise CatalogError(f"{where}: {len(rows)} entries, more than {MAX_ENTRIES}")
    entries, seen = [], set()
    by_name = {row.get("name"): row for row in rows if isinstance(row.get("name"), str)}
    for number, row in enumerate(rows, 1):
        entry = _entry(row, f"{where}: entry {number}", seen, by_name)
        seen.add(entry.name)
        entries.append(entry)
    registry.register(entries)
    _ACTIVATIONS.update({row["name"]: row["definition"] for row in rows if row.get("kind") == "activation"})
    return tuple(entries)


@contextlib.contextmanager
def catalogs(paths: list[str]):
    """The catalog of one command: the built-in entries, those of the files ``DERIVE_CATALOG`` lists, and
    those of ``paths`` (``--catalog``), which are added to ``DERIVE_CATALOG`` for the command's worker
    processes; on leaving, the registry and the environment are as before (a second command in the same
    process starts afresh)."""
    before = os.environ.get(ENVIRONMENT)
    registry.forget()
    _LOADED.clear()
    _ACTIVATIONS.clear()
    try:
        load_environment()
        for path in paths:
            add_to_environment(path)
        yield
    finally:
        registry.forget()
        _LOADED.clear()
        _ACTIVATIONS.clear()
        if before is None:
            os.environ.pop(ENVIRONMENT, None)
        else:
            os.environ[ENVIRONMENT] = before


def title_in(derivation: Derivation, lang: str) -> str:
    """A derivation's own title in ``lang``: a teacher's entry's ``title_zh`` in Chinese, else its title."""
    entry = next((e for e in registry.entries() if e.name == derivation.name and e.key is not None), None)
    if entry is not None and entry.title == derivation.title:
        return entry.titles.get(lang, derivation.title)
    return derivation.title


def activation_definition(name: str) -> str | None:
    """The definition ``f(x) = ...`` of the registered activation entry ``name`` of a teacher's catalog
    file (for ``simulate --act NAME``), or None."""
    return _ACTIVATIONS.get(name) if name in {e.name for e in registry.entries()} else None


def load_environment() -> None:
    """Register the catalog files that ``DERIVE_CATALOG`` lists (once per list, in every process)."""
    for name in filter(None, os.environ.get(ENVIRONMENT, "").split(os.pathsep)):
        if name not in _LOADED:
            _LOADED.add(name)
            load(name)


def listed() -> str:
    """The catalog files of this command, as ``DERIVE_CATALOG`` lists them (to hand to a worker)."""
    return os.environ.get(ENVIRONMENT, "")


def adopt(files: str) -> None:
    """In a worker process: take the command's catalog files (:func:`listed`). A worker started by
    the forkserver has the forkserver's environment, not the command's: a second command in one
    process (a test run, a server) with another catalog must hand its own to its workers."""
    if files:
        os.environ[ENVIRONMENT] = files
    else:
        os.environ.pop(ENVIRONMENT, None)


def add_to_environment(path: str | Path) -> None:
    """Read and register ``path`` now, and list it in ``DERIVE_CATALOG`` for the worker processes."""
    name = os.path.abspath(path)
    load(path)
    _LOADED.add(name)
    listed = [p for p in os.environ.get(ENVIRONMENT, "").split(os.pathsep) if p]
    if name not in listed:
        os.environ[ENVIRONMENT] = os.pathsep.join([*listed, name])


_LOADED: set[str] = set()
_ACTIVATIONS: dict[str, str] = {}


def _entry(row: dict, where: str, seen: set[str], rows: dict) -> Entry:
    """One [[entry]] table, checked: its keys, types and name; the definition read now."""
    name = row.get("name")
    if not isinstance(name, str):
        raise CatalogError(f"{where}: 'name' is required (a string)")
    if len(name) > MAX_NAME or not NAME.fullmatch(name):
        raise CatalogError(f"{where}: 'name' must be lower-case letters, digits and '-' (at most {MAX_NAME}), "
                           f"not {json.dumps(name[:MAX_NAME])}")
    where = f"{where} '{name}'"
    kind = row.get("kind")
    if kind not in KINDS:
        raise CatalogError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, not {json.dumps(kind)[:40]}")
    allowed = {**COMMON_KEYS, **KIND_KEYS[kind]}
    for key, value in row.items():
        if key not in allowed:
            raise CatalogError(f"{where}: unknown key '{key}' for kind {kind} (allowed: {', '.join(allowed)})")
        if not isinstance(value, allowed[key]) or (allowed[key] is int and isinstance(value, bool)):
            raise CatalogError(f"{where}: '{key}' must be {_TYPES[allowed[key]]}, not {type(value).__name__}")
    for key in REQUIRED[kind]:
        if key not in row:
            raise CatalogError(f"{where}: '{key}' is required for kind {kind}")
    if name in seen:
        raise CatalogError(f"{where}: 'name' repeats an earlier entry of the file")
    if name in _command_words() or name in _builtin_names():
        raise CatalogError(f"{where}: 'name' collides with a built-in ({name}); choose another")
    for key in ("title", "title_zh"):
        text = row.get(key)
        if text is not None and (len(text) > MAX_TITLE or not text.strip() or "\n" in text):
            raise CatalogError(f"{where}: '{key}' must be one line of at most {MAX_TITLE} characters")
    title = row.get("title")
    titles = {"zh": row["title_zh"]} if "title_zh" in row else {}
    build, targets, family = _KINDS[kind](row, where, rows)
    referenced = rows.get(row.get("activation")) if kind == "init" else None
    key = content_key({**row, "referenced": referenced} if referenced else row)

    def derive() -> Derivation:
        try:
            derivation = build()
        except DeriveError as error:
            raise CatalogError(f"{where}: {error}") from None
        return dataclasses.replace(derivation, name=name, title=title or derivation.title or name)

    return Entry(name, family, derive, targets, key=key, title=title or name, titles=titles)


def _command_words() -> set[str]:
    """The commands' names (an entry of that name could never be printed: ``derive check`` is the
    command), read from the command line's table of commands, the one list of them."""
    from ..commands import BY_NAME

    return {*BY_NAME, "help"}


def _builtin_names() -> set[str]:
    """The names a teacher's entry may not take: the catalog's, the built-in networks' and worked examples'
    (``check NAME`` and ``derive NAME`` would mean either)."""
    from . import architectures, examples

    return {e.name for e in registry.builtin_entries()} | set(architectures.network_names()) | set(examples.EXAMPLES)


def _text(row: dict, key: str, where: str) -> str:
    text = row[key]
    if len(text) > MAX_DEFINITION:
        raise CatalogError(f"{where}: '{key}' is longer than {MAX_DEFINITION} characters")
    return text


# --- activation ------------------------------------------------------------------------------------

def _activation(row: dict, where: str, rows: dict):
    """``kind = "activation"``: the definition is read now (a slip is an error at once), derived later by
    part A's :func:`derive.differentiate.function_derivation`, one rule per step."""
    definition = _text(row, "definition", where)
    order = row.get("order", 1)
    if order not in (1, 2):
        raise CatalogError(f"{where}: 'order' must be 1 or 2, not {order}")
    _read_function(definition, f"{where}: 'definition'")

    def build() -> Derivation:
        from ..differentiate import function_derivation

        return function_derivation(row["name"], definition, order=order, title=row.get("title"))

    return build, ("d1", "d2")[:order], "activations"


def _read_function(definition: str, where: str) -> sp.Basic:
    """The body of ``f(x) = body`` (part A's reader; names other than x and functions of one's own refused)."""
    from ..differentiate import read_definition

    try:
        _, body, variable = read_definition(definition)
    except UsageError as error:
        raise CatalogError(f"{where}: {error}") from None
    _defined_only(body, {variable}, where)
    return body


def _defined_only(body: sp.Basic, allowed: set, where: str) -> None:
    """Refuse a body with a name the definition does not give (a constant, a function of one's own)."""
    if not isinstance(body, sp.Expr):
        raise CatalogError(f"{where}: not a formula (a relation, list or set)")
    named = {str(s) for s in allowed}
    for symbol in sorted(body.free_symbols, key=str):
        if isinstance(symbol, sp.Indexed):
            symbol = symbol.base.label
        if str(symbol) not in named and not isinstance(symbol, sp.Dummy):
            raise CatalogError(f"{where}: undefined name '{symbol}'")
    for applied in body.atoms(AppliedUndef):
        raise CatalogError(f"{where}: undefined function '{applied.func}'")


# --- loss ------------------------------------------------------------------------------------------

def _loss(row: dict, where: str, rows: dict):
    """``kind = "loss"``: L(prediction, label) = body, read now; the gradients derived later."""
    from . import teacher_loss

    after = row.get("after")
    if after not in (None, "sigmoid", "softmax"):
        raise CatalogError(f"{where}: 'after' must be \"sigmoid\" or \"softmax\", not {json.dumps(after)}")
    prediction = row.get("prediction", "probability" if after else "real")
    if prediction not in ("real", "probability") or (after and prediction != "probability"):
        raise CatalogError(f"{where}: 'prediction' must be \"real\" or \"probability\" (after an output "
                           "activation: \"probability\")")
    reading = _read_loss(_text(row, "definition", where), after, f"{where}: 'definition'")
    name = row["name"]
    if after == "softmax":
        return (lambda: teacher_loss.softmax_loss(name, reading)), ("dl_dyhat", "dl_dz"), "losses"
    if after == "sigmoid":
        return (lambda: teacher_loss.sigmoid_loss(name, reading)), ("dl_dyhat", "dl_dz"), "losses"
    return (lambda: teacher_loss.plain_loss(name, reading, prediction)), ("dl_dyhat",), "losses"


def _argument(text: str, where: str, what: str) -> tuple[str, str]:
    """(the letter, its LaTeX as the documents print it) of a loss's argument."""
    match = _ARGUMENT.fullmatch(text)
    if match is None:
        raise CatalogError(f"{where}: the {what} must be one letter, perhaps with a hat (\\hat{{y}}, p, t)")
    letter = match.group("a") or match.group("b") or match.group("c")
    accent = match.group("accent")
    if letter in _RESERVED:
        raise CatalogError(f"{where}: the {what} cannot be called '{letter}' (z, L, C, i, j, k, e mean "
                           "the logit, the loss, the class count, indices and Euler's number)")
    return (f"{accent}({letter})" if accent else letter), (rf"\{accent}{{{letter}}}" if accent else letter)


def _read_loss(definition: str, after: str | None, where: str):
    """Read L(prediction, label) = body: the body as a SymPy expression in the course's symbols."""
    from ..check.reader import ReadError, read
    from ..check.table import neutral_table
    from .teacher_loss import LossReading, loss_symbols

    left, _, right = definition.partition("=")
    head = _LOSS_HEAD.fullmatch(left)
    if not right.strip() or head is None:
        raise CatalogError(f"{where}: write it as L(\\hat{{y}}, y) = ... (the prediction, then the label)")
    arguments = [a for a in head.group("args").split(",")]
    if len(arguments) != 2 or not arguments[1].strip():
        raise CatalogError(f"{where}: a loss with no label: write L(\\hat{{y}}, y) = ... (the prediction, "
                           "then the label)")
    (pred_key, pred_tex), (label_key, label_tex) = (_argument(a, where, w) for a, w in
                                                    zip(arguments, ("prediction", "label"), strict=True))
    if pred_key == label_key:
        raise CatalogError(f"{where}: the prediction and the label need two different names")
    symbols = loss_symbols(after)
    table = neutral_table()
    for quantity in symbols.readable(pred_tex, label_tex):
        table.quantities[quantity.symbol] = quantity
        table.add(quantity, quantity.latex)
    try:
        reading = read(right, table)
    except ReadError as error:
        raise CatalogError(f"{where}: cannot read: {error}") from None
    if len(reading.sides) != 1:
        raise CatalogError(f"{where}: one '=' only: L(\\hat{{y}}, y) = ...")
    body = reading.value
    _defined_only(body, symbols.allowed(), where)
    from ..differentiate import MAX_EXPONENT

    for power in body.atoms(sp.Pow):
        if power.exp.is_number and abs(power.exp) > MAX_EXPONENT:
            raise CatalogError(f"{where}: the exponent {power.exp} is too large (at most {MAX_EXPONENT} in size)")
    if not body.has(symbols.label):
        raise CatalogError(f"{where}: a loss with no label: the label {label_tex} does not appear")
    if not body.has(symbols.prediction):
        raise CatalogError(f"{where}: the prediction {pred_tex} does not appear in the loss")
    return LossReading(symbols.term(body, where, CatalogError), pred_tex, label_tex)


# --- init ------------------------------------------------------------------------------------------

def _init(row: dict, where: str, rows: dict):
    """``kind = "init"``: an activation's initialization (part B's :func:`any_init.init_derivation`); the
    activation is a built-in one's name, an activation entry of the same file, or a definition."""
    try:
        from . import any_init
    except ImportError:  # part B's module not in this tree
        raise CatalogError(f"{where}: 'kind' init is not available in this version") from None
    act = _text(row, "activation", where)
    density = row.get("density", "normal")
    if density != "normal":
        raise CatalogError(f"{where}: 'density' must be \"normal\", not {json.dumps(density)[:40]}")
    own = rows.get(act)
    if own is not None:
        if own.get("kind") != "activation" or not isinstance(own.get("definition"), str):
            raise CatalogError(f"{where}: 'activation': the entry '{act}' is not an activation")
        act = own["definition"]
    elif NAME.fullmatch(act) and act not in any_init.CATALOG:
        raise CatalogError(f"{where}: 'activation': undefined name '{act}' (a built-in activation, an "
                           "activation entry of this file, or a definition f(z) = ...)")
    try:
        activation = any_init.read_activation(act)
    except UsageError as error:
        raise CatalogError(f"{where}: 'activation': {error}") from None
    targets = ("second_moment", "var", "std", "gain", "square_slope", "var_fan_out")
    if any_init._odd_saturating(activation.body):
        targets += ("var_linear", "gain_linear")

    def build() -> Derivation:
        return any_init.init_derivation(act, density, name=row["name"], title=row.get("title"))

    return build, targets, "initialization"


_KINDS = {"activation": _activation, "loss": _loss, "init": _init}


def definition(derivation: Derivation) -> tuple[tuple[sp.Basic, sp.Basic], ...]:
    """The (left, right) pairs of what a teacher's entry defines, for a sheet's default statement: the loss
    L = ... and the output activation it follows (yhat = sigma(z), p_i = e^{z_i} / sum_j e^{z_j}), or the
    activation f(x) = ...; none for another derivation."""
    for quantity in derivation.quantities:
        if quantity.key == "L" and isinstance(quantity.meaning, sp.Expr):
            pairs = [(quantity.symbol, quantity.meaning)]
            pairs += [(k, v) for k, v in derivation.relations.items() if isinstance(k, sp.Symbol)]
            softmax = next((q for q in derivation.quantities if isinstance(q.symbol, sp.IndexedBase)
                            and isinstance(q.meaning, sp.Lambda)),
                           None)
            if softmax is not None:
                index = softmax.meaning.variables[0]
                pairs.append((softmax.symbol[index], softmax.meaning.expr))
            return tuple(pairs)
    for quantity in derivation.quantities:
        if "f" in (quantity.key, *quantity.aliases) and isinstance(quantity.meaning, sp.Lambda) \
                and isinstance(quantity.symbol, sp.FunctionClass):
            return ((quantity.symbol(*quantity.meaning.variables), quantity.meaning.expr),)
    return ()
