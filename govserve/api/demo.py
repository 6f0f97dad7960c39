"""The API's part of ``govserve demo``: demo tokens printed with the sign-ins.

- a partner client (``demo-partner``) applying through the API;
- an operator token of the demo street lighting engineer (an MFA-enrolled
  demo staff member): it acts with their roles;
- a bot client (``demo-bot``) bound to its service account ``bot-demo-bot``,
  which holds the street lighting engineer role too.

Registered with :func:`govserve.catalogue.demo.demo_step_register` by
:class:`~govserve.api.apps.ApiConfig`. Each demo run revokes the previous
demo tokens and issues new ones (audited as ``system:demo``), so exactly one
token of each works at a time. The operator and bot tokens are left out when
the demo has no street lighting engineer (the example services were removed).
"""

from __future__ import annotations

import datetime as dt

from govserve.accounts.models import Institution, User
from govserve.api.models import TASK_SCOPES, ApiClient, ApiToken
from govserve.api.services import (
    IssuedToken,
    api_bot_client_create,
    api_client_create,
    api_operator_token_issue,
    api_token_issue,
    api_token_revoke,
)
from govserve.audit.actors import Actor

DEMO_CLIENT = "demo-partner"
DEMO_SCOPES = ("services:read", "applications:read", "applications:write")
DEMO_LIFETIME = dt.timedelta(days=30)
DEMO_ACTOR = Actor.system("demo")
DEMO_OPERATOR_ROLE = ("city-council", "street-lighting-engineer")
DEMO_OPERATOR = "city-council-street-lighting-engineer"
"""The demo staff member the operator token acts as (``accounts.demo.demo_username`` of the role)."""
DEMO_BOT = "demo-bot"
URL = "http://127.0.0.1:8000/api/v1"


def _revoke_all(client: ApiClient) -> None:
    for prefix in ApiToken.objects.filter(client=client, revoked_at__isnull=True).values_list("prefix", flat=True):
        api_token_revoke(prefix=prefix, actor=DEMO_ACTOR)


def _operator_token() -> IssuedToken | None:
    user = User.objects.filter(username=DEMO_OPERATOR, is_active=True).first()
    if user is None:
        return None
    client = ApiClient.objects.filter(user=user).first()
    if client is not None:
        _revoke_all(client)
    return api_operator_token_issue(user=user, actor=DEMO_ACTOR, lifetime=DEMO_LIFETIME)


def _bot_token() -> IssuedToken | None:
    client = ApiClient.objects.filter(name=DEMO_BOT).first()
    if client is None:
        if not Institution.objects.filter(code=DEMO_OPERATOR_ROLE[0]).exists():
            return None
        client = api_bot_client_create(
            name=DEMO_BOT,
            roles=[DEMO_OPERATOR_ROLE],
            description="govserve demo: a bot working on street lighting tasks through the API",
            actor=DEMO_ACTOR,
        )
    _revoke_all(client)
    return api_token_issue(client=client, scopes=TASK_SCOPES, lifetime=DEMO_LIFETIME, actor=DEMO_ACTOR)


def demo_token_issue() -> str:
    """Ensure the demo clients, replace their tokens, and return the lines to print."""
    client = ApiClient.objects.filter(name=DEMO_CLIENT).first() or api_client_create(
        name=DEMO_CLIENT, description="govserve demo: a partner system applying through the API", actor=DEMO_ACTOR
    )
    _revoke_all(client)
    issued = api_token_issue(client=client, scopes=DEMO_SCOPES, lifetime=DEMO_LIFETIME, actor=DEMO_ACTOR)
    lines = [
        f"API (docs at /api/v1/docs, docs/api.md): demo partner token ({' '.join(DEMO_SCOPES)}):",
        f"  {issued.text}",
        f'  curl -H "Authorization: Bearer {issued.text}" {URL}/services',
    ]
    operator = _operator_token()
    if operator is not None:
        lines += [
            f"API demo operator token (acts as {DEMO_OPERATOR}, {' '.join(TASK_SCOPES)}):",
            f"  {operator.text}",
            f'  curl -H "Authorization: Bearer {operator.text}" "{URL}/tasks?queue=pool"',
        ]
    bot = _bot_token()
    if bot is not None:
        lines += [
            f"API demo bot token (client {DEMO_BOT}, acts as bot-{DEMO_BOT}: {':'.join(DEMO_OPERATOR_ROLE)}):",
            f"  {bot.text}",
            f'  curl -H "Authorization: Bearer {bot.text}" "{URL}/tasks?queue=pool"',
        ]
    return "\n".join(lines)
