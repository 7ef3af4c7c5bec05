"""axe-core in the browser tests: run Deque's WCAG rules in a page Playwright has
open, and say what failed in words a person can act on.

The app's Content-Security-Policy allows scripts from its own origin only, and
Playwright's `add_script_tag(path=...)` or `(content=...)` inserts an inline
<script>, which that policy blocks: Playwright raises and nothing runs
(test_every_page.py proves it). `evaluate` runs through the DevTools protocol,
which a page's policy does not govern, so axe is evaluated into each frame
instead, and the pages keep their real policy while they are tested.
"""

from __future__ import annotations

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the public-sector rules ask.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations", "incomplete"],
  });
  const brief = (items) => items.map((r) => ({
    id: r.id, impact: r.impact, help: r.help, helpUrl: r.helpUrl,
    targets: r.nodes.map((n) => n.target.join(" ")),
    summaries: r.nodes.map((n) => n.failureSummary || ""),
  }));
  return {version: axe.version, violations: brief(results.violations),
          incomplete: brief(results.incomplete)};
}"""


def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(page, source: str | None = None) -> dict:
    """axe's violations and incomplete ("needs review") results for the page, each
    as {id, impact, help, helpUrl, targets, summaries}."""
    source = source or axe_source()
    for frame in page.frames:  # axe asks each frame for its own results
        if not frame.is_detached() and not frame.evaluate("typeof window.axe !== 'undefined'"):
            frame.evaluate(source)
    return page.evaluate(_RUN, WCAG_TAGS)


def describe(results: list[dict], *, nodes: int = 5) -> str:
    """One paragraph per rule: its id, impact and help, and the failing elements."""
    lines = []
    for rule in results:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']} <{rule['helpUrl']}>")
        for target, summary in list(zip(rule["targets"], rule["summaries"], strict=True))[:nodes]:
            detail = " ".join(summary.split())
            lines.append(f"    {target}" + (f": {detail[:300]}" if detail else ""))
        if len(rule["targets"]) > nodes:
            lines.append(f"    … and {len(rule['targets']) - nodes} more")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> dict:
    """Fail, naming each violation and its elements, unless axe finds none; return
    the results (their `incomplete` items need a person's review)."""
    results = run_axe(page)
    assert not results["violations"], f"axe on {page.url}:\n" + describe(results["violations"])
    return results
