"""The small, safe expression language of form definitions: tokenizer, parser and evaluator.

Expressions decide visibility, requirement, constraints and computed values. They are parsed
into a syntax tree by hand and evaluated by walking it: nothing is ever passed to ``eval``.
The language has no loops, no recursion, no attribute access and no names other than answer
references and a fixed set of functions, and every input is bounded (source length, node
count, nesting depth, number size, an evaluation budget), so a hostile definition can neither
exhaust the stack nor spin the CPU.

A missing answer is the value ``MISSING``. It is falsy; arithmetic, comparisons and most
functions given it return it; ``and``/``or``/``not`` follow three-valued logic (``false and
missing`` is false, ``true or missing`` is true). The engine treats a constraint as broken
only when it is definitely false, so a rule about an unanswered question never fires.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, NoReturn

from forms import validators
from forms.errors import ExpressionError

MAX_SOURCE_LENGTH: Final = 2000
MAX_NODES: Final = 400
MAX_DEPTH: Final = 32
MAX_MAGNITUDE: Final = 10**15
MAX_STRING_LENGTH: Final = 500
DEFAULT_BUDGET: Final = 1_000_000


class _Missing:
    """The value of an unanswered (or hidden, or invalid) question."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass
class Context:
    """What an evaluation can see: effective answers, the current repeat item and today."""

    values: dict[str, Any]
    today: date
    item: dict[str, Any] | None = None
    budget: int = DEFAULT_BUDGET
    # Answers something was typed for, even when it is not valid (see ``is_entered``).
    entered: frozenset[str] | set[str] = frozenset()
    entered_item: frozenset[str] | set[str] = frozenset()


# --- tokens -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<number>[0-9]+(?:\.[0-9]+)?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|,|\.)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "true", "false", "this"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "number", "string", "name", "op" or "end"
    text: str
    position: int


def tokenize(source: str) -> list[Token]:
    """Split source into tokens, refusing anything outside the language."""
    if not isinstance(source, str):
        raise ExpressionError("An expression must be text.")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"The expression is longer than {MAX_SOURCE_LENGTH} characters.")
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            char = source[position]
            if char == "=":
                raise ExpressionError(f"Use '==' to compare, at position {position + 1}.")
            if char in "'\"":
                raise ExpressionError(f"A text value is not closed, at position {position + 1}.")
            raise ExpressionError(
                f"The character {char!r} is not allowed in an expression, "
                f"at position {position + 1}."
            )
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "name" and text.startswith("_"):
            raise ExpressionError(
                f"Names cannot start with an underscore, at position {position + 1}."
            )
        if kind == "number" and len(text) > 20:
            raise ExpressionError(f"The number at position {position + 1} is too long.")
        if kind == "string" and len(text) - 2 > MAX_STRING_LENGTH:
            raise ExpressionError(f"The text at position {position + 1} is too long.")
        if kind != "space":
            tokens.append(Token(kind, text, position))
        position = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


# --- syntax tree ------------------------------------------------------------------------


class Node:
    """A node of the syntax tree."""

    __slots__ = ()

    def evaluate(self, ctx: Context) -> Any:
        raise NotImplementedError

    def children(self) -> Sequence[Node]:
        return ()


class Literal(Node):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, ctx: Context) -> Any:
        return self.value


class Reference(Node):
    """An answer: ``section.question``, a repeatable ``section``, or ``this.question``."""

    __slots__ = ("in_item", "key", "parts")

    def __init__(self, parts: tuple[str, ...]) -> None:
        self.parts = parts
        self.in_item = parts[0] == "this"
        self.key = parts[1] if self.in_item else ".".join(parts)

    def evaluate(self, ctx: Context) -> Any:
        if self.in_item:
            if ctx.item is None:
                return MISSING
            return ctx.item.get(self.key, MISSING)
        return ctx.values.get(self.key, MISSING)


class Not(Node):
    __slots__ = ("operand",)

    def __init__(self, operand: Node) -> None:
        self.operand = operand

    def evaluate(self, ctx: Context) -> Any:
        value = self.operand.evaluate(ctx)
        if value is MISSING:
            return MISSING
        return not _truth(value)

    def children(self) -> Sequence[Node]:
        return (self.operand,)


class Negate(Node):
    __slots__ = ("operand",)

    def __init__(self, operand: Node) -> None:
        self.operand = operand

    def evaluate(self, ctx: Context) -> Any:
        value = self.operand.evaluate(ctx)
        if value is MISSING:
            return MISSING
        return -_number(value, "'-'")

    def children(self) -> Sequence[Node]:
        return (self.operand,)


class Logical(Node):
    """``and`` / ``or`` with short circuit and three-valued logic."""

    __slots__ = ("is_and", "left", "right")

    def __init__(self, is_and: bool, left: Node, right: Node) -> None:
        self.is_and = is_and
        self.left = left
        self.right = right

    def evaluate(self, ctx: Context) -> Any:
        left = self.left.evaluate(ctx)
        if left is not MISSING and _truth(left) != self.is_and:
            return not self.is_and
        right = self.right.evaluate(ctx)
        if right is not MISSING and _truth(right) != self.is_and:
            return not self.is_and
        if left is MISSING or right is MISSING:
            return MISSING
        return self.is_and

    def children(self) -> Sequence[Node]:
        return (self.left, self.right)


def truth(value: Any) -> bool:
    """Whether a value counts as true (MISSING does not)."""
    return value is not MISSING and _truth(value)


def _truth(value: Any) -> bool:
    return bool(value) and value is not MISSING


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any, where: str) -> int | float:
    if not _is_number(value):
        raise ExpressionError(f"{where} needs numbers.")
    checked: int | float = value
    return checked


def _bounded(value: int | float) -> int | float:
    if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        raise ExpressionError("A number in the expression is too large.")
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("==", "!="):
        same_kind = (_is_number(left) and _is_number(right)) or type(left) is type(right)
        equal = same_kind and left == right
        return equal if op == "==" else not equal
    comparable = (
        (_is_number(left) and _is_number(right))
        or (isinstance(left, str) and isinstance(right, str))
        or (isinstance(left, date) and isinstance(right, date))
    )
    if not comparable:
        raise ExpressionError(f"'{op}' can only compare two numbers, two dates or two texts.")
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


class Binary(Node):
    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Node, right: Node) -> None:
        self.op = op
        self.left = left
        self.right = right

    def evaluate(self, ctx: Context) -> Any:
        left = self.left.evaluate(ctx)
        right = self.right.evaluate(ctx)
        if left is MISSING or right is MISSING:
            return MISSING
        op = self.op
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return _compare(op, left, right)
        a = _number(left, f"'{op}'")
        b = _number(right, f"'{op}'")
        if op == "+":
            return _bounded(a + b)
        if op == "-":
            return _bounded(a - b)
        if op == "*":
            return _bounded(a * b)
        if b == 0:
            return MISSING
        return _bounded(a / b)

    def children(self) -> Sequence[Node]:
        return (self.left, self.right)


class Call(Node):
    __slots__ = ("args", "function", "name")

    def __init__(self, name: str, args: tuple[Node, ...]) -> None:
        self.name = name
        self.args = args
        self.function = FUNCTIONS[name]

    def evaluate(self, ctx: Context) -> Any:
        if self.name == "is_entered":
            ref = self.args[0]
            assert isinstance(ref, Reference)  # the parser allows nothing else
            if ref.in_item:
                return ctx.item is not None and ref.key in ctx.entered_item
            return ref.key in ctx.entered
        if self.name == "if":
            condition = self.args[0].evaluate(ctx)
            if condition is MISSING:
                return MISSING
            return (self.args[1] if _truth(condition) else self.args[2]).evaluate(ctx)
        values = [arg.evaluate(ctx) for arg in self.args]
        return self.function.call(ctx, values)

    def children(self) -> Sequence[Node]:
        return self.args


# --- functions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A function of the language: its arity, and whether MISSING arguments short-circuit."""

    min_args: int
    max_args: int
    impl: Callable[..., Any]
    takes_missing: bool = False
    description: str = ""

    def call(self, ctx: Context, values: list[Any]) -> Any:
        if not self.takes_missing and any(value is MISSING for value in values):
            return MISSING
        return self.impl(ctx, *values)


def _date(value: Any, function: str) -> date:
    if not isinstance(value, date):
        raise ExpressionError(f"{function}() needs a date.")
    return value


def _int(value: Any, function: str) -> int:
    if not _is_number(value) or value != int(value):
        raise ExpressionError(f"{function}() needs a whole number.")
    return int(_bounded(value))


def _add_days(_ctx: Context, day: Any, n: Any) -> Any:
    try:
        return _date(day, "add_days") + timedelta(days=_int(n, "add_days"))
    except OverflowError:
        return MISSING


def _add_weeks(_ctx: Context, day: Any, n: Any) -> Any:
    try:
        return _date(day, "add_weeks") + timedelta(weeks=_int(n, "add_weeks"))
    except OverflowError:
        return MISSING


def add_months(day: date, months: int) -> date | None:
    """The same day some months later, clamped to the month's end; None when out of range."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _add_months(_ctx: Context, day: Any, n: Any) -> Any:
    result = add_months(_date(day, "add_months"), _int(n, "add_months"))
    return MISSING if result is None else result


def _add_years(_ctx: Context, day: Any, n: Any) -> Any:
    months = _int(n, "add_years") * 12
    result = add_months(_date(day, "add_years"), months)
    return MISSING if result is None else result


def _age_on(_ctx: Context, born: Any, on: Any) -> Any:
    return validators.age_on(_date(born, "age_on"), _date(on, "age_on"))


def _days_between(_ctx: Context, start: Any, end: Any) -> Any:
    return (_date(end, "days_between") - _date(start, "days_between")).days


def _today(ctx: Context) -> Any:
    return ctx.today


def _to_date(_ctx: Context, text: Any) -> Any:
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise ExpressionError("date() needs text such as '2025-09-01'.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        return MISSING


def _count(_ctx: Context, group: Any) -> Any:
    if group is MISSING:
        return 0
    if isinstance(group, list | tuple):
        return len(group)
    raise ExpressionError("count() needs a repeating group or a multiple choice answer.")


def _count_answered(_ctx: Context, group: Any, name: Any) -> Any:
    if not isinstance(name, str):
        raise ExpressionError("count_answered() needs a question name as text, such as 'area'.")
    if group is MISSING:
        return 0
    if not isinstance(group, list | tuple):
        raise ExpressionError("count_answered() needs a repeating section or group.")
    return sum(
        1 for item in group if isinstance(item, dict) and item.get(name, MISSING) is not MISSING
    )


def _selected(_ctx: Context, answer: Any, code: Any) -> Any:
    if answer is MISSING:
        return False
    if not isinstance(code, str):
        raise ExpressionError("selected() needs a code as text, such as 'E'.")
    if isinstance(answer, list | tuple):
        return code in answer
    return answer == code


def _is_answered(_ctx: Context, value: Any) -> Any:
    return value is not MISSING


def _coalesce(_ctx: Context, *values: Any) -> Any:
    for value in values:
        if value is not MISSING:
            return value
    return MISSING


def _extreme(name: str, pick: Callable[..., Any]) -> Callable[..., Any]:
    def impl(_ctx: Context, *values: Any) -> Any:
        numbers = all(_is_number(v) for v in values)
        dates = all(isinstance(v, date) for v in values)
        if not (numbers or dates):
            raise ExpressionError(f"{name}() needs all numbers or all dates.")
        return pick(values)

    return impl


def _length(_ctx: Context, value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        return len(value)
    raise ExpressionError("length() needs text or a list.")


def _nc_year_number(_ctx: Context, code: Any) -> Any:
    if not isinstance(code, str):
        raise ExpressionError("nc_year_number() needs a year group code.")
    if code.isdigit():
        return int(code)
    if code == "R":
        return 0
    if code in validators.EARLY_YEARS_NC_CODES:
        return -1
    return MISSING


def _nc_year_matches(_ctx: Context, code: Any, born: Any, on: Any) -> Any:
    if not isinstance(code, str):
        raise ExpressionError("nc_year_matches() needs a year group code.")
    return validators.nc_year_matches_age(
        code, _date(born, "nc_year_matches"), _date(on, "nc_year_matches")
    )


def _expected_nc_year(_ctx: Context, born: Any, on: Any) -> Any:
    name = "expected_nc_year"
    return validators.expected_nc_year(_date(born, name), _date(on, name))


def _end_of_compulsory_school_age(_ctx: Context, born: Any) -> Any:
    return validators.end_of_compulsory_school_age(_date(born, "end_of_compulsory_school_age"))


def _make_date(_ctx: Context, year: Any, month: Any, day: Any) -> Any:
    try:
        return date(_int(year, "make_date"), _int(month, "make_date"), _int(day, "make_date"))
    except ValueError:
        return MISSING


def _year_of(_ctx: Context, day: Any) -> Any:
    return _date(day, "year_of").year


def _count_where(_ctx: Context, group: Any, name: Any, code: Any) -> Any:
    if not isinstance(name, str) or not isinstance(code, str):
        raise ExpressionError("count_where() needs a question name and a code as text, such "
                              "as count_where(advice, 'role', 'medical').")
    if group is MISSING:
        return 0
    if not isinstance(group, list | tuple):
        raise ExpressionError("count_where() needs a repeating section or group.")
    return sum(
        1 for item in group
        if isinstance(item, dict) and _selected(_ctx, item.get(name, MISSING), code) is True
    )


def _if_placeholder(_ctx: Context, *_values: Any) -> Any:  # pragma: no cover - handled in Call
    raise AssertionError


FUNCTIONS: Final[dict[str, Function]] = {
    "if": Function(3, 3, _if_placeholder, True, "if(condition, then, otherwise)"),
    "today": Function(0, 0, _today, False, "today(): the date the form is checked"),
    "age_on": Function(2, 2, _age_on, False, "age_on(date_of_birth, on): age in whole years"),
    "add_days": Function(2, 2, _add_days, False, "add_days(date, n)"),
    "add_weeks": Function(2, 2, _add_weeks, False, "add_weeks(date, n)"),
    "add_months": Function(2, 2, _add_months, False, "add_months(date, n), clamped to month end"),
    "add_years": Function(2, 2, _add_years, False, "add_years(date, n)"),
    "days_between": Function(2, 2, _days_between, False, "days_between(start, end)"),
    "date": Function(1, 1, _to_date, False, "date('2025-09-01')"),
    "count": Function(1, 1, _count, True, "count(group): items, or codes chosen"),
    "count_answered": Function(2, 2, _count_answered, True,
                               "count_answered(group, 'question'): items answering it"),
    "selected": Function(2, 2, _selected, True, "selected(answer, code)"),
    "is_answered": Function(1, 1, _is_answered, True, "is_answered(answer)"),
    "coalesce": Function(1, 8, _coalesce, True, "coalesce(a, b, ...): the first answered"),
    "min": Function(1, 8, _extreme("min", min), False, "min(a, b, ...)"),
    "max": Function(1, 8, _extreme("max", max), False, "max(a, b, ...)"),
    "length": Function(1, 1, _length, False, "length(text or list)"),
    "nc_year_number": Function(1, 1, _nc_year_number, False, "nc_year_number(code): R is 0"),
    "nc_year_matches": Function(3, 3, _nc_year_matches, False, "nc_year_matches(code, dob, on)"),
    "expected_nc_year": Function(2, 2, _expected_nc_year, False, "expected_nc_year(dob, on)"),
    "end_of_compulsory_school_age": Function(
        1, 1, _end_of_compulsory_school_age, False,
        "end_of_compulsory_school_age(dob): the last Friday in June of the school year in "
        "which they turn 16"),
    "make_date": Function(3, 3, _make_date, False, "make_date(year, month, day)"),
    "year_of": Function(1, 1, _year_of, False, "year_of(date): its calendar year"),
    "count_where": Function(3, 3, _count_where, True,
                            "count_where(group, 'question', 'CODE'): items that chose the code"),
    "is_entered": Function(1, 1, _if_placeholder, True,
                           "is_entered(section.question): something was typed, valid or not"),
}


# --- parser -----------------------------------------------------------------------------

_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0
        self.nodes = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "name") and token.text == text:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(f"expected '{text}'")

    def fail(self, what: str) -> NoReturn:
        token = self.peek()
        found = "the end" if token.kind == "end" else f"'{token.text}'"
        raise ExpressionError(f"The expression is not valid: {what} but found {found}, "
                              f"at position {token.position + 1}.")

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"The expression is too long (more than {MAX_NODES} parts).")
        return node

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"The expression is nested more than {MAX_DEPTH} levels deep.")

    def parse(self) -> Node:
        root = self.expression()
        if self.peek().kind != "end":
            self.fail("expected the end of the expression")
        return root

    def expression(self) -> Node:
        self.enter()
        left = self.conjunction()
        while self.accept("or"):
            left = self.node(Logical(False, left, self.conjunction()))
        self.depth -= 1
        return left

    def conjunction(self) -> Node:
        left = self.negation()
        while self.accept("and"):
            left = self.node(Logical(True, left, self.negation()))
        return left

    def negation(self) -> Node:
        if self.accept("not"):
            self.enter()
            operand = self.negation()
            self.depth -= 1
            return self.node(Not(operand))
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.advance()
            left = self.node(Binary(token.text, left, self.additive()))
            following = self.peek()
            if following.kind == "op" and following.text in _COMPARISONS:
                self.fail("comparisons cannot be chained, use 'and'")
        return left

    def additive(self) -> Node:
        left = self.multiplicative()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.advance().text
            left = self.node(Binary(op, left, self.multiplicative()))
        return left

    def multiplicative(self) -> Node:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/"):
            op = self.advance().text
            left = self.node(Binary(op, left, self.unary()))
        return left

    def unary(self) -> Node:
        if self.accept("-"):
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return self.node(Negate(operand))
        return self.primary()

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            value: int | float = float(token.text) if "." in token.text else int(token.text)
            if value > MAX_MAGNITUDE:
                raise ExpressionError(
                    f"The number at position {token.position + 1} is too large."
                )
            return self.node(Literal(value))
        if token.kind == "string":
            self.advance()
            return self.node(Literal(token.text[1:-1]))
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "name":
            return self.name()
        self.fail("expected a value, an answer or a function")

    def name(self) -> Node:
        token = self.advance()
        if token.text == "true":
            return self.node(Literal(True))
        if token.text == "false":
            return self.node(Literal(False))
        if token.text in ("and", "or", "not"):
            self.index -= 1
            self.fail("expected a value")
        if self.peek().kind == "op" and self.peek().text == "(":
            return self.call(token)
        parts = [token.text]
        while self.accept("."):
            part = self.advance()
            if part.kind != "name" or part.text in _KEYWORDS:
                self.index -= 1
                self.fail("expected a name after '.'")
            parts.append(part.text)
        if parts[0] == "this" and len(parts) != 2:
            raise ExpressionError(
                f"'this' must be followed by one question name, at position {token.position + 1}."
            )
        if len(parts) > 2:
            raise ExpressionError(
                f"An answer is named 'section.question', at position {token.position + 1}."
            )
        return self.node(Reference(tuple(parts)))

    def call(self, token: Token) -> Node:
        function = FUNCTIONS.get(token.text)
        if function is None:
            raise ExpressionError(
                f"There is no function '{token.text}', at position {token.position + 1}."
            )
        self.expect("(")
        self.enter()
        args: list[Node] = []
        if not self.accept(")"):
            args.append(self.expression())
            while self.accept(","):
                args.append(self.expression())
            self.expect(")")
        self.depth -= 1
        if not function.min_args <= len(args) <= function.max_args:
            expected = (
                str(function.min_args)
                if function.min_args == function.max_args
                else f"{function.min_args} to {function.max_args}"
            )
            raise ExpressionError(
                f"{token.text}() takes {expected} argument(s), not {len(args)}, "
                f"at position {token.position + 1}."
            )
        if token.text == "is_entered" and not isinstance(args[0], Reference):
            raise ExpressionError(
                f"is_entered() needs an answer such as child.upn, at position "
                f"{token.position + 1}."
            )
        return self.node(Call(token.text, tuple(args)))


def _tree_depth(root: Node) -> int:
    deepest = 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children())
    return deepest



Compiled = Callable[[Context], Any]


def _compile(node: Node) -> Compiled:
    """The node as a Python closure that does what its ``evaluate`` does, step for step (the
    same order, the same errors), without walking the tree again; never ``eval``."""
    if isinstance(node, Literal):
        value = node.value
        return lambda _ctx: value
    if isinstance(node, Reference):
        key = node.key
        if node.in_item:
            def in_item(ctx: Context) -> Any:
                item = ctx.item
                return MISSING if item is None else item.get(key, MISSING)
            return in_item
        return lambda ctx: ctx.values.get(key, MISSING)
    if isinstance(node, Not | Negate):
        return _compile_unary(node)
    if isinstance(node, Logical):
        return _compile_logical(node)
    if isinstance(node, Binary):
        return _compile_binary(node)
    if isinstance(node, Call):
        return _compile_call(node)
    return node.evaluate  # pragma: no cover - every node of the parser is handled above


def _compile_unary(node: Not | Negate) -> Compiled:
    operand = _compile(node.operand)
    if isinstance(node, Not):
        def negation(ctx: Context) -> Any:
            value = operand(ctx)
            return MISSING if value is MISSING else not _truth(value)
        return negation

    def minus(ctx: Context) -> Any:
        value = operand(ctx)
        return MISSING if value is MISSING else -_number(value, "'-'")
    return minus


def _compile_logical(node: Logical) -> Compiled:
    left, right, is_and = _compile(node.left), _compile(node.right), node.is_and

    def logical(ctx: Context) -> Any:
        a = left(ctx)
        if a is not MISSING and _truth(a) != is_and:
            return not is_and
        b = right(ctx)
        if b is not MISSING and _truth(b) != is_and:
            return not is_and
        if a is MISSING or b is MISSING:
            return MISSING
        return is_and
    return logical


def _compile_binary(node: Binary) -> Compiled:
    left, right, op = _compile(node.left), _compile(node.right), node.op
    if op in _COMPARISONS:
        def comparison(ctx: Context) -> Any:
            a = left(ctx)
            b = right(ctx)
            if a is MISSING or b is MISSING:
                return MISSING
            return _compare(op, a, b)
        return comparison
    where = f"'{op}'"

    def arithmetic(ctx: Context) -> Any:
        a = left(ctx)
        b = right(ctx)
        if a is MISSING or b is MISSING:
            return MISSING
        x = _number(a, where)
        y = _number(b, where)
        if op == "+":
            return _bounded(x + y)
        if op == "-":
            return _bounded(x - y)
        if op == "*":
            return _bounded(x * y)
        if y == 0:
            return MISSING
        return _bounded(x / y)
    return arithmetic


def _compile_call(node: Call) -> Compiled:
    args = tuple(_compile(arg) for arg in node.args)
    if node.name == "is_entered":
        ref = node.args[0]
        assert isinstance(ref, Reference)  # the parser allows nothing else
        key = ref.key
        if ref.in_item:
            return lambda ctx: ctx.item is not None and key in ctx.entered_item
        return lambda ctx: key in ctx.entered
    if node.name == "if":
        condition, then, otherwise = args

        def choose(ctx: Context) -> Any:
            value = condition(ctx)
            if value is MISSING:
                return MISSING
            return (then if _truth(value) else otherwise)(ctx)
        return choose
    if node.name == "selected" and isinstance(node.args[1], Literal) and isinstance(
            node.args[1].value, str):
        answer, code = args[0], node.args[1].value  # the common case, without the call
        first = node.args[0]
        if isinstance(first, Reference) and not first.in_item:
            key = first.key

            def selected_answer(ctx: Context) -> Any:
                value = ctx.values.get(key, MISSING)
                if value is MISSING:
                    return False
                if isinstance(value, list | tuple):
                    return code in value
                return value == code
            return selected_answer

        def selected(ctx: Context) -> Any:
            value = answer(ctx)
            if value is MISSING:
                return False
            if isinstance(value, list | tuple):
                return code in value
            return value == code
        return selected
    if node.name == "is_answered":
        (answered,) = args
        return lambda ctx: answered(ctx) is not MISSING
    if node.name == "coalesce" and all(
            isinstance(arg, Literal) or (isinstance(arg, Reference) and not arg.in_item)
            for arg in node.args):
        # Answers and constants only: nothing to raise, so the first answered one will do.
        parts = tuple((arg.key, MISSING) if isinstance(arg, Reference) else (None, arg.value)
                      for arg in node.args if isinstance(arg, Reference | Literal))

        def coalesce(ctx: Context) -> Any:
            values = ctx.values
            for key, constant in parts:
                value = constant if key is None else values.get(key, MISSING)
                if value is not MISSING:
                    return value
            return MISSING
        return coalesce
    impl, takes_missing = node.function.impl, node.function.takes_missing

    def call(ctx: Context) -> Any:
        values = [arg(ctx) for arg in args]
        if not takes_missing and any(value is MISSING for value in values):
            return MISSING
        return impl(ctx, *values)
    return call


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source, syntax tree, size and the answers it refers to."""

    source: str
    root: Node
    size: int
    references: frozenset[tuple[str, ...]] = field(default=frozenset())
    functions: frozenset[str] = field(default=frozenset())

    @functools.cached_property
    def compiled(self) -> Compiled:
        """The tree as closures, built once per expression (parse caches expressions)."""
        return _compile(self.root)

    def evaluate(self, ctx: Context) -> Any:
        """Evaluate against a context; raises ExpressionError for a type mistake or overrun."""
        ctx.budget -= self.size
        if ctx.budget < 0:
            raise ExpressionError("The form's rules took too long to evaluate.")
        return self.compiled(ctx)

    def nodes(self) -> list[Node]:
        """Every node of the tree, root first."""
        found: list[Node] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(node.children())
        return found


_CACHE: dict[str, Expression] = {}


def parse(source: str) -> Expression:
    """Parse an expression, raising ExpressionError (and nothing else) when it is not valid."""
    cached = _CACHE.get(source) if isinstance(source, str) else None
    if cached is not None:
        return cached
    parser = _Parser(source)
    root = parser.parse()
    # A long chain such as 1+1+...+1 is shallow to parse but deep as a tree; bound both.
    if _tree_depth(root) > 2 * MAX_DEPTH:
        raise ExpressionError(f"The expression is nested more than {2 * MAX_DEPTH} levels deep.")
    expression = Expression(source, root, parser.nodes)
    nodes = expression.nodes()
    expression = Expression(
        source,
        root,
        parser.nodes,
        frozenset(n.parts for n in nodes if isinstance(n, Reference)),
        frozenset(n.name for n in nodes if isinstance(n, Call)),
    )
    if len(_CACHE) < 10_000:
        _CACHE[source] = expression
    return expression


def evaluate(source: str, values: dict[str, Any] | None = None, *,
             today: date, item: dict[str, Any] | None = None) -> Any:
    """Parse and evaluate in one step, for tests and the command line."""
    return parse(source).evaluate(Context(values or {}, today, item))
