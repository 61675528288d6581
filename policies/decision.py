"""Policy decisions: what a pure evaluation returns, and how rules compose.

Every evaluation takes values and returns a `Decision` naming the rule that decided and why, in English
and Vietnamese (a clerk reads the reason). Composition follows sigstore's policies: an empty `AllOf` denies,
so a policy that forgot its rules never lets anything through.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class Outcome(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # allowed, with something a person must know (a legacy SHA-1 CA chain)
    DENY = "deny"


@dataclass(frozen=True)
class Decision:
    """The answer of a policy: the outcome, the rule that decided and the reason in both languages."""

    outcome: Outcome
    rule: str
    reason_en: str
    reason_vi: str
    warnings: tuple["Decision", ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.DENY

    def reason(self, lang: str = "en") -> str:
        return self.reason_vi if lang == "vi" else self.reason_en

    @classmethod
    def allow(cls, rule: str, en: str, vi: str) -> "Decision":
        return cls(Outcome.ALLOW, rule, en, vi)

    @classmethod
    def warn(cls, rule: str, en: str, vi: str) -> "Decision":
        return cls(Outcome.WARN, rule, en, vi)

    @classmethod
    def deny(cls, rule: str, en: str, vi: str) -> "Decision":
        return cls(Outcome.DENY, rule, en, vi)

    def to_json(self) -> dict:
        return {
            "outcome": self.outcome.value,
            "rule": self.rule,
            "reason": {"en": self.reason_en, "vi": self.reason_vi},
            "warnings": [w.to_json() for w in self.warnings],
        }


class PolicyError(Exception):
    """A policy file or value is malformed (misuse, not a denial: denials are `Decision`s)."""


@dataclass(frozen=True)
class Rule(Generic[T]):
    """One named check: a function from the subject to a decision."""

    name: str
    check: Callable[[T], Decision]

    def evaluate(self, subject: T) -> Decision:
        return self.check(subject)


@dataclass(frozen=True)
class AllOf(Generic[T]):
    """Every rule must allow; the first denial decides. Empty: denies (deny by default)."""

    rules: Sequence[Rule[T]]
    name: str = "all-of"

    def evaluate(self, subject: T) -> Decision:
        if not self.rules:
            return Decision.deny(
                f"{self.name}:empty",
                "the policy has no rules, so nothing is allowed",
                "chính sách không có quy tắc nào nên không cho phép",
            )
        warnings: list[Decision] = []
        last: Decision | None = None
        for rule in self.rules:
            decision = rule.evaluate(subject)
            if not decision.allowed:
                return Decision(decision.outcome, decision.rule, decision.reason_en, decision.reason_vi,
                                tuple(warnings))
            if decision.outcome is Outcome.WARN:
                warnings.append(decision)
            warnings.extend(decision.warnings)
            last = decision
        assert last is not None
        outcome = Outcome.WARN if warnings else Outcome.ALLOW
        return Decision(outcome, self.name, "every rule allowed it", "mọi quy tắc đều cho phép",
                        tuple(warnings))
