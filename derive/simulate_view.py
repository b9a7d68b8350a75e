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

import sympy as sp

from .render import fill, tex_escape, wording
from .simulate import ACTIVATIONS, Simulation

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


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _coordinates(values) -> str:
    """pgfplots coordinates (l, value) for l = 1..depth; zero, negative and infinite values left out."""
    return " ".join(f"({layer},{value:.6e})" for layer, value in enumerate(values, 1) if 0 < value < math.inf)


def short_layers(depth: int) -> list[int]:
    """The layers a sheet's short table shows: 1, 2, about every depth/6th, and the last."""
    return sorted({1, min(2, depth), depth, *(max(1, round(k * depth / (SHORT_ROWS - 1))) for k in range(1, SHORT_ROWS))})


def view(result: Simulation, lang: str = "en", template_dir: str | None = None) -> dict:
    """Everything a template needs of one simulation, formatted, in the language ``lang``."""
    words = wording(lang, template_dir)["simulate"]
    c = result.config
    fields = {"act": c.act_name, "init": c.init_name, "depth": c.depth, "width": c.width, "batch": c.batch,
              "seed": c.seed, "entry": ACTIVATIONS[c.act], "formula": sp.sstr(result.var_w_formula),
              "value": sp.sstr(result.var_w), "float": f"{float(result.var_w):.6g}"}
    tex_fields = {**fields, "act": tex_escape(c.act_name), "init": tex_escape(c.init_name),
                  "formula": sp.latex(result.var_w_formula), "value": sp.latex(result.var_w)}
    ratios = {"forward": _ratio(geometric_ratio(result.forward_var)),
              "forward_pred": _ratio(geometric_ratio(result.forward_pred)),
              "backward": _ratio(geometric_ratio(result.backward_m2, backward=True)),
              "backward_pred": _ratio(geometric_ratio(result.backward_pred, backward=True))}
    notes = ["network", "setup", *(["linear"] if c.act == "linear" else []), "readout", "readout_why", "measured",
             "predicted", "noise"]
    rows = [{"l": str(layer), "forward_var": _number(fv), "forward_pred": _number(fp), "backward_m2": _number(bm),
             "backward_pred": _number(bp)}
            for layer, (fv, fp, bm, bp) in enumerate(zip(result.forward_var, result.forward_pred, result.backward_m2,
                                                        result.backward_pred, strict=True), 1)]
    return {
        "title": words["title"], "words": words, "depth": c.depth, "rows": rows,
        "short_rows": [rows[layer - 1] for layer in short_layers(c.depth)],
        "lines": [words[key].format(**fields) for key in notes],
        "tex_lines": [words[f"{key}_tex"].format(**tex_fields) if f"{key}_tex" in words else tex_escape(words[key])
                      for key in notes],
        "ratios": words["ratios"].format(**ratios), "tex_ratios": words["ratios_tex"].format(**ratios),
        "statement": words["statement"].format(**tex_fields),
        "plot": {"forward_var": _coordinates(result.forward_var), "forward_pred": _coordinates(result.forward_pred),
                 "backward_m2": _coordinates(result.backward_m2), "backward_pred": _coordinates(result.backward_pred)},
    }


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def _right(text: str, width: int) -> str:
    return " " * (width - _display_width(text)) + text


def _wrap(text: str, indent: str = "") -> str:
    """Wrapped at 100 columns, never inside ``a = b`` or ``a ~ b``."""
    glued = text.replace(" = ", "\0=\0").replace(" ~ ", "\0~\0")
    return textwrap.fill(glued, 100, subsequent_indent=indent, break_on_hyphens=False).replace("\0", " ")


def render_text(result: Simulation, lang: str = "en") -> str:
    """The text report: the configuration and the readout in words, the table, the ratios."""
    sim = view(result, lang)
    words = sim["words"]
    columns = ["col_layer", "col_forward", "col_predicted", "col_backward", "col_predicted"]
    widths = [5] + [max(12, _display_width(words[key]) + 2) for key in columns[1:]]
    sim["header"] = "".join(_right(words[key], width) for key, width in zip(columns, widths, strict=True))
    sim["table"] = ["".join(_right(row[key], width) for key, width in zip(
        ("l", "forward_var", "forward_pred", "backward_m2", "backward_pred"), widths, strict=True)) for row in sim["rows"]]
    sim["lines"] = [_wrap(line, "    ") for line in sim["lines"]]
    sim["ratios"] = _wrap(sim["ratios"])
    return fill("simulate.txt.j2", None, sim=sim)


def render_tex(result: Simulation, lang: str = "en") -> str:
    """The LaTeX document: configuration, plot (log-scale y), ratios and the whole table."""
    sim = view(result, lang)
    return fill("simulate.tex.j2", None, sim=sim, words=wording(lang), lang=lang)


def problem_view(problem, number: int, lang: str, template_dir: str | None) -> dict:
    """A sheet problem that is a simulation, shaped like the other problems' views."""
    sim = view(problem_result(problem), lang, template_dir)
    return {"number": number, "points": problem.points, "statement": problem.statement,
            "default_statement": sim["statement"], "values_tex": [], "asked": [sim["words"]["asked"]], "names": [],
            "view": None, "figure": None, "simulation": sim}


def problem_result(problem) -> Simulation:
    """The (remembered) simulation of a sheet problem."""
    from .simulate import simulate_cached

    return simulate_cached(problem.simulation)
