"""The receipt of a successful payment as a PDF (tagged, PDF/UA-1, rendered by casework-results' WeasyPrint).

The same facts as the receipt page and email: service, application and
payment references, date, amount, card's last digits and the fees paid, in
the applicant's language. No external resource is fetched (``pdf_render``
refuses every fetch).
"""

from __future__ import annotations

from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from govserve.casework.results.rendering import pdf_render
from govserve.journeys.fields.formats import format_date, format_money
from govserve.journeys.models import Application
from govserve.journeys.selectors import compiled_for
from govserve.payments.models import Payment
from govserve.payments.receipts import payment_reference
from govserve.payments.selectors import fee_lines

_STYLE = (
    "body{font-family:sans-serif;font-size:11pt;color:#0b0c0c}"
    "h1{font-size:20pt}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
    "th,td{text-align:left;padding:4pt 8pt 4pt 0;border-bottom:1px solid #b1b4b6}"
    "td.amount,th.amount{text-align:right}"
)


def receipt_html(payment: Payment, application: Application, language: str) -> str:
    """Return the receipt's HTML document in ``language`` (en or cy)."""
    chosen = "cy" if language == "cy" else "en"
    with translation.override(chosen):
        reference = payment_reference(payment)
        title = _("Receipt for payment %(reference)s") % {"reference": reference}
        facts = [
            (_("Service"), compiled_for(application).definition.title.get(chosen)),
            (_("Application reference"), application.reference),
            (_("Payment reference"), reference),
            (_("Paid on"), format_date((payment.settled_at or payment.updated_at).date(), chosen)),
            (_("Amount paid"), format_money(payment.amount_minor, payment.currency)),
        ]
        if payment.last_digits:
            facts.append((_("Card"), _("Ending %(digits)s") % {"digits": payment.last_digits}))
        fees = [
            (line.name, format_money(line.amount_minor, line.currency))
            for line in fee_lines(application, payment.fees.order_by("id"), chosen)
        ]
        return str(
            format_html(
                '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8"><title>{}</title><style>{}</style>'
                "</head><body><h1>{}</h1><table><tbody>{}</tbody></table>"
                '<table><caption>{}</caption><thead><tr><th scope="col">{}</th><th scope="col" class="amount">{}'
                "</th></tr></thead><tbody>{}</tbody></table></body></html>",
                chosen,
                title,
                _STYLE,
                title,
                format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', facts),
                _("Fees paid"),
                _("Fee"),
                _("Amount"),
                format_html_join("", '<tr><th scope="row">{}</th><td class="amount">{}</td></tr>', fees),
            )
        )


def receipt_pdf(payment: Payment, application: Application, language: str) -> bytes:
    """Return the receipt of ``payment`` (successful) as PDF bytes."""
    return pdf_render(receipt_html(payment, application, language))
