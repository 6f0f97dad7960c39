"""Test data for the journey: the example services (compiled or published), citizens and sessions."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from django.test import Client

from govserve.accounts import signin
from govserve.accounts.citizens import citizen_create
from govserve.accounts.models import Citizen, Institution
from govserve.catalogue.compiled import CompiledDefinition, compile_definition
from govserve.catalogue.definitions.loader import load_definition_file
from govserve.catalogue.services import DefinitionSource, definition_publish
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationFee

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
STREET_TRADING = "street-trading-licence"
NEWBORN = "register-newborn"
STREET_LIGHT = "report-street-light"
INSTITUTIONS = {
    "city-council": "Westmoor City Council",
    "health-agency": "National Health Registration Agency",
    "civil-registry": "Civil Registration Office",
}


@functools.cache
def example_compiled(service_id: str) -> CompiledDefinition:
    """Return an example service compiled as version 1, without the database (pure routing tests)."""
    catalogues = {}
    for path in sorted((EXAMPLES / "catalogues").glob("*.yaml")):
        loaded = load_definition_file(path)
        assert loaded.ok, loaded.problems
        catalogues.update({catalogue.id: catalogue for catalogue in loaded.catalogues})
    result = load_definition_file(EXAMPLES / "services" / f"{service_id}.yaml")
    assert result.ok, result.problems
    assert result.definition is not None
    return compile_definition(
        service_id=service_id,
        version=1,
        content_hash="test",
        definition=result.definition,
        catalogues={
            key: value for key, value in catalogues.items() if key in result.definition.referenced_catalogues()
        },
        source_name=f"{service_id}.yaml",
    )


def institutions_create() -> None:
    """Create the institutions the examples name."""
    for code, name in INSTITUTIONS.items():
        Institution.objects.get_or_create(code=code, defaults={"name": name})


def examples_publish(*service_ids: str) -> None:
    """Publish the example catalogues and the named example services (all three by default)."""
    institutions_create()
    for path in sorted((EXAMPLES / "catalogues").glob("*.yaml")):
        definition_publish(source=DefinitionSource.from_path(path), actor=None, reason="test")
    for service_id in service_ids or (STREET_TRADING, NEWBORN, STREET_LIGHT):
        definition_publish(
            source=DefinitionSource.from_path(EXAMPLES / "services" / f"{service_id}.yaml"), actor=None, reason="test"
        )


def example_text(service_id: str) -> str:
    """Return the text of an example service definition."""
    return (EXAMPLES / "services" / f"{service_id}.yaml").read_text(encoding="utf-8")


def publish_text(text: str, name: str) -> None:
    """Publish a definition from ``text`` (a changed example: the next version)."""
    definition_publish(source=DefinitionSource(name=name, text=text), actor=None, reason="test")


def citizen_new(email: str = "ada@example.org") -> Citizen:
    """Create a citizen account."""
    return citizen_create(email=email)


def sign_in(client: Client, citizen: Citizen) -> None:
    """Sign ``citizen`` in on ``client``'s session, as the emailed link would."""
    session = client.session
    session[signin.CITIZEN_ID] = str(citizen.id)
    session.save()
    # stamp() needs a request-like object with a session.
    holder: Any = type("Holder", (), {"session": session})()
    signin.stamp(holder, signin.KIND_CITIZEN)
    session.save()


def applicant(citizen: Citizen | None = None, *granted: Any) -> Applicant:
    """Return the applicant identity of ``citizen`` and/or granted application ids."""
    return Applicant(citizen=citizen, granted=frozenset(granted))


# --- Form data of each example page (what a browser posts) -------------------------------------------------

Form = dict[str, list[str]]

TRADING_FORMS: dict[str, Form] = {
    "age": {"date_of_birth-day": ["27"], "date_of_birth-month": ["3"], "date_of_birth-year": ["1990"]},
    "your-name": {"full_name": ["Ada Lovelace"]},
    "contact-details": {"email": ["ada.lovelace@example.org"], "phone": ["07700 900123"]},
    "home-address": {
        "home_address-line1": ["12 Analytical Row"],
        "home_address-town": ["Westmoor"],
        "home_address-postcode": ["wm1 1aa"],
    },
    "trading-type": {"trading_type": ["goods"], "goods_description": ["Cut flowers and bouquets"]},
    "food-business": {"food_registration_number": ["FB123456"]},
    "pitch": {"pitch_location": ["market-square-1"], "days_per_week": ["5"], "licence_length": ["12_months"]},
    "assistants": {},
}
TRADING_PATH = [
    "age",
    "your-name",
    "contact-details",
    "home-address",
    "trading-type",
    "pitch",
    "assistants",
    "photo",
]

NEWBORN_FORMS: dict[str, Form] = {
    "baby": {
        "baby_given_names": ["Augusta Ada"],
        "baby_family_name": ["Byron"],
        "baby_sex": ["female"],
        "place_of_birth": ["hospital"],
    },
    "mother": {
        "mother_full_name": ["Anne Isabella Milbanke"],
        "mother_date_of_birth-day": ["17"],
        "mother_date_of_birth-month": ["5"],
        "mother_date_of_birth-year": ["1992"],
        "mother_nhs_number": ["485 777 3456"],
        "home_address-line1": ["13 Piccadilly Terrace"],
        "home_address-town": ["Westmoor"],
        "home_address-postcode": ["WM1 2BB"],
    },
    "second-parent-question": {"second_parent": ["no"]},
    "care-programmes": {"optional_registrations": ["infant-care"]},
    "certificates": {"extra_certificates": ["2"]},
    "contact": {"contact_email": ["anne.milbanke@example.org"], "contact_phone": [""]},
}
NEWBORN_PATH = [
    "baby-date-of-birth",
    "baby",
    "mother",
    "second-parent-question",
    "care-programmes",
    "certificates",
    "contact",
]

LIGHT_FORMS: dict[str, Form] = {
    "private-land": {"on_private_land": ["no"]},
    "problem": {"problem": ["damaged"], "exposed_wires": ["yes"]},
    "location": {
        "lamp_post_number": ["WM-04512"],
        "street": ["Babbage Street"],
        "postcode": [""],
        "location_details": ["Opposite number 12"],
    },
    "photo": {},
    "your-details": {
        "reporter_name": ["Charles Babbage"],
        "reporter_email": ["charles.babbage@example.org"],
        "reporter_phone": [""],
        "contact_preference": ["email"],
    },
}
LIGHT_PATH = ["private-land", "problem", "location", "photo", "your-details"]


def date_form(field_id: str, day: Any) -> Form:
    """Return the three date inputs of ``field_id`` for the date ``day``."""
    return {
        f"{field_id}-day": [str(day.day)],
        f"{field_id}-month": [str(day.month)],
        f"{field_id}-year": [str(day.year)],
    }


# --- A test client that posts forms as a browser does -------------------------------------------------------

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
_ACTION = re.compile(r'action="([^"]*)"')
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser(Client):
    """A test client with CSRF checks on, which posts a form only with the token the page put in it.

    Every HTML answer is read for its forms: the CSRF token inside each form
    is remembered for that form's action. A POST to a path sends the token of
    the form last seen for it, and none if no page showed such a form, so a
    form rendered without its token (or a path no page links to) fails as it
    would in a browser (403).
    """

    def __init__(self) -> None:
        super().__init__(enforce_csrf_checks=True)
        self.form_tokens: dict[str, str] = {}
        self.session_token = ""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        if "text/html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
            for attributes, body in _FORM.findall(response.content.decode()):
                action = _ACTION.search(attributes)
                token = _TOKEN.search(body)
                if action is not None and token is not None:
                    self.form_tokens[action.group(1).split("?", 1)[0]] = token.group(1)
                if token is not None:
                    self.session_token = token.group(1)
        return response

    def post(self, path: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        token = self.form_tokens.get(path.split("?", 1)[0])
        if token is not None and isinstance(data, dict) and "csrfmiddlewaretoken" not in data:
            data = {**data, "csrfmiddlewaretoken": token}
        elif token is not None and data is None:
            data = {"csrfmiddlewaretoken": token}
        return super().post(path, data, *args, **kwargs)

    def post_crafted(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """POST a request no page offered (a hand-made URL or form), with this session's valid CSRF token.

        What someone tampering with their own requests can do: the token is
        theirs, the path and the fields are not what the pages sent.
        """
        return super().post(path, {**(data or {}), "csrfmiddlewaretoken": self.session_token})


def fee_rows(application: Application) -> list[tuple[str, str, int, str, str, int]]:
    """Return the application's recorded fees as (fee, kind, amount, paid when, status, refund due), oldest first."""
    return list(
        ApplicationFee.objects.filter(application=application)
        .order_by("id")
        .values_list("fee_id", "kind", "amount_minor", "paid_when", "status", "refund_due_minor")
    )
