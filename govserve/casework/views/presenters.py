"""Turn the casework selectors' results into what the templates show.

The templates depend on these shapes only, so a change in a selector's
dataclass is one change here. Texts for people are built here (dates in the
page's language, names of colleagues, tags and their colours).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from govserve.accounts.models import User
from govserve.casework.models import TaskStatus
from govserve.casework.results.selectors import ResultRow
from govserve.casework.selectors import Assignee, FeeRow, FileView, HistoryRow, MessageRow, NoteRow
from govserve.casework.views import common, names
from govserve.core import clock
from govserve.journeys.models import FeeKind, FeeStatus

# Colours of the status tags (GOV.UK tag modifiers) per state of a file.
_FILE_TAGS = {
    "approved": "govuk-tag--green",
    "rejected": "govuk-tag--red",
    "withdrawn": "govuk-tag--grey",
    "sent_back": "govuk-tag--orange",
    "open": "govuk-tag--blue",
}
_DELIVERY_TEXT = {
    "counter": gettext_noop("to bring to a counter"),
    "sign_in_person": gettext_noop("to sign in person"),
    "post": gettext_noop("by post"),
}
COUNTER_DELIVERIES = ("counter", "sign_in_person")
_MESSAGE_PURPOSES = {
    "submission_confirmation": gettext_noop("Application received"),
    "submitted": gettext_noop("Application received"),
    "resume_application": gettext_noop("Link to carry on"),
    "sent_back": gettext_noop("Changes needed"),
    "decision_made": gettext_noop("Decision"),
    "result_issued": gettext_noop("Result ready"),
    "message_sent": gettext_noop("New message"),
    "payment_received": gettext_noop("Payment received"),
}
_CHANNELS = {"email": gettext_noop("Email"), "sms": gettext_noop("Text message")}


@dataclass(frozen=True)
class Tag:
    """A GOV.UK tag: its words and colour class."""

    text: str
    classes: str = ""


@dataclass(frozen=True)
class AnswerLine:
    field_id: str
    label: str
    lines: list[str]
    text: str
    corrected: bool
    original_text: str
    correct_url: str
    flagged: bool
    correction_note: str = ""


@dataclass(frozen=True)
class DocumentLine:
    requirement_id: str
    name: str
    href: str
    detail: str
    flagged: bool
    needs_counter: bool
    counter_done: bool
    counter_kind: str


@dataclass(frozen=True)
class FeeLine:
    name: str
    amount_text: str
    status_text: str


def fee_line(row: FeeRow, *, service_id: str, version: int, language: str) -> FeeLine:
    """Return a fee as the file shows it: an increase after the answers changed named so, a refund due or made stated.

    A refund due is what the fee no longer owes less what payments has refunded of it, so after finance
    refunds the difference the file says it was refunded instead of still asking for it.
    """
    name = names.fee_name(service_id, version, row.fee_id, language)
    if row.kind == FeeKind.INCREASE:
        name = _("%(fee)s: increase after the application was changed") % {"fee": name}
    status_text = str(dict(FeeStatus.choices).get(row.status, row.status))
    still_due = max(row.refund_due_minor - row.refunded_minor, 0)
    values = {
        "status": status_text,
        "amount": money_text(still_due, row.currency),
        "refunded": money_text(row.refunded_minor, row.currency),
    }
    if still_due and row.refunded_minor:
        status_text = (
            _("%(status)s: %(amount)s more than it now costs after the application was changed; %(refunded)s refunded")
            % values
        )
    elif still_due:
        status_text = _("%(status)s: %(amount)s more than it now costs after the application was changed") % values
    elif row.refund_due_minor:
        status_text = _("%(status)s: %(refunded)s refunded after the application was changed") % values
    elif row.refunded_minor:
        status_text = _("%(status)s: %(refunded)s refunded") % values
    return FeeLine(name=name, amount_text=money_text(row.amount_minor, row.currency), status_text=status_text)


@dataclass(frozen=True)
class Entry:
    """A history entry, message or note."""

    title: str
    actor: str
    author: str
    when_text: str
    when_iso: str
    detail: str
    paragraphs: list[str]


@dataclass(frozen=True)
class CounterLine:
    text: str
    when_text: str
    notes: str


@dataclass(frozen=True)
class ResultLine:
    result_id: str
    name: str
    number: str
    issued_text: str
    status: Tag
    download_href: str
    revoke_url: str


@dataclass(frozen=True)
class ProcessingLine:
    """A processing field a role filled in (never shown to the applicant)."""

    role_name: str
    label: str
    value: str


@dataclass(frozen=True)
class DeliveryLine:
    """An email or text message sent about the application (no address, no content)."""

    when_text: str
    channel: str
    purpose: str
    status: str


@dataclass(frozen=True)
class TaskPanel:
    task_id: uuid.UUID
    version: int
    role_name: str
    assignee_name: str
    due_text: str
    overdue: bool
    decide_url: str
    claim_url: str
    release_url: str
    assign_url: str
    claim_off: bool
    colleague_options: list[dict[str, Any]]


@dataclass(frozen=True)
class FilePage:
    """An application file as the file page, its print version and the forms around it show it."""

    file_id: uuid.UUID
    reference: str
    service_name: str
    version_number: int
    status: Tag
    submitted_text: str
    channel_text: str
    due_text: str
    overdue: bool
    expected_decision_text: str
    role_name: str
    answers: list[AnswerLine]
    documents: list[DocumentLine]
    fees: list[FeeLine]
    results: list[ResultLine]
    counter_records: list[CounterLine]
    history: list[Entry]
    messages: list[Entry]
    notes: list[Entry]
    task: TaskPanel | None
    no_task_text: str
    message_url: str
    message_closed_text: str
    note_url: str
    counter_url: str
    print_url: str
    decisions: list[str] = field(default_factory=list)
    deliveries: list[DeliveryLine] = field(default_factory=list)
    processing: list[ProcessingLine] = field(default_factory=list)
    payments: list[Any] = field(default_factory=list)  # records of payments' provider (casework.hooks)
    fees_only: bool = False  # finance staff's view: the summary, fees and payments (selectors.file_fees_view)


def money_text(pence: int, currency: str = "GBP") -> str:
    """Return an amount in minor units as people read it: £150, £12.50."""
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, f"{currency} ")
    pounds, rest = divmod(int(pence), 100)
    return f"{symbol}{pounds:,}" + (f".{rest:02d}" if rest else "")


def _paragraphs(text: str) -> list[str]:
    return [paragraph.strip() for paragraph in str(text or "").split("\n\n") if paragraph.strip()]


def _lines(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [line for line in str(value).split("\n") if line.strip()]


def file_status(view: FileView) -> Tag:
    """Return the tag of a file's state: its outcome once closed, else where it waits."""
    case_file = view.case_file
    if case_file.outcome:
        return Tag(text=str(case_file.get_outcome_display()), classes=_FILE_TAGS.get(str(case_file.outcome), ""))
    return Tag(text=str(case_file.get_state_display()), classes=_FILE_TAGS.get(str(case_file.state), ""))


def _entry(
    *, moment: dt.datetime, author: str, body: str = "", title: str = "", detail: str = "", language: str
) -> Entry:
    return Entry(
        title=title,
        actor=author,
        author=author,
        when_text=common.time_text(moment, language),
        when_iso=moment.isoformat(),
        detail=detail,
        paragraphs=_paragraphs(body),
    )


def _history_entry(row: HistoryRow, language: str) -> Entry:
    actor = row.actor
    if actor == "automatic":
        actor = _("Automatic decision")
    elif actor in ("citizen", "applicant"):
        actor = _("The applicant")
    elif actor == "system":
        actor = _("govserve")
    return _entry(moment=row.occurred_at, author=actor, title=row.label, detail=row.text, language=language)


def _message_entry(row: MessageRow, language: str) -> Entry:
    author = _("The applicant") if row.sender == "applicant" else row.author
    return _entry(moment=row.sent_at, author=author, body=row.body, language=language)


def _note_entry(row: NoteRow, language: str) -> Entry:
    return _entry(moment=row.written_at, author=row.author, body=row.body, language=language)


def overdue(due_on: dt.date | None) -> bool:
    """Return whether a due date has passed (in the service's local time)."""
    return due_on is not None and due_on < clock.now().astimezone(common.LOCAL_ZONE).date()


def task_panel(
    view: FileView, *, user: User, language: str, colleagues: list[Assignee], leads: bool = False
) -> TaskPanel | None:
    """Return the task box of the file page: who holds it, when it is due, what the person may do.

    ``leads``: the person is a team leader of the task's institution (may release and assign any open task).
    The buttons follow the services' rules; the services check them again.
    """
    task = view.open_task
    if task is None:
        return None
    pending = task.status == TaskStatus.PENDING
    mine = task.assignee_id == user.pk
    options: list[dict[str, Any]] = [{"value": "", "text": _("Choose a colleague")}]
    options += [{"value": str(person.user_id), "text": person.name} for person in colleagues]
    human = task.kind == "human"
    holder_may_assign = view.claiming and view.may_act and (pending or mine)
    return TaskPanel(
        task_id=task.id,
        version=task.version,
        role_name=view.seen_as_role_name,
        assignee_name=common.person_name(task.assignee) if task.assignee_id else "",
        due_text=common.date_text(task.due_on, language),
        overdue=overdue(task.due_on),
        decide_url=reverse("casework:decision", args=[task.id]) if view.may_act and human else "",
        claim_url=reverse("casework:task_claim", args=[task.id])
        if pending and view.claiming and view.may_act and human
        else "",
        release_url=reverse("casework:task_release", args=[task.id]) if task.assignee_id and (mine or leads) else "",
        assign_url=reverse("casework:task_assign", args=[task.id])
        if colleagues and human and (leads or holder_may_assign)
        else "",
        claim_off=pending and not view.claiming and human,
        colleague_options=options,
    )


def file_page(
    view: FileView,
    *,
    user: User,
    language: str,
    colleagues: list[Assignee] | None = None,
    results: list[ResultRow] | None = None,
    leads: bool = False,
) -> FilePage:
    """Return the file page of a selector's FileView."""
    case_file = view.case_file
    application = view.application
    flagged_fields = set(view.flagged_fields)
    flagged_documents = set(view.flagged_documents)
    corrects = set(view.corrects)
    may_act = view.may_act
    answers = [
        AnswerLine(
            field_id=row.field_id,
            label=row.label,
            lines=_lines(row.value),
            text=row.value,
            corrected=row.corrected_from is not None,
            original_text=row.corrected_from or "",
            correct_url=reverse("casework:correction", args=[case_file.id, row.field_id])
            if may_act and row.field_id in corrects
            else "",
            flagged=row.field_id in flagged_fields,
        )
        for row in view.answers
    ]
    documents = []
    counter_lines = []
    for row in view.documents:
        recorded = row.counter_kind is not None
        if recorded:
            detail = _("recorded at the counter")
        elif row.delivery == "upload":
            detail = "" if row.document_id else _("not uploaded")
        else:
            detail = _(_DELIVERY_TEXT.get(row.delivery, row.delivery))
        documents.append(
            DocumentLine(
                requirement_id=row.requirement_id,
                name=row.name,
                href=reverse("documents:download", args=[row.document_id]) if row.document_id else "",
                detail=detail,
                flagged=row.requirement_id in flagged_documents,
                needs_counter=row.delivery in COUNTER_DELIVERIES,
                counter_done=recorded,
                counter_kind="signed" if row.delivery == "sign_in_person" else "presented",
            )
        )
        if recorded:
            what = (
                _("signed in front of an operator") if row.counter_kind == "signed" else _("presented at the counter")
            )
            counter_lines.append(
                CounterLine(
                    text=f"{row.name}: {what}",
                    when_text=common.time_text(row.counter_recorded_at, language),
                    notes=row.counter_note,
                )
            )
    fees = [
        fee_line(row, service_id=case_file.service_id, version=case_file.version_number, language=language)
        for row in view.fees
    ]
    task = task_panel(view, user=user, language=language, colleagues=colleagues or [], leads=leads)
    open_file = case_file.state == "open"
    return FilePage(
        file_id=case_file.id,
        reference=case_file.reference,
        service_name=view.service_title,
        version_number=case_file.version_number,
        status=file_status(view),
        submitted_text=common.time_text(case_file.submitted_at, language),
        channel_text=str(application.get_channel_display()),
        due_text=task.due_text if task else "",
        overdue=task.overdue if task else False,
        expected_decision_text=common.date_text(view.expected_decision_on, language),
        role_name=view.seen_as_role_name,
        answers=answers,
        documents=documents,
        fees=fees,
        results=[result_line(row, file_id=case_file.id, language=language) for row in results or []],
        counter_records=counter_lines,
        history=[_history_entry(row, language) for row in reversed(view.history)],
        messages=[_message_entry(row, language) for row in view.messages],
        notes=[_note_entry(row, language) for row in view.notes],
        task=task,
        no_task_text=_("This application is waiting for the applicant to correct it.")
        if case_file.state == "sent_back"
        else _("No task is open: the application is closed."),
        message_url=reverse("casework:message_send", args=[case_file.id]) if may_act else "",
        message_closed_text="" if may_act else _("Only the person working on the open task can send messages."),
        note_url=reverse("casework:note_add", args=[case_file.id]) if may_act else "",
        counter_url=reverse("casework:counter", args=[case_file.id])
        if may_act and open_file and any(document.needs_counter for document in documents)
        else "",
        print_url=reverse("casework:file_print", args=[case_file.id]),
        decisions=list(view.decisions),
        deliveries=[delivery_line(row, language) for row in view.deliveries],
        payments=list(view.payments),
        fees_only=view.fees_only,
        processing=[
            ProcessingLine(
                role_name=names.role_name(case_file.service_id, row.role_id, language),
                label=row.label,
                value=row.value,
            )
            for row in view.processing
        ],
    )


def delivery_line(row: Any, language: str) -> DeliveryLine:
    """Return a notifications DeliveryRecord as the file page lists it (what, how, when, whether delivered)."""
    purpose = str(row.purpose)
    status = str(row.delivery_status_label or row.status_label)
    return DeliveryLine(
        when_text=common.time_text(row.sent_at or row.created_at, language),
        channel=_(_CHANNELS[row.channel]) if row.channel in _CHANNELS else str(row.channel),
        purpose=_(_MESSAGE_PURPOSES[purpose]) if purpose in _MESSAGE_PURPOSES else purpose.replace("_", " "),
        status=status,
    )


def result_line(row: ResultRow, *, file_id: uuid.UUID, language: str) -> ResultLine:
    """Return a result as the file page lists it."""
    revoked = row.status == "revoked"
    classes = {"valid": "govuk-tag--green", "revoked": "govuk-tag--red"}.get(row.status, "govuk-tag--grey")
    return ResultLine(
        result_id=str(row.id),
        name=row.name,
        number=row.number,
        issued_text=common.date_text(row.issued_on, language),
        status=Tag(text=row.status_label, classes=classes),
        download_href=row.download_url,
        revoke_url="" if revoked else reverse("casework:result_revoke", args=[file_id, row.id]),
    )
