"""The public verification pages (/verify, /verify/<code>) and the PDF download."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from govserve.audit.models import AuditEntry
from govserve.casework.results import services
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.signing import code_bytes, code_text
from govserve.casework.results.tests.support import OFFICER, approved_trading
from govserve.core.jobs import run_pending
from govserve.journeys.access import SESSION_GRANTS
from govserve.journeys.tests.support import citizen_new, sign_in

pytestmark = pytest.mark.usefixtures("examples")


def _issued(**kwargs: Any) -> IssuedResult:
    return services.results_issue(approved_trading(**kwargs), actor=OFFICER)[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_genuine_code_shows_the_result_without_sign_in() -> None:
    row = _issued()

    response = Client().get(f"/verify/{row.code}")

    assert response.status_code == 200
    text = _text(response.content.decode())
    assert "This Street trading licence is genuine" in text
    assert f"Number {row.number}" in text
    assert "Issued by Westmoor City Council" in text
    assert "Status Valid" in text
    assert "Holder Ada Lovelace" in text  # the example opts in (show_holder_name: true)
    assert response["X-Robots-Tag"] == "noindex"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_holder_name_is_shown_only_where_the_service_opts_in() -> None:
    row = _issued()
    IssuedResult.objects.filter(pk=row.pk).update(show_holder_name=False)

    response = Client().get(f"/verify/{row.code}")

    assert response.status_code == 200
    assert "Ada Lovelace" not in response.content.decode()
    assert "holder_name" not in Client().get(f"/verify/{row.code}", HTTP_ACCEPT="application/json").json()


def test_an_altered_code_is_not_genuine() -> None:
    row = _issued()
    raw = code_bytes(row.code)
    assert raw is not None
    altered = code_text(raw[:40] + bytes([raw[40] ^ 0x80]) + raw[41:])

    response = Client().get(f"/verify/{altered}")

    assert response.status_code == 404
    text = _text(response.content.decode())
    assert "We cannot confirm this code is genuine" in text
    assert row.number not in text


@pytest.mark.parametrize(
    "path",
    [
        "/verify/x",
        "/verify/%F0%9F%92%A9",
        "/verify/" + "a" * 3000,
        "/verify/<script>alert(1)</script>",
        "/verify/aaaaaaaaaaaaaaaa1",
        "/verify/..%2F..%2Fetc",
    ],
)
def test_garbage_is_answered_as_not_genuine_never_an_error(path: str) -> None:
    response = Client(raise_request_exception=True).get(path)

    assert response.status_code == 404
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "Traceback" not in body


def test_a_null_character_is_refused_at_the_door_with_the_400_page_never_an_error() -> None:
    # A NUL character is refused before any view, as on every page (govserve/web/null_characters.py).
    response = Client(raise_request_exception=True).get("/verify/%00")

    assert response.status_code == 400
    assert "govuk-template" in response.content.decode()


def test_machines_get_json() -> None:
    row = _issued()

    genuine = Client().get(f"/verify/{row.code}", HTTP_ACCEPT="application/json")
    forged = Client().get("/verify/" + row.code[:-4] + "aaaa", HTTP_ACCEPT="application/json")

    assert genuine.status_code == 200
    body = genuine.json()
    assert body["genuine"] is True
    assert body["number"] == row.number
    assert body["status"] == "valid"
    assert body["issuer"] == "Westmoor City Council"
    assert body["issued_on"] == row.issued_on.isoformat()
    assert body["holder_name"] == "Ada Lovelace"
    assert forged.status_code == 404
    assert forged.json() == {"genuine": False, "outcome": "not_genuine"}


def test_a_revoked_result_shows_revoked_with_its_date() -> None:
    row = _issued()
    services.result_revoke(row, reason="Surrendered", actor=OFFICER)

    response = Client().get(f"/verify/{row.code}")

    text = _text(response.content.decode())
    assert response.status_code == 200
    assert "Status Revoked" in text
    assert "was revoked on" in text
    assert "Surrendered" not in text


def test_an_expired_result_shows_expired(settings: Any) -> None:
    row = _issued()
    IssuedResult.objects.filter(pk=row.pk).update(valid_until=row.issued_on.replace(year=row.issued_on.year - 1))

    body = Client().get(f"/verify/{row.code}", HTTP_ACCEPT="application/json").json()

    assert body["status"] == "expired"


def test_the_form_sends_a_typed_code_or_a_pasted_address_to_its_page() -> None:
    row = _issued()
    client = Client()

    typed = client.get("/verify", {"code": "  " + row.code.upper() + " "})
    pasted = client.get("/verify", {"code": f"https://services.example.gov.uk/verify/{row.code}"})
    empty = client.get("/verify", {"code": "   "})
    odd = client.get("/verify", {"code": "abc$%^"})

    assert typed.status_code == 302
    assert typed["Location"] == f"/verify/{row.code}"
    assert pasted["Location"] == f"/verify/{row.code}"
    assert empty.status_code == 400
    assert "Enter the code from the licence or certificate" in empty.content.decode()
    assert odd.status_code == 400
    assert "letters and numbers only" in odd.content.decode()
    assert client.get("/verify").status_code == 200


def test_verification_is_rate_limited_per_address(settings: Any) -> None:
    settings.GOVSERVE_RATE_LIMITS = {"result-verify": (2, 60)}
    client = Client()

    statuses = [client.get("/verify/abc").status_code for _ in range(3)]

    assert statuses == [404, 404, 429]


def test_the_applicant_downloads_their_result_once_it_is_ready() -> None:
    citizen = citizen_new()
    from govserve.journeys.tests.support import applicant  # noqa: PLC0415

    row = _issued(who=applicant(citizen))
    client = Client()
    sign_in(client, citizen)

    preparing = client.get(f"/results/{row.id}/download")
    run_pending(raise_errors=True)
    ready = client.get(f"/results/{row.id}/download")

    assert preparing.status_code == 409
    assert "being prepared" in preparing.content.decode()
    assert ready.status_code == 200
    assert ready["Content-Type"] == "application/pdf"
    assert ready["Content-Disposition"] == f'attachment; filename="{row.number}.pdf"'
    assert ready.content.startswith(b"%PDF-")
    entry = AuditEntry.objects.get(action="casework.result.downloaded")
    assert entry.actor_kind == "citizen"
    assert entry.actor_id == str(citizen.id)


def test_someone_else_cannot_download_a_result() -> None:
    row = _issued()
    run_pending(raise_errors=True)
    stranger = Client()
    sign_in(stranger, citizen_new("stranger@example.org"))
    session = stranger.session
    session[SESSION_GRANTS] = []
    session.save()

    response = stranger.get(f"/results/{row.id}/download")
    anonymous = Client().get(f"/results/{row.id}/download")

    assert response.status_code == 404
    assert anonymous.status_code == 404
    assert not AuditEntry.objects.filter(action="casework.result.downloaded").exists()


def test_the_application_page_lists_the_result_with_its_download_link() -> None:
    citizen = citizen_new()
    from govserve.journeys.tests.support import applicant  # noqa: PLC0415

    row = _issued(who=applicant(citizen))
    run_pending(raise_errors=True)
    client = Client()
    sign_in(client, citizen)

    page = client.get(f"/applications/{row.application_id}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert row.number in body
    assert f"/results/{row.id}/download" in body
    assert f"/verify/{row.code}" in body


def test_codes_signed_before_a_key_rotation_still_verify(settings: Any) -> None:
    from govserve.casework.results.signing import DEVELOPMENT_KEY_ENTRY, generate_key_entry  # noqa: PLC0415

    before = _issued()
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [generate_key_entry("k2027"), DEVELOPMENT_KEY_ENTRY]
    after = _issued(full_name="Grace Hopper")

    assert after.key_id == "k2027"
    assert Client().get(f"/verify/{before.code}").status_code == 200
    assert Client().get(f"/verify/{after.code}").status_code == 200
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [generate_key_entry("k2028")]
    assert Client().get(f"/verify/{before.code}").status_code == 404


def test_a_genuine_code_whose_result_was_deleted_says_so() -> None:
    row = _issued()
    IssuedResult.objects.filter(pk=row.pk).delete()

    response = Client().get(f"/verify/{row.code}")

    assert response.status_code == 404
    assert "we no longer hold a record" in response.content.decode()
    assert Client().get(f"/verify/{row.code}", HTTP_ACCEPT="application/json").json() == {
        "genuine": False,
        "outcome": "no_record",
    }


def test_after_the_application_is_erased_the_code_stays_genuine_but_the_pdf_and_holder_are_gone() -> None:
    from govserve.journeys.tests.support import applicant  # noqa: PLC0415
    from govserve.privacy.crypto import data_key_cache_clear, data_key_destroy  # noqa: PLC0415

    citizen = citizen_new()
    row = _issued(who=applicant(citizen))
    run_pending(raise_errors=True)
    data_key_destroy(owner=row.crypto_owner)
    data_key_cache_clear()
    client = Client()
    sign_in(client, citizen)

    download = client.get(f"/results/{row.id}/download")
    body = Client().get(f"/verify/{row.code}", HTTP_ACCEPT="application/json").json()

    assert download.status_code == 404
    assert body["genuine"] is True
    assert body["number"] == row.number
    assert "holder_name" not in body
