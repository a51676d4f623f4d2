"""Debtor accounts: the model (:mod:`.model`) and the repository port (:mod:`.port`).

The MongoDB adapter lives in :mod:`shared.accounts.mongo` and is imported from there, by the
wiring (:mod:`shared.processing.bootstrap`) only, so the rules never load the database driver.
"""

from shared.accounts.model import (
    ON_HOLD,
    POSSIBLE_DUPLICATE,
    Account,
    AccountUpdate,
    Action,
    AppliedRecord,
    ApplyResult,
    ApplyStatus,
    Balance,
    Debtor,
    Hold,
    Lookup,
)
from shared.accounts.port import AccountRepository, UnsafeFilterValue

__all__ = [
    "ON_HOLD",
    "POSSIBLE_DUPLICATE",
    "Account",
    "AccountRepository",
    "AccountUpdate",
    "Action",
    "AppliedRecord",
    "ApplyResult",
    "ApplyStatus",
    "Balance",
    "Debtor",
    "Hold",
    "Lookup",
    "UnsafeFilterValue",
]
