"""Finance staff's pages: refund a payment, and the reconciliation report (casework's layout and navigation).

Both are for holders of the ``finance`` role or administrators of the
institution that owns the service (anyone else gets the ordinary 404: the
page does not say whether the payment exists).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from govserve.accounts.decorators import staff_required
from govserve.casework.views import common
from govserve.core.errors import PermissionDeniedError, ValidationError
from govserve.journeys.fields.formats import format_money
from govserve.payments import errors, refunds
from govserve.payments.models import Payment, Refund
from govserve.payments.reconciliation import reconciliation_allowed, reconciliation_report, refunds_due, report_csv

_POUNDS = re.compile(r"^£?\s*(\d{1,6})(?:\.(\d{1,2}))?$")
DEFAULT_PERIOD_DAYS = 7


def _pounds_to_minor(text: str) -> int | None:
    """Return "50", "50.5", "£50.05" as pence; None for anything else."""
    match = _POUNDS.match(text.strip().replace(",", ""))
    if match is None:
        return None
    pence = (match.group(2) or "0").ljust(2, "0")
    return int(match.group(1)) * 100 + int(pence)


def money(amount_minor: int | None) -> str:
    """Return pence as people read pounds: ``£1,250.00``."""
    if amount_minor is None:
        return ""
    sign = "-" if amount_minor < 0 else ""
    amount = abs(amount_minor)
    return f"{sign}£{amount // 100:,}.{amount % 100:02d}"


def _payment_for_finance(request: HttpRequest, payment_id: uuid.UUID) -> Payment:
    payment = Payment.objects.select_related("application__service__owning_institution").filter(pk=payment_id).first()
    if payment is None or not refunds.refund_allowed(common.staff_user(request), payment):
        raise Http404("There is no payment at this address that you can refund")
    return payment


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def refund(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """Show a payment's refunds and what is left; refund part or all of it (``refunds.refund_create``)."""
    payment = _payment_for_finance(request, payment_id)
    field_errors: dict[str, str] = {}
    values = {"amount": "", "reason": ""}
    if request.method == "POST":
        values = {"amount": request.POST.get("amount", ""), "reason": request.POST.get("reason", "")}
        amount_minor = _pounds_to_minor(values["amount"])
        if amount_minor is None:
            field_errors["amount"] = _("Enter the amount to refund in pounds and pence, for example 25.00")
        else:
            try:
                made = refunds.refund_create(
                    payment_id=payment.id,
                    amount_minor=amount_minor,
                    reason=values["reason"],
                    user=common.staff_user(request),
                )
            except ValidationError as error:
                field = "reason" if "reason" in error.extra.get("errors", {}) else "amount"
                field_errors[field] = error.message
            except errors.RefundNotPossibleError as error:
                field_errors["amount"] = error.message
            except PermissionDeniedError as error:
                raise Http404(error.message) from error
            except errors.PaymentProviderUnavailableError as error:
                return common.problem_page(request, error, back_href=request.path, back_text=_("Back to the payment"))
            else:
                common.notice_success(
                    request,
                    _("%(amount)s refund asked for. The payment service reports it as %(state)s.")
                    % {"amount": money(made.amount_minor), "state": made.state},
                )
                return HttpResponseRedirect(request.path)
    made_refunds = list(Refund.objects.filter(payment=payment).select_related("requested_by").order_by("created_at"))
    return common.staff_page(
        request,
        "payments/staff_refund.html",
        title=_("Refund a payment"),
        field_errors=field_errors,
        form_values=values,
        payment=payment,
        paid=money(payment.amount_minor),
        left=money(refunds.refundable_minor(payment)),
        can_refund=payment.succeeded and refunds.refundable_minor(payment) > 0,
        refunds=[
            {
                "when": common.date_text(item.created_at, common.language_of(request)),
                "amount": money(item.amount_minor),
                "state": item.state,
                "reason": item.reason,
                "by": common.person_name(item.requested_by) if item.requested_by else "",
            }
            for item in made_refunds
        ],
    )


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@never_cache
@staff_required
@require_GET
def reconciliation(request: HttpRequest) -> HttpResponse:
    """Show (or, with ``format=csv``, download) the reconciliation of payments made between two dates."""
    user = common.staff_user(request)
    if not reconciliation_allowed(user):
        raise Http404("There is no page at this address that you can see")
    today = dt.datetime.now(tz=dt.UTC).date()
    raw = {
        "from": request.GET.get("from", (today - dt.timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat()),
        "to": request.GET.get("to", today.isoformat()),
    }
    field_errors: dict[str, str] = {}
    start, end = _date(raw["from"]), _date(raw["to"])
    if start is None:
        field_errors["from"] = _("Enter the first day as a date, for example 2026-11-01")
    if end is None:
        field_errors["to"] = _("Enter the last day as a date, for example 2026-11-30")
    report = None
    if start is not None and end is not None:
        try:
            report = reconciliation_report(
                from_date=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
                to_date=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
                user=user,
            )
        except ValidationError as error:
            field_errors["from" if "from" in error.extra.get("errors", {}) else "to"] = error.message
        except errors.PaymentProviderUnavailableError as error:
            return common.problem_page(request, error, back_href=reverse("casework:queue"))
    if report is not None and request.GET.get("format") == "csv":
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payments-{start}-{end}.csv"'
        response["Cache-Control"] = "no-store, private"
        return response
    return common.staff_page(
        request,
        "payments/staff_reconciliation.html",
        title=_("Reconcile payments"),
        field_errors=field_errors,
        form_values=raw,
        report=report,
        problem_rows=[
            {
                "reference": row.reference,
                "provider_id": row.provider_id,
                "ours": f"{row.our_state} {money(row.amount_minor)}" if row.our_state else "",
                "provider": f"{row.provider_state} {money(row.provider_amount_minor)}" if row.provider_state else "",
                "refunded": f"{money(row.refunded_minor)} / {money(row.provider_refunded_minor)}",
                "problems": ", ".join(row.problems),
                "refund_url": reverse("payments:refund", args=[row.payment_id]) if row.settled else "",
            }
            for row in (report.problem_rows if report is not None else [])
        ],
        totals={
            "rows": len(report.rows) if report is not None else 0,
            "settled": money(report.settled_minor if report is not None else 0),
            "refunded": money(report.refunded_minor if report is not None else 0),
        },
        csv_query="?" + urlencode({"from": raw["from"], "to": raw["to"], "format": "csv"}),
        refunds_due=[
            {
                "reference": due.reference,
                "amount": format_money(due.still_due_minor, due.currency),
                "file_url": reverse("casework:file", args=[due.file_id]) if due.file_id else "",
            }
            for due in refunds_due(user)
        ],
    )
