// The answer-checking page (derive/web/page.py): a live KaTeX preview of what is typed, the checks
// through the JSON API (/api/check, /api/check-steps) and their verdicts. Every string from the
// server or the user reaches the page as textContent or as KaTeX's own output (trust off), never
// through innerHTML, except a sheet's statement, options and sub-question: HTML the server made with
// derive/export/html.py (user text escaped there; the page's CSP runs no inline script), whose
// formulas, each in a span.tex, KaTeX's auto-render typesets. Without this script the forms post to /
// and the server renders the verdict.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("page-data").textContent);
  const words = data.words;
  const byId = (id) => document.getElementById(id);
  document.documentElement.classList.add("js");

  // A phrase of the wording table with its {name} placeholders filled in (as text).
  function fill(phrase, fields) {
    return phrase.replace(/\{(\w+)\}/g, (whole, name) => (name in fields ? String(fields[name]) : whole));
  }

  // An element with a class and a text (never markup).
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Typeset `tex` into `node` with KaTeX; an error shows the source as text.
  function typeset(node, tex, display) {
    node.textContent = "";
    if (!window.katex) {
      node.textContent = tex;
      return;
    }
    try {
      window.katex.render(tex, node, { throwOnError: false, displayMode: !!display, trust: false });
    } catch (error) {
      node.textContent = tex;
    }
  }

  function math(tex, display) {
    const node = element("span", display ? "math display" : "math");
    node.dataset.tex = tex;
    typeset(node, tex, display);
    return node;
  }

  // A title or statement cut at its $ signs (page.py's pieces): text as text, formulas typeset.
  function marked(node, pieces) {
    node.textContent = "";
    for (const piece of pieces) {
      node.append(piece.math ? math(piece.text) : document.createTextNode(piece.text));
    }
  }

  // A sheet's HTML (page.py's typeset_html) into `node`, its span.tex formulas typeset; only inside
  // those spans, so a user's \( in the text (escaped by the server) stays text.
  const DELIMITERS = [{ left: "\\(", right: "\\)", display: false }, { left: "\\[", right: "\\]", display: true }];
  function typesetSpans(node) {
    if (!window.renderMathInElement) return;
    for (const span of node.querySelectorAll("span.tex")) {
      window.renderMathInElement(span, { delimiters: DELIMITERS, throwOnError: false, trust: false });
    }
  }

  function sheetHtml(tag, id, className, html) {
    const node = element(tag, className);
    node.id = id;
    node.innerHTML = html;  // the server's escaped HTML (see the top of this file)
    typesetSpans(node);
    return node;
  }

  function verdict(name) {
    name = String(name || "error");
    const node = element("span", "verdict verdict-" + name.replace(/[^a-z_]/g, ""),
      (words.verdicts && words.verdicts[name]) || name);
    node.dataset.verdict = name;
    return node;
  }

  // --- the problem -----------------------------------------------------------------------------
  const select = byId("problem");
  const targets = byId("target");

  function current() {
    return data.problems.find((p) => p.id === select.value) || null;
  }

  function showProblem() {
    const problem = current();
    const statement = byId("statement");
    statement.textContent = "";
    if (!problem) return;
    if (problem.kind === "sheet") statement.append(element("p", "sheet-name", problem.group));
    const title = element("h2");
    title.id = "problem-title";
    marked(title, problem.title_pieces);
    if (problem.kind === "sheet") title.prepend(document.createTextNode(problem.number + ". "));
    statement.append(title);
    if (problem.statement_html) {
      statement.append(sheetHtml("div", "problem-statement", "sheet-text", problem.statement_html));
    } else if (problem.statement_pieces.length) {
      const text = element("p");
      text.id = "problem-statement";
      marked(text, problem.statement_pieces);
      statement.append(text);
    }
    if (problem.options_html && problem.options_html.length) {
      const list = element("ol", "options sheet-text");
      list.id = "problem-options";
      list.type = "A";
      for (const option of problem.options_html) list.append(sheetHtml("li", "", "", option));
      statement.append(list);
    }
    statement.append(sheetHtml("p", "problem-asked", "sheet-text", ""));
    const keep = targets.value;
    targets.textContent = "";
    for (const target of problem.targets) {
      const option = element("option", "", target.label_plain);
      option.value = target.name;
      option.selected = target.name === keep;
      targets.append(option);
    }
    showAsked();
    for (const field of document.querySelectorAll(".problem-field")) field.value = problem.id;
    byId("answer-result").textContent = "";
    byId("steps-result").textContent = "";
    byId("steps-card").hidden = !!problem.question;  // a question has no derivation to check
    previewAnswer();
    remember();
  }

  // The chosen target's sub-question ("Find: (2) the loss."), for a sheet's problem.
  function showAsked() {
    const node = byId("problem-asked");
    const problem = current();
    if (!node || !problem) return;
    const target = problem.targets.find((t) => t.name === targets.value);
    node.innerHTML = (target && target.asked_html) || "";  // the server's escaped HTML
    typesetSpans(node);
  }

  // The address and the language link follow the chosen problem and target.
  function remember() {
    const query = new URLSearchParams({ lang: data.lang, problem: select.value, target: targets.value });
    history.replaceState(null, "", "?" + query.toString());
    query.set("lang", data.lang === "en" ? "zh" : "en");
    byId("lang-switch").href = "?" + query.toString();
  }

  select.addEventListener("change", showProblem);
  targets.addEventListener("change", () => {
    showAsked();
    remember();
  });
  byId("pick").addEventListener("submit", (event) => {
    event.preventDefault();
    showProblem();
  });

  // --- the previews ----------------------------------------------------------------------------
  const answer = byId("answer");
  const derivation = byId("derivation");

  function previewAnswer() {
    const node = byId("answer-preview");
    const tex = answer.value.trim();
    const problem = current();
    if (tex && problem && problem.question) node.textContent = tex;  // a letter, true/false, words: text
    else if (tex) typeset(node, tex, true);
    else node.textContent = "";
  }

  function previewDerivation() {
    const node = byId("derivation-preview");
    node.textContent = "";
    const text = derivation.value.trim();
    if (!text) return;
    if (/\\begin\{(align|aligned|gather|eqnarray)\*?\}/.test(text)) {
      node.append(math(text, true));
      return;
    }
    for (const line of text.split("\n")) {
      if (line.trim()) node.append(math(line.replace(/\\\\\s*$/, "").replace(/^\s*&/, ""), true));
    }
  }

  answer.addEventListener("input", previewAnswer);
  derivation.addEventListener("input", previewDerivation);
  answer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      byId("answer-form").requestSubmit();
    }
  });

  // --- the checks ------------------------------------------------------------------------------
  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let reply = null;
    try {
      reply = await response.json();
    } catch (error) {
      reply = null;
    }
    if (!response.ok || !reply) {
      const message = reply && (reply.error || reply.message || reply.detail);
      throw new Error(message ? String(message) : fill(words.server_error, { status: response.status }));
    }
    return reply;
  }

  function failure(node, error) {
    node.textContent = "";
    const line = element("p", "error", words.error + words.colon + error.message);
    line.setAttribute("role", "alert");
    node.append(line);
  }

  function verdictLine(label, name) {
    const line = element("p", "line-verdict", label + words.colon);
    line.append(verdict(name));
    return line;
  }

  function showCheck(node, reply) {
    node.textContent = "";
    node.append(verdictLine(words.verdict, reply.verdict || "error"));
    if (reply.parsed) {
      const read = element("p", "read-as", words.read_as + words.colon);
      const problem = current();
      read.append(problem && problem.question ? element("span", "read-text", reply.parsed) : math(reply.parsed));
      node.append(read);
    }
    if (reply.feedback) node.append(element("p", "feedback", reply.feedback));
    const certificate = reply.certificate || {};
    if (certificate.method === "counterexample") {
      const list = element("dl", "differs");
      const point = Object.entries(certificate.point || {})
        .map(([name, value]) => name + " = " + String(value).slice(0, 12)).join(", ");
      for (const [term, value] of [[words.differs, point], [words.your_value, certificate.answer],
        [words.expected_value, certificate.expected]]) {
        list.append(element("dt", "", term), element("dd", "", value));
      }
      node.append(list);
    }
  }

  function showSteps(node, reply) {
    node.textContent = "";
    // the summary verdict (a slip anywhere makes it incorrect), else the final line's
    const final = reply.verdict || (reply.final && reply.final.verdict);
    if (final) node.append(verdictLine(words.final, final));
    if (reply.feedback) node.append(element("p", "feedback", reply.feedback));
    const list = element("ol", "lines");
    for (const line of reply.lines || []) {
      const first = line.n === reply.first_error;
      const item = element("li", "line line-" + String(line.verdict).replace(/[^a-z_]/g, "") +
        (first ? " first-wrong" : ""));
      item.dataset.n = line.n;
      const left = element("div", "line-math");
      left.append(math(line.parsed || line.latex, true));
      const right = element("div", "line-check");
      right.append(verdict(line.verdict));
      if (first) right.append(element("strong", "first-wrong-label", words.first_wrong));
      if (line.feedback) right.append(element("span", "feedback", line.feedback));
      if (line.reason) right.append(element("span", "reason", line.reason));
      item.append(left, right);
      list.append(item);
    }
    node.append(list);
  }

  function submitter(formId, resultId, url, body, show) {
    const form = byId(formId);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const node = byId(resultId);
      const button = form.querySelector("button[type=submit]");
      const label = button.textContent;
      button.disabled = true;
      button.textContent = words.checking;
      node.setAttribute("aria-busy", "true");
      try {
        show(node, await post(url, body()));
      } catch (error) {
        failure(node, error);
      } finally {
        button.disabled = false;
        button.textContent = label;
        node.removeAttribute("aria-busy");
      }
    });
  }

  submitter("answer-form", "answer-result", "/api/check",
    () => ({ problem: select.value, target: targets.value, answer: answer.value, lang: data.lang }), showCheck);
  submitter("steps-form", "steps-result", "/api/check-steps",
    () => ({ problem: select.value, derivation: derivation.value, lang: data.lang }), showSteps);

  // --- on load: typeset what the server wrote as LaTeX source ------------------------------------
  for (const node of document.querySelectorAll(".math[data-tex]")) {
    typeset(node, node.dataset.tex, node.classList.contains("display"));
  }
  for (const node of document.querySelectorAll(".sheet-text")) typesetSpans(node);
  previewAnswer();
  previewDerivation();
})();
