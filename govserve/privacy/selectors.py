"""Key management reads (operators' commands; no personal data is read, so nothing is audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from govserve.privacy.models import DataKey


@dataclass(frozen=True)
class DataKeyCounts:
    """Live data keys per KEK id, and the number of destroyed (crypto-shredded) ones."""

    live_by_kek: dict[str, int]
    destroyed: int

    @property
    def live(self) -> int:
        """Return the number of live data keys."""
        return sum(self.live_by_kek.values())


def data_key_counts() -> DataKeyCounts:
    """Return how many live data keys each KEK wraps, and how many data keys were destroyed."""
    live = (
        DataKey.objects.filter(destroyed_at__isnull=True)
        .values_list("kek_id")
        .annotate(count=Count("id"))
        .order_by("kek_id")
    )
    return DataKeyCounts(
        live_by_kek=dict(live),
        destroyed=DataKey.objects.filter(destroyed_at__isnull=False).count(),
    )
