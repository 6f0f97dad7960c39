"""Result templates: read at publish, stored in the version (immutable), carried by bundles, paths sanitised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from govserve.audit.models import AuditEntry
from govserve.catalogue.bundle import BundledTemplate, bundle_parse, content_hash_for
from govserve.catalogue.errors import BundleInvalidError, ResultTemplateError, VersionUnchangedError
from govserve.catalogue.models import ImmutableRowError, ServiceVersion
from govserve.catalogue.selectors import definition_diff, definition_export, published_version_load
from govserve.catalogue.services import (
    DefinitionSource,
    catalogue_publish,
    definition_import,
    definition_publish,
    version_draft_save,
    version_publish,
)
from govserve.catalogue.templates import MAX_TEMPLATE_BYTES
from govserve.catalogue.tests.support_versions import (
    SERVICE_ID,
    goods_catalogue_text,
    institution_create,
    run_cli,
    service_text,
    source,
)

pytestmark = pytest.mark.django_db

TEMPLATE = "templates/licence.html"
LICENCE = "<!DOCTYPE html>\n<h1>{{ result.name }} {{ result.number }}</h1>\n<p>Issued by {{ issuer.name }}</p>\n"


@pytest.fixture
def council() -> None:
    institution_create()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods")


@pytest.fixture
def definition_dir(tmp_path: Path) -> Path:
    """A folder with the definition file and its template, as a service team keeps them."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "licence.html").write_text(LICENCE, encoding="utf-8")
    (tmp_path / "market-stall.yaml").write_text(service_text(result_template=TEMPLATE), encoding="utf-8")
    return tmp_path


def _publish_file(folder: Path, reason: str = "Release") -> ServiceVersion:
    version = definition_publish(
        source=DefinitionSource.from_path(folder / "market-stall.yaml"), actor=None, reason=reason
    ).service_version
    assert version is not None
    return version


def _catalogue_tables_empty() -> None:
    with connection.cursor() as cursor:
        for table in (
            "catalogue_pinnedcatalogue",
            "catalogue_serviceversion",
            "catalogue_catalogueversion",
            "catalogue_catalogue",
            "catalogue_service",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def _problems(error: ResultTemplateError) -> list[tuple[str, str, int | None, str]]:
    return [(problem.code, problem.path, problem.line, problem.message) for problem in error.problems]


# --- publishing reads and stores the templates ------------------------------------------------------


def test_publish_stores_the_template_text_in_the_version(council: None, definition_dir: Path) -> None:
    version = _publish_file(definition_dir)

    assert version.templates == {TEMPLATE: LICENCE}
    assert version.content_hash == content_hash_for(
        definition_text=service_text(result_template=TEMPLATE),
        catalogue_hashes={"goods": version.pins.get().catalogue_version.content_hash},
        templates={TEMPLATE: LICENCE},
    )
    compiled = published_version_load(SERVICE_ID)
    assert compiled.template(TEMPLATE) == LICENCE
    assert compiled.definition.registrations[0].results[0].template == TEMPLATE


def test_a_published_version_does_not_follow_the_file_on_disk(council: None, definition_dir: Path) -> None:
    # given version 1 published with its template
    first = _publish_file(definition_dir)
    # when the file on disk changes
    changed = LICENCE.replace("Issued by", "Granted by")
    (definition_dir / "templates" / "licence.html").write_text(changed, encoding="utf-8")
    # then version 1 still holds (and serves) the text it was published with
    first.refresh_from_db()
    assert first.templates == {TEMPLATE: LICENCE}
    assert published_version_load(SERVICE_ID, 1).template(TEMPLATE) == LICENCE
    # and the change is a change to publish: version 2, with the new text
    second = _publish_file(definition_dir, "New wording")
    assert (second.number, second.templates) == (2, {TEMPLATE: changed})
    assert second.content_hash != first.content_hash
    assert [change.render() for change in definition_diff(SERVICE_ID, 1, 2)] == [
        f"Template '{TEMPLATE}': text changed (2 lines differ)"
    ]


def test_publishing_the_same_template_again_is_unchanged(council: None, definition_dir: Path) -> None:
    _publish_file(definition_dir)

    with pytest.raises(VersionUnchangedError):
        _publish_file(definition_dir)

    assert ServiceVersion.objects.count() == 1


def test_a_version_without_templates_keeps_its_hash(council: None) -> None:
    version = definition_publish(source=source(service_text()), actor=None, reason="r").service_version
    assert version is not None

    assert version.templates == {}
    assert version.content_hash == content_hash_for(
        definition_text=service_text(),
        catalogue_hashes={"goods": version.pins.get().catalogue_version.content_hash},
    )


def test_the_database_refuses_changing_a_published_versions_templates(council: None, definition_dir: Path) -> None:
    version = _publish_file(definition_dir)

    version.templates = {TEMPLATE: "<h1>forged</h1>"}
    with pytest.raises(ImmutableRowError):
        version.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        ServiceVersion.objects.filter(pk=version.pk).update(templates={TEMPLATE: "<h1>forged</h1>"})

    assert ServiceVersion.objects.get(pk=version.pk).templates == {TEMPLATE: LICENCE}


# --- refusals at publish ------------------------------------------------------------------------------


def test_a_missing_template_file_is_refused_at_its_location_and_nothing_is_saved(
    council: None, definition_dir: Path
) -> None:
    (definition_dir / "templates" / "licence.html").unlink()

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(definition_dir)

    assert refused.value.code == "result_template_invalid"
    text = service_text(result_template=TEMPLATE)
    line = text.splitlines().index(f"        template: {TEMPLATE}") + 1
    assert _problems(refused.value) == [
        (
            "publish.template_missing",
            "registrations[0].results[0].template",
            line,
            f"There is no file {TEMPLATE} beside the definition file",
        )
    ]
    assert refused.value.problems[0].format().startswith(f"market-stall.yaml:{line}:")
    assert ServiceVersion.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../secrets.html", "goes up a folder with '..'"),
        ("templates/../../secrets.html", "goes up a folder with '..'"),
        ("/etc/passwd", "is absolute: write it relative to the definition file"),
        ("C:/templates/licence.html", "is absolute"),
        ("templates\\\\licence.html", "contains a backslash"),
        ("./templates/licence.html", "has an empty or '.' segment"),
    ],
)
def test_a_template_path_that_leaves_the_folder_is_refused_without_reading(
    council: None, tmp_path: Path, path: str, message: str
) -> None:
    (tmp_path / "secrets.html").write_text("secret", encoding="utf-8")
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / "market-stall.yaml").write_text(service_text(result_template=f'"{path}"'), encoding="utf-8")

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(folder)

    [(code, where, _line, text)] = _problems(refused.value)
    assert (code, where) == ("publish.template_path_invalid", "registrations[0].results[0].template")
    assert message in text
    assert ServiceVersion.objects.count() == 0


def test_a_symbolic_link_out_of_the_folder_is_refused(council: None, tmp_path: Path) -> None:
    (tmp_path / "outside.html").write_text("<h1>not yours</h1>", encoding="utf-8")
    folder = tmp_path / "service"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "licence.html").symlink_to(tmp_path / "outside.html")
    (folder / "market-stall.yaml").write_text(service_text(result_template=TEMPLATE), encoding="utf-8")

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(folder)

    assert [problem[0] for problem in _problems(refused.value)] == ["publish.template_outside"]


def test_a_symbolic_link_inside_the_folder_is_followed(council: None, definition_dir: Path) -> None:
    (definition_dir / "templates" / "shared.html").write_text(LICENCE, encoding="utf-8")
    (definition_dir / "templates" / "licence.html").unlink()
    (definition_dir / "templates" / "licence.html").symlink_to(definition_dir / "templates" / "shared.html")

    assert _publish_file(definition_dir).templates == {TEMPLATE: LICENCE}


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"\xff\xfe<h1>", "publish.template_not_text", f"{TEMPLATE} is not UTF-8 text (byte 0)"),
        (b"<h1>\x00</h1>", "publish.template_not_text", "contains a NUL character: it is not a text file"),
        (
            b"x" * (MAX_TEMPLATE_BYTES + 1),
            "publish.template_too_large",
            f"is {MAX_TEMPLATE_BYTES + 1:,} bytes; the most a template may be is {MAX_TEMPLATE_BYTES:,} bytes",
        ),
    ],
)
def test_a_template_that_is_not_small_text_is_refused(
    council: None, definition_dir: Path, content: bytes, code: str, message: str
) -> None:
    (definition_dir / "templates" / "licence.html").write_bytes(content)

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(definition_dir)

    [(found_code, _where, _line, text)] = _problems(refused.value)
    assert found_code == code
    assert message in text


def test_a_directory_in_place_of_the_template_is_refused(council: None, definition_dir: Path) -> None:
    (definition_dir / "templates" / "licence.html").unlink()
    (definition_dir / "templates" / "licence.html").mkdir()

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(definition_dir)

    assert _problems(refused.value)[0][3] == f"{TEMPLATE} is not a file"


def test_every_bad_template_is_reported_once(council: None, tmp_path: Path) -> None:
    text = service_text(result_template=TEMPLATE).replace(
        f"        template: {TEMPLATE}\n",
        f"        template: {TEMPLATE}\n"
        "      - id: copy\n        name: Copy\n        template: templates/licence.html\n"
        "      - id: other\n        name: Other\n        template: /abs.html\n",
    )
    (tmp_path / "market-stall.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(tmp_path)

    assert [(code, where) for code, where, _line, _message in _problems(refused.value)] == [
        ("publish.template_missing", "registrations[0].results[0].template"),
        ("publish.template_path_invalid", "registrations[0].results[2].template"),
    ]


# --- text-only sources (an editor, a test) -----------------------------------------------------------


def test_a_text_only_new_version_keeps_the_templates_of_the_previous_one(council: None, definition_dir: Path) -> None:
    _publish_file(definition_dir)

    second = definition_publish(
        source=source(service_text(result_template=TEMPLATE, fee_amount=6000)), actor=None, reason="Fee"
    ).service_version

    assert second is not None
    assert (second.number, second.templates) == (2, {TEMPLATE: LICENCE})


def test_a_text_only_first_version_must_be_given_its_templates(council: None) -> None:
    with pytest.raises(ResultTemplateError) as refused:
        definition_publish(source=source(service_text(result_template=TEMPLATE)), actor=None, reason="r")
    assert _problems(refused.value)[0][0] == "publish.template_missing"
    assert "was not given with the definition's text" in _problems(refused.value)[0][3]

    given = DefinitionSource(
        name="market-stall.yaml", text=service_text(result_template=TEMPLATE), templates={TEMPLATE: LICENCE}
    )
    version = definition_publish(source=given, actor=None, reason="r").service_version
    assert version is not None
    assert version.templates == {TEMPLATE: LICENCE}


def test_a_draft_keeps_its_templates_until_it_is_published(council: None, definition_dir: Path) -> None:
    draft = version_draft_save(source=DefinitionSource.from_path(definition_dir / "market-stall.yaml"), actor=None)
    (definition_dir / "templates" / "licence.html").write_text("<h1>changed after saving</h1>", encoding="utf-8")

    published = version_publish(service_id=SERVICE_ID, actor=None, reason="r")

    assert draft.templates == {TEMPLATE: LICENCE}
    assert published.templates == {TEMPLATE: LICENCE}


# --- bundles ----------------------------------------------------------------------------------------------


def test_export_carries_the_templates_and_import_restores_them_with_the_same_hash(
    council: None, definition_dir: Path
) -> None:
    # given version 1 published with its template, exported
    published = _publish_file(definition_dir)
    data = definition_export(SERVICE_ID).to_bytes()
    document = json.loads(data)
    assert document["format_version"] == 2
    assert document["templates"] == [{"path": TEMPLATE, "text": LICENCE}]
    # when it is imported on a database without it (and without the files)
    _catalogue_tables_empty()
    imported = definition_import(data=data, actor=None)
    # then the template comes back in the version, with the same content hash
    assert imported.templates == {TEMPLATE: LICENCE}
    assert imported.content_hash == published.content_hash
    assert published_version_load(SERVICE_ID).template(TEMPLATE) == LICENCE
    assert AuditEntry.objects.get(action="catalogue.version.imported").details["templates"] == [TEMPLATE]


def test_an_import_never_takes_templates_from_earlier_versions(council: None, definition_dir: Path) -> None:
    _publish_file(definition_dir)
    document = json.loads(definition_export(SERVICE_ID).to_bytes())
    document["templates"] = []
    document["definition"]["text"] = service_text(result_template=TEMPLATE, fee_amount=7000)
    document["content_hash"] = content_hash_for(
        definition_text=document["definition"]["text"],
        catalogue_hashes={entry["id"]: entry["content_hash"] for entry in document["catalogues"]},
    )

    with pytest.raises(ResultTemplateError) as refused:
        definition_import(data=json.dumps(document).encode(), actor=None)

    assert _problems(refused.value)[0][0] == "publish.template_missing"
    assert ServiceVersion.objects.count() == 1


def test_a_bundle_with_an_edited_template_is_refused(council: None, definition_dir: Path) -> None:
    _publish_file(definition_dir)
    data = definition_export(SERVICE_ID).to_bytes().replace(b"Issued by", b"Forged by")
    _catalogue_tables_empty()

    with pytest.raises(BundleInvalidError, match="does not match its content hash"):
        definition_import(data=data, actor=None)

    assert ServiceVersion.objects.count() == 0


def test_a_bundle_carrying_a_template_its_definition_does_not_name_is_refused(
    council: None, definition_dir: Path
) -> None:
    _publish_file(definition_dir)
    document = json.loads(definition_export(SERVICE_ID).to_bytes())
    document["templates"].append({"path": "templates/extra.html", "text": "<h1>extra</h1>"})

    with pytest.raises(BundleInvalidError) as refused:
        definition_import(data=json.dumps(document).encode(), actor=None)

    assert refused.value.message == "The bundle carries templates its definition does not name: templates/extra.html."


def _bundle_with_templates(templates: list[object]) -> bytes:
    return json.dumps(
        {
            "format": "govserve-definition-bundle",
            "format_version": 2,
            "service": SERVICE_ID,
            "version": 1,
            "content_hash": "0" * 64,
            "published_at": "2026-11-27T16:00:00+00:00",
            "publish_reason": "",
            "definition": {"name": "market-stall.yaml", "text": service_text()},
            "catalogues": [],
            "templates": templates,
        }
    ).encode()


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        (
            [{"path": "../../etc/cron.d/x", "text": "x"}],
            "The template path '../../etc/cron.d/x' in templates[0] goes up a folder with '..'",
        ),
        ([{"path": "/etc/passwd", "text": "x"}], "The template path '/etc/passwd' in templates[0] is absolute"),
        ([{"path": "a\\b.html", "text": "x"}], "contains a backslash"),
        ([{"path": "a\nb.html", "text": "x"}], "contains a control character"),
        ([{"path": "", "text": "x"}], "The template path '' in templates[0] is empty"),
        ([{"path": "t.html", "text": "a\x00b"}], "The template t.html in templates[0] contains a NUL character"),
        (
            [{"path": "t.html", "text": "x" * (MAX_TEMPLATE_BYTES + 1)}],
            f"is {MAX_TEMPLATE_BYTES + 1:,} bytes; the most a template may be is {MAX_TEMPLATE_BYTES:,} bytes",
        ),
        (
            [{"path": "t.html", "text": "a"}, {"path": "t.html", "text": "b"}],
            "The bundle carries the template t.html twice.",
        ),
        ([{"path": "t.html"}], "The bundle has no 'text' in templates[0]."),
        ([{"path": 3, "text": "x"}], "'path' in templates[0] must be text, not a whole number."),
        (["t.html"], "templates[0] must be a JSON object."),
    ],
)
def test_bundled_templates_are_checked_before_anything_is_read(templates: list[object], message: str) -> None:
    with pytest.raises(BundleInvalidError) as refused:
        bundle_parse(_bundle_with_templates(templates))

    assert message in refused.value.message


def test_a_format_2_bundle_must_list_its_templates() -> None:
    document = json.loads(_bundle_with_templates([]))
    del document["templates"]

    with pytest.raises(BundleInvalidError) as refused:
        bundle_parse(json.dumps(document).encode())

    assert refused.value.message == "The bundle has no 'templates' in the bundle."


def test_a_format_1_bundle_imports_without_templates_as_it_was_published(council: None) -> None:
    # given a bundle written before templates travelled: format 1, hash without templates
    text = service_text(result_template=TEMPLATE)
    catalogue = catalogue_publish(
        source=source(goods_catalogue_text(extra_option="tools"), "goods.yaml"), actor=None, reason="g"
    )
    goods = catalogue.catalogue_versions[0]
    legacy = {
        "format": "govserve-definition-bundle",
        "format_version": 1,
        "service": SERVICE_ID,
        "version": 4,
        "content_hash": content_hash_for(definition_text=text, catalogue_hashes={"goods": goods.content_hash}),
        "published_at": "2026-01-01T00:00:00+00:00",
        "publish_reason": "Old release",
        "definition": {"name": "market-stall.yaml", "text": text},
        "catalogues": [
            {
                "id": "goods",
                "version": goods.number,
                "content_hash": goods.content_hash,
                "name": "goods.yaml",
                "text": goods.source_text,
            }
        ],
    }
    assert bundle_parse(json.dumps(legacy).encode()).templates == ()

    imported = definition_import(data=json.dumps(legacy).encode(), actor=None)

    assert (imported.templates, imported.content_hash) == ({}, legacy["content_hash"])
    # exporting it again writes the current format, with no templates
    assert json.loads(definition_export(SERVICE_ID).to_bytes())["templates"] == []


def test_bundled_template_dataclass_round_trips(council: None, definition_dir: Path) -> None:
    _publish_file(definition_dir)

    bundle = definition_export(SERVICE_ID)

    assert bundle.templates == (BundledTemplate(path=TEMPLATE, text=LICENCE),)
    assert bundle_parse(bundle.to_bytes()) == bundle


# --- the command line -----------------------------------------------------------------------------------


def test_govserve_publish_prints_template_problems_and_exits_1(
    council: None, definition_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (definition_dir / "templates" / "licence.html").unlink()

    status, _out, err = run_cli(capsys, "publish", str(definition_dir / "market-stall.yaml"))

    assert status == 1
    assert "error publish.template_missing registrations[0].results[0].template" in err
    assert "result_template_invalid:" in err
    assert ServiceVersion.objects.count() == 0


@pytest.mark.parametrize(
    ("template_text", "message"),
    [
        ("<h1>{{ result.name </h1>\n", "does not compile on line 1: unexpected '/'"),
        ("<h1>Licence</h1>\n{% if result.number %}\n<p>{{ result.number }}</p>\n", "does not compile on line 3:"),
        ("<p>\n{{ result.name | shout }}</p>\n", "does not compile on line 2: No filter named 'shout'."),
    ],
)
def test_a_template_that_does_not_compile_is_refused_at_publish_with_its_line(
    council: None, definition_dir: Path, template_text: str, message: str
) -> None:
    (definition_dir / "templates" / "licence.html").write_text(template_text, encoding="utf-8")

    with pytest.raises(ResultTemplateError) as refused:
        _publish_file(definition_dir)

    [(code, path, line, text)] = _problems(refused.value)
    assert (code, path) == ("publish.template_syntax", "registrations[0].results[0].template")
    assert line == service_text(result_template=TEMPLATE).splitlines().index(f"        template: {TEMPLATE}") + 1
    assert text.startswith(f"Template `{TEMPLATE}` {message}")
    assert ServiceVersion.objects.count() == 0


def test_govserve_check_reports_template_problems_without_a_database(
    definition_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (definition_dir / "templates" / "licence.html").write_text("<p>{{ result.name | shout }}</p>", encoding="utf-8")

    status, out, _err = run_cli(capsys, "check", str(definition_dir))

    line = service_text(result_template=TEMPLATE).splitlines().index(f"        template: {TEMPLATE}") + 1
    assert status == 1
    assert (
        f"market-stall.yaml:{line}:19: error template.syntax registrations[0].results[0].template: "
        f"Template `{TEMPLATE}` does not compile on line 1: No filter named 'shout'." in out
    )


def test_govserve_check_reports_a_missing_template(definition_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (definition_dir / "templates" / "licence.html").unlink()

    status, out, _err = run_cli(capsys, "check", str(definition_dir))

    assert status == 1
    assert "error template.unusable registrations[0].results[0].template" in out
    assert f"There is no file {TEMPLATE} beside the definition file" in out
