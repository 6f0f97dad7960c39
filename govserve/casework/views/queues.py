"""Queues: the unassigned pool of the person's roles and their own tasks; claim, release, assign.

The filters are a GET form; claim, release and assign are POST forms that
come back to the page they were sent from (``next``) with a banner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from govserve.accounts.decorators import staff_required
from govserve.casework import errors, selectors, services
from govserve.casework.forms import QueueFilters, queue_filters_read
from govserve.casework.views import common, names

PER_PAGE = 25


@dataclass(frozen=True)
class PageLink:
    """One numbered link of the pagination (or a gap)."""

    number: int = 0
    href: str = ""
    current: bool = False
    ellipsis: bool = False


@dataclass(frozen=True)
class Pages:
    """The pagination of a list."""

    count: int
    items: list[PageLink]
    previous_href: str
    next_href: str


@dataclass(frozen=True)
class TaskLine:
    """A row of a queue as the template shows it."""

    task_id: uuid.UUID
    version: int
    file_url: str
    reference: str
    service_name: str
    role_name: str
    submitted_text: str
    due_text: str
    overdue: bool
    assignee_name: str
    claim_url: str
    release_url: str
    claim_off: bool


def pages_for(request: HttpRequest, *, page: int, per_page: int, total: int) -> Pages:
    """Return the pagination of ``total`` items shown ``per_page`` at a time, on ``page``."""
    count = max(1, -(-total // per_page))
    wanted = sorted({1, count, page - 1, page, page + 1} & set(range(1, count + 1)))
    items: list[PageLink] = []
    previous = 0
    for number in wanted:
        if previous and number > previous + 1:
            items.append(PageLink(ellipsis=True))
        items.append(PageLink(number=number, href=common.query_with(request, page=number), current=number == page))
        previous = number
    return Pages(
        count=count,
        items=items,
        previous_href=common.query_with(request, page=page - 1) if page > 1 else "",
        next_href=common.query_with(request, page=page + 1) if page < count else "",
    )


def _options(pairs: list[tuple[str, str]], selected: str, *, any_text: str) -> list[dict[str, Any]]:
    options = [{"value": "", "text": any_text, "selected": not selected}]
    options += [{"value": value, "text": text, "selected": value == selected} for value, text in pairs]
    return options


def _filter_context(
    request: HttpRequest, filters: QueueFilters, *, view: str, options: names.FilterOptions
) -> dict[str, Any]:
    services_seen, roles = options.services, options.roles
    statuses: list[tuple[str, str]] = []
    if view == "mine":
        statuses = []
    elif view == "all":
        statuses = [("pending", _("Waiting to be claimed")), ("claimed", _("Assigned"))]
    sorts = [
        ("due_on", _("Due date, soonest first")),
        ("-due_on", _("Due date, latest first")),
        ("submitted_at", _("Submitted, oldest first")),
        ("-submitted_at", _("Submitted, newest first")),
        ("reference", _("Reference")),
    ]
    return {
        "reference": filters.reference,
        "overdue": filters.overdue,
        "submitted_from": filters.from_parts,
        "submitted_to": filters.to_parts,
        "role_options": _options(roles, filters.role, any_text=_("All your roles")),
        "service_options": _options(services_seen, filters.service, any_text=_("All services")),
        "status_options": _options(statuses, filters.status, any_text=_("Any status")) if statuses else [],
        "sort_options": [{"value": value, "text": text, "selected": value == filters.sort} for value, text in sorts],
    }


_SENTINEL = str(uuid.UUID(int=0))


class RowUrls:
    """The addresses of a page's rows: each route reversed once per page, then filled in per row.

    A ``reverse`` per link of every row cost more than the rest of the row (profile of the pool page).
    """

    def __init__(self) -> None:
        self._patterns: dict[str, str] = {}

    def __call__(self, name: str, key: uuid.UUID) -> str:
        """Return ``reverse(name, args=[key])``."""
        pattern = self._patterns.get(name)
        if pattern is None:
            pattern = self._patterns[name] = reverse(name, args=[_SENTINEL])
        return pattern.replace(_SENTINEL, str(key))


def task_line(
    row: Any,
    *,
    request: HttpRequest,
    user_id: uuid.UUID,
    language: str,
    titles: names.Titles | None = None,
    urls: RowUrls | None = None,
) -> TaskLine:
    """Return a queue row for the template: the actions the person may take on it."""
    pending = row.status == "pending"
    mine = row.assignee_id == user_id
    human = row.kind == "human"  # bot tasks are decided by the worker, never claimed
    url = urls or RowUrls()
    return TaskLine(
        task_id=row.task_id,
        version=row.version,
        file_url=url("casework:file", row.file_id),
        reference=row.reference,
        service_name=(titles or names.Titles(language))(row.service_id),
        role_name=row.role_name,
        submitted_text=common.date_text(row.submitted_at, language),
        due_text=common.date_text(row.due_on, language),
        overdue=bool(row.overdue),
        assignee_name=row.assignee_name or "",
        claim_url=url("casework:task_claim", row.task_id) if pending and row.claiming and human else "",
        release_url=url("casework:task_release", row.task_id) if mine else "",
        claim_off=pending and not row.claiming and human,
    )


def results_heading(total: int, *, capped: bool) -> str:
    """Return "12 tasks" (or "More than 10,000 tasks" when the count stopped at its cap)."""
    if capped:
        return _("More than %(count)s tasks") % {"count": f"{total:,}"}
    return ngettext("%(count)s task", "%(count)s tasks", total) % {"count": f"{total:,}"}


def _queue(request: HttpRequest, *, view: str, title: str) -> HttpResponse:
    user = common.staff_user(request)
    language = common.language_of(request)
    filters, field_errors = queue_filters_read(request.GET)
    result = selectors.task_queue(
        user=user,
        view=view,
        service_id=filters.service or None,
        role_id=filters.role or None,
        status=filters.status or None,
        overdue=True if filters.overdue else None,
        submitted_from=filters.submitted_from,
        submitted_to=filters.submitted_to,
        reference=filters.reference or None,
        sort=filters.sort,
        page=filters.page,
        per_page=PER_PAGE,
    )
    options = names.filter_options(user=user, language=language)
    titles = names.Titles(language, known=options.live_titles)
    urls = RowUrls()
    tasks = [
        task_line(row, request=request, user_id=user.id, language=language, titles=titles, urls=urls)
        for row in result.rows
    ]
    if view == "mine":
        empty = _("You have no tasks. Claim one from the queues, or ask your team leader.")
        intro = _("Tasks claimed by you or assigned to you.")
    else:
        empty = _("There are no tasks waiting in your queues.")
        intro = _("Tasks waiting for someone in your roles. Claim a task to work on it.")
    if any(filters.__dict__[name] for name in ("reference", "role", "service", "status", "overdue")) or (
        filters.submitted_from or filters.submitted_to
    ):
        empty = _("No tasks match these filters.")
    return common.staff_page(
        request,
        "casework/queue.html",
        title=title,
        field_errors=field_errors,
        intro=intro,
        filters=_filter_context(request, filters, view=view, options=options),
        tasks=tasks,
        show_assignee=view != "mine",
        results_heading=results_heading(result.total, capped=result.total_capped),
        empty_text=empty,
        pages=pages_for(request, page=result.page, per_page=result.per_page, total=result.total),
        # Filters that cannot be read are shown with their message; the list ignores them.
        status=200,
    )


@never_cache
@require_http_methods(["GET"])
@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """The unassigned pool of every role the person holds."""
    return _queue(request, view="pool", title=_("Queues"))


@never_cache
@require_http_methods(["GET"])
@staff_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The tasks claimed by or assigned to the person."""
    return _queue(request, view="mine", title=_("My tasks"))


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


@require_POST
@staff_required
def task_claim(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Claim a task of the pool; back to where the person was, with a banner."""
    user = common.staff_user(request)
    try:
        task = services.task_claim(user=user, task_id=task_id, version=_version(request))
    except (
        errors.TaskAlreadyClaimedError,
        errors.TaskClosedError,
        errors.TaskChangedError,
        errors.ClaimingDisabledError,
        errors.FileNotOpenError,
        errors.NotAssigneeError,  # a team leader who leads the role but does not hold it: assign instead
    ) as error:
        return common.problem_page(
            request, error, back_href=reverse("casework:queue"), back_text=_("Back to the queues")
        )
    except errors.TaskNotFoundError as error:
        return common.problem_page(request, error)
    common.notice_success(request, _("You claimed %(reference)s.") % {"reference": task.reference})
    return common.redirect_next(request, reverse("casework:file", args=[task.case_file_id]))


@require_POST
@staff_required
def task_release(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Give a task back to the pool."""
    user = common.staff_user(request)
    try:
        task = services.task_release(user=user, task_id=task_id, version=_version(request))
    except (errors.TaskClosedError, errors.TaskChangedError, errors.NotAssigneeError, errors.FileNotOpenError) as error:
        return common.problem_page(request, error)
    except errors.TaskNotFoundError as error:
        return common.problem_page(request, error)
    common.notice_success(
        request, _("You released %(reference)s. It is back in the queue.") % {"reference": task.reference}
    )
    return common.redirect_next(request, reverse("casework:my_tasks"))


@require_POST
@staff_required
def task_assign(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Assign a task to a colleague who holds its role (chosen from a select)."""
    user = common.staff_user(request)
    assignee_id = common.uuid_or_none(request.POST.get("assignee"))
    if assignee_id is None:
        # Nothing chosen (or a tampered value): say so on the file page.
        try:
            task = selectors.task_for_staff(user=user, task_id=task_id)
        except errors.TaskNotFoundError as error:
            return common.problem_page(request, error)
        common.notice_important(
            request, _("Select the colleague to assign %(reference)s to.") % {"reference": task.reference}
        )
        return common.redirect_next(request, reverse("casework:file", args=[task.case_file_id]))
    try:
        task = services.task_assign(user=user, task_id=task_id, assignee_id=assignee_id, version=_version(request))
    except errors.AssigneeNotEligibleError as error:
        common.notice_important(request, error.message)
        return common.redirect_next(request, reverse("casework:queue"))
    except (
        errors.TaskClosedError,
        errors.TaskChangedError,
        errors.ClaimingDisabledError,
        errors.NotTeamLeaderError,
        errors.NotAssigneeError,
        errors.TaskAlreadyClaimedError,
        errors.FileNotOpenError,
    ) as error:
        return common.problem_page(request, error)
    except errors.TaskNotFoundError as error:
        return common.problem_page(request, error)
    common.notice_success(
        request,
        _("%(reference)s is assigned to %(name)s.")
        % {"reference": task.reference, "name": common.person_name(task.assignee)},
    )
    return common.redirect_next(request, reverse("casework:file", args=[task.case_file_id]))
