"""SSM PutParameter and GetParameter for plain String parameters over awsJson 1.1."""

import json

import pytest
from botocore.exceptions import ClientError


def test_put_then_get_returns_the_value_and_version(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/ami"
    assert ssm.put_parameter(Name=name, Value="ami-0123456789abcdef0", Type="String")["Version"] == 1
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert p["Value"] == "ami-0123456789abcdef0"
    assert p["Version"] == 1
    assert p["Type"] == "String"
    assert p["DataType"] == "text"
    assert p["ARN"] == f"arn:aws:ssm:us-east-1:{ingot.account}:parameter/e2e/{unique}/ami"


def test_overwrite_creates_a_new_version_and_without_it_the_put_fails(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/v"
    ssm.put_parameter(Name=name, Value="one", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="two", Type="String")
    assert e.value.response["Error"]["Code"] == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name=name, Value="two", Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "two"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "one"


def test_a_missing_parameter_is_not_found(ingot, unique):
    with pytest.raises(ClientError) as e:
        ingot.client("ssm").get_parameter(Name=f"/e2e/{unique}/nothing")
    assert e.value.response["Error"]["Code"] == "ParameterNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_parameters_are_per_region(ingot, unique):
    name = f"/e2e/{unique}/regional"
    ingot.client("ssm", region="us-east-1").put_parameter(Name=name, Value="east", Type="String")
    with pytest.raises(ClientError):
        ingot.client("ssm", region="eu-west-1").get_parameter(Name=name)


def test_aws_cli_put_and_get_parameter(ingot, unique):
    name = f"/e2e/{unique}/cli"
    put = json.loads(ingot.cli("ssm", "put-parameter", "--name", name, "--value", "hello", "--type", "String").stdout)
    assert put["Version"] == 1
    got = json.loads(ingot.cli("ssm", "get-parameter", "--name", name).stdout)
    assert got["Parameter"]["Value"] == "hello"


def test_a_name_with_a_reserved_prefix_is_rejected(ingot):
    # AWS answers an "aws" prefix with AccessDeniedException and an "ssm" prefix with a validation error.
    with pytest.raises(ClientError) as e:
        ingot.client("ssm").put_parameter(Name="/aws/mine", Value="x", Type="String")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["Error"]["Message"] == "No access to reserved parameter name: aws/mine."
    with pytest.raises(ClientError) as e:
        ingot.client("ssm").put_parameter(Name="ssmThing", Value="x", Type="String")
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_an_invalid_type_is_a_validation_error_with_aws_wording(ingot, unique):
    result = ingot.cli("ssm", "put-parameter", "--name", f"/e2e/{unique}/t", "--value", "x", "--type", "Nope",
                       check=False)
    assert result.returncode != 0
    assert "ValidationException" in result.stderr
    assert "Member must satisfy enum value set: [SecureString, StringList, String]" in result.stderr
