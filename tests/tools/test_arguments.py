"""Tool arguments as words (`--name VALUE`, `--name=VALUE`, `name=value`, `--no-flag`), the help
built from input models, and one step-range convention across the registry's schemas."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import Field

from rootcause.core.errors import BadInputError
from rootcause.tools.arguments import help_lines, parse_arguments, split_words
from rootcause.tools.base import ToolInput
from rootcause.tools.registry import load_all, parse_tool_words, validate_args
from rootcause.tools.steps import STEP_HELP


class FlagsInput(ToolInput):
    behavior: str = Field(description="A behaviour spec.")
    loud: bool = Field(True, description="Say it loudly.")
    names: list[str] = Field(default_factory=list, description="Some names.")
    bins: int = Field(20, ge=2, le=200, description="Number of step bins.")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["--behavior", "terms:x", "--no-loud"], {"behavior": "terms:x", "loud": False}),
        (["--loud"], {"loud": True}),
        (["--loud", "false", "--bins", "7"], {"loud": "false", "bins": "7"}),
        (["--loud=no"], {"loud": "no"}),
        (["--names", "a", "--names", "b,c"], {"names": ["a", "b", "c"]}),
        (["names=a, b", "--names=c"], {"names": ["a", "b", "c"]}),
        (["behavior=regex:a=b", "bins=5"], {"behavior": "regex:a=b", "bins": "5"}),
        (["--behavior=terms:x"], {"behavior": "terms:x"}),
    ],
)
def test_words_become_arguments(words: list[str], expected: dict[str, Any]) -> None:
    assert parse_arguments(FlagsInput, words) == expected


def test_the_model_converts_what_the_words_say() -> None:
    args = parse_arguments(FlagsInput, ["behavior=terms:x", "--loud", "off", "--bins=7"])
    parsed = FlagsInput.model_validate(args)
    assert parsed.loud is False and parsed.bins == 7


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (["terms:x"], "unexpected word 'terms:x'"),
        (["--colour", "red"], "unknown argument --colour; this tool takes behavior, loud"),
        (["colour=red"], "unknown argument colour"),
        (["--bins"], "argument 'bins' needs a value"),
        (["--bins", "--loud"], "argument 'bins' needs a value"),
        (["--bins", "3", "bins=4"], "argument 'bins' given twice"),
        (["--no-bins"], "unknown argument --no-bins"),
    ],
)
def test_bad_words_are_one_line(words: list[str], needle: str) -> None:
    with pytest.raises(BadInputError, match=re.escape(needle)):
        parse_arguments(FlagsInput, words)


def test_command_lines_split_like_a_shell() -> None:
    line = 'behavior="terms:goblin, gremlin" by=persona --bins 5'
    assert split_words(line) == ["behavior=terms:goblin, gremlin", "by=persona", "--bins", "5"]
    with pytest.raises(BadInputError, match="cannot read the arguments"):
        split_words('behavior="terms:goblin')


def test_help_shows_types_defaults_flags_and_lists() -> None:
    text = "\n".join(help_lines(FlagsInput))
    assert "--behavior TEXT  [required]" in text
    assert "--loud/--no-loud  [default True]" in text
    assert "--names TEXT,...  [optional; repeat it or separate values with commas]" in text
    assert "--bins INT (2..200)  [default 20]" in text
    assert "Number of step bins." in text


def test_registry_words_and_values_are_named_by_the_tool() -> None:
    with pytest.raises(BadInputError, match=r"^tool prevalence: unknown argument --colour"):
        parse_tool_words("prevalence", ["--colour", "red"])
    args = parse_tool_words("prevalence", ["behavior=terms:x", "--bins", "lots"])
    with pytest.raises(BadInputError) as info:
        validate_args("prevalence", args)
    assert str(info.value).startswith("tool prevalence: argument 'bins': Input should be a valid")
    with pytest.raises(BadInputError) as info:
        validate_args("enrichment", {"behavior": "terms:x", "step_min": 5, "step_max": 3})
    assert str(info.value) == (
        "tool enrichment: argument 'step_max': 3 is below step_min (5); both bounds are inclusive"
    )
    with pytest.raises(BadInputError, match=r"^tool onset: give by and level together"):
        validate_args("onset", {"behavior": "terms:x", "by": "persona"})


#: Names that would say "a bound of a step range" without following the convention.
_OTHER_RANGE_WORDS = re.compile(r"(^|_)(start|end|from|until|since|begin|first|last|window)(_|$)")


def test_one_step_range_convention_in_every_schema() -> None:
    """Every step bound is `step_min`/`step_max` (or `<window>_step_min`/...), optional, with the
    shared inclusive description in the JSON schema the LLM reads; no other range names."""
    bounds = 0
    for name, spec in load_all().items():
        schema = spec.input_model.model_json_schema()["properties"]
        for field, info in spec.input_model.model_fields.items():
            match = re.fullmatch(r"(?:(\w+)_)?step_(min|max)", field)
            if match is None:
                assert not _OTHER_RANGE_WORDS.search(field), f"{name}.{field}"
                assert "step" not in field, f"{name}.{field}"
                continue
            bounds += 1
            shared = STEP_HELP["min" if match.group(2) == "min" else "max"].lower()
            description = schema[field]["description"].lower()
            assert shared in description and "inclusive" in description, f"{name}.{field}"
            assert info.default is None and not info.is_required(), f"{name}.{field}"
    assert bounds >= 12  # samples, enrichment, selection_pressure, prevalence, emerging x2
