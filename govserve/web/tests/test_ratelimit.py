import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.utils.crypto import salted_hmac
from pytest_django.fixtures import Settings

from govserve.privacy.testing import assert_no_plaintext
from govserve.web.models import RateLimitCounter
from govserve.web.ratelimit import (
    RateLimitedError,
    client_ip,
    client_ip_bucket,
    rate_limit,
    rate_limit_prune,
    too_many_attempts_message,
)
from govserve.web.tests.conftest import MovableClock

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_hits_are_counted_until_the_limit_then_refused_until_the_window_ends(movable_clock: MovableClock) -> None:
    assert [rate_limit("sign-in:ip:192.0.2.1", 3, 60) for _ in range(3)] == [1, 2, 3]

    with pytest.raises(RateLimitedError) as raised:
        rate_limit("sign-in:ip:192.0.2.1", 3, 60)

    assert (raised.value.code, raised.value.status, raised.value.retry_after, raised.value.scope) == (
        "rate_limited",
        429,
        50,
        "sign-in",
    )
    assert str(raised.value) == "You have tried too many times. Wait 50 seconds, then try again."


@pytest.mark.django_db
def test_refused_hits_are_counted_too_so_hammering_does_not_help(movable_clock: MovableClock) -> None:
    rate_limit("k:1", 1, 60)
    for _ in range(4):
        with pytest.raises(RateLimitedError):
            rate_limit("k:1", 1, 60)

    assert RateLimitCounter.objects.get().hits == 5


@pytest.mark.django_db
def test_a_new_window_starts_from_zero(movable_clock: MovableClock) -> None:
    rate_limit("k:1", 1, 60)
    with pytest.raises(RateLimitedError):
        rate_limit("k:1", 1, 60)

    movable_clock.advance(seconds=49)
    with pytest.raises(RateLimitedError) as raised:
        rate_limit("k:1", 1, 60)
    assert raised.value.retry_after == 1

    movable_clock.advance(seconds=1)
    assert rate_limit("k:1", 1, 60) == 1


@pytest.mark.django_db
def test_keys_and_window_lengths_are_counted_separately(movable_clock: MovableClock) -> None:
    rate_limit("k:a", 1, 60)

    assert rate_limit("k:b", 1, 60) == 1
    assert rate_limit("k:a", 5, 3600) == 1  # another window length is another window
    assert RateLimitCounter.objects.count() == 3


@pytest.mark.django_db
def test_keys_are_stored_as_a_keyed_hash_never_in_clear(movable_clock: MovableClock) -> None:
    rate_limit("sign-in-link:email:ada.lovelace@example.org", 5, 900)

    counter = RateLimitCounter.objects.get()
    assert (
        counter.key_digest
        == salted_hmac(
            "govserve.web.ratelimit", "900:sign-in-link:email:ada.lovelace@example.org", algorithm="sha256"
        ).hexdigest()
    )
    assert (counter.window_start, counter.expires_at, counter.hits) == (1772442000, 1772442900, 1)
    assert_no_plaintext(["ada.lovelace@example.org"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "limit", "window", "message"),
    [
        ("", 1, 60, "a rate-limit key is a non-empty string"),
        ("k" * 501, 1, 60, "a rate-limit key is a non-empty string"),
        ("k:1", 0, 60, "a rate limit is a whole number of hits, at least 1"),
        ("k:1", True, 60, "a rate limit is a whole number of hits, at least 1"),
        ("k:1", 1, 0, "a rate-limit window is a whole number of seconds, at least 1"),
        ("k:1", 1, 1.5, "a rate-limit window is a whole number of seconds, at least 1"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_counted(key: str, limit: int, window: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rate_limit(key, limit, window)

    assert RateLimitCounter.objects.count() == 0


@pytest.mark.django_db
def test_prune_deletes_only_windows_that_have_ended(movable_clock: MovableClock) -> None:
    rate_limit("k:short", 5, 60)
    rate_limit("k:long", 5, 3600)
    movable_clock.advance(seconds=50)

    assert rate_limit_prune() == 1

    assert list(RateLimitCounter.objects.values_list("expires_at", flat=True)) == [1772445600]


@pytest.mark.django_db
@pytest.mark.urls("govserve.web.tests.urls_for_tests")
def test_the_decorator_counts_only_the_methods_it_is_given(client: Client) -> None:
    for _ in range(10):
        assert client.get("/test/limited").status_code == 200
    assert RateLimitCounter.objects.count() == 0

    statuses = [client.post("/test/limited").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (1, "You have tried too many times. Wait 1 second, then try again."),
        (59, "You have tried too many times. Wait 59 seconds, then try again."),
        (60, "You have tried too many times. Wait 1 minute, then try again."),
        (61, "You have tried too many times. Wait 2 minutes, then try again."),
        (900, "You have tried too many times. Wait 15 minutes, then try again."),
    ],
)
def test_the_message_says_how_long_to_wait(seconds: int, message: str) -> None:
    assert too_many_attempts_message(seconds) == message


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.10", "203.0.113.7", "192.0.2.10"),  # no proxy trusted: the header is ignored
        (1, "10.0.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the entry our proxy appended
        (2, "10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, "10.0.0.2", "", "10.0.0.2"),  # missing header
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (3, "10.0.0.2", "203.0.113.7", "10.0.0.2"),  # fewer entries than proxies
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(
    settings: Settings, proxies: int, remote: str, forwarded: str, expected: str
) -> None:
    settings.GOVSERVE_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("remote", "bucket"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.10", "192.0.2.10"),
        ("", "unknown"),
    ],
)
def test_ipv6_clients_are_limited_per_64_network(remote: str, bucket: str) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)

    assert client_ip_bucket(request) == bucket


# Each process configures only what the counter needs (the site's own DATABASES, from DATABASE_URL),
# so starting four of them stays cheap; "migrate" prepares a fresh SQLite file first.
_HAMMER = """
import json, sys, time
import django
from django.conf import settings
from config.settings.base import DATABASES
settings.configure(
    DATABASES=DATABASES, INSTALLED_APPS=["govserve.web"], SECRET_KEY="k" * 50, USE_TZ=True, EMAIL_URL="log://"
)
django.setup()
if sys.argv[1] == "migrate":
    from django.core.management import call_command
    call_command("migrate", "web", verbosity=0)
    sys.exit(0)
from govserve.web.ratelimit import RateLimitedError, rate_limit
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
allowed = refused = 0
for _ in range(25):
    try:
        rate_limit("concurrency:shared", 60, 1_000_000_000)
        allowed += 1
    except RateLimitedError:
        refused += 1
print(json.dumps([allowed, refused]))
"""


def _hammer_from_processes(env: dict[str, str]) -> list[list[int]]:
    start_at = str(time.time() + 2)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, start_at], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = []
    for process in processes:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_four_processes_share_one_limit_exactly(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    if connection.vendor == "sqlite":
        # The test database is in memory: give the processes a database file of their own (WAL mode).
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'ratelimit.sqlite3'}"
        subprocess.run([sys.executable, "-c", _HAMMER, "migrate"], cwd=ROOT, env=env, check=True)
    else:
        settings_dict = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
        )

    results = _hammer_from_processes(env)

    assert sum(allowed for allowed, _ in results) == 60
    assert sum(refused for _, refused in results) == 40
