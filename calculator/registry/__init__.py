"""Registry scale: the catalog compiled to column expressions and run over a whole enterprise register.

`compiler` turns the catalog's condition trees, derived facts, validity windows and amount formulas into
sqlglot expressions (NULL = unknown, SQL's AND/OR/NOT = Kleene's); `engine` runs them on embedded DuckDB
or on Apache Spark; `ingest` reads and validates register extracts; `batch` writes the verdicts and the
officials' tables; `whatif` compares a draft or a changed parameter with the law as it is.
"""
