"""What a brain is configured with: one pydantic model per brain, its defaults written once.

`BrainOptions` holds what every brain takes (the tools disabled for an ablation);
`SystematicOptions` is the systematic brain's model and `LLMOptions`
(`rootcause.investigate.llm.config`) the LLM brain's. Each forbids names it does not declare,
so an option that does not apply to the chosen brain is refused instead of stored and ignored.

The models travel typed between the faces, the job and the brains; an investigation's spec
keeps the options that were set as JSON (`stored_form`) so `--resume` rebuilds the same brain.
The faces read defaults and descriptions from the fields (`describe`), never restate them.
No model holds a credential: the API key is passed next to the options and never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

from rootcause.core.errors import BadInputError

OptionsT = TypeVar("OptionsT", bound="BrainOptions")


class BrainOptions(BaseModel):
    """The options every brain takes."""

    model_config = ConfigDict(extra="forbid")
    #: Whether the brain takes an API key (passed next to the options, never stored).
    takes_api_key: ClassVar[bool] = False

    disabled_tools: list[str] = Field(
        default_factory=list,
        description="Tools the brain may not call (an ablation); they refuse to run.",
    )

    @field_validator("disabled_tools")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))


class SystematicOptions(BrainOptions):
    """The systematic brain's options: it runs every test over every candidate, so it takes
    only the common ones."""


def check_tools(names: Iterable[str], label: str = "disabled_tools") -> None:
    """Refuse a tool name the registry does not know (a misspelt ablation disables nothing)."""
    from rootcause.tools.registry import load_all

    known = load_all()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BadInputError(
            f"{label}: unknown tool {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )


def _default_of(info: FieldInfo) -> object:
    return info.get_default(call_default_factory=True)


def shown_default(value: object) -> str | None:
    """A default as help text shows it (None: the field has no default value to show)."""
    if value is None or value == []:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(model: type[BrainOptions], name: str) -> str:
    """A field's description followed by its default, for a face's help text."""
    info = model.model_fields[name]
    text = (info.description or name).rstrip(".")
    default = shown_default(_default_of(info))
    return f"{text} (default {default})." if default is not None else f"{text}."


def parse_options(
    model: type[OptionsT],
    brain: str,
    values: Mapping[str, object],
    label: Callable[[str], str] = str,
) -> OptionsT:
    """Validate `values` (option name -> value, as given) into `model`, the options of `brain`.

    Refuses a name the brain does not take, or a value that does not fit, in one line that
    names the option as the caller's face spells it (`label`: name -> e.g. `--model`)."""
    for name in values:
        if name not in model.model_fields:
            known = ", ".join(label(n) for n in model.model_fields)
            raise BadInputError(
                f"{label(name)}: not an option of the {brain} brain (its options: {known})"
            )
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else ""
        raise BadInputError(f"{label(name)}: {err['msg']}") from None


def override(
    stored: OptionsT,
    given: BrainOptions | None,
    brain: str,
    label: Callable[[str], str] = str,
) -> OptionsT:
    """`stored` with the options set in `given` replacing its values (a resumed job given new
    budgets, say); a given option the brain does not take is refused as `parse_options` does."""
    if given is None:
        return stored
    update = {name: getattr(given, name) for name in given.model_fields_set}
    return parse_options(type(stored), brain, {**stored_form(stored), **update}, label)


def stored_form(options: BrainOptions) -> dict[str, Any]:
    """The options that were set, as the JSON an investigation's spec keeps."""
    return options.model_dump(mode="json", exclude_unset=True)
