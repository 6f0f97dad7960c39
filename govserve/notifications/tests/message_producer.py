"""Act as a web process for the at-least-once tests.

``python -m govserve.notifications.tests.message_producer CHANNEL KEY``

Queues one email (``CHANNEL=email``, the platform sign-in template) or one
text message (``CHANNEL=sms``) with idempotency key ``KEY`` in its own
business transaction, on the database of ``DATABASE_URL``, and prints its id.
"""

from __future__ import annotations

import sys

import django

OWNER = "citizen:0b5c7d1f-8f0e-4a51-9d41-1f0a3a0b4c11"


def produce(channel: str, key: str) -> str:
    """Queue one message on ``channel`` with ``key``; return its id."""
    from django.db import transaction  # noqa: PLC0415 - after django.setup()

    from govserve.notifications.email import PlatformTemplate, email_send  # noqa: PLC0415
    from govserve.notifications.sms import sms_send  # noqa: PLC0415

    with transaction.atomic():
        if channel == "email":
            message = email_send(
                to="ada.lovelace@example.org",
                template=PlatformTemplate.SIGN_IN_LINK,
                context={
                    "service_name": "Westmoor City Council",
                    "sign_in_url": "https://westmoor.example/sign-in/link/at-least-once",
                    "expiry_minutes": "15",
                },
                idempotency_key=key,
                owner=OWNER,
                purpose="sign_in",
            )
            return str(message.id)
        sms = sms_send(
            to="+447700900123",
            text="Westmoor: your report WM12-AB34 was received.",
            template="test",
            language="en",
            idempotency_key=key,
            owner=OWNER,
            purpose="submitted",
        )
        return str(sms.id)


if __name__ == "__main__":
    django.setup()
    print(produce(sys.argv[1], sys.argv[2]))  # noqa: T201 - the test reads it
