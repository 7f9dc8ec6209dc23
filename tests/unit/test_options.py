"""The one options contract (analysis/options.py): every option a client may send is declared once
and reaches, unchanged, the API's request, a drop's sidecar, the stored task and the workers; the
Batch API mode rule is one pure function."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from reviewpulse.analysis.options import (
    AnalysisOptions,
    DropOptionsRequest,
    OptionsRequest,
    mode_waits_on_size,
    uses_batch_api,
)
from reviewpulse.api.schemas import CreateBatchRequest, CreateTaskRequest
from reviewpulse.settings import Settings
from reviewpulse.usecases.resolve_options import resolve_options

# A value other than its default for every option a lexicon task takes as asked (the engine and
# what the engine settles, min_confidence and mode, are resolution's, tested with the engines).
ASKED = {
    "model_id": "my-model",
    "aspects": ["battery", "price"],
    "report": True,
    "teach": {"sample": 500, "set_default": True},
    "redact_pii": False,
    "group_by": ["product"],
    "time_field": "created_at",
    "time_bucket": "week",
    "label_field": "stars",
    "categories": {"delays": ["late", "delayed"]},
    "compare_to": "0" * 28,
    "compare": {"at": "last-bucket"},
    "sheet": "Reviews",
    "quote_only": True,
    "max_cost_usd": 2.5,
    "on_budget_exhausted": "pause",
    "delimiter": ";",
    "csv_bom": True,
    "csv_escape_formulas": False,
}
RESOLVED = {"engine", "min_confidence", "mode"}


def test_every_option_is_declared_once_and_kept_by_the_stored_task():
    # Given the request's options; Then the stored options are the same fields (and what
    # resolution adds), and a drop's sidecar takes them all beside its file's fields
    requested = set(OptionsRequest.model_fields)
    assert set(AnalysisOptions.model_fields) == requested | {"model_version"}
    assert set(DropOptionsRequest.model_fields) == requested | {"format", "text_field", "id_field"}
    # And this test names a value for every option that is kept as asked (a new option fails here
    # until it says what it is)
    assert set(ASKED) == requested - RESOLVED


def test_what_a_client_asks_reaches_the_stored_task_unchanged_by_every_entry_point():
    settings = Settings(allow_unredacted_llm=True)
    # Given the same options through the API's two requests and a drop's sidecar
    through_task = CreateTaskRequest.model_validate({"text": "ok", "options": ASKED}).options
    through_batch = CreateBatchRequest.model_validate({"filename": "a.csv", "options": ASKED}).options
    through_drop = DropOptionsRequest.model_validate({**ASKED, "format": "csv"}).requested()

    # When each is resolved into the options a task keeps
    for requested in (through_task, through_batch, through_drop):
        stored = resolve_options(requested, settings)

        # Then every option is kept as asked, and the stored task reads back the same
        assert stored.model_dump(include=set(ASKED)) == ASKED
        assert AnalysisOptions.model_validate_json(stored.model_dump_json()) == stored


def test_the_request_refuses_what_a_stored_task_keeps_for_itself_and_unknown_keys():
    # A client cannot pin a model version (creation does), nor send a key no option has
    for extra in ({"model_version": "v1"}, {"engin": "llm"}):
        with pytest.raises(ValidationError):
            OptionsRequest.model_validate(extra)
    # But a stored task with a key this version does not know (written by a newer one) is read
    assert AnalysisOptions.model_validate({"engine": "lexicon", "added_later": 1}).engine == "lexicon"


@pytest.mark.parametrize(
    ("mode", "items", "threshold", "batch", "waits"),
    [
        ("batch", 1, None, True, False),  # asked for: whatever the size
        ("batch", 1, 100, True, False),
        ("sync", 1_000, 100, False, False),  # asked for sync: never by size
        (None, 99, 100, False, True),  # left to the deployment: below its threshold
        (None, 100, 100, True, True),  # at it
        (None, 1_000, None, False, False),  # a deployment without a threshold
        (None, 1_000, 0, False, False),
    ],
)
def test_the_batch_api_mode_rule(mode, items, threshold, batch, waits):
    assert uses_batch_api(mode, items=items, threshold=threshold) is batch
    assert mode_waits_on_size(mode, threshold) is waits
