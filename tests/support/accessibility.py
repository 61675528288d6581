"""Accessibility basics checked in a real browser (issue 13): every form control has a label, and the text
of the page stands out from its background with a contrast ratio of at least 4.5:1 (WCAG 2.1, 1.4.3), and
screenshots of each page at 1280x800 under SCREENSHOTS (README: "Console").

Helpers run JavaScript in the page; they return what is wrong, so a test asserts an exact empty list."""

from __future__ import annotations

import os
from pathlib import Path

SCREENSHOTS = Path(os.environ.get("KYSO_SCREENSHOTS", Path(__file__).resolve().parents[2] / "screenshots" / "console"))

_UNLABELLED = """() => {
  const out = [];
  for (const control of document.querySelectorAll("input, select, textarea")) {
    if (control.type === "hidden") continue;
    const named = (control.labels && control.labels.length) || control.getAttribute("aria-label") ||
      control.getAttribute("aria-labelledby");
    if (!named) out.push(control.id || control.name || control.outerHTML.slice(0, 60));
  }
  return out;
}"""

# The relative luminance and contrast ratio of WCAG 2.1; the background is the first opaque one up the tree.
_LOW_CONTRAST = """() => {
  function rgb(text) { const m = text.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(",").map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; }
  function lum(c) { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
  function background(node) {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) return c; }
    return { r: 255, g: 255, b: 255, a: 1 };
  }
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const node = walker.currentNode.parentElement;
    if (!text || !node || seen.has(node)) continue;
    seen.add(node);
    const style = getComputedStyle(node);
    if (style.visibility === "hidden" || node.closest("[hidden]") || !node.getClientRects().length) continue;
    if (node.closest("svg")) continue;
    const fg = rgb(style.color), bg = background(node);
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) out.push(text.slice(0, 40) + " " + ratio.toFixed(2));
  }
  return out;
}"""


def unlabelled_controls(page) -> list[str]:
    return page.evaluate(_UNLABELLED)


def low_contrast_texts(page) -> list[str]:
    return page.evaluate(_LOW_CONTRAST)


def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, window.scrollY)")
    page.screenshot(path=str(path), full_page=False)
    return path


def focus_by_tab(page, selector: str, *, limit: int = 80) -> int:
    """Press Tab until the element matching `selector` has the focus; the number of presses (the page works
    with the keyboard alone). Raises AssertionError when it is never reached."""
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return count
    raise AssertionError(f"{selector} not reachable with Tab in {limit} presses")
