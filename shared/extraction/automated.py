"""Mail no person wrote: auto-replies, delivery-status bounces and bulk mail, from the headers.

Such an email is stored and reported with its own decision (``AUTOMATED``: no staff
notification, no account change; a bounce only notes on the debtor's account that its address
bounced). Recognised, the first that applies deciding the kind:

=============  =============================================================================
kind           when
=============  =============================================================================
``bounce``     the message itself is ``multipart/report; report-type=delivery-status``
               (RFC 3464), it has ``X-Failed-Recipients``, or a mail system sent it (an empty
               ``Return-Path``, or a ``From``/``Return-Path`` such as ``MAILER-DAEMON@…``,
               ``postmaster@…``) with a ``message/delivery-status`` part directly under the
               top level (or in a ``multipart/report`` a gateway wrapped one level down); the
               failed recipients are read from that report's
               ``Final-Recipient`` (or ``Original-Recipient``) fields whose ``Action`` is
               ``failed`` (or whose ``Status`` is 5.x.x), else from ``X-Failed-Recipients``
``read_receipt`` the message itself is ``multipart/report;
               report-type=disposition-notification`` (RFC 8098): a read receipt, which repeats
               our subject and says nothing of its own
``auto_reply`` ``Auto-Submitted: auto-replied`` (RFC 3834: a response to our message, the
               out-of-office reply), ``X-Autoreply``/``X-Autorespond`` (any value but
               ``no``), or ``Precedence: auto_reply``
``bulk``       ``Precedence: bulk``/``junk``/``list``, ``List-Id`` or ``List-Unsubscribe``
``auto_generated`` any other ``Auto-Submitted`` value but ``no`` (``auto-generated``,
               ``auto-notified``: a machine notice that answers nothing)
=============  =============================================================================

A delivery report anywhere else is no bounce: a debtor who attaches the report of an earlier
email that bounced ("I dispute this debt … my first email bounced, the report is attached"), or
forwards a bounce, wrote the email, and it is read like any other; nor can a report attached by
anyone mark an address bounced.

``auto_generated`` mail is read like a person's: a bank's payment advice or a court's bankruptcy
notice is sent by a machine and must still be acted on (a missed bankruptcy notice breaks the
automatic stay). Only when nothing in it is recognised (intent ``other``, no compliance wording,
no document nobody could read) does it take the ``AUTOMATED`` decision instead of a review
request. Bulk mail and auto-replies that name an account by a reference and carry a compliance
signal are acted on too (a law firm's letter sent through a mailing platform); see
:mod:`shared.processing.decision`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from email.utils import getaddresses

BOUNCE = "bounce"
AUTO_REPLY = "auto_reply"
BULK = "bulk"
AUTO_GENERATED = "auto_generated"
READ_RECEIPT = "read_receipt"
KINDS = (BOUNCE, READ_RECEIPT, AUTO_REPLY, BULK, AUTO_GENERATED)

MAX_RECIPIENTS = 20
_ADDRESS = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")
# The local parts mail systems send delivery reports from: Postfix, Exim, Sendmail and Gmail's
# MAILER-DAEMON, Exchange's and most hosts' postmaster, Exchange's own system mailbox.
_MAIL_SYSTEM = re.compile(
    r"mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|microsoftexchange[0-9a-f]{32}", re.I
)


def _value(header: Callable[[str], str], name: str) -> str:
    return header(name).strip().lower()


def _from_mail_system(header: Callable[[str], str]) -> bool:
    """Sent by a mail system: the empty return path a delivery report travels with (RFC 3464;
    the receiving server writes it as ``Return-Path: <>``), or a sender whose local part is a
    mailer daemon's or postmaster's."""
    return_path = header("Return-Path").strip()
    if return_path and not return_path.strip("<> \t"):
        return True
    for value in (header("From"), return_path):
        try:
            pairs = getaddresses([value])
        except (ValueError, TypeError, LookupError, AttributeError):
            continue
        for _, address in pairs:
            local = address.rpartition("@")[0] or address
            if _MAIL_SYSTEM.fullmatch(local.strip().strip('"')):
                return True
    return False


def _report_type(message: Message, header: Callable[[str], str]) -> str:
    """The ``report-type`` of a top-level ``multipart/report`` (RFC 6522), else ""."""
    if not _value(header, "Content-Type").startswith("multipart/report"):
        return ""
    try:
        return str(message.get_param("report-type", "") or "").lower()
    except (ValueError, TypeError, LookupError, AttributeError):
        return ""


def _bounce(message: Message, header: Callable[[str], str], dsn_child: bool) -> bool:
    return (
        _report_type(message, header) == "delivery-status"
        or bool(header("X-Failed-Recipients").strip())
        or (dsn_child and _from_mail_system(header))
        # a plain-text report (qmail, Yahoo, a filter's notice): a mail system's From and subject
        or (_from_mail_system_sender(header) and bool(_BOUNCE_SUBJECT.search(header("Subject"))))
    )


# Subjects mail clients write on an out-of-office reply, at the very start (a person's
# "RE: Automatic reply: …" is a reply): Outlook's in its languages, Notes', cPanel's.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(?:automatic reply|auto(?:matic)?[ -]?re(?:ply|sponse)|out of office(?: autoreply)?|"
    r"automatische antwort|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[áa]tica|"
    r"risposta automatica|automatisch antwoord|resposta autom[áa]tica|"
    r"odpowied[źz] automatyczna|autosvar|automatisk svar|automaattinen vastaus)\s*[:：]"
    r"|\bis out of the office\.?$",
    re.I,
)


def auto_reply_subject(header: Callable[[str], str]) -> bool:
    return bool(_AUTO_REPLY_SUBJECT.search(header("Subject").replace("\u00a0", " ").strip()))


def _auto_reply(header: Callable[[str], str]) -> bool:
    if _value(header, "Auto-Submitted").startswith("auto-replied"):
        return True
    # Outlook/Exchange: an inbox rule (the OOF assistant) wrote it, under an OOF subject
    if auto_reply_subject(header) and (
        header("X-MS-Exchange-Inbox-Rules-Loop").strip()
        or _value(header, "Auto-Submitted") not in ("", "no")
    ):
        return True
    if any(_value(header, name) not in ("", "no") for name in ("X-Autoreply", "X-Autorespond")):
        return True
    return _value(header, "Precedence") == "auto_reply"


def _bulk(header: Callable[[str], str]) -> bool:
    """List traffic. ``Precedence: bulk/junk`` or ``List-Unsubscribe`` alone is no list: a
    company gateway, a helpdesk's agent reply or a mail-merge tool adds them to a person's mail."""
    return _value(header, "Precedence") == "list" or bool(header("List-Id").strip())


def _machine_marked(header: Callable[[str], str]) -> bool:
    """Marked as machine mail but read like a person's (``auto_generated``)."""
    auto_submitted = _value(header, "Auto-Submitted")
    return (
        (bool(auto_submitted) and not auto_submitted.startswith("no"))
        or _value(header, "Precedence") in ("bulk", "junk")
        or bool(header("List-Unsubscribe").strip())
        or auto_reply_subject(header)
    )


_BOUNCE_SUBJECT = re.compile(
    r"failure notice|undeliver|returned mail|mail delivery failed"
    r"|delivery (?:status notification \(failure|failure)"
    r"|non remis|unzustellbar|no se puede entregar|non recapitabile|onbestelbaar|niedostarczalne",
    re.I,
)


def _from_mail_system_sender(header: Callable[[str], str]) -> bool:
    try:
        pairs = getaddresses([header("From")])
    except (ValueError, TypeError, LookupError, AttributeError):
        return False
    return any(
        _MAIL_SYSTEM.fullmatch((a.rpartition("@")[0] or a).strip().strip('"')) for _, a in pairs
    )


def classify(message: Message, header: Callable[[str], str], *, dsn_child: bool) -> str | None:
    """The kind of automated mail ``message`` is (its top-level headers), or None.

    ``header`` reads one header as text ("" when absent); ``dsn_child``: a
    ``message/delivery-status`` part sits directly under the top-level message, or in a
    ``multipart/report`` one level down (one nested elsewhere, or inside an attached message,
    is a report someone forwarded or attached)."""
    if _bounce(message, header, dsn_child):
        return BOUNCE
    if _report_type(message, header) == "disposition-notification":
        return READ_RECEIPT
    if _auto_reply(header):
        return AUTO_REPLY
    if _bulk(header):
        return BULK
    return AUTO_GENERATED if _machine_marked(header) else None


# qmail's and Yahoo's "<user@host>:" line, sendmail's "<user@host>" under its error heading
_TEXT_RECIPIENT = re.compile(r"^[ \t]*<([^<>\s@]{1,64}@[^<>\s@]{1,255})>(?::|[ \t]*$)", re.M)


def text_recipients(text: str) -> list[str]:
    """The failed recipients a plain-text bounce names, before the copy of the message."""
    head = re.split(
        r"^-+ ?(?:below this line|original message)", text, maxsplit=1, flags=re.I | re.M
    )[0]
    found = [a.lower() for a in _TEXT_RECIPIENT.findall(head) if _ADDRESS.match(a)]
    return list(dict.fromkeys(found))[:MAX_RECIPIENTS]


def _address(field: str) -> str | None:
    """``rfc822; user@example.org`` → ``user@example.org`` (lower case), or None."""
    _, _, value = field.partition(";")
    value = (value or field).strip().strip("<>").strip().lower()
    return value if _ADDRESS.match(value) else None


def failed_recipients(blocks: list[Message]) -> list[str]:
    """The recipients a ``message/delivery-status`` part reports as failed (RFC 3464)."""
    found: list[str] = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:  # the first block is per-message
        action = str(block.get("Action", "") or "").strip().lower()
        status = str(block.get("Status", "") or "").strip()
        if action not in ("failed", "") and not status.startswith("5"):
            continue
        if action == "" and not status.startswith("5"):
            continue
        for name in ("Final-Recipient", "Original-Recipient"):
            address = _address(str(block.get(name, "") or ""))
            if address:
                found.append(address)
                break
    return list(dict.fromkeys(found))[:MAX_RECIPIENTS]


def header_recipients(value: str) -> list[str]:
    """The addresses of an ``X-Failed-Recipients`` header."""
    addresses = [a.strip().lower() for _, a in getaddresses([value])]
    return [a for a in dict.fromkeys(addresses) if _ADDRESS.match(a)][:MAX_RECIPIENTS]
