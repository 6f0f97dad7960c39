import socket
import threading
import traceback

import pytest
from django.core.exceptions import ImproperlyConfigured

from govserve.notifications.providers import email_provider_from_url
from govserve.notifications.providers.base import (
    OutgoingEmail,
    PermanentProviderError,
    ProviderStatus,
    TemporaryProviderError,
)
from govserve.notifications.providers.log import LogProvider
from govserve.notifications.providers.smtp import SmtpProvider, SmtpSecurity
from govserve.notifications.testing import SmtpSink, free_port


def _message(**changes: str) -> OutgoingEmail:
    values = {
        "reference": "5b0c6a55-51b6-4bb4-a4e0-3c1e0d7b8f01",
        "message_id": "<0123456789abcdef0123456789abcdef@govserve.example>",
        "sender": "Westmoor City Council <noreply@westmoor.example>",
        "recipient": "ada@example.org",
        "subject": "Mewngofnodi i Westmoor – ôl",  # noqa: RUF001 - GOV.UK style uses the en dash
        "body": "Line one\n\nhttps://westmoor.example/sign-in/abc\n\nDiolch – ŵ ŷ\n",  # noqa: RUF001 - GOV.UK style uses the en dash
        "language": "cy",
    }
    values.update(changes)
    return OutgoingEmail(**values)


def _provider(sink: SmtpSink, *, timeout: float = 5.0) -> SmtpProvider:
    return SmtpProvider(host="127.0.0.1", port=sink.port, timeout=timeout)


def test_a_message_reaches_a_real_smtp_server_with_its_headers_and_content(sink: SmtpSink) -> None:
    result = _provider(sink).send(_message())

    assert result.provider == "smtp"
    assert result.status == ProviderStatus.ACCEPTED
    assert result.reference == "2.0.0 Ok: queued as SINK1"
    [received] = sink.received
    assert received.mail_from == "noreply@westmoor.example"
    assert received.rcpt_tos == ("ada@example.org",)
    message = received.message
    assert message["From"] == "Westmoor City Council <noreply@westmoor.example>"
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Mewngofnodi i Westmoor – ôl"  # noqa: RUF001 - GOV.UK style uses the en dash
    assert message["Message-ID"] == "<0123456789abcdef0123456789abcdef@govserve.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "cy"
    assert message["Date"] is not None
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert received.body == "Line one\n\nhttps://westmoor.example/sign-in/abc\n\nDiolch – ŵ ŷ\n"  # noqa: RUF001 - GOV.UK style uses the en dash


def test_sending_the_same_message_twice_keeps_its_message_id(sink: SmtpSink) -> None:
    provider = _provider(sink)

    provider.send(_message())
    provider.send(_message())

    assert [r.message["Message-ID"] for r in sink.received] == [
        "<0123456789abcdef0123456789abcdef@govserve.example>"
    ] * 2


def test_a_5xx_refusal_of_the_recipient_is_permanent_and_keeps_the_address_out_of_the_error(sink: SmtpSink) -> None:
    sink.refuse_recipient("ada@example.org", "550 5.1.1 <ada@example.org>: Recipient address rejected")

    with pytest.raises(PermanentProviderError) as raised:
        _provider(sink).send(_message())

    assert raised.value.code == "smtp_550"
    assert str(raised.value) == "smtp_550 (rcpt)"
    # Job rows and logs keep the formatted exception: the server's reply (with the address) is not in it.
    formatted = "".join(traceback.format_exception(raised.value))
    assert "ada@example.org" not in formatted
    assert "Recipient address rejected" not in formatted
    assert sink.received == []


def test_a_4xx_refusal_is_temporary(sink: SmtpSink) -> None:
    sink.refuse_recipient("ada@example.org", "451 4.3.0 Mailbox busy, try later")

    with pytest.raises(TemporaryProviderError) as raised:
        _provider(sink).send(_message())

    assert raised.value.code == "smtp_451"
    assert sink.received == []


def test_a_5xx_reply_to_data_is_permanent(sink: SmtpSink) -> None:
    sink.data_reply = "554 5.6.0 Message content rejected"

    with pytest.raises(PermanentProviderError) as raised:
        _provider(sink).send(_message())

    assert (raised.value.code, raised.value.detail) == ("smtp_554", "data")


def test_starttls_required_but_not_offered_is_a_temporary_failure(sink: SmtpSink) -> None:
    provider = SmtpProvider(host="127.0.0.1", port=sink.port, security=SmtpSecurity.STARTTLS, timeout=5)

    with pytest.raises(TemporaryProviderError) as raised:
        provider.send(_message())

    assert raised.value.code == "smtp_extension_missing"
    assert sink.received == []


def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    provider = SmtpProvider(host="127.0.0.1", port=free_port(), timeout=2)

    with pytest.raises(TemporaryProviderError) as raised:
        provider.send(_message())

    assert raised.value.code == "connection_refused"


def test_a_server_that_never_answers_times_out_as_a_temporary_failure() -> None:
    # A listening socket that accepts and then says nothing: smtplib waits for the greeting.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        accepted: list[socket.socket] = []
        accepting = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
        accepting.start()
        provider = SmtpProvider(host="127.0.0.1", port=silent.getsockname()[1], timeout=0.3)

        with pytest.raises(TemporaryProviderError) as raised:
            provider.send(_message())

        accepting.join(timeout=2)
        for connection in accepted:
            connection.close()
    assert raised.value.code == "timeout"


@pytest.mark.parametrize("field", ["recipient", "subject", "sender", "message_id"])
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\x00"])
def test_a_header_value_with_a_line_break_cannot_even_be_built(field: str, breaker: str) -> None:
    with pytest.raises(ValueError, match=f"the {field} of an email may not contain CR, LF or NUL"):
        _message(**{field: f"x{breaker}Bcc: victim@example.org"})


def test_the_log_provider_delivers_and_logs_only_ids(caplog: pytest.LogCaptureFixture) -> None:
    result = LogProvider().send(_message())

    assert (result.provider, result.reference, result.status) == (
        "log",
        "log:5b0c6a55-51b6-4bb4-a4e0-3c1e0d7b8f01",
        ProviderStatus.DELIVERED,
    )
    logged = "\n".join(str(record.msg) for record in caplog.records)
    assert "5b0c6a55-51b6-4bb4-a4e0-3c1e0d7b8f01" in logged
    assert "ada@example.org" not in logged
    assert "Westmoor" not in logged
    assert "sign-in/abc" not in logged


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:1025", SmtpProvider(host="127.0.0.1", port=1025)),
        ("smtp://relay.internal", SmtpProvider(host="relay.internal", port=25)),
        (
            "smtp+tls://user%40dept:p%3Ass@mail.gov.example",
            SmtpProvider(
                host="mail.gov.example", port=587, username="user@dept", password="p:ss", security=SmtpSecurity.STARTTLS
            ),
        ),
        (
            "submission://mail.gov.example",
            SmtpProvider(host="mail.gov.example", port=587, security=SmtpSecurity.STARTTLS),
        ),
        ("smtps://mail.gov.example", SmtpProvider(host="mail.gov.example", port=465, security=SmtpSecurity.TLS)),
        ("smtp://h:2525?tls=1&timeout=3", SmtpProvider(host="h", port=2525, security=SmtpSecurity.STARTTLS, timeout=3)),
        ("smtp://h:2525?ssl=true", SmtpProvider(host="h", port=2525, security=SmtpSecurity.TLS)),
    ],
)
def test_email_urls_choose_the_smtp_provider(url: str, expected: SmtpProvider) -> None:
    assert email_provider_from_url(url) == expected


def test_the_log_url_chooses_the_log_provider() -> None:
    assert email_provider_from_url("log://") == LogProvider()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smpt://127.0.0.1", "EMAIL_URL scheme 'smpt' is not supported"),
        ("console://", "EMAIL_URL scheme 'console' is not supported"),
        ("smtp://h:notaport", "EMAIL_URL has a malformed port or timeout"),
        ("smtp://h?timeout=soon", "EMAIL_URL has a malformed port or timeout"),
        ("smtp://h?timeout=0", "EMAIL_URL timeout must be a positive number of seconds"),
    ],
)
def test_a_malformed_email_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        email_provider_from_url(url)
