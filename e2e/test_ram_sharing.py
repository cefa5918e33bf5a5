"""AWS RAM over restJson1 and SSM parameter sharing, in the organization of the identity issue
(test_identity_acceptance.py: a management account, a shared-services account, members A and B in the
OU `workloads`, and an account outside the organization).

RAM: shares, associations and their statuses, principals, resources, managed permissions, invitations,
tags, pagination, idempotency, and the bad-input cases with AWS's errors and nothing changed. SSM: a
consumer reads a shared parameter only by its full ARN (`ARN:label`, `ARN:version`), finds it with
DescribeParameters `Shared`, never writes it; unsharing, disassociation, leaving the OU or the
organization removes access at once; SSM's own resource policies show up in RAM as shares created from
a policy until they are promoted.

Error texts: /tmp/ram-errors.md (the research note) gives the source of each. Where only the code is
known, only the code is asserted; where AWS's behaviour itself is unconfirmed (a Standard parameter, a
resource the caller does not own, a duplicate association), only what is certain is asserted: no
consumer gains access and nothing is associated.
"""

import json
import re
import time
import uuid

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from conftest import Server
from test_identity_acceptance import ADMIN_ROLE, assume, org  # noqa: F401 (org is a fixture)

REGION = "us-east-1"
DEFAULT_PERMISSION = "arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSSMParameterReadOnly"
HISTORY_PERMISSION = "arn:aws:ram::aws:permission/AWSRAMPermissionSSMParameterReadOnlyWithHistory"
AMI_1, AMI_2, AMI_3 = "ami-0123456789abcdef0", "ami-0fedcba9876543210", "ami-0aaaaaaaaaaaaaaaa"
SHARE_ARN = re.compile(r"^arn:aws:ram:us-east-1:(\d{12}):resource-share/[0-9a-f-]{36}$")
INVITATION_ARN = re.compile(r"^arn:aws:ram:us-east-1:\d{12}:resource-share-invitation/[0-9a-f-]{36}$")
OUTSIDE_ORG = ("Principal {} is not in your AWS organization. You do not have permission to add external "
               "AWS accounts to a resource share.")
ORG_ONLY = ("The resource you are attempting to share can only be shared within your AWS Organization. This "
            "error may also occur if you have not enabled sharing with your AWS organization, or that "
            "onboarding process is still in progress.")


# --- helpers -------------------------------------------------------------------------------------------

def failure(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    return err["Code"], err.get("Message", ""), e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def wait_for(probe, timeout=30, interval=0.1):
    """Polls `probe` until it returns something truthy; returns that value (or the last one)."""
    deadline = time.time() + timeout
    value = probe()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = probe()
    return value


class World:
    """The organization with RAM sharing enabled and an administrator session in each account."""

    def __init__(self, org):
        self.org = org
        self.mgmt = org.mgmt
        self.orgs = org.server.client("organizations")
        organization = self.orgs.describe_organization()["Organization"]
        self.org_id, self.org_arn = organization["Id"], organization["Arn"]
        self.ou_arn = self.orgs.describe_organizational_unit(
            OrganizationalUnitId=org.workloads)["OrganizationalUnit"]["Arn"]
        self.accounts = {"shared": org.shared, "member-a": org.member_a, "member-b": org.member_b,
                         "outside": org.outside}
        self.sessions = {name: assume(org, account) for name, account in self.accounts.items()}
        self.clients = {}

    def client(self, who, service):
        key = (who, service)
        if key not in self.clients:
            self.clients[key] = self.sessions[who].client(service)
        return self.clients[key]

    def ram(self, who="shared"):
        return self.client(who, "ram")

    def ssm(self, who="shared"):
        return self.client(who, "ssm")

    def arn(self, name, account=None):
        return f"arn:aws:ssm:{REGION}:{account or self.org.shared}:parameter{name}"

    def publish(self, name, values=(AMI_1, AMI_2), tier="Advanced", data_type="text", **extra):
        """Creates `name` in the shared-services account with one version per value."""
        ssm = self.ssm()
        for i, value in enumerate(values):
            args = dict(Name=name, Value=value, Type=extra.get("Type", "String"), DataType=data_type)
            if "KeyId" in extra:
                args["KeyId"] = extra["KeyId"]
            if i == 0:
                args["Tier"] = tier
            else:
                args["Overwrite"] = True
            ssm.put_parameter(**args)
        assert wait_for(lambda: self._version(ssm, name) == len(values)), f"{name} never reached v{len(values)}"
        return self.arn(name)

    @staticmethod
    def _version(ssm, name):
        try:
            return ssm.get_parameter(Name=name)["Parameter"]["Version"]
        except ClientError:
            return 0

    def share(self, name, resources=(), principals=(), external=False, owner="shared", wait=True, **extra):
        ram = self.ram(owner)
        created = ram.create_resource_share(name=name, resourceArns=list(resources), principals=list(principals),
                                            allowExternalPrincipals=external, **extra)["resourceShare"]
        if wait:
            for r in resources:
                assert wait_status(ram, created["resourceShareArn"], "RESOURCE", r) == "ASSOCIATED"
            for p in principals if not external else ():
                assert wait_status(ram, created["resourceShareArn"], "PRINCIPAL", p) == "ASSOCIATED"
        return created["resourceShareArn"]


def associations(ram, share_arn, kind, entity=None):
    found = ram.get_resource_share_associations(associationType=kind, resourceShareArns=[share_arn])[
        "resourceShareAssociations"]
    return [a for a in found if entity is None or a["associatedEntity"] == entity]


def status_of(ram, share_arn, kind, entity):
    found = associations(ram, share_arn, kind, entity)
    return found[0]["status"] if found else None


def wait_status(ram, share_arn, kind, entity, timeout=30):
    """Waits until the association leaves its transitional state; returns the status it settles in."""
    transitional = {"ASSOCIATING", "DISASSOCIATING", None}
    status = wait_for(lambda: (s := status_of(ram, share_arn, kind, entity)) not in transitional and s, timeout)
    return status or status_of(ram, share_arn, kind, entity)


def reads(ssm, arn):
    return ssm.get_parameter(Name=arn)["Parameter"]


def value_or_none(ssm, arn):
    try:
        return ssm.get_parameter(Name=arn)["Parameter"]["Value"]
    except ClientError:
        return None


def share_permissions(ram, share_arn):
    settling = {"ASSOCIATING", "DISASSOCIATING", "DISASSOCIATED", "FAILED"}
    return [p["arn"] for p in ram.list_resource_share_permissions(resourceShareArn=share_arn)["permissions"]
            if p.get("status") not in settling]


def assert_denied(call, action, resource, **kwargs):
    code, message, _ = failure(call, **kwargs)
    assert code == "AccessDeniedException", (code, message)
    assert f"is not authorized to perform: {action} on resource: {resource}" in message, message
    return message


def assert_write_refused(call, action, resource, **kwargs):
    """A consumer's write naming another account's parameter by ARN. AWS's write operations take a
    plain name only ("You can't enter the ARN for a parameter"); whether AWS answers with an access
    denial or with its malformed-name ValidationException is unconfirmed, so either is accepted, with
    nothing changed (checked by the caller)."""
    code, message, status = failure(call, **kwargs)
    assert status == 400 and code in ("AccessDeniedException", "ValidationException"), (code, message)
    if code == "AccessDeniedException":
        assert f"is not authorized to perform: {action} on resource: {resource}" in message, message
    return code


def assert_no_access(world, who, arn):
    assert_denied(world.ssm(who).get_parameter, "ssm:GetParameter", arn, Name=arn)


def described(ssm, **kwargs):
    """Every page of DescribeParameters (its pages are best-effort and may be short)."""
    found = []
    for page in ssm.get_paginator("describe_parameters").paginate(**kwargs):
        found += page["Parameters"]
    return found


def shared_arns(ssm):
    return {p.get("ARN") for p in described(ssm, Shared=True)}


def all_shares(ram, owner, **filters):
    """Every page of GetResourceShares."""
    found = []
    for page in ram.get_paginator("get_resource_shares").paginate(resourceOwner=owner, **filters):
        found += page["resourceShares"]
    return found


def own_shares(ram, **filters):
    return all_shares(ram, "SELF", **filters)


def refused_or_failed(call, ram, share_arn, resource, **kwargs):
    """AWS either refuses the association at once or lets it end FAILED (it is unconfirmed which, for
    this input); either way nothing is ASSOCIATED. Returns ("refused", code) or ("failed", message)."""
    try:
        call(**kwargs)
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        assert associations(ram, share_arn, "RESOURCE", resource) == [] or all(
            a["status"] != "ASSOCIATED" for a in associations(ram, share_arn, "RESOURCE", resource))
        return "refused", e.response["Error"]["Code"]
    status = wait_status(ram, share_arn, "RESOURCE", resource)
    assert status == "FAILED", status
    return "failed", associations(ram, share_arn, "RESOURCE", resource)[0].get("statusMessage", "")


@pytest.fixture(scope="module")
def world(org):
    ram = org.server.client("ram")
    assert ram.enable_sharing_with_aws_organization()["returnValue"] is True
    return World(org)


# --- RAM: shares ---------------------------------------------------------------------------------------

def test_a_share_is_created_active_with_its_fields_tags_and_the_default_permission(world):
    arn = world.publish("/ram/fields")
    ram = world.ram()
    created = ram.create_resource_share(name="fields", resourceArns=[arn], principals=[world.org_arn],
                                        allowExternalPrincipals=False,
                                        tags=[{"key": "team", "value": "platform"}])
    share = created["resourceShare"]
    assert SHARE_ARN.match(share["resourceShareArn"]) and SHARE_ARN.match(
        share["resourceShareArn"]).group(1) == world.org.shared
    assert (share["name"], share["owningAccountId"], share["allowExternalPrincipals"]) == (
        "fields", world.org.shared, False)
    assert share["status"] in ("PENDING", "ACTIVE")
    assert share["tags"] == [{"key": "team", "value": "platform"}]
    assert "clientToken" in created
    listed = wait_for(lambda: [s for s in own_shares(ram, resourceShareArns=[share["resourceShareArn"]])
                               if s["status"] == "ACTIVE"])
    assert len(listed) == 1
    assert listed[0]["featureSet"] == "STANDARD"
    assert listed[0]["tags"] == [{"key": "team", "value": "platform"}]
    assert listed[0]["creationTime"] <= listed[0]["lastUpdatedTime"]
    permissions = ram.list_resource_share_permissions(resourceShareArn=share["resourceShareArn"])["permissions"]
    assert [(p["arn"], p["resourceType"].lower(), p["permissionType"]) for p in permissions] == [
        (DEFAULT_PERMISSION, "ssm:parameter", "AWS_MANAGED")]


def test_associations_go_from_associating_to_associated_and_report_the_entities(world):
    arn = world.publish("/ram/assoc")
    ram = world.ram()
    share = world.share("assoc", [arn], [world.org_arn], wait=False)
    first = associations(ram, share, "PRINCIPAL")
    assert [(a["associatedEntity"], a["associationType"]) for a in first] == [(world.org_arn, "PRINCIPAL")]
    assert first[0]["status"] in ("ASSOCIATING", "ASSOCIATED")
    assert wait_status(ram, share, "PRINCIPAL", world.org_arn) == "ASSOCIATED"
    assert wait_status(ram, share, "RESOURCE", arn) == "ASSOCIATED"
    principal = associations(ram, share, "PRINCIPAL")[0]
    resource = associations(ram, share, "RESOURCE")[0]
    assert (principal["resourceShareArn"], principal["resourceShareName"], principal["external"]) == (
        share, "assoc", False)
    assert (resource["associatedEntity"], resource["associationType"]) == (arn, "RESOURCE")
    by_resource = ram.get_resource_share_associations(associationType="RESOURCE", resourceArn=arn)[
        "resourceShareAssociations"]
    assert [a["resourceShareArn"] for a in by_resource] == [share]
    by_principal = ram.get_resource_share_associations(associationType="PRINCIPAL", principal=world.org_arn,
                                                       resourceShareArns=[share])["resourceShareAssociations"]
    assert [a["associatedEntity"] for a in by_principal] == [world.org_arn]
    only_associated = ram.get_resource_share_associations(
        associationType="RESOURCE", resourceShareArns=[share], associationStatus="ASSOCIATED")
    assert [a["associatedEntity"] for a in only_associated["resourceShareAssociations"]] == [arn]
    none_failed = ram.get_resource_share_associations(
        associationType="RESOURCE", resourceShareArns=[share], associationStatus="FAILED")
    assert none_failed["resourceShareAssociations"] == []


def test_get_resource_shares_filters_by_name_tag_status_and_permission(world):
    ram = world.ram()
    tagged = world.share("filter-me", tags=[{"key": "stage", "value": "prod"}])
    other = world.share("filter-other", tags=[{"key": "stage", "value": "dev"}])
    assert [s["resourceShareArn"] for s in own_shares(ram, name="filter-me")] == [tagged]
    prod = own_shares(ram, tagFilters=[{"tagKey": "stage", "tagValues": ["prod"]}])
    assert [s["resourceShareArn"] for s in prod] == [tagged]
    both = {s["resourceShareArn"] for s in own_shares(ram, tagFilters=[{"tagKey": "stage",
                                                                         "tagValues": ["prod", "dev"]}])}
    assert both == {tagged, other}
    active = {s["resourceShareArn"] for s in own_shares(ram, resourceShareStatus="ACTIVE")}
    assert {tagged, other} <= active
    assert own_shares(ram, name="filter-me", resourceShareStatus="DELETED") == []
    arn = world.publish("/ram/filter-permission")
    with_history = world.share("filter-history", [arn], [world.org_arn], permissionArns=[HISTORY_PERMISSION])
    listed = {s["resourceShareArn"] for s in own_shares(ram, permissionArn=HISTORY_PERMISSION)}
    assert with_history in listed and tagged not in listed


def test_get_resource_shares_pages_with_max_results_and_next_token(world):
    ram = world.ram("member-b")
    made = {world.share(f"page-{i}", owner="member-b") for i in range(5)}
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"resourceOwner": "SELF", "maxResults": 2}
        if token:
            kwargs["nextToken"] = token
        page = ram.get_resource_shares(**kwargs)
        assert len(page["resourceShares"]) <= 2
        seen += [s["resourceShareArn"] for s in page["resourceShares"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert made <= set(seen) and len(seen) == len(set(seen)) and pages >= 3
    code, _, status = failure(ram.get_resource_shares, resourceOwner="SELF", nextToken="not-a-token")
    assert (code, status) == ("InvalidNextTokenException", 400)


def test_update_resource_share_renames_it_and_changes_external_principals(world):
    ram = world.ram()
    share = world.share("before-rename")
    updated = ram.update_resource_share(resourceShareArn=share, name="after-rename",
                                        allowExternalPrincipals=True)["resourceShare"]
    assert (updated["resourceShareArn"], updated["name"], updated["allowExternalPrincipals"]) == (
        share, "after-rename", True)
    listed = own_shares(ram, resourceShareArns=[share])[0]
    assert (listed["name"], listed["allowExternalPrincipals"]) == ("after-rename", True)
    assert own_shares(ram, name="before-rename") == []


def test_tags_are_added_and_removed_on_a_share(world):
    ram = world.ram()
    share = world.share("tagging", tags=[{"key": "a", "value": "1"}])
    ram.tag_resource(resourceShareArn=share, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    tags = {t["key"]: t["value"] for t in own_shares(ram, resourceShareArns=[share])[0]["tags"]}
    assert tags == {"a": "3", "b": "2"}
    ram.untag_resource(resourceShareArn=share, tagKeys=["a"])
    assert own_shares(ram, resourceShareArns=[share])[0]["tags"] == [{"key": "b", "value": "2"}]
    assert [s["resourceShareArn"] for s in own_shares(ram, tagFilters=[{"tagKey": "b", "tagValues": ["2"]}])] == [
        share]


def test_deleting_a_share_marks_it_deleted_and_ends_the_consumers_access(world):
    arn = world.publish("/ram/deleted")
    ram = world.ram()
    share = world.share("to-delete", [arn], [world.org_arn])
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    out = ram.delete_resource_share(resourceShareArn=share)
    assert out["returnValue"] is True
    assert_no_access(world, "member-a", arn)
    status = wait_for(lambda: own_shares(ram, resourceShareArns=[share])[0]["status"] == "DELETED" and "DELETED")
    assert status == "DELETED"
    assert share in {s["resourceShareArn"] for s in own_shares(ram, resourceShareStatus="DELETED")}
    assert share not in {s["resourceShareArn"] for s in own_shares(ram, resourceShareStatus="ACTIVE")}
    others = all_shares(world.ram("member-a"), "OTHER-ACCOUNTS")
    assert share not in {s["resourceShareArn"] for s in others if s["status"] == "ACTIVE"}


def test_a_client_token_makes_create_idempotent_and_a_mismatch_changes_nothing(world):
    ram = world.ram()
    token = str(uuid.uuid4())
    first = ram.create_resource_share(name="idempotent", clientToken=token)
    again = ram.create_resource_share(name="idempotent", clientToken=token)
    assert first["resourceShare"]["resourceShareArn"] == again["resourceShare"]["resourceShareArn"]
    assert (first["clientToken"], again["clientToken"]) == (token, token)
    assert len(own_shares(ram, name="idempotent")) == 1
    code, _, status = failure(ram.create_resource_share, name="idempotent-changed", clientToken=token)
    assert (code, status) == ("IdempotentParameterMismatchException", 400)
    assert own_shares(ram, name="idempotent-changed") == []


# --- RAM: the consumer's view --------------------------------------------------------------------------

def test_a_member_sees_the_share_its_resources_and_its_owner_as_other_accounts(world):
    arn = world.publish("/ram/consumer-view")
    share = world.share("consumer-view", [arn], [world.org_arn])
    member = world.ram("member-a")
    shares = all_shares(member, "OTHER-ACCOUNTS")
    mine = [s for s in shares if s["resourceShareArn"] == share]
    assert len(mine) == 1 and mine[0]["owningAccountId"] == world.org.shared and mine[0]["name"] == "consumer-view"
    assert share not in {s["resourceShareArn"] for s in all_shares(member, "SELF")}
    resources = member.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[share])["resources"]
    assert [(r["arn"], r["type"].lower(), r["resourceShareArn"], r["status"]) for r in resources] == [
        (arn, "ssm:parameter", share, "AVAILABLE")]
    typed = [r for page in member.get_paginator("list_resources").paginate(
        resourceOwner="OTHER-ACCOUNTS", resourceType="ssm:Parameter") for r in page["resources"]]
    assert arn in {r["arn"] for r in typed}
    principals = member.list_principals(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[share])["principals"]
    assert [p["id"] for p in principals] == [world.org.shared]
    owner_side = world.ram().list_principals(resourceOwner="SELF", resourceShareArns=[share])["principals"]
    assert [(p["id"], p["resourceShareArn"], p["external"]) for p in owner_side] == [(world.org_arn, share, False)]
    owned = world.ram().list_resources(resourceOwner="SELF", resourceShareArns=[share])["resources"]
    assert [(r["arn"], r["resourceRegionScope"]) for r in owned] == [(arn, "REGIONAL")]
    outsider = all_shares(world.ram("outside"), "OTHER-ACCOUNTS")
    assert share not in {s["resourceShareArn"] for s in outsider}


# --- RAM: permissions ----------------------------------------------------------------------------------

def test_the_aws_managed_permissions_for_ssm_parameters_exist(world):
    ram = world.ram()
    listed = ram.list_permissions(resourceType="ssm:Parameter")["permissions"]
    by_arn = {p["arn"]: p for p in listed}
    assert {DEFAULT_PERMISSION, HISTORY_PERMISSION} <= set(by_arn)
    default, history = by_arn[DEFAULT_PERMISSION], by_arn[HISTORY_PERMISSION]
    assert (default["name"], default["isResourceTypeDefault"], default["permissionType"]) == (
        "AWSRAMDefaultPermissionSSMParameterReadOnly", True, "AWS_MANAGED")
    assert (history["name"], history["isResourceTypeDefault"]) == (
        "AWSRAMPermissionSSMParameterReadOnlyWithHistory", False)
    assert all(p["resourceType"].lower() == "ssm:parameter" for p in listed)
    assert default["defaultVersion"] is True and default["status"] == "ATTACHABLE"
    aws_only = ram.list_permissions(resourceType="ssm:Parameter", permissionType="AWS_MANAGED")["permissions"]
    assert {p["arn"] for p in aws_only} == {p["arn"] for p in listed if p["permissionType"] == "AWS_MANAGED"}


def test_get_permission_shows_the_actions_each_managed_permission_allows(world):
    ram = world.ram()

    def actions(permission_arn):
        detail = ram.get_permission(permissionArn=permission_arn)["permission"]
        assert detail["arn"] == permission_arn and detail["resourceType"].lower() == "ssm:parameter"
        document = json.loads(detail["permission"])
        statements = document.get("Statement", document)
        statements = statements if isinstance(statements, list) else [statements]
        found = set()
        for s in statements:
            assert s.get("Effect") == "Allow"
            found |= set([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        return found

    assert actions(DEFAULT_PERMISSION) == {"ssm:DescribeParameters", "ssm:GetParameter", "ssm:GetParameters"}
    assert actions(HISTORY_PERMISSION) == {"ssm:DescribeParameters", "ssm:GetParameter", "ssm:GetParameters",
                                           "ssm:GetParameterHistory"}
    versions = ram.list_permission_versions(permissionArn=DEFAULT_PERMISSION)["permissions"]
    assert versions and [v["defaultVersion"] for v in versions].count(True) == 1
    assert all(v["arn"] == DEFAULT_PERMISSION for v in versions)


def test_the_shares_permission_decides_whether_a_consumer_may_read_history(world):
    arn = world.publish("/ram/history", values=(AMI_1, AMI_2, AMI_3))
    ram = world.ram()
    share = world.share("history", [arn], [world.org_arn])
    member = world.ssm("member-b")
    assert_denied(member.get_parameter_history, "ssm:GetParameterHistory", arn, Name=arn)
    # One permission per resource type: adding a second one without `replace` is refused.
    code, _, status = failure(ram.associate_resource_share_permission, resourceShareArn=share,
                              permissionArn=HISTORY_PERMISSION)
    assert status == 400 and code in ("InvalidParameterException", "OperationNotPermittedException"), code
    assert [p["arn"] for p in ram.list_resource_share_permissions(resourceShareArn=share)["permissions"]] == [
        DEFAULT_PERMISSION]
    assert ram.associate_resource_share_permission(resourceShareArn=share, permissionArn=HISTORY_PERMISSION,
                                                   replace=True)["returnValue"] is True
    assert wait_for(lambda: share_permissions(ram, share) == [HISTORY_PERMISSION])
    history = member.get_parameter_history(Name=arn)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, AMI_1), (2, AMI_2), (3, AMI_3)]
    assert {s["resourceShareArn"] for s in own_shares(ram, permissionArn=HISTORY_PERMISSION)} >= {share}
    # Back to the default: history is refused again on the next call.
    ram.associate_resource_share_permission(resourceShareArn=share, permissionArn=DEFAULT_PERMISSION, replace=True)
    assert wait_for(lambda: share_permissions(ram, share) == [DEFAULT_PERMISSION])
    assert_denied(member.get_parameter_history, "ssm:GetParameterHistory", arn, Name=arn)
    assert reads(member, arn)["Value"] == AMI_3


def test_a_permission_is_associated_and_disassociated_on_a_share_without_resources(world):
    ram = world.ram()
    share = world.share("permissions-only")
    assert ram.associate_resource_share_permission(resourceShareArn=share,
                                                   permissionArn=HISTORY_PERMISSION)["returnValue"] is True
    assert wait_for(lambda: share_permissions(ram, share) == [HISTORY_PERMISSION])
    assert ram.disassociate_resource_share_permission(resourceShareArn=share,
                                                      permissionArn=HISTORY_PERMISSION)["returnValue"] is True
    assert wait_for(lambda: share_permissions(ram, share) == [])


# --- RAM: invitations ----------------------------------------------------------------------------------

def invitations_for(world, who, share):
    found = world.ram(who).get_resource_share_invitations(resourceShareArns=[share])["resourceShareInvitations"]
    return found


def test_an_outside_account_reads_only_after_accepting_the_invitation(world):
    arn = world.publish("/ram/external-accept")
    ram = world.ram()
    share = world.share("external-accept", [arn], [world.org.outside], external=True)
    assert status_of(ram, share, "PRINCIPAL", world.org.outside) == "ASSOCIATING"
    assert associations(ram, share, "PRINCIPAL", world.org.outside)[0]["external"] is True
    invitation = wait_for(lambda: invitations_for(world, "outside", share))[0]
    assert INVITATION_ARN.match(invitation["resourceShareInvitationArn"])
    assert (invitation["status"], invitation["senderAccountId"], invitation["receiverAccountId"],
            invitation["resourceShareArn"], invitation["resourceShareName"]) == (
        "PENDING", world.org.shared, world.org.outside, share, "external-accept")
    pending = world.ram("outside").list_pending_invitation_resources(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])["resources"]
    assert [(r["arn"], r["type"].lower()) for r in pending] == [(arn, "ssm:parameter")]
    assert_no_access(world, "outside", arn)
    accepted = world.ram("outside").accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])["resourceShareInvitation"]
    assert accepted["status"] == "ACCEPTED"
    assert wait_status(ram, share, "PRINCIPAL", world.org.outside) == "ASSOCIATED"
    assert reads(world.ssm("outside"), arn)["Value"] == AMI_2
    assert invitations_for(world, "outside", share)[0]["status"] == "ACCEPTED"
    outside_view = all_shares(world.ram("outside"), "OTHER-ACCOUNTS")
    assert share in {s["resourceShareArn"] for s in outside_view}
    # Accepting or rejecting it again is refused, and changes nothing.
    for call in (world.ram("outside").accept_resource_share_invitation,
                 world.ram("outside").reject_resource_share_invitation):
        code, _, status = failure(call, resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
        assert (code, status) == ("ResourceShareInvitationAlreadyAcceptedException", 400)
    assert reads(world.ssm("outside"), arn)["Value"] == AMI_2
    # Disassociating the outside account ends its access at once.
    ram.disassociate_resource_share(resourceShareArn=share, principals=[world.org.outside])
    assert_no_access(world, "outside", arn)


def test_a_rejected_invitation_grants_nothing_and_cannot_be_answered_again(world):
    arn = world.publish("/ram/external-reject")
    share = world.share("external-reject", [arn], [world.org.outside], external=True)
    invitation = wait_for(lambda: invitations_for(world, "outside", share))[0]
    outside = world.ram("outside")
    rejected = outside.reject_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"])["resourceShareInvitation"]
    assert rejected["status"] == "REJECTED"
    assert_no_access(world, "outside", arn)
    for call in (outside.accept_resource_share_invitation, outside.reject_resource_share_invitation):
        code, _, status = failure(call, resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
        assert (code, status) == ("ResourceShareInvitationAlreadyRejectedException", 400)
    assert invitations_for(world, "outside", share)[0]["status"] == "REJECTED"
    assert_no_access(world, "outside", arn)
    assert wait_for(lambda: status_of(world.ram(), share, "PRINCIPAL", world.org.outside) in (
        None, "DISASSOCIATED", "FAILED"), timeout=10)


def test_unknown_and_malformed_invitations_are_refused(world):
    outside = world.ram("outside")
    unknown = f"arn:aws:ram:{REGION}:{world.org.shared}:resource-share-invitation/{uuid.uuid4()}"
    for call in (outside.accept_resource_share_invitation, outside.reject_resource_share_invitation):
        code, _, status = failure(call, resourceShareInvitationArn=unknown)
        assert (code, status) == ("ResourceShareInvitationArnNotFoundException", 400)
        code, _, status = failure(call, resourceShareInvitationArn="not-an-invitation-arn")
        assert (code, status) == ("MalformedArnException", 400)
    code, _, _ = failure(outside.get_resource_share_invitations, resourceShareInvitationArns=[unknown])
    assert code == "ResourceShareInvitationArnNotFoundException"
    code, _, _ = failure(outside.list_pending_invitation_resources, resourceShareInvitationArn=unknown)
    assert code == "ResourceShareInvitationArnNotFoundException"


def test_members_inside_the_organization_get_no_invitation(world):
    arn = world.publish("/ram/no-invitation")
    share = world.share("no-invitation", [arn], [world.org.member_a])
    assert wait_status(world.ram(), share, "PRINCIPAL", world.org.member_a) == "ASSOCIATED"
    assert invitations_for(world, "member-a", share) == []
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    assert associations(world.ram(), share, "PRINCIPAL", world.org.member_a)[0]["external"] is False


# --- RAM: bad input, with nothing changed --------------------------------------------------------------

def test_an_account_outside_the_organization_is_refused_when_external_principals_are_not_allowed(world):
    arn = world.publish("/ram/internal-only")
    ram = world.ram()
    before = {s["resourceShareArn"] for s in own_shares(ram)}
    code, message, status = failure(ram.create_resource_share, name="internal-only", resourceArns=[arn],
                                    principals=[world.org.outside], allowExternalPrincipals=False)
    assert (code, message, status) == ("InvalidParameterException", OUTSIDE_ORG.format(world.org.outside), 400)
    assert {s["resourceShareArn"] for s in own_shares(ram)} == before
    share = world.share("internal-only", [arn], [world.org_arn])
    code, message, status = failure(ram.associate_resource_share, resourceShareArn=share,
                                    principals=[world.org.outside])
    assert (code, message, status) == ("InvalidParameterException", OUTSIDE_ORG.format(world.org.outside), 400)
    assert associations(ram, share, "PRINCIPAL", world.org.outside) == []
    assert_no_access(world, "outside", arn)
    assert invitations_for(world, "outside", share) == []
    # An account id that exists nowhere is outside the organization too.
    code, message, _ = failure(ram.associate_resource_share, resourceShareArn=share, principals=["999999999999"])
    assert (code, message) == ("InvalidParameterException", OUTSIDE_ORG.format("999999999999"))
    assert [a["associatedEntity"] for a in associations(ram, share, "PRINCIPAL")] == [world.org_arn]


def test_malformed_principals_and_unknown_organizations_are_refused(world):
    ram = world.ram()
    share = world.share("bad-principals")
    code, message, status = failure(ram.associate_resource_share, resourceShareArn=share, principals=["o-bogus"])
    assert (code, message, status) == (
        "InvalidParameterException", "Principal ID o-bogus is malformed. Verify the ID and try again.", 400)
    code, message, _ = failure(ram.associate_resource_share, resourceShareArn=share, principals=["12345"])
    assert (code, message) == ("InvalidParameterException",
                               "Principal ID 12345 is malformed. Verify the ID and try again.")
    foreign = "arn:aws:organizations::999999999999:organization/o-zzzzzzzzzz"
    code, message, status = failure(ram.associate_resource_share, resourceShareArn=share, principals=[foreign])
    assert (code, message, status) == ("UnknownResourceException", "Organization o-zzzzzzzzzz could not be found.",
                                       400)
    missing_ou = f"arn:aws:organizations::{world.mgmt}:ou/{world.org_id}/ou-zzzz-zzzzzzzz"
    code, _, _ = failure(ram.associate_resource_share, resourceShareArn=share, principals=[missing_ou])
    assert code == "UnknownResourceException"
    assert associations(ram, share, "PRINCIPAL") == []


def test_malformed_and_unknown_share_arns_are_refused(world):
    ram = world.ram()
    malformed = "arn:aws:ram:us-east-1:123456789012:bogus"
    code, message, status = failure(ram.get_resource_share_associations, associationType="PRINCIPAL",
                                    resourceShareArns=[malformed])
    assert (code, message, status) == (
        "MalformedArnException", "The specified resource share ARN is not valid. Verify the ARN and try again.", 400)
    for call, kwargs in ((ram.update_resource_share, {"name": "x"}),
                         (ram.associate_resource_share, {"principals": [world.org.member_a]}),
                         (ram.delete_resource_share, {})):
        code, _, status = failure(call, resourceShareArn=malformed, **kwargs)
        assert (code, status) == ("MalformedArnException", 400), call
    unknown = f"arn:aws:ram:{REGION}:{world.org.shared}:resource-share/{uuid.uuid4()}"
    for call, kwargs in ((ram.update_resource_share, {"name": "x"}),
                         (ram.associate_resource_share, {"principals": [world.org.member_a]}),
                         (ram.disassociate_resource_share, {"principals": [world.org.member_a]}),
                         (ram.delete_resource_share, {}),
                         (ram.list_resource_share_permissions, {})):
        code, message, status = failure(call, resourceShareArn=unknown, **kwargs)
        assert (code, message, status) == ("UnknownResourceException", f"ResourceShare {unknown} could not be found.",
                                           400), call
    # Another account's share is unknown to the caller.
    theirs = world.share("not-yours")
    code, _, _ = failure(world.ram("member-a").update_resource_share, resourceShareArn=theirs, name="stolen")
    assert code in ("UnknownResourceException", "OperationNotPermittedException", "AccessDeniedException"), code
    assert own_shares(ram, resourceShareArns=[theirs])[0]["name"] == "not-yours"


def test_malformed_resource_arns_and_unshareable_types_are_refused(world):
    ram = world.ram()
    share = world.share("bad-resources")
    code, message, status = failure(ram.associate_resource_share, resourceShareArn=share,
                                    resourceArns=["not-an-arn"])
    assert (code, status) == ("MalformedArnException", 400)
    assert message.startswith("The specified resource ARN") and message.endswith(
        "is not valid. Verify the ARN and try again."), message
    for unshareable in (f"arn:aws:iam::{world.org.shared}:role/{ADMIN_ROLE}",
                        f"arn:aws:ssm:{REGION}:{world.org.shared}:document/my-runbook",
                        f"arn:aws:sts::{world.org.shared}:assumed-role/{ADMIN_ROLE}/x"):
        code, _, status = failure(ram.associate_resource_share, resourceShareArn=share, resourceArns=[unshareable])
        assert status == 400 and code in ("MalformedArnException", "InvalidParameterException",
                                          "OperationNotPermittedException", "InvalidResourceTypeException"), code
    assert associations(ram, share, "RESOURCE") == []
    before = {s["resourceShareArn"] for s in own_shares(ram)}
    code, _, _ = failure(ram.create_resource_share, name="bad-create", resourceArns=["arn:aws:ssm:::"])
    assert code == "MalformedArnException"
    assert {s["resourceShareArn"] for s in own_shares(ram)} == before


def test_an_arn_of_the_wrong_region_or_partition_shares_nothing(world):
    world.publish("/ram/wrong-place")
    ram = world.ram()
    share = world.share("wrong-place", principals=[world.org_arn])
    wrong_region = f"arn:aws:ssm:us-west-2:{world.org.shared}:parameter/ram/wrong-place"
    refused_or_failed(ram.associate_resource_share, ram, share, wrong_region, resourceShareArn=share,
                      resourceArns=[wrong_region])
    wrong_partition = f"arn:aws-cn:ssm:{REGION}:{world.org.shared}:parameter/ram/wrong-place"
    refused_or_failed(ram.associate_resource_share, ram, share, wrong_partition, resourceShareArn=share,
                      resourceArns=[wrong_partition])
    assert [a for a in associations(ram, share, "RESOURCE") if a["status"] == "ASSOCIATED"] == []
    assert_no_access(world, "member-a", world.arn("/ram/wrong-place"))


def test_a_parameter_the_caller_does_not_own_is_never_shared(world):
    arn = world.publish("/ram/not-yours")
    thief = world.ram("member-a")
    share = world.share("steal", principals=[world.org.member_b], owner="member-a")
    refused_or_failed(thief.associate_resource_share, thief, share, arn, resourceShareArn=share, resourceArns=[arn])
    assert_no_access(world, "member-b", arn)
    # Nor can a consumer re-share a parameter shared with it.
    world.share("reshare-source", [arn], [world.org.member_a])
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    reshare = world.share("reshare", principals=[world.org.member_b], owner="member-a")
    refused_or_failed(thief.associate_resource_share, thief, reshare, arn, resourceShareArn=reshare,
                      resourceArns=[arn])
    assert_no_access(world, "member-b", arn)


def test_a_duplicate_association_changes_nothing(world):
    arn = world.publish("/ram/duplicate")
    ram = world.ram()
    share = world.share("duplicate", [arn], [world.org.member_a])
    assert wait_status(ram, share, "PRINCIPAL", world.org.member_a) == "ASSOCIATED"
    for kwargs in ({"principals": [world.org.member_a]}, {"resourceArns": [arn]}):
        try:
            ram.associate_resource_share(resourceShareArn=share, **kwargs)
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [a["status"] for a in associations(ram, share, "PRINCIPAL", world.org.member_a)] == ["ASSOCIATED"]
    assert [a["status"] for a in associations(ram, share, "RESOURCE", arn)] == ["ASSOCIATED"]
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2


def test_invalid_enum_values_are_refused_with_invalid_parameter(world):
    raw = boto3.client("ram", endpoint_url=world.org.server.endpoint, region_name=REGION,
                       aws_access_key_id=world.sessions["shared"].credentials["AccessKeyId"],
                       aws_secret_access_key=world.sessions["shared"].credentials["SecretAccessKey"],
                       aws_session_token=world.sessions["shared"].credentials["SessionToken"],
                       config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=False))
    code, _, status = failure(raw.get_resource_shares, resourceOwner="EVERYONE")
    assert (code, status) == ("InvalidParameterException", 400)
    code, _, _ = failure(raw.get_resource_share_associations, associationType="FRIENDS")
    assert code == "InvalidParameterException"
    code, _, _ = failure(raw.list_resources, resourceOwner="EVERYONE")
    assert code == "InvalidParameterException"


def test_enabling_organization_sharing_is_for_the_management_account_only(world):
    code, _, status = failure(world.ram("member-a").enable_sharing_with_aws_organization)
    assert (code, status) == ("OperationNotPermittedException", 400)
    assert world.org.server.client("ram").enable_sharing_with_aws_organization()["returnValue"] is True


# --- SSM: reading what is shared -----------------------------------------------------------------------

def test_a_member_reads_a_shared_parameter_only_by_its_arn_with_label_and_version_selectors(world):
    name = "/ram/selectors"
    arn = world.publish(name, values=(AMI_1, AMI_2, AMI_3))
    world.ssm().label_parameter_version(Name=name, ParameterVersion=2, Labels=["stable"])
    world.share("selectors", [arn], [world.org_arn])
    member = world.ssm("member-a")
    latest = reads(member, arn)
    assert (latest["Value"], latest["Version"], latest["ARN"], latest["Type"]) == (AMI_3, 3, arn, "String")
    labelled = reads(member, f"{arn}:stable")
    assert (labelled["Value"], labelled["Version"], labelled["ARN"]) == (AMI_2, 2, arn)
    pinned = reads(member, f"{arn}:1")
    assert (pinned["Value"], pinned["Version"]) == (AMI_1, 1)
    code, _, _ = failure(member.get_parameter, Name=f"{arn}:9")
    assert code == "ParameterVersionNotFound"
    code, _, _ = failure(member.get_parameter, Name=f"{arn}:nosuchlabel")
    assert code in ("ParameterVersionNotFound", "ParameterNotFound")
    code, _, status = failure(member.get_parameter, Name=name)
    assert (code, status) == ("ParameterNotFound", 400)
    got = member.get_parameters(Names=[f"{arn}:stable", f"{arn}:1", name])
    assert sorted((p["Version"], p["Value"]) for p in got["Parameters"]) == [(1, AMI_1), (2, AMI_2)]
    assert got["InvalidParameters"] == [name]
    # GetParametersByPath never reaches another account's parameters.
    by_path = member.get_parameters_by_path(Path="/ram", Recursive=True)["Parameters"]
    assert arn not in {p["ARN"] for p in by_path}


def test_describe_parameters_shared_lists_what_is_shared_with_the_caller(world):
    name = "/ram/described"
    arn = world.publish(name)
    world.share("described", [arn], [world.org_arn])
    member = world.ssm("member-b")
    shared = described(member, Shared=True)
    mine = [p for p in shared if p.get("ARN") == arn]
    assert len(mine) == 1
    assert (mine[0]["Tier"], mine[0]["Version"], mine[0]["Type"], mine[0]["DataType"]) == (
        "Advanced", 2, "String", "text")
    assert "Value" not in mine[0]
    own = described(member)
    assert arn not in {p.get("ARN") for p in own}
    assert arn not in shared_arns(world.ssm("outside"))


def test_a_consumer_can_never_write_label_unlabel_tag_or_delete_a_shared_parameter(world):
    name = "/ram/read-only"
    arn = world.publish(name)
    world.ssm().label_parameter_version(Name=name, ParameterVersion=1, Labels=["pinned"])
    world.ssm().add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                                     Tags=[{"Key": "team", "Value": "golden"}])
    world.share("read-only", [arn], [world.org_arn])
    member = world.ssm("member-a")
    assert reads(member, arn)["Value"] == AMI_2
    assert_write_refused(member.put_parameter, "ssm:PutParameter", arn, Name=arn, Value=AMI_3, Type="String",
                         Overwrite=True)
    assert_write_refused(member.label_parameter_version, "ssm:LabelParameterVersion", arn, Name=arn,
                         ParameterVersion=2, Labels=["hijacked"])
    assert_write_refused(member.unlabel_parameter_version, "ssm:UnlabelParameterVersion", arn, Name=arn,
                         ParameterVersion=1, Labels=["pinned"])
    assert_write_refused(member.delete_parameter, "ssm:DeleteParameter", arn, Name=arn)
    assert_write_refused(member.add_tags_to_resource, "ssm:AddTagsToResource", arn, ResourceType="Parameter",
                         ResourceId=arn, Tags=[{"Key": "owner", "Value": "member-a"}])
    assert_write_refused(member.remove_tags_from_resource, "ssm:RemoveTagsFromResource", arn,
                         ResourceType="Parameter", ResourceId=arn, TagKeys=["team"])
    assert_denied(member.put_resource_policy, "ssm:PutResourcePolicy", arn, ResourceArn=arn, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": world.org.member_b},
                                                "Action": "ssm:GetParameter", "Resource": arn}]}))
    owner = world.ssm()
    current = owner.get_parameter(Name=name)["Parameter"]
    assert (current["Version"], current["Value"]) == (2, AMI_2)
    history = owner.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h.get("Labels", [])) for h in history] == [(1, ["pinned"]), (2, [])]
    assert owner.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [
        {"Key": "team", "Value": "golden"}]
    # The member's own account gained no parameter of that name.
    code, _, _ = failure(member.get_parameter, Name=name)
    assert code == "ParameterNotFound"


def test_the_owner_changing_a_label_changes_what_consumers_resolve_on_the_next_read(world):
    name = "/ram/moving-label"
    arn = world.publish(name)
    owner = world.ssm()
    owner.label_parameter_version(Name=name, ParameterVersion=2, Labels=["latest"])
    world.share("moving-label", [arn], [world.org_arn])
    assert reads(world.ssm("member-a"), f"{arn}:latest")["Value"] == AMI_2
    owner.label_parameter_version(Name=name, ParameterVersion=1, Labels=["latest"])
    for who in ("member-a", "member-b"):
        got = reads(world.ssm(who), f"{arn}:latest")
        assert (got["Version"], got["Value"]) == (1, AMI_1)
    owner.put_parameter(Name=name, Value=AMI_3, Type="String", Overwrite=True)
    assert wait_for(lambda: value_or_none(world.ssm("member-b"), arn) == AMI_3)


def test_a_standard_parameter_is_never_shared(world):
    name = "/ram/standard"
    world.publish(name, tier="Standard")
    arn = world.arn(name)
    ram = world.ram()
    share = world.share("standard", principals=[world.org_arn])
    outcome = refused_or_failed(ram.associate_resource_share, ram, share, arn, resourceShareArn=share,
                                resourceArns=[arn])
    assert outcome[0] in ("refused", "failed")
    assert_no_access(world, "member-a", arn)
    assert arn not in shared_arns(world.ssm("member-a"))
    before = {s["resourceShareArn"] for s in own_shares(ram)}
    try:
        made = ram.create_resource_share(name="standard-create", resourceArns=[arn], principals=[world.org_arn],
                                         allowExternalPrincipals=False)["resourceShare"]["resourceShareArn"]
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert {s["resourceShareArn"] for s in own_shares(ram)} == before
    else:
        assert wait_status(ram, made, "RESOURCE", arn) == "FAILED"
    assert_no_access(world, "member-a", arn)
    # The parameter itself is untouched.
    assert world.ssm().describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
        "Parameters"][0]["Tier"] == "Standard"


def test_a_secure_string_shares_only_under_a_customer_managed_key_the_consumer_may_use(world):
    kms = world.client("shared", "kms")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{world.org.shared}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Member A decrypts", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{world.org.member_a}:root"}, "Action": "kms:Decrypt",
         "Resource": "*"}]}
    key_arn = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    arn = world.publish("/ram/secret", values=("hunter2",), Type="SecureString", KeyId=key_arn)
    world.share("secret", [arn], [world.org_arn])
    got = world.ssm("member-a").get_parameter(Name=arn, WithDecryption=True)["Parameter"]
    assert (got["Value"], got["Type"]) == ("hunter2", "SecureString")
    sealed = world.ssm("member-b").get_parameter(Name=arn)["Parameter"]
    assert sealed["Value"] != "hunter2"
    # Member B may read the parameter but the key policy does not let it decrypt.
    code, _, status = failure(world.ssm("member-b").get_parameter, Name=arn, WithDecryption=True)
    assert status == 400 and code in ("AccessDeniedException", "InvalidKeyId"), code
    # A SecureString under the AWS managed key is never shared.
    name = "/ram/secret-default-key"
    default_arn = world.publish(name, values=("s3cr3t",), Type="SecureString")
    ram = world.ram()
    share = world.share("secret-default-key", principals=[world.org_arn])
    refused_or_failed(ram.associate_resource_share, ram, share, default_arn, resourceShareArn=share,
                      resourceArns=[default_arn])
    assert_no_access(world, "member-a", default_arn)


# --- SSM: losing access at once ------------------------------------------------------------------------

def test_disassociating_the_resource_or_the_principal_removes_access_at_once(world):
    arn = world.publish("/ram/unshare")
    ram = world.ram()
    share = world.share("unshare", [arn], [world.org_arn])
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    out = ram.disassociate_resource_share(resourceShareArn=share, resourceArns=[arn])
    assert [(a["associatedEntity"], a["status"]) for a in out["resourceShareAssociations"]] in (
        [(arn, "DISASSOCIATING")], [(arn, "DISASSOCIATED")])
    assert_no_access(world, "member-a", arn)
    assert wait_status(ram, share, "RESOURCE", arn) == "DISASSOCIATED"
    assert arn not in shared_arns(world.ssm("member-a"))
    ram.associate_resource_share(resourceShareArn=share, resourceArns=[arn])
    assert wait_status(ram, share, "RESOURCE", arn) == "ASSOCIATED"
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    ram.disassociate_resource_share(resourceShareArn=share, principals=[world.org_arn])
    assert_no_access(world, "member-a", arn)
    assert_no_access(world, "member-b", arn)
    assert wait_status(ram, share, "PRINCIPAL", world.org_arn) == "DISASSOCIATED"


def test_an_ou_share_follows_accounts_into_nested_ous_and_out_of_the_ou(world):
    arn = world.publish("/ram/ou")
    world.share("ou", [arn], [world.ou_arn])
    orgs, org = world.orgs, world.org
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    assert_no_access(world, "outside", arn)
    nested = orgs.create_organizational_unit(ParentId=org.workloads, Name="nested")["OrganizationalUnit"]["Id"]
    try:
        orgs.move_account(AccountId=org.member_b, SourceParentId=org.workloads, DestinationParentId=nested)
        assert reads(world.ssm("member-b"), arn)["Value"] == AMI_2
        orgs.move_account(AccountId=org.member_a, SourceParentId=org.workloads, DestinationParentId=org.root_id)
        try:
            assert_no_access(world, "member-a", arn)
        finally:
            orgs.move_account(AccountId=org.member_a, SourceParentId=org.root_id, DestinationParentId=org.workloads)
        assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    finally:
        orgs.move_account(AccountId=org.member_b, SourceParentId=nested, DestinationParentId=org.workloads)
        orgs.delete_organizational_unit(OrganizationalUnitId=nested)


def test_an_account_removed_from_the_organization_loses_access_at_once(world):
    orgs = world.orgs
    status = orgs.create_account(Email="leaver@example.com", AccountName="leaver")["CreateAccountStatus"]
    status = wait_for(lambda: (s := orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"])["State"] != "IN_PROGRESS" and s)
    assert status["State"] == "SUCCEEDED", status
    leaver = status["AccountId"]
    arn = world.publish("/ram/leaver")
    world.share("leaver", [arn], [world.org_arn])
    ssm = assume(world.org, leaver).client("ssm")
    assert ssm.get_parameter(Name=arn)["Parameter"]["Value"] == AMI_2
    orgs.remove_account_from_organization(AccountId=leaver)
    assert_denied(ssm.get_parameter, "ssm:GetParameter", arn, Name=arn)
    assert arn not in shared_arns(ssm)


# --- SSM resource policies and shares created from them ------------------------------------------------

def test_an_ssm_resource_policy_shares_and_shows_in_ram_as_created_from_policy_until_promoted(world):
    name = "/ram/policy-shared"
    arn = world.publish(name)
    owner, ram = world.ssm(), world.ram()
    document = {"Version": "2012-10-17", "Statement": [{
        "Sid": "MemberB", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{world.org.member_b}:root"},
        "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:DescribeParameters"], "Resource": arn}]}
    put = owner.put_resource_policy(ResourceArn=arn, Policy=json.dumps(document))
    assert put["PolicyId"] and put["PolicyHash"]
    policies = owner.get_resource_policies(ResourceArn=arn)["Policies"]
    assert [(p["PolicyId"], p["PolicyHash"]) for p in policies] == [(put["PolicyId"], put["PolicyHash"])]
    assert json.loads(policies[0]["Policy"])["Statement"][0]["Principal"] == document["Statement"][0]["Principal"]
    # Member B reads it by ARN; member A, not named, does not.
    assert reads(world.ssm("member-b"), arn)["Value"] == AMI_2
    assert_no_access(world, "member-a", arn)
    # RAM shows a share created from the policy; DescribeParameters Shared does not list it yet.
    from_policy = wait_for(lambda: [s for s in own_shares(ram) if s.get("featureSet") == "CREATED_FROM_POLICY"
                                    and arn in {r["arn"] for r in ram.list_resources(
                                        resourceOwner="SELF", resourceShareArns=[s["resourceShareArn"]])[
                                        "resources"]}])
    assert len(from_policy) == 1
    share = from_policy[0]["resourceShareArn"]
    assert arn not in shared_arns(world.ssm("member-b"))
    ram_policies = ram.get_resource_policies(resourceArns=[arn])["policies"]
    assert any(world.org.member_b in p for p in ram_policies), ram_policies
    # Promoting makes it a standard share; then DescribeParameters Shared lists it.
    assert ram.promote_resource_share_created_from_policy(resourceShareArn=share)["returnValue"] is True
    promoted = wait_for(lambda: own_shares(ram, resourceShareArns=[share])[0]["featureSet"] == "STANDARD")
    assert promoted
    listed = wait_for(lambda: [p for p in described(world.ssm("member-b"), Shared=True) if p.get("ARN") == arn])
    assert len(listed) == 1
    code, _, _ = failure(ram.promote_resource_share_created_from_policy, resourceShareArn=share)
    assert code in ("OperationNotPermittedException", "InvalidStateTransitionException")


def test_ssm_resource_policies_are_replaced_and_deleted_only_with_the_current_hash(world):
    name = "/ram/policy-hash"
    arn = world.publish(name)
    owner = world.ssm()

    def policy(who):
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{who}:root"},
            "Action": ["ssm:GetParameter", "ssm:GetParameters"], "Resource": arn}]})

    first = owner.put_resource_policy(ResourceArn=arn, Policy=policy(world.org.member_a))
    assert reads(world.ssm("member-a"), arn)["Value"] == AMI_2
    code, _, status = failure(owner.put_resource_policy, ResourceArn=arn, Policy=policy(world.org.member_b),
                              PolicyId=first["PolicyId"], PolicyHash="stale-hash")
    assert (code, status) == ("ResourcePolicyConflictException", 400)
    assert [p["PolicyHash"] for p in owner.get_resource_policies(ResourceArn=arn)["Policies"]] == [first["PolicyHash"]]
    second = owner.put_resource_policy(ResourceArn=arn, Policy=policy(world.org.member_b),
                                       PolicyId=first["PolicyId"], PolicyHash=first["PolicyHash"])
    assert second["PolicyId"] == first["PolicyId"] and second["PolicyHash"] != first["PolicyHash"]
    assert reads(world.ssm("member-b"), arn)["Value"] == AMI_2
    assert_no_access(world, "member-a", arn)
    code, _, _ = failure(owner.delete_resource_policy, ResourceArn=arn, PolicyId=first["PolicyId"],
                         PolicyHash=first["PolicyHash"])
    assert code in ("ResourcePolicyConflictException", "ResourcePolicyNotFoundException")
    assert len(owner.get_resource_policies(ResourceArn=arn)["Policies"]) == 1
    owner.delete_resource_policy(ResourceArn=arn, PolicyId=second["PolicyId"], PolicyHash=second["PolicyHash"])
    assert owner.get_resource_policies(ResourceArn=arn)["Policies"] == []
    assert_no_access(world, "member-b", arn)


def test_ssm_resource_policy_bad_input_is_refused_and_changes_nothing(world):
    name = "/ram/policy-bad"
    arn = world.publish(name)
    owner = world.ssm()
    code, _, _ = failure(owner.put_resource_policy, ResourceArn=arn, Policy="{not json")
    assert code == "MalformedResourcePolicyDocumentException"
    huge = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "x" * 2000, "Effect": "Allow", "Principal": {"AWS": world.org.member_a},
        "Action": "ssm:GetParameter", "Resource": arn}]})
    code, _, _ = failure(owner.put_resource_policy, ResourceArn=arn, Policy=huge)
    assert code == "ResourcePolicyLimitExceededException"
    missing = world.arn("/ram/no-such-parameter")
    code, _, _ = failure(owner.put_resource_policy, ResourceArn=missing, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": world.org.member_a},
                                                "Action": "ssm:GetParameter", "Resource": missing}]}))
    assert code in ("ResourceNotFoundException", "ResourcePolicyInvalidParameterException")
    code, _, _ = failure(owner.get_resource_policies, ResourceArn=missing)
    assert code in ("ResourceNotFoundException", "ResourcePolicyInvalidParameterException")
    code, _, _ = failure(owner.delete_resource_policy, ResourceArn=arn, PolicyId="nope", PolicyHash="nope")
    assert code in ("ResourcePolicyNotFoundException", "ResourcePolicyConflictException")
    assert owner.get_resource_policies(ResourceArn=arn)["Policies"] == []
    standard = "/ram/policy-standard"
    world.publish(standard, tier="Standard")
    code, _, status = failure(owner.put_resource_policy, ResourceArn=world.arn(standard), Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": world.org.member_a},
                                                "Action": "ssm:GetParameter", "Resource": world.arn(standard)}]}))
    # The code is unconfirmed (ResourcePolicyInvalidParameterException is the model's fit).
    assert status == 400 and code in ("ResourcePolicyInvalidParameterException", "ValidationException"), code
    assert_no_access(world, "member-a", world.arn(standard))


# --- Organization sharing not yet enabled; invitation expiry (a server with a movable clock) -----------

class OpenWorld:
    """An open-authentication server (a twelve-digit access key id is that account's root) with clock
    control: a management account with an organization, a shared-services account created in it, and an
    account created then removed, so outside the organization. RAM sharing with the organization is NOT
    enabled."""

    def __init__(self):
        self.server = Server(["--auth", "open", "--enable-clock-control"])
        self.mgmt = self.server.account
        orgs = self.server.client("organizations")
        organization = orgs.create_organization(FeatureSet="ALL")["Organization"]
        self.org_arn = organization["Arn"]
        self.shared = self.create(orgs, "open-shared")
        self.outside = self.create(orgs, "open-outside")
        orgs.remove_account_from_organization(AccountId=self.outside)

    @staticmethod
    def create(orgs, name):
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        status = wait_for(lambda: (s := orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])[
            "CreateAccountStatus"])["State"] != "IN_PROGRESS" and s)
        assert status["State"] == "SUCCEEDED", status
        return status["AccountId"]

    def client(self, account, service):
        return self.server.client(service, access_key_id=account, secret_access_key="x" * 40)

    def advance(self, seconds):
        status, _ = self.server.admin("POST", f"/_ingot/clock?advance={seconds}")
        assert status == 200


@pytest.fixture(scope="module")
def open_world():
    world = OpenWorld()
    try:
        yield world
    finally:
        world.server.close()


def test_an_organization_principal_is_refused_before_sharing_with_the_organization_is_enabled(open_world):
    w = open_world
    ssm, ram = w.client(w.shared, "ssm"), w.client(w.shared, "ram")
    ssm.put_parameter(Name="/open/org-before", Value="v", Type="String", Tier="Advanced")
    arn = f"arn:aws:ssm:{REGION}:{w.shared}:parameter/open/org-before"
    code, message, status = failure(ram.create_resource_share, name="too-early", resourceArns=[arn],
                                    principals=[w.org_arn], allowExternalPrincipals=False)
    assert code in ("OperationNotPermittedException", "InvalidParameterException") and status == 400, code
    assert message == ORG_ONLY
    assert ram.get_resource_shares(resourceOwner="SELF", name="too-early")["resourceShares"] == []


def test_an_invitation_to_a_parameter_expires_after_twelve_hours(open_world):
    w = open_world
    ssm, ram = w.client(w.shared, "ssm"), w.client(w.shared, "ram")
    outside_ram, outside_ssm = w.client(w.outside, "ram"), w.client(w.outside, "ssm")
    ssm.put_parameter(Name="/open/expiring", Value="v", Type="String", Tier="Advanced")
    arn = f"arn:aws:ssm:{REGION}:{w.shared}:parameter/open/expiring"
    share = ram.create_resource_share(name="expiring", resourceArns=[arn], principals=[w.outside],
                                      allowExternalPrincipals=True)["resourceShare"]["resourceShareArn"]
    invitation = wait_for(lambda: outside_ram.get_resource_share_invitations(resourceShareArns=[share])[
        "resourceShareInvitations"])[0]
    assert invitation["status"] == "PENDING"
    w.advance(11 * 3600 + 50 * 60)
    assert outside_ram.get_resource_share_invitations(resourceShareArns=[share])[
        "resourceShareInvitations"][0]["status"] == "PENDING"
    w.advance(20 * 60)
    expired = wait_for(lambda: [i for i in outside_ram.get_resource_share_invitations(resourceShareArns=[share])[
        "resourceShareInvitations"] if i["status"] == "EXPIRED"])
    assert len(expired) == 1
    code, _, status = failure(outside_ram.accept_resource_share_invitation,
                              resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    assert (code, status) == ("ResourceShareInvitationExpiredException", 400)
    code, _, _ = failure(outside_ssm.get_parameter, Name=arn)
    assert code == "AccessDeniedException"
    assert ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[share],
                                               associationStatus="ASSOCIATED")["resourceShareAssociations"] == []


def test_without_organization_sharing_a_member_account_gets_an_invitation(open_world):
    w = open_world
    orgs = w.server.client("organizations")
    member = w.create(orgs, "open-member")
    ssm, ram = w.client(w.shared, "ssm"), w.client(w.shared, "ram")
    ssm.put_parameter(Name="/open/invite-member", Value="v", Type="String", Tier="Advanced")
    arn = f"arn:aws:ssm:{REGION}:{w.shared}:parameter/open/invite-member"
    share = ram.create_resource_share(name="invite-member", resourceArns=[arn], principals=[member],
                                      allowExternalPrincipals=True)["resourceShare"]["resourceShareArn"]
    member_ram = w.client(member, "ram")
    invitation = wait_for(lambda: member_ram.get_resource_share_invitations(resourceShareArns=[share])[
        "resourceShareInvitations"])
    assert [i["status"] for i in invitation] == ["PENDING"]
    code, _, _ = failure(w.client(member, "ssm").get_parameter, Name=arn)
    assert code == "AccessDeniedException"
    member_ram.accept_resource_share_invitation(resourceShareInvitationArn=invitation[0]["resourceShareInvitationArn"])
    assert wait_for(lambda: value_or_none(w.client(member, "ssm"), arn) == "v")


def test_replacing_a_permission_moves_every_share_that_uses_it(world):
    arn = world.publish("/ram/replace")
    ram = world.ram()
    share = world.share("replace", [arn], [world.org_arn])
    assert share_permissions(ram, share) == [DEFAULT_PERMISSION]
    member = world.ssm("member-b")
    assert_denied(member.get_parameter_history, "ssm:GetParameterHistory", arn, Name=arn)
    work = ram.replace_permission_associations(fromPermissionArn=DEFAULT_PERMISSION,
                                                toPermissionArn=HISTORY_PERMISSION)["replacePermissionAssociationsWork"]
    assert (work["fromPermissionArn"], work["toPermissionArn"]) == (DEFAULT_PERMISSION, HISTORY_PERMISSION)
    assert work["status"] in ("IN_PROGRESS", "COMPLETED")
    assert wait_for(lambda: share_permissions(ram, share) == [HISTORY_PERMISSION])
    assert [h["Version"] for h in member.get_parameter_history(Name=arn)["Parameters"]] == [1, 2]
    # Permissions of different resource types cannot replace each other; unknown ones are unknown.
    code, _, status = failure(ram.replace_permission_associations, fromPermissionArn=HISTORY_PERMISSION,
                              toPermissionArn="arn:aws:ram::aws:permission/NoSuchPermission")
    assert (code, status) == ("UnknownResourceException", 400)
    ram.replace_permission_associations(fromPermissionArn=HISTORY_PERMISSION, toPermissionArn=DEFAULT_PERMISSION)
    assert wait_for(lambda: share_permissions(ram, share) == [DEFAULT_PERMISSION])
