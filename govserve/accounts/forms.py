"""Forms of the sign-in pages: parsing and GOV.UK error messages, nothing else.

Messages follow the GOV.UK Design System: say what to do ("Enter your
username"), never "invalid input".
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class StaffSignInForm(forms.Form):
    username = forms.CharField(max_length=150, strip=True, error_messages={"required": _("Enter your username")})
    password = forms.CharField(max_length=4096, strip=False, error_messages={"required": _("Enter your password")})


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        strip=True,
        error_messages={"required": _("Enter the 6-digit code from your authenticator app")},
    )


class PasswordForm(forms.Form):
    password = forms.CharField(max_length=4096, strip=False, error_messages={"required": _("Enter your password")})


class ReauthenticateForm(forms.Form):
    password = forms.CharField(max_length=4096, strip=False, error_messages={"required": _("Enter your password")})
    code = forms.CharField(
        max_length=32,
        strip=True,
        error_messages={"required": _("Enter the 6-digit code from your authenticator app")},
    )


class NewPasswordForm(forms.Form):
    password = forms.CharField(max_length=4096, strip=False, error_messages={"required": _("Enter a new password")})
    password_confirm = forms.CharField(
        max_length=4096, strip=False, error_messages={"required": _("Enter the new password again")}
    )

    def clean(self) -> dict[str, object]:
        """Require both entries to match."""
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        confirm = cleaned.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", _("The passwords do not match: enter the same password twice"))
        return cleaned


class CitizenEmailForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
            "max_length": _("Email address must be 254 characters or fewer"),
        },
    )


class CitizenPasswordSignInForm(CitizenEmailForm):
    password = forms.CharField(max_length=4096, strip=False, error_messages={"required": _("Enter your password")})


class CitizenPasswordChangeForm(NewPasswordForm):
    """The new password twice, and the current one when the page asks for it (the service checks it)."""

    current_password = forms.CharField(max_length=4096, strip=False, required=False)
