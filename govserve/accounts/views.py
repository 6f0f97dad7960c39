"""Staff sign-in pages: password, TOTP code, authenticator set-up (by one-time link only), re-authentication, sign-out.

Thin: parse the form, call :mod:`govserve.accounts.signin` or
:mod:`govserve.accounts.services`, render. Only typed ApplicationErrors are
turned into messages on the page.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts import conf, errors, forms, policies, selectors, services, signin
from govserve.accounts.decorators import require_recent_authentication, staff_required, staff_session_valid
from govserve.accounts.models import PlatformRole, StaffPasswordLinkPurpose, User
from govserve.core.errors import ApplicationError

STAFF_HOME = "/staff/"
# Sensitive staff actions ask for password and code again after five minutes.
SENSITIVE_ACTION_MAX_AGE = datetime.timedelta(minutes=5)

NOTICES = {
    "idle": "You were signed out because you had not done anything for a while. Sign in again to continue.",
    "absolute": "You were signed out because your session reached its time limit. Sign in again to continue.",
    "access_ended": "You were signed out because your access has changed. Sign in again to continue.",
}


# --- helpers ------------------------------------------------------------------------------------


def safe_next(request: HttpRequest, default: str = STAFF_HOME) -> str:
    """Return the ``next`` parameter if it is a path on this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


class PageErrors:
    """Errors of a page in the two shapes GOV.UK needs: the summary list and a message per field."""

    def __init__(self) -> None:
        self.summary: list[dict[str, str]] = []
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        """Add ``message`` for ``field`` (the first message per field is shown inline)."""
        self.summary.append({"text": message, "href": f"#{field}"})
        self.fields.setdefault(field, message)

    def add_form(self, form: Form) -> None:
        """Add every error of a bound, invalid form, in field order."""
        for name in form.fields:
            for message in form.errors.get(name, []):
                self.add(name, str(message))
        for message in form.non_field_errors():
            self.add(next(iter(form.fields)), str(message))

    def __bool__(self) -> bool:
        return bool(self.summary)


def page(request: HttpRequest, template: str, *, title: str, status: int = 200, **context: Any) -> HttpResponse:
    """Render ``template`` with the GOV.UK page context (``errors`` drives the "Error: " title prefix)."""
    page_errors: PageErrors | None = context.pop("page_errors", None)
    if page_errors:
        context["errors"] = page_errors.summary
        context["field_errors"] = page_errors.fields
        status = status if status != 200 else 400
    else:
        context.setdefault("field_errors", {})
    context["page_title"] = title
    context.setdefault("staff_signed_in", staff_session_valid(request))
    return render(request, template, context, status=status)


def _take_notice(request: HttpRequest) -> str:
    reason = request.session.pop(signin.NOTICE, None)
    return _(NOTICES[reason]) if reason in NOTICES else ""


def _after_sign_in(next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(next_url or STAFF_HOME)


# --- sign-in ---------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def staff_sign_in(request: HttpRequest) -> HttpResponse:
    """Step 1: username and password."""
    next_url = safe_next(request)
    if staff_session_valid(request):
        return HttpResponseRedirect(next_url)
    form = forms.StaffSignInForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = signin.staff_password_verify(
                    request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
                )
            except errors.SignInError as error:
                page_errors.add("username", error.message)
                status = error.status
            else:
                if not conf.staff_mfa_required() and not signin.confirmed_devices(user):
                    signin.staff_session_begin(request=request, user=user, device=None, method="password")
                    return _after_sign_in(next_url)
                try:
                    signin.staff_second_step_begin(request, user=user, next_url=next_url)
                except errors.MfaNotSetUpError as error:
                    return _no_authenticator(request, error.message, status=error.status)
                return HttpResponseRedirect(reverse("accounts:staff_sign_in_code"))
        else:
            page_errors.add_form(form)
    return page(
        request,
        "accounts/staff_sign_in.html",
        title=_("Sign in to govserve staff"),
        status=status,
        page_errors=page_errors,
        form=form,
        next_url=next_url,
        notice=_take_notice(request) if request.method == "GET" else "",
    )


def _no_authenticator(request: HttpRequest, message: str, *, status: int, expired: bool = False) -> HttpResponse:
    """Say that an authenticator app can only be set up from a new link an administrator issues."""
    return page(request, "accounts/staff_no_authenticator.html", title=message, status=status, expired=expired)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_sign_in_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the authenticator app."""
    pending = signin.pending_get(request)
    if pending is None:
        return HttpResponseRedirect(reverse("accounts:staff_sign_in"))
    form = forms.TotpCodeForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device = signin.staff_totp_verify(request=request, user=pending.user, code=form.cleaned_data["code"])
            except errors.SignInError as error:
                page_errors.add("code", error.message)
                status = error.status
            else:
                signin.staff_session_begin(request=request, user=pending.user, device=device, method="password+totp")
                return _after_sign_in(pending.next_url)
        else:
            page_errors.add_form(form)
    return page(
        request,
        "accounts/staff_code.html",
        title=_("Enter the code from your authenticator app"),
        status=status,
        page_errors=page_errors,
        form=form,
    )


def _qr_data_uri(uri: str) -> str:
    return str(segno.make(uri, error="m").png_data_uri(scale=5, border=4))


def _grouped_secret(device: Any) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def staff_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app and confirm a code: only in a session that just used a one-time link.

    The grant comes from the invitation or set-password link (after the
    password is set) or from the set-up link of ``govserve staff reset-mfa``
    (after the password is confirmed); see :mod:`govserve.accounts.signin`.
    """
    if signin.enrolment_grant_expired(request):
        request.session.pop(signin.ENROL, None)
        return _no_authenticator(
            request, _("The time to set up your authenticator app has run out"), status=403, expired=True
        )
    grant = signin.enrolment_grant_get(request)
    if grant is None:
        return HttpResponseRedirect(reverse("accounts:staff_sign_in"))
    device = signin.enrolment_device(grant.user)
    form = forms.TotpCodeForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device = signin.staff_enrolment_confirm(request=request, grant=grant, code=form.cleaned_data["code"])
            except errors.MfaAlreadySetUpError:
                request.session.pop(signin.ENROL, None)
                return HttpResponseRedirect(reverse("accounts:staff_sign_in"))
            except errors.SignInError as error:
                page_errors.add("code", error.message)
                status = error.status
            else:
                signin.staff_session_begin(request=request, user=grant.user, device=device, method="link+totp-enrol")
                return _after_sign_in(STAFF_HOME)
        else:
            page_errors.add_form(form)
    return page(
        request,
        "accounts/staff_enrol.html",
        title=_("Set up your authenticator app"),
        status=status,
        page_errors=page_errors,
        form=form,
        qr_data_uri=_qr_data_uri(device.config_url),
        secret=_grouped_secret(device),
        otpauth_uri=device.config_url,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def staff_enrolment_link(request: HttpRequest, token: str) -> HttpResponse:
    """The set-up link of ``govserve staff reset-mfa``: confirm the password, then set up the new app."""
    try:
        link = services.staff_password_link_get(token=token, purposes=(StaffPasswordLinkPurpose.MFA_ENROLMENT,))
    except (errors.LinkInvalidError, errors.LinkExpiredError, errors.LinkUsedError) as error:
        return _link_problem(request, error, staff=True)
    form = forms.PasswordForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                signin.staff_enrolment_link_use(request=request, token=token, password=form.cleaned_data["password"])
            except (errors.LinkInvalidError, errors.LinkExpiredError, errors.LinkUsedError) as error:
                return _link_problem(request, error, staff=True)
            except errors.SignInError as error:
                page_errors.add(
                    "password",
                    error.message if error.code != "invalid_credentials" else _("Enter your correct password"),
                )
                status = error.status
            else:
                return HttpResponseRedirect(reverse("accounts:staff_enrol"))
        else:
            page_errors.add_form(form)
    return page(
        request,
        "accounts/staff_enrolment_link.html",
        title=_("Set up a new authenticator app"),
        status=status,
        page_errors=page_errors,
        form=form,
        username=link.user.get_username(),
    )


# --- signed in ---------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    """The staff landing page: the roles the person holds, by institution."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - staff_required guarantees it
    return page(
        request,
        "accounts/staff_home.html",
        title=_("Your roles"),
        roles=selectors.staff_roles_for_user(user),
        work=[{"href": reverse(name), "text": text} for name, text in _work_links(user)],
        can_use_admin=policies.can_use_admin(user),
        user=user,
    )


def _work_links(user: User) -> list[tuple[str, str]]:
    """Return (URL name, link text) of the work the person's roles open to them, in the staff home's order."""
    roles = {role for _code, role in policies.roles_of(user)}
    links: list[tuple[str, str]] = []
    if roles - policies.INSTITUTION_WIDE_ROLES:  # a role some service's flow names
        links += [("casework:queue", _("Queues")), ("casework:my_tasks", _("My tasks"))]
    if roles & {"finance", PlatformRole.ADMINISTRATOR}:
        links.append(("payments:reconciliation", _("Payments reconciliation")))
    if "data-protection-officer" in roles:
        links += [
            ("privacy:subject_access", _("Subject access requests")),
            ("privacy:erasure", _("Erase a person's data")),
        ]
    if roles & {"data-protection-officer", PlatformRole.ADMINISTRATOR}:
        links.append(("privacy:dp_reports", _("Data-protection reports")))
    if roles & {PlatformRole.SERVICE_OWNER, PlatformRole.ADMINISTRATOR}:
        links.append(("accounts:staff_suppliers", _("Supplier staff")))
    return links


@never_cache
@require_http_methods(["GET", "POST"])
def staff_sign_out(request: HttpRequest) -> HttpResponse:
    """GET: a page with a sign-out button (so sign-out is a CSRF-protected POST); POST: sign out."""
    if request.method == "POST":
        if request.session.get(signin.KIND):
            signin.session_end(request, reason="signed_out")
        return HttpResponseRedirect(reverse("accounts:staff_signed_out"))
    if not staff_session_valid(request):
        return HttpResponseRedirect(reverse("accounts:staff_sign_in"))
    return page(request, "accounts/staff_sign_out.html", title=_("Sign out"))


@require_http_methods(["GET"])
def staff_signed_out(request: HttpRequest) -> HttpResponse:
    """Confirm that the person has signed out."""
    return page(request, "accounts/staff_signed_out.html", title=_("You have signed out"))


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def staff_reauthenticate(request: HttpRequest) -> HttpResponse:
    """Ask a signed-in staff member for password and code again before a sensitive action."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - staff_required guarantees it
    next_url = safe_next(request)
    form = forms.ReauthenticateForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                signin.staff_reauthenticate(
                    request=request, user=user, password=form.cleaned_data["password"], code=form.cleaned_data["code"]
                )
            except errors.InvalidTotpCodeError as error:
                page_errors.add("code", error.message)
                status = error.status
            except errors.SignInLockedOutError:
                # A locked account keeps no session: whoever holds this one must sign in again
                # once the lock ends (django-axes' middleware renders the lockout page).
                signin.session_end(request, reason="access_ended")
                return HttpResponse(status=429)
            except errors.SignInError as error:
                page_errors.add(
                    "password",
                    error.message if error.code != "invalid_credentials" else _("Enter your correct password"),
                )
                status = error.status
            else:
                return HttpResponseRedirect(next_url)
        else:
            page_errors.add_form(form)
    return page(
        request,
        "accounts/staff_reauthenticate.html",
        title=_("Confirm it is you"),
        status=status,
        page_errors=page_errors,
        form=form,
        next_url=next_url,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@require_recent_authentication(SENSITIVE_ACTION_MAX_AGE)
def staff_change_password(request: HttpRequest) -> HttpResponse:
    """Change one's own password (a sensitive action: re-authentication within five minutes)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the decorator guarantees it
    form = forms.NewPasswordForm(request.POST or None)
    page_errors = PageErrors()
    if request.method == "POST":
        if form.is_valid():
            try:
                services.staff_password_change(user=user, password=form.cleaned_data["password"])
            except errors.WeakPasswordError as error:
                page_errors.add("password", error.message)
            else:
                update_session_auth_hash(request, user)
                return page(request, "accounts/staff_password_changed.html", title=_("Your password has been changed"))
        else:
            page_errors.add_form(form)
    return page(
        request,
        "accounts/staff_change_password.html",
        title=_("Change your password"),
        page_errors=page_errors,
        form=form,
    )


# --- set-password links ------------------------------------------------------------------------------


def _link_problem(request: HttpRequest, error: ApplicationError, *, staff: bool) -> HttpResponse:
    return page(
        request,
        "accounts/link_problem.html",
        title=error.message,
        status=error.status,
        problem=error.code,
        staff=staff,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def staff_set_password(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password from a one-time invitation or reset link."""
    try:
        services.staff_password_link_get(token=token)
    except (errors.LinkInvalidError, errors.LinkExpiredError, errors.LinkUsedError) as error:
        return _link_problem(request, error, staff=True)
    form = forms.NewPasswordForm(request.POST or None)
    page_errors = PageErrors()
    if request.method == "POST":
        if form.is_valid():
            try:
                password_set = services.staff_password_set_from_link(
                    token=token, password=form.cleaned_data["password"]
                )
            except errors.WeakPasswordError as error:
                page_errors.add("password", error.message)
            except (errors.LinkInvalidError, errors.LinkExpiredError, errors.LinkUsedError) as error:
                return _link_problem(request, error, staff=True)
            else:
                if not signin.confirmed_devices(password_set.user):
                    # The one moment a session may enrol an app: it has just used the person's one-time link.
                    signin.enrolment_grant(
                        request, user=password_set.user, link_id=password_set.link_id, purpose=password_set.purpose
                    )
                    return HttpResponseRedirect(reverse("accounts:staff_enrol"))
                return page(request, "accounts/staff_password_set.html", title=_("Your password is set"))
        else:
            page_errors.add_form(form)
    return page(
        request, "accounts/staff_set_password.html", title=_("Create your password"), page_errors=page_errors, form=form
    )


# --- django-axes lockout page --------------------------------------------------------------------------


def _last_failure_at(request: HttpRequest, credentials: Any) -> datetime.datetime | None:
    from axes.models import AccessAttempt  # noqa: PLC0415  (axes reads settings when imported)

    username = (credentials or {}).get("username") or request.POST.get("username") or ""
    ip_address = getattr(request, "axes_ip_address", None)
    attempts = AccessAttempt.objects.none()
    if username:
        attempts = attempts | AccessAttempt.objects.filter(username=username)
    if ip_address:
        attempts = attempts | AccessAttempt.objects.filter(ip_address=ip_address)
    latest: datetime.datetime | None = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    return latest


def staff_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """Render the lockout page (``AXES_LOCKOUT_CALLABLE``): why, for how long, and what to do."""
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cool_off, int | float):
        cool_off = datetime.timedelta(hours=cool_off)
    until = None
    if isinstance(cool_off, datetime.timedelta):
        last = _last_failure_at(request, credentials) or timezone.now()
        until = timezone.localtime(last + cool_off)
    minutes = int(cool_off.total_seconds() // 60) if isinstance(cool_off, datetime.timedelta) else 0
    return page(
        request,
        "accounts/staff_locked_out.html",
        title=_("Sign-in is locked"),
        status=429,
        failure_limit=int(getattr(settings, "AXES_FAILURE_LIMIT", 5)),
        cool_off_minutes=minutes,
        until=until,
    )


SUPPLIER_STATUS_LABELS = {
    "current": gettext_noop("Current"),
    "expired": gettext_noop("Expired"),
    "deactivated": gettext_noop("Deactivated"),
    "no_scope": gettext_noop("No scope: reaches nothing"),
}


@never_cache
@require_http_methods(["GET"])
@staff_required
def staff_suppliers(request: HttpRequest) -> HttpResponse:
    """The supplier staff report of an institution, for its service owners and administrators (audited).

    ``?institution=<code>`` chooses among the institutions the viewer may report
    on; one the viewer may not see answers 404 like one that does not exist.
    """
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - staff_required guarantees it
    choices = selectors.supplier_report_institutions(user)
    if not choices:
        raise Http404(_("There is no page at this address"))
    code = request.GET.get("institution") or choices[0].code
    chosen = next((institution for institution in choices if institution.code == code), None)
    if chosen is None:
        raise Http404(_("There is no page at this address"))
    rows = selectors.supplier_report(viewer=user, institution_code=chosen.code)
    return page(
        request,
        "accounts/staff_suppliers.html",
        title=_("Supplier staff"),
        institution=chosen,
        choices=choices,
        rows=rows,
        status_labels={key: _(label) for key, label in SUPPLIER_STATUS_LABELS.items()},
    )
