"""The live services' titles and ids, as words a password must not contain (ASVS 6.2.11).

Named in ``AUTH_PASSWORD_VALIDATORS`` as a source of
:class:`govserve.accounts.passwords.ContextWordsValidator` (accounts sits
below catalogue, so it cannot ask for them itself).
"""

from __future__ import annotations

from collections.abc import Iterator

from govserve.accounts.passwords import ContextTerm
from govserve.catalogue.models import Service, ServiceStatus


def live_service_terms() -> Iterator[ContextTerm]:
    """Yield each live service's id and title (each refused whole)."""
    for service_id, title in Service.objects.filter(status=ServiceStatus.LIVE).values_list("id", "title"):
        yield ContextTerm(service_id)
        yield ContextTerm(title)
