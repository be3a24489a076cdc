"""The investigation protocol as a LangGraph graph, checkpointed after every step.

    characterise -> propose -> test (one hypothesis per step, loop) -> conclude -> report

The graph state is one JSON object (`InvestigationState`), so a checkpoint is complete and a
killed or cancelled job resumes from its last finished step: evidence ids continue where they
stopped, and tool calls repeated by a resumed step write the same files. Each step starts by
checking the cancel token and announcing itself (`phase_started`); characterise ends by
announcing the detector (`detector_settled`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypedDict

from rootcause.investigate.brain import Brain
from rootcause.investigate.cancel import CancelToken
from rootcause.investigate.events import DetectorSettled, EventSink, Phase, PhaseStarted
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.context import EvidenceLog, ToolContext

#: Upper bound on graph steps (one per hypothesis plus the fixed phases).
RECURSION_LIMIT = 2000


class GraphState(TypedDict):
    data: dict[str, Any]


Finisher = Callable[[InvestigationState], None]


class Protocol:
    """Runs a brain through the protocol on one run, checkpointing into `checkpoints`."""

    def __init__(
        self,
        brain: Brain,
        ctx: ToolContext,
        checkpoints: Path,
        finish: Finisher,
        on_event: EventSink | None = None,
        disabled_tools: Collection[str] = (),
        cancel: CancelToken | None = None,
    ):
        self.brain = brain
        self.ctx = ctx
        self.checkpoints = checkpoints
        self.finish = finish
        self.on_event = on_event
        self.disabled_tools = tuple(disabled_tools)
        self.cancel = cancel or CancelToken()

    def _emit(self, event: DetectorSettled | PhaseStarted) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _step(
        self, name: Phase, body: Callable[[Toolbox, InvestigationState, Ledger], None]
    ) -> Callable[[GraphState], GraphState]:
        def node(graph_state: GraphState) -> GraphState:
            state = InvestigationState.model_validate(graph_state["data"])
            state.phase = name
            testing = state.queue[0] if name == "test" and state.queue else None
            self._emit(PhaseStarted(phase=name, hypothesis=testing))
            self.cancel.check()
            # Tool calls append to the state's own list, so the ledger sees new ids at once.
            self.ctx.evidence = EvidenceLog()
            self.ctx.evidence.records = state.evidence
            box = Toolbox(self.ctx, self.on_event, self.disabled_tools, self.cancel)
            started = time.perf_counter()
            body(box, state, Ledger(state, self.on_event))
            state.stats.tool_calls += box.calls
            state.stats.wall_s = round(state.stats.wall_s + time.perf_counter() - started, 3)
            if name == "characterise":
                self._emit(DetectorSettled(behavior=state.behavior))
            return {"data": state.model_dump(mode="json")}

        return node

    def _test_next(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        hypothesis_id = state.queue[0]
        self.brain.test(box, state, ledger, hypothesis_id)
        state.queue.pop(0)

    def _report(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        self.finish(state)

    def graph(self, checkpointer: Any) -> Any:
        from langgraph.graph import END, START, StateGraph

        builder: Any = StateGraph(GraphState)  # langgraph overloads defeat mypy here
        builder.add_node(
            "characterise",
            self._step("characterise", lambda b, s, _: self.brain.characterise(b, s)),
        )
        builder.add_node("propose", self._step("propose", self.brain.propose))
        builder.add_node("test", self._step("test", self._test_next))
        builder.add_node("conclude", self._step("conclude", self.brain.conclude))
        builder.add_node("report", self._step("report", self._report))

        def after(graph_state: GraphState) -> str:
            return "test" if graph_state["data"].get("queue") else "conclude"

        builder.add_edge(START, "characterise")
        builder.add_edge("characterise", "propose")
        builder.add_conditional_edges("propose", after, ["test", "conclude"])
        builder.add_conditional_edges("test", after, ["test", "conclude"])
        builder.add_edge("conclude", "report")
        builder.add_edge("report", END)
        return builder.compile(checkpointer=checkpointer)

    def run(self, thread_id: str, initial: InvestigationState | None) -> InvestigationState:
        """Start (with `initial`) or resume (with None) the investigation `thread_id`."""
        from langgraph.checkpoint.sqlite import SqliteSaver

        self.checkpoints.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(self.checkpoints), check_same_thread=False)
        try:
            graph = self.graph(SqliteSaver(con))
            config = {"configurable": {"thread_id": thread_id}, "recursion_limit": RECURSION_LIMIT}
            payload = None if initial is None else {"data": initial.model_dump(mode="json")}
            result = graph.invoke(payload, config=config)
            return InvestigationState.model_validate(result["data"])
        finally:
            con.close()

    @staticmethod
    def saved_state(checkpoints: Path, thread_id: str) -> InvestigationState | None:
        """The last checkpointed state of `thread_id`, if any."""
        from langgraph.checkpoint.sqlite import SqliteSaver

        if not checkpoints.exists():
            return None
        con = sqlite3.connect(str(checkpoints), check_same_thread=False)
        try:
            saved = SqliteSaver(con).get_tuple({"configurable": {"thread_id": thread_id}})
        finally:
            con.close()
        if saved is None:
            return None
        data = saved.checkpoint["channel_values"].get("data")
        return None if data is None else InvestigationState.model_validate(data)
