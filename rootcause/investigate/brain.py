"""The brain interface: what drives the protocol's steps. The systematic brain (offline,
deterministic) and the LLM brain implement the same four steps over the same ledger."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rootcause.investigate.ledger import Ledger
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.toolbox import Toolbox


class Brain(ABC):
    """Characterise the symptom, propose hypotheses, test one at a time, conclude."""

    name: str

    @abstractmethod
    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        """Settle the behaviour detector and gather what every test needs."""

    @abstractmethod
    def propose(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        """Add hypotheses over the closed vocabulary of candidates to the ledger."""

    @abstractmethod
    def test(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, hypothesis_id: str
    ) -> None:
        """Test one hypothesis and record its status and evidence."""

    @abstractmethod
    def conclude(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        """Turn the ledger into ranked findings (or none) and a summary."""
