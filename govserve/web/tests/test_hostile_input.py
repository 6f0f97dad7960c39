"""Issue 8, hostile input: whatever a question page or the API is sent, it answers a page or a problem, never a 500.

* Hypothesis posts form data to every question page of the street trading
  licence and the newborn registration (the field names each page really
  has, plus made-up ones; text from anywhere in Unicode plus a list of known
  troublemakers: NUL, CR LF with a header after it, bidi overrides,
  zero-width characters, combining marks, template syntax, SQL, huge
  strings). Each post is saved (302) or refused with the page and its errors
  (400); an answer saved on another page earlier never changes.
* Hypothesis sends any JSON to the API's page save: 200 or a problem+json
  4xx, never a 500.
* Header injection: a name with CR LF and a ``Bcc:`` line reaches the
  applicant's email as text on one line, with one recipient and no new
  header; an email address with the same trick is refused with the field's
  message.
* Unicode: bidi override and isolate characters are removed from answers
  (they can make text read backwards on the staff pages: "Trojan Source"),
  decomposed accents are stored composed, and joiners that scripts and emoji
  need are kept.

Unexpected exceptions are not caught anywhere here: Django's test client
re-raises them, so a bug fails the test with its traceback.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govserve.api.models import SCOPES
from govserve.api.services import api_client_create, api_token_issue
from govserve.audit.actors import Actor
from govserve.catalogue.selectors import compiled_cache_clear
from govserve.core.jobs import run_pending
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.answers import answers_load
from govserve.journeys.errors import AnswersInvalidError
from govserve.journeys.models import Answer, Application
from govserve.journeys.selectors import compiled_for
from govserve.journeys.tests.conftest import media_root  # noqa: F401 - autouse: the journeys' file store and test scanner
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN,
    NEWBORN_PATH,
    STREET_LIGHT,
    STREET_TRADING,
    TRADING_FORMS,
    TRADING_PATH,
    applicant,
    citizen_new,
    examples_publish,
    sign_in,
)
from govserve.journeys.tests.test_services import fill_newborn, fill_trading, save
from govserve.notifications.testing import smtp_sink

HOSTILE = [
    "\x00",
    "Ada\x00Lovelace",
    "Ada\r\nBcc: someone@example.net",
    "line one\rline two\nline three",
    "\u202eevil.exe\u202c",
    "\u2067isolated\u2069",
    "zero\u200bwidth\u200d\ufeff",
    "Zoe\u0308 e\u0301",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "{{ 7*7 }}{% debug %}((reference))",
    "'; DROP TABLE journeys_answer; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "x" * 100_000,
    "",
    " ",
    "-1",
    "99999999999999999999999999",
    "2026-02-30",
    "NaN",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200))
# A lone surrogate cannot be sent in a form (it has no UTF-8), but JSON can carry one as "\ud800".
hostile_json_text = st.one_of(hostile_text, st.just("\ud800"), st.just("a\udfffb"))

_NAME = re.compile(r'\bname="([^"]+)"')
FUZZED_PAGES = [(STREET_TRADING, page) for page in TRADING_PATH if page != "photo"] + [
    (NEWBORN, page) for page in NEWBORN_PATH
]
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def published(db: None) -> None:
    compiled_cache_clear()
    examples_publish(STREET_TRADING, NEWBORN, STREET_LIGHT)


def _started(service_id: str) -> tuple[Client, Application, Applicant]:
    citizen = citizen_new(f"fuzz-{service_id}@example.org")
    who = applicant(citizen)
    application = journeys.application_start(service_id=service_id, applicant=who, language="en").application
    if service_id == STREET_TRADING:
        fill_trading(application, who)
    else:
        fill_newborn(application, who)
    client = Client()
    sign_in(client, citizen)
    return client, application, who


def _sealed(application: Application, field_id: str) -> bytes:
    return bytes(Answer.objects.get(application=application, field_id=field_id).value_sealed)


@pytest.mark.parametrize(("service_id", "page_id"), FUZZED_PAGES, ids=[f"{s}:{p}" for s, p in FUZZED_PAGES])
def test_any_form_post_to_a_question_page_is_saved_or_refused_and_loses_nothing(
    published: None, service_id: str, page_id: str
) -> None:
    client, application, _who = _started(service_id)
    path = f"/apply/{application.id}/{page_id}"
    page = client.get(path)
    assert page.status_code == 200
    names = sorted({name for name in _NAME.findall(page.content.decode()) if name != "csrfmiddlewaretoken"})
    assert names, f"{path} has no inputs"
    canary_field = "full_name" if service_id == STREET_TRADING else "mother_full_name"
    canary_page = "your-name" if service_id == STREET_TRADING else "mother"
    before = _sealed(application, canary_field)

    @FUZZ
    @given(
        form=st.dictionaries(st.sampled_from([*names, "action", "unknown_field"]), st.lists(hostile_text, max_size=3))
    )
    def post(form: dict[str, list[str]]) -> None:
        response = client.post(path, form)
        assert response.status_code in {200, 302, 400}, (form, response.status_code)
        if response.status_code == 400:
            assert "There is a problem" in response.content.decode()
        if page_id != canary_page:
            assert _sealed(application, canary_field) == before

    post()


def _api_token() -> str:
    client = api_client_create(name="fuzzer", actor=Actor.system("cli"), rate_limit_per_minute=100_000)
    return api_token_issue(client=client, scopes=SCOPES, actor=Actor.system("cli")).text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_json_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=12,
)


def test_any_json_sent_to_the_api_page_save_is_saved_or_a_problem(published: None) -> None:
    token = _api_token()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    started = client.post(
        "/api/v1/applications",
        {"service_id": STREET_LIGHT, "language": "en", "contact_email": "fuzz@example.org"},
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    application_id = started.json()["id"]

    @FUZZ
    @given(
        page_id=st.sampled_from([*LIGHT_PATH, "no-such-page"]),
        answers=st.dictionaries(st.sampled_from(["problem", "street", "reporter_email", "x"]), json_values),
        whole=st.one_of(st.none(), json_values),
    )
    def put(page_id: str, answers: dict[str, Any], whole: Any) -> None:
        body = {"answers": answers} if whole is None else whole
        response = client.put(
            f"/api/v1/applications/{application_id}/pages/{page_id}", json.dumps(body), content_type="application/json"
        )
        assert response.status_code in {200, 400, 404, 409, 422}, (body, response.status_code, response.content)
        if response.status_code != 200:
            assert response["Content-Type"].startswith("application/problem+json")
            problem = response.json()
            assert problem["status"] == response.status_code
            assert problem["code"]

    put()


def test_a_header_in_a_name_stays_text_on_one_line_of_the_email(published: None, settings: Any) -> None:
    # given an anonymous street light report whose reporter's name carries CR LF and a Bcc header
    with smtp_sink() as sink:
        settings.EMAIL_URL = sink.url
        started = journeys.application_start(
            service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
        )
        who = applicant(None, started.application.id)
        for page_id in LIGHT_PATH:
            form = LIGHT_FORMS[page_id]
            if page_id == "your-details":
                form = {**form, "reporter_name": ["Charles\r\nBcc: someone@example.net\r\n\r\nInjected body"]}
            save(started.application, who, page_id, form)
        journeys.application_submit(
            application_id=started.application.id,
            applicant=who,
            idempotency_key="header-injection",
            declaration_accepted=True,
            language="en",
        )

        # when the worker delivers the acknowledgement
        run_pending()

    # then every message went to the contact address alone, with no injected header, the name on one line of
    # the acknowledgement's body
    assert sink.received
    for received in sink.received:
        assert received.rcpt_tos == ("charles@example.org",)
        assert received.message["Bcc"] is None
        assert "someone@example.net" not in str(received.message["To"]) + str(received.message["Subject"])
    bodies = [received.body for received in sink.received]
    assert any("Thank you, Charles  Bcc: someone@example.net    Injected body." in body for body in bodies), bodies


def test_an_email_address_with_a_header_in_it_is_refused_with_the_fields_message(published: None) -> None:
    started = journeys.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
    )
    who = applicant(None, started.application.id)
    for page_id in LIGHT_PATH[:-1]:
        save(started.application, who, page_id, LIGHT_FORMS[page_id])
    form = {**LIGHT_FORMS["your-details"], "reporter_email": ["charles@example.org\r\nBcc: someone@example.net"]}

    with pytest.raises(AnswersInvalidError) as refused:
        save(started.application, who, "your-details", form)

    assert [(e.field_id, e.code) for e in refused.value.errors] == [("reporter_email", "format")]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ada \u202eecalevoL\u202c", "Ada ecalevoL"),
        ("\u2067Ada\u2069 \u2066Lovelace\u2069", "Ada Lovelace"),
        ("\u202aAda\u202b Love\u202dlace\u202c", "Ada Lovelace"),
        ("Zoe\u0308", "Zo\u00eb"),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467 family", "\U0001f468\u200d\U0001f469\u200d\U0001f467 family"),
        ("\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"),
    ],
    ids=["rlo-override", "isolates", "embeddings", "combining-mark", "emoji-zwj", "devanagari-zwj"],
)
def test_bidi_controls_are_removed_accents_composed_and_joiners_kept(published: None, typed: str, stored: str) -> None:
    who = applicant(citizen_new("unicode@example.org"))
    application = journeys.application_start(service_id=STREET_TRADING, applicant=who, language="en").application
    save(application, who, "age", TRADING_FORMS["age"])

    save(application, who, "your-name", {"full_name": [typed]})

    assert answers_load(application, compiled_for(application).definition)["full_name"] == stored
