//! Parameter data types: which values each accepts, with which parameter types, and which need
//! the advanced tier.
//!
//! The list is the one the model's documentation of `DataType` gives. Validation happens when the
//! value is written; a `StringList` is validated item by item. `aws:ec2:image` values are checked
//! for the AMI id format here, and then, asynchronously, for an image the caller may use
//! (`image_check.rs`).

use crate::errors::SsmError;
use crate::names::validation;
use crate::types::ParameterType;

pub const TEXT: &str = "text";
pub const EC2_IMAGE: &str = "aws:ec2:image";
pub const SSM_INTEGRATION: &str = "aws:ssm:integration";

/// Every data type the model documents.
pub const DATA_TYPES: &[&str] = &[
    TEXT,
    EC2_IMAGE,
    SSM_INTEGRATION,
    "aws:region",
    "aws:account:id",
    "boolean",
    "integer",
    "float",
    "binary",
    "hostname",
    "email",
    "ipv4-address",
    "ipv6-address",
    "url",
    "json",
    "jsonc",
];

/// Where `aws:ssm:integration` parameters (Automation webhook integrations) must live.
pub const INTEGRATION_PREFIX: &str = "d9d01087-4a3f-49e0-b0b4-d568d7826553/ssm/integrations/webhook/";

/// Data types whose parameters Intelligent-Tiering puts in the advanced tier.
pub fn needs_advanced(data_type: &str) -> bool {
    matches!(data_type, "url" | "json" | "jsonc")
}

fn unsupported(data_type: &str) -> SsmError {
    validation(format!("The following data type is not supported: {data_type} (Data type names are all lowercase.)"))
}

fn allowed_types(data_type: &str) -> &'static [ParameterType] {
    use ParameterType::*;
    match data_type {
        TEXT => &[String, StringList, SecureString],
        EC2_IMAGE => &[String],
        SSM_INTEGRATION => &[SecureString],
        "aws:region" | "aws:account:id" | "boolean" | "integer" | "float" | "hostname" | "email" | "ipv4-address"
        | "ipv6-address" => &[String, StringList, SecureString],
        _ => &[String, SecureString],
    }
}

/// Checks a write: the data type exists, fits the parameter type and the name, may replace the
/// previous data type, and accepts the (plain text) value.
pub fn check(
    data_type: &str,
    previous: Option<&str>,
    parameter_type: ParameterType,
    canonical_name: &str,
    value: &str,
) -> Result<(), SsmError> {
    if !DATA_TYPES.contains(&data_type) {
        return Err(unsupported(data_type));
    }
    if let Some(previous) = previous {
        let fixed = |d: &str| d == EC2_IMAGE || d == SSM_INTEGRATION;
        if previous != data_type && (fixed(previous) || fixed(data_type)) {
            return Err(validation(format!(
                "The data type of this parameter can't be changed from {previous} to {data_type}. The {EC2_IMAGE} \
                 and {SSM_INTEGRATION} data types can't be changed to or from another data type."
            )));
        }
    }
    if !allowed_types(data_type).contains(&parameter_type) {
        return Err(validation(format!(
            "The {data_type} data type isn't supported for parameters of type {parameter_type}."
        )));
    }
    if data_type == SSM_INTEGRATION && !canonical_name.starts_with(INTEGRATION_PREFIX) {
        return Err(validation(format!(
            "Parameters with the {SSM_INTEGRATION} data type must be named /{INTEGRATION_PREFIX}<name>."
        )));
    }
    let items: Vec<&str> =
        if parameter_type == ParameterType::StringList { value.split(',').collect() } else { vec![value] };
    for item in items {
        if !accepts(data_type, item) {
            return Err(if data_type == EC2_IMAGE {
                validation(format!(
                    "Invalid value for the {EC2_IMAGE} data type: {item}. The value must be an AMI ID of the form \
                     ami-0123456789abcdef0."
                ))
            } else {
                validation(format!("The value isn't valid for the {data_type} data type."))
            });
        }
    }
    Ok(())
}

/// Whether `value` (one item) is valid for `data_type`.
pub fn accepts(data_type: &str, value: &str) -> bool {
    match data_type {
        TEXT | SSM_INTEGRATION => true,
        EC2_IMAGE => is_ami_id(value),
        "aws:region" => is_region(value),
        "aws:account:id" => value.len() == 12 && value.bytes().all(|c| c.is_ascii_digit()),
        "boolean" => matches!(value, "true" | "false"),
        "integer" => is_integer(value),
        "float" => is_float(value),
        "binary" => is_base64(value),
        "hostname" => is_hostname(value),
        "email" => is_email(value),
        "ipv4-address" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6-address" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "url" => is_url(value),
        "json" => serde_json::from_str::<serde_json::Value>(value).is_ok(),
        "jsonc" => strip_json_comments(value).is_some_and(|v| serde_json::from_str::<serde_json::Value>(&v).is_ok()),
        _ => false,
    }
}

/// `ami-` and 8 or 17 lower-case hexadecimal digits.
pub fn is_ami_id(value: &str) -> bool {
    value.strip_prefix("ami-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

fn is_region(value: &str) -> bool {
    const OTHER_PARTITIONS: &[&str] = &["cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"];
    ingot_core::identity::region_info(value).is_some() || OTHER_PARTITIONS.contains(&value)
}

fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) && value.parse::<i64>().is_ok()
}

fn is_float(value: &str) -> bool {
    let body = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => !frac.is_empty() && digits(int) && digits(frac),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && value.parse::<f64>().is_ok_and(f64::is_finite)
}

fn is_base64(value: &str) -> bool {
    use base64::Engine;
    !value.is_empty() && base64::engine::general_purpose::STANDARD.decode(value).is_ok()
}

/// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
fn is_hostname(value: &str) -> bool {
    let value = value.strip_suffix('.').unwrap_or(value);
    !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else { return false };
    const LOCAL_SPECIALS: &[u8] = b".!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(&c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        && is_hostname(domain)
}

/// An absolute URL: a scheme, `://`, a host, and no spaces.
fn is_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else { return false };
    let scheme_ok = scheme.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+.-".contains(&c));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') { host } else { host.split(':').next().unwrap_or("") };
    scheme_ok && !host.is_empty() && !value.bytes().any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
}

/// JSON with `//` and `/* */` comments removed (outside strings), or `None` for an unterminated
/// block comment.
fn strip_json_comments(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut closed = false;
                let mut prev = '\0';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        closed = true;
                        break;
                    }
                    prev = c;
                }
                if !closed {
                    return None;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParameterType::*;

    #[test]
    fn ami_ids_have_eight_or_seventeen_lower_case_hex_digits() {
        assert!(is_ami_id("ami-12345678"));
        assert!(is_ami_id("ami-0123456789abcdef0"));
        assert!(!is_ami_id("ami-0123456789ABCDEF0"));
        assert!(!is_ami_id("ami-123"));
        assert!(!is_ami_id("img-12345678"));
    }

    #[test]
    fn the_image_data_type_is_only_for_string_parameters() {
        assert!(check(EC2_IMAGE, None, String, "p", "ami-12345678").is_ok());
        assert!(check(EC2_IMAGE, None, StringList, "p", "ami-12345678").is_err());
        assert!(check(EC2_IMAGE, None, String, "p", "not-an-ami").is_err());
    }

    #[test]
    fn unknown_data_types_are_named_in_the_error() {
        let e = check("Text", None, String, "p", "v").unwrap_err();
        assert_eq!(
            e.message(),
            Some("The following data type is not supported: Text (Data type names are all lowercase.)")
        );
    }

    #[test]
    fn image_and_integration_data_types_cannot_be_changed_to_or_from() {
        assert!(check(TEXT, Some(EC2_IMAGE), String, "p", "x").is_err());
        assert!(check(EC2_IMAGE, Some(TEXT), String, "p", "ami-12345678").is_err());
        assert!(check("integer", Some(TEXT), String, "p", "1").is_ok());
    }

    #[test]
    fn integration_parameters_are_secure_strings_under_the_webhook_path() {
        let name = format!("{INTEGRATION_PREFIX}hook");
        assert!(check(SSM_INTEGRATION, None, SecureString, &name, "{}").is_ok());
        assert!(check(SSM_INTEGRATION, None, String, &name, "{}").is_err());
        assert!(check(SSM_INTEGRATION, None, SecureString, "elsewhere", "{}").is_err());
    }

    #[test]
    fn string_lists_are_validated_item_by_item() {
        assert!(check("integer", None, StringList, "p", "1,2,3").is_ok());
        assert!(check("integer", None, StringList, "p", "1,x,3").is_err());
        assert!(check("json", None, StringList, "p", "{}").is_err());
    }

    #[test]
    fn scalar_data_types_accept_their_values_only() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("aws:region", &["us-east-1", "cn-north-1"], &["us-east-9", "US-EAST-1"]),
            ("aws:account:id", &["123456789012"], &["12345678901", "12345678901a"]),
            ("boolean", &["true", "false"], &["True", "yes", "1"]),
            ("integer", &["0", "-42", "+7"], &["1.5", "", "99999999999999999999"]),
            ("float", &["1.5", "-2", ".5", "1e10"], &["1.", "e5", "NaN", "inf", "1e999"]),
            ("binary", &["aGVsbG8="], &["not base64!"]),
            ("hostname", &["example.com", "a-b.c", "localhost"], &["-a.com", "a..b", "a_b.com"]),
            ("email", &["a.b@example.com"], &["a@b", "@example.com", "a b@example.com"]),
            ("ipv4-address", &["10.0.0.1"], &["10.0.0.256", "::1"]),
            ("ipv6-address", &["::1", "2001:db8::1"], &["10.0.0.1", "2001:::1"]),
            ("url", &["https://example.com/a?b=c", "s3://bucket/key"], &["example.com", "https://", "http://a b"]),
            ("json", &["{\"a\":[1,2]}", "3"], &["{a:1}", ""]),
            ("jsonc", &["{\n// note\n\"a\": 1 /* x */}"], &["{\"a\": 1 /* open"]),
        ];
        for (data_type, good, bad) in cases {
            for v in *good {
                assert!(accepts(data_type, v), "{data_type} should accept {v:?}");
            }
            for v in *bad {
                assert!(!accepts(data_type, v), "{data_type} should refuse {v:?}");
            }
        }
    }

    #[test]
    fn url_json_and_jsonc_need_the_advanced_tier() {
        assert!(needs_advanced("json") && needs_advanced("url") && needs_advanced("jsonc"));
        assert!(!needs_advanced("integer") && !needs_advanced(TEXT));
    }
}
