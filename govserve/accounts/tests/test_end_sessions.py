"""ASVS 7.4.5: an administrator ends every open session of one staff member (``govserve staff end-sessions``)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from govserve.accounts.tests.conftest import Staff, sign_in
from govserve.accounts.tests.factories import device_create, role_grant, staff_create
from govserve.audit.models import AuditEntry


def _colleague(officer: Staff) -> Staff:
    user = staff_create(username="colleague")
    role_grant(user=user, institution=officer.institution)
    return Staff(user=user, device=device_create(user=user), institution=officer.institution)


def test_end_sessions_signs_the_person_out_everywhere_and_leaves_others_alone(officer: Staff) -> None:
    laptop, phone, theirs = Client(), Client(), Client()
    sign_in(laptop, officer)
    sign_in(phone, officer)
    colleague = _colleague(officer)
    sign_in(theirs, colleague)
    assert laptop.get("/staff/").status_code == phone.get("/staff/").status_code == 200
    out = io.StringIO()

    call_command("staff", "end-sessions", "officer", stdout=out)

    assert out.getvalue().strip() == "ended 2 session(s) of officer"
    for client in (laptop, phone):
        assert client.get("/staff/")["Location"].startswith("/staff/sign-in")
    assert theirs.get("/staff/").status_code == 200
    entry = AuditEntry.objects.get(action="accounts.staff.sessions_ended")
    assert entry.actor_id == "cli"
    assert entry.subject_id == str(officer.user.pk)
    assert entry.details == {"sessions": 2}


def test_end_sessions_without_open_sessions_ends_none_and_says_so(officer: Staff) -> None:
    out = io.StringIO()
    call_command("staff", "end-sessions", "officer", stdout=out)
    assert out.getvalue().strip() == "ended 0 session(s) of officer"
    assert AuditEntry.objects.get(action="accounts.staff.sessions_ended").details == {"sessions": 0}


def test_end_sessions_of_an_unknown_username_is_a_clear_error(db: None) -> None:
    with pytest.raises(CommandError, match="There is no staff user with the username nobody"):
        call_command("staff", "end-sessions", "nobody", stdout=io.StringIO())
    assert not AuditEntry.objects.filter(action="accounts.staff.sessions_ended").exists()
