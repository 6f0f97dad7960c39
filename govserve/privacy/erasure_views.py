"""The data protection officer's erasure page: /staff/privacy/erasure (see docs/privacy.md, "Erasure").

Three steps on one address, without JavaScript: type a reference (GET), see
what erasing it would remove or why it cannot be erased (POST), confirm
(POST with ``confirm``). When the application belongs to a citizen account
whose applications are all of the officer's institutions' services, the
confirmation also offers to erase the whole account (``scope=account``: every
application of it, then the account). Only data protection officers of an institution
reach it (anyone else: the ordinary 404, before any re-authentication),
re-authenticated within five minutes; a reference of another institution's service, or none, gets the
same "no application you can erase" message, so nothing leaks.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts.decorators import require_recent_authentication, staff_required
from govserve.accounts.models import User
from govserve.accounts.policies import roles_of
from govserve.accounts.views import SENSITIVE_ACTION_MAX_AGE
from govserve.audit.actors import Actor
from govserve.casework.views.common import notice_success, staff_page, staff_user
from govserve.journeys.models import Application
from govserve.privacy import erasure

MAX_REFERENCE_LENGTH = 32


def _not_yours() -> str:
    return _("There is no application with this reference that you can erase")


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def erasure_page(request: HttpRequest) -> HttpResponse:
    """Check, then erase, one application's personal data at the person's request.

    The role is checked first (404 for anyone else, whether or not they signed
    in recently), then the officer must have proved password and code within
    the last few minutes.
    """
    if not any(role == erasure.ERASURE_ROLE for _, role in roles_of(staff_user(request))):
        raise Http404
    return _erasure_page(request)


def _account_files(user: object, application: Application) -> list[Application]:
    """Return every application of ``application``'s citizen account if the officer may erase them all, else []."""
    if application.citizen_id is None:
        return []
    files = list(Application.objects.filter(citizen_id=application.citizen_id))
    return files if erasure.may_erase(user, files) else []


def _erase(request: HttpRequest, user: User, application: Application, *, account: bool) -> HttpResponse | list[str]:
    """Erase the file (or its account's files and the account); return the redirect, or the refusal messages."""
    actor = Actor.for_user(user)
    try:
        if account:
            if not _account_files(user, application):
                raise erasure.ErasureNotPermittedError(_not_yours())
            result = erasure.erase_by_account(citizen_id=str(application.citizen_id), actor=actor, user=user)
        else:
            result = erasure.erase_by_reference(reference=application.reference, actor=actor, user=user)
    except erasure.ErasureRefusedError as error:
        if account:
            return [f"{reference}: {message}" for reference, _, message in error.refusals]
        return [message for _, _, message in error.refusals]
    if account:
        count = len(result.erased) + len(result.already_done)
        text = ngettext(
            "The personal data of %(count)s application and the applicant's account was erased.",
            "The personal data of %(count)s applications and the applicant's account was erased.",
            count,
        ) % {"count": count}
    elif result.erased:
        text = _("The personal data of %(reference)s was erased.") % {"reference": application.reference}
    else:
        text = _("%(reference)s was erased already.") % {"reference": application.reference}
    notice_success(request, text)
    return HttpResponseRedirect(reverse("privacy:erasure"))


@require_recent_authentication(SENSITIVE_ACTION_MAX_AGE)
def _erasure_page(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    reference = request.POST.get("reference", "").strip().upper()[:MAX_REFERENCE_LENGTH]
    field_errors: dict[str, str] = {}
    refusals: list[str] = []
    checked: Application | None = None
    account_files = 0
    if request.method == "POST":
        application = Application.objects.filter(reference=reference).select_related("service").first()
        if not reference:
            field_errors["reference"] = _("Enter the application's reference")
        elif application is None or not erasure.may_erase(user, [application]):
            field_errors["reference"] = _not_yours()
        elif request.POST.get("confirm") == "yes":
            try:
                outcome = _erase(request, user, application, account=request.POST.get("scope") == "account")
            except (erasure.ErasureNotFoundError, erasure.ErasureNotPermittedError):
                field_errors["reference"] = _not_yours()
            else:
                if isinstance(outcome, HttpResponse):
                    return outcome
                refusals = outcome
        else:
            refusals = [str(erasure.REFUSALS[code]) for code in erasure.refusal_codes(application)]
            checked = application
            account_files = len(_account_files(user, application))
    return staff_page(
        request,
        "privacy/erasure.html",
        title=_("Erase a person's data"),
        status=409 if refusals else 200,
        field_errors=field_errors,
        reference=reference,
        refusals=refusals,
        application=None if refusals else checked,
        account_files=account_files,
    )
