//! Rust identifiers from botocore names: member names to snake_case fields, shape names to type
//! names, enum values to PascalCase variants.

/// Splits a name into words: at every character that is not ASCII alphanumeric, where a lower
/// case letter or digit meets an upper case letter (`KeyId` → `Key Id`), and before the last
/// capital of an acronym that is followed by a lower case letter (`DBInstance` → `DB Instance`),
/// except for a plural `s` (`ARNs`, `IDs`). Letters and digits stay together (`t2`, `Ipv6`).
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some(prev) = current.chars().last() {
            let next = chars.get(i + 1).copied();
            let after_next = chars.get(i + 2).copied();
            let next_is_lower = next.is_some_and(|n| n.is_ascii_lowercase());
            let plural_s = next == Some('s') && !after_next.is_some_and(|a| a.is_ascii_lowercase());
            let boundary = c.is_ascii_uppercase()
                && ((prev.is_ascii_lowercase() || prev.is_ascii_digit())
                    || (prev.is_ascii_uppercase() && next_is_lower && !plural_s));
            if boundary {
                words.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `KeyId` → `key_id`, `ARN` → `arn`, `DBInstanceId` → `db_instance_id`.
pub fn snake_case(name: &str) -> String {
    words(name).iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_")
}

/// `SECURE_STRING` → `SecureString`, `aws:ec2:image` → `AwsEc2Image`, `t2.micro` → `T2Micro`.
pub fn pascal_case(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first.chain(chars.map(|c| c.to_ascii_lowercase())).collect::<String>()
        })
        .collect()
}

/// Strict and reserved keywords of Rust 2021 (and `gen`, reserved from 2024).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
    "true", "try", "type", "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Names of the Rust prelude (types, traits, variants) that generated code uses unqualified or
/// that would shadow what readers expect; shapes with these names get a `Shape` suffix.
const PRELUDE: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "Err",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
];

/// A struct field: snake_case, keywords as raw identifiers (`r#type`), or with a trailing
/// underscore where a raw identifier is not allowed (`self_`).
pub fn field_ident(member: &str) -> String {
    let mut ident = snake_case(member);
    if ident.is_empty() {
        ident = "field".to_string();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if NOT_RAW.contains(&ident.as_str()) {
        ident.push('_');
    } else if KEYWORDS.contains(&ident.as_str()) {
        ident.insert_str(0, "r#");
    }
    ident
}

/// A type name from a shape name: kept as written when it is letters and digits starting with
/// a letter (a lower case first letter is capitalised: `scope` → `Scope`), otherwise PascalCase
/// of its words; prelude names get a `Shape` suffix.
pub fn type_ident(shape: &str) -> String {
    let alphanumeric =
        shape.starts_with(|c: char| c.is_ascii_alphabetic()) && shape.chars().all(|c| c.is_ascii_alphanumeric());
    let mut ident = if alphanumeric {
        let mut chars = shape.chars();
        chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect()
    } else {
        pascal_case(shape)
    };
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'T');
    }
    if PRELUDE.contains(&ident.as_str()) || KEYWORDS.contains(&ident.as_str()) {
        ident.push_str("Shape");
    }
    ident
}

/// An enum variant from an enum value: PascalCase of its words, `V` before a leading digit.
pub fn variant_ident(value: &str) -> String {
    let mut ident = pascal_case(value);
    if ident.is_empty() {
        ident = "Empty".to_string();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'V');
    }
    if ident == "Self" {
        ident.push_str("Value");
    }
    ident
}

/// Makes identifiers unique in order of appearance: the second `x` becomes `x{sep}2`, and so on.
pub fn dedupe(idents: Vec<String>, sep: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    idents
        .into_iter()
        .map(|ident| {
            if seen.insert(ident.clone()) {
                return ident;
            }
            let base = ident.strip_prefix("r#").unwrap_or(&ident).to_string();
            let unique = (2..).map(|n| format!("{base}{sep}{n}")).find(|c| !seen.contains(c)).unwrap_or_default();
            seen.insert(unique.clone());
            unique
        })
        .collect()
}

/// A Rust string literal for `text`: raw when that reads better (patterns), escaped otherwise.
pub fn str_lit(text: &str) -> String {
    let wants_raw = text.contains('\\') || text.contains('"');
    if wants_raw && !text.contains("\"#") && !text.chars().any(char::is_control) {
        format!("r#\"{text}\"#")
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_follows_the_sdk_conventions() {
        assert_eq!(snake_case("KeyId"), "key_id");
        assert_eq!(snake_case("ARN"), "arn");
        assert_eq!(snake_case("DBInstanceId"), "db_instance_id");
        assert_eq!(snake_case("ResourceARNs"), "resource_arns");
        assert_eq!(snake_case("IDs"), "ids");
        assert_eq!(snake_case("Ipv6Addresses"), "ipv6_addresses");
        assert_eq!(snake_case("CustomerOwnedIpv4Pool"), "customer_owned_ipv4_pool");
        assert_eq!(snake_case("message"), "message");
        assert_eq!(snake_case("NextToken"), "next_token");
        assert_eq!(snake_case("SSEKMSKeyId"), "ssekms_key_id");
        assert_eq!(snake_case("IDPRejectedClaimException"), "idp_rejected_claim_exception");
        assert_eq!(snake_case("ParameterNotFound"), "parameter_not_found");
    }

    #[test]
    fn fields_avoid_keywords() {
        assert_eq!(field_ident("Type"), "r#type");
        assert_eq!(field_ident("Match"), "r#match");
        assert_eq!(field_ident("Self"), "self_");
        assert_eq!(field_ident("Super"), "super_");
        assert_eq!(field_ident("Value"), "value");
        assert_eq!(field_ident("3DSecure"), "_3_d_secure");
    }

    #[test]
    fn enum_values_become_pascal_case_variants() {
        assert_eq!(variant_ident("aws:ec2:image"), "AwsEc2Image");
        assert_eq!(variant_ident("Intelligent-Tiering"), "IntelligentTiering");
        assert_eq!(variant_ident("t2.micro"), "T2Micro");
        assert_eq!(variant_ident("SecureString"), "SecureString");
        assert_eq!(variant_ident("String"), "String");
        assert_eq!(variant_ident("AMAZON_LINUX_2"), "AmazonLinux2");
        assert_eq!(variant_ident("Linux/UNIX (Amazon VPC)"), "LinuxUnixAmazonVpc");
        assert_eq!(variant_ident("AWS::EC2::Instance"), "AwsEc2Instance");
        assert_eq!(variant_ident("1"), "V1");
        assert_eq!(variant_ident("2xlarge"), "V2xlarge");
        assert_eq!(variant_ident(""), "Empty");
        assert_eq!(variant_ident("self"), "SelfValue");
    }

    #[test]
    fn type_names_are_sanitised() {
        assert_eq!(type_ident("PutParameterRequest"), "PutParameterRequest");
        assert_eq!(type_ident("IDPRejectedClaimException"), "IDPRejectedClaimException");
        assert_eq!(type_ident("String"), "StringShape");
        assert_eq!(type_ident("Option"), "OptionShape");
        assert_eq!(type_ident("Result"), "ResultShape");
        assert_eq!(type_ident("Box"), "BoxShape");
        assert_eq!(type_ident("Vec"), "VecShape");
        assert_eq!(type_ident("Some-Shape.Name"), "SomeShapeName");
        assert_eq!(type_ident("2Fast"), "T2Fast");
        assert_eq!(type_ident("Snake_Name"), "SnakeName");
        assert_eq!(type_ident("scope"), "Scope");
        assert_eq!(type_ident("accountType"), "AccountType");
    }

    #[test]
    fn duplicates_get_numbered() {
        let idents = vec!["a".to_string(), "b".to_string(), "a".to_string(), "a_2".to_string(), "a".to_string()];
        assert_eq!(dedupe(idents, "_"), ["a", "b", "a_2", "a_2_2", "a_3"]);
        assert_eq!(dedupe(vec!["r#type".into(), "r#type".into()], "_"), ["r#type", "type_2"]);
    }

    #[test]
    fn literals_are_valid_rust() {
        assert_eq!(str_lit("abc"), "\"abc\"");
        assert_eq!(str_lit(r"^[\w-]+$"), r####"r#"^[\w-]+$"#"####);
        assert_eq!(str_lit("a\nb"), "\"a\\nb\"");
        assert_eq!(str_lit("say \"#hi"), "\"say \\\"#hi\"");
    }
}
