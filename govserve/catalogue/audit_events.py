"""Audit event types of the catalogue (imported by :class:`CatalogueConfig.ready`)."""

from govserve.audit.events import register_event

register_event("catalogue.draft.saved", description="A service definition draft was created or replaced.")
register_event(
    "catalogue.version.published",
    description="A service definition version was published (immutable from now on); details: number, hash, reason.",
)
register_event(
    "catalogue.service.retired",
    description="A service was retired: closed to new applications; draft holders are to be notified.",
)
register_event(
    "catalogue.catalogue.published",
    description="A catalogue (reusable option list) version was published.",
)
register_event(
    "catalogue.version.imported",
    description="A service definition bundle was imported (the import also records the published version).",
)
