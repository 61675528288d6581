"""The signing policy: who may make which act of signing, in which order, with which algorithms.

Decree 30/2020, Appendix I and arts. 14, 15, 32 (DOMAIN.md): the competent person approves with a personal
certificate; the clerk issues, attaches appendices, copies and receives with the agency's (organisation)
certificate; the agency signature only goes on a document that already carries a valid personal signature,
except copies, which carry the agency signature alone. Pure: the caller gathers the facts.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from importlib import resources

from policies.algorithms import AlgorithmRules, KeyDescription
from policies.decision import AllOf, Decision, PolicyError, Rule
from policies.identity import HolderKind, Identity


class SigningAct(enum.Enum):
    """The acts of signing of Decree 30, Appendix I."""

    APPROVE = "approve"  # ký duyệt: personal signature of the competent person
    ISSUE = "issue"  # ký phát hành: agency signature by the clerk
    APPENDIX = "appendix"  # ký phụ lục / đính kèm
    COPY = "copy"  # sao y / sao lục / trích sao
    INCOMING = "incoming"  # ký văn bản đến


_ACT_VI = {
    SigningAct.APPROVE: "ký duyệt",
    SigningAct.ISSUE: "ký phát hành",
    SigningAct.APPENDIX: "ký phụ lục",
    SigningAct.COPY: "ký sao văn bản",
    SigningAct.INCOMING: "ký văn bản đến",
}
_HOLDER_EN = {HolderKind.PERSON: "a personal", HolderKind.ORGANISATION: "an agency (organisation)"}
_HOLDER_VI = {HolderKind.PERSON: "cá nhân", HolderKind.ORGANISATION: "cơ quan, tổ chức"}


@dataclass(frozen=True)
class PriorSignature:
    """A signature already on the document, as the verifier judged it."""

    holder_kind: HolderKind
    valid: bool


@dataclass(frozen=True)
class SigningRequest:
    act: SigningAct
    signer: Identity
    key: KeyDescription
    digest_algorithm: str
    prior: tuple[PriorSignature, ...] = ()


@dataclass(frozen=True)
class ActRule:
    holder: HolderKind
    requires_prior_personal: bool


@dataclass(frozen=True)
class SigningPolicy:
    algorithms: AlgorithmRules
    acts: dict[SigningAct, ActRule]

    @classmethod
    def default(cls) -> "SigningPolicy":
        text = resources.files("policies").joinpath("data/signing.toml").read_text(encoding="utf-8")
        return cls.from_toml(text)

    @classmethod
    def from_toml(cls, text: str) -> "SigningPolicy":
        data = tomllib.loads(text)
        unknown = set(data) - {"algorithms", "acts"}
        if unknown:
            raise PolicyError(f"signing policy: unknown key(s) {', '.join(sorted(unknown))}")
        acts: dict[SigningAct, ActRule] = {}
        for name, entry in data.get("acts", {}).items():
            try:
                act = SigningAct(name)
                extra = set(entry) - {"holder", "requires_prior_personal"}
                if extra:
                    raise PolicyError(f"[acts.{name}]: unknown key(s) {', '.join(sorted(extra))}")
                acts[act] = ActRule(HolderKind(entry["holder"]), bool(entry.get("requires_prior_personal")))
            except (KeyError, ValueError) as exc:
                raise PolicyError(f"[acts.{name}]: {exc}") from exc
        return cls(AlgorithmRules.from_mapping(data.get("algorithms", {}), section="algorithms"), acts)

    def evaluate(self, request: SigningRequest) -> Decision:
        """May this certificate make this act of signing on this document now? Names the deciding rule."""
        act_rule = self.acts.get(request.act)
        if act_rule is None:
            return Decision.deny(
                "acts:unknown", f"the policy does not allow the act '{request.act.value}'",
                f"chính sách không cho phép hành vi '{_ACT_VI[request.act]}'",
            )
        rules: list[Rule[SigningRequest]] = [
            Rule("algorithms", lambda r: self.algorithms.check_signature(r.digest_algorithm, r.key,
                                                                          rule="signing:algorithms")),
            Rule("certificate-type", lambda r: _check_holder(r, act_rule)),
        ]
        if act_rule.requires_prior_personal:
            rules.append(Rule("order", _check_prior_personal))
        return AllOf(rules, name=f"signing:{request.act.value}").evaluate(request)


def _check_holder(request: SigningRequest, act_rule: ActRule) -> Decision:
    found = request.signer.holder_kind
    act_vi = _ACT_VI[request.act]
    if found is act_rule.holder:
        return Decision.allow("signing:certificate-type",
                              f"{request.act.value} uses {_HOLDER_EN[found]} certificate",
                              f"{act_vi} dùng chứng thư số {_HOLDER_VI[found]}")
    if found is HolderKind.UNKNOWN:
        found_en, found_vi = "a certificate without person or organisation identifiers", \
            "chứng thư số không có mã định danh cá nhân hay tổ chức"
    else:
        found_en, found_vi = f"{_HOLDER_EN[found]} certificate", f"chứng thư số {_HOLDER_VI[found]}"
    return Decision.deny(
        "signing:certificate-type",
        f"{request.act.value} needs {_HOLDER_EN[act_rule.holder]} certificate, not {found_en}",
        f"{act_vi} phải dùng chứng thư số {_HOLDER_VI[act_rule.holder]}, không dùng {found_vi}",
    )


def _check_prior_personal(request: SigningRequest) -> Decision:
    # Decree 30, art. 14 (and DOMAIN.md "Rules of order"): agency signature after a valid personal one.
    if any(p.valid and p.holder_kind is HolderKind.PERSON for p in request.prior):
        return Decision.allow("signing:order", "a valid personal signature precedes the agency signature",
                              "văn bản đã có chữ ký số cá nhân hợp lệ trước chữ ký số cơ quan")
    return Decision.deny(
        "signing:order",
        "the agency signature needs a valid personal signature of the competent person on the document first",
        "chữ ký số của cơ quan chỉ được ký sau chữ ký số cá nhân hợp lệ của người có thẩm quyền",
    )


def check_signature_order(signatures: tuple[PriorSignature, ...] | list[PriorSignature]) -> Decision:
    """The order found on a document, in signing order: does every agency signature follow a valid personal
    signature (Decree 30, art. 14)? Copies carry the agency signature alone, so a denial here is a finding
    for the reader to weigh against the kind of document, not a verdict on the signatures."""
    seen_personal = False
    for index, signature in enumerate(signatures, 1):
        if signature.holder_kind is HolderKind.PERSON and signature.valid:
            seen_personal = True
        elif signature.holder_kind is HolderKind.ORGANISATION and not seen_personal:
            return Decision.deny(
                "order:agency-before-personal",
                f"signature {index} is an agency signature with no valid personal signature before it "
                f"(Decree 30, art. 14; only copies carry the agency signature alone)",
                f"chữ ký thứ {index} là chữ ký số cơ quan nhưng trước đó không có chữ ký số cá nhân hợp lệ "
                f"(Nghị định 30, Điều 14; chỉ bản sao mới chỉ có chữ ký số cơ quan)",
            )
    return Decision.allow("order:ok", "every agency signature follows a valid personal signature",
                          "mọi chữ ký số cơ quan đều sau chữ ký số cá nhân hợp lệ")
