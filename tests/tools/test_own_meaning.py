"""A behaviour found by meaning carries the symptom only through hits of its own: a broad one
whose best examples are a narrow behaviour's, and whose added hits are further from the
symptom, is set aside for the narrow one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rootcause.behaviour.candidate import Candidate, measure
from rootcause.behaviour.meaning import Meaning
from rootcause.behaviour.own_meaning import demote_borrowed_meaning
from rootcause.behaviour.run_behaviours import Direction, Piece
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext
from tests.tools.planted import Planted, write_planted

#: A test summary that claims success (narrow), and an everyday "checks out" (broad with it).
SUMMARY = ("Test summary: 0 failed checks, 5 passed.",)
EVERYDAY = ("Bottom line: it checks out.", "Double the value, and it checks out.")


class _ByWords:
    """A stand-in for the embedding scorer: pieces with one of `close` words score `z_close`,
    the others 1.0."""

    def __init__(self, close: tuple[str, ...], z_close: float) -> None:
        self.close, self.z_close = close, z_close

    def score(self, direction: Direction, examples: list[Piece]) -> tuple[float, float]:
        zs = [self.z_close if any(w in p.text for w in self.close) else 1.0 for p in examples]
        best = max(zs)
        return 0.4, best


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    root = tmp_path_factory.mktemp("own")
    run = write_planted(
        root / "runs",
        [
            Planted("summary", SUMMARY, rewarded="grader", late_rate=0.3),
            Planted("everyday", EVERYDAY, onset=0.2, late_rate=0.5),
        ],
    )
    result = ingest_run(Path(run.run), Workspace(root / "ws"))
    with RunStore(result.db_path) as store:
        yield ToolContext(store, result.db_path.parent / "tool-calls", make_plots=False)


def _candidates(ctx: ToolContext) -> tuple[Candidate, Candidate]:
    broad = Candidate("terms:failed,checks", "cluster", "close in meaning", tier=1, meaning_z=6.0)
    narrow = Candidate("terms:failed", "emerging", "close in meaning", tier=1, meaning_z=5.8)
    measure(ctx, [broad, narrow])
    assert broad.hits >= 1.5 * narrow.hits > 0 and broad.moved(None) and narrow.moved(None)
    return broad, narrow


def _meaning(scorer: _ByWords) -> Meaning:
    return Meaning(True, "stand-in", scorer=scorer)  # type: ignore[arg-type]


def test_a_broad_behaviour_borrowing_a_narrow_ones_meaning_is_set_aside(ctx: ToolContext) -> None:
    broad, narrow = _candidates(ctx)
    demote_borrowed_meaning(ctx, [broad, narrow], None, _meaning(_ByWords(("failed",), 6.0)), 5)
    assert not broad.carries and narrow.carries
    assert "its meaning is that of" in broad.set_aside
    assert "the hits it adds are less close" in broad.basis


def test_a_broad_behaviour_whose_added_hits_carry_the_symptom_stays(ctx: ToolContext) -> None:
    broad, narrow = _candidates(ctx)
    scorer = _ByWords(("failed", "checks out"), 6.0)
    demote_borrowed_meaning(ctx, [broad, narrow], None, _meaning(scorer), 5)
    assert broad.carries and narrow.carries and not broad.set_aside


def test_without_the_semantic_step_nothing_is_set_aside(ctx: ToolContext) -> None:
    broad, narrow = _candidates(ctx)
    demote_borrowed_meaning(ctx, [broad, narrow], None, Meaning(False, "skipped"), 5)
    assert broad.carries and narrow.carries
