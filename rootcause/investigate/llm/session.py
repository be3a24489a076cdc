"""What the model runs of one protocol step share: the toolbox, state and ledger, the brain's
memo, the budgets, the local call log (`llm-log.jsonl`) and the event stream.

Budgets count over the whole investigation (across steps and a resume): model turns (in the
memo) and tokens live in the checkpointed state, tool calls in `stats.tool_calls` plus this
step's calls, wall time in `stats.wall_s` plus this step's time. When one runs out,
`BudgetExceeded` unwinds the current model run and the brain finishes from what the ledger
holds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import RootcauseError
from rootcause.core.report import FailedStep
from rootcause.investigate.cancel import JobCancelled
from rootcause.investigate.events import BudgetStopped, InvestigationEvent, StepFailed
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.llm.candidates import Candidates
from rootcause.investigate.llm.config import LLMOptions, Provider
from rootcause.investigate.llm.memo import LLMMemo
from rootcause.investigate.llm.pricing import Prices, cost_usd
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.toolbox import Toolbox

logger = logging.getLogger(__name__)

LOG_NAME = "llm-log.jsonl"


class BudgetExceeded(Exception):
    """A budget ran out; `reason` says which (e.g. 'max tool calls (2)')."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def stop_cause(exc: BaseException) -> BudgetExceeded | JobCancelled | None:
    """The `BudgetExceeded` or `JobCancelled` behind an exception the SDK wrapped, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BudgetExceeded | JobCancelled):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class CallLog:
    """Append-only JSONL of every model and tool call, in the investigation folder."""

    def __init__(self, folder: Path):
        self.path = folder / LOG_NAME

    def write(self, kind: str, **data: Any) -> None:
        record = {"t": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kind": kind, **data}
        try:
            with self.path.open("ab") as out:
                out.write(orjson.dumps(record, default=str) + b"\n")
        except OSError as exc:  # the log must never stop an investigation
            logger.warning("cannot write %s: %s", self.path, exc)


@dataclass
class Session:
    box: Toolbox
    state: InvestigationState
    ledger: Ledger
    options: LLMOptions
    provider: Provider | None
    model_name: str
    prices: Prices
    log: CallLog
    phase: str = ""
    started: float = field(default_factory=time.perf_counter)

    # -- what is kept in the checkpointed state ---------------------------------------------
    @property
    def memo(self) -> LLMMemo:
        """The brain's memo in the state (created on first use)."""
        state = self.state
        if state.memo is None:
            state.memo = LLMMemo()
        if not isinstance(state.memo, LLMMemo):
            brain = state.memo.brain
            raise RootcauseError(f"investigation {state.spec.id} was started by the {brain} brain")
        return state.memo

    @property
    def turns(self) -> int:
        return self.memo.turns

    @property
    def tool_calls(self) -> int:
        return self.state.stats.tool_calls + self.box.calls

    @property
    def tokens(self) -> int:
        return self.state.stats.tokens_in + self.state.stats.tokens_out

    @property
    def elapsed(self) -> float:
        return self.state.stats.wall_s + time.perf_counter() - self.started

    @property
    def stopped(self) -> str | None:
        """The budget that ran out, if one did."""
        return self.memo.budget_stop or None

    @property
    def halted(self) -> str | None:
        """Why the investigation goes no further: a budget ran out, or a step that the rest
        depends on (settling the detector, proposing hypotheses) failed."""
        return self.stopped or self.memo.halted or None

    @property
    def candidates(self) -> Candidates:
        """The run's candidate causes (read once per investigation)."""
        ctx = self.box.ctx
        return ctx.memo(("llm", "candidates"), lambda: Candidates.of(ctx.store.overview()))

    def remaining_wall(self) -> float:
        return max(self.options.wall_time_s - self.elapsed, 0.0)

    # -- budgets ---------------------------------------------------------------------------
    def check_model(self) -> None:
        """Before a model call: a cancelled job stops here, between model turns."""
        self.box.cancel.check()
        o = self.options
        if self.turns >= o.max_turns:
            raise BudgetExceeded(f"max turns ({o.max_turns})")
        if self.tokens >= o.max_tokens:
            raise BudgetExceeded(f"max tokens ({o.max_tokens:,})")
        self._check_wall()

    def check_tool(self) -> None:
        """Before a registry tool call."""
        if self.tool_calls >= self.options.max_tool_calls:
            raise BudgetExceeded(f"max tool calls ({self.options.max_tool_calls})")
        self._check_wall()

    def _check_wall(self) -> None:
        if self.elapsed >= self.options.wall_time_s:
            raise BudgetExceeded(f"wall time ({self.options.wall_time_s:g} s)")

    def stop(self, reason: str) -> None:
        if not self.stopped:
            self.memo.budget_stop = reason
            self.log.write("budget", phase=self.phase, reason=reason)
            self.emit(BudgetStopped(reason=reason))

    def fail_step(self, step: str, reason: str, halt: bool = False) -> None:
        """Record that the model did not do `step` (after its corrective turn); with `halt`,
        the steps that depend on it are not run."""
        self.memo.failed_steps.append(FailedStep(step=step, reason=reason))
        self.log.write("step_failed", phase=self.phase, step=step, reason=reason, halt=halt)
        self.emit(StepFailed(step=step, reason=reason, corrective=False))
        if halt and not self.halted:
            self.memo.halted = f"{step} failed"

    def mark_untested(self, hypothesis_id: str, why: str) -> None:
        """Close a hypothesis that was never tested: inconclusive, and listed as untested."""
        self.ledger.record(hypothesis_id, "inconclusive", [], note=f"not tested: {why}")
        if hypothesis_id not in self.memo.untested:
            self.memo.untested.append(hypothesis_id)

    def budget_left(self) -> str:
        o = self.options
        return (
            f"{max(o.max_tool_calls - self.tool_calls, 0)} tool calls, "
            f"{max(o.max_turns - self.turns, 0)} model turns, "
            f"{max(o.max_tokens - self.tokens, 0):,} tokens, {self.remaining_wall():.0f} s"
        )

    # -- accounting --------------------------------------------------------------------------
    def count_turn(self) -> int:
        self.memo.turns += 1
        return self.turns

    def add_usage(self, tokens_in: int, tokens_out: int) -> float:
        stats = self.state.stats
        stats.tokens_in += tokens_in
        stats.tokens_out += tokens_out
        cost = cost_usd(self.prices, self.model_name, tokens_in, tokens_out)
        stats.cost_usd = round(stats.cost_usd + cost, 6)
        return cost

    def emit(self, event: InvestigationEvent) -> None:
        self.box.emit(event)
