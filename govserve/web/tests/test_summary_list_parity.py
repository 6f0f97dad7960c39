"""summary_list (govserve.web.summary_list) gives exactly the markup of govuk-frontend-jinja's govukSummaryList.

Both are rendered with the same params and compared as a sequence of elements
(tag, attributes in any order, classes in order) and texts (spaces collapsed),
as the layout and field parity tests do; the texts inside keys and values are
compared exactly too (the same lines, indented alike).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template import engines
from markupsafe import Markup

from govserve.web.tests.test_layout_parity import tokens

MACRO = '{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}'
HOSTILE = 'Tom & "Jerry" <script>alert(1)</script>'


def _both(params: Any) -> tuple[str, str]:
    environment = engines["jinja2"].env  # type: ignore[attr-defined]
    ours = environment.from_string("{{ summary_list(params) }}").render(params=params)
    theirs = environment.from_string(MACRO + "{{ govukSummaryList(params) }}").render(params=params)
    return ours, theirs


def _change(label: str, href: str = "/applications/1/pages/age?return=check") -> dict[str, Any]:
    return {"items": [{"href": href, "text": "Change", "visuallyHiddenText": label}]}


CASES: dict[str, dict[str, Any]] = {
    "check answers section": {
        "classes": "govuk-!-margin-bottom-9",
        "attributes": {"id": "answers-age"},
        "rows": [
            {
                "key": {"text": "Date of birth"},
                "value": {"html": Markup("1 May 1980")},
                "actions": _change("Date of birth"),
            },
            {
                "key": {"text": "Address"},
                "value": {"html": Markup("1 High Street<br>Westmoor<br>\nWM1 1AA")},
                "actions": _change("Address"),
            },
            {
                "key": {"text": "Phone"},
                "value": {"html": Markup('<span class="govuk-hint">Not answered</span>')},
                "actions": _change("Phone"),
            },
        ],
    },
    "hostile text everywhere": {
        "classes": 'x" onclick="y',
        "attributes": {"id": HOSTILE, "data-x": 3},
        "rows": [
            {
                "key": {"text": HOSTILE, "classes": "k<"},
                "value": {"text": HOSTILE + "\nsecond line", "classes": "v&"},
                "classes": "row>",
                "actions": {
                    "classes": "a'",
                    "items": [
                        {
                            "href": '/x?a=1&b="2"',
                            "text": HOSTILE,
                            "visuallyHiddenText": HOSTILE,
                            "classes": "c&",
                            "attributes": {"data-y": HOSTILE},
                        }
                    ],
                },
            }
        ],
    },
    "rows with and without actions, several actions": {
        "rows": [
            {"key": {"text": "Documents"}, "value": {"text": "Bring it to the counter"}},
            {"key": {"text": "Photo"}, "value": {"text": "photo.jpg"}, "actions": _change("Photo")},
            {
                "key": {"html": Markup("<strong>Assistant</strong>\n  Ana")},
                "value": {"text": ""},
                "actions": {
                    "items": [
                        {"href": "/change", "text": "Change", "visuallyHiddenText": "Ana"},
                        {"href": "/remove", "html": Markup("Remove<br>\nthis"), "attributes": {"data-a": "1"}},
                    ]
                },
            },
            {"key": {"text": "Empty actions"}, "value": {"text": "x"}, "actions": {"items": []}},
        ],
    },
    "missing values": {
        "rows": [
            {"key": {"text": None}, "value": {}},
            {"key": {}, "value": {"html": "", "text": "fallback"}},
            {"key": {"html": None}, "value": {"html": Markup("  padded  ")}},
            None,
            {},
            {"key": {"text": 42}, "value": {"text": 0}, "actions": {"items": [{"text": "No href"}]}},
        ],
    },
    "no rows": {"rows": []},
    "no params but rows": {"rows": [{"key": {"text": "Only"}, "value": {"text": "row"}}]},
    # Shapes left to the macro (rendered by it): a card, string attributes, options, booleans.
    "card": {
        "card": {"title": {"text": "Licence"}},
        "rows": [{"key": {"text": "Name"}, "value": {"text": "Ana"}}],
    },
    "string attributes": {"attributes": ' data-raw="1"', "rows": [{"key": {"text": "A"}, "value": {"text": "B"}}]},
    "attribute options and booleans": {
        "attributes": {"hidden": {"value": True, "optional": True}, "data-flag": False},
        "rows": [{"key": {"text": "A"}, "value": {"text": "B"}}],
    },
}


# The shapes rendered by summary_list itself (the others go to the macro).
OWN = {
    "check answers section",
    "hostile text everywhere",
    "rows with and without actions, several actions",
    "missing values",
    "no rows",
    "no params but rows",
}


def _no_macro(*_: Any) -> str:
    raise AssertionError("rendered by the macro")


@pytest.mark.parametrize("name", CASES)
def test_summary_list_gives_the_macros_markup(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the params of one shape, and whether summary_list renders it without the macro
    params = CASES[name]
    if name in OWN:
        monkeypatch.setattr("govserve.web.summary_list._macro_render", _no_macro)

    # When both render it
    ours, theirs = _both(params)

    # Then they give the same elements, attributes and texts
    assert tokens(ours) == tokens(theirs)


def test_summary_list_keeps_the_lines_of_keys_and_values() -> None:
    # Given a value whose html spans lines and a text with a line break
    params = {
        "rows": [
            {"key": {"text": "Address"}, "value": {"html": Markup("  1 High Street<br>\nWestmoor\n\nWM1  ")}},
            {"key": {"text": "Note"}, "value": {"text": "one\ntwo"}},
        ]
    }

    # When both render it
    ours, theirs = _both(params)

    # Then each value's content is the macro's to the character (trimmed, later lines indented alike)
    assert "      1 High Street<br>\n      Westmoor\n\n      WM1\n    </dd>" in ours
    assert "      one\ntwo\n    </dd>" in ours
    for content in ("      1 High Street<br>\n      Westmoor\n\n      WM1\n    </dd>", "      one\ntwo\n    </dd>"):
        assert content in theirs


def test_summary_list_escapes_text_and_trusts_html() -> None:
    # Given a row with hostile text and a value given as markup
    params = {"rows": [{"key": {"text": HOSTILE}, "value": {"html": Markup("<b>bold</b>")}}]}

    # When it renders
    ours, _ = _both(params)

    # Then the text is escaped and the markup is not
    assert "Tom &amp; &#34;Jerry&#34; &lt;script&gt;alert(1)&lt;/script&gt;" in ours
    assert "<script>" not in ours
    assert "<b>bold</b>" in ours
