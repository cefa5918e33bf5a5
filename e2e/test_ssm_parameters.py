"""Parameter Store with boto3 and the AWS CLI: types, data types, tiers, versions, labels,
SecureString, public parameters, tags and deletion."""

import json

import pytest
from botocore.exceptions import ClientError

from ec2_support import public_ami_id, wait_for

AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def error_of(excinfo):
    return excinfo.value.response["Error"]


def test_cli_puts_an_image_parameter_in_the_advanced_tier(ingot, unique):
    name = f"/e2e/{unique}/golden/linux"
    image_id = public_ami_id("us-east-1")
    out = json.loads(ingot.cli("ssm", "put-parameter", "--name", name, "--type", "String",
                               "--value", image_id, "--data-type", "aws:ec2:image",
                               "--tier", "Advanced").stdout)
    assert out == {"Version": 1, "Tier": "Advanced"}
    got = json.loads(ingot.cli("ssm", "get-parameter", "--name", name).stdout)["Parameter"]
    assert got["DataType"] == "aws:ec2:image"
    assert got["Value"] == image_id


def test_an_image_parameter_naming_no_usable_image_is_taken_back_after_the_put(ingot, unique):
    ssm = ingot.client("ssm")
    kept, missing = public_ami_id("us-east-1"), "ami-0123456789abcdef0"
    created = f"/e2e/{unique}/golden/never"
    # AWS answers at once and checks the image afterwards: the parameter is then not created.
    assert ssm.put_parameter(Name=created, Type="String", DataType="aws:ec2:image", Value=missing)["Version"] == 1
    assert wait_for(lambda: not ssm.get_parameters(Names=[created])["Parameters"], timeout=10)
    # An update naming no usable image leaves the version before it current.
    updated = f"/e2e/{unique}/golden/kept"
    ssm.put_parameter(Name=updated, Type="String", DataType="aws:ec2:image", Value=kept)
    assert ssm.put_parameter(Name=updated, Type="String", DataType="aws:ec2:image", Value=missing,
                             Overwrite=True)["Version"] == 2
    assert wait_for(lambda: ssm.get_parameter(Name=updated)["Parameter"]["Version"] == 1, timeout=10)
    assert ssm.get_parameter(Name=updated)["Parameter"]["Value"] == kept
    assert [h["Version"] for h in ssm.get_parameter_history(Name=updated)["Parameters"]] == [1]


def test_cli_refuses_an_image_parameter_that_is_not_an_ami_id(ingot, unique):
    result = ingot.cli("ssm", "put-parameter", "--name", f"/e2e/{unique}/bad-ami", "--type", "String",
                       "--value", "ubuntu-22.04", "--data-type", "aws:ec2:image", check=False)
    assert result.returncode != 0
    assert "ValidationException" in result.stderr


def test_cli_labels_a_version_and_reads_it_through_the_label(ingot, unique):
    name = f"/e2e/{unique}/app/image"
    ingot.cli("ssm", "put-parameter", "--name", name, "--type", "String", "--value", "ami-11111111")
    ingot.cli("ssm", "put-parameter", "--name", name, "--type", "String", "--value", "ami-22222222", "--overwrite")
    out = json.loads(ingot.cli("ssm", "label-parameter-version", "--name", name, "--parameter-version", "2",
                               "--labels", "latest", "aws-reserved").stdout)
    assert out == {"InvalidLabels": ["aws-reserved"], "ParameterVersion": 2}
    got = json.loads(ingot.cli("ssm", "get-parameter", "--name", f"{name}:latest").stdout)["Parameter"]
    assert got["Value"] == "ami-22222222"
    assert got["Selector"] == ":latest"
    assert got["Version"] == 2
    first = json.loads(ingot.cli("ssm", "get-parameter", "--name", f"{name}:1").stdout)["Parameter"]
    assert first["Value"] == "ami-11111111"


def test_a_label_moves_between_versions(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/moving"
    ssm.put_parameter(Name=name, Value="one", Type="String")
    ssm.put_parameter(Name=name, Value="two", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["Prod"])
    assert ssm.get_parameter(Name=f"{name}:Prod")["Parameter"]["Value"] == "one"
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["Prod"])
    assert ssm.get_parameter(Name=f"{name}:Prod")["Parameter"]["Value"] == "two"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [h["Labels"] for h in history] == [[], ["Prod"]]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["Prod", "Other"])
    assert removed["RemovedLabels"] == ["Prod"]
    assert removed["InvalidLabels"] == ["Other"]


def test_a_missing_version_is_reported_with_aws_message(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/versions"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=f"{name}:4")
    assert error_of(e) == {
        "Code": "ParameterVersionNotFound",
        "Message": f"Systems Manager could not find version 4 of {name}. Verify the version and try again.",
    }


def test_get_parameter_not_found_has_an_empty_message(ingot, unique):
    with pytest.raises(ClientError) as e:
        ingot.client("ssm").get_parameter(Name=f"/e2e/{unique}/absent")
    assert error_of(e)["Code"] == "ParameterNotFound"
    assert error_of(e)["Message"] == ""


def test_get_parameters_splits_found_and_invalid_names(ingot, unique):
    ssm = ingot.client("ssm")
    ssm.put_parameter(Name=f"/e2e/{unique}/b", Value="B", Type="String")
    ssm.put_parameter(Name=f"/e2e/{unique}/a", Value="A", Type="String")
    out = ssm.get_parameters(Names=[f"/e2e/{unique}/b", f"/e2e/{unique}/zz", f"/e2e/{unique}/a"])
    assert [p["Name"] for p in out["Parameters"]] == [f"/e2e/{unique}/a", f"/e2e/{unique}/b"]
    assert out["InvalidParameters"] == [f"/e2e/{unique}/zz"]


def test_a_secure_string_round_trips_only_with_decryption(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/db/password"
    ssm.put_parameter(Name=name, Value="p@ssw0rd!", Type="SecureString")
    hidden = ssm.get_parameter(Name=name)["Parameter"]
    assert hidden["Type"] == "SecureString"
    assert hidden["Value"] != "p@ssw0rd!"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "p@ssw0rd!"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"][0]
    assert meta["KeyId"] == "alias/aws/ssm"
    cli = json.loads(ingot.cli("ssm", "get-parameter", "--name", name, "--with-decryption").stdout)
    assert cli["Parameter"]["Value"] == "p@ssw0rd!"


def test_a_secure_string_with_an_unknown_key_is_an_invalid_key_id(ingot, unique):
    with pytest.raises(ClientError) as e:
        ingot.client("ssm").put_parameter(Name=f"/e2e/{unique}/k", Value="x", Type="SecureString",
                                          KeyId="alias/no-such-key")
    assert error_of(e)["Code"] == "InvalidKeyId"


def test_intelligent_tiering_picks_advanced_for_large_values_only(ingot, unique):
    ssm = ingot.client("ssm")
    small = ssm.put_parameter(Name=f"/e2e/{unique}/small", Value="x", Type="String", Tier="Intelligent-Tiering")
    large = ssm.put_parameter(Name=f"/e2e/{unique}/large", Value="x" * 5000, Type="String",
                              Tier="Intelligent-Tiering")
    assert (small["Tier"], large["Tier"]) == ("Standard", "Advanced")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=f"/e2e/{unique}/large", Value="y", Overwrite=True, Tier="Standard")
    assert error_of(e)["Code"] == "ValidationException"


def test_the_type_cannot_change_and_existing_names_need_overwrite(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/typed"
    ssm.put_parameter(Name=name, Value="a,b", Type="StringList")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="a", Type="String", Overwrite=True)
    assert error_of(e)["Code"] == "HierarchyTypeMismatchException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=name, Value="a,b,c", Type="StringList")
    assert error_of(e)["Code"] == "ParameterAlreadyExists"


def test_reserved_and_malformed_names_get_aws_errors(ingot, unique):
    ssm = ingot.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/aws/mine", Value="x", Type="String")
    assert error_of(e)["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=f"/e2e/{unique}/has space", Value="x", Type="String")
    assert error_of(e)["Message"].startswith('Parameter name: can\'t be prefixed with "ssm" (case-insensitive).')
    deep = "".join(f"/l{i}" for i in range(16))
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name=deep, Value="x", Type="String")
    assert error_of(e)["Code"] == "HierarchyLevelLimitExceededException"


def test_public_parameters_are_readable_in_every_region(ingot):
    east = ingot.client("ssm", region="us-east-1").get_parameter(Name=AL2023)["Parameter"]
    west = ingot.client("ssm", region="eu-west-1").get_parameter(Name=AL2023)["Parameter"]
    assert east["Value"].startswith("ami-") and west["Value"].startswith("ami-")
    assert east["Value"] != west["Value"]
    assert east["ARN"] == f"arn:aws:ssm:us-east-1::parameter{AL2023}"
    cli = json.loads(ingot.cli("ssm", "get-parameters-by-path", "--path", "/aws/service/ami-amazon-linux-latest").stdout)
    assert AL2023 in [p["Name"] for p in cli["Parameters"]]


def test_tags_are_added_listed_and_removed(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/tagged"
    ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "team", "Value": "img"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert tags == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "img"}]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [
        {"Key": "team", "Value": "img"}]
    with pytest.raises(ClientError) as e:
        ssm.list_tags_for_resource(ResourceType="Document", ResourceId="AWS-RunShellScript")
    assert error_of(e)["Code"] == "InvalidResourceType"


def test_delete_parameters_reports_what_it_deleted(ingot, unique):
    ssm = ingot.client("ssm")
    ssm.put_parameter(Name=f"/e2e/{unique}/del/a", Value="v", Type="String")
    out = ssm.delete_parameters(Names=[f"/e2e/{unique}/del/a", f"/e2e/{unique}/del/b"])
    assert out["DeletedParameters"] == [f"/e2e/{unique}/del/a"]
    assert out["InvalidParameters"] == [f"/e2e/{unique}/del/b"]
    with pytest.raises(ClientError) as e:
        ssm.delete_parameter(Name=f"/e2e/{unique}/del/a")
    assert error_of(e)["Code"] == "ParameterNotFound"


def test_history_shows_who_changed_each_version(ingot, unique):
    ssm = ingot.client("ssm")
    name = f"/e2e/{unique}/hist"
    ssm.put_parameter(Name=name, Value="1", Type="String", Description="first")
    ssm.put_parameter(Name=name, Value="2", Overwrite=True)
    pages = list(ssm.get_paginator("get_parameter_history").paginate(Name=name, PaginationConfig={"PageSize": 1}))
    entries = [p for page in pages for p in page["Parameters"]]
    assert [e["Version"] for e in entries] == [1, 2]
    assert all(e["LastModifiedUser"] == f"arn:aws:iam::{ingot.account}:root" for e in entries)
    assert entries[1]["Description"] == "first"
