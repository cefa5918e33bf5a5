//! The `Condition` element: every operator family, `…IfExists`, `ForAllValues:` / `ForAnyValue:`,
//! negated operators (whose values are NORed) and the missing-key rules.

use std::net::IpAddr;

use base64::Engine;
use ingot_core::Timestamp;

use super::context::{lower_key, ContextKeys};
use super::pattern::{ArnPattern, Syntax, Template};
use super::variables::Variable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// The positive test behind an operator (`StringNotEquals` is `StringEquals`, negated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Test {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetOp {
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) test: Test,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) set: SetOp,
}

impl Operator {
    /// Reads an operator name such as `ForAnyValue:StringNotLikeIfExists`; `None` if unknown.
    pub(crate) fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetOp::ForAllValues, rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetOp::ForAnyValue, rest)
        } else {
            (SetOp::Single, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        let (test, negated) = match base {
            "StringEquals" => (Test::StringEquals, false),
            "StringNotEquals" => (Test::StringEquals, true),
            "StringEqualsIgnoreCase" => (Test::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Test::StringEqualsIgnoreCase, true),
            "StringLike" => (Test::StringLike, false),
            "StringNotLike" => (Test::StringLike, true),
            "NumericEquals" => (Test::Numeric(Cmp::Eq), false),
            "NumericNotEquals" => (Test::Numeric(Cmp::Eq), true),
            "NumericLessThan" => (Test::Numeric(Cmp::Lt), false),
            "NumericLessThanEquals" => (Test::Numeric(Cmp::Le), false),
            "NumericGreaterThan" => (Test::Numeric(Cmp::Gt), false),
            "NumericGreaterThanEquals" => (Test::Numeric(Cmp::Ge), false),
            "DateEquals" => (Test::Date(Cmp::Eq), false),
            "DateNotEquals" => (Test::Date(Cmp::Eq), true),
            "DateLessThan" => (Test::Date(Cmp::Lt), false),
            "DateLessThanEquals" => (Test::Date(Cmp::Le), false),
            "DateGreaterThan" => (Test::Date(Cmp::Gt), false),
            "DateGreaterThanEquals" => (Test::Date(Cmp::Ge), false),
            "Bool" => (Test::Bool, false),
            "BinaryEquals" => (Test::Binary, false),
            "IpAddress" => (Test::Ip, false),
            "NotIpAddress" => (Test::Ip, true),
            "ArnEquals" | "ArnLike" => (Test::Arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Test::Arn, true),
            "Null" => (Test::Null, false),
            _ => return None,
        };
        // `Null` tests presence itself: it takes neither `IfExists` nor a set qualifier.
        if test == Test::Null && (if_exists || set != SetOp::Single) {
            return None;
        }
        Some(Operator { test, negated, if_exists, set })
    }
}

/// A CIDR block; a bare address is a /32 (or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen through an IPv4-mapped IPv6 address is still that IPv4 client.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Epoch seconds (possibly fractional) or W3C ISO 8601, as milliseconds.
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Timestamp::from_epoch_seconds_f64(seconds).map(Timestamp::millis);
    }
    Timestamp::parse_iso8601(text).map(Timestamp::millis)
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// Unicode case-insensitive equality without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

/// The policy's values for one key, compiled for the operator's family. A value that cannot be
/// read as the family's type (an invalid date, say) is kept as `None` and matches nothing.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Text(Vec<Template>),
    TextIgnoreCase(Vec<Template>),
    Numbers(Vec<Option<f64>>),
    Dates(Vec<Option<i64>>),
    Bools(Vec<Option<bool>>),
    Bytes(Vec<Option<Vec<u8>>>),
    Cidrs(Vec<Option<Cidr>>),
    Arns(Vec<ArnPattern>),
    /// `true`: the key must be absent; `false`: present.
    Null(Vec<Option<bool>>),
}

/// One `"<Operator>": {"<key>": [values]}` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) operator: Operator,
    /// As written, for listing the keys a policy uses.
    pub(crate) key: Box<str>,
    pub(crate) lowered: Box<str>,
    values: Values,
}

impl Condition {
    /// `values` are the policy's values as text (JSON numbers and booleans already turned into
    /// their text). `variables`: the policy is `2012-10-17`, so String and Arn values may hold
    /// `${…}`.
    pub(crate) fn new(operator: Operator, key: &str, values: &[String], variables: bool) -> Condition {
        let text = |wildcards: bool| {
            let syntax = Syntax { wildcards, variables, fold: false };
            values.iter().map(|v| Template::parse(v, syntax)).collect::<Vec<_>>()
        };
        let values = match operator.test {
            Test::StringEquals => Values::Text(text(false)),
            Test::StringLike => Values::Text(text(true)),
            Test::StringEqualsIgnoreCase => Values::TextIgnoreCase(text(false)),
            Test::Numeric(_) => Values::Numbers(values.iter().map(|v| parse_number(v)).collect()),
            Test::Date(_) => Values::Dates(values.iter().map(|v| parse_date(v)).collect()),
            Test::Bool => Values::Bools(values.iter().map(|v| parse_bool(v)).collect()),
            Test::Binary => Values::Bytes(values.iter().map(|v| decode_base64(v)).collect()),
            Test::Ip => Values::Cidrs(values.iter().map(|v| Cidr::parse(v)).collect()),
            Test::Arn => Values::Arns(values.iter().map(|v| ArnPattern::parse(v, variables, false)).collect()),
            Test::Null => Values::Null(values.iter().map(|v| parse_bool(v)).collect()),
        };
        Condition { operator, key: key.into(), lowered: lower_key(key).into(), values }
    }

    /// Policy variables used in the values.
    pub(crate) fn variables(&self) -> Vec<&Variable> {
        match &self.values {
            Values::Text(t) | Values::TextIgnoreCase(t) => t.iter().flat_map(Template::variables).collect(),
            Values::Arns(a) => a.iter().flat_map(ArnPattern::variables).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the condition holds in this request.
    pub(crate) fn holds(&self, ctx: &ContextKeys) -> bool {
        // A key with no values is as good as absent.
        let present = ctx.get_lowered(&self.lowered).filter(|v| !v.is_empty());
        let op = self.operator;
        if let Values::Null(wanted) = &self.values {
            return wanted.iter().any(|absent| *absent == Some(present.is_none()));
        }
        match (op.set, present) {
            (SetOp::Single, None) => op.if_exists || op.negated,
            (SetOp::Single, Some(values)) => {
                // Policy values are ORed; under a negated operator the result is their NOR.
                let hit = values.iter().any(|r| self.matches_any(r, ctx));
                hit != op.negated
            }
            // Vacuously true for a missing key, or one holding only empty (null) values.
            (SetOp::ForAllValues, None) => true,
            (SetOp::ForAllValues, Some(values)) => {
                values.iter().all(String::is_empty) || values.iter().all(|r| self.matches_any(r, ctx) != op.negated)
            }
            (SetOp::ForAnyValue, None) => op.if_exists,
            (SetOp::ForAnyValue, Some(values)) => values.iter().any(|r| self.matches_any(r, ctx) != op.negated),
        }
    }

    /// Whether one request value satisfies the positive test against any policy value.
    fn matches_any(&self, request: &str, ctx: &ContextKeys) -> bool {
        match &self.values {
            Values::Text(patterns) => patterns.iter().any(|p| p.matches(request, ctx, false)),
            Values::TextIgnoreCase(patterns) => {
                patterns.iter().any(|p| p.render(ctx).is_some_and(|v| eq_ignore_case(&v, request)))
            }
            Values::Numbers(numbers) => {
                let Some(r) = parse_number(request) else { return false };
                let Test::Numeric(cmp) = self.operator.test else { return false };
                numbers.iter().flatten().any(|p| cmp.holds(r, *p))
            }
            Values::Dates(dates) => {
                let Some(r) = parse_date(request) else { return false };
                let Test::Date(cmp) = self.operator.test else { return false };
                dates.iter().flatten().any(|p| cmp.holds(r, *p))
            }
            Values::Bools(bools) => {
                let Some(r) = parse_bool(request) else { return false };
                bools.iter().flatten().any(|p| *p == r)
            }
            Values::Bytes(blobs) => {
                // Binary keys arrive base64-encoded like the policy's values; text that is not
                // base64 is compared as its own bytes.
                let decoded = decode_base64(request);
                let r = decoded.as_deref().unwrap_or(request.as_bytes());
                blobs.iter().flatten().any(|p| p.as_slice() == r)
            }
            Values::Cidrs(cidrs) => {
                let Ok(ip) = request.trim().parse::<IpAddr>() else { return false };
                cidrs.iter().flatten().any(|c| c.contains(ip))
            }
            Values::Arns(patterns) => patterns.iter().any(|p| p.matches(request, ctx)),
            Values::Null(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `"<op>": {"k": values}` with the context key `k` set to `request`
    /// (`None`: absent).
    fn check_v(op: &str, values: &[&str], request: Option<&[&str]>, version_2012: bool) -> bool {
        let operator = Operator::parse(op).unwrap_or_else(|| panic!("unknown operator {op}"));
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let condition = Condition::new(operator, "k", &values, version_2012);
        let mut ctx = ContextKeys::new().with("aws:username", "alice");
        if let Some(request) = request {
            ctx.set("K", request.iter().map(|v| v.to_string()).collect());
        }
        condition.holds(&ctx)
    }

    fn check(op: &str, values: &[&str], request: Option<&[&str]>) -> bool {
        check_v(op, values, request, true)
    }

    /// (operator, policy values, request values or `None` for an absent key, expected result)
    type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [&'a str]>, bool);

    fn run(table: &[Case<'_>]) {
        for (op, values, request, expected) in table {
            assert_eq!(check(op, values, *request), *expected, "{op} {values:?} vs {request:?}");
        }
    }

    #[test]
    fn string_operators_compare_exactly_ignoring_case_or_with_wildcards() {
        run(&[
            ("StringEquals", &["prod"], Some(&["prod"]), true),
            ("StringEquals", &["prod"], Some(&["Prod"]), false),
            ("StringEquals", &["dev", "prod"], Some(&["prod"]), true),
            ("StringEquals", &["pro*"], Some(&["prod"]), false),
            ("StringEquals", &["pro*"], Some(&["pro*"]), true),
            ("StringNotEquals", &["prod"], Some(&["dev"]), true),
            ("StringNotEquals", &["prod"], Some(&["prod"]), false),
            ("StringNotEquals", &["dev", "prod"], Some(&["prod"]), false),
            ("StringEqualsIgnoreCase", &["PROD"], Some(&["prod"]), true),
            ("StringEqualsIgnoreCase", &["ÉTÉ"], Some(&["été"]), true),
            ("StringNotEqualsIgnoreCase", &["PROD"], Some(&["prod"]), false),
            ("StringNotEqualsIgnoreCase", &["PROD"], Some(&["dev"]), true),
            ("StringLike", &["pro*"], Some(&["production"]), true),
            ("StringLike", &["pro?"], Some(&["prod"]), true),
            ("StringLike", &["Pro*"], Some(&["prod"]), false),
            ("StringLike", &["a*", "b*"], Some(&["bee"]), true),
            ("StringNotLike", &["pro*"], Some(&["dev"]), true),
            ("StringNotLike", &["dev*", "pro*"], Some(&["prod"]), false),
        ]);
    }

    #[test]
    fn numeric_operators_compare_integers_and_decimals() {
        run(&[
            ("NumericEquals", &["10"], Some(&["10"]), true),
            ("NumericEquals", &["10"], Some(&["10.0"]), true),
            ("NumericEquals", &["10"], Some(&["11"]), false),
            ("NumericNotEquals", &["10"], Some(&["11"]), true),
            ("NumericNotEquals", &["10", "11"], Some(&["11"]), false),
            ("NumericLessThan", &["10"], Some(&["9.5"]), true),
            ("NumericLessThan", &["10"], Some(&["10"]), false),
            ("NumericLessThanEquals", &["10"], Some(&["10"]), true),
            ("NumericGreaterThan", &["3600"], Some(&["3601"]), true),
            ("NumericGreaterThan", &["3600"], Some(&["3600"]), false),
            ("NumericGreaterThanEquals", &["3600"], Some(&["3600"]), true),
            ("NumericEquals", &["10"], Some(&["ten"]), false),
            ("NumericEquals", &["ten"], Some(&["10"]), false),
        ]);
    }

    #[test]
    fn date_operators_accept_iso_8601_and_epoch_seconds() {
        run(&[
            ("DateLessThan", &["2030-01-01T00:00:00Z"], Some(&["2026-01-01T00:00:00Z"]), true),
            ("DateLessThan", &["2020-01-01T00:00:00Z"], Some(&["2026-01-01T00:00:00Z"]), false),
            ("DateGreaterThan", &["2020-01-01T00:00:00Z"], Some(&["1700000000"]), true),
            ("DateGreaterThan", &["1700000001"], Some(&["2023-11-14T22:13:20Z"]), false),
            ("DateEquals", &["1700000000"], Some(&["2023-11-14T22:13:20Z"]), true),
            ("DateNotEquals", &["1700000000"], Some(&["2023-11-14T22:13:21Z"]), true),
            ("DateLessThanEquals", &["2023-11-14T22:13:20Z"], Some(&["1700000000"]), true),
            ("DateGreaterThanEquals", &["2023-11-14T22:13:20Z"], Some(&["1700000000"]), true),
            ("DateEquals", &["2020-01-01"], Some(&["2020-01-01T00:00:00Z"]), true),
            ("DateEquals", &["not a date"], Some(&["2020-01-01T00:00:00Z"]), false),
        ]);
    }

    #[test]
    fn bool_compares_true_and_false() {
        run(&[
            ("Bool", &["true"], Some(&["true"]), true),
            ("Bool", &["true"], Some(&["false"]), false),
            ("Bool", &["false"], Some(&["false"]), true),
            ("Bool", &["TRUE"], Some(&["true"]), true),
            ("Bool", &["true"], Some(&["yes"]), false),
        ]);
    }

    #[test]
    fn binary_equals_compares_the_decoded_bytes() {
        // "aGVsbG8=" is "hello".
        run(&[
            ("BinaryEquals", &["aGVsbG8="], Some(&["aGVsbG8="]), true),
            ("BinaryEquals", &["aGVsbG8="], Some(&["hello"]), true),
            ("BinaryEquals", &["aGVsbG8="], Some(&["aGVsbG9="]), false),
        ]);
    }

    #[test]
    fn ip_operators_match_cidr_blocks_of_both_families() {
        run(&[
            ("IpAddress", &["203.0.113.0/24"], Some(&["203.0.113.7"]), true),
            ("IpAddress", &["203.0.113.0/24"], Some(&["203.0.114.7"]), false),
            ("IpAddress", &["203.0.113.7"], Some(&["203.0.113.7"]), true),
            ("IpAddress", &["203.0.113.7"], Some(&["203.0.113.8"]), false),
            ("IpAddress", &["0.0.0.0/0"], Some(&["8.8.8.8"]), true),
            ("IpAddress", &["10.0.0.0/8", "192.168.0.0/16"], Some(&["192.168.1.1"]), true),
            ("IpAddress", &["2001:db8::/32"], Some(&["2001:db8:1::5"]), true),
            ("IpAddress", &["2001:db8::/32"], Some(&["2001:db9::5"]), false),
            ("IpAddress", &["203.0.113.0/24"], Some(&["::ffff:203.0.113.9"]), true),
            ("IpAddress", &["203.0.113.0/24"], Some(&["2001:db8::1"]), false),
            ("IpAddress", &["203.0.113.0/24"], Some(&["not-an-ip"]), false),
            ("IpAddress", &["203.0.113.0/33"], Some(&["203.0.113.1"]), false),
            ("NotIpAddress", &["10.0.0.0/8"], Some(&["192.168.1.1"]), true),
            ("NotIpAddress", &["10.0.0.0/8", "192.168.0.0/16"], Some(&["192.168.1.1"]), false),
        ]);
    }

    #[test]
    fn arn_operators_match_each_part_separately() {
        let role = "arn:aws:iam::111122223333:role/admin";
        run(&[
            ("ArnEquals", &[role], Some(&[role]), true),
            ("ArnLike", &["arn:aws:iam::*:role/*"], Some(&[role]), true),
            ("ArnEquals", &["arn:aws:iam::*:role/*"], Some(&[role]), true),
            ("ArnLike", &["arn:aws:iam::*:role/ops*"], Some(&[role]), false),
            ("ArnLike", &["arn:aws:iam::111122223333:*"], Some(&[role]), true),
            ("ArnNotLike", &["arn:aws:iam::*:role/ops*"], Some(&[role]), true),
            ("ArnNotEquals", &[role], Some(&[role]), false),
            ("ArnLike", &["arn:aws:iam::*"], Some(&["not-an-arn"]), false),
            // A string `*` crosses colons where an ARN part's `*` does not.
            ("ArnLike", &["arn:aws:*:role/admin"], Some(&[role]), false),
            ("StringLike", &["arn:aws:*:role/admin"], Some(&[role]), true),
        ]);
    }

    #[test]
    fn null_tests_whether_the_key_is_present() {
        run(&[
            ("Null", &["true"], None, true),
            ("Null", &["true"], Some(&["x"]), false),
            ("Null", &["false"], Some(&["x"]), true),
            ("Null", &["false"], None, false),
            ("Null", &["false"], Some(&[]), false),
        ]);
    }

    #[test]
    fn a_missing_key_fails_positive_operators_and_passes_negated_ones() {
        run(&[
            ("StringEquals", &["x"], None, false),
            ("StringLike", &["*"], None, false),
            ("NumericLessThan", &["1"], None, false),
            ("DateLessThan", &["2030-01-01T00:00:00Z"], None, false),
            ("Bool", &["false"], None, false),
            ("IpAddress", &["0.0.0.0/0"], None, false),
            ("ArnLike", &["*"], None, false),
            ("BinaryEquals", &["aGVsbG8="], None, false),
            ("StringNotEquals", &["x"], None, true),
            ("StringNotLike", &["x"], None, true),
            ("StringNotEqualsIgnoreCase", &["x"], None, true),
            ("NumericNotEquals", &["1"], None, true),
            ("DateNotEquals", &["1"], None, true),
            ("NotIpAddress", &["10.0.0.0/8"], None, true),
            ("ArnNotEquals", &["arn:aws:iam::1:root"], None, true),
            ("ArnNotLike", &["arn:aws:iam::*"], None, true),
        ]);
    }

    #[test]
    fn if_exists_passes_when_the_key_is_missing_and_tests_it_when_present() {
        run(&[
            ("StringEqualsIfExists", &["x"], None, true),
            ("StringEqualsIfExists", &["x"], Some(&["x"]), true),
            ("StringEqualsIfExists", &["x"], Some(&["y"]), false),
            ("StringNotEqualsIfExists", &["x"], None, true),
            ("StringNotEqualsIfExists", &["x"], Some(&["x"]), false),
            ("NumericLessThanIfExists", &["5"], None, true),
            ("NumericLessThanIfExists", &["5"], Some(&["6"]), false),
            ("BoolIfExists", &["true"], None, true),
            ("BoolIfExists", &["true"], Some(&["false"]), false),
            ("IpAddressIfExists", &["10.0.0.0/8"], None, true),
            ("ArnLikeIfExists", &["arn:aws:iam::*"], None, true),
            ("DateGreaterThanIfExists", &["2020-01-01T00:00:00Z"], None, true),
        ]);
    }

    #[test]
    fn for_all_values_requires_every_request_value_to_match_and_passes_on_missing_keys() {
        run(&[
            ("ForAllValues:StringEquals", &["a", "b"], Some(&["a", "b"]), true),
            ("ForAllValues:StringEquals", &["a", "b"], Some(&["a"]), true),
            ("ForAllValues:StringEquals", &["a", "b"], Some(&["a", "c"]), false),
            ("ForAllValues:StringEquals", &["a"], None, true),
            ("ForAllValues:StringEquals", &["a"], Some(&[]), true),
            ("ForAllValues:StringEquals", &["a"], Some(&[""]), true),
            ("ForAllValues:StringLike", &["team-*"], Some(&["team-a", "team-b"]), true),
            ("ForAllValues:StringNotLike", &["secret*"], Some(&["a", "b"]), true),
            ("ForAllValues:StringNotLike", &["secret*"], Some(&["a", "secret1"]), false),
            ("ForAllValues:StringNotLike", &["secret*"], None, true),
            ("ForAllValues:StringEqualsIfExists", &["a"], None, true),
        ]);
    }

    #[test]
    fn for_any_value_requires_one_matching_request_value_and_fails_on_missing_keys() {
        run(&[
            ("ForAnyValue:StringEquals", &["a"], Some(&["x", "a"]), true),
            ("ForAnyValue:StringEquals", &["a"], Some(&["x", "y"]), false),
            ("ForAnyValue:StringEquals", &["a"], None, false),
            ("ForAnyValue:StringEquals", &["a"], Some(&[]), false),
            ("ForAnyValue:StringNotEquals", &["a"], Some(&["a", "b"]), true),
            ("ForAnyValue:StringNotEquals", &["a"], Some(&["a"]), false),
            ("ForAnyValue:StringNotEquals", &["a"], None, false),
            ("ForAnyValue:StringLike", &["o-1/r-1/ou-1/*"], Some(&["o-1/r-1/ou-1/ou-2/"]), true),
            ("ForAnyValue:StringEqualsIfExists", &["a"], None, true),
            ("ForAnyValue:NumericGreaterThan", &["5"], Some(&["1", "9"]), true),
        ]);
    }

    #[test]
    fn a_multivalued_key_under_a_plain_operator_matches_if_any_value_does() {
        run(&[
            ("StringEquals", &["a"], Some(&["x", "a"]), true),
            ("StringNotEquals", &["a"], Some(&["x", "a"]), false),
            ("StringNotEquals", &["a"], Some(&["x", "y"]), true),
        ]);
    }

    #[test]
    fn string_and_arn_values_resolve_policy_variables() {
        run(&[
            ("StringEquals", &["${aws:username}"], Some(&["alice"]), true),
            ("StringEquals", &["${aws:username}"], Some(&["bob"]), false),
            ("StringLike", &["home/${aws:username}/*"], Some(&["home/alice/x"]), true),
            ("StringEqualsIgnoreCase", &["${aws:username}"], Some(&["ALICE"]), true),
            ("ArnLike", &["arn:aws:iam::*:user/${aws:username}"], Some(&["arn:aws:iam::1:user/alice"]), true),
            // A missing variable: positive operators fail, negated ones pass.
            ("StringEquals", &["${aws:PrincipalTag/team}"], Some(&["x"]), false),
            ("StringLike", &["${aws:PrincipalTag/team}*"], Some(&["x"]), false),
            ("StringNotEquals", &["${aws:PrincipalTag/team}"], Some(&["x"]), true),
            ("StringNotLike", &["${aws:PrincipalTag/team}"], Some(&["x"]), true),
            ("StringEquals", &["${aws:PrincipalTag/team, 'x'}"], Some(&["x"]), true),
        ]);
    }

    #[test]
    fn variables_are_literal_text_in_2008_policies_and_in_numeric_values() {
        assert!(!check_v("StringEquals", &["${aws:username}"], Some(&["alice"]), false));
        assert!(check_v("StringEquals", &["${aws:username}"], Some(&["${aws:username}"]), false));
        assert!(!check("NumericEquals", &["${aws:username}"], Some(&["1"])));
    }

    #[test]
    fn operator_names_are_recognised_with_their_qualifiers() {
        let op = Operator::parse("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!(op, Operator { test: Test::StringLike, negated: true, if_exists: true, set: SetOp::ForAnyValue });
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("ForAllValues:Null").is_none());
        assert!(Operator::parse("stringequals").is_none());
    }

    #[test]
    fn cidr_blocks_parse_and_reject_nonsense() {
        assert!(Cidr::parse("10.0.0.0/8").is_some());
        assert!(Cidr::parse("10.0.0.1").is_some());
        assert!(Cidr::parse("::/0").is_some());
        assert!(Cidr::parse("10.0.0.0/").is_none());
        assert!(Cidr::parse("10.0.0.0/-1").is_none());
        assert!(Cidr::parse("10.0.0/8").is_none());
        assert!(Cidr::parse("::/129").is_none());
        let any = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(any.contains("1.2.3.4".parse().unwrap()));
    }
}
