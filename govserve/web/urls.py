from django.urls import path

from govserve.web import security, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path(".well-known/security.txt", security.security_txt, name="security_txt"),
    path("security.txt", security.security_txt_legacy, name="security_txt_legacy"),
]
