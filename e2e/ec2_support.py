"""Helpers shared by the EC2 image, instance, launch template and acceptance suites: AWS's public
Amazon Linux parameters, errors as (code, message, status), and polling for the asynchronous states
(images pending → available, instances pending → running → …), and users held to one inline policy."""

import json
import time

import pytest
from botocore.exceptions import ClientError

PUBLIC = "/aws/service/ami-amazon-linux-latest/"
AL2023_X86 = PUBLIC + "al2023-ami-kernel-default-x86_64"
AL2023_ARM = PUBLIC + "al2023-ami-kernel-default-arm64"
AL2_X86 = PUBLIC + "amzn2-ami-hvm-x86_64-gp2"
AMAZON_OWNER = "137112412989"  # the account that owns Amazon Linux images
KMS_INVALID_STATE = ("Client.InvalidKMSKey.InvalidState",
                     "Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state")


def error(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    err = e.value.response["Error"]
    return err["Code"], err.get("Message", ""), e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def user_ec2(ingot, name, policy):
    """An EC2 client of a new IAM user whose only permissions are `policy` (a policy document)."""
    iam = ingot.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return ingot.client("ec2", access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"])


def wait_for(probe, timeout=120, interval=0.25):
    deadline = time.time() + timeout
    value = probe()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = probe()
    return value


def public_ami(ssm, name=AL2023_X86):
    return ssm.get_parameter(Name=name)["Parameter"]["Value"]


def public_ami_id(region, name=AL2023_X86):
    """The id of the public image behind `name` in `region`, without asking the server: Ingot derives
    it from the two (FNV-1a), and test_ec2_public_images.py checks that this agrees with the public
    parameter. For values written where no client is at hand yet (module constants)."""
    digest = 0xcbf29ce484222325
    for byte in f"{region}\0{name.lstrip('/')}".encode():
        digest = ((digest ^ byte) * 0x100000001b3) % (1 << 64)
    return f"ami-0{digest:016x}"


def image(ec2, image_id):
    return ec2.describe_images(ImageIds=[image_id])["Images"][0]


def wait_image(ec2, image_id, states=("available",)):
    found = wait_for(lambda: (i := image(ec2, image_id))["State"] in states + ("failed",) and i)
    assert found and found["State"] in states, found
    return found


def snapshots_of(img):
    return [m["Ebs"]["SnapshotId"] for m in img["BlockDeviceMappings"] if "Ebs" in m]


def instance(ec2, instance_id):
    [reservation] = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    [found] = reservation["Instances"]
    return found


def wait_state(ec2, instance_id, *states, timeout=120):
    found = wait_for(lambda: (i := instance(ec2, instance_id))["State"]["Name"] in states and i, timeout=timeout)
    assert found, instance(ec2, instance_id)
    return found


def launch(ec2, image_id, **kwargs):
    kwargs.setdefault("InstanceType", "t3.micro")
    reservation = ec2.run_instances(ImageId=image_id, MinCount=kwargs.pop("MinCount", 1),
                                    MaxCount=kwargs.pop("MaxCount", 1), **kwargs)
    return reservation["Instances"][0]["InstanceId"]


def launched_image(ec2, image_id, name, **kwargs):
    """An image of the caller's, made from an instance launched from `image_id`."""
    instance_id = launch(ec2, image_id)
    wait_state(ec2, instance_id, "running")
    made = ec2.create_image(InstanceId=instance_id, Name=name, **kwargs)["ImageId"]
    return wait_image(ec2, made), instance_id
