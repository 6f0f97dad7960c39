"""URLs of accounts: staff sign-in under /staff/, citizen sign-in at the site root."""

from django.urls import path

from govserve.accounts import views

app_name = "accounts"

urlpatterns = [
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/sign-in", views.staff_sign_in, name="staff_sign_in"),
    path("staff/sign-in/code", views.staff_sign_in_code, name="staff_sign_in_code"),
    path("staff/sign-in/set-up-authenticator", views.staff_enrol, name="staff_enrol"),
    path("staff/sign-out", views.staff_sign_out, name="staff_sign_out"),
    path("staff/signed-out", views.staff_signed_out, name="staff_signed_out"),
    path("staff/confirm-it-is-you", views.staff_reauthenticate, name="staff_reauthenticate"),
    path("staff/account/password", views.staff_change_password, name="staff_change_password"),
    path("staff/set-password/<str:token>", views.staff_set_password, name="staff_set_password"),
]
