"""TRL's conversational completion logs: `prompt` and `completion` as lists of messages.

With a conversational dataset (`{"prompt": [{"role": ..., "content": ...}, ...]}`, how GRPO is
run on chat models) `GRPOTrainer.log` (trl/trainer/grpo_trainer.py) writes each prompt and
completion through `strip_images_from_messages`, so the Parquet columns are lists of message
structs; a completion is `[{"role": "assistant", "content": text}]` (more fields, e.g. tool
calls, when `parse_response` is used). They are rendered as text in place, before anything
else reads the rows (see `rootcause.store.importers.messages` for the rendering): the prompt
as `role: text` lines, the completion as the assistant messages' text. Message fields other
than role and content are left out, and a note names them.
"""

from __future__ import annotations

from typing import Any

import duckdb

from rootcause.store.table_sql import quote

#: The columns TRL may write as messages.
MESSAGE_COLUMNS = ("prompt", "completion")


def _message_fields(dtype: Any) -> dict[str, Any] | None:
    """The fields of a `STRUCT(...)[]` type holding `role` and `content`, else None."""
    if getattr(dtype, "id", None) != "list" or dtype.child.id != "struct":
        return None
    fields = {str(name): child for name, child in dtype.child.children}
    return fields if {"role", "content"} <= set(fields) else None


def _content_sql(content_type: Any) -> str | None:
    """SQL for the text of `m.content`: a string, or a list of parts with a `text` field."""
    if content_type.id == "varchar":
        return "coalesce(m.content, '')"
    if content_type.id == "list" and content_type.child.id == "struct":
        parts = {str(name) for name, _ in content_type.child.children}
        if "text" in parts:
            only_text = "coalesce(p.type, 'text') = 'text'" if "type" in parts else "true"
            return (
                "array_to_string(list_transform(list_filter(coalesce(m.content, []), "
                f"lambda p: {only_text}), lambda p: coalesce(p.text, '')), '')"
            )
    return None


def render_message_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Turn `prompt` and `completion` columns of messages in `table` into text; the notes."""
    relation = con.table(table)
    types = dict(zip(relation.columns, relation.dtypes, strict=True))
    notes = []
    for column in MESSAGE_COLUMNS:
        fields = _message_fields(types.get(column))
        if fields is None:
            continue
        content = _content_sql(fields["content"])
        if content is None:
            continue  # the loader refuses the column, naming its type
        messages = quote(column)
        if column == "completion":
            notes += _other_roles(con, table, messages)
            # The reply: the assistant's messages (all of them, in TRL's logs).
            messages = (
                f"CASE WHEN len(list_filter({messages}, lambda m: m.role = 'assistant')) > 0 "
                f"THEN list_filter({messages}, lambda m: m.role = 'assistant') ELSE {messages} END"
            )
            line = content
        else:
            line = f"coalesce(m.role, '') || ': ' || {content}"
        con.execute(
            f"ALTER TABLE {table} ALTER {quote(column)} SET DATA TYPE VARCHAR USING "
            f"array_to_string(list_transform({messages}, lambda m: {line}), chr(10))"
        )
        what = "the assistant's reply text" if column == "completion" else "'role: text' lines"
        notes.append(f"{column}: conversational messages, read as {what}")
        left = sorted(set(fields) - {"role", "content"})
        if left:
            notes.append(f"{column}: message fields left out: {', '.join(left)}")
    return notes


def _other_roles(con: duckdb.DuckDBPyConnection, table: str, messages: str) -> list[str]:
    """A note counting completions whose non-assistant messages (tool results) are left out."""
    row = con.execute(
        f"SELECT count(*) FROM {table} WHERE "
        f"len(list_filter({messages}, lambda m: m.role = 'assistant')) > 0 AND "
        f"len(list_filter({messages}, lambda m: m.role IS DISTINCT FROM 'assistant')) > 0"
    ).fetchone()
    count = int(row[0]) if row else 0
    if not count:
        return []
    return [
        f"completion: {count:,} completions also hold messages not from the assistant (tool "
        "results), left out of the completion text"
    ]
