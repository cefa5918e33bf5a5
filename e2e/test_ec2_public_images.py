"""EC2's public images: the Amazon Linux and Windows images every region has, which the public
`/aws/service/ami-…-latest/` parameters point at, as DescribeImages shows them (ImageIds, Owners,
filters) and AWS's errors for unknown and malformed ids. Texts are AWS's (docs/research/ec2-errors.md)."""

import re

import pytest

from ec2_support import AL2023_ARM, AL2023_X86, AL2_X86, AMAZON_OWNER, error, image, public_ami, public_ami_id

AMI = re.compile(r"ami-[0-9a-f]{17}")


@pytest.fixture(scope="module")
def ec2(ingot):
    return ingot.client("ec2")


# Public images


@pytest.mark.parametrize("name, architecture, prefix", [
    (AL2023_X86, "x86_64", "al2023-ami-"), (AL2023_ARM, "arm64", "al2023-ami-"), (AL2_X86, "x86_64", "amzn2-ami-hvm-")])
def test_the_public_amazon_linux_parameters_name_available_public_images_of_amazon(ingot, ec2, name, architecture,
                                                                                   prefix):
    ami = public_ami(ingot.client("ssm"), name)
    assert AMI.fullmatch(ami), ami
    found = image(ec2, ami)
    assert (found["State"], found["Public"], found["OwnerId"], found["ImageOwnerAlias"]) == (
        "available", True, AMAZON_OWNER, "amazon")
    assert found["Architecture"] == architecture and found["Name"].startswith(prefix)
    assert (found["RootDeviceType"], found["VirtualizationType"]) == ("ebs", "hvm")
    assert found["EnaSupport"] is True


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_the_suites_derive_the_public_image_ids_the_public_parameters_name(ingot, region):
    ssm = ingot.client("ssm", region=region)
    for name in (AL2023_X86, AL2023_ARM, AL2_X86):
        assert public_ami_id(region, name) == public_ami(ssm, name)


def test_every_region_has_its_own_public_images(ingot):
    east = public_ami(ingot.client("ssm", region="us-east-1"))
    west = public_ami(ingot.client("ssm", region="eu-west-1"))
    assert east != west
    assert image(ingot.client("ec2", region="eu-west-1"), west)["State"] == "available"
    assert error(ingot.client("ec2", region="eu-west-1").describe_images, ImageIds=[east]) == (
        "InvalidAMIID.NotFound", f"The image id '[{east}]' does not exist", 400)


def test_owners_amazon_lists_the_public_images_and_owners_self_does_not(ingot, ec2):
    ami = public_ami(ingot.client("ssm"))
    assert ami in {i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"]}
    assert ami not in {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    assert ami in {i["ImageId"] for i in ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*"]}])["Images"]}


# DescribeImages errors


def test_an_unknown_image_does_not_exist(ec2):
    assert error(ec2.describe_images, ImageIds=["ami-abcd1234"]) == (
        "InvalidAMIID.NotFound", "The image id '[ami-abcd1234]' does not exist", 400)
    assert error(ec2.describe_images, ImageIds=["ami-abcd1234", "ami-1234abcd"]) == (
        "InvalidAMIID.NotFound", "The image ids '[ami-abcd1234, ami-1234abcd]' do not exist", 400)


@pytest.mark.parametrize("bad", ["not_an_ami_id", "resolve:ssm:" + AL2023_X86])
def test_a_malformed_image_id_is_malformed(ec2, bad):
    assert error(ec2.describe_images, ImageIds=[bad]) == (
        "InvalidAMIID.Malformed", f'Invalid id: "{bad}" (expecting "ami-...")', 400)


def test_only_the_first_malformed_id_is_named(ec2):
    assert error(ec2.describe_images, ImageIds=["not_an_ami_id", "another_bad_ami_id"]) == (
        "InvalidAMIID.Malformed", 'Invalid id: "not_an_ami_id" (expecting "ami-...")', 400)
