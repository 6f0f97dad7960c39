"""The service definition language: pydantic models of a definition file.

One service per YAML file (:class:`ServiceDefinition`); reusable option lists
live in catalogue files (:class:`CatalogueFile`) and are referenced by id.
Every model forbids unknown keys (a typo is an error, never silently ignored)
and is strict (``"12"`` is not a number, ``12`` is not text): YAML's implicit
typing surprises authors (``no`` is a boolean), so we refuse rather than guess.

These models check the *shape* of a definition. What needs the whole
definition (ids unique, references resolve, CEL compiles and type-checks, the
page graph has no dead ends) is :mod:`govserve.catalogue.definitions.validate`.

Conditions and formulas are CEL expressions (:data:`Expression`); the names
they read are field ids and determinant ids, used bare (``age(date_of_birth)
>= 18``). Money is always an integer number of minor units (pence), never a
float.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

SCHEMA_VERSION = 1
"""The only ``schema_version`` this release reads."""

CHECK_ANSWERS = "check-answers"
"""The route target that ends the question pages: check your answers, then submit."""

# --- Identifiers -------------------------------------------------------------

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
SLUG_PATTERN = r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"
DURATION_PATTERN = r"^P(?:\d+Y(?:\d+M)?(?:\d+W)?(?:\d+D)?|\d+M(?:\d+W)?(?:\d+D)?|\d+W(?:\d+D)?|\d+D)$"
DATE_BOUND_PATTERN = r"^(?:today|tomorrow|yesterday|\d{4}-\d{2}-\d{2})$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
REGION_PATTERN = r"^[A-Z]{2}$"

Name = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN, max_length=64),
    Field(description="A CEL name: lower-case letters, digits and underscores, starting with a letter."),
]
"""A field or determinant id: used bare inside CEL, so it must be a CEL identifier."""

Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN, max_length=64),
    Field(description="An id: lower-case letters and digits, words joined by '-' or '_'."),
]
"""The id of a page, role, registration, document, fee, result, catalogue, service or institution."""

Expression = Annotated[
    str,
    StringConstraints(min_length=1, max_length=4000),
    Field(description="A CEL expression over field ids and determinant ids."),
]
"""A CEL expression (conditions are boolean; fee formulas are integers in minor units)."""

Duration = Annotated[
    str,
    StringConstraints(pattern=DURATION_PATTERN),
    Field(description="An ISO 8601 period in years, months, weeks and days: P6Y, P18M, P90D."),
]

DateBound = Annotated[
    str,
    StringConstraints(pattern=DATE_BOUND_PATTERN),
    Field(description="'today', 'tomorrow', 'yesterday' or a date YYYY-MM-DD."),
]

Classification = Literal["public", "personal", "special_category"]
"""How sensitive a field's answer is; ``special_category`` is UK GDPR article 9 data."""

Language = Literal["en", "cy"]
"""A language a service's text can be written in (English and Welsh; extend as services need)."""

FieldType = Literal[
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "yes_no",
    "radios",
    "checkboxes",
    "select",
    "email",
    "phone",
    "postcode",
    "address",
    "file",
    "group",
]

FILE_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "heic": "image/heic",
    "tiff": "image/tiff",
    "txt": "text/plain",
    "csv": "text/csv",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
"""File types an upload may accept, by extension, with the content type each one means."""

FileTypeName = Literal[
    "pdf", "jpg", "jpeg", "png", "gif", "heic", "tiff", "txt", "csv", "odt", "ods", "doc", "docx", "xls", "xlsx"
]

MAX_UPLOAD_MB = 100
MAX_MONEY = 10**12
"""The largest amount of money a definition may state, in minor units (10 billion pounds)."""


class DefinitionModel(BaseModel):
    """The base of every definition model: unknown keys refused, no type coercion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        # Definitions are immutable, so a copy may be the object itself. Pydantic deep-copies
        # model defaults (``validation: TextValidation = TextValidation()``) for every field
        # otherwise, which was a tenth of the time of checking a large definition.
        return self


# --- Text in several languages -----------------------------------------------


class LocalisedText(DefinitionModel):
    """Text shown to people, in English and optionally Welsh.

    Write plain text for English only (``title: Apply for a licence``) or a
    mapping by language (``title: {en: Apply for a licence, cy: Gwneud cais am
    drwydded}``).
    """

    en: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    cy: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain_text(cls, value: Any) -> Any:
        return {"en": value} if isinstance(value, str) else value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        object_schema = handler(core_schema)
        return {
            "anyOf": [{"type": "string", "minLength": 1}, object_schema],
            "description": "Text: plain (English) or a mapping by language, e.g. {en: Name, cy: Enw}.",
        }

    def get(self, language: str) -> str:
        """Return the text in ``language``, falling back to English."""
        if language == "cy" and self.cy is not None:
            return self.cy
        return self.en


# --- Validation of answers ---------------------------------------------------


class Rule(DefinitionModel):
    """A custom validation rule: the answer is valid when ``expression`` is true."""

    expression: Expression
    message: LocalisedText


class TextMessages(DefinitionModel):
    """Error messages replacing the defaults for text-like fields."""

    required: LocalisedText | None = None
    min_length: LocalisedText | None = None
    max_length: LocalisedText | None = None
    pattern: LocalisedText | None = None
    format: LocalisedText | None = Field(
        default=None, description="Shown when an email, phone number or postcode is not in the right format."
    )


class TextValidation(DefinitionModel):
    """Validation of text, long text, email, phone and postcode answers."""

    required: bool = True
    min_length: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_length: Annotated[int, Field(ge=1, le=100_000)] | None = None
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="A regular expression (the Python regex module's syntax) the whole answer must match."
    )
    rules: list[Rule] = []
    messages: TextMessages = TextMessages()


class NumberMessages(DefinitionModel):
    """Error messages replacing the defaults for number and money fields."""

    required: LocalisedText | None = None
    min: LocalisedText | None = None
    max: LocalisedText | None = None
    format: LocalisedText | None = None


class NumberValidation(DefinitionModel):
    """Validation of a number answer."""

    required: bool = True
    min: int | float | None = None
    max: int | float | None = None
    rules: list[Rule] = []
    messages: NumberMessages = NumberMessages()


class MoneyValidation(DefinitionModel):
    """Validation of an amount of money, in minor units (pence)."""

    required: bool = True
    min: Annotated[int, Field(ge=0, le=MAX_MONEY)] | None = None
    max: Annotated[int, Field(ge=0, le=MAX_MONEY)] | None = None
    rules: list[Rule] = []
    messages: NumberMessages = NumberMessages()


class DateMessages(DefinitionModel):
    """Error messages replacing the defaults for date fields."""

    required: LocalisedText | None = None
    format: LocalisedText | None = None
    before: LocalisedText | None = None
    after: LocalisedText | None = None
    min_age: LocalisedText | None = None
    max_age: LocalisedText | None = None


class DateValidation(DefinitionModel):
    """Validation of a date: strictly ``before``/``after`` a bound, and ages for dates of birth."""

    required: bool = True
    before: DateBound | None = None
    after: DateBound | None = None
    min_age: Annotated[int, Field(ge=0, le=150)] | None = Field(
        default=None, description="The date, as a date of birth, gives an age of at least this many years today."
    )
    max_age: Annotated[int, Field(ge=0, le=150)] | None = None
    rules: list[Rule] = []
    messages: DateMessages = DateMessages()


class ChoiceMessages(DefinitionModel):
    """Error messages replacing the defaults for yes/no, radios and select fields."""

    required: LocalisedText | None = None


class ChoiceValidation(DefinitionModel):
    """Validation of a single choice."""

    required: bool = True
    rules: list[Rule] = []
    messages: ChoiceMessages = ChoiceMessages()


class CheckboxesMessages(DefinitionModel):
    """Error messages replacing the defaults for checkboxes."""

    required: LocalisedText | None = None
    min_selected: LocalisedText | None = None
    max_selected: LocalisedText | None = None


class CheckboxesValidation(DefinitionModel):
    """Validation of several choices."""

    required: bool = True
    min_selected: Annotated[int, Field(ge=1, le=1000)] | None = None
    max_selected: Annotated[int, Field(ge=1, le=1000)] | None = None
    rules: list[Rule] = []
    messages: CheckboxesMessages = CheckboxesMessages()


class AddressMessages(DefinitionModel):
    """Error messages replacing the defaults for addresses."""

    required: LocalisedText | None = None
    line1: LocalisedText | None = None
    town: LocalisedText | None = None
    postcode: LocalisedText | None = None


class AddressValidation(DefinitionModel):
    """Validation of an address (line 1 and town always; a UK postcode unless international)."""

    required: bool = True
    rules: list[Rule] = []
    messages: AddressMessages = AddressMessages()


class FileMessages(DefinitionModel):
    """Error messages replacing the defaults for file uploads."""

    required: LocalisedText | None = None
    max_size_mb: LocalisedText | None = None
    types: LocalisedText | None = None


class FileValidation(DefinitionModel):
    """Validation of an uploaded file: its size and type."""

    required: bool = True
    max_size_mb: Annotated[int, Field(ge=1, le=MAX_UPLOAD_MB)] = 10
    types: Annotated[list[FileTypeName], Field(min_length=1)] = ["pdf", "jpg", "png"]
    rules: list[Rule] = []
    messages: FileMessages = FileMessages()


class GroupMessages(DefinitionModel):
    """Error messages replacing the defaults for a repeating group."""

    min_items: LocalisedText | None = None
    max_items: LocalisedText | None = None


class GroupValidation(DefinitionModel):
    """Validation of a repeating group: how many items it must have."""

    min_items: Annotated[int, Field(ge=0, le=1000)] = 1
    max_items: Annotated[int, Field(ge=1, le=1000)] = 10
    rules: list[Rule] = []
    messages: GroupMessages = GroupMessages()


# --- Fields ------------------------------------------------------------------


class Option(DefinitionModel):
    """One answer a radios, checkboxes or select field offers."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label: LocalisedText
    hint: LocalisedText | None = None
    exclusive: bool = Field(default=False, description="Checkboxes only: 'none of these', unticks the others.")


class FieldBase(DefinitionModel):
    """What every field has: an id (a CEL name), a label and a data classification."""

    id: Name
    label: LocalisedText
    short_label: LocalisedText | None = Field(
        default=None,
        description="How default error messages name the answer, e.g. 'your date of birth'.",
    )
    hint: LocalisedText | None = None
    when: Expression | None = Field(default=None, description="Ask this field only when the expression is true.")
    classification: Classification


class TextField(FieldBase):
    """A single line of text."""

    type: Literal["text"]
    autocomplete: Annotated[str, StringConstraints(pattern=r"^[a-z0-9 -]+$", max_length=64)] | None = None
    validation: TextValidation = TextValidation()


class LongTextField(FieldBase):
    """Several lines of text (a textarea with a character count)."""

    type: Literal["long_text"]
    validation: TextValidation = TextValidation()


class NumberField(FieldBase):
    """A number: whole unless ``decimal_places`` is set."""

    type: Literal["number"]
    decimal_places: Annotated[int, Field(ge=0, le=6)] = 0
    validation: NumberValidation = NumberValidation()


class MoneyField(FieldBase):
    """An amount of money in the service's currency, stored in minor units."""

    type: Literal["money"]
    validation: MoneyValidation = MoneyValidation()


class DateField(FieldBase):
    """A date (day, month, year)."""

    type: Literal["date"]
    validation: DateValidation = DateValidation()


class YesNoField(FieldBase):
    """A yes or no question."""

    type: Literal["yes_no"]
    validation: ChoiceValidation = ChoiceValidation()


class RadiosField(FieldBase):
    """One answer from a short list: give ``options`` or ``options_from`` a catalogue id."""

    type: Literal["radios"]
    options: list[Option] | None = None
    options_from: Slug | None = None
    validation: ChoiceValidation = ChoiceValidation()


class SelectField(FieldBase):
    """One answer from a long list (a select, or an autocomplete with JavaScript)."""

    type: Literal["select"]
    options: list[Option] | None = None
    options_from: Slug | None = None
    validation: ChoiceValidation = ChoiceValidation()


class CheckboxesField(FieldBase):
    """Any number of answers from a list."""

    type: Literal["checkboxes"]
    options: list[Option] | None = None
    options_from: Slug | None = None
    validation: CheckboxesValidation = CheckboxesValidation()


class EmailField(FieldBase):
    """An email address."""

    type: Literal["email"]
    validation: TextValidation = TextValidation()


class PhoneField(FieldBase):
    """A telephone number, stored in E.164 form (national numbers read in the service's phone region)."""

    type: Literal["phone"]
    validation: TextValidation = TextValidation()


class PostcodeField(FieldBase):
    """A UK postcode."""

    type: Literal["postcode"]
    validation: TextValidation = TextValidation()


class AddressField(FieldBase):
    """A postal address; UK unless ``international`` is true."""

    type: Literal["address"]
    international: bool = False
    validation: AddressValidation = AddressValidation()


class FileField(FieldBase):
    """A file upload."""

    type: Literal["file"]
    validation: FileValidation = FileValidation()


class GroupField(FieldBase):
    """A repeating group ("add another"): a list of items, each answering ``fields``.

    In CEL the group is a list of maps keyed by child field id
    (``children.map(c, c.date_of_birth)``); inside the group's own child
    fields, sibling answers of the same item are available bare.
    """

    type: Literal["group"]
    item_label: LocalisedText = Field(description="What one item is called, e.g. 'child' (for 'Add another child').")
    fields: Annotated[list[FieldDefinition], Field(min_length=1)]
    validation: GroupValidation = GroupValidation()


FieldDefinition = Annotated[
    TextField
    | LongTextField
    | NumberField
    | MoneyField
    | DateField
    | YesNoField
    | RadiosField
    | SelectField
    | CheckboxesField
    | EmailField
    | PhoneField
    | PostcodeField
    | AddressField
    | FileField
    | GroupField,
    Field(discriminator="type"),
]
"""Any field, chosen by its ``type``."""

AnyField = (
    TextField
    | LongTextField
    | NumberField
    | MoneyField
    | DateField
    | YesNoField
    | RadiosField
    | SelectField
    | CheckboxesField
    | EmailField
    | PhoneField
    | PostcodeField
    | AddressField
    | FileField
    | GroupField
)
ChoiceField = RadiosField | SelectField | CheckboxesField

GroupField.model_rebuild()


# --- Pages -------------------------------------------------------------------


class Route(DefinitionModel):
    """Where to go after a page: to ``goto`` when ``when`` is true (always, without ``when``)."""

    when: Expression | None = None
    goto: Slug = Field(description=f"A page id, or '{CHECK_ANSWERS}' to finish the questions.")


class Page(DefinitionModel):
    """One page of the citizen journey (one thing per page, by default).

    The journey shows pages in list order. A page whose ``when`` is false is
    skipped (the journey goes on to the next page in the list). After a page,
    the first ``next`` route whose ``when`` is true wins; without one the
    journey goes on to the next page in the list, and after the last page to
    check your answers. An ``exit`` page ends the journey (e.g. "You cannot
    apply for this licence"): it has content but no fields and no routes.
    """

    id: Slug
    title: LocalisedText
    body: LocalisedText | None = None
    when: Expression | None = None
    fields: list[FieldDefinition] = []
    next: list[Route] = []
    exit: bool = False


# --- Determinants ------------------------------------------------------------


class Determinant(DefinitionModel):
    """A named condition: one CEL expression, which may use other determinants by name."""

    id: Name
    expression: Expression
    description: str | None = None


# --- Registrations (GovStack sense) -----------------------------------------

DeliveryMode = Literal["upload", "counter", "sign_in_person"]
PaymentTime = Literal["before_submission", "after_decision", "on_collection"]


class Document(DefinitionModel):
    """A document the applicant provides, when ``when`` is true (always without it).

    ``delivery``: ``upload`` it in the journey, bring it to the ``counter``, or
    ``sign_in_person`` in front of an operator. The same document id in two
    registrations is asked for once.
    """

    id: Slug
    name: LocalisedText
    description: LocalisedText | None = None
    when: Expression | None = None
    delivery: DeliveryMode = "upload"
    types: Annotated[list[FileTypeName], Field(min_length=1)] = ["pdf", "jpg", "png"]
    max_size_mb: Annotated[int, Field(ge=1, le=MAX_UPLOAD_MB)] = 10


class Fee(DefinitionModel):
    """A fee: a fixed ``amount`` or a CEL ``formula``, both in minor units (pence)."""

    id: Slug
    name: LocalisedText
    amount: Annotated[int, Field(ge=0, le=MAX_MONEY)] | None = None
    formula: Expression | None = Field(
        default=None, description="A CEL expression giving an int in minor units; divide with round_half_up."
    )
    when: Expression | None = None
    paid: PaymentTime = "before_submission"


class Result(DefinitionModel):
    """What a registration issues (a licence, a certificate), from a template."""

    id: Slug
    name: LocalisedText
    template: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="Path of the certificate template, relative to the definition file."
    )
    when: Expression | None = None
    valid_for: Duration | None = None
    holder_name: list[Name] = Field(
        default=[],
        description="The fields whose answers, joined by spaces, name the holder (result.holder_name in the template).",
    )
    show_holder_name: bool = Field(
        default=False, description="Show the holder's name on the public verification page (/verify/<code>)."
    )


class Registration(DefinitionModel):
    """A registration (GovStack sense): what the applicant obtains from an institution.

    ``mandatory``: ``true`` (everyone takes it), ``false`` (the applicant may
    choose it) or a CEL expression (mandatory where true, optional where false).
    ``when``: offered at all only where true. A document that an earlier
    registration's result produces (same id) is not asked for again.
    """

    id: Slug
    name: LocalisedText
    description: LocalisedText | None = None
    institution: Slug
    mandatory: bool | Expression = True
    when: Expression | None = None
    documents: list[Document] = []
    fees: list[Fee] = []
    results: list[Result] = []


# --- Processing flow ----------------------------------------------------------

Decision = Literal["approve", "reject", "send_back"]


class Decisions(DefinitionModel):
    """The decisions a role may record, and where each leads.

    A target is a role id, ``next`` (the next role in the list whose ``when``
    holds, or the end), ``applicant`` (sent back for correction) or ``end``.
    """

    approve: Slug | None = None
    reject: Slug | None = None
    send_back: Slug | None = None

    def items(self) -> Iterator[tuple[Decision, str]]:
        """Yield each allowed decision with its target."""
        if self.approve is not None:
            yield "approve", self.approve
        if self.reject is not None:
            yield "reject", self.reject
        if self.send_back is not None:
            yield "send_back", self.send_back


FLOW_TARGETS = frozenset({"next", "applicant", "end"})
"""Decision targets that are not role ids."""


class Role(DefinitionModel):
    """A step of processing, done by people (``human``) or by rules (``bot``).

    Roles run in list order. A role whose ``when`` is false is skipped. A bot
    role's ``rule`` is a boolean CEL expression: true records ``on_true``,
    false records ``on_false``. ``sees`` lists the answers (field ids) the role
    may see; omitted, it sees them all.
    """

    id: Slug
    name: LocalisedText
    kind: Literal["human", "bot"] = "human"
    institution: Slug
    when: Expression | None = None
    sla_working_days: Annotated[int, Field(ge=1, le=365)] | None = None
    decisions: Decisions
    fields: list[FieldDefinition] = Field(default=[], description="Processing fields the role fills in.")
    sees: list[Name] | None = None
    corrects: list[Name] = Field(
        default=[], description="Answers (field ids) the role's staff may correct; none by default."
    )
    rule: Expression | None = None
    on_true: Decision = "approve"
    on_false: Decision = "reject"


class FlowMessages(DefinitionModel):
    """The applicant-staff message thread of a file."""

    applicant_can_start: bool = Field(
        default=True, description="Whether the applicant may write first; false: only a reply to staff."
    )


class Flow(DefinitionModel):
    """How a submitted application is processed: the roles, in order.

    ``claiming`` false: staff never pick work from the pool themselves, a team
    leader (or a colleague) assigns it.
    """

    roles: Annotated[list[Role], Field(min_length=1)]
    claiming: bool = Field(default=True, description="Whether staff claim tasks from the pool (else work is assigned).")
    messages: FlowMessages = FlowMessages()


# --- Notifications -----------------------------------------------------------


class EmailTemplate(DefinitionModel):
    """An email, GOV.UK Notify style: ``((placeholder))`` and ``((flag??optional text))``."""

    subject: LocalisedText
    body: LocalisedText


class SmsTemplate(DefinitionModel):
    """A text message, GOV.UK Notify style."""

    body: LocalisedText


class EventTemplates(DefinitionModel):
    """What to send when an event happens."""

    email: EmailTemplate | None = None
    sms: SmsTemplate | None = None


NotificationEvent = Literal[
    "submitted",
    "sent_back",
    "decision_made",
    "message_received",
    "draft_expiring",
    "payment_received",
    "result_issued",
]


class Notifications(DefinitionModel):
    """Templates per event; an event without templates sends nothing.

    ``sms_to`` names the phone field (outside any group) whose answer text
    messages go to; without it no text message is sent.
    """

    sms_to: Name | None = Field(
        default=None, description="The phone field whose answer receives the text messages (sms templates)."
    )
    submitted: EventTemplates | None = None
    sent_back: EventTemplates | None = None
    decision_made: EventTemplates | None = None
    message_received: EventTemplates | None = None
    draft_expiring: EventTemplates | None = None
    payment_received: EventTemplates | None = None
    result_issued: EventTemplates | None = None

    def items(self) -> Iterator[tuple[NotificationEvent, EventTemplates]]:
        """Yield each event that has templates."""
        for event in NOTIFICATION_EVENTS:
            templates = getattr(self, event)
            if templates is not None:
                yield event, templates


NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = (
    "submitted",
    "sent_back",
    "decision_made",
    "message_received",
    "draft_expiring",
    "payment_received",
    "result_issued",
)


# --- Data protection ----------------------------------------------------------


LawfulBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"
]
"""The UK GDPR article 6 basis the service processes personal data on."""


class Processor(DefinitionModel):
    """Someone who processes the service's personal data on the institution's behalf (a supplier, a partner)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    purpose: LocalisedText
    location: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Where the data is processed (country or region), e.g. United Kingdom."
    )


class DataProtection(DefinitionModel):
    """Why the service collects personal data, on what basis, and who else processes it (the privacy notice).

    ``special_category_condition`` is the UK GDPR article 9 condition, for a
    service with ``special_category`` fields. The data-protection report
    (docs/privacy.md) lists these with the fields' classification and the
    service's retention; the platform's own processors (email, SMS,
    payments) are added from its configuration.
    """

    purpose: LocalisedText
    lawful_basis: LawfulBasis
    special_category_condition: LocalisedText | None = None
    processors: list[Processor] = []


# --- The service --------------------------------------------------------------


class StartPage(DefinitionModel):
    """The start page: what the service is for, and what to have ready."""

    body: LocalisedText
    before_you_start: LocalisedText | None = None


class ServiceDefinition(DefinitionModel):
    """One service: metadata, pages, determinants, registrations, flow, notifications.

    ``retention`` is how long the application file is kept after it is closed
    (an ISO 8601 period: ``P6Y``); ``retention_action`` is what the retention
    job then does to it (``anonymise``, the default, or ``delete``; see
    docs/privacy.md, "Retention"). The ``integrations`` key is reserved until
    connectors exist and is refused.
    """

    schema_version: Literal[1]
    id: Slug
    title: LocalisedText
    summary: LocalisedText
    institution: Slug
    time_zone: str = "Europe/London"
    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] = "GBP"
    phone_region: Annotated[str, StringConstraints(pattern=REGION_PATTERN)] = Field(
        default="GB", description="Where national phone numbers are read (ISO 3166 region)."
    )
    languages: Annotated[list[Language], Field(min_length=1)] = ["en"]
    sign_in: Literal["required", "anonymous"]
    draft_expiry_days: Annotated[int, Field(ge=1, le=365)] = 28
    retention: Duration
    retention_action: Literal["delete", "anonymise"] = Field(
        default="anonymise",
        description=(
            "What the retention job does to a file once its retention has passed since it closed: "
            "anonymise (keep an anonymised record for the statistics) or delete (remove the file's record too)."
        ),
    )
    start_page: StartPage
    determinants: list[Determinant] = []
    pages: Annotated[list[Page], Field(min_length=1)]
    registrations: list[Registration] = []
    flow: Flow
    notifications: Notifications = Notifications()
    data_protection: DataProtection | None = Field(
        default=None, description="Purpose, lawful basis and processors of the personal data (privacy notice)."
    )

    def iter_fields(self) -> Iterator[tuple[tuple[str | int, ...], AnyField]]:
        """Yield every field (pages, group children, role fields) with its path, in file order."""
        for page_index, page in enumerate(self.pages):
            yield from _iter_fields(("pages", page_index, "fields"), page.fields)
        for role_index, role in enumerate(self.flow.roles):
            yield from _iter_fields(("flow", "roles", role_index, "fields"), role.fields)

    def referenced_catalogues(self) -> set[str]:
        """Return the ids of the catalogues the fields take their options from."""
        return {
            field.options_from
            for _, field in self.iter_fields()
            if isinstance(field, RadiosField | SelectField | CheckboxesField) and field.options_from is not None
        }


def _iter_fields(
    path: tuple[str | int, ...], fields: list[AnyField]
) -> Iterator[tuple[tuple[str | int, ...], AnyField]]:
    for index, field in enumerate(fields):
        yield (*path, index), field
        if isinstance(field, GroupField):
            yield from _iter_fields((*path, index, "fields"), field.fields)


# --- Catalogues ---------------------------------------------------------------


class Catalogue(DefinitionModel):
    """A reusable list of options (countries, nationalities), referenced by ``options_from``."""

    id: Slug
    title: LocalisedText
    options: Annotated[list[Option], Field(min_length=1)]


class CatalogueFile(DefinitionModel):
    """A file of catalogues: ``schema_version`` and ``catalogues``."""

    schema_version: Literal[1]
    catalogues: Annotated[list[Catalogue], Field(min_length=1)]
