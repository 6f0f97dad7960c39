"""Routes of the GovStack API; mounted at ``/govstack/`` (main port) and at ``/`` by ``serve --govstack``."""

from django.urls import path

from govserve.api.govstack import tasks, views

app_name = "govstack"

urlpatterns = [
    path("services", views.service_list, name="service_list"),
    path("services/<str:service_id>", views.service_get, name="service_get"),
    path("services/<str:service_id>/eForms", views.service_eforms, name="service_eforms"),
    path("services/<str:service_id>/applications", views.application_create, name="application_create"),
    path("eForms/<str:eform_id>", views.eform_get, name="eform_get"),
    path("applications", views.application_list, name="application_list"),
    path("applications/<str:file_id>", views.application_file, name="application_get"),
    path("documents", views.document_upload, name="document_upload"),
    path("documents/<str:document_id>", views.document_get, name="document_get"),
    path("data/statistics", views.statistics, name="statistics"),
    path("data/statistics/1.0", views.statistics, name="statistics_versioned"),
]

urlpatterns += tasks.urlpatterns
