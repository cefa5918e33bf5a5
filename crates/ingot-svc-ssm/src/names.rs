//! Parameter names, paths, ARNs and selectors: the rules every operation shares.
//!
//! A name is kept twice: as given (responses echo it) and canonical, without the leading slash
//! (`/x` and `x` are the same parameter). Keys in the store and ARNs use the canonical form.

use crate::errors::SsmError;
use ingot_core::identity::partition_of;
use ingot_core::{AccountId, Arn, CommonError, Region, RequestContext, Scope};
use std::borrow::Cow;

/// At most this many levels in a hierarchical name.
pub const MAX_HIERARCHY_LEVELS: usize = 15;
/// The name limit counts the ARN prefix too.
pub const MAX_NAME_WITH_ARN_PREFIX: usize = 1011;

/// AWS's message for a malformed name (it mentions "ssm" whatever is wrong with the name).
pub const MALFORMED_NAME: &str =
    "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, \
     it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and \
     the following 3 symbols .-_";
/// AWS's message for a single-level name with a reserved prefix.
const RESERVED_SIMPLE_NAME: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).";
/// AWS's message for a malformed path (GetParametersByPath, path filters, tag resource ids). The
/// backslashes before the inner quotes are part of AWS's text.
pub const MALFORMED_PATH: &str = "The parameter doesn't meet the parameter name requirements. The parameter name must \
     begin with a forward slash \"/\". It can't be prefixed with \\\"aws\\\" or \\\"ssm\\\" (case-insensitive). It must use \
     only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are \
     not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: \
     /get/parameters2-/by1./path0_.";

pub fn validation(message: impl Into<String>) -> SsmError {
    CommonError::validation(message).into()
}

fn malformed() -> SsmError {
    validation(MALFORMED_NAME)
}

fn name_chars_ok(name: &str) -> bool {
    name.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.-/".contains(&c))
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// A validated parameter name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterName {
    /// As given, without surrounding spaces (kept for responses).
    pub given: String,
    /// Without a leading slash: `/a` and `a` are the same parameter.
    pub canonical: String,
    /// Under the `aws` prefix, which only AWS writes ([`crate::access`] refuses every write).
    pub reserved: bool,
}

impl ParameterName {
    /// The canonical name's parent path (`a/b` for `a/b/c`, empty for a top-level name) and leaf.
    pub fn parent_and_leaf(&self) -> (&str, &str) {
        split_parent(&self.canonical)
    }

    /// Whether the name lies under `/aws/` (AWS's public parameters).
    pub fn is_public(&self) -> bool {
        self.canonical.starts_with("aws/")
    }

    /// Checks a plain name (no ARN, no selector) that an operation writes: PutParameter,
    /// LabelParameterVersion, UnlabelParameterVersion, DeleteParameter(s), tags.
    /// The ARN prefix of `scope` counts towards the name's length.
    pub fn for_write(text: &str, scope: &Scope) -> Result<Self, SsmError> {
        let name = text.trim_matches(' ');
        if name.is_empty() || !name_chars_ok(name) {
            return Err(malformed());
        }
        let canonical = name.strip_prefix('/').unwrap_or(name);
        if starts_with_ci(canonical, "aws") {
            // Not malformed, but no one may write it: decided with the access decision.
            return Ok(ParameterName { given: name.to_string(), canonical: canonical.to_string(), reserved: true });
        }
        if starts_with_ci(canonical, "ssm") {
            return Err(validation(if canonical.contains('/') { MALFORMED_NAME } else { RESERVED_SIMPLE_NAME }));
        }
        if canonical.contains('/') && !name.starts_with('/') {
            return Err(validation("Parameter name must be a fully qualified name."));
        }
        Self::check_shape(name, canonical, scope)
    }

    /// Checks a plain name an operation reads. Reserved prefixes are not errors here: `/aws/...`
    /// names the public parameters, and other reserved names simply do not exist.
    pub fn for_read(text: &str, scope: &Scope) -> Result<Self, SsmError> {
        let name = text.trim_matches(' ');
        if name.is_empty() || !name_chars_ok(name) {
            return Err(malformed());
        }
        let canonical = name.strip_prefix('/').unwrap_or(name);
        if canonical.contains('/') && !name.starts_with('/') {
            return Err(malformed());
        }
        Self::check_shape(name, canonical, scope)
    }

    fn check_shape(name: &str, canonical: &str, scope: &Scope) -> Result<Self, SsmError> {
        // One pass over the bytes: an empty level (a leading, trailing or doubled `/`) is
        // malformed; the levels are counted on the way.
        let bytes = canonical.as_bytes();
        let empty_level = bytes.first().is_none_or(|&b| b == b'/')
            || bytes.last() == Some(&b'/')
            || bytes.windows(2).any(|w| w == b"//");
        if empty_level {
            return Err(malformed());
        }
        let levels = 1 + bytes.iter().filter(|&&b| b == b'/').count();
        if levels > MAX_HIERARCHY_LEVELS {
            return Err(SsmError::hierarchy_level_limit_exceeded_exception(
                "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and \
                 Constraints for Parameter Names in the AWS Systems Manager User Guide.",
            ));
        }
        if arn_prefix_len(scope) + canonical.len() > MAX_NAME_WITH_ARN_PREFIX {
            return Err(validation(format!(
                "Parameter name: the name including the ARN prefix {} must be {MAX_NAME_WITH_ARN_PREFIX} \
                 characters or fewer.",
                arn_prefix(scope)
            )));
        }
        Ok(ParameterName { given: name.to_string(), canonical: canonical.to_string(), reserved: false })
    }
}

/// `a/b` and `c` for `a/b/c`; empty parent for a top-level name.
pub fn split_parent(canonical: &str) -> (&str, &str) {
    match canonical.rsplit_once('/') {
        Some((parent, leaf)) => (parent, leaf),
        None => ("", canonical),
    }
}

/// A hierarchy path as GetParametersByPath and the `Path` filter take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterPath {
    /// Without the leading and trailing slashes; empty for the root `/`.
    pub canonical: String,
}

impl ParameterPath {
    /// Parses a path: it starts with `/`, a trailing slash is allowed, and segments are non-empty
    /// runs of the name characters.
    pub fn parse(text: &str) -> Result<Self, SsmError> {
        let path = text.trim_matches(' ');
        let Some(inner) = path.strip_prefix('/') else {
            return Err(validation(MALFORMED_PATH));
        };
        if !name_chars_ok(path) || path.contains("//") {
            return Err(validation(MALFORMED_PATH));
        }
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        if starts_with_ci(inner, "ssm") {
            return Err(validation(MALFORMED_PATH));
        }
        Ok(ParameterPath { canonical: inner.to_string() })
    }

    pub fn is_root(&self) -> bool {
        self.canonical.is_empty()
    }

    /// Whether the path lies in the public namespace (`/aws/...`).
    pub fn is_public(&self) -> bool {
        self.canonical == "aws" || self.canonical.starts_with("aws/")
    }

    /// Whether `canonical` (a parameter) lies under this path: directly, or at any depth.
    pub fn contains(&self, canonical: &str, recursive: bool) -> bool {
        let rest = if self.is_root() {
            Some(canonical)
        } else {
            canonical.strip_prefix(self.canonical.as_str()).and_then(|r| r.strip_prefix('/'))
        };
        rest.is_some_and(|r| !r.is_empty() && (recursive || !r.contains('/')))
    }

    /// The prefix of canonical names under this path (`a/b/`; empty for the root).
    pub fn name_prefix(&self) -> String {
        if self.is_root() {
            String::new()
        } else {
            format!("{}/", self.canonical)
        }
    }
}

/// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/`.
pub fn arn_prefix(scope: &Scope) -> String {
    scope.arn("ssm", "parameter/")
}

/// `arn_prefix(scope).len()`, without building it.
fn arn_prefix_len(scope: &Scope) -> usize {
    scope.arn_len("ssm", "parameter/".len())
}

/// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`, never with a doubled slash.
pub fn parameter_arn(scope: &Scope, canonical: &str) -> String {
    scope.arn_parts("ssm", &["parameter/", canonical])
}

/// `arn:PARTITION:ssm:REGION::parameter/NAME`: a public parameter (`aws/service/...`), which is
/// in no account.
pub fn public_parameter_arn(region: &Region, canonical: &str) -> String {
    ["arn:", partition_of(region.as_str()), ":ssm:", region.as_str(), "::parameter/", canonical].concat()
}

/// A version or label after the name: `name:3`, `name:Production`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Version(i64),
    Label(String),
}

impl Selector {
    fn parse(text: &str) -> Self {
        if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) {
            // A number too large for a version names no version.
            Selector::Version(text.parse().unwrap_or(i64::MAX))
        } else {
            Selector::Label(text.to_string())
        }
    }

    /// As the response's `Selector` shows it (`:3`, `:Production`).
    pub fn to_response(&self) -> String {
        match self {
            Selector::Version(v) => format!(":{v}"),
            Selector::Label(l) => format!(":{l}"),
        }
    }
}

/// Who owns the parameter a [`ParameterReference`] names. Borrowed from the caller's scope unless
/// an ARN named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A parameter of an account in a region: the caller's, or another one an ARN names.
    Account(Cow<'a, Scope>),
    /// A public parameter (`/aws/service/...`) of a region, in no account.
    Public(Cow<'a, Region>),
}

impl Owner<'_> {
    /// The owning account; none for a public parameter.
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Owner::Account(scope) => Some(&scope.account),
            Owner::Public(_) => None,
        }
    }
}

/// What GetParameter(s) and GetParameterHistory accept: a name or an ARN, optionally followed by
/// `:selector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterReference<'a> {
    pub owner: Owner<'a>,
    pub name: ParameterName,
    pub selector: Option<Selector>,
    /// Named by an ARN rather than by a name (a name is echoed as given; see [`Self::response_name`]).
    pub by_arn: bool,
}

impl<'a> ParameterReference<'a> {
    /// Parses a reference made in `scope` (the caller's). An ARN names its own account and region;
    /// one without an account names only public parameters.
    pub fn parse(text: &str, scope: &'a Scope, allow_selector: bool) -> Result<Self, SsmError> {
        let text = text.trim_matches(' ');
        let by_arn = text.starts_with("arn:");
        // The scope whose ARN prefix counts towards the name's length, and whether the ARN has no
        // account (the caller's then counts).
        let (owner_scope, accountless, rest): (Cow<'a, Scope>, bool, Cow<'_, str>) = if by_arn {
            let arn = Arn::parse(text).map_err(|_| malformed())?;
            let Some(path) = arn.resource.strip_prefix("parameter/") else {
                return Err(malformed());
            };
            if arn.service != "ssm" || arn.partition != partition_of(&arn.region) {
                return Err(malformed());
            }
            let region = Region::parse(&arn.region).ok_or_else(malformed)?;
            let accountless = arn.account.is_empty();
            let account = if accountless {
                scope.account.clone()
            } else {
                AccountId::parse(&arn.account).ok_or_else(malformed)?
            };
            // The ARN drops the leading slash of hierarchical names.
            let name = if path.contains('/') { format!("/{path}") } else { path.to_string() };
            (Cow::Owned(Scope::new(account, region)), accountless, Cow::Owned(name))
        } else {
            (Cow::Borrowed(scope), false, Cow::Borrowed(text))
        };
        let (name, selector) = match rest.split_once(':') {
            None => (&*rest, None),
            Some((name, sel)) if allow_selector && !sel.is_empty() && !sel.contains(':') => {
                (name, Some(Selector::parse(sel)))
            }
            Some(_) => return Err(malformed()),
        };
        let name = ParameterName::for_read(name, &owner_scope)?;
        let owner = if name.is_public() {
            Owner::Public(match owner_scope {
                Cow::Borrowed(scope) => Cow::Borrowed(&scope.region),
                Cow::Owned(scope) => Cow::Owned(scope.region),
            })
        } else if accountless {
            return Err(malformed());
        } else {
            Owner::Account(owner_scope)
        };
        Ok(ParameterReference { owner, name, selector, by_arn })
    }

    /// The `Name` a read answers with when it differs from the stored one: a plain name comes back
    /// as it was asked for (`/x` and `x` are one parameter, and AWS echoes either); an ARN keeps
    /// the stored name.
    pub fn response_name(&self) -> Option<&str> {
        (!self.by_arn).then_some(self.name.given.as_str())
    }

    pub fn arn(&self) -> String {
        match &self.owner {
            Owner::Account(scope) => parameter_arn(scope, &self.name.canonical),
            Owner::Public(region) => public_parameter_arn(region, &self.name.canonical),
        }
    }

    /// Whether the reference names a parameter of the caller's account and region.
    pub fn is_own(&self, ctx: &RequestContext<'_>) -> bool {
        matches!(&self.owner, Owner::Account(scope) if **scope == *ctx.scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "us-east-1";
    const A: &str = "123456789012";

    fn scope() -> Scope {
        scope_in(R)
    }

    fn scope_in(region: &str) -> Scope {
        Scope::new(AccountId::parse(A).unwrap(), Region::parse(region).unwrap())
    }

    fn message(e: SsmError) -> String {
        e.message().unwrap_or_default().to_string()
    }

    #[test]
    fn single_level_names_are_the_same_with_or_without_a_slash() {
        let a = ParameterName::for_write("/x", &scope()).unwrap();
        let b = ParameterName::for_write("x", &scope()).unwrap();
        assert_eq!(a.canonical, b.canonical);
        assert_eq!((a.given.as_str(), b.given.as_str()), ("/x", "x"));
    }

    #[test]
    fn surrounding_spaces_are_trimmed_and_inner_spaces_rejected() {
        assert_eq!(ParameterName::for_write("  /a/b ", &scope()).unwrap().given, "/a/b");
        assert_eq!(message(ParameterName::for_write("a b", &scope()).unwrap_err()), MALFORMED_NAME);
    }

    #[test]
    fn names_starting_with_aws_are_reserved_in_any_case_and_with_a_slash() {
        // Reserved names are well formed; `access::authorize_write` refuses to write them.
        for reserved in ["awsTest", "/aws/x", "AWS-x", "/Aws/y/z"] {
            assert!(ParameterName::for_write(reserved, &scope()).unwrap().reserved, "{reserved}");
        }
        assert!(!ParameterName::for_write("/a/aws", &scope()).unwrap().reserved);
    }

    #[test]
    fn names_starting_with_ssm_are_validation_errors() {
        assert_eq!(message(ParameterName::for_write("SSM-x", &scope()).unwrap_err()), RESERVED_SIMPLE_NAME);
        assert_eq!(message(ParameterName::for_write("/ssm/x", &scope()).unwrap_err()), MALFORMED_NAME);
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for bad in ["/a//b", "/a/", "/", "a*b", "", "a@b", "{x}"] {
            assert!(ParameterName::for_write(bad, &scope()).is_err(), "{bad}");
        }
    }

    #[test]
    fn hierarchical_names_must_start_with_a_slash() {
        assert_eq!(
            message(ParameterName::for_write("a/b", &scope()).unwrap_err()),
            "Parameter name must be a fully qualified name."
        );
        assert_eq!(message(ParameterName::for_read("a/b", &scope()).unwrap_err()), MALFORMED_NAME);
    }

    #[test]
    fn fifteen_levels_are_allowed_and_sixteen_are_not() {
        let fifteen = (1..=15).map(|i| format!("/l{i}")).collect::<String>();
        assert!(ParameterName::for_write(&fifteen, &scope()).is_ok());
        let sixteen = format!("{fifteen}/l16");
        assert!(matches!(
            ParameterName::for_write(&sixteen, &scope()),
            Err(SsmError::HierarchyLevelLimitExceededException(_))
        ));
    }

    #[test]
    fn the_length_limit_counts_the_arn_prefix() {
        let prefix = arn_prefix(&scope()).len();
        assert_eq!(arn_prefix_len(&scope()), prefix);
        let fits = "a".repeat(MAX_NAME_WITH_ARN_PREFIX - prefix);
        assert!(ParameterName::for_write(&fits, &scope()).is_ok());
        assert!(ParameterName::for_write(&format!("{fits}a"), &scope()).is_err());
        // A longer region leaves room for fewer characters.
        assert!(ParameterName::for_write(&fits, &scope_in("ap-southeast-2")).is_err());
    }

    #[test]
    fn reads_accept_reserved_prefixes() {
        assert!(ParameterName::for_read("/aws/service/x", &scope()).unwrap().is_public());
        assert!(!ParameterName::for_read("/ssm/x", &scope()).unwrap().is_public());
    }

    #[test]
    fn arns_never_double_the_slash() {
        assert_eq!(parameter_arn(&scope(), "a/b"), "arn:aws:ssm:us-east-1:123456789012:parameter/a/b");
        assert_eq!(parameter_arn(&scope_in("cn-north-1"), "x"), "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x");
        assert_eq!(parameter_arn(&scope(), "a/b"), scope().arn("ssm", "parameter/a/b"));
        assert_eq!(arn_prefix(&scope()), "arn:aws:ssm:us-east-1:123456789012:parameter/");
    }

    #[test]
    fn public_arns_have_no_account() {
        let region = Region::parse("cn-north-1").unwrap();
        assert_eq!(
            public_parameter_arn(&region, "aws/service/x"),
            "arn:aws-cn:ssm:cn-north-1::parameter/aws/service/x"
        );
    }

    #[test]
    fn a_plain_name_is_owned_by_the_callers_scope() {
        let caller = scope();
        let r = ParameterReference::parse("/a/b:3", &caller, true).unwrap();
        assert_eq!(r.owner, Owner::Account(Cow::Borrowed(&caller)));
        assert!(matches!(r.owner, Owner::Account(Cow::Borrowed(_))));
        assert_eq!((r.selector.as_ref(), r.response_name()), (Some(&Selector::Version(3)), Some("/a/b")));
        assert_eq!(r.arn(), "arn:aws:ssm:us-east-1:123456789012:parameter/a/b");
    }

    #[test]
    fn an_arn_names_its_own_account_and_region() {
        let arn = "arn:aws:ssm:eu-west-1:111122223333:parameter/a/b";
        let caller = scope();
        let r = ParameterReference::parse(arn, &caller, false).unwrap();
        let theirs = Scope::new(AccountId::parse("111122223333").unwrap(), Region::parse("eu-west-1").unwrap());
        assert_eq!(r.owner, Owner::Account(Cow::Owned(theirs)));
        assert_eq!((r.name.given.as_str(), r.response_name()), ("/a/b", None));
        assert_eq!(r.arn(), arn);
    }

    #[test]
    fn public_names_are_in_no_account_however_they_are_named() {
        let caller = scope();
        for text in [
            "/aws/service/x",
            "arn:aws:ssm:us-east-1::parameter/aws/service/x",
            "arn:aws:ssm:us-east-1:111122223333:parameter/aws/service/x",
        ] {
            let r = ParameterReference::parse(text, &caller, false).unwrap();
            assert_eq!(r.owner, Owner::Public(Cow::Owned(caller.region.clone())), "{text}");
            assert_eq!(r.owner.account(), None);
            assert_eq!(r.arn(), "arn:aws:ssm:us-east-1::parameter/aws/service/x");
        }
    }

    #[test]
    fn arns_of_no_real_account_region_or_parameter_are_malformed() {
        for text in [
            "arn:aws:ssm:us-east-1::parameter/mine",
            "arn:aws:ssm:us-east-1:abc:parameter/x",
            "arn:aws:ssm:nowhere:123456789012:parameter/x",
            "arn:aws-cn:ssm:us-east-1:123456789012:parameter/x",
            "arn:aws:kms:us-east-1:123456789012:parameter/x",
            "arn:aws:ssm:us-east-1:123456789012:key/x",
        ] {
            let e = ParameterReference::parse(text, &scope(), false).unwrap_err();
            assert_eq!(message(e), MALFORMED_NAME, "{text}");
        }
    }

    #[test]
    fn selectors_are_versions_when_all_digits_and_labels_otherwise() {
        assert_eq!(Selector::parse("3"), Selector::Version(3));
        assert_eq!(Selector::parse("Prod"), Selector::Label("Prod".into()));
        assert_eq!(Selector::parse("v3"), Selector::Label("v3".into()));
        assert_eq!(Selector::parse("99999999999999999999"), Selector::Version(i64::MAX));
        assert_eq!(Selector::Label("Prod".into()).to_response(), ":Prod");
    }

    #[test]
    fn paths_must_start_with_a_slash_and_may_end_with_one() {
        assert_eq!(ParameterPath::parse("/a/b/").unwrap().canonical, "a/b");
        assert!(ParameterPath::parse("/").unwrap().is_root());
        for bad in ["a/b", "/a//b", "/a b", "/ssm/x"] {
            assert_eq!(message(ParameterPath::parse(bad).unwrap_err()), MALFORMED_PATH, "{bad}");
        }
    }

    #[test]
    fn a_path_contains_its_children_and_recursively_its_descendants() {
        let p = ParameterPath::parse("/a").unwrap();
        assert!(p.contains("a/b", false));
        assert!(!p.contains("a/b/c", false));
        assert!(p.contains("a/b/c", true));
        assert!(!p.contains("a", true));
        assert!(!p.contains("ab/c", true));
        let root = ParameterPath::parse("/").unwrap();
        assert!(root.contains("x", false));
        assert!(!root.contains("x/y", false));
    }
}
