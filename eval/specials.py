"""The hand-built kinds of mail of the corpus (beside the templated debtor mail).

Attorneys writing for clients (in the body, in a PDF, forwarding the client's message),
messages attached as ``message/rfc822``, PDFs with a text layer and image-only scans, bank
remittance advices and an employer's garnishment remittance, auto-replies (RFC 3834 and the older
``X-Autoreply``), delivery-status bounces (RFC 3464 ``multipart/report``), newsletters (some about
disputes and bankruptcy: bulk mail must not hold an account) and spam. Each maker yields
``(name, raw bytes, label)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from eval.accounts_seed import BY_ID, EvalAccount
from eval.mail_clients import (
    CLIENTS,
    COLLECTOR_INBOX,
    COLLECTOR_NAME,
    POLICY,
    Attachment,
    Draft,
)
from tests.fixtures.pdfs import scanned_pdf, text_pdf

Made = Iterator[tuple[str, bytes, dict[str, Any]]]

COLLECTIONS = f"{COLLECTOR_NAME} <collections@meridian-recovery.example.com>"

DISCLAIMERS = {
    "en": "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be "
    "legally privileged. If you are not the intended recipient, please notify the sender "
    "immediately and delete it. Any unauthorised use, disclosure or copying is prohibited.",
    "de": "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. Wenn "
    "Sie nicht der richtige Adressat sind oder diese E-Mail irrtümlich erhalten haben, "
    "informieren Sie bitte sofort den Absender und vernichten Sie diese Mail.",
    "fr": "Ce message et toutes les pièces jointes sont confidentiels et établis à l'intention "
    "exclusive de ses destinataires. Toute utilisation non conforme à sa destination est "
    "interdite. Si vous avez reçu ce message par erreur, merci d'en avertir l'expéditeur.",
    "es": "Este mensaje y sus archivos adjuntos van dirigidos exclusivamente a su destinatario y "
    "pueden contener información confidencial. Si usted no es el destinatario, le rogamos "
    "que lo comunique al remitente y proceda a su borrado.",
    "it": "Questo messaggio e i suoi allegati sono indirizzati esclusivamente alle persone "
    "indicate e possono contenere informazioni riservate. Qualora il messaggio Le fosse "
    "pervenuto per errore, La invitiamo ad eliminarlo e a darne notizia al mittente.",
    "nl": "Dit e-mailbericht is uitsluitend bestemd voor de geadresseerde(n) en kan "
    "vertrouwelijke informatie bevatten. Indien u dit bericht onterecht heeft ontvangen, "
    "verzoeken wij u het te verwijderen en de afzender te informeren.",
}
_TITLES = {
    "en": "Office Manager",
    "de": "Sachbearbeitung",
    "fr": "Service comptabilité",
    "es": "Administración",
    "it": "Amministrazione",
    "nl": "Administratie",
}


def work_signature(lang: str, name: str, address: str, rng: random.Random) -> str:
    company = address.rsplit("@", 1)[1].split(".", maxsplit=1)[0].replace("-", " ").title()
    phone = f"+{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
    return f"--\n{name}\n{_TITLES[lang]} | {company}\nT {phone}\n\n{DISCLAIMERS[lang]}"


def label(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "lang": "en",
        "client": "other",
        "kind": "debtor",
        "scenario": "",
        "intent": "other",
        "compliance": None,
        "account": "none",
        "match_basis": "none",
        "reference_as_written": None,
        "fields": {},
        "route": "review",
        "money_allowed": False,
        "hard_negative": None,
        "received_at": "",
    }
    base.update(kw)
    return base


def _when(rng: random.Random, tz: str = "+0000") -> datetime:
    sign = -1 if tz.startswith("-") else 1
    zone = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:])))
    at = datetime(2026, 11, 3, 8, 0, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 22), minutes=rng.randint(0, 10 * 60)
    )
    return at.astimezone(zone).replace(microsecond=0)


def _received(sent: datetime) -> str:
    return (sent + timedelta(seconds=41)).astimezone(UTC).isoformat()


def _client_mail(
    client: str, draft: Draft, rng: random.Random, lab: dict[str, Any]
) -> tuple[bytes, dict[str, Any]]:
    lab = {**lab, "client": client, "received_at": _received(draft.date)}
    if lab.get("route") is None:
        lab["route"] = "notify"
    return CLIENTS[client](draft, rng), lab


# -- attorneys ------------------------------------------------------------------------------


def attorneys(rng: random.Random) -> Made:
    tanya = BY_ID["ev-hpt-02"]
    sent = _when(rng, "-0500")
    text = (
        "Dear Sir or Madam:\n\nThis firm represents Tanya Rios in connection with the "
        f"above-referenced account (Acct. No. {tanya.account_reference}, {tanya.creditor.name}). "
        "Pursuant to 15 U.S.C. 1692c(a)(2), please direct all further communications regarding "
        "this matter to the undersigned and do not contact our client directly.\n\n"
        "Very truly yours,\n\nDana R. Whitcombe\nWhitcombe & Alvarez LLP\n"
        "220 Harbor Street, Suite 900, Portland, OR 97204\n(555) 014-2290\n\n"
        "This message may contain information that is attorney-client privileged or attorney "
        "work product. If you are not the intended recipient, please delete it."
    )
    draft = Draft(
        "Dana R. Whitcombe",
        "dwhitcombe@whitcombe-alvarez.example.com",
        f"Letter of representation - Tanya Rios - {tanya.account_reference}",
        text,
        sent,
        "en",
    )
    raw, lab = _client_mail(
        "outlook_desktop",
        draft,
        rng,
        label(
            kind="attorney",
            scenario="attorney_letter_body",
            intent="cease_and_desist",
            compliance="attorney_representation",
            account=tanya.account_id,
            match_basis="reference",
            reference_as_written=tanya.account_reference,
            route="hold",
        ),
    )
    yield "en-attorney-letter", raw, lab

    ray = BY_ID["ev-mrm-02"]
    sent = _when(rng, "-0800")
    pdf = text_pdf(
        [
            "WHITCOMBE & ALVAREZ LLP",
            "220 Harbor Street, Suite 900, Portland, OR 97204",
            "",
            f"Re: Raymond Fisher - {ray.creditor.name} - Account {ray.account_reference}",
            "",
            "Please be advised that this office represents the above-named consumer with",
            "respect to the alleged debt. All future communications must be directed to",
            "this office. Do not contact our client by telephone, mail or e-mail.",
            "We further dispute the balance claimed and request verification.",
            "",
            "Dana R. Whitcombe, Esq.",
        ]
    )
    draft = Draft(
        "Whitcombe & Alvarez LLP",
        "intake@whitcombe-alvarez.example.com",
        "Representation notice",
        "Good afternoon,\n\nPlease see the attached correspondence.\n\n"
        "Regards,\nMia Tran\nParalegal, Whitcombe & Alvarez LLP",
        sent,
        "en",
        attachments=[Attachment("Rep_Letter_Fisher.pdf", "application/pdf", pdf)],
    )
    raw, lab = _client_mail(
        "outlook_web",
        draft,
        rng,
        label(
            kind="attorney",
            scenario="attorney_letter_pdf",
            intent="cease_and_desist",
            compliance="attorney_representation",
            account=ray.account_id,
            match_basis="reference_attachment",
            route="hold",
        ),
    )
    yield "en-attorney-pdf", raw, lab

    # The attorney forwards the client's own message: the case number is only in the forward.
    derek = BY_ID["ev-hpt-03"]
    sent = _when(rng, "-0500")
    draft = Draft(
        "Dana Whitcombe",
        "dwhitcombe@whitcombe-alvarez.example.com",
        "Fwd: your calls",
        "FYI, see below from my client. Please update your file.\n\nDana",
        sent,
        "en",
        forward=True,
        quoted_from=f"Derek Olson <{derek.email}>",
        quoted_date=sent - timedelta(days=1, hours=3),
        quoted_subject="your calls",
        quoted=(
            f"To Meridian,\n\nRe case {derek.case_number}: stop calling me. I have a lawyer now, "
            "Dana Whitcombe, talk to her. Her email is dwhitcombe@whitcombe-alvarez.example.com."
            "\n\nDerek"
        ),
    )
    raw, lab = _client_mail(
        "gmail",
        draft,
        rng,
        label(
            kind="attorney",
            scenario="attorney_forwards_client",
            intent="cease_and_desist",
            compliance="attorney_representation",
            account=derek.account_id,
            match_basis="reference_quoted",
            route="hold",
        ),
    )
    yield "en-attorney-forward", raw, lab

    sabine = BY_ID["ev-nle-03"]
    sent = _when(rng, "+0100")
    text = (
        "Sehr geehrte Damen und Herren,\n\n"
        f"in der Forderungssache {sabine.creditor.name} ./. Krüger, Ihr Zeichen "
        f"{sabine.case_number}, zeigen wir an, dass wir Frau Sabine Krüger anwaltlich vertreten. "
        "Eine auf uns lautende Vollmacht ist beigefügt.\n\nWir bitten Sie, jede weitere "
        "Korrespondenz ausschließlich mit unserer Kanzlei zu führen und jede direkte "
        "Kontaktaufnahme mit unserer Mandantin zu unterlassen. Die Forderung wird bestritten.\n\n"
        "Mit freundlichen Grüßen\n\nDr. Henrik Albers\nRechtsanwalt\nKanzlei Albers & Roth\n"
        "Am Wall 120, 28195 Bremen\n\n" + DISCLAIMERS["de"]
    )
    draft = Draft(
        "Kanzlei Albers & Roth",
        "sekretariat@albers-roth.example.de",
        f"Forderungssache {sabine.creditor.name} ./. Krüger",
        text,
        sent,
        "de",
        attachments=[
            Attachment(
                "Vollmacht_Krueger.pdf",
                "application/pdf",
                text_pdf(
                    [
                        "VOLLMACHT",
                        "",
                        "Hiermit wird Rechtsanwalt Dr. Henrik Albers",
                        "Vollmacht erteilt",
                        "in Sachen Nordlicht Energie GmbH ./. Sabine Krueger.",
                        "",
                        "Bremen, den 02.11.2026",
                    ]
                ),
            )
        ],
    )
    raw, lab = _client_mail(
        "outlook_desktop",
        draft,
        rng,
        label(
            lang="de",
            kind="attorney",
            scenario="attorney_letter_body",
            intent="cease_and_desist",
            compliance="attorney_representation",
            account=sabine.account_id,
            match_basis="reference",
            reference_as_written=sabine.case_number,
            route="hold",
        ),
    )
    yield "de-attorney-letter", raw, lab

    # A son forwards his mother's dispute as an attached message (Outlook "forward as attachment").
    nathalie = BY_ID["ev-blc-02"]
    sent = _when(rng, "+0100")
    inner = EmailMessage(policy=POLICY)
    inner["From"] = formataddr(("Nathalie Girard", nathalie.email or ""))
    inner["To"] = "contact@meridian-recovery.example.com"
    inner["Subject"] = f"Contestation dossier {nathalie.case_number}"
    inner["Date"] = format_datetime(sent - timedelta(days=9))
    inner["Message-ID"] = f"<{rng.randbytes(6).hex()}@gmail.example.com>"
    inner.set_content(
        "Bonjour,\n\nJe conteste cette créance : le prêt a été remboursé par anticipation en "
        f"2024. Merci de m'envoyer le contrat et le décompte. Dossier {nathalie.case_number}.\n\n"
        "Nathalie Girard\n"
    )
    draft = Draft(
        "Hugo Girard",
        "hugo.girard@free.example.fr",
        "TR: message de ma mère",
        "Bonjour,\n\nMa mère n'a pas eu de réponse, je vous renvoie son message en pièce jointe."
        "\n\nHugo Girard",
        sent,
        "fr",
        attachments=[Attachment("Contestation.eml", "message/rfc822", inner.as_bytes())],
    )
    raw, lab = _client_mail(
        "outlook_web",
        draft,
        rng,
        label(
            lang="fr",
            kind="relative",
            scenario="rfc822_attached_dispute",
            intent="dispute",
            compliance="dispute",
            account=nathalie.account_id,
            match_basis="reference_attachment",
            route="hold",
        ),
    )
    yield "fr-forward-as-attachment", raw, lab

    # The debtor forwards our own letter back as an attachment, with a promise.
    gareth = BY_ID["ev-tvw-03"]
    sent = _when(rng, "+0000")
    letter = EmailMessage(policy=POLICY)
    letter["From"] = COLLECTIONS
    letter["To"] = gareth.email or ""
    letter["Subject"] = "Notice regarding your account"
    letter["Date"] = format_datetime(sent - timedelta(days=15))
    letter["Message-ID"] = f"<{rng.randbytes(8).hex()}@meridian-recovery.example.com>"
    letter.set_content(
        f"Account {gareth.account_reference} / Case {gareth.case_number}\n\n"
        "Meridian Recovery Services is a debt collector. If you notify us within 30 days that "
        "you dispute the debt, we will stop collection until we send you verification.\n"
    )
    draft = Draft(
        "Gareth Hughes",
        gareth.email or "",
        "Fw: Notice regarding your account",
        "Got this attached letter. I'll pay the £156 on the 28th when I get paid.\nGareth",
        sent,
        "en",
        attachments=[Attachment("Notice.eml", "message/rfc822", letter.as_bytes())],
    )
    raw, lab = _client_mail(
        "iphone",
        draft,
        rng,
        label(
            scenario="rfc822_attached_notice",
            intent="payment_promise",
            account=gareth.account_id,
            match_basis="reference_attachment",
            fields={"amount": 156.0, "currency": "GBP", "payment_date": "2026-11-28"},
            route="notify",
            hard_negative="quoted_validation_notice",
        ),
    )
    yield "en-forwarded-notice-attached", raw, lab


# -- PDFs ------------------------------------------------------------------------------------


def pdfs(rng: random.Random) -> Made:
    katrin = BY_ID["ev-nle-01"]
    sent = _when(rng, "+0100")
    pdf = text_pdf(
        [
            "Katrin Vogel, Osterstrasse 5, 28199 Bremen",
            "An: Meridian Recovery Services",
            f"Ihr Aktenzeichen: {katrin.case_number}",
            "",
            "Widerspruch gegen Ihre Forderung vom 20.10.2026",
            "",
            "Hiermit widerspreche ich der Forderung in voller Hoehe. Die Jahresabrechnung",
            "2025 wurde von Nordlicht Energie bereits korrigiert. Bitte stellen Sie",
            "saemtliche Mahnungen ein, bis Sie mir eine korrekte Abrechnung vorlegen.",
        ]
    )
    draft = Draft(
        "Katrin Vogel",
        katrin.email or "",
        "Schreiben",
        "Guten Tag,\n\nanbei mein Schreiben.\n\nKatrin Vogel",
        sent,
        "de",
        attachments=[Attachment("Widerspruch.pdf", "application/pdf", pdf)],
    )
    raw, lab = _client_mail(
        "webmail_de",
        draft,
        rng,
        label(
            lang="de",
            scenario="pdf_dispute",
            intent="dispute",
            compliance="dispute",
            account=katrin.account_id,
            match_basis="reference_attachment",
            route="hold",
        ),
    )
    yield "de-pdf-dispute", raw, lab

    alicia = BY_ID["ev-hpt-04"]
    sent = _when(rng, "-0500")
    pdf = text_pdf(
        [
            "UNITED STATES BANKRUPTCY COURT - DISTRICT OF NEVADA",
            "Notice of Chapter 13 Bankruptcy Case",
            "Debtor: Alicia Moreno        Case number: 26-bk-14702",
            "Date case filed for chapter 13: 10/28/2026",
            "",
            "The filing of the case imposed an automatic stay against most collection",
            "activities. Creditors who violate the stay can be required to pay damages.",
            "",
            "Creditor matrix:",
            f"  Harbor Point Telecom c/o Meridian Recovery Services  acct {alicia.account_reference}",
        ]
    )
    draft = Draft(
        "BK Noticing Center",
        "noticing@bankruptcy-notices.example.org",
        "Notice of Bankruptcy Case Filing",
        "Please see the attached notice. This mailbox is not monitored.",
        sent,
        "en",
        attachments=[Attachment("341_notice.pdf", "application/pdf", pdf)],
    )
    raw, lab = _client_mail(
        "thunderbird",
        draft,
        rng,
        label(
            kind="court",
            scenario="pdf_bankruptcy_notice",
            intent="bankruptcy_notice",
            compliance="bankruptcy",
            account=alicia.account_id,
            match_basis="reference_attachment",
            route="hold",
        ),
    )
    yield "en-pdf-bankruptcy-court", raw, lab

    ray = BY_ID["ev-mrm-02"]
    sent = _when(rng, "-0800")
    draft = Draft(
        "Emily Fisher",
        "emily.fisher@example.net",
        f"Raymond Fisher {ray.account_reference}",
        "Hello,\n\nMy father Raymond Fisher passed away on October 19. I have attached the death "
        "certificate. I am not responsible for his bills - please stop calling his number, my "
        "mother is not well.\n\nEmily",
        sent,
        "en",
        attachments=[Attachment("death_certificate.pdf", "application/pdf", scanned_pdf())],
    )
    raw, lab = _client_mail(
        "gmail",
        draft,
        rng,
        label(
            kind="relative",
            scenario="deceased_with_scan",
            intent="cease_and_desist",
            compliance="deceased",
            account=ray.account_id,
            match_basis="reference",
            reference_as_written=ray.account_reference,
            route="hold",
        ),
    )
    yield "en-deceased-scan", raw, lab

    fleur = BY_ID["ev-pbl-03"]
    sent = _when(rng, "+0100")
    draft = Draft(
        "Fleur Bakker",
        fleur.email or "",
        "brief",
        "Zie bijlage.",
        sent,
        "nl",
        attachments=[Attachment("scan_20261109.pdf", "application/pdf", scanned_pdf())],
    )
    raw, lab = _client_mail(
        "iphone",
        draft,
        rng,
        label(
            lang="nl",
            scenario="scan_only_dispute",
            intent="dispute",
            compliance="dispute",
            account=fleur.account_id,
            match_basis="sender",
            route="hold",
        ),
    )
    yield "nl-scan-only-letter", raw, lab

    pablo = BY_ID["ev-cfi-06"]
    sent = _when(rng, "+0100")
    pdf = text_pdf(
        [
            "BANCO DEL NORTE - Justificante de transferencia",
            "Ordenante: Pablo Serrano",
            "Beneficiario: Meridian Recovery Services",
            "Importe: 300,00 EUR",
            "Fecha valor: 10/11/2026",
            f"Concepto: {pablo.account_reference}",
        ]
    )
    draft = Draft(
        "Pablo Serrano",
        pablo.email or "",
        "justificante",
        "Adjunto justificante.\n\nPablo",
        sent.replace(day=11),
        "es",
        attachments=[Attachment("justificante.pdf", "application/pdf", pdf)],
    )
    raw, lab = _client_mail(
        "samsung",
        draft,
        rng,
        label(
            lang="es",
            scenario="pdf_transfer_receipt",
            intent="payment_confirmation",
            account=pablo.account_id,
            match_basis="reference_attachment",
            fields={"amount": 300.0, "currency": "EUR", "payment_date": "2026-11-10"},
            route="notify",
            money_allowed=True,
        ),
    )
    yield "es-pdf-transfer-receipt", raw, lab

    brenda = BY_ID["ev-hpt-06"]
    sent = _when(rng, "-0500")
    pdf = text_pdf(
        [
            "IDENTITY THEFT REPORT (FTC)",
            "Report number: 187334021",
            "Name: Brenda Kowalski",
            "Fraudulent account: Harbor Point Telecom",
            f"Account number: {brenda.account_reference}",
            "I did not open this account and did not authorize anyone to open it.",
        ]
    )
    draft = Draft(
        "Brenda Kowalski",
        brenda.email or "",
        "not my account",
        "Please see the attached FTC report. This account is not mine, somebody used my SSN.",
        sent,
        "en",
        attachments=[Attachment("FTC_Report.pdf", "application/pdf", pdf)],
    )
    raw, lab = _client_mail(
        "samsung",
        draft,
        rng,
        label(
            scenario="pdf_identity_theft",
            intent="dispute",
            compliance="identity_theft",
            account=brenda.account_id,
            match_basis="reference_attachment",
            route="hold",
        ),
    )
    yield "en-pdf-identity-theft", raw, lab

    matteo = BY_ID["ev-sau-04"]
    sent = _when(rng, "+0100")
    compact = matteo.account_reference.replace(".", "")
    draft = Draft(
        "Matteo Conti",
        matteo.email or "",
        "pagamento",
        "Buongiorno, ho pagato 200 euro ieri, allego la ricevuta.\nMatteo",
        sent,
        "it",
        attachments=[
            Attachment(f"ricevuta_bonifico_{compact}.pdf", "application/pdf", scanned_pdf())
        ],
    )
    raw, lab = _client_mail(
        "gmail_android",
        draft,
        rng,
        label(
            lang="it",
            scenario="receipt_ref_in_filename",
            intent="payment_confirmation",
            account=matteo.account_id,
            match_basis="reference_attachment",
            reference_as_written=compact,
            fields={
                "amount": 200.0,
                "currency": "EUR",
                "payment_date": (sent - timedelta(days=1)).date().isoformat(),
            },
            route="notify",
            money_allowed=True,
        ),
    )
    yield "it-receipt-filename-ref", raw, lab


# -- remittance advices ----------------------------------------------------------------------


def _table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><td style="padding:4px 12px;color:#555">{k}</td>'
        f'<td style="padding:4px 12px"><b>{v}</b></td></tr>'
        for k, v in rows
    )
    return f'<table cellpadding="0" cellspacing="0" style="border:1px solid #ccc">{cells}</table>'


def _bulk_html(
    subject: str,
    from_name: str,
    from_addr: str,
    sent: datetime,
    text: str,
    html_body: str,
    headers: list[tuple[str, str]],
    rng: random.Random,
) -> bytes:
    msg = EmailMessage(policy=POLICY)
    domain = from_addr.rsplit("@", 1)[1]
    msg["Return-Path"] = f"<bounces+{rng.randint(10000, 99999)}@em.{domain}>"
    msg["Received"] = (
        f"from o{rng.randint(1, 99)}.em.{domain} (o1.em.{domain} [203.0.113.{rng.randint(2, 250)}])"
        f"\n\tby mx1.meridian-recovery.example.com (Postfix) with ESMTPS\n\tfor <{COLLECTOR_INBOX}>; "
        f"{format_datetime(sent + timedelta(seconds=20))}"
    )
    msg["DKIM-Signature"] = (
        f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1;\n\th=from:subject:to:"
        f"list-unsubscribe;\n\tbh={rng.randbytes(32).hex()[:43]}=;\n\tb={rng.randbytes(64).hex()}"
    )
    msg["From"] = formataddr((from_name, from_addr))
    msg["To"] = COLLECTOR_INBOX
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<{rng.randbytes(10).hex()}@{domain}>"
    for name, value in headers:
        msg[name] = value
    msg["MIME-Version"] = "1.0"
    if text:
        msg.set_content(text)
        msg.add_alternative(html_body, subtype="html")
    else:
        msg.set_content(html_body, subtype="html")
    return msg.as_bytes()


def remittances(rng: random.Random) -> Made:
    uwe = BY_ID["ev-nle-06"]
    sent = _when(rng, "+0100")
    ref = uwe.account_reference.replace(" ", "")
    rows = [
        ("Auftraggeber", "Uwe Schäfer"),
        ("Empfänger", "Meridian Recovery Services"),
        ("IBAN Empfänger", "DE00 0000 0000 0000 0000 00"),
        ("Betrag", "250,00 EUR"),
        ("Ausführungsdatum", (sent - timedelta(days=1)).strftime("%d.%m.%Y")),
        ("Verwendungszweck", f"{ref} Teilzahlung"),
    ]
    text = (
        "Zahlungsavis\n\n"
        + "\n".join(f"{k}: {v}" for k, v in rows)
        + ("\n\nDiese Nachricht wurde automatisch erstellt. Bitte antworten Sie nicht.")
    )
    raw = _bulk_html(
        "Zahlungsavis / Überweisung ausgeführt",
        "Hansebank Online-Banking",
        "noreply@hansebank.example.de",
        sent,
        text,
        f"<html><body><h3>Zahlungsavis</h3>{_table(rows)}</body></html>",
        [("Auto-Submitted", "auto-generated")],
        rng,
    )
    yield (
        "de-bank-remittance",
        raw,
        label(
            lang="de",
            kind="bank",
            client="bank_system",
            scenario="bank_remittance",
            intent="payment_confirmation",
            account=uwe.account_id,
            match_basis="reference",
            reference_as_written=ref,
            fields={
                "amount": 250.0,
                "currency": "EUR",
                "payment_date": (sent - timedelta(days=1)).date().isoformat(),
            },
            route="notify",
            money_allowed=True,
            received_at=_received(sent),
        ),
    )

    jamal = BY_ID["ev-mrm-05"]
    sent = _when(rng, "-0800")
    check_date = (sent - timedelta(days=2)).date()
    rows = [
        ("Payee", "Meridian Recovery Services"),
        ("Employee", "Jamal Carter"),
        ("Case / Order No.", jamal.case_number),
        ("Pay period", "10/19/2026 - 11/01/2026"),
        ("Amount withheld", "$312.40"),
        ("Check date", check_date.strftime("%m/%d/%Y")),
        ("Check number", "0048813"),
    ]
    draft = Draft(
        "Accounts Payable",
        "ap@northfield-logistics.example.com",
        "Remittance Advice - Wage Garnishment",
        "Please find the remittance details below.\n\n"
        + "\n".join(f"{k}: {v}" for k, v in rows)
        + "\n\nNorthfield Logistics Inc. - Payroll",
        sent,
        "en",
        html_extra=_table(rows),
    )
    raw, lab = _client_mail(
        "outlook_web",
        draft,
        rng,
        label(
            kind="employer",
            scenario="garnishment_remittance",
            intent="payment_confirmation",
            account=jamal.account_id,
            match_basis="reference",
            reference_as_written=jamal.case_number,
            fields={"amount": 312.40, "currency": "USD", "payment_date": check_date.isoformat()},
            route="notify",
            money_allowed=True,
        ),
    )
    yield "en-garnishment-remittance", raw, lab

    tanya = BY_ID["ev-hpt-02"]
    sent = _when(rng, "-0500")
    rows = [
        ("Originator", "TANYA RIOS"),
        ("Beneficiary", "MERIDIAN RECOVERY SVCS"),
        ("Amount", "USD 150.00"),
        ("Effective date", (sent - timedelta(days=1)).strftime("%Y-%m-%d")),
        ("Invoice/Ref", tanya.account_reference),
        ("Trace number", "091000019876543"),
    ]
    raw = _bulk_html(
        "ACH payment sent",
        "Lakeshore Credit Union",
        "alerts@lakeshore-cu.example.com",
        sent,
        "",
        f"<html><body><p>Your ACH payment has been sent.</p>{_table(rows)}"
        "<p style='font-size:10px'>Do not reply to this automated message.</p></body></html>",
        [],
        rng,
    )
    yield (
        "en-ach-html-only",
        raw,
        label(
            kind="bank",
            client="bank_system",
            scenario="ach_html_only",
            intent="payment_confirmation",
            account=tanya.account_id,
            match_basis="reference",
            reference_as_written=tanya.account_reference,
            fields={
                "amount": 150.0,
                "currency": "USD",
                "payment_date": (sent - timedelta(days=1)).date().isoformat(),
            },
            route="notify",
            money_allowed=True,
            received_at=_received(sent),
        ),
    )

    daan = BY_ID["ev-pbl-02"]
    sent = _when(rng, "+0100")
    draft = Draft(
        "Daan Jansen",
        daan.email or "",
        "Betaalbevestiging",
        f"U heeft € 150,00 overgemaakt naar Meridian Recovery Services.\nOmschrijving: "
        f"{daan.account_reference}\nDatum: {sent.strftime('%d-%m-%Y')}\n\n--\nVerstuurd vanuit "
        "de bank-app",
        sent,
        "nl",
    )
    raw, lab = _client_mail(
        "outlook_web",
        draft,
        rng,
        label(
            lang="nl",
            scenario="bank_app_share",
            intent="payment_confirmation",
            account=daan.account_id,
            match_basis="reference",
            reference_as_written=daan.account_reference,
            fields={"amount": 150.0, "currency": "EUR", "payment_date": sent.date().isoformat()},
            route="notify",
            money_allowed=True,
        ),
    )
    yield "nl-bank-app-share", raw, lab


# -- auto-replies ---------------------------------------------------------------------------


def auto_replies(rng: random.Random) -> Made:
    from eval.corpus_texts import AUTO_REPLIES

    picks = {
        "en": "ev-tvw-01",
        "de": "ev-nle-02",
        "fr": "ev-blc-03",
        "es": "ev-cfi-02",
        "it": "ev-sau-03",
        "nl": "ev-pbl-02",
    }
    styles = [
        [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")],
        [("Auto-Submitted", "auto-replied"), ("Precedence", "auto_reply")],
        [("X-Autoreply", "yes"), ("X-Autorespond", "Out of office")],
        [("Auto-Submitted", "auto-replied"), ("X-MS-Exchange-Inbox-Rules-Loop", "x")],
    ]
    for i, (lang, account_id) in enumerate(picks.items()):
        account = BY_ID[account_id]
        sent = _when(rng, account.creditor.tz)
        subject, body = AUTO_REPLIES[lang]
        back = sent + timedelta(days=rng.randint(4, 14))
        original = f"Case {account.case_number}" if i % 2 else "Payment reminder"
        headers = list(styles[i % len(styles)])
        if headers[0][0] == "X-MS-Exchange-Inbox-Rules-Loop":
            headers[0] = ("X-MS-Exchange-Inbox-Rules-Loop", account.email or "")
        draft = Draft(
            account.name,
            account.email or "",
            subject.format(subject=original),
            body.format(date=back.strftime("%d.%m.%Y"), name=account.name),
            sent,
            lang,
            extra_headers=headers,
            in_reply_to=f"<{rng.randbytes(8).hex()}@meridian-recovery.example.com>",
        )
        if i == 0:  # quotes our notice (with its dispute wording) under the auto-reply
            draft.quoted = (
                f"Case {account.case_number}. If you dispute this debt, write to us within 30 "
                "days and we will stop collection until we send you verification."
            )
            draft.quoted_subject = original
            draft.quoted_date = sent - timedelta(minutes=1)
        client = account.client if account.client in CLIENTS else "outlook_web"
        raw, lab = _client_mail(
            client,
            draft,
            rng,
            label(
                lang=lang,
                kind="auto_reply",
                scenario="out_of_office",
                account=account_id,
                match_basis="sender",
                route="ignore",
            ),
        )
        yield f"{lang}-auto-reply", raw, lab

    # a creditor's helpdesk acknowledging our message (auto-generated, with a ticket number)
    sent = _when(rng, "-0500")
    raw = _bulk_html(
        "[Ticket #48213] We received your request",
        "Harbor Point Support",
        "support@harborpoint-telecom.example.com",
        sent,
        "Hello,\n\nThanks for contacting Harbor Point Support. Your ticket #48213 has been "
        "created and an agent will respond within 2 business days.\n\nHarbor Point Telecom",
        "<p>Thanks for contacting Harbor Point Support. Ticket <b>#48213</b>.</p>",
        [
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
            ("Precedence", "bulk"),
        ],
        rng,
    )
    yield (
        "en-helpdesk-ack",
        raw,
        label(
            kind="auto_reply",
            client="helpdesk",
            scenario="helpdesk_ack",
            route="ignore",
            received_at=_received(sent),
        ),
    )


# -- bounces (RFC 3464) ----------------------------------------------------------------------


def _our_letter(account: EvalAccount, sent: datetime, rng: random.Random) -> EmailMessage:
    letter = EmailMessage(policy=POLICY)
    letter["From"] = COLLECTIONS
    letter["To"] = account.email or ""
    letter["Subject"] = f"Your account {account.case_number}"
    letter["Date"] = format_datetime(sent - timedelta(seconds=30))
    letter["Message-ID"] = f"<{rng.randbytes(8).hex()}@meridian-recovery.example.com>"
    letter.set_content(
        f"Case {account.case_number} / account {account.account_reference}\n\n"
        f"Balance due to {account.creditor.name}: {account.balance:.2f} {account.currency}.\n"
        "If you dispute this debt, write to us within 30 days and we will stop collection "
        "until we send you verification of the debt.\n"
    )
    return letter


def _dsn(
    account: EvalAccount,
    sent: datetime,
    rng: random.Random,
    *,
    mta: str,
    postmaster: str,
    subject: str,
    human: str,
    status: str,
    diagnostic: str,
    action: str = "failed",
    headers_only: bool = False,
    auto_submitted: bool = True,
) -> bytes:
    boundary = f"{rng.randbytes(6).hex()}.{int(sent.timestamp())}/{mta}"
    status = (
        f"Reporting-MTA: dns; {mta}\nArrival-Date: {format_datetime(sent - timedelta(seconds=5))}"
        f"\n\nFinal-Recipient: rfc822; {account.email}\nOriginal-Recipient: rfc822;"
        f"{account.email}\nAction: {action}\nStatus: {status}\nRemote-MTA: dns; "
        f"{(account.email or '@x').rsplit('@', 1)[1]}\nDiagnostic-Code: smtp; {diagnostic}\n"
    )
    letter = _our_letter(account, sent, rng).as_string()
    if headers_only:
        original = "Content-Type: text/rfc822-headers\n\n" + letter.split("\n\n", 1)[0] + "\n"
    else:
        original = "Content-Type: message/rfc822\n\n" + letter
    head = (
        "Return-Path: <>\n"
        f"Received: from {mta} ({mta} [198.51.100.{rng.randint(2, 250)}])\n\tby "
        "mx1.meridian-recovery.example.com (Postfix)\n\tfor <collections@meridian-recovery."
        f"example.com>; {format_datetime(sent + timedelta(seconds=3))}\n"
        f"From: {postmaster}\nTo: collections@meridian-recovery.example.com\n"
        f"Subject: {subject}\nDate: {format_datetime(sent)}\n"
        f"Message-ID: <{rng.randbytes(8).hex()}@{mta}>\n"
        + ("Auto-Submitted: auto-replied\n" if auto_submitted else "")
        + "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n'
    )
    body = (
        f"This is a MIME-encapsulated message.\n\n--{boundary}\n"
        "Content-Description: Notification\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: 8bit\n\n{human}\n--{boundary}\n"
        f"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        f"{status}\n--{boundary}\nContent-Description: Undelivered Message\n{original}\n"
        f"--{boundary}--\n"
    )
    return (head + "\n" + body).encode()


def bounces(rng: random.Random) -> Made:
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (
            "ev-hpt-05",
            "en",
            dict(
                mta="mx1.meridian-recovery.example.com",
                postmaster="MAILER-DAEMON@mx1.meridian-recovery.example.com (Mail Delivery System)",
                subject="Undelivered Mail Returned to Sender",
                human="This is the mail system at host mx1.meridian-recovery.example.com.\n\n"
                "I'm sorry to have to inform you that your message could not\nbe delivered to one or "
                "more recipients. It's attached below.\n\n                   The mail system\n",
                status="5.1.1",
                diagnostic="550 5.1.1 <recipient>: Recipient address rejected: "
                "User unknown in virtual mailbox table",
                headers_only=True,
            ),
        ),
        (
            "ev-tvw-02",
            "en",
            dict(
                mta="mail-sor-f69.google.example.com",
                postmaster="Mail Delivery Subsystem <mailer-daemon@googlemail.example.com>",
                subject="Delivery Status Notification (Failure)",
                human="Address not found\n\nYour message wasn't delivered because the address "
                "couldn't be found, or is unable to receive mail.\n",
                status="5.1.1",
                diagnostic="550-5.1.1 The email account that you tried to reach does not exist.",
            ),
        ),
        (
            "ev-blc-06",
            "fr",
            dict(
                mta="AM9P193MB1234.EURP193.PROD.OUTLOOK.EXAMPLE.COM",
                postmaster="Microsoft Outlook <postmaster@outlook.example.com>",
                subject="Non remis : Your account",
                human="Votre message n'a pas pu être remis à la boîte aux lettres du destinataire "
                "car celle-ci est pleine.\n",
                status="5.2.2",
                diagnostic="554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:"
                "QuotaExceededException",
                auto_submitted=False,
            ),
        ),
        (
            "ev-nle-02",
            "de",
            dict(
                mta="mx00.web.example.de",
                postmaster="Mail Delivery System <MAILER-DAEMON@web.example.de>",
                subject="Mail delivery failed: returning message to sender",
                human="This message was created automatically by mail delivery software.\n\n"
                "A message that you sent could not be delivered to one or more of its\nrecipients. "
                "This is a permanent error.\n",
                status="5.0.0",
                diagnostic="550 Requested action not taken: mailbox unavailable",
            ),
        ),
        (
            "ev-cfi-04",
            "es",
            dict(
                mta="mx.gmail.example.com",
                postmaster="Mail Delivery Subsystem <mailer-daemon@googlemail.example.com>",
                subject="Delivery Status Notification (Delay)",
                human="Message not delivered yet\n\nThere was a temporary problem delivering your "
                "message. Gmail will retry for 47 more hours.\n",
                status="4.2.1",
                diagnostic="450 4.2.1 The user you are trying to contact is receiving mail too "
                "quickly.",
                action="delayed",
            ),
        ),
        (
            "ev-pbl-06",
            "nl",
            dict(
                mta="smtp.ziggo.example.nl",
                postmaster="Mail Delivery System <MAILER-DAEMON@ziggo.example.nl>",
                subject="Undeliverable: Your account",
                human="Delivery has failed to these recipients or groups.\n",
                status="5.4.1",
                diagnostic="550 5.4.1 Recipient address rejected: Access denied",
            ),
        ),
    ]
    for account_id, lang, kw in cases:
        account = BY_ID[account_id]
        sent = _when(rng)
        raw = _dsn(account, sent, rng, **kw)
        yield (
            f"{lang}-bounce",
            raw,
            label(
                lang=lang,
                kind="bounce",
                client="mta",
                scenario="delivery_status_" + str(kw.get("action", "failed")),
                account=account_id,
                match_basis="bounce_recipient",
                route="ignore",
                received_at=_received(sent),
            ),
        )


# -- newsletters and spam --------------------------------------------------------------------


def _list_headers(list_id: str, domain: str, rng: random.Random) -> list[tuple[str, str]]:
    token = rng.randbytes(6).hex()
    return [
        ("List-Id", f"<{list_id}>"),
        (
            "List-Unsubscribe",
            f"<https://{domain}/u/{token}>, <mailto:unsubscribe@{domain}?subject={token}>",
        ),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "bulk"),
        ("X-Mailer", "MailChimp Mailer - **CID" + rng.randbytes(5).hex() + "**"),
        ("Feedback-ID", f"{rng.randint(1000, 9999)}:{list_id}:mc"),
    ]


def newsletters(rng: random.Random) -> Made:
    items = [
        (
            "en",
            "Your Money Rights Weekly",
            "news@moneyrights.example.org",
            "5 steps to dispute a debt collector (and when to send a cease and desist letter)",
            "HOW TO DISPUTE A DEBT\n\nIf a collector contacts you, you have the right to request "
            "validation of the debt within 30 days. Send a dispute letter by certified mail and "
            "the collector must stop collection until it verifies the debt. You can also tell a "
            "collector to stop contacting you: send a cease and desist letter. Considering "
            "bankruptcy? Filing triggers an automatic stay.\n\nRead more on our website.\n",
            "bulk_compliance_topic",
        ),
        (
            "de",
            "Verbraucherinfo Newsletter",
            "newsletter@verbraucherinfo.example.de",
            "Inkasso: So widersprechen Sie unberechtigten Forderungen",
            "Post vom Inkassobüro? Bestreiten Sie die Forderung schriftlich, wenn sie unberechtigt "
            "ist. Sie können der Forderung widersprechen und einen Nachweis verlangen. "
            "Bei Überschuldung hilft eine Schuldnerberatung; das Insolvenzverfahren bietet einen "
            "Neuanfang.\n\nZum Artikel: https://verbraucherinfo.example.de/inkasso\n",
            "bulk_compliance_topic",
        ),
        (
            "en",
            "Collections Compliance Weekly",
            "editor@collections-weekly.example.com",
            "Reg F roundup: validation notices, call frequency, attorney representation",
            "This week: courts on the model validation notice; when a consumer says they have an "
            "attorney, Regulation F requires you to communicate with the attorney; identity theft "
            "reports and deceased debtor estates.\n\nWebinar Thursday 2pm ET.\n",
            "bulk_compliance_topic",
        ),
        (
            "fr",
            "Banque Lumière",
            "offres@banque-lumiere.example.fr",
            "Votre crédit renouvelable à taux réduit jusqu'au 30 novembre",
            "Profitez d'un taux exceptionnel sur votre réserve d'argent. Offre soumise à "
            "conditions. Un crédit vous engage et doit être remboursé.\n",
            None,
        ),
        (
            "en",
            "DialerPro",
            "events@dialerpro.example.com",
            "Webinar: boost right-party contact rates by 30%",
            "Join our product team to see the new omnichannel dialer. Register now.\n",
            None,
        ),
        (
            "nl",
            "Schuldhulp Nieuwsbrief",
            "nieuws@schuldhulp.example.nl",
            "Hoe maak je bezwaar tegen een incassobureau?",
            "Krijg je een brief van een incassobureau en klopt de vordering niet? Je kunt de "
            "vordering betwisten. Vraag om een specificatie en stop met betalen tot het duidelijk "
            "is. Over schuldsanering (WSNP) lees je meer op onze site.\n",
            "bulk_compliance_topic",
        ),
    ]
    for lang, from_name, from_addr, subject, text, negative in items:
        sent = _when(rng)
        domain = from_addr.rsplit("@", 1)[1]
        html_body = (
            '<html><body style="background:#f4f4f4"><table width="600" align="center"><tr><td>'
            f"<h1>{subject}</h1><p>{text.replace(chr(10), '<br>')}</p>"
            f'<p style="font-size:11px">You receive this email because you subscribed. '
            f'<a href="https://{domain}/unsubscribe">Unsubscribe</a></p>'
            '<img src="https://' + domain + '/open.gif" width="1" height="1"></td></tr></table>'
            "</body></html>"
        )
        raw = _bulk_html(
            subject,
            from_name,
            from_addr,
            sent,
            text,
            html_body,
            _list_headers(f"{rng.randbytes(4).hex()}.list.{domain}", domain, rng),
            rng,
        )
        yield (
            f"{lang}-newsletter",
            raw,
            label(
                lang=lang,
                kind="newsletter",
                client="esp",
                scenario="newsletter",
                route="ignore",
                hard_negative=negative,
                received_at=_received(sent),
            ),
        )


def spam(rng: random.Random) -> Made:
    items = [
        (
            "en",
            "Rewards Center",
            "winner@rewards-center.example.net",
            "Congratulations! You have been selected for a $1,000 gift card",
            "Claim your reward now, only 3 left. Click here to confirm your shipping address.",
            None,
        ),
        (
            "en",
            "IT Helpdesk",
            "it-support@mailbox-quota.example.net",
            "Your mailbox storage is full - action required",
            "Your mailbox has reached its limit. Incoming mail will be rejected. Verify your "
            "account within 24 hours: https://mailbox-quota.example.net/verify",
            None,
        ),
        (
            "en",
            "Debt Freedom Law Group",
            "help@debt-freedom-law.example.net",
            "STOP collectors calling TODAY - file bankruptcy with our attorneys",
            "Tired of debt collectors? Our attorneys will send a cease and desist letter and "
            "dispute every debt for you. Chapter 7 bankruptcy from $499. Reply STOP to opt out.",
            "spam_compliance_topic",
        ),
        (
            "de",
            "Sparkasse Sicherheit",
            "sicherheit@sparkasse-konto.example.net",
            "Ihr Konto wurde vorübergehend gesperrt",
            "Aufgrund verdächtiger Aktivitäten wurde Ihr Online-Banking gesperrt. Bitte bestätigen "
            "Sie Ihre Daten innerhalb von 24 Stunden.",
            None,
        ),
        (
            "es",
            "Inversiones Cripto",
            "info@cripto-rentable.example.net",
            "Gane 3.000 € al mes con bitcoin",
            "Nuestro algoritmo garantiza beneficios diarios. Plazas limitadas.",
            None,
        ),
        (
            "it",
            "SEO Italia",
            "offerte@seo-primapagina.example.net",
            "Il vostro sito in prima pagina su Google",
            "Gentile titolare, abbiamo analizzato il vostro sito e possiamo portarlo in prima "
            "pagina in 30 giorni.",
            None,
        ),
    ]
    for lang, from_name, from_addr, subject, text, negative in items:
        sent = _when(rng)
        raw = _bulk_html(
            subject,
            from_name,
            from_addr,
            sent,
            text,
            f"<html><body><p>{text}</p></body></html>",
            [],
            rng,
        )
        yield (
            f"{lang}-spam",
            raw,
            label(
                lang=lang,
                kind="spam",
                client="spam",
                scenario="spam",
                route="ignore",
                hard_negative=negative,
                received_at=_received(sent),
            ),
        )


# -- harder debtor mail ----------------------------------------------------------------------


def tricky(rng: random.Random) -> Made:
    marcus_hpt, marcus_mrm = BY_ID["ev-hpt-01"], BY_ID["ev-mrm-03"]
    sent = _when(rng, "-0500")
    draft = Draft(
        "Marcus Bell",
        marcus_hpt.email or "",
        "payment",
        "I will send you $100 this Friday. Marcus",
        sent,
        "en",
    )
    raw, lab = _client_mail(
        "gmail",
        draft,
        rng,
        label(
            scenario="two_accounts_no_ref",
            intent="payment_promise",
            account="ambiguous",
            match_basis="sender_several_accounts",
            fields={"amount": 100.0, "currency": "USD"},
            route="review",
        ),
    )
    yield "en-two-accounts-sender-only", raw, lab

    sent = _when(rng, "-0500")
    draft = Draft(
        "Marcus Bell",
        marcus_hpt.email or "",
        "paid both",
        f"Hi, I paid $50 on each of my accounts yesterday, {marcus_hpt.account_reference} and "
        f"{marcus_mrm.account_reference}. Thanks, Marcus",
        sent,
        "en",
    )
    raw, lab = _client_mail(
        "gmail",
        draft,
        rng,
        label(
            scenario="two_references",
            intent="payment_confirmation",
            account="ambiguous",
            match_basis="two_references",
            fields={
                "amount": 50.0,
                "currency": "USD",
                "payment_date": (sent - timedelta(days=1)).date().isoformat(),
            },
            route="review",
        ),
    )
    yield "en-two-references", raw, lab

    derek = BY_ID["ev-hpt-03"]
    sent = _when(rng, "-0500")
    draft = Draft(
        "Derek Olson",
        derek.email or "",
        f"Account {derek.account_reference}",
        "Please update your system to show this account as PAID IN FULL and closed. I settled "
        "everything with Harbor Point directly last year, I don't owe you anything.",
        sent,
        "en",
    )
    raw, lab = _client_mail(
        "outlook_web",
        draft,
        rng,
        label(
            scenario="claims_paid_to_creditor",
            intent="dispute",
            compliance="dispute",
            account=derek.account_id,
            match_basis="reference",
            reference_as_written=derek.account_reference,
            route="hold",
        ),
    )
    yield "en-claims-paid-in-full", raw, lab

    priya = BY_ID["ev-tvw-02"]
    sent = _when(rng, "+0000")
    draft = Draft(
        "Priya Nair",
        priya.email or "",
        f"Re: {priya.case_number}",
        "Hello, I transferred €200 from my Spanish account on Monday as I'm living abroad now. "
        "Let me know when it arrives.\nPriya",
        sent,
        "en",
    )
    monday = sent.date() - timedelta(days=(sent.weekday() or 7))
    raw, lab = _client_mail(
        "gmail",
        draft,
        rng,
        label(
            scenario="foreign_currency_payment",
            intent="payment_confirmation",
            account=priya.account_id,
            match_basis="reference",
            reference_as_written=priya.case_number,
            fields={"amount": 200.0, "currency": "EUR", "payment_date": monday.isoformat()},
            route="notify",
        ),
    )
    yield "en-payment-other-currency", raw, lab

    kevin = BY_ID["ev-hpt-05"]
    sent = _when(rng, "-0500")
    draft = Draft(
        "Kevin O'Hara",
        kevin.email or "",
        f"{kevin.account_reference} paid",
        f"I paid $3,000.00 today on account {kevin.account_reference}, please confirm.",
        sent,
        "en",
    )
    raw, lab = _client_mail(
        "apple_mail",
        draft,
        rng,
        label(
            scenario="amount_above_balance",
            intent="payment_confirmation",
            account=kevin.account_id,
            match_basis="reference",
            reference_as_written=kevin.account_reference,
            fields={"amount": 3000.0, "currency": "USD", "payment_date": sent.date().isoformat()},
            route="notify",
        ),
    )
    yield "en-amount-above-balance", raw, lab

    sara = BY_ID["ev-sau-05"]
    sent = _when(rng, "+0100")
    draft = Draft(
        "Sara Marino",
        "sara.marino@libero.example.it",
        "bonifico programmato",
        f"Buongiorno, ho programmato un bonifico di 300 euro per il 30 novembre 2026, pratica "
        f"{sara.case_number}.\nSaluti, Sara",
        sent,
        "it",
    )
    raw, lab = _client_mail(
        "samsung",
        draft,
        rng,
        label(
            lang="it",
            scenario="scheduled_transfer",
            intent="payment_promise",
            account=sara.account_id,
            match_basis="reference",
            reference_as_written=sara.case_number,
            fields={"amount": 300.0, "currency": "EUR", "payment_date": "2026-11-30"},
            route="notify",
        ),
    )
    yield "it-scheduled-transfer", raw, lab

    heather = BY_ID["ev-mrm-06"]
    sent = _when(rng, "-0800")
    rows = [
        ("Patient account", heather.account_reference),
        ("Amount", "$233.10"),
        ("Paid with", "Visa ending 4412"),
        ("Date", sent.strftime("%m/%d/%Y")),
    ]
    draft = Draft(
        "Heather Lindqvist",
        heather.email or "",
        "Fwd: Payment receipt",
        "Here's my receipt, I paid the whole thing through the hospital portal.",
        sent,
        "en",
        forward=True,
        quoted_from="Maple Ridge Payments <payments@mapleridge-billing.example.com>",
        quoted_subject="Payment receipt",
        quoted_date=sent - timedelta(hours=2),
        quoted="Thank you for your payment.\n\n" + "\n".join(f"{k}: {v}" for k, v in rows),
    )
    raw, lab = _client_mail(
        "apple_mail",
        draft,
        rng,
        label(
            scenario="forwarded_portal_receipt",
            intent="payment_confirmation",
            account=heather.account_id,
            match_basis="reference_quoted",
            fields={"amount": 233.10, "currency": "USD", "payment_date": sent.date().isoformat()},
            route="notify",
            money_allowed=True,
        ),
    )
    yield "en-forwarded-receipt", raw, lab


ALL: list[Callable[[random.Random], Made]] = [
    attorneys,
    pdfs,
    remittances,
    auto_replies,
    bounces,
    newsletters,
    spam,
    tricky,
]
