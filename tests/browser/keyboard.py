"""Keyboard-only checks: focus order, visible focus, no trap (WCAG 2.1.1, 2.1.2, 2.4.3, 2.4.7, 2.4.11).

:func:`assert_keyboard_operable` tabs through a whole page, forwards and
backwards, and compares what received focus with the page's tabbable
elements in DOM (reading) order:

- focus order: the Tab sequence is exactly the tabbable elements in document
  order (no positive ``tabindex``; a radio group is one stop, as browsers make it);
- visible focus: every stop looks different focused than unfocused (outline,
  box shadow, background, colour, border or underline of the element, its
  label or their ``::before``/``::after``, as GOV.UK radios draw focus on the
  label) and is inside the viewport when focused (not obscured off screen);
- no trap: from every stop Tab moves on, and after the last stop focus leaves
  the page (or wraps) and comes back to the first; Shift+Tab walks them in reverse.

It works with and without JavaScript: the checks run through the DevTools
protocol, which works in a page whose own scripts are disabled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

# Describe an element: its position in the document (stable while the page does not change), the
# key its Tab stop compares by (a radio group is one stop) and a label for messages.
_DESCRIBE = """(element) => {
  if (!element || element === document.body || element === document.documentElement) return null;
  const index = Array.prototype.indexOf.call(document.getElementsByTagName("*"), element);
  const formIndex = element.form ? Array.prototype.indexOf.call(document.forms, element.form) : -1;
  const key = element.type === "radio" && element.name ? `radio:${formIndex}:${element.name}` : `element:${index}`;
  const text = (element.innerText || element.value || element.getAttribute("aria-label") || "").trim();
  const id = element.id ? `#${element.id}` : "";
  const name = element.name ? `[name=${element.name}]` : "";
  return { index, key, label: `${element.tagName.toLowerCase()}${id}${name} "${text.slice(0, 40)}"` };
}"""

_TABBABLE = (
    """() => {
  const describe = """
    + _DESCRIBE
    + """;
  const stops = [];
  const members = [];
  const groups = new Map();
  for (const element of document.querySelectorAll("*")) {
    if (element.tabIndex < 0 || element.disabled || element.closest("[inert]")) continue;
    if (element.type === "hidden" || !element.checkVisibility({ visibilityProperty: true })) continue;
    const described = describe(element);
    members.push(described.index);
    if (element.type === "radio" && element.name) {
      // One stop per group: the checked radio, or the first one when none is checked.
      const known = groups.get(described.key);
      if (known === undefined) {
        groups.set(described.key, stops.length);
        stops.push(described);
      } else if (element.checked) {
        stops[known] = described;
      }
      continue;
    }
    stops.push(described);
  }
  const positive = [...document.querySelectorAll("[tabindex]")]
    .filter((element) => element.tabIndex > 0)
    .map((element) => describe(element).label);
  return { stops, members, positive };
}"""
)

_ACTIVE = "() => (" + _DESCRIBE + ")(document.activeElement)"

_STYLE_PROPERTIES = (
    "outline-style",
    "outline-width",
    "outline-color",
    "box-shadow",
    "background-color",
    "color",
    "border-top-color",
    "border-bottom-color",
    "border-bottom-width",
    "text-decoration-line",
    "text-decoration-thickness",
    "text-decoration-color",
)

# The look of an element, its labels and their pseudo-elements; and where it is on screen.
_LOOK = """([index, properties]) => {
  const element = document.getElementsByTagName("*")[index];
  const parts = [element, ...(element.labels ? [...element.labels] : [])];
  const style = {};
  parts.forEach((part, position) => {
    for (const pseudo of [null, "::before", "::after"]) {
      const computed = getComputedStyle(part, pseudo);
      for (const property of properties) {
        style[`${position}${pseudo || ""} ${property}`] = computed.getPropertyValue(property);
      }
    }
  });
  const boxes = parts.map((part) => part.getBoundingClientRect()).filter((box) => box.width > 0 && box.height > 0);
  const inViewport = boxes.some(
    (box) => box.bottom > 0 && box.right > 0 && box.top < window.innerHeight && box.left < window.innerWidth
  );
  return { style, inViewport };
}"""

_TRANSPARENT = re.compile(r"rgba\([^)]*,\s*0\)|transparent")


@dataclass(frozen=True)
class Stop:
    """One element that receives focus from the keyboard."""

    index: int
    key: str
    label: str


def _tabbable(page: Page) -> tuple[list[Stop], list[int]]:
    found: dict[str, Any] = page.evaluate(_TABBABLE)
    assert not found["positive"], f"positive tabindex breaks the reading order: {found['positive']}"
    return [Stop(**stop) for stop in found["stops"]], list(found["members"])


def tabbable_stops(page: Page) -> list[Stop]:
    """Return the page's Tab stops in document order; fail on any positive ``tabindex``."""
    return _tabbable(page)[0]


def focused(page: Page) -> Stop | None:
    """Return the element that has focus, or None when it is the document itself."""
    active = page.evaluate(_ACTIVE)
    return None if active is None else Stop(**active)


def _look(page: Page, index: int) -> dict[str, Any]:
    look: dict[str, Any] = page.evaluate(_LOOK, [index, list(_STYLE_PROPERTIES)])
    return look


def _visible_change(unfocused: dict[str, str], with_focus: dict[str, str]) -> list[str]:
    """Return the style properties whose change shows focus (a transparent outline shows nothing)."""
    changed = []
    for name, value in with_focus.items():
        if unfocused.get(name) == value:
            continue
        part, _, property_name = name.rpartition(" ")
        if property_name.startswith("outline"):
            outline_style = with_focus[f"{part} outline-style"]
            outline_width = with_focus[f"{part} outline-width"]
            outline_color = with_focus[f"{part} outline-color"]
            if outline_style == "none" or outline_width in {"0px", ""} or _TRANSPARENT.search(outline_color):
                continue
        if property_name == "box-shadow" and value == "none":
            continue
        changed.append(f"{name}: {unfocused.get(name)} -> {value}")
    return changed


def _press_until(page: Page, key: str, target: Stop, limit: int) -> None:
    """Press ``key`` until ``target`` has focus; fail (a trap, or an unreachable stop) after ``limit`` presses."""
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        stop = focused(page)
        if stop is not None and stop.key == target.key:
            return
        passed.append(stop.label if stop else "(the document)")
    trail = " -> ".join(passed[-8:])
    msg = f"keyboard trap: {limit} presses of {key} never reached {target.label}; last stops: {trail}"
    raise AssertionError(msg)


def _cycle(page: Page, key: str, first: Stop, limit: int, visit: Callable[[Stop], None]) -> tuple[list[Stop], bool]:
    """From ``first`` (focused), press ``key`` until focus leaves the page or comes back to ``first``.

    ``visit`` sees each stop while it has focus. Return the stops in order (``first`` included) and
    whether the cycle ended: a browser either gives focus to the document after the last stop, or
    wraps straight to the first one.
    """
    visit(first)
    stops = [first]
    for _ in range(limit):
        page.keyboard.press(key)
        stop = focused(page)
        if stop is not None and stop.index == stops[-1].index:
            return stops, False  # the key did not move focus: a trap
        if stop is None or stop.key == first.key:
            return stops, True
        visit(stop)
        stops.append(stop)
    return stops, False


def assert_keyboard_operable(page: Page) -> list[Stop]:
    """Tab through the whole page forwards and backwards; return the stops (see the module docstring)."""
    expected, members = _tabbable(page)
    assert expected, f"nothing on {page.url} can receive keyboard focus"
    # Every element that can take focus (each radio of a group too), as it looks unfocused.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    unfocused = {index: _look(page, index)["style"] for index in members}
    limit = 2 * len(expected) + 3
    problems: list[str] = []

    def check_focus(stop: Stop) -> None:
        look = _look(page, stop.index)
        baseline = unfocused.get(stop.index)
        if baseline is None:
            problems.append(f"{stop.label} took focus but is not a visible, enabled tabbable element")
        elif not _visible_change(baseline, look["style"]):
            problems.append(f"no visible focus indicator on {stop.label}")
        if not look["inViewport"]:
            problems.append(f"{stop.label} is outside the viewport when focused")

    _press_until(page, "Tab", expected[0], limit)
    forwards, ended = _cycle(page, "Tab", focused(page) or expected[0], limit, check_focus)
    if not ended:
        problems.append(f"keyboard trap: Tab does not move on from {forwards[-1].label}")
    expected_keys = [stop.key for stop in expected]
    if [stop.key for stop in forwards] != expected_keys:
        problems.append(
            "focus order differs from the reading order:\n  expected "
            + " -> ".join(stop.label for stop in expected)
            + "\n  got      "
            + " -> ".join(stop.label for stop in forwards)
        )

    _press_until(page, "Shift+Tab", expected[-1], limit)
    backwards, ended = _cycle(page, "Shift+Tab", focused(page) or expected[-1], limit, lambda stop: None)
    if not ended or [stop.key for stop in backwards] != list(reversed(expected_keys)):
        problems.append(
            "Shift+Tab does not walk the stops in reverse:\n  got " + " -> ".join(stop.label for stop in backwards)
        )
    assert not problems, f"keyboard problems on {page.url}:\n" + "\n".join(problems)
    return expected


def tab_to(page: Page, selector: str) -> Stop:
    """Press Tab until the element matching ``selector`` has focus (as a keyboard user reaches it)."""
    limit = 2 * len(tabbable_stops(page)) + 3
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            stop = focused(page)
            assert stop is not None
            return stop
    msg = f"Tab never reached {selector} on {page.url}"
    raise AssertionError(msg)
