"""URLs of the privacy pages: the applicant's access list, and the staff pages under /staff/privacy/."""

from django.urls import path

from govserve.privacy import erasure_views, views

app_name = "privacy"

urlpatterns = [
    path("applications/<uuid:application_id>/who-has-seen-it", views.application_access, name="application_access"),
    path("staff/privacy/subject-access", views.subject_access, name="subject_access"),
    path(
        "staff/privacy/subject-access/<uuid:request_id>",
        views.subject_access_request,
        name="subject_access_request",
    ),
    path(
        "staff/privacy/subject-access/<uuid:request_id>/download",
        views.subject_access_download,
        name="subject_access_download",
    ),
    path("staff/privacy/services/", views.dp_reports, name="dp_reports"),
    path("staff/privacy/services/<slug:service_id>/", views.dp_report_page, name="dp_report"),
    path("staff/privacy/erasure", erasure_views.erasure_page, name="erasure"),
]
