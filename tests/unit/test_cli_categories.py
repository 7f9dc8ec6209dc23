"""`reviewpulse analyze --category NAME=TERM,TERM`: one category per flag, into options.categories."""

from __future__ import annotations

import pytest
from reviewpulse_cli.analyze import categories
from reviewpulse_cli.errors import UsageError


def test_each_flag_is_a_category_and_a_repeated_name_adds_its_terms() -> None:
    given = ["delays=late, delayed flight", "baggage=bag,luggage", "delays=cancelled"]
    assert categories(given) == {"delays": ["late", "delayed flight", "cancelled"], "baggage": ["bag", "luggage"]}


@pytest.mark.parametrize("entry", ["delays", "=late", "delays=", "delays= , "])
def test_a_flag_without_a_name_or_terms_is_a_usage_error(entry: str) -> None:
    with pytest.raises(UsageError) as refused:
        categories([entry])
    assert "NAME=TERM" in str(refused.value)
