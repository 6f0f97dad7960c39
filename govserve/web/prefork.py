"""Warm the per-process caches in the web server's master, before it forks its workers.

``govserve serve`` loads the application in gunicorn's master (``--preload``)
and forks the workers from it, again each time a worker is recycled
(``--max-requests``). Without this, every new worker would build on its
first requests what every worker builds the same way: the URLconf (the API's
schemas among it), the compiled Jinja2 templates, the translation catalogues
and the compiled service definitions. :func:`warm` builds them once in the
master (gunicorn's ``when_ready`` hook, ``config/gunicorn.py``), so a forked
worker starts with them in its copy of the master's memory (shared pages
until written).

What it must not leave behind for the forked workers: an open database
connection (a connection shared by two processes corrupts its protocol
state), so every connection it opened is closed before it returns; and any
thread (a fork copies only the forking thread): it starts none. It holds no
personal data: definitions and templates are public, and no request is
served. A database that is not there yet skips the definitions, not the
start. Nothing here is needed for correctness: a worker whose caches are
cold (a version published after the start, a template never listed) builds
what it misses on first use, as it would without the warm-up.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.template import engines
from django.template.backends.jinja2 import Jinja2
from django.urls import get_resolver
from django.utils import translation

from govserve.catalogue.selectors import latest_published_hashes, published_version_load

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIXES = (".html", ".txt")
"""What the Jinja2 loaders list that is a template (their folders hold nothing else today)."""


@dataclass(frozen=True)
class Warmed:
    """What :func:`warm` built, for the server's log."""

    templates: int
    definitions: int
    languages: int
    seconds: float


def _urls_warm() -> None:
    resolver = get_resolver()
    # Importing the URLconf is the largest part (the API's routers build their schemas at import).
    resolver.url_patterns  # noqa: B018 - the cached property is the point
    # The reverse dictionaries every page's links and redirects use.
    resolver.reverse_dict  # noqa: B018


def _templates_warm() -> int:
    count = 0
    for engine in engines.all():
        if not isinstance(engine, Jinja2):
            continue  # the admin's Django templates: not on a citizen's path
        env = engine.env
        for name in env.list_templates():
            if name.endswith(TEMPLATE_SUFFIXES):
                env.get_template(name)
                count += 1
    return count


def _translations_warm() -> int:
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Continue")  # loads the language's catalogues
    return len(settings.LANGUAGES)


def _definitions_warm() -> int:
    try:
        services = latest_published_hashes()
    except DatabaseError as error:
        # The server starts without its database as it did before the warm-up (readyz says so); the
        # workers compile the definitions on first use once it is there.
        logger.warning("Service definitions not warmed before forking: the database is unavailable (%s)", error)
        return 0
    for service_id in services:
        published_version_load(service_id)
    return len(services)


def warm() -> Warmed:
    """Build the caches every worker would build on its first requests; close the connections it opened."""
    started = time.perf_counter()
    _urls_warm()
    languages = _translations_warm()
    templates = _templates_warm()
    try:
        definitions = _definitions_warm()
    finally:
        connections.close_all()
    # Objects made so far live as long as the process: keep them out of the collector's scans (the
    # workers' collections then touch, and so copy, none of the master's pages).
    gc.collect()
    gc.freeze()
    return Warmed(
        templates=templates,
        definitions=definitions,
        languages=languages,
        seconds=round(time.perf_counter() - started, 2),
    )
