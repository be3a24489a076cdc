"""The referee: before an LLM investigation ends `cause_found`, the systematic brain's tests
run on each grounded finding with the settled detector, and a finding they do not support is
kept but marked not confirmed (`Finding.referee`).

What runs is the systematic brain's own code (`rootcause.investigate.systematic`), on a scratch
state that shares the investigation's evidence log, so its records get the next evidence ids
and the report cites them:

- first the facts every test reads (`gather_test_facts`): selection pressure by persona, data
  source and env, the deployments aligned with the onset, each source's first step (5 calls,
  plus `overview` when the model never ran it);
- a reward component: its selection pressure with its interval (Bonferroni across
  components, at least `rules.MIN_SHARE` of the push), then the counterfactual without it and
  the pressure around each change to it (1 counterfactual + about 2 window pressures per
  change);
- a data source: enrichment over the steps since it arrived and the timing of its arrival
  (1 call), after the pushing components were traced (a source can carry a component's push);
- a config commit, a persona or an env: the pushing components are traced, and the finding is
  confirmed when one of them is linked to it (the commit that changed it, the slice its push
  lives in).
"""

from __future__ import annotations

from rootcause.core.report import Finding, FindingKind, Hypothesis, RefereeCheck
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.llm.candidates import Candidates
from rootcause.investigate.llm.support import evidence_number
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import rules
from rootcause.investigate.systematic.brain import SystematicBrain, gather_test_facts
from rootcause.investigate.systematic.facts import pressure_of, pushes, sign_of
from rootcause.investigate.systematic.memo import SystematicMemo
from rootcause.investigate.toolbox import Toolbox, ToolDisabledError


class Referee:
    """Runs the systematic tests on findings of one investigation (facts gathered once)."""

    def __init__(self, box: Toolbox, state: InvestigationState, candidates: Candidates):
        assert state.behavior is not None, "the referee needs a settled detector"
        self.box = box
        self.candidates = candidates
        self.calls_before = box.calls
        self.scratch = InvestigationState(spec=state.spec, behavior=state.behavior)
        self.scratch.memo = SystematicMemo()
        self.scratch.evidence = state.evidence  # the same log: ids continue, records are kept
        self.ledger = Ledger(self.scratch)  # its hypotheses are the referee's, not announced
        self.brain = SystematicBrain()
        self.facts: list[str] = []
        self._traced = False

    @property
    def calls(self) -> int:
        return self.box.calls - self.calls_before

    def _test(self, kind: FindingKind, target: str, commit: str | None) -> Hypothesis:
        scratch = self.scratch
        for h in scratch.hypotheses:
            if (h.kind, h.target, h.commit) == (kind, target, commit):
                return h
        h = Hypothesis(
            id=f"R{len(scratch.hypotheses) + 1}",
            kind=kind,
            target=target,
            commit=commit,
            statement=f"referee: {kind} {target}",
        )
        self.ledger.propose(h)
        self.brain.test(self.box, scratch, self.ledger, h.id)
        return h

    def _gather(self) -> None:
        if not self.facts:
            before = len(self.scratch.evidence)
            gather_test_facts(self.box, self.scratch)
            self.facts = [e.id for e in self.scratch.evidence[before:]]

    def _trace_pushers(self) -> None:
        """Test every component that pushes the behaviour (so a source, commit or slice can
        be linked to a push, as the systematic brain links them)."""
        if self._traced:
            return
        self._traced = True
        pressure, _ = pressure_of(self.scratch, "persona")
        for push in pushes(pressure, sign_of(self.scratch)):
            if push.significant and push.share >= rules.MIN_SHARE:
                self._test("reward_component", push.component, None)

    def check(self, finding: Finding) -> RefereeCheck:
        """The systematic test of the finding's kind on its candidate."""
        self._gather()
        commit = None
        if finding.kind == "config_change":
            commit = self.candidates.commit(finding.commit or finding.id)
        if finding.kind == "config_change" and commit is None:
            return RefereeCheck(
                confirmed=False,
                status="refuted",
                figures="names no deployed commit, so no change can be aligned with the onset",
                evidence=list(self.facts),
            )
        if finding.kind != "reward_component":
            self._trace_pushers()
        h = self._test(finding.kind, finding.id, commit)
        note = h.notes[-1] if h.notes else h.status
        return RefereeCheck(
            confirmed=h.status == "supported",
            status=h.status,
            figures=note,
            evidence=sorted(set(h.evidence) | set(self.facts), key=evidence_number),
        )


def referee_findings(
    box: Toolbox, state: InvestigationState, findings: list[Finding], candidates: Candidates
) -> int:
    """Check each grounded finding; confirmed ones are ranked first. Returns the tool calls
    the referee made."""
    referee = Referee(box, state, candidates)
    for finding in findings:
        if not finding.grounded:
            continue
        try:
            finding.referee = referee.check(finding)
        except ToolDisabledError as exc:  # an ablation took a tool the test needs
            finding.referee = RefereeCheck(
                confirmed=False,
                status="inconclusive",
                figures=f"the referee could not run its test: {exc}",
                evidence=list(referee.facts),
            )
    ordered = sorted(
        findings, key=lambda f: (not (f.referee is not None and f.referee.confirmed), f.rank)
    )
    for rank, finding in enumerate(ordered, start=1):
        finding.rank = rank
    findings[:] = ordered
    return referee.calls
