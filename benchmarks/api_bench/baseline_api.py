"""The baseline of the API submission benchmark: a hand-written Django view doing the same inserts in one transaction.

Served exactly as govserve is (the same gunicorn command and flags, ``--chdir``
here), on its own database of the same engine (``BASELINE_DATABASE_URL``:
SQLite in WAL mode at ``synchronous=FULL`` and ``IMMEDIATE`` transactions as
govserve's, or PostgreSQL with synchronous commit). ``POST /submit`` with a
bearer token and a JSON body of answers:

1. the token looked up by its SHA-256 hash (one indexed read);
2. the answers checked (every expected field present, text of bounded length);
3. in one transaction: the application row (a new reference), one row per
   answer sealed with AES-256-GCM (a fresh nonce, the owner and field as
   associated data, as govserve seals), one audit row, one outbox row;
4. 201 with the id, the reference and the status as JSON.

It has no middleware but Django's security middleware: no session, no
CSRF (a token API), no rate limits, no rules, no definitions.
"""

import base64
import hashlib
import json
import os
import secrets
import uuid
from datetime import UTC, datetime

import dj_database_url
from django.conf import settings

FIELDS = (
    "on_private_land",
    "problem",
    "exposed_wires",
    "lamp_post_number",
    "street",
    "location_details",
    "reporter_name",
    "reporter_email",
    "contact_preference",
)
_database = dj_database_url.parse(os.environ["BASELINE_DATABASE_URL"], conn_max_age=60)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA busy_timeout=30000;",
    }
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY=secrets.token_urlsafe(50),
    INSTALLED_APPS=[],
    DATABASES={"default": _database},
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware"],
    USE_TZ=True,
)
import django  # noqa: E402

django.setup()
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

_KEY = AESGCM(base64.b64decode(os.environ["BASELINE_KEY"]))
_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"
TABLES = (
    "CREATE TABLE IF NOT EXISTS bench_token (hash varchar(64) PRIMARY KEY, client varchar(64) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_application (id char(36) PRIMARY KEY, reference varchar(12) UNIQUE NOT NULL,"
    " client varchar(64) NOT NULL, status varchar(16) NOT NULL, created_at varchar(40) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_answer (application_id char(36) NOT NULL, field_id varchar(64) NOT NULL,"
    " value_sealed {blob} NOT NULL, PRIMARY KEY (application_id, field_id))",
    "CREATE TABLE IF NOT EXISTS bench_audit (id char(36) PRIMARY KEY, actor varchar(100) NOT NULL,"
    " action varchar(100) NOT NULL, subject_id char(36) NOT NULL, details text NOT NULL,"
    " created_at varchar(40) NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_outbox (id char(36) PRIMARY KEY, name varchar(100) NOT NULL,"
    " kwargs text NOT NULL, created_at varchar(40) NOT NULL)",
)


def migrate(token: str) -> None:
    """Create the tables and register ``token`` (its hash)."""
    blob = "bytea" if connection.vendor == "postgresql" else "blob"
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in TABLES:
            cursor.execute(statement.format(blob=blob))
        cursor.execute(
            "INSERT INTO bench_token (hash, client) VALUES (%s, %s)",
            [hashlib.sha256(token.encode()).hexdigest(), "baseline-client"],
        )


def _seal(owner: str, field: str, value: object) -> bytes:
    nonce = os.urandom(12)
    plaintext = json.dumps(value).encode()
    return nonce + _KEY.encrypt(nonce, plaintext, f"{owner}|{field}".encode())


def submit(request: HttpRequest) -> JsonResponse:
    """Check the token and the answers, write the rows in one transaction, answer 201."""
    if request.method != "POST":
        return JsonResponse({"code": "method_not_allowed"}, status=405)
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    with connection.cursor() as cursor:
        cursor.execute("SELECT client FROM bench_token WHERE hash = %s", [hashlib.sha256(token.encode()).hexdigest()])
        row = cursor.fetchone()
    if row is None:
        return JsonResponse({"code": "unauthenticated"}, status=401)
    try:
        answers = json.loads(request.body)["answers"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"code": "request_invalid"}, status=400)
    if not isinstance(answers, dict) or any(field not in answers for field in FIELDS):
        return JsonResponse({"code": "answers_invalid"}, status=422)
    if any(isinstance(value, str) and len(value) > 500 for value in answers.values()):
        return JsonResponse({"code": "answers_invalid"}, status=422)
    application_id = str(uuid.uuid4())
    reference = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    now = datetime.now(UTC).isoformat()
    owner = f"application:{application_id}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_application (id, reference, client, status, created_at) VALUES (%s, %s, %s, %s, %s)",
            [application_id, reference, row[0], "submitted", now],
        )
        cursor.executemany(
            "INSERT INTO bench_answer (application_id, field_id, value_sealed) VALUES (%s, %s, %s)",
            [(application_id, field, _seal(owner, f"answers.{field}", answers[field])) for field in FIELDS],
        )
        cursor.execute(
            "INSERT INTO bench_audit (id, actor, action, subject_id, details, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [str(uuid.uuid4()), f"api_client:{row[0]}", "application.submitted", application_id, "{}", now],
        )
        cursor.execute(
            "INSERT INTO bench_outbox (id, name, kwargs, created_at) VALUES (%s, %s, %s, %s)",
            [str(uuid.uuid4()), "email.deliver", json.dumps({"application_id": application_id}), now],
        )
    return JsonResponse({"id": application_id, "reference": reference, "status": "submitted"}, status=201)


def count() -> dict[str, int]:
    """Return the number of rows of each table (for the verification)."""
    with connection.cursor() as cursor:
        found = {}
        for table in ("bench_application", "bench_answer", "bench_audit", "bench_outbox"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - our own table names
            found[table] = cursor.fetchone()[0]
    return found


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 (the benchmark waits for it before measuring)."""
    return JsonResponse({"status": "ok"})


urlpatterns = [path("submit", submit), path("healthz", healthz)]
application = get_wsgi_application()
