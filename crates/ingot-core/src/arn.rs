//! Amazon Resource Names.

use std::fmt;

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. The resource part keeps its own separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnParseError(pub String);

impl fmt::Display for ArnParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid ARN: {}", self.0)
    }
}

impl std::error::Error for ArnParseError {}

impl Arn {
    pub fn new(service: &str, region: &str, account: &str, resource: impl Into<String>) -> Self {
        Arn {
            partition: crate::identity::partition_of(region).to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.into(),
        }
    }

    pub fn parse(text: &str) -> Result<Self, ArnParseError> {
        let [partition, service, region, account, resource] = Self::fields(text)?;
        Ok(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }

    /// The account field of an ARN that [`Arn::parse`] accepts, without copying anything (the
    /// authorizer asks this of every request's resource).
    pub fn account_of(text: &str) -> Result<&str, ArnParseError> {
        Self::fields(text).map(|[_, _, _, account, _]| account)
    }

    /// Partition, service, region, account and resource, checked as [`Arn::parse`] checks them.
    fn fields(text: &str) -> Result<[&str; 5], ArnParseError> {
        // The first five `:` end `arn` and the four fields; the resource may hold more. Found
        // with the `memchr` crate, because the authorizer asks this of every request and
        // `splitn`'s searcher costs several times as much per field.
        let mut colons = memchr::memchr_iter(b':', text.as_bytes());
        let mut ends = [0usize; 5];
        for end in &mut ends {
            *end = colons.next().ok_or_else(|| ArnParseError(text.to_string()))?;
        }
        // Every cut is at an ASCII `:`, so on a character boundary.
        let field = |k: usize| &text[if k == 0 { 0 } else { ends[k - 1] + 1 }..ends[k]];
        let [prefix, partition, service, region, account] = [field(0), field(1), field(2), field(3), field(4)];
        let resource = &text[ends[4] + 1..];
        if prefix != "arn" || partition.is_empty() || service.is_empty() || resource.is_empty() {
            return Err(ArnParseError(text.to_string()));
        }
        Ok([partition, service, region, account, resource])
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_a_parameter_arn() {
        let a = Arn::parse("arn:aws:ssm:us-east-1:123456789012:parameter/a/b:c").unwrap();
        assert_eq!(a.service, "ssm");
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.resource, "parameter/a/b:c");
        assert_eq!(a.to_string(), "arn:aws:ssm:us-east-1:123456789012:parameter/a/b:c");
    }

    #[test]
    fn iam_arns_have_an_empty_region() {
        let a = Arn::parse("arn:aws:iam::123456789012:root").unwrap();
        assert_eq!(a.region, "");
        assert_eq!(a.resource, "root");
    }

    #[test]
    fn rejects_text_that_is_not_an_arn() {
        for bad in ["", "arn:aws:ssm", "arn::ssm:r:a:x", "urn:aws:ssm:r:a:x", "arn:aws:ssm:r:a:"] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_picks_the_partition_from_the_region() {
        assert_eq!(Arn::new("ssm", "cn-north-1", "1", "x").partition, "aws-cn");
        assert_eq!(Arn::new("ssm", "eu-west-1", "1", "x").partition, "aws");
    }
}
