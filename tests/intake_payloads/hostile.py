"""Hostile payload builders shared by the unit and reliability tests: MIME nested to any
depth, and each provider's request carrying a given original message (built by hand: the
provider simulators in ``infra/sign_request.py`` parse the message first, which the stdlib
cannot do at a depth of 1,000)."""

from __future__ import annotations

import base64
import json
import secrets
import time

from infra.sign_request import encode_multipart, raw_request
from shared.intake.auth import sign_mailgun


def nested(depth: int, tag: str) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for level in range(depth):
        body = (
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
            + body
            + b"\r\n--b%d--\r\n" % level
        )
    return (
        f"From: Deep <deep@sender.example>\r\nTo: inbound@collections.example\r\n"
        f"Subject: deep\r\nMessage-ID: <{tag}@deep.example>\r\nMIME-Version: 1.0\r\n"
    ).encode() + body


def basic_auth(env: dict[str, str], provider: str) -> str:
    user = env[f"WEBHOOK_{provider.upper()}_USERNAME"]
    password = env[f"WEBHOOK_{provider.upper()}_PASSWORD"]
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def mailgun_fields(env: dict[str, str]) -> list[tuple[str, bytes]]:
    stamp, token = str(int(time.time())), secrets.token_hex(25)
    key = env["WEBHOOK_MAILGUN_SIGNING_KEY"]
    return [
        ("recipient", b"inbound@collections.example"),
        ("sender", b"deep@sender.example"),
        ("from", b"Deep <deep@sender.example>"),
        ("subject", b"refused"),
        ("timestamp", stamp.encode()),
        ("token", token.encode()),
        ("signature", sign_mailgun(key, stamp, token).encode()),
    ]


def provider_request(
    route: str, mime: bytes, env: dict[str, str]
) -> tuple[str, dict[str, str], bytes]:
    """The provider's request carrying ``mime`` as its original message (built by hand: the
    provider simulators parse the message first, which the stdlib cannot at this depth)."""
    if route == "raw":
        signed = raw_request(mime, secret=env["WEBHOOK_RAW_SECRET"])
        return "/raw", signed.headers, signed.body
    if route == "sendgrid-raw":
        body, content_type = encode_multipart(
            [
                ("from", b"deep@sender.example"),
                ("to", b"inbound@collections.example"),
                ("email", mime),
            ],
            [],
        )
        headers = {"Content-Type": content_type, "Authorization": basic_auth(env, "sendgrid")}
        return "/sendgrid", headers, body
    if route == "postmark-raw":
        payload = {"From": "deep@sender.example", "Subject": "deep", "RawEmail": mime.decode()}
        headers = {"Content-Type": "application/json", "Authorization": basic_auth(env, "postmark")}
        return "/postmark", headers, json.dumps(payload).encode()
    body, content_type = encode_multipart([*mailgun_fields(env), ("body-mime", mime)], [])
    return "/mailgun", {"Content-Type": content_type}, body
