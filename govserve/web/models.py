"""Storage behind :mod:`govserve.web.ratelimit`: one row per (key, fixed window)."""

from __future__ import annotations

from django.db import models


class RateLimitCounter(models.Model):
    """Hits for one key in one fixed window.

    ``key_digest`` is a keyed hash (HMAC under SECRET_KEY) of the limited key,
    so an email address or IP address used as a key is never stored.
    Windows are Unix seconds, so every process and database agrees on them.
    Expired rows are pruned by the scheduled job ``web.ratelimit.prune``.
    """

    id = models.BigAutoField(primary_key=True)
    key_digest = models.CharField(max_length=64)
    window_start = models.BigIntegerField(help_text="Unix seconds; a multiple of the window length.")
    expires_at = models.BigIntegerField(help_text="Unix seconds: window_start plus the window length.")
    hits = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key_digest", "window_start"], name="web_ratelimit_key_window_unique"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="web_ratelimit_expires_idx")]

    def __str__(self) -> str:
        return f"{self.key_digest[:12]}@{self.window_start}={self.hits}"
