"""The street trading journey as HTTP steps: what a browser without JavaScript sends, and what must come back.

A simulated citizen walks one plan from the start page to the satisfaction
question on the confirmation page. Each question is a GET of the page, a
POST of its answers, and the GET the redirect leads to (which is the next
step's GET); the file questions post ``multipart/form-data``. Every step
names the status it must answer and, for redirects, the exact ``Location``:
anything else is a failure.

Bodies are prepared once with placeholders that the walker replaces per
request: :data:`CSRF` (the token of the form the citizen just loaded),
:data:`START_KEY` and :data:`SUBMIT_KEY` (the hidden keys of the start and
check-answers pages), :data:`CITIZEN` (the citizen's number: answers differ
per citizen so the check after the run can tell them apart) and :data:`APP`
(the application id, from the redirect after the start). The placeholders
are made of characters that URL-encoding leaves as they are.

Two variants: ``goods`` (12 answers, one document) and ``food`` (the
conditional food business page: 13 answers, a second document).
"""

from __future__ import annotations

import io
import urllib.parse
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

SERVICE_ID = "street-trading-licence"
CSRF = "__CSRF__"
START_KEY = "__START_KEY__"
SUBMIT_KEY = "__SUBMIT_KEY__"
CITIZEN = "__CITIZEN__"
APP = "__APP__"
BOUNDARY = "govserve-bench-7f3a9c"
HIDDEN_VALUES = ("csrfmiddlewaretoken", "start_key", "submit_key")
# What each simulated citizen answers, recognisable in the database check (it must never be found in clear).
FULL_NAME = "Ada Lovelace " + CITIZEN
PLAINTEXT_MARKERS = (b"Ada Lovelace", b"Analytical Row", b"Grace Hopper", b"ada.lovelace.", b"07700 900")
DOCUMENT_TEXT = "Public liability insurance certificate 5000000 GBP Lovelace"


class Mark(StrEnum):
    """What a step's success means for the counts checked against the database after the run."""

    NONE = ""
    START = "start"  # the application was created: its id is in the redirect
    SUBMIT = "submit"  # the application was sent ("Accept and send" acknowledged)
    FEEDBACK = "feedback"  # the satisfaction answer was recorded
    DONE = "done"  # the last step of the walk


@dataclass(frozen=True)
class Step:
    """One HTTP request of the walk and the answer it must get."""

    name: str
    method: str
    path: str
    status: int
    location: str = ""
    body: bytes = b""
    content_type: str = ""
    mark: Mark = Mark.NONE


@dataclass(frozen=True)
class Variant:
    """A whole walk: its steps and the answers it leaves (field ids), for the database check."""

    name: str
    steps: tuple[Step, ...]
    answer_fields: frozenset[str]
    documents: int
    extra: dict[str, str] = field(default_factory=dict)


def _form(values: dict[str, str]) -> bytes:
    return urllib.parse.urlencode({"csrfmiddlewaretoken": CSRF, **values}).encode("ascii")


def _multipart(values: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> bytes:
    parts: list[bytes] = []
    for name, value in {"csrfmiddlewaretoken": CSRF, **values}.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content_type, content) in files.items():
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"


def photo_jpeg() -> bytes:
    """Return a passport-like photo: 600 x 750 pixels of smooth colour, about 20 KB of JPEG."""
    from PIL import Image  # noqa: PLC0415 - only the plan's builder needs Pillow

    small = Image.new("RGB", (6, 8))
    small.putdata([((x * 40) % 256, (y * 30) % 256, (x * y * 7) % 256) for y in range(8) for x in range(6)])
    output = io.BytesIO()
    small.resize((600, 750), Image.Resampling.BICUBIC).save(output, format="JPEG", quality=85)
    return output.getvalue()


def insurance_pdf() -> bytes:
    """Return a small one-page PDF (the insurance certificate)."""
    from govserve.documents.tests.samples import pdf_document  # noqa: PLC0415 - test data, no Django needed

    return pdf_document(DOCUMENT_TEXT)


def _question(page: str, values: dict[str, str], following: str) -> list[Step]:
    """GET a question page, POST its answers, expect the redirect to ``following`` (a path under the application)."""
    url = f"/apply/{APP}/{page}"
    return [
        Step(f"{page}:get", "GET", url, 200),
        Step(f"{page}:post", "POST", url, 302, f"/apply/{APP}/{following}", _form(values), URLENCODED),
    ]


def _variant(name: str, *, food: bool, photo: bytes, pdf: bytes) -> Variant:
    base = f"/apply/{APP}"
    steps: list[Step] = [
        Step("start-page:get", "GET", f"/services/{SERVICE_ID}/", 200),
        Step(
            "start:post",
            "POST",
            f"/services/{SERVICE_ID}/start",
            302,
            f"{base}/",
            _form({"start_key": START_KEY}),
            URLENCODED,
            Mark.START,
        ),
        Step("resume:get", "GET", f"{base}/", 302, f"{base}/age"),
        *_question(
            "age", {"date_of_birth-day": "27", "date_of_birth-month": "3", "date_of_birth-year": "1990"}, "your-name"
        ),
        *_question("your-name", {"full_name": FULL_NAME}, "contact-details"),
        *_question(
            "contact-details",
            {"email": f"ada.lovelace.{CITIZEN}@example.org", "phone": "07700 900123"},
            "home-address",
        ),
        *_question(
            "home-address",
            {
                "home_address-line1": "12 Analytical Row",
                "home_address-town": "Westmoor",
                "home_address-postcode": "wm1 1aa",
            },
            "trading-type",
        ),
    ]
    if food:
        steps += _question(
            "trading-type",
            {"trading_type": "food", "goods_description": "Hot drinks and pastries"},
            "food-business",
        )
        steps += _question("food-business", {"food_registration_number": "FB123456"}, "pitch")
    else:
        steps += _question(
            "trading-type", {"trading_type": "goods", "goods_description": "Cut flowers and bouquets"}, "pitch"
        )
    steps += _question(
        "pitch",
        {"pitch_location": "market-square-1", "days_per_week": "5", "licence_length": "12_months"},
        "assistants",
    )
    # Add another: yes, one assistant, then no.
    steps += [
        Step("assistants:get", "GET", f"{base}/assistants", 200),
        Step(
            "assistants:post-yes",
            "POST",
            f"{base}/assistants",
            302,
            f"{base}/assistants/assistants/add",
            _form({"add_another": "yes"}),
            URLENCODED,
        ),
        Step("assistant-add:get", "GET", f"{base}/assistants/assistants/add", 200),
        Step(
            "assistant-add:post",
            "POST",
            f"{base}/assistants/assistants/add",
            302,
            f"{base}/assistants",
            _form(
                {
                    "assistant_name": "Grace Hopper",
                    "assistant_date_of_birth-day": "9",
                    "assistant_date_of_birth-month": "12",
                    "assistant_date_of_birth-year": "1980",
                }
            ),
            URLENCODED,
        ),
        Step("assistants-summary:get", "GET", f"{base}/assistants", 200),
        Step(
            "assistants:post-no",
            "POST",
            f"{base}/assistants",
            302,
            f"{base}/photo",
            _form({"add_another": "no"}),
            URLENCODED,
        ),
        Step("photo:get", "GET", f"{base}/photo", 200),
        Step(
            "photo:post",
            "POST",
            f"{base}/photo",
            302,
            f"{base}/documents",
            _multipart({}, {"photo": ("photo.jpg", "image/jpeg", photo)}),
            MULTIPART,
        ),
    ]
    documents = ["public-liability-insurance"] + (["food-hygiene-certificate"] if food else [])
    for document in documents:
        steps += [
            Step(f"documents-{document}:get", "GET", f"{base}/documents", 200),
            Step(
                f"documents-{document}:post",
                "POST",
                f"{base}/documents",
                302,
                f"{base}/documents",
                _multipart(
                    {"action": "upload", "document": document},
                    {f"file-{document}": (f"{document}.pdf", "application/pdf", pdf)},
                ),
                MULTIPART,
            ),
        ]
    steps += [
        Step("documents:get", "GET", f"{base}/documents", 200),
        Step(
            "documents:post-continue",
            "POST",
            f"{base}/documents",
            302,
            f"{base}/fees",
            _form({"action": "continue"}),
            URLENCODED,
        ),
        Step("fees:get", "GET", f"{base}/fees", 200),
        Step("check-answers:get", "GET", f"{base}/check-answers", 200),
        Step(
            "check-answers:post",
            "POST",
            f"{base}/check-answers",
            302,
            f"{base}/confirmation",
            _form({"submit_key": SUBMIT_KEY, "declaration": "accepted"}),
            URLENCODED,
            Mark.SUBMIT,
        ),
        Step("confirmation:get", "GET", f"{base}/confirmation", 200),
        Step(
            "feedback:post",
            "POST",
            f"{base}/confirmation",
            302,
            f"{base}/confirmation?feedback=sent",
            _form({"rating": "5", "comment": ""}),
            URLENCODED,
            Mark.FEEDBACK,
        ),
        Step("confirmation-thanks:get", "GET", f"{base}/confirmation?feedback=sent", 200, mark=Mark.DONE),
    ]
    answers = {
        "date_of_birth",
        "full_name",
        "email",
        "phone",
        "home_address",
        "trading_type",
        "goods_description",
        "pitch_location",
        "days_per_week",
        "licence_length",
        "assistants",
        "photo",
    }
    if food:
        answers.add("food_registration_number")
    return Variant(name=name, steps=tuple(steps), answer_fields=frozenset(answers), documents=len(documents))


def variants() -> dict[str, Variant]:
    """Return the two walks, ``goods`` and ``food``."""
    photo, pdf = photo_jpeg(), insurance_pdf()
    return {
        "goods": _variant("goods", food=False, photo=photo, pdf=pdf),
        "food": _variant("food", food=True, photo=photo, pdf=pdf),
    }


BASELINE = Variant(
    name="baseline",
    steps=(Step("baseline:get", "GET", "/", 200, mark=Mark.DONE),),
    answer_fields=frozenset(),
    documents=0,
)
"""The baseline page's "walk": one GET, without cookies, as its own instructions measure it (``wrk`` on ``/``)."""


def variant_of(citizen_number: int) -> str:
    """Return the walk of a citizen: every fourth citizen sells food."""
    return "food" if citizen_number % 4 == 3 else "goods"


def write_for_wrk(directory: Path, plans: dict[str, Variant]) -> Path:
    """Write the plans for ``journey.lua``: one tab-separated line per step, each body in its own file.

    Columns: variant, name, method, path, status, location, mark, body file (or ``-``), content type (or ``-``).
    """
    lines = []
    for plan in plans.values():
        for number, step in enumerate(plan.steps):
            body_file = "-"
            if step.body:
                body_path = directory / f"body-{plan.name}-{number}.bin"
                body_path.write_bytes(step.body)
                body_file = str(body_path)
            columns = [
                plan.name,
                step.name,
                step.method,
                step.path,
                str(step.status),
                step.location or "-",
                step.mark.value or "-",
                body_file,
                step.content_type or "-",
            ]
            assert all("\t" not in column and "\n" not in column for column in columns)
            lines.append("\t".join(columns))
    path = directory / "plan.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
