"""The sandbox's hosted payment page (``next_url`` of sandbox payments): a card number, Pay or Cancel.

Stands in for GOV.UK Pay's pages in the demo and the tests: the address is
the payment's unguessable id, the page never takes a real card (only the
test cards of :mod:`govserve.payments.providers.sandbox`), and once the
payment finishes it sends the person back to the service's return URL.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.journeys.fields.formats import format_money
from govserve.payments.models import SandboxPayment
from govserve.payments.providers.base import PaymentState
from govserve.payments.providers.sandbox import (
    SandboxCardRefusedError,
    sandbox_payment_cancel_by_payer,
    sandbox_payment_open,
    sandbox_payment_pay,
)


def _render(
    request: HttpRequest, row: SandboxPayment, *, error: str = "", card_number: str = "", status: int = 200
) -> HttpResponse:
    finished = PaymentState(row.state).finished
    title = _("This payment has finished") if finished else _("Enter card details")
    context = {
        "page_title": title,
        "errors": [{"text": error, "href": "#card-number"}] if error else [],
        "payment": row,
        "finished": finished,
        "amount": format_money(row.amount_minor, row.currency),
        "card_error": error,
        "card_number": card_number,
    }
    response = render(request, "payments/sandbox_page.html", context, status=400 if error else status)
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Show the card form (GET); pay with a test card or cancel, then go back to the service (POST)."""
    if request.method == "GET":
        row = sandbox_payment_open(provider_id)
        if row is None:
            raise Http404("There is no sandbox payment at this address")
        return _render(request, row)
    if request.POST.get("action") == "cancel":
        row = sandbox_payment_cancel_by_payer(provider_id)
        if row is None:
            raise Http404("There is no sandbox payment at this address")
        return HttpResponseRedirect(row.return_url)
    typed = request.POST.get("card-number", "")
    try:
        row = sandbox_payment_pay(provider_id, typed)
    except SandboxCardRefusedError as error:
        current = SandboxPayment.objects.filter(pk=provider_id[:64]).first()
        if current is None:  # pragma: no cover - refused only for an existing unfinished payment
            raise Http404("There is no sandbox payment at this address") from None
        return _render(request, current, error=str(error), card_number=str(typed)[:40])
    if row is None:
        raise Http404("There is no sandbox payment at this address")
    return HttpResponseRedirect(row.return_url)
