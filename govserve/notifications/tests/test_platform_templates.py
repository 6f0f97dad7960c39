from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from pytest_django.fixtures import Settings

from govserve.notifications import platform_templates
from govserve.notifications.errors import EmailRequestError, TemplateNotFoundError, TemplateSyntaxError
from govserve.notifications.platform_templates import (
    EmailTemplate,
    PlatformTemplate,
    email_template_get,
    email_template_lookup_register,
    email_template_lookup_unregister,
)

SIGN_IN_VALUES = {"service_name": "Westmoor", "sign_in_url": "https://example.gov/s/abc", "expiry_minutes": "15"}


@pytest.mark.parametrize("name", list(PlatformTemplate))
@pytest.mark.parametrize("language", ["en", "cy"])
def test_every_platform_template_exists_in_every_offered_language(name: PlatformTemplate, language: str) -> None:
    assert {code for code, _ in settings.LANGUAGES} == {"en", "cy"}

    template = email_template_get(name=name, language=language)

    assert template.language == language
    assert template.origin == "platform"
    assert template.subject.source.strip() != ""
    assert "\n" not in template.subject.source


@pytest.mark.parametrize("name", list(PlatformTemplate))
def test_english_and_welsh_need_the_same_placeholders(name: PlatformTemplate) -> None:
    english = email_template_get(name=name, language="en")
    welsh = email_template_get(name=name, language="cy")

    assert english.names == welsh.names
    assert english.body.source != welsh.body.source


def test_the_sign_in_link_renders_in_english() -> None:
    template = email_template_get(name=PlatformTemplate.SIGN_IN_LINK, language="en")

    assert template.subject.render(SIGN_IN_VALUES) == "Sign in to Westmoor"
    body = template.body.render(SIGN_IN_VALUES)
    assert body.startswith("Use this link to sign in to Westmoor:\n\nhttps://example.gov/s/abc\n\n")
    assert "stops working after 15 minutes" in body


def test_the_sign_in_link_renders_in_welsh() -> None:
    template = email_template_get(name=PlatformTemplate.SIGN_IN_LINK, language="cy")

    assert template.subject.render(SIGN_IN_VALUES) == "Mewngofnodi i Westmoor"
    body = template.body.render(SIGN_IN_VALUES)
    assert body.startswith("Defnyddiwch y ddolen hon i fewngofnodi i Westmoor:\n\nhttps://example.gov/s/abc\n\n")
    assert "ar ôl 15 munud" in body


def test_the_submission_confirmation_carries_the_reference_in_subject_and_body() -> None:
    values = {"service_name": "Street trading licence", "reference": "HX7D-94MC", "status_url": "https://x.gov/a"}
    template = email_template_get(name=PlatformTemplate.SUBMISSION_CONFIRMATION, language="en")

    assert template.subject.render(values) == "Application received – Street trading licence – reference HX7D-94MC"  # noqa: RUF001 - GOV.UK style uses the en dash
    assert "Your reference number is:\nHX7D-94MC\n" in template.body.render(values)


def test_an_unknown_template_is_not_found() -> None:
    with pytest.raises(TemplateNotFoundError) as raised:
        email_template_get(name="no_such_template", language="en")

    assert raised.value.code == "email_template_not_found"


def test_a_language_the_site_does_not_offer_is_refused() -> None:
    with pytest.raises(EmailRequestError) as raised:
        email_template_get(name=PlatformTemplate.SIGN_IN_LINK, language="fr")

    assert str(raised.value) == "Language 'fr' is not offered; use one of cy, en"


def test_a_missing_translation_falls_back_to_the_default_language(settings: Settings) -> None:
    settings.LANGUAGES = [("en", "English"), ("cy", "Cymraeg"), ("ga", "Gaeilge")]

    template = email_template_get(name=PlatformTemplate.SIGN_IN_LINK, language="ga")

    assert template.language == "en"


@pytest.fixture
def override() -> Iterator[EmailTemplate]:
    custom = EmailTemplate.from_text(
        name="sign_in_link", language="cy", subject="Custom ((service_name))", body="((sign_in_url))", origin="service"
    )

    def lookup(name: str, language: str) -> EmailTemplate | None:
        return custom if (name, language) == ("sign_in_link", "cy") else None

    email_template_lookup_register(lookup)
    yield custom
    email_template_lookup_unregister(lookup)


def test_a_registered_lookup_overrides_the_platform_default(override: EmailTemplate) -> None:
    assert email_template_get(name=PlatformTemplate.SIGN_IN_LINK, language="cy") is override
    assert email_template_get(name=PlatformTemplate.SIGN_IN_LINK, language="en").origin == "platform"


def test_a_subject_on_two_lines_is_refused() -> None:
    with pytest.raises(TemplateSyntaxError):
        EmailTemplate.from_text(name="x", language="en", subject="One\nTwo", body="", origin="test")


def test_a_template_file_whose_text_disagrees_with_its_declared_placeholders_is_refused(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "name: broken\nplaceholders:\n  a: A\nen:\n  subject: S ((a))\n  body: ((b))\n", encoding="utf-8"
    )

    with pytest.raises(TemplateSyntaxError) as raised:
        platform_templates._load(tmp_path / "broken.yaml")

    assert str(raised.value) == (
        "email_templates/broken.yaml: the 'en' text uses ['a', 'b'] but the file declares ['a']"
    )


def test_a_template_file_named_differently_from_its_name_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("name: two\nplaceholders: {}\n", encoding="utf-8")

    with pytest.raises(TemplateSyntaxError) as raised:
        platform_templates._load(tmp_path / "one.yaml")

    assert str(raised.value) == "email_templates/one.yaml: 'name' must be 'one', the file's name"
