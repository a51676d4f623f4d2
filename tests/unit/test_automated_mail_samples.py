"""Mail no person wrote, and people's mail that looks like it, as mail systems really send it.

Held-out samples (``tests/fixtures/automated_mail/*.eml``, written without the rules):
Exchange/Microsoft 365, Gmail, Postfix, Exim, Sendmail, qmail, Yahoo, AOL and Domino bounces
(report and plain-text), delay notices, out-of-office replies in several languages and
clients, helpdesk acknowledgements, read receipts, list posts and newsletters; and replies
by people from shared mailboxes, mail-merge tools and helpdesks whose gateways add bulk
headers, or who forward or attach a bounce. ``expected.tsv``: the name, the kinds accepted
(``PERSON``: none; a person's mail may also be ``auto_generated``, which is read as theirs),
and the failed recipients a bounce must name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.extraction.email_parser import parse_email

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "automated_mail"


def _cases() -> list[tuple[str, list[str], list[str]]]:
    cases = []
    for line in (SAMPLES / "expected.tsv").read_text(encoding="utf-8").splitlines():
        name, kinds, recipients = [*line.split("\t"), ""][:3]
        cases.append((name, kinds.split("|"), sorted(filter(None, recipients.split(",")))))
    return cases


@pytest.mark.parametrize(("name", "kinds", "recipients"), _cases())
def test_each_sample_is_read_as_what_it_is(
    name: str, kinds: list[str], recipients: list[str]
) -> None:
    email = parse_email((SAMPLES / f"{name}.eml").read_bytes())
    assert (email.automated or "PERSON") in kinds, name
    if recipients:
        assert sorted(email.bounced_recipients) == recipients, name


def test_no_persons_reply_is_taken_for_a_bounce_or_list_mail() -> None:
    people = [c for c in _cases() if "PERSON" in c[1]]
    assert len(people) >= 20
    for name, _, _ in people:
        email = parse_email((SAMPLES / f"{name}.eml").read_bytes())
        assert email.automated in (None, "auto_generated"), name
