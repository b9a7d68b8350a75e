"""Extract the plain-mathematics pairs of Math-Verify's own labeled tests into bench/peer_pairs.jsonl.

Get Math-Verify's repository (any of):
    git clone https://github.com/huggingface/Math-Verify      (a checkout: PATH/tests/*.py)
    a bare or mirrored git directory of it                      (read with `git show HEAD:tests/...`)
Run:  python bench/peer_tables.py PATH [-o bench/peer_pairs.jsonl]

The test files are read as text and parsed with Python's `ast` (never imported or run); a table
is a `@pytest.mark.parametrize` whose names hold the gold answer (`gold`), the answer (`pred`)
and the authors' label (`expected` or `result`, 1 or 0). Its rows are literals
(`ast.literal_eval`). A pair is kept when both sides are plain mathematics:

- the test compares with Math-Verify's default options: a table that varies an option (`strict`,
  `allow_set_relation_comp`) tests that option, not mathematics, and is dropped whole; a row or a
  test with a float precision other than 6 (Math-Verify's default rounding) is dropped;
- each side, once one enclosing `$...$`, `$$...$$`, `\\(...\\)` or `\\[...\\]` and then one
  enclosing `\\boxed{...}` are removed (with trailing spaces and full stops), holds no further `$`,
  `\\boxed`, `\\(`, `\\[`, `\\begin{align`, line break or `<think>` (an answer to be found in prose
  is Math-Verify's extraction, not reading);
- no prose: outside `\\text{...}`, `\\mbox{...}`, `\\textnormal{...}`, `\\textbf{...}`,
  `\\mathrm{...}` and environment names, no run of two or more letters with a lower-case one
  among them that is not a command name (`and`, `or`, `pct`, `cm` and `odd` outside `\\text`
  are prose; `AB` and `MBCN` are names of points);
- a side that is only `\\text{...}` (a word or a multiple-choice letter) is dropped: how such
  answers compare is a convention of each tool;
- the LaTeX is what the authors meant: a side with a control character (a `\\t` or `\\f` in a
  non-raw Python string) or with `\\\\` right before a letter (over-escaped in a raw string) is
  dropped.

Identical (gold, answer, label) rows are kept once. Each output line: id (file:line of the row),
source (file, line and test name), expected, answer, label ("correct" / "incorrect"), commit, and
"disputed" (why) for the few labels that go against ordinary mathematics (kept as the authors gave them).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

OUTPUT = Path(__file__).with_name("peer_pairs.jsonl")
GOLD, PRED, LABELS = "gold", "pred", ("expected", "result")
#: Pairs whose authors' label goes against ordinary mathematics: kept with the authors' label and
#: marked, so that the benchmark can name them (a check that disagrees with them is not wrong).
DISPUTED = {
    ("1 - \\frac{1}{\\mathrm{e}}", "1 + \\frac{1}{\\mathrm{e}}"): "labeled equal, the signs differ",
    ("z = 1 + 1 = 2", "z = 3+3 = 2"): "labeled correct, the link 3+3 = 2 is false",
    ("1 = \\zzz = x = 0", "0"): "labeled correct, the chain 1 = ... = 0 is false",
}
OPTIONS = {"strict", "allow_set_relation_comp"}
PRECISION = ("precision", "float_rounding")
DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
FORBIDDEN = ("$", "\\boxed", "\\(", "\\[", "\\begin{align", "\n", "<think>")
TEXT_GROUPS = re.compile(r"\\(?:text|mbox|textnormal|textbf|mathrm|begin|end)\s*\{[^{}]*\}")
WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
WHOLE_TEXT = re.compile(r"\\(?:text|textbf|textnormal|mbox)\s*\{[^{}]*\}")


def test_files(path: Path) -> tuple[dict[str, str], str]:
    """The tests/*.py files of Math-Verify at ``path`` (a checkout or a git directory) and the commit."""
    if (path / "tests").is_dir():
        files = {f"tests/{p.name}": p.read_text(encoding="utf-8")
                 for p in sorted((path / "tests").glob("*.py"))}
        git = ["git", "-C", str(path)]
    else:
        git = ["git", "--git-dir", str(path)]
        names = subprocess.run([*git, "ls-tree", "--name-only", "HEAD", "tests/"], check=True,
                               capture_output=True, text=True).stdout.split()
        files = {name: subprocess.run([*git, "show", f"HEAD:{name}"], check=True, capture_output=True,
                                      text=True).stdout for name in names if name.endswith(".py")}
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    return files, commit


def _parametrize(decorator: ast.expr) -> tuple[list[str], ast.expr] | None:
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "parametrize" and len(decorator.args) == 2):
        return None
    names = ast.literal_eval(decorator.args[0])
    names = [n.strip() for n in (names.split(",") if isinstance(names, str) else names)]
    return names, decorator.args[1]


def _fixed_options(function: ast.FunctionDef) -> dict:
    """Comparison options the test's body passes as constants (e.g. precision=5)."""
    options = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg and isinstance(keyword.value, ast.Constant):
                    options[keyword.arg] = keyword.value.value
    return options


def rows(files: dict[str, str]) -> list[tuple[str, str, str, str, int, dict]]:
    """Every labeled (file, line, test, gold, pred, label, options) row of the tests' tables."""
    found = []
    for name, text in files.items():
        for function in ast.walk(ast.parse(text)):
            if not isinstance(function, ast.FunctionDef):
                continue
            for decorator in function.decorator_list:
                table = _parametrize(decorator)
                if not table or GOLD not in table[0] or PRED not in table[0]:
                    continue
                names, values = table
                label = next((n for n in LABELS if n in names), None)
                if label is None or not isinstance(values, ast.List):
                    continue
                varied = OPTIONS & set(names)
                for element in values.elts:
                    try:
                        row = dict(zip(names, ast.literal_eval(element), strict=True))
                    except ValueError:  # computed (an f-string): not a literal table row
                        found.append((name, element.lineno, function.name, "", "", 0, {"computed": True}))
                        continue
                    options = {**_fixed_options(function), **{k: v for k, v in row.items() if k not in
                                                             (GOLD, PRED, label)}}
                    if varied:
                        options["varied"] = sorted(varied)
                    found.append((name, element.lineno, function.name, row[GOLD], row[PRED], int(row[label]),
                                  options))
    return found


def _strip(side: str) -> str:
    text = side.strip().rstrip(".").strip()
    for left, right in DELIMITERS:
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            text = text[len(left):-len(right)].strip().rstrip(".").strip()
            break
    if text.startswith("\\boxed{") and _closing(text, len("\\boxed")) == len(text) - 1:
        text = text[len("\\boxed{"):-1].strip()
    return text


def _closing(text: str, start: int) -> int:
    """The index of the brace closing the one at ``start`` (-1 if none)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{" and text[index - 1] != "\\":
            depth += 1
        elif text[index] == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _over_escaped(text: str) -> bool:
    index = 0
    while index < len(text):
        if text.startswith("\\\\", index):
            if text[index + 2:index + 3].isalpha():
                return True
            index += 2
        else:
            index += 1
    return False


def side(raw: str) -> tuple[str, str | None]:
    """A side as kept (delimiters and one box removed) and the reason it is not plain mathematics, or None."""
    if any(ord(c) < 32 and c != "\n" for c in raw) or _over_escaped(raw):
        return raw, "escapes: not the LaTeX meant"
    text = _strip(raw)
    return text, why_not_plain(text)


def why_not_plain(side: str) -> str | None:
    """The reason a stripped side is not plain mathematics, or None."""
    if not side:
        return "empty"
    if any(mark in side for mark in FORBIDDEN):
        return "extraction from prose or several boxes"
    if WHOLE_TEXT.fullmatch(side):
        return "a \\text answer"
    bare = TEXT_GROUPS.sub(" ", side)
    if any(any(c.islower() for c in word) for word in WORD.findall(bare)):
        return "prose words"
    return None


def extract(files: dict[str, str], commit: str) -> tuple[list[dict], Counter]:
    """The kept pairs and the count of dropped rows per reason."""
    kept, dropped, seen = [], Counter(), set()
    for name, line, test, gold, pred, label, options in rows(files):
        if options.get("computed"):
            dropped["computed, not a literal"] += 1
            continue
        if options.get("varied"):
            dropped["table varies a Math-Verify option"] += 1
            continue
        if any(options.get(key, 6) != 6 for key in PRECISION):
            dropped["precision other than 6"] += 1
            continue
        (expected, reason), (answer, other) = side(str(gold)), side(str(pred))
        reason = reason or other
        if reason:
            dropped[reason] += 1
            continue
        if (expected, answer, label) in seen:
            dropped["duplicate"] += 1
            continue
        seen.add((expected, answer, label))
        kept.append({"id": f"mv-{Path(name).stem}-{line}", "source": f"{name}:{line} {test}",
                     "expected": expected, "answer": answer, "label": "correct" if label else "incorrect",
                     "commit": commit, **({"disputed": DISPUTED[expected, answer]}
                                          if (expected, answer) in DISPUTED else {})})
    return kept, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="Math-Verify's checkout or git directory")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    options = parser.parse_args()
    try:
        files, commit = test_files(options.path)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"peer_tables: error: cannot read Math-Verify's tests at {options.path}: {error}",
              file=sys.stderr)
        sys.exit(2)
    kept, dropped = extract(files, commit)
    options.output.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in kept),
                              encoding="utf-8")
    labels = Counter(p["label"] for p in kept)
    print(f"{len(kept)} pairs kept ({labels['correct']} correct, {labels['incorrect']} incorrect) "
          f"from {sum(dropped.values()) + len(kept)} rows at {commit[:12]} -> {options.output}")
    for reason, count in dropped.most_common():
        print(f"  dropped {count:4}  {reason}")


if __name__ == "__main__":
    main()
