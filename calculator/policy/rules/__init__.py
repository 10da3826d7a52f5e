"""Condition trees as data: the tree and its compiled closures (tree), loading from YAML (load), the
consistency check (check) and the Chinese words of a trace (wording)."""
from calculator.policy.rules.load import ConditionError, DefinitionTable, parse_condition
from calculator.policy.rules.tree import (
                                          MET,
                                          NOT_MET,
                                          UNKNOWN,
                                          Definition,
                                          Group,
                                          Leaf,
                                          Node,
                                          Not,
                                          Ref,
                                          Trace,
                                          all_of,
                                          any_of,
                                          leaf_of,
                                          near_miss,
                                          outcome_of,
                                          target,
)

__all__ = ["MET", "NOT_MET", "UNKNOWN", "ConditionError", "Definition", "DefinitionTable", "Group", "Leaf", "Node",
           "Not", "Ref", "Trace", "all_of", "any_of", "leaf_of", "near_miss", "outcome_of", "parse_condition", "target"]
