"""Judging each claim: recompute it, compare, and when it disagrees, say why.

A formula goes to the checker (:func:`derive.check.decide.check`, run in worker processes
under a hard time limit, so an answer that hangs SymPy cannot hang the audit). A number is
compared exactly, or, when the sheet shows it rounded, at the digits it shows. Reasons, in
the order they are tried: ``convention`` (another counting convention, or the value at a
kink, gives the claim), ``rounding`` (the exact value rounded down instead of to the nearest),
``swapped-label`` (the value of another target, layer or parameter), ``slip`` (a slip the
checker names), ``arithmetic`` (a number that is simply off), ``wrong`` (a formula none of
these explain), ``unreadable`` (the checker's reader refuses it) and ``undecided`` (the check
ran out of time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .. import catalog
from ..limits import Deadline
from ..render import wording
from .claims import Claim, ClaimsFile, Number
from .recompute import Computed, claimed_value, recompute

REASONS = ("convention", "rounding", "swapped-label", "slip", "arithmetic", "wrong", "unreadable", "undecided")


@dataclass(frozen=True)
class Finding:
    """The audit of one claim."""

    claim: Claim
    quantity: str
    computed: str
    verdict: str              # agrees or disagrees
    reason: str | None        # one of REASONS when it disagrees
    detail: str


# -- numbers ---------------------------------------------------------------------------------
def format_exact(value: Fraction) -> str:
    """An exact value for people: 6,480,242,100; 0.025538; -113/500 as -0.226; 1/3 as 1/3 (≈ 0.3333333333)."""
    if value.denominator == 1:
        return f"{value.numerator:,}"
    q, twos, fives = value.denominator, 0, 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    if q == 1 and max(twos, fives) <= 30:
        places = max(twos, fives)
        text = f"{abs(value.numerator) * 10**places // value.denominator:0{places + 1}d}"
        return ("-" if value < 0 else "") + text[:-places].lstrip("0").rjust(1, "0") + "." + text[-places:]
    return f"{value.numerator}/{value.denominator} (≈ {float(value):.10g})"


def _shown(value: Fraction, number: Number) -> str:
    """``value`` written the way the claim is: rounded to its digits, in its unit (803 K, 6.5 x 10^9)."""
    step = Fraction(1, 10**number.decimals)
    scaled = (abs(value) / number.scale / step + Fraction(1, 2)) // 1 * step * (1 if value >= 0 else -1)
    text = f"{float(scaled):,.{number.decimals}f}"
    if number.suffix:
        return text + ("%" if number.suffix == "%" else f" {number.suffix}")
    return f"{text} x 10^{_power(number.scale)}" if number.scale != 1 else text


def _power(scale: Fraction) -> int:
    power = 0
    while scale >= 10:
        scale, power = scale / 10, power + 1
    return power


def _near(claimed: Number, value: Fraction) -> bool:
    if claimed.unit is None:
        return claimed.value == value
    return abs(value - claimed.value) * 2 <= claimed.unit


def _rounded_down(claimed: Number, value: Fraction) -> bool:
    if claimed.unit is None:
        return False
    steps = abs(value) // claimed.unit
    return claimed.value == steps * claimed.unit * (1 if value >= 0 else -1)


# -- the checker, in worker processes ------------------------------------------------------------
class Checker:
    """Checks formulas in a :class:`~derive.check.pool.CheckPool` (which builds a catalog entry in
    a worker before its first check, outside the check's own limit), each check within the time
    left of the file's budget."""

    def __init__(self, pool, lang: str, timeout: float, deadline: Deadline | None = None):
        self.pool, self.lang, self.timeout, self.deadline = pool, lang, timeout, deadline

    def _call(self, request: dict, seconds: float) -> dict:
        """The pool's reply within ``seconds``, and within what is left of the file's budget
        (a check cut short by the budget gets the reason ``budget``)."""
        left = self.deadline.left() if self.deadline else seconds
        if left <= 0:
            return {"verdict": "timeout", "reason": "budget"}
        saved, self.pool.timeout = self.pool.timeout, min(seconds, left)
        try:
            reply = self.pool.run(request)
        finally:
            self.pool.timeout = saved
        if reply.get("verdict") == "timeout" and reply.get("reason") == "time" and left < seconds:
            reply["reason"] = "budget"
        return reply

    def run(self, answer: str, entry: str, target: str) -> dict:
        """The checker's verdict on ``answer`` for ``entry``'s ``target``."""
        return self._call({"answer": answer, "problem": entry, "target": target, "lang": self.lang}, self.timeout)


def sentences(parts: list[str | None], lang: str) -> str:
    """Reasons joined as sentences: each part but the last ends with a full stop (。 in Chinese,
    joined without a space) where it has none; empty parts are left out."""
    kept = [part.strip() for part in parts if part and part.strip()]
    stop, space = ("。", "") if lang == "zh" else (".", " ")
    return space.join(part if n == len(kept) - 1 or part[-1] in ".。!?！？" else part + stop
                      for n, part in enumerate(kept))


def value_only(latex: str) -> str:
    """The right-most side of ``a = b = c`` (equals signs inside groups and environments stay)."""
    depth, cut, index = 0, 0, 0
    while index < len(latex):
        character = latex[index]
        if character == "\\":
            word = re.match(r"\\(begin|end|[A-Za-z]+|.)", latex[index:])
            depth += {"begin": 1, "end": -1}.get(word.group(1), 0)
            index += len(word.group(0))
            continue
        depth += {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}.get(character, 0)
        if character == "=" and depth == 0:
            cut = index + 1
        index += 1
    return latex[cut:].strip() or latex


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(p) if n % 2 == 0 else f"(?P<{p}>.+?)" for n, p in enumerate(parts))
    return re.compile(pattern)


class Judge:
    """Judges the claims of one file."""

    def __init__(self, lang: str, checker: Checker | None, deadline: Deadline | None = None):
        self.words, self.checker, self.lang, self.deadline = wording(lang), checker, lang, deadline
        self.phrases = self.words["audit"]

    def say(self, key: str, **values) -> str:
        """A sentence of the ``[audit]`` wording."""
        return self.phrases[key].format(**values)

    def finding(self, claim: Claim, computed: str, reason: str | None, detail: str) -> Finding:
        """A finding; ``reason`` None means the claim agrees."""
        return Finding(claim, describe(claim, self.words), computed, "agrees" if reason is None else "disagrees",
                       reason, detail)

    def _stopped(self, reason: str | None) -> str:
        """Why a claim was left undecided: its check's time, the file's budget, or a failure."""
        if reason == "budget" and self.deadline is not None:
            return self.say("budget", seconds=f"{self.deadline.seconds:g}")
        return self.say("timeout" if reason == "time" else "failed", seconds=self.checker.timeout)

    def judge(self, claim: Claim) -> Finding:
        """The finding for one claim (undecided once the file's budget is spent)."""
        if self.deadline is not None and self.deadline.spent():
            return self.finding(claim, "", "undecided", self._stopped("budget"))
        if claim.kind == "entry":
            return self._formula(claim)
        return self._numeric(claim, claimed_value(claim), recompute(claim))

    # -- formulas ------------------------------------------------------------------------------
    def _formula(self, claim: Claim) -> Finding:
        check = self.words["check"]
        reply = self.checker.run(claim.claims, claim.name, claim.quantity)
        verdict, feedback, expected = reply.get("verdict"), reply.get("feedback") or "", reply.get("expected") or ""
        if verdict == "correct":
            kink = _template_regex(check["note_kink"]).search(feedback)
            if kink is None:
                return self.finding(claim, expected, None, feedback)
            stated = (claim.convention or "").replace(" ", "")
            if stated == f"kink:{kink.group('answer')}":
                return self.finding(claim, expected, None, self.say("kink_stated", note=kink.group(0)))
            return self.finding(claim, expected, "convention", self.say("kink", note=kink.group(0)))
        if verdict in ("unparsable", "error"):
            return self.finding(claim, expected, "unreadable", feedback)
        if verdict != "incorrect":
            return self.finding(claim, expected, "undecided", self._stopped(reply.get("reason")))
        value = value_only(claim.claims)
        left = check["wrong_left_side"].split("{")[0]
        if left and feedback.startswith(left) and value != claim.claims.strip():
            again = self.checker.run(value, claim.name, claim.quantity)
            if again.get("verdict") == "correct":
                return self.finding(claim, expected, "swapped-label", self.say("left_side", feedback=feedback))
        targets = next(e.targets for e in catalog.entries() if e.name == claim.name)
        matches = [(other, self.checker.run(value, claim.name, other)) for other in targets if other != claim.quantity]
        matches = [(other, reply_other) for other, reply_other in matches if reply_other.get("verdict") == "correct"]
        slip = next((text for text in self.words["slips"].values() if feedback.startswith(text)), None)
        if matches:
            others = " / ".join(other for other, _ in matches)
            return self.finding(claim, expected, "swapped-label", sentences([self.say(
                "swapped_target", entry=claim.name, other=others, expected=matches[0][1].get("expected", ""),
                asked=claim.quantity), slip], self.lang))
        if slip:
            return self.finding(claim, expected, "slip", feedback)
        return self.finding(claim, expected, "wrong", feedback)

    # -- numbers ----------------------------------------------------------------------------------
    def _numeric(self, claim: Claim, claimed, computed: Computed) -> Finding:
        if isinstance(claimed, tuple):
            shown = " x ".join(str(v) for v in computed.value)
            if claimed == computed.value:
                return self.finding(claim, shown, None, "")
            return self._other_or(claim, shown, lambda v: v == claimed, "arithmetic", self.say("shape", computed=shown))
        if isinstance(claimed, list):
            return self._matrix(claim, claimed, computed.value)
        value, shown = computed.value, format_exact(computed.value)
        if not computed.exact:
            shown = f"≈ {float(value):.12g}"
        if _near(claimed, value) and (computed.exact or claimed.unit is not None):
            detail = "" if claimed.unit is None else self.say("rounded", exact=shown, claimed=_shown(value, claimed))
            return self.finding(claim, shown, None, detail)
        for convention, other in computed.conventions:
            if _near(claimed, other):
                return self.finding(claim, shown, "convention", self.say(
                    "convention", stated=claim.convention or "full", computed=shown, other=convention,
                    value=format_exact(other)))
        if _rounded_down(claimed, value):
            return self.finding(claim, shown, "rounding", self.say("rounded_down", exact=shown,
                                                                   nearest=_shown(value, claimed)))
        difference = claimed.value - value
        percent = f"{float(abs(difference) / abs(value)) * 100:.3g} %" if value else "-"
        off = self.say("off", difference=format_exact(difference) if computed.exact else f"{float(difference):.6g}",
                       percent=percent, exact=shown)
        return self._other_or(claim, shown, lambda v: isinstance(v, Fraction) and _near(claimed, v), "arithmetic", off)

    def _other_or(self, claim: Claim, shown: str, matches, reason: str, detail: str) -> Finding:
        computed = recompute(claim)
        for label, other in computed.others:
            if matches(other):
                return self.finding(claim, shown, "swapped-label", self.say("swapped", other=label, asked=claim.layer
                                                                            or claim.quantity))
        return self.finding(claim, shown, reason, detail)

    def _matrix(self, claim: Claim, claimed: list, computed: list) -> Finding:
        shown = "[" + ", ".join("[" + ", ".join(format_exact(v) for v in row) + "]" for row in computed) + "]"
        if len(claimed) != len(computed) or len(claimed[0]) != len(computed[0]):
            return self.finding(claim, shown, "arithmetic", self.say(
                "matrix_size", claimed=f"{len(claimed)}x{len(claimed[0])}", computed=f"{len(computed)}x{len(computed[0])}"))
        wrong = [(i, j) for i, row in enumerate(computed) for j, v in enumerate(row) if claimed[i][j] != v]
        if not wrong:
            return self.finding(claim, shown, None, "")
        entries = "; ".join(f"({i + 1}, {j + 1}): {format_exact(claimed[i][j])} / {format_exact(computed[i][j])}"
                            for i, j in wrong[:6])
        return self.finding(claim, shown, "arithmetic", self.say("matrix", count=len(wrong), entries=entries))


def describe(claim: Claim, words) -> str:
    """The claim's quantity in one line: ``pool-backprop: max_error``, ``resnet18: params [conv1] (sheet)``."""
    if claim.kind == "entry":
        return f"{claim.name}: {claim.quantity}"
    text = f"{claim.name}: {claim.quantity}" + (f" [{claim.layer}]" if claim.layer else "")
    return text + (f" ({claim.convention})" if claim.convention else "")


def audit(claims: ClaimsFile, lang: str, timeout: float, pool=None, deadline: Deadline | None = None) -> list[Finding]:
    """Judge every claim of a file, each formula check within ``timeout`` seconds and the whole
    file within ``deadline`` (the claims after it is spent are ``undecided``); a pool is started
    only when a claim is a formula."""
    formulas = any(c.kind == "entry" for c in claims.claims)
    if formulas and pool is None:
        from ..check.pool import CheckPool

        with CheckPool(1, timeout) as own:
            return audit(claims, lang, timeout, own, deadline)
    judge = Judge(lang, Checker(pool, lang, timeout, deadline) if formulas else None, deadline)
    return [judge.judge(claim) for claim in claims.claims]
