"""The LLM brain (`--brain llm`): an openai-agents investigator over the same protocol and
ledger as the systematic brain. Its modules load on first use (the CLI reads option defaults
from `config` without loading the toolset), and the SDK only when a model run starts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rootcause.investigate.llm.brain import LLMBrain
    from rootcause.investigate.llm.config import LLMOptions

__all__ = ["LLMBrain", "LLMOptions"]


def __getattr__(name: str) -> Any:
    if name == "LLMBrain":
        from rootcause.investigate.llm.brain import LLMBrain

        return LLMBrain
    if name == "LLMOptions":
        from rootcause.investigate.llm.config import LLMOptions

        return LLMOptions
    raise AttributeError(name)
