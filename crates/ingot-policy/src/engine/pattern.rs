//! Matching: `*`/`?` globs, actions (case-insensitive), and ARNs (per colon-separated segment).
//!
//! Patterns are compiled once into [`Template`]s: literal runs, wildcards and policy variables.
//! Matching a pattern without variables allocates nothing.

use super::context::ContextKeys;
use super::variables::{parse_variable, Parsed, Variable};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(Box<str>),
    /// `*`: any run of characters, empty included.
    Star,
    /// `?`: exactly one character.
    One,
    Var(Variable),
}

/// How a pattern's text is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (else literal).
    pub(crate) wildcards: bool,
    /// `${…}` are policy variables (else literal).
    pub(crate) variables: bool,
    /// Literals are stored ASCII-lowercased and matched ignoring ASCII case (actions).
    pub(crate) fold: bool,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// The whole text when it holds no wildcard and no variable: matched by plain equality.
    exact: Option<Box<str>>,
    has_vars: bool,
}

impl Template {
    pub(crate) fn parse(text: &str, syntax: Syntax) -> Template {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if syntax.variables && rest.starts_with("${") {
                if let Some((parsed, used)) = parse_variable(rest) {
                    match parsed {
                        Parsed::Escape(c) => literal.push(c),
                        Parsed::Var(v) => {
                            flush(&mut literal, &mut pieces, syntax.fold);
                            pieces.push(Piece::Var(v));
                        }
                    }
                    rest = &rest[used..];
                    continue;
                }
            }
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut literal, &mut pieces, syntax.fold);
                    // `**` means the same as `*`; one keeps backtracking short.
                    if pieces.last() != Some(&Piece::Star) {
                        pieces.push(Piece::Star);
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut literal, &mut pieces, syntax.fold);
                    pieces.push(Piece::One);
                }
                _ => literal.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut literal, &mut pieces, syntax.fold);
        let has_vars = pieces.iter().any(|p| matches!(p, Piece::Var(_)));
        let exact = match pieces.as_slice() {
            [] => Some("".into()),
            [Piece::Lit(l)] => Some(l.clone()),
            _ => None,
        };
        Template { pieces, exact, has_vars }
    }

    /// Matches `text`, resolving variables from `ctx`. `fold` ignores ASCII case (the pattern's
    /// literals must then have been compiled lowercased).
    pub(crate) fn matches(&self, text: &str, ctx: &ContextKeys, fold: bool) -> bool {
        if let Some(exact) = &self.exact {
            return if fold { exact.eq_ignore_ascii_case(text) } else { **exact == *text };
        }
        if !self.has_vars {
            return glob(&self.pieces, text, fold);
        }
        let resolved = self.resolve(ctx);
        glob(&resolved, text, fold)
    }

    /// The text with variables resolved, for operators that compare whole values. `None` when a
    /// variable is missing. Wildcards (absent for such operators) render as themselves.
    pub(crate) fn render<'a>(&'a self, ctx: &'a ContextKeys) -> Option<std::borrow::Cow<'a, str>> {
        if let Some(exact) = &self.exact {
            return Some(std::borrow::Cow::Borrowed(exact));
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(l) => out.push_str(l),
                Piece::Star => out.push('*'),
                Piece::One => out.push('?'),
                Piece::Var(v) => out.push_str(v.resolve(ctx)?),
            }
        }
        Some(std::borrow::Cow::Owned(out))
    }

    pub(crate) fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(v) => Some(v),
            _ => None,
        })
    }

    fn resolve<'a>(&'a self, ctx: &'a ContextKeys) -> Vec<Resolved<'a>> {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(l) => Resolved::Lit(l),
                Piece::Star => Resolved::Star,
                Piece::One => Resolved::One,
                Piece::Var(v) => v.resolve(ctx).map_or(Resolved::Never, Resolved::Lit),
            })
            .collect()
    }
}

fn flush(literal: &mut String, pieces: &mut Vec<Piece>, fold: bool) {
    if literal.is_empty() {
        return;
    }
    if fold {
        literal.make_ascii_lowercase();
    }
    pieces.push(Piece::Lit(std::mem::take(literal).into_boxed_str()));
}

/// A pattern piece as the matcher sees it; `Never` is a missing variable.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resolved<'a> {
    Lit(&'a str),
    Star,
    One,
    Never,
}

pub(crate) trait AsResolved {
    fn resolved(&self) -> Resolved<'_>;
}

impl AsResolved for Piece {
    fn resolved(&self) -> Resolved<'_> {
        match self {
            Piece::Lit(l) => Resolved::Lit(l),
            Piece::Star => Resolved::Star,
            Piece::One => Resolved::One,
            // Only reached for unresolved templates, which never match.
            Piece::Var(_) => Resolved::Never,
        }
    }
}

impl AsResolved for Resolved<'_> {
    fn resolved(&self) -> Resolved<'_> {
        *self
    }
}

/// Glob matching with backtracking to the last `*` only, which is enough for `*`/`?` patterns
/// and keeps the work linear in practice.
pub(crate) fn glob<P: AsResolved>(pieces: &[P], text: &str, fold: bool) -> bool {
    let bytes = text.as_bytes();
    let (mut p, mut i) = (0usize, 0usize);
    let mut back: Option<(usize, usize)> = None;
    loop {
        if let Some(piece) = pieces.get(p) {
            match piece.resolved() {
                Resolved::Star => {
                    if p + 1 == pieces.len() {
                        return true;
                    }
                    back = Some((p + 1, i));
                    p += 1;
                    continue;
                }
                Resolved::Lit(lit) => {
                    let end = i + lit.len();
                    if end <= bytes.len() {
                        let candidate = &bytes[i..end];
                        let same = if fold {
                            candidate.eq_ignore_ascii_case(lit.as_bytes())
                        } else {
                            candidate == lit.as_bytes()
                        };
                        if same {
                            i = end;
                            p += 1;
                            continue;
                        }
                    }
                }
                Resolved::One => {
                    if i < bytes.len() {
                        i += char_len_at(text, i);
                        p += 1;
                        continue;
                    }
                }
                Resolved::Never => return false,
            }
        } else if i == bytes.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character and retry from there.
        match back {
            Some((after_star, from)) if from < bytes.len() => {
                let next = from + char_len_at(text, from);
                back = Some((after_star, next));
                p = after_star;
                i = next;
            }
            _ => return false,
        }
    }
}

fn char_len_at(text: &str, i: usize) -> usize {
    text.get(i..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8)
}

/// An `Action` / `NotAction` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionPattern {
    All,
    In { vendor: Box<str>, name: Template },
}

impl ActionPattern {
    pub(crate) fn parse(text: &str) -> ActionPattern {
        if text == "*" {
            return ActionPattern::All;
        }
        let (vendor, name) = text.split_once(':').unwrap_or(("", text));
        let syntax = Syntax { wildcards: true, variables: false, fold: true };
        ActionPattern::In { vendor: vendor.to_ascii_lowercase().into(), name: Template::parse(name, syntax) }
    }

    /// The lower-cased vendor this pattern's actions belong to; `None` for `*`.
    pub(crate) fn vendor(&self) -> Option<&str> {
        match self {
            ActionPattern::All => None,
            ActionPattern::In { vendor, .. } => Some(vendor),
        }
    }

    /// [`Self::matches`] for an action already split at its colon and lower-cased, as the
    /// evaluation does once per request.
    pub(crate) fn matches_lowered(&self, vendor: &str, name: &str, ctx: &ContextKeys) -> bool {
        match self {
            ActionPattern::All => true,
            // The pattern's literals were compiled lower-cased.
            ActionPattern::In { vendor: v, name: n } => **v == *vendor && n.matches(name, ctx, false),
        }
    }

    /// Matches a whole action in any case (the evaluation splits and lower-cases it once, and
    /// uses [`Self::matches_lowered`]).
    #[cfg(test)]
    pub(crate) fn matches(&self, action: &str, ctx: &ContextKeys) -> bool {
        match self {
            ActionPattern::All => true,
            ActionPattern::In { vendor, name } => match action.split_once(':') {
                Some((v, n)) => v.eq_ignore_ascii_case(vendor) && name.matches(n, ctx, true),
                None => false,
            },
        }
    }
}

/// Splits an ARN (or ARN pattern) into at most six parts at its first five colons; the sixth,
/// the resource part, keeps any further colons. With `var_aware`, colons inside `${…}` (as in
/// `${aws:PrincipalAccount}`) do not split.
pub(crate) fn split_arn(text: &str, var_aware: bool) -> Vec<&str> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() && parts.len() < 5 {
        if var_aware && bytes[i] == b'$' {
            if let Some((_, used)) = parse_variable(&text[i..]) {
                i += used;
                continue;
            }
        }
        if bytes[i] == b':' {
            parts.push(&text[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

/// An ARN pattern: each colon-separated part matched on its own (a `*` does not cross into the
/// next part), the resource part as a whole (there `*` crosses `/` and `:`). A pattern with fewer
/// than six parts matches its last part against the rest of the ARN, so a final `*` may cross
/// colons (`arn:aws:logs:*`). A pattern without any colon is a plain glob (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArnPattern {
    parts: Vec<Template>,
}

impl ArnPattern {
    /// `variables_everywhere`: `Arn*` condition values. `variables_in_resource_part`: the
    /// `Resource` element, where AWS reads variables only after the fifth colon.
    pub(crate) fn parse(text: &str, variables_everywhere: bool, variables_in_resource_part: bool) -> ArnPattern {
        let parts = split_arn(text, variables_everywhere)
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let variables = variables_everywhere || (variables_in_resource_part && i == 5);
                Template::parse(part, Syntax { wildcards: true, variables, fold: false })
            })
            .collect();
        ArnPattern { parts }
    }

    pub(crate) fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.parts.iter().flat_map(Template::variables)
    }

    pub(crate) fn matches(&self, text: &str, ctx: &ContextKeys) -> bool {
        self.matches_split(&SplitArn::new(text), ctx)
    }

    /// [`Self::matches`] for an ARN split once for every pattern it is compared with. The last
    /// part is compared first: it is where the ARNs of one account and service differ, so a
    /// miss is found at once.
    pub(crate) fn matches_split(&self, arn: &SplitArn<'_>, ctx: &ContextKeys) -> bool {
        let count = self.parts.len();
        self.parts.iter().enumerate().rev().all(|(i, part)| match arn.segment(i, count) {
            Some(segment) => part.matches(segment, ctx, false),
            None => false,
        })
    }
}

/// An ARN (or any text) with the positions of its first five colons, so that it is split once
/// however many patterns it is compared with.
pub(crate) struct SplitArn<'a> {
    text: &'a str,
    colons: [usize; 5],
    found: usize,
}

impl<'a> SplitArn<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut colons = [0; 5];
        let mut found = 0;
        for (i, byte) in text.bytes().enumerate() {
            if byte == b':' {
                colons[found] = i;
                found += 1;
                if found == colons.len() {
                    break;
                }
            }
        }
        SplitArn { text, colons, found }
    }

    /// Part `i` of the text cut into `count` parts (the last part keeps any further colons);
    /// `None` when the text has fewer.
    fn segment(&self, i: usize, count: usize) -> Option<&'a str> {
        if count == 0 || count - 1 > self.found {
            return None;
        }
        let start = if i == 0 { 0 } else { self.colons[i - 1] + 1 };
        let end = if i + 1 == count { self.text.len() } else { self.colons[i] };
        self.text.get(start..end)
    }
}

/// A `Resource` / `NotResource` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourcePattern {
    All,
    Arn(ArnPattern),
}

impl ResourcePattern {
    pub(crate) fn parse(text: &str, variables: bool) -> ResourcePattern {
        if text == "*" {
            ResourcePattern::All
        } else {
            ResourcePattern::Arn(ArnPattern::parse(text, false, variables))
        }
    }

    #[cfg(test)]
    pub(crate) fn matches(&self, resource: &str, ctx: &ContextKeys) -> bool {
        self.matches_split(&SplitArn::new(resource), ctx)
    }

    pub(crate) fn matches_split(&self, resource: &SplitArn<'_>, ctx: &ContextKeys) -> bool {
        match self {
            ResourcePattern::All => true,
            ResourcePattern::Arn(p) => p.matches_split(resource, ctx),
        }
    }

    pub(crate) fn variables(&self) -> impl Iterator<Item = &Variable> {
        let pattern = match self {
            ResourcePattern::All => None,
            ResourcePattern::Arn(p) => Some(p),
        };
        pattern.into_iter().flat_map(ArnPattern::variables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOB: Syntax = Syntax { wildcards: true, variables: false, fold: false };
    const VARS: Syntax = Syntax { wildcards: true, variables: true, fold: false };

    fn like(pattern: &str, text: &str) -> bool {
        Template::parse(pattern, GLOB).matches(text, &ContextKeys::new(), false)
    }

    fn action(pattern: &str, action: &str) -> bool {
        ActionPattern::parse(pattern).matches(action, &ContextKeys::new())
    }

    fn resource(pattern: &str, arn: &str) -> bool {
        ResourcePattern::parse(pattern, true).matches(arn, &ContextKeys::new())
    }

    #[test]
    fn glob_wildcards_match_runs_and_single_characters() {
        let table = [
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "abcbc", true),
            ("a*c", "abcb", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a**b", "axxb", true),
            ("*a*b*", "xxaxxbxx", true),
            ("?", "é", true),
            ("a*b?d", "aXXbYd", true),
            ("Abc", "abc", false),
        ];
        for (pattern, text, expected) in table {
            assert_eq!(like(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn actions_match_ignoring_case_in_vendor_and_name() {
        let table = [
            ("ssm:GetParameter", "ssm:GetParameter", true),
            ("SSM:getparameter", "ssm:GetParameter", true),
            ("IAM:listaccesskeys", "iam:ListAccessKeys", true),
            ("ssm:Get*", "ssm:GetParameters", true),
            ("ssm:Get*", "ssm:PutParameter", false),
            ("ssm:*", "ssm:PutParameter", true),
            ("ssm:*", "kms:Decrypt", false),
            ("ssm:Get?arameter", "ssm:GetParameter", true),
            ("*", "anything:AtAll", true),
            ("ssm:*Parameter", "SSM:GETPARAMETER", true),
            ("ssm:GetParameter", "ssm:GetParameters", false),
        ];
        for (pattern, request, expected) in table {
            assert_eq!(action(pattern, request), expected, "{pattern} vs {request}");
        }
    }

    #[test]
    fn resources_match_case_sensitively_per_segment() {
        let table = [
            ("*", "arn:aws:ssm:us-east-1:111122223333:parameter/a", true),
            ("*", "*", true),
            ("arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/Bob", true),
            ("arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/bob", false),
            ("arn:aws:ssm:*:*:parameter/app/*", "arn:aws:ssm:us-east-1:111122223333:parameter/app/db/pw", true),
            ("arn:aws:ssm:us-*:111122223333:*", "arn:aws:ssm:us-west-2:111122223333:parameter/x", true),
            ("arn:aws:ssm:us-*:111122223333:*", "arn:aws:ssm:eu-west-1:111122223333:parameter/x", false),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c.txt", true),
            ("arn:aws:logs:*:*:log-group:g:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", true),
            ("arn:aws:ssm:us-east-?:*:*", "arn:aws:ssm:us-east-1:1:parameter/p", true),
            ("arn:aws:ssm:*:*:parameter/a", "*", false),
            ("arn:aws:kms:*:111122223333:key/*", "arn:aws:kms:us-east-1:999999999999:key/k", false),
        ];
        for (pattern, arn, expected) in table {
            assert_eq!(resource(pattern, arn), expected, "{pattern} vs {arn}");
        }
    }

    #[test]
    fn a_star_in_a_middle_segment_does_not_cross_colons() {
        // The region `*` may not swallow `us-east-1:999:x` to line the account up with text
        // that happens to follow in the resource part.
        assert!(!resource("arn:aws:ssm:*:123:*", "arn:aws:ssm:us-east-1:999:foo:123:bar"));
    }

    #[test]
    fn a_star_ending_a_short_pattern_crosses_colons() {
        assert!(resource("arn:aws:ssm:*", "arn:aws:ssm:us-east-1:111122223333:parameter/x"));
        assert!(resource("arn:aws:ssm:us-east-1:*", "arn:aws:ssm:us-east-1:111122223333:parameter/x"));
        assert!(!resource("arn:aws:ssm:*", "arn:aws:kms:us-east-1:111122223333:key/x"));
        assert!(!resource("arn:aws:ssm", "arn:aws:ssm:us-east-1:111122223333:parameter/x"));
    }

    #[test]
    fn resource_variables_resolve_only_in_the_resource_part() {
        let ctx = ContextKeys::new().with("aws:username", "alice");
        let pattern = ResourcePattern::parse("arn:aws:iam::111122223333:user/${aws:username}", true);
        assert!(pattern.matches("arn:aws:iam::111122223333:user/alice", &ctx));
        assert!(!pattern.matches("arn:aws:iam::111122223333:user/bob", &ctx));
        // In the account part the text stays literal.
        let pattern = ResourcePattern::parse("arn:aws:iam::${aws:username}:user/x", true);
        assert!(!pattern.matches("arn:aws:iam::alice:user/x", &ctx));
    }

    #[test]
    fn a_missing_variable_makes_a_resource_pattern_match_nothing() {
        let pattern = ResourcePattern::parse("arn:aws:s3:::bucket/${aws:username}/*", true);
        assert!(!pattern.matches("arn:aws:s3:::bucket/alice/x", &ContextKeys::new()));
        assert!(!pattern.matches("arn:aws:s3:::bucket//x", &ContextKeys::new()));
    }

    #[test]
    fn resolved_variable_text_is_literal_even_if_it_holds_wildcards() {
        let ctx = ContextKeys::new().with("aws:username", "a*");
        let t = Template::parse("home/${aws:username}", VARS);
        assert!(t.matches("home/a*", &ctx, false));
        assert!(!t.matches("home/abc", &ctx, false));
    }

    #[test]
    fn escaped_wildcards_are_literal_characters() {
        let t = Template::parse("a${*}b${?}c${$}", VARS);
        let ctx = ContextKeys::new();
        assert!(t.matches("a*b?c$", &ctx, false));
        assert!(!t.matches("aXbYc$", &ctx, false));
    }

    #[test]
    fn without_variables_the_dollar_brace_text_is_literal() {
        let t = Template::parse("${aws:username}", GLOB);
        let ctx = ContextKeys::new().with("aws:username", "alice");
        assert!(t.matches("${aws:username}", &ctx, false));
        assert!(!t.matches("alice", &ctx, false));
    }

    #[test]
    fn arn_splitting_keeps_colons_of_the_resource_part_and_of_variables() {
        assert_eq!(split_arn("arn:aws:s3:::b/k:x", false), vec!["arn", "aws", "s3", "", "", "b/k:x"]);
        assert_eq!(
            split_arn("arn:aws:iam::${aws:PrincipalAccount}:role/x", true),
            vec!["arn", "aws", "iam", "", "${aws:PrincipalAccount}", "role/x"]
        );
        assert_eq!(split_arn("*", false), vec!["*"]);
    }

    #[test]
    fn arn_patterns_with_variables_in_any_part_resolve_them() {
        let ctx = ContextKeys::new().with("aws:PrincipalAccount", "111122223333");
        let p = ArnPattern::parse("arn:aws:iam::${aws:PrincipalAccount}:role/*", true, false);
        assert!(p.matches("arn:aws:iam::111122223333:role/admin", &ctx));
        assert!(!p.matches("arn:aws:iam::999999999999:role/admin", &ctx));
    }

    #[test]
    fn rendering_resolves_variables_or_reports_a_missing_one() {
        let t =
            Template::parse("team-${aws:PrincipalTag/team}", Syntax { wildcards: false, variables: true, fold: false });
        let ctx = ContextKeys::new().with("aws:PrincipalTag/Team", "blue");
        assert_eq!(t.render(&ctx).as_deref(), Some("team-blue"));
        assert_eq!(t.render(&ContextKeys::new()), None);
    }
}
