"""The Jinja2 environment for every page a person sees.

GOV.UK Frontend's macros come from ``govuk-frontend-jinja`` and import each
other under the ``govuk_frontend_jinja/`` prefix, so they are served through a
PrefixLoader beside the apps' own template directories.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from govserve.web.layout import page_layout


def _url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


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
    env.globals.update({"static": static, "url": _url, "settings": settings, "page_layout": page_layout})
    return env
