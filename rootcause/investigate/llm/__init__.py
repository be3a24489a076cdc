"""The LLM brain (`--brain llm`): an openai-agents investigator over the same protocol and
ledger as the systematic brain. The SDK is imported only when a model run starts."""

from rootcause.investigate.llm.brain import LLMBrain
from rootcause.investigate.llm.config import LLMOptions

__all__ = ["LLMBrain", "LLMOptions"]
