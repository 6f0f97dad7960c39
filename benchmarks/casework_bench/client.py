"""A staff member's browser for the casework benchmark: cookies, CSRF tokens, the TLS proxy's headers.

Blocking ``http.client`` (one connection per request: gunicorn's sync
workers close it after the response), so that each of the concurrent
operators is a thread. Staff sign in through the real pages: the password
form, then the code of their authenticator app, computed from the device's
secret as the app computes it (:func:`django_otp.oath.totp`).
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from django_otp.oath import totp

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
USER_AGENT = "govserve-casework-bench/1"
TOTP_STEP = 30


class StaffError(Exception):
    """A page did not answer as a browser would expect."""


@dataclass(frozen=True)
class Answer:
    """A response: status, ``Location``, body and how long it took (seconds, from send to the last byte)."""

    status: int
    location: str
    body: bytes
    seconds: float


@dataclass
class Staff:
    """One signed-in (or signing-in) staff member and their browser."""

    port: int
    host: str
    username: str
    password: str
    totp_key: str
    ip: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def _headers(self) -> dict[str, str]:
        headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.ip,
            "User-Agent": USER_AGENT,
            "Accept": "text/html",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers

    def _send(self, method: str, path: str, body: bytes | None, extra: dict[str, str]) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers={**self._headers(), **extra})
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - started
            for header in response.msg.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                if "Max-Age=0" in header or "expires=Thu, 01 Jan 1970" in header:
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value.strip()
            found = CSRF.search(data)
            if found:
                self.csrf = found.group(1).decode()
            return Answer(response.status, response.getheader("Location") or "", data, seconds)
        finally:
            connection.close()

    def get(self, path: str) -> Answer:
        """GET ``path``."""
        return self._send("GET", path, None, {})

    def post(self, path: str, fields: dict[str, str]) -> Answer:
        """POST a form to ``path`` with the CSRF token of the last page loaded (and ``Origin``, as a browser does)."""
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf, **fields}).encode()
        extra = {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://{self.host}"}
        return self._send("POST", path, body, extra)

    def _code(self) -> str:
        """Return the authenticator app's code for now (6 digits, 30-second steps, from t0 = 0)."""
        return f"{totp(bytes.fromhex(self.totp_key), step=TOTP_STEP, t0=0, digits=6):06d}"

    def sign_in(self) -> None:
        """Sign in through the password page and the code page; raise StaffError when a page answers wrongly."""
        page = self.get("/staff/sign-in")
        if page.status != 200 or not self.csrf:
            raise StaffError(f"GET /staff/sign-in answered {page.status}")
        answer = self.post("/staff/sign-in", {"username": self.username, "password": self.password})
        if answer.status != 302 or not answer.location.startswith("/staff/sign-in/code"):
            raise StaffError(f"POST /staff/sign-in answered {answer.status} {answer.location}: {answer.body[:300]!r}")
        page = self.get("/staff/sign-in/code")
        if page.status != 200:
            raise StaffError(f"GET /staff/sign-in/code answered {page.status}")
        answer = self.post("/staff/sign-in/code", {"code": self._code()})
        if answer.status != 302 or not answer.location.startswith("/staff/"):
            raise StaffError(f"POST /staff/sign-in/code answered {answer.status}: {answer.body[:300]!r}")
        landing = self.get(answer.location)  # the signed-in session's CSRF token (sign-in rotates it)
        if landing.status != 200:
            raise StaffError(f"GET {answer.location} after signing in answered {landing.status}")
