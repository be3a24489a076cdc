"""How a chat is opened and configured: plain values a face builds before anything heavy
loads (so its first screen shows at once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rootcause.investigate.llm.config import LLMOptions
from rootcause.investigate.options import BrainOptions
from rootcause.store.options import IngestOptions

if TYPE_CHECKING:
    from agents import Model


@dataclass
class ChatSettings:
    """How the session investigates and talks: the brain `/investigate` runs and its options
    (`LLMOptions` for `llm`, which also serves free text), the API key (never stored), and
    how the run is read."""

    brain: str = "systematic"
    options: BrainOptions | None = None
    api_key: str | None = field(default=None, repr=False)
    #: A model to use instead of a provider (tests: `agents.testing.ScriptedModel`).
    model: Model | None = None
    run_format: str = "auto"
    ingest_options: IngestOptions | None = None

    @property
    def llm(self) -> bool:
        return self.brain == "llm"

    def llm_options(self) -> LLMOptions:
        if isinstance(self.options, LLMOptions):
            return self.options
        return LLMOptions()


@dataclass(frozen=True)
class OpenRequest:
    """What to open: a run (a new session; `session_id` names it, else one is made up) or a
    session to resume."""

    run: Path | None = None
    resume: str | None = None
    session_id: str | None = None
