"""Demo debtor accounts for the local stack's MongoDB (all people and companies are fictional).

    python -m infra.seed            # uses MONGODB_URI / MONGODB_DATABASE (see .local/stack.env)

The accounts match the bundled sample emails in ``infra/samples/`` by case number, account
reference or sender address, so ``make run`` shows every matching method. Seeding replaces the
documents by ``_id`` and is safe to repeat.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

COLLECTION = "accounts"


def _account(  # noqa: PLR0917 - one positional per column of the table below
    account_id: str,
    case_number: str,
    name: str,
    email: str | None,
    creditor: str,
    amount: float,
    currency: str,
    *,
    phone: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    return {
        "_id": account_id,
        "account_id": account_id,
        "case_number": case_number,
        "account_reference": account_id,
        "debtor": {"name": name, "email": email, "phone": phone, "address": address},
        "creditor": creditor,
        "balance": {"amount": amount, "currency": currency},
        "status": "active",
        "hold": {"active": False, "reason": None, "since": None},
        "applied_email_ids": [],
        "history": [],
    }


DEMO_ACCOUNTS: list[dict[str, Any]] = [
    _account("ACC-100234", "CASE-2026-00123", "Maria Keller", "maria.keller@example.com",
             "Northwind Bank", 1450.00, "EUR", address="Lindenstraße 4, 10115 Berlin"),
    _account("ACC-100311", "CASE-2026-00131", "Tom Baker", "tom.baker@example.org",
             "Contoso Energy", 1280.50, "USD", address="12 Elm Street, Springfield"),
    _account("ACC-100390", "CASE-2026-00234", "Ahmed Karim", "ahmed.karim@example.com",
             "Fabrikam Telecom", 780.00, "EUR"),
    _account("ACC-101067", "CASE-2026-00345", "Jürgen Müller", "juergen.mueller@example.de",
             "Stadtwerke Nordheim", 1234.56, "EUR"),
    _account("ACC-100458", "CASE-2026-00456", "Priya Natarajan", "priya.n@example.net",
             "Tailspin Credit Ltd", 2400.00, "GBP"),
    _account("ACC-100477", "CASE-2026-00477", "Jonas Weber", "jonas.weber@example.de",
             "Nordlicht Telecom", 3150.00, "EUR"),
    _account("ACC-100512", "CASE-2026-00512", "Robert Miles", "robert.miles@example.com",
             "Brightside Energy Ltd", 640.00, "GBP"),
    _account("ACC-100567", "CASE-2026-00567", "Taro Yamada", "taro.yamada@example.jp",
             "Sakura Leasing", 150000.0, "JPY"),
    _account("ACC-100623", "CASE-2026-00623", "Sofia Rossi", "sofia.rossi@example.it",
             "Adventure Works Finance", 560.00, "EUR", address="Via Verdi 3, 00184 Roma"),
    _account("ACC-100678", "CASE-2026-00678", "Élodie Martin", "elodie.martin@example.fr",
             "Banque Lumière", 1900.00, "EUR"),
    _account("ACC-100734", "CASE-2026-00734", "Kevin Doyle", "kevin.doyle@example.com",
             "Northwind Bank", 9800.00, "EUR"),
    _account("ACC-100789", "CASE-2026-00789", "Anna Schmidt", "anna.schmidt@example.de",
             "Woodgrove Mobile", 420.00, "EUR"),
    _account("ACC-100845", "CASE-2026-00845", "Lisa Grant", "lisa.grant@example.co.uk",
             "Tailspin Credit Ltd", 860.00, "GBP"),
    _account("ACC-100901", "CASE-2026-00901", "Daniel Brooks", "d.brooks@example.com",
             "Litware Capital", 5000.00, "USD"),
    _account("ACC-100956", "CASE-2026-00956", "Claire Dubois", "claire.dubois@example.fr",
             "Banque Lumière", 310.00, "EUR"),
    _account("ACC-101012", "CASE-2026-01012", "Stefan Braun", "stefan.braun@example.de",
             "Stadtwerke Nordheim", 1800.00, "EUR"),
    _account("ACC-101178", "CASE-2026-01178", "Hannah Fischer", "hannah.fischer@example.at",
             "Alpenbank AG", 2050.00, "EUR"),
    _account("ACC-101289", "CASE-2026-01289", "Nina Petrova", "nina.petrova@example.com",
             "Clearwater Water", 95.40, "EUR"),
    _account("ACC-101390", "CASE-2026-01390", "Mark Stone", "mark.stone@example.com",
             "Contoso Energy", 240.00, "EUR"),
    _account("ACC-101401", "CASE-2026-01401", "Oliver Grant", "oliver.grant@example.com",
             "Woodgrove Mobile", 330.00, "GBP"),
    _account("ACC-101502", "CASE-2026-01502", "Grace Okafor", "grace.okafor@example.org",
             "Fabrikam Telecom", 75.90, "EUR"),
    _account("ACC-101603", "CASE-2026-01603", "Lucas Pereira", None,
             "Litware Capital", 12500.00, "EUR"),
]  # fmt: skip


def seed_accounts(mongodb_uri: str, database: str, *, timeout_ms: int = 5000) -> int:
    """Upsert :data:`DEMO_ACCOUNTS`; returns how many documents were written."""
    import pymongo

    client: Any = pymongo.MongoClient(
        mongodb_uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True
    )
    try:
        from shared.accounts.model import REFERENCE_FIELDS, reference_keys

        collection = client[database][COLLECTION]
        for document in DEMO_ACCOUNTS:
            # the lookup keys are written with the account (the processor derives them too)
            keyed = {
                **document,
                "ref_keys": reference_keys(document, REFERENCE_FIELDS),
                "ref_keys_of": ",".join(REFERENCE_FIELDS),
            }
            collection.replace_one({"_id": document["_id"]}, keyed, upsert=True)
    finally:
        client.close()
    return len(DEMO_ACCOUNTS)


def main(argv: list[str] | None = None) -> int:
    from shared.config import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    settings = get_settings()
    count = seed_accounts(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
    print(f"seeded {count} demo accounts into {settings.mongodb_database}.{COLLECTION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
