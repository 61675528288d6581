from policies.decision import AllOf, Decision, Outcome, Rule


def test_an_empty_policy_denies():
    decision = AllOf([], name="empty-policy").evaluate("anything")
    assert (decision.outcome, decision.rule) == (Outcome.DENY, "empty-policy:empty")
    assert decision.reason("vi") == "chính sách không có quy tắc nào nên không cho phép"


def test_first_denial_decides_and_names_its_rule():
    rules = [
        Rule("a", lambda s: Decision.allow("a", "ok", "được")),
        Rule("b", lambda s: Decision.deny("b:too-big", f"{s} is too big", f"{s} quá lớn")),
        Rule("c", lambda s: Decision.deny("c", "never reached", "không tới")),
    ]
    decision = AllOf(rules).evaluate(7)
    assert (decision.allowed, decision.rule, decision.reason_en) == (False, "b:too-big", "7 is too big")


def test_warnings_are_kept_when_everything_allows():
    rules = [Rule("w", lambda s: Decision.warn("w:legacy", "legacy", "cũ")),
             Rule("a", lambda s: Decision.allow("a", "ok", "được"))]
    decision = AllOf(rules, name="p").evaluate(None)
    assert decision.outcome is Outcome.WARN and decision.allowed
    assert [w.rule for w in decision.warnings] == ["w:legacy"]
    assert decision.to_json()["warnings"][0]["reason"] == {"en": "legacy", "vi": "cũ"}
