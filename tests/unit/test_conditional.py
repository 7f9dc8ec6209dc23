"""If-None-Match matching and the link period that tags of answers with presigned links carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from reviewpulse.api.conditional import link_period, none_match, page_cache_control, page_etag, task_etag
from reviewpulse.tasks.model import Task, TaskStatus, TaskType

TAG = '"abc.v3"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        (TAG, True),
        ("*", True),
        (f'"other", {TAG}', True),
        (f"W/{TAG}", True),  # If-None-Match compares weakly
        ('"abc.v2"', False),
        ('"abc.v3', False),
        ("abc.v3", False),
        (f" {TAG} ,", True),
    ],
)
def test_if_none_match(header, matches):
    assert none_match(header, TAG) is matches


def test_the_link_period_is_half_the_links_life_and_max_age_ends_with_it():
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a multiple of 1,800 s since the epoch
    assert link_period(3600, start) == (int(start.timestamp()) // 1800, 1800)
    later = datetime(2026, 11, 30, 12, 29, 59, tzinfo=UTC)
    assert link_period(3600, later) == (link_period(3600, start)[0], 1)
    assert link_period(3600, datetime(2026, 11, 30, 12, 30, tzinfo=UTC))[0] == link_period(3600, start)[0] + 1
    assert page_cache_control(3600).startswith("private, max-age=")


def test_tags_follow_the_version_and_what_picks_the_page():
    task = Task.new("acme", TaskType.TEXT, TaskStatus.READY, ttl_days=1)
    later = task.model_copy(update={"version": task.version + 1})
    assert task_etag(task) != task_etag(later)
    tags = {
        page_etag(task, cursor=None, limit=100, fields=None, link_seconds=3600),
        page_etag(task, cursor="c", limit=100, fields=None, link_seconds=3600),
        page_etag(task, cursor=None, limit=99, fields=None, link_seconds=3600),
        page_etag(task, cursor=None, limit=100, fields=frozenset({"id"}), link_seconds=3600),
        page_etag(later, cursor=None, limit=100, fields=None, link_seconds=3600),
    }
    assert len(tags) == 5
    # The same fields in any order pick the same page (the items keep the schema's field order)
    assert page_etag(task, cursor=None, limit=1, fields=frozenset({"id", "label"}), link_seconds=3600) == page_etag(
        task, cursor=None, limit=1, fields=frozenset({"label", "id"}), link_seconds=3600
    )
