//! The one table that turns a [`CommonKind`] into a wire code and HTTP status, per protocol
//! family.
//!
//! Families: JSON (awsJson 1.0/1.1), restJson1 (the JSON table with a few REST statuses),
//! awsQuery and ec2Query. Query-family error bodies carry `<Type>Sender</Type>` for 4xx and
//! `Receiver` for 5xx, which [`is_sender`] decides.

use ingot_core::model::Protocol;
use ingot_core::CommonKind;

/// A wire error code and the HTTP status it travels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireCode {
    pub code: &'static str,
    pub status: u16,
}

const fn w(code: &'static str, status: u16) -> WireCode {
    WireCode { code, status }
}

/// Wire code and status of a common failure under `protocol`.
pub fn common_wire(kind: CommonKind, protocol: Protocol) -> WireCode {
    use CommonKind as K;
    match protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 | Protocol::RestJson1 => {
            let rest = protocol == Protocol::RestJson1;
            match kind {
                K::AccessDenied => w("AccessDeniedException", if rest { 403 } else { 400 }),
                K::Validation | K::MissingParameter => w("ValidationException", 400),
                K::Serialization | K::UnknownParameter => w("SerializationException", 400),
                K::UnknownOperation => w("UnknownOperationException", if rest { 404 } else { 400 }),
                K::NotImplemented => w("NotImplemented", 501),
                K::MissingAuthentication => w("MissingAuthenticationTokenException", 403),
                K::IncompleteSignature => w("IncompleteSignatureException", 400),
                K::InvalidClientTokenId => w("UnrecognizedClientException", 400),
                K::SignatureDoesNotMatch | K::RequestExpired => w("InvalidSignatureException", 400),
                K::ExpiredToken => w("ExpiredTokenException", 400),
                K::RequestTooLarge => w("RequestEntityTooLarge", 413),
                K::InternalFailure => w("InternalFailure", 500),
                K::ServiceUnavailable => w("ServiceUnavailable", 503),
            }
        }
        Protocol::AwsQuery => match kind {
            K::AccessDenied => w("AccessDenied", 403),
            K::Validation => w("ValidationError", 400),
            K::MissingParameter => w("MissingParameter", 400),
            K::Serialization => w("MalformedInput", 400),
            K::UnknownOperation => w("InvalidAction", 400),
            K::UnknownParameter => w("InvalidParameter", 400),
            K::NotImplemented => w("NotImplemented", 501),
            K::MissingAuthentication => w("MissingAuthenticationToken", 403),
            K::IncompleteSignature => w("IncompleteSignature", 400),
            K::InvalidClientTokenId => w("InvalidClientTokenId", 403),
            K::SignatureDoesNotMatch | K::RequestExpired => w("SignatureDoesNotMatch", 403),
            K::ExpiredToken => w("ExpiredToken", 403),
            K::RequestTooLarge => w("RequestEntityTooLarge", 413),
            K::InternalFailure => w("InternalFailure", 500),
            K::ServiceUnavailable => w("ServiceUnavailable", 503),
        },
        Protocol::Ec2Query => match kind {
            K::AccessDenied => w("UnauthorizedOperation", 403),
            K::Validation | K::Serialization => w("InvalidParameterValue", 400),
            K::MissingParameter => w("MissingParameter", 400),
            K::UnknownOperation => w("InvalidAction", 400),
            K::UnknownParameter => w("UnknownParameter", 400),
            K::NotImplemented => w("NotImplemented", 501),
            K::MissingAuthentication | K::IncompleteSignature | K::InvalidClientTokenId | K::SignatureDoesNotMatch => {
                w("AuthFailure", 401)
            }
            // AWS's answer to expired session credentials on EC2 is not documented; its answer to a
            // stale request is the closest.
            K::RequestExpired | K::ExpiredToken => w("RequestExpired", 400),
            K::RequestTooLarge => w("RequestEntityTooLarge", 413),
            K::InternalFailure => w("InternalError", 500),
            K::ServiceUnavailable => w("Unavailable", 503),
        },
    }
}

/// `true` when a query-family error is the caller's fault (`<Type>Sender</Type>`).
pub fn is_sender(status: u16) -> bool {
    status < 500
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CommonKind; 16] = [
        CommonKind::AccessDenied,
        CommonKind::Validation,
        CommonKind::MissingParameter,
        CommonKind::Serialization,
        CommonKind::UnknownOperation,
        CommonKind::NotImplemented,
        CommonKind::MissingAuthentication,
        CommonKind::IncompleteSignature,
        CommonKind::InvalidClientTokenId,
        CommonKind::SignatureDoesNotMatch,
        CommonKind::RequestExpired,
        CommonKind::ExpiredToken,
        CommonKind::UnknownParameter,
        CommonKind::RequestTooLarge,
        CommonKind::InternalFailure,
        CommonKind::ServiceUnavailable,
    ];

    #[test]
    fn every_kind_has_a_code_and_an_error_status_in_every_protocol() {
        for p in
            [Protocol::AwsJson1_0, Protocol::AwsJson1_1, Protocol::RestJson1, Protocol::AwsQuery, Protocol::Ec2Query]
        {
            for k in ALL {
                let wc = common_wire(k, p);
                assert!(!wc.code.is_empty());
                assert!((400..600).contains(&wc.status), "{k:?} {p:?}");
            }
        }
    }

    #[test]
    fn access_denied_differs_per_family() {
        assert_eq!(common_wire(CommonKind::AccessDenied, Protocol::AwsJson1_1), w("AccessDeniedException", 400));
        assert_eq!(common_wire(CommonKind::AccessDenied, Protocol::RestJson1), w("AccessDeniedException", 403));
        assert_eq!(common_wire(CommonKind::AccessDenied, Protocol::AwsQuery), w("AccessDenied", 403));
        assert_eq!(common_wire(CommonKind::AccessDenied, Protocol::Ec2Query), w("UnauthorizedOperation", 403));
    }

    #[test]
    fn ec2_reports_every_signature_problem_as_auth_failure_except_expiry() {
        for k in
            [CommonKind::MissingAuthentication, CommonKind::SignatureDoesNotMatch, CommonKind::InvalidClientTokenId]
        {
            assert_eq!(common_wire(k, Protocol::Ec2Query), w("AuthFailure", 401));
        }
        assert_eq!(common_wire(CommonKind::RequestExpired, Protocol::Ec2Query), w("RequestExpired", 400));
    }
}
