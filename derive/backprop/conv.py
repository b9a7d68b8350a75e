"""Convolution by hand: every output entry as its sum of products, exactly.

Cross-correlation by default (what deep-learning libraries compute and call convolution);
``flip=True`` gives the true convolution (the kernel turned by 180 degrees).
"""

from __future__ import annotations

import json

import sympy as sp

from .. import limits
from ..engine import Builder
from ..errors import UsageError
from ..notation import Quantity
from ..params import parse_number


def parse_matrix(text: str, what: str) -> list[list[sp.Rational]]:
    """A matrix written as JSON rows, ``[[1, 2], [3, 4]]``, read exactly (0.1 is 1/10); its rows
    and columns within the limit ``conv2d.image`` or ``conv2d.kernel`` (checked before the
    numbers are read)."""
    try:
        rows = json.loads(text, parse_float=str, parse_int=str)
    except (ValueError, RecursionError):
        rows = None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise UsageError(f"--{what} must be rows of numbers such as [[1, 2], [3, 4]]")
    limits.check(f"conv2d.{what}", len(rows), f"--{what}", "rows")
    limits.check(f"conv2d.{what}", max(map(len, rows), default=0), f"--{what}", "columns")
    try:
        matrix = [[parse_number(str(v)) for v in row] for row in rows]
    except (ValueError, TypeError, ZeroDivisionError):
        raise UsageError(f"--{what} must be rows of numbers such as [[1, 2], [3, 4]]") from None
    if not matrix or not matrix[0] or len({len(row) for row in matrix}) != 1:
        raise UsageError(f"--{what}: every row must have the same, non-zero, length")
    return matrix


def output_size(image, kernel, padding: int, stride: int) -> tuple[int, int]:
    """The output's rows and columns; the padding, the stride, the output and the products
    written out are checked against their limits here, before anything is computed."""
    if padding < 0 or stride < 1:
        raise UsageError("--padding must be >= 0 and --stride >= 1")
    limits.check("conv2d.padding", padding, what="--padding")
    limits.check("conv2d.stride", stride, what="--stride")
    rows, cols, k_rows, k_cols = len(image), len(image[0]), len(kernel), len(kernel[0])
    out_rows, out_cols = (rows + 2 * padding - k_rows) // stride + 1, (cols + 2 * padding - k_cols) // stride + 1
    if out_rows < 1 or out_cols < 1:
        raise UsageError(f"the {k_rows}x{k_cols} kernel does not fit the {rows}x{cols} image with padding {padding}")
    where = f"padding {padding}, stride {stride}"
    limits.check("conv2d.outputs", out_rows * out_cols, where, f"entries of the {out_rows}x{out_cols} output")
    limits.check("conv2d.products", out_rows * out_cols * k_rows * k_cols, where,
                 f"products written out ({out_rows * out_cols} entries x {k_rows * k_cols})")
    return out_rows, out_cols


def convolve(builder: Builder, image, kernel, padding: int, stride: int, flip: bool, label: str) -> list[list]:
    """Record every output entry of one 2-D convolution in ``builder``; returns the output."""
    out_rows, out_cols = output_size(image, kernel, padding, stride)
    if flip:
        kernel = [row[::-1] for row in kernel[::-1]]
    rows, cols, k_rows, k_cols = len(image), len(image[0]), len(kernel), len(kernel[0])
    output, quantities = [], list(builder.quantities)
    for i in range(out_rows):
        row = []
        for j in range(out_cols):
            terms = [(image[i * stride + a - padding][j * stride + c - padding], kernel[a][c])
                     for a in range(k_rows) for c in range(k_cols)
                     if 0 <= i * stride + a - padding < rows and 0 <= j * stride + c - padding < cols]
            value = sum((pixel * weight for pixel, weight in terms), sp.Integer(0))
            formula = sp.Add(*(sp.Mul(pixel, weight, evaluate=False) for pixel, weight in terms),
                             evaluate=False) if terms else sp.Integer(0)
            key = f"O{label}[{i + 1},{j + 1}]"
            symbol = sp.Symbol(key)
            quantities.append(Quantity(key, symbol, f"O^{{{label}}}_{{{i + 1},{j + 1}}}" if label
                                       else f"O_{{{i + 1},{j + 1}}}", text=key))
            builder.compute(symbol, formula, {}, value, "sum-of-products")
            row.append(value)
        output.append(row)
    matrix = sp.Matrix(output)
    name = f"output{label}"
    builder.quantities = (*quantities, Quantity(name, sp.Symbol(name), f"O^{{{label}}}" if label else "O"))
    builder.define(sp.Symbol(name), matrix, "result-matrix")
    builder.result(name)
    return output


def worked(image, kernel, parts, flip: bool, name: str, title: str):
    """A Derivation of one or several convolutions of the same image (``parts``: (padding, stride)
    pairs), and their outputs."""
    builder = Builder(name, "conv2d", ())
    outputs = [convolve(builder, image, kernel, p, s, flip, f"p{p}s{s}" if len(parts) > 1 else "")
               for p, s in parts]
    return builder.build(title=title), outputs


def exact_matrix(rows) -> list[list[sp.Rational]]:
    """A matrix of plain numbers (from TOML or a built-in example), exactly."""
    return [[parse_number(str(v)) for v in row] for row in rows]


def agrees_with_published(outputs: list[list[list]], published: list) -> list[bool]:
    """For each computed output, whether it equals the matrix the sheet published (exactly)."""
    return [exact_matrix(matrix) == output for matrix, output in zip(published, outputs, strict=True)]


def bmatrix(matrix) -> str:
    """A matrix as LaTeX ``bmatrix`` (exact entries, minus signs as minus signs)."""
    rows = r" \\ ".join(" & ".join(sp.latex(value) for value in row) for row in matrix)
    return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"


def _plain(matrix) -> str:
    return "[" + "; ".join(", ".join(sp.sstr(value) for value in row) for row in matrix) + "]"


def sheet_givens(derivation, words) -> dict | None:
    """What a handout states of a conv2d problem (a sheet poses one by a built-in example): the
    sentence naming the image I and the kernel K, then both as matrices (``givens``, two
    :class:`~derive.markup.Marked`), and one question per padding and stride in words (``asked``:
    (target name, Marked) pairs); None for any other derivation. ``words`` is the wording table of the document's language."""
    from .. import markup
    from ..catalog.examples import EXAMPLES

    spec = EXAMPLES.get(derivation.name) if derivation.family == "conv2d" else None
    if spec is None or spec.get("kind") != "conv2d":
        return None
    image, kernel = exact_matrix(spec["image"]), exact_matrix(spec["kernel"])
    sheet = words["sheet"]
    given = markup.marked(sheet["conv2d_given"])
    shown = markup.Marked(f"I = {_plain(image)},  K = {_plain(kernel)}",
                          rf"\[ \mathbf{{I}} = {bmatrix(image)}, \qquad \mathbf{{K}} = {bmatrix(kernel)} \]",
                          f"$$\\mathbf{{I}} = {bmatrix(image)}, \\qquad \\mathbf{{K}} = {bmatrix(kernel)}$$")
    names = {q.key: q for q in derivation.quantities}
    asked = []
    for padding, stride in spec["parts"]:
        output = names[f"output{f'p{padding}s{stride}' if len(spec['parts']) > 1 else ''}"]
        asked.append((output.key, markup.marked(sheet["conv2d_part"], {
            "padding": markup.user(padding), "stride": markup.user(stride),
            "output": markup.math(output.latex, output.key)})))
    return {"givens": [given, shown], "asked": asked}
