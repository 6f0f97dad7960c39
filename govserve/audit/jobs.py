"""The audit log's background work: the sealer, every five seconds on whichever worker claims the period."""

from __future__ import annotations

import datetime as dt

from govserve.audit.sealer import seal_pending
from govserve.core.jobs import scheduled


@scheduled(name="audit.seal", every=dt.timedelta(seconds=5))
def audit_seal() -> None:
    """Seal every entry that can be chained now (see ``govserve.audit.sealer``).

    One period's run is enough: a run seals everything sealable, and a second
    sealer running at the same time returns at once. A SealRefusedError fails
    the run (dead letter, for the operator to see) and the next period tries again.
    """
    seal_pending()
