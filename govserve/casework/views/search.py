"""Find an application by its reference (any state, within what the person may see)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts.decorators import staff_required
from govserve.casework import errors, selectors
from govserve.casework.forms import reference_normalise
from govserve.casework.views import common


@never_cache
@require_http_methods(["GET"])
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """Ask for a reference; open the file when the person may see it, else say nothing was found."""
    typed = request.GET.get("reference")
    field_errors: dict[str, str] = {}
    status = 200
    reference = reference_normalise(typed or "")
    if typed is not None:
        if not reference:
            field_errors["reference"] = _("Enter a reference")
        else:
            try:
                case_file = selectors.file_for_reference(user=common.staff_user(request), reference=reference)
            except errors.CaseFileNotFoundError:
                # The same answer for a missing file and one of another institution or role.
                field_errors["reference"] = _("No application found with reference %(reference)s") % {
                    "reference": reference
                }
                status = 404
            else:
                return HttpResponseRedirect(reverse("casework:file", args=[case_file.id]))
    return common.staff_page(
        request,
        "casework/search.html",
        title=_("Find an application"),
        field_errors=field_errors,
        reference=typed or "",
        status=status,
    )
