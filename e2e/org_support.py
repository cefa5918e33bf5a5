"""A member account of the test server's organization, for tests that need a second account: an
administrator session in it through OrganizationAccountAccessRole."""

import time

import boto3
import botocore.config
from botocore.exceptions import ClientError

REGION = "us-east-1"


class MemberSession:
    def __init__(self, ingot, account, credentials):
        self.ingot, self.account, self.credentials = ingot, account, credentials

    def client(self, service, region_name=REGION):
        c = self.credentials
        return boto3.client(service, endpoint_url=self.ingot.endpoint, region_name=region_name,
                            aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                            aws_session_token=c["SessionToken"],
                            config=botocore.config.Config(retries={"max_attempts": 1}))


def account_created(orgs, status):
    """Polls CreateAccount's `status` until it is no longer IN_PROGRESS; asserts it succeeded."""
    for _ in range(100):
        status = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS":
            break
        time.sleep(0.1)
    assert status["State"] == "SUCCEEDED", status
    return status


def member_session(ingot, unique):
    """An administrator session in a new member account, through OrganizationAccountAccessRole (roots may
    not assume roles, so the management account's side is an IAM user)."""
    orgs = ingot.client("organizations")
    try:
        orgs.create_organization(FeatureSet="ALL")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AlreadyInOrganizationException"
    status = orgs.create_account(Email=f"member-{unique}@example.com", AccountName=f"member-{unique}")["CreateAccountStatus"]
    status = account_created(orgs, status)
    iam = ingot.client("iam")
    iam.create_user(UserName=f"admin-{unique}")
    iam.attach_user_policy(UserName=f"admin-{unique}", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=f"admin-{unique}")["AccessKey"]
    sts = ingot.client("sts", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
    for attempt in range(20):  # a new access key may take a moment, as on AWS
        try:
            role = f"arn:aws:iam::{status['AccountId']}:role/OrganizationAccountAccessRole"
            credentials = sts.assume_role(RoleArn=role, RoleSessionName="member")["Credentials"]
            break
        except ClientError:
            if attempt == 19:
                raise
            time.sleep(0.2)
    return MemberSession(ingot, status["AccountId"], credentials)
