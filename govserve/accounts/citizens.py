"""Citizen accounts: emailed one-time links (the default), optional passwords, changing email address.

A citizen is identified by an email address that is never stored in clear:
``Citizen.email_sealed`` (owner ``citizen:<id>``, field ``email``) and
``Citizen.email_index`` (blind index, purpose ``citizen-email``, over the
address stripped and lower-cased). Sign-in never tells whether an address
has an account: asking for a link shows the same page whatever the address,
and a wrong password gets the same message as an unknown address. Both are
rate-limited per address (by blind index) and per client address bucket
(:mod:`govserve.web.ratelimit`; every attempt counts, refusals included).

Links carry 256 random bits; only their SHA-256 is stored. A sign-in link
works once, for ``GOVSERVE_CITIZEN_LINK_MINUTES`` (30); the page it opens
asks for a button press (POST) before using it, so mail scanners that
follow links cannot spend it.

The session of a signed-in citizen holds the citizen id and times, nothing
else (see :mod:`govserve.accounts.signin`).
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import structlog
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core import exceptions as django_exceptions
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, ProtectedError, QuerySet, RestrictedError
from django.urls import reverse
from django.utils.translation import gettext as _

from govserve.accounts import conf, errors, mail, signin
from govserve.accounts.models import Citizen, CitizenLink, CitizenLinkPurpose, ExternalIdentity
from govserve.accounts.tokens import token_hash, token_new, token_well_formed
from govserve.audit.actors import Actor
from govserve.audit.models import Outcome
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.privacy.crypto import blind_index, data_key_destroy, seal, unseal_text
from govserve.web.ratelimit import rate_limit

if TYPE_CHECKING:
    from django.http import HttpRequest

EMAIL_INDEX_PURPOSE = "citizen-email"
FIELD_EMAIL = "email"
FIELD_PENDING_EMAIL = "pending_email"
CITIZEN_SUBJECT = "accounts.citizen"
ANONYMOUS = Actor.system("web")

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LinkSignIn:
    """A citizen signed in by a link, and where the link said to go next."""

    citizen: Citizen
    next_path: str


# --- addresses --------------------------------------------------------------------------------------


def email_normalise(email: str) -> str:
    """Return ``email`` as the platform compares it: NFC, surrounding spaces removed, lower case."""
    return unicodedata.normalize("NFC", email).strip().lower()


def email_index(email: str) -> str:
    """Return the blind index of ``email`` (normalised here)."""
    return blind_index(email_normalise(email), purpose=EMAIL_INDEX_PURPOSE)


def citizen_email(citizen: Citizen) -> str:
    """Return ``citizen``'s email address in clear (for the citizen's own pages and their emails)."""
    return unseal_text(owner=citizen.crypto_owner, field=FIELD_EMAIL, sealed=bytes(citizen.email_sealed))


def citizen_find_by_email(email: str) -> Citizen | None:
    """Return the citizen account of ``email``, if any (active or not)."""
    return Citizen.objects.filter(email_index=email_index(email)).first()


def _limit(scope: str, key: str) -> None:
    """Count a hit of ``key`` under ``scope``; raise web's RateLimitedError (429) past the limit."""
    limit, window = conf.rate_limit(scope)
    rate_limit(f"{scope}:{key}", limit, window)


# --- accounts ---------------------------------------------------------------------------------------


def citizen_create(*, email: str, language: str = "en") -> Citizen:
    """Create a citizen account for ``email`` (inside the caller's transaction); audited.

    Raise EmailAddressInUseError if the address already has an account.
    """
    normalised = email_normalise(email)
    citizen = Citizen(email_index=blind_index(normalised, purpose=EMAIL_INDEX_PURPOSE), preferred_language=language)
    citizen.email_sealed = seal(owner=citizen.crypto_owner, field=FIELD_EMAIL, plaintext=normalised)
    try:
        with transaction.atomic():
            citizen.save(force_insert=True)
    except IntegrityError:
        raise errors.EmailAddressInUseError(_("There is already an account with this email address")) from None
    audit_record(
        actor=Actor.for_citizen(citizen.id),
        action="accounts.citizen.created",
        subject_type=CITIZEN_SUBJECT,
        subject_id=citizen.id,
    )
    return citizen


def _citizen_for_sign_in(normalised: str, index: str, language: str) -> Citizen:
    citizen = Citizen.objects.select_for_update().filter(email_index=index).first()
    if citizen is not None:
        return citizen
    try:
        return citizen_create(email=normalised, language=language)
    except errors.EmailAddressInUseError:
        # Created by a concurrent request for the same address a moment ago.
        return Citizen.objects.select_for_update().get(email_index=index)


def _link_url(name: str, token: str) -> str:
    return f"{conf.public_base_url()}{reverse(name, args=[token])}"


def citizen_sign_in_link_request(*, email: str, client_ip: str, language: str = "en", next_path: str = "") -> None:
    """Email a one-time sign-in link to ``email``, creating the account on first use.

    Returns nothing and behaves the same whether or not the address had an
    account (no enumeration); a deactivated account gets no email. Raise
    RateLimitedError when this address or this client asked too often (the
    attempt still counts). Audited (``accounts.citizen.sign_in_link_requested``).
    """
    normalised = email_normalise(email)
    index = blind_index(normalised, purpose=EMAIL_INDEX_PURPOSE)
    _limit("citizen-link-ip", client_ip)
    _limit("citizen-link-email", index)
    language = language if language in {code for code, _label in settings.LANGUAGES} else "en"
    with transaction.atomic():
        citizen = _citizen_for_sign_in(normalised, index, language)
        if not citizen.is_active:
            audit_record(
                actor=Actor.for_citizen(citizen.id),
                action="accounts.citizen.sign_in_failed",
                subject_type=CITIZEN_SUBJECT,
                subject_id=citizen.id,
                outcome=Outcome.DENIED,
                details={"reason": "account_inactive", "method": "link"},
            )
            return
        _sign_in_link_send(citizen=citizen, address=normalised, language=language, next_path=next_path, purpose="")


def _sign_in_link_send(*, citizen: Citizen, address: str, language: str, next_path: str, purpose: str) -> None:
    """Create a sign-in link for ``citizen``, email it to ``address`` and audit it (inside the caller's transaction)."""
    token, hashed = token_new()
    lifetime = conf.citizen_link_lifetime()
    link = CitizenLink.objects.create(
        citizen=citizen,
        purpose=CitizenLinkPurpose.SIGN_IN,
        token_hash=hashed,
        expires_at=clock.now() + lifetime,
        next_path=next_path,
    )
    mail.send(
        to=address,
        template="sign_in_link",
        context={
            "service_name": mail.site_name(),
            "sign_in_url": _link_url("accounts:citizen_link", token),
            "expiry_minutes": str(int(lifetime.total_seconds() // 60)),
        },
        language=language,
        key=f"citizen-sign-in:{link.id}",
        owner=citizen.crypto_owner,
        purpose="sign_in",
    )
    audit_record(
        actor=Actor.for_citizen(citizen.id),
        action="accounts.citizen.sign_in_link_requested",
        subject_type=CITIZEN_SUBJECT,
        subject_id=citizen.id,
        details={"link": str(link.id), "purpose": purpose} if purpose else {"link": str(link.id)},
    )


def citizen_link_get(*, token: str, purpose: CitizenLinkPurpose) -> CitizenLink:
    """Return the usable link for ``token`` without using it.

    Raise LinkInvalidError (unknown, altered, or for another purpose),
    LinkUsedError or LinkExpiredError (also when the account was deactivated).
    """
    if not token_well_formed(token):
        raise errors.LinkInvalidError(_("This link is not valid"))
    link = CitizenLink.objects.select_related("citizen").filter(token_hash=token_hash(token), purpose=purpose).first()
    if link is None:
        raise errors.LinkInvalidError(_("This link is not valid"))
    if link.used_at is not None:
        raise errors.LinkUsedError(_("This link has already been used"))
    if link.expires_at <= clock.now() or not link.citizen.is_active:
        raise errors.LinkExpiredError(_("This link has expired"))
    return link


def _use_link(token: str, purpose: CitizenLinkPurpose) -> CitizenLink:
    link = citizen_link_get(token=token, purpose=purpose)
    # Re-read under a row lock: of two concurrent uses, exactly one wins.
    link = CitizenLink.objects.select_for_update().select_related("citizen").get(pk=link.pk)
    if link.used_at is not None:
        raise errors.LinkUsedError(_("This link has already been used"))
    link.used_at = clock.now()
    link.save(update_fields=["used_at", "updated_at"])
    return link


def citizen_sign_in_with_link(*, request: HttpRequest, token: str) -> LinkSignIn:
    """Use a sign-in link and sign its citizen in on this request; return the citizen and where to go.

    Marks the address verified on first use. Raise LinkInvalidError,
    LinkUsedError or LinkExpiredError (nothing changes then).
    """
    with transaction.atomic():
        link = _use_link(token, CitizenLinkPurpose.SIGN_IN)
        citizen = link.citizen
        if citizen.email_verified_at is None:
            citizen.email_verified_at = link.used_at
        citizen_session_begin(request=request, citizen=citizen, method="link")
    return LinkSignIn(citizen=citizen, next_path=link.next_path)


def citizen_link_exchange(*, token: str, method: str = "api") -> Citizen:
    """Use a sign-in link without a browser session (an app exchanging it for an API token); return its citizen.

    The same link, lifetime and one-time use as :func:`citizen_sign_in_with_link`
    (of a web page and an app using the same link, exactly one wins). Marks
    the address verified on first use. Raise LinkInvalidError, LinkUsedError
    or LinkExpiredError (nothing changes then). Audited as
    ``accounts.citizen.signed_in`` with ``method``.
    """
    with transaction.atomic():
        link = _use_link(token, CitizenLinkPurpose.SIGN_IN)
        citizen = link.citizen
        if citizen.email_verified_at is None:
            citizen.email_verified_at = link.used_at
        citizen.last_signed_in_at = clock.now()
        citizen.save(update_fields=["last_signed_in_at", "email_verified_at", "updated_at"])
        audit_record(
            actor=Actor.for_citizen(citizen.id),
            action="accounts.citizen.signed_in",
            subject_type=CITIZEN_SUBJECT,
            subject_id=citizen.id,
            details={"method": method},
        )
    return citizen


def citizen_session_begin(*, request: HttpRequest, citizen: Citizen, method: str) -> None:
    """Sign ``citizen`` in on a new session (ending any staff or citizen session in this browser); audited."""
    request.session.flush()
    request.session[signin.CITIZEN_ID] = str(citizen.id)
    signin.stamp(request, signin.KIND_CITIZEN)
    # How the person last proved who they are: a one-time link lets them change a forgotten password.
    request.session[signin.REAUTH_BY] = method
    citizen.last_signed_in_at = clock.now()
    citizen.save(update_fields=["last_signed_in_at", "email_verified_at", "updated_at"])
    audit_record(
        actor=Actor.for_citizen(citizen.id),
        action="accounts.citizen.signed_in",
        subject_type=CITIZEN_SUBJECT,
        subject_id=citizen.id,
        details={"method": method},
    )


# --- passwords --------------------------------------------------------------------------------------


def citizen_password_sign_in(*, request: HttpRequest, email: str, password: str, client_ip: str) -> Citizen:
    """Sign in with email address and password; return the citizen.

    Raise RateLimitedError (govserve.web.ratelimit) after too many attempts for this address or client,
    InvalidCredentialsError for an unknown address, a wrong password, an
    account without a password or a deactivated one (one message: no
    enumeration).
    """
    index = email_index(email)
    _limit("citizen-password-ip", client_ip)
    _limit("citizen-password-email", index)
    citizen = Citizen.objects.filter(email_index=index).first()
    if citizen is None or not citizen.password_hash:
        # Hash anyway, so the answer takes as long as for a real account.
        make_password(password)
        valid = False
    else:

        def _upgrade(raw: str) -> None:
            Citizen.objects.filter(pk=citizen.pk).update(password_hash=make_password(raw))

        valid = check_password(password, citizen.password_hash, setter=_upgrade) and citizen.is_active
    if not valid:
        with transaction.atomic():
            audit_record(
                actor=Actor.for_citizen(citizen.id) if citizen is not None else ANONYMOUS,
                action="accounts.citizen.sign_in_failed",
                subject_type=CITIZEN_SUBJECT if citizen is not None else "",
                subject_id=citizen.id if citizen is not None else "",
                details={"reason": "invalid_credentials", "method": "password"},
            )
        raise errors.InvalidCredentialsError(_("Enter the email address and password of your account"))
    if citizen is None:  # pragma: no cover - valid implies an account
        raise errors.InvalidCredentialsError(_("Enter the email address and password of your account"))
    with transaction.atomic():
        citizen_session_begin(request=request, citizen=citizen, method="password")
    return citizen


@transaction.atomic
def citizen_password_set(*, citizen: Citizen, password: str) -> None:
    """Set or change ``citizen``'s password (argon2) without any proof; raise WeakPasswordError. Audited.

    For trusted callers only (the demo, tests): the web goes through
    :func:`citizen_password_change`, which asks for recent authentication.
    """
    _password_store(citizen=citizen, password=password, proof="trusted_caller")


def _password_store(*, citizen: Citizen, password: str, proof: str) -> None:
    try:
        validate_password(password)
    except django_exceptions.ValidationError as error:
        raise errors.WeakPasswordError(" ".join(str(message) for message in error.messages)) from None
    had_password = citizen.has_password
    citizen.password_hash = make_password(password)
    citizen.save(update_fields=["password_hash", "updated_at"])
    audit_record(
        actor=Actor.for_citizen(citizen.id),
        action="accounts.citizen.password_set",
        subject_type=CITIZEN_SUBJECT,
        subject_id=citizen.id,
        details={"changed": had_password, "proof": proof},
    )


class PasswordChangeProof(StrEnum):
    """What the password page must ask for before a citizen may set or change their password."""

    NONE = "none"
    """A one-time link was used (or, for an account without a password, any sign-in) within a few minutes."""
    CURRENT_PASSWORD = "current_password"  # noqa: S105 - a name, not a password
    """The account has a password: re-enter it (or use a fresh emailed link: the forgotten-password path)."""
    LINK = "link"
    """No password and no recent sign-in: confirm by an emailed one-time link first."""


def citizen_password_change_proof(*, request: HttpRequest, citizen: Citizen) -> PasswordChangeProof:
    """Return what ``citizen`` must prove on this session to set or change their password.

    Recent means within ``CITIZEN_RECENT_AUTHENTICATION_SECONDS`` (5 minutes)
    of the session's last proof. A one-time link used that recently is
    enough on its own (it is how a citizen who forgot their password sets a
    new one); otherwise an account with a password must re-enter it, and an
    account without one needs a recent sign-in or a fresh link.
    """
    recent = signin.seconds_since_reauthentication(request) <= conf.CITIZEN_RECENT_AUTHENTICATION_SECONDS
    if recent and request.session.get(signin.REAUTH_BY) == "link":
        return PasswordChangeProof.NONE
    if citizen.has_password:
        return PasswordChangeProof.CURRENT_PASSWORD
    return PasswordChangeProof.NONE if recent else PasswordChangeProof.LINK


def _password_change_refused(citizen: Citizen, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=Actor.for_citizen(citizen.id),
            action="accounts.citizen.password_change_refused",
            subject_type=CITIZEN_SUBJECT,
            subject_id=citizen.id,
            outcome=Outcome.DENIED,
            details={"reason": reason},
        )


def citizen_password_change(*, request: HttpRequest, citizen: Citizen, password: str, current_password: str) -> None:
    """Set or change the signed-in ``citizen``'s password, after the proof :func:`citizen_password_change_proof` asks.

    Every attempt counts towards the ``citizen-password-change`` rate limit
    (per account; RateLimitedError past it), so the current password cannot
    be guessed through this page. Raise ReauthenticationRequiredError (an
    emailed link is needed first), CurrentPasswordIncorrectError (missing or
    wrong; audited as ``accounts.citizen.password_change_refused``) or
    WeakPasswordError; nothing changes then. On success the password is
    stored (argon2), audited as ``accounts.citizen.password_set`` with the
    proof used, and the session counts as re-authenticated now.
    """
    _limit("citizen-password-change", str(citizen.id))
    proof = citizen_password_change_proof(request=request, citizen=citizen)
    if proof == PasswordChangeProof.LINK:
        _password_change_refused(citizen, "reauthentication_required")
        raise errors.ReauthenticationRequiredError(
            _("To keep your account safe, confirm it is you with a link we email to you")
        )
    if proof == PasswordChangeProof.CURRENT_PASSWORD:
        if not current_password:
            raise errors.CurrentPasswordIncorrectError(_("Enter your current password"))
        if not check_password(current_password, citizen.password_hash):
            _password_change_refused(citizen, "current_password_incorrect")
            raise errors.CurrentPasswordIncorrectError(_("Your current password is not right: enter it again"))
    with transaction.atomic():
        locked = Citizen.objects.select_for_update().get(pk=citizen.pk)
        _password_store(citizen=locked, password=password, proof=str(proof))
    citizen.password_hash = locked.password_hash
    request.session[signin.REAUTH_AT] = clock.now().timestamp()
    request.session[signin.REAUTH_BY] = "password"


def citizen_confirmation_link_request(*, citizen: Citizen, client_ip: str, language: str = "en") -> None:
    """Email the signed-in ``citizen`` a one-time link that signs them in afresh and returns to the password page.

    How a citizen without a password (or who forgot it) proves it is them
    before setting one. Counts towards the same limits as sign-in links
    (``citizen-link-ip``, ``citizen-link-email``; RateLimitedError past
    them). Audited as ``accounts.citizen.sign_in_link_requested`` (purpose
    ``password_change``).
    """
    _limit("citizen-link-ip", client_ip)
    _limit("citizen-link-email", citizen.email_index)
    language = language if language in {code for code, _label in settings.LANGUAGES} else "en"
    with transaction.atomic():
        _sign_in_link_send(
            citizen=citizen,
            address=citizen_email(citizen),
            language=language,
            next_path=reverse("accounts:citizen_password"),
            purpose="password_change",
        )


# --- changing email address ----------------------------------------------------------------------------


def citizen_email_change_request(*, citizen: Citizen, new_email: str, language: str = "en") -> None:
    """Email a confirmation link to ``new_email``; the address changes only when the link is used.

    Raise ValidationError if it is the current address, RateLimitedError when
    asked too often. Whether another account uses the address is only said
    to whoever opens the link (they control that address). Audited.
    """
    normalised = email_normalise(new_email)
    index = blind_index(normalised, purpose=EMAIL_INDEX_PURPOSE)
    if index == citizen.email_index:
        raise errors.ValidationError(_("This is already your email address"), code="same_email")
    _limit("citizen-email-change", str(citizen.id))
    with transaction.atomic():
        token, hashed = token_new()
        lifetime = conf.citizen_link_lifetime()
        link = CitizenLink.objects.create(
            citizen=citizen,
            purpose=CitizenLinkPurpose.EMAIL_CHANGE,
            token_hash=hashed,
            expires_at=clock.now() + lifetime,
            new_email_sealed=seal(owner=citizen.crypto_owner, field=FIELD_PENDING_EMAIL, plaintext=normalised),
            new_email_index=index,
        )
        mail.send(
            to=normalised,
            template="accounts_email_change",
            context={
                "service_name": mail.site_name(),
                "confirm_url": _link_url("accounts:citizen_email_confirm", token),
                "expiry_minutes": str(int(lifetime.total_seconds() // 60)),
            },
            language=language,
            key=f"citizen-email-change:{link.id}",
            owner=citizen.crypto_owner,
            purpose="email_change",
        )
        audit_record(
            actor=Actor.for_citizen(citizen.id),
            action="accounts.citizen.email_change_requested",
            subject_type=CITIZEN_SUBJECT,
            subject_id=citizen.id,
            details={"link": str(link.id)},
        )


def citizen_email_change_confirm(*, token: str) -> Citizen:
    """Use an email-change link: the account's address becomes the new one; return the citizen.

    The old address gets a notice. Raise LinkInvalidError, LinkUsedError,
    LinkExpiredError or EmailAddressInUseError (nothing changes then; the
    link stays unused for the last). Audited (``accounts.citizen.email_changed``).
    """
    with transaction.atomic():
        peeked = citizen_link_get(token=token, purpose=CitizenLinkPurpose.EMAIL_CHANGE)
        if Citizen.objects.filter(email_index=peeked.new_email_index).exclude(pk=peeked.citizen_id).exists():
            raise errors.EmailAddressInUseError(
                _("There is already an account with this email address. Sign in with it instead.")
            )
        link = _use_link(token, CitizenLinkPurpose.EMAIL_CHANGE)
        citizen = Citizen.objects.select_for_update().get(pk=link.citizen_id)
        old_email = citizen_email(citizen)
        new_email = unseal_text(
            owner=citizen.crypto_owner, field=FIELD_PENDING_EMAIL, sealed=bytes(link.new_email_sealed or b"")
        )
        citizen.email_sealed = seal(owner=citizen.crypto_owner, field=FIELD_EMAIL, plaintext=new_email)
        citizen.email_index = link.new_email_index
        citizen.email_verified_at = link.used_at
        try:
            with transaction.atomic():
                citizen.save(update_fields=["email_sealed", "email_index", "email_verified_at", "updated_at"])
        except IntegrityError:
            raise errors.EmailAddressInUseError(
                _("There is already an account with this email address. Sign in with it instead.")
            ) from None
        # Other pending changes of this account stop working.
        CitizenLink.objects.filter(
            citizen=citizen, purpose=CitizenLinkPurpose.EMAIL_CHANGE, used_at__isnull=True
        ).update(expires_at=clock.now())
        mail.send(
            to=old_email,
            template="accounts_email_changed",
            context={"service_name": mail.site_name()},
            language=citizen.preferred_language,
            key=f"citizen-email-changed:{link.id}",
            owner=citizen.crypto_owner,
            purpose="email_changed",
        )
        audit_record(
            actor=Actor.for_citizen(citizen.id),
            action="accounts.citizen.email_changed",
            subject_type=CITIZEN_SUBJECT,
            subject_id=citizen.id,
            details={"link": str(link.id)},
        )
    return citizen


# --- housekeeping -------------------------------------------------------------------------------------------

HOUSEKEEPING = Actor.system("worker")


def _unused(cutoff: datetime.datetime) -> QuerySet[Citizen]:
    """Citizens created before ``cutoff`` that never signed in, chose no password, and asked for no link since."""
    return Citizen.objects.filter(
        ~Exists(CitizenLink.objects.filter(citizen=OuterRef("pk"), created_at__gte=cutoff)),
        ~Exists(ExternalIdentity.objects.filter(citizen=OuterRef("pk"))),
        created_at__lt=cutoff,
        last_signed_in_at__isnull=True,
        email_verified_at__isnull=True,
        password_hash="",
    )


def citizens_unused_remove(*, older_than: datetime.timedelta | None = None, batch_size: int = 500) -> int:
    """Remove up to ``batch_size`` citizen accounts that a link request created and nobody ever used; return how many.

    Unused means: created more than ``older_than`` ago (default
    ``GOVSERVE_CITIZEN_UNUSED_DAYS``, 7 days), never signed in, address never
    confirmed, no password, no external identity, and no link asked for
    within that period either (so an account whose owner is trying again is
    kept, and no usable link is ever cut off). Each account goes in its own
    transaction: its data key is destroyed first
    (:func:`govserve.privacy.crypto.data_key_destroy`, so the sealed address
    is unreadable even in backups), then the row and its expired links, with
    an audit entry ``accounts.citizen.removed_unused``. An account another
    app refers to (PROTECT) is kept, its key untouched, and logged.
    Idempotent; safe with several workers (rows are re-checked under a lock).
    """
    lifetime = older_than if older_than is not None else conf.citizen_unused_lifetime()
    cutoff = clock.now() - lifetime
    removed = 0
    for citizen_id in list(_unused(cutoff).order_by("created_at").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            citizen = _unused(cutoff).select_for_update().filter(pk=citizen_id).first()
            if citizen is None:  # used, or removed by another worker, since the list was read
                continue
            try:
                with transaction.atomic():
                    data_key_destroy(owner=citizen.crypto_owner, actor=HOUSEKEEPING)
                    audit_record(
                        actor=HOUSEKEEPING,
                        action="accounts.citizen.removed_unused",
                        subject_type=CITIZEN_SUBJECT,
                        subject_id=citizen.id,
                        details={"unused_days": lifetime.days},
                    )
                    citizen.delete()
            except (ProtectedError, RestrictedError):
                logger.warning("accounts.citizen.unused_kept", citizen_id=str(citizen_id), reason="referenced")
                continue
        removed += 1
    return removed
