"""The review console driven by a real headless Chromium (Debian's ``chromium`` through
Playwright), against the local stack's ``console`` function: what a reviewer, a supervisor
and an attacker can and cannot do. Screenshots go to ``docs/console/``.

Chromium must start: if it cannot, the run fails naming it (``make test`` installs it through
``infra/check_system.sh``); these tests are never skipped.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from sqlalchemy import create_engine, text

from infra.stack import REPO_ROOT, LocalStack
from shared.config import get_settings
from tests.console_support import account_document, html_mime, seed_item, unique
from tests.e2e.conftest import E2E, tool_input

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The pictures in docs/console/ are refreshed on purpose, not by every run (they change with
# each run's ids and times): CONSOLE_SCREENSHOTS_DIR=docs/console make e2e.
SHOTS = Path(
    os.environ.get("CONSOLE_SCREENSHOTS_DIR") or REPO_ROOT / ".local" / "console-screenshots"
)
SAMPLE = REPO_ROOT / "infra" / "samples" / "payment_confirmation_plain.eml"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
            )
        except Error as exc:
            pytest.fail(
                f"Chromium ({CHROMIUM}) could not start: {exc}. Install Debian's chromium "
                "(`apt-get install -y chromium`; `make deps` does it).",
                pytrace=False,
            )
        yield launched
        launched.close()


@pytest.fixture
def console(stack: LocalStack, stack_env: dict[str, str]) -> str:
    return stack.url("console")


@pytest.fixture
def accounts(stack_env: dict[str, str]) -> Iterator[Any]:
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    yield client[get_settings().mongodb_database]["accounts"]
    client.close()


@pytest.fixture
def db(stack_env: dict[str, str]) -> Iterator[Any]:
    engine = create_engine(stack_env["DATABASE_URL"])
    yield engine
    engine.dispose()


def signed_in(browser: Any, console: str, email: str, role: str) -> Any:
    """A fresh browser context (its own cookies) signed in through the development sign-in."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{console}/dev/sign-in")
    page.fill("input[name=email]", email)
    page.select_option("select[name=role]", role)
    page.click("button[type=submit]")
    assert page.get_by_test_id("who").inner_text().startswith(email)
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _audit(db: Any, email_id: str) -> list[tuple[str, str]]:
    with db.connect() as conn:
        return [
            (r.action, r.actor)
            for r in conn.execute(
                text("SELECT action, actor FROM review_audit WHERE email_id = :e ORDER BY id"),
                {"e": email_id},
            )
        ]


def _no_match_sample(e2e: E2E) -> tuple[bytes, str]:
    """``make run``'s payment confirmation sample, made unique and naming a case no account
    has; the Claude stand-in reads it as a confident payment of EUR 450.00."""
    marker, case = unique("MK"), unique("CASE")
    raw = SAMPLE.read_bytes()
    for old, new in (
        (b"CASE-2026-00123", case.encode()),
        (b"ACC-100234", unique("REF").encode()),
        (b"maria.keller@example.com", f"{marker.lower()}@example.org".encode()),
        (b"Maria Keller", f"Ottilie {marker}".encode()),
        (b"pc-plain-0001@mail.example.com", f"{marker}@mail.example.com".encode()),
        (b"Please confirm receipt.", f"Please confirm receipt. Ref {marker}.".encode()),
    ):
        assert old in raw, old
        raw = raw.replace(old, new)
    e2e.claude.add_rule(
        marker,
        {
            "kind": "tool_use",
            "input": tool_input(
                "payment_confirmation",
                0.95,
                "I have paid the outstanding balance",
                case_number=(case, 0.95, case),
                amount=(450.0, 0.95, "EUR 450.00"),
                currency=("EUR", 0.95, "EUR 450.00"),
                payment_date=("2026-11-14", 0.9, "2026-11-14"),
            ),
        },
    )
    return raw, marker


def test_reviewer_opens_a_no_match_item_picks_the_account_and_applies_once(
    browser: Any, console: str, e2e: E2E, accounts: Any, db: Any
) -> None:
    raw, _ = _no_match_sample(e2e)
    account_id = unique("ACC").upper()
    accounts.insert_one(account_document(account_id))
    email_id = e2e.post(raw, route="raw")
    report = e2e.wait_for_report(email_id)
    assert report["decision"] == "MANUAL_REVIEW"
    with db.connect() as conn:
        reason = conn.execute(
            text("SELECT reason FROM review_items WHERE email_id = :e"), {"e": email_id}
        ).scalar_one()
    assert reason == "no_match"
    (mail,) = e2e.wait_for_mail(email_id)
    link = re.search(r"Review it here:\s+(\S+)", mail.get_content()).group(1)
    assert link == f"{console}/items/{email_id}"

    page = signed_in(browser, console, "rita@example.com", "reviewer")
    page.goto(f"{console}/queue?reason=no_match")
    row = page.locator(f"tr[data-email-id='{email_id}']")
    assert row.count() == 1
    shot(page, "queue")
    page.goto(link)  # the staff notification's link
    assert "Claimed by you" in page.get_by_test_id("claim").inner_text()
    page.fill("[data-testid=account-lookup]", account_id)
    page.get_by_role("button", name="Show").click()
    assert page.get_by_test_id("balance").inner_text() == "500.00 EUR"
    page.check(f"input[name=account_id][value='{account_id}']")
    shot(page, "item")
    page.get_by_test_id("apply").click()
    assert f"Applied to {account_id}" in page.locator(".flash.ok").inner_text()
    assert page.locator(f"tr[data-email-id='{email_id}']").count() == 0
    document = accounts.find_one({"_id": account_id})
    assert document["balance"]["amount"] == 50.0
    assert document["applied_email_ids"] == [email_id]
    assert [e["email_id"] for e in document["history"]] == [email_id]
    assert _audit(db, email_id) == [
        ("claim", "rita@example.com"),
        ("apply", "rita@example.com"),
    ]
    page.goto(link)
    assert "Closed (applied)" in page.get_by_test_id("closed").inner_text()
    shot(page, "audit")
    page.context.close()


def test_two_browsers_apply_the_same_item_at_once(
    browser: Any, console: str, accounts: Any, db: Any
) -> None:
    seeded = seed_item(accounts)
    first = signed_in(browser, console, "first@example.com", "reviewer")
    second = signed_in(browser, console, "second@example.com", "reviewer")
    url = f"{console}/items/{seeded.email_id}?account={seeded.account_id}"
    first.goto(url)
    second.goto(url)
    assert (
        "first@example.com is working on this item" in second.get_by_test_id("claimed").inner_text()
    )
    for page in (first, second):
        page.check(f"input[name=account_id][value='{seeded.account_id}']")
    # both submissions in flight together
    first.get_by_test_id("apply").click(no_wait_after=True)
    second.get_by_test_id("apply").click(no_wait_after=True)
    first.wait_for_selector(".flash")
    second.wait_for_selector("[data-testid=message]")
    assert "Applied to" in first.locator(".flash.ok").inner_text()
    assert "Nothing changed" in second.get_by_test_id("message").inner_text()
    shot(second, "claimed-by-another")
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 380.0
    assert [a for a, _ in _audit(db, seeded.email_id)] == ["claim", "apply"]
    first.context.close()
    second.context.close()


def test_holds_a_reviewer_cannot_release_nor_the_supervisor_who_placed_it(
    browser: Any, console: str, accounts: Any
) -> None:
    held = seed_item(
        accounts, intent="dispute", reasons=("compliance:dispute",), kind="compliance_alert"
    )
    placer = signed_in(browser, console, "sam@example.com", "supervisor")
    placer.goto(f"{console}/items/{held.email_id}?account={held.account_id}")
    placer.fill("[data-testid=hold-reason]", "debtor disputes the debt")
    placer.get_by_test_id("place-hold").click()
    assert "is on hold" in placer.locator(".flash.ok").inner_text()
    placer.fill("[data-testid=release-reason]", "changed my mind")
    placer.get_by_test_id("release-hold").click()
    assert "another supervisor must release it" in placer.get_by_test_id("message").inner_text()
    placer.fill("[data-testid=dismiss-reason]", "hold placed; handing over")
    placer.get_by_test_id("dismiss").click()

    other = seed_item(accounts)
    reviewer = signed_in(browser, console, "rita@example.com", "reviewer")
    reviewer.goto(f"{console}/items/{other.email_id}?account={held.account_id}")
    reviewer.fill("[data-testid=release-reason]", "please")
    reviewer.get_by_test_id("release-hold").click()
    assert "Only a supervisor" in reviewer.get_by_test_id("message").inner_text()
    assert accounts.find_one({"_id": held.account_id})["hold"]["active"] is True

    supervisor = signed_in(browser, console, "sue@example.com", "supervisor")
    supervisor.goto(f"{console}/items/{other.email_id}?account={held.account_id}")
    assert (
        "rita@example.com is working on this item"
        in supervisor.get_by_test_id("claimed").inner_text()
    )
    reviewer.fill("[data-testid=dismiss-reason]", "for the supervisor")
    reviewer.get_by_test_id("dismiss").click()
    third = seed_item(accounts)
    supervisor.goto(f"{console}/items/{third.email_id}?account={held.account_id}")
    supervisor.fill("[data-testid=release-reason]", "dispute resolved")
    supervisor.get_by_test_id("release-hold").click()
    assert "is released" in supervisor.locator(".flash.ok").inner_text()
    document = accounts.find_one({"_id": held.account_id})
    assert document["hold"]["active"] is False and document["status"] == "active"
    shot(supervisor, "hold-released")
    for page in (placer, reviewer, supervisor):
        page.context.close()


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def tracker() -> Iterator[tuple[str, list[str]]]:
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    server.shutdown()
    server.server_close()


def test_html_email_with_script_and_remote_image_runs_and_fetches_nothing(
    browser: Any, console: str, accounts: Any, tracker: tuple[str, list[str]]
) -> None:
    base, hits = tracker
    html = (
        "<p>I paid <b>120.00 EUR</b> today.</p>"
        "<script>document.title='pwned';window.__pwned=1</script>"
        f'<img src="{base}/pixel.png" onerror="window.__pwned=2">'
        f'<p style="background:url({base}/bg.png)">see</p>'
    )
    seeded = seed_item(
        accounts, raw=html_mime(html, pdf=b"%PDF-1.4\n%test\n"), evidence="120.00 EUR"
    )
    page = signed_in(browser, console, "rita@example.com", "reviewer")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{console}/items/{seeded.email_id}")
    page.wait_for_load_state("networkidle")
    text_shown = page.get_by_test_id("email-text").inner_text()
    assert "I paid 120.00 EUR today." in re.sub(r"\s+", " ", text_shown)
    assert page.title() != "pwned"
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("main img").count() == 0
    assert [u for u in requested if not u.startswith(console)] == []
    assert hits == []
    shot(page, "html-email")
    page.context.close()


def test_a_forged_csrf_token_is_refused_and_changes_nothing(
    browser: Any, console: str, accounts: Any, db: Any
) -> None:
    seeded = seed_item(accounts)
    page = signed_in(browser, console, "rita@example.com", "reviewer")
    page.goto(f"{console}/items/{seeded.email_id}?account={seeded.account_id}")
    page.check(f"input[name=account_id][value='{seeded.account_id}']")
    forged = page.locator("[data-testid=apply-form] input[name=csrf_token]")
    forged.evaluate("input => { input.value = 'forged-token-forged-token-forged-token' }")
    page.get_by_test_id("apply").click()
    assert "security token" in page.get_by_test_id("error").inner_text()
    shot(page, "csrf-refused")
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 500.0
    with db.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM review_items WHERE email_id = :e"), {"e": seeded.email_id}
        ).scalar_one()
    assert status == "claimed"
    assert [a for a, _ in _audit(db, seeded.email_id)] == ["claim"]
    page.context.close()


_DAILY = text(
    """
    INSERT INTO operational_metrics_daily (day, name, labels, count, sum, avg, min, max, p50,
                                           p95, p99)
    VALUES (CAST(:day AS date), :name, CAST(:labels AS jsonb), :count, :sum, 0, 0, 0, :p50,
            :p95, 0)
    ON CONFLICT ON CONSTRAINT uq_operational_metrics_daily_key DO NOTHING
    """
)


def _rolled_up_week(db: Any) -> int:
    """A week of nightly rollup rows (what the rollup writes), for the charts; returns the
    number of emails they count."""
    import json
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    emails = 0
    with db.begin() as conn:
        for back in range(1, 8):
            day = (today - timedelta(days=back)).isoformat()
            for decision, n in (
                ("AUTO_UPDATE", 40 + back),
                ("UPDATE_AND_NOTIFY", 12),
                ("MANUAL_REVIEW", 5 + back % 3),
            ):
                labels = json.dumps({"decision": decision})
                row = {
                    "day": day,
                    "name": "decision",
                    "labels": labels,
                    "count": n,
                    "sum": n,
                    "p50": 1,
                    "p95": 1,
                }
                emails += conn.execute(_DAILY, row).rowcount * n
            for name, labels, count, total, p50, p95 in (
                ("processing_seconds", {"stage": "total"}, 60, 180.0, 2.4 + back / 10, 6.5),
                ("tokens_input", {}, 60, 180_000.0, 3000, 4000),
                ("tokens_output", {}, 60, 24_000.0, 400, 600),
                (
                    "error",
                    {"stage": "extract", "error_type": "RateLimited"},
                    back % 3,
                    back % 3,
                    1,
                    1,
                ),
            ):
                conn.execute(
                    _DAILY,
                    {
                        "day": day,
                        "name": name,
                        "labels": json.dumps(labels),
                        "count": count,
                        "sum": total,
                        "p50": p50,
                        "p95": p95,
                    },
                )
    return emails


def test_an_operator_sees_the_overview_charts(browser: Any, console: str, db: Any) -> None:
    _rolled_up_week(db)
    page = signed_in(browser, console, "otto@example.com", "operator")
    page.goto(f"{console}/ops/")
    assert page.locator("svg.chart").count() == 6
    total = int(page.get_by_test_id("emails-total").inner_text().split()[0])
    assert total >= 7 * (40 + 12 + 5)
    assert page.locator("svg.chart rect title", has_text="AUTO_UPDATE").count() >= 7
    shot(page, "overview")
    page.goto(f"{console}/ops/breakers")
    assert page.get_by_test_id("breakers").locator("tbody tr").count() >= 3
    shot(page, "breakers")
    page.context.close()


def test_screenshots_exist() -> None:
    """The documentation's pictures come from the tests above (docs/console.md)."""
    documented = {path.name for path in (REPO_ROOT / "docs" / "console").glob("*.png")}
    assert documented and documented <= {path.name for path in SHOTS.glob("*.png")}
