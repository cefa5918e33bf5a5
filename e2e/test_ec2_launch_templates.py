"""EC2 launch templates: Create/Modify, CreateLaunchTemplateVersion from a source version,
DescribeLaunchTemplates, DescribeLaunchTemplateVersions (with ResolveAlias), DeleteLaunchTemplate and
DeleteLaunchTemplateVersions; an ImageId of `resolve:ssm:` must name an `aws:ec2:image` parameter and is
resolved at every launch; RunInstances with a template by id or name and version number, $Latest or
$Default.

Texts are AWS's, from moto tests marked aws_verified and public captures (see /tmp/ec2-errors.md)."""

import json
import re
import uuid

import pytest

from ec2_support import AL2023_ARM, error, public_ami, user_ec2, wait_state


DESCRIBE_VERSIONS_HELP = (
    "To describe the launch template data for all your launch templates, for ‘--versions’ specify ‘$Latest’, "
    "‘$Default’, or both, and omit ‘--launch-template-id’, ‘--launch-template-name’, and version numbers. To "
    "describe the launch template data for a specific launch template, specify ‘--launch-template-id’ or "
    "‘--launch-template-name’, and for ‘--versions’ specify one or more of the following values: ‘$Latest’, "
    "‘$Default’, or one or more version numbers.")


@pytest.fixture(scope="module")
def ec2(ingot):
    return ingot.client("ec2")


@pytest.fixture(scope="module")
def ssm(ingot):
    return ingot.client("ssm")


@pytest.fixture(scope="module")
def x86(ssm):
    return public_ami(ssm)


@pytest.fixture(scope="module")
def arm(ssm):
    return public_ami(ssm, AL2023_ARM)


@pytest.fixture
def name():
    return f"lt-test-{uuid.uuid4().hex[:8]}"


def template(ec2, name, data):
    return ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)["LaunchTemplate"]


def versions(ec2, **kwargs):
    return ec2.describe_launch_template_versions(**kwargs)["LaunchTemplateVersions"]


def test_a_template_is_created_at_version_one_and_described_by_name_and_id(ingot, ec2, x86, name):
    created = template(ec2, name, {"ImageId": x86, "InstanceType": "t3.micro"})
    assert re.fullmatch(r"lt-[0-9a-f]{17}", created["LaunchTemplateId"])
    assert (created["LaunchTemplateName"], created["DefaultVersionNumber"], created["LatestVersionNumber"]) == (
        name, 1, 1)
    assert created["CreatedBy"] == f"arn:aws:iam::{ingot.account}:root"
    by_name = ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
    by_id = ec2.describe_launch_templates(LaunchTemplateIds=[created["LaunchTemplateId"]])["LaunchTemplates"]
    assert by_name == by_id == [created]
    [v1] = versions(ec2, LaunchTemplateName=name)
    assert (v1["VersionNumber"], v1["DefaultVersion"], v1["LaunchTemplateData"]) == (
        1, True, {"ImageId": x86, "InstanceType": "t3.micro"})


def test_a_template_name_is_unique(ec2, x86, name):
    template(ec2, name, {"ImageId": x86})
    assert error(ec2.create_launch_template, LaunchTemplateName=name, LaunchTemplateData={"ImageId": x86}) == (
        "InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.", 400)


def test_a_new_version_from_a_source_version_inherits_what_it_does_not_override(ec2, x86, name):
    created = template(ec2, name, {"ImageId": x86, "InstanceType": "t3.micro"})
    v2 = ec2.create_launch_template_version(LaunchTemplateId=created["LaunchTemplateId"], SourceVersion="1",
                                            VersionDescription="bigger",
                                            LaunchTemplateData={"InstanceType": "t3.large"})["LaunchTemplateVersion"]
    assert (v2["VersionNumber"], v2["DefaultVersion"], v2["VersionDescription"]) == (2, False, "bigger")
    assert v2["LaunchTemplateData"] == {"ImageId": x86, "InstanceType": "t3.large"}
    [described] = ec2.describe_launch_templates(LaunchTemplateIds=[created["LaunchTemplateId"]])["LaunchTemplates"]
    assert (described["DefaultVersionNumber"], described["LatestVersionNumber"]) == (1, 2)
    assert [v["VersionNumber"] for v in versions(ec2, LaunchTemplateName=name, Versions=["$Latest"])] == [2]
    assert [v["VersionNumber"] for v in versions(ec2, LaunchTemplateName=name, Versions=["$Default"])] == [1]

    ec2.modify_launch_template(LaunchTemplateName=name, DefaultVersion="2")
    assert [v["VersionNumber"] for v in versions(ec2, LaunchTemplateName=name, Versions=["$Default"])] == [2]


def test_unknown_templates_and_versions(ec2, x86, name):
    created = template(ec2, name, {"ImageId": x86})
    lt_id = created["LaunchTemplateId"]
    assert error(ec2.describe_launch_template_versions, LaunchTemplateName="template_name") == (
        "InvalidLaunchTemplateName.NotFoundException",
        "The specified launch template, with template name template_name, does not exist.", 400)
    assert error(ec2.describe_launch_template_versions, LaunchTemplateId="lt-07ff4bb0369cd679c") == (
        "InvalidLaunchTemplateId.NotFound",
        "The specified launch template, with template ID lt-07ff4bb0369cd679c, does not exist.", 400)
    assert error(ec2.describe_launch_template_versions, LaunchTemplateName=name, Versions=["3"]) == (
        "InvalidLaunchTemplateId.VersionNotFound",
        f"Could not find the specified version 3 for the launch template with ID {lt_id}.", 400)
    assert error(ec2.describe_launch_templates, LaunchTemplateNames=[f"{name}-ghost"]) == (
        "InvalidLaunchTemplateName.NotFoundException",
        "At least one of the launch templates specified in the request does not exist.", 400)
    assert error(ec2.modify_launch_template, LaunchTemplateName=name, DefaultVersion="2") == (
        "InvalidLaunchTemplateId.VersionNotFound",
        "The launch template version 2 is not found for the specified launch template.", 400)
    assert error(ec2.modify_launch_template, LaunchTemplateId="template_n", LaunchTemplateName=name,
                 DefaultVersion="2") == (
        "InvalidParameterCombination",
        "Either provide launch template ID or launch template name to modify the template.", 400)
    assert error(ec2.describe_launch_template_versions) == ("MissingParameter", DESCRIBE_VERSIONS_HELP, 400)
    assert error(ec2.describe_launch_template_versions, Versions=["1"]) == (
        "InvalidParameterValue", DESCRIBE_VERSIONS_HELP, 400)


def test_a_resolve_ssm_image_id_must_name_an_ec2_image_parameter(ec2, ssm, x86, name):
    text = f"/lt/{uuid.uuid4().hex[:8]}/text"
    ssm.put_parameter(Name=text, Type="String", Value=x86)  # DataType text
    unsupported = ("SsmInvalidParameter",
                   "Unsupported data type. The following parameter data types are supported: aws:ec2:image", 400)
    assert error(ec2.create_launch_template, LaunchTemplateName=name,
                 LaunchTemplateData={"ImageId": f"resolve:ssm:{text}"}) == unsupported
    assert ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": [name]}])[
        "LaunchTemplates"] == []
    created = template(ec2, name, {"ImageId": x86})
    assert error(ec2.create_launch_template_version, LaunchTemplateId=created["LaunchTemplateId"],
                 LaunchTemplateData={"ImageId": f"resolve:ssm:{text}"}) == unsupported
    assert len(versions(ec2, LaunchTemplateName=name)) == 1


def test_resolve_alias_shows_the_image_the_parameter_names_now(ec2, ssm, x86, arm, name):
    parameter = f"/lt/{uuid.uuid4().hex[:8]}/image"
    ssm.put_parameter(Name=parameter, Type="String", DataType="aws:ec2:image", Value=x86)
    template(ec2, name, {"ImageId": f"resolve:ssm:{parameter}", "InstanceType": "t3.micro"})
    [stored] = versions(ec2, LaunchTemplateName=name)
    assert stored["LaunchTemplateData"]["ImageId"] == f"resolve:ssm:{parameter}"
    [resolved] = versions(ec2, LaunchTemplateName=name, ResolveAlias=True)
    assert resolved["LaunchTemplateData"]["ImageId"] == x86
    ssm.put_parameter(Name=parameter, Type="String", DataType="aws:ec2:image", Value=arm, Overwrite=True)
    [resolved] = versions(ec2, LaunchTemplateName=name, ResolveAlias=True)
    assert resolved["LaunchTemplateData"]["ImageId"] == arm
    assert versions(ec2, LaunchTemplateName=name)[0]["LaunchTemplateData"]["ImageId"] == f"resolve:ssm:{parameter}"


def test_run_instances_from_a_template_by_id_or_name_and_version(ec2, x86, arm, name):
    created = template(ec2, name, {"ImageId": x86, "InstanceType": "t3.micro"})
    lt_id = created["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1",
                                       LaunchTemplateData={"ImageId": arm, "InstanceType": "t4g.micro"})

    def run(**spec):
        reservation = ec2.run_instances(LaunchTemplate=spec, MinCount=1, MaxCount=1)
        return wait_state(ec2, reservation["Instances"][0]["InstanceId"], "running")

    for spec, (image_id, version) in (
            ({"LaunchTemplateId": lt_id}, (x86, "1")),
            ({"LaunchTemplateName": name, "Version": "$Default"}, (x86, "1")),
            ({"LaunchTemplateName": name, "Version": "$Latest"}, (arm, "2")),
            ({"LaunchTemplateId": lt_id, "Version": "2"}, (arm, "2"))):
        running = run(**spec)
        assert running["ImageId"] == image_id, spec
        tags = {t["Key"]: t["Value"] for t in running.get("Tags", [])}
        assert (tags["aws:ec2launchtemplate:id"], tags["aws:ec2launchtemplate:version"]) == (lt_id, version), spec

    # Parameters of the request override the template's.
    reservation = ec2.run_instances(LaunchTemplate={"LaunchTemplateId": lt_id}, InstanceType="t3.small",
                                    MinCount=1, MaxCount=1)
    assert reservation["Instances"][0]["InstanceType"] == "t3.small"


def test_a_launch_from_a_template_is_authorized_before_the_template_is_read(ingot, ec2, x86, name):
    created = template(ec2, name, {"ImageId": x86, "InstanceType": "t3.micro", "TagSpecifications": [
        {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "forbidden"}]}]})
    lt_arn = f"arn:aws:ec2:us-east-1:{ingot.account}:launch-template/{created['LaunchTemplateId']}"
    allow_all = {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Describe*"], "Resource": "*"}
    # Denied the templates: by id, an existing template and a missing one get the same answer.
    no_templates = user_ec2(ingot, f"no-lt-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [
        allow_all, {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:launch-template/*"}]})
    for spec in ({"LaunchTemplateName": name}, {"LaunchTemplateId": created["LaunchTemplateId"]},
                 {"LaunchTemplateId": "lt-0123456789abcdef0"}):
        code, message, status = error(no_templates.run_instances, LaunchTemplate=spec, MinCount=1, MaxCount=1)
        assert (code, status) == ("UnauthorizedOperation", 403), spec
    # The template's own tags are the request's tags too.
    no_forbidden_tags = user_ec2(ingot, f"tags-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [
        allow_all, {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestTag/team": "forbidden"}}}]})
    code, _, status = error(no_forbidden_tags.run_instances, MinCount=1, MaxCount=1,
                            LaunchTemplate={"LaunchTemplateId": created["LaunchTemplateId"]})
    assert (code, status) == ("UnauthorizedOperation", 403)
    allowed = user_ec2(ingot, f"lt-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": [
            lt_arn, "arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*::image/*"]},
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]})
    reservation = allowed.run_instances(LaunchTemplate={"LaunchTemplateName": name}, MinCount=1, MaxCount=1)
    assert wait_state(ec2, reservation["Instances"][0]["InstanceId"], "running")["ImageId"] == x86


def test_a_resolve_ssm_template_resolves_at_every_launch(ec2, ssm, x86, arm, name):
    parameter = f"/lt/{uuid.uuid4().hex[:8]}/image"
    ssm.put_parameter(Name=parameter, Type="String", DataType="aws:ec2:image", Value=x86)
    template(ec2, name, {"ImageId": f"resolve:ssm:{parameter}", "InstanceType": "t3.micro"})
    first = ec2.run_instances(LaunchTemplate={"LaunchTemplateName": name}, MinCount=1, MaxCount=1)
    first_id = first["Instances"][0]["InstanceId"]
    assert wait_state(ec2, first_id, "running")["ImageId"] == x86
    ssm.put_parameter(Name=parameter, Type="String", DataType="aws:ec2:image", Value=arm, Overwrite=True)
    second = ec2.run_instances(LaunchTemplate={"LaunchTemplateName": name}, InstanceType="t4g.micro",
                               MinCount=1, MaxCount=1)
    assert wait_state(ec2, second["Instances"][0]["InstanceId"], "running")["ImageId"] == arm
    assert wait_state(ec2, first_id, "running")["ImageId"] == x86  # running instances are unaffected


def test_versions_and_templates_are_deleted(ec2, x86, name):
    created = template(ec2, name, {"ImageId": x86})
    lt_id = created["LaunchTemplateId"]
    for _ in range(2):
        ec2.create_launch_template_version(LaunchTemplateId=lt_id, SourceVersion="1",
                                           LaunchTemplateData={"InstanceType": "t3.small"})
    deleted = ec2.delete_launch_template_versions(LaunchTemplateId=lt_id, Versions=["2"])
    assert [(d["LaunchTemplateId"], d["VersionNumber"]) for d in
            deleted["SuccessfullyDeletedLaunchTemplateVersions"]] == [(lt_id, 2)]
    assert [v["VersionNumber"] for v in versions(ec2, LaunchTemplateId=lt_id)] == [3, 1] or sorted(
        v["VersionNumber"] for v in versions(ec2, LaunchTemplateId=lt_id)) == [1, 3]
    # The default version cannot be deleted this way (the per-version error code is unconfirmed).
    refused = ec2.delete_launch_template_versions(LaunchTemplateId=lt_id, Versions=["1"])
    assert [u["VersionNumber"] for u in refused["UnsuccessfullyDeletedLaunchTemplateVersions"]] == [1]
    assert 1 in {v["VersionNumber"] for v in versions(ec2, LaunchTemplateId=lt_id)}

    gone = ec2.delete_launch_template(LaunchTemplateId=lt_id)["LaunchTemplate"]
    assert gone["LaunchTemplateId"] == lt_id
    assert error(ec2.describe_launch_template_versions, LaunchTemplateId=lt_id) == (
        "InvalidLaunchTemplateId.NotFound", f"The specified launch template, with template ID {lt_id}, does not exist.",
        400)


def test_aws_cli_creates_a_template_and_describes_its_versions(ingot, x86, name):
    data = json.dumps({"ImageId": x86, "InstanceType": "t3.micro"})
    created = json.loads(ingot.cli("ec2", "create-launch-template", "--launch-template-name", name,
                                   "--launch-template-data", data).stdout)["LaunchTemplate"]
    described = json.loads(ingot.cli("ec2", "describe-launch-template-versions", "--launch-template-id",
                                     created["LaunchTemplateId"], "--versions", "$Latest").stdout)
    assert [v["LaunchTemplateData"]["ImageId"] for v in described["LaunchTemplateVersions"]] == [x86]


def test_create_tags_and_describe_tags_reach_launch_templates_instances_and_volumes(ec2, x86, name):
    template_id = template(ec2, name, {"ImageId": x86})["LaunchTemplateId"]
    instance = ec2.run_instances(LaunchTemplate={"LaunchTemplateId": template_id}, MinCount=1,
                                 MaxCount=1)["Instances"][0]
    volume_id = wait_state(ec2, instance["InstanceId"], "running")["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    resources = [template_id, instance["InstanceId"], volume_id]
    ec2.create_tags(Resources=resources, Tags=[{"Key": "stage", "Value": "canary"}])
    described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": resources},
                                           {"Name": "key", "Values": ["stage"]}])["Tags"]
    assert sorted((t["ResourceId"], t["ResourceType"], t["Value"]) for t in described) == sorted([
        (template_id, "launch-template", "canary"), (instance["InstanceId"], "instance", "canary"),
        (volume_id, "volume", "canary")])
    assert {"Key": "stage", "Value": "canary"} in ec2.describe_launch_templates(
        LaunchTemplateIds=[template_id])["LaunchTemplates"][0]["Tags"]
    ec2.delete_tags(Resources=resources, Tags=[{"Key": "stage"}])
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": resources},
                                      {"Name": "key", "Values": ["stage"]}])["Tags"] == []
