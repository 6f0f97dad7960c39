"""A simulated citizen: signs in with a password and walks a plan, one request at a time.

The walker keeps what a browser keeps: cookies (every ``Set-Cookie``), the
hidden values of the last page loaded (the CSRF token of its form, the start
and submit keys) and the application id from the redirect after the start.
Each request goes through a TLS proxy as the server sees it: the proxy's
``X-Forwarded-Proto: https`` and ``X-Forwarded-For`` (one address per
citizen, as real citizens have), and the ``Origin`` a browser sends with a
form POST. A response that is not exactly what the step expects is a
failure: it is counted with its step and status, and the citizen starts
again from the start page (a new application).
"""

from __future__ import annotations

import collections
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from benchmarks.journey.http import Response, exchange, request_bytes
from benchmarks.journey.plan import APP, CITIZEN, CSRF, START_KEY, SUBMIT_KEY, URLENCODED, Mark, Step, Variant

HIDDEN = re.compile(rb'name="(csrfmiddlewaretoken|start_key|submit_key)" value="([^"]+)"')
STARTED = re.compile(r"^/apply/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/$")
USER_AGENT = "govserve-journey-bench/1"


@dataclass(frozen=True)
class Site:
    """Where the server listens, and the public host name it answers to (behind the TLS proxy)."""

    port: int
    host: str


@dataclass
class Citizen:
    """A citizen of the run: account, client address, cookies, and where they are in their walk.

    The walk state (``position`` in the plan, the ``application`` under way,
    the hidden ``values`` of the last page) carries from one timed phase to
    the next, whichever load generator runs it, so that citizens complete
    whole journeys however short each phase is.
    """

    number: int
    email: str
    password: str
    ip: str
    variant: str
    cookies: dict[str, str] = field(default_factory=dict)
    position: int = 0
    application: str = ""
    values: dict[str, str] = field(default_factory=dict)

    def walk_restart(self) -> None:
        """Start the walk again from the start page (a new application)."""
        self.position = 0
        self.application = ""
        self.values = {}

    def cookie_header(self) -> str:
        """Return the ``Cookie`` header value of the citizen's browser."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def remember(self, response: Response) -> None:
        """Keep each cookie the response sets (a deleted cookie is removed)."""
        for header in response.headers_named("set-cookie"):
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if "expires=Thu, 01 Jan 1970" in header or "Max-Age=0" in header:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()


@dataclass
class Tally:
    """What one load generator saw: successful requests, failures by step and status, journey milestones."""

    ok: int = 0
    failed: int = 0
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    starts: int = 0
    submitted: list[str] = field(default_factory=list)
    feedback: int = 0
    walks: int = 0
    interrupted: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the tally as JSON-ready values."""
        return {
            "ok": self.ok,
            "failed": self.failed,
            "failures": dict(self.failures),
            "starts": self.starts,
            "submitted": self.submitted,
            "feedback": self.feedback,
            "walks": self.walks,
            "interrupted": self.interrupted,
        }


def proxy_headers(site: Site, citizen: Citizen) -> list[tuple[str, str]]:
    """Return the headers the TLS proxy and the browser add to every request."""
    headers = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-For", citizen.ip),
        ("User-Agent", USER_AGENT),
        ("Accept", "text/html"),
    ]
    if citizen.cookies:
        headers.append(("Cookie", citizen.cookie_header()))
    return headers


def form_request(site: Site, citizen: Citizen, *, path: str, body: bytes, content_type: str) -> bytes:
    """Return a form POST as a browser sends it (with ``Origin``)."""
    return request_bytes(
        method="POST",
        path=path,
        host=site.host,
        headers=[
            *proxy_headers(site, citizen),
            ("Origin", f"https://{site.host}"),
            ("Content-Type", content_type),
        ],
        body=body,
    )


class Walker:
    """One citizen walking one plan, again and again; the caller sends each request and hands back the answer."""

    def __init__(self, *, citizen: Citizen, plan: Variant, site: Site, tally: Tally, keep_cookies: bool = True) -> None:
        self.citizen = citizen
        self.keep_cookies = keep_cookies
        self.plan = plan
        self.site = site
        self.tally = tally

    @property
    def step(self) -> Step:
        """Return the step the next request makes."""
        return self.plan.steps[self.citizen.position]

    def _fill(self, text: str) -> str:
        return text.replace(APP, self.citizen.application)

    def next_request(self) -> bytes:
        """Return the bytes of the next request of the walk."""
        step = self.step
        path = self._fill(step.path)
        if step.method == "GET":
            return request_bytes(
                method="GET", path=path, host=self.site.host, headers=proxy_headers(self.site, self.citizen)
            )
        values = self.citizen.values
        body = (
            step.body.replace(CSRF.encode(), values.get("csrfmiddlewaretoken", "").encode())
            .replace(START_KEY.encode(), values.get("start_key", "").encode())
            .replace(SUBMIT_KEY.encode(), values.get("submit_key", "").encode())
            .replace(CITIZEN.encode(), str(self.citizen.number).encode())
        )
        return form_request(self.site, self.citizen, path=path, body=body, content_type=step.content_type)

    def failed(self, reason: str) -> None:
        """Count a failure of the current step (no response, or a wrong one); start a new walk."""
        self.tally.failed += 1
        self.tally.failures[f"{self.step.name}:{reason}"] += 1
        self.citizen.walk_restart()

    def answered(self, response: Response) -> bool:
        """Check ``response`` against the current step; count it, move on (or start again). Return success."""
        step = self.step
        if self.keep_cookies:
            self.citizen.remember(response)
        if response.status != step.status:
            self.failed(str(response.status))
            return False
        location = response.header("location")
        if step.mark == Mark.START:
            found = STARTED.match(location)
            if found is None:
                self.failed("location")
                return False
            self.citizen.application = found.group(1)
            self.tally.starts += 1
        elif step.location and location != self._fill(step.location):
            self.failed("location")
            return False
        if response.status == 200:
            self.citizen.values.update((name.decode(), value.decode()) for name, value in HIDDEN.findall(response.body))
        self.tally.ok += 1
        if step.mark == Mark.SUBMIT:
            self.tally.submitted.append(self.citizen.application)
        elif step.mark == Mark.FEEDBACK:
            self.tally.feedback += 1
        if step.mark == Mark.DONE:
            self.tally.walks += 1
            self.citizen.walk_restart()
        else:
            self.citizen.position += 1
        return True


class SignInError(Exception):
    """The password sign-in of a simulated citizen did not go as a browser's would."""


async def sign_in(site: Site, citizen: Citizen) -> None:
    """Sign ``citizen`` in through the real password sign-in pages; their cookies hold the session after.

    Raise SignInError when a page does not answer as it should.
    """
    page = await exchange(
        site.port,
        request_bytes(method="GET", path="/sign-in/password", host=site.host, headers=proxy_headers(site, citizen)),
    )
    citizen.remember(page)
    tokens = dict(HIDDEN.findall(page.body))
    if page.status != 200 or b"csrfmiddlewaretoken" not in tokens:
        raise SignInError(f"GET /sign-in/password answered {page.status} without a form token")
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": tokens[b"csrfmiddlewaretoken"].decode(),
            "email": citizen.email,
            "password": citizen.password,
        }
    ).encode()
    signed_in = await exchange(
        site.port, form_request(site, citizen, path="/sign-in/password", body=body, content_type=URLENCODED)
    )
    citizen.remember(signed_in)
    if signed_in.status != 302 or signed_in.header("location") != "/account":
        raise SignInError(f"POST /sign-in/password answered {signed_in.status}: {signed_in.body[:300]!r}")
    account = await exchange(
        site.port,
        request_bytes(method="GET", path="/account", host=site.host, headers=proxy_headers(site, citizen)),
    )
    citizen.remember(account)
    if account.status != 200:
        raise SignInError(f"GET /account after signing in answered {account.status}")
