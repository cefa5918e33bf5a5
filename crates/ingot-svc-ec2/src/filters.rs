//! EC2's `Filter.N.Name` / `Filter.N.Value.M` semantics: filters are ANDed, the values of one
//! filter ORed, and `*` / `?` are wildcards.

use crate::errors::Ec2Error;
use crate::types::Filter;

/// Rejects filter names the operation does not know, as EC2 does.
pub fn check_filter_names(filters: &[Filter], known: &[&str]) -> Result<(), Ec2Error> {
    for f in filters {
        let name = f.name.as_deref().unwrap_or("");
        if !known.contains(&name) && !name.starts_with("tag:") {
            return Err(Ec2Error::unmodeled("InvalidParameterValue", 400, format!("The filter '{name}' is invalid")));
        }
    }
    Ok(())
}

/// Whether a resource passes every filter; `field` gives the resource's value for a filter name.
pub fn matches_filters(filters: &[Filter], field: impl Fn(&str) -> Option<String>) -> bool {
    filters.iter().all(|f| {
        let Some(actual) = field(f.name.as_deref().unwrap_or("")) else {
            return false;
        };
        f.values.as_deref().unwrap_or_default().iter().any(|pattern| wildcard_match(pattern, &actual))
    })
}

/// `*` matches any run of characters, `?` exactly one; `\` escapes them.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        let (token, escaped, width) = match p.get(pi) {
            Some('\\') if pi + 1 < p.len() => (Some(p[pi + 1]), true, 2),
            Some(c) => (Some(*c), false, 1),
            None => (None, false, 0),
        };
        match token {
            Some('*') if !escaped => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some('?') if !escaped => {
                pi += 1;
                ti += 1;
            }
            Some(c) if c == t[ti] => {
                pi += width;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_ec2_filters() {
        assert!(wildcard_match("us-*", "us-east-1"));
        assert!(wildcard_match("us-east-?", "us-east-1"));
        assert!(!wildcard_match("us-east-?", "us-east-10"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match(r"a\*b", "a*b"));
        assert!(!wildcard_match(r"a\*b", "axb"));
        assert!(wildcard_match("*-1", "eu-west-1"));
    }

    #[test]
    fn filters_are_anded_and_values_ored() {
        let f = |name: &str, values: &[&str]| Filter {
            name: Some(name.into()),
            values: Some(values.iter().map(|s| s.to_string()).collect()),
        };
        let filters = [f("a", &["1", "2"]), f("b", &["x*"])];
        let field = |a: &'static str, b: &'static str| {
            move |n: &str| match n {
                "a" => Some(a.to_string()),
                "b" => Some(b.to_string()),
                _ => None,
            }
        };
        assert!(matches_filters(&filters, field("2", "xyz")));
        assert!(!matches_filters(&filters, field("3", "xyz")));
        assert!(!matches_filters(&filters, field("1", "yz")));
    }
}
