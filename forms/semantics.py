"""The checks of a form definition that its schema cannot make: every expression names answers
the form asks and codes their lists hold, item functions name real fields, a required
question can be shown, and migrations land answers on questions of this version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from forms.errors import ExpressionError
from forms.expressions import MISSING, Binary, Call, Context, Expression, Literal, Reference
from forms.model import FormDefinition, Question, Section, version_tuple
from forms.paths import parse_answer_path

_EPOCH = date(2000, 1, 1)


def _expressions_of(question: Question) -> Iterator[tuple[str, Expression]]:
    named = (
        ("visible_if", question.visible_if),
        ("required_if", question.required_if),
        ("min_date", question.min_date),
        ("max_date", question.max_date),
        ("expression", question.expression),
    )
    for name, expression in named:
        if expression is not None:
            yield f"{question.pointer}/{name}", expression
    for index, constraint in enumerate(question.constraints):
        yield f"{question.pointer}/constraints/{index}/check", constraint.check



class Semantics:
    """Checks of references, codes and reachability across the whole definition."""

    def __init__(self, definition: FormDefinition, problem: Callable[[str, str], None]) -> None:
        self.definition = definition
        self.problem = problem  # where each problem found goes: (JSON pointer, message)

    def check(self) -> None:
        for section in self.definition.sections:
            if section.visible_if is not None:
                self.expression(f"{section.pointer}/visible_if", section.visible_if, None)
                self.reachable(section.pointer, section.visible_if, section.questions)
            # A section's own rules judge it as a whole, so 'this' has no item to name.
            for index, constraint in enumerate(section.constraints):
                self.expression(f"{section.pointer}/constraints/{index}/check",
                                constraint.check, None)
            siblings = section.by_id if section.repeat else None
            for question in section.questions:
                self.question(question, siblings)
        self.deadlines()
        self.migrations()

    def deadlines(self) -> None:
        """A deadline's rules name answers of the form; with 'each', a repeating section."""
        for deadline in self.definition.deadlines:
            siblings = None
            if deadline.each is not None:
                section = self.definition.sections_by_id.get(deadline.each)
                if section is None or not section.repeat:
                    self.problem(f"{deadline.pointer}/each",
                                         f"'{deadline.each}' is not a repeating section")
                    continue
                siblings = section.by_id
            for name, expression in (("due", deadline.due), ("applies_if", deadline.applies_if)):
                if expression is not None:
                    self.expression(f"{deadline.pointer}/{name}", expression, siblings)

    def migrations(self) -> None:
        """Rules must land answers on questions this version asks, with codes it knows."""
        for index, migration in enumerate(self.definition.migrations):
            if version_tuple(migration["from_version"]) >= self.definition.version_tuple:
                self.problem(f"/migrations/{index}/from_version",
                             "a migration must come from an earlier version")
            for number, rule in enumerate(migration["rules"]):
                pointer = f"/migrations/{index}/rules/{number}"
                target = rule.get("to") or rule.get("default") or rule.get("remap")
                if target is None:
                    continue
                parsed = parse_answer_path(target)
                section = self.definition.sections_by_id.get(parsed.section) if parsed else None
                question = section.by_id.get(parsed.question or "") if section and parsed \
                    else None
                if question is None:
                    self.problem(pointer, f"'{target}' is not a question of this form")
                elif "remap" in rule:
                    codes = self.definition.code_lists.get(question.code_list or "")
                    known = set(codes.by_code) if codes else set()
                    unknown = sorted(set(rule["codes"].values()) - known)
                    if unknown:
                        self.problem(
                            pointer, f"'{unknown[0]}' is not a code of the question's list"
                        )

    def question(self, question: Question, siblings: dict[str, Question] | None) -> None:
        for pointer, expression in _expressions_of(question):
            self.expression(pointer, expression, siblings)
        if question.visible_if is not None:
            self.reachable(question.pointer, question.visible_if, (question,))
        if question.choices_from is not None:
            self.choices_from(question)
        if question.is_group:
            inner = {q.id: q for q in question.questions}
            for sub in question.questions:
                self.question(sub, inner)

    def choices_from(self, question: Question) -> None:
        target = question.choices_from or ""
        parsed = parse_answer_path(target)
        section = self.definition.sections_by_id.get(parsed.section) if parsed else None
        group_id = parsed.question if parsed else None
        ok = parsed is not None and parsed.item is None and section is not None and (
            (not group_id and section.repeat)
            or (bool(group_id) and group_id in section.by_id and section.by_id[group_id].is_group)
        )
        if not ok:
            self.problem(
                f"{question.pointer}/choices_from",
                f"'{target}' is not a repeating section or group",
            )

    def reachable(
        self, pointer: str, expression: Expression, questions: tuple[Question, ...]
    ) -> None:
        """A required question whose visibility rule is always false can never be answered."""
        if expression.references or "today" in expression.functions:
            return
        try:
            shown = expression.evaluate(Context({}, _EPOCH))
        except ExpressionError:
            return
        if shown is MISSING or not shown:
            required = [q for q in questions if q.required]
            if required:
                self.problem(
                    f"{pointer}/visible_if",
                    "this rule is never true, so a required question can never be shown",
                )

    def expression(
        self, pointer: str, expression: Expression, siblings: dict[str, Question] | None
    ) -> None:
        for ref in sorted(expression.references):
            target = self.resolve(ref, siblings)
            if target is None:
                self.problem(pointer, f"'{'.'.join(ref)}' is not a question of this form")
        for node in expression.nodes():
            self.codes(pointer, node, siblings)

    def resolve(
        self, ref: tuple[str, ...], siblings: dict[str, Question] | None
    ) -> Question | Section | None:
        if ref[0] == "this":
            return None if siblings is None else siblings.get(ref[1])
        section = self.definition.sections_by_id.get(ref[0])
        if section is None:
            return None
        if len(ref) == 1:
            return section if section.repeat else None
        if section.repeat:
            return None
        return section.by_id.get(ref[1])

    def codes(self, pointer: str, node: Any, siblings: dict[str, Question] | None) -> None:
        """A rule that compares a coded answer with a code not in its list can never be true."""
        if isinstance(node, Call) and node.name in ("count_answered", "count_where"):
            self.item_field(pointer, node, siblings)
        pairs: list[tuple[Any, Any]] = []
        if isinstance(node, Call) and node.name == "selected":
            pairs.append((node.args[0], node.args[1]))
        if isinstance(node, Binary) and node.op in ("==", "!="):
            pairs += [(node.left, node.right), (node.right, node.left)]
        for ref, literal in pairs:
            if not (isinstance(ref, Reference) and isinstance(literal, Literal)):
                continue
            target = self.resolve(ref.parts, siblings)
            if not isinstance(target, Question) or target.code_list is None:
                continue
            codes = self.definition.code_lists.get(target.code_list)
            if codes is not None and literal.value not in codes.by_code:
                self.problem(
                    pointer,
                    f"'{literal.value}' is not a code of the list '{target.code_list}'",
                )


    def item_field(self, pointer: str, node: Call, siblings: dict[str, Question] | None) -> None:
        group, name = node.args[0], node.args[1]
        function = node.name
        target = self.resolve(group.parts, siblings) if isinstance(group, Reference) else None
        if isinstance(target, Section) and target.repeat:
            fields = set(target.by_id)
        elif isinstance(target, Question) and target.is_group:
            fields = {q.id for q in target.questions}
        else:
            self.problem(pointer, f"{function}() needs a repeating section or group")
            return
        if not isinstance(name, Literal) or name.value not in fields:
            self.problem(pointer, f"{function}() needs the name of a question "
                                 "in that section or group, in quotes")
            return
        if function == "count_where":
            inner = target.by_id if isinstance(target, Section) else {
                q.id: q for q in target.questions}
            question = inner[name.value]
            code = node.args[2]
            codes = self.definition.code_lists.get(question.code_list or "")
            if codes is None or not isinstance(code, Literal) or code.value not in codes.by_code:
                self.problem(pointer, "count_where() needs a code of that question's "
                                     "list, in quotes")

