"""ASVS 6.1.2/6.2.11: passwords must not contain the product's, the organisation's or a live service's name.

``govserve.accounts.passwords.ContextWordsValidator`` is in
AUTH_PASSWORD_VALIDATORS, so staff (set-password link, change) and citizens
(account page) meet the same rule; the institution fixture is "Westmoor City
Council" (code ``city-council``).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from govserve.accounts import citizens, errors, services
from govserve.accounts.models import Institution
from govserve.accounts.passwords import ContextTerm, ContextWordsValidator, context_word_in
from govserve.accounts.tests.conftest import Staff, sent_emails
from govserve.audit.actors import Actor
from govserve.catalogue.models import Service, ServiceStatus

pytestmark = pytest.mark.django_db

MESSAGE = "Your password must not contain the name of this service or organisation, like “{}”"
LINK = re.compile(r"http://[^\s]+(/sign-in/link/[A-Za-z0-9_-]{43})")
WESTMOOR = [ContextTerm("govserve"), ContextTerm("Westmoor City Council", by_word=True), ContextTerm("city-council")]


@pytest.mark.parametrize(
    ("password", "found"),
    [
        ("westmoor-rivers-and-hills", "Westmoor"),
        ("My WESTMOOR password 2026", "Westmoor"),
        ("W3stm00r-rivers-and-hills", "Westmoor"),
        ("west moor rivers and hills", "Westmoor"),
        ("i-love-govserve-very-much", "govserve"),
        ("G0v$erve-rivers-and-hills", "govserve"),
        ("city_council_rivers_hills", "city-council"),
        ("Westmoor City Council 1", "Westmoor City Council"),
    ],
    ids=["lower", "upper", "look-alikes", "spaced", "product", "product-look-alikes", "code", "whole-name"],
)
def test_a_password_holding_a_context_word_is_found(password: str, found: str) -> None:
    assert context_word_in(password, WESTMOOR) == found


@pytest.mark.parametrize(
    "password",
    ["correct-horse-battery-staple-42", "my city has a good council", "rivers-and-hills-of-wales"],
    ids=["unrelated", "generic-words", "other"],
)
def test_generic_and_unrelated_words_pass(password: str) -> None:
    assert context_word_in(password, WESTMOOR) == ""


def test_the_validator_reads_institutions_and_live_services_from_the_database(institution: Institution) -> None:
    Service.objects.create(
        id="river-fishing-permit", owning_institution=institution, title="Fishing permit", status="live"
    )
    Service.objects.create(
        id="secret-draft-service", owning_institution=institution, title="Drafted", status=ServiceStatus.DRAFT
    )
    Institution.objects.create(code="old-board", name="Ravensholt Board", is_active=False)

    for password, word in [
        ("westmoor-rivers-and-hills", "Westmoor"),
        ("my-river-fishing-permit-9", "river-fishing-permit"),
        ("a-long-fishingpermit-pass", "Fishing permit"),
    ]:
        with pytest.raises(ValidationError) as refused:
            validate_password(password)
        assert MESSAGE.format(word) in refused.value.messages
    validate_password("my-secret-draft-service-x")  # a draft is not public: not refused
    validate_password("ravensholt-rivers-and-hills")  # an inactive institution is not refused


@override_settings(GOVSERVE_ORGANISATION_NAME="Borough of Eastbridge", GOVSERVE_SITE_NAME="Eastbridge Services")
def test_the_configured_organisation_and_site_names_are_refused(db: None) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password("eastbridge-rivers-and-hills")
    assert MESSAGE.format("Eastbridge") in refused.value.messages
    validate_password("borough-rivers-and-hills")


def test_the_help_text_says_what_is_refused() -> None:
    assert ContextWordsValidator().get_help_text() == (
        "Your password must not contain the name of this service or organisation."
    )


# --- staff ---------------------------------------------------------------------------------------------


def test_staff_cannot_change_their_password_to_one_with_the_organisations_name(
    client: Client, signed_in_officer: Staff
) -> None:
    before = signed_in_officer.user.password
    password = "Westmoor-rivers-and-hills-1"

    response = client.post("/staff/account/password", {"password": password, "password_confirm": password})

    assert response.status_code == 400
    assert MESSAGE.format("Westmoor") in response.content.decode()
    signed_in_officer.user.refresh_from_db()
    assert signed_in_officer.user.password == before


def test_a_staff_set_password_link_refuses_the_product_name(officer: Staff) -> None:
    token = services.staff_password_link_issue(actor=Actor.system("test"), user=officer.user).token
    with pytest.raises(errors.WeakPasswordError) as refused:
        services.staff_password_set_from_link(token=token, password="govserve-rivers-and-hills")
    assert MESSAGE.format("govserve") in refused.value.message


# --- citizens ------------------------------------------------------------------------------------------


def test_a_citizen_cannot_choose_a_password_with_an_institutions_name(client: Client, institution: Institution) -> None:
    assert client.post("/sign-in", {"email": "grace.hopper@example.org"})["Location"] == "/sign-in/check-your-email"
    match = LINK.search(sent_emails()[-1].body)
    assert match is not None
    assert client.post(match.group(1)).status_code == 302
    password = "my-westmoor-home-2026"

    response = client.post("/account/password", {"password": password, "password_confirm": password})

    assert response.status_code == 400
    assert MESSAGE.format("Westmoor") in response.content.decode()
    citizen = citizens.citizen_find_by_email("grace.hopper@example.org")
    assert citizen is not None
    assert not citizen.has_password


def test_a_citizen_password_set_by_a_trusted_caller_is_refused_too(institution: Institution) -> None:
    citizen = citizens.citizen_create(email="ada@example.org")
    with pytest.raises(errors.WeakPasswordError) as refused:
        citizens.citizen_password_set(citizen=citizen, password="westmoor city council 9")
    assert MESSAGE.format("Westmoor City Council") in refused.value.message
    citizens.citizen_password_set(citizen=citizen, password="rivers-and-hills-of-wales")
    citizen.refresh_from_db()
    assert check_password("rivers-and-hills-of-wales", citizen.password_hash)


def test_short_words_of_a_name_are_not_refused_alone_but_its_distinctive_ones_are() -> None:
    terms = [ContextTerm("GovStack conformance test data", by_word=True)]
    assert context_word_in("my-test-data-rivers-hills", terms) == ""
    assert context_word_in("my-conformance-rivers-hills", terms) == "conformance"
    assert context_word_in("a-govstack-rivers-hills", terms) == "GovStack"
