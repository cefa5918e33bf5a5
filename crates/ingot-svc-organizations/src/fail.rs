//! AWS's messages for Organizations' errors, and constructors for the exceptions that carry a
//! `Reason` (the generated constructors take a message only).

use crate::errors::OrganizationsError;
use crate::types::{
    ConstraintViolationException, ConstraintViolationExceptionReason as Cv, HandshakeConstraintViolationException,
    HandshakeConstraintViolationExceptionReason as Hcv, InvalidInputException, InvalidInputExceptionReason as Ii,
};

pub const NOT_IN_USE: &str = "Your account is not a member of an organization.";
pub const NOT_MANAGEMENT: &str = "You don't have permissions to access this resource.";
pub const ALREADY_IN_ORGANIZATION: &str = "The provided account is already a member of an organization.";
pub const ACCOUNT_NOT_FOUND: &str = "You specified an account that doesn't exist.";
pub const OU_NOT_FOUND: &str = "You specified an organizational unit that doesn't exist.";
pub const PARENT_NOT_FOUND: &str = "You specified parent that doesn't exist.";
pub const ROOT_NOT_FOUND: &str = "You specified a root that doesn't exist.";
pub const CHILD_NOT_FOUND: &str =
    "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.";
pub const TARGET_NOT_FOUND: &str = "You specified a target that doesn't exist.";
pub const POLICY_NOT_FOUND: &str = "We can't find a policy with the PolicyId that you specified.";
pub const STATUS_NOT_FOUND: &str =
    "We can't find an create account request with the CreateAccountRequestId that you specified.";
pub const HANDSHAKE_NOT_FOUND: &str = "We can't find a handshake with the HandshakeId that you specified.";
pub const SOURCE_PARENT_NOT_FOUND: &str = "We can't find a source root or OU with the ParentId that you specified.";
pub const DESTINATION_PARENT_NOT_FOUND: &str =
    "We can't find a destination root or OU with the ParentId that you specified.";
pub const DUPLICATE_ACCOUNT: &str = "That account is already present in the specified destination.";
pub const DUPLICATE_OU: &str = "An OU with the same name already exists.";
pub const DUPLICATE_POLICY: &str = "A policy with the same name already exists.";
pub const DUPLICATE_ATTACHMENT: &str = "The selected policy is already attached to the specified target.";
pub const DUPLICATE_HANDSHAKE: &str = "A handshake with the same action and target already exists.";
pub const POLICY_NOT_ATTACHED: &str = "The policy isn't attached to the specified target in the specified root.";
pub const POLICY_IN_USE: &str = "The policy is attached to one or more entities. You must detach it from all roots, \
                                 OUs, and accounts before performing this operation.";
pub const OU_NOT_EMPTY: &str = "The specified OU is not empty. Move all accounts to another root or to other OUs, \
                                remove all child OUs, and try the operation again.";
pub const ORGANIZATION_NOT_EMPTY: &str =
    "To delete an organization you must first remove all member accounts (except the management account).";
pub const MANAGEMENT_CANNOT_LEAVE: &str = "You can't remove the management account from an organization. \
                                           Instead, after you remove all member accounts, delete the organization itself.";
pub const POLICY_TYPE_ALREADY_ENABLED: &str = "The specified policy type is already enabled.";
pub const POLICY_TYPE_NOT_ENABLED: &str = "This operation can be performed only for enabled policy types.";
pub const POLICY_TYPE_NOT_AVAILABLE: &str =
    "You can't use the specified policy type with the feature set currently enabled for this organization.";
pub const ALREADY_ACCEPTED: &str = "The specified handshake is already in the requested state.";
pub const INVALID_TRANSITION: &str = "You can't perform the operation on the handshake in its current state.";

pub fn constraint(reason: Cv, message: impl Into<String>) -> OrganizationsError {
    ConstraintViolationException { message: Some(message.into()), reason: Some(reason) }.into()
}

pub fn invalid_input(reason: Ii, message: impl Into<String>) -> OrganizationsError {
    InvalidInputException { message: Some(message.into()), reason: Some(reason) }.into()
}

pub fn handshake_constraint(reason: Hcv, message: impl Into<String>) -> OrganizationsError {
    HandshakeConstraintViolationException { message: Some(message.into()), reason: Some(reason) }.into()
}

/// `MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED`.
pub fn too_many_attachments() -> OrganizationsError {
    constraint(
        Cv::MaxPolicyTypeAttachmentLimitExceeded,
        "You have attached the maximum number of policies to the specified target.",
    )
}

/// `MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED`: every root, OU and account keeps one SCP.
pub fn last_attachment() -> OrganizationsError {
    constraint(
        Cv::MinPolicyTypeAttachmentLimitExceeded,
        "You attempted to detach the last policy of this type from the specified target. \
         Every root, OU and account must have at least one service control policy attached.",
    )
}

/// `IMMUTABLE_POLICY`: AWS's managed policies cannot be changed or deleted.
pub fn immutable_policy() -> OrganizationsError {
    invalid_input(Ii::ImmutablePolicy, "You specified a policy that is managed by AWS and can't be modified.")
}

pub fn invalid_next_token() -> OrganizationsError {
    invalid_input(Ii::InvalidNextToken, "You provided an invalid NextToken value.")
}

pub fn too_many_tags() -> OrganizationsError {
    constraint(Cv::MaxTagLimitExceeded, "You have exceeded the maximum number of tags allowed on this resource.")
}

pub fn duplicate_tag_key() -> OrganizationsError {
    invalid_input(Ii::DuplicateTagKey, "Tag keys must be unique among the tags attached to the same entity.")
}

pub fn already_in_an_organization() -> OrganizationsError {
    handshake_constraint(
        Hcv::AlreadyInAnOrganization,
        "The handshake request is invalid because the invited account is already a member of an organization.",
    )
}
