import pytest

from policies.decision import PolicyError
from policies.validation import ChangeClass, ValidationPolicy

POLICY = ValidationPolicy.default()


def test_defaults_follow_the_domain_rules():
    assert POLICY.require_revocation_info and POLICY.accept_later_revocation_info
    assert POLICY.trust_claimed_time  # Decree 68/2024: without a timestamp, judged at the claimed time
    assert not POLICY.etsi_strict().trust_claimed_time and POLICY.etsi_strict().algorithms == POLICY.algorithms
    assert POLICY.local_time_quirk.total_seconds() == 7 * 3600
    # ISO 32000-2 12.8.2.2: annotations are allowed after an approval signature (DocMDP narrows it)
    assert POLICY.allowed_changes == {ChangeClass.VALIDATION_DATA, ChangeClass.FORM_FILLING, ChangeClass.ANNOTATIONS}
    assert POLICY.check_changes(ChangeClass.ANNOTATIONS, docmdp_level=3).allowed
    assert POLICY.check_changes(ChangeClass.ANNOTATIONS, docmdp_level=None).allowed
    refused = POLICY.check_changes(ChangeClass.ANNOTATIONS, docmdp_level=2)
    assert (refused.allowed, refused.rule) == (False, "modifications:docmdp")


def test_changes_are_judged_against_docmdp_and_policy():
    assert POLICY.check_changes(ChangeClass.NONE, docmdp_level=1).rule == "modifications:none"
    assert POLICY.check_changes(ChangeClass.VALIDATION_DATA, docmdp_level=1).allowed
    refused = POLICY.check_changes(ChangeClass.FORM_FILLING, docmdp_level=1, detail="fields SoTien")
    assert (refused.allowed, refused.rule) == (False, "modifications:docmdp")
    assert refused.reason_en == ("form filling after a certification signature that allows only DocMDP level 1: "
                                 "fields SoTien")
    assert POLICY.check_changes(ChangeClass.FORM_FILLING, docmdp_level=2).allowed
    other = POLICY.check_changes(ChangeClass.OTHER, docmdp_level=None, detail="page replaced")
    assert other.reason_vi == "văn bản đã bị thay đổi sau khi ký: page replaced"


def test_a_stricter_policy_refuses_what_docmdp_would_allow():
    strict = ValidationPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[modifications]\nallowed = []\n')
    decision = strict.check_changes(ChangeClass.FORM_FILLING, docmdp_level=None)
    assert (decision.allowed, decision.rule) == (False, "modifications:policy")


def test_other_changes_can_never_be_allowed_and_unknown_keys_are_errors():
    with pytest.raises(PolicyError, match="'other' changes can never be allowed"):
        ValidationPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[modifications]\nallowed = ["other"]\n')
    with pytest.raises(PolicyError, match="\\[revocation\\]: unknown key\\(s\\) offline"):
        ValidationPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[revocation]\noffline = true\n')


def test_the_time_rule_defaults_to_the_claimed_time_and_must_be_a_boolean():
    assert ValidationPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n').trust_claimed_time is True
    strict = ValidationPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[time]\ntrust_claimed_time = false\n')
    assert strict.trust_claimed_time is False
    with pytest.raises(PolicyError, match="^validation policy \\[time\\] trust_claimed_time: expected true or false, "
                                          "got 'false'$"):
        ValidationPolicy.from_toml('[algorithms]\ndigests = ["sha256"]\n[time]\ntrust_claimed_time = "false"\n')
