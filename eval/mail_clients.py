"""How real mail clients wrap a message: header blocks, MIME structure, quoting, signatures.

Each client reproduces what its messages look like when they reach the collector's mailbox
(``inbox@meridian-recovery.example.com`` behind a Postfix MX): the trace headers the hops add,
DKIM/ARC/Authentication-Results, the Message-ID shape, X-Mailer/User-Agent, the client's
multipart/alternative layout and HTML, and how it quotes the message replied to. Hostnames sit
under fictional domains and addresses in the documentation ranges (RFC 2606, RFC 5737, RFC 3849);
the random-looking parts (ids, signatures) come from the caller's seeded ``random.Random``.
"""

from __future__ import annotations

import base64
import html
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import partial

COLLECTOR_INBOX = "inbox@meridian-recovery.example.com"
COLLECTOR_NAME = "Meridian Recovery Services"
MX = "mx1.meridian-recovery.example.com"


class _TraceHeaderPolicy(policy.EmailPolicy):
    """Header values are written here folded the way MTAs fold them (newline + tab); the
    standard policy refuses line breaks in values, so they are unfolded and re-folded on output."""

    def header_store_parse(self, name: str, value: str) -> tuple[str, str]:
        return super().header_store_parse(name, " ".join(value.replace("\n\t", " ").split(" ")))


POLICY = _TraceHeaderPolicy(linesep="\n", max_line_length=78)


@dataclass
class Attachment:
    filename: str
    content_type: str  # "application/pdf", "message/rfc822", "image/jpeg" …
    data: bytes


@dataclass
class Draft:
    """What the sender wrote, before a client wraps it."""

    sender_name: str
    sender: str
    subject: str
    text: str  # the new text, signature included
    date: datetime
    lang: str
    to: str = COLLECTOR_INBOX
    quoted: str = ""  # the text replied to or forwarded (unprefixed)
    quoted_from: str = f"{COLLECTOR_NAME} <collections@meridian-recovery.example.com>"
    quoted_date: datetime | None = None
    quoted_subject: str = ""
    forward: bool = False  # quoted is a forwarded message, not a reply
    attachments: list[Attachment] = field(default_factory=list)
    html_extra: str = ""  # HTML that only the HTML alternative carries (tables)
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    in_reply_to: str | None = None


def _b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode()


def _folded_b64(rng: random.Random, n: int) -> str:
    """A long base64 value (a signature) in whitespace-separated chunks, as signers fold it."""
    value = _b64(rng, n)
    return " ".join(value[i : i + 48] for i in range(0, len(value), 48))


def _hex(rng: random.Random, n: int) -> str:
    return rng.randbytes(n).hex()


def _ip(rng: random.Random) -> str:
    return f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{rng.randint(2, 250)}"


def _mx_received(rng: random.Random, helo: str, when: datetime) -> str:
    return (
        f"from {helo} ({helo} [{_ip(rng)}])\n\tby {MX} (Postfix) with ESMTPS id "
        f"{_b64(rng, 8)[:10].replace('/', 'x').replace('+', 'z')}\n\tfor <{COLLECTOR_INBOX}>; "
        f"{format_datetime(when.astimezone(UTC))}"
    )


def _auth_results(sender_domain: str, dkim: bool = True) -> str:
    dkim_part = f"dkim=pass header.d={sender_domain}" if dkim else "dkim=none"
    return (
        f"{MX};\n\t{dkim_part};\n\tspf=pass (sender domain {sender_domain}) "
        f"smtp.mailfrom={sender_domain};\n\tdmarc=pass header.from={sender_domain}"
    )


def _dkim(rng: random.Random, domain: str, selector: str, headers: str) -> str:
    return (
        f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s={selector};\n\t"
        f"t={rng.randint(1790000000, 1799999999)}; h={headers};\n\t"
        f"bh={_b64(rng, 32)};\n\tb={_folded_b64(rng, 96)}"
    )


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1]


# -- quoting ------------------------------------------------------------------------------

_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "de": ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
    "fr": ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
    "it": ["lun", "mar", "mer", "gio", "ven", "sab", "dom"],
    "nl": ["ma", "di", "wo", "do", "vr", "za", "zo"],
}
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "de": [
        "Jan.",
        "Feb.",
        "März",
        "Apr.",
        "Mai",
        "Juni",
        "Juli",
        "Aug.",
        "Sept.",
        "Okt.",
        "Nov.",
        "Dez.",
    ],
    "fr": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"],
    "it": ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
    "nl": ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"],
}


def gmail_attribution(lang: str, when: datetime, who: str) -> str:
    d = f"{_WEEKDAYS[lang][when.weekday()]}, {when.day} {_MONTHS[lang][when.month - 1]} {when.year}"
    t = when.strftime("%H:%M")
    return {
        "en": f"On {d} at {t}, {who} wrote:",
        "de": f"Am {d} um {t} Uhr schrieb {who}:",
        "fr": f"Le {d} à {t}, {who} a écrit :",
        "es": f"El {d}, {t}, {who} escribió:",
        "it": f"Il giorno {d} alle ore {t} {who} ha scritto:",
        "nl": f"Op {d} om {t} schreef {who}:",
    }[lang]


_OUTLOOK_LABELS = {
    "en": ("From", "Sent", "To", "Subject"),
    "de": ("Von", "Gesendet", "An", "Betreff"),
    "fr": ("De", "Envoyé", "À", "Objet"),
    "es": ("De", "Enviado", "Para", "Asunto"),
    "it": ("Da", "Inviato", "A", "Oggetto"),
    "nl": ("Van", "Verzonden", "Aan", "Onderwerp"),
}


_LONG_WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
}
_LONG_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
    "novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
ORIGINAL_MESSAGE = {
    "en": "-----Original Message-----",
    "de": "-----Ursprüngliche Nachricht-----",
    "fr": "-----Message d'origine-----",
    "es": "-----Mensaje original-----",
    "it": "-----Messaggio originale-----",
    "nl": "-----Oorspronkelijk bericht-----",
}


def outlook_sent(lang: str, when: datetime) -> str:
    """The "Sent:" value as Outlook writes it in the user's language."""
    day = _LONG_WEEKDAYS[lang][when.weekday()]
    month = _LONG_MONTHS[lang].split()[when.month - 1]
    hm = when.strftime("%H:%M")
    return {
        "en": f"{day}, {month} {when.day}, {when.year} {when.strftime('%I:%M %p').lstrip('0')}",
        "de": f"{day}, {when.day}. {month} {when.year} {hm}",
        "fr": f"{day} {when.day} {month} {when.year} {hm}",
        "es": f"{day}, {when.day} de {month} de {when.year} {hm}",
        "it": f"{day} {when.day} {month} {when.year} {hm}",
        "nl": f"{day} {when.day} {month} {when.year} {hm}",
    }[lang]


def apple_attribution(lang: str, when: datetime, who: str) -> str:
    d = f"{when.day} {_MONTHS[lang][when.month - 1]} {when.year}"
    t = when.strftime("%H:%M")
    return {
        "en": f"On {d}, at {t}, {who} wrote:",
        "de": f"Am {when.strftime('%d.%m.%Y')} um {t} schrieb {who}:",
        "fr": f"Le {d} à {t}, {who} a écrit :",
        "es": f"El {d}, a las {t}, {who} escribió:",
        "it": f"Il giorno {d}, alle ore {t}, {who} ha scritto:",
        "nl": f"Op {d}, om {t} heeft {who} het volgende geschreven:",
    }[lang]


def thunderbird_attribution(lang: str, when: datetime, who: str) -> str:
    t = when.strftime("%H:%M")
    return {
        "en": f"On {when.strftime('%d/%m/%Y')} {t}, {who} wrote:",
        "de": f"Am {when.strftime('%d.%m.%y')} um {t} schrieb {who}:",
        "fr": f"Le {when.strftime('%d/%m/%Y')} à {t}, {who} a écrit :",
        "es": f"El {when.day}/{when.month}/{when.strftime('%y')} a las {t}, {who} escribió:",
        "it": f"Il {when.strftime('%d/%m/%y')} {t}, {who} ha scritto:",
        "nl": f"Op {when.strftime('%d-%m-%Y')} om {t} schreef {who}:",
    }[lang]


def outlook_header_block(draft: Draft) -> list[str]:
    frm, sent, to, subj = _OUTLOOK_LABELS[draft.lang]
    sep = " :" if draft.lang == "fr" else ":"
    when = draft.quoted_date or draft.date
    return [
        f"{frm}{sep} {draft.quoted_from}",
        f"{sent}{sep} {outlook_sent(draft.lang, when)}",
        f"{to}{sep} {draft.sender_name} <{draft.sender}>",
        f"{subj}{sep} {draft.quoted_subject}",
    ]


def _forward_block(draft: Draft) -> list[str]:
    when = draft.quoted_date or draft.date
    return [
        "---------- Forwarded message ---------",
        f"From: {draft.quoted_from}",
        f"Date: {when.strftime('%a, %b %d, %Y at %I:%M %p')}",
        f"Subject: {draft.quoted_subject}",
        f"To: {draft.sender_name} <{draft.sender}>",
    ]


def _prefixed(text: str) -> str:
    return "\n".join(">" if not line else f"> {line}" for line in text.splitlines())


def _html_lines(text: str) -> str:
    return "<br>\n".join(html.escape(line) for line in text.splitlines())


# -- the clients -------------------------------------------------------------------------


def _base(draft: Draft) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    return msg


def _add_common(
    msg: EmailMessage, draft: Draft, message_id: str, *, mime_version: str = "1.0"
) -> None:
    msg["From"] = formataddr((draft.sender_name, draft.sender))
    msg["Date"] = format_datetime(draft.date)
    msg["Message-ID"] = message_id
    msg["Subject"] = draft.subject
    msg["To"] = draft.to
    if draft.in_reply_to:
        msg["In-Reply-To"] = draft.in_reply_to
        msg["References"] = draft.in_reply_to
    for name, value in draft.extra_headers:
        msg[name] = value
    msg["MIME-Version"] = mime_version


def _attach_all(msg: EmailMessage, draft: Draft) -> None:
    for att in draft.attachments:
        maintype, subtype = att.content_type.split("/", 1)
        if att.content_type == "message/rfc822":
            from email import message_from_bytes

            inner = message_from_bytes(att.data, policy=POLICY)
            msg.add_attachment(inner, filename=att.filename)
        else:
            msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)


def _set_alternative(msg: EmailMessage, plain: str, html_body: str, *, cte: str = "") -> None:
    language = msg["Content-Language"]
    msg.set_content(plain, cte=cte or None)
    msg.add_alternative(html_body, subtype="html", cte=cte or None)
    if language:  # set_content drops every Content-* header of the message
        msg["Content-Language"] = language


def gmail(draft: Draft, rng: random.Random, *, mobile: bool = False) -> bytes:
    domain = _domain(draft.sender)
    host = (
        f"mail-{rng.choice(['ej1', 'ed1', 'wm1', 'lf1'])}-f{rng.randint(41, 99)}.google.example.com"
    )
    message_id = f"<CA{_b64(rng, 30).replace('/', '_')}@mail.{domain}>"
    received_at = draft.date + timedelta(seconds=rng.randint(2, 40))
    msg = _base(draft)
    msg["Return-Path"] = f"<{draft.sender}>"
    msg["Delivered-To"] = COLLECTOR_INBOX
    msg["Received"] = _mx_received(rng, host, received_at)
    msg["Received"] = (
        f"by {host} with SMTP id {_hex(rng, 6)}so{rng.randint(100000, 999999)}.2\n\t"
        f"for <{COLLECTOR_INBOX}>; {format_datetime(received_at - timedelta(seconds=1))}"
    )
    msg["Authentication-Results"] = _auth_results(domain)
    msg["DKIM-Signature"] = _dkim(
        rng, domain, "20230601", "to:subject:message-id:date:from:mime-version:from:to:cc"
    )
    msg["X-Google-DKIM-Signature"] = _dkim(
        rng, "1e100.example.net", "20230601", "x-gm-message-state:to:subject:message-id:date"
    )
    msg["X-Gm-Message-State"] = "AOJu0Y" + _b64(rng, 33)
    msg["X-Google-Smtp-Source"] = "AGHT+I" + _b64(rng, 30)
    msg["X-Received"] = (
        f"by 2001:db8:{_hex(rng, 2)}::{_hex(rng, 2)} with SMTP id {_hex(rng, 5)};\n\t"
        f"{format_datetime(received_at - timedelta(seconds=2))}"
    )
    _add_common(msg, draft, message_id)
    plain = draft.text
    html_body = f'<div dir="ltr">{_html_lines(draft.text)}</div>'
    if mobile:
        sent_from = {
            "en": "Sent from my Android",
            "de": "Von meinem Android-Gerät gesendet",
            "fr": "Envoyé depuis mon Android",
            "es": "Enviado desde mi Android",
            "it": "Inviato dal mio Android",
            "nl": "Verzonden vanaf mijn Android",
        }[draft.lang]
        plain += f"\n\n{sent_from}"
        html_body += f"<div dir=auto><br></div><div>{html.escape(sent_from)}</div>"
    if draft.quoted:
        if draft.forward:
            block = _forward_block(draft)
            plain += "\n\n" + "\n".join(block) + "\n\n\n" + draft.quoted
            html_body += (
                '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
                + "<br>".join(html.escape(b) for b in block)
                + f"<br></div><br><br>{_html_lines(draft.quoted)}</div>"
            )
        else:
            who = draft.quoted_from
            attribution = gmail_attribution(draft.lang, draft.quoted_date or draft.date, who)
            plain += f"\n\n{attribution}\n\n{_prefixed(draft.quoted)}"
            html_body += (
                '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
                f"{html.escape(attribution)}<br></div>"
                '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                'border-left:1px solid rgb(204,204,204);padding-left:1ex">'
                f"{_html_lines(draft.quoted)}</blockquote></div>"
            )
    html_body += draft.html_extra
    _set_alternative(msg, plain + "\n", html_body + "\n")
    _attach_all(msg, draft)
    return msg.as_bytes()


_OUTLOOK_CSS = (
    '<style><!--\n@font-face {font-family:"Cambria Math";}\n@font-face {font-family:Aptos;}\n'
    "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm;font-size:12.0pt;"
    'font-family:"Aptos",sans-serif;}\nspan.EmailStyle18 {mso-style-type:personal-compose;}\n'
    ".MsoChpDefault {mso-style-type:export-only;}\ndiv.WordSection1 {page:WordSection1;}\n"
    "--></style>"
)


def outlook(draft: Draft, rng: random.Random, *, desktop: bool = False) -> bytes:
    domain = _domain(draft.sender)
    box = f"AM{rng.randint(7, 9)}P{rng.randint(100, 199)}MB{rng.randint(1000, 9999)}"
    server = f"{box}.EURP{rng.randint(100, 199)}.PROD.OUTLOOK.EXAMPLE.COM"
    message_id = f"<{box}{_hex(rng, 14).upper()}@{server}>"
    received_at = draft.date + timedelta(seconds=rng.randint(2, 30))
    edge = f"mail-am{rng.randint(5, 7)}eur05olkn20{rng.randint(10, 99)}.outbound.protection.outlook.example.com"
    msg = _base(draft)
    msg["Return-Path"] = f"<{draft.sender}>"
    msg["Received"] = _mx_received(rng, edge, received_at)
    msg["ARC-Seal"] = (
        f"i=1; a=rsa-sha256; s=arcselector9901; d=microsoft.example.com; cv=none;\n\t"
        f"b={_folded_b64(rng, 96)}"
    )
    msg["ARC-Message-Signature"] = (
        "i=1; a=rsa-sha256; c=relaxed/relaxed; d=microsoft.example.com;\n\t"
        "s=arcselector9901; h=From:Date:Subject:Message-ID:Content-Type:MIME-Version;\n\t"
        f"bh={_b64(rng, 32)};\n\tb={_folded_b64(rng, 96)}"
    )
    msg["ARC-Authentication-Results"] = (
        "i=1; mx.microsoft.example.com 1; spf=none; dmarc=none;\n\tdkim=none; arc=none"
    )
    msg["DKIM-Signature"] = _dkim(rng, domain, "selector1", "From:Date:Subject:Message-ID")
    msg["Received"] = (
        f"from {server} ([fe80::{_hex(rng, 2)}:{_hex(rng, 2)}]) by {server}\n\t"
        f"([fe80::{_hex(rng, 2)}:{_hex(rng, 2)}%5]) with mapi id 15.20.8207.010;\n\t"
        f"{format_datetime(received_at - timedelta(seconds=1))}"
    )
    msg["Authentication-Results"] = _auth_results(domain)
    msg["Thread-Topic"] = draft.subject.split(":", 1)[-1].strip()
    msg["Thread-Index"] = "AQH" + _b64(rng, 21)
    msg["Accept-Language"] = f"{draft.lang}-{draft.lang.upper()}, en-US"
    msg["Content-Language"] = f"{draft.lang}-{draft.lang.upper()}"
    msg["X-MS-Has-Attach"] = "yes" if draft.attachments else ""
    msg["X-MS-TNEF-Correlator"] = ""
    msg["x-ms-publictraffictype"] = "Email"
    msg["x-ms-exchange-messagesentrepresentingtype"] = "1"
    if desktop:
        msg["X-Mailer"] = "Microsoft Outlook 16.0"
    _add_common(msg, draft, message_id)
    plain = draft.text
    paras = "".join(
        f'<p class="MsoNormal">{html.escape(line) or "<o:p>&nbsp;</o:p>"}</p>\n'
        for line in draft.text.splitlines()
    )
    if draft.quoted:
        block = outlook_header_block(draft)
        if desktop:
            plain += (
                f"\n\n{ORIGINAL_MESSAGE[draft.lang]}\n" + "\n".join(block) + "\n\n" + draft.quoted
            )
        else:
            plain += "\n\n" + "_" * 32 + "\n" + "\n".join(block) + "\n\n" + draft.quoted
        labels = "".join(
            f'<p class="MsoNormal"><b>{html.escape(b.split(":", 1)[0])}:</b>'
            f"{html.escape(b.split(':', 1)[1])}</p>"
            for b in block
        )
        paras += (
            '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
            f"{labels}</div>\n"
            + "".join(
                f'<p class="MsoNormal">{html.escape(line) or "&nbsp;"}</p>\n'
                for line in draft.quoted.splitlines()
            )
        )
    html_body = (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:'
        'office:office">\n<head>\n<meta http-equiv="Content-Type" content="text/html; '
        f'charset=utf-8">\n<meta name="Generator" content="Microsoft Word 15 (filtered medium)">'
        f"\n{_OUTLOOK_CSS}\n</head>\n"
        f'<body lang="{draft.lang.upper()}" link="#467886" vlink="#96607D" '
        'style="word-wrap:break-word">\n<div class="WordSection1">\n'
        f"{paras}{draft.html_extra}</div>\n</body>\n</html>\n"
    )
    _set_alternative(msg, plain + "\n", html_body, cte="quoted-printable")
    _attach_all(msg, draft)
    return msg.as_bytes()


def apple_mail(draft: Draft, rng: random.Random, *, iphone: bool = False) -> bytes:
    domain = _domain(draft.sender)
    uuid_ = "-".join(_hex(rng, n).upper() for n in (4, 2, 2, 2, 6))
    message_id = f"<{uuid_}@{domain}>"
    received_at = draft.date + timedelta(seconds=rng.randint(2, 30))
    host = f"st43p00im-ztfb{rng.randint(10, 99)}.me.example.com"
    msg = _base(draft)
    msg["Return-Path"] = f"<{draft.sender}>"
    msg["Received"] = _mx_received(rng, host, received_at)
    msg["DKIM-Signature"] = _dkim(rng, domain, "1a1hai", "From:Content-Type:Mime-Version:Subject")
    msg["Authentication-Results"] = _auth_results(domain)
    msg["Content-Transfer-Encoding"] = "quoted-printable" if iphone else "7bit"
    del msg["Content-Transfer-Encoding"]
    if iphone:
        msg["X-Mailer"] = f"iPhone Mail (22{rng.choice('ABCD')}{rng.randint(50, 99)})"
    else:
        msg["X-Mailer"] = "Apple Mail (2.3826.300.87.4.3)"
    _add_common(
        msg,
        draft,
        message_id,
        mime_version="1.0 (1.0)" if iphone else "1.0 (Mac OS X Mail 16.0 \\(3826.300.87.4.3\\))",
    )
    plain = draft.text
    if iphone:
        plain += (
            "\n\n"
            + {
                "en": "Sent from my iPhone",
                "de": "Von meinem iPhone gesendet",
                "fr": "Envoyé de mon iPhone",
                "es": "Enviado desde mi iPhone",
                "it": "Inviato da iPhone",
                "nl": "Verstuurd vanaf mijn iPhone",
            }[draft.lang]
        )
    html_body = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: '
        f'after-white-space;">{_html_lines(draft.text)}'
    )
    if draft.quoted:
        when = draft.quoted_date or draft.date
        attribution = apple_attribution(draft.lang, when, draft.quoted_from)
        plain += f"\n\n{attribution}\n\n{_prefixed(draft.quoted)}"
        html_body += (
            f'<div><br><blockquote type="cite"><div>{html.escape(attribution)}</div>'
            f"<br><div>{_html_lines(draft.quoted)}</div></blockquote></div>"
        )
    html_body += draft.html_extra + "</body></html>\n"
    if iphone and not draft.attachments:
        msg.set_content(plain + "\n", cte="quoted-printable")
    else:
        _set_alternative(msg, plain + "\n", html_body, cte="quoted-printable")
        boundary = f"Apple-Mail={_hex(rng, 4).upper()}-{_hex(rng, 2).upper()}"
        msg.set_boundary(boundary)
    _attach_all(msg, draft)
    return msg.as_bytes()


def thunderbird(draft: Draft, rng: random.Random) -> bytes:
    domain = _domain(draft.sender)
    message_id = f"<{_hex(rng, 4)}-{_hex(rng, 2)}-{_hex(rng, 2)}-{_hex(rng, 6)}@{domain}>"
    received_at = draft.date + timedelta(seconds=rng.randint(2, 30))
    msg = _base(draft)
    msg["Return-Path"] = f"<{draft.sender}>"
    msg["Received"] = _mx_received(rng, f"smtp.{domain}", received_at)
    msg["Authentication-Results"] = _auth_results(domain, dkim=False)
    msg["User-Agent"] = "Mozilla Thunderbird"
    msg["Content-Language"] = f"{draft.lang}-{draft.lang.upper()}"
    _add_common(msg, draft, message_id)
    plain = draft.text
    if draft.quoted:
        when = draft.quoted_date or draft.date
        header = thunderbird_attribution(draft.lang, when, draft.quoted_from)
        plain += f"\n\n{header}\n{_prefixed(draft.quoted)}"
    msg.set_content(plain + "\n")
    msg["Content-Language"] = f"{draft.lang}-{draft.lang.upper()}"
    _attach_all(msg, draft)
    return msg.as_bytes()


def webmail_de(draft: Draft, rng: random.Random) -> bytes:
    """A large German freemail provider's web and app client (trinity Message-IDs)."""
    domain = _domain(draft.sender)
    message_id = f"<trinity-{_hex(rng, 4)}-{_hex(rng, 2)}-{_hex(rng, 2)}-{_hex(rng, 6)}-1731{rng.randint(100000000, 999999999)}@3c-app-webde-bap{rng.randint(10, 60)}>"
    received_at = draft.date + timedelta(seconds=rng.randint(2, 30))
    msg = _base(draft)
    msg["Return-Path"] = f"<{draft.sender}>"
    msg["Received"] = _mx_received(rng, f"mout.{domain}", received_at)
    msg["DKIM-Signature"] = _dkim(rng, domain, "s29768273", "X-UI-Sender-Class:Date:From:To")
    msg["Authentication-Results"] = _auth_results(domain)
    msg["X-UI-Message-Type"] = "mail"
    msg["Importance"] = "normal"
    msg["Sensitivity"] = "Normal"
    msg["X-Priority"] = "3"
    msg["X-Provags-ID"] = "V03:K1:" + _b64(rng, 33)
    msg["UI-OutboundReport"] = "notjunk:1;M01:P0:" + _b64(rng, 8)
    _add_common(msg, draft, message_id)
    plain = draft.text + "\n\nGesendet mit der WEB.DE Mail App"
    if draft.quoted:
        when = draft.quoted_date or draft.date
        plain += (
            f"\n\nAm {when.strftime('%d.%m.%y')}, {when.strftime('%H:%M')} schrieb "
            f"{draft.quoted_from}:\n{_prefixed(draft.quoted)}"
        )
    html_body = (
        f"<html><head></head><body><div>{_html_lines(plain)}</div>{draft.html_extra}</body></html>"
    )
    _set_alternative(msg, plain + "\n", html_body, cte="quoted-printable")
    _attach_all(msg, draft)
    return msg.as_bytes()


def samsung(draft: Draft, rng: random.Random) -> bytes:
    domain = _domain(draft.sender)
    message_id = f"<{_hex(rng, 8)}.{_hex(rng, 4)}@email.android.com>"
    received_at = draft.date + timedelta(seconds=rng.randint(2, 30))
    msg = _base(draft)
    msg["Return-Path"] = f"<{draft.sender}>"
    msg["Received"] = _mx_received(rng, f"smtp-out.{domain}", received_at)
    msg["Authentication-Results"] = _auth_results(domain)
    _add_common(msg, draft, message_id)
    sig = {
        "en": "Sent from my Galaxy",
        "de": "Von meinem Galaxy gesendet",
        "fr": "Envoyé depuis mon Galaxy",
        "es": "Enviado desde mi Galaxy",
        "it": "Inviato dal mio Galaxy",
        "nl": "Verzonden vanaf mijn Galaxy",
    }[draft.lang]
    plain = f"{draft.text}\n\n\n{sig}"
    html_body = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body><div dir="auto">{_html_lines(draft.text)}</div><div dir="auto"><br></div><div dir="auto">{html.escape(sig)}</div>'
    if draft.quoted:
        block = outlook_header_block(draft)
        plain += (
            "\n\n-------- Original message --------\n" + "\n".join(block) + "\n\n" + draft.quoted
        )
        html_body += (
            '<div><br></div><div style="font-size:100%;color:#000000"><!-- originalMessage -->'
            "<div>-------- Original message --------</div><div>"
            + "<br>".join(html.escape(b) for b in block)
            + f"</div><div><br></div><div>{_html_lines(draft.quoted)}</div></div>"
        )
    html_body += "</body></html>"
    _set_alternative(msg, plain + "\n", html_body)
    _attach_all(msg, draft)
    return msg.as_bytes()


CLIENTS: dict[str, Callable[[Draft, random.Random], bytes]] = {
    "gmail": gmail,
    "gmail_android": partial(gmail, mobile=True),
    "outlook_web": outlook,
    "outlook_desktop": partial(outlook, desktop=True),
    "apple_mail": apple_mail,
    "iphone": partial(apple_mail, iphone=True),
    "thunderbird": thunderbird,
    "webmail_de": webmail_de,
    "samsung": samsung,
}

# The freemail domain a client's user writes from (fictional).
CLIENT_DOMAINS = {
    "gmail": "gmail.example.com",
    "gmail_android": "gmail.example.com",
    "outlook_web": "outlook.example.com",
    "outlook_desktop": "outlook.example.com",
    "apple_mail": "icloud.example.com",
    "iphone": "icloud.example.com",
    "thunderbird": "posteo.example.de",
    "webmail_de": "web.example.de",
    "samsung": "orange.example.fr",
}
