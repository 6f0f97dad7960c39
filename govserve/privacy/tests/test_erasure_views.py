"""The data protection officer's erasure page: 404 for anyone else, check then confirm, refusals with reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from govserve.accounts.models import Citizen, PlatformRole
from govserve.audit.models import AuditEntry
from govserve.casework.results import services as results
from govserve.casework.results.tests.support import OFFICER, approved_trading
from govserve.casework.tests.support import newborn_submitted
from govserve.casework.tests.test_views import person, signed_in, text_of
from govserve.journeys.models import Answer
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import applicant, citizen_new, examples_publish
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from govserve.privacy.models import RetentionRecord
from govserve.privacy.tests.retention_support import row_counts

pytestmark = pytest.mark.django_db

URL = "/staff/privacy/erasure"


@pytest.fixture(autouse=True)
def _examples(media_root: Path, settings: Any) -> None:  # noqa: F811
    settings.PUBLIC_BASE_URL = "https://services.example.gov.uk"
    examples_publish()


def test_only_data_protection_officers_reach_the_page() -> None:
    administrator = signed_in(person(("city-council", PlatformRole.ADMINISTRATOR)))
    officer = signed_in(person(("city-council", DATA_PROTECTION_OFFICER_ROLE)))

    assert administrator.get(URL).status_code == 404
    page = officer.get(URL)
    assert page.status_code == 200
    assert "Erase a person's data" in text_of(page)


def test_check_then_confirm_erases_and_audits_as_the_officer() -> None:
    application = approved_trading(full_name="Leocadia Fairweather-Osei")
    user = person(("city-council", DATA_PROTECTION_OFFICER_ROLE))
    client = signed_in(user)
    client.get(URL)

    check = client.post(URL, {"reference": application.reference.lower()})
    assert check.status_code == 200
    assert "This cannot be undone" in text_of(check)
    assert Answer.objects.filter(application=application).exists()

    done = client.post(URL, {"reference": application.reference, "confirm": "yes"})
    assert done.status_code == 302
    assert RetentionRecord.objects.filter(application_id=application.pk, reason="erasure").exists()
    entry = AuditEntry.objects.get(action="privacy.file.anonymised", subject_id=str(application.pk))
    assert (entry.actor_kind, entry.actor_id) == ("user", str(user.pk))
    assert f"The personal data of {application.reference} was erased." in text_of(client.get(URL))


def test_a_refusal_says_why_and_changes_nothing() -> None:
    application = approved_trading(full_name="Leocadia Fairweather-Osei")
    results.results_issue(application, actor=OFFICER)
    client = signed_in(person(("city-council", DATA_PROTECTION_OFFICER_ROLE)))
    client.get(URL)
    rows = row_counts()

    response = client.post(URL, {"reference": application.reference, "confirm": "yes"})

    assert response.status_code == 409
    text = text_of(response)
    assert f"{application.reference} cannot be erased now" in text
    assert "is still valid" in text
    assert not RetentionRecord.objects.exists()
    after = row_counts()
    for table in ("audit_auditentry", "django_session", "accounts_staffsession"):
        after.pop(table, None)
        rows.pop(table, None)
    assert after == rows


@pytest.mark.parametrize("reference", ["", "NOSUCHREF", "other-institution"])
def test_unknown_or_other_institutions_references_get_one_message(reference: str) -> None:
    application = approved_trading(full_name="Leocadia Fairweather-Osei")
    client = signed_in(person(("civil-registry", DATA_PROTECTION_OFFICER_ROLE)))
    client.get(URL)
    typed = application.reference if reference == "other-institution" else reference

    response = client.post(URL, {"reference": typed, "confirm": "yes"})

    assert response.status_code == 400
    expected = "Enter the application's reference" if not typed else "no application with this reference that you"
    assert expected in text_of(response)
    assert not RetentionRecord.objects.exists()


def test_a_stale_session_is_asked_to_confirm_it_is_them_and_others_still_get_the_404(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    application = approved_trading(full_name="Leocadia Fairweather-Osei")
    officer = signed_in(person(("city-council", DATA_PROTECTION_OFFICER_ROLE)))
    administrator = signed_in(person(("city-council", PlatformRole.ADMINISTRATOR)))
    officer.get(URL)
    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)

    response = officer.post(URL, {"reference": application.reference, "confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/confirm-it-is-you?next=")
    assert administrator.get(URL).status_code == 404
    assert not RetentionRecord.objects.exists()


def test_the_officer_can_erase_the_whole_account_of_the_applicant() -> None:
    citizen = citizen_new("leocadia.fw@example.org")
    who = applicant(citizen)
    first = approved_trading(who=who, full_name="Leocadia Fairweather-Osei")
    second = approved_trading(who=who, full_name="Leocadia Fairweather-Osei")
    client = signed_in(person(("city-council", DATA_PROTECTION_OFFICER_ROLE)))
    client.get(URL)

    check = client.post(URL, {"reference": first.reference})
    assert "a citizen account with 2 applications" in text_of(check)

    done = client.post(URL, {"reference": first.reference, "confirm": "yes", "scope": "account"})

    assert done.status_code == 302
    assert set(RetentionRecord.objects.values_list("application_id", flat=True)) == {first.pk, second.pk}
    assert not Citizen.objects.filter(pk=citizen.pk).exists()
    assert "2 applications and the applicant's account was erased" in text_of(client.get(URL))


def test_the_account_is_not_offered_when_another_institutions_service_holds_one_of_its_files() -> None:
    citizen = citizen_new("leocadia.fw@example.org")
    who = applicant(citizen)
    trading = approved_trading(who=who, full_name="Leocadia Fairweather-Osei")
    newborn_submitted(who)  # a civil registry file, open
    client = signed_in(person(("city-council", DATA_PROTECTION_OFFICER_ROLE)))
    client.get(URL)

    check = client.post(URL, {"reference": trading.reference})
    crafted = client.post(URL, {"reference": trading.reference, "confirm": "yes", "scope": "account"})

    assert check.status_code == 200
    assert "citizen account" not in text_of(check)
    assert crafted.status_code == 400
    assert "no application with this reference that you can erase" in text_of(crafted)
    assert not RetentionRecord.objects.exists()
    assert Citizen.objects.filter(pk=citizen.pk).exists()
