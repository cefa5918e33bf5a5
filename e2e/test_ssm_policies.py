"""Parameter policies with clock control: expiry deletes the parameter at its time.

SigV4 signatures are checked against the server's clock, so these tests move it by minutes, not
hours, before calling the API again."""

import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import Server


@pytest.fixture
def clocked():
    server = Server(["--enable-clock-control"])
    yield server
    server.close()


def advance(server, seconds):
    status, _ = server.admin("POST", f"/_ingot/clock?advance={seconds}")
    assert status == 200


def in_minutes(minutes):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def expiration(minutes):
    return {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": in_minutes(minutes)}}


def wait_until_gone(ssm, name):
    for _ in range(100):
        try:
            ssm.get_parameter(Name=name)
        except ClientError as e:
            return e.response["Error"]["Code"]
        time.sleep(0.05)
    return None


def test_cli_expiration_policy_deletes_the_parameter_when_the_clock_passes_it(clocked):
    policies = json.dumps([expiration(5)])
    out = json.loads(clocked.cli("ssm", "put-parameter", "--name", "/e2e/expiring", "--type", "String",
                                 "--value", "temporary", "--tier", "Advanced", "--policies", policies).stdout)
    assert out["Tier"] == "Advanced"
    described = json.loads(clocked.cli("ssm", "describe-parameters", "--parameter-filters",
                                       "Key=Name,Values=/e2e/expiring").stdout)["Parameters"][0]
    assert [(p["PolicyType"], p["PolicyStatus"]) for p in described["Policies"]] == [("Expiration", "Pending")]
    advance(clocked, 6 * 60)
    assert wait_until_gone(clocked.client("ssm"), "/e2e/expiring") == "ParameterNotFound"


def test_boto3_expiration_is_cancelled_by_an_empty_policy(clocked):
    ssm = clocked.client("ssm")
    ssm.put_parameter(Name="/e2e/reprieve", Value="v", Type="String", Tier="Advanced",
                      Policies=json.dumps([expiration(5)]))
    ssm.put_parameter(Name="/e2e/reprieve", Value="v2", Overwrite=True, Policies="[{}]")
    advance(clocked, 6 * 60)
    time.sleep(0.5)
    assert ssm.get_parameter(Name="/e2e/reprieve")["Parameter"]["Value"] == "v2"


def test_policies_on_a_standard_parameter_are_refused(clocked):
    with pytest.raises(ClientError) as e:
        clocked.client("ssm").put_parameter(Name="/e2e/std", Value="v", Type="String", Tier="Standard",
                                            Policies=json.dumps([expiration(5)]))
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_an_unknown_policy_type_is_refused(clocked):
    with pytest.raises(ClientError) as e:
        clocked.client("ssm").put_parameter(
            Name="/e2e/unknown-policy", Value="v", Type="String", Tier="Advanced",
            Policies=json.dumps([{"Type": "Rotation", "Version": "1.0", "Attributes": {}}]))
    assert e.value.response["Error"]["Code"] == "InvalidPolicyTypeException"
