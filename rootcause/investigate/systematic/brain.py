"""The systematic brain: runs the same tests over every candidate and applies `rules`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from rootcause.core.report import BehaviorSummary, Hypothesis, HypothesisStatus
from rootcause.investigate.brain import Brain
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import rules
from rootcause.investigate.systematic.facts import (
    Push,
    fetch,
    pushes,
    recall,
    slice_shares,
)
from rootcause.investigate.toolbox import Toolbox, ToolDisabledError
from rootcause.tools.base import quote
from rootcause.tools.symptom import read_symptom
from rootcause.tools.t_contrast import EnrichmentOutput
from rootcause.tools.t_detect import DetectOutput
from rootcause.tools.t_events import DeploymentEvent, EventAlignmentOutput
from rootcause.tools.t_pressure import CounterfactualOutput, PressureOutput
from rootcause.tools.t_prevalence import OnsetOutput, PrevalenceOutput
from rootcause.tools.t_run import OverviewOutput, SqlOutput

SLICES = ("persona", "data_source", "env")


class SystematicBrain(Brain):
    """Offline and deterministic: the rule in `rules` decides, not a model."""

    name = "systematic"

    # -- characterise -------------------------------------------------------------------
    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        spec = state.spec
        overview, _ = fetch(box, state, "overview", "overview", OverviewOutput)
        args = {"behavior": spec.behavior} if spec.behavior else {"symptom": spec.symptom}
        detect, e_detect = fetch(box, state, "detect", "detect", DetectOutput, **args)
        proposal = detect.proposal
        state.behavior = BehaviorSummary(
            spec=detect.behavior,
            basis=proposal.basis if proposal else "given with --behavior",
            direction=(proposal.direction if proposal else read_symptom(spec.symptom).direction),
            rate=detect.rate,
            rate_early=detect.rate_first_tenth,
            rate_late=detect.rate_last_tenth,
            hits=[quote(e.text, e.sample_id) for e in detect.hit_examples],
            near_misses=[quote(e.text, e.sample_id) for e in detect.near_misses],
            evidence=[e_detect],
        )
        behavior = detect.behavior
        box.emit("phase", f"detector {behavior} ({state.behavior.direction})")
        fetch(box, state, "prevalence", "prevalence", PrevalenceOutput, behavior=behavior)
        fetch(box, state, "onset", "onset", OnsetOutput, behavior=behavior)
        for by in SLICES:
            fetch(
                box,
                state,
                f"pressure:{by}",
                "selection_pressure",
                PressureOutput,
                behavior=behavior,
                by=by,
            )
        if overview.deployments:
            with contextlib.suppress(ToolDisabledError):  # an ablation: no change is traced
                fetch(
                    box, state, "events", "event_alignment", EventAlignmentOutput, behavior=behavior
                )
        if overview.data_sources:
            fetch(
                box,
                state,
                "sources",
                "sql",
                SqlOutput,
                query="SELECT data_source, min(step) AS first_step, count(*) AS samples "
                "FROM samples WHERE data_source IS NOT NULL GROUP BY 1 ORDER BY 1",
            )

    # -- propose ----------------------------------------------------------------------------
    def propose(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        overview, _ = recall(state, "overview", OverviewOutput)
        behavior = self._behavior(state)
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
        box.emit("phase", f"{len(new)} hypotheses over components, sources, commits, slices")

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
        box.emit("hypothesis", f"{h.id} {h.kind} {h.target}: {h.status} ({h.score:.2f})")

    def _test_component(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        sign = self._sign(state)
        pressure, e_pressure = recall(state, "pressure:persona", PressureOutput)
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
        attribution = self._attribute(box, state, push, e_pressure)
        state.scratch.setdefault("attributions", {})[h.id] = attribution.__dict__
        ledger.record(
            h.id,
            "supported",
            attribution.evidence,
            score=attribution.confidence,
            note=attribution.mechanism,
        )

    def _attribute(
        self, box: Toolbox, state: InvestigationState, push: Push, e_pressure: str
    ) -> rules.Attribution:
        """Trace a pusher to what changed: the deployment that changed it, or the arrival of
        the one source its push lives in, whichever best explains when its push began."""
        sign = self._sign(state)
        behavior = self._behavior(state)
        c = push.component
        try:
            cf, e_cf = fetch(
                box,
                state,
                f"cf:{c}",
                "counterfactual",
                CounterfactualOutput,
                behavior=behavior,
                remove=[c],
            )
            removed, evidence = cf.share_removed, [e_pressure, e_cf]
        except ToolDisabledError:  # an ablation: confidence without the counterfactual
            removed, e_cf, evidence = None, "counterfactual disabled", [e_pressure]
        events, e_events = self._events(state)
        if e_events:
            evidence.append(e_events)
        changes = []
        for event in events:
            touching = [e for e in event.effects if e.target == c and rules.can_change_reward(e)]
            if touching:
                changes.append((event, touching))
        local = self._localised_source(state, c, sign)
        # Each candidate event is judged on the steps up to its neighbours, so two changes a few
        # steps apart are not credited with each other's effect.
        marks = sorted({e.step for e, _ in changes} | ({local[3]} if local else set()))
        best: tuple[float, DeploymentEvent | None, list[Any]] = (0.0, None, [])
        for event, touching in changes:
            jump = self._jump(box, state, c, event.step, marks)
            if jump > best[0]:
                best = (jump, event, touching)
        jump, change, effects = best
        if local is not None:
            source, share, e_source, arrival_step, arrival = local
            if self._jump(box, state, c, arrival_step, marks) > jump:
                return rules.Attribution(
                    kind="data_source",
                    target=source,
                    commit=arrival.commit if arrival else None,
                    slice={"data_source": source},
                    confidence=rules.confidence(push.z, push.share, True, removed),
                    mechanism=(
                        f"{share:.0%} of {c}'s push on {behavior} comes from {source} "
                        f"({e_source}), which arrived at step {arrival_step}, and the push "
                        f"began with it rather than with any change to {c}; "
                        + self._push_text(push, e_pressure, removed, e_cf)
                    ),
                    fix=rules.source_fix(source, c),
                    evidence=[*evidence, e_source],
                )
        kind = (
            rules.change_kind(effects, rules.behavior_words(behavior))
            if change
            else "reward_component"
        )
        when = (
            f"; it was changed at step {change.step} ({rules.describe_effects(effects)}) and "
            "its push began (or grew most) with that change"
            if change
            else ""
        )
        return rules.Attribution(
            kind=kind,
            target=c,
            commit=change.commit if change else None,
            slice=self._slice_of(state, c, sign),
            confidence=rules.confidence(push.z, push.share, change is not None, removed),
            mechanism=self._push_text(push, e_pressure, removed, e_cf) + when,
            fix=rules.component_fix(kind, c, effects),
            evidence=evidence,
        )

    def _push_text(self, push: Push, e_pressure: str, removed: float | None, e_cf: str) -> str:
        return (
            f"{push.component} selects for the behaviour: signed pressure {push.signed:.3g} "
            f"[{push.low:.3g}, {push.high:.3g}] ({e_pressure}), {push.share:.0%} of the push; "
            f"removing it takes away {_pct(removed)} of the push ({e_cf})"
        )

    def _jump(
        self,
        box: Toolbox,
        state: InvestigationState,
        component: str,
        step: int,
        marks: list[int],
    ) -> float:
        """How well an event at `step` explains the component's push (see `rules.onset_score`):
        its push over the steps just before and just after the event, each window stopping at
        the neighbouring candidate events in `marks`."""
        pressure, _ = recall(state, "pressure:persona", PressureOutput)
        first = min((w.start for w in pressure.by_window), default=0)
        last = max((w.end for w in pressure.by_window), default=0)
        if step >= last:
            return 0.0
        span = max((last - first) // 10, 5)
        later = [m for m in marks if m > step]
        earlier = [m for m in marks if m < step]
        end = min(step + span, later[0]) if later else step + span
        start = max(step - span, earlier[-1]) if earlier else step - span
        after = self._window_push(box, state, component, step, end)
        before = (
            self._window_push(box, state, component, start, step) if step > first else (0.0, 0.0)
        )
        return rules.onset_score(before, after)

    def _window_push(
        self, box: Toolbox, state: InvestigationState, component: str, lo: int, hi: int
    ) -> tuple[float, float]:
        """The component's signed push over steps [lo, hi): (estimate, lower bound)."""
        overview, _ = recall(state, "overview", OverviewOutput)
        out, _ = fetch(
            box,
            state,
            f"pressure:{lo}:{hi}",
            "selection_pressure",
            PressureOutput,
            behavior=self._behavior(state),
            windows=1,
            step_min=max(lo, overview.first_step or 0),
            step_max=hi,
        )
        sign = self._sign(state)
        for c in out.components:
            if c.component == component:
                return sign * c.pressure, min(sign * c.ci_low, sign * c.ci_high)
        return 0.0, 0.0

    def _localised_source(
        self, state: InvestigationState, component: str, sign: float
    ) -> tuple[str, float, str, int, DeploymentEvent | None] | None:
        """The source holding most of the component's push, if it arrived during the run:
        (source, share, evidence, arrival step, arrival deployment)."""
        if "pressure:data_source" not in state.scratch:
            return None
        pressure, e_source = recall(state, "pressure:data_source", PressureOutput)
        shares = slice_shares(pressure, component, sign)
        if not shares:
            return None
        source, share = max(shares.items(), key=lambda kv: kv[1])
        first = self._first_steps(state).get(source)
        if share < rules.LOCAL_SHARE or first is None:
            return None
        events, _ = self._events(state)
        arrival = rules.source_change(events, source)
        if arrival is None and not self._arrived_late(state, source):
            return None
        return source, share, e_source, arrival.step if arrival else first, arrival

    def _slice_of(
        self, state: InvestigationState, component: str, sign: float
    ) -> dict[str, str] | None:
        for by in ("persona", "env"):
            pressure, _ = recall(state, f"pressure:{by}", PressureOutput)
            shares = slice_shares(pressure, component, sign)
            traffic = {s.slice: s.samples for s in pressure.by_slice}
            total = sum(traffic.values()) or 1
            if shares:
                name, share = max(shares.items(), key=lambda kv: kv[1])
                if share >= rules.SLICE_SHARE and traffic.get(name, 0) / total < 0.5:
                    return {by: name}
        return None

    def _test_source(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        if self._record_linked(
            state,
            ledger,
            h,
            lambda a: a["kind"] == "data_source" and a["target"] == h.target,
            lambda a: str(a["mechanism"]),
        ):
            return
        first = self._first_steps(state).get(h.target)
        if first is None:
            ledger.record(h.id, "refuted", [], note="no samples from this source")
            return
        events, e_events = self._events(state)
        arrival = rules.source_change(events, h.target)
        if arrival is None and not self._arrived_late(state, h.target):
            ledger.record(h.id, "refuted", [], note="present from the start, never re-weighted")
            return
        if self._sign(state) < 0:
            note = "a source explains a fall only through a reward it brings (none found)"
            ledger.record(h.id, "refuted", [], note=note)
            return
        behavior = self._behavior(state)
        enrich, e_enrich = fetch(
            box,
            state,
            f"enrich:{first}",
            "enrichment",
            EnrichmentOutput,
            behavior=behavior,
            by="data_source",
            step_min=first,
            alternative="greater",
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
        attribution = rules.Attribution(
            kind="data_source",
            target=h.target,
            commit=arrival.commit if arrival else None,
            slice={"data_source": h.target},
            confidence=conf,
            mechanism=mechanism,
            fix=rules.source_fix(h.target, None),
            evidence=[e_enrich, *([e_events] if e_events else [])],
        )
        state.scratch.setdefault("attributions", {})[h.id] = attribution.__dict__
        ledger.record(h.id, "supported", attribution.evidence, conf, mechanism)

    def _test_commit(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, h: Hypothesis
    ) -> None:
        if not self._record_linked(
            state,
            ledger,
            h,
            lambda a: a["commit"] == h.commit,
            lambda a: f"linked to {a['kind']} {a['target']}",
        ):
            _, e_events = self._events(state)
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
            lambda a: bool(a["slice"]) and a["slice"].get(h.kind) == h.target,
            lambda a: f"where {a['target']} pushes it",
            weight=0.5,
        ):
            _, e_prev = recall(state, "prevalence", PrevalenceOutput)
            ledger.record(h.id, "refuted", [e_prev], note="no driver concentrated here")

    @staticmethod
    def _record_linked(
        state: InvestigationState,
        ledger: Ledger,
        h: Hypothesis,
        matches: Callable[[dict[str, Any]], bool],
        note: Callable[[dict[str, Any]], str],
        weight: float = 1.0,
    ) -> bool:
        """Support `h` with the most confident attribution it is part of, if any."""
        linked = [a for a in state.scratch.get("attributions", {}).values() if matches(a)]
        if not linked:
            return False
        best = max(linked, key=lambda a: a["confidence"])
        ledger.record(h.id, "supported", best["evidence"], best["confidence"] * weight, note(best))
        return True

    # -- conclude ---------------------------------------------------------------------------
    def conclude(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        attributions = [
            rules.Attribution(**a) for a in state.scratch.get("attributions", {}).values()
        ]
        findings = ledger.conclude(rules.to_findings(attributions))
        behavior = self._behavior(state)
        if findings:
            top = findings[0]
            state.summary = (
                f"{len(findings)} cause(s) of {behavior}; most likely {top.kind} {top.id}"
                + (f" (commit {top.commit[:10]})" if top.commit else "")
                + f": {top.mechanism}"
            )
        else:
            pressure, e_pressure = recall(state, "pressure:persona", PressureOutput)
            state.summary = (
                f"no cause found for {behavior}: no reward component pushes it clear of zero "
                f"after correction (total {pressure.total.text()}, {e_pressure}) and no data "
                "source that arrived during the run shows it more than the others"
            )

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _behavior(state: InvestigationState) -> str:
        assert state.behavior is not None
        return state.behavior.spec

    @staticmethod
    def _sign(state: InvestigationState) -> float:
        assert state.behavior is not None
        return 1.0 if state.behavior.direction == "up" else -1.0

    @staticmethod
    def _events(state: InvestigationState) -> tuple[list[DeploymentEvent], str | None]:
        if "events" not in state.scratch:
            return [], None
        events, e_events = recall(state, "events", EventAlignmentOutput)
        return events.events, e_events

    @staticmethod
    def _first_steps(state: InvestigationState) -> dict[str, int]:
        if "sources" not in state.scratch:
            return {}
        out, _ = recall(state, "sources", SqlOutput)
        return {str(row[0]): int(row[1]) for row in out.rows}

    def _arrived_late(self, state: InvestigationState, source: str) -> bool:
        firsts = self._first_steps(state)
        if source not in firsts or not firsts:
            return False
        overview, _ = recall(state, "overview", OverviewOutput)
        lo, hi = overview.first_step or 0, overview.last_step or 0
        return firsts[source] > lo + rules.LATE_ARRIVAL * max(hi - lo, 1)


def _pct(value: float | None) -> str:
    return "an unclear share" if value is None else f"{value:.0%}"
