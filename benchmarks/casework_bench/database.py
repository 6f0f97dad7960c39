"""The casework benchmark's database work, run in a child process with the server's production environment.

``python -m benchmarks.casework_bench.database ACTION IN.json`` prints one result
line (``CASEWORK-DB {json}``) and exits 1 when a check found a problem.

``prepare``: migrate, create the institutions, the staff (password and an
authenticator app each, the street-lighting engineer's role at Westmoor City
Council) and ``tasks`` open tasks. One street light report is made through
the real services (anonymous start, the five question pages, "Accept and
send", the file opened by the submission hook, the triage bot's decision by
:func:`~govserve.casework.services.decision_record_automatic` as the worker
runs it), which leaves the engineer's task waiting in the pool. Every row
that report wrote to the journey, case file, key and audit tables is then
copied ``tasks - 1`` times in bulk: new ids, reference, access token hash and
data key (wrapped by the KEK like :func:`~govserve.privacy.crypto.seal`
wraps it), each sealed value opened with the template's key and sealed again
for the copy's owner and field, timestamps moved to the copy's submission
time (spread over the last 60 days) and the due dates computed by the SLA
code for that day. Outbox rows (the emails to the applicant, the bot's done
job) are not copied: no page reads them. A sample of copies is then opened
through the real selectors (the queue, the file view with its answers
unsealed) and compared with the template.

``verify``: after the decisions, check that every acknowledged decision is
recorded exactly once (task done once, one decision row, one
``decision_recorded`` case event, the file closed approved, one applicant
status change) and that nothing else was decided.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

RESULT_MARKER = "CASEWORK-DB "
INSTITUTIONS = {
    "city-council": "Westmoor City Council",
    "health-agency": "National Health Registration Agency",
    "civil-registry": "Civil Registration Office",
}
SERVICE_ID = "report-street-light"
ROLE_ID = "street-lighting-engineer"
INSTITUTION = "city-council"
FORMS: dict[str, dict[str, list[str]]] = {
    "private-land": {"on_private_land": ["no"]},
    "problem": {"problem": ["damaged"], "exposed_wires": ["yes"]},
    "location": {
        "lamp_post_number": ["WM-04512"],
        "street": ["Babbage Street"],
        "postcode": [""],
        "location_details": ["Opposite number 12"],
    },
    "photo": {},
    "your-details": {
        "reporter_name": ["Charles Babbage"],
        "reporter_email": ["charles.babbage@example.org"],
        "reporter_phone": [""],
        "contact_preference": ["email"],
    },
}
CLONED_APPS = {"journeys", "casework", "privacy", "audit"}
BATCH = 500
SPREAD_DAYS = 60
SAMPLE = 20


def _template() -> uuid.UUID:
    """Make one street light report through the real services up to the engineer's waiting task; return its id."""
    from govserve.casework.models import Task, TaskStatus  # noqa: PLC0415
    from govserve.casework.services import decision_record_automatic  # noqa: PLC0415
    from govserve.journeys import services as journeys  # noqa: PLC0415
    from govserve.journeys.access import Applicant  # noqa: PLC0415

    started = journeys.application_start(
        service_id=SERVICE_ID, applicant=Applicant(), language="en", contact_email="charles.babbage@example.org"
    )
    application = started.application
    person = Applicant(granted=frozenset({application.id}))
    for page_id, form in FORMS.items():
        journeys.page_answers_save(
            application_id=application.id, applicant=person, page_id=page_id, data=form, language="en"
        )
    journeys.application_submit(
        application_id=application.id,
        applicant=person,
        idempotency_key=secrets.token_urlsafe(16),
        declaration_accepted=True,
        language="en",
    )
    bot = Task.objects.get(application=application, status=TaskStatus.PENDING, kind="bot")
    decision_record_automatic(task_id=bot.id)
    waiting = Task.objects.get(application=application, status=TaskStatus.PENDING)
    if waiting.role_id != ROLE_ID:
        msg = f"the template's open task is {waiting.role_id}, not {ROLE_ID}"
        raise RuntimeError(msg)
    return application.id


def _snapshot() -> dict[Any, set[Any]]:
    from django.apps import apps  # noqa: PLC0415

    return {model: set(model._default_manager.values_list("pk", flat=True)) for model in apps.get_models()}


class _Cloner:
    """Copies the template's rows with new ids, references, keys, sealed values, times and due dates.

    Each column of each template row is planned once (:meth:`_plan`): copied
    as it is, mapped (an id of the template), moved (a time), recomputed (a
    due date), rewritten (a text or JSON naming the template's ids or
    reference), sealed again, or drawn anew (a token hash, a key); each copy
    then only runs the plan, and the rows go in as raw batches (COPY on
    PostgreSQL), with the values prepared by the model fields themselves.
    """

    def __init__(self, rows: dict[Any, list[Any]], application_id: uuid.UUID) -> None:
        from django.db import connection  # noqa: PLC0415

        from govserve.accounts.models import Institution  # noqa: PLC0415
        from govserve.casework.sla import due_on, expected_decision_on, service_today  # noqa: PLC0415
        from govserve.catalogue.selectors import published_version_load  # noqa: PLC0415
        from govserve.journeys.models import Application  # noqa: PLC0415
        from govserve.privacy.keys import key_ring  # noqa: PLC0415
        from govserve.privacy.models import DataKey  # noqa: PLC0415

        self.connection = connection
        self.rows = rows
        self.application = Application.objects.get(pk=application_id)
        self.owner = self.application.crypto_owner
        self.uuids = sorted({str(row.pk) for found in rows.values() for row in found if isinstance(row.pk, uuid.UUID)})
        submitted_at = self.application.submitted_at
        assert submitted_at is not None
        self.submitted_at = submitted_at
        self.definition = published_version_load(SERVICE_ID).definition
        self.data_key_pk = str(DataKey.objects.get(owner=self.owner).pk)
        self.data_key_model = DataKey
        self.kek = key_ring().current
        self.institution = Institution.objects.get(code=INSTITUTION)
        self.role = next(r for r in self.definition.flow.roles if r.id == ROLE_ID)
        self.due_on, self.expected_decision_on, self.service_today = due_on, expected_decision_on, service_today
        day = service_today(self.definition, at=submitted_at)
        self.template_due = due_on(self.role, self.institution, day)
        self.template_expected = expected_decision_on(
            current_due=self.template_due, start=day, roles_ahead=[], institutions={}
        )
        self.references: set[str] = set()
        self.plans = {model: [self._plan(model, row) for row in found] for model, found in rows.items()}

    def _olds(self, text: str) -> list[str]:
        found = [old for old in self.uuids if old in text]
        if self.application.reference in text:
            found.append(self.application.reference)
        return found

    def _sealed_field(self, row: Any, name: str) -> str:
        label = f"{row._meta.label}.{name}"
        if label == "journeys.Answer.value_sealed":
            from govserve.journeys.answers import answer_field_name  # noqa: PLC0415

            return str(answer_field_name(row.field_id))
        if label == "journeys.Application.contact_email_sealed":
            return "contact_email"
        if label == "casework.Decision.reason_sealed":
            return f"casework.decision.{row.pk}.reason"
        msg = f"a sealed value the benchmark does not know how to copy: {label}"
        raise RuntimeError(msg)

    def _plan(self, model: Any, row: Any) -> list[tuple[Any, str, Any]]:  # noqa: PLR0912 - one kind per column
        """Return, for each column to insert, (field, operation, data)."""
        from django.db import models  # noqa: PLC0415

        from govserve.privacy.crypto import unseal  # noqa: PLC0415

        plan: list[tuple[Any, str, Any]] = []
        for field in model._meta.concrete_fields:
            value = getattr(row, field.attname)
            if field.primary_key and not isinstance(value, uuid.UUID):
                continue  # the database numbers it
            if value is None:
                plan.append((field, "const", None))
            elif model is self.data_key_model and field.name in {"owner", "wrapped_key", "kek_id"}:
                if row.owner != self.owner:
                    msg = f"a data key of another owner: {row.owner}"
                    raise RuntimeError(msg)
                plan.append((field, "key." + field.name, None))
            elif isinstance(field, models.BinaryField):
                name = self._sealed_field(row, field.name)
                plain = unseal(owner=self.owner, field=name, sealed=bytes(value))
                plan.append((field, "seal", (name, self._olds(name), plain)))
            elif isinstance(value, uuid.UUID):
                plan.append((field, "uuid", str(value)) if str(value) in self.uuids else (field, "const", value))
            elif isinstance(field, models.DateTimeField):
                plan.append((field, "moved", value))
            elif isinstance(field, models.DateField):
                if value == self.template_due:
                    plan.append((field, "due", None))
                elif value == self.template_expected:
                    plan.append((field, "expected", None))
                else:
                    msg = f"a date the benchmark does not know how to move: {model._meta.label}.{field.name}"
                    raise RuntimeError(msg)
            elif isinstance(field, models.JSONField):
                text = json.dumps(value)
                olds = self._olds(text)
                plan.append((field, "json", (text, olds)) if olds else (field, "const", value))
            elif isinstance(value, str) and field.name == "access_token_hash":
                plan.append((field, "token_hash", None))
            elif isinstance(value, str) and field.name in {"start_key", "submit_key"} and value:
                plan.append((field, "random_key", None))
            elif isinstance(value, str) and self._olds(value):
                plan.append((field, "text", (value, self._olds(value))))
            else:
                plan.append((field, "const", value))
        return plan

    def copies(self, count: int, now: dt.datetime, first_number: int) -> dict[Any, list[list[Any]]]:  # noqa: PLR0912, PLR0915 - one plan, run per copy
        """Return ``count`` copies of every template row as prepared column values, by model."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        from govserve.core.ids import new_reference  # noqa: PLC0415
        from govserve.privacy import crypto  # noqa: PLC0415

        connection = self.connection
        out: dict[Any, list[list[Any]]] = defaultdict(list)
        day_cache: dict[dt.date, tuple[Any, Any]] = {}
        for n in range(count):
            number = first_number + n
            submitted = now - dt.timedelta(seconds=(number * 7919) % (SPREAD_DAYS * 86400) + 3600)
            delta = submitted - self.submitted_at
            day = self.service_today(self.definition, at=submitted)
            if day not in day_cache:
                due = self.due_on(self.role, self.institution, day)
                expected = self.expected_decision_on(current_due=due, start=day, roles_ahead=[], institutions={})
                day_cache[day] = (due, expected)
            new_due, new_expected = day_cache[day]
            ids = {old: str(uuid.uuid4()) for old in self.uuids}
            reference = new_reference()
            while reference in self.references:
                reference = new_reference()
            self.references.add(reference)
            ids[self.application.reference] = reference
            new_owner = f"application:{ids[str(self.application.id)]}"
            data_key_id = uuid.UUID(ids[self.data_key_pk])
            key = AESGCM.generate_key(bit_length=256)
            cipher = AESGCM(key)
            header = crypto._VERSION_BYTE + data_key_id.bytes

            def rewrite(text: str, olds: list[str], ids: dict[str, str] = ids) -> str:
                for old in olds:
                    text = text.replace(old, ids[old])
                return text

            for model, plans in self.plans.items():
                for plan in plans:
                    values: list[Any] = []
                    for field, operation, data in plan:
                        value: Any
                        if operation == "const":
                            value = data
                        elif operation == "uuid":
                            value = uuid.UUID(ids[data])
                        elif operation == "moved":
                            value = data + delta
                        elif operation == "text":
                            value = rewrite(*data)
                        elif operation == "json":
                            value = json.loads(rewrite(*data))
                        elif operation == "seal":
                            name, olds, plain = data
                            nonce = secrets.token_bytes(crypto._NONCE_LENGTH)
                            aad = crypto._seal_aad(header, new_owner, rewrite(name, olds))
                            value = header + nonce + cipher.encrypt(nonce, plain, aad)
                        elif operation == "due":
                            value = new_due
                        elif operation == "expected":
                            value = new_expected
                        elif operation == "token_hash":
                            value = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
                        elif operation == "random_key":
                            value = secrets.token_urlsafe(24)
                        elif operation == "key.owner":
                            value = new_owner
                        elif operation == "key.kek_id":
                            value = self.kek.id
                        elif operation == "key.wrapped_key":
                            value = crypto.wrap_data_key(
                                key=key, owner=new_owner, data_key_id=data_key_id, kek=self.kek
                            )
                        else:
                            msg = f"unknown operation {operation}"
                            raise RuntimeError(msg)
                        values.append(field.get_db_prep_save(value, connection))
                    out[model].append(values)
        return out

    def insert(self, copies: dict[Any, list[list[Any]]]) -> None:
        """Insert the rows (COPY on PostgreSQL, one executemany per table on SQLite)."""
        quote = self.connection.ops.quote_name
        for model, rows in copies.items():
            columns = [field.column for field, _operation, _data in self.plans[model][0]]
            table = quote(model._meta.db_table)
            names = ", ".join(quote(column) for column in columns)
            if self.connection.vendor == "postgresql":
                self.connection.ensure_connection()
                raw = self.connection.connection
                with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                with self.connection.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _ordered(rows: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
    """Return the models in an order that inserts every row after the rows it points to."""
    ordered: dict[Any, list[Any]] = {}
    pending = dict(rows)
    while pending:
        for model in list(pending):
            targets = {
                field.related_model
                for field in model._meta.concrete_fields
                if field.is_relation and field.related_model is not model
            }
            if not targets & set(pending):
                ordered[model] = pending.pop(model)
                break
        else:
            msg = f"no insertion order for {sorted(m._meta.label for m in pending)}"
            raise RuntimeError(msg)
    return ordered


def _staff(operators: list[dict[str, str]]) -> list[dict[str, str]]:
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    from govserve.accounts.models import Institution, RoleAssignment, User  # noqa: PLC0415

    institution = Institution.objects.get(code=INSTITUTION)
    made = []
    for entry in operators:
        user = User.objects.create(username=entry["username"], first_name=entry["username"].title(), is_active=True)
        user.set_password(entry["password"])
        user.save()
        RoleAssignment.objects.create(user=user, institution=institution, role=ROLE_ID)
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        made.append({"username": user.username, "user_id": str(user.id), "totp_key": device.key})
    return made


def _sample_check(template_id: uuid.UUID, user_id: str) -> list[str]:
    """Open a sample of the copies through the real selectors and compare them with the template."""
    from govserve.accounts.models import User  # noqa: PLC0415
    from govserve.casework import selectors  # noqa: PLC0415
    from govserve.casework.models import CaseFile, Task, TaskStatus  # noqa: PLC0415

    problems: list[str] = []
    user = User.objects.get(pk=user_id)
    template_file = CaseFile.objects.get(application_id=template_id)
    expected = selectors.file_view(user=user, file_id=template_file.id, language="en")
    want = [(row.label, row.value) for row in expected.answers] if hasattr(expected, "answers") else []
    files = list(CaseFile.objects.exclude(pk=template_file.pk).order_by("?").values_list("pk", flat=True)[:SAMPLE])
    for file_id in files:
        view = selectors.file_view(user=user, file_id=file_id, language="en")
        got = [(row.label, row.value) for row in view.answers]
        if got != want or not got:
            problems.append(f"file {file_id}: answers {got} differ from the template's {want}")
        task = Task.objects.get(case_file_id=file_id, status=TaskStatus.PENDING)
        found = selectors.task_queue(user=user, view="pool", reference=task.reference)
        if [row.task_id for row in found.rows] != [task.id]:
            problems.append(f"task {task.id} is not found in the pool by its reference")
    return problems


def prepare(request: dict[str, Any]) -> dict[str, Any]:  # noqa: PLR0915 - the steps in order
    """Migrate, make the staff and ``request["tasks"]`` open tasks; return the staff, figures and problems."""
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415

    from govserve.accounts.models import Institution  # noqa: PLC0415
    from govserve.casework.models import Task, TaskStatus  # noqa: PLC0415
    from govserve.core import clock  # noqa: PLC0415

    if connection.vendor == "sqlite":
        options = connection.settings_dict["OPTIONS"]
        options["init_command"] = options["init_command"].replace("synchronous=FULL", "synchronous=OFF")
        connection.close()
    call_command("migrate", verbosity=0)
    for code, name in INSTITUTIONS.items():
        Institution.objects.get_or_create(code=code, defaults={"name": name})
    call_command("publish", "examples/", verbosity=0)
    staff = _staff(request["operators"])

    started = time.perf_counter()
    before = _snapshot()
    template_id = _template()
    after = _snapshot()
    template_seconds = time.perf_counter() - started
    rows: dict[Any, list[Any]] = {}
    skipped: dict[str, int] = {}
    for model, pks in after.items():
        new = pks - before.get(model, set())
        if not new:
            continue
        if model._meta.app_label in CLONED_APPS:
            rows[model] = list(model._default_manager.filter(pk__in=new))
        else:
            skipped[model._meta.label] = len(new)
    rows = _ordered(rows)
    cloner = _Cloner(rows, template_id)
    cloner.references = set(Task.objects.values_list("reference", flat=True))
    total = int(request["tasks"]) - 1
    started = time.perf_counter()
    now = clock.now()
    made = 0
    inserted: dict[str, int] = defaultdict(int)
    while made < total:
        count = min(BATCH, total - made)
        copies = cloner.copies(count, now, made)
        with transaction.atomic():
            cloner.insert(copies)
        for model, values in copies.items():
            inserted[model._meta.label] += len(values)
        made += count
    generation_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    open_tasks = Task.objects.filter(status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED], role_id=ROLE_ID).count()
    problems = _sample_check(template_id, staff[0]["user_id"])
    if open_tasks != int(request["tasks"]):
        problems.append(f"{open_tasks} open tasks, not {request['tasks']}")
    first_page = [
        {"task_id": str(t.id), "file_id": str(t.case_file_id), "reference": t.reference, "version": t.version}
        for t in Task.objects.filter(status=TaskStatus.PENDING, role_id=ROLE_ID).order_by("?")[:2000]
    ]
    return {
        "staff": staff,
        "template_seconds": round(template_seconds, 2),
        "generation_seconds": round(generation_seconds, 1),
        "rows_per_task": {model._meta.label: len(found) for model, found in rows.items()},
        "rows_inserted": dict(inserted),
        "not_copied": skipped,
        "open_tasks": open_tasks,
        "sample_checked": SAMPLE,
        "tasks": first_page,
        "problems": problems,
    }


def verify(request: dict[str, Any]) -> dict[str, Any]:
    """Check that each acknowledged decision is recorded exactly once and that nothing else was decided."""
    from django.db.models import Count  # noqa: PLC0415

    from govserve.casework.models import CaseEvent, CaseFile, Decision, Task, TaskStatus  # noqa: PLC0415
    from govserve.journeys.models import ApplicationEvent  # noqa: PLC0415

    problems: list[str] = []
    decided = set(request["decided"])
    human = Task.objects.filter(role_id=ROLE_ID)
    done = {str(pk) for pk in human.filter(status=TaskStatus.DONE).values_list("pk", flat=True)}
    if done - decided:
        problems.append(f"{len(done - decided)} task(s) decided that no operator was told of")
    if decided - done:
        problems.append(f"{len(decided - done)} acknowledged decision(s) not recorded")
    decisions = Decision.objects.filter(role_id=ROLE_ID)
    per_task = decisions.values("task_id").annotate(n=Count("id")).filter(n__gt=1).count()
    if decisions.count() != len(decided) or per_task:
        problems.append(f"{decisions.count()} decision rows for {len(decided)} acknowledged decisions")
    events = CaseEvent.objects.filter(kind="decision_recorded", role_id=ROLE_ID)
    if events.count() != len(decided):
        problems.append(f"{events.count()} decision_recorded case events for {len(decided)} decisions")
    doubled = events.values("task_id").annotate(n=Count("id")).filter(n__gt=1).count()
    if doubled:
        problems.append(f"{doubled} task(s) with more than one decision_recorded event")
    closed = CaseFile.objects.filter(state="closed", outcome="approved").count()
    if closed != len(decided):
        problems.append(f"{closed} files closed approved for {len(decided)} approvals")
    approved = ApplicationEvent.objects.filter(to_status="approved").count()
    if approved != len(decided):
        problems.append(f"{approved} applicant status changes to approved for {len(decided)} approvals")
    still_open = human.filter(status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED]).count()
    return {
        "decided": len(decided),
        "tasks_done": len(done),
        "decision_rows": decisions.count(),
        "decision_events": events.count(),
        "files_closed_approved": closed,
        "open_tasks_left": still_open,
        "problems": problems,
    }


def main(action: str, path: str) -> int:
    """Run ``prepare`` or ``verify`` with the JSON request in ``path``; print the result line; 1 on problems."""
    import django  # noqa: PLC0415

    django.setup()
    request = json.loads(Path(path).read_text(encoding="utf-8"))
    if action == "migrate":
        from django.core.management import call_command  # noqa: PLC0415

        # The shared working tree may have gained a migration while the tasks were made: /readyz waits for none.
        call_command("migrate", verbosity=0)
        result: dict[str, Any] = {"problems": []}
    else:
        result = prepare(request) if action == "prepare" else verify(request)
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    return 1 if result.get("problems") else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
