"""The investigator's toolset: typed functions over the run, one registry for all callers.

The agent, `rootcause tool NAME`, and the TUI call the same tools through
`rootcause.tools.registry`; each call leaves an `Evidence` record.
"""
