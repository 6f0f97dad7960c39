"""URLs of accounts: staff sign-in under /staff/, citizen sign-in at the site root."""

from django.urls import path

from govserve.accounts import citizen_views, views

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
    path("staff/suppliers", views.staff_suppliers, name="staff_suppliers"),
    path("staff/set-password/<str:token>", views.staff_set_password, name="staff_set_password"),
    path("staff/set-up-authenticator/<str:token>", views.staff_enrolment_link, name="staff_enrolment_link"),
    path("sign-in", citizen_views.citizen_sign_in, name="citizen_sign_in"),
    path("sign-in/check-your-email", citizen_views.citizen_check_email, name="citizen_check_email"),
    path("sign-in/link/<str:token>", citizen_views.citizen_link, name="citizen_link"),
    path("sign-in/password", citizen_views.citizen_password_sign_in, name="citizen_password_sign_in"),
    path("sign-out", citizen_views.citizen_sign_out, name="citizen_sign_out"),
    path("account", citizen_views.citizen_account, name="citizen_account"),
    path("account/email", citizen_views.citizen_email_change, name="citizen_email_change"),
    path("account/email/confirm/<str:token>", citizen_views.citizen_email_confirm, name="citizen_email_confirm"),
    path("account/password", citizen_views.citizen_password, name="citizen_password"),
    path("account/password/email-link", citizen_views.citizen_password_link, name="citizen_password_link"),
]
