"""What an application obtains and owes, from its answers: registrations, documents and fees.

Pure functions over the effective answers (the final evaluator of a
:class:`~govserve.journeys.routing.JourneyState`); no database.

- **Registrations.** A registration applies when its ``when`` holds (always
  without one). ``mandatory: false`` registrations are optional: the
  applicant's choice is an answer that their ``when`` reads (the newborn
  example's "Optional programmes" checkboxes and ``when:
  wants_infant_care``), so the same rule decides them.
- **Documents** of the registrations that apply, each when its ``when``
  holds, merged by id across registrations (asked for once, listing every
  registration that needs it), except a document that an *earlier*
  registration issues as a result (same id, the result's ``when`` holding):
  the applicant will receive it, so it is not asked for.
- **Fees** of the registrations that apply, each when its ``when`` holds: a
  fixed ``amount`` or the ``formula`` evaluated, in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govserve.catalogue.definitions.schema import Document, Fee, Registration
from govserve.journeys.routing import Evaluator


@dataclass(frozen=True)
class RequiredDocument:
    """A document the application needs, merged across registrations."""

    document: Document
    registration_ids: tuple[str, ...]

    @property
    def id(self) -> str:
        """Return the document id (the upload slot is ``document:<id>``)."""
        return self.document.id

    @property
    def slot(self) -> str:
        """Return the govserve.documents slot of its upload."""
        return document_slot(self.document.id)

    @property
    def delivery(self) -> str:
        """Return upload, counter or sign_in_person."""
        return self.document.delivery


@dataclass(frozen=True)
class FeeDue:
    """One fee of one registration, with its amount in minor units."""

    registration: Registration
    fee: Fee
    amount_minor: int

    @property
    def paid_before_submission(self) -> bool:
        """Return whether it must be paid before the application is processed."""
        return self.fee.paid == "before_submission"


@dataclass(frozen=True)
class FeeSummary:
    """The fees of an application: itemised per registration, and totalled."""

    currency: str
    items: tuple[FeeDue, ...] = field(default=())

    @property
    def total_minor(self) -> int:
        """Return the sum of every fee."""
        return sum(item.amount_minor for item in self.items)

    @property
    def due_before_submission_minor(self) -> int:
        """Return what must be paid before the application is processed."""
        return sum(item.amount_minor for item in self.items if item.paid_before_submission)

    def by_registration(self) -> list[tuple[Registration, list[FeeDue]]]:
        """Return the fees grouped by registration, in definition order."""
        groups: dict[str, tuple[Registration, list[FeeDue]]] = {}
        for item in self.items:
            groups.setdefault(item.registration.id, (item.registration, []))[1].append(item)
        return list(groups.values())


def document_slot(document_id: str) -> str:
    """Return the upload slot of a required document (file fields use ``field:<id>``)."""
    return f"document:{document_id}"


def field_slot(field_id: str) -> str:
    """Return the upload slot of a file field's answer."""
    return f"field:{field_id}"


def registrations_applied(evaluator: Evaluator) -> list[tuple[int, Registration]]:
    """Return (position, registration) for each registration that applies to these answers."""
    applied: list[tuple[int, Registration]] = []
    for number, registration in enumerate(evaluator.compiled.definition.registrations):
        if registration.when is None or evaluator.condition(f"registrations[{number}].when"):
            applied.append((number, registration))
    return applied


def required_documents(evaluator: Evaluator) -> list[RequiredDocument]:
    """Return the documents these answers need, merged across registrations (module docstring)."""
    merged: dict[str, tuple[Document, list[str]]] = {}
    issued: set[str] = set()
    for number, registration in registrations_applied(evaluator):
        for document_number, document in enumerate(registration.documents):
            if document.id in issued:
                continue
            if document.when is not None and not evaluator.condition(
                f"registrations[{number}].documents[{document_number}].when"
            ):
                continue
            merged.setdefault(document.id, (document, []))[1].append(registration.id)
        # Results issued by this registration are not asked for by the later ones.
        for result_number, result in enumerate(registration.results):
            if result.when is None or evaluator.condition(f"registrations[{number}].results[{result_number}].when"):
                issued.add(result.id)
    return [RequiredDocument(document=document, registration_ids=tuple(ids)) for document, ids in merged.values()]


def fee_summary(evaluator: Evaluator) -> FeeSummary:
    """Return the fees these answers owe, per registration."""
    items: list[FeeDue] = []
    for number, registration in registrations_applied(evaluator):
        for fee_number, fee in enumerate(registration.fees):
            base = f"registrations[{number}].fees[{fee_number}]"
            if fee.when is not None and not evaluator.condition(f"{base}.when"):
                continue
            amount = fee.amount if fee.amount is not None else evaluator.value(f"{base}.formula")
            items.append(FeeDue(registration=registration, fee=fee, amount_minor=_minor_units(amount, base)))
    return FeeSummary(currency=evaluator.compiled.definition.currency, items=tuple(items))


def _minor_units(amount: object, where: str) -> int:
    # `govserve check` type-checks formulas as int; a negative amount is a fault of the definition.
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        msg = f"fee {where} must be a whole, non-negative amount in minor units, not {amount!r}"
        raise ValueError(msg)
    return amount
