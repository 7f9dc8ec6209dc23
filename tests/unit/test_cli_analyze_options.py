"""The options `reviewpulse analyze` sends, as the API names them."""

from __future__ import annotations

from reviewpulse_cli.analyze import options
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
