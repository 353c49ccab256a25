"""The errors forms raises for bad definitions, answers files and expressions.

Every message is one sentence that names the file or path and what is wrong. A message never
quotes an answer, because answers are a child's personal data.
"""

from __future__ import annotations


class UserError(Exception):
    """The root of every error that is told to the user as one sentence (its message), with
    no traceback: a fault of the input or of the environment, never a bug in OneSEND.

    The forms package's errors (FormError) and the application's (desktop.errors.OneSendError)
    both descend from it, so the window and the command catch one class. Anything else that
    escapes is a bug: a crash report, not a sentence.
    """


class FormError(UserError):
    """Base of every user-facing error raised by the forms package."""


class DefinitionError(FormError):
    """A form definition is malformed: it breaks the format's schema or its own references."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        if count == 1:
            summary = f"{source} is not a valid form definition: {self.problems[0]}"
        else:
            summary = (
                f"{source} is not a valid form definition ({count} problems): "
                + "; ".join(self.problems[:5])
                + ("; ..." if count > 5 else "")
            )
        super().__init__(summary)


class ExpressionError(FormError):
    """An expression in a form definition cannot be parsed or evaluated."""


class AnswersError(FormError):
    """An answers or assessment document cannot be read (not its content's validity)."""
