"""The options `reviewpulse analyze` sends, as the API names them."""

from __future__ import annotations

import pytest
from reviewpulse_cli.analyze import options, taught_line
from reviewpulse_cli.errors import UsageError
from reviewpulse_cli.main import build_parser


def test_model_names_the_model_that_reads_the_texts():
    # Given the command line of an analysis through one of the tenant's models
    argv = ["analyze", "reviews.csv", "--engine", "auto", "--model", "mdl_0123456789abcdef"]
    # When its options are built
    chosen = options(build_parser(argv).parse_args(argv))
    # Then the request names that model (and the engine), as options.model_id
    assert (chosen["engine"], chosen["model_id"]) == ("auto", "mdl_0123456789abcdef")


def test_without_model_the_request_names_none_and_the_tenants_default_applies():
    argv = ["analyze", "reviews.csv"]
    assert "model_id" not in options(build_parser(argv).parse_args(argv))


def test_every_input_format_the_api_reads_can_be_named_and_is_told_from_its_extension():
    from pathlib import Path

    from reviewpulse.ingest.formats import FileFormat
    from reviewpulse_cli.analyze import format_of

    # Given each format the API reads (conversations included, which the CLI once left out)
    for member in FileFormat:
        argv = ["analyze", "chats.json", "--format", member.value]
        # Then `--format` takes it
        assert build_parser(argv).parse_args(argv).format == member.value
    # And a file's extension names the format the API would tell from it
    for name in ("a.csv", "b.JSONL", "c.ndjson", "d.txt", "e.xlsx", "f.json", "g.xls"):
        told = FileFormat.from_filename(name)
        assert format_of(Path(name)) == (told.value if told else None)


def test_compare_at_asks_for_two_periods_of_the_file():
    # Given the command line of a file compared at a date, and one compared over its last bucket
    for at in ("2026-04-01", "last-bucket"):
        argv = ["analyze", "reviews.csv", "--time-field", "created_at", "--compare-at", at]
        # When its options are built
        chosen = options(build_parser(argv).parse_args(argv))
        # Then the request asks for options.compare at that point, by the time field
        assert (chosen["compare"], chosen["time_field"]) == ({"at": at}, "created_at")


def test_teach_sample_asks_for_a_model_taught_from_that_many_items():
    # Given the command line of an auto batch teaching from 500 items, made the default
    argv = ["analyze", "reviews.csv", "--engine", "auto", "--teach-sample", "500", "--teach-default"]
    # When its options are built, Then the request asks for options.teach as the API names it
    assert options(build_parser(argv).parse_args(argv))["teach"] == {"sample": 500, "set_default": True}
    argv = ["analyze", "reviews.csv", "--teach-sample", "300"]
    assert options(build_parser(argv).parse_args(argv))["teach"] == {"sample": 300, "set_default": False}


def test_teach_default_without_a_sample_is_a_usage_error():
    argv = ["analyze", "reviews.csv", "--teach-default"]
    with pytest.raises(UsageError, match="--teach-sample"):
        options(build_parser(argv).parse_args(argv))


@pytest.mark.parametrize(
    ("task", "says"),
    [
        ({"options": {"model_id": "mdl_a"}, "warnings": []}, "it read the rest"),
        ({"options": {"model_id": None}, "warnings": [{"code": "teach-failed", "detail": "x"}]}, "could not be"),
        ({"options": {"model_id": None}, "warnings": []}, "models show mdl_a"),
    ],
)
def test_the_summary_names_the_taught_model_and_what_became_of_it(task, says):
    line = taught_line(task, "mdl_a")
    assert "mdl_a" in line and says in line
