from django.urls import path

from govserve.web import pages, preferences, security, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path(".well-known/security.txt", security.security_txt, name="security_txt"),
    path("security.txt", security.security_txt_legacy, name="security_txt_legacy"),
    # The pages every citizen page links to, the language switch and the session timeout (issue 4).
    path("accessibility", pages.accessibility_statement, name="accessibility_statement"),
    path("privacy", pages.privacy_notice, name="privacy_notice"),
    path("cookies", pages.cookies_page, name="cookies_page"),
    path("help", pages.help_page, name="help_page"),
    path("language/<str:code>", preferences.language_switch, name="language_switch"),
    path("session/extend", preferences.session_extend, name="session_extend"),
    path("session/ended", preferences.session_ended, name="session_ended"),
]
