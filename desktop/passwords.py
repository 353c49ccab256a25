"""The rule for a profile's password: long enough, and not easy to guess (zxcvbn)."""

from __future__ import annotations

from zxcvbn import zxcvbn

from desktop.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10


# zxcvbn's score 3 is "safely unguessable: moderate protection from an offline slow-hash
# scenario" (under 10^10 guesses); with Argon2id at ~0.5 s a guess, lower scores fall in days.
MIN_STRENGTH_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # what zxcvbn judges; a longer password is judged by its first 72
# The National Cyber Security Centre's advice: "use three random words" (NCSC, "Three
# random words", and the Cyber Aware guidance on passwords).
THREE_WORDS_ADVICE = ("three random words, such as 'orange piano lighthouse', are easy to "
                      "remember and hard to guess (the NCSC's advice)")


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str:
    """The one sentence saying why a new password will not do, or '' when it will.

    The rule: at least 10 characters, and a zxcvbn strength score of at least 3 (so no
    repeats, sequences, keyboard walks, common passwords or the profile's own name).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return (f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters: "
                f"{THREE_WORDS_ADVICE}.")
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH],
                    user_inputs=[*user_inputs, "onesend", "send", "senco"])
    if int(result["score"]) >= MIN_STRENGTH_SCORE:
        return ""
    warning = str(result["feedback"].get("warning") or "").strip().rstrip(".")
    why = f" ({warning[0].lower()}{warning[1:]})" if warning else ""
    return f"That password is too easy to guess{why}: {THREE_WORDS_ADVICE}."


def check_password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse a password too weak to protect children's health data (`password_problem`)."""
    problem = password_problem(password, user_inputs)
    if problem:
        raise InvalidInput(problem)
