"""Issue acceptance: an organization of accounts, decided as AWS decides it, driven by unmodified AWS CLI
profiles that assume `OrganizationAccountAccessRole` (`role_arn` + `source_profile`).

The management account creates the organization, an OU `workloads`, a shared-services account and two
member accounts in the OU, and an account outside the organization (invited, never accepted). The
shared-services account publishes an Advanced `aws:ec2:image` parameter; nothing is shared, so a member
reading it by ARN is denied; a role allowed only `ssm:GetParameter` on it reads and cannot write; an SCP on
the OU denying `ssm:PutParameter` stops the members' administrators but not the shared-services account;
moving a member out of the OU lifts it at once; SimulatePrincipalPolicy agrees with every answer.
"""

import json
import os
import subprocess
import tempfile

import pytest

from conftest import AWS_CLI, Server
from ec2_support import AL2023_ARM, AL2023_X86, public_ami_id
from org_support import account_created

PARAMETER = "/golden/al2023/x86_64"
# aws:ec2:image values must name images the account may use: the public Amazon Linux ones.
GOLDEN_V1, GOLDEN_V2 = public_ami_id("us-east-1", AL2023_X86), public_ami_id("us-east-1", AL2023_ARM)
ADMIN_ROLE = "OrganizationAccountAccessRole"


@pytest.fixture(scope="module")
def org():
    server = Server()
    try:
        yield Organization(server)
    finally:
        server.close()


class Organization:
    def __init__(self, server):
        self.server = server
        self.mgmt = server.account
        orgs = server.client("organizations")
        orgs.create_organization(FeatureSet="ALL")
        self.root_id = orgs.list_roots()["Roots"][0]["Id"]
        self.workloads = orgs.create_organizational_unit(ParentId=self.root_id, Name="workloads")[
            "OrganizationalUnit"]["Id"]
        self.shared = self.create_account(orgs, "shared-services")
        self.member_a = self.create_account(orgs, "member-a")
        self.member_b = self.create_account(orgs, "member-b")
        self.outside = self.create_account(orgs, "outside")
        for member in (self.member_a, self.member_b):
            orgs.move_account(AccountId=member, SourceParentId=self.root_id, DestinationParentId=self.workloads)
        # The outside account leaves, then is invited back and never accepts.
        orgs.remove_account_from_organization(AccountId=self.outside)
        orgs.invite_account_to_organization(Target={"Id": self.outside, "Type": "ACCOUNT"})

        # Roots may not assume roles: the management account's administrator is an IAM user.
        iam = server.client("iam")
        iam.create_user(UserName="platform-admin")
        iam.attach_user_policy(UserName="platform-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        key = iam.create_access_key(UserName="platform-admin")["AccessKey"]

        self.dir = tempfile.mkdtemp(prefix="ingot-profiles-")
        self.credentials = os.path.join(self.dir, "credentials")
        self.config = os.path.join(self.dir, "config")
        with open(self.credentials, "w") as f:
            f.write(f"[platform-admin]\naws_access_key_id = {key['AccessKeyId']}\n"
                    f"aws_secret_access_key = {key['SecretAccessKey']}\n")
        profiles = {"shared": self.shared, "member-a": self.member_a, "member-b": self.member_b,
                    "outside": self.outside}
        with open(self.config, "w") as f:
            for name, account in profiles.items():
                f.write(f"[profile {name}]\nrole_arn = arn:aws:iam::{account}:role/{ADMIN_ROLE}\n"
                        f"source_profile = platform-admin\nregion = us-east-1\nendpoint_url = {server.endpoint}\n\n")
            f.write(f"[profile reader]\nrole_arn = arn:aws:iam::{self.shared}:role/golden-reader\n"
                    f"source_profile = platform-admin\nregion = us-east-1\nendpoint_url = {server.endpoint}\n\n")
            f.write(f"[profile platform-admin]\nregion = us-east-1\nendpoint_url = {server.endpoint}\n")
        self.arn = f"arn:aws:ssm:us-east-1:{self.shared}:parameter{PARAMETER}"

    def create_account(self, orgs, name):
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        assert status["State"] == "IN_PROGRESS"
        return account_created(orgs, status)["AccountId"]

    def cli(self, profile, *args, check=True):
        # The profiles' own `endpoint_url` points every client at Ingot, the STS client that
        # assumes the profile's role included.
        env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=self.credentials, AWS_CONFIG_FILE=self.config,
                   AWS_PROFILE=profile, AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
            env.pop(k, None)
        result = subprocess.run([str(AWS_CLI), "--output", "json", *args],
                                capture_output=True, text=True, env=env, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} as {profile} failed: {result.stderr}")
        return result


def denied(result, code="AccessDeniedException"):
    assert result.returncode != 0, result.stdout
    assert code in result.stderr, result.stderr
    return result.stderr


def test_an_organization_of_accounts_decides_every_call_as_aws_does(org):
    # Each profile acts in its account through the role the account was created with.
    for profile, account in (("shared", org.shared), ("member-a", org.member_a), ("outside", org.outside)):
        me = json.loads(org.cli(profile, "sts", "get-caller-identity").stdout)
        assert me["Account"] == account
        assert me["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/{ADMIN_ROLE}/")

    # The outside account was invited and has not accepted: it is in no organization.
    handshakes = json.loads(org.cli("outside", "organizations", "list-handshakes-for-account").stdout)["Handshakes"]
    assert [h["State"] for h in handshakes] == ["OPEN"] or [h["State"] for h in handshakes] == ["REQUESTED"]
    denied(org.cli("outside", "organizations", "describe-organization", check=False),
           "AWSOrganizationsNotInUseException")

    # The shared-services account publishes an Advanced aws:ec2:image parameter.
    org.cli("shared", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String", "--tier", "Advanced",
            "--data-type", "aws:ec2:image", "--value", GOLDEN_V1)

    # Nothing is shared: members and outsiders reading it by ARN are denied.
    for profile in ("member-a", "member-b", "outside"):
        message = denied(org.cli(profile, "ssm", "get-parameter", "--name", org.arn, check=False))
        assert f"is not authorized to perform: ssm:GetParameter on resource: {org.arn}" in message

    # A role allowed only ssm:GetParameter on that ARN reads it and cannot write it.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.mgmt}:root"}, "Action": "sts:AssumeRole"}]}
    reader_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": org.arn}]}
    org.cli("shared", "iam", "create-role", "--role-name", "golden-reader",
            "--assume-role-policy-document", json.dumps(trust))
    org.cli("shared", "iam", "put-role-policy", "--role-name", "golden-reader", "--policy-name", "read-golden",
            "--policy-document", json.dumps(reader_policy))
    value = json.loads(org.cli("reader", "ssm", "get-parameter", "--name", org.arn).stdout)["Parameter"]["Value"]
    assert value == GOLDEN_V1
    message = denied(org.cli("reader", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String",
                             "--value", GOLDEN_V2, "--overwrite", check=False))
    assert "because no identity-based policy allows the ssm:PutParameter action" in message

    # An SCP on the OU denying ssm:PutParameter stops the members' administrators, not shared-services.
    scp = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*"}]}
    orgs = org.server.client("organizations")
    policy_id = orgs.create_policy(Name="no-parameter-writes", Description="members never write parameters",
                                   Type="SERVICE_CONTROL_POLICY", Content=json.dumps(scp))["Policy"][
        "PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=policy_id, TargetId=org.workloads)
    for profile in ("member-a", "member-b"):
        message = denied(org.cli(profile, "ssm", "put-parameter", "--name", "/app/config", "--type", "String",
                                 "--value", "x", check=False))
        assert "with an explicit deny in a service control policy" in message
    org.cli("shared", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String", "--data-type",
            "aws:ec2:image", "--value", GOLDEN_V2, "--overwrite")

    # SimulatePrincipalPolicy gives the same answers.
    iam_shared = assume(org, org.shared).client("iam")
    reader_arn = f"arn:aws:iam::{org.shared}:role/golden-reader"
    results = iam_shared.simulate_principal_policy(
        PolicySourceArn=reader_arn, ActionNames=["ssm:GetParameter", "ssm:PutParameter"],
        ResourceArns=[org.arn])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"ssm:GetParameter": "allowed", "ssm:PutParameter": "implicitDeny"}
    iam_member = assume(org, org.member_a).client("iam")
    member_role = f"arn:aws:iam::{org.member_a}:role/{ADMIN_ROLE}"
    result = iam_member.simulate_principal_policy(PolicySourceArn=member_role, ActionNames=["ssm:PutParameter"])[
        "EvaluationResults"][0]
    assert result["EvalDecision"] != "allowed"
    assert result["OrganizationsDecisionDetail"]["AllowedByOrganizations"] is False

    # Moving a member out of the OU lifts the SCP at once.
    orgs.move_account(AccountId=org.member_a, SourceParentId=org.workloads, DestinationParentId=org.root_id)
    org.cli("member-a", "ssm", "put-parameter", "--name", "/app/config", "--type", "String", "--value", "x")
    denied(org.cli("member-b", "ssm", "put-parameter", "--name", "/app/config", "--type", "String", "--value", "x",
                   check=False))
    result = iam_member.simulate_principal_policy(PolicySourceArn=member_role, ActionNames=["ssm:PutParameter"])[
        "EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"


class Session:
    def __init__(self, server, credentials):
        self.server = server
        self.credentials = credentials

    def client(self, service):
        import boto3
        import botocore.config

        c = self.credentials
        return boto3.client(service, endpoint_url=self.server.endpoint, region_name="us-east-1",
                            aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                            aws_session_token=c["SessionToken"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))


def session_in_role(org, role_arn, name="acceptance"):
    """A boto3 session of the management account's platform administrator in `role_arn`."""
    import configparser

    creds = configparser.ConfigParser()
    creds.read(org.credentials)
    admin = creds["platform-admin"]
    sts = org.server.client("sts", access_key_id=admin["aws_access_key_id"],
                            secret_access_key=admin["aws_secret_access_key"])
    return Session(org.server, sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"])


def assume(org, account):
    """A boto3 session of the platform administrator in `account`, through its admin role."""
    return session_in_role(org, f"arn:aws:iam::{account}:role/{ADMIN_ROLE}")
