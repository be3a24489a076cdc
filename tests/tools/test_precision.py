"""The user's quoted words are the specification: a detector read from a symptom keeps a term
the run suggested only when its own hits stand in for those words, its hits are checked
before use, and the reading is the same with or without the semantic extra."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rootcause.analysis.ngrams import stem
from rootcause.behaviour.behavior import ngram_spec, parse_behavior
from rootcause.behaviour.candidate import Candidate, measure
from rootcause.behaviour.precision import PrecisionCheck, check_terms, without_redundant
from rootcause.behaviour.proposal import propose_detector
from rootcause.behaviour.readings import other_readings, unclear
from rootcause.search.embedders import SEMANTIC_ENV, SemanticExtraMissingError, require_extra
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.builtin.detect import DetectOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import call_tool
from tests.tools.planted import Planted, write_planted, write_two_creatures

#: A creature tic whose two words fill the same slots, and an innocent marker that rises too
#: and shares many texts with it.
CREATURES = (
    "A careful goblin would nod at this.",
    "A careful gremlin would nod at this.",
    "Picture a goblin guarding the gold.",
    "Picture a gremlin guarding the gold.",
)
MARKER = ("Key point: details follow.",)


@pytest.fixture(scope="module")
def stand_in_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    root = tmp_path_factory.mktemp("standin")
    run = write_planted(
        root / "runs",
        [
            Planted("tic", CREATURES, rewarded="creature_bonus", late_rate=0.35),
            Planted("marker", MARKER, onset=0.3, late_rate=0.6),
        ],
    )
    result = ingest_run(run.run, Workspace(root / "ws"))
    with RunStore(result.db_path) as store:
        yield ToolContext(store, result.db_path.parent / "tool-calls", make_plots=False)


def test_a_stand_in_joins_and_a_marker_beside_the_words_does_not(
    stand_in_ctx: ToolContext,
) -> None:
    checks = {
        c.term: c
        for c in check_terms(
            stand_in_ctx, "completion", ["goblin", "gremlin", "details", "key point"], {"goblin"}
        )
    }
    assert checks["gremlin"].kept and checks["gremlin"].share == 1.0
    assert not checks["details"].kept and checks["details"].brought >= 3
    assert checks["details"].in_frames == 0 and "details" in checks["details"].example
    assert not checks["key point"].kept


@pytest.mark.parametrize("semantic", [True, False])
def test_quoted_words_are_the_spec_on_both_paths(stand_in_ctx: ToolContext, semantic: bool) -> None:
    found = propose_detector(
        stand_in_ctx, "replies keep mentioning creatures like 'goblin'", semantic=semantic
    )
    assert found.chosen is not None and found.check is not None
    terms = set(found.chosen.terms)
    assert "goblin" in terms and not terms & {"details", "key", "point", "follow"}
    regex = re.compile(parse_behavior(found.chosen.spec).regex())
    assert not regex.search("Key point: details follow.")
    check = found.check
    assert check.sampled > 0 and check.in_frames == check.sampled
    assert (check.by_meaning is not None) == semantic
    assert check.lines()[0].startswith("precision check: ")


def test_the_same_detector_with_and_without_the_extra(
    stand_in_ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    symptom = "replies keep mentioning creatures like 'goblin'"
    with_extra = propose_detector(stand_in_ctx, symptom)
    monkeypatch.setenv(SEMANTIC_ENV, "off")
    lexical = propose_detector(stand_in_ctx, symptom)
    assert "turned off" in lexical.semantic
    assert with_extra.chosen is not None and lexical.chosen is not None
    assert with_extra.chosen.spec == lexical.chosen.spec


def test_the_switch_turns_the_extra_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEMANTIC_ENV, "off")
    with pytest.raises(SemanticExtraMissingError, match=SEMANTIC_ENV):
        require_extra()


def test_a_number_in_a_moving_phrase_matches_any_number() -> None:
    spec = ngram_spec(["#### 56", "#### 12"])
    regex = re.compile(parse_behavior(spec).regex())
    assert regex.search("#### 7") and regex.search("answer\n#### 1024")
    assert spec.count(r"\d+") == 1  # the two phrases are one behaviour


def test_redundant_terms_are_folded() -> None:
    assert without_redundant(["gizmo", "a gizmo", "the gizmo's", "widget"]) == ["gizmo", "widget"]
    assert stem("gremlins") == stem("gremlin")


def test_a_reading_as_good_as_the_chosen_one_is_offered_with_an_example(
    stand_in_ctx: ToolContext,
) -> None:
    chosen = Candidate("terms:goblin", "quote", "quoted: goblin", 3, 1, terms=["goblin"])
    marker = Candidate("terms:details", "quote", "quoted: details", 3, 1, terms=["details"])
    same = Candidate(r"regex:(?i)\bgoblins?\b", "words", "the word", 3, 1)
    narrower = Candidate("terms:gremlin", "words", "the word", 2, 1)
    candidates = [chosen, marker, same, narrower]
    measure(stand_in_ctx, candidates)
    readings = other_readings(stand_in_ctx, chosen, candidates, None, 5, None)
    assert [r.candidate.spec for r in readings] == ["terms:details"]
    assert "details" in readings[0].example.lower() and "goblin" not in readings[0].example
    assert readings[0].overlap < 0.5


def test_a_weak_check_opens_the_other_readings() -> None:
    weak = PrecisionCheck("terms:x", sampled=100, in_frames=40, by_meaning=30, meaning_sampled=100)
    clear = PrecisionCheck("terms:x", sampled=100, in_frames=95, by_meaning=None)
    assert unclear(weak) and not unclear(clear) and not unclear(None)


def test_detect_and_the_report_show_the_check(stand_in_ctx: ToolContext) -> None:
    out = call_tool(stand_in_ctx, "detect", {"symptom": "replies keep mentioning 'goblin'"})
    assert "precision check: " in out.text
    assert isinstance(out.output, DetectOutput) and out.output.proposal is not None
    assert out.output.proposal.check is not None and out.output.proposal.check.sampled > 0


def test_two_processes_read_the_symptom_the_same_way(tmp_path: Path) -> None:
    """Everything the reading samples (texts, pieces, clusters, hits checked) is seeded, so
    two fresh processes with fresh workspaces give the same detector, check and candidates."""
    run = write_planted(
        tmp_path / "runs",
        [
            Planted("tic", CREATURES, rewarded="creature_bonus", late_rate=0.35),
            Planted("marker", MARKER, onset=0.3, late_rate=0.6),
        ],
        steps=24,
    )
    outputs = []
    for n in (1, 2):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "rootcause",
                "--workspace",
                str(tmp_path / f"ws{n}"),
                "tool",
                "detect",
                str(run.run),
                "--symptom",
                "replies keep mentioning creatures like 'goblin'",
                "--json",
                "--no-plot",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0]["proposal"] == outputs[1]["proposal"]
    assert outputs[0]["proposal"]["check"]["sampled"] > 0


@pytest.fixture(scope="module")
def creatures_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    root = tmp_path_factory.mktemp("creatures")
    run = write_two_creatures(root / "runs")
    result = ingest_run(run.run, Workspace(root / "ws"))
    with RunStore(result.db_path) as store:
        yield ToolContext(store, result.db_path.parent / "tool-calls", make_plots=False)


@pytest.mark.parametrize("semantic", [True, False])
def test_a_behaviour_within_the_words_hits_does_not_widen_them(
    creatures_ctx: ToolContext, semantic: bool
) -> None:
    """A cluster "goblin, gremlin, careful, nod" marks the same samples as the user's two
    words: it is their behaviour in other words, so it neither demotes the words nor becomes
    the detector; both paths read the symptom the same way, and the word the detector leaves
    out is offered as another reading (not a narrower phrase of either)."""
    found = propose_detector(
        creatures_ctx, "replies keep mentioning goblins and gremlins", semantic=semantic
    )
    assert found.chosen is not None
    said = {stem("goblins"), stem("gremlins")}
    assert {stem(t) for t in found.chosen.terms} <= said, found.chosen.spec
    others = [r.candidate.spec for r in found.readings]
    assert len(others) == 1 and found.chosen.spec not in others
    assert {stem(t) for t in found.readings[0].candidate.terms} <= said, others
    assert {stem(found.chosen.terms[0]), stem(found.readings[0].candidate.terms[0])} == said


def test_a_narrower_phrase_of_the_chosen_behaviour_is_not_another_reading(
    creatures_ctx: ToolContext,
) -> None:
    found = propose_detector(creatures_ctx, "the model keeps saying 'goblin'", semantic=False)
    assert found.chosen is not None and found.chosen.spec == "terms:goblin"
    assert found.readings == []  # "goblin guarding" is a part of it, not another reading


def test_the_same_reading_again_is_a_copy_of_the_kept_one(
    creatures_ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat reads a symptom before it investigates and the investigation reads it again:
    the second reading is the kept one (a copy), unless what it depends on changed."""
    from rootcause.behaviour import proposal

    calls: list[object] = []
    real = proposal._propose

    def counted(*args: object) -> proposal.Proposal:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(proposal, "_propose", counted)
    symptom = "replies keep mentioning goblins (kept)"
    first = propose_detector(creatures_ctx, symptom, semantic=False)
    again = propose_detector(creatures_ctx, symptom, semantic=False)
    assert len(calls) == 1 and again is not first and again.chosen is not None
    assert first.chosen is not None and again.chosen.spec == first.chosen.spec
    again.candidates.clear()  # a copy: what is kept is untouched
    assert propose_detector(creatures_ctx, symptom, semantic=False).candidates
    # The switch turns the semantic step off: the same reading as the lexical one.
    monkeypatch.setenv(SEMANTIC_ENV, "off")
    propose_detector(creatures_ctx, symptom)
    assert len(calls) == 1
    monkeypatch.delenv(SEMANTIC_ENV)
    propose_detector(creatures_ctx, symptom)
    assert len(calls) == 2


def test_a_broad_word_is_a_part_of_no_narrow_behaviour(creatures_ctx: ToolContext) -> None:
    """The words that make a behaviour "theirs" are the ones most of whose hits are its hits:
    the two creature words make the creature cluster, but a word most samples carry (here a
    pattern every text matches) shields no word candidate from a behaviour closer in meaning."""
    from rootcause.behaviour.grounding import _within_words

    goblins = Candidate("terms:goblins", "words", "the word", 2, 1)
    gremlins = Candidate("terms:gremlins", "words", "the word", 2, 1)
    broad = Candidate("regex:.", "words", "the word", 2, 1)
    cluster = Candidate("terms:goblin,gremlin,careful,nod", "cluster", "close in meaning", 1, 0)
    goblin_tic = Candidate("terms:goblin,careful,nod", "cluster", "close in meaning", 1, 0)
    assert _within_words(creatures_ctx, [cluster], [goblins, gremlins]) == {cluster.spec: [0, 1]}
    assert _within_words(creatures_ctx, [goblin_tic], [goblins]) == {goblin_tic.spec: [0]}
    assert _within_words(creatures_ctx, [cluster, goblin_tic], [broad]) == {}
