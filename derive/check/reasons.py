"""What a line's reason names: the reference rule a written reason points to.

A student writes ``\\text{由链式法则}`` or ``\\tag{independence}`` beside a line (kept as
:attr:`derive.check.lines.Line.reason`); :func:`rule_hint` turns it into the key of a rule of the
wording tables (``chain-rule``, ``independence``, ``zero-mean-weights``, ``harmonic-mean``, ``solve``
...), which a step judge may test first. A reason worded exactly as a rule of either wording table
(``derive NAME --latex`` prints them) names that rule; otherwise the first word of the table below
found in it does. A hint is only a hint: it never makes a line right.
"""

from __future__ import annotations

import functools
import re

from ..render import wording

#: (rule key, words naming it), most specific first: "product and chain rule" before "chain rule",
#: "zero mean" before "substitute" (``代入 E[W] = 0`` names the zero mean, not any substitution)
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("product-and-chain-rule", ("product and chain rule", "乘积法则与链式法则")),
    ("chain-rule", ("chain rule", "链式法则", "链式求导")),
    ("product-rule", ("product rule", "乘积法则")),
    ("quotient-rule", ("quotient rule", "商的求导", "商法则")),
    ("harmonic-mean", ("harmonic mean", "调和平均")),
    ("variance-of-independent-sum", ("sum of independent", "独立项之和", "独立随机变量之和")),
    ("zero-mean-inputs", ("zero-mean input", "inputs have zero mean", "输入均值为零", "输入的均值为零",
                          "输入均值为0", "e[a]=0", "e[x]=0")),
    ("zero-mean-weights", ("zero mean", "zero-mean", "mean zero", "零均值", "均值为零", "均值为0", "期望为0",
                           "e[w]=0")),
    ("independence", ("independen", "独立")),
    ("identical-terms", ("identically distributed", "i.i.d", "iid", "同分布")),
    ("taylor", ("taylor", "泰勒")),
    ("linear-regime", ("linear regime", "线性区")),
    ("active-units", ("active unit", "激活的单元", "激活单元")),
    ("solve", ("solve", "solving", "求解", "解得", "解出")),
    ("substitute", ("substitut", "plug in", "plugging", "代入", "带入")),
    ("differentiate", ("differentiat", "求导")),
    ("integrate", ("integrat", "积分")),
    ("simplify", ("simplif", "化简")),
    ("factor", ("factor", "因式分解", "提取公因")),
    ("expand", ("expand", "multiply out", "展开")),
    ("cancel", ("cancel", "约分")),
    ("linearity", ("linearity", "线性性")),
    ("definition", ("definition", "by def", "定义")),
)

_MATH_NOISE = re.compile(r"\\(?:mathbb|operatorname|mathrm|left|right|,|;|!)|[\s${}~\\]")


def _normal(text: str) -> str:
    """Lower case, without spacing, dollars, braces and font commands (``$\\mathbb{E}[W] = 0$`` and
    ``E[W]=0`` are one text)."""
    return _MATH_NOISE.sub("", text.lower())


@functools.cache
def _worded() -> dict[str, str]:
    """Every rule's wording, English and Chinese, normalized: the rule it words."""
    table: dict[str, str] = {}
    for lang in ("en", "zh"):
        for key, text in wording(lang)["rules"].items():
            if isinstance(text, str):
                table.setdefault(_normal(text), key)
    return table


def rule_hint(reason: str) -> str | None:
    """The key of the rule a written reason names (``链式法则`` and ``by the chain rule``:
    ``chain-rule``; ``since $\\mathbb{E}[W] = 0$``: ``zero-mean-weights``), or None where it
    names none known."""
    if not reason or not reason.strip():
        return None
    normal = _normal(reason)
    if normal in _worded():
        return _worded()[normal]
    for key, words in KEYWORDS:
        if any(_normal(word) in normal for word in words):
            return key
    return None
