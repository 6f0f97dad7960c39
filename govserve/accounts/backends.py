"""Django model permissions derived from roles: administrators hold every admin permission.

The Django admin asks ``user.has_perm("app.change_model")`` for each page and
button; rather than maintaining Django groups beside roles, this backend
answers from the role ``administrator`` (in any institution), so taking the
role away takes the admin away at once. It authenticates nobody.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from govserve.accounts import policies


class PlatformAdministratorBackend(BaseBackend):
    """Grant every model permission to usable accounts holding the administrator role."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        """Authenticate nobody: this backend only answers permission questions."""
        return

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        """Return True for every permission when ``user_obj`` may use the admin."""
        return policies.can_use_admin(user_obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        """Return True for every app when ``user_obj`` may use the admin."""
        return policies.can_use_admin(user_obj)
