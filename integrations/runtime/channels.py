"""Channels that leave carepath: e-mail over SMTP and signed webhooks to partners.

Both are at-least-once: a crash after the receiver accepted a message and
before carepath recorded it sends it again on the next try. Each message
therefore carries a stable idempotency key, its outbox id: the SMTP
`Message-ID` header `<id@carepath>` and the webhook `Idempotency-Key` header.
Receivers de-duplicate on it.

Webhook signature: `X-Carepath-Signature: sha256=<hex>` where hex is
HMAC-SHA256 with the partner's secret over `<timestamp>.<body>` (the raw body
bytes), and `X-Carepath-Timestamp` is that timestamp in Unix seconds. A
receiver recomputes the HMAC, compares in constant time and refuses
timestamps older than a few minutes (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime
from types import TracebackType

from integrations.runtime.config import MailSettings, PartnerEndpoint

SIGNATURE_HEADER = "X-Carepath-Signature"
TIMESTAMP_HEADER = "X-Carepath-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MESSAGE_ID_DOMAIN = "carepath"


_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in any mail client's source view


class DeliveryError(Exception):
    """A try that did not deliver. `permanent`: trying again will not help (a person must act)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def smtp_message_id(message_id: str) -> str:
    return f"<{message_id}@{MESSAGE_ID_DOMAIN}>"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The value of the signature header for `body` sent at `timestamp`."""
    return "sha256=" + hmac.new(secret, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (used by the tests' receiver; partners may copy it)."""
    try:
        expected = sign(secret, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature)


class Mailer:
    """One SMTP connection, opened on the first message and reused until `close`."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.host is None:
            raise DeliveryError("e-mail is not configured (config.yaml has no mail.host)", permanent=True)
        smtp: smtplib.SMTP
        if s.ssl:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def compose(self, message_id: str, to: Sequence[str], subject: str, body: str, sent_at: datetime) -> MIMEText:
        email = MIMEText(body, "plain", _UTF8_QP)  # type: ignore[arg-type]  # a Charset works; compat32 is 10x cheaper
        email["From"] = self.settings.sender
        email["To"] = ", ".join(to)
        email["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
        email["Date"] = format_datetime(sent_at)
        email["Message-ID"] = smtp_message_id(message_id)
        email["Auto-Submitted"] = "auto-generated"
        email["Content-Language"] = "nl"
        return email

    def send(self, message_id: str, to: Sequence[str], subject: str, body: str, sent_at: datetime) -> str:
        """Hand one e-mail to the SMTP server; returns what it said. DeliveryError when it did not take it."""
        if not to:
            raise DeliveryError("nobody to send it to", permanent=True)
        email = self.compose(message_id, to, subject, body, sent_at)
        for attempt in (1, 2):  # a server that closed an idle connection gets one reconnect
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                refused = self._smtp.send_message(email, to_addrs=list(to))
                accepted = len(to) - len(refused)
                return f"accepted for {accepted} of {len(to)} recipients" + (f"; refused {sorted(refused)}" if refused else "")
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise DeliveryError(f"SMTP server disconnected: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise DeliveryError(f"every recipient refused: {exc.recipients}",
                                    permanent=all(code >= 500 for code in codes)) from exc
            except smtplib.SMTPResponseException as exc:
                self.close()
                raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                raise DeliveryError(f"SMTP failed: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")


def post_webhook(endpoint: PartnerEndpoint, message_id: str, body: bytes, timestamp: int, timeout: float,
                 extra_headers: Mapping[str, str] | None = None) -> str:
    """POST a signed JSON body; returns the status line. 2xx (and 409: "already have it") is delivered;
    408, 429 and 5xx are worth another try; any other answer is permanent (wrong URL, refused)."""
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "carepath-webhook/1",
        IDEMPOTENCY_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        **(extra_headers or {}),
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        if exc.code == 409:
            return "HTTP 409 (the partner already had it)"
        transient = exc.code in (408, 429) or exc.code >= 500
        raise DeliveryError(f"{endpoint.url} answered HTTP {exc.code}", permanent=not transient) from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{endpoint.url} unreachable: {getattr(exc, 'reason', exc)}") from exc
