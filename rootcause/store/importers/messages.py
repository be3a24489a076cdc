"""Chat messages (`{role, content}` dicts) as the text fields of a sample.

Frameworks log conversational prompts and completions as lists of messages: TRL's GRPO with a
chat dataset, Inspect AI's `input` and `output.choices`, NeMo-RL's validation dumps. A sample
keeps them as text: the prompt renders every message on its own line as `role: text`, so a
persona given in a system message stays where a label regex finds it; the completion is the
assistant's reply text; reasoning blocks (Inspect's `ContentReasoning`) go to `reasoning`.

Message content is either a string or a list of parts (`{"type": "text", "text": ...}`,
`{"type": "reasoning", "reasoning": ...}`, images and the like, which have no text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    """An assistant reply split into its visible text and its reasoning (None if it had none)."""

    text: str
    reasoning: str | None


def is_message(value: Any) -> bool:
    """A `{role, content}` mapping."""
    return isinstance(value, Mapping) and "role" in value and "content" in value


def is_message_list(value: Any) -> bool:
    """A non-empty list whose items are all `{role, content}` mappings."""
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str | bytes)
        and len(value) > 0
        and all(is_message(item) for item in value)
    )


def content_text(content: Any) -> str:
    """The visible text of a message's content (reasoning parts left out: see `reply`)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return content_text([content])
    if isinstance(content, Sequence):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and part.get("type", "text") == "text":
                texts.append(str(part.get("text") or ""))
        return "".join(texts)
    return str(content)


def _reasoning(content: Any) -> str | None:
    if not isinstance(content, Sequence) or isinstance(content, str):
        return None
    parts = [
        part for part in content if isinstance(part, Mapping) and part.get("type") == "reasoning"
    ]
    if not parts:
        return None
    texts = []
    for part in parts:
        redacted = bool(part.get("redacted"))
        text = part.get("summary") if redacted else part.get("reasoning")
        texts.append(str(text or ""))
    return "\n".join(texts)


def render_messages(messages: Sequence[Any]) -> str:
    """Messages as `role: text` lines, in order (the prompt of a conversational sample)."""
    lines = []
    for message in messages:
        if is_message(message):
            lines.append(f"{message['role']}: {content_text(message['content'])}")
        else:
            lines.append(content_text(message))
    return "\n".join(lines)


def reply(messages: Any) -> Reply:
    """The completion of a conversational sample: the assistant messages' text (joined when
    a completion holds several turns) and their reasoning blocks."""
    if is_message(messages):
        messages = [messages]
    if not is_message_list(messages):
        return Reply(content_text(messages), None)
    spoken = [m for m in messages if m["role"] == "assistant"] or list(messages)
    text = "\n".join(content_text(m["content"]) for m in spoken)
    reasons = [r for m in spoken if (r := _reasoning(m["content"])) is not None]
    return Reply(text, "\n".join(reasons) if reasons else None)


def render_conversation(record: dict[str, Any]) -> bool:
    """Render a record's `prompt` and `completion` given as messages into text, in place
    (the completion's reasoning blocks into `reasoning` when it has none); whether any was."""
    rendered = False
    prompt = record.get("prompt")
    if isinstance(prompt, list) and is_message_list(prompt):
        record["prompt"] = render_messages(prompt)
        rendered = True
    completion = record.get("completion")
    if is_message_list(completion) or is_message(completion):
        answer = reply(completion)
        record["completion"] = answer.text
        if answer.reasoning is not None and record.get("reasoning") is None:
            record["reasoning"] = answer.reasoning
        rendered = True
    return rendered
