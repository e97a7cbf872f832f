"""Cost estimation from model and token counts, using the maintained `genai-prices` tables.

In storage because an event's model or tokens may arrive later than its span (a log record, another
span of the call): the cost is estimated again whenever they change, wherever the event is rebuilt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot
from phosphobs.storage.models import Event


@lru_cache(maxsize=2048)
def _lookup(model: str, provider: str | None) -> tuple[Any, Any] | None:
    """(provider, model) price entries; the model search is the slow part, so it is cached."""
    try:
        return get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return _lookup(model, None) if provider is not None else None


@lru_cache(maxsize=4096)
def _flat_rates(model: str, provider: str | None, day: int) -> tuple[float, float] | None:
    """USD per token (input, output) when the price is flat; None when tiered or unknown."""
    found = _lookup(model, provider)
    if found is None:
        return None
    price = found[1].get_prices(datetime.fromtimestamp(day * 86400, tz=UTC))
    rates = (getattr(price, "input_mtok", None), getattr(price, "output_mtok", None))
    if not all(r is None or isinstance(r, Decimal) for r in rates):
        return None
    return (float(rates[0] or 0) / 1e6, float(rates[1] or 0) / 1e6)


def price_cents(model: str, provider: str | None, tokens_in: int, tokens_out: int, at_us: int) -> float | None:
    """Cents for one call; flat prices are computed directly, tiered ones by the library."""
    found = _lookup(model, provider)
    if found is None:
        return None
    flat = _flat_rates(model, provider, at_us // 86_400_000_000)
    if flat is not None:
        return (tokens_in * flat[0] + tokens_out * flat[1]) * 100.0
    prov, entry = found
    when = datetime.fromtimestamp(at_us / 1e6, tz=UTC)
    try:
        price = entry.calc_price(
            Usage(input_tokens=tokens_in, output_tokens=tokens_out), prov, genai_request_timestamp=when
        )
    except (LookupError, ValueError, TypeError):
        return None
    return float(price.total_price) * 100.0


def estimate_costs(events: list[Event]) -> None:
    """Mark reported costs, and estimate missing ones; an unknown model stays None, never 0."""
    for event in events:
        if event.cost_cents is not None:
            event.cost_source = event.cost_source or "reported"
            continue
        estimate_cost(event)


def estimate_cost(event: Event) -> None:
    """Set `event`'s estimated cost from its model and tokens (None when unknown); a reported cost stays."""
    if event.cost_source == "reported" and event.cost_cents is not None:
        return
    cents = None
    if event.model and (event.tokens_in is not None or event.tokens_out is not None):
        tokens_in, tokens_out = event.tokens_in or 0, event.tokens_out or 0
        cents = price_cents(event.model, event.provider, tokens_in, tokens_out, event.timestamp_us)
    event.cost_cents = cents
    event.cost_source = "estimated" if cents is not None else None
