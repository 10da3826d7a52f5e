"""Condition trees: Kleene three-valued logic, references, traces in words, near misses, load-time checks."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calculator.policy.rules import (
    MET,
    NOT_MET,
    UNKNOWN,
    ConditionError,
    DefinitionTable,
    near_miss,
    outcome_of,
    parse_condition,
)

CITE = {"doc": "d", "locator": "第一条", "quote": "q"}
NO_DEFINITIONS = DefinitionTable({})


def leaf(field: str, op: str, value: Any, id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": id or f"{field}_{op}", "text": f"{field} {op} {value}", "field": field, "op": op,
            "value": value, "cite": CITE, **extra}


def is_true(field: str) -> dict[str, Any]:
    return leaf(field, "==", True)


def evaluate(raw: dict[str, Any], facts: dict[str, Any], definitions: DefinitionTable = NO_DEFINITIONS) -> str:
    """Outcome by both paths (compiled verdict and trace), which must agree."""
    node = parse_condition(raw, definitions)
    fast = outcome_of(node.test(facts))
    traced = node.trace(facts).outcome
    assert fast == traced, f"compiled {fast} ≠ traced {traced}"
    return fast


VALUES = {MET: True, NOT_MET: False, UNKNOWN: None}


@pytest.mark.parametrize("a,b,expected", [
    (MET, MET, MET), (MET, NOT_MET, NOT_MET), (MET, UNKNOWN, UNKNOWN),
    (NOT_MET, MET, NOT_MET), (NOT_MET, NOT_MET, NOT_MET), (NOT_MET, UNKNOWN, NOT_MET),
    (UNKNOWN, MET, UNKNOWN), (UNKNOWN, NOT_MET, NOT_MET), (UNKNOWN, UNKNOWN, UNKNOWN),
])
def test_all_is_kleene_and(a: str, b: str, expected: str) -> None:
    facts = {"cert_hightech": VALUES[a], "cert_tech_sme": VALUES[b]}
    assert evaluate({"all": [is_true("cert_hightech"), is_true("cert_tech_sme")]}, facts) == expected


@pytest.mark.parametrize("a,b,expected", [
    (MET, MET, MET), (MET, NOT_MET, MET), (MET, UNKNOWN, MET),
    (NOT_MET, MET, MET), (NOT_MET, NOT_MET, NOT_MET), (NOT_MET, UNKNOWN, UNKNOWN),
    (UNKNOWN, MET, MET), (UNKNOWN, NOT_MET, UNKNOWN), (UNKNOWN, UNKNOWN, UNKNOWN),
])
def test_any_is_kleene_or(a: str, b: str, expected: str) -> None:
    facts = {"cert_hightech": VALUES[a], "cert_tech_sme": VALUES[b]}
    assert evaluate({"any": [is_true("cert_hightech"), is_true("cert_tech_sme")]}, facts) == expected


@pytest.mark.parametrize("inner,expected", [(MET, NOT_MET), (NOT_MET, MET), (UNKNOWN, UNKNOWN)])
def test_not_swaps_met_and_not_met(inner: str, expected: str) -> None:
    assert evaluate({"not": is_true("cert_hightech")}, {"cert_hightech": VALUES[inner]}) == expected


def test_unknown_leaf_lists_its_field_and_all_collects_only_undecided_children() -> None:
    raw = {"all": [leaf("employees", "<=", 300), leaf("total_assets", "<=", 5000), leaf("revenue", ">", 0)]}
    node = parse_condition(raw, NO_DEFINITIONS)
    verdict = node.test({"employees": 85, "total_assets": None, "revenue": None})
    assert set(verdict) == {"total_assets", "revenue"}
    assert node.trace({"employees": 85, "total_assets": None, "revenue": None}).missing == ("total_assets", "revenue")


def test_a_decided_failure_wins_over_unknowns() -> None:
    raw = {"all": [leaf("employees", "<=", 300), leaf("total_assets", "<=", 5000)]}
    assert evaluate(raw, {"employees": 301, "total_assets": None}) == NOT_MET


def test_comparison_ops_at_and_past_the_threshold() -> None:
    cases = [("<=", 300, 300, MET), ("<=", 300, 301, NOT_MET), ("<", 300, 300, NOT_MET), (">=", 4, 4, MET),
             (">=", 4, 3.99, NOT_MET), (">", 0, 0, NOT_MET), ("==", 5, 5, MET), ("!=", 5, 5, NOT_MET)]
    for op, threshold, value, expected in cases:
        assert evaluate(leaf("rd_ratio", op, threshold), {"rd_ratio": value}) == expected, (op, threshold, value)


def test_membership_and_choice_values() -> None:
    raw = leaf("industry", "not_in", ["烟草制造业", "娱乐业"])
    assert evaluate(raw, {"industry": "制造业"}) == MET
    assert evaluate(raw, {"industry": "娱乐业"}) == NOT_MET
    assert evaluate(raw, {"industry": None}) == UNKNOWN
    assert evaluate(leaf("county", "in", ["魏都区", "建安区"]), {"county": "建安区"}) == MET


def test_ref_evaluates_the_named_definition_and_shows_its_text() -> None:
    table = DefinitionTable({"小企业": {"text": "小企业", "cite": CITE, "all": [leaf("employees", "<=", 300)]}})
    raw = {"all": [{"ref": "小企业"}, is_true("cert_hightech")]}
    assert evaluate(raw, {"employees": 85, "cert_hightech": True}, table) == MET
    assert evaluate(raw, {"employees": 400, "cert_hightech": None}, table) == NOT_MET
    trace = parse_condition(raw, table).trace({"employees": None, "cert_hightech": True})
    assert trace.children[0].text == "小企业" and trace.children[0].missing == ("employees",)


def test_unknown_and_cyclic_definitions_are_errors() -> None:
    with pytest.raises(ConditionError) as unknown:
        parse_condition({"all": [{"ref": "不存在"}]}, NO_DEFINITIONS)
    assert unknown.value.path == "conditions.all[0].ref"
    cyclic = DefinitionTable({"A": {"text": "A", "cite": CITE, "all": [{"ref": "B"}]},
                              "B": {"text": "B", "cite": CITE, "all": [{"ref": "A"}]}})
    with pytest.raises(ConditionError, match="cycle"):
        cyclic.get("A", "here")


def test_trace_words_for_met_failed_and_unknown() -> None:
    node = parse_condition({"all": [leaf("employees", "<=", 300), leaf("rd_ratio", ">=", 4)]}, NO_DEFINITIONS)
    met, failed = node.trace({"employees": 85, "rd_ratio": 3.2}).children
    assert met.detail == "从业人数 85人 ≤ 300人 ✓"
    assert failed.detail == "研发费用占营业收入比例 3.2% < 4% ✗"
    unknown = node.trace({"employees": None, "rd_ratio": 5}).children[0]
    assert unknown.detail == "从业人数 未知（需 ≤ 300人）"


def test_trace_words_for_yes_no_and_choices() -> None:
    bool_trace = parse_condition(is_true("cert_hightech"), NO_DEFINITIONS).trace({"cert_hightech": False})
    assert bool_trace.detail == "高新技术企业：否（需：是） ✗"
    choice = parse_condition(leaf("taxpayer_type", "==", "小规模纳税人"), NO_DEFINITIONS)
    assert choice.trace({"taxpayer_type": "一般纳税人"}).detail == "增值税纳税人类型：一般纳税人（需为小规模纳税人） ✗"
    assert choice.trace({"taxpayer_type": None}).detail == "增值税纳税人类型 未知（需为小规模纳税人）"


def test_presumed_leaf_is_met_when_unknown_but_judged_when_known() -> None:
    raw = leaf("restricted_industry", "==", False, presume=True)
    node = parse_condition(raw, NO_DEFINITIONS)
    trace = node.trace({"restricted_industry": None})
    assert trace.outcome == MET and trace.presumed and "推定" in trace.detail
    assert evaluate(raw, {"restricted_industry": True}) == NOT_MET


def test_near_miss_names_the_one_narrow_failure() -> None:
    node = parse_condition({"all": [leaf("employees", "<=", 300), leaf("rd_ratio", ">=", 4)]}, NO_DEFINITIONS)
    blocker = near_miss(node.trace({"employees": 85, "rd_ratio": 3.2}), margin=0.2)
    assert blocker is not None and blocker.node.relation(blocker.value, NOT_MET) == "研发费用占营业收入比例 3.2% < 4%"
    assert near_miss(node.trace({"employees": 85, "rd_ratio": 3.1}), margin=0.2) is None  # 22.5% away
    assert near_miss(node.trace({"employees": 320, "rd_ratio": 3.5}), margin=0.2) is None  # two failures


def test_near_miss_through_an_alternative_that_alone_would_qualify() -> None:
    table = DefinitionTable({"小企业": {"text": "小企业", "cite": CITE, "all": [leaf("employees", "<=", 300)]}})
    raw = {"any": [leaf("taxpayer_type", "==", "小规模纳税人"), {"ref": "小企业"}]}
    trace = parse_condition(raw, table).trace({"taxpayer_type": "一般纳税人", "employees": 320})
    blocker = near_miss(trace, margin=0.2)
    assert blocker is not None and blocker.value == 320


@pytest.mark.parametrize("raw,path,words", [
    (leaf("no_such_field", "==", 1), "conditions.field", "unknown field"),
    (leaf("employees", "contains", "x"), "conditions.op", "does not apply"),
    (leaf("employees", "~", 1), "conditions.op", "unknown op"),
    (leaf("employees", "<=", "300"), "conditions.value", "must be a number"),
    (leaf("employees", "<=", -5), "conditions.value", "outside"),
    (leaf("cert_hightech", "==", "是"), "conditions.value", "true or false"),
    (leaf("taxpayer_type", "==", "小规模"), "conditions.value", "not one of"),
    (leaf("county", "in", ["魏都区", "许昌县"]), "conditions.value[1]", "not one of"),
    ({**leaf("employees", "<=", 300), "threshold": 1}, "conditions.threshold", "unknown keys"),
    ({"all": [leaf("employees", "<=", 300)], "any": []}, "conditions", "exactly one"),
    ({"all": []}, "conditions.all", "non-empty"),
    ({k: v for k, v in leaf("employees", "<=", 300).items() if k != "cite"}, "conditions.cite", "needs cite"),
])
def test_malformed_leaves_name_the_path(raw: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConditionError) as error:
        parse_condition(raw, NO_DEFINITIONS)
    assert error.value.path == path and words in error.value.en


@pytest.mark.parametrize("leaves", [
    [leaf("employees", ">=", 10, "a"), leaf("employees", "<", 5, "b")],
    [leaf("employees", ">", 5, "a"), leaf("employees", "<", 6, "b")],           # no whole number between
    [leaf("taxpayer_type", "==", "一般纳税人", "a"), leaf("taxpayer_type", "==", "小规模纳税人", "b")],
    [leaf("cert_hightech", "==", True, "a"), leaf("cert_hightech", "!=", True, "b")],
    [leaf("rd_ratio", ">", 4, "a"), leaf("rd_ratio", "<=", 4, "b")],
])
def test_contradictory_thresholds_are_rejected(leaves: list[dict[str, Any]]) -> None:
    with pytest.raises(ConditionError, match="contradictory"):
        parse_condition({"all": leaves}, NO_DEFINITIONS)


def test_thresholds_that_meet_at_one_point_or_sit_in_an_any_are_fine() -> None:
    parse_condition({"all": [leaf("rd_ratio", ">=", 4, "a"), leaf("rd_ratio", "<=", 4, "b")]}, NO_DEFINITIONS)
    parse_condition({"any": [leaf("employees", ">=", 10, "a"), leaf("employees", "<", 5, "b")]}, NO_DEFINITIONS)


def test_contradiction_through_a_definition_is_found() -> None:
    table = DefinitionTable({"大企业": {"text": "大企业", "cite": CITE, "all": [leaf("employees", ">=", 1000)]}})
    with pytest.raises(ConditionError, match="contradictory"):
        parse_condition({"all": [{"ref": "大企业"}, leaf("employees", "<=", 300)]}, table)


# ------------------------------------------------------------ compiled and traced paths always agree

_FIELDS = {"cert_hightech": st.sampled_from([True, False, None]),
           "employees": st.sampled_from([0, 299, 300, 301, None]),
           "taxpayer_type": st.sampled_from(["一般纳税人", "小规模纳税人", None])}
_LEAVES = st.sampled_from([is_true("cert_hightech"), leaf("employees", "<=", 300), leaf("employees", ">", 299),
                           leaf("taxpayer_type", "==", "小规模纳税人"), leaf("restricted_industry", "==", False, presume=True)])


def _trees(depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(_LEAVES, lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        children.map(lambda x: {"not": x})), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(tree=_trees(), facts=st.fixed_dictionaries({**_FIELDS, "restricted_industry": st.sampled_from([False, None])}))
def test_compiled_verdict_matches_the_trace(tree: dict[str, Any], facts: dict[str, Any]) -> None:
    try:
        node = parse_condition(tree, NO_DEFINITIONS)
    except ConditionError:
        return  # e.g. a random `all` with contradictory leaves
    verdict = node.test(facts)
    trace = node.trace(facts)
    assert outcome_of(verdict) == trace.outcome
    if trace.outcome == UNKNOWN:
        assert set(verdict) == set(trace.missing) and trace.missing
