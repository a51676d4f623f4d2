"""Writes the evaluation corpus: ``eval/corpus/*.eml``, ``eval/labels.json``, ``eval/accounts.json``.

Deterministic (one seeded ``random.Random``): running it again rewrites the same bytes, so the
committed corpus and this script never drift apart unnoticed (``--check`` compares instead of
writing). The texts are in :mod:`eval.corpus_texts`, the client wrappers in
:mod:`eval.mail_clients`, the accounts in :mod:`eval.accounts_seed`; the hand-built kinds of
mail (attorneys' letters, forwarded and attached messages, PDFs, remittance advices, auto-replies,
bounces, newsletters, spam) are below.

    python -m eval.build_corpus [--check]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eval import corpus_texts as texts
from eval import specials
from eval.accounts_seed import ACCOUNTS, EvalAccount
from eval.mail_clients import CLIENT_DOMAINS, CLIENTS, COLLECTOR_NAME, Draft
from eval.paths import ACCOUNTS_PATH, CORPUS_DIR, DATA_DIR, EVAL_DIR, LABELS_PATH

SEED = 20261104

COMPLIANCE_OF = {
    "validation": ("dispute", "validation_request"),
    "dispute": ("dispute", "dispute"),
    "cease": ("cease_and_desist", "cease_and_desist"),
    "lawyer": ("cease_and_desist", "attorney_representation"),
    "bankruptcy": ("bankruptcy_notice", "bankruptcy"),
    "deceased": ("cease_and_desist", "deceased"),
    "idtheft": ("dispute", "identity_theft"),
}
INTENT_OF = {
    "pay_conf": "payment_confirmation",
    "paid_after_dispute": "payment_confirmation",
    "promise": "payment_promise",
    "quoted_notice": "payment_promise",
    "plan": "payment_plan_request",
    "negated": "payment_plan_request",
    "settle": "settlement_offer",
    "addr": "address_change",
    "question": "other",
}
HARD_NEGATIVES = {
    "negated": "negated_dispute",
    "quoted_notice": "quoted_validation_notice",
    "paid_after_dispute": "past_dispute_mentioned",
}

NEW_ADDRESSES = {
    "en": ("1457 Larkspur Lane, Apt 3B, Springfield, OR 97477", "(555) 013-4478"),
    "de": ("Lindenstraße 14, 28203 Bremen", "0176 5550 1234"),
    "fr": ("12 rue des Tanneurs, 69002 Lyon", "06 55 50 12 34"),
    "es": ("Calle Alta 23, 3º B, 39008 Santander", "655 501 234"),
    "it": ("Via dei Mille 8, 40121 Bologna", "333 555 0123"),
    "nl": ("Prinsengracht 412-2, 1016 JJ Amsterdam", "06 5550 1234"),
}
OTHER_SENDERS = {
    "en": [("j.doe.work", "northfield-logistics.example.com"), ("mom.and.dad", "example.net")],
    "de": [("buero.vogel", "example.de"), ("familie.k", "t-online.example.de")],
    "fr": [("compta", "atelier-moreau.example.fr"), ("maison.girard", "free.example.fr")],
    "es": [("administracion", "talleres-ruiz.example.es"), ("casa", "telefonica.example.es")],
    "it": [("ufficio", "studio-romano.example.it"), ("famiglia", "libero.example.it")],
    "nl": [("werk", "bakker-installatie.example.nl"), ("thuis", "ziggo.example.nl")],
}
CLIENTS_BY_DOMAIN: dict[str, list[str]] = {}
for _client, _domain in CLIENT_DOMAINS.items():
    CLIENTS_BY_DOMAIN.setdefault(_domain, []).append(_client)

_CASE_FOOTER = {"en": "Case", "de": "Aktenzeichen", "fr": "Dossier"}
REMINDERS = {
    "en": "Dear customer,\n\nOur records show that {balance} is still outstanding on your {creditor} "
    "account.\nCase number: {case}\nAccount: {ref}\nPlease pay or contact us to discuss.\n\n"
    "{collector}",
    "de": "Sehr geehrte Kundin, sehr geehrter Kunde,\n\nin der Forderungssache {creditor} ist noch "
    "ein Betrag von {balance} offen.\nAktenzeichen: {case}\nKundennummer: {ref}\n\n{collector}",
    "fr": "Madame, Monsieur,\n\nSauf erreur de notre part, la somme de {balance} reste due à "
    "{creditor}.\nDossier : {case}\nRéf. client : {ref}\n\n{collector}",
    "es": "Estimado/a cliente:\n\nLe recordamos que tiene pendiente {balance} con {creditor}.\n"
    "Expediente: {case}\nReferencia: {ref}\n\n{collector}",
    "it": "Gentile cliente,\n\nrisulta ancora insoluto l'importo di {balance} verso {creditor}.\n"
    "Pratica: {case}\nCodice cliente: {ref}\n\n{collector}",
    "nl": "Geachte heer/mevrouw,\n\nVolgens onze administratie staat er nog {balance} open bij "
    "{creditor}.\nDossier: {case}\nKlantnummer: {ref}\n\n{collector}",
}


# -- formatting ------------------------------------------------------------------------------


def money(lang: str, currency: str, value: float, rng: random.Random) -> str:
    whole, cents = f"{value:,.2f}".split(".")
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}[currency]
    if lang == "en":
        return rng.choice([f"{symbol}{whole}.{cents}", f"{currency} {value:.2f}"])
    dotted = whole.replace(",", ".")
    if lang == "fr":
        spaced = whole.replace(",", " ")
        return rng.choice([f"{spaced},{cents} €", f"{spaced},{cents} euros"])
    if lang == "de":
        return rng.choice([f"{dotted},{cents} €", f"{dotted},{cents} EUR", f"{value:.2f} Euro"])
    if lang in ("it", "nl"):
        return rng.choice([f"€ {dotted},{cents}", f"{dotted},{cents} euro"])
    return rng.choice([f"{dotted},{cents} €", f"{dotted},{cents} euros"])


_MONTH_NAMES = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}


def day_text(lang: str, day: datetime, rng: random.Random) -> str:
    month = _MONTH_NAMES[lang].split()[day.month - 1]
    if lang == "en":
        return rng.choice([f"{month} {day.day}, {day.year}", f"{day.day} {month} {day.year}"])
    if lang == "de":
        return rng.choice([day.strftime("%d.%m.%Y"), f"{day.day}. {month} {day.year}"])
    if lang == "es":
        return rng.choice([day.strftime("%d/%m/%Y"), f"{day.day} de {month} de {day.year}"])
    if lang == "nl":
        return rng.choice([day.strftime("%d-%m-%Y"), f"{day.day} {month} {day.year}"])
    return rng.choice([day.strftime("%d/%m/%Y"), f"{day.day} {month} {day.year}"])


def ref_variant(value: str, rng: random.Random) -> str:
    """The reference as a debtor types it: as printed, run together, lower case, re-punctuated."""
    style = rng.choice(["exact", "exact", "compact", "lower", "dashed"])
    if style == "compact":
        return "".join(ch for ch in value if ch.isalnum())
    if style == "lower":
        return value.lower()
    if style == "dashed":
        return "-".join(value.replace("/", " ").replace(".", " ").split())
    return value


# -- one email ------------------------------------------------------------------------------


@dataclass
class Built:
    name: str
    raw: bytes
    label: dict[str, Any]


@dataclass
class Plan:
    """How one templated email is put together."""

    placement: str  # body | subject | quoted | none
    sender_kind: str  # known | other
    ref_kind: str  # case_number | account_reference
    client: str
    extras: dict[str, Any] = field(default_factory=dict)


_PLACEMENTS = [
    ("body", "known", 30),
    ("subject", "known", 12),
    ("quoted", "known", 14),
    ("none", "known", 16),
    ("body", "other", 16),
    ("quoted", "other", 7),
    ("none", "other", 5),
]


def choose_plan(account: EvalAccount, scenario: str, rng: random.Random) -> Plan:
    lang = account.lang
    options = [(p, s, w) for p, s, w in _PLACEMENTS]
    if scenario == "deceased":  # a relative writes, never from the debtor's address
        options = [(p, s, w) for p, s, w in options if s == "other"]
    if scenario == "quoted_notice":  # a reply above the collector's notice, which names the case
        options = [(p, s, w) for p, s, w in options if p == "quoted"]
    if account.email is None:
        options = [(p, s, w) for p, s, w in options if s == "other"]
    placement, sender_kind, _ = rng.choices(options, weights=[w for *_, w in options])[0]
    if sender_kind == "known":
        domain = account.email.rsplit("@", 1)[1] if account.email else ""
        client = rng.choice(CLIENTS_BY_DOMAIN[domain])
    else:
        # the German freemail client's app signs in German: its users write German
        client = rng.choice([c for c in CLIENTS if lang == "de" or c != "webmail_de"])
    return Plan(
        placement=placement,
        sender_kind=sender_kind,
        ref_kind=rng.choice(["case_number", "account_reference"]),
        client=client,
    )


def sender_for(account: EvalAccount, plan: Plan, rng: random.Random) -> tuple[str, str]:
    if plan.sender_kind == "known" and account.email:
        return account.name, account.email
    local, domain = rng.choice(OTHER_SENDERS[account.lang])
    first = account.name.split()[0]
    return (first if rng.random() < 0.5 else account.name), f"{local}@{domain}"


def sender_accounts(address: str) -> list[EvalAccount]:
    return [a for a in ACCOUNTS if a.email == address]


def account_label(account: EvalAccount, sender: str, has_ref: bool) -> tuple[str, str]:
    """(account label, match basis) as a person reading the email would settle it."""
    if has_ref:
        return account.account_id, "reference"
    known = sender_accounts(sender)
    if len(known) == 1:
        return known[0].account_id, "sender"
    if len(known) > 1:
        return "ambiguous", "sender_several_accounts"
    return "none", "none"


def expected_route(
    intent: str, compliance: str | None, account: str, kind: str, fields: dict[str, Any]
) -> str:
    if compliance is not None:
        return "hold"
    if kind in ("auto_reply", "bounce", "newsletter", "spam"):
        return "ignore"
    if account in ("none", "ambiguous") or intent == "other":
        return "review"
    if intent == "address_change" and not ({"new_address", "new_phone"} & set(fields)):
        return "review"
    return "notify"


def templated(
    seq: int,
    lang: str,
    scenario: str,
    template: texts.Template,
    account: EvalAccount,
    rng: random.Random,
) -> Built:
    plan = choose_plan(account, scenario, rng)
    tz = timezone(
        timedelta(hours=int(account.creditor.tz[:3]), minutes=int(account.creditor.tz[3:]))
    )
    sent = datetime(2026, 11, 2, 7, 0, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 24), minutes=rng.randint(0, 13 * 60)
    )
    sent = sent.astimezone(tz).replace(microsecond=0)
    value = account.case_number if plan.ref_kind == "case_number" else account.account_reference
    typed = ref_variant(value, rng)
    ctx: dict[str, Any] = {
        "name": account.name,
        "first": account.name.split()[0],
        "creditor": account.creditor.name,
        "collector": COLLECTOR_NAME,
        "lawyer": texts.LAWYERS[lang],
        "ref": "",
        "subref": "",
        "subref_bare": "Your letter",
    }
    fields: dict[str, Any] = {}
    intent, compliance = INTENT_OF.get(scenario, "other"), None
    if scenario in COMPLIANCE_OF:
        intent, compliance = COMPLIANCE_OF[scenario]
    balance = account.balance
    if scenario in ("pay_conf", "paid_after_dispute"):
        amount = round(min(balance, rng.choice([50, 75, 100, 150, 200, 250, 300, balance])), 2)
        paid = (sent - timedelta(days=rng.randint(0, 6))).date()
        ctx["amount"] = money(lang, account.currency, amount, rng)
        ctx["date"] = day_text(lang, datetime.combine(paid, sent.timetz()), rng)
        fields.update(amount=amount, currency=account.currency, payment_date=paid.isoformat())
    elif scenario in ("promise", "quoted_notice"):
        amount = float(rng.choice([40, 60, 100, 120, 200, 250]))
        when = (sent + timedelta(days=rng.randint(3, 20))).date()
        ctx["amount"] = money(lang, account.currency, amount, rng)
        ctx["date"] = day_text(lang, datetime.combine(when, sent.timetz()), rng)
        fields.update(amount=amount, currency=account.currency, payment_date=when.isoformat())
    elif scenario in ("plan", "negated"):
        inst = float(rng.choice([25, 30, 40, 50, 75, 100]))
        start = datetime(2026, 12, 1, tzinfo=UTC) if sent.month == 11 else datetime(2027, 1, 1)
        ctx["inst"] = money(lang, account.currency, inst, rng)
        ctx["start"] = day_text(lang, start, rng)
        fields.update(
            plan_installment_amount=inst,
            currency=account.currency,
            plan_start_date=start.date().isoformat(),
        )
    elif scenario == "settle":
        amount = round(balance * rng.choice([0.4, 0.5, 0.6]), 0)
        ctx["amount"] = money(lang, account.currency, amount, rng)
        fields.update(amount=amount, currency=account.currency)
    elif scenario == "addr":
        addr, phone = NEW_ADDRESSES[lang]
        ctx["addr"], ctx["phone"] = addr, phone
        fields.update(new_address=addr, new_phone=phone)
    elif scenario in ("validation", "bankruptcy", "deceased"):
        ctx["date"] = day_text(lang, sent - timedelta(days=rng.randint(5, 40)), rng)
    if plan.placement == "body":
        ctx["ref"] = rng.choice(texts.REF_SENTENCES[lang]).format(value=typed)
    elif plan.placement == "subject":
        ctx["subref"] = rng.choice([f" - {typed}", f" [{typed}]", f" ({typed})", f" {typed}"])
        ctx["subref_bare"] = typed
    subject, body = template
    subject = subject.format(**ctx).strip()
    text = body.format(**ctx)
    text = "\n".join(line.strip() for line in text.splitlines()).replace("  ", " ")
    sender_name, sender = sender_for(account, plan, rng)
    if plan.sender_kind == "other" and rng.random() < 0.5:
        text += "\n\n" + specials.work_signature(lang, sender_name, sender, rng)
    draft = Draft(
        sender_name=sender_name, sender=sender, subject=subject, text=text, date=sent, lang=lang
    )
    balance_text = money(lang, account.currency, balance, rng)
    if plan.placement == "quoted" or scenario == "quoted_notice":
        letter = (
            texts.VALIDATION_NOTICES.get(lang, REMINDERS[lang])
            if scenario == "quoted_notice"
            else REMINDERS[lang]
        )
        quoted = letter.format(
            balance=balance_text,
            creditor=account.creditor.name,
            case=account.case_number,
            ref=account.account_reference,
            collector=COLLECTOR_NAME,
            deadline=day_text(lang, sent + timedelta(days=20), rng),
        )
        if scenario == "quoted_notice":
            quoted = f"{quoted}\n\n{_CASE_FOOTER[lang]}: {account.case_number}"
        draft.quoted = quoted
        draft.quoted_date = sent - timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 8))
        draft.quoted_subject = subject.split(":", 1)[-1].strip()
        draft.in_reply_to = f"<{rng.randbytes(8).hex()}@meridian-recovery.example.com>"
        if not subject.lower().startswith(("re:", "aw:", "r:")):
            draft.subject = {"de": "AW: ", "it": "R: "}.get(lang, "Re: ") + subject
    raw = CLIENTS[plan.client](draft, rng)
    has_ref = plan.placement in ("body", "subject", "quoted") or scenario == "quoted_notice"
    acct, basis = account_label(account, sender, has_ref)
    if basis == "reference" and (plan.placement == "quoted" or scenario == "quoted_notice"):
        basis = "reference_quoted"
    money_allowed = (
        intent == "payment_confirmation"
        and has_ref
        and acct == account.account_id
        and fields.get("amount", 0) <= balance
    )
    kind = "relative" if scenario == "deceased" else "debtor"
    label = {
        "lang": lang,
        "client": plan.client,
        "kind": kind,
        "scenario": scenario,
        "intent": intent,
        "compliance": compliance,
        "account": acct,
        "match_basis": basis,
        "reference_as_written": typed if has_ref and plan.placement != "quoted" else None,
        "fields": fields,
        "route": expected_route(intent, compliance, acct, kind, fields),
        "money_allowed": money_allowed,
        "hard_negative": HARD_NEGATIVES.get(scenario),
        "received_at": (sent + timedelta(seconds=rng.randint(5, 90))).astimezone(UTC).isoformat(),
    }
    return Built(f"{seq:04d}-{lang}-{scenario}.eml", raw, label)


def build_all() -> tuple[list[Built], list[dict[str, Any]]]:
    rng = random.Random(SEED)
    # The email package draws multipart boundaries from the module-level generator.
    random.seed(SEED)
    built: list[Built] = []
    by_lang: dict[str, list[EvalAccount]] = {}
    for account in ACCOUNTS:
        by_lang.setdefault(account.lang, []).append(account)
    for lang, table in texts.TEXTS.items():
        pool = by_lang[lang]
        rounds = 3 if lang == "en" else 2
        cursor = rng.randrange(len(pool))
        for scenario, templates in table.items():
            for template in templates:
                for _ in range(rounds):
                    if scenario == "quoted_notice" and lang not in texts.VALIDATION_NOTICES:
                        continue
                    account = pool[cursor % len(pool)]
                    cursor += 1
                    built.append(templated(len(built) + 1, lang, scenario, template, account, rng))
    for make in specials.ALL:
        for name, raw, label in make(rng):
            built.append(Built(f"{len(built) + 1:04d}-{name}.eml", raw, label))
    return built, [a.document() for a in ACCOUNTS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files, write none")
    args = parser.parse_args(argv)
    if DATA_DIR != EVAL_DIR:  # another corpus is not this generator's to write
        print(f"EVAL_CORPUS is set ({DATA_DIR}): unset it to build eval/", file=sys.stderr)
        return 2
    built, accounts = build_all()
    labels = {b.name: b.label for b in built}
    files = {CORPUS_DIR / b.name: b.raw for b in built}
    files[LABELS_PATH] = (json.dumps(labels, indent=1, ensure_ascii=False) + "\n").encode()
    files[ACCOUNTS_PATH] = (json.dumps(accounts, indent=1, ensure_ascii=False) + "\n").encode()
    if args.check:
        stale = [p for p, data in files.items() if not p.exists() or p.read_bytes() != data]
        extra = set(CORPUS_DIR.glob("*.eml")) - set(files)
        for path in [*stale, *sorted(extra)]:
            print(f"out of date: {path.relative_to(EVAL_DIR.parent)}", file=sys.stderr)
        return 1 if stale or extra else 0
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    for old in CORPUS_DIR.glob("*.eml"):
        if old not in files:
            old.unlink()
    for path, data in files.items():
        path.write_bytes(data)
    print(f"wrote {len(built)} emails, {len(accounts)} accounts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
