"""Service condition keys reach the policy engine: a parameter's own tags (`aws:ResourceTag/*`), the tags a
request sets (`aws:RequestTag/*`, `aws:TagKeys`), compared with the caller's tags (`aws:PrincipalTag/*`),
as attribute-based access control policies use them."""

import json

import pytest
from botocore.exceptions import ClientError


def user(ingot, name, policy, tags=()):
    iam = ingot.client("iam")
    iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags])
    iam.put_user_policy(UserName=name, PolicyName="abac", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return ingot.client("ssm", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])


def test_a_user_reads_only_parameters_tagged_with_its_own_team(ingot, unique):
    admin = ingot.client("ssm")
    admin.put_parameter(Name=f"/abac/{unique}/blue", Value="b", Type="String", Tags=[{"Key": "team", "Value": "blue"}])
    admin.put_parameter(Name=f"/abac/{unique}/red", Value="r", Type="String", Tags=[{"Key": "team", "Value": "red"}])
    ssm = user(ingot, f"blue-{unique}", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]},
        tags=[("team", "blue")])
    assert ssm.get_parameter(Name=f"/abac/{unique}/blue")["Parameter"]["Value"] == "b"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=f"/abac/{unique}/red")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_creating_a_parameter_requires_the_tags_the_policy_demands(ingot, unique):
    ssm = user(ingot, f"tagger-{unique}", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ssm:PutParameter", "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/cost-center": "42"},
                      "ForAllValues:StringEquals": {"aws:TagKeys": ["cost-center", "owner"]}}}]})
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=f"/tagged/{unique}/a", Value="v", Type="String")
    assert "because no identity-based policy allows the ssm:PutParameter action" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        ssm.put_parameter(Name=f"/tagged/{unique}/a", Value="v", Type="String",
                          Tags=[{"Key": "cost-center", "Value": "42"}, {"Key": "secret", "Value": "x"}])
    ssm.put_parameter(Name=f"/tagged/{unique}/a", Value="v", Type="String",
                      Tags=[{"Key": "cost-center", "Value": "42"}, {"Key": "owner", "Value": "me"}])


def test_an_explicit_deny_on_a_tag_key_blocks_removing_it(ingot, unique):
    ingot.client("ssm").put_parameter(Name=f"/guarded/{unique}", Value="v", Type="String",
                                      Tags=[{"Key": "owner", "Value": "platform"}])
    ssm = user(ingot, f"untagger-{unique}", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:RemoveTagsFromResource", "ssm:AddTagsToResource"], "Resource": "*"},
        {"Effect": "Deny", "Action": "ssm:RemoveTagsFromResource", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}}]})
    with pytest.raises(ClientError) as e:
        ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=f"/guarded/{unique}", TagKeys=["owner"])
    assert "with an explicit deny in an identity-based policy" in e.value.response["Error"]["Message"]
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=f"/guarded/{unique}",
                             Tags=[{"Key": "note", "Value": "x"}])
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=f"/guarded/{unique}", TagKeys=["note"])
