"""API clients, their tokens, the applications they made and their submission keys.

An :class:`ApiClient` is a machine that calls the API (a partner system, a
bot), or a staff member's own client (an operator). Its ``kind`` says which:
a ``partner`` acts as the applicant of the applications it made; an
``operator`` or ``bot`` client is bound to one staff account (``user``) and
acts on casework tasks exactly as that account may (its institution and
roles, read at every call). An operator's account is a person's, enrolled in
MFA; a bot's is a service account made for it (``bot-<client name>``, no
password), whose roles are granted with ``govserve staff`` like anyone's.
An ``applicant`` client belongs to one citizen (``citizen``): its tokens,
got by exchanging a one-time sign-in link, act as that citizen on their own
applications only.

A client holds :class:`ApiToken` rows: each token is ``gs_<prefix>_<secret>``
where the prefix (public, unique) finds the row and only the SHA-256 of the
whole token is stored; the token itself is shown once, when issued. A token
carries scopes, expires, and can be revoked or rotated (rotation issues a new
token with the same scopes and revokes the old one).

:class:`ClientApplication` records which client made which application: a
client reaches only its own applications. :class:`SubmissionKey` keeps each
``Idempotency-Key`` a client sent with a submission and a digest of what it
sent, so a replay returns the same application and a different request with
the same key is refused.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from govserve.core import clock
from govserve.core.models import BaseModel

SCOPES = (
    "services:read",
    "applications:read",
    "applications:write",
    "tasks:read",
    "tasks:decide",
    "messages:write",
    "govstack",
)
"""Every scope a token may carry (docs/api.md says what each allows)."""

TASK_SCOPES = ("tasks:read", "tasks:decide", "messages:write")
"""The scopes of operator tokens (the only ones a staff member's token may carry); a bot's default."""

APPLICANT_SCOPES = ("services:read", "applications:read", "applications:write", "messages:write")
"""The scopes of a citizen's token: the applicant side, on their own applications only."""


class ClientKind(models.TextChoices):
    """Who is behind a client: a partner system, a staff member (operator), or a bot's service account."""

    PARTNER = "partner", "Partner system"
    OPERATOR = "operator", "Operator (a staff member)"
    BOT = "bot", "Bot (a service account)"
    APPLICANT = "applicant", "Applicant (a citizen's own tokens)"


class ApiClient(BaseModel):
    """A partner system or bot that calls the API; ``rate_limit_per_minute`` bounds its calls."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True, default="")
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    is_active = models.BooleanField(default=True)
    govstack_identity = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="X-Road identity INSTANCE/CLASS/MEMBER/SUBSYSTEM this client calls the GovStack API as.",
    )
    kind = models.CharField(max_length=16, choices=ClientKind.choices, default=ClientKind.PARTNER)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_client",
        help_text="The staff account an operator or bot client acts as (none for a partner).",
    )
    citizen = models.OneToOneField(
        "accounts.Citizen",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_client",
        help_text="The citizen an applicant client's tokens sign in as (made by the one-time-link exchange).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_limit_per_minute__gte=1), name="api_client_rate_limit_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["partner", "applicant"], user__isnull=True)
                | Q(kind__in=["operator", "bot"], user__isnull=False),
                name="api_client_kind_user_consistent",
            ),
            models.CheckConstraint(
                condition=Q(kind="applicant", citizen__isnull=False) | (~Q(kind="applicant") & Q(citizen__isnull=True)),
                name="api_client_kind_citizen_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"API client {self.name}"


class ApiToken(BaseModel):
    """A bearer token of a client: its public prefix, the SHA-256 of the whole token, scopes and lifetime."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"token {self.prefix} of {self.client_id}"

    def is_usable(self) -> bool:
        """Return whether the token is neither revoked nor expired now."""
        return self.revoked_at is None and self.expires_at > clock.now()


class ClientApplication(models.Model):
    """The client that made an application through the API (one per application)."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="applications")
    application = models.OneToOneField("journeys.Application", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["client", "created_at", "id"], name="api_client_app_list_idx")]

    def __str__(self) -> str:
        return f"application {self.application_id} of client {self.client_id}"


class SubmissionKey(models.Model):
    """An ``Idempotency-Key`` a client submitted an application with, and the digest of that request."""

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_digest = models.CharField(max_length=64)
    application = models.ForeignKey("journeys.Application", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="api_submission_key_unique")]

    def __str__(self) -> str:
        return f"submission key of client {self.client_id}"
