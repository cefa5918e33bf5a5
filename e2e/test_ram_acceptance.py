"""Issue acceptance (RAM and shared parameters), in the organization of the identity issue
(test_identity_acceptance.py), driven by unmodified AWS CLI profiles that assume
`OrganizationAccountAccessRole`:

the shared-services account creates an Advanced `aws:ec2:image` parameter `/golden/al2023/x86_64`, writes
two versions, labels version 2 `latest`, and shares it with the organization (`allowExternalPrincipals`
false). A member account reads `ARN:latest` (version 2's value) and `ARN:1` (version 1's, the rollback
pin); its short name gives `ParameterNotFound`; put, label and delete on the ARN are denied; the account
outside the organization cannot read it, and with `allowExternalPrincipals` true it can only after
accepting the invitation. A member role whose policy allows only `ssm:GetParameter` on that ARN reads it;
an SCP on the OU denying `ssm:GetParameter*` stops it; moving `latest` to version 1 in the owner account
changes what every member resolves on its next read. Sharing a Standard parameter fails.

Unconfirmed on AWS (see /tmp/ram-errors.md): whether sharing a Standard parameter is refused at once or
ends in a FAILED association; the test accepts either and asserts that nothing becomes readable.
"""

import json

from botocore.exceptions import ClientError

from ec2_support import AL2023_ARM, AL2023_X86, public_ami_id, wait_for
from test_identity_acceptance import PARAMETER, denied, org  # noqa: F401 (org is a fixture)

# aws:ec2:image values must name images the account may use: the public Amazon Linux ones.
AMI_V1, AMI_V2 = public_ami_id("us-east-1", AL2023_X86), public_ami_id("us-east-1", AL2023_ARM)
OUTSIDE_ORG = ("Principal {} is not in your AWS organization. You do not have permission to add external "
               "AWS accounts to a resource share.")


def cli_json(org, profile, *args):
    return json.loads(org.cli(profile, *args).stdout or "{}")


def resolve(org, profile, name):
    return cli_json(org, profile, "ssm", "get-parameter", "--name", name)["Parameter"]


def association_status(org, share, kind, entity):
    found = cli_json(org, "shared", "ram", "get-resource-share-associations", "--association-type", kind,
                     "--resource-share-arns", share)["resourceShareAssociations"]
    found = [a for a in found if a["associatedEntity"] == entity]
    return found[0]["status"] if found else None


def settled(org, share, kind, entity):
    return wait_for(lambda: (s := association_status(org, share, kind, entity)) not in (
        None, "ASSOCIATING", "DISASSOCIATING") and s)


def add_profile(org, name, role_arn):
    with open(org.config, "a") as f:
        f.write(f"\n[profile {name}]\nrole_arn = {role_arn}\nsource_profile = platform-admin\n"
                f"region = us-east-1\nendpoint_url = {org.server.endpoint}\n")


def test_one_pointer_is_published_and_every_account_in_the_organization_resolves_it_by_arn(org):
    arn = org.arn
    orgs = org.server.client("organizations")
    organization = orgs.describe_organization()["Organization"]

    # The shared-services account publishes two versions and labels version 2 `latest`.
    created = cli_json(org, "shared", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String",
                       "--tier", "Advanced", "--data-type", "aws:ec2:image", "--value", AMI_V1)
    assert (created["Version"], created["Tier"]) == (1, "Advanced")
    cli_json(org, "shared", "ssm", "put-parameter", "--name", PARAMETER, "--type", "String", "--data-type",
             "aws:ec2:image", "--value", AMI_V2, "--overwrite")
    assert wait_for(lambda: resolve(org, "shared", PARAMETER)["Version"] == 2)
    labelled = cli_json(org, "shared", "ssm", "label-parameter-version", "--name", PARAMETER,
                        "--parameter-version", "2", "--labels", "latest")
    assert (labelled["InvalidLabels"], labelled["ParameterVersion"]) == ([], 2)

    # The management account enables sharing with the organization; the shared-services account shares.
    assert cli_json(org, "platform-admin", "ram", "enable-sharing-with-aws-organization")["returnValue"] is True
    share = cli_json(org, "shared", "ram", "create-resource-share", "--name", "golden-amis", "--resource-arns", arn,
                     "--principals", organization["Arn"], "--no-allow-external-principals")["resourceShare"]
    share_arn = share["resourceShareArn"]
    assert (share["owningAccountId"], share["allowExternalPrincipals"]) == (org.shared, False)
    assert settled(org, share_arn, "RESOURCE", arn) == "ASSOCIATED"
    assert settled(org, share_arn, "PRINCIPAL", organization["Arn"]) == "ASSOCIATED"

    # A member account resolves ARN:latest (version 2) and ARN:1 (the rollback pin), by CLI profile.
    for profile in ("member-a", "member-b"):
        latest = resolve(org, profile, f"{arn}:latest")
        assert (latest["Value"], latest["Version"], latest["ARN"], latest["DataType"]) == (
            AMI_V2, 2, arn, "aws:ec2:image")
        pinned = resolve(org, profile, f"{arn}:1")
        assert (pinned["Value"], pinned["Version"]) == (AMI_V1, 1)
    listed = cli_json(org, "member-a", "ssm", "describe-parameters", "--shared")["Parameters"]
    assert [p["ARN"] for p in listed if p.get("ARN") == arn] == [arn]

    # Its short name is not found in the member's account.
    denied(org.cli("member-a", "ssm", "get-parameter", "--name", PARAMETER, check=False), "ParameterNotFound")

    # Put, label and delete on the ARN are denied, and the owner's parameter is unchanged.
    for args in (("put-parameter", "--name", arn, "--type", "String", "--value", "ami-0bad0bad0bad0bad0",
                  "--overwrite"),
                 ("label-parameter-version", "--name", arn, "--parameter-version", "1", "--labels", "latest"),
                 ("delete-parameter", "--name", arn)):
        # Whether AWS answers a write naming an ARN with an access denial or with its malformed-name
        # ValidationException is unconfirmed (writes take a plain name only); either refuses it.
        action = "ssm:" + "".join(w.capitalize() for w in args[0].split("-"))
        refused = org.cli("member-a", "ssm", *args, check=False)
        assert refused.returncode != 0, refused.stdout
        if "AccessDeniedException" in refused.stderr:
            assert f"is not authorized to perform: {action} on resource: {arn}" in refused.stderr, refused.stderr
        else:
            assert "(ValidationException)" in refused.stderr, refused.stderr
    owner_view = resolve(org, "shared", f"{PARAMETER}:latest")
    assert (owner_view["Version"], owner_view["Value"]) == (2, AMI_V2)

    # The account outside the organization cannot read it, nor be added while external principals are off.
    message = denied(org.cli("outside", "ssm", "get-parameter", "--name", f"{arn}:latest", check=False))
    assert f"is not authorized to perform: ssm:GetParameter on resource: {arn}" in message
    refused = org.cli("shared", "ram", "associate-resource-share", "--resource-share-arn", share_arn,
                      "--principals", org.outside, check=False)
    assert refused.returncode != 0
    assert "InvalidParameterException" in refused.stderr and OUTSIDE_ORG.format(org.outside) in refused.stderr

    # With allowExternalPrincipals true it gets an invitation, and reads only after accepting it.
    updated = cli_json(org, "shared", "ram", "update-resource-share", "--resource-share-arn", share_arn,
                       "--allow-external-principals")["resourceShare"]
    assert updated["allowExternalPrincipals"] is True
    cli_json(org, "shared", "ram", "associate-resource-share", "--resource-share-arn", share_arn,
             "--principals", org.outside)
    invitations = wait_for(lambda: cli_json(org, "outside", "ram", "get-resource-share-invitations",
                                            "--resource-share-arns", share_arn)["resourceShareInvitations"])
    assert [(i["status"], i["senderAccountId"], i["receiverAccountId"]) for i in invitations] == [
        ("PENDING", org.shared, org.outside)]
    denied(org.cli("outside", "ssm", "get-parameter", "--name", f"{arn}:latest", check=False))
    accepted = cli_json(org, "outside", "ram", "accept-resource-share-invitation",
                        "--resource-share-invitation-arn", invitations[0]["resourceShareInvitationArn"])
    assert accepted["resourceShareInvitation"]["status"] == "ACCEPTED"
    assert settled(org, share_arn, "PRINCIPAL", org.outside) == "ASSOCIATED"
    assert resolve(org, "outside", f"{arn}:latest")["Value"] == AMI_V2

    # A member role allowed only ssm:GetParameter on that ARN reads it, and nothing else.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.mgmt}:root"}, "Action": "sts:AssumeRole"}]}
    only_get = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn}]}
    role = cli_json(org, "member-a", "iam", "create-role", "--role-name", "golden-consumer",
                    "--assume-role-policy-document", json.dumps(trust))["Role"]["Arn"]
    org.cli("member-a", "iam", "put-role-policy", "--role-name", "golden-consumer", "--policy-name", "read-golden",
            "--policy-document", json.dumps(only_get))
    add_profile(org, "golden-consumer", role)
    assert resolve(org, "golden-consumer", f"{arn}:latest")["Value"] == AMI_V2
    message = denied(org.cli("golden-consumer", "ssm", "get-parameters", "--names", f"{arn}:latest", check=False))
    assert "because no identity-based policy allows the ssm:GetParameters action" in message

    # An SCP on the OU denying ssm:GetParameter* stops it (and the members' administrators), not the owner
    # nor the account outside the organization; detaching it lifts it at once.
    try:
        orgs.enable_policy_type(RootId=org.root_id, PolicyType="SERVICE_CONTROL_POLICY")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "PolicyTypeAlreadyEnabledException"
    scp = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ssm:GetParameter*", "Resource": "*"}]}
    policy_id = orgs.create_policy(Name="no-golden-reads", Description="members read no parameters",
                                   Type="SERVICE_CONTROL_POLICY", Content=json.dumps(scp))["Policy"][
        "PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=policy_id, TargetId=org.workloads)
    for profile in ("golden-consumer", "member-a", "member-b"):
        message = denied(org.cli(profile, "ssm", "get-parameter", "--name", f"{arn}:latest", check=False))
        assert "with an explicit deny in a service control policy" in message, (profile, message)
    assert resolve(org, "shared", f"{PARAMETER}:latest")["Value"] == AMI_V2
    assert resolve(org, "outside", f"{arn}:latest")["Value"] == AMI_V2
    orgs.detach_policy(PolicyId=policy_id, TargetId=org.workloads)
    assert resolve(org, "golden-consumer", f"{arn}:latest")["Value"] == AMI_V2

    # Moving `latest` to version 1 in the owner account changes what every member resolves next.
    cli_json(org, "shared", "ssm", "label-parameter-version", "--name", PARAMETER, "--parameter-version", "1",
             "--labels", "latest")
    for profile in ("member-a", "member-b", "golden-consumer", "outside"):
        got = resolve(org, profile, f"{arn}:latest")
        assert (got["Version"], got["Value"]) == (1, AMI_V1), profile

    # Sharing a Standard parameter fails: refused at once, or the resource association ends FAILED
    # (which of the two is unconfirmed); no member can read it either way.
    standard = "/golden/al2023/standard"
    standard_arn = org.arn.replace(PARAMETER, standard)
    cli_json(org, "shared", "ssm", "put-parameter", "--name", standard, "--type", "String", "--tier", "Standard",
             "--value", "not-shareable")
    attempt = org.cli("shared", "ram", "create-resource-share", "--name", "standard", "--resource-arns",
                      standard_arn, "--principals", organization["Arn"], "--no-allow-external-principals",
                      check=False)
    if attempt.returncode != 0:
        assert "An error occurred (" in attempt.stderr, attempt.stderr
    else:
        standard_share = json.loads(attempt.stdout)["resourceShare"]["resourceShareArn"]
        assert settled(org, standard_share, "RESOURCE", standard_arn) == "FAILED"
    message = denied(org.cli("member-a", "ssm", "get-parameter", "--name", standard_arn, check=False))
    assert f"is not authorized to perform: ssm:GetParameter on resource: {standard_arn}" in message
