"""Text a person reads before consenting: document titles, signing descriptions, certificate names.

One definition, applied where such text enters (document registration, certificate issuance) and where it is
shown (the service's signing description, the bridge's consent prompt), so that what is registered can be
signed and what is shown cannot fake its own wording.

An allow-list, not a deny-list (Unicode TR 36 "Unicode Security Considerations", 3.5, and TR 39, 5: restrict
to what the users' language needs): Latin letters (Vietnamese uses Latin with diacritics, all of which are
in Latin-1, Latin Extended-A/B and Latin Extended Additional), the combining diacritics U+0300-U+036F,
ASCII digits, Latin-1 punctuation and symbols plus a few typographic ones, and the space; at most two
spaces in a row. Everything else is refused with the code point named: line and paragraph separators
(U+2028/9), bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E/F), invisible fillers (U+3164, U+2800,
U+115F), zero-width characters, right-to-left letters, full-width look-alikes, control characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Typographic punctuation and symbols a Vietnamese document title commonly carries (beyond Latin-1).
_TYPOGRAPHIC = frozenset("‐‑‒–—‘’‚“”„•…‰′″‹›€₫№™−")
_SPACES = frozenset(" \u00a0")
_MAX_SPACE_RUN = 2
_MAX_COMBINING_RUN = 2  # a vowel with circumflex and tone, typed decomposed, has two

MAX_TITLE_LENGTH = 1000  # trích yếu of a registered document
MAX_DESCRIPTION_LENGTH = 2000  # a signing description shown in the consent prompt
MAX_NAME_LENGTH = 200  # one attribute of a certificate subject (RFC 5280 ub-name is 32768; ours is tighter)


class DisplayTextRefused(ValueError):
    """Text a person will read holds a character or a shape outside the allow-list. `str()` is Vietnamese then
    English; `code_point` names the first offending character, when there is one."""

    def __init__(self, vietnamese: str, english: str, *, code_point: int | None = None):
        super().__init__(f"{vietnamese} / {english}")
        self.vietnamese = vietnamese
        self.english = english
        self.code_point = code_point


@dataclass(frozen=True)
class TextProblem:
    vietnamese: str
    english: str
    code_point: int | None = None


def is_allowed_character(ch: str) -> bool:
    """Is this one character allowed in text a person reads and consents to?"""
    if ch in _SPACES:
        return True
    category = unicodedata.category(ch)
    if category[0] == "L":
        return unicodedata.name(ch, "").startswith("LATIN ")
    if category == "Mn":
        return 0x0300 <= ord(ch) <= 0x036F
    if category == "Nd":
        return "0" <= ch <= "9"
    if category[0] in "PS":
        return ord(ch) < 0x0250 or ch in _TYPOGRAPHIC
    return False


_UNNAMED = {"Cc": "control character", "Cn": "unassigned", "Co": "private use", "Cs": "surrogate"}


def _describe(ch: str) -> str:
    category = unicodedata.category(ch)
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, _UNNAMED.get(category, category))})"


def find_text_problem(text: str, *, field: str, max_length: int) -> TextProblem | None:
    """The first reason `text` may not be shown for consent, or None when it may (a report, never raises)."""
    if len(text) > max_length:
        return TextProblem(f"{field} dài quá {max_length} ký tự", f"{field} is longer than {max_length} characters")
    space_run = combining_run = 0
    for ch in text:
        if not is_allowed_character(ch):
            return TextProblem(
                f"{field} chứa ký tự không được phép {_describe(ch)}",
                f"{field} contains a character that is not allowed: {_describe(ch)}",
                ord(ch),
            )
        space_run = space_run + 1 if ch in _SPACES else 0
        if space_run > _MAX_SPACE_RUN:
            return TextProblem(
                f"{field} có quá {_MAX_SPACE_RUN} khoảng trắng liền nhau",
                f"{field} has more than {_MAX_SPACE_RUN} spaces in a row",
                ord(ch),
            )
        combining_run = combining_run + 1 if unicodedata.category(ch) == "Mn" else 0
        if combining_run > _MAX_COMBINING_RUN:
            return TextProblem(
                f"{field} có quá {_MAX_COMBINING_RUN} dấu ghép liền nhau",
                f"{field} has more than {_MAX_COMBINING_RUN} combining marks in a row",
                ord(ch),
            )
    return None


def require_display_text(text: str, *, field: str, max_length: int) -> str:
    """`text` in NFC with its outer spaces removed, when it may be shown for consent; otherwise raise
    `DisplayTextRefused` naming the first problem."""
    normalised = unicodedata.normalize("NFC", text).strip(" ")
    problem = find_text_problem(normalised, field=field, max_length=max_length)
    if problem is not None:
        raise DisplayTextRefused(problem.vietnamese, problem.english, code_point=problem.code_point)
    return normalised
