"""Django's ``reverse`` with a per-process cache, for the URLs every page asks for.

``url_for`` caches whole URLs (the same few on every page); ``url_for_id``
caches a URL's shape for an id that changes with each record (an
application's pages: about 40 links on check your answers). In core so that
every app's views may use them (web's layout and the journey's views do).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.urls import get_script_prefix, get_urlconf, reverse


@functools.lru_cache(maxsize=128)
def _reverse(name: str, args: tuple[str, ...], urlconf: Any, script_prefix: str) -> str:
    return reverse(name, args=args or None, urlconf=urlconf)


def url_for(name: str, *args: str) -> str:
    """Return ``reverse(name, args)``, cached: every page asks for the same few URLs.

    The cache key holds the active URLconf and script prefix, so test URLconfs and
    deployments under a path prefix get their own answers.
    """
    return _reverse(name, args, get_urlconf(), get_script_prefix())


# Reversed once per URL name and further arguments with this id in the record's place (the first argument).
_SAMPLE_ID = uuid.UUID(int=0)
_SAMPLE_ID_TEXT = str(_SAMPLE_ID)


@functools.lru_cache(maxsize=1024)
def _shape(name: str, args: tuple[str, ...], urlconf: Any, script_prefix: str) -> str:
    return reverse(name, args=[_SAMPLE_ID, *args], urlconf=urlconf)


def url_for_id(name: str, key: uuid.UUID, *args: str) -> str:
    """Return ``reverse(name, args=[key, *args])`` from a shape reversed once (``reverse`` costs ~0.1 ms).

    The URL is the same for every id but for the id (a UUID, written as
    ``str`` writes it, always the first argument), so it is reversed once per
    name, further arguments, URLconf and script prefix, and ``key`` put in.
    """
    return _shape(name, args, get_urlconf(), get_script_prefix()).replace(_SAMPLE_ID_TEXT, str(key), 1)
