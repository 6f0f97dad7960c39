"""Accounts' own email templates, served to platform email through its template lookup.

``accounts_email_change`` (the confirmation link, to the new address),
``accounts_email_changed`` (a notice to the old address),
``accounts_staff_invitation`` (a staff member's set-password link) and
``accounts_staff_mfa_enrolment`` (the link to set up a new authenticator app
after ``govserve staff reset-mfa``). The
citizen sign-in link uses the platform's ``sign_in_link``. Welsh texts are
pending review by a Welsh speaker, like the platform's.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govserve.notifications.email import EmailTemplate

EMAIL_CHANGE = "accounts_email_change"
EMAIL_CHANGED = "accounts_email_changed"
STAFF_INVITATION = "accounts_staff_invitation"
STAFF_MFA_ENROLMENT = "accounts_staff_mfa_enrolment"

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    EMAIL_CHANGE: {
        "en": (
            "Confirm your new email address for ((service_name))",
            "Use this link to confirm that you want to use this email address for ((service_name)):\n\n"
            "((confirm_url))\n\n"
            "The link works once and stops working after ((expiry_minutes)) minutes.\n\n"
            "If you did not ask to change your email address, you can ignore this email: nothing will change.\n",
        ),
        "cy": (
            "Cadarnhewch eich cyfeiriad e-bost newydd ar gyfer ((service_name))",
            "Defnyddiwch y ddolen hon i gadarnhau eich bod am ddefnyddio'r cyfeiriad e-bost hwn ar gyfer "
            "((service_name)):\n\n"
            "((confirm_url))\n\n"
            "Dim ond unwaith y mae'r ddolen yn gweithio, a bydd yn dod i ben ar ôl ((expiry_minutes)) munud.\n\n"
            "Os na wnaethoch chi ofyn am newid eich cyfeiriad e-bost, gallwch anwybyddu'r e-bost hwn: "
            "ni fydd dim yn newid.\n",
        ),
    },
    EMAIL_CHANGED: {
        "en": (
            "Your email address for ((service_name)) has changed",
            "The email address of your ((service_name)) account has been changed. "
            "We will send emails to the new address from now on.\n\n"
            "If you did not change it, contact us straight away: someone else may have access to your account.\n",
        ),
        "cy": (
            "Mae eich cyfeiriad e-bost ar gyfer ((service_name)) wedi newid",
            "Mae cyfeiriad e-bost eich cyfrif ((service_name)) wedi cael ei newid. "
            "Byddwn yn anfon negeseuon e-bost i'r cyfeiriad newydd o hyn ymlaen.\n\n"
            "Os na wnaethoch chi ei newid, cysylltwch â ni ar unwaith: efallai fod gan rywun arall fynediad "
            "i'ch cyfrif.\n",
        ),
    },
    STAFF_INVITATION: {
        "en": (
            "Create your password for ((service_name)) staff",
            "Use this link to create a password for your ((service_name)) staff account:\n\n"
            "((password_url))\n\n"
            "The link works once and stops working after ((expiry_hours)) hours. After you create your "
            "password, you will set up an authenticator app on your phone straight away, so have it ready.\n",
        ),
        "cy": (
            "Creu eich cyfrinair ar gyfer staff ((service_name))",
            "Defnyddiwch y ddolen hon i greu cyfrinair ar gyfer eich cyfrif staff ((service_name)):\n\n"
            "((password_url))\n\n"
            "Dim ond unwaith y mae'r ddolen yn gweithio, a bydd yn dod i ben ar ôl ((expiry_hours)) awr. "
            "Ar ôl i chi greu eich cyfrinair, byddwch yn gosod ap dilysu ar eich ffôn ar unwaith, "
            "felly cadwch ef wrth law.\n",
        ),
    },
    STAFF_MFA_ENROLMENT: {
        "en": (
            "Set up your authenticator app for ((service_name)) staff",
            "An administrator removed the authenticator app from your ((service_name)) staff account. "
            "Use this link to set up a new one:\n\n"
            "((set_up_url))\n\n"
            "You will be asked for your password, then to scan a QR code with the app. "
            "The link works once and stops working after ((expiry_hours)) hours.\n\n"
            "If you did not ask for this, tell your security team.\n",
        ),
        "cy": (
            "Gosod eich ap dilysu ar gyfer staff ((service_name))",
            "Mae gweinyddwr wedi tynnu'r ap dilysu oddi ar eich cyfrif staff ((service_name)). "
            "Defnyddiwch y ddolen hon i osod un newydd:\n\n"
            "((set_up_url))\n\n"
            "Gofynnir i chi am eich cyfrinair, yna i sganio cod QR gyda'r ap. "
            "Dim ond unwaith y mae'r ddolen yn gweithio, a bydd yn dod i ben ar ôl ((expiry_hours)) awr.\n\n"
            "Os na wnaethoch chi ofyn am hyn, rhowch wybod i'ch tîm diogelwch.\n",
        ),
    },
}


@functools.cache
def _compiled(name: str, language: str) -> EmailTemplate | None:
    from govserve.notifications.email import EmailTemplate  # noqa: PLC0415  (kernel loaded when first used)

    versions = _TEXTS.get(name)
    if versions is None:
        return None
    subject, body = versions.get(language) or versions["en"]
    return EmailTemplate.from_text(
        name=name, language=language if language in versions else "en", subject=subject, body=body, origin="accounts"
    )


def accounts_templates(name: str, language: str) -> EmailTemplate | None:
    """Return accounts' template ``name`` in ``language`` (English if there is no such version), or None."""
    return _compiled(name, language)


def register() -> None:
    """Make accounts' templates available to platform email (idempotent)."""
    from govserve.notifications.email import email_template_lookup_register  # noqa: PLC0415

    email_template_lookup_register(accounts_templates)
