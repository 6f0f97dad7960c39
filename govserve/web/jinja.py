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
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from jinja2 import (
    ChoiceLoader,
    Environment,
    PackageLoader,
    PrefixLoader,
    Template,
    pass_environment,
    pass_eval_context,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import Markup, escape

from govserve.core.reversing import url_for
from govserve.web.layout import Layout, page_layout
from govserve.web.summary_list import summary_list


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


class _Template(Template):
    """Jinja2's template with a cheaper ``{% import %}`` / ``{% from %}`` of another template.

    Each import asks the imported template for its module with the importing
    context; Jinja2 makes a fresh (uncached) module only when that context has
    globals the imported template lacks, and tests it with a set difference
    against a ``ChainMap``'s keys view, which walks the maps in Python for every
    key: about a tenth of a page's template time here (17 imports a question
    page). The same test as one C-level ``set.difference`` over the maps.
    """

    def _get_default_module(self, ctx: Context | None = None) -> Any:
        if ctx is not None and not ctx.globals_keys.difference(*getattr(self.globals, "maps", (self.globals,))):
            ctx = None  # nothing to add: the cached module, as Jinja2 would return
        return super()._get_default_module(ctx)


# (language, message, autoescape) -> the text ``_()`` returns without variables; filled as pages use them.
_translated: dict[tuple[str | None, str, bool], str] = {}
_TRANSLATED_MAX = 4096


@pass_eval_context
def _gettext(eval_context: EvalContext, message: str, /, **variables: Any) -> str:
    """Return ``message`` translated, as Jinja2's newstyle ``gettext`` does, remembered per language.

    Jinja2's newstyle ``_()`` goes through two context calls, Django's
    ``gettext`` (the active translation from a context-local) and a
    ``Markup`` ``%`` formatting even without variables (so ``%%`` reads
    ``%``): about 30 calls a page. The result without variables depends only
    on the active language, the message and autoescaping, and catalogues do
    not change in a running process (tests that change the translation
    settings clear it: below). It reads only the evaluation context's
    autoescaping: a ``pass_context`` function called inside a block or loop
    with variables of its own gets a copy of the whole context made for the
    call (Jinja2's ``Context.derived``), about 20 µs each, and the evaluation
    context is the same object in the copy.
    """
    autoescape = eval_context.autoescape
    if variables:
        return _catalogue_text(message, autoescape) % variables
    key = (translation.get_language(), message, autoescape)
    found = _translated.get(key)
    if found is None:
        found = _catalogue_text(message, autoescape) % {}
        if len(_translated) >= _TRANSLATED_MAX:
            _translated.clear()
        _translated[key] = found
    return found


def _catalogue_text(message: str, autoescape: bool) -> str:
    text = translation.gettext(message)
    # Catalogue text is markup we wrote (links in sentences), trusted as Jinja2's newstyle gettext trusts it.
    return Markup(text) if autoescape else text  # noqa: S704


# (template, language, URLconf, script prefix) -> the rendered fragment.
_fragments: dict[tuple[str, str | None, Any, str], Markup] = {}


@pass_environment
def _layout_fragment(environment: Environment, name: str) -> Markup:
    """Return template ``name`` rendered, once per language, URLconf and script prefix.

    For the parts of the layout that read nothing but the translations and
    ``url()`` (the phase banner, the footer): the same markup on every page
    of a language, so it is rendered on the first page and reused. Such a
    template gets no page context (only the environment's globals), so it
    cannot come to depend on the page by mistake.
    """
    if environment.auto_reload:  # a developer's server (DEBUG): edits to the template show at once
        return Markup(environment.get_template(name).render())  # noqa: S704
    key = (name, translation.get_language(), get_urlconf(), get_script_prefix())
    found = _fragments.get(key)
    if found is None:
        # Our own template's output, escaped as it rendered.
        found = Markup(environment.get_template(name).render())  # noqa: S704
        _fragments[key] = found
    return found


# The session-timeout dialog's two values of the request, as they stand in its markup rendered once.
_CSRF_HOLE = "\x00govserve-csrf-input\x00"
_NEXT_HOLE = "\x00govserve-next-path\x00"
_DIALOG = "web/_session_timeout_dialog.html"
_DIALOGS_MAX = 64
_dialogs: dict[tuple[Any, ...], str] = {}


@pass_environment
def _session_timeout_dialog(environment: Environment, layout: Layout, csrf_input: Any, next_path: str) -> Markup:
    """Return the session-timeout dialog of a page with ``layout`` (its ``session_timeout`` set).

    Everything in the dialog but the form's CSRF input and the page to come
    back to is the same on every page of a language, a sign-in state and a
    timeout: it is rendered once with stand-ins for those two, which each page
    then replaces with its own (the CSRF input as the markup it is, the path
    escaped as the template escapes it). The key holds every value the
    template reads.
    """
    timeout = layout.session_timeout
    if timeout is None:  # pragma: no cover - base.html asks only when there is a timeout
        return Markup("")
    key = (
        translation.get_language(),
        get_urlconf(),
        get_script_prefix(),
        layout.signed_in,
        layout.session_extend_url,
        layout.sign_out_url,
        timeout.warning_seconds,
        tuple(timeout.countdown_forms.items()),
    )
    found = None if environment.auto_reload else _dialogs.get(key)
    if found is None:
        found = environment.get_template(_DIALOG).render(
            layout=layout,
            timeout=timeout,
            csrf_input=Markup(_CSRF_HOLE),  # noqa: S704 - our own stand-in
            next_path=_NEXT_HOLE,
        )
        if not environment.auto_reload:  # a developer's server (DEBUG): edits to the template show at once
            if len(_dialogs) >= _DIALOGS_MAX:
                _dialogs.clear()
            _dialogs[key] = found
    # Our own template's output, escaped as it rendered; the path escaped here as the template would.
    return Markup(found.replace(_CSRF_HOLE, str(csrf_input)).replace(_NEXT_HOLE, str(escape(next_path))))  # noqa: S704


@receiver(setting_changed)
def _translation_settings_changed(*, setting: str, **_: Any) -> None:
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "ROOT_URLCONF"}:
        _translated.clear()
        _fragments.clear()
        _dialogs.clear()


def environment(**options: Any) -> Environment:
    """Return the Jinja2 environment Django's Jinja2 backend renders with."""
    # Django's backend passes a FileSystemLoader over each app's jinja2/ folder.
    app_loader = options.pop("loader")
    options["autoescape"] = True
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.i18n"]
    env = Environment(**options)  # noqa: S701 (autoescape is forced on above)
    env.template_class = _Template
    env.loader = ChoiceLoader(
        [app_loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")})]
    )
    env.install_gettext_translations(translation, newstyle=True)  # type: ignore[attr-defined]
    # ``_`` and ``gettext`` (``{% trans %}``) without Jinja2's two wrappers; ngettext and the others stay Jinja2's.
    env.globals.update({"_": _gettext, "gettext": _gettext})
    env.globals.update(
        {
            "static": _static,
            "url": _url,
            "settings": settings,
            "page_layout": page_layout,
            "layout_fragment": _layout_fragment,
            "session_timeout_dialog": _session_timeout_dialog,
            "summary_list": summary_list,
        }
    )
    return env
