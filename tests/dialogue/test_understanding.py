"""How well the product reads enterprises' own words, on the evaluation sets of tests/data/understanding/
(issue 11 §5): the held-out scores stay at or above what was reported, the tuned ones too, and the scorer
itself says what a right fact is. The held-out third was never read while the parser was tuned."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from paths import DATA

from calculator.dialogue.quality import evaluate_set, expected_profile, read_set, same_fact
from calculator.facts.interval import Interval
from calculator.facts.schema import default_schema

SETS = DATA / "understanding"

# Reported for this branch on the catalog of the law of 2026-12-01 (README "Reading what people write"): the
# floor each score must keep. Verdicts count where the catalog's rules already agree with the set on its
# expected facts (the rest are choices of the law integration the set reads otherwise: see the README).
FLOORS = {
    ("descriptions", "tune"): {"facts": 0.974, "verdicts": 1.0},
    ("descriptions", "heldout"): {"facts": 0.9, "verdicts": 0.975},
    ("chats", "tune"): {"facts": 0.956, "verdicts": 1.0},
    ("chats", "heldout"): {"facts": 0.866, "verdicts": 0.964},
    # The second and third sets (round 3), by three more authors: their held-out thirds measure how the
    # reading generalises to words it was not tuned on.
    ("descriptions_2", "tune"): {"facts": 0.968, "verdicts": 0.992},
    ("descriptions_2", "heldout"): {"facts": 0.884, "verdicts": 0.917},
    ("chats_2", "tune"): {"facts": 0.927, "verdicts": 0.985},
    ("chats_2", "heldout"): {"facts": 0.862, "verdicts": 0.948},
    ("descriptions_3", "tune"): {"facts": 0.832, "verdicts": 0.934},
    ("descriptions_3", "heldout"): {"facts": 0.799, "verdicts": 0.881},
}


@pytest.fixture
def no_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chats ask questions too; without an index they are answered "no index yet" at once."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))


@pytest.mark.parametrize(("name", "split"), sorted(FLOORS))
def test_scores_stay_at_or_above_what_was_reported(name: str, split: str, no_index: None) -> None:
    score = evaluate_set(read_set(SETS / f"{name}.yaml"), (split,))[split].to_json()
    floor = FLOORS[(name, split)]
    print(f"\n{name} {split}: facts {score['facts']['accuracy']}, verdicts {score['verdicts']['accuracy']} "
          f"({score['verdicts']['scored']} scored), reading {score['parser_verdicts']['accuracy']}")
    assert score["facts"]["accuracy"] >= floor["facts"]
    assert score["verdicts"]["accuracy"] >= floor["verdicts"]


def test_the_sets_keep_their_split() -> None:
    descriptions, chats = read_set(SETS / "descriptions.yaml"), read_set(SETS / "chats.yaml")
    assert (len(descriptions), sum(e["split"] == "heldout" for e in descriptions)) == (222, 74)
    assert (len(chats), sum(e["split"] == "heldout" for e in chats)) == (52, 17)
    descriptions, chats = read_set(SETS / "descriptions_2.yaml"), read_set(SETS / "chats_2.yaml")
    assert (len(descriptions), sum(e["split"] == "heldout" for e in descriptions)) == (246, 82)
    assert (len(chats), sum(e["split"] == "heldout" for e in chats)) == (84, 28)
    third = read_set(SETS / "descriptions_3.yaml")
    assert (len(third), sum(e["split"] == "heldout" for e in third)) == (172, 57)


def test_a_right_fact() -> None:
    schema = default_schema()
    vague = {"min": 300, "max": 400, "min_open": False, "max_open": True}
    assert same_fact(schema, "taxable_income", Interval(300, 400, high_open=True), vague)
    assert not same_fact(schema, "taxable_income", Interval(300, 400), vague)          # the open end matters
    assert not same_fact(schema, "taxable_income", 300, vague)                          # a point is no interval
    assert same_fact(schema, "employees", 299.5, 299.5) and not same_fact(schema, "employees", 299, 299.5)
    assert same_fact(schema, "founded", date(2015, 1, 1), "2015")                      # in the year said
    assert same_fact(schema, "founded", date(2018, 12, 1), {"min": "2017-12-02", "max": "2018-12-01"})
    assert not same_fact(schema, "founded", date(2019, 1, 1), "2018")
    assert same_fact(schema, "cert_hightech", False, False) and not same_fact(schema, "cert_hightech", 0, False)


def test_expected_facts_become_a_profile_the_engine_composes() -> None:
    facts = {"employees_q1": 295, "employees_q2": 300, "employees_q3": 305, "employees_q4": 298, "employees": 299.5,
             "founded": {"min": "2017-12-02", "max": "2018-12-01"}}
    profile = expected_profile(default_schema(), facts)
    assert "employees" not in profile and profile["founded"] == "2018-12-01"


def test_a_bad_set_is_one_clear_error(tmp_path: Path) -> None:
    from calculator.core.errors import UserError

    bad = tmp_path / "bad.yaml"
    bad.write_text("- {text: 员工85人}\n", encoding="utf-8")
    with pytest.raises(UserError, match="split"):
        read_set(bad)
