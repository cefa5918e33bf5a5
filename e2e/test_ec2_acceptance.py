"""Issue acceptance (EC2), in the organization of the identity issue (test_identity_acceptance.py), driven
by unmodified AWS CLI profiles that assume `OrganizationAccountAccessRole`, with the parameter sharing of
the RAM issue (test_ram_acceptance.py):

Shared-services account: enable EBS encryption by default; launch from the public AL2023 image
(resolved through its public parameter); create an image; create the dedicated key whose policy lets the
organization decrypt and describe it (and attach it to EBS volumes through grants); copy the image
re-encrypting with that key (twice: version 1 and version 2 of the golden image); add the organization as
a launch permission; write the copies' ids to the shared `aws:ec2:image` parameter and label version 2
`latest`; deregister the intermediate image and delete its snapshot (before deregistering, deletion
fails with `InvalidSnapshot.InUse`).

Member account: `run-instances --image-id resolve:ssm:<parameter ARN>:latest` with a role lacking
`kms:CreateGrant` → the instance terminates with `Client.InvalidKMSKey.InvalidState`; after adding
`kms:CreateGrant`, `kms:Decrypt` and `kms:DescribeKey` on the key, the instance reaches running; a launch
template with the same reference launches too; pinning `:1` launches the earlier image (rollback). The
account outside the organization cannot see or launch the image.

Unconfirmed on AWS (see docs/research/ec2-errors.md): the code RunInstances answers when the caller may not read
the parameter; the test asserts that the call fails and launches nothing.
"""

import json

from ec2_support import AL2023_X86, KMS_INVALID_STATE, snapshots_of, wait_for
from test_identity_acceptance import ADMIN_ROLE, PARAMETER, org, session_in_role  # noqa: F401 (org is a fixture)
from test_ram_acceptance import add_profile, cli_json, settled


def state(ec2, instance_id):
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def settle(ec2, instance_id, *states):
    found = wait_for(lambda: (i := state(ec2, instance_id))["State"]["Name"] in states and i, timeout=180)
    assert found, state(ec2, instance_id)
    return found


def available(ec2, image_id):
    found = wait_for(lambda: (i := ec2.describe_images(ImageIds=[image_id])["Images"][0])["State"] in (
        "available", "failed") and i, timeout=180)
    assert found and found["State"] == "available", found
    return found


def run(org, profile, *args):
    return cli_json(org, profile, "ec2", "run-instances", "--instance-type", "t3.micro", "--count", "1",
                    *args)["Instances"][0]["InstanceId"]


def test_a_golden_image_is_published_encrypted_to_the_organization_and_launched_by_reference(org):
    arn = org.arn
    organization = org.server.client("organizations").describe_organization()["Organization"]
    admin = f"arn:aws:iam::{{}}:role/{ADMIN_ROLE}"
    shared_ec2 = session_in_role(org, admin.format(org.shared)).client("ec2")

    # Shared-services: encryption by default, then an instance of the public AL2023 image.
    assert cli_json(org, "shared", "ec2", "enable-ebs-encryption-by-default") == {"EbsEncryptionByDefault": True}
    public = cli_json(org, "shared", "ssm", "get-parameter", "--name", AL2023_X86)["Parameter"]["Value"]
    builder = run(org, "shared", "--image-id", f"resolve:ssm:{AL2023_X86}")
    running = settle(shared_ec2, builder, "running")
    assert running["ImageId"] == public
    root_volume = running["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    assert shared_ec2.describe_volumes(VolumeIds=[root_volume])["Volumes"][0]["Encrypted"] is True

    # The intermediate image.
    intermediate = cli_json(org, "shared", "ec2", "create-image", "--instance-id", builder,
                            "--name", "al2023-golden-intermediate")["ImageId"]
    intermediate_snapshots = snapshots_of(available(shared_ec2, intermediate))

    # The dedicated key: the organization may decrypt and describe it, and attach it to volumes.
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{org.shared}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "OrganizationUse", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization["Id"]}}},
        {"Sid": "OrganizationAttachment", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization["Id"]},
                       "Bool": {"kms:GrantIsForAWSResource": "true"}}}]}
    key = cli_json(org, "shared", "kms", "create-key", "--description", "golden AMIs",
                   "--policy", json.dumps(policy))["KeyMetadata"]

    # Two re-encrypted copies (the golden image's versions 1 and 2), launchable by the organization.
    copies = []
    for version in (1, 2):
        copy = cli_json(org, "shared", "ec2", "copy-image", "--source-image-id", intermediate, "--source-region",
                        "us-east-1", "--name", f"al2023-golden-v{version}", "--encrypted", "--kms-key-id",
                        key["Arn"])["ImageId"]
        copied = available(shared_ec2, copy)
        for snapshot in shared_ec2.describe_snapshots(SnapshotIds=snapshots_of(copied))["Snapshots"]:
            assert (snapshot["Encrypted"], snapshot["KmsKeyId"]) == (True, key["Arn"])
        org.cli("shared", "ec2", "modify-image-attribute", "--image-id", copy, "--launch-permission",
                json.dumps({"Add": [{"OrganizationArn": organization["Arn"]}]}))
        copies.append(copy)
    v1, v2 = copies
    permissions = cli_json(org, "shared", "ec2", "describe-image-attribute", "--image-id", v2, "--attribute",
                           "launchPermission")["LaunchPermissions"]
    assert permissions == [{"OrganizationArn": organization["Arn"]}]

    # The shared pointer: version 1 → v1, version 2 → v2 labelled latest, shared with the organization.
    cli_json(org, "shared", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String", "--tier", "Advanced",
             "--data-type", "aws:ec2:image", "--value", v1)
    cli_json(org, "shared", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String", "--data-type",
             "aws:ec2:image", "--value", v2, "--overwrite")
    cli_json(org, "shared", "ssm", "label-parameter-version", "--name", PARAMETER, "--parameter-version", "2",
             "--labels", "latest")
    cli_json(org, "platform-admin", "ram", "enable-sharing-with-aws-organization")
    share = cli_json(org, "shared", "ram", "create-resource-share", "--name", "golden-amis", "--resource-arns", arn,
                     "--principals", organization["Arn"], "--no-allow-external-principals")["resourceShare"]
    assert settled(org, share["resourceShareArn"], "RESOURCE", arn) == "ASSOCIATED"
    assert settled(org, share["resourceShareArn"], "PRINCIPAL", organization["Arn"]) == "ASSOCIATED"

    # The intermediate image's snapshot is in use until the image is deregistered.
    snapshot = intermediate_snapshots[0]
    refused = org.cli("shared", "ec2", "delete-snapshot", "--snapshot-id", snapshot, check=False)
    assert refused.returncode != 0
    assert ("An error occurred (InvalidSnapshot.InUse) when calling the DeleteSnapshot operation: "
            f"The snapshot {snapshot} is currently in use by {intermediate}") in refused.stderr
    org.cli("shared", "ec2", "deregister-image", "--image-id", intermediate)
    for each in intermediate_snapshots:
        org.cli("shared", "ec2", "delete-snapshot", "--snapshot-id", each)
    gone = org.cli("shared", "ec2", "describe-snapshots", "--snapshot-ids", snapshot, check=False)
    assert f"The snapshot '{snapshot}' does not exist." in gone.stderr
    # The copies do not depend on it.
    assert available(shared_ec2, v2)["ImageId"] == v2

    # Member account: a launcher role that may run instances and read the pointer, but has no KMS rights.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.mgmt}:root"}, "Action": "sts:AssumeRole"}]}
    launch_rights = [
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Describe*", "ec2:CreateTags", "ec2:TerminateInstances",
                                       "ec2:CreateLaunchTemplate", "ec2:DescribeLaunchTemplates"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"], "Resource": arn}]
    role = cli_json(org, "member-a", "iam", "create-role", "--role-name", "golden-launcher",
                    "--assume-role-policy-document", json.dumps(trust))["Role"]["Arn"]
    org.cli("member-a", "iam", "put-role-policy", "--role-name", "golden-launcher", "--policy-name", "launch",
            "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": launch_rights}))
    add_profile(org, "golden-launcher", role)
    launcher_ec2 = session_in_role(org, role).client("ec2")

    # Without kms:CreateGrant the launch is accepted, then the instance terminates.
    doomed = run(org, "golden-launcher", "--image-id", f"resolve:ssm:{arn}:latest")
    ended = settle(launcher_ec2, doomed, "terminated")
    assert ended["ImageId"] == v2
    assert (ended["StateReason"]["Code"], ended["StateReason"]["Message"]) == KMS_INVALID_STATE
    assert KMS_INVALID_STATE[1] in ended["StateTransitionReason"]

    # With kms:CreateGrant, kms:Decrypt and kms:DescribeKey on the key, it reaches running.
    kms_rights = {"Effect": "Allow", "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey"],
                  "Resource": key["Arn"]}
    org.cli("member-a", "iam", "put-role-policy", "--role-name", "golden-launcher", "--policy-name", "launch",
            "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": launch_rights + [kms_rights]}))
    launched = run(org, "golden-launcher", "--image-id", f"resolve:ssm:{arn}:latest")
    assert settle(launcher_ec2, launched, "running", "terminated")["State"]["Name"] == "running"
    assert state(launcher_ec2, launched)["ImageId"] == v2

    # A launch template with the same reference launches too.
    template = cli_json(org, "golden-launcher", "ec2", "create-launch-template", "--launch-template-name",
                        "golden", "--launch-template-data",
                        json.dumps({"ImageId": f"resolve:ssm:{arn}:latest", "InstanceType": "t3.micro"}))
    template_id = template["LaunchTemplate"]["LaunchTemplateId"]
    from_template = cli_json(org, "golden-launcher", "ec2", "run-instances", "--launch-template",
                             f"LaunchTemplateId={template_id}")["Instances"][0]["InstanceId"]
    assert settle(launcher_ec2, from_template, "running", "terminated")["State"]["Name"] == "running"
    assert state(launcher_ec2, from_template)["ImageId"] == v2

    # Pinning version 1 launches the earlier image (rollback).
    pinned = run(org, "golden-launcher", "--image-id", f"resolve:ssm:{arn}:1")
    assert settle(launcher_ec2, pinned, "running", "terminated")["State"]["Name"] == "running"
    assert state(launcher_ec2, pinned)["ImageId"] == v1

    # The account outside the organization can neither see nor launch it.
    outside_ec2 = session_in_role(org, admin.format(org.outside)).client("ec2")
    for image_id in (v1, v2):
        hidden = org.cli("outside", "ec2", "describe-images", "--image-ids", image_id, check=False)
        assert hidden.returncode != 0
        assert f"(InvalidAMIID.NotFound) when calling the DescribeImages operation: " \
               f"The image id '[{image_id}]' does not exist" in hidden.stderr
    before = sum(len(r["Instances"]) for r in outside_ec2.describe_instances()["Reservations"])
    direct = org.cli("outside", "ec2", "run-instances", "--image-id", v2, "--instance-type", "t3.micro",
                     "--count", "1", check=False)
    assert f"(InvalidAMIID.NotFound) when calling the RunInstances operation: " \
           f"The image id '[{v2}]' does not exist" in direct.stderr
    by_reference = org.cli("outside", "ec2", "run-instances", "--image-id", f"resolve:ssm:{arn}:latest",
                           "--instance-type", "t3.micro", "--count", "1", check=False)
    assert by_reference.returncode != 0 and "An error occurred (" in by_reference.stderr
    assert sum(len(r["Instances"]) for r in outside_ec2.describe_instances()["Reservations"]) == before
