"""Issue acceptance (KMS), in the organization of the identity issue (test_identity_acceptance.py:
a management account, a shared-services account, members A and B in the OU `workloads`, and an
account outside the organization):

the shared-services account creates a key whose policy lets the organization (`aws:PrincipalOrgID`)
`kms:Decrypt` and `kms:DescribeKey`; a member account's role encrypts nothing but decrypts a ciphertext
made in the shared-services account; the account outside the organization cannot; disabling the key
stops both, enabling it restores them; a grant to a member role allows `kms:Decrypt` until it is
retired; a SecureString parameter under that key is readable with decryption by a member that the key
policy allows; scheduling deletion makes every use fail with `KMSInvalidStateException` and cancelling
restores the key.

Cross-account use needs both sides: the key policy (here, the organization statement) and an identity
policy in the member account naming the key ARN; a grant alone is enough for its grantee.
"""

import base64
import json
import os
import tempfile

import pytest
from botocore.exceptions import ClientError

from test_identity_acceptance import ADMIN_ROLE, assume, org, session_in_role  # noqa: F401 (org is a fixture)

PLAINTEXT = b"golden pipeline signing secret"
CONTEXT = {"pipeline": "golden"}
PARAMETER = "/golden/db-password"


def member_role(org, account, name, policy):
    """A role in `account` the platform administrator may assume, with `policy` inline."""
    iam = assume(org, account).client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.mgmt}:root"}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    return arn


def failure(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"].get("Message", "")


def test_an_organization_key_serves_its_members_as_aws_decides(org):
    org_id = org.server.client("organizations").describe_organization()["Organization"]["Id"]
    shared = assume(org, org.shared)
    kms_shared, ssm_shared = shared.client("kms"), shared.client("ssm")

    # The shared-services account creates a key for the organization.
    policy = {"Version": "2012-10-17", "Id": "golden-secrets", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{org.shared}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Organization may decrypt", "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}]}
    key = kms_shared.create_key(Policy=json.dumps(policy), Description="golden pipeline secrets")["KeyMetadata"]
    key_arn = key["Arn"]
    assert key["AWSAccountId"] == org.shared
    assert json.loads(kms_shared.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == policy
    kms_shared.create_alias(AliasName="alias/golden-secrets", TargetKeyId=key["KeyId"])
    sealed = kms_shared.encrypt(KeyId="alias/golden-secrets", Plaintext=PLAINTEXT,
                                EncryptionContext=CONTEXT)["CiphertextBlob"]

    # A member role allowed kms:Decrypt and kms:DescribeKey on the key ARN (its side of the bargain)
    # decrypts the shared-services ciphertext and describes the key, and encrypts nothing.
    reader_arn = member_role(org, org.member_a, "key-user", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key_arn}]})
    reader = session_in_role(org, reader_arn)
    kms_reader = reader.client("kms")
    out = kms_reader.decrypt(CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn)
    assert (out["Plaintext"], out["KeyId"]) == (PLAINTEXT, key_arn)
    assert kms_reader.decrypt(CiphertextBlob=sealed, EncryptionContext=CONTEXT)["Plaintext"] == PLAINTEXT
    described = kms_reader.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert (described["AWSAccountId"], described["KeyId"]) == (org.shared, key["KeyId"])
    code, message = failure(kms_reader.encrypt, KeyId=key_arn, Plaintext=b"x")
    assert code == "AccessDeniedException"
    assert f"is not authorized to perform: kms:Encrypt on resource: {key_arn}" in message
    # Another account's key is named by its ARN: an alias name is looked up in the caller's account
    # (asked by member A's administrator, whom IAM allows everything).
    member_admin_kms = assume(org, org.member_a).client("kms")
    assert failure(member_admin_kms.describe_key, KeyId="alias/golden-secrets") == (
        "NotFoundException", f"Alias arn:aws:kms:us-east-1:{org.member_a}:alias/golden-secrets is not found.")

    # The same through an unmodified AWS CLI profile (member A's administrator role).
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sealed.bin")
        with open(path, "wb") as f:
            f.write(sealed)
        plain = org.cli("member-a", "kms", "decrypt", "--ciphertext-blob", f"fileb://{path}",
                        "--encryption-context", "pipeline=golden", "--query", "Plaintext", "--output", "text")
        assert base64.b64decode(plain.stdout.strip()) == PLAINTEXT

    # The account outside the organization cannot, even as its administrator.
    kms_outside = assume(org, org.outside).client("kms")
    outside_denied = (
        "AccessDeniedException",
        f"User: arn:aws:sts::{org.outside}:assumed-role/{ADMIN_ROLE}/acceptance is not authorized to perform: "
        f"kms:Decrypt on resource: {key_arn} because no resource-based policy allows the kms:Decrypt action")
    assert failure(kms_outside.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn) == \
        outside_denied

    # Disabling the key stops the member and the owner alike; enabling it restores both.
    kms_shared.disable_key(KeyId=key["KeyId"])
    disabled = ("DisabledException", f"{key_arn} is disabled.")
    assert failure(kms_reader.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn) == disabled
    assert failure(kms_shared.encrypt, KeyId=key["KeyId"], Plaintext=b"x") == disabled
    assert failure(kms_outside.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn)[0] == \
        "AccessDeniedException"
    kms_shared.enable_key(KeyId=key["KeyId"])
    assert kms_reader.decrypt(CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn)["Plaintext"] == PLAINTEXT
    assert kms_shared.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["KeyId"] == key_arn

    # A member B role without any KMS identity permission is refused (the key policy alone is not
    # enough across accounts) until the shared-services account grants it kms:Decrypt; retiring the
    # grant takes that back.
    grantee_arn = member_role(org, org.member_b, "grantee", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]})
    kms_grantee = session_in_role(org, grantee_arn, "granted").client("kms")
    grantee_session = f"arn:aws:sts::{org.member_b}:assumed-role/grantee/granted"
    assert failure(kms_grantee.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn) == (
        "AccessDeniedException",
        f"User: {grantee_session} is not authorized to perform: kms:Decrypt on resource: {key_arn} "
        "because no identity-based policy allows the kms:Decrypt action")
    grant = kms_shared.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee_arn, Operations=["Decrypt"],
                                    RetiringPrincipal=f"arn:aws:iam::{org.shared}:role/{ADMIN_ROLE}")
    listed = kms_shared.list_grants(KeyId=key["KeyId"])["Grants"]
    assert [(g["GrantId"], g["GranteePrincipal"], g["Operations"]) for g in listed] == [
        (grant["GrantId"], grantee_arn, ["Decrypt"])]
    out = kms_grantee.decrypt(CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn,
                              GrantTokens=[grant["GrantToken"]])
    assert out["Plaintext"] == PLAINTEXT
    assert failure(kms_grantee.encrypt, KeyId=key_arn, Plaintext=b"x", GrantTokens=[grant["GrantToken"]])[0] == \
        "AccessDeniedException"
    kms_shared.retire_grant(GrantToken=grant["GrantToken"])
    assert kms_shared.list_grants(KeyId=key["KeyId"])["Grants"] == []
    assert failure(kms_grantee.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn)[0] == \
        "AccessDeniedException"

    # A SecureString parameter under the key. Choice: the member checks the KMS side itself, calling
    # kms:Decrypt on the parameter's stored ciphertext with the encryption context Parameter Store
    # binds it to ({"PARAMETER_ARN": <parameter ARN>}). A member cannot call ssm:GetParameter on
    # another account's parameter until RAM sharing exists (a later issue), and reading it through
    # a role of the shared-services account would exercise that account's own principal, not the
    # member the key policy allows; the KMS call is exactly the decryption SSM would do for the member.
    ssm_shared.put_parameter(Name=PARAMETER, Value="hunter2", Type="SecureString", KeyId=key_arn)
    parameter_arn = f"arn:aws:ssm:us-east-1:{org.shared}:parameter{PARAMETER}"
    read = ssm_shared.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    assert (read["Value"], read["ARN"]) == ("hunter2", parameter_arn)
    stored = base64.b64decode(ssm_shared.get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    out = kms_reader.decrypt(CiphertextBlob=stored, KeyId=key_arn, EncryptionContext={"PARAMETER_ARN": parameter_arn})
    assert (out["Plaintext"], out["KeyId"]) == (b"hunter2", key_arn)
    assert failure(kms_reader.decrypt, CiphertextBlob=stored, KeyId=key_arn) == ("InvalidCiphertextException", "")
    assert failure(kms_outside.decrypt, CiphertextBlob=stored, KeyId=key_arn,
                   EncryptionContext={"PARAMETER_ARN": parameter_arn})[0] == "AccessDeniedException"

    # Scheduling deletion makes every use fail with KMSInvalidStateException, SSM's included.
    scheduled = kms_shared.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion"
    pending = ("KMSInvalidStateException", f"{key_arn} is pending deletion.")
    assert failure(kms_reader.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn) == pending
    assert failure(kms_reader.decrypt, CiphertextBlob=stored, KeyId=key_arn,
                   EncryptionContext={"PARAMETER_ARN": parameter_arn}) == pending
    assert failure(kms_shared.encrypt, KeyId="alias/golden-secrets", Plaintext=b"x") == pending
    assert failure(kms_shared.generate_data_key, KeyId=key["KeyId"], KeySpec="AES_256") == pending
    assert failure(kms_shared.create_grant, KeyId=key["KeyId"], GranteePrincipal=grantee_arn,
                   Operations=["Decrypt"]) == pending
    code, message = failure(ssm_shared.get_parameter, Name=PARAMETER, WithDecryption=True)
    assert code == "InvalidKeyId"
    assert message.startswith(f"{key_arn} is pending deletion. (Service: AWSKMS; Status Code: 400; "
                              "Error Code: KMSInvalidStateException; Request ID: ")
    assert kms_reader.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"

    # Cancelling restores the key: Disabled, as AWS leaves it, then enabled for everyone again.
    assert kms_shared.cancel_key_deletion(KeyId=key["KeyId"])["KeyId"] == key_arn
    restored = kms_reader.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert (restored["KeyState"], restored["Enabled"]) == ("Disabled", False) and "DeletionDate" not in restored
    kms_shared.enable_key(KeyId=key["KeyId"])
    assert kms_reader.decrypt(CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn)["Plaintext"] == PLAINTEXT
    assert ssm_shared.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == "hunter2"
    assert failure(kms_outside.decrypt, CiphertextBlob=sealed, EncryptionContext=CONTEXT, KeyId=key_arn) == \
        outside_denied
