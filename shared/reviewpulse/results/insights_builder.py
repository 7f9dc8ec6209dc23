"""Building a batch's insights (results.insights) from its per-item results, in the finalizer's
one pass.

Memory is bounded whatever the number of rows: per group_by column at most MAX_TRACKED_VALUES
distinct values are followed (later new values count in "other" straight away), per day one
accumulator, per aspect one.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from reviewpulse.analysis.options import MAX_SEGMENTS, AnalysisOptions, TimeBucket
from reviewpulse.analysis.sentiment import Label
from reviewpulse.ingest.readers.rows import Row
from reviewpulse.results.adjusted import AdjustedStats, adjust
from reviewpulse.results.categories import CategoryMatcher
from reviewpulse.results.compare import compare
from reviewpulse.results.dates import DateOrder, SlashDate, bucket_for_span, bucket_start, column_order, read_date
from reviewpulse.results.evaluation import Evaluation, EvaluationBuilder, LlmFigures
from reviewpulse.results.example_texts import ExampleTexts, ReportItems
from reviewpulse.results.insights import (
    ADJUSTED_DRAWS_PER_PART,
    CATEGORY_EXAMPLE_IDS,
    MAX_ADJUSTED_BUCKETS,
    MAX_ADJUSTED_SEGMENTS,
    AdjustedShares,
    AspectStats,
    CategoryStats,
    Insights,
    SegmentColumn,
    SegmentStats,
    Stats,
    TimeBucketStats,
    TimeSeries,
)
from reviewpulse.results.model import ItemResult
from reviewpulse.results.periods import CrossTallies, date_key
from reviewpulse.results.stats import net_sentiment, net_sentiment_interval
from reviewpulse.results.summaries import TaskWarning
from reviewpulse.results.themes import Theme, ThemeFinder

DATE_CACHE = 10_000  # distinct date strings remembered while reading a time_field
_UNREAD = object()
# (aspect, label) for each named aspect an item mentions.
Mentions = tuple[tuple[str, str], ...]
# Distinct values followed per column before new ones go to "other" directly: well above
# MAX_SEGMENTS, so that a value that grows large late in the file is still ranked.
MAX_TRACKED_VALUES = 2000
LABELS = tuple(label.value for label in Label)


class Tally:
    """Counts per label, failures and the score sum of a set of items."""

    __slots__ = ("counts", "failed", "score_sum", "aspects")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(LABELS, 0)
        self.failed = 0
        self.score_sum = 0.0
        self.aspects: dict[str, Tally] | None = None  # per named aspect, the labels it was given

    def add(self, result: ItemResult, mentions: Mentions = ()) -> None:
        self.add_parts(None if result.error is not None else result.label, result.score, mentions)

    def add_parts(self, label: str | None, score: float | None, mentions: Mentions = ()) -> None:
        """One item by its label (None: failed), score and aspect mentions."""
        if label is None:
            self.failed += 1
            return
        self.counts[label] = self.counts.get(label, 0) + 1
        self.score_sum += score or 0.0
        if mentions:
            if self.aspects is None:
                self.aspects = {}
            for aspect, label in mentions:
                tally = self.aspects.get(aspect)
                if tally is None:
                    tally = self.aspects[aspect] = Tally()
                tally.add_label(label)

    def add_label(self, label: str) -> None:
        self.counts[label] = self.counts.get(label, 0) + 1

    def merge(self, other: Tally) -> None:
        for label, count in other.counts.items():
            self.counts[label] = self.counts.get(label, 0) + count
        self.failed += other.failed
        self.score_sum += other.score_sum
        if other.aspects:
            if self.aspects is None:
                self.aspects = {}
            for aspect, tally in other.aspects.items():
                self.aspects.setdefault(aspect, Tally()).merge(tally)

    def aspect_stats(self, names: list[str]) -> list[AspectStats]:
        """Each named aspect, in the task's order, among the items counted here."""
        found = self.aspects or {}
        return [
            AspectStats(aspect=name, mentioned=tally.analysed, **tally.stats(with_score=False))
            for name in names
            for tally in [found.get(name) or Tally()]
        ]

    @property
    def analysed(self) -> int:
        return sum(self.counts.values())

    @property
    def items(self) -> int:
        return self.analysed + self.failed

    def stats(self, with_score: bool = True) -> dict:
        n = self.analysed
        positive, negative = self.counts.get("positive", 0), self.counts.get("negative", 0)
        interval = net_sentiment_interval(positive, negative, n)
        net = net_sentiment(positive, negative, n)
        return {
            "items": self.items,
            "analysed": n,
            "counts": dict(self.counts),
            "shares": {label: round(count / n, 4) if n else 0.0 for label, count in self.counts.items()},
            "mean_score": round(self.score_sum / n, 4) if n and with_score else None,
            "net_sentiment": round(net, 4) if net is not None else None,
            "net_sentiment_ci95": (round(interval[0], 4), round(interval[1], 4)) if interval else None,
        }


class SegmentCounter:
    """One group_by column's tallies, bounded by MAX_TRACKED_VALUES."""

    def __init__(self, column: str, max_segments: int, max_tracked: int, aspects: list[str]) -> None:
        self.column = column
        self._aspects = aspects
        self._max_segments = max_segments
        self._max_tracked = max_tracked
        self._tallies: dict[str | None, Tally] = {}
        self._untracked = Tally()
        self._overflowed = False

    def add(self, value: str | None, result: ItemResult, mentions: Mentions = ()) -> None:
        tally = self._tallies.get(value)
        if tally is None:
            if len(self._tallies) >= self._max_tracked:
                self._overflowed = True
                self._untracked.add(result)
                return
            tally = self._tallies[value] = Tally()
        tally.add(result, mentions)

    def build(self) -> SegmentColumn:
        ranked = sorted(self._tallies.items(), key=lambda entry: (-entry[1].items, entry[0] or ""))
        other = Tally()
        other.merge(self._untracked)
        for _, tally in ranked[self._max_segments :]:
            other.merge(tally)
        return SegmentColumn(
            column=self.column,
            distinct_values=len(self._tallies) + (1 if self._overflowed else 0),
            segments=[
                SegmentStats(value=value, aspects=tally.aspect_stats(self._aspects), **tally.stats())
                for value, tally in ranked[: self._max_segments]
            ],
            other=Stats(**other.stats()) if other.items else None,
        )


class TimeCounter:
    """Tallies per day; slash dates per (a, b, year) until the column's order is known."""

    def __init__(self, field: str, bucket: TimeBucket | None, aspects: list[str]) -> None:
        self.field = field
        self._aspects = aspects
        self.bucket = bucket
        self._days: dict[date, Tally] = {}
        self._slashes: dict[SlashDate, Tally] = {}
        self._unreadable = 0
        self._read: dict[str, object] = {}
        self._first_over_12 = 0
        self._second_over_12 = 0
        self.order: DateOrder | None = None  # of slash dates, decided by build()

    def add(self, value: str | None, result: ItemResult, mentions: Mentions = ()) -> date | SlashDate | None:
        """Count the item in its day; returns the date read (None: unreadable)."""
        if not value:
            when = None
        else:
            # A column repeats its dates (one per day, or per second at most): read each once.
            when = self._read.get(value, _UNREAD)
            if when is _UNREAD:
                when = read_date(value)
                if len(self._read) >= DATE_CACHE:
                    self._read.clear()
                self._read[value] = when
        if when is None:
            self._unreadable += 1
            return None
        if isinstance(when, SlashDate):
            if when.first > 12:
                self._first_over_12 += 1
            elif when.second > 12:
                self._second_over_12 += 1
            self._slashes.setdefault(when, Tally()).add(result, mentions)
            return when
        self._days.setdefault(when, Tally()).add(result, mentions)
        return when  # type: ignore[return-value]

    def day_of(self, when: date | SlashDate | None) -> date | None:
        """The day a date read by add() counts on, once build() has decided the column's order."""
        if isinstance(when, SlashDate):
            return when.read(self.order) if self.order is not None else None
        return when

    def build(self) -> TimeSeries:
        days: dict[date, Tally] = {}
        for day, tally in self._days.items():
            days.setdefault(day, Tally()).merge(tally)
        unreadable = self._unreadable
        note = None
        if self._slashes:
            order, note = column_order(self._first_over_12, self._second_over_12)
            self.order = order
            for slash, tally in self._slashes.items():
                day = slash.read(order)
                if day is None:
                    unreadable += tally.items
                else:
                    days.setdefault(day, Tally()).merge(tally)
        if days:
            bucket = self.bucket or bucket_for_span(min(days), max(days))
        else:
            bucket = self.bucket or "day"
        buckets: dict[date, Tally] = {}
        for day in sorted(days):
            buckets.setdefault(bucket_start(day, bucket), Tally()).merge(days[day])
        return TimeSeries(
            field=self.field,
            bucket=bucket,
            bucket_source="requested" if self.bucket else "from-span",
            date_order=note,
            unreadable_dates=unreadable,
            buckets=[
                TimeBucketStats(start=start, aspects=tally.aspect_stats(self._aspects), **tally.stats())
                for start, tally in buckets.items()
            ],
        )


class AspectMentions:
    """Which named aspects an item mentions, and with which label."""

    def __init__(self, aspects: list[str]) -> None:
        self.names = list(aspects)
        self._folded = {aspect.casefold(): aspect for aspect in aspects}

    def of(self, result: ItemResult) -> Mentions:
        if not self._folded or not result.aspects:
            return ()
        found = []
        for entry in result.aspects:
            name = self._folded.get(entry.aspect.casefold())
            if name is not None and entry.label in LABELS:
                found.append((name, entry.label))
        return tuple(found)


class InsightsBuilder:
    """Fed every result with its input row's columns, in one pass; builds the Insights."""

    def __init__(
        self,
        task_id: str,
        options: AnalysisOptions,
        columns: list[str] | None,
        *,
        max_segments: int = MAX_SEGMENTS,
        max_tracked: int = MAX_TRACKED_VALUES,
        label_scheme: str | None = None,  # the label column's, found before the pass (finalize)
    ) -> None:
        self.task_id = task_id
        self.warnings: list[TaskWarning] = []
        known = set(columns or ())
        self._overall = Tally()
        self._segments = []
        for column in options.group_by:
            if column in known:
                self._segments.append(SegmentCounter(column, max_segments, max_tracked, options.aspects))
            else:
                self.warnings.append(
                    TaskWarning(
                        code="group-by-column-not-found",
                        detail=f"group_by column {column!r} is not in the input ({_columns_note(columns)})",
                    )
                )
        self._time = None
        if options.time_field:
            if options.time_field in known:
                self._time = TimeCounter(options.time_field, options.time_bucket, options.aspects)
            else:
                self.warnings.append(
                    TaskWarning(
                        code="time-field-not-found",
                        detail=f"time_field {options.time_field!r} is not in the input ({_columns_note(columns)})",
                    )
                )
        self._evaluation = None
        if options.label_field:
            if options.label_field in known:
                self._evaluation = EvaluationBuilder(options.label_field, scheme=label_scheme)
            else:
                self.warnings.append(
                    TaskWarning(
                        code="label-field-not-found",
                        detail=f"label_field {options.label_field!r} is not in the input ({_columns_note(columns)})",
                    )
                )
        self._aspects = AspectMentions(options.aspects)
        self._themes = ThemeFinder() if options.report else None
        self._categories = CategoryMatcher(options.categories)
        self._category_tallies = {name: Tally() for name in self._categories.names}
        self._category_examples: dict[str, list[str]] = {name: [] for name in self._categories.names}
        self._category_index = {name: index for index, name in enumerate(self._categories.names)}
        self._texts = (
            ExampleTexts(self._categories.names, themes=options.report, redact_pii=options.redact_pii)
            if options.report or options.categories
            else None
        )
        self.report_items = ReportItems()  # the texts the report lists, once built
        crossed = (
            options.compare is not None
            or bool(self._time or options.categories)
            and bool(self._segments or (self._time and options.categories))
        )
        self._cross = CrossTallies(Tally, self._categories.names, options.compare) if crossed else None

    def add(self, result: ItemResult, row: Row | None) -> None:
        """One result, with its input row when the input is a file (None for a single text)."""
        columns = row.columns if row is not None else {}
        mentions = self._aspects.of(result)
        self._overall.add(result, mentions)
        values = [columns.get(segment.column) or None for segment in self._segments]
        for segment, value in zip(self._segments, values, strict=True):
            segment.add(value, result, mentions)
        when = self._time.add(columns.get(self._time.field), result, mentions) if self._time is not None else None
        if self._evaluation is not None:
            self._evaluation.add(result, columns.get(self._evaluation.label_field))
        names = self._categories.of(row.text if row is not None else None)
        for name in names:
            self._category_tallies[name].add(result)
            if len(self._category_examples[name]) < CATEGORY_EXAMPLE_IDS:
                self._category_examples[name].append(result.id)
        if self._texts is not None and row is not None:
            self._texts.add(result.id, None if result.error is not None else result.label, row.text, names)
        key = date_key(when)
        if self._cross is not None:
            label = None if result.error is not None else result.label
            indices = tuple(self._category_index[name] for name in names)
            self._cross.spool.add((key, label, result.score, tuple(values), indices, mentions))
        if self._themes is not None and row is not None:
            # The date last: the periods count the themes' mentions per period (CrossTallies).
            self._themes.add(result.id, result.label, row.text, [*values, key])

    def build(self, llm: LlmFigures | None = None) -> Insights:
        """The insights; `llm`: what the task's LLM requests took, for its evaluation."""
        try:
            insights = self._build(llm)
            if self._texts is not None:
                self.report_items = self._texts.finish({i for theme in insights.themes for i in theme.example_ids})
            if self._cross is None:
                return insights
            mentions = None
            if self._themes is not None:
                phrases = {theme.phrase for theme in insights.themes}
                mentions = partial(self._themes.counts_by, phrases)
            time = self._time
            before, after, periods, warning = self._cross.finish(
                insights, time.day_of if time else lambda _: None, self._aspects.names, mentions
            )
        finally:
            if self._themes is not None:
                self._themes.close()
            if self._cross is not None:
                self._cross.spool.close()
            if self._texts is not None:
                self._texts.close()
        if warning is not None:
            insights.warnings.append(warning)
        if before is not None and after is not None:
            # The earlier period is the baseline, as an earlier task is for compare_to.
            comparison = compare(after, before, None, baseline_has_themes=bool(insights.themes))
            insights.comparison = comparison.model_copy(update={"periods": periods})
        return insights

    def _build(self, llm: LlmFigures | None) -> Insights:
        segments = [segment.build() for segment in self._segments]
        themes: list[Theme] = []
        if self._themes is not None:
            themes, per_column = self._themes.finish([{s.value for s in column.segments} for column in segments])
            for column, found in zip(segments, per_column, strict=True):
                for segment in column.segments:
                    segment.themes = found.get(segment.value, [])
        evaluation = self._evaluation.build(llm) if self._evaluation is not None else None
        warnings = list(self.warnings)
        if evaluation is not None and evaluation.coverage.invalid_label:
            unread = ", ".join(f"{v.value!r} ({v.rows})" for v in evaluation.values if v.read_as is None)
            warnings.append(
                TaskWarning(
                    code="labels-not-read",
                    detail=f"{evaluation.coverage.invalid_label} rows have a label the mapping cannot read "
                    f"(invalid-label, listed in the evaluation): {unread}",
                )
            )
        overall = Stats(**self._overall.stats())
        theme_names = {theme.phrase: self._categories.theme_names(theme.phrase) for theme in themes}
        time = self._time.build() if self._time is not None else None
        return Insights(
            task_id=self.task_id,
            overall=overall,
            segments=segments,
            time=time,
            aspects=self._overall.aspect_stats(self._aspects.names),
            categories=[
                CategoryStats(
                    name=name,
                    example_ids=self._category_examples[name],
                    themes=[theme.phrase for theme in themes if name in theme_names[theme.phrase]],
                    **tally.stats(),
                )
                for name, tally in self._category_tallies.items()
            ],
            themes=themes,
            evaluation=evaluation,
            adjusted=adjusted_shares(evaluation, overall, segments, time) if evaluation is not None else None,
            warnings=warnings,
        )


def adjusted_shares(
    evaluation: Evaluation, overall: Stats, segments: list[SegmentColumn], time: TimeSeries | None
) -> AdjustedShares | None:
    """The batch's label shares (overall, per segment, per bucket) corrected for the errors its
    evaluation measured; None when the evaluation has no labelled rows."""
    labels, matrix = evaluation.confusion.labels, evaluation.confusion.matrix
    if not evaluation.coverage.evaluated:
        return None

    def part(stats: Stats, key: str | None) -> AdjustedStats | None:
        return adjust(labels, matrix, stats.counts, key=key, draws=ADJUSTED_DRAWS_PER_PART)

    return AdjustedShares(
        overall=adjust(labels, matrix, overall.counts),
        segments={
            column.column: [
                found
                for segment in column.segments[:MAX_ADJUSTED_SEGMENTS]
                if (found := part(segment, segment.value)) is not None
            ]
            for column in segments
        },
        time=[
            found
            for bucket in (time.buckets[-MAX_ADJUSTED_BUCKETS:] if time is not None else [])
            if (found := part(bucket, bucket.start.isoformat())) is not None
        ],
    )


def _columns_note(columns: list[str] | None) -> str:
    # Names from the header and the options, never cell values (customer text).
    return f"it has {', '.join(columns)}" if columns else "it has no named columns"
