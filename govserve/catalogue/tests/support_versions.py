"""Test data for the catalogue's versions, publishing, diff, bundles and CLI tests.

``service_text()`` returns a valid definition of a small market-stall service;
its keyword arguments change one thing at a time, so each test states exactly
what differs. ``goods_catalogue_text()`` is the catalogue file it uses.
"""

from __future__ import annotations

import textwrap
from unittest import mock

import pytest
from django.db import connections

from govserve import cli
from govserve.accounts.models import Institution
from govserve.catalogue.services import DefinitionSource

SERVICE_ID = "market-stall"


def institution_create(code: str = "city-council", *, name: str = "Westmoor City Council") -> Institution:
    """Create an institution (definitions name it by ``code``)."""
    return Institution.objects.create(code=code, name=name)


def service_text(
    *,
    service_id: str = SERVICE_ID,
    institution: str = "city-council",
    title: str = "Apply for a market stall",
    adult_age: int = 18,
    fee_amount: int = 5000,
    extra_field: str = "",
    comment: str = "",
    goods_from_catalogue: bool = True,
    result_template: str | None = None,
) -> str:
    """Return a valid service definition; each argument changes one detail.

    ``result_template`` adds a result (a licence) issued from that template path.
    """
    goods = (
        "        options_from: goods"
        if goods_from_catalogue
        else textwrap.indent(
            textwrap.dedent(
                """\
                options:
                  - value: food
                    label: Food
                """
            ),
            "        ",
        ).rstrip("\n")
    )
    return (
        textwrap.dedent(
            f"""\
            schema_version: 1{comment}
            id: {service_id}
            title: {title}
            summary: Apply to trade from a stall at the Saturday market.
            institution: {institution}
            sign_in: required
            retention: P6Y
            start_page:
              body: Use this service to apply for a market stall.
            determinants:
              - id: is_adult
                expression: age(date_of_birth) >= {adult_age}
            pages:
              - id: about-you
                title: About you
                fields:
                  - id: full_name
                    type: text
                    label: Full name
                    classification: personal
                  - id: date_of_birth
                    type: date
                    label: Date of birth
                    classification: personal
              - id: trading-details
                title: Trading details
                when: is_adult
                fields:
                  - id: goods
                    type: radios
                    label: What will you sell?
                    classification: public
            """
        )
        + goods
        + "\n"
        + extra_field
        + textwrap.dedent(
            f"""\
            registrations:
              - id: stall-licence
                name: Market stall licence
                institution: {institution}
                fees:
                  - id: licence-fee
                    name: Licence fee
                    amount: {fee_amount}
            {{results}}flow:
              roles:
                - id: licensing_officer
                  name: Licensing officer
                  institution: {institution}
                  decisions:
                    approve: end
                    reject: end
                    send_back: applicant
            """
        ).replace("{results}", _results(result_template))
    )


def _results(template: str | None) -> str:
    if template is None:
        return ""
    return f"    results:\n      - id: licence\n        name: Market stall licence\n        template: {template}\n"


PITCH_SIZE_FIELD = """\
      - id: pitch_size
        type: number
        label: Pitch size in square metres
        classification: public
"""


def goods_catalogue_text(*, extra_option: str = "") -> str:
    """Return a catalogue file with the ``goods`` catalogue (and an option more when asked)."""
    text = textwrap.dedent(
        """\
        schema_version: 1
        catalogues:
          - id: goods
            title: Goods
            options:
              - value: food
                label: Food
              - value: crafts
                label: Crafts
        """
    )
    if extra_option:
        text += f"      - value: {extra_option}\n        label: {extra_option.title()}\n"
    return text


def source(text: str, name: str = "market-stall.yaml") -> DefinitionSource:
    """Wrap ``text`` as a definition source named ``name``."""
    return DefinitionSource(name=name, text=text)


def run_cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    """Run ``govserve ARGUMENTS`` in this process, on the test database; return (exit status, stdout, stderr).

    This is the operator's code path (argument parsing, exit statuses) without
    a new process. Django closes every connection after a command run from
    the command line, which would drop the test's transaction: not here.
    """
    capsys.readouterr()
    with mock.patch.object(connections, "close_all"):
        try:
            cli.main(["govserve", *arguments])
            status = 0
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err
