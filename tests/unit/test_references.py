"""Account references of any format: the normaliser, the tokens of an email and their guards,
and the matcher finding accounts by a reference wherever it is written."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.accounts.model import reference_keys
from shared.extraction.models import AttachmentInfo, ParsedEmail
from shared.extraction.references import normalise_reference, reference_tokens
from shared.processing.matching import AccountMatcher
from tests.processing_fakes import FakeAccounts, account_document, extraction, parsed_email


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("KD 4471-22", "kd4471/22"),
        ("CASE-2024-00123", "case 2024/00123"),
        ("ab.1234.x", "AB-1234-X"),
        ("00012345", "000 123 45"),
        ("Ä-12_34", "ä1234"),
        ("ＡＢ１２３", "ab123"),  # full-width forms (NFKC)
    ],
)
def test_normalise_folds_case_spaces_dashes_slashes_dots(a: str, b: str) -> None:
    assert normalise_reference(a) == normalise_reference(b)


def email(
    text: str = "",
    *,
    subject: str = "",
    quoted: str = "",
    attachments: tuple[AttachmentInfo, ...] = (),
) -> ParsedEmail:
    return ParsedEmail(
        message_id=None, subject=subject, sender="d@example.org", sender_name=None, date=None,
        text=text, quoted_text=quoted, attachments=attachments,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mail", "key"),
    [
        (email(subject="Re: Ihr Zeichen 2024/00118"), "202400118"),
        (email("my file is KD 4471-22, thanks"), "kd447122"),
        (email("number 4471 0815 22 on your letter"), "4471081522"),
        (email("Ref: 882"), "882"),  # short, but after a label
        (email("Aktenzeichen: 12 O 345/24"), "12o34524"),
        (email("", quoted="> Your account number: 00012345678"), "00012345678"),
        (email("see", attachments=(AttachmentInfo("x.pdf", "a/b", 1, "Dossier n° 77/1234"),)),
         "771234"),
        (email("", attachments=(AttachmentInfo("statement_AB-99812.pdf", "a/b", 1),)),
         "statementab99812"),
        (email("| Account | 7731-0044 |\n| Amount | 12.00 |"), "77310044"),
        # written against a script without spaces between words
        (email("案件番号AB-12345についてお支払いしました。"), "ab12345"),
        (email("参考编号CASE-2026-00123已付款"), "case202600123"),
        (email("", subject="계좌번호CASE-2026-00123입니다"), "case202600123"),
        (email("ใบแจ้งหนี้INV-778812ชำระแล้ว"), "inv778812"),
        # ... but a run between letters or digits is part of it (a Korean court case number)
        (email("사건번호 2024가단12345 관련 문의"), "2024가단12345"),
        (email("Case no: 2024가단56789"), "2024가단56789"),
        (email("2024年12月分AB-12345のお支払い"), "ab12345"),
        # Korean particles between references, an amount and a reference
        (email("CASE-2026-00123와CASE-2026-00456"), "case202600456"),
        (email("금액500000원과CASE-2026-00123"), "case202600123"),
        (email("참조AB12345및CD67890"), "cd67890"),
    ],
)  # fmt: skip
def test_tokens_are_collected_wherever_they_are(mail: ParsedEmail, key: str) -> None:
    assert key in reference_tokens(mail)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("I paid €1.234,56 yesterday", "123456"),
        ("I paid 3,150.00 EUR", "315000"),
        ("on 15.06.2024 I paid", "15062024"),
        ("on 2024-06-15 I paid", "20240615"),
        ("call me at +49 170 1234567", "1701234567"),
        ("call me at +49 170 1234567", "1234567"),
        ("Tel: 0301234567", "0301234567"),
        ("Tel: 030 1234567", "1234567"),  # a later digit group of the number
        ("Jane Example\nT: 020 7946 0958", "79460958"),  # a signature's one-letter label
        ("M: 0176 12345678", "12345678"),
        ("mail john99123@example.org", "john99123"),
        ("see https://example.org/doc/a123456", "a123456"),
        ("Hauptstr. 12, 80331 München", "80331"),
        ("in 2024 we moved", "2024"),
    ],
)
def test_ordinary_numbers_are_not_references(text: str, absent: str) -> None:
    assert absent not in reference_tokens(email(text))


def test_the_budget_keeps_the_extracted_and_labelled_first() -> None:
    noise = " ".join(f"X{n:06d}" for n in range(500))
    keys = reference_tokens(
        email(f"{noise} case no. 99-1", quoted=noise), extracted=["KD-1"], limit=10
    )
    assert len(keys) == 10 and keys[:2] == ["kd1", "991"]


def test_a_pattern_ranks_but_is_not_required() -> None:
    text = " ".join(f"Z{n:06d}" for n in range(50)) + " and 77-ABC-1"
    ranked = reference_tokens(email(text), pattern=re.compile(r"\d\d-ABC-\d"), limit=5)
    assert ranked[0] == "77abc1"
    assert "z000001" in reference_tokens(email(text), pattern=re.compile(r"nothing"))


def test_account_keys_are_normalised_like_the_tokens() -> None:
    document = {
        "case_number": "2024/00118",
        "account_reference": "KD 4471-22",
        "ext": {"id": 12345678},
    }
    assert reference_keys(document, ("case_number", "account_reference", "ext.id")) == [
        "202400118",
        "kd447122",
        "12345678",
    ]


DOCS = [
    account_document("A1", case_number="2024/00118", account_reference="kd 4471-22",
                     email="one@example.org"),
    account_document("A2", case_number="0099-7731", account_reference="R.200.X",
                     email="two@example.org"),
]  # fmt: skip


def matcher() -> AccountMatcher:
    return AccountMatcher(
        FakeAccounts([dict(d) for d in DOCS]), ambiguity_margin=0.05, fuzzy_min_score=85
    )


@pytest.mark.parametrize(
    ("mail", "account", "method"),
    [
        (parsed_email(subject="Aktenzeichen 2024-00118", sender="x@example.net"), "A1",
         "case_number"),
        (parsed_email(text="my number is KD4471/22", sender="x@example.net"), "A1",
         "account_reference"),
        (email("fyi", quoted="> Ref. r 200 x"), "A2", "account_reference"),
    ],
)  # fmt: skip
def test_a_reference_in_the_text_finds_its_account(
    mail: ParsedEmail, account: str, method: str
) -> None:
    match = matcher().match(extraction(), mail)
    assert (match.method, match.account and match.account.account_id) == (method, account)
    assert match.by_reference and not match.exact_reference  # not extracted: money never moves
    assert match.candidates[0].summary()["extracted"] is False


def test_an_extracted_reference_is_exact() -> None:
    match = matcher().match(extraction(case_number="2024 00118"), parsed_email(sender="x@y.z"))
    assert match.exact_reference and match.account.account_id == "A1"


def test_two_references_to_two_accounts_are_ambiguous() -> None:
    mail = parsed_email(text="cases 2024/00118 and 0099-7731", sender="one@example.org")
    match = matcher().match(extraction(), mail)
    assert match.ambiguous and match.account is None
    assert {a.account_id for a in match.referenced_accounts} == {"A1", "A2"}
    assert "exact_match_conflict" in match.notes


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MATCH_REFERENCE_PATTERN": "([a-z"}, "MATCH_REFERENCE_PATTERN"),
        ({"MATCH_REFERENCE_FIELDS": "ext.id, $where"}, "MATCH_REFERENCE_FIELDS"),
    ],
)
def test_reference_settings_are_checked(env: dict[str, str], named: str) -> None:
    from shared.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match=named):
        load_settings(env)
    assert load_settings({"MATCH_REFERENCE_FIELDS": "ext.id, creditor_ref"}) is not None


@pytest.mark.parametrize(
    "value", ["", "abc", "a1", "CASE-2024", "x²", "½", "٣", "１２", "é", "ab-cd.", "0"]
)
def test_the_digit_check_is_str_isdigit(value: str) -> None:
    from shared.extraction.references import _has_digit

    assert _has_digit(value) == any(ch.isdigit() for ch in value)


def test_an_ascii_token_without_digits_has_no_digit_in_its_key() -> None:
    """What lets the reference check skip normalising ASCII tokens without digits."""
    import string

    from shared.extraction.references import normalise_reference

    for value in ["".join(string.printable[i : i + 7]) for i in range(0, 100)]:
        if not any(ch.isdigit() for ch in value):
            assert not any(ch.isdigit() for ch in normalise_reference(value)), value


def _plain_free_tokens(text: str) -> list[str]:
    """The free-token rules stated plainly, token by token, with nothing skipped early."""
    from shared.extraction import references as r

    tokens = list(r._TOKEN_RE.finditer(text))

    def clear(m: re.Match[str]) -> bool:
        return r._in_the_clear(text, r._Token(m.group(), m.start(), m.end(), True))

    def single(m: re.Match[str]) -> bool:
        value = m.group().rstrip("./-")
        key = normalise_reference(value)
        return (
            any(ch.isdigit() for ch in key)
            and r.MIN_KEY_LENGTH <= len(key) <= r.MAX_KEY_LENGTH
            and not (key.isdigit() and len(key) < r.MIN_BARE_DIGITS)
            and not (r._DATE_RE.match(value) or r._AMOUNT_RE.match(value))
            and clear(m)
        )

    def joinable(m: re.Match[str]) -> bool:
        value = m.group().rstrip("./-")
        return (
            any(ch.isdigit() for ch in value)
            and not (r._DATE_RE.match(value) or r._AMOUNT_RE.match(value))
            and clear(m)
        )

    found = [m.group() for m in tokens if single(m)]
    for index, first in enumerate(tokens):
        word = first.group()
        prefixed = bool(r._PREFIX_RE.match(word)) and word.casefold() not in r._NOT_PREFIXES
        if not (prefixed or joinable(first)):
            continue
        group = [first]
        for following in tokens[index + 1 : index + 3]:
            if text[group[-1].end() : following.start()] != " " or not joinable(following):
                break
            group.append(following)
            joined = " ".join(m.group() for m in group)
            key = normalise_reference(joined)
            if r.MIN_KEY_LENGTH <= len(key) <= r.MAX_KEY_LENGTH and not key.isalpha():
                found.append(joined)
    return found


_PIECES = [*"aZ09 ./-_:+@€$\n", "CASE ", "Ref ", "tel ", "www.", "http://", "½", "²", "Ａ１", "é"]
_TOKEN_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TOKEN_TEXT)
def test_the_free_token_scan_finds_what_the_plain_rules_find(text: str) -> None:
    from shared.extraction.references import _free_tokens

    assert list(_free_tokens(text)) == _plain_free_tokens(text)


@pytest.mark.parametrize(
    "text",
    [
        "I dispute this.\n\nJohn Smith\nTel: 0161 496 0000\n44710815",  # the next line
        "Phone 0161 496 0000 / 44710815",
        "Mr Patel 44710815",  # no phone label inside a name
        "Hotel 44710815",
    ],
)
def test_a_reference_after_a_phone_number_is_still_found(text: str) -> None:
    assert "44710815" in reference_tokens(email(text))
