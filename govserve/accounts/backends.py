"""Django model permissions derived from roles, so roles stay the one source of access.

The Django admin (and a few selectors, such as audit's) ask
``user.has_perm("app.codename")``. Rather than maintaining Django groups
beside roles, this backend answers from the roles a usable account holds (in
any institution), so taking a role away takes its permissions away at once:

- ``administrator``: every permission (the admin is their tool);
- ``auditor``: ``audit.view_auditentry`` (read the audit log).

It authenticates nobody.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from govserve.accounts import policies
from govserve.accounts.models import PlatformRole

# Permissions each platform role grants besides the administrator's "all".
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    PlatformRole.AUDITOR: frozenset({"audit.view_auditentry"}),
}


def _granted(user_obj: Any) -> tuple[bool, frozenset[str]]:
    if not policies.account_usable(user_obj):
        return False, frozenset()
    roles = {role for _institution, role in policies.roles_of(user_obj)}
    if PlatformRole.ADMINISTRATOR in roles:
        return True, frozenset()
    return False, frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))


class RolePermissionBackend(BaseBackend):
    """Answer Django permission questions from platform roles (see the module docstring)."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        """Authenticate nobody: this backend only answers permission questions."""
        return

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """Return the role-derived permissions (administrators: every permission, through has_perm)."""
        _everything, permissions = _granted(user_obj)
        return set(permissions)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        """Return True when a role of ``user_obj`` grants ``perm``."""
        everything, permissions = _granted(user_obj)
        return everything or perm in permissions

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        """Return True when a role of ``user_obj`` grants any permission in ``app_label``."""
        everything, permissions = _granted(user_obj)
        return everything or any(permission.startswith(f"{app_label}.") for permission in permissions)
