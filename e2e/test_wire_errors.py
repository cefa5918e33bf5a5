"""Bad input on the wire: each protocol answers with its AWS-style 4xx, never a 500."""

import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def send(ingot, service, body, headers=None, path="/", method="POST", sign=True, region="us-east-1"):
    url = ingot.endpoint + path
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    if sign:
        SigV4Auth(Credentials(ingot.access_key_id, ingot.secret_access_key), service, region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(url, data=prepared.body, method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


JSON11 = {"Content-Type": "application/x-amz-json-1.1"}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def test_malformed_json_is_a_serialization_exception(ingot):
    status, headers, body = send(ingot, "ssm", b"{not json", {**JSON11, "X-Amz-Target": "AmazonSSM.GetParameter"})
    assert status == 400
    assert json.loads(body)["__type"].endswith("SerializationException")


def test_a_wrongly_typed_member_is_a_serialization_exception(ingot):
    status, _, body = send(ingot, "ssm", b'{"Name": 5}', {**JSON11, "X-Amz-Target": "AmazonSSM.GetParameter"})
    assert status == 400
    assert json.loads(body)["__type"].endswith("SerializationException")


def test_a_missing_required_member_is_a_validation_exception(ingot):
    status, _, body = send(ingot, "ssm", b"{}", {**JSON11, "X-Amz-Target": "AmazonSSM.GetParameter"})
    assert status == 400
    error = json.loads(body)
    assert error["__type"].endswith("ValidationException")
    assert "Value null at 'name' failed to satisfy constraint: Member must not be null" in error["message"]


def test_an_unknown_target_is_an_unknown_operation(ingot):
    status, _, body = send(ingot, "ssm", b"{}", {**JSON11, "X-Amz-Target": "AmazonSSM.FlyToTheMoon"})
    assert status == 400
    assert json.loads(body)["__type"].endswith("UnknownOperationException")


def test_an_unknown_query_action_is_an_invalid_action(ingot):
    status, _, body = send(ingot, "sts", b"Action=FlyToTheMoon&Version=2011-06-15", FORM)
    assert status == 400
    assert "<Code>InvalidAction</Code>" in body
    assert "<ErrorResponse" in body


def test_an_ec2_error_uses_the_ec2_envelope_with_request_id(ingot):
    status, _, body = send(ingot, "ec2", b"Action=DescribeRegions&Version=2016-11-15&Bogus=1", FORM)
    assert status == 400
    assert "<Response><Errors><Error><Code>UnknownParameter</Code>" in body
    assert "<RequestID>" in body


def test_an_unsigned_request_is_missing_authentication(ingot):
    status, _, body = send(ingot, "sts", b"Action=GetCallerIdentity&Version=2011-06-15", FORM, sign=False)
    assert status == 403
    assert "<Code>MissingAuthenticationToken</Code>" in body


def test_an_unsigned_json_request_is_missing_authentication(ingot):
    status, _, body = send(ingot, "ssm", b"{}", {**JSON11, "X-Amz-Target": "AmazonSSM.GetParameter"}, sign=False)
    assert status in (400, 403)
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")


def test_a_service_ingot_does_not_serve_answers_not_implemented(ingot):
    status, _, body = send(ingot, "sqs", b"Action=ListQueues&Version=2012-11-05", FORM)
    assert status == 501
    assert "NotImplemented" in body


def test_an_oversize_body_is_rejected_before_it_is_read(ingot):
    # Announce 11 MiB but send only the headers and a little of the body: the answer must come
    # from the declared length alone. (Sending it all raced the server closing the connection
    # after its answer, and the client then failed with a broken pipe.)
    host, port = urllib.parse.urlsplit(ingot.endpoint).netloc.rsplit(":", 1)
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Target: AmazonSSM.GetParameter\r\n"
        f"Content-Length: {11 * 1024 * 1024 + 2}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode() + b"{" + b" " * 1024)
        answer = conn.makefile("rb").readline().decode()
    status = int(answer.split(" ", 2)[1])
    assert status == 413


def test_restjson_errors_carry_the_error_type_header(ingot):
    status, headers, body = send(ingot, "ram", b'{"maxResults": 0}', {"Content-Type": "application/json"},
                                 path="/listresourcetypes")
    assert status == 400
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["x-amzn-errortype"].startswith("ValidationException") or \
        lowered["x-amzn-errortype"].startswith("InvalidParameterException")
    assert "x-amzn-requestid" in lowered


def test_health_reports_ready(ingot):
    with urllib.request.urlopen(ingot.endpoint + "/_ingot/health") as resp:
        assert json.loads(resp.read())["status"] == "ready"


def test_an_unsigned_reset_is_refused_and_changes_nothing(ingot, unique):
    ingot.client("ssm").put_parameter(Name=f"/unsigned-reset/{unique}", Value="x", Type="String")
    req = urllib.request.Request(ingot.endpoint + "/_ingot/reset", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403
    assert e.value.headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException")
    ingot.client("ssm").get_parameter(Name=f"/unsigned-reset/{unique}")


def test_reset_wipes_state_but_keeps_the_bootstrap_account(ingot, unique):
    ssm = ingot.client("ssm")
    ssm.put_parameter(Name=f"/reset/{unique}", Value="x", Type="String")
    status, _ = ingot.admin("POST", "/_ingot/reset")
    assert status == 200
    assert ingot.client("sts").get_caller_identity()["Account"] == ingot.account
    try:
        ssm.get_parameter(Name=f"/reset/{unique}")
        raise AssertionError("parameter survived the reset")
    except ssm.exceptions.ParameterNotFound:
        pass
