"""The investigator's toolset: the tool framework (what a tool is, the registry, arguments,
the context, the SQL sandbox, plots) and, in `builtin/`, the tools themselves.

The agent, `rootcause tool NAME`, and the TUI call the same tools through
`rootcause.tools.registry`; each call leaves an `Evidence` record. What a behaviour spec
matches, and how a symptom is read, is the layer below (`rootcause.behaviour`).
"""
