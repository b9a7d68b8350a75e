"""Network specs: layers as data, read from TOML or from the built-in catalog, checked whole.

```toml
name = "my-net"
input = [32, 32, 3]                  # H, W, C
rounding = "exact"                   # or "floor" (round output sizes down, as PyTorch does)
[[layer]]
type = "conv"                        # conv, maxpool, avgpool, gap, flatten, linear (fc), bn,
name = "conv1"                       # activation, dropout, lrn, residual, concat
out = 10                             # output channels (conv) or features (linear)
kernel = 5                           # also stride, padding, dilation, groups, bias = true
padding = 2
```
A ``residual`` layer has ``main = [...]`` layers and an optional ``downsample = [...]`` path
(the identity otherwise); a ``concat`` layer has ``branches = [[...], [...]]`` joined on channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import limits
from ..errors import UsageError
from ..files import read_toml

KINDS = {"conv", "maxpool", "avgpool", "gap", "flatten", "linear", "fc", "bn", "activation", "relu",
         "dropout", "lrn", "residual", "concat"}
KEYS = {
    "conv": {"out", "kernel", "stride", "padding", "dilation", "groups", "bias"},
    "maxpool": {"kernel", "stride", "padding", "dilation"},
    "avgpool": {"kernel", "stride", "padding"},
    "linear": {"out", "bias"},
    "lrn": {"size"},
    "activation": {"function"},
    "dropout": {"p"},
    "residual": {"main", "downsample"},
    "concat": {"branches"},
}


class SpecError(UsageError):
    """A network that cannot be built; the message names the layer and the numbers."""


@dataclass(frozen=True)
class Layer:
    """One layer: its kind, name, numeric options, and nested paths (residual, concat)."""

    kind: str
    name: str
    options: dict = field(default_factory=dict)
    paths: tuple[tuple[Layer, ...], ...] = ()

    def get(self, key: str, default=None):
        """An option's value, or ``default``."""
        return self.options.get(key, default)


@dataclass(frozen=True)
class Network:
    """A network: name, title, input shape (H, W, C), layers, and how output sizes round:
    ``exact`` (a size that is not a whole number for its stride is an error) or ``floor``
    (rounded down, as PyTorch does)."""

    name: str
    title: str
    input: tuple[int, int, int]
    layers: tuple[Layer, ...]
    rounding: str = "exact"


def _layer(table: dict, where: str, counter: dict) -> Layer:
    if not isinstance(table, dict):
        raise SpecError(f"{where}: a layer must be a table")
    kind = table.get("type")
    if kind not in KINDS:
        raise SpecError(f"{where}: unknown layer type {kind!r} (known: {', '.join(sorted(KINDS))})")
    kind = {"fc": "linear", "relu": "activation"}.get(kind, kind)
    counter[kind] = counter.get(kind, 0) + 1
    name = str(table.get("name") or f"{kind}{counter[kind]}")
    allowed = KEYS.get(kind, set()) | {"type", "name"}
    for key, value in table.items():
        if key not in allowed:
            raise SpecError(f"{where} ({name}): unknown key '{key}' for a {kind} layer")
        if key in ("out", "kernel", "stride", "padding", "dilation", "groups", "size") and (
                not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "padding" else 1)):
            raise SpecError(f"{where} ({name}): '{key}' must be a whole number "
                            f"{'>= 0' if key == 'padding' else '>= 1'}, not {value!r}")
        if key in ("out", "kernel", "stride", "padding", "dilation", "groups", "size"):
            limits.check("net.size", value, f"{where} ({name})", f"'{key}'")
    if kind in ("conv", "linear") and "out" not in table:
        raise SpecError(f"{where} ({name}): a {kind} layer needs 'out'")
    if kind in ("conv", "maxpool", "avgpool") and "kernel" not in table:
        raise SpecError(f"{where} ({name}): a {kind} layer needs 'kernel'")
    options = {k: v for k, v in table.items() if k not in ("type", "name", "main", "downsample", "branches")}
    if kind == "residual":
        paths = (_layers(table.get("main", []), f"{where}.main", counter),
                 _layers(table.get("downsample", []), f"{where}.downsample", counter))
    elif kind == "concat":
        branches = table.get("branches", [])
        if not branches or not all(isinstance(b, list) for b in branches):
            raise SpecError(f"{where} ({name}): 'branches' must be a list of layer lists")
        paths = tuple(_layers(b, f"{where}.branches[{n}]", counter) for n, b in enumerate(branches, 1))
    else:
        paths = ()
    return Layer(kind, name, options, paths)


def _layers(tables: list, where: str, counter: dict) -> tuple[Layer, ...]:
    if not isinstance(tables, list):
        raise SpecError(f"{where}: must be a list of layers")
    return tuple(_layer(t, f"{where}[{n}]", counter) for n, t in enumerate(tables, 1))


def network_from(table: dict, where: str) -> Network:
    """A network from its table (a parsed TOML spec or a built-in); checked, not yet computed."""
    unknown = set(table) - {"name", "title", "input", "layer", "rounding"}
    if unknown:
        raise SpecError(f"{where}: unknown key '{sorted(unknown)[0]}' (allowed: name, title, input, rounding, layer)")
    if table.get("rounding", "exact") not in ("exact", "floor"):
        raise SpecError(f"{where}: 'rounding' must be \"exact\" or \"floor\"")
    shape = table.get("input")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) and v > 0 for v in shape)):
        raise SpecError(f"{where}: 'input' must be [H, W, C], three whole numbers > 0")
    for side, what in zip(shape, ("height", "width", "channels"), strict=True):
        limits.check("net.size", side, where, f"input {what}")
    name = str(table.get("name", where))
    counter: dict[str, int] = {}
    layers = _layers(table.get("layer", []), f"{where}: layer", counter)
    if not layers:
        raise SpecError(f"{where}: no [[layer]] tables")
    limits.check("net.layers", sum(counter.values()), where)
    return Network(name, str(table.get("title", name)), tuple(shape), layers, table.get("rounding", "exact"))


def read_network(path: str | Path) -> Network:
    """Read a network spec (TOML); SpecError (exit 2) on anything wrong."""
    path = Path(path)
    table = read_toml(path)
    table.setdefault("name", path.stem)
    return network_from(table, str(path))


def parse_input(text: str) -> tuple[int, int, int]:
    """``224x224x3`` as (224, 224, 3)."""
    parts = [p.strip().lstrip("0") for p in text.lower().replace("×", "x").split("x")]
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise UsageError(f"--input '{text}' must look like HxWxC, for example 224x224x3")
    for part, what in zip(parts, ("height", "width", "channels"), strict=True):
        if len(part) > 12:
            limits.refuse("net.size", f"a number of {len(part):,} digits", "--input", f"input {what}")
        limits.check("net.size", int(part), "--input", f"input {what}")
    return tuple(int(p) for p in parts)
