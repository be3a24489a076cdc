"""The workspace on disk (DuckDB) and the readers that bring runs into it."""
