"""Cost estimation: reported costs kept, known models estimated, unknown models null (never 0)."""

from __future__ import annotations

import pytest
from phosphobs.storage.pricing import estimate_costs, price_cents

from tests.support.factories import BASE_US, make_event


def test_reported_cost_is_kept_and_marked() -> None:
    event = make_event(model="gpt-4o", tokens_in=1000, tokens_out=1000, cost_cents=9.99)
    estimate_costs([event])
    assert (event.cost_cents, event.cost_source) == (9.99, "reported")


def test_known_model_is_estimated_from_tokens() -> None:
    event = make_event(model="gpt-4o", provider="openai", tokens_in=1_000_000, tokens_out=0)
    estimate_costs([event])
    assert event.cost_source == "estimated"
    assert event.cost_cents == pytest.approx(250.0)  # $2.50 per million input tokens


@pytest.mark.parametrize("overrides", [{"model": "no-such-model-xyz"}, {"model": None}, {"tokens_in": None}])
def test_unknown_cost_stays_null(overrides) -> None:
    event = make_event(**{"model": "gpt-4o", "tokens_in": 10, "tokens_out": None, **overrides})
    estimate_costs([event])
    assert (event.cost_cents, event.cost_source) == (None, None)


def test_unknown_provider_name_still_prices_by_model() -> None:
    assert price_cents("gpt-4o", "my-proxy", 1_000_000, 0, BASE_US) == pytest.approx(250.0)


def test_tiered_prices_go_through_the_library() -> None:
    small = price_cents("gemini-2.5-pro", "google", 100_000, 0, BASE_US)
    large = price_cents("gemini-2.5-pro", "google", 300_000, 0, BASE_US)
    assert small is not None and large is not None
    assert large / 300_000 > small / 100_000  # the long-context tier costs more per token
