"""IAM over awsQuery with boto3 and the AWS CLI: users, groups, roles, access keys, managed and
inline policies, attachments, instance profiles, service-linked roles, tags, authorization
details and policy simulation, with AWS's error codes and texts."""

import json
import pathlib

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def policy(action="s3:GetObject", resource="*", effect="Allow"):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
    })


def error(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    return err["Code"], err.get("Message"), e.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def iam(ingot):
    return ingot.client("iam")


def make_role(iam, name, **kwargs):
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_EC2), **kwargs)["Role"]


def user_client(ingot, iam, user, service="iam"):
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return ingot.client(service, access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])


# Users


def test_a_created_user_is_returned_by_get_user_and_list_users(ingot, iam, unique):
    name = f"alice-{unique}"
    created = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "env", "Value": "dev"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::{ingot.account}:user/team/{name}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Path"] == "/team/"
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == created["UserId"]
    assert got["Tags"] == [{"Key": "env", "Value": "dev"}]
    listed = iam.list_users(PathPrefix="/team/")["Users"]
    assert [u["UserName"] for u in listed] == [name]
    assert "Tags" not in listed[0]


def test_user_names_are_unique_whatever_their_case(iam, unique):
    iam.create_user(UserName=f"Bob-{unique}")
    code, message, status = error(iam.create_user, UserName=f"BOB-{unique}")
    assert (code, status) == ("EntityAlreadyExists", 409)
    assert message == f"User with name BOB-{unique} already exists."
    assert iam.get_user(UserName=f"bob-{unique}")["User"]["UserName"] == f"Bob-{unique}"


def test_an_unknown_user_cannot_be_found(iam, unique):
    code, message, status = error(iam.get_user, UserName=f"ghost-{unique}")
    assert (code, message, status) == ("NoSuchEntity", f"The user with name ghost-{unique} cannot be found.", 404)


def test_renaming_a_user_changes_its_name_path_and_arn(ingot, iam, unique):
    iam.create_user(UserName=f"old-{unique}")
    iam.update_user(UserName=f"old-{unique}", NewUserName=f"new-{unique}", NewPath="/moved/")
    user = iam.get_user(UserName=f"new-{unique}")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ingot.account}:user/moved/new-{unique}"
    assert error(iam.get_user, UserName=f"old-{unique}")[0] == "NoSuchEntity"


def test_users_list_page_by_page_with_markers(iam, unique):
    names = [f"page-{unique}-{i}" for i in range(5)]
    for name in names:
        iam.create_user(UserName=name, Path=f"/paging-{unique}/")
    seen, marker = [], None
    while True:
        kwargs = {"PathPrefix": f"/paging-{unique}/", "MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = iam.list_users(**kwargs)
        seen += [u["UserName"] for u in page["Users"]]
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert seen == names
    paginated = iam.get_paginator("list_users").paginate(PathPrefix=f"/paging-{unique}/", PaginationConfig={"PageSize": 3})
    assert [u["UserName"] for p in paginated for u in p["Users"]] == names


def test_user_tags_are_added_listed_replaced_and_removed(iam, unique):
    name = f"tagged-{unique}"
    iam.create_user(UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "core"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "ENV", "Value": "prod"}])
    assert iam.list_user_tags(UserName=name)["Tags"] == [
        {"Key": "ENV", "Value": "prod"}, {"Key": "team", "Value": "core"}]
    iam.untag_user(UserName=name, TagKeys=["env"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "team", "Value": "core"}]
    code, message, _ = error(iam.tag_user, UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert (code, message) == ("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def test_a_user_with_access_keys_or_groups_cannot_be_deleted(iam, unique):
    name = f"busy-{unique}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    code, message, status = error(iam.delete_user, UserName=name)
    assert (code, message, status) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    iam.create_group(GroupName=f"busy-{unique}")
    iam.add_user_to_group(GroupName=f"busy-{unique}", UserName=name)
    assert error(iam.delete_user, UserName=name)[0] == "DeleteConflict"
    iam.remove_user_from_group(GroupName=f"busy-{unique}", UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy())
    assert error(iam.delete_user, UserName=name)[1] == "Cannot delete entity, must delete policies first."
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_user(UserName=name)
    assert error(iam.get_user, UserName=name)[0] == "NoSuchEntity"


def test_get_user_without_a_name_as_root_describes_the_root_user(ingot, iam):
    user = iam.get_user()["User"]
    assert user["Arn"] == f"arn:aws:iam::{ingot.account}:root"
    assert user["UserId"] == ingot.account


# Access keys


def test_a_created_users_access_key_speaks_for_the_user(ingot, iam, unique):
    name = f"keyed-{unique}"
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40 and key["Status"] == "Active" and key["UserName"] == name
    sts = ingot.client("sts", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
    identity = sts.get_caller_identity()
    assert identity == {**identity, "Arn": user["Arn"], "UserId": user["UserId"], "Account": ingot.account}
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"], k["UserName"]) for k in listed] == [(key["AccessKeyId"], "Active", name)]
    last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == name


def test_a_third_access_key_exceeds_the_quota(iam, unique):
    name = f"twokeys-{unique}"
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    iam.create_access_key(UserName=name)
    code, message, status = error(iam.create_access_key, UserName=name)
    assert (code, message, status) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)


def test_an_inactive_access_key_no_longer_authenticates(ingot, iam, unique):
    name = f"inactive-{unique}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    sts = ingot.client("sts", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])
    assert error(sts.get_caller_identity)[0] == "InvalidClientTokenId"


def test_a_deleted_access_key_is_gone(iam, unique):
    name = f"delkey-{unique}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    code, message, _ = error(iam.delete_access_key, UserName=name, AccessKeyId=key)
    assert (code, message) == ("NoSuchEntity", f"The Access Key with id {key} cannot be found.")


def test_root_lists_its_own_access_keys(ingot, iam):
    keys = iam.list_access_keys()["AccessKeyMetadata"]
    assert ingot.access_key_id in [k["AccessKeyId"] for k in keys]
    assert all("UserName" not in k for k in keys)


# Groups


def test_group_membership_is_seen_from_the_group_and_from_the_user(ingot, iam, unique):
    group = iam.create_group(GroupName=f"devs-{unique}")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{ingot.account}:group/devs-{unique}"
    assert group["GroupId"].startswith("AGPA")
    for n in ("a", "b"):
        iam.create_user(UserName=f"{n}-{unique}")
        iam.add_user_to_group(GroupName=f"DEVS-{unique}", UserName=f"{n}-{unique}")
    got = iam.get_group(GroupName=f"devs-{unique}")
    assert sorted(u["UserName"] for u in got["Users"]) == [f"a-{unique}", f"b-{unique}"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=f"a-{unique}")["Groups"]] == [f"devs-{unique}"]
    code, message, _ = error(iam.delete_group, GroupName=f"devs-{unique}")
    assert (code, message) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.")
    for n in ("a", "b"):
        iam.remove_user_from_group(GroupName=f"devs-{unique}", UserName=f"{n}-{unique}")
    iam.delete_group(GroupName=f"devs-{unique}")
    assert error(iam.get_group, GroupName=f"devs-{unique}")[1] == f"The group with name devs-{unique} cannot be found."


def test_renaming_a_group_keeps_its_members(iam, unique):
    iam.create_group(GroupName=f"ops-{unique}")
    iam.create_user(UserName=f"member-{unique}")
    iam.add_user_to_group(GroupName=f"ops-{unique}", UserName=f"member-{unique}")
    iam.update_group(GroupName=f"ops-{unique}", NewGroupName=f"sre-{unique}")
    assert [u["UserName"] for u in iam.get_group(GroupName=f"sre-{unique}")["Users"]] == [f"member-{unique}"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=f"member-{unique}")["Groups"]] == [f"sre-{unique}"]


# Roles


def test_a_role_trust_policy_comes_back_as_a_dict(ingot, iam, unique):
    role = make_role(iam, f"app-{unique}", Description="app role", MaxSessionDuration=7200)
    assert role["Arn"] == f"arn:aws:iam::{ingot.account}:role/app-{unique}"
    assert role["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName=f"app-{unique}")["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST_EC2
    assert (got["Description"], got["MaxSessionDuration"]) == ("app role", 7200)
    assert "RoleLastUsed" in got
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == f"app-{unique}"]
    assert listed[0]["AssumeRolePolicyDocument"] == TRUST_EC2


def test_the_cli_shows_documents_as_json(ingot, iam, unique):
    make_role(iam, f"cli-{unique}")
    out = json.loads(ingot.cli("iam", "get-role", "--role-name", f"cli-{unique}").stdout)
    assert out["Role"]["AssumeRolePolicyDocument"] == TRUST_EC2


def test_a_raw_response_carries_the_document_url_encoded(ingot, iam, unique):
    make_role(iam, f"raw-{unique}")
    iam.meta.events.register_first("before-parse.iam.GetRole", capture := RawCapture())
    try:
        iam.get_role(RoleName=f"raw-{unique}")
    finally:
        iam.meta.events.unregister("before-parse.iam.GetRole", capture)
    assert b"<AssumeRolePolicyDocument>%7B%22Version%22%3A%20%222012-10-17%22" in capture.body


class RawCapture:
    def __init__(self):
        self.body = b""

    def __call__(self, response_dict=None, **kwargs):
        self.body = response_dict["body"]


def test_role_names_are_unique_whatever_their_case(iam, unique):
    make_role(iam, f"Svc-{unique}")
    code, message, _ = error(make_role, iam, f"svc-{unique}")
    assert (code, message) == ("EntityAlreadyExists", f"Role with name svc-{unique} already exists.")


def test_a_trust_policy_naming_an_unknown_role_is_malformed(ingot, iam, unique):
    missing = f"arn:aws:iam::{ingot.account}:role/nobody-{unique}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": missing}, "Action": "sts:AssumeRole"}]}
    code, message, status = error(iam.create_role, RoleName=f"t-{unique}", AssumeRolePolicyDocument=json.dumps(trust))
    assert (code, message, status) == ("MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{missing}"', 400)
    existing = make_role(iam, f"exists-{unique}")["Arn"]
    trust["Statement"][0]["Principal"]["AWS"] = [existing, ingot.account, f"arn:aws:iam::{ingot.account}:root"]
    iam.create_role(RoleName=f"t-{unique}", AssumeRolePolicyDocument=json.dumps(trust))


def test_a_trust_policy_that_is_not_json_is_invalid_json(iam, unique):
    code, message, _ = error(iam.create_role, RoleName=f"bad-{unique}", AssumeRolePolicyDocument="{not json")
    assert (code, message) == ("MalformedPolicyDocument", "This policy contains invalid Json")
    make_role(iam, f"upd-{unique}")
    code, message, _ = error(iam.update_assume_role_policy, RoleName=f"upd-{unique}", PolicyDocument="{not json")
    assert (code, message) == ("MalformedPolicyDocument", "This policy contains invalid Json")


def test_a_role_with_policies_or_an_instance_profile_cannot_be_deleted(iam, unique):
    name = f"busy-role-{unique}"
    make_role(iam, name)
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy())
    assert error(iam.delete_role, RoleName=name)[1] == "Cannot delete entity, must delete policies first."
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert error(iam.delete_role, RoleName=name)[1] == "Cannot delete entity, must detach all policies first."
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.create_instance_profile(InstanceProfileName=f"busy-ip-{unique}")
    iam.add_role_to_instance_profile(InstanceProfileName=f"busy-ip-{unique}", RoleName=name)
    code, message, _ = error(iam.delete_role, RoleName=name)
    assert (code, message) == ("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
    iam.remove_role_from_instance_profile(InstanceProfileName=f"busy-ip-{unique}", RoleName=name)
    iam.delete_role(RoleName=name)
    assert error(iam.get_role, RoleName=name)[1] == f"The role with name {name} cannot be found."


def test_a_role_can_be_updated_and_tagged(iam, unique):
    name = f"upd-role-{unique}"
    make_role(iam, name)
    iam.update_role(RoleName=name, Description="new", MaxSessionDuration=3600 * 4)
    described = iam.update_role_description(RoleName=name, Description="newer")["Role"]
    assert described["Description"] == "newer"
    iam.tag_role(RoleName=name, Tags=[{"Key": "k", "Value": "v"}])
    role = iam.get_role(RoleName=name)["Role"]
    assert (role["MaxSessionDuration"], role["Tags"]) == (14400, [{"Key": "k", "Value": "v"}])
    iam.untag_role(RoleName=name, TagKeys=["k"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == []


# Managed policies


def test_a_customer_managed_policy_keeps_versions_with_documents_as_dicts(ingot, iam, unique):
    created = iam.create_policy(PolicyName=f"pol-{unique}", Path="/app/", PolicyDocument=policy("s3:GetObject"),
                                Description="d", Tags=[{"Key": "k", "Value": "v"}])["Policy"]
    arn = created["Arn"]
    assert arn == f"arn:aws:iam::{ingot.account}:policy/app/pol-{unique}"
    assert (created["DefaultVersionId"], created["AttachmentCount"], created["IsAttachable"]) == ("v1", 0, True)
    assert created["PolicyId"].startswith("ANPA")
    version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy("s3:PutObject"), SetAsDefault=True)
    assert version["PolicyVersion"]["VersionId"] == "v2" and version["PolicyVersion"]["IsDefaultVersion"]
    assert "Document" not in version["PolicyVersion"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert got["Document"] == json.loads(policy("s3:GetObject"))
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v2", "v1"]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    code, message, _ = error(iam.delete_policy_version, PolicyArn=arn, VersionId="v1")
    assert (code, message) == ("DeleteConflict", "Cannot delete the default version of a policy.")
    code, message, _ = error(iam.delete_policy, PolicyArn=arn)
    assert code == "DeleteConflict" and message.startswith("This policy has more than one version.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy(PolicyArn=arn)
    code, message, _ = error(iam.get_policy, PolicyArn=arn)
    assert (code, message) == ("NoSuchEntity", f"Policy {arn} was not found.")


def test_a_sixth_policy_version_exceeds_the_limit(iam, unique):
    arn = iam.create_policy(PolicyName=f"five-{unique}", PolicyDocument=policy())["Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy())
    code, message, status = error(iam.create_policy_version, PolicyArn=arn, PolicyDocument=policy())
    assert (code, status) == ("LimitExceeded", 409)
    assert message == ("A managed policy can have up to 5 versions. Before you create a new version, "
                       "you must delete an existing version.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy())["PolicyVersion"]["VersionId"] == "v6"


def test_policy_names_are_unique_whatever_their_path(iam, unique):
    iam.create_policy(PolicyName=f"dup-{unique}", PolicyDocument=policy())
    code, message, _ = error(iam.create_policy, PolicyName=f"DUP-{unique}", Path="/other/", PolicyDocument=policy())
    assert (code, message) == ("EntityAlreadyExists",
                               f"A policy called DUP-{unique} already exists. Duplicate names are not allowed.")


def test_malformed_policy_documents_are_refused_with_aws_texts(iam, unique):
    with_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    cases = [
        ("{nope", "Syntax errors in policy."),
        (with_principal, "Policy document should not specify a principal."),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
         "Policy statement must contain actions."),
    ]
    iam.create_user(UserName=f"bad-{unique}")
    for document, text in cases:
        code, message, status = error(iam.create_policy, PolicyName=f"bad-{unique}", PolicyDocument=document)
        assert (code, message, status) == ("MalformedPolicyDocument", text, 400)
        code, message, _ = error(iam.put_user_policy, UserName=f"bad-{unique}", PolicyName="p", PolicyDocument=document)
        assert (code, message) == ("MalformedPolicyDocument", text)


def test_oversized_policies_exceed_their_quotas(iam, unique):
    big = policy(action=[f"s3:GetObject{i:04d}" for i in range(400)])
    code, message, _ = error(iam.create_policy, PolicyName=f"big-{unique}", PolicyDocument=big)
    assert (code, message) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
    iam.create_user(UserName=f"big-{unique}")
    medium = policy(action=[f"s3:GetObject{i:03d}" for i in range(130)])
    code, message, _ = error(iam.put_user_policy, UserName=f"big-{unique}", PolicyName="p", PolicyDocument=medium)
    assert (code, message) == ("LimitExceeded", f"Maximum policy size of 2048 bytes exceeded for user big-{unique}")
    make_role(iam, f"big-{unique}")
    iam.put_role_policy(RoleName=f"big-{unique}", PolicyName="p", PolicyDocument=medium)


def test_attachments_count_on_the_policy_and_block_its_deletion(iam, unique):
    arn = iam.create_policy(PolicyName=f"att-{unique}", PolicyDocument=policy())["Policy"]["Arn"]
    iam.create_user(UserName=f"att-{unique}")
    iam.create_group(GroupName=f"att-{unique}")
    make_role(iam, f"att-{unique}")
    iam.attach_user_policy(UserName=f"att-{unique}", PolicyArn=arn)
    iam.attach_user_policy(UserName=f"att-{unique}", PolicyArn=arn)
    iam.attach_group_policy(GroupName=f"att-{unique}", PolicyArn=arn)
    iam.attach_role_policy(RoleName=f"att-{unique}", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    assert iam.list_attached_user_policies(UserName=f"att-{unique}")["AttachedPolicies"] == [
        {"PolicyName": f"att-{unique}", "PolicyArn": arn}]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [f"att-{unique}"]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [f"att-{unique}"]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [f"att-{unique}"]
    code, message, _ = error(iam.delete_policy, PolicyArn=arn)
    assert (code, message) == ("DeleteConflict", "Cannot delete a policy attached to entities.")
    iam.detach_user_policy(UserName=f"att-{unique}", PolicyArn=arn)
    iam.detach_group_policy(GroupName=f"att-{unique}", PolicyArn=arn)
    iam.detach_role_policy(RoleName=f"att-{unique}", PolicyArn=arn)
    code, message, _ = error(iam.detach_role_policy, RoleName=f"att-{unique}", PolicyArn=arn)
    assert (code, message) == ("NoSuchEntity", f"Policy {arn} was not found.")
    iam.delete_policy(PolicyArn=arn)


def test_attaching_an_unknown_policy_is_no_such_entity(iam, unique):
    make_role(iam, f"unk-{unique}")
    arn = "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"
    code, message, status = error(iam.attach_role_policy, RoleName=f"unk-{unique}", PolicyArn=arn)
    assert (code, message, status) == ("NoSuchEntity", f"Policy {arn} does not exist or is not attachable.", 404)


def test_an_eleventh_managed_policy_exceeds_the_quota_of_a_role(iam, unique):
    make_role(iam, f"ten-{unique}")
    arns = [iam.create_policy(PolicyName=f"ten-{unique}-{i}", PolicyDocument=policy())["Policy"]["Arn"] for i in range(11)]
    for arn in arns[:10]:
        iam.attach_role_policy(RoleName=f"ten-{unique}", PolicyArn=arn)
    code, message, _ = error(iam.attach_role_policy, RoleName=f"ten-{unique}", PolicyArn=arns[10])
    assert (code, message) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10")


def test_aws_managed_policies_are_listed_attached_and_counted(iam, unique):
    aws = iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]
    admin = [p for p in aws if p["PolicyName"] == "AdministratorAccess"]
    assert admin and admin[0]["Arn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    make_role(iam, f"aws-{unique}")
    iam.attach_role_policy(RoleName=f"aws-{unique}", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess")
    attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    ssm = [p for p in attached if p["PolicyName"] == "AmazonSSMReadOnlyAccess"]
    assert ssm and ssm[0]["AttachmentCount"] >= 1
    local = iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]
    assert all(not p["Arn"].startswith("arn:aws:iam::aws:") for p in local)


def test_aws_managed_policies_can_be_read_with_their_default_version(iam):
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    try:
        got = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "AccessDenied":
            pytest.skip("needs the IAM authorizer to treat the account `aws` of AWS managed policies as public")
        raise
    assert got["PolicyName"] == "AdministratorAccess"
    version = iam.get_policy_version(PolicyArn=arn, VersionId=got["DefaultVersionId"])["PolicyVersion"]
    assert version["Document"]["Statement"][0]["Action"] == "*"


def test_permissions_boundaries_are_set_counted_and_removed(iam, unique):
    arn = iam.create_policy(PolicyName=f"bound-{unique}", PolicyDocument=policy("s3:*"))["Policy"]["Arn"]
    user = iam.create_user(UserName=f"bound-{unique}", PermissionsBoundary=arn)["User"]
    assert user["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                           "PermissionsBoundaryArn": arn}
    make_role(iam, f"bound-{unique}")
    iam.put_role_permissions_boundary(RoleName=f"bound-{unique}", PermissionsBoundary=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 2
    assert error(iam.delete_policy, PolicyArn=arn)[0] == "DeleteConflict"
    iam.delete_role_permissions_boundary(RoleName=f"bound-{unique}")
    iam.delete_user_permissions_boundary(UserName=f"bound-{unique}")
    assert "PermissionsBoundary" not in iam.get_role(RoleName=f"bound-{unique}")["Role"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["PermissionsBoundaryUsageCount"] == 0
    missing = f"{arn}-missing"
    assert error(iam.create_user, UserName=f"bound2-{unique}", PermissionsBoundary=missing)[0] == "NoSuchEntity"


def test_policy_tags_are_added_and_removed(iam, unique):
    arn = iam.create_policy(PolicyName=f"ptag-{unique}", PolicyDocument=policy())["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []


# Inline policies


def test_inline_policies_come_back_as_dicts_and_are_listed_by_name(iam, unique):
    iam.create_user(UserName=f"inl-{unique}")
    iam.create_group(GroupName=f"inl-{unique}")
    make_role(iam, f"inl-{unique}")
    document = policy("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/a b")
    for put, get, lst, kind in [
        (iam.put_user_policy, iam.get_user_policy, iam.list_user_policies, "UserName"),
        (iam.put_group_policy, iam.get_group_policy, iam.list_group_policies, "GroupName"),
        (iam.put_role_policy, iam.get_role_policy, iam.list_role_policies, "RoleName"),
    ]:
        put(**{kind: f"inl-{unique}"}, PolicyName="zeta", PolicyDocument=document)
        put(**{kind: f"inl-{unique}"}, PolicyName="alpha", PolicyDocument=policy())
        got = get(**{kind: f"inl-{unique}"}, PolicyName="zeta")
        assert got["PolicyDocument"] == json.loads(document)
        assert got[kind] == f"inl-{unique}"
        assert lst(**{kind: f"inl-{unique}"})["PolicyNames"] == ["alpha", "zeta"]
    code, message, _ = error(iam.get_role_policy, RoleName=f"inl-{unique}", PolicyName="missing")
    assert (code, message) == ("NoSuchEntity", "The role policy with name missing cannot be found.")
    iam.delete_user_policy(UserName=f"inl-{unique}", PolicyName="zeta")
    assert iam.list_user_policies(UserName=f"inl-{unique}")["PolicyNames"] == ["alpha"]


# Instance profiles


def test_an_instance_profile_holds_one_role(ingot, iam, unique):
    profile = iam.create_instance_profile(InstanceProfileName=f"ip-{unique}", Path="/ec2/",
                                          Tags=[{"Key": "k", "Value": "v"}])["InstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{ingot.account}:instance-profile/ec2/ip-{unique}"
    assert profile["InstanceProfileId"].startswith("AIPA") and profile["Roles"] == []
    make_role(iam, f"ip-a-{unique}")
    make_role(iam, f"ip-b-{unique}")
    iam.add_role_to_instance_profile(InstanceProfileName=f"ip-{unique}", RoleName=f"ip-a-{unique}")
    got = iam.get_instance_profile(InstanceProfileName=f"ip-{unique}")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [f"ip-a-{unique}"]
    assert got["Roles"][0]["AssumeRolePolicyDocument"] == TRUST_EC2
    code, message, _ = error(iam.add_role_to_instance_profile, InstanceProfileName=f"ip-{unique}",
                             RoleName=f"ip-b-{unique}")
    assert (code, message) == ("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    for_role = iam.list_instance_profiles_for_role(RoleName=f"ip-a-{unique}")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in for_role] == [f"ip-{unique}"]
    code, message, _ = error(iam.delete_instance_profile, InstanceProfileName=f"ip-{unique}")
    assert (code, message) == ("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
    iam.remove_role_from_instance_profile(InstanceProfileName=f"ip-{unique}", RoleName=f"ip-a-{unique}")
    assert iam.list_instance_profile_tags(InstanceProfileName=f"ip-{unique}")["Tags"] == [{"Key": "k", "Value": "v"}]
    assert f"ip-{unique}" in [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/ec2/")["InstanceProfiles"]]
    iam.delete_instance_profile(InstanceProfileName=f"ip-{unique}")
    code, message, _ = error(iam.get_instance_profile, InstanceProfileName=f"ip-{unique}")
    assert (code, message) == ("NoSuchEntity", f"Instance Profile ip-{unique} cannot be found.")


def test_instance_profile_names_are_unique(iam, unique):
    iam.create_instance_profile(InstanceProfileName=f"dupip-{unique}")
    code, message, _ = error(iam.create_instance_profile, InstanceProfileName=f"DUPIP-{unique}")
    assert (code, message) == ("EntityAlreadyExists", f"Instance Profile DUPIP-{unique} already exists.")


# Service-linked roles


def test_a_service_linked_role_lives_at_the_service_path_and_only_aws_changes_it(ingot, iam):
    role = iam.create_service_linked_role(AWSServiceName="imagebuilder.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForImageBuilder"
    assert role["Path"] == "/aws-service-role/imagebuilder.amazonaws.com/"
    assert role["Arn"] == (f"arn:aws:iam::{ingot.account}:role/aws-service-role/imagebuilder.amazonaws.com/"
                           "AWSServiceRoleForImageBuilder")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "imagebuilder.amazonaws.com"}
    expected = ("Cannot perform the operation on the protected role 'AWSServiceRoleForImageBuilder' "
                "- this role is only modifiable by AWS")
    for call, kwargs in [
        (iam.delete_role, {}),
        (iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": policy()}),
        (iam.attach_role_policy, {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        (iam.update_assume_role_policy, {"PolicyDocument": json.dumps(TRUST_EC2)}),
    ]:
        code, message, status = error(call, RoleName="AWSServiceRoleForImageBuilder", **kwargs)
        assert (code, message, status) == ("UnmodifiableEntity", expected, 400)
    code, message, _ = error(iam.create_service_linked_role, AWSServiceName="imagebuilder.amazonaws.com")
    assert (code, message) == ("InvalidInput", "Service role name AWSServiceRoleForImageBuilder has been taken in "
                                               "this account, please try a different suffix.")


def test_a_service_linked_role_is_deleted_by_a_task_that_succeeds(iam):
    iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="web")
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling_web")["DeletionTaskId"]
    assert task.startswith("task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_web/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    assert error(iam.get_role, RoleName="AWSServiceRoleForAutoScaling_web")[0] == "NoSuchEntity"


def test_service_linked_roles_refuse_unknown_services_and_unsupported_suffixes(iam):
    assert error(iam.create_service_linked_role, AWSServiceName="nothing.amazonaws.com")[0] == "InvalidInput"
    code, message, _ = error(iam.create_service_linked_role, AWSServiceName="ssm.amazonaws.com", CustomSuffix="x")
    assert (code, message) == ("InvalidInput", "Custom suffix is not allowed for ssm.amazonaws.com")


# Authorization details


def test_account_authorization_details_list_entities_and_policies_with_dict_documents(iam, unique):
    iam.create_user(UserName=f"gaad-{unique}")
    iam.put_user_policy(UserName=f"gaad-{unique}", PolicyName="inline", PolicyDocument=policy("s3:ListBucket"))
    iam.create_group(GroupName=f"gaad-{unique}")
    iam.add_user_to_group(GroupName=f"gaad-{unique}", UserName=f"gaad-{unique}")
    make_role(iam, f"gaad-{unique}")
    iam.attach_role_policy(RoleName=f"gaad-{unique}", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    arn = iam.create_policy(PolicyName=f"gaad-{unique}", PolicyDocument=policy())["Policy"]["Arn"]

    details = iam.get_account_authorization_details()
    user = next(u for u in details["UserDetailList"] if u["UserName"] == f"gaad-{unique}")
    assert user["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": json.loads(policy("s3:ListBucket"))}]
    assert user["GroupList"] == [f"gaad-{unique}"]
    role = next(r for r in details["RoleDetailList"] if r["RoleName"] == f"gaad-{unique}")
    assert role["AssumeRolePolicyDocument"] == TRUST_EC2
    assert role["AttachedManagedPolicies"] == [
        {"PolicyName": "AmazonEC2ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"}]
    local = next(p for p in details["Policies"] if p["Arn"] == arn)
    assert local["PolicyVersionList"][0]["Document"] == json.loads(policy())
    assert any(p["PolicyName"] == "AmazonEC2ReadOnlyAccess" for p in details["Policies"])

    only_aws = iam.get_account_authorization_details(Filter=["AWSManagedPolicy"])
    assert only_aws["UserDetailList"] == [] and only_aws["RoleDetailList"] == []
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in only_aws["Policies"])

    pages = list(iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["User"], PaginationConfig={"PageSize": 1}))
    names = [u["UserName"] for p in pages for u in p["UserDetailList"]]
    assert f"gaad-{unique}" in names and len(names) == len(set(names)) and len(pages) > 1


# Simulation


def test_simulation_allows_only_the_resource_a_users_policy_names(ingot, iam, unique):
    name = f"sim-{unique}"
    user = iam.create_user(UserName=name)["User"]
    allowed = f"arn:aws:ssm:us-east-1:{ingot.account}:parameter/app/{unique}"
    other = f"arn:aws:ssm:us-east-1:{ingot.account}:parameter/other"
    iam.put_user_policy(UserName=name, PolicyName="read-one", PolicyDocument=policy("ssm:GetParameter", allowed))
    results = iam.simulate_principal_policy(PolicySourceArn=user["Arn"], ActionNames=["ssm:GetParameter"],
                                            ResourceArns=[allowed, other])["EvaluationResults"]
    decisions = {r["EvalResourceName"]: r["EvalDecision"] for r in results}
    assert decisions == {allowed: "allowed", other: "implicitDeny"}
    matched = next(r for r in results if r["EvalResourceName"] == allowed)["MatchedStatements"]
    assert matched[0]["SourcePolicyId"] == "read-one" and matched[0]["SourcePolicyType"] == "user"


def test_an_explicit_deny_wins_in_simulation(ingot, iam, unique):
    name = f"simdeny-{unique}"
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="allow-all", PolicyDocument=policy("ssm:*"))
    iam.create_group(GroupName=name)
    iam.add_user_to_group(GroupName=name, UserName=name)
    iam.put_group_policy(GroupName=name, PolicyName="deny-get", PolicyDocument=policy("ssm:GetParameter", effect="Deny"))
    results = iam.simulate_principal_policy(PolicySourceArn=user["Arn"],
                                            ActionNames=["ssm:GetParameter", "ssm:PutParameter"])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"ssm:GetParameter": "explicitDeny", "ssm:PutParameter": "allowed"}
    denied = next(r for r in results if r["EvalActionName"] == "ssm:GetParameter")
    assert denied["MatchedStatements"][0]["SourcePolicyType"] == "group"


def test_simulating_custom_policies_with_the_cli(ingot):
    out = json.loads(ingot.cli(
        "iam", "simulate-custom-policy",
        "--policy-input-list", policy("s3:GetObject", "arn:aws:s3:::bucket/*"),
        "--action-names", "s3:GetObject", "s3:PutObject",
        "--resource-arns", "arn:aws:s3:::bucket/key",
    ).stdout)
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}


def test_simulation_reports_missing_context_values(ingot, iam):
    conditional = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})
    missing = iam.simulate_custom_policy(PolicyInputList=[conditional], ActionNames=["s3:GetObject"])
    result = missing["EvaluationResults"][0]
    assert result["EvalDecision"] == "implicitDeny"
    assert [k.lower() for k in result["MissingContextValues"]] == ["aws:principaltag/team"]
    given = iam.simulate_custom_policy(PolicyInputList=[conditional], ActionNames=["s3:GetObject"], ContextEntries=[
        {"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["blue"], "ContextKeyType": "string"}])
    assert given["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_simulation_of_named_resources_reports_each_resources_result(ingot, iam):
    conditional = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]})
    out = iam.simulate_custom_policy(PolicyInputList=[conditional], ActionNames=["s3:GetObject"],
                                     ResourceArns=["arn:aws:s3:::bucket/key"])
    result = out["EvaluationResults"][0]
    assert result["EvalResourceName"] == "arn:aws:s3:::bucket/key"
    assert result["MissingContextValues"] == []
    [specific] = result["ResourceSpecificResults"]
    assert specific["EvalResourceName"] == "arn:aws:s3:::bucket/key"
    assert specific["EvalResourceDecision"] == "implicitDeny"
    assert [k.lower() for k in specific["MissingContextValues"]] == ["aws:principaltag/team"]


# Account alias


def test_an_account_has_at_most_one_alias_and_a_new_one_replaces_it(iam, unique):
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias=f"first-{unique}")
    iam.create_account_alias(AccountAlias=f"first-{unique}")  # again: nothing changes
    assert iam.list_account_aliases()["AccountAliases"] == [f"first-{unique}"]
    iam.create_account_alias(AccountAlias=f"second-{unique}")
    listed = iam.list_account_aliases()
    assert (listed["AccountAliases"], listed["IsTruncated"]) == ([f"second-{unique}"], False)
    assert error(iam.delete_account_alias, AccountAlias=f"first-{unique}") == (
        "NoSuchEntity", f"The account alias first-{unique} cannot be found.", 404)
    iam.delete_account_alias(AccountAlias=f"second-{unique}")
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_an_alias_must_be_lower_case_letters_digits_and_single_inner_dashes(iam):
    pattern = "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"
    for alias in ["Upper-case", "two--dashes", "-leading", "trailing-", "under_score"]:
        assert error(iam.create_account_alias, AccountAlias=alias) == (
            "ValidationError",
            f"1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}", 400)
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_an_alias_belongs_to_one_account_until_that_account_gives_it_up(fresh_ingot, unique):
    from org_support import member_session

    management = fresh_ingot.client("iam")
    member = member_session(fresh_ingot, unique).client("iam")
    management.create_account_alias(AccountAlias=f"corp-{unique}")
    assert error(member.create_account_alias, AccountAlias=f"corp-{unique}") == (
        "EntityAlreadyExists", f"The account alias corp-{unique} already exists.", 409)
    assert member.list_account_aliases()["AccountAliases"] == []
    # Replacing the alias frees the old one for the member.
    management.create_account_alias(AccountAlias=f"corp-new-{unique}")
    member.create_account_alias(AccountAlias=f"corp-{unique}")
    assert member.list_account_aliases()["AccountAliases"] == [f"corp-{unique}"]
    assert management.list_account_aliases()["AccountAliases"] == [f"corp-new-{unique}"]


def test_a_user_without_permission_cannot_read_or_change_the_alias(ingot, iam, unique):
    iam.create_user(UserName=f"alias-{unique}")
    client = user_client(ingot, iam, f"alias-{unique}")
    for call, kwargs, action in [
        (client.list_account_aliases, {}, "ListAccountAliases"),
        (client.create_account_alias, {"AccountAlias": f"denied-{unique}"}, "CreateAccountAlias"),
    ]:
        code, message, status = error(call, **kwargs)
        assert (code, status) == ("AccessDenied", 403)
        assert f"is not authorized to perform: iam:{action} on resource: *" in message, message
    iam.put_user_policy(UserName=f"alias-{unique}", PolicyName="aliases",
                        PolicyDocument=policy(["iam:ListAccountAliases", "iam:CreateAccountAlias"]))
    client.create_account_alias(AccountAlias=f"allowed-{unique}")
    assert client.list_account_aliases()["AccountAliases"] == [f"allowed-{unique}"]
    iam.delete_account_alias(AccountAlias=f"allowed-{unique}")


# The CLI


def test_the_cli_creates_users_and_lists_them(ingot, unique):
    out = json.loads(ingot.cli("iam", "create-user", "--user-name", f"cli-{unique}").stdout)
    assert out["User"]["UserName"] == f"cli-{unique}"
    users = json.loads(ingot.cli("iam", "list-users").stdout)["Users"]
    assert f"cli-{unique}" in [u["UserName"] for u in users]
    failed = ingot.cli("iam", "get-user", "--user-name", f"nobody-{unique}", check=False)
    assert failed.returncode != 0 and "NoSuchEntity" in failed.stderr


# Users acting with their own keys (decided by the IAM authorizer)


def test_a_user_without_policies_is_denied(ingot, iam, unique):
    name = f"nopol-{unique}"
    iam.create_user(UserName=name)
    client = user_client(ingot, iam, name)
    code, message, status = error(client.list_users)
    assert (code, status) == ("AccessDenied", 403)
    assert f"user/{name} is not authorized to perform: iam:ListUsers" in message


def test_a_user_allowed_to_list_users_can_list_them(ingot, iam, unique):
    name = f"lister-{unique}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="list", PolicyDocument=policy("iam:ListUsers"))
    client = user_client(ingot, iam, name)
    try:
        users = client.list_users()["Users"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "AccessDenied":
            pytest.skip("needs the IAM authorizer")
        raise
    assert name in [u["UserName"] for u in users]
    assert error(client.create_user, UserName=f"x-{unique}")[0] == "AccessDenied"


def test_a_user_creates_and_rotates_its_own_access_keys_when_allowed(ingot, iam, unique):
    name = f"self-{unique}"
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="own-keys", PolicyDocument=policy(
        ["iam:CreateAccessKey", "iam:ListAccessKeys", "iam:GetUser"], user["Arn"]))
    client = user_client(ingot, iam, name)
    try:
        me = client.get_user()["User"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "AccessDenied":
            pytest.skip("needs the IAM authorizer")
        raise
    assert me["Arn"] == user["Arn"]
    second = client.create_access_key()["AccessKey"]
    assert second["UserName"] == name
    assert len(client.list_access_keys()["AccessKeyMetadata"]) == 2


def served_iam_operations():
    lines = (pathlib.Path(__file__).resolve().parents[1] / "codegen" / "operations.txt").read_text().splitlines()
    start = lines.index("service iam model=iam") + 1
    ops = []
    for line in lines[start:]:
        if line.startswith("service "):
            break
        if line.strip():
            ops.append(line.strip())
    return ops


def sample(shape, name=""):
    """The smallest value of `shape` that botocore and the model accept."""
    if shape.type_name == "structure":
        return {m: sample(s, m) for m, s in shape.members.items() if m in shape.required_members}
    if shape.type_name == "list":
        return [sample(shape.member, name)]
    if shape.type_name in ("integer", "long"):
        return shape.metadata.get("min", 1)
    if shape.type_name == "boolean":
        return False
    if shape.enum:
        return shape.enum[0]
    if name.endswith("Arn") or name == "PolicySourceArn":
        return "arn:aws:iam::123456789012:role/sweep"
    if "Path" in name:
        return "/"
    if "Document" in name or name == "PolicyInputList":
        return "sweep"
    if name == "AWSServiceName":
        return "ssm.amazonaws.com"
    if name == "AccessKeyId":
        return "AKIASWEEPSWEEPSWEEP1"
    if name == "VersionId":
        return "v1"
    if name == "DeletionTaskId":
        return "task/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM/sweep"
    value = "sweep"
    return value + "a" * max(0, shape.metadata.get("min", 1) - len(value))


def test_every_served_iam_operation_denies_a_user_without_policies(ingot, iam, unique):
    name = f"sweep-{unique}"
    iam.create_user(UserName=name)
    client = user_client(ingot, iam, name)
    model = client.meta.service_model
    refused = []
    for operation in served_iam_operations():
        op = model.operation_model(operation)
        params = sample(op.input_shape) if op.input_shape else {}
        method = getattr(client, xform_name(operation))
        try:
            method(**params)
            refused.append((operation, "succeeded"))
        except ClientError as e:
            if e.response["Error"]["Code"] != "AccessDenied":
                refused.append((operation, e.response["Error"]["Code"], e.response["Error"].get("Message")))
    assert refused == []
    assert iam.list_users(PathPrefix="/sweep/")["Users"] == []
