"""A worked problem's ``params`` in a sheet spec: the values its source is worked from, changed.

A catalog entry's ``params`` give its parameters values (:func:`derive.params.parse_params`); a
worked problem's give the numbers its source is built from, put into a copy of the source's
table before it is built (so a student's variant draws them as it draws an entry's):

- a backpropagation problem (``example = "bp-221-relu"`` or ``backprop = "file.toml"``): any of
  its inputs or parameters by name, ``params = { x1 = 0.5, w11 = 0.4 }``;
- a network (``network = "alexnet"`` or a spec file): the input's ``height``, ``width`` and
  ``channels``, and a named layer's option as ``"LAYER.OPTION"``, ``params = { "conv1.out" = 32 }``.

The published numbers of a source whose values were changed are dropped (they are the original's).
A built-in convolution example takes no ``params``.
"""

from __future__ import annotations

import copy
from pathlib import Path

from .errors import UsageError

INPUT_KEYS = ("height", "width", "channels")


def source_table(table: dict, path: Path) -> tuple[str, str, dict]:
    """A worked problem's source as a table, with the problem's ``params`` put in: (``network``,
    ``backprop`` or ``conv2d``; the name it is known by; the table)."""
    from .catalog import architectures
    from .catalog.examples import example
    from .files import read_toml

    if "network" in table:
        name = table["network"]
        if name.endswith(".toml"):
            kind, where, source = "network", str(path.parent / name), read_toml(path.parent / name)
            source.setdefault("name", Path(name).stem)
        else:
            architectures.builtin(name)  # an unknown name: the closest suggested
            kind, where, source = "network", name, copy.deepcopy(architectures._tables()[name])
    elif "backprop" in table:
        where = str(path.parent / table["backprop"])
        kind, source = "backprop", read_toml(where)
        source.setdefault("name", Path(where).stem)
    else:
        source = example(table["example"])
        kind, where = source.pop("kind"), source["name"]
    return kind, where, given(kind, source, table.get("params", {}), where)


def given(kind: str, source: dict, params: dict, where: str) -> dict:
    """``source`` with ``params`` put in (see the module's docstring); an unknown key is a
    UsageError naming it with the keys known."""
    if not params:
        return source
    if kind == "conv2d":
        raise UsageError(f"'{where}' is a convolution example: it takes no params")
    source = copy.deepcopy(source)
    source.pop("published", None)
    for key, value in params.items():
        if kind == "backprop":
            part = next((part for part in ("inputs", "params") if key in source.get(part, {})), None)
            if part is None:
                known = [*source.get("inputs", {}), *source.get("params", {})]
                raise UsageError(f"'{where}' has no input or parameter '{key}' (known: {', '.join(known)})")
            source[part][key] = value
        elif key in INPUT_KEYS:
            source["input"] = list(source.get("input", [1, 1, 1]))
            source["input"][INPUT_KEYS.index(key)] = value
        else:
            _layer_option(source, key, value, where)
    return source


def _layer_option(source: dict, key: str, value, where: str) -> None:
    """Set ``LAYER.OPTION`` of a network's table (the layer found by its name, nested ones too)."""
    from .architecture.spec import KEYS

    layer_name, dot, option = key.rpartition(".")
    layers = [layer for layer in _layers(source.get("layer", [])) if layer.get("name") == layer_name]
    if not dot or not layers:
        names = [layer["name"] for layer in _layers(source.get("layer", [])) if "name" in layer]
        raise UsageError(f"'{where}': '{key}' is not height, width, channels or LAYER.OPTION of a named layer "
                         f"(layers: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''})")
    allowed = KEYS.get({"fc": "linear", "relu": "activation"}.get(layers[0].get("type"), layers[0].get("type")), set())
    if option not in allowed or option in ("main", "downsample", "branches", "function"):
        raise UsageError(f"'{where}': layer '{layer_name}' has no numeric option '{option}' "
                         f"(allowed: {', '.join(sorted(allowed - {'main', 'downsample', 'branches', 'function'}))})")
    layers[0][option] = value


def _layers(layers) -> list[dict]:
    """Every layer table of a network, nested ones (residual, concat) included, in order."""
    found = []
    for layer in layers if isinstance(layers, list) else []:
        if not isinstance(layer, dict):
            continue
        found.append(layer)
        for part in ("main", "downsample"):
            found += _layers(layer.get(part))
        for branch in layer.get("branches", []) if isinstance(layer.get("branches"), list) else []:
            found += _layers(branch)
    return found


def worked(table: dict, path: Path) -> tuple[object, object | None]:
    """A worked problem with ``params``: its derivation, built from its source with them put in,
    and what it was worked from where a handout states that (a backprop run), else None."""
    from .architecture.arithmetic import Convention, analyse
    from .architecture.spec import network_from
    from .backprop.graph import graph_from, run
    from .catalog import architectures

    kind, where, source = source_table(table, path)
    if kind == "network":
        convention = Convention(sheet=table.get("convention") == "sheet")
        reference = architectures.REFERENCES.get(table["network"])
        reference = analyse(architectures.builtin(reference), convention) if reference else None
        return analyse(network_from(source, where), convention, reference=reference).derivation, None
    result = run(graph_from(source, where if kind == "backprop" else source["name"]), exact=table.get("exact", False))
    return result.derivation, result


def gradable(table: dict, path: Path) -> dict:
    """What the checker grades for a worked problem with ``params`` (as :mod:`derive.check.numeric`
    lists it for its source, here built with them put in), under the problem's convention."""
    from .architecture.spec import network_from
    from .check import numeric
    from .errors import DeriveError

    try:
        kind, where, source = source_table(table, path)
        found = (numeric._network_problem(where, network_from(source, where)) if kind == "network"
                 else numeric._example_problem(where, kind, source))
    except DeriveError as error:
        raise UsageError(f"{path}: {error}") from None
    return dict(found.values.get(table.get("convention", "full"), found.values["full"]))
