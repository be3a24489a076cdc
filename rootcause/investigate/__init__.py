"""The investigation: a LangGraph protocol driven by a pluggable brain, a hypothesis ledger,
and the report (`rootcause-report/1`)."""
