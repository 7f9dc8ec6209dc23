"""What needs each item's date and segments at once: two periods of one file compared
(options.compare), the largest segments' trends, and each category per segment and over time.

The finalizer's one pass cannot tally these as it goes: the bucket a date falls in (the bucket
size is chosen from the whole span, a slash date's day/month order from the whole column), the
largest segments and the last two buckets are known only at its end. So each item's few facts
(its date, label, score, segment values, categories, aspect mentions; never its text) are spooled
to an unnamed temporary file, as themes.py spools phrases, and read back once at the end, where
only what the insights report is tallied: memory stays bounded by what they list.
"""

from __future__ import annotations

import marshal
import tempfile
from collections.abc import Callable, Iterator
from datetime import date

from reviewpulse.analysis.options import CompareChoice
from reviewpulse.results.dates import SlashDate, bucket_start
from reviewpulse.results.insights import (
    CATEGORY_SEGMENTS,
    TREND_SEGMENTS,
    CategorySegment,
    Insights,
    Period,
    Periods,
    SegmentColumn,
    SegmentStats,
    SegmentTrend,
    Stats,
    TimeBucketStats,
    TimeSeries,
)
from reviewpulse.results.summaries import TaskWarning
from reviewpulse.results.themes import Theme

SPOOL_BATCH = 1024  # records per marshal.dump
# A date as the spool keeps it: a day's ordinal, a slash date's numbers, None when unreadable.
DateKey = int | tuple[int, int, int, int] | None
# (date key, label or None when failed, score, segment values, category indices, aspect mentions)
Record = tuple


def date_key(when: date | SlashDate | None) -> DateKey:
    if when is None:
        return None
    if isinstance(when, SlashDate):
        return (when.first, when.second, when.year, when.utc_shift)
    return when.toordinal()


def read_key(key: DateKey) -> date | SlashDate | None:
    if key is None:
        return None
    if isinstance(key, int):
        return date.fromordinal(key)
    return SlashDate(*key)


class ItemSpool:
    """Each item's record, in marshal batches on an unnamed temporary file this object alone reads."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._pending: list[Record] = []

    def add(self, record: Record) -> None:
        self._pending.append(record)
        if len(self._pending) >= SPOOL_BATCH:
            self._flush()

    def records(self) -> Iterator[Record]:
        if self._pending:
            self._flush()
        self._file.seek(0)
        while header := self._file.read(8):
            # Only what this object wrote, to its own unnamed temporary file.
            yield from marshal.loads(self._file.read(int.from_bytes(header, "big")))  # noqa: S302

    def close(self) -> None:
        self._file.close()

    def _flush(self) -> None:
        data = marshal.dumps(self._pending)
        self._file.write(len(data).to_bytes(8, "big") + data)
        self._pending = []


class PeriodRule:
    """Which period a day belongs to: 0 the earlier, 1 the later, None neither."""

    def __init__(self, choice: CompareChoice, time: TimeSeries) -> None:
        self.bucket = time.bucket
        self.reason: str | None = None
        if choice.at == "last-bucket":
            self.rule = "last-bucket"
            if len(time.buckets) < 2:
                self.reason = f"the dates fill {len(time.buckets)} {time.bucket} bucket(s): there is no earlier one"
                self.at, self._before = date.min, date.min
            else:
                self.at, self._before = time.buckets[-1].start, time.buckets[-2].start
        else:
            self.rule, self.at, self._before = "date", choice.at, date.min

    def side(self, day: date | None, start: date | None) -> int | None:
        if day is None:
            return None
        if self.rule == "date":
            return 0 if day < self.at else 1
        return 1 if start == self.at else 0 if start == self._before else None


class _Side:
    """One period's tallies: overall, per listed segment value, days seen."""

    def __init__(self, tally: Callable, listed: list[set[str | None]]) -> None:
        self.overall = tally()
        self.segments: list[dict[str | None, object]] = [{} for _ in listed]
        self.first: date | None = None
        self.last: date | None = None


class CrossTallies:
    """Fed each item's record in the finalizer's pass; at the end fills the trends and category cuts
    into the built insights and compares the periods."""

    def __init__(self, tally: Callable, categories: list[str], compare: CompareChoice | None) -> None:
        self._tally = tally  # insights_builder.Tally (passed in: that module builds on this one)
        self._categories = categories
        self._compare = compare
        self.spool = ItemSpool()

    def finish(
        self,
        insights: Insights,
        day_of: Callable[[date | SlashDate | None], date | None],
        aspects: list[str],
        theme_mentions: Callable[[Callable[[DateKey], int | None]], dict[int, dict[str, list[int]]]] | None,
    ) -> tuple[Insights | None, Insights | None, Periods | None, TaskWarning | None]:
        """Fill time.segments and each category's segments and time in `insights`; with
        options.compare, the two periods as insights of their own (earlier, later) and what they are."""
        time, tally = insights.time, self._tally
        trend_values = [[s.value for s in column.segments[:TREND_SEGMENTS]] for column in insights.segments]
        category_values = [[s.value for s in column.segments[:CATEGORY_SEGMENTS]] for column in insights.segments]
        listed = [{s.value for s in column.segments} for column in insights.segments]
        trends: list[dict[str | None, dict[date, object]]] = [{v: {} for v in values} for values in trend_values]
        category_time: list[dict[date, object]] = [{} for _ in self._categories]
        category_cut = [[{v: tally() for v in values} for values in category_values] for _ in self._categories]
        rule, warning = self._rule(time)
        sides = [_Side(tally, listed), _Side(tally, listed)] if rule is not None else []
        left_out = 0
        days: dict[DateKey, tuple[date | None, date | None]] = {}
        for key, label, score, values, categories, mentions in self.spool.records():
            found = days.get(key)
            if found is None:
                day = day_of(read_key(key))
                found = days[key] = (day, bucket_start(day, time.bucket) if day and time else None)
            day, start = found
            # A tally is made only where there is none yet (setdefault(k, tally()) would make one per
            # record): this loop runs once per item, and was most of the cuts' cost.
            if start is not None:
                for index, value in enumerate(values):
                    by_start = trends[index].get(value)
                    if by_start is not None:
                        bucket = by_start.get(start)
                        if bucket is None:
                            bucket = by_start[start] = tally()
                        bucket.add_parts(label, score)
            for category in categories:
                if start is not None:
                    by_start = category_time[category]
                    bucket = by_start.get(start)
                    if bucket is None:
                        bucket = by_start[start] = tally()
                    bucket.add_parts(label, score)
                for cuts, value in zip(category_cut[category], values, strict=True):
                    cut = cuts.get(value)
                    if cut is not None:
                        cut.add_parts(label, score)
            if rule is not None:
                side = rule.side(day, start)
                if side is None:
                    left_out += 1
                    continue
                period = sides[side]
                period.overall.add_parts(label, score, mentions)
                for index, value in enumerate(values):
                    if value in listed[index]:
                        found_tally = period.segments[index].get(value)
                        if found_tally is None:
                            found_tally = period.segments[index][value] = tally()
                        found_tally.add_parts(label, score, mentions)
                period.first = day if period.first is None or day < period.first else period.first
                period.last = day if period.last is None or day > period.last else period.last
        self.spool.close()
        if time is not None:
            time.segments = [
                SegmentTrend(column=column.column, value=value, buckets=_buckets(by_start))
                for column, values in zip(insights.segments, trends, strict=True)
                for value, by_start in values.items()
            ]
            # the largest first, as the segments are listed
            order = {
                (c.column, s.value): (n, i) for n, c in enumerate(insights.segments) for i, s in enumerate(c.segments)
            }
            time.segments.sort(key=lambda trend: order[(trend.column, trend.value)])
        for category, by_start, cuts in zip(insights.categories, category_time, category_cut, strict=True):
            category.time = _buckets(by_start) if time is not None else []
            category.segments = [
                CategorySegment(column=column.column, value=value, **cut.stats(with_score=True))
                for column, values in zip(insights.segments, cuts, strict=True)
                for value, cut in values.items()
                if cut.items
            ]
        if rule is None:
            return None, None, None, warning
        if not all(side.overall.analysed for side in sides):
            empty = "earlier" if not sides[0].overall.analysed else "later"
            reason = f"the {empty} period has no analysed items"
            return None, None, None, _not_compared(reason)
        themes = _period_themes(insights.themes, theme_mentions, rule, day_of) if theme_mentions else ([], [])
        halves = [
            _period_insights(insights, side, aspects, side_themes)
            for side, side_themes in zip(sides, themes, strict=True)
        ]
        periods = Periods(
            field=time.field,
            at=rule.at,
            rule=rule.rule,
            before=Period(first=sides[0].first, last=sides[0].last, items=sides[0].overall.items),
            after=Period(first=sides[1].first, last=sides[1].last, items=sides[1].overall.items),
            left_out=left_out,
        )
        return halves[0], halves[1], periods, None

    def _rule(self, time: TimeSeries | None) -> tuple[PeriodRule | None, TaskWarning | None]:
        if self._compare is None:
            return None, None
        if time is None:
            return None, _not_compared("the file has no time_field column to split by")
        rule = PeriodRule(self._compare, time)
        if rule.reason is not None:
            return None, _not_compared(rule.reason)
        return rule, None


def _not_compared(reason: str) -> TaskWarning:
    return TaskWarning(code="periods-not-compared", detail=f"options.compare: {reason}; nothing compared")


def _buckets(by_start: dict[date, object]) -> list[TimeBucketStats]:
    return [TimeBucketStats(start=start, **tally.stats()) for start, tally in sorted(by_start.items())]


def _period_insights(insights: Insights, side: _Side, aspects: list[str], themes: list[Theme]) -> Insights:
    return Insights(
        task_id=insights.task_id,
        overall=Stats(**side.overall.stats()),
        segments=[
            SegmentColumn(
                column=column.column,
                distinct_values=len(found),
                segments=[SegmentStats(value=value, **tally.stats()) for value, tally in found.items()],
                other=None,
            )
            for column, found in zip(insights.segments, side.segments, strict=True)
        ],
        aspects=side.overall.aspect_stats(aspects),
        themes=themes,
    )


def _period_themes(themes: list[Theme], mentions, rule: PeriodRule, day_of) -> tuple[list[Theme], list[Theme]]:
    """The batch's themes as each period's items mention them: the earlier period lists those it
    mentions; the later one every theme either mentions (so that one gone quiet is compared too)."""

    def side_of(key: DateKey) -> int | None:
        day = day_of(read_key(key))
        return rule.side(day, bucket_start(day, rule.bucket) if day else None)

    counted = mentions(side_of)
    before, after = counted.get(0, {}), counted.get(1, {})

    def listed(theme: Theme, counts: list[int]) -> Theme:
        positive, negative = counts
        count = positive if theme.polarity == "praise" else negative
        return theme.model_copy(
            update={"positive": positive, "negative": negative, "count": count, "example_ids": [], "example": None}
        )

    earlier = [listed(t, before[t.phrase]) for t in themes if t.phrase in before]
    later = [listed(t, after.get(t.phrase, [0, 0])) for t in themes if t.phrase in before or t.phrase in after]
    return earlier, later
