from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "govserve.audit"
    label = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from govserve.audit import audit_events  # noqa: F401, PLC0415  (registration side effects)
        from govserve.audit.guards import sqlite_functions_register  # noqa: PLC0415

        connection_created.connect(sqlite_functions_register, dispatch_uid="govserve.audit.sqlite_functions")
