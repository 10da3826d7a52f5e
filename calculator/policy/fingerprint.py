"""Content fingerprints of policy items and of the whole catalog.

Two consumers need to know "did this change?" without trusting file times: the coverage cache (same
catalog and day → same answer) and subscriptions (an item whose content changed is news again). The
fingerprint covers the item as written plus the named definitions it uses, because editing
`_definitions.yaml` (say, a 小型微利企业 threshold) changes who qualifies without touching the item file.
"""
from __future__ import annotations

import hashlib
import json
import weakref
from typing import Any

from calculator.policy.catalog import Catalog, Policy
from calculator.policy.parameters import Parameter
from calculator.policy.rules.tree import Group, Leaf, Node, Not, Ref


def _signature(node: Node) -> Any:
    """The logic of a compiled condition tree as plain data (texts and cites matter less than logic,
    but they are shown to people, so they are included too)."""
    if isinstance(node, Leaf):
        value = sorted(node.value, key=str) if isinstance(node.value, (list, tuple, set, frozenset)) else node.value
        law = _parameter(node.parameter) if node.parameter is not None else None
        return ["leaf", node.field, node.op, value, node.presume, node.text, law]
    if isinstance(node, Ref):
        return ["ref", node.definition.name, _signature(node.definition.node)]
    if isinstance(node, Not):
        return ["not", node.text, _signature(node.child)]
    if isinstance(node, Group):
        return [node.kind, node.text, [_signature(child) for child in node.children]]
    return [type(node).__name__, getattr(node, "text", "")]


def _parameter(parameter: Parameter) -> Any:
    """A dated parameter's values (a new value of the law changes who qualifies, or how much)."""
    return [parameter.name, [[v.start.isoformat(), v.value, v.boundary, v.verified] for v in parameter.values]]


def policy_fingerprint(policy: Policy) -> str:
    """sha256 over the item's YAML content, the definitions it references and the dated parameters its
    conditions and amount read (16 hex digits)."""
    formula = [_parameter(policy.parameters[n]) for n in policy.amount.parameters if n in policy.parameters] \
        if policy.amount else []
    payload = json.dumps([policy.item.model_dump(mode="json", by_alias=True), _signature(policy.conditions), formula],
                         ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


_CATALOG_FINGERPRINTS: "weakref.WeakKeyDictionary[Catalog, str]" = weakref.WeakKeyDictionary()


def catalog_fingerprint(catalog: Catalog) -> str:
    """Order-independent digest of every item's fingerprint, plus the law-derived rules (the marginal rate).

    Remembered per catalog object (a catalog is never changed in place; an edit loads a new one): every
    match report carries it, and a chat turn makes several."""
    known = _CATALOG_FINGERPRINTS.get(catalog)
    if known is None:
        known = _CATALOG_FINGERPRINTS[catalog] = _digest(catalog)
    return known


def _digest(catalog: Catalog) -> str:
    parts = sorted(f"{p.id}:{policy_fingerprint(p)}" for p in catalog.policies)
    parts += [f"derived:{name}:{rule.text}:{rule.formula.source if rule.formula else ''}:{rule.years}"
              for name, rule in catalog.derived_rules.items()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
