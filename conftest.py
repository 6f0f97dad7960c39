"""Root test configuration: hypothesis profiles (``ci`` bounds the examples)."""

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _forget_the_active_language() -> Iterator[None]:
    """Go back to the default language after each test: LocaleMiddleware leaves a request's on the thread."""
    yield
    from django.utils import translation  # noqa: PLC0415 - only once Django is set up

    translation.deactivate()


@pytest.fixture(autouse=True)
def _forget_cached_data_keys() -> Iterator[None]:
    """Forget the data keys the encryption kernel cached during a test: test transactions roll back."""
    yield
    crypto = sys.modules.get("govserve.privacy.crypto")  # never imported: nothing cached
    if crypto is not None:
        crypto.data_key_cache_clear()


# Fixtures through which a test reaches the configured database: pytest-django's, and the live
# database that worker subprocesses share (govserve/core/tests/conftest.py).
_DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
        "live_database",
        "_live_template",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that reach the configured database (CI's second database runs these)",
    )


def reaches_the_database(item: pytest.Item) -> bool:
    """Whether ``item`` can reach the configured database.

    pytest-django refuses database access to a test without the ``django_db`` mark or a database
    fixture, so any other test gives the same result on every database; a test that reaches it
    another way (a subprocess given DATABASE_URL) says so with the ``database`` mark.
    """
    if item.get_closest_marker("django_db") or item.get_closest_marker("database"):
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("database_tests_only"):
        return
    kept = [item for item in items if reaches_the_database(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not reaches_the_database(item)])
        items[:] = kept
