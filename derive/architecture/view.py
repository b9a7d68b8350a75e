"""A network's arithmetic as the documents print it: tables, totals on short lines, the layer list.

The numbers are the :class:`~derive.architecture.arithmetic.Report`'s (computed and verified by
:mod:`derive.architecture.arithmetic`); this module only writes them: digits grouped as the
document's language groups them (en ``36{,}864``, zh ``36\\,864``), K/M/G beside a value where
the course writes them (K = 10³), every layer name through :func:`~derive.printing.tex_escape`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import sympy as sp

from .. import markup
from ..printing import approximate, tex_escape
from .arithmetic import Report, Row
from .spec import Layer

#: thousands separators in math mode, by language
SEPARATORS = {"en": "{,}", "zh": r"\,"}
#: layers folded into the row of the layer before them in a handout's layer list
FOLDED = ("bn", "activation", "dropout", "lrn")
#: the quantities of one layer, in the order its derivation computes them
LAYER_QUANTITIES = ("H", "W", "weights", "bias", "params", "MACs", "r", "j", "A")
_NUMBER = re.compile(r"(?<![\d.])\d{4,}(?![\d.])")


def number(value: int, lang: str) -> str:
    """``value`` in math mode with its thousands grouped (``36\\,864``; en ``36{,}864``)."""
    text = f"{value:,}"
    return text.replace(",", SEPARATORS.get(lang, "{,}"))


def scaled(value: float, unit: str = "") -> str:
    r"""``value`` in K, M or G (powers of 1000) as the seeds write them: one decimal from 10 up
    (``802.8\,\mathrm{K}``, ``854.2\,\mathrm{M}``, ``1\,\mathrm{K}``), three significant digits
    below (``2.66\,\mathrm{M}``, ``0.512\,\mathrm{K}``)."""
    for power, prefix in ((9, "G"), (6, "M"), (3, "K")):
        if value >= 10 ** power or prefix == "K":
            amount = value / 10 ** power
            shown = f"{amount:.1f}".removesuffix(".0") if amount >= 10 else f"{amount:.3g}"
            return rf"{shown}\,\mathrm{{{prefix}{unit}}}"
    return str(value)


def group_digits(tex: str, lang: str) -> str:
    r"""Every number of four or more digits in ``tex`` grouped as :func:`number` groups it, except
    inside ``\text{...}`` (a layer's name stays as its spec writes it)."""
    out, start = [], 0
    while (begin := tex.find(r"\text{", start)) >= 0:
        out.append(_NUMBER.sub(lambda m: number(int(m.group()), lang), tex[start:begin]))
        depth, index = 0, begin + len(r"\text")
        while index < len(tex):
            character = tex[index]
            if character == "\\":
                index += 2
                continue
            depth += {"{": 1, "}": -1}.get(character, 0)
            index += 1
            if depth == 0:
                break
        out.append(tex[begin:index])
        start = index
    out.append(_NUMBER.sub(lambda m: number(int(m.group()), lang), tex[start:]))
    return "".join(out)


def _name(name: str) -> str:
    """A layer name for a table cell: escaped, with a break allowed after each dot."""
    return tex_escape(name).replace(".", r".\allowbreak{}")


def _shape(shape: tuple[int, ...], lang: str) -> str:
    shown = shape[1:] + shape[:1] if len(shape) == 3 else shape
    return "$" + r"\times ".join(number(v, lang) for v in shown) + "$"


def _kind(row_or_layer, words: Mapping) -> str:
    """A layer's type as the tables print it: ``conv 3×3/2``, ``max pool 3×3/2``, ``FC``."""
    kind = row_or_layer.kind
    label = markup.marked(words["kinds"].get(kind, kind)).tex
    options = row_or_layer.options if isinstance(row_or_layer, Layer) else {}
    if kind in ("conv", "maxpool", "avgpool") and options:
        kernel = options.get("kernel", 1)
        stride = options.get("stride", 1 if kind == "conv" else kernel)
        label += rf" ${kernel}\times {kernel}$" + (f"/{stride}" if stride != 1 else "")
    return label


def _params_formula(row: Row, layer: Layer | None, counted: int, lang: str) -> str:
    """The parameter count in the course's compact form: ``(3×3×64)×64 = 36 864`` (the bias
    term only where the convention counts it: ``counted`` is the row's count under it)."""
    value = number(counted, lang)
    if counted == row.weights:
        row = dataclasses.replace(row, bias=0)
    if row.kind == "conv" and layer is not None:
        kernel, groups = layer.get("kernel", 1), layer.get("groups", 1)
        per_kernel = row.weights // (kernel * kernel * row.output_shape[0])
        formula = (rf"({kernel}\times {kernel}\times {number(per_kernel, lang)})\times "
                   rf"{number(row.output_shape[0], lang)}" + (f" + {number(row.bias, lang)}" if row.bias else ""))
        return f"${formula} = {value}$" + (f" ($g = {groups}$)" if groups != 1 else "")
    if row.kind == "linear":
        fan_in = row.weights // row.output_shape[0]
        formula = (rf"{number(fan_in, lang)}\times {number(row.output_shape[0], lang)}"
                   + (f" + {number(row.bias, lang)}" if row.bias else ""))
        return f"${formula} = {value}$"
    if row.kind == "bn" and row.bias:
        return rf"$2\times {number(row.output_shape[0], lang)} = {value}$"
    return f"${value}$"


def _in_row_order(layers: tuple[Layer, ...]):
    """The layers in the order the arithmetic records their rows (a residual or concat layer
    after the layers inside it)."""
    for layer in layers:
        for path in layer.paths:
            yield from _in_row_order(path)
        yield layer


def shown_rows(report: Report) -> list[Row]:
    """The rows a key's table lists: the input, and every layer that adds to a total under the
    report's convention (parameters, memory or MACs); the others (a ReLU under the sheet's
    convention, a residual sum) add nothing a reader needs."""
    counts = report.convention
    return [r for r in report.rows if r.kind == "input" or counts.counts(r) or counts.counts_activations(r) or r.macs]


def key_rows(report: Report, words: Mapping, lang: str) -> tuple[list[dict], bool]:
    """The key's table: one row per shown layer, each cell TeX; and whether a cell reads
    "not counted" (a dash: the layer has it, the convention leaves it out)."""
    layers = dict(zip(map(id, report.rows[1:]), _in_row_order(report.network.layers), strict=True))
    counts, dashed, rows = report.convention, False, []
    for row in shown_rows(report):
        layer = layers.get(id(row))
        memory = counts.counts_activations(row)
        params = counts.counts(row)
        dashed |= bool(row.activations and not memory or row.params and not params)
        rows.append({
            "name": _name(row.name) if row.kind != "input" else markup.marked(words["kinds"]["input"]).tex,
            "type": _kind(layer or row, words),
            "output": _shape(row.output_shape, lang),
            "memory": (f"${number(memory, lang)}$ (${scaled(memory)}$)" if memory else
                       "---" if row.activations else "$0$"),
            "params": (_params_formula(row, layer, params, lang) if params else "---" if row.params else "$0$"),
            "macs": f"${number(row.macs, lang)}$" + (f" (${scaled(row.macs)}$)" if row.macs >= 10 ** 6 else ""),
            "rf": f"${row.receptive_field}$",
        })
    return rows, dashed


def _runs(parts: list[int], lang: str) -> str:
    """A sum of ``parts`` with each run of equal terms written once: ``4 \\times 36\\,864``."""
    terms, index = [], 0
    while index < len(parts):
        end = index
        while end < len(parts) and parts[end] == parts[index]:
            end += 1
        count = end - index
        terms.append((rf"{count} \times " if count > 1 else "") + number(parts[index], lang))
        index = end
    return " + ".join(terms)


def totals(report: Report, words: Mapping, lang: str) -> list[dict]:
    """The totals, each a short line: what it is, the sum of its column (equal terms counted
    once), the value and the value in K/M/G (bytes in MB)."""
    counts, rows, result = report.convention, report.rows, report.totals
    lines = []
    for key, count, total in (("total_params", counts.counts, result["params"]),
                              ("total_memory", counts.counts_activations, result["activations"]),
                              ("total_macs", lambda r: r.macs, result["macs"])):
        parts = [count(r) for r in rows if count(r)]
        lines.append({"label": markup.marked(words[key]).tex,
                      "sum": _runs(parts, lang) if len(parts) > 1 else "",
                      "value": number(total, lang), "scaled": scaled(total)})
    per_value = report.bytes_per_value
    lines.insert(2, {"label": markup.marked(words["total_bytes"]).tex,
                     "sum": rf"{per_value} \times {number(result['activations'], lang)}",
                     "value": number(result["activation_bytes"], lang) + r"\,\mathrm{B}",
                     "scaled": scaled(result["activation_bytes"], "B")})
    reduction = result.get("macs_reduction")
    if reduction:
        before, after = number(reduction["reference_macs"], lang), number(result["macs"], lang)
        fraction = sp.Rational(reduction["exact"])
        lines.append({"label": markup.marked(words["total_reduction"]).tex,
                      "sum": rf"({before} - {after}) / {before}",
                      "value": f"{number(int(fraction.p), lang)}/{number(int(fraction.q), lang)}",
                      "scaled": approximate(reduction["float"], percent=True)["approx_tex"]})
    difference = result.get("difference_from_full")
    if difference:
        lines.append({"label": markup.marked(words["difference"]).tex,
                      "sum": (rf"{number(difference['full'], lang)} - {number(result['params'], lang)}"
                              rf" = {number(difference['bias'], lang)} + {number(difference['batch_norm'], lang)}"
                              rf" + {number(difference['downsample'], lang)}"),
                      "value": number(difference["full"] - result["params"], lang), "scaled": ""})
    return lines


def largest(report: Report, words: Mapping, lang: str) -> str:
    """The sentence naming the layers with the most parameters and the most activations."""
    counts = {r.name: r for r in report.rows}
    params, activations = counts[report.totals["largest_params"]], counts[report.totals["largest_activations"]]
    return markup.marked(words["largest"], {
        "params_layer": markup.user(params.name), "params": markup.math(number(report.convention.counts(params), lang)),
        "activations_layer": markup.user(activations.name),
        "activations": markup.math(number(report.convention.counts_activations(activations), lang))}).tex


def examples(report: Report):
    """The derivation cut to one layer of each type, computed in full (the first of its type
    among the table's rows that has more than its activation count to compute)."""
    derivation, seen, names = report.derivation, set(), []
    for row in shown_rows(report):
        if row.kind not in seen and row.kind not in ("input", "gap", "flatten", "activation", "dropout", "lrn",
                                                     "concat", "residual"):
            seen.add(row.kind)
            names.append(row.name)
    keys = {f"{quantity}[{name}]" for name in names for quantity in LAYER_QUANTITIES}
    steps, keep = [], False
    for step in derivation.steps:
        if step.lhs is not None:
            keep = getattr(step.lhs, "name", None) in keys
        if keep:
            steps.append(step)
    return dataclasses.replace(derivation, steps=tuple(steps)) if steps else None


def chains(lines: list[dict], lang: str) -> list[dict]:
    """A derivation's lines (as :func:`derive.render.context` prints them) with each quantity on one
    line, as the seed writes a layer (``memory: 56×56×64 = 200 K``): its formula, the formula with
    the numbers and the value joined by ``=`` (``right``), its reason, each step's check (``checks``)."""
    rows: list[dict] = []
    for line in lines:
        right = group_digits(line["tex_right"], lang)
        if line["tex_left"] or not rows:
            rows.append({"left": group_digits(line["tex_left"], lang), "right": [right],
                         "reason": line["reason_tex"], "checks": [line["check_text"]]})
        else:
            if right != rows[-1]["right"][-1]:  # F_out = 1000, not = 1000 = 1000
                rows[-1]["right"].append(right)
            rows[-1]["checks"].append(line["check_text"])
    return [{**row, "right": " = ".join(row["right"])} for row in rows]


def layer_list(report: Report, words: Mapping) -> list[dict]:
    """The handout's layer list: type, kernel, stride, padding and output channels of every
    layer, batch norm, activation, dropout and LRN folded into the row before them
    (``conv + BN + ReLU``), the layers inside a residual block or a concat branch indented."""
    rows: list[dict] = []

    def cell(value) -> str:
        return "---" if value is None else f"${value}$"

    def walk(layers: tuple[Layer, ...], depth: int, prefix: str = "") -> None:
        last = None
        for layer in layers:
            label = markup.marked(words["kinds"].get(layer.kind, layer.kind)).tex
            if layer.kind in FOLDED and last is not None:
                last["type"] += " + " + label
                continue
            kernel = layer.get("kernel") if layer.kind in ("conv", "maxpool", "avgpool") else None
            stride = layer.get("stride", 1 if layer.kind == "conv" else kernel) if kernel else None
            last = {"name": _name(layer.name), "depth": depth, "type": prefix + label,
                    "kernel": rf"{kernel}\times {kernel}" if kernel else None, "stride": stride,
                    "padding": layer.get("padding", 0) if kernel else None,
                    "channels": layer.get("out") if layer.kind in ("conv", "linear") else None}
            last = {**last, **{k: cell(last[k]) for k in ("kernel", "stride", "padding", "channels")}}
            rows.append(last)
            if layer.kind == "residual":
                main, shortcut = layer.paths
                walk(main, depth + 1)
                walk(shortcut, depth + 1, markup.marked(words["shortcut"]).tex + " ")
            elif layer.kind == "concat":
                for index, branch in enumerate(layer.paths, 1):
                    walk(branch, depth + 1, markup.marked(words["branch"].format(number=index)).tex + " ")

    walk(report.network.layers, 0)
    return rows


def convention_sentence(report: Report, words: Mapping, conventions: Mapping) -> str | None:
    """What the key counts, in words, when that is not the full count (None for the full count)."""
    convention = report.convention
    if convention.sheet:
        return markup.marked(words["convention_sheet"]).tex
    left_out = [conventions[key] for key, on in (("params-no-bn", convention.batch_norm),
                                                  ("params-no-bias", convention.bias)) if not on]
    if not left_out:
        return None
    return markup.marked(words["convention_other"], {"what": markup.marked("; ".join(left_out))}).tex


def view(report: Report, words: Mapping, lang: str) -> dict:
    """Everything the network templates print of ``report`` (``words``: the whole wording table)."""
    network_words = words["network"]
    rows, dashed = key_rows(report, network_words, lang)
    height, width, channels = report.network.input
    return {
        "rows": rows, "dashed": dashed, "totals": totals(report, network_words, lang),
        "largest": largest(report, network_words, lang),
        "layers": layer_list(report, network_words),
        "intro": markup.marked(network_words["layers_given"],
                               {"input": markup.math(rf"{height}\times {width}\times {channels}")}).tex,
        "convention": convention_sentence(report, network_words, words["conventions"]),
        "reference": reference_sentence(report, words),
    }


def reference_sentence(report: Report, words: Mapping) -> str | None:
    """The handout's sentence naming the module a MACs ratio or reduction is measured from
    (None when there is none): its title in the document's language."""
    reduction = report.totals.get("macs_reduction")
    if not reduction:
        return None
    name = reduction["reference"]
    title = words["networks"].get(name)
    title = markup.marked(title) if title else markup.user(name)
    return markup.marked(words["network"]["reference_given"], {"reference": title}).tex


def problem_network(derivation, view_of_problem: Mapping, lang: str, template_dir: str | None,
                    notation: str) -> dict | None:
    """A sheet problem's network tables (None unless it is a network's arithmetic): :func:`view`,
    the results with grouped digits (``results_view``) and the worked layers (``examples``: a
    view of :func:`examples` made by :func:`derive.render.context`)."""
    from ..render import context

    report = getattr(derivation, "report", None)
    if report is None:
        return None
    words = view_of_problem["words"]
    shown = examples(report)
    worked = chains(context(shown, lang, None, template_dir, notation)["lines"], lang) if shown else None
    targets = [{**target, **{key: group_digits(target[key], lang) for key in ("tex_right", "value_tex") if key in target}}
               for target in view_of_problem["targets"]]
    return {**view(report, words, lang), "examples": worked, "results_view": {**view_of_problem, "targets": targets}}
