"""The course's arithmetic on a network: shapes, parameters, activations, MACs, receptive fields.

Every quantity is computed twice: in plain integers (the rows of the report) and as a
SymPy formula evaluated on the same numbers (the steps of the Derivation); the two must
agree. Conventions (count batch norm, count biases, the course sheet's way) are options.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import SIZE, Quantity
from ..printing import tex_escape
from .spec import Layer, Network, SpecError

H, W, C, K, S, P, D, G, C_IN, C_OUT, F_IN, F_OUT, R, J = sp.symbols(
    "H W C K S P D g C_in C_out F_in F_out r j", integer=True, positive=True)
FORMULA_SYMBOLS = {H: "H", W: "W", C: "C", K: "K", S: "S", P: "P", D: "D", G: "g", C_IN: "C_{in}",
                   C_OUT: "C_{out}", F_IN: "F_{in}", F_OUT: "F_{out}", R: "r", J: "j"}
OUTPUT_SIZE = sp.floor((H + 2 * P - D * (K - 1) - 1) / S) + 1
RECEPTIVE_FIELD, JUMP = R + (D * (K - 1) + 1 - 1) * J, J * S


@dataclass(frozen=True)
class Convention:
    """What a parameter count includes. ``sheet``: the course's ResNet-18 answer (main-path
    convolution weights and the fully connected weights only)."""

    batch_norm: bool = True
    bias: bool = True
    sheet: bool = False

    def counts_activations(self, row: Row) -> int:
        """The activations of a row under this convention (sheet: input, convolution, pooling
        and fully connected outputs of the main path, as the course's answer counts memory)."""
        if self.sheet and (row.path != "main" or row.kind not in ("input", "conv", "maxpool", "avgpool", "gap",
                                                                   "linear")):
            return 0
        return row.activations

    def counts(self, row: Row) -> int:
        """The parameters of a row under this convention."""
        if self.sheet:
            return row.weights if row.kind in ("conv", "linear") and row.path == "main" else 0
        weights = row.weights if self.batch_norm or row.kind != "bn" else 0
        bias = row.bias if self.bias and (self.batch_norm or row.kind != "bn") else 0
        return weights + bias


@dataclass
class Row:
    """One layer's numbers."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    weights: int = 0
    bias: int = 0
    activations: int = 0
    macs: int = 0
    receptive_field: int = 1
    jump: int = 1
    path: str = "main"

    @property
    def params(self) -> int:
        """Weights and bias (batch norm: gamma and beta)."""
        return self.weights + self.bias


@dataclass(frozen=True)
class NetworkDerivation(Derivation):
    """A network's Derivation with its :class:`Report` (the rows its documents print as tables)."""

    report: Report | None = field(default=None, compare=False, repr=False)


@dataclass
class _State:
    shape: tuple[int, ...]
    rf: int = 1
    jump: int = 1
    span: int = 1  # after flatten: the side of the map flattened (a linear layer sees all of it)


@dataclass
class Report:
    """The arithmetic of a whole network: rows, totals under a convention, the Derivation."""

    network: Network
    rows: list[Row]
    convention: Convention
    bytes_per_value: int
    derivation: Derivation
    totals: dict = field(default_factory=dict)


class _Walker:
    def __init__(self, network: Network, convention: Convention, bytes_per_value: int):
        self.network, self.convention, self.bytes = network, convention, bytes_per_value
        self.rows: list[Row] = []
        self.quantities: dict[str, Quantity] = {}
        formula = [Quantity(name, symbol, latex, SIZE) for symbol, latex in FORMULA_SYMBOLS.items()
                   for name in [str(symbol)]]
        self.builder = Builder(network.name, "architectures", formula,
                               conventions=self._conventions())

    def _conventions(self) -> tuple[str, ...]:
        notes = ["macs-counted", "activations-counted"] + (["rounding-floor"] if self.network.rounding == "floor" else [])
        if self.convention.sheet:
            notes.append("params-sheet")
        else:
            notes += ["params-bn" if self.convention.batch_norm else "params-no-bn",
                      "params-bias" if self.convention.bias else "params-no-bias"]
        return tuple(notes)

    def symbol(self, quantity: str, layer: str, latex: str, written: str | None = None) -> sp.Symbol:
        """The symbol of ``quantity[layer]``, written ``latex`` with the layer as subscript (or ``written``)."""
        key = f"{quantity}[{layer}]"
        if key not in self.quantities:
            symbol = sp.Symbol(key)
            self.quantities[key] = Quantity(key, symbol, written or rf"{latex}_{{\text{{{tex_escape(layer)}}}}}",
                                            text=key)
        return self.quantities[key].symbol

    def compute(self, quantity: str, layer: str, latex: str, formula, values: dict, check: int, rule: str):
        self.builder.compute(self.symbol(quantity, layer, latex), formula, {k: sp.Integer(v) for k, v in values.items()},
                             check, rule)

    # -- layers --------------------------------------------------------------------
    def walk(self, layers, state: _State, path: str) -> _State:
        for layer in layers:
            state = getattr(self, f"_{layer.kind}")(layer, state, path)
        return state

    def _record(self, layer: Layer, state: _State, path: str, **numbers) -> None:
        shape = state.shape
        count = _product(shape)
        self.rows.append(Row(layer.name, layer.kind, shape, activations=count, receptive_field=state.rf,
                             jump=state.jump, path=path, **numbers))
        self.compute("A", layer.name, "A", _product_formula(shape), {}, count, "activations")

    def _conv(self, layer: Layer, state: _State, path: str) -> _State:
        channels, height, width = self._spatial(layer, state)
        k, s, p, d = (layer.get(key, default) for key, default in (("kernel", 1), ("stride", 1), ("padding", 0),
                                                                     ("dilation", 1)))
        groups, out = layer.get("groups", 1), layer.get("out")
        if channels % groups or out % groups:
            raise SpecError(f"layer {layer.name}: {channels} input and {out} output channels do not divide "
                            f"into {groups} groups")
        new_h, new_w = (self._size(layer, n, k, s, p, d) for n in (height, width))
        weights = k * k * (channels // groups) * out
        bias = out if layer.get("bias", True) else 0
        macs = new_h * new_w * out * k * k * (channels // groups)
        new = _State((out, new_h, new_w), state.rf + d * (k - 1) * state.jump, state.jump * s)
        self._sizes(layer, height, width, k, s, p, d)
        # groups = 1: the formula without its "/ g" (printed, it would read 1^{-1})
        per_group = (lambda formula: formula / G) if groups != 1 else (lambda formula: formula)
        self.compute("weights", layer.name, r"\#w", per_group(K**2 * C_IN * C_OUT),
                     {K: k, C_IN: channels, C_OUT: out, G: groups}, weights, "conv-weights")
        if bias:
            self.compute("bias", layer.name, r"\#b", C_OUT, {C_OUT: out}, bias, "conv-bias")
        self.compute("MACs", layer.name, r"\mathrm{MACs}", per_group(H * W * C_OUT * K**2 * C_IN),
                     {H: new_h, W: new_w, C_OUT: out, K: k, C_IN: channels, G: groups}, macs, "macs")
        self._field(layer, state, new, k, s, d)
        self._record(layer, new, path, weights=weights, bias=bias, macs=macs)
        return new

    def _pool(self, layer: Layer, state: _State, path: str) -> _State:
        channels, height, width = self._spatial(layer, state)
        k = layer.get("kernel")
        s, p, d = layer.get("stride", k), layer.get("padding", 0), layer.get("dilation", 1)
        new_h, new_w = (self._size(layer, n, k, s, p, d) for n in (height, width))
        new = _State((channels, new_h, new_w), state.rf + d * (k - 1) * state.jump, state.jump * s)
        self._sizes(layer, height, width, k, s, p, d)
        self._field(layer, state, new, k, s, d)
        self._record(layer, new, path)
        return new

    _maxpool = _avgpool = _pool

    def _gap(self, layer: Layer, state: _State, path: str) -> _State:
        channels, height, width = self._spatial(layer, state)
        new = _State((channels, 1, 1), state.rf + (max(height, width) - 1) * state.jump, state.jump * max(height, width))
        self._record(layer, new, path)
        return new

    def _flatten(self, layer: Layer, state: _State, path: str) -> _State:
        span = max(state.shape[1:]) if len(state.shape) == 3 else state.span
        new = _State((_product(state.shape),), state.rf, state.jump, span)
        self._record(layer, new, path)
        return new

    def _linear(self, layer: Layer, state: _State, path: str) -> _State:
        features, out = _product(state.shape), layer.get("out")
        bias = out if layer.get("bias", True) else 0
        self.compute("weights", layer.name, r"\#w", F_IN * F_OUT, {F_IN: features, F_OUT: out}, features * out,
                     "linear-weights")
        if bias:
            self.compute("bias", layer.name, r"\#b", F_OUT, {F_OUT: out}, bias, "linear-bias")
        self.compute("MACs", layer.name, r"\mathrm{MACs}", F_IN * F_OUT, {F_IN: features, F_OUT: out},
                     features * out, "macs")
        # A unit sees the whole map that was flattened: as a convolution with a kernel of the map's size.
        span = max(state.shape[1:]) if len(state.shape) == 3 else state.span
        new = _State((out,), state.rf + (span - 1) * state.jump, state.jump * span)
        if span > 1:
            self._field(layer, state, new, span, span, 1)
        self._record(layer, new, path, weights=features * out, bias=bias, macs=features * out)
        return new

    def _bn(self, layer: Layer, state: _State, path: str) -> _State:
        channels = state.shape[0]
        self.compute("params", layer.name, r"\#p", 2 * C, {C: channels}, 2 * channels, "bn-params")
        self._record(layer, state, path, weights=channels, bias=channels)
        return state

    def _identity(self, layer: Layer, state: _State, path: str) -> _State:
        self._record(layer, state, path)
        return state

    _activation = _dropout = _lrn = _identity

    def _residual(self, layer: Layer, state: _State, path: str) -> _State:
        main, shortcut = layer.paths
        out = self.walk(main, replace(state), path)
        skip = self.walk(shortcut, replace(state), "downsample") if shortcut else state
        if out.shape != skip.shape:
            raise SpecError(f"layer {layer.name}: the main path gives {_shape(out.shape)} but the shortcut "
                            f"{_shape(skip.shape)}; add a downsample path")
        self.rows.append(Row(layer.name, layer.kind, out.shape, receptive_field=out.rf, jump=out.jump, path=path))
        return out

    def _concat(self, layer: Layer, state: _State, path: str) -> _State:
        ends = [self.walk(branch, replace(state), path) for branch in layer.paths]
        sizes = {end.shape[1:] for end in ends}
        if len(sizes) != 1:
            raise SpecError(f"layer {layer.name}: the branches end in different sizes "
                            f"{', '.join(_shape(e.shape) for e in ends)}")
        channels = sum(end.shape[0] for end in ends)
        new = _State((channels, *ends[0].shape[1:]), max(e.rf for e in ends), max(e.jump for e in ends))
        self._record(layer, new, path)
        return new

    # -- shared pieces -------------------------------------------------------------
    def _spatial(self, layer: Layer, state: _State) -> tuple[int, int, int]:
        if len(state.shape) != 3:
            raise SpecError(f"layer {layer.name}: a {layer.kind} layer needs an image, but its input is flat "
                            f"({state.shape[0]} values)")
        return state.shape

    def _size(self, layer: Layer, n: int, k: int, s: int, p: int, d: int) -> int:
        span = n + 2 * p - d * (k - 1) - 1
        if span < 0:
            raise SpecError(f"layer {layer.name}: output would be empty: input {n}, kernel {k}, padding {p}")
        if span % s and self.network.rounding == "exact":
            raise SpecError(f"layer {layer.name}: (input {n} + 2*{p} - {d}*({k} - 1) - 1)/stride {s} = {span}/{s} is "
                            "not a whole number; fix the layer or set rounding = \"floor\" (as PyTorch rounds)")
        return span // s + 1

    def _sizes(self, layer: Layer, height: int, width: int, k: int, s: int, p: int, d: int) -> None:
        for symbol, n in (("H", height), ("W", width)) if height != width else (("H", height),):
            self.compute(symbol, layer.name, symbol, OUTPUT_SIZE, {H: n, K: k, S: s, P: p, D: d},
                         self._size(layer, n, k, s, p, d), "output-size")

    def _field(self, layer: Layer, before: _State, after: _State, k: int, s: int, d: int) -> None:
        self.compute("r", layer.name, "r", RECEPTIVE_FIELD, {R: before.rf, D: d, K: k, J: before.jump},
                     after.rf, "receptive-field")
        self.compute("j", layer.name, "j", JUMP, {J: before.jump, S: s}, after.jump, "jump")


def _product(shape: tuple[int, ...]) -> int:
    total = 1
    for value in shape:
        total *= value
    return total


def _product_formula(shape: tuple[int, ...]):
    with sp.evaluate(False):
        return sp.Mul(*(sp.Integer(v) for v in shape)) if len(shape) > 1 else sp.Integer(shape[0])


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in (shape[1:] + shape[:1] if len(shape) == 3 else shape))


def analyse(network: Network, convention: Convention | None = None, bytes_per_value: int = 4,
            reference: Report | None = None) -> Report:
    """The whole arithmetic of a network, as rows and as a verified Derivation.

    Args:
        network: the layers.
        convention: what the parameter and activation totals include (default: everything).
        bytes_per_value: bytes per stored activation (4 for float32).
        reference: another network's report; the MACs ratio to it and the reduction from it
            (1 - M/M_ref, a percentage) are derived too.

    Raises:
        SpecError: a layer that cannot be built (empty output, groups that do not divide, ...).
    """
    convention = convention or Convention()
    height, width, channels = network.input
    walker = _Walker(network, convention, bytes_per_value)
    start = _State((channels, height, width))
    walker._record(Layer("input", "input"), start, "main")
    walker.walk(network.layers, start, "main")
    rows = walker.rows
    totals = {
        "params": sum(convention.counts(r) for r in rows),
        "activations": sum(convention.counts_activations(r) for r in rows),
        "macs": sum(r.macs for r in rows),
    }
    totals["activation_bytes"] = totals["activations"] * bytes_per_value
    builder = walker.builder
    for name, symbol_text, check in (("params", r"\#p", totals["params"]), ("activations", "A", totals["activations"]),
                                     ("macs", r"\mathrm{MACs}", totals["macs"])):
        count = {"params": convention.counts, "activations": convention.counts_activations,
                 "macs": lambda r: r.macs}[name]
        parts = [count(r) for r in rows if count(r)]
        formula = sp.Add(*map(sp.Integer, parts), evaluate=False) if len(parts) > 1 else sp.Integer(check)
        total = walker.symbol(f"total_{name}", "total", symbol_text)
        builder.compute(total, formula, {}, check, f"total-{name}")
        builder.result(name)
    builder.compute(walker.symbol("total_bytes", "total", "B"), sp.Symbol("A_total") * bytes_per_value,
                    {sp.Symbol("A_total"): sp.Integer(totals["activations"])}, totals["activation_bytes"], "bytes")
    builder.result("activation_bytes")
    builder.quantities = (*builder.quantities, *walker.quantities.values(),
                          Quantity("A_total", sp.Symbol("A_total"), r"A_{\text{total}}"))
    if reference is not None:
        macs = {sp.Symbol("M_ref"): sp.Integer(reference.totals["macs"]), sp.Symbol("M"): sp.Integer(totals["macs"])}
        ratio = sp.Rational(reference.totals["macs"], totals["macs"])
        builder.compute(walker.symbol("ratio", "ref", "", r"\mathrm{MACs}_{\text{ref}} / \mathrm{MACs}"),
                        sp.Symbol("M_ref") / sp.Symbol("M"), macs, ratio, "macs-ratio")
        builder.result("macs_ratio")
        reduction = 1 - sp.Rational(totals["macs"], reference.totals["macs"])
        builder.compute(walker.symbol("reduction", "ref", "", r"\rho_{\mathrm{MACs}}"),
                        (sp.Symbol("M_ref") - sp.Symbol("M")) / sp.Symbol("M_ref"), macs, reduction, "macs-reduction")
        builder.result("macs_reduction", percent=True)
        totals["macs_ratio"] = {"reference": reference.network.name, "exact": sp.sstr(ratio), "float": float(ratio)}
        totals["macs_reduction"] = {"reference": reference.network.name, "exact": sp.sstr(reduction),
                                    "float": float(reduction), "reference_macs": reference.totals["macs"]}
    builder.quantities = (*builder.quantities, Quantity("M_ref", sp.Symbol("M_ref"), r"M_{\text{ref}}"),
                          Quantity("M", sp.Symbol("M"), "M"))
    for key, count, symbol_text in (("largest_params", convention.counts, r"\#p"),
                                    ("largest_activations", convention.counts_activations, "A")):
        row = max(rows, key=count)
        totals[key] = row.name
        builder.compute(walker.symbol(key, row.name, symbol_text), sp.Integer(count(row)), {}, count(row), key)
    if convention.sheet:
        main = [r for r in rows if r.path == "main"]
        parts = {"bias": sum(r.bias for r in main if r.kind in ("conv", "linear")),
                 "batch_norm": sum(r.params for r in main if r.kind == "bn"),
                 "downsample": sum(r.params for r in rows if r.path == "downsample")}
        full = sum(r.params for r in rows)
        symbols = {name: sp.Symbol(f"part_{name}") for name in parts}
        builder.compute(walker.symbol("difference", "full - sheet", "", r"\#p_{\text{full}} - \#p_{\text{sheet}}"),
                        sp.Add(*symbols.values()),
                        {symbols[n]: sp.Integer(v) for n, v in parts.items()}, full - totals["params"], "difference")
        totals["difference_from_full"] = {"full": full, **parts}
        part_latex = {"bias": r"\#b", "batch_norm": r"\#p_{\text{BN}}", "downsample": r"\#p_{\text{downsample}}"}
        builder.quantities = (*builder.quantities, *(Quantity(f"part_{n}", sym, part_latex[n])
                                                     for n, sym in symbols.items()))
    # the quantities named after the totals (largest_..., difference) print in their notation too
    known = {q.key for q in builder.quantities}
    builder.quantities = (*builder.quantities, *(q for q in walker.quantities.values() if q.key not in known))
    report = Report(network, rows, convention, bytes_per_value, None, totals)
    built = builder.build(title=network.title)
    report.derivation = NetworkDerivation(**{f.name: getattr(built, f.name) for f in fields(Derivation)},
                                          report=report)
    return report


def to_json(report: Report) -> str:
    """The JSON contract of ``derive net --json``."""
    import json

    convention = report.convention
    layers = [{"name": r.name, "type": r.kind, "output_shape": list(r.output_shape[1:] + r.output_shape[:1])
               if len(r.output_shape) == 3 else list(r.output_shape), "params": convention.counts(r),
               "weights": r.weights, "bias": r.bias, "activations": convention.counts_activations(r), "macs": r.macs,
               "receptive_field": r.receptive_field, "jump": r.jump, "path": r.path} for r in report.rows]
    return json.dumps({"name": report.network.name, "title": report.network.title, "input": list(report.network.input),
                       "convention": {"batch_norm": convention.batch_norm, "bias": convention.bias,
                                      "sheet": convention.sheet, "bytes_per_value": report.bytes_per_value},
                       "layers": layers, "totals": report.totals}, ensure_ascii=False, indent=1)
