"""The evaluation's creditors and debtor accounts (seeded into the eval stack's MongoDB).

Every creditor numbers its files its own way, and none of them looks like the demo accounts'
``CASE-…``/``ACC-…``: the processor is not told these formats. Some debtors write from the
address on file, some from an address the file does not know (work, a relative's), some have
no address on file, and one debtor has accounts with two creditors under one address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Creditor:
    key: str
    name: str
    lang: str
    currency: str
    tz: str  # the debtors' UTC offset, "+0100"


CREDITORS = {
    c.key: c
    for c in (
        Creditor("nle", "Nordlicht Energie GmbH", "de", "EUR", "+0100"),
        Creditor("hpt", "Harbor Point Telecom", "en", "USD", "-0500"),
        Creditor("mrm", "Maple Ridge Medical Billing", "en", "USD", "-0800"),
        Creditor("tvw", "Thamesview Water", "en", "GBP", "+0000"),
        Creditor("blc", "Banque Lumière Crédit", "fr", "EUR", "+0100"),
        Creditor("cfi", "Cantabria Financiera", "es", "EUR", "+0100"),
        Creditor("sau", "Servizi Aurora S.p.A.", "it", "EUR", "+0100"),
        Creditor("pbl", "Polderbank Lening", "nl", "EUR", "+0100"),
    )
}

# (creditor, case_number, account_reference, debtor name, email local part or None (no address
#  on file), the client the debtor writes with, balance)
_ROWS: list[tuple[str, str, str, str, str | None, str, float]] = [
    (
        "nle",
        "NL/2026/004417",
        "7730 1182 45",
        "Katrin Vogel",
        "katrin.vogel",
        "webmail_de",
        1284.60,
    ),
    ("nle", "NL/2025/019932", "7730 5521 08", "Thomas Brenner", "t.brenner", "gmail", 412.18),
    (
        "nle",
        "NL/2026/000815",
        "7731 0042 77",
        "Sabine Krüger",
        "sabine.krueger",
        "outlook_web",
        2210.00,
    ),
    ("nle", "NL/2026/002291", "7730 8890 13", "Mehmet Aydın", "m.aydin", "iphone", 98.40),
    ("nle", "NL/2025/017760", "7732 1190 56", "Lena Hoffmann", None, "thunderbird", 745.90),
    ("nle", "NL/2026/003308", "7730 2267 91", "Uwe Schäfer", "uwe.schaefer", "webmail_de", 3120.75),
    ("hpt", "hpt-c-5521", "88203117", "Marcus Bell", "marcus.bell", "gmail", 642.37),
    ("hpt", "hpt-c-5608", "88207752", "Tanya Rios", "tanyarios", "iphone", 1189.00),
    ("hpt", "hpt-c-4417", "88199034", "Derek Olson", "d.olson", "outlook_web", 315.80),
    ("hpt", "hpt-c-6010", "88211406", "Alicia Moreno", "alicia.m", "gmail_android", 2270.14),
    ("hpt", "hpt-c-3992", "88190028", "Kevin O'Hara", "kohara", "apple_mail", 88.99),
    ("hpt", "hpt-c-6127", "88213350", "Brenda Kowalski", "brenda.k", "samsung", 530.00),
    ("mrm", "MR 77 1290", "mrmb-00917342", "Gloria Pham", "gloria.pham", "gmail", 1875.00),
    (
        "mrm",
        "MR 77 1344",
        "mrmb-00918810",
        "Raymond Fisher",
        "ray.fisher",
        "outlook_desktop",
        460.25,
    ),
    ("mrm", "MR 78 0021", "mrmb-00920117", "Marcus Bell", "marcus.bell", "gmail", 1320.00),
    ("mrm", "MR 77 0988", "mrmb-00915023", "Shirley Adams", None, "iphone", 712.40),
    ("mrm", "MR 78 0107", "mrmb-00921964", "Jamal Carter", "jcarter", "gmail_android", 2950.80),
    ("mrm", "MR 77 1502", "mrmb-00919277", "Heather Lindqvist", "heather.l", "apple_mail", 233.10),
    (
        "tvw",
        "TVW/19/22817",
        "4410 9983 02",
        "Oliver Bradshaw",
        "oliver.bradshaw",
        "outlook_web",
        384.22,
    ),
    ("tvw", "TVW/21/30155", "4410 7712 19", "Priya Nair", "priya.nair", "gmail", 1012.64),
    ("tvw", "TVW/20/28740", "4411 0035 66", "Gareth Hughes", "g.hughes", "iphone", 156.00),
    ("tvw", "TVW/22/31002", "4410 5528 40", "Fiona McAllister", "fiona.mca", "apple_mail", 690.45),
    ("tvw", "TVW/18/19963", "4409 8821 77", "Stuart Pike", None, "outlook_desktop", 1450.00),
    ("tvw", "TVW/23/33871", "4411 2290 05", "Amelia Grant", "amelia.grant", "gmail", 275.50),
    (
        "blc",
        "DOS-2026-00781",
        "BLC 4471 0093",
        "Julien Moreau",
        "julien.moreau",
        "samsung",
        3480.00,
    ),
    ("blc", "DOS-2026-00912", "BLC 4471 2258", "Nathalie Girard", "n.girard", "gmail", 915.30),
    (
        "blc",
        "DOS-2025-04410",
        "BLC 4470 8812",
        "Karim Benali",
        "karim.benali",
        "outlook_web",
        1520.75,
    ),
    (
        "blc",
        "DOS-2026-01177",
        "BLC 4472 0040",
        "Élodie Laurent",
        "elodie.laurent",
        "iphone",
        264.90,
    ),
    ("blc", "DOS-2025-03988", "BLC 4470 6631", "Pierre Lefèvre", None, "samsung", 4100.00),
    ("blc", "DOS-2026-01320", "BLC 4472 1195", "Chantal Roux", "chantal.roux", "gmail", 780.00),
    (
        "cfi",
        "EXP 2026 1187",
        "CF/33/918274",
        "Lucía Fernández",
        "lucia.fernandez",
        "gmail",
        1640.00,
    ),
    ("cfi", "EXP 2026 1203", "CF/33/920115", "Javier Ortega", "j.ortega", "outlook_web", 455.60),
    ("cfi", "EXP 2025 0944", "CF/32/877301", "Carmen Ruiz", "carmen.ruiz", "iphone", 2890.15),
    ("cfi", "EXP 2026 1290", "CF/33/921840", "Diego Navarro", "dnavarro", "gmail_android", 312.00),
    ("cfi", "EXP 2025 1011", "CF/32/889562", "Ana Belén Castro", None, "outlook_web", 970.40),
    ("cfi", "EXP 2026 1355", "CF/34/000417", "Pablo Serrano", "pablo.serrano", "samsung", 1210.25),
    ("sau", "40092/26", "AUR.557.0912", "Giulia Romano", "giulia.romano", "gmail", 1345.00),
    ("sau", "40117/26", "AUR.557.1046", "Luca Bianchi", "luca.bianchi", "iphone", 286.70),
    ("sau", "39881/25", "AUR.556.7733", "Francesca Greco", "f.greco", "outlook_web", 2140.90),
    ("sau", "40203/26", "AUR.557.1410", "Matteo Conti", "matteo.conti", "gmail_android", 520.00),
    ("sau", "39902/25", "AUR.556.8120", "Sara Marino", None, "apple_mail", 860.35),
    ("sau", "40256/26", "AUR.557.1688", "Alessandro Gallo", "a.gallo", "gmail", 3075.00),
    ("pbl", "88-1140", "PL 0012 3456 78", "Sanne de Vries", "sanne.devries", "gmail", 1890.00),
    ("pbl", "88-1177", "PL 0012 4410 02", "Daan Jansen", "daan.jansen", "outlook_web", 645.50),
    ("pbl", "87-0931", "PL 0011 8832 19", "Fleur Bakker", "fleur.bakker", "iphone", 2320.40),
    ("pbl", "88-1203", "PL 0012 5567 30", "Bram Visser", "b.visser", "gmail_android", 415.00),
    ("pbl", "87-1012", "PL 0011 9920 64", "Noor el Amrani", None, "apple_mail", 1105.75),
    ("pbl", "88-1251", "PL 0012 6671 85", "Ruben Smit", "ruben.smit", "samsung", 780.20),
]


@dataclass(frozen=True)
class EvalAccount:
    account_id: str
    creditor: Creditor
    case_number: str
    account_reference: str
    name: str
    email: str | None
    client: str
    balance: float

    @property
    def lang(self) -> str:
        return self.creditor.lang

    @property
    def currency(self) -> str:
        return self.creditor.currency

    def document(self) -> dict[str, Any]:
        """The MongoDB document (the shape :class:`shared.accounts.Account` validates)."""
        return {
            "_id": self.account_id,
            "account_id": self.account_id,
            "case_number": self.case_number,
            "account_reference": self.account_reference,
            "debtor": {"name": self.name, "email": self.email, "phone": None, "address": None},
            "creditor": self.creditor.name,
            "balance": {"amount": self.balance, "currency": self.currency},
            "status": "active",
            "hold": {"active": False, "reason": None, "since": None},
            "applied_email_ids": [],
            "history": [],
        }


def _accounts() -> list[EvalAccount]:
    from eval.mail_clients import CLIENT_DOMAINS

    counters: dict[str, int] = {}
    out = []
    for key, case, ref, name, local, client, balance in _ROWS:
        counters[key] = counters.get(key, 0) + 1
        email = None if local is None else f"{local}@{CLIENT_DOMAINS[client]}"
        out.append(
            EvalAccount(
                account_id=f"ev-{key}-{counters[key]:02d}",
                creditor=CREDITORS[key],
                case_number=case,
                account_reference=ref,
                name=name,
                email=email,
                client=client,
                balance=balance,
            )
        )
    return out


ACCOUNTS = _accounts()
BY_ID = {a.account_id: a for a in ACCOUNTS}
