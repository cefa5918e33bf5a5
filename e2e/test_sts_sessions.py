"""STS temporary credentials: AssumeRole (trust policy, the caller's permission, ExternalId, duration
bounds, role chaining, session tags and policies), GetSessionToken, and the session token checked on
every call (header and presigned), with AWS's ExpiredToken once the session ends on Ingot's clock."""

import json
import urllib.error
import urllib.request

import boto3
import botocore.config
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import Server


@pytest.fixture(scope="module")
def clocked():
    server = Server(["--enable-clock-control"])
    yield server
    server.close()


def session_client(server, service, creds):
    return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"],
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def trust(principal, **condition):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def user_with_key(server, name, policy=None):
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("sts", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])


ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def test_a_role_session_acts_as_the_role_and_names_its_session(clocked):
    iam = clocked.client("iam")
    role = iam.create_role(RoleName="deployer", Path="/ci/",
                           AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]
    iam.put_role_policy(RoleName="deployer", PolicyName="read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}]}))
    sts = user_with_key(clocked, "alice", ALLOW_ALL)
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build-42")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{clocked.account}:assumed-role/deployer/build-42"
    assert out["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:build-42"
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    creds = out["Credentials"]
    me = session_client(clocked, "sts", creds).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"] and me["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    ssm = session_client(clocked, "ssm", creds)
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/x", Value="v", Type="String")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert (f"User: arn:aws:sts::{clocked.account}:assumed-role/deployer/build-42 is not authorized to perform: "
            "ssm:PutParameter") in e.value.response["Error"]["Message"]


def test_root_may_not_assume_roles(clocked):
    iam = clocked.client("iam")
    iam.create_role(RoleName="root-target", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))
    with pytest.raises(ClientError) as e:
        clocked.client("sts").assume_role(RoleArn=f"arn:aws:iam::{clocked.account}:role/root-target",
                                          RoleSessionName="s1")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == "Roles may not be assumed by root accounts."


def test_a_trust_policy_naming_the_account_needs_the_callers_permission_too(clocked):
    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="account-trusted",
                          AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    sts = user_with_key(clocked, "bob")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{clocked.account}:user/bob is not authorized to perform: sts:AssumeRole on resource: {arn}")
    # A trust policy naming the user itself is enough on its own.
    arn2 = iam.create_role(RoleName="bob-trusted",
                           AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:user/bob"))["Role"]["Arn"]
    sts.assume_role(RoleArn=arn2, RoleSessionName="s1")


def test_external_id_and_duration_bounds_are_enforced(clocked):
    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="vendor", MaxSessionDuration=7200, AssumeRolePolicyDocument=trust(
        f"arn:aws:iam::{clocked.account}:root", StringEquals={"sts:ExternalId": "secret-123"}))["Role"]["Arn"]
    sts = user_with_key(clocked, "carol", ALLOW_ALL)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="secret-123", DurationSeconds=7200)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1", ExternalId="secret-123", DurationSeconds=7201)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "exceeds the MaxSessionDuration set for this role" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=arn, RoleSessionName="bad name", ExternalId="secret-123")
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_role_chaining_is_limited_to_one_hour(clocked):
    iam = clocked.client("iam")
    first = iam.create_role(RoleName="hop1", MaxSessionDuration=43200,
                            AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    iam.put_role_policy(RoleName="hop1", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    second = iam.create_role(RoleName="hop2", MaxSessionDuration=43200,
                             AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    sts = user_with_key(clocked, "dave", ALLOW_ALL)
    creds = sts.assume_role(RoleArn=first, RoleSessionName="a1", DurationSeconds=7200)["Credentials"]
    chained = session_client(clocked, "sts", creds)
    with pytest.raises(ClientError) as e:
        chained.assume_role(RoleArn=second, RoleSessionName="b1", DurationSeconds=3601)
    assert "1 hour session limit for roles assumed by role chaining" in e.value.response["Error"]["Message"]
    chained.assume_role(RoleArn=second, RoleSessionName="b1", DurationSeconds=3600)


def test_a_session_policy_narrows_the_roles_permissions(clocked):
    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="narrowed",
                          AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    iam.put_role_policy(RoleName="narrowed", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    sts = user_with_key(clocked, "erin", ALLOW_ALL)
    only_get = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:Get*", "Resource": "*"}]}
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="s1", Policy=json.dumps(only_get))["Credentials"]
    ssm = session_client(clocked, "ssm", creds)
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/narrowed", Value="v", Type="String")
    assert "because no session policy allows the ssm:PutParameter action" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/narrowed")
    assert e.value.response["Error"]["Code"] == "ParameterNotFound"


def test_session_tags_become_principal_tags(clocked):
    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="tagged",
                          AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    iam.put_role_policy(RoleName="tagged", PolicyName="team-params", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:PutParameter",
                                               "Resource": "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/team}/*"}]}))
    sts = user_with_key(clocked, "frank", ALLOW_ALL)
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="s1", Tags=[{"Key": "team", "Value": "blue"}])["Credentials"]
    ssm = session_client(clocked, "ssm", creds)
    ssm.put_parameter(Name="/blue/config", Value="v", Type="String")
    with pytest.raises(ClientError):
        ssm.put_parameter(Name="/red/config", Value="v", Type="String")


def test_session_credentials_need_their_token_and_expire_on_ingots_clock(clocked):
    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="short",
                          AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    sts = user_with_key(clocked, "gina", ALLOW_ALL)
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=900)["Credentials"]
    session_client(clocked, "sts", creds).get_caller_identity()
    wrong = dict(creds, SessionToken=creds["SessionToken"][:-4] + "AAAA")
    with pytest.raises(ClientError) as e:
        session_client(clocked, "sts", wrong).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    missing = boto3.client("sts", endpoint_url=clocked.endpoint, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        missing.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"

    # Presigned, the token travels in the query string.
    request = AWSRequest(method="GET", url=f"{clocked.endpoint}/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
                   "sts", "us-east-1", expires=300).add_auth(request)
    with urllib.request.urlopen(request.url) as resp:
        assert b"assumed-role/short/s1" in resp.read()

    status, _ = clocked.admin("POST", "/_ingot/clock?advance=901")
    assert status == 200
    for client in (session_client(clocked, "sts", creds), session_client(clocked, "ssm", creds)):
        with pytest.raises(ClientError) as e:
            client.get_caller_identity() if client.meta.service_model.service_name == "sts" else \
                client.get_parameter(Name="/x")
        code = e.value.response["Error"]["Code"]
        assert code in ("ExpiredToken", "ExpiredTokenException"), code
        assert "The security token included in the request is expired" in e.value.response["Error"]["Message"]


def test_get_session_token_keeps_the_callers_permissions_and_refuses_session_callers(clocked):
    sts = user_with_key(clocked, "hank", ALLOW_ALL)
    creds = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    me = session_client(clocked, "sts", creds).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{clocked.account}:user/hank"
    with pytest.raises(ClientError) as e:
        session_client(clocked, "sts", creds).get_session_token()
    assert e.value.response["Error"]["Message"] == "Cannot call GetSessionToken with session credentials"


def test_an_invalid_authorization_message_is_refused(clocked):
    with pytest.raises(ClientError) as e:
        clocked.client("sts").decode_authorization_message(EncodedMessage="not-a-message")
    assert e.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"


def test_transitive_session_tags_follow_a_chain_of_sessions(clocked):
    iam = clocked.client("iam")
    roles = {}
    for name in ("chain-a", "chain-b"):
        roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(
            f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    # The last role trusts only sessions that carry the tag.
    last = iam.create_role(RoleName="chain-c", AssumeRolePolicyDocument=trust(
        f"arn:aws:iam::{clocked.account}:root", StringEquals={"aws:PrincipalTag/project": "golden"}))["Role"]["Arn"]
    sts = user_with_key(clocked, "ivan", ALLOW_ALL)
    tag = [{"Key": "project", "Value": "golden"}]

    first = sts.assume_role(RoleArn=roles["chain-a"], RoleSessionName="t1", Tags=tag, TransitiveTagKeys=["project"])
    second = session_client(clocked, "sts", first["Credentials"]).assume_role(
        RoleArn=roles["chain-b"], RoleSessionName="t2")
    session_client(clocked, "sts", second["Credentials"]).assume_role(RoleArn=last, RoleSessionName="t3")

    first = sts.assume_role(RoleArn=roles["chain-a"], RoleSessionName="u1", Tags=tag)
    second = session_client(clocked, "sts", first["Credentials"]).assume_role(
        RoleArn=roles["chain-b"], RoleSessionName="u2")
    with pytest.raises(ClientError) as e:
        session_client(clocked, "sts", second["Credentials"]).assume_role(RoleArn=last, RoleSessionName="u3")
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_a_managed_session_policy_narrows_the_session(clocked):
    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="managed-narrowed",
                          AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    iam.put_role_policy(RoleName="managed-narrowed", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    sts = user_with_key(clocked, "judy", ALLOW_ALL)
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="m1",
                            PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"}])["Credentials"]
    ssm = session_client(clocked, "ssm", creds)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/managed-narrowed")
    assert e.value.response["Error"]["Code"] == "ParameterNotFound"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/managed-narrowed", Value="v", Type="String")
    assert "because no session policy allows the ssm:PutParameter action" in e.value.response["Error"]["Message"]


def test_a_cli_profile_with_credential_source_environment_assumes_its_role(clocked, tmp_path):
    import os
    import subprocess

    from conftest import AWS_CLI

    iam = clocked.client("iam")
    arn = iam.create_role(RoleName="from-env",
                          AssumeRolePolicyDocument=trust(f"arn:aws:iam::{clocked.account}:root"))["Role"]["Arn"]
    iam.create_user(UserName="kate")
    iam.put_user_policy(UserName="kate", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    key = iam.create_access_key(UserName="kate")["AccessKey"]
    config = tmp_path / "config"
    config.write_text(f"[profile deploy]\nrole_arn = {arn}\ncredential_source = Environment\n"
                      f"region = us-east-1\nendpoint_url = {clocked.endpoint}\n")
    env = dict(os.environ, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"], AWS_PAGER="")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    # Named on the command line, the profile's role is assumed with the environment's key.
    out = subprocess.run([str(AWS_CLI), "--profile", "deploy", "--output", "json", "sts", "get-caller-identity"],
                         capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"].startswith(f"arn:aws:sts::{clocked.account}:assumed-role/from-env/")
