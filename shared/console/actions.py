"""What a person does to a review item: claim, apply, place or release a hold, dismiss.

Every action runs in one Postgres transaction that locks the item (``SELECT … FOR UPDATE``),
checks it is still open and not claimed by someone else, does its effect, updates the item and
writes its audit row (who, when, what, before, after, reason); the audit row and the item's
state change commit together or not at all.

The account change itself is MongoDB's (no transaction spans both): it is made while the item is
locked, through the processor's own idempotent update (:meth:`MongoAccountRepository.apply`,
keyed on the email id: exactly once per email, the duplicate-payment check, a hold never
overwritten) or the guarded hold update. Should the Postgres commit then fail, the account is
changed and the item still open: applying again finds the email already applied and closes the
item, never changing the account twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, text

from shared.accounts import (
    Account,
    AccountUpdate,
    ApplyResult,
    Lookup,
    UnsafeFilterValue,
)
from shared.console.auth import Identity
from shared.console.updates import UnusableReading, account_update, check_field, reading
from shared.mail import one_line

REASON_MAX = 500


class ConsoleAccounts(Protocol):
    """The account repository as the console uses it (:class:`MongoAccountRepository`)."""

    def find_by_account_id(self, value: str) -> Lookup: ...

    def find_applied(self, email_id: str) -> Lookup: ...

    def get(self, key: Any) -> Account | None: ...

    def apply(self, account: Account, email_id: str, update: AccountUpdate) -> ApplyResult: ...

    def set_hold(
        self, account: Account, *, hold: dict[str, Any], entry: dict[str, Any]
    ) -> bool: ...


class ActionRefused(Exception):
    """The action was not done; the message tells the person why (shown on the page)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class ItemNotFound(Exception):
    """No review item for that email (404)."""


@dataclass(frozen=True)
class Done:
    """A finished action: what to tell the person."""

    message: str


Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def lock_item(conn: Connection, email_id: str) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                "SELECT *, claimed_until > now() AS claim_active FROM review_items "
                "WHERE email_id = :email_id FOR UPDATE"
            ),
            {"email_id": email_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise ItemNotFound(email_id)
    return dict(row)


def _state(item: dict[str, Any]) -> dict[str, Any]:
    until = item.get("claimed_until")
    return {
        "status": item["status"],
        "claimed_by": item.get("claimed_by"),
        "claimed_until": until.isoformat() if until else None,
        "outcome": item.get("outcome"),
    }


def write_audit(
    conn: Connection,
    item: dict[str, Any],
    who: Identity,
    action: str,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None = None,
) -> None:
    import json

    role = "supervisor" if who.has("supervisor") else "reviewer"
    conn.execute(
        text(
            "INSERT INTO review_audit (item_id, email_id, actor, role, action, reason, before, "
            "after) VALUES (:item_id, :email_id, :actor, :role, :action, :reason, "
            "CAST(:before AS jsonb), CAST(:after AS jsonb))"
        ),
        {
            "item_id": item["id"],
            "email_id": item["email_id"],
            "actor": who.email,
            "role": role,
            "action": action,
            "reason": reason,
            "before": json.dumps(before, default=str),
            "after": json.dumps(after, default=str),
        },
    )


def check_open(item: dict[str, Any], who: Identity) -> None:
    if item["status"] == "closed":
        raise ActionRefused(
            f"Nothing changed: this item was already closed ({item.get('outcome')}) "
            f"by {item.get('closed_by')}."
        )
    if item.get("claim_active") and item.get("claimed_by") != who.email:
        until = item["claimed_until"].strftime("%H:%M UTC")
        raise ActionRefused(
            f"Nothing changed: {item['claimed_by']} is working on this item (claimed until "
            f"{until})."
        )


def claim(conn: Connection, email_id: str, who: Identity, minutes: int) -> dict[str, Any]:
    """Claim (or renew) the item for ``who`` when it is free; returns the item as it now is.
    A newly taken claim is audited; a renewal or a refused claim is not."""
    item = lock_item(conn, email_id)
    mine = item.get("claimed_by") == who.email
    if item["status"] == "closed" or (item.get("claim_active") and not mine):
        return item
    before = _state(item)
    conn.execute(
        text(
            "UPDATE review_items SET status = 'claimed', claimed_by = :me, "
            "claimed_until = now() + make_interval(mins => :minutes), updated_at = now() "
            "WHERE id = :id"
        ),
        {"me": who.email, "minutes": minutes, "id": item["id"]},
    )
    updated = lock_item(conn, email_id)
    if not (mine and item.get("claim_active")):
        write_audit(conn, updated, who, "claim", before=before, after=_state(updated))
    return updated


def unclaim(conn: Connection, email_id: str, who: Identity) -> Done:
    """Give the item back to the queue (the claim would otherwise run out by itself)."""
    item = lock_item(conn, email_id)
    if item["status"] != "claimed" or item.get("claimed_by") != who.email:
        raise ActionRefused("Nothing changed: you do not hold this item.")
    conn.execute(
        text(
            "UPDATE review_items SET status = 'open', claimed_by = NULL, claimed_until = NULL, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": item["id"]},
    )
    after = {**_state(item), "status": "open", "claimed_by": None, "claimed_until": None}
    write_audit(conn, item, who, "unclaim", before=_state(item), after=after)
    return Done("Back in the queue for anyone to take.")


def _close(
    conn: Connection,
    item: dict[str, Any],
    who: Identity,
    outcome: str,
) -> dict[str, Any]:
    conn.execute(
        text(
            "UPDATE review_items SET status = 'closed', outcome = :outcome, closed_by = :me, "
            "closed_at = now(), claimed_by = NULL, claimed_until = NULL, updated_at = now() "
            "WHERE id = :id"
        ),
        {"outcome": outcome, "me": who.email, "id": item["id"]},
    )
    return {**_state(item), "status": "closed", "outcome": outcome, "claimed_by": None}


def _reason(value: str | None, *, required: bool) -> str | None:
    cleaned = one_line(value or "", REASON_MAX)
    if required and not cleaned:
        raise ActionRefused("A reason is required.", status=400)
    return cleaned or None


def account_snapshot(account: Account | None) -> dict[str, Any]:
    if account is None:
        return {}
    return {
        "account_id": account.account_id,
        "balance": str(account.balance.decimal),
        "currency": account.balance.currency,
        "status": account.status,
        "hold": account.hold.active,
        "hold_placed_by": account.hold.placed_by,
    }


def _account(accounts: ConsoleAccounts, account_id: str | None) -> Account:
    if not account_id:
        raise ActionRefused("Pick an account first.", status=400)
    try:
        found = accounts.find_by_account_id(account_id.strip()).accounts
    except UnsafeFilterValue:  # too long, or not a plain string: no account has that id
        raise ActionRefused("No such account.", status=400) from None
    if len(found) != 1:
        raise ActionRefused("No such account.", status=400)
    return found[0]


def _not_applied_elsewhere(accounts: ConsoleAccounts, email_id: str, account: Account) -> None:
    """Refuse to apply an email that already changed another account (a redelivery read it as
    another debtor's, or a person applied it there): applying it here too would move the money
    twice. A person moves it by hand, or dismisses the item."""
    elsewhere = [
        a.account_id
        for a in accounts.find_applied(email_id).accounts
        if a.account_id != account.account_id
    ]
    if elsewhere:
        raise ActionRefused(
            f"This email already changed account {elsewhere[0]}; applying it to "
            f"{account.account_id} as well would count it twice. Nothing was changed."
        )


# -- actions ------------------------------------------------------------------------------


@dataclass
class Actions:
    """The console's actions over one account repository (see the module docstring)."""

    accounts: ConsoleAccounts
    clock: Clock = _now

    def apply(
        self,
        conn: Connection,
        email_id: str,
        who: Identity,
        *,
        account_id: str | None,
        report: dict[str, Any] | None,
        reason: str | None = None,
    ) -> Done:
        item = lock_item(conn, email_id)
        check_open(item, who)
        account = _account(self.accounts, account_id)
        _not_applied_elsewhere(self.accounts, email_id, account)
        try:
            action, update = account_update(
                email_id=email_id,
                correlation_id=item.get("correlation_id"),
                who=who,
                read=reading(report, item),
                now=self.clock(),
            )
        except UnusableReading as exc:
            raise ActionRefused(str(exc), status=400) from None
        before = {**_state(item), "account": account_snapshot(account)}
        result = self.accounts.apply(account, email_id, update)
        if result.status == "not_applied":
            raise ActionRefused(f"Nothing changed: the account refused it ({result.reason}).")
        outcome = "applied"
        message = f"Applied to {account.account_id} ({action})."
        if result.status == "already_applied":
            outcome, message = (
                "already_applied",
                f"This email had already been applied to {account.account_id}; "
                "nothing changed. The item is closed.",
            )
        elif result.payment_refused:
            outcome, message = (
                "payment_refused",
                f"The payment was not recorded on {account.account_id}: it looks like a "
                "duplicate of one already recorded. The refusal is in the account's history.",
            )
        after_item = _close(conn, item, who, outcome)
        after = {
            **after_item,
            "account": account_snapshot(self.accounts.get(account.key)),
            "action": action,
            "result": result.status,
        }
        write_audit(
            conn,
            item,
            who,
            "apply",
            before=before,
            after=after,
            reason=_reason(reason, required=False),
        )
        return Done(message)

    def place_hold(
        self,
        conn: Connection,
        email_id: str,
        who: Identity,
        *,
        account_id: str | None,
        reason: str | None,
    ) -> Done:
        why = _reason(reason, required=True)
        item = lock_item(conn, email_id)
        check_open(item, who)
        account = _account(self.accounts, account_id)
        if account.hold.active:
            raise ActionRefused(f"{account.account_id} is already on hold.")
        now = self.clock()
        hold = {
            "active": True,
            "reason": why,
            "since": now,
            "email_id": email_id,
            "placed_by": who.email,
        }
        entry = {"email_id": email_id, "at": now, "action": "hold", "by": who.email, "reason": why}
        if not self.accounts.set_hold(account, hold=hold, entry=entry):
            raise ActionRefused(f"Nothing changed: {account.account_id} was put on hold meanwhile.")
        after = {**_state(item), "account": account_snapshot(self.accounts.get(account.key))}
        write_audit(
            conn,
            item,
            who,
            "place_hold",
            before={**_state(item), "account": account_snapshot(account)},
            after=after,
            reason=why,
        )
        return Done(f"{account.account_id} is on hold.")

    def release_hold(
        self,
        conn: Connection,
        email_id: str,
        who: Identity,
        *,
        account_id: str | None,
        reason: str | None,
    ) -> Done:
        if not who.has("supervisor"):
            raise ActionRefused("Only a supervisor can release a hold.", status=403)
        why = _reason(reason, required=True)
        item = lock_item(conn, email_id)
        check_open(item, who)
        account = _account(self.accounts, account_id)
        if not account.hold.active:
            raise ActionRefused(f"{account.account_id} is not on hold.")
        if account.hold.placed_by == who.email:
            raise ActionRefused(
                "You placed this hold; another supervisor must release it.", status=403
            )
        now = self.clock()
        hold = {
            "active": False,
            "reason": None,
            "since": None,
            "released_by": who.email,
            "released_at": now,
        }
        entry = {
            "email_id": email_id,
            "at": now,
            "action": "release_hold",
            "by": who.email,
            "reason": why,
        }
        if not self.accounts.set_hold(account, hold=hold, entry=entry):
            raise ActionRefused(
                f"Nothing changed: the hold on {account.account_id} was lifted meanwhile."
            )
        after = {**_state(item), "account": account_snapshot(self.accounts.get(account.key))}
        write_audit(
            conn,
            item,
            who,
            "release_hold",
            before={**_state(item), "account": account_snapshot(account)},
            after=after,
            reason=why,
        )
        return Done(f"The hold on {account.account_id} is released.")

    def dismiss(
        self, conn: Connection, email_id: str, who: Identity, *, reason: str | None
    ) -> Done:
        why = _reason(reason, required=True)
        item = lock_item(conn, email_id)
        check_open(item, who)
        after = _close(conn, item, who, "dismissed")
        write_audit(conn, item, who, "dismiss", before=_state(item), after=after, reason=why)
        return Done("Dismissed; no account was changed.")

    def correct(
        self,
        conn: Connection,
        email_id: str,
        who: Identity,
        *,
        intent: str | None,
        values: dict[str, str],
        report: dict[str, Any] | None,
        reason: str | None,
    ) -> Done:
        """Store the reviewer's reading (intent and field values) on the item; apply uses it."""
        import json

        from shared.extraction.models import FIELD_NAMES, INTENTS

        item = lock_item(conn, email_id)
        check_open(item, who)
        before_read = reading(report, item)
        if intent not in INTENTS:
            raise ActionRefused("Unknown intent.", status=400)
        fields = dict(before_read["fields"])
        today = self.clock().date()
        for name in FIELD_NAMES:
            raw = values.get(name)
            if raw is None:
                continue
            old = fields.get(name) if isinstance(fields.get(name), dict) else None
            if not raw.strip():
                fields.pop(name, None)
            elif old is None or str(old.get("value")) != raw.strip():
                try:  # refused before anything is written: the transaction rolls back
                    checked = check_field(name, raw, today)
                except UnusableReading as exc:
                    raise ActionRefused(f"Nothing was changed: {exc}", status=400) from None
                fields[name] = {
                    "value": checked,
                    "confidence": 1.0,
                    "evidence": None,
                    "corrected_by": who.email,
                }
        override = {"intent": intent, "fields": fields}
        conn.execute(
            text(
                "UPDATE review_items SET override = CAST(:o AS jsonb), updated_at = now() "
                "WHERE id = :id"
            ),
            {"o": json.dumps(override, default=str), "id": item["id"]},
        )
        write_audit(
            conn,
            item,
            who,
            "correct",
            before=before_read,
            after=override,
            reason=_reason(reason, required=False),
        )
        return Done("Corrected; apply to change the account.")
