"""EC2 images and their snapshots: the public Amazon Linux images behind their public parameters,
CreateImage from an instance, RegisterImage, CopyImage in the same and another region with re-encryption,
DescribeImages (ImageIds, Owners, ExecutableUsers, filters, IncludeDeprecated) and who sees what, launch
permissions for accounts, everyone, the organization and an OU, DeregisterImage (snapshots stay unless
DeleteAssociatedSnapshots), deprecation, and snapshots (DescribeSnapshots, DeleteSnapshot while in use,
CopySnapshot, createVolumePermission).

Texts are AWS's (see /tmp/ec2-errors.md); where only the code is known only the code is asserted."""

import datetime
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from ec2_support import (error, image, instance, launch, launched_image, public_ami, snapshots_of, wait_for, wait_image,
                         wait_state)
from conftest import Server
from test_identity_acceptance import assume, org  # noqa: F401 (org is a fixture)


REGION = "us-east-1"
AMI = re.compile(r"ami-[0-9a-f]{17}")


@pytest.fixture(scope="module")
def ec2(ingot):
    return ingot.client("ec2")


@pytest.fixture(scope="module")
def golden(ingot, ec2):
    """An image of the account's own, made from an instance of the public AL2023 image."""
    made, instance_id = launched_image(ec2, public_ami(ingot.client("ssm")), f"golden-{uuid.uuid4().hex[:8]}",
                                       Description="golden base")
    return made, instance_id


# CreateImage


def test_create_image_makes_an_available_ebs_image_of_the_instance_with_a_snapshot_per_volume(ingot, ec2, golden):
    made, instance_id = golden
    assert AMI.fullmatch(made["ImageId"])
    assert (made["OwnerId"], made["Public"], made["Description"]) == (ingot.account, False, "golden base")
    assert made["RootDeviceType"] == "ebs" and made["ImageType"] == "machine"
    assert made.get("SourceInstanceId", instance_id) == instance_id
    snapshots = snapshots_of(made)
    assert snapshots and all(re.fullmatch(r"snap-[0-9a-f]{17}", s) for s in snapshots)
    described = ec2.describe_snapshots(SnapshotIds=snapshots)["Snapshots"]
    assert all(s["State"] == "completed" and s["OwnerId"] == ingot.account for s in described)
    assert made["ImageId"] in {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}


def test_an_image_name_is_unique_in_the_account_and_region(ec2, golden):
    made, instance_id = golden
    before = ec2.describe_images(Owners=["self"])["Images"]
    code, _, status = error(ec2.create_image, InstanceId=instance_id, Name=made["Name"])
    assert (code, status) == ("InvalidAMIName.Duplicate", 400)  # the message is unconfirmed
    assert ec2.describe_images(Owners=["self"])["Images"] == before


def test_create_image_is_pending_before_it_is_available(ingot, ec2, golden):
    _, instance_id = golden
    image_id = ec2.create_image(InstanceId=instance_id, Name=f"states-{uuid.uuid4().hex[:8]}")["ImageId"]
    assert image(ec2, image_id)["State"] in ("pending", "available")
    assert wait_image(ec2, image_id)["State"] == "available"


# RegisterImage and deregistration


def test_register_image_from_a_snapshot_and_deregister_it_keeps_the_snapshot(ec2, golden):
    made, _ = golden
    [snapshot] = snapshots_of(made)[:1]
    registered = ec2.register_image(
        Name=f"registered-{uuid.uuid4().hex[:8]}", RootDeviceName="/dev/xvda", Architecture="x86_64",
        VirtualizationType="hvm", EnaSupport=True, BootMode="uefi-preferred",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot}}])["ImageId"]
    found = wait_image(ec2, registered)
    assert (found["Architecture"], found["RootDeviceName"], found["BootMode"]) == ("x86_64", "/dev/xvda",
                                                                                   "uefi-preferred")
    assert snapshots_of(found) == [snapshot]
    ec2.deregister_image(ImageId=registered)
    gone = wait_for(lambda: not [i for i in ec2.describe_images(Owners=["self"])["Images"]
                                 if i["ImageId"] == registered and i["State"] != "deregistered"])
    assert gone
    assert ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]["State"] == "completed"


def test_a_snapshot_in_use_by_an_image_cannot_be_deleted_until_the_image_is_deregistered(ingot, ec2, golden):
    _, instance_id = golden
    made = wait_image(ec2, ec2.create_image(InstanceId=instance_id, Name=f"inuse-{uuid.uuid4().hex[:8]}")["ImageId"])
    snapshot = snapshots_of(made)[0]
    assert error(ec2.delete_snapshot, SnapshotId=snapshot) == (
        "InvalidSnapshot.InUse", f"The snapshot {snapshot} is currently in use by {made['ImageId']}", 400)
    ec2.deregister_image(ImageId=made["ImageId"])
    ec2.delete_snapshot(SnapshotId=snapshot)
    assert error(ec2.describe_snapshots, SnapshotIds=[snapshot]) == (
        "InvalidSnapshot.NotFound", f"The snapshot '{snapshot}' does not exist.", 400)


def test_deregister_with_delete_associated_snapshots_removes_the_snapshots(ec2, golden):
    _, instance_id = golden
    made = wait_image(ec2, ec2.create_image(InstanceId=instance_id, Name=f"purge-{uuid.uuid4().hex[:8]}")["ImageId"])
    snapshots = snapshots_of(made)
    result = ec2.deregister_image(ImageId=made["ImageId"], DeleteAssociatedSnapshots=True)
    assert sorted(r["SnapshotId"] for r in result["DeleteSnapshotResults"]) == sorted(snapshots)
    for snapshot in snapshots:
        assert error(ec2.describe_snapshots, SnapshotIds=[snapshot])[0] == "InvalidSnapshot.NotFound"


def test_a_deregistered_image_cannot_be_launched(ec2, golden):
    _, instance_id = golden
    made = wait_image(ec2, ec2.create_image(InstanceId=instance_id, Name=f"retired-{uuid.uuid4().hex[:8]}")["ImageId"])
    ec2.deregister_image(ImageId=made["ImageId"])
    with pytest.raises(ClientError) as e:
        ec2.run_instances(ImageId=made["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1)
    assert e.value.response["Error"]["Code"] in ("InvalidAMIID.Unavailable", "InvalidAMIID.NotFound")


# CopyImage


def test_copy_image_with_a_kms_key_re_encrypts_every_snapshot_under_it(ingot, ec2, golden):
    made, _ = golden
    key = ingot.client("kms").create_key(Description="golden copies")["KeyMetadata"]
    copy_id = ec2.copy_image(SourceImageId=made["ImageId"], SourceRegion=REGION, Name=f"copy-{uuid.uuid4().hex[:8]}",
                             Encrypted=True, KmsKeyId=key["Arn"])["ImageId"]
    copied = wait_image(ec2, copy_id)
    assert copy_id != made["ImageId"]
    assert not set(snapshots_of(copied)) & set(snapshots_of(made))
    for mapping in copied["BlockDeviceMappings"]:
        if "Ebs" in mapping:
            assert mapping["Ebs"]["Encrypted"] is True
    for snapshot in ec2.describe_snapshots(SnapshotIds=snapshots_of(copied))["Snapshots"]:
        assert (snapshot["Encrypted"], snapshot["KmsKeyId"]) == (True, key["Arn"])
    assert copied.get("SourceImageId", made["ImageId"]) == made["ImageId"]
    assert copied.get("SourceImageRegion", REGION) == REGION
    # The source is unchanged.
    assert image(ec2, made["ImageId"])["BlockDeviceMappings"] == made["BlockDeviceMappings"]


def test_copy_image_to_another_region_is_found_only_there(ingot, golden):
    made, _ = golden
    west = ingot.client("ec2", region="eu-west-1")
    copy_id = west.copy_image(SourceImageId=made["ImageId"], SourceRegion=REGION,
                              Name=f"abroad-{uuid.uuid4().hex[:8]}")["ImageId"]
    assert wait_image(west, copy_id)["OwnerId"] == ingot.account
    assert error(ingot.client("ec2").describe_images, ImageIds=[copy_id]) == (
        "InvalidAMIID.NotFound", f"The image id '[{copy_id}]' does not exist", 400)


def test_copy_image_with_a_key_but_not_encrypted_is_refused(ingot, ec2, golden):
    made, _ = golden
    key = ingot.client("kms").create_key()["KeyMetadata"]
    before = ec2.describe_images(Owners=["self"])["Images"]
    with pytest.raises(ClientError) as e:
        ec2.copy_image(SourceImageId=made["ImageId"], SourceRegion=REGION, Name="never", KmsKeyId=key["Arn"])
    # CreateVolume answers InvalidParameterDependency; CopyImage's exact answer is unconfirmed.
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ec2.describe_images(Owners=["self"])["Images"] == before


def test_copy_image_with_encryption_by_default_encrypts_under_the_default_key(ingot, golden):
    made, _ = golden
    west = ingot.client("ec2", region="us-west-2")
    west.enable_ebs_encryption_by_default()
    try:
        copy_id = west.copy_image(SourceImageId=made["ImageId"], SourceRegion=REGION,
                                  Name=f"default-key-{uuid.uuid4().hex[:8]}")["ImageId"]
        copied = wait_image(west, copy_id)
        managed = ingot.client("kms", region="us-west-2").describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
        for snapshot in west.describe_snapshots(SnapshotIds=snapshots_of(copied))["Snapshots"]:
            assert (snapshot["Encrypted"], snapshot["KmsKeyId"]) == (True, managed)
    finally:
        west.disable_ebs_encryption_by_default()


# Attributes and launch permissions


def test_the_description_attribute_is_modified_and_described(ec2, golden):
    made, _ = golden
    ec2.modify_image_attribute(ImageId=made["ImageId"], Description={"Value": "new words"})
    assert ec2.describe_image_attribute(ImageId=made["ImageId"], Attribute="description")["Description"] == {
        "Value": "new words"}
    assert image(ec2, made["ImageId"])["Description"] == "new words"


def test_launch_permissions_for_an_account_everyone_the_organization_and_an_ou(org):  # noqa: F811
    shared = assume(org, org.shared).client("ec2")
    member, outsider = assume(org, org.member_a).client("ec2"), assume(org, org.outside).client("ec2")
    made, _ = launched_image(shared, public_ami(assume(org, org.shared).client("ssm")), "shared-base")
    image_id = made["ImageId"]
    missing = ("InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist", 400)

    def permissions():
        return shared.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]

    # Private: only the owner sees it.
    assert permissions() == []
    assert error(member.describe_images, ImageIds=[image_id]) == missing

    # An account.
    shared.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": org.member_a}]})
    assert permissions() == [{"UserId": org.member_a}]
    assert image(member, image_id)["OwnerId"] == org.shared
    assert image_id in {i["ImageId"] for i in member.describe_images(ExecutableUsers=["self"])["Images"]}
    assert image_id in {i["ImageId"] for i in shared.describe_images(ExecutableUsers=[org.member_a])["Images"]}
    assert error(outsider.describe_images, ImageIds=[image_id]) == missing
    # Shared users do not see the owner's tags.
    shared.create_tags(Resources=[image_id], Tags=[{"Key": "secret", "Value": "s"}])
    assert "Tags" not in image(member, image_id) or image(member, image_id)["Tags"] == []
    shared.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"UserId": org.member_a}]})
    assert error(member.describe_images, ImageIds=[image_id]) == missing

    # The organization, then an OU: members see it, the outsider does not; ExecutableBy=<account> lists
    # explicit account shares only.
    organization = org.server.client("organizations").describe_organization()["Organization"]
    by_organization = {"Add": [{"OrganizationArn": organization["Arn"]}]}
    shared.modify_image_attribute(ImageId=image_id, LaunchPermission=by_organization)
    assert permissions() == [{"OrganizationArn": organization["Arn"]}]
    assert image(member, image_id)["ImageId"] == image_id
    assert image_id in {i["ImageId"] for i in member.describe_images(ExecutableUsers=["self"])["Images"]}
    assert image_id not in {i["ImageId"] for i in shared.describe_images(ExecutableUsers=[org.member_a])["Images"]}
    assert error(outsider.describe_images, ImageIds=[image_id]) == missing
    shared.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert permissions() == []

    ou_arn = f"arn:aws:organizations::{org.mgmt}:ou/{organization['Id']}/{org.workloads}"
    shared.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": ou_arn}]})
    assert permissions() == [{"OrganizationalUnitArn": ou_arn}]
    assert image(assume(org, org.member_b).client("ec2"), image_id)["ImageId"] == image_id
    assert error(outsider.describe_images, ImageIds=[image_id]) == missing
    shared.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")

    # Everyone: the image is public.
    shared.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert image(shared, image_id)["Public"] is True
    assert image(outsider, image_id)["Public"] is True
    shared.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"Group": "all"}]})
    assert image(shared, image_id)["Public"] is False
    assert error(outsider.describe_images, ImageIds=[image_id]) == missing

    # A user id that is not an account id.
    code, _, status = error(shared.modify_image_attribute, ImageId=image_id,
                            LaunchPermission={"Add": [{"UserId": "not-an-account"}]})
    assert (code, status) == ("InvalidAMIAttributeItemValue", 400)
    assert permissions() == []

    # Only the owner may change it.
    with pytest.raises(ClientError):
        member.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert image(shared, image_id)["Public"] is False


# Deprecation


@pytest.fixture
def clocked():
    # Open authentication: a 12-digit access key id signs as that account's root, and moving the
    # server's clock does not invalidate signatures made by the client's.
    server = Server(["--auth", "open", "--enable-clock-control"])
    server.access_key_id = server.account
    yield server
    server.close()


def test_deprecation_is_set_to_the_minute_and_hides_the_image_from_others_unless_asked_for(clocked):
    owner = clocked.client("ec2")
    other = clocked.client("ec2", access_key_id="111122223333", secret_access_key="x")
    made, _ = launched_image(owner, public_ami(clocked.client("ssm")), "deprecating")
    image_id = made["ImageId"]
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2, seconds=10)
    owner.enable_image_deprecation(ImageId=image_id, DeprecateAt=at)
    # Seconds are rounded to the nearest minute.
    rounded = (at + datetime.timedelta(seconds=30)).replace(second=0, microsecond=0)
    assert image(owner, image_id)["DeprecationTime"].startswith(rounded.strftime("%Y-%m-%dT%H:%M"))

    def listed(**kwargs):
        return image_id in {i["ImageId"] for i in other.describe_images(ExecutableUsers=["self"], **kwargs)["Images"]}

    assert listed()
    status, _ = clocked.admin("POST", "/_ingot/clock?advance=300")
    assert status == 200
    assert not listed()
    assert listed(IncludeDeprecated=True)
    assert image(other, image_id)["ImageId"] == image_id  # named by id, it is found
    assert image_id in {i["ImageId"] for i in owner.describe_images(Owners=["self"])["Images"]}  # owners see it

    owner.disable_image_deprecation(ImageId=image_id)
    assert "DeprecationTime" not in image(owner, image_id)
    assert listed()


def test_deprecation_cannot_be_in_the_past(ec2, golden):
    made, _ = golden
    with pytest.raises(ClientError) as e:
        ec2.enable_image_deprecation(ImageId=made["ImageId"],
                                     DeprecateAt=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"  # the message is unconfirmed
    assert "DeprecationTime" not in image(ec2, made["ImageId"])


# Snapshots


def test_describe_snapshots_by_owner_and_restorable_by(ingot, ec2, golden):
    made, _ = golden
    snapshots = set(snapshots_of(made))
    mine = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert snapshots <= mine
    assert snapshots <= {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=[ingot.account])["Snapshots"]}
    assert error(ec2.describe_snapshots, SnapshotIds=["snap-0643b6dcd0a6f01f0"]) == (
        "InvalidSnapshot.NotFound", "The snapshot 'snap-0643b6dcd0a6f01f0' does not exist.", 400)


def test_create_volume_permission_is_added_described_and_reset(org):  # noqa: F811
    shared = assume(org, org.shared).client("ec2")
    member = assume(org, org.member_a).client("ec2")
    made, _ = launched_image(shared, public_ami(assume(org, org.shared).client("ssm")), "volumes")
    snapshot = snapshots_of(made)[0]
    shared.modify_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission",
                                     OperationType="add", UserIds=[org.member_a])
    assert shared.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")[
        "CreateVolumePermissions"] == [{"UserId": org.member_a}]
    assert snapshot in {s["SnapshotId"] for s in member.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]}
    shared.reset_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")
    assert shared.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")[
        "CreateVolumePermissions"] == []


def test_copy_snapshot_re_encrypts_under_the_given_key(ingot, ec2, golden):
    made, _ = golden
    key = ingot.client("kms").create_key()["KeyMetadata"]
    copy = ec2.copy_snapshot(SourceSnapshotId=snapshots_of(made)[0], SourceRegion=REGION, Encrypted=True,
                             KmsKeyId=key["Arn"])["SnapshotId"]
    described = wait_for(lambda: (s := ec2.describe_snapshots(SnapshotIds=[copy])["Snapshots"][0])["State"]
                         == "completed" and s)
    assert (described["Encrypted"], described["KmsKeyId"]) == (True, key["Arn"])


def count_instances(ec2):
    return sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])


@pytest.fixture(scope="module")
def open_server():
    # Open authentication: a 12-digit access key id signs as that account's root.
    server = Server(["--auth", "open"])
    server.access_key_id = server.account
    yield server
    server.close()


def test_an_image_can_be_launched_by_another_account_only_once_it_has_launch_permission(open_server):
    owner = open_server.client("ec2")
    stranger = open_server.client("ec2", access_key_id="111122223333", secret_access_key="x")
    made, _ = launched_image(owner, public_ami(open_server.client("ssm")), "private-image")
    image_id = made["ImageId"]
    before = count_instances(stranger)
    assert error(stranger.run_instances, ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1) == (
        "InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist", 400)
    assert count_instances(stranger) == before
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": "111122223333"}]})
    instance_id = launch(stranger, image_id)
    running = wait_state(stranger, instance_id, "running")
    assert (running["ImageId"], instance(stranger, instance_id)["InstanceId"]) == (image_id, instance_id)
    assert error(owner.describe_instances, InstanceIds=[instance_id])[0] == "InvalidInstanceID.NotFound"
