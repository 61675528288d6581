import pytest
from asn1crypto import x509

from policies.algorithms import KeyDescription
from policies.decision import PolicyError
from policies.identity import HolderKind, parse_name
from policies.signing import PriorSignature, SigningAct, SigningPolicy, SigningRequest

POLICY = SigningPolicy.default()
PERSON = parse_name(x509.Name.build({"common_name": "Nguyễn Văn An", "user_id": "CCCD:001085012345"}))
AGENCY = parse_name(x509.Name.build({"common_name": "UBND Phường Hoàn Kiếm", "user_id": "MST:0101234567"}))
NOBODY = parse_name(x509.Name.build({"common_name": "Máy chủ"}))
EC = KeyDescription("ec", 256)


def _request(act, signer, prior=(), digest="sha256", key=EC):
    return SigningRequest(act=act, signer=signer, key=key, digest_algorithm=digest, prior=prior)


def test_approve_with_a_personal_certificate_is_allowed():
    assert POLICY.evaluate(_request(SigningAct.APPROVE, PERSON)).allowed


def test_approve_with_an_agency_certificate_is_refused_with_the_reason():
    decision = POLICY.evaluate(_request(SigningAct.APPROVE, AGENCY))
    assert (decision.allowed, decision.rule) == (False, "signing:certificate-type")
    assert decision.reason_en == "approve needs a personal certificate, not an agency (organisation) certificate"
    assert decision.reason_vi == "ký duyệt phải dùng chứng thư số cá nhân, không dùng chứng thư số cơ quan, tổ chức"


def test_issue_needs_a_valid_personal_signature_first():
    refused = POLICY.evaluate(_request(SigningAct.ISSUE, AGENCY))
    assert (refused.allowed, refused.rule) == (False, "signing:order")
    invalid_first = (PriorSignature(HolderKind.PERSON, valid=False),)
    assert not POLICY.evaluate(_request(SigningAct.ISSUE, AGENCY, invalid_first)).allowed
    agency_first = (PriorSignature(HolderKind.ORGANISATION, valid=True),)
    assert not POLICY.evaluate(_request(SigningAct.ISSUE, AGENCY, agency_first)).allowed
    ok = (PriorSignature(HolderKind.PERSON, valid=True),)
    assert POLICY.evaluate(_request(SigningAct.ISSUE, AGENCY, ok)).allowed


def test_copies_carry_the_agency_signature_alone():
    assert POLICY.evaluate(_request(SigningAct.COPY, AGENCY)).allowed
    decision = POLICY.evaluate(_request(SigningAct.COPY, NOBODY))
    assert decision.reason_en.endswith("not a certificate without person or organisation identifiers")


def test_weak_algorithms_are_refused_before_anything_else():
    decision = POLICY.evaluate(_request(SigningAct.APPROVE, PERSON, digest="sha1"))
    assert (decision.allowed, decision.rule) == (False, "signing:algorithms:digest")


def test_an_act_missing_from_the_policy_is_denied():
    policy = SigningPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[acts.approve]\nholder = "person"\n')
    decision = policy.evaluate(_request(SigningAct.ISSUE, AGENCY))
    assert (decision.allowed, decision.rule) == (False, "acts:unknown")


def test_malformed_policies_are_errors_naming_the_key():
    with pytest.raises(PolicyError, match="\\[acts.approve\\]: unknown key\\(s\\) holders"):
        SigningPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[acts.approve]\nholders = "person"\n')
    with pytest.raises(PolicyError, match="signing policy: unknown key\\(s\\) order"):
        SigningPolicy.from_toml('[order]\n')


def test_the_order_found_on_a_document():
    from policies.signing import check_signature_order

    person, agency = PriorSignature(HolderKind.PERSON, True), PriorSignature(HolderKind.ORGANISATION, True)
    assert check_signature_order([person, agency]).allowed
    assert check_signature_order([]).allowed
    decision = check_signature_order([agency, person])
    assert (decision.allowed, decision.rule) == (False, "order:agency-before-personal")
    assert decision.reason_en.startswith("signature 1 is an agency signature with no valid personal signature")
    assert not check_signature_order([PriorSignature(HolderKind.PERSON, False), agency]).allowed


def test_signing_acts_name_holders_that_the_ca_profiles_issue_for():
    # The signing policy and ca/'s certificate profiles share one vocabulary (policies.identity holders).
    from policies.profiles import ProfileHolder, default_profiles

    issued_for = {profile.holder for profile in default_profiles().profiles.values()}
    for act, rule in POLICY.acts.items():
        assert ProfileHolder(rule.holder.value) in issued_for, act
