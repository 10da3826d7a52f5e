"""`python ingest.py [PATH]`: the same as `python -m calculator ingest [PATH]` (see calculator/commands/ingest.py)."""
import sys

from calculator.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
