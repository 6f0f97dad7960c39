"""URLs of govserve.documents: the decrypting, permission-checked download view."""

from django.urls import path

from govserve.documents import views

app_name = "documents"

urlpatterns = [
    path("documents/<uuid:document_id>", views.document_download, name="download"),
]
