"""The expression language: syntax, three-valued logic, every function, limits and hostility."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms import expressions as ex
from forms.errors import ExpressionError, FormError
from forms.expressions import MISSING

TODAY = date(2026, 11, 28)


def run(source: str, values: dict[str, Any] | None = None,
        item: dict[str, Any] | None = None) -> Any:
    return ex.evaluate(source, values, today=TODAY, item=item)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("7 / 2", 3.5),
        ("-3 + 1", -2),
        ("- - 3", 3),
        ("2.5 * 2", 5.0),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 4", False),
        ("3 >= 4", False),
        ("1 == 1.0", True),
        ("'a' == 'a'", True),
        ('"a" != "b"', True),
        ("'a' < 'b'", True),
        ("1 == 'a'", False),
        ("true == 1", False),
        ("1 != 'a'", True),
        ("true and false", False),
        ("true or false", True),
        ("not true", False),
        ("not 1 == 2", True),
        ("1 == 1 and 2 == 2 or false", True),
        ("false or false and true", False),
        ("1 / 0", MISSING),
    ],
)
def test_operators(source: str, expected: Any) -> None:
    result = run(source)
    assert result == expected or result is expected
    assert type(result) is type(expected)


def test_references_and_items() -> None:
    values = {"child.age": 15, "outcomes": [{"x": 1}, {"x": 2}]}
    assert run("child.age >= 14", values) is True
    assert run("count(outcomes)", values) == 2
    assert run("this.x + 1", values, item={"x": 4}) == 5
    assert run("this.y", values, item={"x": 4}) is MISSING
    assert run("this.x", values) is MISSING


def test_missing_answers_are_a_defined_value() -> None:
    assert run("a.b") is MISSING
    assert run("a.b + 1") is MISSING
    assert run("a.b > 1") is MISSING
    assert run("-a.b") is MISSING
    assert run("not a.b") is MISSING
    assert run("a.b and false") is False
    assert run("false and a.b") is False
    assert run("a.b and true") is MISSING
    assert run("a.b or true") is True
    assert run("a.b or false") is MISSING
    assert run("true or a.b") is True
    assert run("if(a.b, 1, 2)") is MISSING
    assert run("add_days(a.b, 1)") is MISSING
    assert bool(MISSING) is False
    assert repr(MISSING) == "MISSING"
    assert ex._Missing() is MISSING


DOB = date(2012, 3, 10)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("if(true, 1, 2)", 1),
        ("if(false, 1, 2)", 2),
        ("if(1 == 1, 'yes', 1 / 0)", "yes"),
        ("today()", TODAY),
        ("age_on(x.dob, date('2026-03-09'))", 13),
        ("age_on(x.dob, date('2026-03-10'))", 14),
        ("add_days(date('2025-12-30'), 3)", date(2026, 1, 2)),
        ("add_days(date('2025-01-10'), -10)", date(2024, 12, 31)),
        ("add_weeks(date('2025-01-01'), 6)", date(2025, 2, 12)),
        ("add_weeks(date('2025-01-01'), 20)", date(2025, 5, 21)),
        ("add_months(date('2025-01-31'), 1)", date(2025, 2, 28)),
        ("add_months(date('2024-01-31'), 1)", date(2024, 2, 29)),
        ("add_months(date('2025-11-15'), 12)", date(2026, 11, 15)),
        ("add_months(date('2025-03-15'), -3)", date(2024, 12, 15)),
        ("add_years(date('2024-02-29'), 1)", date(2025, 2, 28)),
        ("days_between(date('2025-01-01'), date('2025-02-01'))", 31),
        ("date('2025-09-01')", date(2025, 9, 1)),
        ("date('not a date')", MISSING),
        ("count(x.list)", 3),
        ("count(x.none)", 0),
        ("count_answered(x.items, 'a')", 1),
        ("count_answered(x.none, 'a')", 0),
        ("selected(x.code, 'E')", True),
        ("selected(x.code, 'K')", False),
        ("selected(x.list, 'b')", True),
        ("selected(x.list, 'z')", False),
        ("selected(x.none, 'E')", False),
        ("is_answered(x.code)", True),
        ("is_answered(x.none)", False),
        ("coalesce(x.none, x.code)", "E"),
        ("coalesce(x.none)", MISSING),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("max(date('2025-01-01'), date('2024-01-01'))", date(2025, 1, 1)),
        ("length('abcd')", 4),
        ("length(x.list)", 3),
        ("nc_year_number('9')", 9),
        ("nc_year_number('R')", 0),
        ("nc_year_number('N2')", -1),
        ("nc_year_number('X')", MISSING),
        ("nc_year_matches('9', x.dob, date('2025-10-01'))", True),
        ("nc_year_matches('8', x.dob, date('2025-10-01'))", False),
        ("expected_nc_year(x.dob, date('2025-10-01'))", "9"),
        # Turning 16 on 10 March 2028: the last Friday in June 2028 (Education Act 1996 s8).
        ("end_of_compulsory_school_age(x.dob)", date(2028, 6, 30)),
        ("make_date(2025, 2, 15)", date(2025, 2, 15)),
        ("make_date(2025, 2, 29)", MISSING),
        ("make_date(2024, 2, 29)", date(2024, 2, 29)),
        ("year_of(date('2025-09-01'))", 2025),
        ("count_where(x.items, 'a', 'E')", 0),
        ("count_where(x.coded, 'c', 'E')", 2),
        ("count_where(x.coded, 'm', 'b')", 1),
        ("count_where(x.none, 'c', 'E')", 0),
    ],
)
def test_functions(source: str, expected: Any) -> None:
    values = {"x.dob": DOB, "x.list": ("a", "b", "c"), "x.code": "E",
              "x.items": [{"a": 1}, {"a": MISSING}, {}],
              "x.coded": [{"c": "E"}, {"c": "K", "m": ("a", "b")}, {"c": "E"}, {}]}
    result = run(source, values)
    assert result == expected or result is expected


def test_date_arithmetic_out_of_range_is_missing() -> None:
    assert run("add_days(date('9999-12-31'), 1)") is MISSING
    assert run("add_weeks(date('0001-01-01'), -1)") is MISSING
    assert run("add_months(date('9999-12-01'), 1)") is MISSING
    assert run("add_years(date('0001-06-01'), -1)") is MISSING
    assert run("add_days(date('2025-01-01'), 999999999999999)") is MISSING


def test_is_entered_sees_typed_answers_even_when_invalid() -> None:
    # A mistyped UPN is MISSING as a value, yet something was typed (is_entered).
    ctx = ex.Context({"child.upn": MISSING}, TODAY, entered={"child.upn"})
    assert ex.parse("is_entered(child.upn)").evaluate(ctx) is True
    assert ex.parse("is_answered(child.upn)").evaluate(ctx) is False
    assert ex.parse("is_entered(child.uln)").evaluate(ctx) is False
    item_ctx = ex.Context({}, TODAY, item={"x": MISSING}, entered_item={"x"})
    assert ex.parse("is_entered(this.x)").evaluate(item_ctx) is True
    with pytest.raises(ExpressionError, match="needs an answer"):
        ex.parse("is_entered(1 + 1)")


def test_every_function_is_exercised_here() -> None:
    this_module = Path(__file__).read_text(encoding="utf-8")
    for name in ex.FUNCTIONS:
        assert f"{name}(" in this_module, name


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("", "expected a value"),
        ("1 +", "expected a value"),
        ("(1", "expected ')'"),
        ("1 2", "expected the end"),
        ("a = 1", "Use '=='"),
        ("'open", "not closed"),
        ("1 < 2 < 3", "cannot be chained"),
        ("foo(1)", "no function 'foo'"),
        ("if(1, 2)", "takes 3 argument"),
        ("today(1)", "takes 0 argument"),
        ("coalesce()", "takes 1 to 8"),
        ("__import__('os')", "underscore"),
        ("child.__class__", "underscore"),
        ("a._b", "underscore"),
        ("a.b.c", "section.question"),
        ("this", "'this' must be followed"),
        ("this.a.b", "'this' must be followed"),
        ("a.and", "expected a name"),
        ("a.", "expected a name"),
        ("and", "expected a value"),
        ("x[0]", "not allowed"),
        ("x ** 2", "expected a value"),
        ("1; 2", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("9" * 25, "too long"),
        ("9999999999999999", "too large"),
        ("'" + "a" * 600 + "'", "too long"),
        ("x" * 2001, "longer than 2000"),
        ("(" * 40 + "1" + ")" * 40, "nested"),
        ("-" * 40 + "1", "nested"),
        ("not " * 40 + "true", "nested"),
        ("+".join(["1"] * 300), "too long"),
        ("+".join(["1"] * 70), "nested"),
    ],
)
def test_syntax_errors_are_expression_errors(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        ex.parse(source)
    assert fragment in str(raised.value)
    assert isinstance(raised.value, FormError)


def test_non_text_expression_is_refused() -> None:
    with pytest.raises(ExpressionError):
        ex.parse(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "source",
    [
        "'a' + 1",
        "date('2025-01-01') * 2",
        "'a' < 1",
        "date('2025-01-01') < 3",
        "-'a'",
        "add_days('2025-01-01', 1)",
        "add_days(date('2025-01-01'), 1.5)",
        "age_on(1, 2)",
        "count(1)",
        "count_answered(1, 'a')",
        "count_answered(x.code, 1)",
        "selected(x.code, 1)",
        "min(1, 'a')",
        "length(1)",
        "nc_year_number(1)",
        "nc_year_matches(1, date('2020-01-01'), date('2025-01-01'))",
        "date(1)",
        "999999999999999 * 999999999999999",
        "999999999999999 + 999999999999999 - 1",
    ],
)
def test_type_mistakes_raise_expression_errors(source: str) -> None:
    with pytest.raises(ExpressionError):
        run(source, {"x.code": "E"})


def test_evaluation_budget_stops_runaway_evaluation() -> None:
    expression = ex.parse("1 + 1")
    ctx = ex.Context({}, TODAY, budget=5)
    assert expression.evaluate(ctx) == 2
    with pytest.raises(ExpressionError, match="too long to evaluate"):
        expression.evaluate(ctx)


def test_parse_reports_references_and_functions() -> None:
    expression = ex.parse("age_on(child.date_of_birth, today()) >= 14 and this.x")
    assert expression.references == {("child", "date_of_birth"), ("this", "x")}
    assert expression.functions == {"age_on", "today"}
    assert ex.parse(expression.source) is expression  # parsed once, then cached


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parser_only_ever_raises_its_own_error(source: str) -> None:
    with contextlib.suppress(ExpressionError):
        ex.parse(source)


_ATOMS = st.sampled_from(["1", "0", "2.5", "'E'", "true", "false", "a.b", "this.x", "today()",
                          "date('2025-01-01')", "x.list"])
_OPS = st.sampled_from([" + ", " - ", " * ", " / ", " == ", " != ", " < ", " and ", " or "])


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 4 or draw(st.booleans()):
        return draw(_ATOMS)
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return f"({draw(_expressions(depth + 1))}{draw(_OPS)}{draw(_expressions(depth + 1))})"
    if kind == 1:
        return f"not ({draw(_expressions(depth + 1))})"
    if kind == 2:
        name = draw(st.sampled_from(["if", "coalesce", "is_answered", "count", "selected",
                                     "add_days", "max"]))
        arity = {"if": 3, "coalesce": 2, "is_answered": 1, "count": 1, "selected": 2,
                 "add_days": 2, "max": 2}[name]
        args = ", ".join(draw(_expressions(depth + 1)) for _ in range(arity))
        return f"{name}({args})"
    return f"-({draw(_expressions(depth + 1))})"


@settings(max_examples=300, deadline=None)
@given(_expressions(), st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3)))
def test_evaluation_terminates_with_a_value_or_its_own_error(source: str, answer: Any) -> None:
    values = {"a.b": answer if answer is not None else MISSING, "x.list": ("E",)}
    with contextlib.suppress(ExpressionError):
        ex.parse(source).evaluate(ex.Context(values, TODAY, {"x": 1}))
