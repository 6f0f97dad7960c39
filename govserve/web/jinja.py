"""The Jinja2 environment for every page a person sees.

GOV.UK Frontend's macros come from ``govuk-frontend-jinja`` and import each
other under the ``govuk_frontend_jinja/`` prefix, so they are served through a
PrefixLoader beside the apps' own template directories.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from govserve.web.layout import page_layout, url_for


def _url(name: str, *args: Any, **kwargs: Any) -> str:
    if kwargs:
        return reverse(name, args=args or None, kwargs=kwargs)
    # Cached per URLconf and script prefix: every page asks for the same few URLs.
    return url_for(name, *(str(arg) for arg in args))


@functools.lru_cache(maxsize=256)
def _static(path: str) -> str:
    # A static file's URL depends only on the settings (STATIC_URL, the storage), fixed for a process.
    return static(path)


@receiver(setting_changed)
def _static_settings_changed(*, setting: str, **_: Any) -> None:
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES"}:
        _static.cache_clear()


def environment(**options: Any) -> Environment:
    """Return the Jinja2 environment Django's Jinja2 backend renders with."""
    # Django's backend passes a FileSystemLoader over each app's jinja2/ folder.
    app_loader = options.pop("loader")
    options["autoescape"] = True
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.i18n"]
    env = Environment(**options)  # noqa: S701 (autoescape is forced on above)
    env.loader = ChoiceLoader(
        [app_loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")})]
    )
    env.install_gettext_translations(translation, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update({"static": _static, "url": _url, "settings": settings, "page_layout": page_layout})
    return env
