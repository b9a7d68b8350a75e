"""The audit's report: text (en or zh) and JSON."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

from ..render import wording
from .claims import ClaimsFile
from .judge import REASONS, Finding


def counts(findings: list[Finding]) -> tuple[int, int, Counter]:
    """(agree, disagree, disagreements by reason)."""
    reasons = Counter(f.reason for f in findings if f.verdict == "disagrees")
    agree = sum(f.verdict == "agrees" for f in findings)
    return agree, len(findings) - agree, reasons


def to_json(claims: ClaimsFile, findings: list[Finding]) -> str:
    """``{"sheet", "title", "claims": [{"where", "quantity", "claims", "computed", "verdict", "reason",
    "detail"}], "agree", "disagree"}``."""
    agree, disagree, _ = counts(findings)
    document = {"sheet": claims.sheet, "title": claims.title,
                "claims": [{"where": f.claim.where, "quantity": f.quantity, "claims": f.claim.claims,
                            "computed": f.computed, "verdict": f.verdict, "reason": f.reason, "detail": f.detail}
                           for f in findings],
                "agree": agree, "disagree": disagree}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_text(claims: ClaimsFile, findings: list[Finding], lang: str) -> str:
    """The report: a header (sheet, title, counts), then a small block per claim."""
    words = wording(lang)["audit"]
    agree, disagree, reasons = counts(findings)
    lines = [words["header"].format(sheet=claims.sheet) + (f" — {claims.title}" if claims.title else "")]
    summary = words["counts"].format(total=len(findings), agree=agree, disagree=disagree)
    if reasons:
        summary += " (" + ", ".join(f"{words['reason_' + r.replace('-', '_')]} {reasons[r]}"
                                    for r in REASONS if reasons[r]) + ")"
    lines += [summary, ""]
    width = min(max(_width(f.claim.where) for f in findings), 40)
    marks = {"agrees": words["agrees"], "disagrees": words["disagrees"]}
    mark_width = max(_width(m) for m in marks.values())
    for f in findings:
        mark = marks[f.verdict]
        where = f.claim.where + " " * max(0, width - _width(f.claim.where))
        lines.append(f"{where}  {mark}{' ' * (mark_width - _width(mark))}  {f.quantity}")
        pad = "    "
        claimed = f"{words['claimed']}: {_one_line(f.claim.claims)}"
        computed = f"{words['computed']}: {_one_line(f.computed) or '-'}"
        if _width(claimed) + _width(computed) <= 90:
            lines.append(f"{pad}{claimed}  |  {computed}")
        else:
            lines += [f"{pad}{claimed}", f"{pad}{computed}"]
        if f.verdict == "disagrees":
            lines.append(f"{pad}{words['reason_' + f.reason.replace('-', '_')]}: {_one_line(f.detail)}")
        elif f.detail and (f.claim.kind != "entry" or f.claim.convention):
            lines.append(f"{pad}{_one_line(f.detail)}")
    return "\n".join(lines) + "\n"
