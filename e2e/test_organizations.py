"""AWS Organizations over awsJson 1.1: boto3 and the AWS CLI against a real `ingot serve`.

The `ingot` server (strict authentication) acts as its management account's root; each test
starts from a reset store. Member-account flows use a second server in open authentication mode,
where an access key id of twelve digits acts as that account's root, with clock control for
invitation expiry.
"""

import json
import time

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import Server

SCP = "SERVICE_CONTROL_POLICY"
FULL = "p-FullAWSAccess"
DENY_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]})


def error(excinfo):
    response = excinfo.value.response
    return response["Error"]["Code"], response.get("Reason", response["Error"].get("Reason"))


def reset(server):
    status, _ = server.admin("POST", "/_ingot/reset")
    assert status == 200


@pytest.fixture
def orgs(ingot):
    """A management account without an organization yet."""
    reset(ingot)
    return ingot.client("organizations")


@pytest.fixture
def org(orgs):
    """A management account whose organization (all features) exists."""
    orgs.create_organization(FeatureSet="ALL")
    return orgs


def root_id(client):
    return client.list_roots()["Roots"][0]["Id"]


def policy_ids(client, target):
    return [p["Id"] for p in client.list_policies_for_target(TargetId=target, Filter=SCP)["Policies"]]


def wait_for_account(client, request_id, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.describe_create_account_status(CreateAccountRequestId=request_id)["CreateAccountStatus"]
        if status["State"] != "IN_PROGRESS":
            return status
        time.sleep(0.25)
    raise AssertionError(f"account creation {request_id} still in progress after {timeout}s")


def create_account(client, name, email):
    status = client.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
    return wait_for_account(client, status["Id"])


# The organization


def test_an_account_in_no_organization_is_told_organizations_is_not_in_use(orgs):
    with pytest.raises(ClientError) as e:
        orgs.describe_organization()
    assert error(e)[0] == "AWSOrganizationsNotInUseException"
    assert e.value.response["Error"]["Message"] == "Your account is not a member of an organization."


def test_create_organization_makes_the_caller_the_management_account_with_all_features(ingot, orgs):
    org = orgs.create_organization()["Organization"]
    assert org["Id"].startswith("o-") and len(org["Id"]) == 12
    assert org["FeatureSet"] == "ALL"
    assert org["MasterAccountId"] == ingot.account
    assert org["Arn"] == f"arn:aws:organizations::{ingot.account}:organization/{org['Id']}"
    assert org["MasterAccountArn"] == f"arn:aws:organizations::{ingot.account}:account/{org['Id']}/{ingot.account}"
    assert org["AvailablePolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert orgs.describe_organization()["Organization"] == org


def test_a_second_organization_is_refused(org):
    with pytest.raises(ClientError) as e:
        org.create_organization()
    assert error(e)[0] == "AlreadyInOrganizationException"


def test_a_consolidated_billing_organization_enables_no_policy_type(orgs):
    org = orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING")["Organization"]
    assert org["AvailablePolicyTypes"] == []
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == []
    with pytest.raises(ClientError) as e:
        orgs.create_policy(Content=DENY_EC2, Description="d", Name="n", Type=SCP)
    assert error(e)[0] == "PolicyTypeNotAvailableForOrganizationException"


def test_the_aws_cli_describes_the_organization_and_lists_the_root(ingot, org):
    described = json.loads(ingot.cli("organizations", "describe-organization").stdout)["Organization"]
    assert described["MasterAccountId"] == ingot.account
    roots = json.loads(ingot.cli("organizations", "list-roots").stdout)["Roots"]
    assert len(roots) == 1 and roots[0]["Name"] == "Root"


def test_the_root_has_service_control_policies_enabled(ingot, org):
    (root,) = org.list_roots()["Roots"]
    organization = org.describe_organization()["Organization"]
    assert root["Id"].startswith("r-") and len(root["Id"]) == 6
    assert root["Arn"] == f"arn:aws:organizations::{ingot.account}:root/{organization['Id']}/{root['Id']}"
    assert root["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    with pytest.raises(ClientError) as e:
        org.enable_policy_type(RootId=root["Id"], PolicyType=SCP)
    assert error(e)[0] == "PolicyTypeAlreadyEnabledException"
    with pytest.raises(ClientError) as e:
        org.enable_policy_type(RootId=root["Id"], PolicyType="TAG_POLICY")
    assert error(e)[0] == "PolicyTypeNotAvailableForOrganizationException"
    with pytest.raises(ClientError) as e:
        org.enable_policy_type(RootId="r-zzzz", PolicyType=SCP)
    assert error(e)[0] == "RootNotFoundException"


def test_full_aws_access_is_attached_to_the_root_each_ou_and_each_account(ingot, org):
    root = root_id(org)
    ou = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]
    assert policy_ids(org, root) == [FULL]
    assert policy_ids(org, ou["Id"]) == [FULL]
    assert policy_ids(org, ingot.account) == [FULL]
    targets = {t["TargetId"]: t["Type"] for t in org.list_targets_for_policy(PolicyId=FULL)["Targets"]}
    assert targets == {root: "ROOT", ou["Id"]: "ORGANIZATIONAL_UNIT", ingot.account: "ACCOUNT"}


def test_describe_policy_shows_full_aws_access_as_aws_managed(org):
    policy = org.describe_policy(PolicyId=FULL)["Policy"]
    summary = policy["PolicySummary"]
    assert summary["AwsManaged"] is True
    assert summary["Name"] == "FullAWSAccess"
    assert summary["Arn"] == "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
    assert json.loads(policy["Content"])["Statement"][0]["Action"] == "*"
    listed = org.list_policies(Filter=SCP)["Policies"]
    assert [p["Id"] for p in listed] == [FULL]
    assert org.list_policies(Filter="TAG_POLICY")["Policies"] == []
    with pytest.raises(ClientError) as e:
        org.update_policy(PolicyId=FULL, Name="Mine")
    assert error(e) == ("InvalidInputException", "IMMUTABLE_POLICY")


# Organizational units


def test_ous_nest_five_levels_below_the_root_and_no_deeper(org):
    parent = root = root_id(org)
    organization = org.describe_organization()["Organization"]["Id"]
    path = f"{organization}/{parent}/"
    for level in range(5):
        ou = org.create_organizational_unit(ParentId=parent, Name=f"level-{level}")["OrganizationalUnit"]
        assert ou["Id"].startswith(f"ou-{root[2:]}-")
        path += ou["Id"] + "/"
        assert ou["Path"] == path
        parent = ou["Id"]
    with pytest.raises(ClientError) as e:
        org.create_organizational_unit(ParentId=parent, Name="too-deep")
    assert error(e) == ("ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED")
    assert org.describe_organizational_unit(OrganizationalUnitId=parent)["OrganizationalUnit"]["Path"] == path


def test_ou_names_are_unique_under_a_parent_and_only_empty_ous_are_deleted(org):
    root = root_id(org)
    dev = org.create_organizational_unit(ParentId=root, Name="Dev")["OrganizationalUnit"]
    with pytest.raises(ClientError) as e:
        org.create_organizational_unit(ParentId=root, Name="Dev")
    assert error(e)[0] == "DuplicateOrganizationalUnitException"
    # The same name under another parent is fine.
    team = org.create_organizational_unit(ParentId=dev["Id"], Name="Dev")["OrganizationalUnit"]
    renamed = org.update_organizational_unit(OrganizationalUnitId=dev["Id"], Name="Development")
    assert renamed["OrganizationalUnit"]["Name"] == "Development"
    with pytest.raises(ClientError) as e:
        org.delete_organizational_unit(OrganizationalUnitId=dev["Id"])
    assert error(e)[0] == "OrganizationalUnitNotEmptyException"
    org.delete_organizational_unit(OrganizationalUnitId=team["Id"])
    org.delete_organizational_unit(OrganizationalUnitId=dev["Id"])
    with pytest.raises(ClientError) as e:
        org.describe_organizational_unit(OrganizationalUnitId=dev["Id"])
    assert error(e)[0] == "OrganizationalUnitNotFoundException"
    with pytest.raises(ClientError) as e:
        org.create_organizational_unit(ParentId="ou-zzzz-zzzzzzzz", Name="orphan")
    assert error(e)[0] == "ParentNotFoundException"


def test_the_aws_cli_creates_and_lists_organizational_units(ingot, org):
    root = root_id(org)
    made = json.loads(ingot.cli("organizations", "create-organizational-unit", "--parent-id", root,
                                "--name", "Sandbox").stdout)["OrganizationalUnit"]
    listed = json.loads(ingot.cli("organizations", "list-organizational-units-for-parent",
                                  "--parent-id", root).stdout)["OrganizationalUnits"]
    assert [ou["Id"] for ou in listed] == [made["Id"]]


# Accounts


def test_create_account_is_in_progress_then_succeeds_under_the_root(ingot, org):
    started = org.create_account(AccountName="Dev", Email="dev@example.com")["CreateAccountStatus"]
    assert started["State"] == "IN_PROGRESS"
    assert started["Id"].startswith("car-") and started["AccountName"] == "Dev"
    finished = wait_for_account(org, started["Id"])
    assert finished["State"] == "SUCCEEDED", finished
    account_id = finished["AccountId"]
    assert len(account_id) == 12 and "CompletedTimestamp" in finished
    account = org.describe_account(AccountId=account_id)["Account"]
    organization = org.describe_organization()["Organization"]["Id"]
    root = root_id(org)
    assert account["Name"] == "Dev" and account["Email"] == "dev@example.com"
    assert account["JoinedMethod"] == "CREATED" and account["Status"] == "ACTIVE"
    assert account["Arn"] == f"arn:aws:organizations::{ingot.account}:account/{organization}/{account_id}"
    assert account["Paths"] == [f"{organization}/{root}/{account_id}/"]
    assert policy_ids(org, account_id) == [FULL]
    assert {a["Id"] for a in org.list_accounts()["Accounts"]} == {ingot.account, account_id}
    statuses = org.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert [s["Id"] for s in statuses] == [started["Id"]]
    assert org.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"] == []


def test_create_account_with_a_taken_email_fails_with_email_already_exists(org):
    assert create_account(org, "First", "same@example.com")["State"] == "SUCCEEDED"
    second = create_account(org, "Second", "SAME@example.com")
    assert second["State"] == "FAILED"
    assert second["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in second


def test_create_account_refuses_a_reserved_role_name_and_unknown_requests(org):
    with pytest.raises(ClientError) as e:
        org.create_account(AccountName="x", Email="x@example.com", RoleName="AWSServiceRoleForX")
    assert error(e) == ("InvalidInputException", "INVALID_ROLE_NAME")
    with pytest.raises(ClientError) as e:
        org.describe_create_account_status(CreateAccountRequestId="car-0000000000")
    assert error(e)[0] == "CreateAccountStatusNotFoundException"


def test_list_accounts_pages_with_max_results_and_next_token(ingot, org):
    for i in range(2):
        assert create_account(org, f"acct-{i}", f"page{i}@example.com")["State"] == "SUCCEEDED"
    seen, token = [], None
    while True:
        kwargs = {"MaxResults": 1} | ({"NextToken": token} if token else {})
        page = org.list_accounts(**kwargs)
        assert len(page["Accounts"]) == 1
        seen += [a["Id"] for a in page["Accounts"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 3 and len(set(seen)) == 3 and ingot.account in seen
    with pytest.raises(ClientError) as e:
        org.list_accounts(NextToken="bogus")
    assert error(e) == ("InvalidInputException", "INVALID_NEXT_TOKEN")


def test_children_parents_and_moving_an_account(ingot, org):
    root = root_id(org)
    ou = org.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]["Id"]
    account = create_account(org, "Prod app", "prod@example.com")["AccountId"]
    children = org.list_children(ParentId=root, ChildType="ACCOUNT")["Children"]
    assert {c["Id"] for c in children} == {ingot.account, account}
    assert org.list_children(ParentId=root, ChildType="ORGANIZATIONAL_UNIT")["Children"] == [
        {"Id": ou, "Type": "ORGANIZATIONAL_UNIT"}]
    assert org.list_parents(ChildId=account)["Parents"] == [{"Id": root, "Type": "ROOT"}]
    assert org.list_parents(ChildId=ou)["Parents"] == [{"Id": root, "Type": "ROOT"}]

    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
    assert org.list_parents(ChildId=account)["Parents"] == [{"Id": ou, "Type": "ORGANIZATIONAL_UNIT"}]
    assert [a["Id"] for a in org.list_accounts_for_parent(ParentId=ou)["Accounts"]] == [account]
    organization = org.describe_organization()["Organization"]["Id"]
    assert org.describe_account(AccountId=account)["Account"]["Paths"] == [f"{organization}/{root}/{ou}/{account}/"]

    with pytest.raises(ClientError) as e:
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
    assert error(e)[0] == "SourceParentNotFoundException"
    with pytest.raises(ClientError) as e:
        org.move_account(AccountId=account, SourceParentId=ou, DestinationParentId=ou)
    assert error(e)[0] == "DuplicateAccountException"
    with pytest.raises(ClientError) as e:
        org.move_account(AccountId=account, SourceParentId=ou, DestinationParentId="ou-zzzz-zzzzzzzz")
    assert error(e)[0] == "DestinationParentNotFoundException"
    with pytest.raises(ClientError) as e:
        org.move_account(AccountId="999999999999", SourceParentId=ou, DestinationParentId=root)
    assert error(e)[0] == "AccountNotFoundException"
    with pytest.raises(ClientError) as e:
        org.list_parents(ChildId="999999999999")
    assert error(e)[0] == "ChildNotFoundException"


def test_removing_accounts_and_deleting_the_organization(ingot, org):
    account = create_account(org, "Leaving", "leaving@example.com")["AccountId"]
    with pytest.raises(ClientError) as e:
        org.remove_account_from_organization(AccountId=ingot.account)
    assert error(e)[0] == "MasterCannotLeaveOrganizationException"
    with pytest.raises(ClientError) as e:
        org.delete_organization()
    assert error(e)[0] == "OrganizationNotEmptyException"
    org.remove_account_from_organization(AccountId=account)
    with pytest.raises(ClientError) as e:
        org.describe_account(AccountId=account)
    assert error(e)[0] == "AccountNotFoundException"
    assert [a["Id"] for a in org.list_accounts()["Accounts"]] == [ingot.account]
    org.delete_organization()
    with pytest.raises(ClientError) as e:
        org.describe_organization()
    assert error(e)[0] == "AWSOrganizationsNotInUseException"
    # The account is free to found a new organization.
    assert org.create_organization()["Organization"]["MasterAccountId"] == ingot.account


# Service control policies


def test_scp_create_attach_detach_and_delete(ingot, org):
    root = root_id(org)
    policy = org.create_policy(Content=DENY_EC2, Description="no EC2", Name="DenyEC2", Type=SCP)["Policy"]
    summary = policy["PolicySummary"]
    organization = org.describe_organization()["Organization"]["Id"]
    assert summary["Id"].startswith("p-") and summary["AwsManaged"] is False
    assert summary["Arn"] == (f"arn:aws:organizations::{ingot.account}:policy/{organization}/"
                              f"service_control_policy/{summary['Id']}")
    assert policy["Content"] == DENY_EC2
    pid = summary["Id"]

    org.attach_policy(PolicyId=pid, TargetId=root)
    assert sorted(policy_ids(org, root)) == sorted([FULL, pid])
    with pytest.raises(ClientError) as e:
        org.attach_policy(PolicyId=pid, TargetId=root)
    assert error(e)[0] == "DuplicatePolicyAttachmentException"
    with pytest.raises(ClientError) as e:
        org.delete_policy(PolicyId=pid)
    assert error(e)[0] == "PolicyInUseException"
    assert org.list_targets_for_policy(PolicyId=pid)["Targets"][0]["TargetId"] == root

    updated = org.update_policy(PolicyId=pid, Name="DenyEC2Everywhere", Description="still no EC2")["Policy"]
    assert updated["PolicySummary"]["Name"] == "DenyEC2Everywhere"

    org.detach_policy(PolicyId=pid, TargetId=root)
    with pytest.raises(ClientError) as e:
        org.detach_policy(PolicyId=pid, TargetId=root)
    assert error(e)[0] == "PolicyNotAttachedException"
    org.delete_policy(PolicyId=pid)
    with pytest.raises(ClientError) as e:
        org.describe_policy(PolicyId=pid)
    assert error(e)[0] == "PolicyNotFoundException"


def test_scp_content_name_and_target_errors(org):
    root = root_id(org)
    for bad in ["not json", json.dumps({"Statement": []}),
                json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})]:
        with pytest.raises(ClientError) as e:
            org.create_policy(Content=bad, Description="d", Name="bad", Type=SCP)
        assert error(e)[0] == "MalformedPolicyDocumentException", bad
    too_big = DENY_EC2 + " " * 5200
    with pytest.raises(ClientError) as e:
        org.create_policy(Content=too_big, Description="d", Name="big", Type=SCP)
    assert error(e) == ("ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")
    org.create_policy(Content=DENY_EC2, Description="d", Name="Taken", Type=SCP)
    with pytest.raises(ClientError) as e:
        org.create_policy(Content=DENY_EC2, Description="d", Name="Taken", Type=SCP)
    assert error(e)[0] == "DuplicatePolicyException"
    with pytest.raises(ClientError) as e:
        org.attach_policy(PolicyId="p-00000000", TargetId=root)
    assert error(e)[0] == "PolicyNotFoundException"
    with pytest.raises(ClientError) as e:
        org.attach_policy(PolicyId=FULL, TargetId="ou-zzzz-zzzzzzzz")
    assert error(e)[0] == "TargetNotFoundException"


def test_a_target_keeps_at_least_one_and_at_most_five_scps(org):
    root = root_id(org)
    ou = org.create_organizational_unit(ParentId=root, Name="Limits")["OrganizationalUnit"]["Id"]
    with pytest.raises(ClientError) as e:
        org.detach_policy(PolicyId=FULL, TargetId=ou)
    assert error(e) == ("ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    made = [org.create_policy(Content=DENY_EC2, Description="d", Name=f"p{i}", Type=SCP)["Policy"]["PolicySummary"]["Id"]
            for i in range(5)]
    for pid in made[:4]:
        org.attach_policy(PolicyId=pid, TargetId=ou)
    with pytest.raises(ClientError) as e:
        org.attach_policy(PolicyId=made[4], TargetId=ou)
    assert error(e) == ("ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    # FullAWSAccess can go once another SCP stays.
    org.detach_policy(PolicyId=FULL, TargetId=ou)
    org.attach_policy(PolicyId=made[4], TargetId=ou)
    assert sorted(policy_ids(org, ou)) == sorted(made)


# Tags and service access


def test_tags_on_roots_ous_accounts_and_policies(ingot, org):
    root = root_id(org)
    ou = org.create_organizational_unit(ParentId=root, Name="Tagged", Tags=[{"Key": "team", "Value": "core"}])
    ou = ou["OrganizationalUnit"]["Id"]
    pid = org.create_policy(Content=DENY_EC2, Description="d", Name="tagged", Type=SCP,
                            Tags=[{"Key": "kind", "Value": "guardrail"}])["Policy"]["PolicySummary"]["Id"]
    assert org.list_tags_for_resource(ResourceId=ou)["Tags"] == [{"Key": "team", "Value": "core"}]
    assert org.list_tags_for_resource(ResourceId=pid)["Tags"] == [{"Key": "kind", "Value": "guardrail"}]
    for resource in [root, ingot.account]:
        org.tag_resource(ResourceId=resource, Tags=[{"Key": "env", "Value": "prod"}])
        org.tag_resource(ResourceId=resource, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "cost", "Value": "1"}])
        tags = {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=resource)["Tags"]}
        assert tags == {"env": "dev", "cost": "1"}
        org.untag_resource(ResourceId=resource, TagKeys=["env"])
        assert org.list_tags_for_resource(ResourceId=resource)["Tags"] == [{"Key": "cost", "Value": "1"}]
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as e:
        org.tag_resource(ResourceId=ou, Tags=many)
    assert error(e) == ("ConstraintViolationException", "MAX_TAG_LIMIT_EXCEEDED")
    with pytest.raises(ClientError) as e:
        org.tag_resource(ResourceId="ou-zzzz-zzzzzzzz", Tags=[{"Key": "a", "Value": "b"}])
    assert error(e)[0] == "TargetNotFoundException"


def test_trusted_service_access_is_enabled_listed_and_disabled(org):
    org.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    org.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    listed = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [p["ServicePrincipal"] for p in listed] == ["config.amazonaws.com"]
    org.disable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    assert org.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []
    with pytest.raises(ClientError) as e:
        org.enable_aws_service_access(ServicePrincipal="not-a-service")
    assert error(e) == ("InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")


# Member accounts (open authentication: a twelve-digit access key id is that account's root)

MEMBER = "222222222222"
OTHER = "333333333333"


@pytest.fixture(scope="module")
def open_ingot():
    server = Server(["--auth", "open", "--enable-clock-control", "--enable-reset"])
    # Signing with the management account's id makes every default client its root.
    server.access_key_id = server.account
    yield server
    server.close()


@pytest.fixture
def open_org(open_ingot):
    reset(open_ingot)
    client = open_ingot.client("organizations")
    client.create_organization()
    return client


def as_account(server, account):
    return server.client("organizations", access_key_id=account, secret_access_key="x" * 40)


def test_invite_then_accept_puts_the_account_under_the_root(open_ingot, open_org):
    invited = open_org.invite_account_to_organization(Target={"Id": MEMBER, "Type": "ACCOUNT"}, Notes="join us")
    handshake = invited["Handshake"]
    organization = open_org.describe_organization()["Organization"]["Id"]
    assert handshake["Id"].startswith("h-") and handshake["State"] == "REQUESTED"
    assert handshake["Action"] == "INVITE"
    assert handshake["Arn"] == f"arn:aws:organizations::{open_ingot.account}:handshake/{organization}/invite/{handshake['Id']}"
    assert {"Id": MEMBER, "Type": "ACCOUNT"} in handshake["Parties"]
    days = (handshake["ExpirationTimestamp"] - handshake["RequestedTimestamp"]).days
    assert days == 15
    with pytest.raises(ClientError) as e:
        open_org.invite_account_to_organization(Target={"Id": MEMBER, "Type": "ACCOUNT"})
    assert error(e)[0] == "DuplicateHandshakeException"

    member = as_account(open_ingot, MEMBER)
    listed = member.list_handshakes_for_account()["Handshakes"]
    assert [h["Id"] for h in listed] == [handshake["Id"]]
    accepted = member.accept_handshake(HandshakeId=handshake["Id"])["Handshake"]
    assert accepted["State"] == "ACCEPTED"
    with pytest.raises(ClientError) as e:
        member.accept_handshake(HandshakeId=handshake["Id"])
    assert error(e)[0] == "HandshakeAlreadyInStateException"

    account = open_org.describe_account(AccountId=MEMBER)["Account"]
    assert account["JoinedMethod"] == "INVITED"
    assert open_org.list_parents(ChildId=MEMBER)["Parents"][0]["Type"] == "ROOT"
    assert policy_ids(open_org, MEMBER) == [FULL]
    assert member.describe_organization()["Organization"]["Id"] == organization
    with pytest.raises(ClientError) as e:
        open_org.invite_account_to_organization(Target={"Id": MEMBER, "Type": "ACCOUNT"})
    assert error(e) == ("HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")


def test_a_member_account_may_describe_its_organization_but_not_manage_it(open_ingot, open_org):
    handshake = open_org.invite_account_to_organization(Target={"Id": MEMBER, "Type": "ACCOUNT"})["Handshake"]
    member = as_account(open_ingot, MEMBER)
    member.accept_handshake(HandshakeId=handshake["Id"])
    for call in [member.list_accounts, member.list_roots, lambda: member.describe_account(AccountId=MEMBER)]:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e)[0] == "AccessDeniedException"
        assert e.value.response["Error"]["Message"] == "You don't have permissions to access this resource."
    with pytest.raises(ClientError) as e:
        as_account(open_ingot, OTHER).list_accounts()
    assert error(e)[0] == "AWSOrganizationsNotInUseException"


def test_an_invitation_expires_after_fifteen_days(open_ingot, open_org):
    handshake = open_org.invite_account_to_organization(Target={"Id": OTHER, "Type": "ACCOUNT"})["Handshake"]
    status, _ = open_ingot.admin("POST", f"/_ingot/clock?advance={16 * 24 * 3600}")
    assert status == 200
    other = as_account(open_ingot, OTHER)
    listed = other.list_handshakes_for_account()["Handshakes"]
    assert [(h["Id"], h["State"]) for h in listed] == [(handshake["Id"], "EXPIRED")]
    with pytest.raises(ClientError) as e:
        other.accept_handshake(HandshakeId=handshake["Id"])
    assert error(e)[0] == "InvalidHandshakeTransitionException"
    with pytest.raises(ClientError) as e:
        other.accept_handshake(HandshakeId="h-0000000000")
    assert error(e)[0] == "HandshakeNotFoundException"
    # An expired invitation no longer blocks a new one.
    again = open_org.invite_account_to_organization(Target={"Id": OTHER, "Type": "ACCOUNT"})["Handshake"]
    assert again["State"] == "REQUESTED"


def test_an_account_created_in_the_organization_can_call_as_a_member(open_ingot, open_org):
    account = create_account(open_org, "Child", "child@example.com")["AccountId"]
    child = as_account(open_ingot, account)
    described = child.describe_organization()["Organization"]
    assert described["MasterAccountId"] == open_ingot.account
    # A removed account is in no organization any more.
    open_org.remove_account_from_organization(AccountId=account)
    with pytest.raises(ClientError) as e:
        child.describe_organization()
    assert error(e)[0] == "AWSOrganizationsNotInUseException"
    # Known by its email, it can be invited back.
    invited = open_org.invite_account_to_organization(Target={"Id": "child@example.com", "Type": "EMAIL"})
    assert child.list_handshakes_for_account()["Handshakes"][0]["Id"] == invited["Handshake"]["Id"]
    child.accept_handshake(HandshakeId=invited["Handshake"]["Id"])
    rejoined = open_org.describe_account(AccountId=account)["Account"]
    assert rejoined["JoinedMethod"] == "INVITED" and rejoined["Name"] == "Child"


def test_a_created_account_gets_the_access_role_and_the_service_linked_role(open_ingot, open_org):
    account = create_account(open_org, "Roles", "roles@example.com")["AccountId"]
    iam = open_ingot.client("iam", access_key_id=account, secret_access_key="x" * 40)
    role = iam.get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{open_ingot.account}:root"}
    assert statement["Action"] == "sts:AssumeRole"
    attached = iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    linked = iam.get_role(RoleName="AWSServiceRoleForOrganizations")["Role"]
    assert linked["Path"] == "/aws-service-role/organizations.amazonaws.com/"


def test_a_custom_role_name_is_made_in_the_new_account(open_ingot, open_org):
    status = open_org.create_account(AccountName="Custom", Email="custom@example.com", RoleName="OrgAdmin")
    account = wait_for_account(open_org, status["CreateAccountStatus"]["Id"])["AccountId"]
    iam = open_ingot.client("iam", access_key_id=account, secret_access_key="x" * 40)
    assert iam.get_role(RoleName="OrgAdmin")["Role"]["RoleName"] == "OrgAdmin"


def session_client(server, service, credentials):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def test_the_management_account_assumes_the_access_role_and_scps_bind_the_member(ingot, org):
    account = create_account(org, "Guarded", "guarded@example.com")["AccountId"]
    iam = ingot.client("iam")
    iam.create_user(UserName="org-admin")
    iam.attach_user_policy(UserName="org-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="org-admin")["AccessKey"]
    admin_sts = session_client(ingot, "sts", key)
    assumed = admin_sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                    RoleSessionName="ops")["Credentials"]
    member_sts = session_client(ingot, "sts", assumed)
    assert member_sts.get_caller_identity()["Account"] == account
    member_ec2 = session_client(ingot, "ec2", assumed)
    assert member_ec2.describe_regions()["Regions"]

    pid = org.create_policy(Content=DENY_EC2, Description="no EC2", Name="NoEC2", Type=SCP)["Policy"]
    org.attach_policy(PolicyId=pid["PolicySummary"]["Id"], TargetId=account)
    with pytest.raises(ClientError) as e:
        member_ec2.describe_regions()
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"
    # The management account is never bound by SCPs.
    assert ingot.client("ec2").describe_regions()["Regions"]
    org.detach_policy(PolicyId=pid["PolicySummary"]["Id"], TargetId=account)
    assert member_ec2.describe_regions()["Regions"]

    # An SCP on an OU binds the accounts moved under it, at once.
    root = root_id(org)
    ou = org.create_organizational_unit(ParentId=root, Name="Guarded")["OrganizationalUnit"]["Id"]
    org.attach_policy(PolicyId=pid["PolicySummary"]["Id"], TargetId=ou)
    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
    with pytest.raises(ClientError) as e:
        member_ec2.describe_regions()
    assert e.value.response["Error"]["Code"] == "UnauthorizedOperation"
    org.move_account(AccountId=account, SourceParentId=ou, DestinationParentId=root)
    assert member_ec2.describe_regions()["Regions"]
