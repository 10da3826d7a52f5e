"""Condition trees (see tree.py)."""
from calculator.policy.rules.tree import *  # noqa: F401,F403  (temporary during the move)
from calculator.policy.rules.tree import _compile_leaf  # noqa: F401
