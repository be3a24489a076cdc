"""A symptom that fits more than one behaviour: the chat asks before it investigates.

`/investigate SYMPTOM` first reads the symptom as `detect` would (without recording evidence).
When the reading lists other readings (they carry the symptom about as well as the chosen
detector and mark mostly different samples, or the chosen detector's precision check was
weak; see `rootcause.behaviour.readings`), the session shows them as a numbered choice instead of
guessing: `/reading N` investigates reading N (a face maps a digit to it, and Enter to the
first, the one rootcause would take). Otherwise the investigation starts at once.

Reading 1 is investigated from the symptom alone, so its report shows the whole reading (the
precision check, the readings); another is investigated with its spec as the detector.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rootcause.behaviour.readings import CLEAR_SHARE
from rootcause.chat.command import ChatCommand, SlashCommand, chat_command
from rootcause.chat.entries import ReadingChoice, ReadingOption
from rootcause.core.errors import BadInputError
from rootcause.core.untrusted import inline, quote

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine
    from rootcause.tools.builtin.detect import DetectOutput

#: The longest example shown per reading.
EXAMPLE_CHARS = 160


def investigation_request(engine: ChatEngine, symptom: str, behavior: str | None = None) -> Any:
    """The request that investigates `symptom` in this session (its detector `behavior`, or
    the one read from the symptom)."""
    from rootcause.investigate.job import InvestigationRequest

    s = engine.settings
    return InvestigationRequest(
        run=Path(engine.chat.meta.run),
        symptom=symptom,
        behavior=behavior,
        brain=engine.brain(),
        run_format=s.run_format,
        options=s.options,
        api_key=s.api_key,
        ingest_options=s.ingest_options,
    )


def choice_of(symptom: str, found: DetectOutput) -> ReadingChoice | None:
    """The choice to offer for what `detect` made of `symptom` (None: one clear reading)."""
    proposal = found.proposal
    if proposal is None or found.behavior is None or not proposal.readings:
        return None
    chosen = next((c for c in proposal.candidates if c.behavior == found.behavior), None)
    shown = found.hit_examples[0] if found.hit_examples else None
    first = ReadingOption(
        behavior=found.behavior,
        basis=chosen.basis if chosen else "the detector rootcause chose",
        hits=found.hits,
        rate_early=chosen.rate_early if chosen else found.rate_first_tenth,
        rate_late=chosen.rate_late if chosen else found.rate_last_tenth,
        sample_id=shown.sample_id if shown else "",
        example=shown.text if shown else "",
    )
    fields = set(ReadingOption.model_fields)
    others = [ReadingOption(**r.model_dump(include=fields)) for r in proposal.readings]
    return ReadingChoice(symptom=symptom, why=_why(found), options=[first, *others])


def _why(found: DetectOutput) -> str:
    check = found.proposal.check if found.proposal else None
    if check is not None and check.sampled and check.in_frames is not None:
        share = check.in_frames / check.sampled
        if share < CLEAR_SHARE:
            return (
                f"only {share:.0%} of the chosen detector's sampled hits carry the symptom's "
                "words, so other readings are worth a look"
            )
    return "these readings carry the symptom about as well and mark mostly different samples"


def choice_lines(choice: ReadingChoice) -> list[str]:
    """The choice as plain lines (sample text quoted as data), for a face and a transcript."""
    lines = [
        f"? The symptom fits more than one behaviour: {inline(choice.why, 200)}.",
        f"  Symptom: {inline(choice.symptom, 200)}",
    ]
    for n, o in enumerate(choice.options, 1):
        taken = " (rootcause's reading)" if n == 1 else ""
        lines.append(
            f"  {n}  {inline(o.behavior, 100)}: {o.hits:,} hits, {o.rate_early:.1%} -> "
            f"{o.rate_late:.1%}{taken}"
        )
        lines.append(f"     {inline(o.basis, 120)}")
        if o.example:
            lines.append(f"     e.g. {quote(o.example, o.sample_id, EXAMPLE_CHARS)}")
    lines.append("  /reading N investigates one (a digit with the prompt empty; Enter takes 1).")
    return lines


def offer_or_investigate(engine: ChatEngine, symptom: str) -> None:
    """`/investigate SYMPTOM`: the choice when the symptom has more than one reading, else
    the investigation."""
    from rootcause.chat.entries import Working
    from rootcause.tools.builtin.detect import DetectOutput

    engine.emit(Working("reading the symptom"))
    found = engine.peek("detect", {"symptom": symptom}).output
    choice = choice_of(symptom, found) if isinstance(found, DetectOutput) else None
    if choice is None:
        engine.run_investigation(investigation_request(engine, symptom))
        return
    engine.choice = choice
    engine.emit(choice)


def run_reading(engine: ChatEngine, command: SlashCommand) -> None:
    """`/reading N`: investigate reading N of the last choice offered."""
    choice = engine.choice
    if choice is None:
        raise BadInputError("no choice of readings is open: /investigate SYMPTOM offers one")
    words = command.words
    count = len(choice.options)
    if len(words) > 1 or (words and not words[0].isdigit()):
        raise BadInputError(f"/reading takes one number, 1 to {count}: /reading N")
    number = int(words[0]) if words else 1
    if not 1 <= number <= count:
        raise BadInputError(f"/reading {number}: the choice has readings 1 to {count}")
    behavior = None if number == 1 else choice.options[number - 1].behavior
    engine.choice = None
    engine.run_investigation(investigation_request(engine, choice.symptom, behavior))


chat_command(
    ChatCommand(
        "reading",
        "/reading [N]",
        "Investigate reading N (default 1) of a symptom that fits more than one behaviour, "
        "as /investigate listed them.",
        run_reading,
        rank=51,
    )
)
