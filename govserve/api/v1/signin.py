"""Applicant bearer tokens through the web's one-time-link sign-in: ask for a link, exchange it for a token.

1. ``POST /sign-in/link`` with the citizen's email address: accounts'
   ``citizen_sign_in_link_request`` emails the very link the web sign-in
   sends (same rate limits, no account enumeration, the account created on
   first use). Always 202.
2. The app takes the token from the link (the last part of its path, when
   the person opens it on the device) and ``POST /sign-in/token`` exchanges
   it: accounts' ``citizen_link_exchange`` uses the link once (a link used on
   the web cannot be exchanged, and the other way round) and the answer is a
   bearer token acting as that citizen on their own applications only
   (scopes ``services:read applications:read applications:write
   messages:write``, 30 days; hashed at rest, shown once, revocable).

Both are public (no token yet); the accounts services audit them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from govserve.accounts.citizens import citizen_link_exchange, citizen_sign_in_link_request
from govserve.accounts.forms import CitizenEmailForm
from govserve.api.services import api_applicant_token_issue
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import Problem, StrictBody
from govserve.core.errors import ValidationError
from govserve.journeys.fields import FieldError
from govserve.web.ratelimit import client_ip

router = Router(tags=["sign-in"])
PROBLEMS: dict[int, Any] = {400: Problem, 422: Problem, 429: Problem}


class EmailAddressInvalidError(ValidationError):
    """The address is not one the web sign-in would take (the web form's own messages)."""

    code = "email_invalid"


class LinkRequestIn(StrictBody):
    email: str = Field(max_length=1000)
    language: Literal["en", "cy"] = "en"


class LinkRequestOut(Schema):
    detail: str


class LinkExchangeIn(StrictBody):
    token: str = Field(max_length=200, description="The token at the end of the emailed link's path.")


class ApplicantTokenOut(Schema):
    token: str = Field(description="Shown once: store it. Send it as Authorization: Bearer.")
    prefix: str
    scopes: list[str]
    expires_at: dt.datetime


@router.post(
    "/sign-in/link",
    auth=None,
    response={202: LinkRequestOut, **PROBLEMS},
    url_name="sign_in_link_request",
    summary="Email a citizen a one-time sign-in link (the web's)",
)
def sign_in_link_request(request: HttpRequest, payload: LinkRequestIn) -> HttpResponse:
    """Send the web sign-in's one-time link to the address; the same answer whether or not it has an account.

    422 ``email_invalid`` for an address the web would refuse; 429
    ``rate_limited`` when this address or this client asked too often.
    """
    form = CitizenEmailForm({"email": payload.email})
    if not form.is_valid():
        message = str(form.errors["email"][0])
        raise EmailAddressInvalidError(message, errors=[FieldError("email", "invalid", message, "email")])
    citizen_sign_in_link_request(
        email=form.cleaned_data["email"], client_ip=client_ip(request), language=payload.language
    )
    return json_response(
        request,
        LinkRequestOut(detail="If this address can be used, a sign-in link is on its way to it"),
        status=202,
    )


@router.post(
    "/sign-in/token",
    auth=None,
    response={201: ApplicantTokenOut, 404: Problem, 410: Problem, **PROBLEMS},
    url_name="sign_in_token",
    summary="Exchange a one-time sign-in link for a citizen's bearer token",
)
def sign_in_token(request: HttpRequest, payload: LinkExchangeIn) -> HttpResponse:
    """Use the link once and answer a token acting as its citizen, on their own applications only.

    404 ``link_invalid``; 410 ``link_used`` (used before, here or on the
    web) or ``link_expired``.
    """
    citizen = citizen_link_exchange(token=payload.token, method="api")
    issued = api_applicant_token_issue(citizen=citizen)
    response = json_response(
        request,
        ApplicantTokenOut(
            token=issued.text,
            prefix=issued.token.prefix,
            scopes=list(issued.token.scopes),
            expires_at=issued.token.expires_at,
        ),
        status=201,
    )
    response["Cache-Control"] = "no-store"
    return response
