"""Test data of the results tests: approved applications of the example services, through the real journey."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from govserve.audit.actors import Actor
from govserve.core import clock
from govserve.journeys import services as journey_services
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import (
    NEWBORN,
    NEWBORN_FORMS,
    NEWBORN_PATH,
    STREET_TRADING,
    TRADING_FORMS,
    TRADING_PATH,
    applicant,
    citizen_new,
    date_form,
)

OFFICER = Actor.system("test-officer")


def _jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(buffer, format="JPEG")
    return SimpleUploadedFile("me.jpg", buffer.getvalue(), content_type="image/jpeg")


def _pdf() -> SimpleUploadedFile:
    from govserve.documents.tests.samples import pdf_document  # noqa: PLC0415 - test data of another app

    return SimpleUploadedFile("doc.pdf", pdf_document("A document"), content_type="application/pdf")


def _save(application: Application, who: Applicant, page_id: str, form: dict[str, list[str]], **kwargs: Any) -> None:
    journey_services.page_answers_save(
        application_id=application.id, applicant=who, page_id=page_id, data=form, language="en", **kwargs
    )


def _approve(application: Application) -> Application:
    # What casework's final approval does to the application (the engine is tested on its own).
    Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.APPROVED)
    application.refresh_from_db()
    return application


def trading_application(*, who: Applicant | None = None, full_name: str = "Ada Lovelace") -> Application:
    """Return a street trading licence application, filled in and sent (status as the journey leaves it)."""
    person = who or applicant(citizen_new(f"trader-{uuid.uuid4().hex[:8]}@example.org"))
    application = journey_services.application_start(
        service_id=STREET_TRADING, applicant=person, language="en"
    ).application
    for page_id in TRADING_PATH:
        if page_id == "photo":
            _save(application, person, "photo", {}, files={"photo": _jpeg()})
        elif page_id == "your-name":
            _save(application, person, page_id, {"full_name": [full_name]})
        else:
            _save(application, person, page_id, TRADING_FORMS[page_id])
    for document_id in ("public-liability-insurance",):
        journey_services.requirement_upload(
            application_id=application.id, applicant=person, document_id=document_id, upload=_pdf()
        )
    journey_services.application_submit(
        application_id=application.id,
        applicant=person,
        idempotency_key=f"submit-{application.id}",
        language="en",
        declaration_accepted=True,
    )
    application.refresh_from_db()
    return application


def approved_trading(**kwargs: Any) -> Application:
    """Return an approved street trading licence application."""
    return _approve(trading_application(**kwargs))


def approved_newborn(*, who: Applicant | None = None) -> Application:
    """Return an approved newborn registration (birth registration, post-partum care and infant care)."""
    person = who or applicant(citizen_new(f"parent-{uuid.uuid4().hex[:8]}@example.org"))
    application = journey_services.application_start(service_id=NEWBORN, applicant=person, language="en").application
    today = clock.now().date()
    _save(application, person, "baby-date-of-birth", date_form("baby_date_of_birth", today - dt.timedelta(days=3)))
    for page_id in NEWBORN_PATH[1:]:
        _save(application, person, page_id, NEWBORN_FORMS[page_id])
    for document_id in ("mother-identity-document", "birth-notification"):
        journey_services.requirement_upload(
            application_id=application.id, applicant=person, document_id=document_id, upload=_pdf()
        )
    journey_services.application_submit(
        application_id=application.id,
        applicant=person,
        idempotency_key=f"submit-{application.id}",
        language="en",
        declaration_accepted=True,
    )
    application.refresh_from_db()
    return _approve(application)
