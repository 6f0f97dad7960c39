"""The applicant's payment pages: what to pay, the return from the provider, the outcome, the receipt.

Thin: each view resolves who is asking (journeys' applicant: a signed-in
citizen or a session granted the application), calls one service or
selector, and renders. The same "not found" answers a missing payment and
someone else's, so ids cannot be probed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from govserve.journeys.fields.formats import format_money
from govserve.journeys.models import Application
from govserve.journeys.views.common import (
    AccessNeeded,
    access_needed,
    applicant_of,
    application_or_404,
    language_of,
    page,
)
from govserve.payments import errors, selectors, services
from govserve.payments.models import PaidWhen, Payment
from govserve.payments.providers.base import PaymentState
from govserve.payments.receipt_pdf import receipt_pdf
from govserve.payments.receipts import payment_reference

View = Callable[..., HttpResponse]


def _with_application(view: View) -> View:
    def wrapped(request: HttpRequest, application_id: uuid.UUID, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            application = application_or_404(request, application_id)
        except AccessNeeded:
            return access_needed(request)
        return view(request, application, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _paid_when(request: HttpRequest) -> str:
    value = request.POST.get("when") or request.GET.get("when") or PaidWhen.BEFORE_SUBMISSION
    return value if value in PaidWhen.values else PaidWhen.BEFORE_SUBMISSION


def _problem(request: HttpRequest, application: Application, *, status: int) -> HttpResponse:
    return page(
        request,
        "payments/problem.html",
        title=_("Sorry, there is a problem with the payment service"),
        application=application,
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def payment_start(request: HttpRequest, application: Application) -> HttpResponse:
    """Show what is due with a "Pay" button (GET); start paying and go to the provider's page (POST)."""
    paid_when = _paid_when(request)
    due = services.fees_due(application, paid_when)
    if due is None:
        return page(
            request,
            "payments/nothing_due.html",
            title=_("There is nothing to pay"),
            application=application,
            status=409,
        )
    if request.method == "GET":
        return page(
            request,
            "payments/pay.html",
            title=_("Pay for your application"),
            application=application,
            due=due,
            fee_lines=selectors.fee_lines(application, due.fees, language_of(request)),
            amount=format_money(due.total_minor, due.currency),
            paid_when=paid_when,
        )
    try:
        payment = services.payment_start(
            application_id=application.id,
            applicant=applicant_of(request),
            language=language_of(request),
            paid_when=paid_when,
        )
    except errors.PaymentNotDueError:
        return HttpResponseRedirect(request.path)
    except (errors.PaymentProviderUnavailableError, errors.PaymentProviderRefusedError):
        return _problem(request, application, status=503)
    if payment.succeeded or not payment.next_url:
        return HttpResponseRedirect(reverse("payments:payment_detail", args=[payment.id]))
    return HttpResponseRedirect(payment.next_url)


@never_cache
@require_GET
def payment_return(request: HttpRequest, token: str) -> HttpResponse:
    """Where the provider sends the person back: ask the provider, apply, and show the outcome."""
    try:
        payment = selectors.payment_by_return_token(token)
    except errors.PaymentNotFoundError:
        raise Http404("There is no payment at this address") from None
    applicant = applicant_of(request)
    # The provider unreachable: the outcome page says we are still waiting; the poll applies it later.
    with contextlib.suppress(errors.PaymentProviderUnavailableError, errors.PaymentProviderRefusedError):
        payment = services.payment_refresh(payment_id=payment.id, actor=applicant.actor)
    if not applicant.may_act_on(payment.application):
        return access_needed(request)
    return HttpResponseRedirect(reverse("payments:payment_detail", args=[payment.id]))


def _payment_or_404(request: HttpRequest, payment_id: uuid.UUID) -> Payment:
    try:
        return selectors.payment_for_applicant(applicant=applicant_of(request), payment_id=payment_id)
    except errors.PaymentNotFoundError:
        raise Http404("There is no payment at this address") from None


@never_cache
@require_GET
def payment_detail(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """Show the outcome of an attempt: paid (reference, amount, what next), not paid (try again), or waiting."""
    payment = _payment_or_404(request, payment_id)
    application = payment.application
    if payment.succeeded:
        title = _("Payment complete")
    elif payment.is_finished:
        title = _("Your payment was cancelled") if payment.state == PaymentState.CANCELLED else _("Your payment failed")
    else:
        title = _("We are waiting to hear from the payment service")
    return page(
        request,
        "payments/result.html",
        title=title,
        application=application,
        payment=payment,
        amount=format_money(payment.amount_minor, payment.currency),
        payment_reference=payment_reference(payment),
        can_retry=services.fees_due(application, payment.paid_when) is not None,
    )


@never_cache
@require_GET
def payment_receipt(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """Show the receipt of a successful payment (printable); 404 for any other attempt."""
    payment = _payment_or_404(request, payment_id)
    if not payment.succeeded:
        raise Http404("There is no receipt for this payment")
    application = payment.application
    return page(
        request,
        "payments/receipt.html",
        title=_("Receipt for payment %(reference)s") % {"reference": payment_reference(payment)},
        application=application,
        payment=payment,
        amount=format_money(payment.amount_minor, payment.currency),
        payment_reference=payment_reference(payment),
        fee_lines=selectors.fee_lines(application, payment.fees.order_by("id"), language_of(request)),
    )


@never_cache
@require_GET
def payment_receipt_pdf(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """Download the receipt of a successful payment as a PDF; 404 for any other attempt."""
    payment = _payment_or_404(request, payment_id)
    if not payment.succeeded:
        raise Http404("There is no receipt for this payment")
    content = receipt_pdf(payment, payment.application, language_of(request))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{payment_reference(payment)}.pdf"'
    return response
