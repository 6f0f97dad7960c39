"""The staff landing page lists the work each person's roles open to them, and only that."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from govserve.accounts.models import Institution
from govserve.accounts.tests.conftest import Staff, sign_in
from govserve.accounts.tests.factories import device_create, role_grant, staff_create


def _links(client: Client) -> list[tuple[str, str]]:
    response = client.get("/staff/")
    assert response.status_code == 200
    block = re.search(r'<ul class="govuk-list" id="your-work">(.*?)</ul>', response.content.decode(), re.DOTALL)
    if block is None:
        return []
    return re.findall(r'<a class="govuk-link" href="([^"]+)">([^<]+)</a>', block.group(1))


def _person(institution: Institution, *roles: str) -> Staff:
    user = staff_create(username="-".join(roles) or "nobody")
    for role in roles:
        role_grant(user=user, institution=institution, role=role)
    return Staff(user=user, device=device_create(user=user), institution=institution)


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("licensing_officer",), [("/staff/queues/", "Queues"), ("/staff/my-tasks/", "My tasks")]),
        (("finance",), [("/staff/payments/reconciliation", "Payments reconciliation")]),
        (
            ("data-protection-officer",),
            [
                ("/staff/privacy/subject-access", "Subject access requests"),
                ("/staff/privacy/erasure", "Erase a person&#39;s data"),
                ("/staff/privacy/services/", "Data-protection reports"),
            ],
        ),
        (("service-owner",), [("/staff/suppliers", "Supplier staff")]),
        ((), []),
    ],
    ids=["caseworker", "finance", "data-protection-officer", "service-owner", "no-role"],
)
def test_the_staff_home_links_the_work_of_each_role(
    client: Client, institution: Institution, roles: tuple[str, ...], expected: list[tuple[str, str]]
) -> None:
    sign_in(client, _person(institution, *roles))

    assert _links(client) == expected


def test_every_work_link_opens_for_the_person_it_is_shown_to(client: Client, institution: Institution) -> None:
    person = _person(institution, "licensing_officer", "finance", "data-protection-officer", "service-owner")
    sign_in(client, person)

    links = _links(client)

    assert len(links) == 7
    for href, _text in links:
        assert client.get(href).status_code == 200, href
