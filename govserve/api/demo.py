"""The API's part of ``govserve demo``: a demo partner client and a fresh token for it, printed with the sign-ins.

Registered with :func:`govserve.catalogue.demo.demo_step_register` by
:class:`~govserve.api.apps.ApiConfig`. Each demo run revokes the previous
demo token and issues a new one (audited as ``system:demo``), so exactly one
demo token works at a time.
"""

from __future__ import annotations

import datetime as dt

from govserve.api.models import ApiClient, ApiToken
from govserve.api.services import api_client_create, api_token_issue, api_token_revoke
from govserve.audit.actors import Actor

DEMO_CLIENT = "demo-partner"
DEMO_SCOPES = ("services:read", "applications:read", "applications:write")
DEMO_LIFETIME = dt.timedelta(days=30)
DEMO_ACTOR = Actor.system("demo")


def demo_token_issue() -> str:
    """Ensure the demo partner client, replace its token, and return the lines to print."""
    client = ApiClient.objects.filter(name=DEMO_CLIENT).first() or api_client_create(
        name=DEMO_CLIENT, description="govserve demo: a partner system applying through the API", actor=DEMO_ACTOR
    )
    for prefix in ApiToken.objects.filter(client=client, revoked_at__isnull=True).values_list("prefix", flat=True):
        api_token_revoke(prefix=prefix, actor=DEMO_ACTOR)
    issued = api_token_issue(client=client, scopes=DEMO_SCOPES, lifetime=DEMO_LIFETIME, actor=DEMO_ACTOR)
    return "\n".join(
        [
            f"API (docs at /api/v1/docs, docs/api.md): demo partner token ({' '.join(DEMO_SCOPES)}):",
            f"  {issued.text}",
            f'  curl -H "Authorization: Bearer {issued.text}" http://127.0.0.1:8000/api/v1/services',
        ]
    )
