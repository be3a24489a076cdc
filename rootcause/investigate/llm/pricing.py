"""Dollar cost of tokens: a small built-in table, overridable with a JSON or YAML file.

Prices are US dollars per million tokens, `{"MODEL": {"input": X, "output": Y}}`. A model is
matched by its exact name, else by the longest table name it starts with (so dated snapshots
such as `gpt-4.1-2025-04-14` find `gpt-4.1`). Unknown models (local servers above all) cost 0.
The built-in figures are list prices as published by OpenAI in 2025; pass `--prices FILE` when
yours differ.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import yaml

from rootcause.core.errors import BadInputError

logger = logging.getLogger(__name__)

Prices = dict[str, tuple[float, float]]

DEFAULT_PRICES: Prices = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def load_prices(path: str | None) -> Prices:
    """The built-in table updated with the file's entries."""
    table = dict(DEFAULT_PRICES)
    if path is None:
        return table
    try:
        text = Path(path).read_text()
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise BadInputError(f"{path}: cannot read price table: {exc}") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: a price table maps model names to input/output prices")
    for name, entry in data.items():
        try:
            table[str(name)] = (float(entry["input"]), float(entry["output"]))
        except (TypeError, KeyError, ValueError):
            raise BadInputError(
                f"{path}: {name}: give input and output in dollars per million tokens"
            ) from None
    return table


def price_of(table: Prices, model: str) -> tuple[float, float] | None:
    name = model.split("/")[-1]
    if name in table:
        return table[name]
    matches = [k for k in table if name.startswith(k)]
    return table[max(matches, key=len)] if matches else None


def cost_usd(table: Prices, model: str, tokens_in: int, tokens_out: int) -> float:
    price = price_of(table, model)
    if price is None:
        return 0.0
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
