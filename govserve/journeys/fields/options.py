"""The options a choice field offers: its own, or a catalogue's."""

from __future__ import annotations

from collections.abc import Mapping

from govserve.catalogue.definitions import schema


def options_for(field: schema.ChoiceField, catalogues: Mapping[str, schema.Catalogue] | None) -> list[schema.Option]:
    """Return the options of a radios, select or checkboxes field, in the definition's order.

    Raise LookupError when the field takes its options from a catalogue that
    ``catalogues`` does not hold: the caller must pass the catalogues of the
    service's version (a programming error, never the applicant's).
    """
    if field.options is not None:
        return field.options
    if field.options_from is None:  # the definition validator refuses this; keep the error explicit
        raise LookupError(f"Field {field.id!r} has neither options nor options_from")
    catalogue = (catalogues or {}).get(field.options_from)
    if catalogue is None:
        raise LookupError(f"Field {field.id!r} takes its options from catalogue {field.options_from!r}: pass it")
    return catalogue.options
