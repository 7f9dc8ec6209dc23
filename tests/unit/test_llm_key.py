"""Where the LLM engine's key comes from: the environment locally, Secrets Manager or SSM in Lambda."""

from __future__ import annotations

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from reviewpulse.analysis.llm.client import LlmNotConfigured, api_key
from reviewpulse.settings import Settings


@pytest.fixture(autouse=True)
def _aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    parameters.clear_caches()
    with mock_aws():
        yield
    parameters.clear_caches()


def test_the_environment_key_wins_and_nothing_is_fetched():
    # Given OPENAI_API_KEY and a secret name that does not exist
    settings = Settings(openai_api_key="sk-local", llm_api_key_secret="missing")
    # Then the environment's key is used without asking Secrets Manager
    assert api_key(settings) == "sk-local"


def test_the_key_comes_from_secrets_manager_and_is_cached():
    # Given the key in a Secrets Manager secret
    secrets = boto3.client("secretsmanager")
    arn = secrets.create_secret(Name="reviewpulse/llm", SecretString="sk-from-secret")["ARN"]
    settings = Settings(llm_api_key_secret=arn)
    # When it is read twice, the second time after the secret changed
    first = api_key(settings)
    secrets.put_secret_value(SecretId=arn, SecretString="sk-rotated")
    second = api_key(settings)
    # Then both reads give the cached value (Powertools caches it for KEY_MAX_AGE_SECONDS)
    assert (first, second) == ("sk-from-secret", "sk-from-secret")
    # And after the cache is gone the rotated key is read
    parameters.clear_caches()
    assert api_key(settings) == "sk-rotated"


def test_the_key_comes_from_an_ssm_secure_string():
    boto3.client("ssm").put_parameter(Name="/reviewpulse/llm-key", Value="sk-from-ssm", Type="SecureString")
    assert api_key(Settings(llm_api_key_parameter="/reviewpulse/llm-key")) == "sk-from-ssm"


def test_no_key_source_is_a_clear_error():
    with pytest.raises(LlmNotConfigured):
        api_key(Settings())
