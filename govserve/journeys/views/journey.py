"""The question pages and the steps after them: documents, fees, check your answers, confirmation.

Thin views: each finds the application the requester may act on, loads its
journey state, calls one service, and renders or redirects. Every page works
without JavaScript (plain forms, POST then redirect). A page that is not on
the applicant's path redirects to the first page still to answer.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from govserve.catalogue.definitions.schema import CHECK_ANSWERS, AnyField, EmailField, FileField, GroupField, Page
from govserve.core.reversing import url_for_id
from govserve.documents import errors as document_errors
from govserve.documents.access import owner_access_grant
from govserve.journeys import errors, hooks, selectors, services
from govserve.journeys.access import session_grant
from govserve.journeys.fields import FieldError, display_value
from govserve.journeys.models import SUBMITTED_STATUSES, Application, ApplicationStatus, JourneyEventKind
from govserve.journeys.routing import ITEM_ID, JourneyState
from govserve.journeys.views.common import (
    RETURN_TO_CHECK,
    AccessNeeded,
    access_needed,
    applicant_of,
    application_and_answers_or_404,
    language_of,
    page,
    safe_return,
)
from govserve.web.ratelimit import client_ip_bucket, rate_limit

SUBMIT_LIMIT = 30
SUBMIT_WINDOW = dt.timedelta(hours=1)
RESEND_LIMIT = 5
RESEND_WINDOW = dt.timedelta(hours=1)
FEEDBACK_FORM = "feedback"

View = Callable[..., HttpResponse]


def _url(name: str, application: Application, *args: str, query: str = "") -> str:
    """Return ``reverse("journeys:<name>", args=[application.id, *args])`` (``?query`` after it)."""
    url = url_for_id(f"journeys:{name}", application.id, *args)
    return f"{url}?{query}" if query else url


def page_url(application: Application, page_id: str, *, returning: str = "") -> str:
    """Return the URL of a question page (``check-answers`` included)."""
    if page_id == CHECK_ANSWERS:
        return _url("check_answers", application)
    return _url("question", application, page_id, query=f"return={returning}" if returning else "")


def _with_application(view: View) -> View:
    """Resolve ``application_id`` to the application (404 / "sign in to continue") before the view runs.

    Its sealed answers are read with it (one statement on PostgreSQL) and kept
    on the request for the view's first read of the journey state
    (:func:`_state_first`).
    """

    def wrapped(request: HttpRequest, application_id: uuid.UUID, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            application, rows = application_and_answers_or_404(request, application_id)
        except AccessNeeded:
            return access_needed(request)
        request._journeys_answers_read = (application, rows)  # type: ignore[attr-defined]
        return view(request, application, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _state_first(request: HttpRequest, application: Application) -> JourneyState:
    """Return the journey state of ``application`` for the view's first read of it, before anything is written.

    From the answers the access check read with the application
    (:func:`_with_application`), once; a second call, or a call for another
    instance, reads them again (:func:`selectors.state_load`). Call it only
    where nothing this request did can have written answers since the check.
    """
    held: tuple[Application, dict[str, bytes]] | None = getattr(request, "_journeys_answers_read", None)
    if held is None or held[0] is not application:
        return selectors.state_load(application)
    request._journeys_answers_read = None  # type: ignore[attr-defined]
    return selectors.state_from_rows(application, held[1])


def _not_a_draft(request: HttpRequest, application: Application) -> HttpResponse:
    """Answer a request to change an application that can no longer change."""
    if application.status in SUBMITTED_STATUSES:
        return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
    return page(
        request,
        "journeys/expired.html",
        title=_("This application has expired"),
        application=application,
        status=410,
    )


def steps_after_questions(application: Application, state: JourneyState) -> list[str]:
    """Return the steps between the last question and check your answers (documents, fees), as URL names.

    Decided from the answers alone (no upload is read): the documents step is
    there when the answers need a document, the fees step when they owe a fee.
    """
    steps = []
    if selectors.documents_needed(state):
        steps.append("documents")
    if selectors.fees_of(state).items:
        steps.append("fees")
    return steps


def _step_url(application: Application, step: str) -> str:
    return _url(step, application) if step != CHECK_ANSWERS else _url("check_answers", application)


def _after_questions(application: Application, state: JourneyState) -> str:
    steps = steps_after_questions(application, state)
    return _step_url(application, steps[0]) if steps else _url("check_answers", application)


def _resume_target(application: Application, state: JourneyState) -> str:
    """Return where an applicant carries on: the first page still to answer, the exit page, or check answers."""
    if state.stop_page is not None:
        return page_url(application, state.stop_page)
    return _url("check_answers", application)


def _back_before_step(application: Application, state: JourneyState, step: str) -> str:
    """Return the back link of a step after the questions (documents, fees, check answers)."""
    steps = steps_after_questions(application, state)
    earlier = steps[: steps.index(step)] if step in steps else steps
    if earlier:
        return _step_url(application, earlier[-1])
    last = state.last_question_page()
    return page_url(application, last) if last else reverse("journeys:service_start", args=[application.service_id])


def _page_view(request: HttpRequest, application: Application, page_id: str, language: str) -> None:
    # The upload script's request follows the server's redirect, then the browser loads the page:
    # only that load is a view (journeys/static/journeys/upload-progress.js marks its requests).
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return
    services.page_view_record(
        kind=JourneyEventKind.PAGE_VIEW,
        service_id=application.service_id,
        version=application.version_number,
        page_id=page_id,
        application=application,
        language=language,
    )


def _event(application: Application, kind: JourneyEventKind, page_id: str, language: str) -> None:
    services.journey_event_record(
        kind=kind,
        service_id=application.service_id,
        version=application.version_number,
        page_id=page_id,
        application=application,
        language=language,
    )


def _service_name(state: JourneyState, language: str) -> str:
    return state.definition.title.get(language)


# --- Entering an application --------------------------------------------------------------------------


@never_cache
@require_GET
@_with_application
def application_resume(request: HttpRequest, application: Application) -> HttpResponse:
    """Send the applicant to where they left off."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    return HttpResponseRedirect(_resume_target(application, _state_first(request, application)))


@never_cache
@require_http_methods(["GET", "POST"])
def access_link(request: HttpRequest, token: str) -> HttpResponse:
    """Open an application from the link emailed to an anonymous applicant (a button press uses it).

    Mail scanners follow links: the GET only shows a button, the POST grants
    this session the application.
    """
    if request.method == "GET":
        return page(request, "journeys/resume.html", title=_("Continue your application"), token=token)
    try:
        application = services.access_link_use(token=token)
    except errors.AccessLinkInvalidError as error:
        return page(
            request, "journeys/link_invalid.html", title=_("This link does not work"), message=error.message, status=404
        )
    session_grant(request, application.id)
    owner_access_grant(request, owner=application.crypto_owner)
    if application.is_draft:
        return HttpResponseRedirect(_url("application_resume", application))
    return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def save_and_return(request: HttpRequest, application: Application) -> HttpResponse:
    """Tell the applicant how to come back; an anonymous applicant can have the link emailed again."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    language = language_of(request)
    sent = False
    if request.method == "POST" and application.citizen_id is None:
        rate_limit(f"journeys.resend:{application.id}", limit=RESEND_LIMIT, window=RESEND_WINDOW)
        services.access_link_resend(application_id=application.id, applicant=applicant_of(request))
        sent = True
    return page(
        request,
        "journeys/save_and_return.html",
        title=_("Your answers have been saved"),
        service_name=_service_name(state, language),
        application=application,
        anonymous=application.citizen_id is None,
        sent=sent,
        back_url=_resume_target(application, state),
    )


# --- Question pages -----------------------------------------------------------------------------------


def _page_number(state: JourneyState, page_id: str) -> tuple[int, Page]:
    for number, candidate in enumerate(state.definition.pages):
        if candidate.id == page_id:
            return number, candidate
    raise Http404("There is no such page")


def _group_links(
    *,
    application: Application,
    page_id: str,
    group: GroupField,
    items: Sequence[Mapping[str, Any]],
    returning: str,
    state: JourneyState,
    language: str,
) -> list[dict[str, str]]:
    query = f"?return={returning}" if returning else ""
    links = []
    for item in items:
        item_id = str(item[ITEM_ID])
        summary = " – ".join(  # noqa: RUF001 - the GOV.UK en dash
            text
            for child in group.fields[:2]
            if (
                text := display_value(
                    child,
                    item.get(child.id),
                    language=language,
                    catalogues=state.compiled.catalogues,
                    currency=state.definition.currency,
                )
            )
        )
        links.append(
            {
                "summary": summary,
                "change_url": reverse("journeys:group_item", args=[application.id, page_id, group.id, item_id]) + query,
                "remove_url": reverse("journeys:group_item_remove", args=[application.id, page_id, group.id, item_id])
                + query,
            }
        )
    return links


def _question_page(
    request: HttpRequest,
    application: Application,
    state: JourneyState,
    page_id: str,
    *,
    raw: Any = None,
    field_errors: Sequence[FieldError] = (),
    add_another_error: str = "",
) -> HttpResponse:
    language = language_of(request)
    _, definition_page = _page_number(state, page_id)
    returning = safe_return(request)
    shown = state.fields_for_display(page_id)
    groups = [field for field in shown if isinstance(field, GroupField)]
    plain = [field for field in shown if not isinstance(field, GroupField)]
    group_items = {
        group.id: _group_links(
            application=application,
            page_id=page_id,
            group=group,
            items=state.answers.get(group.id) or [],
            returning=returning,
            state=state,
            language=language,
        )
        for group in groups
    }
    previous = state.previous(page_id) if state.on_path(page_id) else None
    if returning == RETURN_TO_CHECK:
        back_url = _url("check_answers", application)
    elif previous is not None:
        back_url = page_url(application, previous)
    else:
        back_url = reverse("journeys:service_start", args=[application.service_id])
    first_item_questions = {group.id: _first_item_question(group, language) for group in groups}
    single = (
        len(shown) == 1
        and not definition_page.body
        and shown[0].label.get(language) == definition_page.title.get(language)
    )
    summary_errors = [{"text": add_another_error, "href": "#add_another"}] if add_another_error else []
    return page(
        request,
        "journeys/question.html",
        title=definition_page.title.get(language),
        service_name=_service_name(state, language),
        application=application,
        definition_page=definition_page,
        fields=plain,
        groups=groups,
        group_items=group_items,
        values=_with_contact_email(application, state, plain),
        raw=raw,
        catalogues=state.compiled.catalogues,
        currency=state.definition.currency,
        single_question=single,
        multipart=any(isinstance(field, FileField) for field in plain),
        back_url=back_url,
        returning=returning,
        field_errors=field_errors,
        summary_errors=summary_errors,
        add_another_error=add_another_error,
        first_item_questions=first_item_questions,
        anonymous=application.citizen_id is None,
        expires_at=application.expires_at,
    )


def _with_contact_email(application: Application, state: JourneyState, fields: Sequence[AnyField]) -> Mapping[str, Any]:
    """Return the answers to show, an unanswered email question filled with the address given at the start.

    Tell us once: an anonymous applicant gave an email address to get the
    link back; the first email question of the service shows it, to keep or change.
    """
    unanswered = [field for field in fields if isinstance(field, EmailField) and state.answers.get(field.id) is None]
    if not unanswered or application.citizen_id is not None or application.contact_email_sealed is None:
        return state.answers
    address = services.applicant_email(application)
    return {**state.answers, **dict.fromkeys((field.id for field in unanswered), address)}


def _first_item_question(group: GroupField, language: str) -> str:
    """Return "Do you need to add a child?" / "an assistant?" (Welsh has no indefinite article)."""
    label = group.item_label.get(language)
    if language == "cy":
        return _("Do you need to add %(item)s?") % {"item": label}
    article = "an" if label[:1].lower() in "aeiou" else "a"
    return f"Do you need to add {article} {label}?"


def _exit_page(
    request: HttpRequest, application: Application, state: JourneyState, page_id: str, **extra: Any
) -> HttpResponse:
    language = language_of(request)
    _, definition_page = _page_number(state, page_id)
    previous = state.previous(page_id)
    return page(
        request,
        "journeys/exit.html",
        title=definition_page.title.get(language),
        service_name=_service_name(state, language),
        application=application,
        definition_page=definition_page,
        back_url=page_url(application, previous) if previous else None,
        feedback_page=page_id,
        **extra,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def question(request: HttpRequest, application: Application, page_id: str) -> HttpResponse:
    """Show or save one question page (or an exit page, with its satisfaction question)."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    language = language_of(request)
    _, definition_page = _page_number(state, page_id)
    if not state.on_path(page_id):
        return HttpResponseRedirect(_resume_target(application, state))
    if definition_page.exit:
        if request.method == "POST":
            return _feedback_post(
                request,
                application,
                state,
                page_id,
                render=lambda **extra: _exit_page(request, application, state, page_id, **extra),
            )
        _event(application, JourneyEventKind.EXIT, page_id, language)
        return _exit_page(request, application, state, page_id, feedback_sent=request.GET.get(FEEDBACK_FORM) == "sent")
    if request.method == "GET":
        _page_view(request, application, page_id, language)
        return _question_page(request, application, state, page_id)
    return _question_save(request, application, state, definition_page)


def _add_another(request: HttpRequest, state: JourneyState, definition_page: Page, language: str) -> tuple[bool, str]:
    """Return (the applicant asked to add an item, the error when they answered neither yes nor no)."""
    groups = [field for field in definition_page.fields if isinstance(field, GroupField)]
    if not groups:
        return False, ""
    group = groups[0]
    if len(state.answers.get(group.id) or []) >= group.validation.max_items:
        return False, ""
    choice = request.POST.get("add_another", "")
    if choice == "yes":
        return True, ""
    if choice == "no":
        return False, ""
    return False, _("Select yes if you need to add another %(item)s") % {"item": group.item_label.get(language)}


def _question_save(
    request: HttpRequest, application: Application, state: JourneyState, definition_page: Page
) -> HttpResponse:
    page_id = definition_page.id
    language = language_of(request)
    adding_item, add_another_error = _add_another(request, state, definition_page, language)
    try:
        if add_another_error:
            _values, _shown, found = services.page_answers_parse(
                state=state, page_id=page_id, data=request.POST, language=language, adding_item=True
            )
            if found:
                raise errors.AnswersInvalidError("There is a problem with your answers", errors=found)
            # Nothing else is wrong: ask the add-another question again.
            return _question_page(
                request, application, state, page_id, raw=request.POST, add_another_error=add_another_error
            )
        result = services.page_answers_save(
            application_id=application.id,
            applicant=applicant_of(request),
            page_id=page_id,
            data=request.POST,
            files={name: upload for name in request.FILES if isinstance(upload := request.FILES[name], UploadedFile)},
            language=language,
            adding_item=adding_item,
            loaded=application,
            walked=state,
        )
    except errors.AnswersInvalidError as error:
        return _question_page(
            request,
            application,
            state,
            page_id,
            raw=request.POST,
            field_errors=error.errors,
            add_another_error=add_another_error,
        )
    return HttpResponseRedirect(_after_save(request, application, result.state, definition_page, adding_item))


def _after_save(
    request: HttpRequest, application: Application, state: JourneyState, definition_page: Page, adding_item: bool
) -> str:
    """Return where to go after a page was saved: the new item, back to check answers, or the next page."""
    returning = safe_return(request)
    query = f"?return={returning}" if returning else ""
    if adding_item:
        group = next(field for field in definition_page.fields if isinstance(field, GroupField))
        return reverse("journeys:group_item_add", args=[application.id, definition_page.id, group.id]) + query
    if returning == RETURN_TO_CHECK:
        if state.complete:
            return _url("check_answers", application)
        # New questions follow from the change: answer them, then back to check answers.
        return _resume_target(application, state) + (query if state.first_unanswered else "")
    following = state.next_after(definition_page.id)
    if following == CHECK_ANSWERS:
        return _after_questions(application, state)
    return page_url(application, following)


# --- Repeating groups ---------------------------------------------------------------------------------


def _group_context(state: JourneyState, page_id: str, group_id: str) -> GroupField:
    _, definition_page = _page_number(state, page_id)
    for field in definition_page.fields:
        if field.id == group_id and isinstance(field, GroupField):
            return field
    raise Http404("There is no such list on this page")


def _item(state: JourneyState, group: GroupField, item_id: str | None) -> Mapping[str, Any] | None:
    if item_id is None:
        return None
    for item in state.answers.get(group.id) or []:
        if item.get(ITEM_ID) == item_id:
            found: Mapping[str, Any] = item
            return found
    raise Http404("This item is not in your list")


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def group_item(
    request: HttpRequest, application: Application, page_id: str, group_id: str, item_id: str | None = None
) -> HttpResponse:
    """Add one item to a repeating group, or change one (``item_id``)."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    if not state.on_path(page_id):
        return HttpResponseRedirect(_resume_target(application, state))
    group = _group_context(state, page_id, group_id)
    item = _item(state, group, item_id)
    language = language_of(request)
    returning = safe_return(request)
    query = f"?return={returning}" if returning else ""
    raw = None
    found: Sequence[FieldError] = ()
    if request.method == "POST":
        try:
            services.group_item_save(
                application_id=application.id,
                applicant=applicant_of(request),
                page_id=page_id,
                group_id=group_id,
                item_id=item_id,
                data=request.POST,
                language=language,
                loaded=application,
                walked=state,
            )
        except errors.AnswersInvalidError as error:
            raw, found = request.POST, error.errors
        except errors.GroupItemNotFoundError as error:
            raise Http404(error.message) from error
        else:
            return HttpResponseRedirect(page_url(application, page_id) + query)
    item_label = group.item_label.get(language)
    title = (_("Change %(item)s") if item is not None else _("Add %(item)s")) % {"item": item_label}
    children = [child for child in group.fields if not isinstance(child, GroupField | FileField)]
    return page(
        request,
        "journeys/group_item.html",
        title=title,
        service_name=_service_name(state, language),
        application=application,
        group=group,
        fields=children,
        values=dict(item or {}),
        raw=raw,
        catalogues=state.compiled.catalogues,
        currency=state.definition.currency,
        back_url=page_url(application, page_id) + query,
        returning=returning,
        field_errors=found,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def group_item_remove(
    request: HttpRequest, application: Application, page_id: str, group_id: str, item_id: str
) -> HttpResponse:
    """Ask "Are you sure you want to remove …?", then remove the item."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    if not state.on_path(page_id):
        return HttpResponseRedirect(_resume_target(application, state))
    group = _group_context(state, page_id, group_id)
    item = _item(state, group, item_id)
    assert item is not None  # noqa: S101 - an id was given
    language = language_of(request)
    returning = safe_return(request)
    back = page_url(application, page_id) + (f"?return={returning}" if returning else "")
    summary = _group_links(
        application=application,
        page_id=page_id,
        group=group,
        items=[item],
        returning=returning,
        state=state,
        language=language,
    )[0]["summary"]
    error = ""
    if request.method == "POST":
        choice = request.POST.get("remove", "")
        if choice == "no":
            return HttpResponseRedirect(back)
        if choice == "yes":
            try:
                services.group_item_remove(
                    application_id=application.id,
                    applicant=applicant_of(request),
                    page_id=page_id,
                    group_id=group_id,
                    item_id=item_id,
                )
            except errors.GroupItemNotFoundError as refused:
                raise Http404(refused.message) from refused
            return HttpResponseRedirect(back)
        error = _("Select yes if you want to remove %(item)s") % {"item": summary}
    return page(
        request,
        "journeys/group_remove.html",
        title=_("Are you sure you want to remove %(item)s?") % {"item": summary},
        service_name=_service_name(state, language),
        application=application,
        back_url=back,
        returning=returning,
        remove_error=error,
        summary_errors=[{"text": error, "href": "#remove"}] if error else [],
    )


# --- Documents and fees ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def documents(request: HttpRequest, application: Application) -> HttpResponse:
    """List the documents the answers need; upload, replace or remove the ones delivered online."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    if not state.complete:
        return HttpResponseRedirect(_resume_target(application, state))
    language = language_of(request)
    found: list[FieldError] = []
    if request.method == "POST":
        outcome = _documents_post(request, application, state, language)
        if isinstance(outcome, HttpResponse):
            return outcome
        found = outcome
    rows = selectors.document_rows(application, state)
    if not rows:
        return HttpResponseRedirect(_after_questions(application, state))
    if request.method == "GET":
        _page_view(request, application, "documents", language)
    return page(
        request,
        "journeys/documents.html",
        title=_("Documents"),
        service_name=_service_name(state, language),
        application=application,
        rows=rows,
        back_url=_back_before_step(application, state, "documents"),
        field_errors=found,
    )


def _documents_post(
    request: HttpRequest, application: Application, state: JourneyState, language: str
) -> HttpResponse | list[FieldError]:
    """Upload, remove, or continue; return where to go, or the errors to show on the page."""
    action = request.POST.get("action", "")
    document_id = request.POST.get("document", "")[:64]
    applicant = applicant_of(request)
    here = HttpResponseRedirect(_url("documents", application))
    try:
        if action == "upload":
            services.requirement_upload(
                application_id=application.id,
                applicant=applicant,
                document_id=document_id,
                upload=request.FILES.get(f"file-{document_id}"),
                loaded=application,
                walked=state,
            )
        elif action == "remove":
            services.requirement_remove(application_id=application.id, applicant=applicant, document_id=document_id)
        elif action == "continue":
            found = _missing_uploads(application, state, language)
            if found:
                return found
            steps = steps_after_questions(application, state)
            position = steps.index("documents") + 1 if "documents" in steps else len(steps)
            return HttpResponseRedirect(
                _step_url(application, steps[position] if position < len(steps) else CHECK_ANSWERS)
            )
    except document_errors.UploadRefusedError as refused:
        return [
            FieldError(field_id=document_id, code=refused.code, message=refused.message, anchor=f"file-{document_id}")
        ]
    except (errors.PageNotFoundError, document_errors.DocumentNotFoundError):
        pass  # a stale form (the document is no longer needed, or already removed): show the page as it is now
    return here


def _missing_uploads(application: Application, state: JourneyState, language: str) -> list[FieldError]:
    found = []
    for row in selectors.document_rows(application, state):
        if row.requirement.delivery != "upload":
            continue
        if row.upload is None:
            name = row.requirement.document.name.get(language)
            message = _("Upload %(document)s") % {"document": name[:1].lower() + name[1:]}
            found.append(
                FieldError(
                    field_id=row.requirement.id,
                    code="document_missing",
                    message=message,
                    anchor=f"file-{row.requirement.id}",
                )
            )
        elif row.problem:
            found.append(
                FieldError(
                    field_id=row.requirement.id,
                    code="document_blocked",
                    message=row.problem,
                    anchor=f"file-{row.requirement.id}",
                )
            )
    return found


@never_cache
@require_GET
@_with_application
def fees(request: HttpRequest, application: Application) -> HttpResponse:
    """Show the fees, itemised per registration and totalled, and when each is paid."""
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    if not state.complete:
        return HttpResponseRedirect(_resume_target(application, state))
    summary = selectors.fees_of(state)
    if not summary.items:
        return HttpResponseRedirect(_url("check_answers", application))
    language = language_of(request)
    _page_view(request, application, "fees", language)
    return page(
        request,
        "journeys/fees.html",
        title=_("Fees"),
        service_name=_service_name(state, language),
        application=application,
        summary=summary,
        back_url=_back_before_step(application, state, "fees"),
    )


# --- Check your answers, submit, confirmation -------------------------------------------------------------


def answer_rows(
    application: Application, state: JourneyState, language: str, *, links: bool = True
) -> list[dict[str, Any]]:
    """Return, per page on the path, the summary list rows of its visible answers (with Change links)."""
    sections: list[dict[str, Any]] = []
    for page_id in state.path:
        _, definition_page = _page_number(state, page_id)
        fields = {field.id: field for field in definition_page.fields}
        rows = []
        for field_id in state.visible.get(page_id, []):
            field = fields[field_id]
            value = state.answers.get(field_id)
            rows.append(
                {
                    "field": field,
                    "label": field.label.get(language),
                    "lines": _answer_lines(field, value, state, language),
                    "change_url": page_url(application, page_id, returning=RETURN_TO_CHECK) if links else "",
                }
            )
        sections.append({"page": definition_page, "title": definition_page.title.get(language), "rows": rows})
    return sections


def _answer_lines(field: AnyField, value: Any, state: JourneyState, language: str) -> list[str]:
    if value is None:
        return []
    catalogues, currency = state.compiled.catalogues, state.definition.currency
    if isinstance(field, GroupField):
        return [
            ", ".join(
                text
                for child in field.fields
                if (
                    text := display_value(
                        child, item.get(child.id), language=language, catalogues=catalogues, currency=currency
                    )
                )
            )
            for item in value
        ]
    if isinstance(field, FileField):
        return [str(value.get("name", ""))]
    text = display_value(
        field,
        value,
        language=language,
        catalogues=catalogues,
        currency=currency,
        phone_region=state.definition.phone_region,
    )
    return text.split("\n")


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def check_answers(request: HttpRequest, application: Application) -> HttpResponse:
    """Show every answer with Change links, the documents and fees, the declaration and "Accept and send"."""
    if request.method == "POST":
        rate_limit(f"journeys.submit:ip:{client_ip_bucket(request)}", limit=SUBMIT_LIMIT, window=SUBMIT_WINDOW)
    if application.status in SUBMITTED_STATUSES:
        # Sent already (a double click, a refresh, back and send again): the same confirmation.
        return HttpResponseRedirect(_url("confirmation", application))
    if not services.draft_open(application):
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    if not state.complete:
        return HttpResponseRedirect(_resume_target(application, state))
    language = language_of(request)
    summary_errors: list[dict[str, str]] = []
    declaration_error = ""
    if request.method == "POST":
        try:
            services.application_submit(
                application_id=application.id,
                applicant=applicant_of(request),
                idempotency_key=request.POST.get("submit_key", "")[:100],
                declaration_accepted=request.POST.get("declaration") == "accepted",
                language=language,
            )
        except errors.DeclarationRequiredError as error:
            declaration_error = _("Confirm that the information you have given is correct and complete")
            summary_errors.append({"text": declaration_error, "href": "#declaration"})
            del error
        except errors.SubmissionIncompleteError as error:
            summary_errors.extend(
                {"text": problem.message, "href": _problem_url(application, problem.where)}
                for problem in error.problems
            )
        except errors.ApplicationAlreadySubmittedError:
            return HttpResponseRedirect(_url("confirmation", application))
        else:
            return HttpResponseRedirect(_url("confirmation", application))
    else:
        _page_view(request, application, CHECK_ANSWERS, language)
    rows = selectors.document_rows(application, state)
    return page(
        request,
        "journeys/check_answers.html",
        title=_("Check your answers before sending your application"),
        service_name=_service_name(state, language),
        application=application,
        sections=answer_rows(application, state, language),
        document_rows=rows,
        fee_summary=selectors.fees_of(state),
        submit_key=secrets.token_urlsafe(24),
        declaration_error=declaration_error,
        summary_errors=summary_errors,
        back_url=_back_before_step(application, state, CHECK_ANSWERS),
    )


def _problem_url(application: Application, where: str) -> str:
    if where == "documents":
        return _url("documents", application)
    if where in ("check-answers", CHECK_ANSWERS):
        return "#declaration"
    return page_url(application, where, returning=RETURN_TO_CHECK)


def _feedback_post(
    request: HttpRequest,
    application: Application,
    state: JourneyState,
    page_id: str,
    *,
    render: Callable[..., HttpResponse],
) -> HttpResponse:
    """Record the satisfaction answer of a confirmation or exit page, or show the page again with the error."""
    language = language_of(request)
    raw_rating = request.POST.get("rating", "")
    comment = request.POST.get("comment", "")
    try:
        rating = int(raw_rating) if raw_rating.isdigit() and len(raw_rating) == 1 else 0
        services.satisfaction_record(
            service_id=application.service_id,
            version=application.version_number,
            page_id=page_id,
            rating=rating,
            comment=comment,
            application=application,
            language=language,
        )
    except errors.FeedbackInvalidError as error:
        anchor = "#rating" if "satisfied" in error.message else "#comment"
        return render(
            feedback_error=error.message,
            feedback_comment=comment[:5000],
            summary_errors=[{"text": error.message, "href": anchor}],
        )
    target = page_url(application, page_id) if page_id != "confirmation" else _url("confirmation", application)
    return HttpResponseRedirect(f"{target}?{FEEDBACK_FORM}=sent")


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def confirmation(request: HttpRequest, application: Application) -> HttpResponse:
    """Show the reference in a panel, what happens next, the PDF copy and the satisfaction question."""
    if application.status not in SUBMITTED_STATUSES:
        if services.draft_open(application):
            return HttpResponseRedirect(_url("check_answers", application))
        return _not_a_draft(request, application)
    state = _state_first(request, application)
    language = language_of(request)

    def render(**extra: Any) -> HttpResponse:
        return page(
            request,
            "journeys/confirmation.html",
            title=_("Application sent")
            if application.status != ApplicationStatus.AWAITING_PAYMENT
            else _("Application saved: payment needed"),
            service_name=_service_name(state, language),
            application=application,
            awaiting_payment=application.status == ApplicationStatus.AWAITING_PAYMENT,
            payment_link=hooks.payment_link_for(application, language),
            fee_summary=selectors.fees_of(state),
            decision_date=selectors.expected_decision_date(application, state),
            has_email=services.applicant_email(application) is not None,
            feedback_page="confirmation",
            feedback_sent=request.GET.get(FEEDBACK_FORM) == "sent",
            **extra,
        )

    if request.method == "POST":
        return _feedback_post(request, application, state, "confirmation", render=render)
    return render()
