"""The team leader's view: queue sizes and overdue work per role and service; bulk reassignment.

Bulk reassignment is a plain form (a checkbox per task and a select of
colleagues), so it works without JavaScript; the service moves all the chosen
tasks or none.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts.decorators import staff_required
from govserve.casework import errors, selectors, services
from govserve.casework.forms import queue_filters_read, uuid_list
from govserve.casework.views import common, names, queues

POOL = "pool"


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def team(request: HttpRequest) -> HttpResponse:
    """Queue sizes and overdue counts per role and service; move tasks to a colleague or back to the pool."""
    user = common.staff_user(request)
    language = common.language_of(request)
    leads = selectors.team_leader_institutions(user)
    if not leads:
        return common.staff_page(request, "casework/team.html", title=_("Team"), leader=False, status=200)
    field_errors: dict[str, str] = {}
    chosen: list[str] = []
    assignee_value = ""
    if request.method == "POST":
        chosen = request.POST.getlist("tasks")
        assignee_value = request.POST.get("assignee", "")
        task_ids = uuid_list(chosen)
        if not chosen:
            field_errors["tasks"] = _("Select the tasks to reassign")
        elif task_ids is None:
            field_errors["tasks"] = _("Select the tasks to reassign from the list")
        if not assignee_value:
            field_errors["assignee"] = _("Select who to give the tasks to")
        assignee_id = None if assignee_value == POOL else common.uuid_or_none(assignee_value)
        if assignee_value and assignee_value != POOL and assignee_id is None:
            field_errors["assignee"] = _("Select who to give the tasks to from the list")
        if not field_errors and task_ids is not None:
            try:
                moved = services.tasks_reassign(user=user, task_ids=task_ids, assignee_id=assignee_id)
            except (errors.AssigneeNotEligibleError, errors.TaskNotFoundError) as error:
                field_errors["assignee" if isinstance(error, errors.AssigneeNotEligibleError) else "tasks"] = (
                    error.message
                )
            except (errors.TaskClosedError, errors.TaskChangedError, errors.NotTeamLeaderError) as error:
                return common.problem_page(
                    request, error, back_href=reverse("casework:team"), back_text=_("Back to your team")
                )
            else:
                common.notice_success(
                    request,
                    ngettext("%(count)s task reassigned.", "%(count)s tasks reassigned.", moved) % {"count": moved},
                )
                return HttpResponseRedirect(request.get_full_path())
    filters, filter_errors = queue_filters_read(request.GET)
    field_errors.update(filter_errors)
    stats = selectors.team_stats(user=user)
    options = names.filter_options(user=user, language=language)
    titles = names.Titles(language, known=options.live_titles)
    rows = [
        {
            "service_name": titles(row.service_id),
            "role_name": names.role_name(row.service_id, row.role_id, language),
            "pending": row.pending,
            "claimed": row.claimed,
            "overdue": row.overdue,
        }
        for row in stats
    ]
    result = selectors.task_queue(
        user=user,
        view="all",
        service_id=filters.service or None,
        role_id=filters.role or None,
        overdue=True if filters.overdue else None,
        reference=filters.reference or None,
        sort=filters.sort,
        page=filters.page,
        per_page=queues.PER_PAGE,
    )
    urls = queues.RowUrls()
    tasks = [
        queues.task_line(row, request=request, user_id=user.id, language=language, titles=titles, urls=urls)
        for row in result.rows
    ]
    people = _assignee_options(user, result.rows, assignee_value)
    return common.staff_page(
        request,
        "casework/team.html",
        title=_("Team"),
        field_errors=field_errors,
        leader=True,
        stats=rows,
        tasks=tasks,
        chosen=set(chosen),
        assignee_options=people,
        filters=queues._filter_context(request, filters, view="all", options=options),
        pages=queues.pages_for(request, page=result.page, per_page=result.per_page, total=result.total),
        total=result.total,
    )


def _assignee_options(user: Any, rows: list[Any], selected: str) -> list[dict[str, Any]]:
    """Return the select of people who can take tasks: everyone eligible for a task shown, and the pool."""
    seen: dict[str, str] = {}
    # Who may take a task depends on its role and service (a supplier may be limited to services), not on the task:
    # one look-up per role of each service.
    one_per_role = {(row.service_id, row.role_id): row for row in rows}
    for row in one_per_role.values():
        try:
            for person in selectors.eligible_assignees(user=user, task_id=row.task_id):
                seen.setdefault(str(person.user_id), person.name)
        except errors.TaskNotFoundError:
            continue
    options: list[dict[str, Any]] = [{"value": "", "text": _("Choose who to give them to"), "selected": not selected}]
    options.append({"value": POOL, "text": _("Nobody: back to the queue"), "selected": selected == POOL})
    options += [
        {"value": value, "text": text, "selected": value == selected}
        for value, text in sorted(seen.items(), key=lambda pair: pair[1].casefold())
    ]
    return options
