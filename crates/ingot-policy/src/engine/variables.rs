//! Policy variables: `${key}`, `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`
//! (a literal `*`, `?`, `$`). Only policies with `Version: 2012-10-17` have them; elsewhere the
//! text is literal.

use super::context::{lower_key, ContextKeys};

/// `${key}` or `${key, 'default'}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    /// As written, for listing the context keys a policy uses.
    pub(crate) key: Box<str>,
    pub(crate) lowered: Box<str>,
    pub(crate) default: Option<Box<str>>,
}

/// What one `${…}` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// `${*}`, `${?}`, `${$}`: that character, literally (never a wildcard).
    Escape(char),
    Var(Variable),
}

/// Reads a `${…}` at the start of `text`. Returns what it is and how many bytes it spans, or
/// `None` when the text there is not a well-formed variable (then it is literal text).
pub(crate) fn parse_variable(text: &str) -> Option<(Parsed, usize)> {
    let body = text.strip_prefix("${")?;
    let stop = body.find([',', '}'])?;
    let key = body[..stop].trim();
    if key.is_empty() {
        return None;
    }
    let (default, consumed) = if body.as_bytes()[stop] == b'}' {
        (None, stop + 1)
    } else {
        let after_comma = &body[stop + 1..];
        let trimmed = after_comma.trim_start();
        let skipped = after_comma.len() - trimmed.len();
        if let Some(quoted) = trimmed.strip_prefix('\'') {
            // The default may hold `}` or `,`: it ends at the closing quote.
            let close = quoted.find('\'')?;
            let value = &quoted[..close];
            let tail = &quoted[close + 1..];
            let tail_trimmed = tail.trim_start();
            if !tail_trimmed.starts_with('}') {
                return None;
            }
            let used = stop + 1 + skipped + 1 + close + 1 + (tail.len() - tail_trimmed.len()) + 1;
            (Some(value), used)
        } else {
            let close = trimmed.find('}')?;
            (Some(trimmed[..close].trim()), stop + 1 + skipped + close + 1)
        }
    };
    let consumed = consumed + 2;
    if default.is_none() {
        if let Some(c @ ('*' | '?' | '$')) = single_char(key) {
            return Some((Parsed::Escape(c), consumed));
        }
    }
    let variable = Variable { key: key.into(), lowered: lower_key(key).into(), default: default.map(Into::into) };
    Some((Parsed::Var(variable), consumed))
}

fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

impl Variable {
    /// The value in this request: the key's single value, else the default, else `None` (a
    /// missing variable: positive operators do not match, negated ones do, resources match
    /// nothing). Multivalued keys cannot be variables, so they count as missing.
    pub(crate) fn resolve<'a>(&'a self, ctx: &'a ContextKeys) -> Option<&'a str> {
        match ctx.get_lowered(&self.lowered) {
            Some([only]) => Some(only.as_str()),
            _ => self.default.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(text: &str) -> Variable {
        match parse_variable(text) {
            Some((Parsed::Var(v), _)) => v,
            other => panic!("not a variable: {other:?}"),
        }
    }

    #[test]
    fn a_plain_variable_spans_its_braces() {
        let (parsed, used) = parse_variable("${aws:username}/rest").unwrap();
        assert_eq!(used, "${aws:username}".len());
        assert_eq!(
            parsed,
            Parsed::Var(Variable { key: "aws:username".into(), lowered: "aws:username".into(), default: None })
        );
    }

    #[test]
    fn a_default_value_is_read_from_single_quotes() {
        let text = "${aws:PrincipalTag/team, 'none'}x";
        let (parsed, used) = parse_variable(text).unwrap();
        assert_eq!(&text[used..], "x");
        let Parsed::Var(v) = parsed else { panic!() };
        assert_eq!(v.default.as_deref(), Some("none"));
        assert_eq!(&*v.lowered, "aws:principaltag/team");
    }

    #[test]
    fn a_quoted_default_may_contain_braces_and_commas() {
        let text = "${k, 'a},b'}!";
        let (parsed, used) = parse_variable(text).unwrap();
        assert_eq!(&text[used..], "!");
        let Parsed::Var(v) = parsed else { panic!() };
        assert_eq!(v.default.as_deref(), Some("a},b"));
    }

    #[test]
    fn the_escapes_stand_for_their_literal_characters() {
        assert_eq!(parse_variable("${*}"), Some((Parsed::Escape('*'), 4)));
        assert_eq!(parse_variable("${?}"), Some((Parsed::Escape('?'), 4)));
        assert_eq!(parse_variable("${$}"), Some((Parsed::Escape('$'), 4)));
    }

    #[test]
    fn malformed_variables_are_literal_text() {
        assert_eq!(parse_variable("${aws:username"), None);
        assert_eq!(parse_variable("${}"), None);
        assert_eq!(parse_variable("${k, 'unterminated}"), None);
        assert_eq!(parse_variable("$aws"), None);
    }

    #[test]
    fn variable_names_are_case_insensitive_when_resolved() {
        let ctx = ContextKeys::new().with("aws:username", "alice");
        assert_eq!(var("${AWS:UserName}").resolve(&ctx), Some("alice"));
    }

    #[test]
    fn a_missing_variable_takes_its_default_or_nothing() {
        let ctx = ContextKeys::new();
        assert_eq!(var("${aws:username}").resolve(&ctx), None);
        assert_eq!(var("${aws:username, 'guest'}").resolve(&ctx), Some("guest"));
    }

    #[test]
    fn a_multivalued_key_is_not_a_usable_variable() {
        let mut ctx = ContextKeys::new();
        ctx.set("aws:TagKeys", vec!["a".into(), "b".into()]);
        assert_eq!(var("${aws:TagKeys}").resolve(&ctx), None);
    }
}
