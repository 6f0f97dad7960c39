"""Typed failures of the audit log. Codes are stable."""

from __future__ import annotations

from govserve.core.errors import ApplicationError, ConflictError, PermissionDeniedError


class SealRefusedError(ConflictError):
    """The sealer found an entry it must not chain (already sealed beyond the head, malformed).

    Sealing stops at that entry until an operator has looked (``govserve audit verify``).
    """

    code = "audit_seal_refused"


class AuditReadDeniedError(PermissionDeniedError):
    """The caller may not read the audit log."""

    code = "audit_read_denied"


class AnchorError(ApplicationError):
    """An anchor file (an exported chain head) cannot be read."""

    code = "audit_anchor_invalid"
