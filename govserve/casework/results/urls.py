"""Routes of results: public verification and the PDF download."""

from django.urls import path

from govserve.casework.results import views

app_name = "casework_results"

urlpatterns = [
    path("verify", views.verify_form, name="verify"),
    path("verify/<str:code>", views.verify_code, name="verify_code"),
    path("results/<uuid:result_id>/download", views.result_download, name="download"),
]
