"""What a write does to a session's aggregate, as an additive delta (shared by every SQL backend).

New events and flag changes are folded into a `SessionDelta` in memory and written once per commit;
each backend turns it into an upsert that adds to the stored row.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def flag_counts(flag: str | None) -> tuple[int, int, int]:
    """(flagged, success, failure) contributed by one event's flag."""
    return int(flag is not None), int(flag == "success"), int(flag == "failure")


@dataclass(slots=True)
class SessionDelta:
    kind: str
    count: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    costed: int = 0  # events that carried a cost; none → the session's cost stays unknown (null)
    start: int | None = None
    end: int | None = None
    flagged: int = 0
    successes: int = 0
    failures: int = 0
    first_user: tuple[int, str] | None = None  # (timestamp, user) of the earliest event with a user
    models: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    def add_event(self, ts_us: int, user_id: str | None, flag: str | None, model: str | None, tags: list[str],
                  tokens_in: int | None, tokens_out: int | None, cost: float | None) -> None:
        self.count += 1
        self.tokens_in += tokens_in or 0
        self.tokens_out += tokens_out or 0
        if cost is not None:
            self.cost += cost
            self.costed += 1
        self.start = ts_us if self.start is None else min(self.start, ts_us)
        self.end = ts_us if self.end is None else max(self.end, ts_us)
        self.flag_changed(None, flag)
        if user_id is not None and (self.first_user is None or (ts_us, user_id) < self.first_user):
            self.first_user = (ts_us, user_id)
        if model:
            self.models.add(model)
        self.tags.update(tags)

    def flag_changed(self, old: str | None, new: str | None) -> None:
        for sign, flag in ((-1, old), (1, new)):
            flagged, success, failure = flag_counts(flag)
            self.flagged += sign * flagged
            self.successes += sign * success
            self.failures += sign * failure

    def merge(self, other: SessionDelta) -> None:
        self.count += other.count
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.cost += other.cost
        self.costed += other.costed
        for bound, pick in (("start", min), ("end", max)):
            mine, theirs = getattr(self, bound), getattr(other, bound)
            setattr(self, bound, theirs if mine is None else mine if theirs is None else pick(mine, theirs))
        self.flagged += other.flagged
        self.successes += other.successes
        self.failures += other.failures
        if other.first_user is not None and (self.first_user is None or other.first_user < self.first_user):
            self.first_user = other.first_user
        self.models |= other.models
        self.tags |= other.tags
