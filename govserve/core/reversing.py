"""``url_for``: Django's ``reverse`` with a per-process cache, for the URLs every page asks for.

In core so that every app's views may use it (web's layout and the journey's views both do).
"""

from __future__ import annotations

import functools
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
