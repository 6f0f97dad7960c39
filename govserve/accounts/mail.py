"""Sending accounts' emails through platform email (the notifications kernel), inside the caller's transaction."""

from __future__ import annotations

from django.conf import settings


def site_name() -> str:
    """Return the name people know the site by (``GOVSERVE_SERVICE_NAME``, default "govserve")."""
    return str(getattr(settings, "GOVSERVE_SERVICE_NAME", "govserve"))


def send(*, to: str, template: str, context: dict[str, str], language: str, key: str, owner: str, purpose: str) -> None:
    """Queue one email (sealed under ``owner``, delivered by the outbox); call inside ``transaction.atomic()``."""
    from govserve.accounts import email_templates  # noqa: PLC0415
    from govserve.notifications.email import email_send  # noqa: PLC0415  (kernel; loaded when first used)

    email_templates.register()
    email_send(
        to=to,
        template=template,
        context=context,
        language=language,
        idempotency_key=key,
        owner=owner,
        purpose=purpose,
    )
