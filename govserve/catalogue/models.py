"""The catalogue: services, their immutable published versions, and shared catalogues.

A :class:`Service` is named by the ``id`` of its definition. Each change to a
service is a :class:`ServiceVersion`: at most one ``draft`` per service, then
``published`` versions numbered 1..n, which never change again (applications
pin the version they started on), and ``retired`` ones once the service closes.

A :class:`CatalogueVersion` is a published, immutable version of a reusable
option list (countries, nationalities); a service version pins the catalogue
versions it was validated against, so a later catalogue change never alters a
published service.

Immutability is enforced three times over: the service layer refuses
(:class:`govserve.catalogue.errors.VersionImmutableError`), ``save()`` and
``delete()`` refuse on a published row, and database triggers (migration
0002) abort any UPDATE of a published row's content and any DELETE of it, so
even ``QuerySet.update()`` or raw SQL fails loudly.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from govserve.core import clock
from govserve.core.models import BaseModel


class ServiceStatus(models.TextChoices):
    """Where a service is in its life."""

    DRAFT = "draft", "Draft (never published)"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired (closed to new applications)"


class VersionState(models.TextChoices):
    """Where a version is in its life: draft → published → retired."""

    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class ImmutableRowError(RuntimeError):
    """A programming error: code tried to change or delete a published row outside the service layer."""


class _NoDeleteOncePublishedQuerySet(models.QuerySet[Any]):
    """Refuse a bulk ``delete()`` that would remove a published or retired row."""

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.exclude(state=VersionState.DRAFT).exists():
            msg = f"{self.model.__name__}: published and retired rows can never be deleted"
            raise ImmutableRowError(msg)
        return super().delete()


class Service(models.Model):
    """A public service, named by its definition's ``id`` (``street-trading-licence``)."""

    id = models.SlugField(max_length=64, primary_key=True)
    owning_institution = models.ForeignKey(
        "accounts.Institution", on_delete=models.PROTECT, related_name="owned_services"
    )
    title = models.CharField(max_length=300, help_text="The title of the latest saved version, for listings.")
    status = models.CharField(max_length=16, choices=ServiceStatus.choices, default=ServiceStatus.DRAFT)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retire_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in ServiceStatus]),
                name="catalogue_service_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.id


class Catalogue(models.Model):
    """A reusable option list, named by its file's ``id`` (``countries``)."""

    id = models.SlugField(max_length=64, primary_key=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class _ImmutableOncePublished(BaseModel):
    """Refuse ``save()`` of changed content and ``delete()`` once a row is not a draft.

    ``CONTENT_FIELDS`` are frozen once the stored row is published; subclasses
    list them. State may still move forward (published → retired).
    """

    CONTENT_FIELDS: ClassVar[tuple[str, ...]] = ()

    objects = _NoDeleteOncePublishedQuerySet.as_manager()

    class Meta:
        abstract = True

    def _stored(self) -> dict[str, Any] | None:
        if self._state.adding:
            return None
        return type(self)._default_manager.filter(pk=self.pk).values(*self.CONTENT_FIELDS, "state").first()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, refusing any change to the content of a stored published/retired row."""
        stored = self._stored()
        if stored is not None and stored["state"] != VersionState.DRAFT:
            changed = [name for name in self.CONTENT_FIELDS if _attribute_value(self, name) != stored[name]]
            if changed:
                msg = f"{type(self).__name__} {self.pk} is {stored['state']} and immutable; refused change to {changed}"
                raise ImmutableRowError(msg)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Delete a draft; refuse to delete a published or retired row."""
        stored = self._stored()
        if stored is not None and stored["state"] != VersionState.DRAFT:
            msg = f"{type(self).__name__} {self.pk} is {stored['state']} and can never be deleted"
            raise ImmutableRowError(msg)
        return super().delete(*args, **kwargs)


def _attribute_value(instance: models.Model, name: str) -> Any:
    field = instance._meta.get_field(name)
    return getattr(instance, field.attname)  # type: ignore[union-attr]


class CatalogueVersion(_ImmutableOncePublished):
    """A published version of a catalogue: its source text and its parsed items.

    Catalogue versions are published directly (no draft step): they hold data,
    not behaviour, and ``govserve check`` has already validated the file.
    """

    CONTENT_FIELDS = ("catalogue", "number", "source_name", "source_text", "content_hash", "parsed")

    catalogue = models.ForeignKey(Catalogue, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=VersionState.choices, default=VersionState.PUBLISHED)
    source_name = models.CharField(max_length=255, help_text="The file name it was published from.")
    source_text = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the source text (hex).")
    parsed = models.JSONField(help_text="The validated catalogue as JSON.")
    published_at = models.DateTimeField(default=clock.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    publish_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["catalogue_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "number"], name="catalogue_version_number_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="catalogue_version_number_positive"),
            models.CheckConstraint(condition=~models.Q(state=VersionState.DRAFT), name="catalogue_version_never_draft"),
        ]

    def __str__(self) -> str:
        return f"{self.catalogue_id} v{self.number}"


class ServiceVersion(_ImmutableOncePublished):
    """One version of a service definition: draft, then published (immutable), then retired.

    ``source_text`` is the definition file exactly as written (comments
    included): it is what export bundles and what the content hash covers,
    together with the content hashes of the pinned catalogue versions and the
    result ``templates`` (``{relative path: text}``, read from the files the
    definition names when it was saved; see :mod:`govserve.catalogue.templates`),
    so a published version never depends on a file on disk.
    ``parsed`` is the validated definition as JSON, so readers need not parse
    YAML. ``number`` is the number the draft will take when it is published.
    """

    CONTENT_FIELDS = (
        "service",
        "number",
        "source_name",
        "source_text",
        "content_hash",
        "parsed",
        "templates",
        "published_at",
        "published_by",
        "publish_reason",
    )

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=VersionState.choices, default=VersionState.DRAFT)
    source_name = models.CharField(max_length=255, help_text="The file name it was saved from.")
    source_text = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 over the source text and pinned catalogues.")
    parsed = models.JSONField(help_text="The validated definition as JSON.")
    templates = models.JSONField(
        default=dict, blank=True, help_text="The result templates it names: {relative path: text}."
    )
    catalogue_versions = models.ManyToManyField(
        CatalogueVersion, through="PinnedCatalogue", related_name="service_versions", blank=True
    )
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when published by the command line or the system.",
    )
    publish_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["service_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="service_version_number_unique"),
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(state=VersionState.DRAFT),
                name="service_version_one_draft",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="service_version_number_positive"),
            models.CheckConstraint(
                condition=models.Q(state__in=[choice.value for choice in VersionState]),
                name="service_version_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state=VersionState.DRAFT) | models.Q(published_at__isnull=False),
                name="service_version_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["service", "state", "-number"], name="service_version_state_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} v{self.number} ({self.state})"


class PinnedCatalogue(models.Model):
    """A catalogue version a service version was validated against (part of its immutable content).

    Database triggers (migration 0002) refuse to add or change a pin once the
    service version is no longer a draft; ``delete()`` refuses too.
    """

    id = models.BigAutoField(primary_key=True)
    service_version = models.ForeignKey(ServiceVersion, on_delete=models.CASCADE, related_name="pins")
    catalogue_version = models.ForeignKey(CatalogueVersion, on_delete=models.PROTECT, related_name="pins")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service_version", "catalogue_version"], name="pinned_catalogue_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service_version_id} -> {self.catalogue_version_id}"
