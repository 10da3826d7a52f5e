"""`python -m calculator schema`: the enterprise profile's JSON Schema (Chinese titles, units, groups)."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: the schema is generated from knowledge/data/profile_fields.yaml."""


def run(args: argparse.Namespace) -> int:
    from calculator.facts.profile import profile_schema

    print(json.dumps(profile_schema(), ensure_ascii=False, indent=2))
    return 0
