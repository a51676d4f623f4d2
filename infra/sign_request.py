"""Build and sign a webhook request the way each email provider would send it.

    python -m infra.sign_request ROUTE [EML] [--post] [--url URL] [--body-file PATH]

ROUTE is ``mailgun``, ``mailgun-mime``, ``sendgrid``, ``sendgrid-raw``, ``postmark`` or
``raw``; EML is an RFC 5322 file (default: a built-in sample with an attachment). Secrets and
``WEBHOOK_URL`` come from ``.local/stack.env`` (written by ``make run``). Without ``--post`` it
writes the body to a file and prints a ``curl`` command; with ``--post`` it sends the request
and prints the answer.

The formats follow the providers' documented inbound payloads: Mailgun route POSTs (parsed
fields with ``message-headers`` and ``attachment-N`` files, or ``body-mime`` for a "mime"
route), SendGrid Inbound Parse (``headers``/``text``/``html`` sent in their original charsets
named in ``charsets``, ``attachment-info`` and ``attachmentN`` files, or the raw ``email``),
Postmark's inbound JSON, and ``message/rfc822`` with an ``X-Signature`` for ``/raw``.
"""

from __future__ import annotations

import argparse
import base64
import email
import hashlib
import json
import secrets
import shlex
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

from infra.stack import LOCAL_WEBHOOK_SECRETS, REPO_ROOT
from shared.intake.auth import sign_mailgun, sign_raw

ENV_FILE = REPO_ROOT / ".local" / "stack.env"
ROUTES = ("mailgun", "mailgun-mime", "sendgrid", "sendgrid-raw", "postmark", "raw")


@dataclass(frozen=True)
class SignedRequest:
    """A ready-to-send webhook request: path, headers and body bytes."""

    path: str
    headers: dict[str, str]
    body: bytes

    def curl(self, base_url: str, body_file: str) -> str:
        parts = ["curl", "-sS", "-X", "POST", base_url.rstrip("/") + self.path]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        parts += ["--data-binary", "@" + body_file]
        return " ".join(shlex.quote(part) for part in parts)

    def post(self, base_url: str, timeout: float = 60.0) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            base_url.rstrip("/") + self.path, data=self.body, headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


# -- what a provider parses out of a message ---------------------------------------------------


@dataclass
class ParsedParts:
    """The pieces providers post: headers, bodies (with their charsets), attachments."""

    headers: list[tuple[str, str]]
    text: tuple[bytes, str] | None = None
    html: tuple[bytes, str] | None = None
    attachments: list[tuple[str | None, str, bytes, str | None]] = field(default_factory=list)

    def decoded(self, which: str) -> str | None:
        value = self.text if which == "text" else self.html
        if value is None:
            return None
        return value[0].decode(value[1], "replace")


def parse_parts(mime: bytes) -> ParsedParts:
    message = email.message_from_bytes(mime, policy=policy.default)
    raw = email.message_from_bytes(mime, policy=policy.compat32)
    parts = ParsedParts(headers=[(name, str(value)) for name, value in raw.items()])
    for part in _leaves(message):
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        is_body = disposition != "attachment" and part.get_filename() is None
        if is_body and content_type == "text/plain" and parts.text is None:
            parts.text = (_payload(part), part.get_content_charset() or "us-ascii")
        elif is_body and content_type == "text/html" and parts.html is None:
            parts.html = (_payload(part), part.get_content_charset() or "us-ascii")
        else:
            cid = part.get("Content-ID")
            parts.attachments.append(
                (part.get_filename(), content_type, _payload(part), str(cid) if cid else None)
            )
    return parts


def _leaves(message: Message) -> Iterator[Message]:
    if message.get_content_maintype() == "multipart":
        for part in message.get_payload():
            yield from _leaves(part)
    else:
        yield message


def _payload(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()[0]
        return bytes(inner.as_bytes(policy=policy.SMTP))
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _decoded_headers(mime: bytes) -> list[tuple[str, str]]:
    message = email.message_from_bytes(mime, policy=policy.default)
    return [(name, str(value)) for name, value in message.items()]


# -- multipart/form-data ------------------------------------------------------------------------


def encode_multipart(
    fields: list[tuple[str, bytes]], files: list[tuple[str, str | None, str, bytes]]
) -> tuple[bytes, str]:
    """``(body, content_type)``; filenames are sent as UTF-8, as providers and browsers do."""
    digest = hashlib.sha256()
    for _, value in fields:
        digest.update(value)
    for _, _, _, data in files:
        digest.update(data)
    boundary = "----provider" + digest.hexdigest()[:24]
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    for name, filename, content_type, data in files:
        disposition = f'form-data; name="{name}"; filename="{filename or name}"'
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# -- the providers ------------------------------------------------------------------------------


def mailgun_request(
    mime: bytes,
    *,
    signing_key: str,
    mime_route: bool = False,
    urlencoded: bool = False,
    timestamp: int | None = None,
    token: str | None = None,
) -> SignedRequest:
    """A Mailgun route POST (``forward("https://…/mailgun")``), signed."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    token = token or secrets.token_hex(25)
    decoded = _decoded_headers(mime)
    first = {name.lower(): value for name, value in reversed(decoded)}
    recipients = getaddresses([first.get("to", ""), first.get("cc", "")])
    fields: list[tuple[str, bytes]] = [
        ("recipient", ",".join(addr for _, addr in recipients if addr).encode()),
        ("sender", parseaddr(first.get("from", ""))[1].encode()),
        ("from", first.get("from", "").encode()),
        ("subject", first.get("subject", "").encode()),
        ("timestamp", stamp.encode()),
        ("token", token.encode()),
        ("signature", sign_mailgun(signing_key, stamp, token).encode()),
    ]
    for name in ("Message-Id", "Date", "To", "Cc", "In-Reply-To", "References"):
        if name.lower() in first:
            fields.append((name, first[name.lower()].encode()))
    files: list[tuple[str, str | None, str, bytes]] = []
    if mime_route:
        fields.append(("body-mime", mime))
    else:
        parts = parse_parts(mime)
        fields.append(("message-headers", json.dumps([list(pair) for pair in decoded]).encode()))
        for field_name, which in (("body-plain", "text"), ("body-html", "html")):
            text = parts.decoded(which)
            if text is not None:
                fields.append((field_name, text.encode("utf-8")))
        fields.append(("attachment-count", str(len(parts.attachments)).encode()))
        content_ids: dict[str, str] = {}
        for index, (filename, content_type, data, cid) in enumerate(parts.attachments, 1):
            files.append((f"attachment-{index}", filename, content_type, data))
            if cid:
                content_ids[cid] = f"attachment-{index}"
        if content_ids:
            fields.append(("content-id-map", json.dumps(content_ids).encode()))
    if urlencoded and not files:
        from urllib.parse import urlencode

        body = urlencode([(k, v) for k, v in fields]).encode("ascii")
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = encode_multipart(fields, files)
    return SignedRequest("/mailgun", {"Content-Type": content_type}, body)


def sendgrid_request(
    mime: bytes, *, username: str, password: str, raw_mode: bool = False
) -> SignedRequest:
    """A SendGrid Inbound Parse POST, fields in their original charsets (``charsets``)."""
    decoded = _decoded_headers(mime)
    first = {name.lower(): value for name, value in reversed(decoded)}
    envelope = {
        "to": [addr for _, addr in getaddresses([first.get("to", "")]) if addr],
        "from": parseaddr(first.get("from", ""))[1],
    }
    fields: list[tuple[str, bytes]] = [
        ("envelope", json.dumps(envelope).encode()),
        ("from", first.get("from", "").encode()),
        ("to", first.get("to", "").encode()),
        ("subject", first.get("subject", "").encode()),
        ("sender_ip", b"192.0.2.10"),
        ("SPF", b"pass"),
        ("dkim", b"{@example.com : pass}"),
        ("spam_score", b"0.1"),
    ]
    charsets = {"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}
    files: list[tuple[str, str | None, str, bytes]] = []
    if raw_mode:
        fields.append(("email", mime))
    else:
        head = mime.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in mime else mime.split(b"\n\n")[0]
        fields.append(("headers", head.replace(b"\r\n", b"\n") + b"\n"))
        charsets["headers"] = "UTF-8"
        parts = parse_parts(mime)
        for which in ("text", "html"):
            value = parts.text if which == "text" else parts.html
            if value is not None:
                fields.append((which, value[0]))
                charsets[which] = value[1]
        info = {}
        for index, (filename, content_type, data, cid) in enumerate(parts.attachments, 1):
            files.append((f"attachment{index}", filename, content_type, data))
            details = {"filename": filename, "name": filename, "type": content_type}
            if cid:
                details["content-id"] = cid.strip("<>")
            info[f"attachment{index}"] = details
        fields.append(("attachments", str(len(files)).encode()))
        if info:
            fields.append(("attachment-info", json.dumps(info).encode()))
    fields.append(("charsets", json.dumps(charsets).encode()))
    body, content_type = encode_multipart(fields, files)
    headers = {"Content-Type": content_type, "Authorization": _basic(username, password)}
    return SignedRequest("/sendgrid", headers, body)


def postmark_request(
    mime: bytes, *, username: str, password: str, include_raw: bool = False
) -> SignedRequest:
    """Postmark's inbound JSON (``Headers`` carry the Message-ID; ``MessageID`` is Postmark's)."""
    decoded = _decoded_headers(mime)
    first = {name.lower(): value for name, value in reversed(decoded)}
    from_name, from_address = parseaddr(first.get("from", ""))
    parts = parse_parts(mime)
    top = {"from", "to", "cc", "bcc", "subject", "date", "reply-to"}
    body_headers = {"content-type", "content-transfer-encoding", "mime-version"}
    payload: dict[str, Any] = {
        "FromName": from_name,
        "MessageStream": "inbound",
        "From": from_address,
        "FromFull": {"Email": from_address, "Name": from_name, "MailboxHash": ""},
        "To": first.get("to", ""),
        "ToFull": [
            {"Email": addr, "Name": name, "MailboxHash": ""}
            for name, addr in getaddresses([first.get("to", "")])
        ],
        "Cc": first.get("cc", ""),
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": parseaddr(first.get("to", ""))[1],
        "Subject": first.get("subject", ""),
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": first.get("reply-to", ""),
        "MailboxHash": "",
        "Date": first.get("date", ""),
        "TextBody": parts.decoded("text") or "",
        "HtmlBody": parts.decoded("html") or "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": name, "Value": value}
            for name, value in decoded
            if name.lower() not in top | body_headers
        ],
        "Attachments": [
            {
                "Name": filename or "",
                "Content": base64.b64encode(data).decode("ascii"),
                "ContentType": content_type,
                "ContentLength": len(data),
                **({"ContentID": cid.strip("<>")} if cid else {}),
            }
            for filename, content_type, data, cid in parts.attachments
        ],
    }
    if parts.text is None:
        payload["TextBody"] = ""
    if include_raw:
        payload["RawEmail"] = mime.decode("utf-8", "replace")
    body = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "Authorization": _basic(username, password)}
    return SignedRequest("/postmark", headers, body)


def raw_request(mime: bytes, *, secret: str, timestamp: int | None = None) -> SignedRequest:
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": "message/rfc822", "X-Signature": sign_raw(secret, stamp, mime)}
    return SignedRequest("/raw", headers, mime)


def build_request(route: str, mime: bytes, env: dict[str, str]) -> SignedRequest:
    """The request ``route`` would get for ``mime``, with the secrets in ``env``."""
    if route in ("mailgun", "mailgun-mime"):
        return mailgun_request(
            mime, signing_key=env["WEBHOOK_MAILGUN_SIGNING_KEY"], mime_route=route.endswith("mime")
        )
    if route in ("sendgrid", "sendgrid-raw"):
        return sendgrid_request(
            mime,
            username=env["WEBHOOK_SENDGRID_USERNAME"],
            password=env["WEBHOOK_SENDGRID_PASSWORD"],
            raw_mode=route.endswith("raw"),
        )
    if route == "postmark":
        return postmark_request(
            mime,
            username=env["WEBHOOK_POSTMARK_USERNAME"],
            password=env["WEBHOOK_POSTMARK_PASSWORD"],
        )
    if route == "raw":
        return raw_request(mime, secret=env["WEBHOOK_RAW_SECRET"])
    raise ValueError(f"unknown route {route!r}; choose one of {', '.join(ROUTES)}")


def sample_email() -> bytes:
    """A small payment confirmation with a PDF attachment (made-up data)."""
    message = EmailMessage()
    message["From"] = "Erika Beispiel <erika@example.com>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "Zahlungsbestätigung Konto AC-1001"
    message["Date"] = "Mon, 03 Mar 2025 10:15:00 +0100"
    message["Message-ID"] = f"<{secrets.token_hex(8)}@example.com>"
    message.set_content("Guten Tag,\n\nich habe heute 120,00 EUR überwiesen.\n\nErika Beispiel\n")
    message.add_attachment(
        b"%PDF-1.4\n% sample\n", "application", "pdf", filename="Überweisung_März.pdf"
    )
    return message.as_bytes(policy=policy.SMTP)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of the stack's env file (comments skipped)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.strip()] = value
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("route", choices=ROUTES)
    parser.add_argument("eml", nargs="?", type=Path, help="RFC 5322 file (default: a sample)")
    parser.add_argument("--post", action="store_true", help="send it and print the answer")
    parser.add_argument("--url", help="webhook base URL (default: WEBHOOK_URL of the stack)")
    parser.add_argument("--env-file", type=Path, default=ENV_FILE)
    parser.add_argument("--body-file", type=Path, help="where to write the body for curl")
    args = parser.parse_args(argv)

    env = dict(LOCAL_WEBHOOK_SECRETS)
    if args.env_file.exists():
        env.update(read_env_file(args.env_file))
    base_url = args.url or env.get("WEBHOOK_URL")
    if not base_url:
        print(f"no --url and no WEBHOOK_URL in {args.env_file}: is `make run` up?", file=sys.stderr)
        return 2
    mime = args.eml.read_bytes() if args.eml else sample_email()
    request = build_request(args.route, mime, env)
    if args.post:
        status, answer = request.post(base_url)
        print(status, json.dumps(answer))
        return 0 if status == 200 else 1
    body_file = args.body_file or Path(tempfile.mkdtemp(prefix="webhook-")) / f"{args.route}.body"
    body_file.write_bytes(request.body)
    print(request.curl(base_url, str(body_file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
