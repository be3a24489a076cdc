"""The systematic brain: runs the same tests over every candidate and applies `rules`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from rootcause.behaviour.symptom import read_symptom
from rootcause.core.report import BehaviorSummary, Hypothesis, HypothesisStatus, Suggestion
from rootcause.investigate.brain import Brain
from rootcause.investigate.detector import check_lines, other_readings
from rootcause.investigate.effects import measure_effects
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import rules
from rootcause.investigate.systematic.attribution import attribute
from rootcause.investigate.systematic.facts import (
    arrived_late,
    behavior_of,
    call_once,
    events_of,
    first_steps,
    memo_of,
    overview_of,
    pressure_of,
    pushes,
    sign_of,
)
from rootcause.investigate.systematic.memo import Attribution
from rootcause.investigate.toolbox import Toolbox, ToolDisabledError
from rootcause.tools.base import quote
from rootcause.tools.builtin.contrast import EnrichmentInput, enrichment
from rootcause.tools.builtin.detect import DetectInput, DetectOutput
from rootcause.tools.builtin.detect import detect as detect_tool
from rootcause.tools.builtin.events import EventAlignmentInput, event_alignment
from rootcause.tools.builtin.pressure import PressureInput, selection_pressure
from rootcause.tools.builtin.prevalence import OnsetInput, PrevalenceInput, onset, prevalence
from rootcause.tools.builtin.run import OverviewInput, SqlInput, overview, sql
from rootcause.tools.stats_common import SliceField

SLICES: tuple[SliceField, ...] = ("persona", "data_source", "env")


def gather_test_facts(box: Toolbox, state: InvestigationState) -> None:
    """What the tests of every candidate read, for the settled detector: the overview (if not
    gathered yet), selection pressure sliced each way, the deployments aligned with the onset,
    and when each data source first appears (also the LLM brain's referee's first calls)."""
    memo = memo_of(state)
    if memo.overview is None:
        memo.overview = box.run(overview, OverviewInput())
    gathered = memo.overview[0]
    behavior = behavior_of(state)
    for by in SLICES:
        memo.pressure[by] = box.run(selection_pressure, PressureInput(behavior=behavior, by=by))
    if gathered.deployments:
        with contextlib.suppress(ToolDisabledError):  # an ablation: no change is traced
            memo.events = box.run(event_alignment, EventAlignmentInput(behavior=behavior))
    if gathered.data_sources:
        memo.sources = box.run(
            sql,
            SqlInput(
                query="SELECT data_source, min(step) AS first_step, count(*) AS samples "
                "FROM samples WHERE data_source IS NOT NULL GROUP BY 1 ORDER BY 1"
            ),
        )


class SystematicBrain(Brain):
    """Offline and deterministic: the rule in `rules` decides, not a model."""

    name = "systematic"

    # -- characterise -------------------------------------------------------------------
    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        spec, memo = state.spec, memo_of(state)
        memo.overview = box.run(overview, OverviewInput())
        asked = (
            DetectInput(behavior=spec.behavior)
            if spec.behavior
            else DetectInput(symptom=spec.symptom)
        )
        memo.detect = box.run(detect_tool, asked)
        detect, e_detect = memo.detect
        proposal = detect.proposal
        if detect.behavior is None or detect.hits == 0:
            self._not_found(state, detect, e_detect)
            return
        state.behavior = BehaviorSummary(
            spec=detect.behavior,
            basis=proposal.basis if proposal else "given with --behavior",
            direction=(
                proposal.direction if proposal else read_symptom(spec.symptom).direction or "up"
            ),
            rate=detect.rate,
            rate_early=detect.rate_first_tenth,
            rate_late=detect.rate_last_tenth,
            hits=[quote(e.text, e.sample_id) for e in detect.hit_examples],
            near_misses=[quote(e.text, e.sample_id) for e in detect.near_misses],
            evidence=[e_detect],
            readings=other_readings(proposal),
            check=check_lines(proposal),
        )
        behavior = detect.behavior
        memo.prevalence = box.run(prevalence, PrevalenceInput(behavior=behavior))
        memo.onset = box.run(onset, OnsetInput(behavior=behavior))
        gather_test_facts(box, state)

    @staticmethod
    def _not_found(state: InvestigationState, detect: DetectOutput, e_detect: str) -> None:
        """Nothing that carries the symptom matches the run: no detector, no hypotheses, and
        the run's emerging behaviours as suggestions."""
        state.behavior = None
        state.suggestions = [Suggestion(**s.model_dump()) for s in detect.suggestions]
        why = detect.proposal.why if detect.proposal else f"{detect.behavior} matches no sample"
        shown = "; ".join(f"{s.behavior} ({s.direction})" for s in detect.suggestions[:3])
        state.summary = f"symptom not found ({e_detect}): {why}" + (
            f"; the run does show {shown}" if shown else "; the run shows no emerging behaviour"
        )

    # -- propose ----------------------------------------------------------------------------
    def propose(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        if state.behavior is None:
            return  # the symptom was not found: nothing to explain
        overview, _ = overview_of(state)
        behavior = behavior_of(state)
        new: list[tuple[str, str, str | None, str]] = []
        new += [
            ("reward_component", c, None, f"{c} rewards {behavior}, selecting for it")
            for c in overview.components
        ]
        new += [
            ("data_source", d, None, f"{d} brings {behavior} in (its prompts or references)")
            for d in overview.data_sources
        ]
        first = min((d.step for d in overview.deployments), default=0)
        new += [
            (
                "config_change",
                d.commit[:10],
                d.commit,
                f"the config deployed at step {d.step} ({d.message}) started {behavior}",
            )
            for d in overview.deployments
            if d.step > first
        ]
        new += [
            ("persona", p, None, f"{behavior} starts in persona {p}") for p in overview.personas
        ]
        new += [("env", e, None, f"{behavior} starts in env {e}") for e in overview.envs]
        for i, (kind, target, commit, statement) in enumerate(new, start=1):
            ledger.propose(
                Hypothesis(
                    id=f"H{i}",
                    kind=kind,
                    target=target,
                    commit=commit,
                    statement=statement,
                )
            )

    # -- test -------------------------------------------------------------------------------
    def test(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, hypothesis_id: str
    ) -> None:
        h = state.hypothesis(hypothesis_id)
        test = {
            "reward_component": self._test_component,
            "data_source": self._test_source,
            "config_change": self._test_commit,
            "persona": self._test_slice,
            "env": self._test_slice,
        }[h.kind]
        test(box, state, ledger, h)

    def _test_component(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        sign = sign_of(state)
        pressure, e_pressure = pressure_of(state, "persona")
        push = next((p for p in pushes(pressure, sign) if p.component == h.target), None)
        if push is None:
            ledger.record(h.id, "refuted", [e_pressure], note="no pressure estimate")
            return
        if not push.significant or push.share < rules.MIN_SHARE:
            status: HypothesisStatus = "inconclusive" if push.z > 2 else "refuted"
            note = (
                f"signed pressure {push.signed:.3g} [{push.low:.3g}, {push.high:.3g}], "
                f"share {push.share:.0%}: not a pusher"
            )
            ledger.record(h.id, status, [e_pressure], score=0.0, note=note)
            return
        attribution = attribute(box, state, push, e_pressure)
        memo_of(state).attributions[h.id] = attribution
        ledger.record(
            h.id,
            "supported",
            attribution.evidence,
            score=attribution.confidence,
            note=attribution.mechanism,
        )

    def _test_source(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        if self._record_linked(
            state,
            ledger,
            h,
            lambda a: a.kind == "data_source" and a.target == h.target,
            lambda a: a.mechanism,
        ):
            return
        first = first_steps(state).get(h.target)
        if first is None:
            ledger.record(h.id, "refuted", [], note="no samples from this source")
            return
        events, e_events = events_of(state)
        arrival = rules.source_change(events, h.target)
        if arrival is None and not arrived_late(state, h.target):
            ledger.record(h.id, "refuted", [], note="present from the start, never re-weighted")
            return
        if sign_of(state) < 0:
            note = "a source explains a fall only through a reward it brings (none found)"
            ledger.record(h.id, "refuted", [], note=note)
            return
        behavior = behavior_of(state)
        enrich, e_enrich = call_once(
            box,
            memo_of(state).enrichment,
            first,
            enrichment,
            EnrichmentInput(
                behavior=behavior, by="data_source", step_min=first, alternative="greater"
            ),
        )
        level = next((lv for lv in enrich.levels if lv.level == h.target), None)
        if level is None or level.lift is None:
            ledger.record(h.id, "refuted", [e_enrich], note="no rate for this source")
            return
        lift = level.lift
        if not (lift >= rules.MIN_LIFT and level.q_value < rules.MAX_Q):
            note = f"lift {lift:.2f}, q={level.q_value:.2g}: not enriched over the same steps"
            ledger.record(h.id, "refuted", [e_enrich], note=note)
            return
        conf = round(0.3 + 0.3 * min((lift - 1) / 2, 1) + 0.25 * (arrival is not None), 3)
        mechanism = (
            f"{h.target} shows {behavior} {lift:.1f}x as often as other sources over the same "
            f"steps (q={level.q_value:.2g}, {e_enrich}) with no reward component pushing it: "
            "its prompts elicit the behaviour"
            + (f"; it was added at step {arrival.step}" if arrival else "")
        )
        attribution = Attribution(
            kind="data_source",
            target=h.target,
            commit=arrival.commit if arrival else None,
            slice={"data_source": h.target},
            confidence=conf,
            mechanism=mechanism,
            fix=rules.source_fix(h.target, None),
            evidence=[e_enrich, *([e_events] if e_events else [])],
        )
        memo_of(state).attributions[h.id] = attribution
        ledger.record(h.id, "supported", attribution.evidence, conf, mechanism)

    def _test_commit(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        if not self._record_linked(
            state,
            ledger,
            h,
            lambda a: a.commit == h.commit,
            lambda a: f"linked to {a.kind} {a.target}",
        ):
            _, e_events = events_of(state)
            ledger.record(
                h.id,
                "refuted",
                [e_events] if e_events else [],
                note="its changes are not linked to any component or source that drives it",
            )

    def _test_slice(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        if not self._record_linked(
            state,
            ledger,
            h,
            lambda a: a.slice is not None and a.slice.get(h.kind) == h.target,
            lambda a: f"where {a.target} pushes it",
            weight=0.5,
        ):
            recorded = memo_of(state).prevalence
            e_prev = [recorded[1]] if recorded else []
            ledger.record(h.id, "refuted", e_prev, note="no driver concentrated here")

    @staticmethod
    def _record_linked(
        state: InvestigationState,
        ledger: Ledger,
        h: Hypothesis,
        matches: Callable[[Attribution], bool],
        note: Callable[[Attribution], str],
        weight: float = 1.0,
    ) -> bool:
        """Support `h` with the most confident attribution it is part of, if any."""
        linked = [a for a in memo_of(state).attributions.values() if matches(a)]
        if not linked:
            return False
        best = max(linked, key=lambda a: a.confidence)
        ledger.record(h.id, "supported", best.evidence, best.confidence * weight, note(best))
        return True

    # -- conclude ---------------------------------------------------------------------------
    def conclude(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        if state.behavior is None:
            state.verdict = "symptom_not_found"
            return
        attributions = list(memo_of(state).attributions.values())
        findings = ledger.conclude(rules.to_findings(attributions))
        behavior = behavior_of(state)
        tested = [h for h in state.hypotheses if h.status != "open"]
        if not findings and not tested:
            state.verdict = "inconclusive"
            state.summary = (
                f"inconclusive: no hypothesis about {behavior} was tested "
                f"({len(state.hypotheses)} proposed), so no cause is ruled out"
            )
            return
        if findings:
            top = findings[0]
            if state.behavior is not None:
                state.effects = measure_effects(box, state.behavior, top)
            state.summary = (
                f"{len(findings)} cause(s) of {behavior}; most likely {top.kind} {top.id}"
                + (f" (commit {top.commit[:10]})" if top.commit else "")
                + f": {top.mechanism}"
            )
        else:
            pressure, e_pressure = pressure_of(state, "persona")
            state.summary = (
                f"no cause found for {behavior}: no reward component pushes it clear of zero "
                f"after correction (total {pressure.total.text()}, {e_pressure}) and no data "
                "source that arrived during the run shows it more than the others"
            )
