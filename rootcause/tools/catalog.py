"""Every tool by name, and the module (`rootcause/tools/t_*.py`) whose `@tool(NAME)` defines it.

The registry's single entry point. It names modules rather than importing them so that a call
of one tool (`rootcause tool overview RUN`) imports that tool's module only; listing the tools
(`rootcause tool list`, the LLM brain, the chat) imports every module named here. A tool module
is cheap to import: its heavy dependencies (scipy, ruptures, matplotlib, the semantic extra) are
imported by the functions that use them, when the tool runs (`tests/test_headless.py` checks).
`rootcause.tools.registry.load_all` checks that each module registers exactly the tools listed
for it.
"""

from __future__ import annotations

#: Tool name -> its module under `rootcause.tools` (grouped by module; listings sort by name).
TOOL_MODULES: dict[str, str] = {
    "overview": "builtin.run",
    "samples": "builtin.run",
    "sql": "builtin.run",
    "detect": "builtin.detect",
    "emerging": "builtin.emerging",
    "prevalence": "builtin.prevalence",
    "compare_traces": "builtin.prevalence",
    "onset": "builtin.prevalence",
    "selection_pressure": "builtin.pressure",
    "counterfactual": "builtin.pressure",
    "reward_contrast": "builtin.contrast",
    "enrichment": "builtin.contrast",
    "config_history": "builtin.config_history",
    "config_diff": "builtin.config_diff",
    "event_alignment": "builtin.events",
    "cot_exposure": "builtin.cot",
    "monitorability": "builtin.monitorability",
}
