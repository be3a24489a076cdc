"""How a source table's columns map onto a sample: which column plays which canonical field,
and the SQL that reads each scalar field from it (checked for the kind of column it needs).
Native Parquet samples, TRL completion files and W&B tables each come with a `TableMapping`
(see `rootcause.store.tables.TableLoader`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rootcause.core.errors import RunFormatError
from rootcause.store.table_sql import INTEGER_TYPES, TEXT_TYPES, is_number_type, quote

#: Canonical scalar fields a mapping can fill, with the kind of column each needs.
SCALAR_FIELDS: dict[str, str] = {
    "sample_id": "id",
    "group_id": "id",
    "split": "text",
    "data_source": "text",
    "persona": "text",
    "env": "text",
    "prompt": "text",
    "reasoning": "text",
    "completion": "text",
    "reference": "text",
    "reward_total": "number",
    "advantage": "number",
}


@dataclass
class TableMapping:
    """Which source column plays which part of a sample.

    `fields` maps canonical names (and `step`) to source columns. `reward_columns` are wide
    columns, one per reward component (component name -> column). `rewards` and
    `grader_inputs` name a nested column (STRUCT, MAP or JSON text) of component -> value.
    Every other column is kept in `extras`.
    """

    fields: dict[str, str]
    reward_columns: dict[str, str] = field(default_factory=dict)
    rewards: str | None = None
    grader_inputs: str | None = None
    meta: str | None = None


#: A mapping, or a function that builds one from the source's columns (name -> DuckDB type),
#: for formats whose layout depends on the file (e.g. one column per reward function).
MappingSpec = TableMapping | Callable[[dict[str, str]], TableMapping]


def scalar_select(
    name: str, mapping: TableMapping, columns: dict[str, str], used: set[str], where: str
) -> str:
    """The SQL expression of canonical scalar `name` over `src` ("NULL" when the mapping
    has no column for it), its column added to `used`; a column of the wrong kind stops the
    load naming it."""
    column = mapping.fields.get(name)
    if column is None or column not in columns:
        return "NULL"
    used.add(column)
    kind, ctype = SCALAR_FIELDS[name], columns[column]
    if kind == "number":
        if not is_number_type(ctype):
            raise RunFormatError(f"column '{column}' must be numeric, got {ctype}", where)
        return f"CAST({quote(column)} AS DOUBLE)"
    allowed = TEXT_TYPES + (INTEGER_TYPES if kind == "id" else ())
    if not ctype.startswith(allowed):
        raise RunFormatError(f"column '{column}' must be text, got {ctype}", where)
    return f"CAST({quote(column)} AS VARCHAR)"
