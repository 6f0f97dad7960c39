"""Jobs of platform email, imported by every worker at start (``autodiscover_modules("jobs")``)."""

from govserve.notifications.email import email_deliver

__all__ = ["email_deliver"]
