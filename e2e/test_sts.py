"""STS GetCallerIdentity and GetAccessKeyInfo over awsQuery: boto3, the AWS CLI, and presigned URLs."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError


def test_boto3_get_caller_identity_names_the_management_account_root(ingot):
    identity = ingot.client("sts").get_caller_identity()
    assert identity["Account"] == ingot.account
    assert identity["UserId"] == ingot.account
    assert identity["Arn"] == f"arn:aws:iam::{ingot.account}:root"


def test_aws_cli_get_caller_identity_uses_the_credentials_file(ingot):
    out = json.loads(ingot.cli("sts", "get-caller-identity").stdout)
    assert out == {"UserId": ingot.account, "Account": ingot.account, "Arn": f"arn:aws:iam::{ingot.account}:root"}


def test_aws_cli_get_access_key_info_names_the_account_of_the_key(ingot):
    out = json.loads(ingot.cli("sts", "get-access-key-info", "--access-key-id", ingot.access_key_id).stdout)
    assert out == {"Account": ingot.account}


def test_a_wrong_secret_is_a_signature_mismatch(ingot):
    sts = ingot.client("sts", secret_access_key="x" * 40)
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unknown_access_key_is_an_invalid_client_token(ingot):
    sts = ingot.client("sts", access_key_id="AKIAUNKNOWNKEY000000")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_a_presigned_get_caller_identity_url_works_without_headers(ingot):
    url = ingot.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    with urllib.request.urlopen(url) as resp:
        body = resp.read().decode()
    assert resp.status == 200
    assert f"<Account>{ingot.account}</Account>" in body
    assert "<GetCallerIdentityResult>" in body


def test_a_tampered_presigned_url_is_rejected(ingot):
    url = ingot.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(tampered)
    assert e.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in e.value.read()
