"""A batch compared with an earlier one of the same tenant (options.compare_to).

Tests: shares (a label's share of analysed items, a theme's share of items) with the pooled
two-proportion z-test; net sentiment (overall, per segment, per aspect) with the z-test of the
difference of two independent net sentiments (multinomial variances). Every test of one
comparison is corrected together with Benjamini–Hochberg (false discovery rate 5%): a change is
`significant` when its adjusted p-value is below 0.05. Only what both batches have is compared;
`notes` say what was left out.
"""

from __future__ import annotations

from reviewpulse.results.insights import Change, Comparison, Insights, SegmentStats, Stats
from reviewpulse.results.stats import benjamini_hochberg, net_sentiment_z_test, two_proportion_z_test

FDR = 0.05


def compare(
    current: Insights, baseline: Insights, baseline_task_id: str | None, *, baseline_has_themes: bool | None = None
) -> Comparison:
    """The changes from `baseline` to `current`. `baseline_has_themes`: whether the baseline was asked
    for themes (default: whether it lists any); periods of one file share the batch's themes."""
    if baseline_has_themes is None:
        baseline_has_themes = bool(baseline.themes)
    changes: list[tuple[Change, object]] = []  # each with its test (or None)
    notes: list[str] = []
    changes += [_net("overall", None, None, baseline.overall, current.overall)]
    for label in current.overall.counts:
        if label in baseline.overall.counts:
            changes.append(
                _share(
                    "label",
                    None,
                    label,
                    (baseline.overall.counts[label], baseline.overall.analysed),
                    (current.overall.counts[label], current.overall.analysed),
                )
            )
    before_columns = {column.column: column for column in baseline.segments}
    for column in current.segments:
        earlier = before_columns.get(column.column)
        if earlier is None:
            notes.append(f"group_by column {column.column!r} is not in the baseline: its segments are not compared")
            continue
        earlier_values = {segment.value: segment for segment in earlier.segments}
        for segment in column.segments:
            if segment.value in earlier_values:
                changes.append(_net("segment", column.column, segment.value, earlier_values[segment.value], segment))
        missing = sum(1 for segment in column.segments if segment.value not in earlier_values)
        if missing:
            notes.append(f"{missing} {column.column} values are not listed in the baseline and are not compared")
    for column in baseline.segments:
        if column.column not in {c.column for c in current.segments}:
            notes.append(f"the baseline's group_by column {column.column!r} is not in this task")
    before_aspects = {aspect.aspect.casefold(): aspect for aspect in baseline.aspects}
    for aspect in current.aspects:
        earlier = before_aspects.get(aspect.aspect.casefold())
        if earlier is None:
            notes.append(f"aspect {aspect.aspect!r} is not in the baseline")
        else:
            changes.append(_net("aspect", None, aspect.aspect, earlier, aspect))
    new_themes: list[str] = []
    if current.themes and not baseline_has_themes:
        notes.append("the baseline has no themes (it was not asked for a report): themes are not compared")
    elif current.themes:
        earlier_themes = {theme.phrase: theme for theme in baseline.themes}
        for theme in current.themes:
            earlier = earlier_themes.get(theme.phrase)
            if earlier is None:
                new_themes.append(theme.phrase)
                continue
            side = "positive" if theme.polarity == "praise" else "negative"
            changes.append(
                _share(
                    "theme",
                    None,
                    theme.phrase,
                    (getattr(earlier, side), baseline.overall.analysed),
                    (getattr(theme, side), current.overall.analysed),
                )
            )
    if current.time is not None or baseline.time is not None:
        notes.append("time buckets are not compared (each batch covers its own dates)")
    adjusted = iter(benjamini_hochberg([test.p_value for _, test in changes if test is not None]))
    finished = []
    for change, test in changes:
        if test is not None:
            p_adjusted = next(adjusted)
            change.p_value = round(test.p_value, 6)
            change.p_adjusted = round(p_adjusted, 6)
            change.significant = p_adjusted < FDR
        finished.append(change)
    return Comparison(baseline_task_id=baseline_task_id, changes=finished, new_themes=new_themes, notes=notes)


def _net(kind: str, column: str | None, key: str | None, before: Stats | SegmentStats, after: Stats):
    b, a = before.net_sentiment, after.net_sentiment
    change = Change(
        kind=kind,
        column=column,
        key=key,
        measure="net_sentiment",
        baseline=b or 0.0,
        current=a or 0.0,
        change=round((a or 0.0) - (b or 0.0), 4),
        p_value=None,
        p_adjusted=None,
        significant=False,
    )
    test = net_sentiment_z_test(
        after.counts.get("positive", 0),
        after.counts.get("negative", 0),
        after.analysed,
        before.counts.get("positive", 0),
        before.counts.get("negative", 0),
        before.analysed,
    )
    return change, test


def _share(kind: str, column: str | None, key: str, before: tuple[int, int], after: tuple[int, int]):
    (xb, nb), (xa, na) = before, after
    share_b, share_a = (xb / nb if nb else 0.0), (xa / na if na else 0.0)
    change = Change(
        kind=kind,
        column=column,
        key=key,
        measure="share",
        baseline=round(share_b, 4),
        current=round(share_a, 4),
        change=round(share_a - share_b, 4),
        p_value=None,
        p_adjusted=None,
        significant=False,
    )
    return change, two_proportion_z_test(xa, na, xb, nb)
