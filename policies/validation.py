"""The validation policy: revocation requirements, time rules, algorithms and allowed changes after signing.

DOMAIN.md, "Validation rules" (Decree 68/2024, arts. 29-32). Pure values; the verifier applies them.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib import resources

from policies.algorithms import AlgorithmRules
from policies.decision import Decision, PolicyError


class ChangeClass(enum.Enum):
    """What happened to a document after a signature, from least to most invasive."""

    NONE = "none"
    VALIDATION_DATA = "validation_data"  # DSS (certificates, CRLs, OCSP) and document timestamps only
    FORM_FILLING = "form_filling"  # filling form fields, signature fields included (later signatures)
    ANNOTATIONS = "annotations"
    OTHER = "other"  # anything else: replaced content, new pages, hidden objects

    @property
    def docmdp_level(self) -> int:
        # ISO 32000-2, 12.8.2.2: DocMDP P=1 no changes, P=2 form filling and signing, P=3 also annotations.
        return {"none": 0, "validation_data": 1, "form_filling": 2, "annotations": 3, "other": 4}[self.value]


_CHANGE_VI = {
    ChangeClass.NONE: "không có thay đổi",
    ChangeClass.VALIDATION_DATA: "thêm dữ liệu kiểm tra hoặc dấu thời gian",
    ChangeClass.FORM_FILLING: "điền biểu mẫu hoặc ký tiếp",
    ChangeClass.ANNOTATIONS: "thêm chú thích",
    ChangeClass.OTHER: "thay đổi nội dung",
}


@dataclass(frozen=True)
class ValidationPolicy:
    algorithms: AlgorithmRules
    require_revocation_info: bool
    accept_later_revocation_info: bool
    trust_claimed_time: bool
    claimed_time_tolerance: timedelta
    local_time_quirk: timedelta
    allowed_changes: frozenset[ChangeClass]

    @classmethod
    def default(cls) -> "ValidationPolicy":
        text = resources.files("policies").joinpath("data/validation.toml").read_text(encoding="utf-8")
        return cls.from_toml(text)

    @classmethod
    def from_toml(cls, text: str) -> "ValidationPolicy":
        data = tomllib.loads(text)
        sections = {
            "algorithms": None,
            "revocation": {"require_revocation_info", "accept_later_revocation_info"},
            "time": {"trust_claimed_time", "claimed_time_tolerance_seconds", "local_time_quirk_hours"},
            "modifications": {"allowed"},
        }
        unknown = set(data) - set(sections)
        if unknown:
            raise PolicyError(f"validation policy: unknown section(s) {', '.join(sorted(unknown))}")
        for name, known in sections.items():
            if known is not None and set(data.get(name, {})) - known:
                raise PolicyError(f"validation policy [{name}]: unknown key(s) "
                                  f"{', '.join(sorted(set(data[name]) - known))}")
        revocation, time, modifications = data.get("revocation", {}), data.get("time", {}), \
            data.get("modifications", {})
        try:
            allowed = frozenset(ChangeClass(c) for c in modifications.get("allowed", ()))
        except ValueError as exc:
            raise PolicyError(f"validation policy [modifications] allowed: {exc}") from exc
        if ChangeClass.OTHER in allowed:
            raise PolicyError("validation policy [modifications]: 'other' changes can never be allowed")
        trust_claimed_time = time.get("trust_claimed_time", True)
        if not isinstance(trust_claimed_time, bool):
            raise PolicyError(f"validation policy [time] trust_claimed_time: expected true or false, "
                              f"got {trust_claimed_time!r}")
        return cls(
            algorithms=AlgorithmRules.from_mapping(data.get("algorithms", {}), section="algorithms"),
            require_revocation_info=bool(revocation.get("require_revocation_info", True)),
            accept_later_revocation_info=bool(revocation.get("accept_later_revocation_info", True)),
            trust_claimed_time=trust_claimed_time,
            claimed_time_tolerance=timedelta(seconds=int(time.get("claimed_time_tolerance_seconds", 300))),
            local_time_quirk=timedelta(hours=int(time.get("local_time_quirk_hours", 7))),
            allowed_changes=allowed,
        )

    def etsi_strict(self) -> "ValidationPolicy":
        """This policy with ETSI EN 319 102-1's time rule: without a timestamp, the chain is judged at the
        validation time, never at the signer's claimed time."""
        return replace(self, trust_claimed_time=False)

    def check_changes(self, found: ChangeClass, *, docmdp_level: int | None, detail: str = "",
                      detail_vi: str | None = None) -> Decision:
        """Are the changes made after a signature allowed? A certification signature's DocMDP level
        (1, 2 or 3) narrows what this policy allows; `detail` (and `detail_vi`) name the change."""
        suffix = f": {detail}" if detail else ""
        suffix_vi = f": {detail_vi}" if detail_vi else suffix
        if found is ChangeClass.NONE:
            return Decision.allow("modifications:none", "the document was not changed after signing",
                                  "văn bản không bị thay đổi sau khi ký")
        if found is ChangeClass.OTHER:
            return Decision.deny("modifications:disallowed",
                                 f"the document was changed after signing{suffix}",
                                 f"văn bản đã bị thay đổi sau khi ký{suffix_vi}")
        if docmdp_level is not None and found.docmdp_level > docmdp_level:
            return Decision.deny(
                "modifications:docmdp",
                f"{found.value.replace('_', ' ')} after a certification signature that allows only "
                f"DocMDP level {docmdp_level}{suffix}",
                f"{_CHANGE_VI[found]} sau chữ ký chứng nhận chỉ cho phép mức DocMDP {docmdp_level}{suffix_vi}",
            )
        if found not in self.allowed_changes:
            return Decision.deny("modifications:policy",
                                 f"{found.value.replace('_', ' ')} after signing is not allowed by the policy",
                                 f"chính sách không cho phép {_CHANGE_VI[found]} sau khi ký")
        return Decision.allow("modifications:allowed", f"{found.value.replace('_', ' ')} after signing is allowed",
                              f"{_CHANGE_VI[found]} sau khi ký được phép")
