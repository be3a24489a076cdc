"""The built-in tools: each module defines one or more `@tool("NAME")` functions.

The registry finds them here without importing them (`rootcause.tools.registry`), so a call of
one tool imports that tool's module only.
"""
