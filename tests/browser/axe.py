"""axe-core in the browser: zero WCAG 2.2 AA violations, every rule on.

The npm devDependency ``axe-core`` (package.json) is read from
``node_modules/axe-core/axe.min.js`` and evaluated in the page through the
DevTools protocol, so the site's Content-Security-Policy (nonces only) stays
in force and unchanged for the page under test.

A page without JavaScript cannot run axe itself (the browser runs no timers,
and axe is asynchronous), so :func:`audit_static_html` loads the markup a
browser without JavaScript shows (the DOM of such a page, or the server's
HTML, which is the same thing before any script runs) into a scripting
"auditor" page at the same URL, with the markup's own scripts blocked and
removed and its ``<noscript>`` content turned into elements, where the site's
CSS and fonts load as usual, and audits that.

No rule is disabled. A rule may only be disabled with a recorded decision in
``docs/decisions/`` (issue 4). Two findings on GOV.UK Frontend's own
components are set aside, each for one element shape and one failure only,
and only after the criterion is checked another way (:data:`SET_ASIDE`,
docs/decisions/0005-axe-findings-on-govuk-frontend-components.md); any other
finding of the same rules still fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route

AXE_SOURCE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe tags the 2.2 A criteria it has under wcag22aa too).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
# Rules disabled, each with its decision record in docs/decisions/. None.
DISABLED_RULES: dict[str, str] = {}
_DECISION = "docs/decisions/0005-axe-findings-on-govuk-frontend-components.md"

# Findings set aside (see the decision record): rule -> a JavaScript predicate over the element axe
# flagged and its failure summary; the finding is dropped only when the predicate returns true.
SET_ASIDE: dict[str, str] = {
    # GOV.UK Frontend's conditional reveal: aria-expanded on a radio or checkbox that controls the
    # revealed question, kept on purpose (alphagov/govuk-frontend#979). Only when aria-expanded is
    # the one attribute refused and the input controls a GOV.UK conditional block.
    "aria-allowed-attr": r"""([element, summary]) => {
      const inputs = ".govuk-radios__input[aria-controls], .govuk-checkboxes__input[aria-controls]";
      if (!element.matches(inputs)) return false;
      const controlled = document.getElementById(element.getAttribute("aria-controls"));
      const refused = summary.split("\n").filter((line) => line.includes("ARIA attribute is not allowed"));
      return (
        controlled !== null &&
        controlled.matches(".govuk-radios__conditional, .govuk-checkboxes__conditional") &&
        refused.length > 0 &&
        refused.every((line) => /not allowed: aria-expanded="(true|false)"$/.test(line.trim()))
      );
    }""",
    # GOV.UK Frontend's enhanced file upload button is named by its label and its own text
    # (aria-labelledby="<label> <comma> <itself>"). axe-core joins the text of adjacent elements
    # without a space ("No file chosenChoose file"), so the words never match. Checked here word by
    # word instead: every word of every visible text node must be in the accessible name.
    "label-content-name-mismatch": r"""([element]) => {
      if (!element.matches("button.govuk-file-upload-button[aria-labelledby]")) return false;
      axe.setup();
      try {
        const name = axe.commons.text.accessibleTextVirtual(axe.utils.getNodeFromTree(element)).toLowerCase();
        const words = new Set(name.split(/[^\p{L}\p{N}]+/u).filter(Boolean));
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        const visible = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const parent = node.parentElement;
          if (parent.closest(".govuk-visually-hidden") || !parent.checkVisibility()) continue;
          visible.push(...node.nodeValue.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean));
        }
        return visible.length > 0 && visible.every((word) => words.has(word));
      } finally {
        axe.teardown();
      }
    }""",
}

_RUN_AXE = """async ([tags, disabled]) => {
  const rules = Object.fromEntries(disabled.map((id) => [id, { enabled: false }]));
  const results = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    rules,
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map((node) => ({
      target: node.target.map(String),
      html: node.html,
      summary: node.failureSummary,
    })),
  }));
}"""

# The DOM of a page opened without JavaScript, serialised.
_STATIC_DOM = """() => (document.doctype ? "<!DOCTYPE html>" : "") + document.documentElement.outerHTML"""

# The auditor page runs none of the markup's scripts (axe itself is evaluated through DevTools,
# which no CSP restricts); the rest of the policy is the site's.
_NO_SCRIPTS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; img-src 'self' data:; object-src 'none'"
}

# In the auditor page, whose scripts the policy above blocks: a browser without
# JavaScript renders <noscript> content, so it is parsed again as markup; scripts are removed.
_STRIP_SCRIPTS = """() => {
  document.querySelectorAll("script").forEach((script) => script.remove());
  document.querySelectorAll("noscript").forEach((noscript) => {
    const template = document.createElement("template");
    template.innerHTML = noscript.textContent;
    noscript.replaceWith(template.content);
  });
}"""


@dataclass(frozen=True)
class Violation:
    """One axe rule broken, with the elements that break it."""

    rule: str
    impact: str
    help: str
    nodes: tuple[dict[str, Any], ...]

    def describe(self) -> str:
        """Return the rule, why, and each offending element (selector, markup, what to fix)."""
        lines = [f"{self.rule} ({self.impact}): {self.help}"]
        for node in self.nodes:
            lines.append(f"  at {' '.join(node['target'])}")
            lines.append(f"     {node['html'][:300]}")
            lines.extend(f"     {line}" for line in str(node["summary"]).splitlines())
        return "\n".join(lines)


@cache
def axe_source() -> str:
    """Return axe-core's minified source; fail clearly when npm packages are missing."""
    if not AXE_SOURCE_PATH.is_file():
        msg = f"axe-core is missing at {AXE_SOURCE_PATH}: run `make setup` (npm ci installs the devDependency)"
        raise FileNotFoundError(msg)
    return AXE_SOURCE_PATH.read_text(encoding="utf-8")


def _set_aside(page: Page, rule: str, node: dict[str, Any]) -> bool:
    """Return whether this one finding is a documented false alarm (:data:`SET_ASIDE`)."""
    predicate = SET_ASIDE.get(rule)
    if predicate is None or len(node["target"]) != 1:
        return False
    element = page.query_selector(node["target"][0])
    if element is None:
        return False
    return bool(element.evaluate(f"(element, summary) => ({predicate})([element, summary])", node["summary"]))


def violations_in(page: Page) -> list[Violation]:
    """Run axe-core on the page as it is now (JavaScript must be enabled) and return the violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found = page.evaluate(_RUN_AXE, [list(WCAG_TAGS), sorted(DISABLED_RULES)])
    violations = []
    for item in found:
        nodes = tuple(node for node in item["nodes"] if not _set_aside(page, item["id"], node))
        if nodes:
            violations.append(Violation(rule=item["id"], impact=str(item["impact"]), help=item["help"], nodes=nodes))
    return violations


def static_dom(page: Page) -> str:
    """Return the page's DOM as HTML, as a browser without JavaScript shows it (module docstring)."""
    html: str = page.evaluate(_STATIC_DOM)
    return html


def audit_static_html(auditor: Page, url: str, html: str) -> list[Violation]:
    """Audit ``html`` as a browser without JavaScript shows it, served at ``url`` in the ``auditor`` page.

    ``auditor`` is a page with JavaScript (axe needs it); the markup's own
    scripts are removed and its ``<noscript>`` content unwrapped first, so
    nothing enhances it and what a non-scripting browser renders is there.
    """
    auditor.set_content("")  # leave the previous audit, so the same URL loads again
    document_url = url.split("#", 1)[0]

    def fulfil(route: Route) -> None:
        route.fulfill(status=200, headers={"Content-Type": "text/html; charset=utf-8", **_NO_SCRIPTS}, body=html)

    auditor.route(document_url, fulfil)
    try:
        auditor.goto(document_url, wait_until="load")
        auditor.evaluate(_STRIP_SCRIPTS)
        return violations_in(auditor)
    finally:
        auditor.unroute(document_url, fulfil)


def report(violations: list[Violation], *, where: str) -> str:
    """Return an assertion message listing every violation on the page ``where``."""
    body = "\n".join(violation.describe() for violation in violations)
    rules = json.dumps(sorted({violation.rule for violation in violations}))
    return f"axe-core found WCAG 2.2 AA violations on {where}: {rules}\n{body}"
