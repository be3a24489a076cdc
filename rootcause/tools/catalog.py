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
    "overview": "t_run",
    "samples": "t_run",
    "sql": "t_run",
    "detect": "t_detect",
    "emerging": "t_emerging",
    "prevalence": "t_prevalence",
    "compare_traces": "t_prevalence",
    "onset": "t_prevalence",
    "selection_pressure": "t_pressure",
    "counterfactual": "t_pressure",
    "reward_contrast": "t_contrast",
    "enrichment": "t_contrast",
    "config_history": "t_config_history",
    "config_diff": "t_config_diff",
    "event_alignment": "t_events",
    "cot_exposure": "t_cot",
    "monitorability": "t_monitorability",
}
