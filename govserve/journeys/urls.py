"""URLs of the citizen journey: the services on offer, applying, and the applicant's applications."""

from django.urls import path

from govserve.journeys.views import catalogue, changes, dashboard, journey

app_name = "journeys"

urlpatterns = [
    path("services/", catalogue.service_list, name="service_list"),
    path("services/<slug:service_id>/", catalogue.service_start, name="service_start"),
    path("services/<slug:service_id>/start", catalogue.application_new, name="application_new"),
    path("apply/resume/<str:token>", journey.access_link, name="resume"),
    path("apply/<uuid:application_id>/", journey.application_resume, name="application_resume"),
    path("apply/<uuid:application_id>/documents", journey.documents, name="documents"),
    path("apply/<uuid:application_id>/fees", journey.fees, name="fees"),
    path("apply/<uuid:application_id>/check-answers", journey.check_answers, name="check_answers"),
    path("apply/<uuid:application_id>/confirmation", journey.confirmation, name="confirmation"),
    path("apply/<uuid:application_id>/save-and-return", journey.save_and_return, name="save_and_return"),
    path("apply/<uuid:application_id>/<slug:page_id>", journey.question, name="question"),
    path("apply/<uuid:application_id>/<slug:page_id>/<slug:group_id>/add", journey.group_item, name="group_item_add"),
    path(
        "apply/<uuid:application_id>/<slug:page_id>/<slug:group_id>/<slug:item_id>",
        journey.group_item,
        name="group_item",
    ),
    path(
        "apply/<uuid:application_id>/<slug:page_id>/<slug:group_id>/<slug:item_id>/remove",
        journey.group_item_remove,
        name="group_item_remove",
    ),
    path("applications/", dashboard.application_list, name="application_list"),
    path("applications/<uuid:application_id>/", dashboard.application_detail, name="application_detail"),
    path("applications/<uuid:application_id>/answers.pdf", dashboard.answers_pdf, name="answers_pdf"),
    path("applications/<uuid:application_id>/delete", dashboard.application_delete, name="application_delete"),
    path("applications/<uuid:application_id>/withdraw", dashboard.application_withdraw, name="application_withdraw"),
    path("applications/<uuid:application_id>/changes", changes.application_changes, name="application_changes"),
    path("applications/<uuid:application_id>/changes/<slug:page_id>", changes.changes_page, name="changes_page"),
    path(
        "applications/<uuid:application_id>/changes/documents/<slug:requirement_id>",
        changes.changes_upload,
        name="changes_upload",
    ),
    path("applications/<uuid:application_id>/messages", changes.application_message, name="application_message"),
]
