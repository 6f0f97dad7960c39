"""gunicorn's server hooks for ``govserve serve`` (``--config python:config.gunicorn``).

Only hooks live here; the command line (``gunicorn_command``) holds the
settings. gunicorn reads this module's names that are its settings and
ignores the rest.
"""

from __future__ import annotations

from typing import Any

GOVSERVE_APPS = ("config.wsgi:application", "config.wsgi_govstack:application")


def when_ready(server: Any) -> None:
    """Warm the preloaded application's caches in the master, once, before the first worker is forked.

    gunicorn calls this after loading the application (``--preload``) and
    before spawning the workers; every worker, the recycled ones too, is a
    fork of the warmed master (``govserve.web.prefork``). Another application
    served with the same flags (the benchmark's baseline page) is left alone.
    """
    if not server.cfg.preload_app or getattr(server.app, "app_uri", None) not in GOVSERVE_APPS:
        return
    from govserve.web.prefork import warm  # noqa: PLC0415 - Django is set up by the preload, not at config load

    warmed = warm()
    server.log.info(
        "Warmed before forking: %d templates, %d service definitions, %d languages in %.2f s",
        warmed.templates,
        warmed.definitions,
        warmed.languages,
        warmed.seconds,
    )
