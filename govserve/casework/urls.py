"""URLs of the operator workspace, mounted under /staff/ (config/urls.py)."""

from django.urls import path

from govserve.casework.views import assisted, decisions, files, queues, search, team

app_name = "casework"

urlpatterns = [
    path("queues/", queues.queue, name="queue"),
    path("my-tasks/", queues.my_tasks, name="my_tasks"),
    path("team/", team.team, name="team"),
    path("search/", search.search, name="search"),
    path("tasks/<uuid:task_id>/claim", queues.task_claim, name="task_claim"),
    path("tasks/<uuid:task_id>/release", queues.task_release, name="task_release"),
    path("tasks/<uuid:task_id>/assign", queues.task_assign, name="task_assign"),
    path("tasks/<uuid:task_id>/decision", decisions.decision, name="decision"),
    path("files/<uuid:file_id>/", files.file_detail, name="file"),
    path("files/<uuid:file_id>/print", files.file_print, name="file_print"),
    path("files/<uuid:file_id>/messages", files.message_send, name="message_send"),
    path("files/<uuid:file_id>/notes", files.note_add, name="note_add"),
    path("files/<uuid:file_id>/counter", files.counter, name="counter"),
    path("files/<uuid:file_id>/answers/<slug:field_id>/correct", files.correction, name="correction"),
    path("files/<uuid:file_id>/results/<uuid:result_id>/revoke", files.result_revoke, name="result_revoke"),
    path("assisted/", assisted.assisted_start, name="assisted_start"),
    path("assisted/<uuid:application_id>", assisted.assisted_continue, name="assisted_continue"),
]
