"""The console's pages and actions through Flask's test client, on the real local stack
(Postgres, MongoDB, fake-gcs-server); identity by the development sign-in."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest
from sqlalchemy import text

from shared.config import get_settings
from shared.console.app import create_app
from shared.db.engine import get_engine
from tests.console_support import Seeded, seed_item
from tests.intake_payloads.hostile import nested

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def accounts(stack_env: dict[str, str]) -> Iterator[Any]:
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    yield client[get_settings().mongodb_database]["accounts"]
    client.close()


@pytest.fixture
def app(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CONSOLE_DEV_SIGN_IN", "true")
    from shared.config import reset_settings_cache

    reset_settings_cache()
    return create_app(get_settings())


def sign_in(app: Any, email: str, role: str) -> Any:
    client = app.test_client()
    page = client.get("/dev/sign-in")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    answer = client.post("/dev/sign-in", data={"csrf_token": token, "email": email, "role": role})
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return client


def token_of(client: Any, email_id: str) -> str:
    page = client.get(f"/items/{email_id}")
    assert page.status_code == 200
    return CSRF.search(page.get_data(as_text=True)).group(1)


def _item(email_id: str) -> dict[str, Any]:
    with get_engine().connect() as conn:
        return dict(
            conn.execute(text("SELECT * FROM review_items WHERE email_id = :e"), {"e": email_id})
            .mappings()
            .one()
        )


def _audit(email_id: str) -> list[str]:
    with get_engine().connect() as conn:
        return list(
            conn.execute(
                text("SELECT action FROM review_audit WHERE email_id = :e ORDER BY id"),
                {"e": email_id},
            ).scalars()
        )


def test_apply_to_a_picked_account_changes_it_once_audits_and_closes(
    app: Any, accounts: Any
) -> None:
    seeded: Seeded = seed_item(accounts)
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    queue = reviewer.get("/queue").get_data(as_text=True)
    assert seeded.email_id in queue
    page = reviewer.get(f"/items/{seeded.email_id}?account={seeded.account_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "500.00 EUR" in html
    assert "<mark" in html  # the evidence is highlighted in the email text
    token = CSRF.search(html).group(1)
    answer = reviewer.post(
        f"/items/{seeded.email_id}/apply",
        data={"csrf_token": token, "account_id": seeded.account_id},
    )
    assert answer.status_code == 303
    document = accounts.find_one({"_id": seeded.account_id})
    assert document["balance"]["amount"] == 380.0
    assert document["applied_email_ids"] == [seeded.email_id]
    assert _item(seeded.email_id)["status"] == "closed"
    assert _item(seeded.email_id)["outcome"] == "applied"
    assert _audit(seeded.email_id) == ["claim", "apply"]
    assert seeded.email_id not in reviewer.get("/queue").get_data(as_text=True)
    again = reviewer.post(
        f"/items/{seeded.email_id}/apply",
        data={"csrf_token": token, "account_id": seeded.account_id},
    )
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 380.0


def test_a_second_reviewer_is_told_the_item_is_claimed(app: Any, accounts: Any) -> None:
    seeded = seed_item(accounts)
    first = sign_in(app, "first@example.com", "reviewer")
    second = sign_in(app, "second@example.com", "reviewer")
    token_of(first, seeded.email_id)
    page = second.get(f"/items/{seeded.email_id}").get_data(as_text=True)
    assert "first@example.com is working on this item" in page
    token = CSRF.search(page).group(1)
    answer = second.post(
        f"/items/{seeded.email_id}/apply",
        data={"csrf_token": token, "account_id": seeded.account_id},
    )
    assert answer.status_code == 409
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 500.0
    assert _item(seeded.email_id)["claimed_by"] == "first@example.com"
    # the first gives it back: the second may take it
    assert (
        second.post(f"/items/{seeded.email_id}/unclaim", data={"csrf_token": token}).status_code
        == 409
    )
    first_token = token_of(first, seeded.email_id)
    back = first.post(f"/items/{seeded.email_id}/unclaim", data={"csrf_token": first_token})
    assert back.status_code == 303 and _item(seeded.email_id)["status"] == "open"
    assert "Claimed by you" in second.get(f"/items/{seeded.email_id}").get_data(as_text=True)
    assert _audit(seeded.email_id) == ["claim", "unclaim", "claim"]


def test_a_forged_csrf_token_is_refused_and_changes_nothing(app: Any, accounts: Any) -> None:
    seeded = seed_item(accounts)
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    token_of(reviewer, seeded.email_id)
    for data in ({"csrf_token": "forged" * 8}, {}):
        answer = reviewer.post(
            f"/items/{seeded.email_id}/apply", data={**data, "account_id": seeded.account_id}
        )
        assert answer.status_code == 403
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 500.0
    assert _item(seeded.email_id)["status"] == "claimed"
    assert _audit(seeded.email_id) == ["claim"]


def test_release_needs_a_supervisor_who_did_not_place_the_hold(app: Any, accounts: Any) -> None:
    seeded = seed_item(
        accounts, intent="dispute", reasons=("compliance:dispute",), kind="compliance_alert"
    )
    placer = sign_in(app, "sam@example.com", "supervisor")
    token = token_of(placer, seeded.email_id)
    url = f"/items/{seeded.email_id}"
    form = {"csrf_token": token, "account_id": seeded.account_id}
    assert placer.post(f"{url}/hold", data={**form, "reason": "disputed debt"}).status_code == 303
    assert accounts.find_one({"_id": seeded.account_id})["hold"]["placed_by"] == "sam@example.com"
    refused = placer.post(f"{url}/release", data={**form, "reason": "ok now"})
    assert refused.status_code == 403 and "You placed this hold" in refused.get_data(as_text=True)
    placer.post(f"{url}/dismiss", data={"csrf_token": token, "reason": "hand over"})  # frees it
    # (dismiss closes the item; the next people work on a new one for the same account)
    second = seed_item(accounts)
    accounts.delete_one({"_id": second.account_id})
    other_url = f"/items/{second.email_id}"
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    rtoken = token_of(reviewer, second.email_id)
    no = reviewer.post(
        f"{other_url}/release",
        data={"csrf_token": rtoken, "account_id": seeded.account_id, "reason": "please"},
    )
    assert no.status_code == 403 and "Only a supervisor" in no.get_data(as_text=True)
    reviewer.post(f"{other_url}/dismiss", data={"csrf_token": rtoken, "reason": "done"})
    third = seed_item(accounts)
    supervisor = sign_in(app, "sue@example.com", "supervisor")
    stoken = token_of(supervisor, third.email_id)
    empty = supervisor.post(
        f"/items/{third.email_id}/release",
        data={"csrf_token": stoken, "account_id": seeded.account_id, "reason": " "},
    )
    assert empty.status_code == 400 and "reason is required" in empty.get_data(as_text=True)
    ok = supervisor.post(
        f"/items/{third.email_id}/release",
        data={"csrf_token": stoken, "account_id": seeded.account_id, "reason": "resolved"},
    )
    assert ok.status_code == 303
    document = accounts.find_one({"_id": seeded.account_id})
    assert document["hold"]["active"] is False and document["status"] == "active"
    assert document["hold"]["released_by"] == "sue@example.com"
    assert _audit(third.email_id) == ["claim", "release_hold"]


def test_pages_carry_the_security_headers_and_roles_are_enforced(app: Any, accounts: Any) -> None:
    anonymous = app.test_client().get("/queue")
    assert anonymous.status_code == 302 and "/dev/sign-in" in anonymous.headers["Location"]
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    page = reviewer.get("/queue")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert "img-src 'self' data:" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert reviewer.get("/ops/").status_code == 403
    operator = sign_in(app, "otto@example.com", "operator")
    assert operator.get("/queue").status_code == 403
    overview = operator.get("/ops/")
    assert overview.status_code == 200 and "<svg" in overview.get_data(as_text=True)
    trace = operator.get("/ops/trace?correlation_id=bad%22id")
    assert trace.status_code == 400


def test_an_email_with_html_is_shown_as_text_and_its_pdf_served_inline(
    app: Any, accounts: Any
) -> None:
    from tests.console_support import html_mime

    raw = html_mime(
        "<p>I paid <b>120.00 EUR</b></p><script>alert(1)</script>"
        '<img src="http://127.0.0.1:9/pixel.png">',
        pdf=b"%PDF-1.4 test",
    )
    seeded = seed_item(accounts, raw=raw, evidence="120.00 EUR")
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    html = reviewer.get(f"/items/{seeded.email_id}").get_data(as_text=True)
    assert "<script>alert" not in html and "pixel.png" not in html and "<b>120" not in html
    assert "remit.pdf" in html
    pdf = reviewer.get(f"/items/{seeded.email_id}/attachments/0")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == "inline; filename=remit.pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert pdf.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert reviewer.get(f"/items/{seeded.email_id}/attachments/5").status_code == 404
    assert reviewer.get("/items/no-such-email").status_code == 404


def test_attachment_names_outside_latin_1_get_an_ascii_name_and_a_utf_8_one(
    app: Any, accounts: Any
) -> None:
    from urllib.parse import unquote

    from tests.console_support import mime_with_files

    raw = mime_with_files(
        "I paid 120.00 EUR, receipts attached.",
        ("Квитанция об оплате.pdf", "application/pdf", b"%PDF-1.4 receipt"),
        ("potwierdzenie_płatności.docx", "application/msword", b"PK docx"),
    )
    seeded = seed_item(accounts, raw=raw, evidence="120.00 EUR")
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    page = reviewer.get(f"/items/{seeded.email_id}").get_data(as_text=True)
    assert "Квитанция об оплате.pdf" in page and "potwierdzenie_płatności.docx" in page
    expected = {
        0: (
            "inline; filename=\"  .pdf\"; filename*=UTF-8''"
            "%D0%9A%D0%B2%D0%B8%D1%82%D0%B0%D0%BD%D1%86%D0%B8%D1%8F%20%D0%BE%D0%B1%20"
            "%D0%BE%D0%BF%D0%BB%D0%B0%D1%82%D0%B5.pdf",
            "Квитанция об оплате.pdf",
            b"%PDF-1.4 receipt",
        ),
        1: (
            "attachment; filename=potwierdzenie_patnosci.docx; "
            "filename*=UTF-8''potwierdzenie_p%C5%82atno%C5%9Bci.docx",
            "potwierdzenie_płatności.docx",
            b"PK docx",
        ),
    }
    for index, (disposition, name, data) in expected.items():
        answer = reviewer.get(f"/items/{seeded.email_id}/attachments/{index}")
        assert answer.status_code == 200 and answer.data == data
        # the server writes headers as Latin-1: anything else would fail there (a bare 500)
        head = "".join(f"{key}: {value}\r\n" for key, value in answer.headers.items())
        assert head.encode("latin-1").decode("ascii") == head
        assert answer.headers["Content-Disposition"].encode("latin-1") == disposition.encode()
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == name


def test_a_nul_in_a_path_query_or_form_is_a_400_and_changes_nothing(
    app: Any, accounts: Any
) -> None:
    seeded = seed_item(accounts)
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    token = token_of(reviewer, seeded.email_id)
    url = f"/items/{seeded.email_id}"
    for path in (
        "/items/%00",
        f"{url}%00/attachments/0",
        "/queue?creditor=%00",
        f"{url}?account=%00",
    ):
        answer = reviewer.get(path)
        assert answer.status_code == 400, path
        assert "NUL character" in answer.get_data(as_text=True)
    forms = {
        "apply": {"account_id": f"{seeded.account_id}\x00"},
        "correct": {"intent": "payment_confirmation", "field_amount": "1\x00"},
        "dismiss": {"reason": "spam\x00"},
        "unclaim": {"note\x00": "x"},
    }
    for action, form in forms.items():
        answer = reviewer.post(f"{url}/{action}", data={"csrf_token": token, **form})
        assert answer.status_code == 400, action
    item = _item(seeded.email_id)
    assert item["status"] == "claimed" and item["override"] is None
    assert _audit(seeded.email_id) == ["claim"]
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 500.0


def test_a_hold_placed_by_applying_is_never_released_by_its_placer(app: Any, accounts: Any) -> None:
    compliance = seed_item(
        accounts, intent="dispute", reasons=("compliance:dispute",), kind="compliance_alert"
    )
    corrected = seed_item(accounts)  # a payment, corrected to a compliance intent below
    sam = sign_in(app, "sam@example.com", "supervisor")
    token = token_of(sam, compliance.email_id)
    applied = sam.post(
        f"/items/{compliance.email_id}/apply",
        data={"csrf_token": token, "account_id": compliance.account_id},
    )
    assert applied.status_code == 303
    token_of(sam, corrected.email_id)
    assert (
        sam.post(
            f"/items/{corrected.email_id}/correct",
            data={"csrf_token": token, "intent": "cease_and_desist", "reason": "it is a C&D"},
        ).status_code
        == 303
    )
    applied = sam.post(
        f"/items/{corrected.email_id}/apply",
        data={"csrf_token": token, "account_id": corrected.account_id},
    )
    assert applied.status_code == 303
    other = seed_item(accounts)  # an open item from which sam tries to release both holds
    token_of(sam, other.email_id)
    for held in (compliance.account_id, corrected.account_id):
        before = accounts.find_one({"_id": held})
        assert before["hold"]["active"] is True
        assert before["hold"]["placed_by"] == "sam@example.com"
        refused = sam.post(
            f"/items/{other.email_id}/release",
            data={"csrf_token": token, "account_id": held, "reason": "resolved"},
        )
        assert refused.status_code == 403, held
        assert "You placed this hold" in refused.get_data(as_text=True)
        assert accounts.find_one({"_id": held}) == before
    assert _item(other.email_id)["status"] == "claimed"
    assert _audit(other.email_id) == ["claim"]
    # another supervisor may
    sam.post(f"/items/{other.email_id}/unclaim", data={"csrf_token": token})
    sue = sign_in(app, "sue@example.com", "supervisor")
    stoken = token_of(sue, other.email_id)
    released = sue.post(
        f"/items/{other.email_id}/release",
        data={"csrf_token": stoken, "account_id": compliance.account_id, "reason": "resolved"},
    )
    assert released.status_code == 303
    assert accounts.find_one({"_id": compliance.account_id})["hold"]["active"] is False


def test_rerun_extraction_stores_the_new_reading_and_apply_uses_it(app: Any, accounts: Any) -> None:
    from tests.console_support import plain_mime

    raw = plain_mime("Hello, I paid EUR 75.00 on 2026-12-01 for case CASE-X. Regards")
    seeded = seed_item(accounts, raw=raw, amount=999.0, evidence="EUR 75.00")
    deps = app.extensions["console"]
    deps.settings = dataclasses.replace(deps.settings, anthropic_api_key=None)  # rules only
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    token = token_of(reviewer, seeded.email_id)
    answer = reviewer.post(f"/items/{seeded.email_id}/rerun", data={"csrf_token": token})
    assert answer.status_code == 303
    override = _item(seeded.email_id)["override"]
    assert override["extractor"] == "rules"
    assert override["intent"] == "payment_confirmation"
    assert override["fields"]["amount"]["value"] == 75.0
    assert _audit(seeded.email_id) == ["claim", "rerun_extraction"]
    corrected = reviewer.post(
        f"/items/{seeded.email_id}/correct",
        data={
            "csrf_token": token,
            "intent": "payment_confirmation",
            "field_amount": "75.00",
            "reason": "amount read from the text",
        },
    )
    assert corrected.status_code == 303
    assert _item(seeded.email_id)["override"]["fields"]["amount"]["value"] == "75.00"
    reviewer.post(
        f"/items/{seeded.email_id}/apply",
        data={"csrf_token": token, "account_id": seeded.account_id},
    )
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 425.0
    assert _audit(seeded.email_id) == ["claim", "rerun_extraction", "correct", "apply"]


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(app: Any, accounts: Any) -> None:
    seeded = seed_item(accounts)
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    token = token_of(reviewer, seeded.email_id)
    url = f"/items/{seeded.email_id}"
    for account_id in ("$where", "x" * 500, "", "NO-SUCH-ACCOUNT"):
        answer = reviewer.post(f"{url}/apply", data={"csrf_token": token, "account_id": account_id})
        assert answer.status_code == 400, account_id
    assert reviewer.post(f"{url}/dismiss", data={"csrf_token": token}).status_code == 400
    assert (
        reviewer.post(
            f"{url}/correct", data={"csrf_token": token, "intent": "take_all_money"}
        ).status_code
        == 400
    )
    assert reviewer.get(f"{url}?account=%24gt").status_code == 200  # shown as not found
    assert reviewer.post(url, data={"csrf_token": token}).status_code == 405
    assert _item(seeded.email_id)["status"] == "claimed"
    assert _audit(seeded.email_id) == ["claim"]
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 500.0


def test_a_failed_email_without_a_stored_message_still_opens(app: Any, stack_env: dict) -> None:
    from shared.processing.report import PipelineTrace, failed_report
    from shared.processing.store import PostgresProcessingStore

    email_id = f"em-console-failed-{uuid.uuid4().hex[:8]}"
    report = failed_report(
        email_id=email_id,
        correlation_id="corr-console-failed",
        stage="envelope",
        error_type="InvalidEnvelope",
        message="not a notice",
        trace=PipelineTrace(attempt=1),
    )
    from tests.fakes import RecordingMetrics

    PostgresProcessingStore(lease_seconds=60).record_invalid(
        report, provider=None, metrics=RecordingMetrics()
    )
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    assert "Failed" in reviewer.get("/queue?reason=failed").get_data(as_text=True)
    page = reviewer.get(f"/items/{email_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "raw email is not stored" in html
    assert "InvalidEnvelope" in html
    token = CSRF.search(html).group(1)
    answer = reviewer.post(
        f"/items/{email_id}/dismiss", data={"csrf_token": token, "reason": "not an email"}
    )
    assert answer.status_code == 303 and _item(email_id)["outcome"] == "dismissed"


def test_the_queue_puts_compliance_first_and_filters(app: Any, accounts: Any) -> None:
    older = seed_item(accounts)
    compliance = seed_item(
        accounts, intent="dispute", reasons=("compliance:dispute",), kind="compliance_alert"
    )
    with get_engine().begin() as conn:  # the no-match item has waited two days
        conn.execute(
            text(
                "UPDATE review_items SET created_at = now() - interval '2 days' WHERE email_id = :e"
            ),
            {"e": older.email_id},
        )
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    page = reviewer.get("/queue").get_data(as_text=True)
    assert page.index(compliance.email_id) < page.index(older.email_id)
    by_reason = reviewer.get("/queue?reason=compliance").get_data(as_text=True)
    assert compliance.email_id in by_reason and older.email_id not in by_reason
    by_age = reviewer.get("/queue?age=24h").get_data(as_text=True)
    assert older.email_id in by_age and compliance.email_id not in by_age
    assert older.email_id in reviewer.get("/queue?creditor=northwind").get_data(as_text=True)
    assert older.email_id not in reviewer.get("/queue?creditor=zzz").get_data(as_text=True)
    counts = re.search(r'data-testid="count-compliance">(\d+)<', page)
    assert counts and int(counts.group(1)) >= 1
    odd = reviewer.get("/queue?reason=%27;drop&age=forever&creditor=%25")
    assert odd.status_code == 200  # unknown filter values are ignored, never an error


def test_an_open_mongodb_breaker_is_a_clear_503_and_changes_nothing(
    app: Any, accounts: Any
) -> None:
    from shared import breakers

    seeded = seed_item(accounts)
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    token = token_of(reviewer, seeded.email_id)
    breakers.force_open("mongodb")
    try:
        time.sleep(1.2)  # past the breaker row's cache
        answer = reviewer.post(
            f"/items/{seeded.email_id}/apply",
            data={"csrf_token": token, "account_id": seeded.account_id},
        )
        assert answer.status_code == 503
        assert "not reachable" in answer.get_data(as_text=True)
    finally:
        breakers.reset("mongodb")
    assert accounts.find_one({"_id": seeded.account_id})["balance"]["amount"] == 500.0
    assert _item(seeded.email_id)["status"] == "claimed"
    assert _audit(seeded.email_id) == ["claim"]


def test_an_email_that_already_changed_another_account_is_not_applied_twice(
    app: Any, accounts: Any
) -> None:
    """A redelivery read it as another debtor's: the review item points at this account while
    the payment already sits on the other one. Applying here would move the money twice."""
    from tests.console_support import account_document

    seeded = seed_item(accounts)
    other = f"ACC-{uuid.uuid4().hex[:8]}"
    document = account_document(other)
    document["applied_email_ids"] = [seeded.email_id]
    accounts.insert_one(document)
    before = accounts.find_one({"_id": seeded.account_id})
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    answer = reviewer.post(
        f"/items/{seeded.email_id}/apply",
        data={"csrf_token": token_of(reviewer, seeded.email_id), "account_id": seeded.account_id},
    )
    assert answer.status_code == 409
    assert f"already changed account {other}" in answer.get_data(as_text=True)
    assert accounts.find_one({"_id": seeded.account_id}) == before
    assert _item(seeded.email_id)["status"] != "closed"


@pytest.mark.parametrize(
    "part_headers",
    [
        b"Content-Disposition: attachment; filename*0*",  # IndexError in the stdlib
        b"Content-Disposition: attachment; filename=a.pdf " + b"(" * 900,  # RecursionError
    ],
    ids=["index-error", "recursion"],
)
def test_an_attached_message_with_headers_the_stdlib_fails_on_still_opens(
    app: Any, accounts: Any, part_headers: bytes
) -> None:
    """The webhook checks the message's own parts, not those of a message attached to it: a
    sender must not be able to make the review of their own dispute unopenable."""
    from tests.console_support import in_attached_message

    seeded = seed_item(
        accounts,
        raw=in_attached_message(part_headers),
        intent="dispute",
        reasons=("compliance:dispute",),
        kind="compliance_alert",
        evidence="I dispute this debt",
    )
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    page = reviewer.get(f"/items/{seeded.email_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "I dispute this debt" in html
    assert "attachment-0" in html
    download = reviewer.get(f"/items/{seeded.email_id}/attachments/0")
    assert download.status_code == 200 and download.data == b"data"
    assert download.mimetype == "application/octet-stream"
    assert download.headers["Content-Disposition"] == "attachment; filename=attachment-0"
    assert _audit(seeded.email_id) == ["claim"]


@pytest.mark.parametrize(
    "raw",
    [
        nested(40, "console-deep"),
        # the stdlib's parser runs out of recursion on this header while it parses
        b"From: a@sender.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/pdf; name=a.pdf " + b"(" * 900 + b"\r\n\r\ndata\r\n",
    ],
    ids=["nested-too-deep", "recursion-while-parsing"],
)
def test_a_stored_message_nested_too_deep_opens_saying_it_could_not_be_read(
    app: Any, accounts: Any, raw: bytes
) -> None:
    seeded = seed_item(accounts, raw=raw)
    reviewer = sign_in(app, "rita@example.com", "reviewer")
    page = reviewer.get(f"/items/{seeded.email_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "could not be read" in html
    assert CSRF.search(html)  # the actions are there: the item can still be handled
    download = reviewer.get(f"/items/{seeded.email_id}/attachments/0")
    assert download.status_code == 422 and "could not be read" in download.get_data(as_text=True)
