"""What the model runs of one protocol step share: the toolbox, state and ledger, the budgets,
the local call log (`llm-log.jsonl`) and the event stream.

Budgets count over the whole investigation (across steps and a resume): model turns and tokens
live in the checkpointed state, tool calls in `stats.tool_calls` plus this step's calls, wall
time in `stats.wall_s` plus this step's time. When one runs out, `BudgetExceeded` unwinds the
current model run and the brain finishes from what the ledger holds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rootcause.investigate.ledger import Ledger
from rootcause.investigate.llm.candidates import Candidates
from rootcause.investigate.llm.config import LLMOptions, Provider
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


def budget_cause(exc: BaseException) -> BudgetExceeded | None:
    """The `BudgetExceeded` behind an exception the SDK wrapped, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BudgetExceeded):
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

    # -- counters kept in the checkpointed state ------------------------------------------
    @property
    def llm(self) -> dict[str, Any]:
        return self.state.scratch.setdefault("llm", {"turns": 0})

    @property
    def turns(self) -> int:
        return int(self.llm.get("turns", 0))

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
        reason = self.llm.get("budget_stop")
        return str(reason) if reason else None

    @property
    def halted(self) -> str | None:
        """Why the investigation goes no further: a budget ran out, or a step that the rest
        depends on (settling the detector, proposing hypotheses) failed."""
        reason = self.stopped or self.llm.get("halted")
        return str(reason) if reason else None

    @property
    def candidates(self) -> Candidates:
        """The run's candidate causes (read once per investigation)."""
        ctx = self.box.ctx
        return ctx.memo(("llm", "candidates"), lambda: Candidates.of(ctx.store.overview()))

    def remaining_wall(self) -> float:
        return max(self.options.wall_time_s - self.elapsed, 0.0)

    # -- budgets ---------------------------------------------------------------------------
    def check_model(self) -> None:
        """Before a model call."""
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
            self.llm["budget_stop"] = reason
            self.log.write("budget", phase=self.phase, reason=reason)
            self.emit("budget", f"stopped on budget: {reason}; finishing from the ledger")

    def fail_step(self, step: str, reason: str, halt: bool = False) -> None:
        """Record that the model did not do `step` (after its corrective turn); with `halt`,
        the steps that depend on it are not run."""
        self.llm.setdefault("failed_steps", []).append({"step": step, "reason": reason})
        self.log.write("step_failed", phase=self.phase, step=step, reason=reason, halt=halt)
        self.emit("failed", f"{step} failed: {reason}")
        if halt and not self.halted:
            self.llm["halted"] = f"{step} failed"

    def mark_untested(self, hypothesis_id: str, why: str) -> None:
        """Close a hypothesis that was never tested: inconclusive, and listed as untested."""
        self.ledger.record(hypothesis_id, "inconclusive", [], note=f"not tested: {why}")
        untested = self.llm.setdefault("untested", [])
        if hypothesis_id not in untested:
            untested.append(hypothesis_id)

    def budget_left(self) -> str:
        o = self.options
        return (
            f"{max(o.max_tool_calls - self.tool_calls, 0)} tool calls, "
            f"{max(o.max_turns - self.turns, 0)} model turns, "
            f"{max(o.max_tokens - self.tokens, 0):,} tokens, {self.remaining_wall():.0f} s"
        )

    # -- accounting --------------------------------------------------------------------------
    def count_turn(self) -> int:
        self.llm["turns"] = self.turns + 1
        return self.turns

    def add_usage(self, tokens_in: int, tokens_out: int) -> float:
        stats = self.state.stats
        stats.tokens_in += tokens_in
        stats.tokens_out += tokens_out
        cost = cost_usd(self.prices, self.model_name, tokens_in, tokens_out)
        stats.cost_usd = round(stats.cost_usd + cost, 6)
        return cost

    def emit(self, kind: str, message: str) -> None:
        self.box.emit(kind, message)
