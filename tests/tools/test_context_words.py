"""A plain word of the symptom carries it only when its hits carry the symptom's meaning: a word
the user wrote about the behaviour ("nothing to do with the *question*") that moved in the run
is set aside when even its best examples do not stand out toward the symptom; quoted words
never are, and without the semantic step nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rootcause.behaviour.candidate import Candidate, measure
from rootcause.behaviour.grounding import weigh_meaning
from rootcause.behaviour.meaning import MEANING_Z, Meaning
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext
from tests.tools.planted import Planted, write_planted

#: Flattery that names the question, rising: the word "question" moves with it.
FLATTERY = ("What a great question!", "Excellent question, truly.")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    root = tmp_path_factory.mktemp("context-words")
    run = write_planted(root / "runs", [Planted("flattery", FLATTERY, late_rate=0.6)])
    result = ingest_run(Path(run.run), Workspace(root / "ws"))
    with RunStore(result.db_path) as store:
        yield ToolContext(store, result.db_path.parent / "tool-calls", make_plots=False)


def _word(ctx: ToolContext, source: str, tier: int, meaning_z: float) -> Candidate:
    c = Candidate("terms:question", source, "the word 'question'", tier, 1, meaning_z=meaning_z)
    measure(ctx, [c])
    assert c.hits > 5 and c.moved(None)
    return c


def _ran() -> Meaning:
    return Meaning(True, "stand-in")


def test_a_moving_word_whose_hits_do_not_carry_the_meaning_is_context(ctx: ToolContext) -> None:
    word = _word(ctx, "words", 2, MEANING_Z - 1.0)
    weigh_meaning(ctx, [word], None, _ran(), 5)
    assert not word.carries
    assert "do not stand out in meaning" in word.set_aside
    assert "so the words were context" in word.basis


def test_a_word_whose_hits_carry_the_meaning_stays(ctx: ToolContext) -> None:
    word = _word(ctx, "words", 2, MEANING_Z + 0.5)
    weigh_meaning(ctx, [word], None, _ran(), 5)
    assert word.carries and word.tier == 2 and not word.set_aside


def test_a_behaviour_made_of_the_words_lends_them_its_meaning(ctx: ToolContext) -> None:
    """The words' own behaviour (their hits, told in more words) standing out keeps them."""
    word = _word(ctx, "words", 2, MEANING_Z - 1.0)
    own = Candidate("terms:great,excellent", "emerging", "rising", 0, meaning_z=MEANING_Z + 1)
    measure(ctx, [own])
    weigh_meaning(ctx, [word, own], None, _ran(), 5)
    assert word.carries and not word.set_aside


def test_quoted_words_are_never_set_aside(ctx: ToolContext) -> None:
    quoted = _word(ctx, "quote", 3, MEANING_Z - 2.0)
    weigh_meaning(ctx, [quoted], None, _ran(), 5)
    assert quoted.carries and quoted.tier == 3


def test_without_the_semantic_step_the_word_stays(ctx: ToolContext) -> None:
    word = _word(ctx, "words", 2, MEANING_Z - 1.0)
    weigh_meaning(ctx, [word], None, Meaning(False, "skipped"), 5)
    assert word.carries and word.tier == 2


def test_a_word_most_texts_hold_is_not_judged_by_meaning(ctx: ToolContext) -> None:
    """A word in most texts of the window its meaning is measured against makes up that
    window's null itself: its hits cannot stand out from it, so the test says nothing and
    the word stays, as it does without the semantic step (one answer either way). Below
    half, the same word is set aside."""
    common = Candidate("terms:goblin", "words", "the word 'goblin'", 2, 1, meaning_z=0.1)
    common.hits, common.early, common.late, common.z = 780_000, 0.76, 0.76, -0.3
    rarer = Candidate("terms:gremlin", "words", "the word 'gremlin'", 2, 1, meaning_z=0.1)
    rarer.hits, rarer.early, rarer.late, rarer.z = 78_000, 0.02, 0.49, 40.0
    weigh_meaning(ctx, [common, rarer], None, _ran(), 5)
    assert common.carries and not common.set_aside
    assert not rarer.carries and "do not stand out in meaning" in rarer.set_aside


def test_a_reading_left_with_only_set_aside_words_says_so(ctx: ToolContext) -> None:
    """No detector, and the reason names the words found and why they were set aside (not
    'nothing could be matched', which their hits would belie)."""
    from rootcause.behaviour.proposal import _choose

    word = _word(ctx, "words", 2, MEANING_Z - 1.0)
    weigh_meaning(ctx, [word], None, _ran(), 5)
    chosen, why = _choose([word], None, 5)
    assert chosen is None
    assert why.startswith("the symptom's words found in the run were set aside (terms:question (")
    assert "do not stand out in meaning" in why
