"""The answer-checking page in a real browser: Debian's headless Chromium driven by Selenium against
``python -m derive serve`` on a free loopback port, and the page's no-JavaScript form post.

Expected verdicts are the course's own mathematics (σ' = σ(1 − σ)), and where the page shows the
point where a wrong answer differs, its values are recomputed here with ``math.exp``.
Screenshots go to a temporary folder, or to ``$DERIVE_SCREENSHOTS`` (``docs`` refreshes the README's).
"""

from __future__ import annotations

import math
import os
import re
import select
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
RIGHT, WRONG = r"\sigma(x)(1-\sigma(x))", r"\sigma(x)(1+\sigma(x))"
# a derivation of σ' whose third line is a planted slip (1 − e^{-x} for 1 + e^{-x} below the bar)
SLIPPED = r"""\sigma'(x) = \frac{d}{dx} \frac{1}{1+e^{-x}}
= \frac{e^{-x}}{(1+e^{-x})^2}
= \frac{e^{-x}}{(1-e^{-x})^2}
= \sigma(x)(1-\sigma(x))"""
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    r"\href{javascript:alert(1)}{x}",
    r"\htmlClass{x}{y} <b>bold</b>",
]


# a teacher's sheet whose title and statement try to inject markup
HOSTILE_SHEET = r"""title = "<img src=x onerror=alert(1)> $x^2$"
lang = "en"

[[problem]]
entry = "sigmoid"
targets = ["d1"]
statement = '</textarea><script>alert(1)</script> Differentiate $\sigma(x) = \frac{1}{1+e^{-x}}$.'

[[problem]]
statement = '</p><img src=x onerror=alert(1)> \(\href{javascript:alert(1)}{x}\) \input{/etc/hostname} $x^2$'
choice = { options = ['<script>alert(1)</script>', '\(\htmlClass{x}{y}\) \write18{touch /tmp/derive-pwned}'], answer = [0] }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The address of ``python -m derive serve --port 0`` with the course's sheet 2.2 and a hostile
    sheet loaded (no rate limit: the browser posts often)."""
    hostile = tmp_path_factory.mktemp("sheets") / "hostile.toml"
    hostile.write_text(HOSTILE_SHEET, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "derive", "serve", "--port", "0", "--rate", "0",
                             "--sheet", str(ROOT / "examples" / "hw2-derivatives-zh.toml"), "--sheet", str(hostile),
                             "--sheet", str(ROOT / "examples" / "seeds-numeric-en.toml"),
                             "--sheet", str(ROOT / "examples" / "questions-en.toml")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, f"the server printed {line!r}; stderr: {proc.stderr.read() if proc.poll() else ''}"
        yield found.group()
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a fresh profile, through Debian's chromedriver."""
    if not CHROMEDRIVER.exists():
        pytest.skip("no /usr/bin/chromedriver: apt-get install chromium chromium-driver (the README's test command)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1000", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where the screenshots go."""
    folder = os.environ.get("DERIVE_SCREENSHOTS")
    return (ROOT / folder if folder == "docs" else Path(folder)) if folder else tmp_path_factory.mktemp("shots")


def _wait(driver, css: str, seconds: float = 120):
    """The first element matching ``css`` once it is there (a generous bound, not a timing check)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def _open(driver, server: str, lang: str, problem: str = "sigmoid", target: str = "d1") -> None:
    """The page in ``lang`` with ``problem`` and ``target`` picked in its selects."""
    from selenium.webdriver.support.ui import Select

    driver.get(f"{server}?lang={lang}")
    _wait(driver, "html.js")
    Select(driver.find_element("id", "problem")).select_by_value(problem)
    Select(driver.find_element("id", "target")).select_by_value(target)


def _check(driver, answer: str, formula: bool = True):
    """Type ``answer``, see it previewed (typeset if a ``formula``), check it: the verdict element."""
    field = driver.find_element("id", "answer")
    field.clear()
    field.send_keys(answer)
    _wait(driver, "#answer-preview .katex" if formula else "#answer-preview")
    driver.execute_script("document.getElementById('answer-result').textContent = ''")
    driver.find_element("id", "check").click()
    return _wait(driver, "#answer-result .verdict")


def _screenshot(driver, path: Path, width: int, mobile: bool) -> None:
    """The whole page at ``width`` CSS pixels, as tall as it is."""
    metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
    driver.save_screenshot(str(path))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_a_right_answer_is_previewed_read_and_correct(browser, server, shots):
    _open(browser, server, "en")
    verdict = _check(browser, RIGHT)
    assert (verdict.get_attribute("data-verdict"), verdict.text) == ("correct", "correct")
    assert browser.find_elements("css selector", "#answer-result .read-as .katex")
    assert "σ" in browser.find_element("css selector", "#answer-result .read-as").text
    assert browser.find_elements("css selector", "#problem-statement .katex")  # the statement typeset


def test_a_wrong_answer_is_incorrect_and_shows_where_it_differs(browser, server):
    _open(browser, server, "en")
    verdict = _check(browser, WRONG)
    assert (verdict.get_attribute("data-verdict"), verdict.text) == ("incorrect", "incorrect")
    values = [dd.text for dd in browser.find_elements("css selector", "#answer-result .differs dd")]
    x = float(values[0].split("=")[1])
    assert float(values[1]) == pytest.approx(_sigmoid(x) * (1 + _sigmoid(x)), rel=1e-6)
    assert float(values[2]) == pytest.approx(_sigmoid(x) * (1 - _sigmoid(x)), rel=1e-6)


def test_a_derivation_with_a_slip_marks_its_first_wrong_line(browser, server, shots):
    _open(browser, server, "en")
    _check(browser, RIGHT)
    field = browser.find_element("id", "derivation")
    field.send_keys(SLIPPED)
    _wait(browser, "#derivation-preview .katex")
    assert len(browser.find_elements("css selector", "#derivation-preview .katex-display")) == 4
    browser.find_element("id", "check-steps").click()
    first = _wait(browser, "#steps-result li.first-wrong")
    lines = browser.find_elements("css selector", "#steps-result li.line")
    verdicts = [li.find_element("css selector", ".verdict").get_attribute("data-verdict") for li in lines]
    assert len(lines) == 4 and first.get_attribute("data-n") == "3"
    assert verdicts[2] == "wrong" and "wrong" not in verdicts[:2]
    assert len(browser.find_elements("css selector", "#steps-result li.first-wrong")) == 1
    overall = browser.find_element("css selector", "#steps-result .line-verdict .verdict")
    assert overall.get_attribute("data-verdict") == "incorrect"
    assert first.find_element("css selector", ".first-wrong-label").is_displayed()
    try:
        _screenshot(browser, shots / "web-en.png", 1280, mobile=False)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_chinese_page_at_phone_width(browser, server, shots):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        _open(browser, server, "zh")
        assert browser.find_element("tag name", "html").get_attribute("lang") == "zh-CN"
        labels = [browser.find_element("css selector", f"label[for={name}]").text
                  for name in ("problem", "target", "answer", "derivation")]
        assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels), labels
        verdict = _check(browser, WRONG)
        assert verdict.get_attribute("data-verdict") == "incorrect" and re.search(r"[\u4e00-\u9fff]", verdict.text)
        feedback = browser.find_element("css selector", "#answer-result .feedback").text
        assert re.search(r"[\u4e00-\u9fff]", feedback), feedback
        # one column: the two cards one above the other, each as wide as the screen allows
        answer, steps = (browser.find_element("id", name).rect for name in ("answer-card", "steps-card"))
        assert steps["y"] > answer["y"] + answer["height"] - 1 and answer["width"] <= 390
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        _screenshot(browser, shots / "web-zh-phone.png", 390, mobile=True)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_answer_shows_as_text(browser, server, hostile):
    _open(browser, server, "en")
    before = browser.execute_script("return document.querySelectorAll('img, script, svg[onload], b, a').length")
    _check(browser, hostile)
    field = browser.find_element("id", "derivation")
    field.clear()
    field.send_keys(hostile)
    browser.find_element("id", "check-steps").click()
    _wait(browser, "#steps-result .verdict, #steps-result .error")
    after = browser.execute_script("return document.querySelectorAll('img, script, svg[onload], b, a').length")
    assert after == before
    assert browser.execute_script("return document.querySelectorAll('[onerror], [onload]').length") == 0
    assert browser.find_element("id", "answer").get_attribute("value") == hostile
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.accept()


def test_a_sheet_problem_by_its_number(browser, server):
    _open(browser, server, "zh", "hw2-derivatives-zh#1", "d1")
    assert browser.find_element("id", "problem-title").text.startswith("1. Sigmoid")
    assert browser.find_element("css selector", ".sheet-name").text == "神经网络基础 第二次作业 2.2"
    assert _check(browser, RIGHT).get_attribute("data-verdict") == "correct"


def test_a_hostile_sheet_title_and_statement_show_as_text(browser, server):
    _open(browser, server, "en", "hostile#1", "d1")
    statement = browser.find_element("id", "problem-statement")
    assert statement.text.startswith("</textarea><script>alert(1)</script> Differentiate")
    assert statement.find_elements("css selector", ".katex")  # its formula typeset
    assert browser.find_element("css selector", ".sheet-name").text.startswith("<img src=x onerror=alert(1)>")
    assert browser.execute_script("return document.querySelectorAll('img, [onerror], body script:not([src]):not("
                                  "[type=\"application/json\"])').length") == 0


def _tex(element) -> list[str]:
    """The LaTeX of every formula KaTeX typeset inside ``element``."""
    return [node.get_attribute("textContent").strip() for node in
            element.find_elements("css selector", ".katex annotation[encoding='application/x-tex']")]


# a worked problem of seeds-numeric-en.toml -> formulas its statement must show, typeset: the givens
# the seeds print (sheet 000 2.1: x1 = 0.2, x2 = 0.3, v11 = 0.6, w21 = 0.8; sheet 003 computation 2:
# a 32 x 32 x 3 input, 5 x 5 filters, P = 2)
WORKED = {
    ("seeds-numeric-en#1", "loss"): (["x_{1} = 0.2", "x_{2} = 0.3", "v_{11} = 0.6", "w_{21} = 0.8"], "(2) the loss"),
    ("seeds-numeric-en#7", "params"): ([r"32 \times 32 \times 3", r"5 \times 5", "P = 2"], "(2) the number of"),
}


@pytest.mark.parametrize("problem, target", WORKED)
def test_a_worked_problems_statement_and_givens_are_typeset(browser, server, shots, problem, target):
    formulas, asked = WORKED[problem, target]
    _open(browser, server, "en", problem, target)
    statement = browser.find_element("id", "problem-statement")
    typeset = _tex(statement)
    assert all(formula in typeset for formula in formulas), typeset
    assert "Given" in statement.text or "input image" in statement.text
    assert asked in browser.find_element("id", "problem-asked").text
    from selenium.webdriver.support.ui import Select

    shown = Select(browser.find_element("id", "target")).first_selected_option.text
    assert shown == ("(2) the loss" if target == "loss" else "the number of parameters"), shown  # the wording's
    # label, else (a target the wording does not name, loss) the sub-question
    if problem.endswith("#1"):
        try:
            _screenshot(browser, Path("/tmp") / "web-worked-en.png", 1280, mobile=False)
        finally:
            browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_choice_question_is_judged_by_its_key(browser, server):
    # questions-en.toml problem 1: sigma' = sigma (1 - sigma) is option A, B has the sign flipped
    _open(browser, server, "en", "questions-en#1", "answer")
    options = browser.find_elements("css selector", "#problem-options li")
    assert len(options) == 4 and all(option.find_elements("css selector", ".katex") for option in options)
    assert _tex(options[0]) == [r"\sigma(x) \left(1 - \sigma(x)\right)"]
    assert _check(browser, "B", formula=False).get_attribute("data-verdict") == "incorrect"
    assert "A" in browser.find_element("css selector", "#answer-result .feedback").text
    assert _check(browser, "A", formula=False).get_attribute("data-verdict") == "correct"
    assert browser.find_element("css selector", "#answer-result .read-as").text.endswith("A")
    assert not browser.find_element("id", "steps-card").is_displayed()  # no derivation to check
    try:
        _screenshot(browser, Path("/tmp") / "web-choice-en.png", 1280, mobile=False)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_short_question_is_left_to_the_teacher(browser, server):
    _open(browser, server, "zh", "questions-en#9", "answer")
    verdict = _check(browser, "ReLU 不饱和", formula=False)
    assert verdict.get_attribute("data-verdict") == "manual"
    assert "does not saturate there" in browser.find_element("css selector", "#answer-result .feedback").text


def test_a_hostile_sheets_question_shows_as_text(browser, server):
    _open(browser, server, "en", "hostile#2", "answer")
    statement = browser.find_element("id", "problem-statement")
    assert statement.text.startswith("</p><img src=x onerror=alert(1)> \\(\\href{javascript:alert(1)}{x}\\) "
                                     "\\input{/etc/hostname}")
    assert _tex(statement) == ["x^{2}"]  # the teacher's $x^2$ typeset, the \( ... \) attack not
    options = browser.find_elements("css selector", "#problem-options li")
    assert [o.text for o in options] == ["<script>alert(1)</script>",
                                         "\\(\\htmlClass{x}{y}\\) \\write18{touch /tmp/derive-pwned}"]
    assert not browser.find_elements("css selector", "#problem-options .katex")
    assert browser.execute_script("return document.querySelectorAll('img, [onerror], #statement a, body script:not([src]):not("
                                  "[type=\"application/json\"])').length") == 0


def test_the_page_checks_with_javascript_off(browser, server):
    from selenium.webdriver.support.ui import Select

    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(f"{server}?lang=en")
        assert not browser.find_elements("css selector", "html.js")
        Select(browser.find_element("id", "problem")).select_by_value("tanh")
        browser.find_element("id", "open").click()  # a plain GET: the page for tanh
        _wait(browser, "#answer-form input[name=problem][value=tanh]")
        Select(browser.find_element("id", "target")).select_by_value("d1")
        browser.find_element("id", "answer").send_keys(r"1 - \tanh^2(x)")
        browser.find_element("id", "check").click()  # a form post to /
        verdict = _wait(browser, "#answer-result .verdict")
        assert verdict.get_attribute("data-verdict") == "correct"  # tanh' = 1 - tanh^2
        read = browser.find_element("css selector", "#answer-result .read-as .math")
        assert "tanh" in read.text and not read.find_elements("css selector", ".katex")  # LaTeX as text
        assert not browser.find_elements("css selector", "html.js")  # the server rendered it
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def _post(server: str, fields: dict) -> tuple[int, str]:
    """The page's form post without JavaScript: (status, HTML)."""
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(server, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# the form's fields -> the verdict the page renders
FORMS = {
    "right": ({"mode": "check", "problem": "sigmoid", "target": "d1", "answer": RIGHT}, "correct"),
    "wrong": ({"mode": "check", "problem": "sigmoid", "target": "d1", "answer": WRONG}, "incorrect"),
    "hostile": ({"mode": "check", "problem": "sigmoid", "target": "d1", "answer": HOSTILE[0]}, "unparsable"),
    "derivation": ({"mode": "steps", "problem": "sigmoid", "derivation": SLIPPED}, "incorrect"),
    # questions-en.toml: problem 1's right option is A (sigma' = sigma (1 - sigma)); 5 is false
    "choice": ({"mode": "check", "problem": "questions-en#1", "target": "answer", "answer": "B"}, "incorrect"),
    "truefalse": ({"mode": "check", "problem": "questions-en#5", "target": "answer", "answer": "错"}, "correct"),
}


@pytest.mark.parametrize("case", FORMS)
def test_the_form_post_without_javascript(server, case):
    fields, verdict = FORMS[case]
    status, page = _post(server, {"lang": "en", **fields})
    assert status == 200
    assert f'<span class="verdict verdict-{verdict}" data-verdict="{verdict}">' in page
    if fields["mode"] == "steps":
        assert re.search(r'<li class="line line-wrong first-wrong" data-n="3">', page)
        assert page.count("first-wrong-label") == 1
    typed = fields.get("answer", fields.get("derivation"))
    assert "<img" not in page and "<script>alert" not in page
    if "<" in typed:
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


# what the form or the address carries -> the text that must come back escaped, never raw
ESCAPED = {
    "an unknown problem in the address": ("GET", "?problem=%3Cscript%3Ealert(1)%3C/script%3E", None,
                                          "&lt;script&gt;alert(1)&lt;/script&gt;"),
    "a hostile problem in a form": ("POST", "", {"mode": "check", "problem": "<b>x</b>", "target": "d1",
                                                 "answer": "1"}, "&lt;b&gt;x&lt;/b&gt;"),
    "a hostile derivation": ("POST", "", {"mode": "steps", "problem": "sigmoid",
                                          "derivation": "</textarea><script>alert(1)</script>"},
                             "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
}


@pytest.mark.parametrize("case", ESCAPED)
def test_what_a_user_sends_comes_back_escaped(server, case):
    method, query, fields, escaped = ESCAPED[case]
    if method == "GET":
        with urllib.request.urlopen(server + query, timeout=120) as reply:
            page = reply.read().decode()
    else:
        _, page = _post(server, {"lang": "en", **fields})
    assert escaped in page
    assert "<script>alert" not in page and "<b>x</b>" not in page


# Accept-Language -> the page's language (no ?lang=)
LANGUAGES = {
    "zh-CN,zh;q=0.9,en;q=0.8": "zh-CN",
    "en-US,en;q=0.9": "en",
    "fr-FR, en;q=0.3, zh;q=0.8": "zh-CN",
    "de, fr": "en",
    "": "en",
    "zh;q=0, en": "en",
}


@pytest.mark.parametrize("header", LANGUAGES)
def test_the_page_speaks_the_browsers_language(server, header):
    request = urllib.request.Request(server, headers={"Accept-Language": header} if header else {})
    with urllib.request.urlopen(request, timeout=120) as reply:
        page = reply.read().decode()
    assert f'<html lang="{LANGUAGES[header]}">' in page


# the address's query -> what the page has chosen (the problem, the target, the language)
ADDRESSES = {
    "?problem=tanh&target=d2": ['<option value="tanh" selected>', '<option value="d2" selected>', 'lang="en"'],
    "?lang=zh&problem=hw2-derivatives-zh%232": ['<option value="hw2-derivatives-zh#2" selected>',
                                                '<option value="grad" selected>', 'lang="zh-CN"'],
    "?problem=sigmoid&target=nope": ['<option value="sigmoid" selected>', '<option value="d1" selected>'],
}


@pytest.mark.parametrize("query", ADDRESSES)
def test_the_address_preselects_a_problem_and_target(server, query):
    with urllib.request.urlopen(server + query, timeout=120) as reply:
        page = reply.read().decode()
    assert all(expected in page for expected in ADDRESSES[query]), query


def test_the_chinese_form_post_answers_in_chinese(server):
    status, page = _post(server, {"lang": "zh", "mode": "check", "problem": "sigmoid", "target": "d1",
                                  "answer": WRONG})
    found = re.search(r'data-verdict="incorrect">([^<]+)<', page)
    assert status == 200 and found and re.fullmatch(r"[\u4e00-\u9fff]+", found.group(1))
    assert re.search(r'class="feedback">[^<]*[\u4e00-\u9fff]', page)  # the feedback in Chinese


def test_katex_is_served_from_the_package_with_its_fonts(server):
    css = (ROOT / "derive" / "web" / "static" / "katex" / "katex.min.css").read_text()
    fonts = re.findall(r"url\(([^)]+)\)", css)
    assert fonts and all(f.endswith(".woff2") for f in fonts)
    for font in fonts[:3]:
        with urllib.request.urlopen(f"{server}static/katex/{font}", timeout=60) as reply:
            assert reply.status == 200 and reply.read(4) == b"wOF2"
    with urllib.request.urlopen(server, timeout=60) as reply:
        page = reply.read().decode()
    assert not re.search(r'(src|href)="(https?:)?//', page), "nothing from outside the server"

