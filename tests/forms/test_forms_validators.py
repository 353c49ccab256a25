"""Validators of identifiers and census codes, with DOMAIN.md's worked examples."""

from __future__ import annotations

from datetime import date

import pytest

from forms import validators as v


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" h801 2000 01001 ", "H801200001001"), ("x00180001701a", "X00180001701A"), ("\t1 2\n", "12")],
)
def test_normalise_identifier_trims_removes_spaces_and_upper_cases(raw: str, expected: str) -> None:
    assert v.normalise_identifier(raw) == expected


def test_upn_check_letter_matches_the_worked_example() -> None:
    assert v.upn_check_letter("801200001001") == "H"


@pytest.mark.parametrize(
    "upn", ["H801200001001", "X00180001701A", "h801 200 001 001", " x0018 0001 701a "]
)
def test_valid_upns(upn: str) -> None:
    assert v.check_upn(upn) is None


@pytest.mark.parametrize(
    ("upn", "fragment"),
    [
        ("", "Enter the UPN"),
        ("H80120000100", "13 characters"),
        ("H8012000010011", "13 characters"),
        ("A801200001001", "check letter does not match"),
        ("I801200001001", "any letter except I, O and S"),
        ("1801200001001", "check letter"),
        ("H80120000100I", "12 digits, or 11 digits and a letter"),
        ("H8012000A1001", "12 digits"),
        ("Y00180001701A", "does not match"),
    ],
)
def test_invalid_upns(upn: str, fragment: str) -> None:
    message = v.check_upn(upn)
    assert message is not None
    assert fragment in message


def test_upn_message_never_repeats_the_value() -> None:
    message = v.check_upn("A801200001001")
    assert message is not None
    assert "801200001001" not in message


def test_upn_with_defunct_la_digits_is_still_valid() -> None:
    # DfE's own temporary example uses LA 001, which is not a current authority.
    assert v.check_upn("X00180001701A") is None


@pytest.mark.parametrize("uln", ["1000000043", "1234567899", " 12345 67899 "])
def test_valid_ulns(uln: str) -> None:
    assert v.check_uln(uln) is None


@pytest.mark.parametrize(
    ("uln", "fragment"),
    [
        ("9999999999", "last digit"),
        ("1000000044", "last digit"),
        ("123456789", "10 digits"),
        ("12345678990", "10 digits"),
        ("12345A7899", "10 digits"),
        ("", "Enter the ULN"),
    ],
)
def test_invalid_ulns(uln: str, fragment: str) -> None:
    message = v.check_uln(uln)
    assert message is not None
    assert fragment in message


def test_uln_with_remainder_zero_is_invalid() -> None:
    # Weighted sum 11 -> remainder 0, which no check digit can satisfy.
    assert v.check_uln("0000000010") is not None
    assert v.check_uln("1000000010") is not None


@pytest.mark.parametrize(
    ("check", "good", "bads"),
    [
        (v.check_urn, "100000", ["10000", "1000000", "10000A", ""]),
        (v.check_ukprn, "10000001", ["1000000", "100000011", "1000000X"]),
        (v.check_laestab, "2044001", ["204400", "20440011", "204-400"]),
    ],
)
def test_reference_number_formats(check: object, good: str, bads: list[str]) -> None:
    assert callable(check)
    assert check(good) is None
    assert check(f" {good[:3]} {good[3:]} ") is None
    for bad in bads:
        assert check(bad) is not None


def test_la_codes_list_has_the_current_authorities() -> None:
    codes = v.la_codes()
    assert len(codes) == 153
    for code in ("838", "839", "940", "941", "942", "943", "201"):
        assert code in codes
    assert codes["204"] == "Hackney"


@pytest.mark.parametrize("code", ["204", " 838 ", "943"])
def test_valid_la_codes(code: str) -> None:
    assert v.check_la_code(code) is None


@pytest.mark.parametrize(("code", "fragment"), [("001", "not the code"), ("20", "3 digits"),
                                               ("ABC", "3 digits"), ("", "Enter")])
def test_invalid_la_codes(code: str, fragment: str) -> None:
    message = v.check_la_code(code)
    assert message is not None
    assert fragment in message


@pytest.mark.parametrize("code", ["E", "K", "N"])
def test_current_sen_provision_codes(code: str) -> None:
    assert v.check_sen_provision(code) is None


@pytest.mark.parametrize("code", ["S", "A", "P"])
def test_historic_sen_provision_codes_are_refused_for_new_records(code: str) -> None:
    message = v.check_sen_provision(code)
    assert message is not None
    assert "no longer used" in message


def test_unknown_sen_provision_code() -> None:
    assert v.check_sen_provision("Z") is not None


def test_sen_types() -> None:
    for code in v.SEN_TYPE_CODES:
        assert v.check_sen_type(code, "K") is None
    assert "DS" in v.SEN_TYPE_CODES
    assert v.check_sen_type("XYZ") is not None
    assert "no longer used" in (v.check_sen_type("BESD") or "")


def test_nsa_only_with_sen_support() -> None:
    assert v.check_sen_type("NSA", "K") is None
    assert v.check_sen_type("NSA") is None
    assert v.check_sen_type("NSA", "E") is not None


def test_primary_and_secondary_needs() -> None:
    assert v.check_sen_needs("ASD", "SLCN", "E") is None
    assert v.check_sen_needs(None, None) is None
    assert v.check_sen_needs("ASD", None) is None
    assert "different" in (v.check_sen_needs("ASD", "ASD") or "")
    assert v.check_sen_needs(None, "ASD") is not None
    assert v.check_sen_needs("ASD", "NSA", "K") is not None
    assert v.check_sen_needs("NSA", "ASD", "E") is not None
    assert v.check_sen_needs("ASD", "BESD") is not None


def test_nc_year_codes() -> None:
    for code in ["E1", "E2", "N1", "N2", "R", "1", "11", "14", "M", "X"]:
        assert v.check_nc_year(code) is None
    for code in ["0", "15", "Y1", "r", ""]:
        assert v.check_nc_year(code) is not None


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        (date(2016, 1, 14), date(2025, 6, 18), "4"),
        (date(2015, 9, 1), date(2025, 9, 2), "5"),  # born 1 September: oldest in Year 5
        (date(2016, 8, 31), date(2025, 9, 2), "5"),  # born 31 August: youngest in Year 5
        (date(2015, 8, 31), date(2025, 9, 2), "6"),
        (date(2015, 8, 31), date(2025, 8, 31), "5"),  # the year group changes on 1 September
        (date(2021, 3, 1), date(2025, 10, 1), "R"),
        (date(2022, 5, 3), date(2025, 11, 12), "N2"),
        (date(2023, 5, 3), date(2025, 11, 12), "N1"),
        (date(2024, 5, 3), date(2025, 11, 12), "E2"),
        (date(2025, 5, 3), date(2025, 11, 12), "E1"),
        (date(2008, 4, 22), date(2026, 2, 11), "13"),
        (date(2004, 7, 30), date(2025, 9, 24), "X"),
    ],
)
def test_expected_nc_year(born: date, on: date, expected: str) -> None:
    assert v.expected_nc_year(born, on) == expected


def test_nc_year_for_age_allows_mixed_not_followed_and_overrides() -> None:
    born, on = date(2016, 1, 14), date(2025, 6, 18)
    assert v.check_nc_year_for_age("4", born, on) is None
    assert v.check_nc_year_for_age("M", born, on) is None
    assert v.check_nc_year_for_age("X", born, on) is None
    assert v.check_nc_year_for_age("3", born, on) is not None
    assert v.check_nc_year_for_age("3", born, on, "Held back a year after long illness") is None
    assert v.check_nc_year_for_age("3", born, on, "   ") is not None
    assert v.check_nc_year_for_age("Q", born, on) is not None
    assert v.nc_year_matches_age("N1", date(2022, 5, 3), date(2025, 11, 12))


def test_age_on_handles_birthdays_and_leap_days() -> None:
    assert v.age_on(date(2010, 6, 15), date(2024, 6, 14)) == 13
    assert v.age_on(date(2010, 6, 15), date(2024, 6, 15)) == 14
    assert v.age_on(date(2008, 2, 29), date(2024, 2, 28)) == 15
    assert v.age_on(date(2008, 2, 29), date(2024, 2, 29)) == 16


def test_dates_not_in_the_future() -> None:
    today = date(2026, 1, 1)
    assert v.check_not_future(today, today) is None
    assert v.check_not_future(date(2025, 12, 31), today) is None
    assert v.check_not_future(date(2026, 1, 2), today) is not None


@pytest.mark.parametrize("digit", ["\u0663", "\u00b3", "\uff13"])
def test_upn_with_non_ascii_digits_is_refused_not_crashed(digit: str) -> None:
    # str.isdigit() accepts Arabic-Indic, superscript and full-width digits; a UPN does not.
    message = v.check_upn("X00180001701A".replace("8", digit))
    assert message is not None
    assert "12 digits" in message
