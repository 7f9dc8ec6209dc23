"""Insights: what a batch says per segment (product, store, agent, speaker…), over time and per
named aspect: the document (insights.json, GET .../insights, the report's source). It is built
from the per-item results in the finalizer's one pass by results.insights_builder.

Only the MAX_SEGMENTS largest values of a column are reported; the rest fold into "other", so
every item counts exactly once per column.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from reviewpulse.analysis.options import TimeBucket
from reviewpulse.results.adjusted import AdjustedStats
from reviewpulse.results.evaluation import Evaluation
from reviewpulse.results.headline import Headline
from reviewpulse.results.summaries import TaskWarning, ThemeCount
from reviewpulse.results.themes import SegmentTheme, Theme

CATEGORY_EXAMPLE_IDS = 5
TREND_SEGMENTS = 5  # per group_by column, the largest segments get a trend over the time buckets
CATEGORY_SEGMENTS = 10  # per group_by column, each category is cut by the largest segments


# -- the document ---------------------------------------------------------------------------------


class Stats(BaseModel):
    items: int = Field(description="Items counted here, analysed or failed")
    analysed: int = Field(description="Items with a sentiment label")
    counts: dict[str, int]
    shares: dict[str, float] = Field(description="Each label's share of the analysed items, 0–1")
    mean_score: float | None
    net_sentiment: float | None = Field(description="Positive share minus negative share, −1 to 1")
    net_sentiment_ci95: tuple[float, float] | None = Field(
        description="95% normal-approximation interval of the net sentiment"
    )


class AspectStats(Stats):
    aspect: str
    mentioned: int = Field(description="Items that mention the aspect (label not not_mentioned)")


class SegmentStats(Stats):
    value: str | None = Field(description="The column's value; null for items where it is blank")
    themes: list[SegmentTheme] = Field(
        default_factory=list, description="The batch's themes this segment's items mention most (with options.report)"
    )
    aspects: list[AspectStats] = Field(default_factory=list, description="Each named aspect among this segment's items")


class SegmentColumn(BaseModel):
    column: str
    distinct_values: int = Field(description="Distinct values seen (those beyond the tracking cap count in other)")
    segments: list[SegmentStats] = Field(description="The largest segments, most items first")
    other: Stats | None = Field(description="Every value not listed in segments, together")


class TimeBucketStats(Stats):
    start: date = Field(description="First day of the bucket (weeks start on Monday)")
    aspects: list[AspectStats] = Field(default_factory=list, description="Each named aspect among this bucket's items")


class SegmentTrend(BaseModel):
    column: str
    value: str | None
    buckets: list[TimeBucketStats] = Field(description="This segment's items per bucket (buckets where it has some)")


class TimeSeries(BaseModel):
    field: str
    bucket: TimeBucket
    bucket_source: Literal["requested", "from-span"]
    date_order: str | None = Field(
        default=None, description="How the day/month order of dates such as 03/04/2026 was decided"
    )
    unreadable_dates: int = Field(description="Items whose date could not be read (blank or unknown form)")
    buckets: list[TimeBucketStats]
    segments: list[SegmentTrend] = Field(
        default_factory=list,
        description=f"The {TREND_SEGMENTS} largest segments of each group_by column over the same buckets",
    )


class CategorySegment(Stats):
    column: str
    value: str | None


class CategoryStats(Stats):
    name: str
    example_ids: list[str] = Field(description=f"The first {CATEGORY_EXAMPLE_IDS} items in the category, by row")
    segments: list[CategorySegment] = Field(
        default_factory=list,
        description=f"The category's items in each of the {CATEGORY_SEGMENTS} largest segments of each group_by column",
    )
    time: list[TimeBucketStats] = Field(
        default_factory=list, description="The category's items per time bucket (buckets where it has some)"
    )
    themes: list[str] = Field(
        default_factory=list,
        description=(
            "The phrases of the batch's themes (found without an LLM) that hold one of this category's terms as "
            "whole words, case ignored and plurals as singulars; a theme may be under several categories or none"
        ),
    )


METHOD = (
    "two-proportion z-test (shares) and z-test of the difference of net sentiments; "
    "Benjamini-Hochberg adjusted p-values, significant below 0.05"
)


class Change(BaseModel):
    kind: Literal["label", "segment", "theme", "aspect", "overall"]
    column: str | None = Field(default=None, description="For segments: the group_by column")
    key: str | None = Field(description="The label, segment value, theme phrase or aspect (null: a blank value)")
    measure: Literal["share", "net_sentiment"]
    baseline: float
    current: float
    change: float
    p_value: float | None = Field(description="Two-sided; null when the test is undefined (no spread)")
    p_adjusted: float | None = Field(description="Benjamini-Hochberg over every test of this comparison")
    significant: bool


class Period(BaseModel):
    first: date | None = Field(description="The period's earliest date with items")
    last: date | None = Field(description="The period's latest date with items")
    items: int


class Periods(BaseModel):
    field: str = Field(description="The time_field the file was split by")
    at: date = Field(description="The later period's first day (options.compare's date, or the last bucket's start)")
    rule: Literal["date", "last-bucket"]
    before: Period = Field(description="The earlier period: the baseline of the changes")
    after: Period = Field(description="The later period: the current side of the changes")
    left_out: int = Field(description="Items in neither period (an unreadable date; last-bucket: an earlier bucket)")


class Comparison(BaseModel):
    baseline_task_id: str | None = Field(description="options.compare_to; null for periods of one file")
    periods: Periods | None = Field(
        default=None, description="With options.compare: the two periods of this file that were compared"
    )
    method: str = METHOD
    changes: list[Change]
    new_themes: list[str] = Field(description="Themes of this batch that were not among the baseline's themes")
    notes: list[str] = Field(default_factory=list, description="What could not be compared, and why")


ADJUSTED_METHOD = (
    "adjusted classify-and-count (Forman 2008): the confusion matrix of this batch's labelled rows "
    "inverted and clipped to the simplex; 95% interval from Dirichlet resampling of each matrix row "
    "and of the counts (seeded)"
)
MAX_ADJUSTED_SEGMENTS = 20  # per group_by column, the largest segments get adjusted shares
MAX_ADJUSTED_BUCKETS = 100  # the latest time buckets get adjusted shares (each costs ~15 ms)
ADJUSTED_DRAWS_PER_PART = 200  # per segment or bucket (the whole batch gets more)


class AdjustedShares(BaseModel):
    method: str = ADJUSTED_METHOD
    overall: AdjustedStats | None
    segments: dict[str, list[AdjustedStats]] = Field(
        default_factory=dict, description="Per group_by column, its largest segments (key: the value)"
    )
    time: list[AdjustedStats] = Field(default_factory=list, description="Per time bucket (key: its start)")


class Insights(BaseModel):
    task_id: str
    overall: Stats
    segments: list[SegmentColumn] = Field(default_factory=list)
    time: TimeSeries | None = None
    aspects: list[AspectStats] = Field(default_factory=list)
    categories: list[CategoryStats] = Field(
        default_factory=list,
        description="With options.categories: each category's items (those whose text holds one of its terms)",
    )
    themes: list[Theme] = Field(
        default_factory=list,
        description="Praise and complaint key phrases found in the items' text, without an LLM (with options.report)",
    )
    comparison: Comparison | None = Field(
        default=None,
        description="With options.compare_to: the changes since that task; with options.compare: between the periods",
    )
    evaluation: Evaluation | None = Field(
        default=None, description="With options.label_field: the engine's labels against the rows' own labels"
    )
    adjusted: AdjustedShares | None = Field(
        default=None,
        description="With an evaluation: label shares corrected for the engine's measured errors (beside the counted ones)",
    )
    headline: Headline | None = Field(
        default=None, description="Which engine gave the labels and how well it is known to do on this text"
    )
    warnings: list[TaskWarning] = Field(default_factory=list)

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    def report_themes(self, per_polarity: int = 5) -> list[ThemeCount]:
        """The top found themes in the report's shape."""
        return [
            ThemeCount(theme=t.phrase, polarity=t.polarity, count=t.count, example_ids=t.example_ids)
            for polarity in ("praise", "complaint")
            for t in [t for t in self.themes if t.polarity == polarity][:per_polarity]
        ]
