"""What the text table, the LaTeX document and a sheet show of a simulation.

Numbers are formatted here, every sentence comes from the ``[simulate]`` section of the wording
tables, and the plot is pgfplots ``coordinates``; the templates (``simulate.txt.j2``,
``simulate.tex.j2`` and the ``simulation_*`` macros) only lay them out.
"""

from __future__ import annotations

import json
import math
import textwrap
import unicodedata

from . import catalog, markup, profiles
from .figures import log_axis
from .printing import NotationLatexPrinter, NotationStrPrinter
from .render import _marked, fill, wording
from .simulate import INITS, Simulation

SHORT_ROWS = 7   # a sheet's table: layers 1 and 2, then about every depth/6th, and the last


def geometric_ratio(values, backward: bool = False) -> float | None:
    """The geometric mean of the layer-to-layer ratios: forward ``v[l+1]/v[l]``, backward
    ``v[l]/v[l+1]`` (going from layer l+1 down to l); None for one layer or a zero/inf value."""
    if len(values) < 2 or not all(0 < v < math.inf for v in values):
        return None
    first, last = (values[-1], values[0]) if backward else (values[0], values[-1])
    return math.exp((math.log(last) - math.log(first)) / (len(values) - 1))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def to_json(result: Simulation) -> str:
    """The JSON contract: act, init, sizes, seed, per-layer values and the measured ratios."""
    c = result.config
    layers = [{"l": n, "forward_var": _finite(fv), "forward_pred": _finite(fp), "backward_m2": _finite(bm),
               "backward_pred": _finite(bp)}
              for n, (fv, fp, bm, bp) in enumerate(zip(result.forward_var, result.forward_pred, result.backward_m2,
                                                         result.backward_pred, strict=True), 1)]
    return json.dumps({"act": c.act_name, "init": c.init_name, "depth": c.depth, "width": c.width, "batch": c.batch,
                       "seed": c.seed, "layers": layers, "forward_ratio": geometric_ratio(result.forward_var),
                       "backward_ratio": geometric_ratio(result.backward_m2, backward=True)}, indent=2)


def _column(values) -> list[tuple[str, str]]:
    """One table column in one style, each value as (text, TeX): fixed point with the same
    decimals (4 significant digits for the smallest) where every nonzero finite value lies in
    0.01..10,000 within a factor of 100, else scientific with 3 significant digits
    (``1.46e-09``; TeX ``1.46 \\times 10^{-9}``). 0, inf and nan are written as such."""
    finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
    fixed = bool(finite) and 0.01 <= min(finite) and max(finite) < 1e4 and max(finite) <= 100 * min(finite)
    decimals = min(6, max(0, 3 - math.floor(math.log10(min(finite))))) if fixed else 0
    cells = []
    for value in values:
        if value == 0 or not math.isfinite(value):
            text = "0" if value == 0 else str(value)
            cells.append((text, {"inf": r"$\infty$", "-inf": r"$-\infty$", "nan": r"$\mathrm{NaN}$"}.get(text, f"${text}$")))
        elif fixed:
            cells.append((f"{value:.{decimals}f}", f"${value:.{decimals}f}$"))
        else:
            mantissa, exponent = f"{value:.2e}".split("e")
            cells.append((f"{value:.2e}", f"${mantissa} \\times 10^{{{int(exponent)}}}$"))
    return cells


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _coordinates(values) -> str:
    """pgfplots coordinates (l, value) for l = 1..depth; zero, negative and infinite values left out."""
    return " ".join(f"({layer},{value:.6e})" for layer, value in enumerate(values, 1) if 0 < value < math.inf)


def short_layers(depth: int) -> list[int]:
    """The layers a sheet's short table shows: 1, 2, about every depth/6th, and the last."""
    return sorted({1, min(2, depth), depth, *(max(1, round(k * depth / (SHORT_ROWS - 1))) for k in range(1, SHORT_ROWS))})


def _init_fields(result: Simulation, notation: str, template_dir: str | None) -> dict[str, markup.Marked]:
    """The init's Var(W) formula, its value and the layer sizes it names (``M_{l-1} = M_l = n``),
    written in the notation profile ``notation`` over the init's catalog entry's quantities."""
    entry = INITS.get(result.config.init)   # normal:S has no catalog entry: its Var(W) is S^2
    if entry is None:
        profiles.load(notation, template_dir)
        quantities, formula = (), result.var_w_formula
    else:
        derivation = profiles.apply(catalog.get(entry), notation, template_dir)
        quantities, formula = derivation.quantities, derivation.target("var").display  # as the entry prints it
    latex, text = NotationLatexPrinter(quantities).doprint, NotationStrPrinter(quantities).doprint
    sizes = [latex(q.symbol) for q in quantities if q.key in ("n_in", "n_out") and q.symbol in formula.free_symbols]
    return {"formula": markup.math(latex(formula), text(formula)),
            "value": markup.math(latex(result.var_w), text(result.var_w)),
            "sizes": markup.math(" = ".join([*sizes, "n"]))}


def _aligned(formula: markup.Marked) -> str:
    """A one-formula phrase ``$a = b$`` as an ``align*`` row ``a &= b``."""
    return formula.tex.strip("$").replace(" = ", " &= ", 1)


def view(result: Simulation, lang: str = "en", template_dir: str | None = None,
         notation: str = profiles.DEFAULT) -> dict:
    """Everything a template needs of one simulation, formatted, in the language ``lang`` and
    the notation profile ``notation``; each sentence in every form (see :mod:`derive.markup`)."""
    words = wording(lang, template_dir)["simulate"]
    c = result.config
    numbers = {"depth": c.depth, "width": c.width, "batch": c.batch, "seed": c.seed, "float": f"{float(result.var_w):.6g}"}
    ratios = {"forward": geometric_ratio(result.forward_var), "forward_pred": geometric_ratio(result.forward_pred),
              "backward": geometric_ratio(result.backward_m2, backward=True),
              "backward_pred": geometric_ratio(result.backward_pred, backward=True)}
    fields = {"act": markup.user(c.act_name), "init": markup.user(c.init_name),
              **{key: markup.math(str(value)) for key, value in numbers.items()},
              **{key: markup.user(_ratio(value)) for key, value in ratios.items()},
              **_init_fields(result, notation, template_dir)}
    notes = ["network", "setup", *(["linear"] if c.act == "linear" else []), "readout", "readout_why", "measured",
             "predicted", "noise"]
    lines = [_marked(words[key], fields) for key in notes]
    series = {"forward_var": result.forward_var, "forward_pred": result.forward_pred,
              "backward_m2": result.backward_m2, "backward_pred": result.backward_pred}
    columns = {key: _column(values) for key, values in series.items()}   # one number style per column
    rows = [{"l": str(layer), **{key: cells[layer - 1][0] for key, cells in columns.items()},
             **{f"{key}_tex": cells[layer - 1][1] for key, cells in columns.items()}}
            for layer in range(1, c.depth + 1)]
    ratio_line = _marked(words["ratios"], fields)
    return {
        "title": _marked(words["title"]).text, "words": words, "depth": c.depth, "rows": rows,
        "short_rows": [rows[layer - 1] for layer in short_layers(c.depth)],
        "lines": [line.text for line in lines], "tex_lines": [line.tex for line in lines],
        "ratios": ratio_line.text, "tex_ratios": ratio_line.tex,
        "statement": _marked(words["statement"], fields).tex,
        "factor_rows": " \\\\\n".join(_aligned(_marked(words[key])) for key in ("factor_forward", "factor_backward")),
        "plot": {"forward_var": _coordinates(result.forward_var), "forward_pred": _coordinates(result.forward_pred),
                 "backward_m2": _coordinates(result.backward_m2), "backward_pred": _coordinates(result.backward_pred),
                 "y": log_axis(series.values())},
    }


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def _right(text: str, width: int) -> str:
    return " " * (width - _display_width(text)) + text


def _wrap(text: str, indent: str = "") -> str:
    """Wrapped at 100 columns, never inside ``a = b`` or ``a ~ b``."""
    glued = text.replace(" = ", "\0=\0").replace(" ~ ", "\0~\0")
    return textwrap.fill(glued, 100, subsequent_indent=indent, break_on_hyphens=False).replace("\0", " ")


def render_text(result: Simulation, lang: str = "en", notation: str = profiles.DEFAULT) -> str:
    """The text report: the configuration and the readout in words, the table, the ratios."""
    sim = view(result, lang, notation=notation)
    columns = [_marked(sim["words"][key]).text
               for key in ("col_layer", "col_forward", "col_predicted", "col_backward", "col_predicted")]
    widths = [5] + [max(12, _display_width(column) + 2) for column in columns[1:]]
    sim["header"] = "".join(_right(column, width) for column, width in zip(columns, widths, strict=True))
    sim["table"] = ["".join(_right(row[key], width) for key, width in zip(
        ("l", "forward_var", "forward_pred", "backward_m2", "backward_pred"), widths, strict=True)) for row in sim["rows"]]
    sim["lines"] = [_wrap(line, "    ") for line in sim["lines"]]
    sim["ratios"] = _wrap(sim["ratios"])
    return fill("simulate.txt.j2", None, sim=sim)


def render_tex(result: Simulation, lang: str = "en", notation: str = profiles.DEFAULT) -> str:
    """The LaTeX document: configuration, plot (log-scale y), ratios and the whole table."""
    sim = view(result, lang, notation=notation)
    return fill("simulate.tex.j2", None, sim=sim, words=wording(lang), lang=lang)


def problem_view(problem, number: int, lang: str, template_dir: str | None,
                 notation: str = profiles.DEFAULT) -> dict:
    """A sheet problem that is a simulation, shaped like the other problems' views, in the
    notation profile ``notation``."""
    sim = view(problem_result(problem), lang, template_dir, notation)
    return {"number": number, "points": problem.points, "statement": problem.statement,
            "default_statement": sim["statement"], "values_tex": [], "asked": [sim["words"]["asked"]], "names": [],
            "view": None, "figure": None, "simulation": sim}


def problem_result(problem) -> Simulation:
    """The (remembered) simulation of a sheet problem."""
    from .simulate import simulate_cached

    return simulate_cached(problem.simulation)
