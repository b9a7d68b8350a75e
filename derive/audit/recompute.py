"""Recomputing a claim's quantity with the engine: networks (:mod:`derive.architecture`) and
worked examples (:mod:`derive.backprop`), with the values a disagreement is explained by:
the same quantity under the other counting conventions, and the same kind of quantity
elsewhere (another layer, another parameter) for a swapped label.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import sympy as sp

from .. import catalog
from ..errors import UsageError
from .claims import (
    CONVENTIONS,
    NETWORK_QUANTITIES,
    SUMMABLE,
    Claim,
    ClaimsError,
    parse_matrix,
    parse_number,
    parse_shape,
)

LAYER_ONLY = {"output_shape", "output_size", "receptive_field", "jump"}


@dataclass
class Computed:
    """What the engine gives for a claim, and the values that may explain a disagreement."""

    value: object                                   # Fraction, a shape tuple or a matrix
    exact: bool = True                              # False: a float approximation of an irrational
    conventions: list[tuple[str, object]] = field(default_factory=list)
    others: list[tuple[str, object]] = field(default_factory=list)


def _fraction(value: sp.Basic) -> tuple[Fraction, bool]:
    value = sp.nsimplify(value) if isinstance(value, sp.Float) else value
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q)), True
    return Fraction(str(sp.N(value, 40))), False


# -- validation ------------------------------------------------------------------------
def validate(claim: Claim, folder: Path) -> Claim:
    """Check that a claim's names exist and its claimed value can be read; returns the claim
    (with its spec file resolved). Raises ClaimsError / UsageError with what is wrong."""
    if claim.kind == "entry":
        return _validate_entry(claim)
    if claim.kind == "network":
        claim = _validate_network(claim, folder)
    else:
        _validate_example(claim)
    claimed_value(claim)
    return claim


def _validate_entry(claim: Claim) -> Claim:
    entries = {e.name: e for e in catalog.entries()}
    if claim.name not in entries:
        from ..errors import UnknownNameError

        raise UnknownNameError("catalog entry", claim.name, entries)
    targets = entries[claim.name].targets
    if claim.quantity not in targets:
        raise ClaimsError(f"'{claim.name}' has no target {claim.quantity!r}; its targets: {', '.join(targets)}")
    return claim


def claimed_value(claim: Claim):
    """The claimed value of a network or example claim, read (never evaluated)."""
    try:
        if claim.quantity == "output_shape":
            return parse_shape(claim.claims)
        if claim.quantity.startswith("output") and claim.kind == "example":
            return parse_matrix(claim.claims)
        return parse_number(claim.claims, claim.approx)
    except ValueError:
        shape = {"output_shape": "H x W x C, such as 27 \\times 27 \\times 96"}.get(
            claim.quantity, "rows of numbers, such as [[1, 2], [3, 4]] or a pmatrix"
            if claim.quantity.startswith("output") and claim.kind == "example" else
            "a number as the sheet writes it, such as 11 506 880, 2 653.5 K, 6.4 \\times 10^9 or 77.5%")
        raise ClaimsError(f"claims {claim.claims[:60]!r} cannot be read as {shape}") from None


def _validate_network(claim: Claim, folder: Path) -> Claim:
    if claim.quantity not in NETWORK_QUANTITIES:
        raise ClaimsError(f"unknown quantity {claim.quantity!r} for a network; one of {', '.join(NETWORK_QUANTITIES)}")
    if claim.convention is not None and claim.convention not in CONVENTIONS:
        raise ClaimsError(f"unknown convention {claim.convention!r}; one of {', '.join(repr(c) for c in CONVENTIONS)}")
    spec = None
    if claim.name.endswith(".toml"):
        if "/" in claim.name or "\\" in claim.name or claim.name.startswith("."):
            raise ClaimsError(f"network spec {claim.name!r} must be a file name in the claims file's folder")
        spec = folder / claim.name
        if not spec.is_file():
            raise ClaimsError(f"network spec {claim.name!r}: no such file beside the claims file")
    claim = replace(claim, spec=spec)
    report = _analysis(claim.name, spec, claim.convention or "full", claim.bytes_per_value)
    if claim.quantity in ("macs_ratio", "macs_reduction"):
        if "macs_ratio" not in report.totals or claim.layer:
            raise ClaimsError(f"{claim.quantity} needs a network compared with a reference (inception-bottleneck), "
                              "and no layer")
    elif claim.layer is None and claim.quantity in LAYER_ONLY:
        raise ClaimsError(f"{claim.quantity} needs a 'layer'")
    elif claim.layer is not None:
        rows = _rows(report, claim.layer)
        if not rows:
            raise ClaimsError(f"network {claim.name!r} has no layer matching {claim.layer!r}")
        if len(rows) > 1 and claim.quantity not in SUMMABLE:
            raise ClaimsError(f"{claim.quantity} is of one layer; {claim.layer!r} matches {len(rows)}")
    return claim


def _validate_example(claim: Claim) -> None:
    from ..catalog.examples import example

    table = example(claim.name)
    names = _example_quantities(claim.name)
    if claim.quantity not in names:
        shown = ", ".join(sorted(names)[:12])
        raise ClaimsError(f"example {claim.name!r} has no quantity {claim.quantity!r}; "
                          f"for example {shown}{', ...' if len(names) > 12 else ''}")
    if table["kind"] == "conv2d" and claim.approx:
        raise ClaimsError("'approx' does not apply to a matrix")


# -- networks ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _analysis(name: str, spec: Path | None, convention: str, bytes_per_value: int):
    from ..architecture.arithmetic import Convention, analyse
    from ..architecture.spec import read_network
    from ..catalog import architectures

    network = read_network(spec) if spec else architectures.builtin(name)
    reference = architectures.REFERENCES.get(network.name) if not spec else None
    batch_norm, bias, sheet = CONVENTIONS[convention]
    rules = Convention(batch_norm, bias, sheet)
    if reference:
        reference = analyse(architectures.builtin(reference), rules, bytes_per_value)
    return analyse(network, rules, bytes_per_value, reference)


def _rows(report, pattern: str) -> list:
    if any(c in pattern for c in "*?["):
        return [r for r in report.rows if fnmatch.fnmatchcase(r.name, pattern) and r.kind != "residual"]
    return [r for r in report.rows if r.name == pattern][:1]


def _row_value(report, row, quantity: str):
    rules = report.convention
    counted = row.kind in ("conv", "linear") and (not rules.sheet or row.path == "main")
    values = {"params": lambda: rules.counts(row), "weights": lambda: row.weights if counted else 0,
              "bias": lambda: row.bias if counted else 0, "activations": lambda: rules.counts_activations(row),
              "activation_bytes": lambda: rules.counts_activations(row) * report.bytes_per_value,
              "macs": lambda: row.macs, "receptive_field": lambda: row.receptive_field, "jump": lambda: row.jump,
              "output_size": lambda: row.output_shape[1] if len(row.output_shape) == 3 else row.output_shape[0],
              "output_shape": lambda: tuple(row.output_shape[1:] + row.output_shape[:1])
              if len(row.output_shape) == 3 else tuple(row.output_shape)}
    return values[quantity]()


def _network_value(report, quantity: str, layer: str | None):
    if quantity == "macs_ratio":
        return Fraction(report.totals["macs_ratio"]["exact"])
    if quantity == "macs_reduction":
        return 1 - 1 / Fraction(report.totals["macs_ratio"]["exact"])
    if layer is None:
        if quantity in report.totals:
            return Fraction(report.totals[quantity])
        return Fraction(sum(_row_value(report, r, quantity) for r in report.rows))
    values = [_row_value(report, r, quantity) for r in _rows(report, layer)]
    return values[0] if quantity == "output_shape" else Fraction(sum(values))


def network(claim: Claim) -> Computed:
    """The claimed quantity of a network, under the claim's convention and the others."""
    stated = claim.convention or "full"
    report = _analysis(claim.name, claim.spec, stated, claim.bytes_per_value)
    computed = Computed(_network_value(report, claim.quantity, claim.layer))
    if claim.quantity in SUMMABLE:
        for convention in CONVENTIONS:
            if convention != stated:
                other = _analysis(claim.name, claim.spec, convention, claim.bytes_per_value)
                computed.conventions.append((convention, _network_value(other, claim.quantity, claim.layer)))
    if claim.layer is not None and not any(c in claim.layer for c in "*?["):
        seen = {claim.layer}
        for row in report.rows:
            if row.name not in seen and row.kind != "residual":
                seen.add(row.name)
                value = _row_value(report, row, claim.quantity)
                if value:
                    computed.others.append((row.name, value if isinstance(value, tuple) else Fraction(value)))
    return computed


# -- worked examples ---------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _example_run(name: str):
    from ..backprop.graph import graph_from, run
    from ..catalog.examples import example

    table = example(name)
    kind = table.pop("kind")
    if kind == "conv2d":
        from ..backprop.conv import exact_matrix, worked

        _, outputs = worked(exact_matrix(table["image"]), exact_matrix(table["kernel"]), table["parts"], False,
                            name, table["title"])
        labels = ["output"] if len(table["parts"]) == 1 else [f"output.p{p}s{s}" for p, s in table["parts"]]
        return {label: [[_fraction(v)[0] for v in row] for row in out] for label, out in zip(labels, outputs,
                                                                                             strict=True)}
    graph = graph_from(table, name)
    result = run(graph)
    values = {"loss": result.loss, **result.forward, **{f"grad.{p}": g for p, g in result.grads.items()}}
    if graph.steps:
        after = run(replace(graph, params=result.updated, steps=0))
        values.update({f"updated.{p}": v for p, v in result.updated.items()}, loss_after=result.loss_after,
                      **{f"after.{n}": v for n, v in after.forward.items()})
    known = {sp.Symbol(k, real=True): v for k, v in {**graph.inputs, **graph.params, **result.forward}.items()}
    for node, expr in graph.nodes.items():
        for operand in expr.free_symbols:
            values[f"d{node}/d{operand.name}"] = sp.diff(expr, operand).xreplace(known).doit()
    for node, adjoint in result.adjoints.items():
        if node != graph.loss:
            values.setdefault(f"d{graph.loss}/d{node}", adjoint)
    return {key: _fraction(value) for key, value in values.items() if getattr(value, "is_number", False)}


def _example_quantities(name: str) -> set[str]:
    return set(_example_run(name))


def _family(quantity: str) -> str:
    if quantity.startswith("d") and "/d" in quantity:
        return "derivative"
    return quantity.split(".", 1)[0] if "." in quantity else "node"


def example(claim: Claim) -> Computed:
    """The claimed quantity of a worked example, and the other quantities of its kind."""
    values = _example_run(claim.name)
    value = values[claim.quantity]
    if claim.quantity.startswith("output"):
        return Computed(value)
    computed = Computed(value[0], value[1])
    family = _family(claim.quantity)
    computed.others = [(key, v[0]) for key, v in values.items()
                       if key != claim.quantity and _family(key) == family and not key.startswith("output")]
    return computed


def recompute(claim: Claim) -> Computed:
    """What the engine gives for a network or example claim."""
    try:
        return network(claim) if claim.kind == "network" else example(claim)
    except UsageError:
        raise
    except (ArithmeticError, ValueError) as error:  # pragma: no cover - a defect, reported as one line
        raise UsageError(f"claim {claim.index}: cannot be computed: {error}") from None
