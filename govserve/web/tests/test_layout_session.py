"""The session-timeout warning (WCAG 2.2.1): who gets it, /session/extend, /session/ended, the no-JS notice."""

from __future__ import annotations

import datetime
import json

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from govserve.accounts.tests.conftest import MovableClock
from govserve.web.tests.html_tree import Element, parse
from govserve.web.tests.layout_support import sign_in_citizen

pytestmark = [pytest.mark.django_db, pytest.mark.urls("govserve.web.tests.layout_support")]

JSON = {"accept": "application/json"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    movable = MovableClock(datetime.datetime.now(tz=datetime.UTC))
    monkeypatch.setattr("govserve.core.clock.now", movable)
    return movable


def _body(client: Client, path: str = "/test/layout") -> Element:
    return parse(client.get(path).content).one("body")


def _token(client: Client, path: str = "/test/layout") -> str:
    page = parse(client.get(path).content)
    return page.find_all("input", name="csrfmiddlewaretoken")[0].attrs["value"] or ""


def _stored_expiry(client: Client) -> datetime.datetime:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).expire_date


# --- who gets the warning ----------------------------------------------------------------------------------


def test_nobody_signed_in_and_no_draft_means_no_timeout_warning(client: Client) -> None:
    body = _body(client)

    assert "data-session-timeout" not in body.attrs
    assert body.find_all("dialog") == []


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_a_signed_in_citizen_gets_the_timeout_on_the_body_and_the_dialog(client: Client) -> None:
    sign_in_citizen(client)

    body = _body(client, "/test/layout?title=Your+name")

    assert body.attrs["data-session-timeout"] == "1800"
    assert body.attrs["data-session-warning"] == "120"
    assert body.attrs["data-session-signed-in"] == "true"
    assert (
        body.attrs["data-session-ended-url"] == "/session/ended?next=%2Ftest%2Flayout%3Ftitle%3DYour%2Bname&signed_in=1"
    )
    dialog = body.one("dialog")
    assert dialog.attrs["role"] == "dialog"
    assert dialog.attrs["aria-modal"] == "true"
    assert "open" not in dialog.attrs  # shown only by the script
    heading = dialog.one(id=dialog.attrs["aria-labelledby"] or "")
    assert (heading.tag, heading.attrs["tabindex"], heading.text()) == ("h2", "-1", "You’re about to be signed out")  # noqa: RUF001
    message = dialog.one(id=dialog.attrs["aria-describedby"] or "")
    assert message.text() == "For your security, we will sign you out in 2 minutes."
    form = dialog.one("form", action="/session/extend")
    assert form.attrs["method"] == "post"
    assert form.one("input", name="next").attrs["value"] == "/test/layout?title=Your+name"
    assert form.one("input", name="csrfmiddlewaretoken").attrs["value"]
    assert form.one("button", class_="govuk-button").text() == "Stay signed in"
    sign_out = dialog.one("button", form="govserve-timeout-sign-out")
    assert sign_out.text() == "Sign out"
    assert dialog.one("form", id="govserve-timeout-sign-out").attrs["action"] == "/sign-out"


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_the_body_carries_the_seconds_the_session_has_left(client: Client, clock: MovableClock) -> None:
    sign_in_citizen(client)
    # the last-seen time is stored at most once a minute: 40 seconds later it is still the sign-in's
    clock.advance(seconds=40)
    assert _body(client).attrs["data-session-timeout"] == "1760"
    # 70 seconds after sign-in the request stores it again: a full timeout from now
    clock.advance(seconds=30)
    assert _body(client).attrs["data-session-timeout"] == "1800"
    # a part of a second left over counts as a whole one (the script never counts to before the server's deadline)
    clock.advance(seconds=0.5)
    assert _body(client).attrs["data-session-timeout"] == "1800"


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_a_draft_without_sign_in_gets_the_seconds_its_session_has_left(client: Client, clock: MovableClock) -> None:
    session = client.session
    session["gs.test"] = "a draft's access"
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key or ""
    assert _body(client, "/test/layout?draft=1").attrs["data-session-timeout"] == "1800"

    clock.advance(seconds=15)

    assert _body(client, "/test/layout?draft=1").attrs["data-session-timeout"] == "1785"


def test_the_dialog_carries_the_countdown_in_every_plural_form_of_the_language(client: Client) -> None:
    sign_in_citizen(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    dialog = _body(client).one("dialog")

    assert {name: value for name, value in dialog.attrs.items() if name.startswith("data-countdown-")} == {
        "data-countdown-minutes-zero": "{n} munud",
        "data-countdown-minutes-one": "{n} munud",
        "data-countdown-minutes-two": "{n} funud",
        "data-countdown-minutes-few": "{n} munud",
        "data-countdown-minutes-many": "{n} munud",
        "data-countdown-minutes-other": "{n} munud",
        "data-countdown-seconds-zero": "{n} eiliad",
        "data-countdown-seconds-one": "{n} eiliad",
        "data-countdown-seconds-two": "{n} eiliad",
        "data-countdown-seconds-few": "{n} eiliad",
        "data-countdown-seconds-many": "{n} eiliad",
        "data-countdown-seconds-other": "{n} eiliad",
    }
    assert (
        dialog.one(id="govserve-timeout-message").text()
        == "Er eich diogelwch, byddwn yn eich allgofnodi ymhen 2 funud."
    )
    assert dialog.one("button", class_="govuk-button").text() == "Aros wedi mewngofnodi"


def test_a_draft_without_sign_in_gets_the_warning_with_continue_and_no_sign_out(client: Client) -> None:
    body = _body(client, "/test/layout?draft=1")

    assert body.attrs["data-session-signed-in"] == "false"
    assert body.attrs["data-session-ended-url"] == "/session/ended?next=%2Ftest%2Flayout%3Fdraft%3D1"
    dialog = body.one("dialog")
    assert dialog.one("h2").text() == "Your session is about to end"
    assert dialog.one(id="govserve-timeout-message").text() == (
        "For your security, we will end your session in 2 minutes. Your answers are saved each time you continue."
    )
    assert dialog.one("button", class_="govuk-button").text() == "Continue"
    assert dialog.find_all("form", id="govserve-timeout-sign-out") == []


@override_settings(SESSION_COOKIE_AGE=180)
def test_a_short_timeout_warns_at_half_of_it(client: Client) -> None:
    sign_in_citizen(client)

    body = _body(client)

    assert (body.attrs["data-session-timeout"], body.attrs["data-session-warning"]) == ("180", "90")
    assert body.one(id="govserve-timeout-message").text() == "For your security, we will sign you out in 2 minutes."


def test_staff_pages_warn_signed_in_staff_and_sign_them_out_of_the_staff_side(client: Client) -> None:
    from govserve.accounts.tests.conftest import sign_in  # noqa: PLC0415
    from govserve.web.tests.test_layout import _officer  # noqa: PLC0415

    sign_in(client, _officer())

    body = _body(client, "/staff/test/layout")

    assert body.attrs["data-session-signed-in"] == "true"
    assert body.one("form", id="govserve-timeout-sign-out").attrs["action"] == "/staff/sign-out"
    assert body.attrs["data-session-ended-url"] == "/session/ended?next=%2Fstaff%2Ftest%2Flayout&signed_in=1"


# --- the notice for pages without JavaScript ---------------------------------------------------------------------


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_the_notice_states_the_timeout_without_javascript(client: Client) -> None:
    assert _body(client, "/test/layout?draft=1").one("p", class_="govserve-session-notice").text() == (
        "Your session will end if you do nothing for 30 minutes. Your answers are saved each time you continue."
    )
    sign_in_citizen(client)
    assert _body(client).one("p", class_="govserve-session-notice").text() == (
        "We will sign you out if you do nothing for 30 minutes. Your answers are saved each time you continue."
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    assert _body(client).one("p", class_="govserve-session-notice").text() == (
        "Byddwn yn eich allgofnodi os na fyddwch yn gwneud dim am 30 munud. "
        "Caiff eich atebion eu cadw bob tro y byddwch yn parhau."
    )


@override_settings(SESSION_COOKIE_AGE=60)
def test_the_notice_says_one_minute_in_the_singular(client: Client) -> None:
    sign_in_citizen(client)

    assert _body(client).one("p", class_="govserve-session-notice").text() == (
        "We will sign you out if you do nothing for 1 minute. Your answers are saved each time you continue."
    )


# --- /session/extend ----------------------------------------------------------------------------------------


def test_extending_needs_a_post(client: Client) -> None:
    sign_in_citizen(client)

    assert client.get("/session/extend").status_code == 405


def test_extending_without_the_csrf_token_is_refused(clock: MovableClock) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in_citizen(client)
    _token(client)  # a page was seen: the CSRF cookie is set

    response = client.post("/session/extend", headers=JSON)

    # (a request may store the last-seen time in the accounts middleware, refused or not: what is
    # refused here is the view, which never extends the session)
    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "csrf_failed"


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_extending_renews_the_idle_deadline_and_the_stored_expiry(clock: MovableClock) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in_citizen(client)
    token = _token(client)
    # given an expiry stored as if the last request had been 25 minutes ago
    Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).update(
        expire_date=timezone.now() + datetime.timedelta(minutes=5)
    )
    clock.advance(minutes=25)

    response = client.post("/session/extend", {"csrfmiddlewaretoken": token}, headers=JSON)

    assert response.status_code == 200
    assert json.loads(response.content) == {"extended": True, "signed_in": True, "expires_in_seconds": 1800}
    assert client.session["gs.seen_at"] == clock().timestamp()
    assert _stored_expiry(client) > timezone.now() + datetime.timedelta(minutes=29)
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 1800


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_an_extended_session_outlives_the_deadline_it_had(client: Client, clock: MovableClock) -> None:
    sign_in_citizen(client)
    clock.advance(minutes=28)  # the warning has been open for a minute

    assert client.post("/session/extend", headers=JSON).status_code == 200
    clock.advance(minutes=28)  # 56 minutes after the last page: alive thanks to the extension

    assert client.get("/account").status_code == 200


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_without_extending_the_session_ends_at_the_deadline(client: Client, clock: MovableClock) -> None:
    sign_in_citizen(client)
    clock.advance(minutes=30, seconds=1)

    response = client.post("/session/extend", headers=JSON)

    assert json.loads(response.content) == {"extended": True, "signed_in": False, "expires_in_seconds": 1800}
    assert "gs.kind" not in client.session
    assert client.get("/account")["Location"].startswith("/sign-in")


def test_extending_an_empty_session_creates_none(client: Client) -> None:
    response = client.post("/session/extend", headers=JSON)

    assert json.loads(response.content) == {"extended": False, "signed_in": False, "expires_in_seconds": 0}
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.count() == 0


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_each_page_s_dialog_carries_its_own_path_and_its_own_token(client: Client) -> None:
    # given: the dialog's markup is made once per language and sign-in state, each page's values put in
    sign_in_citizen(client)
    pages = ["/test/layout?title=One", "/test/layout?title=Rock+'n'+roll&x=<b>\"&amp;"]

    # when
    bodies = [_body(client, path) for path in pages]

    # then: each dialog returns to its own page (escaped as any attribute value) with the page's one token
    tokens = []
    for path, body in zip(pages, bodies, strict=True):
        dialog = body.one("dialog")
        form = dialog.one("form", action="/session/extend")
        assert form.one("input", name="next").attrs["value"] == RequestFactory().get(path).get_full_path()
        token = form.one("input", name="csrfmiddlewaretoken").attrs["value"]
        assert token == body.find_all("input", name="csrfmiddlewaretoken")[0].attrs["value"]
        sign_out = dialog.one("form", id="govserve-timeout-sign-out")
        assert sign_out.one("input", name="csrfmiddlewaretoken").attrs["value"] == token
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_without_javascript_extending_returns_to_the_page(client: Client) -> None:
    sign_in_citizen(client)

    response = client.post("/session/extend", {"next": "/test/layout?title=Your+name"})

    assert (response.status_code, response["Location"]) == (302, "/test/layout?title=Your+name")


@pytest.mark.parametrize(
    "next_path",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "", "/a\nb", "evil"],
)
def test_extending_never_redirects_off_the_site(client: Client, next_path: str) -> None:
    sign_in_citizen(client)

    response = client.post("/session/extend", {"next": next_path})

    assert response["Location"] == "/"


# --- /session/ended -------------------------------------------------------------------------------------------


def test_the_ended_page_tells_a_signed_out_person_to_sign_in_again(client: Client) -> None:
    response = client.get("/session/ended?next=/account/email&signed_in=1")

    page = parse(response.content)
    assert response.status_code == 200
    assert page.one("h1").text() == "For your security, we signed you out"
    assert page.one("a", class_="govuk-button").attrs["href"] == "/sign-in?next=%2Faccount%2Femail"
    assert "no-store" in response["Cache-Control"]


def test_the_ended_page_for_a_draft_points_to_the_emailed_link(client: Client) -> None:
    page = parse(client.get("/session/ended?next=/apply/1/name").content)

    assert page.one("h1").text() == "Your session has ended"
    assert "use the link in the email we sent you" in page.one("main").text()
    assert page.find_all("a", class_="govuk-button") == []


def test_the_ended_page_sends_staff_to_the_staff_sign_in(client: Client) -> None:
    page = parse(client.get("/session/ended?next=/staff/queues/&signed_in=1").content)

    assert page.one("a", class_="govuk-button").attrs["href"] == "/staff/sign-in?next=%2Fstaff%2Fqueues%2F"


def test_the_ended_page_returns_to_the_page_when_another_tab_kept_the_session(client: Client) -> None:
    sign_in_citizen(client)

    response = client.get("/session/ended?next=/account&signed_in=1")

    assert (response.status_code, response["Location"]) == (302, "/account")


def test_the_ended_page_refuses_to_redirect_off_the_site(client: Client) -> None:
    sign_in_citizen(client)

    assert client.get("/session/ended?next=https://evil.example/")["Location"] == "/"


def test_the_ended_page_in_welsh(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    page = parse(client.get("/session/ended?next=/&signed_in=1").content)

    assert page.one("h1").text() == "Er eich diogelwch, rydym wedi eich allgofnodi"
    assert page.one("a", class_="govuk-button").text() == "Mewngofnodi"
