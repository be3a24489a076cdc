"""The behaviour layer: the spec grammar (`regex:`, `terms:`, `semantic:`, `judge:`, `words:`)
and the reading of a symptom into a checked detector.

Below the tools (a tool measures a behaviour through these modules) and above `search/`,
`analysis/` and `store/`; `scan/` and `remedy/` use it directly. See docs/architecture.md.
"""
