"""EC2 instances: RunInstances from an AMI id or from a `resolve:ssm:` reference in every form AWS accepts
(name, name:version, name:label, ARN, ARN:version, ARN:label), resolved with the caller's permissions;
the launch-permission check; instance type, subnet, security groups, key name, instance profile, tags,
Min/MaxCount, user data, block device mappings and metadata options; DescribeInstances (filters,
reservations, pages), DescribeInstanceStatus; Start/Stop/Reboot/Terminate and the state machine with
its reasons; Describe/ModifyInstanceAttribute; and the launch that ends in
`Client.InvalidKMSKey.InvalidState` when EBS cannot use the key.

Texts are AWS's (see /tmp/ec2-errors.md); where only the code is known only the code is asserted."""

import base64
import ipaddress
import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from ec2_support import (AL2023_ARM, AL2023_X86, KMS_INVALID_STATE, error, image, instance, launch, public_ami,
                         user_ec2, wait_for, wait_state)


REGION = "us-east-1"
INSTANCE = re.compile(r"i-[0-9a-f]{17}")


@pytest.fixture(scope="module")
def ec2(ingot):
    return ingot.client("ec2")


@pytest.fixture(scope="module")
def ssm(ingot):
    return ingot.client("ssm")


@pytest.fixture(scope="module")
def al2023(ssm):
    return public_ami(ssm)


@pytest.fixture(scope="module")
def arm(ssm):
    return public_ami(ssm, AL2023_ARM)


def default_vpc_id(ec2):
    return ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def subnet_in(ec2, zone):
    return ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": [zone]}])["Subnets"][0]


def count_instances(ec2):
    return sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])


# RunInstances


def test_an_instance_launched_from_the_public_image_is_pending_then_running_in_the_default_network(
        ingot, ec2, al2023):
    reservation = ec2.run_instances(ImageId=al2023, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert re.fullmatch(r"r-[0-9a-f]{17}", reservation["ReservationId"])
    assert reservation["OwnerId"] == ingot.account
    [launched] = reservation["Instances"]
    assert INSTANCE.fullmatch(launched["InstanceId"])
    assert launched["State"] == {"Code": 0, "Name": "pending"}
    running = wait_state(ec2, launched["InstanceId"], "running")
    assert running["State"] == {"Code": 16, "Name": "running"}
    assert (running["ImageId"], running["InstanceType"]) == (al2023, "t3.micro")
    vpc_id = default_vpc_id(ec2)
    subnet = ec2.describe_subnets(SubnetIds=[running["SubnetId"]])["Subnets"][0]
    assert (running["VpcId"], subnet["VpcId"], subnet["DefaultForAz"]) == (vpc_id, vpc_id, True)
    assert running["Placement"]["AvailabilityZone"] == subnet["AvailabilityZone"]
    assert ipaddress.ip_address(running["PrivateIpAddress"]) in ipaddress.ip_network(subnet["CidrBlock"])
    assert [g["GroupName"] for g in running["SecurityGroups"]] == ["default"]
    assert running["AmiLaunchIndex"] == 0
    assert running["RootDeviceType"] == "ebs" and running["Architecture"] == "x86_64"
    [root] = [m for m in running["BlockDeviceMappings"] if m["DeviceName"] == running["RootDeviceName"]]
    assert re.fullmatch(r"vol-[0-9a-f]{17}", root["Ebs"]["VolumeId"])
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["State"] == "in-use" and volume["Attachments"][0]["InstanceId"] == launched["InstanceId"]
    assert volume["Encrypted"] is False  # the public image is unencrypted and encryption by default is off


def test_an_unknown_image_cannot_be_launched_and_nothing_is_launched(ec2):
    before = count_instances(ec2)
    assert error(ec2.run_instances, ImageId="ami-abcd1234", InstanceType="t3.micro", MinCount=1, MaxCount=1) == (
        "InvalidAMIID.NotFound", "The image id '[ami-abcd1234]' does not exist", 400)
    assert count_instances(ec2) == before


def test_min_and_max_count_launch_one_reservation_of_several_instances(ec2, al2023):
    reservation = ec2.run_instances(ImageId=al2023, InstanceType="t3.micro", MinCount=2, MaxCount=3)
    assert sorted(i["AmiLaunchIndex"] for i in reservation["Instances"]) == [0, 1, 2]
    ids = [i["InstanceId"] for i in reservation["Instances"]]
    [described] = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    assert described["ReservationId"] == reservation["ReservationId"]
    assert sorted(i["InstanceId"] for i in described["Instances"]) == sorted(ids)


def test_subnet_security_groups_tags_user_data_block_devices_and_metadata_options_are_applied(ingot, ec2, al2023):
    unique = uuid.uuid4().hex[:8]
    subnet = subnet_in(ec2, "us-east-1c")
    group_id = ec2.create_security_group(GroupName=f"app-{unique}", Description="app")["GroupId"]
    user_data = "#!/bin/bash\necho hello\n"
    instance_id = launch(
        ec2, al2023, SubnetId=subnet["SubnetId"], SecurityGroupIds=[group_id], UserData=user_data,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": f"web-{unique}"}]},
                           {"ResourceType": "volume", "Tags": [{"Key": "backup", "Value": "daily"}]}],
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3"}}],
        MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 2})
    running = wait_state(ec2, instance_id, "running")
    assert running["SubnetId"] == subnet["SubnetId"]
    assert running["Placement"]["AvailabilityZone"] == "us-east-1c"
    assert [g["GroupId"] for g in running["SecurityGroups"]] == [group_id]
    assert {t["Key"]: t["Value"] for t in running["Tags"]} == {"Name": f"web-{unique}"}
    assert running["MetadataOptions"]["HttpTokens"] == "required"
    assert running["MetadataOptions"]["HttpPutResponseHopLimit"] == 2
    attribute = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(attribute).decode() == user_data
    root = next(m for m in running["BlockDeviceMappings"] if m["DeviceName"] == "/dev/xvda")
    volume = ec2.describe_volumes(VolumeIds=[root["Ebs"]["VolumeId"]])["Volumes"][0]
    assert (volume["Size"], volume["VolumeType"]) == (20, "gp3")
    assert {t["Key"]: t["Value"] for t in volume["Tags"]} == {"backup": "daily"}
    assert root["Ebs"]["DeleteOnTermination"] is True


def test_an_instance_profile_is_attached_to_the_instance(ingot, ec2, al2023):
    unique = uuid.uuid4().hex[:8]
    iam = ingot.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=f"app-{unique}", AssumeRolePolicyDocument=json.dumps(trust))
    profile = iam.create_instance_profile(InstanceProfileName=f"app-{unique}")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"app-{unique}", RoleName=f"app-{unique}")
    instance_id = launch(ec2, al2023, IamInstanceProfile={"Name": f"app-{unique}"})
    attached = wait_state(ec2, instance_id, "running")["IamInstanceProfile"]
    assert (attached["Arn"], attached["Id"]) == (profile["Arn"], profile["InstanceProfileId"])


def test_an_unknown_key_pair_is_refused(ec2, al2023):
    before = count_instances(ec2)
    code, _, status = error(ec2.run_instances, ImageId=al2023, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            KeyName="no-such-key")
    assert (code, status) == ("InvalidKeyPair.NotFound", 400)  # AWS's exact text is unconfirmed
    assert count_instances(ec2) == before


def test_an_arm_image_launches_on_an_arm_instance_type(ec2, arm):
    instance_id = launch(ec2, arm, InstanceType="t4g.micro")
    assert wait_state(ec2, instance_id, "running")["Architecture"] == "arm64"


def test_encryption_by_default_encrypts_the_volumes_of_new_instances_with_the_default_key(ingot, al2023):
    west = ingot.client("ec2", region="us-west-2")
    west.enable_ebs_encryption_by_default()
    try:
        image_id = public_ami(ingot.client("ssm", region="us-west-2"))
        running = wait_state(west, launch(west, image_id), "running")
        volume_id = running["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
        volume = west.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
        managed = ingot.client("kms", region="us-west-2").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
        assert (volume["Encrypted"], volume["KmsKeyId"]) == (True, managed)
    finally:
        west.disable_ebs_encryption_by_default()


def test_a_disabled_default_ebs_key_lets_the_launch_start_and_then_terminates_the_instance(ingot, al2023):
    region = "eu-central-1"
    ec2, kms = ingot.client("ec2", region=region), ingot.client("kms", region=region)
    key = kms.create_key()["KeyMetadata"]
    ec2.enable_ebs_encryption_by_default()
    ec2.modify_ebs_default_kms_key_id(KmsKeyId=key["Arn"])
    kms.disable_key(KeyId=key["KeyId"])
    try:
        reservation = ec2.run_instances(ImageId=public_ami(ingot.client("ssm", region=region)),
                                        InstanceType="t3.micro", MinCount=1, MaxCount=1)
        instance_id = reservation["Instances"][0]["InstanceId"]
        assert reservation["Instances"][0]["State"]["Name"] == "pending"
        ended = wait_state(ec2, instance_id, "terminated")
        assert (ended["StateReason"]["Code"], ended["StateReason"]["Message"]) == KMS_INVALID_STATE
        assert KMS_INVALID_STATE[1] in ended["StateTransitionReason"]
    finally:
        kms.enable_key(KeyId=key["KeyId"])
        ec2.reset_ebs_default_kms_key_id()
        ec2.disable_ebs_encryption_by_default()


# resolve:ssm:


@pytest.fixture(scope="module")
def pointer(ingot, ssm, al2023, arm):
    """A parameter of the account's own: version 1 the AL2023 x86_64 image, version 2 the arm64 one,
    labelled `latest`."""
    name = f"/golden/{uuid.uuid4().hex[:8]}/image"
    ssm.put_parameter(Name=name, Type="String", DataType="aws:ec2:image", Value=al2023)
    ssm.put_parameter(Name=name, Type="String", DataType="aws:ec2:image", Value=arm, Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["latest"])
    arn = f"arn:aws:ssm:{REGION}:{ingot.account}:parameter{name}"
    return name, arn


@pytest.mark.parametrize("form, expected", [
    ("{public}", "x86"), ("{name}", "arm"), ("{name}:1", "x86"), ("{name}:2", "arm"), ("{name}:latest", "arm"),
    ("{arn}", "arm"), ("{arn}:1", "x86"), ("{arn}:latest", "arm"),
])
def test_an_image_id_may_be_a_resolve_ssm_reference_in_every_form(ec2, al2023, arm, pointer, form, expected):
    name, arn = pointer
    reference = "resolve:ssm:" + form.format(public=AL2023_X86, name=name, arn=arn)
    instance_type = "t4g.micro" if expected == "arm" else "t3.micro"
    instance_id = launch(ec2, reference, InstanceType=instance_type)
    assert wait_state(ec2, instance_id, "running")["ImageId"] == {"x86": al2023, "arm": arm}[expected]


def test_a_name_without_its_leading_slash_is_the_same_parameter(ingot, ssm, ec2, al2023):
    name = f"flat-{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(Name=name, Type="String", DataType="aws:ec2:image", Value=al2023)
    instance_id = launch(ec2, f"resolve:ssm:{name}")
    assert wait_state(ec2, instance_id, "running")["ImageId"] == al2023


@pytest.mark.parametrize("suffix", ["", ":9", ":no-such-label"])
def test_a_missing_parameter_version_or_label_launches_nothing(ec2, pointer, suffix):
    name, _ = pointer
    reference = f"resolve:ssm:{name}{suffix}" if suffix else "resolve:ssm:/no/such/parameter"
    before = count_instances(ec2)
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId=reference, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    # AWS's code and text for this are unconfirmed.
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert count_instances(ec2) == before


def test_the_reference_is_resolved_with_the_callers_permissions(ingot, ec2, pointer):
    name, arn = pointer
    allowed_ec2 = {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Describe*"], "Resource": "*"}
    without = user_ec2(ingot, f"no-ssm-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [allowed_ec2]})
    before = count_instances(ec2)
    with pytest.raises(ClientError):
        without.run_instances(ImageId=f"resolve:ssm:{name}", InstanceType="t4g.micro", MinCount=1, MaxCount=1)
    assert count_instances(ec2) == before
    with_ssm = user_ec2(ingot, f"ssm-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [
        allowed_ec2, {"Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"], "Resource": arn}]})
    instance_id = launch(with_ssm, f"resolve:ssm:{name}", InstanceType="t4g.micro")
    assert wait_state(ec2, instance_id, "running")["ImageId"] == public_ami(ingot.client("ssm"), AL2023_ARM)


def test_a_policy_that_denies_an_image_by_its_arn_stops_its_launch(ingot, ec2, al2023, arm):
    approved_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Describe*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": f"arn:aws:ec2:{REGION}::image/{arm}"}]}
    user = user_ec2(ingot, f"approved-{uuid.uuid4().hex[:6]}", approved_only)
    before = count_instances(ec2)
    code, message, status = error(user.run_instances, ImageId=arm, InstanceType="t4g.micro", MinCount=1, MaxCount=1)
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert "explicit deny" in message
    assert count_instances(ec2) == before
    assert wait_state(ec2, launch(user, al2023), "running")["ImageId"] == al2023


# DescribeInstances and DescribeInstanceStatus


def test_describe_instances_filters_and_pages_over_reservations(ec2, al2023):
    unique = uuid.uuid4().hex[:8]
    ids = [launch(ec2, al2023, InstanceType="t3.nano",
                  TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "batch", "Value": unique}]}])
           for _ in range(6)]
    for instance_id in ids:
        wait_state(ec2, instance_id, "running")

    def found(*filters):
        return sorted(i["InstanceId"] for r in ec2.describe_instances(Filters=list(filters))["Reservations"]
                      for i in r["Instances"])

    batch = {"Name": "tag:batch", "Values": [unique]}
    assert found(batch) == sorted(ids)
    assert found(batch, {"Name": "instance-state-name", "Values": ["running"]}) == sorted(ids)
    assert found(batch, {"Name": "instance-type", "Values": ["t3.nano"]}) == sorted(ids)
    assert found(batch, {"Name": "image-id", "Values": [al2023]}) == sorted(ids)
    assert found(batch, {"Name": "instance-id", "Values": ids[:2]}) == sorted(ids[:2])
    assert found(batch, {"Name": "instance-state-name", "Values": ["stopped"]}) == []

    seen, token = [], None
    for _ in range(10):
        page = ec2.describe_instances(Filters=[batch], MaxResults=5, **({"NextToken": token} if token else {}))
        seen += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids)


def test_describe_instance_status_reports_running_instances_and_all_with_include_all(ec2, al2023):
    running_id = launch(ec2, al2023)
    stopped_id = launch(ec2, al2023)
    wait_state(ec2, running_id, "running")
    wait_state(ec2, stopped_id, "running")
    ec2.stop_instances(InstanceIds=[stopped_id])
    wait_state(ec2, stopped_id, "stopped")
    statuses = ec2.describe_instance_status(InstanceIds=[running_id, stopped_id])["InstanceStatuses"]
    assert [(s["InstanceId"], s["InstanceState"]["Name"]) for s in statuses] == [(running_id, "running")]
    every = ec2.describe_instance_status(InstanceIds=[running_id, stopped_id],
                                         IncludeAllInstances=True)["InstanceStatuses"]
    assert sorted((s["InstanceId"], s["InstanceState"]["Name"]) for s in every) == sorted(
        [(running_id, "running"), (stopped_id, "stopped")])


def test_an_unknown_or_malformed_instance_id(ec2):
    assert error(ec2.describe_instances, InstanceIds=["i-1a2b3c4d"]) == (
        "InvalidInstanceID.NotFound", "The instance ID 'i-1a2b3c4d' does not exist", 400)
    assert error(ec2.describe_instances, InstanceIds=["not-an-instance"]) == (
        "InvalidInstanceID.Malformed", 'Invalid id: "not-an-instance" (expecting "i-...")', 400)


# The state machine


def test_stop_start_reboot_and_terminate_move_the_instance_through_its_states(ec2, al2023):
    instance_id = launch(ec2, al2023)
    wait_state(ec2, instance_id, "running")

    stopping = ec2.stop_instances(InstanceIds=[instance_id])["StoppingInstances"][0]
    assert (stopping["PreviousState"]["Name"], stopping["CurrentState"]["Name"]) == ("running", "stopping")
    stopped = wait_state(ec2, instance_id, "stopped")
    assert stopped["State"] == {"Code": 80, "Name": "stopped"}
    assert stopped["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert stopped["StateTransitionReason"].startswith("User initiated (")

    starting = ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"][0]
    assert (starting["PreviousState"]["Name"], starting["CurrentState"]["Name"]) == ("stopped", "pending")
    wait_state(ec2, instance_id, "running")
    assert ec2.reboot_instances(InstanceIds=[instance_id])["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert instance(ec2, instance_id)["State"]["Name"] == "running"

    terminating = ec2.terminate_instances(InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert (terminating["PreviousState"]["Name"], terminating["CurrentState"]["Name"]) == (
        "running", "shutting-down")
    terminated = wait_state(ec2, instance_id, "terminated")
    assert terminated["State"] == {"Code": 48, "Name": "terminated"}
    # Its volume goes with it (DeleteOnTermination).
    assert wait_for(lambda: not ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"])

    assert error(ec2.start_instances, InstanceIds=[instance_id]) == (
        "IncorrectInstanceState", f"The instance '{instance_id}' is not in a state from which it can be started.", 400)
    code, message, status = error(ec2.stop_instances, InstanceIds=[instance_id])
    assert (code, status) == ("IncorrectInstanceState", 400)
    assert message.endswith(f"instance '{instance_id}' is not in a state from which it can be stopped.")


def test_instance_attributes_are_described_and_modified_while_stopped(ec2, al2023):
    instance_id = launch(ec2, al2023, InstanceType="t3.micro")
    wait_state(ec2, instance_id, "running")
    assert ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="instanceType")["InstanceType"] == {
        "Value": "t3.micro"}
    code, _, _ = error(ec2.modify_instance_attribute, InstanceId=instance_id, InstanceType={"Value": "t3.small"})
    assert code == "IncorrectInstanceState"
    ec2.stop_instances(InstanceIds=[instance_id])
    wait_state(ec2, instance_id, "stopped")
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t3.small"})
    assert instance(ec2, instance_id)["InstanceType"] == "t3.small"

    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
    assert ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")[
        "DisableApiTermination"] == {"Value": True}
    code, _, _ = error(ec2.terminate_instances, InstanceIds=[instance_id])
    assert code == "OperationNotPermitted"
    assert instance(ec2, instance_id)["State"]["Name"] == "stopped"
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": False})
    ec2.terminate_instances(InstanceIds=[instance_id])
    wait_state(ec2, instance_id, "terminated")


def test_aws_cli_runs_an_instance_from_a_public_parameter_and_terminates_it(ingot, al2023):
    out = json.loads(ingot.cli("ec2", "run-instances", "--image-id", "resolve:ssm:" + AL2023_X86,
                               "--instance-type", "t3.micro", "--count", "1").stdout)
    instance_id = out["Instances"][0]["InstanceId"]
    ec2 = ingot.client("ec2")
    assert wait_state(ec2, instance_id, "running")["ImageId"] == al2023
    assert image(ec2, al2023)["ImageId"] == al2023
    gone = json.loads(ingot.cli("ec2", "terminate-instances", "--instance-ids", instance_id).stdout)
    assert gone["TerminatingInstances"][0]["CurrentState"]["Name"] == "shutting-down"
