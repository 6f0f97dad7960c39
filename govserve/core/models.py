"""The shared base model: every row has a UUID and creation/update times."""

import uuid

from django.db import models

from govserve.core import clock


class BaseModel(models.Model):
    """Abstract base: UUID primary key, ``created_at`` and ``updated_at`` (aware UTC)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
