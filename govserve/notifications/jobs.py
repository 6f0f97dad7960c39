"""Jobs of notifications, imported by every worker at start (``autodiscover_modules("jobs")``).

- ``notifications.email.deliver`` / ``notifications.sms.deliver``: the outbox deliveries;
- ``notifications.drafts.expiring`` (hourly): the ``draft_expiring`` reminder for drafts
  that expire within ``NOTIFICATION_DRAFT_EXPIRING_DAYS`` (default 3), once per expiry time;
- ``notifications.content.remove`` (daily, 04:00 UTC): message content older than
  ``NOTIFICATION_CONTENT_RETENTION_DAYS`` (default 7) removed; the delivery records stay.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format

from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.core import clock
from govserve.core.jobs import scheduled
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.selectors import compiled_for
from govserve.notifications.email import email_deliver
from govserve.notifications.models import OutboundEmail, OutboundSms
from govserve.notifications.services import message_content_remove, notification_language, service_notification_send
from govserve.notifications.sms import sms_deliver

__all__ = ["drafts_expiring_notify", "email_deliver", "message_content_remove_daily", "sms_deliver"]

logger = structlog.get_logger(__name__)
DEFAULT_DRAFT_EXPIRING_DAYS = 3


def drafts_expiring_notify(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Queue the ``draft_expiring`` notification of every draft expiring within the notice; return how many.

    The notice is ``NOTIFICATION_DRAFT_EXPIRING_DAYS`` (default 3). Once per
    draft and expiry time (a draft saved again gets a later expiry and, in
    time, a new reminder). ``expires_on`` is the expiry date in the service's
    time zone and the applicant's language. Each draft in its own transaction.
    """
    moment = now or clock.now()
    notice = dt.timedelta(days=int(getattr(settings, "NOTIFICATION_DRAFT_EXPIRING_DAYS", DEFAULT_DRAFT_EXPIRING_DAYS)))
    due = Application.objects.filter(
        status=ApplicationStatus.DRAFT, expires_at__gt=moment, expires_at__lte=moment + notice
    ).order_by("expires_at", "id")
    due_ids = list(due.values_list("id", flat=True))  # read first: each reminder commits on its own
    queued = 0
    for start in range(0, len(due_ids), batch):
        for application in Application.objects.filter(id__in=due_ids[start : start + batch]).order_by("expires_at"):
            queued += _reminder_send(application, notice_end=moment + notice)
    logger.info("notifications.drafts_expiring", queued=queued)
    return queued


def _reminder_send(application: Application, *, notice_end: dt.datetime) -> int:
    """Queue one draft's reminder unless already queued for its expiry time; return 1 if queued, else 0."""
    expires_at = application.expires_at
    if application.status != ApplicationStatus.DRAFT or expires_at is None or expires_at > notice_end:
        return 0  # sent, deleted or saved again since the list was read
    occurrence = expires_at.strftime("%Y%m%dT%H%M%S")
    key = f"notifications.draft_expiring:{application.id}:{occurrence}:"
    if (
        OutboundEmail.objects.filter(idempotency_key__startswith=key).exists()
        or OutboundSms.objects.filter(idempotency_key__startswith=key).exists()
    ):
        return 0
    try:
        compiled = compiled_for(application)
    except (ServiceNotFoundError, VersionNotFoundError):
        return 0
    language = notification_language(application, compiled)
    local = expires_at.astimezone(ZoneInfo(compiled.definition.time_zone)).date()
    with translation.override(language):
        expires_on = date_format(local, "j F Y")
    with transaction.atomic():
        sent = service_notification_send(
            application, "draft_expiring", context={"expires_on": expires_on}, occurrence=occurrence
        )
    return 1 if sent.email is not None or sent.sms is not None else 0


@scheduled(name="notifications.drafts.expiring", every=dt.timedelta(hours=1), offset=dt.timedelta(minutes=17))
def drafts_expiring_hourly() -> None:
    """Every hour: queue the reminders of drafts about to expire."""
    drafts_expiring_notify()


@scheduled(name="notifications.content.remove", every=dt.timedelta(days=1), offset=dt.timedelta(hours=4))
def message_content_remove_daily() -> None:
    """Every day at 04:00 UTC: remove message content older than the retention period."""
    message_content_remove()
