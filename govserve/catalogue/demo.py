"""The demo: an installation with the example services, demo accounts, a web server and a worker.

``govserve demo`` (and so ``make run``) calls :func:`demo_prepare`, then
:class:`DemoProcesses`:

1. migrate the database (embedded SQLite by default);
2. read the examples (``examples/catalogues/*.yaml``, ``examples/services/*.yaml``)
   without the database, to learn the institutions and flow roles they name;
3. create the demo accounts for them (``govserve.accounts.demo``): every
   institution, one staff user per human flow role, an administrator, a citizen;
4. publish the catalogues, then the services. An example whose content is
   already the latest published version is left alone, so a re-run publishes
   nothing and is quick; a changed example becomes the next version;
5. start gunicorn (as ``govserve serve`` does) and one ``govserve worker``, wait
   until ``/readyz`` answers, and print the URL and the demo sign-ins;
6. on Ctrl-C or SIGTERM, stop both (SIGTERM, then SIGKILL after a grace
   period) and exit 0; if either dies on its own, stop the other and exit 1.

Zero examples is a valid demo: the accounts are still created and the site served.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management import call_command

from govserve.catalogue.definitions.loader import load_definition_file
from govserve.catalogue.definitions.schema import ServiceDefinition
from govserve.catalogue.errors import ServiceRetiredError
from govserve.catalogue.models import ServiceVersion, VersionState
from govserve.catalogue.services import DefinitionSource, definition_publish
from govserve.core.errors import ApplicationError

DEMO_REASON = "Published by govserve demo"
READY_TIMEOUT_SECONDS = 90.0
STOP_GRACE_SECONDS = 20.0


@dataclass
class DemoReport:
    """What :func:`demo_prepare` did: per file, ``published``, ``unchanged``, ``retired`` or ``refused``."""

    outcomes: list[tuple[Path, str, str]] = field(default_factory=list)
    sign_ins: str = ""

    @property
    def refused(self) -> list[tuple[Path, str, str]]:
        """Return the files that could not be published."""
        return [outcome for outcome in self.outcomes if outcome[1] == "refused"]


def example_files(examples: Path) -> tuple[list[Path], list[Path]]:
    """Return the catalogue files and the service files under ``examples``, sorted by name."""
    return sorted((examples / "catalogues").glob("*.yaml")), sorted((examples / "services").glob("*.yaml"))


def roles_by_institution(definitions: Iterable[ServiceDefinition]) -> dict[str, set[str]]:
    """Return, per institution code, the human flow roles the definitions give it.

    Every institution named (owner, registrations, roles) is a key, so the
    demo creates it before publishing; bot roles need no staff account.
    """
    roles: dict[str, set[str]] = {}
    for definition in definitions:
        roles.setdefault(definition.institution, set())
        for registration in definition.registrations:
            roles.setdefault(registration.institution, set())
        for role in definition.flow.roles:
            named = roles.setdefault(role.institution, set())
            if role.kind == "human":
                named.add(role.id)
    return roles


def _published_definitions() -> list[ServiceDefinition]:
    """Return the latest published definition of every live service (their roles keep their demo users)."""
    latest: dict[str, dict[str, Any]] = {}
    for service_id, parsed in (
        ServiceVersion.objects.filter(state=VersionState.PUBLISHED)
        .order_by("service_id", "number")
        .values_list("service_id", "parsed")
    ):
        latest[service_id] = parsed
    return [ServiceDefinition.model_validate(parsed) for parsed in latest.values()]


def _accounts_ensure(definitions: list[ServiceDefinition]) -> str:
    """Create the demo accounts; return the sign-ins as text for the terminal."""
    from govserve.accounts.demo import demo_accounts_ensure, demo_logins_format  # noqa: PLC0415 - demo only

    logins = demo_accounts_ensure(roles_by_institution=roles_by_institution(definitions))
    return demo_logins_format(logins)


DemoStep = Callable[[], str]
_DEMO_STEPS: list[DemoStep] = []


def demo_step_register(step: DemoStep) -> DemoStep:
    """Run ``step`` at the end of every :func:`demo_prepare`; its text is printed after the sign-ins.

    For apps above the catalogue that add to the demo (the API's demo token):
    the catalogue cannot import them. Idempotent; call from ``AppConfig.ready``.
    """
    if step not in _DEMO_STEPS:
        _DEMO_STEPS.append(step)
    return step


def demo_prepare(*, examples: Path, say: Callable[[str], None], migrate: bool = True) -> DemoReport:
    """Migrate, create the demo accounts and publish the examples; return what was done.

    Idempotent: unchanged examples are not published again. A refused
    example is reported (with its problems) in the result, never raised, so
    the caller decides; ApplicationErrors other than refusals propagate.
    """
    if migrate:
        say("Migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
    catalogue_files, service_files = example_files(examples)
    definitions = [
        result.definition
        for result in (load_definition_file(path, validate=False) for path in service_files)
        if result.definition is not None
    ]
    say(f"Creating the demo accounts for {len(definitions)} example service(s)")
    report = DemoReport(sign_ins=_accounts_ensure(definitions + _published_definitions()))
    for path in catalogue_files + service_files:
        try:
            outcome = definition_publish(source=DefinitionSource.from_path(path), actor=None, reason=DEMO_REASON)
        except ServiceRetiredError:
            report.outcomes.append((path, "retired", "retired: left as it is"))
        except ApplicationError as error:
            if error.code == "version_unchanged":
                report.outcomes.append((path, "unchanged", "unchanged"))
                continue
            problems = [problem.format() for problem in getattr(error, "problems", None) or []]
            report.outcomes.append((path, "refused", "\n".join([*problems, f"{error.code}: {error.message}"])))
        else:
            if outcome.service_version is not None:
                detail = f"published version {outcome.service_version.number}"
            else:
                detail = "published " + ", ".join(
                    f"{version.catalogue_id} version {version.number}" for version in outcome.catalogue_versions
                )
            report.outcomes.append((path, "published", detail))
    for path, _kind, detail in report.outcomes:
        say(f"  {path.name}: {detail}")
    for step in _DEMO_STEPS:
        report.sign_ins = f"{report.sign_ins}\n\n{step()}"
    return report


def _probe_host(host: str) -> str:
    if host in {"", "0.0.0.0"}:  # noqa: S104 - we connect to it, we do not bind it
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def port_in_use(host: str, port: int) -> bool:
    """Return whether something already listens on ``host:port`` (its /readyz would fool the readiness wait)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn does: a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def demo_url(host: str, port: int) -> str:
    """Return the URL people open for a server bound to ``host:port``."""
    return f"http://{_probe_host(host)}:{port}/"


class _StopRequestedError(Exception):
    """A stop signal arrived."""


class DemoProcesses:
    """The web server and the worker, started together and stopped together."""

    def __init__(self, *, server_command: list[str], worker_command: list[str], env: dict[str, str]) -> None:
        self.server_command = server_command
        self.worker_command = worker_command
        self.env = env
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Start the server and the worker, each in its own session so a terminal's Ctrl-C reaches only us."""
        for command in (self.server_command, self.worker_command):
            self.children.append(subprocess.Popen(command, env=self.env, start_new_session=True))  # noqa: S603

    @property
    def pids(self) -> list[int]:
        """Return the process ids of the server and the worker, in that order."""
        return [child.pid for child in self.children]

    def exited(self) -> list[int]:
        """Return the exit statuses of the children that have exited."""
        return [code for child in self.children if (code := child.poll()) is not None]

    def wait_ready(self, url: str, *, timeout: float = READY_TIMEOUT_SECONDS) -> str | None:
        """Poll ``url`` until it answers 200 and return None; else return why not (a child exited, time ran out)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, child in zip(("the web server", "the worker"), self.children, strict=False):
                if child.poll() is not None:
                    return f"{name} exited with status {child.returncode}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own http URL
                    if response.status == 200:
                        return None
            except urllib.error.HTTPError as error:
                last = f"{error.code} {error.read(500).decode('utf-8', 'replace')}"
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                last = str(error)
            time.sleep(0.2)
        return f"{url} did not answer 200 within {timeout:.0f} s (last: {last})"

    def stop(self) -> None:
        """Send SIGTERM to every running child, wait for them, SIGKILL those still running after the grace period."""
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def run_until_stopped(self) -> int:
        """Wait for SIGINT/SIGTERM (then stop both, return 0) or for a child to exit (stop the other, return 1)."""

        def _raise_stop(signum: int, frame: FrameType | None) -> None:
            raise _StopRequestedError

        previous = {number: signal.signal(number, _raise_stop) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self.exited():
                time.sleep(0.3)
            return 1
        except _StopRequestedError:
            return 0
        finally:
            # A second signal during the stop must not leave children behind.
            for number in previous:
                signal.signal(number, signal.SIG_IGN)
            with contextlib.suppress(_StopRequestedError):
                self.stop()
            for number, handler in previous.items():
                signal.signal(number, handler)


def child_environment(*, url: str) -> dict[str, str]:
    """Return the environment of the server and worker: ours, with the demo's public URL unless one is set."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("PUBLIC_BASE_URL", url.rstrip("/"))
    return env


def worker_command() -> list[str]:
    """Return the argv of one ``govserve worker`` with this interpreter."""
    return [sys.executable, "-m", "govserve.cli", "worker"]
