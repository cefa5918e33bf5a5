//! Listing: GetParametersByPath and DescribeParameters, their filters, and pagination.
//!
//! Every listing walks parameters in canonical-name order through prefix scans of the store: the
//! whole subtree of a path or a name prefix is a range of `parameters/`, and the direct children
//! of a path are a range of the `parameter-children/` index. A page token holds the last name
//! returned (not an offset), so writes between pages neither repeat nor skip other parameters.
//! Pages are best effort, as AWS's are: a page examines a bounded number of parameters and may
//! come back short, even empty, with a token.

use crate::access;
use crate::errors::SsmError;
use crate::labels::is_valid_label;
use crate::names::{parameter_arn, public_parameter_arn, validation, Owner, ParameterPath, ParameterReference};
use crate::operations::{DescribeParameters, GetParametersByPath};
use crate::parameters::{public_parameter, to_parameter};
use crate::policies::inline_policies;
use crate::public;
use crate::store::{self, ParameterRecord};
use crate::types::{
    DescribeParametersRequest, DescribeParametersResult, GetParametersByPathRequest, GetParametersByPathResult,
    ParameterMetadata, ParameterStringFilter, ParametersFilterKey,
};
use crate::Ssm;
use ingot_core::page::{decode_page_token, encode_page_token};
use ingot_core::{Handler, RequestContext, Scope};
use std::collections::BTreeMap;

/// Parameters one page may examine before it returns (short) with a token.
const PAGE_BUDGET: usize = 1000;
/// Largest batch read from one source at a time.
const MAX_BATCH: usize = 200;
/// DescribeParameters without `MaxResults` returns at most this many (as AWS does; 1–50 may be asked).
const DESCRIBE_DEFAULT_PAGE: usize = 10;
const BY_PATH_DEFAULT_PAGE: usize = 10;

// ---------------------------------------------------------------------------------------------
// Filters

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterKey {
    Name,
    Type,
    KeyId,
    Path,
    Label,
    Tier,
    DataType,
    Tag(String),
}

impl FilterKey {
    fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "Name" => FilterKey::Name,
            "Type" => FilterKey::Type,
            "KeyId" => FilterKey::KeyId,
            "Path" => FilterKey::Path,
            "Label" => FilterKey::Label,
            "Tier" => FilterKey::Tier,
            "DataType" => FilterKey::DataType,
            _ => FilterKey::Tag(key.strip_prefix("tag:").filter(|k| !k.is_empty())?.to_string()),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOption {
    Equals,
    BeginsWith,
    Contains,
    Recursive,
    OneLevel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub key: FilterKey,
    pub option: FilterOption,
    pub values: Vec<String>,
}

/// Which operation the filters are for: the keys and options each allows differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterUse {
    Describe,
    ByPath,
}

fn invalid_key() -> SsmError {
    // The model gives InvalidFilterKey no message member.
    SsmError::InvalidFilterKey(Default::default())
}

/// Validates `ParameterFilters` as AWS does, in request order.
pub fn parse_filters(filters: &[ParameterStringFilter], usage: FilterUse) -> Result<Vec<Filter>, SsmError> {
    let mut out: Vec<Filter> = Vec::with_capacity(filters.len());
    for f in filters {
        let key = FilterKey::parse(&f.key).ok_or_else(invalid_key)?;
        let allowed = match usage {
            FilterUse::ByPath => matches!(key, FilterKey::Type | FilterKey::KeyId | FilterKey::Label),
            FilterUse::Describe => key != FilterKey::Label,
        };
        if !allowed || out.iter().any(|o| o.key == key) {
            return Err(invalid_key());
        }
        let values = f.values.clone().unwrap_or_default();
        // `tag:KEY` without values matches every parameter with that tag key, whatever its value.
        if values.is_empty() && !matches!(key, FilterKey::Tag(_)) {
            return Err(SsmError::invalid_filter_value(format!(
                "The following filter values are missing : null for filter key {}.",
                f.key
            )));
        }
        let options: &[(&str, FilterOption)] = match (&key, usage) {
            (FilterKey::Path, _) => &[("Recursive", FilterOption::Recursive), ("OneLevel", FilterOption::OneLevel)],
            (FilterKey::Name, FilterUse::Describe) => &[
                ("BeginsWith", FilterOption::BeginsWith),
                ("Contains", FilterOption::Contains),
                ("Equals", FilterOption::Equals),
            ],
            (FilterKey::Label, _) => &[("Equals", FilterOption::Equals)],
            _ => &[("BeginsWith", FilterOption::BeginsWith), ("Equals", FilterOption::Equals)],
        };
        let default = if key == FilterKey::Path { "OneLevel" } else { "Equals" };
        let given = f.option.as_deref().unwrap_or(default);
        let Some((_, option)) = options.iter().find(|(n, _)| *n == given) else {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            return Err(SsmError::invalid_filter_option(format!(
                "The following filter option is not valid: {given}. Valid options include: [{}].",
                names.join(", ")
            )));
        };
        let allowed_values: &[&str] = match key {
            FilterKey::Type => &["String", "StringList", "SecureString"],
            FilterKey::Tier => &["Standard", "Advanced", "Intelligent-Tiering"],
            _ => &[],
        };
        if !allowed_values.is_empty() && *option == FilterOption::Equals {
            if let Some(bad) = values.iter().find(|v| !allowed_values.contains(&v.as_str())) {
                return Err(SsmError::invalid_filter_value(format!(
                    "The following filter value is not valid: {bad}. Valid values include: [{}].",
                    allowed_values.join(", ")
                )));
            }
        }
        if key == FilterKey::Path {
            for value in &values {
                let lower = value.to_ascii_lowercase();
                if lower.starts_with("/aws") || lower.starts_with("/ssm") {
                    return Err(validation(
                        "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). \
                         When using global parameters, please specify within a global namespace.",
                    ));
                }
                ParameterPath::parse(value)?;
            }
        }
        if key == FilterKey::Label {
            if let Some(bad) = values.iter().find(|v| !is_valid_label(v)) {
                return Err(SsmError::invalid_filter_value(format!(
                    "The following filter value is not valid: {bad}. A label can contain letters, numbers, periods, \
                     hyphens and underscores, and can't begin with a number, \"aws\" or \"ssm\"."
                )));
            }
        }
        out.push(Filter { key, option: *option, values });
    }
    Ok(out)
}

/// The deprecated `Filters` of DescribeParameters, as parameter filters.
fn legacy_filters(filters: &[crate::types::ParametersFilter]) -> Result<Vec<Filter>, SsmError> {
    let mut out: Vec<Filter> = Vec::new();
    for f in filters {
        let (key, option) = match f.key {
            ParametersFilterKey::Name => (FilterKey::Name, FilterOption::BeginsWith),
            ParametersFilterKey::Type => (FilterKey::Type, FilterOption::Equals),
            ParametersFilterKey::KeyId => (FilterKey::KeyId, FilterOption::Equals),
        };
        if out.iter().any(|o| o.key == key) {
            return Err(invalid_key());
        }
        out.push(Filter { key, option, values: f.values.clone() });
    }
    Ok(out)
}

fn text_matches(option: FilterOption, actual: &str, values: &[String]) -> bool {
    values.iter().any(|v| match option {
        FilterOption::Equals => actual == v,
        FilterOption::BeginsWith => actual.starts_with(v.as_str()),
        FilterOption::Contains => actual.contains(v.as_str()),
        FilterOption::Recursive | FilterOption::OneLevel => false,
    })
}

/// Canonical form of a name filter value (`/x` and `x` name the same parameter).
fn canonical_value(value: &str) -> &str {
    value.strip_prefix('/').unwrap_or(value)
}

impl Filter {
    /// Whether a parameter passes this filter.
    pub fn matches(&self, canonical: &str, record: &ParameterRecord) -> bool {
        match &self.key {
            FilterKey::Name => match self.option {
                FilterOption::Contains => text_matches(self.option, &format!("/{canonical}"), &self.values),
                _ => self.values.iter().any(|v| {
                    let v = canonical_value(v);
                    if self.option == FilterOption::Equals {
                        canonical == v
                    } else {
                        canonical.starts_with(v)
                    }
                }),
            },
            FilterKey::Type => text_matches(self.option, record.parameter_type.as_str(), &self.values),
            FilterKey::KeyId => record.key_id.as_deref().is_some_and(|k| text_matches(self.option, k, &self.values)),
            FilterKey::Tier => text_matches(self.option, record.tier.as_str(), &self.values),
            FilterKey::DataType => text_matches(self.option, &record.data_type, &self.values),
            FilterKey::Label => self.values.iter().any(|l| record.labels.contains_key(l)),
            FilterKey::Tag(key) => record
                .tags
                .iter()
                .any(|(k, v)| k == key && (self.values.is_empty() || text_matches(self.option, v, &self.values))),
            FilterKey::Path => self.values.iter().any(|v| {
                ParameterPath::parse(v).is_ok_and(|p| p.contains(canonical, self.option == FilterOption::Recursive))
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// An opaque page token bound to `query` (core's format, see `ingot_core::page`), continuing
/// after the key `last`.
pub fn encode_token(query: &str, last: &str) -> String {
    encode_page_token(query, last)
}

/// The last key of a token made for `query`, or `InvalidNextToken`.
pub fn decode_token(query: &str, token: &str) -> Result<String, SsmError> {
    decode_page_token(query, token).ok_or_else(|| SsmError::invalid_next_token("The specified token isn't valid."))
}

fn page_size(requested: Option<i32>, default: usize) -> usize {
    requested.and_then(|n| usize::try_from(n).ok()).filter(|n| *n > 0).unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// Sources: parameters in canonical-name order, read in batches.

/// Where a listing reads parameters from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Every parameter whose canonical name starts with this prefix.
    Prefix(String),
    /// The direct children of this parent path (canonical; empty for the root).
    Children(String),
    /// These parameters (canonical names, sorted and distinct).
    Names(Vec<String>),
}

/// One batch of a source: the parameters found, the last name examined, and whether more may follow.
struct Batch {
    items: Vec<(String, ParameterRecord)>,
    last: Option<String>,
    more: bool,
}

impl Source {
    async fn fetch(&self, ctx: &RequestContext<'_>, after: Option<&str>, limit: usize) -> Result<Batch, SsmError> {
        let base = store::parameters_prefix(ctx.scope);
        match self {
            Source::Prefix(prefix) => {
                let start = after.map(|a| format!("{base}{a}"));
                let rows = ctx.tx.scan(&format!("{base}{prefix}"), start.as_deref(), limit).await?;
                let more = rows.len() == limit;
                let mut items = Vec::with_capacity(rows.len());
                for (key, bytes) in rows {
                    let record: ParameterRecord = ingot_store::decode_record(&bytes)?;
                    items.push((key[base.len()..].to_string(), record));
                }
                let last = items.last().map(|(k, _)| k.clone());
                Ok(Batch { items, last, more })
            }
            Source::Children(parent) => {
                let index = store::children_prefix(ctx.scope, parent);
                let name_prefix = if parent.is_empty() { String::new() } else { format!("{parent}/") };
                let start = match after {
                    None => None,
                    Some(a) => match a.strip_prefix(name_prefix.as_str()) {
                        Some(leaf) => Some(format!("{index}{leaf}")),
                        None if a < name_prefix.as_str() => None,
                        None => return Ok(Batch { items: Vec::new(), last: None, more: false }),
                    },
                };
                let rows = ctx.tx.scan(&index, start.as_deref(), limit).await?;
                let more = rows.len() == limit;
                let mut items = Vec::with_capacity(rows.len());
                let mut last = None;
                // An index entry names the child; its record is read from where writes keep it.
                for (key, _) in rows {
                    let name = format!("{name_prefix}{}", &key[index.len()..]);
                    if let Some(record) = store::load(ctx, &name).await? {
                        items.push((name.clone(), record));
                    }
                    last = Some(name);
                }
                Ok(Batch { items, last, more })
            }
            Source::Names(names) => {
                let pending: Vec<&String> = names.iter().filter(|n| after.is_none_or(|a| n.as_str() > a)).collect();
                let more = pending.len() > limit;
                let mut items = Vec::new();
                let mut last = None;
                for name in pending.into_iter().take(limit) {
                    if let Some(record) = store::load(ctx, name).await? {
                        items.push((name.clone(), record));
                    }
                    last = Some(name.clone());
                }
                Ok(Batch { items, last, more })
            }
        }
    }
}

/// One page: the matching parameters after `after`, at most `max`, and the token position for
/// the next page if there may be more.
async fn collect_page(
    ctx: &RequestContext<'_>,
    sources: &[Source],
    after: Option<String>,
    max: usize,
    keep: impl Fn(&str, &ParameterRecord) -> bool,
) -> Result<(Vec<(String, ParameterRecord)>, Option<String>), SsmError> {
    let mut results = Vec::new();
    let mut cursor = after;
    let mut examined = 0;
    let mut batch = (max + 1).min(MAX_BATCH);
    loop {
        let mut merged: BTreeMap<String, ParameterRecord> = BTreeMap::new();
        // The smallest last name of the sources that may have more: beyond it, the merge is not
        // complete yet.
        let mut horizon: Option<String> = None;
        for source in sources {
            let b = source.fetch(ctx, cursor.as_deref(), batch).await?;
            if b.more {
                if let Some(last) = b.last {
                    if horizon.as_ref().is_none_or(|h| &last < h) {
                        horizon = Some(last);
                    }
                }
            }
            merged.extend(b.items);
        }
        let mut entries = merged.into_iter().filter(|(k, _)| horizon.as_ref().is_none_or(|h| k <= h)).peekable();
        while let Some((canonical, record)) = entries.next() {
            examined += 1;
            cursor = Some(canonical.clone());
            if keep(&canonical, &record) {
                results.push((canonical, record));
                if results.len() == max {
                    let more = entries.peek().is_some() || horizon.is_some();
                    return Ok((results, if more { cursor } else { None }));
                }
            }
        }
        let Some(h) = horizon else { return Ok((results, None)) };
        cursor = Some(cursor.map_or(h.clone(), |c| c.max(h)));
        if examined >= PAGE_BUDGET {
            return Ok((results, cursor));
        }
        batch = (batch * 4).min(MAX_BATCH);
    }
}

// ---------------------------------------------------------------------------------------------
// GetParametersByPath

impl Handler<GetParametersByPath> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetParametersByPathRequest,
    ) -> Result<GetParametersByPathResult, SsmError> {
        let path = ParameterPath::parse(&input.path)?;
        let recursive = input.recursive.unwrap_or(false);
        let public_path = path.is_public();
        let resource = if public_path {
            public_parameter_arn(ctx.region(), &path.canonical)
        } else {
            parameter_arn(ctx.scope, &path.canonical)
        };
        access::authorize::<GetParametersByPath>(ctx, &resource, None).await?;
        let filters = parse_filters(input.parameter_filters.as_deref().unwrap_or_default(), FilterUse::ByPath)?;
        let with_decryption = input.with_decryption.unwrap_or(false);
        let max = page_size(input.max_results, BY_PATH_DEFAULT_PAGE);
        let query = format!(
            "by-path\0{}\0{recursive}\0{}",
            path.canonical,
            serde_json::to_string(&input.parameter_filters).unwrap_or_default()
        );
        let after = input.next_token.as_deref().map(|t| decode_token(&query, t)).transpose()?;

        if public_path {
            let region = ctx.region();
            let candidates = public::under(region.as_str(), &path, recursive, after.as_deref());
            let mut parameters = Vec::new();
            let mut next = None;
            for (i, p) in candidates.iter().enumerate() {
                let matches = filters.iter().all(|f| match f.key {
                    FilterKey::Type => text_matches(f.option, public::PublicParameter::TYPE.as_str(), &f.values),
                    _ => false,
                });
                if matches {
                    parameters.push(public_parameter(p, region, None));
                    if parameters.len() == max {
                        if i + 1 < candidates.len() {
                            next = Some(encode_token(&query, &p.canonical));
                        }
                        break;
                    }
                }
            }
            return Ok(GetParametersByPathResult { parameters: Some(parameters), next_token: next });
        }

        let source =
            if recursive { Source::Prefix(path.name_prefix()) } else { Source::Children(path.canonical.clone()) };
        let (page, next) = collect_page(ctx, &[source], after, max, |c, r| {
            path.contains(c, recursive) && filters.iter().all(|f| f.matches(c, r))
        })
        .await?;
        let label_filter = filters.iter().find(|f| f.key == FilterKey::Label);
        let mut parameters = Vec::with_capacity(page.len());
        for (canonical, record) in page {
            let arn = parameter_arn(ctx.scope, &canonical);
            // With a label filter, the labelled version is the one returned.
            let labelled = label_filter.and_then(|f| f.values.iter().find_map(|l| record.labels.get(l).copied()));
            let older;
            let shown = match labelled {
                Some(v) if v != record.version => {
                    older = match store::load_version(&ctx.tx, ctx.scope, &canonical, v).await? {
                        Some(version) => version,
                        None => continue,
                    };
                    older.shown()
                }
                _ => record.shown(),
            };
            parameters.push(to_parameter(ctx, shown, arn, None, with_decryption).await?);
        }
        Ok(GetParametersByPathResult {
            parameters: Some(parameters),
            next_token: next.map(|k| encode_token(&query, &k)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// DescribeParameters

/// Picks the sources that cover every parameter the filters can match, narrowest first: names
/// that must be equal, then name prefixes, then paths; otherwise every parameter.
pub fn plan_sources(filters: &[Filter]) -> Vec<Source> {
    let find = |key: FilterKey, option: FilterOption| filters.iter().find(|f| f.key == key && f.option == option);
    if let Some(f) = find(FilterKey::Name, FilterOption::Equals) {
        let mut names: Vec<String> = f.values.iter().map(|v| canonical_value(v).to_string()).collect();
        names.sort();
        names.dedup();
        return vec![Source::Names(names)];
    }
    if let Some(f) = find(FilterKey::Name, FilterOption::BeginsWith) {
        let mut prefixes: Vec<String> = f.values.iter().map(|v| canonical_value(v).to_string()).collect();
        prefixes.sort();
        prefixes.dedup();
        // A prefix that extends another adds nothing.
        let mut kept: Vec<String> = Vec::new();
        for p in prefixes {
            if !kept.iter().any(|k| p.starts_with(k.as_str())) {
                kept.push(p);
            }
        }
        return kept.into_iter().map(Source::Prefix).collect();
    }
    if let Some(f) = filters.iter().find(|f| f.key == FilterKey::Path) {
        let mut sources: Vec<Source> = f
            .values
            .iter()
            .filter_map(|v| ParameterPath::parse(v).ok())
            .map(|p| {
                if f.option == FilterOption::Recursive {
                    Source::Prefix(p.name_prefix())
                } else {
                    Source::Children(p.canonical)
                }
            })
            .collect();
        sources.dedup();
        return sources;
    }
    vec![Source::Prefix(String::new())]
}

/// The ARNs of the parameters other accounts share with the caller, as RAM lists them (RAM is
/// asked as SSM acting in the caller's account).
async fn shared_with_caller(ctx: &RequestContext<'_>) -> Result<Vec<String>, SsmError> {
    let ssm = ingot_core::Principal::service("ssm", ctx.account().clone());
    let origin = ingot_core::Origin { source_ip: "ssm.amazonaws.com", user_agent: "ssm.amazonaws.com", ..ctx.origin };
    let call =
        ingot_core::Call { service: "ram", operation: "ListResources", scope: ctx.scope, principal: &ssm, origin };
    let input = serde_json::json!({ "resourceOwner": "OTHER-ACCOUNTS", "resourceType": "ssm:Parameter" });
    let output = ctx.env.invoker.invoke(ctx.env, call, input).await.map_err(|f| match f {
        ingot_core::ServiceFailure::Common(e) => SsmError::Common(e),
        other => SsmError::Common(ingot_core::CommonError::internal(format!("RAM answered SSM with {other:?}"))),
    })?;
    let mut arns: Vec<String> = output["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["arn"].as_str().map(str::to_string))
        .collect();
    arns.dedup();
    Ok(arns)
}

fn metadata(scope: &Scope, canonical: &str, record: &ParameterRecord) -> ParameterMetadata {
    ParameterMetadata {
        name: Some(record.name.clone()),
        arn: Some(parameter_arn(scope, canonical)),
        r#type: Some(record.parameter_type),
        key_id: record.key_id.clone(),
        last_modified_date: Some(record.last_modified),
        last_modified_user: Some(record.last_modified_user.clone()),
        description: record.description.clone(),
        allowed_pattern: record.allowed_pattern.clone(),
        version: Some(record.version),
        tier: Some(record.tier),
        policies: Some(inline_policies(&record.policies)),
        data_type: Some(record.data_type.clone()),
    }
}

impl Handler<DescribeParameters> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribeParametersRequest,
    ) -> Result<DescribeParametersResult, SsmError> {
        access::authorize_any::<DescribeParameters>(ctx).await?;
        let legacy = input.filters.as_deref().unwrap_or_default();
        let modern = input.parameter_filters.as_deref().unwrap_or_default();
        if !legacy.is_empty() && !modern.is_empty() {
            return Err(validation("You can use either Filters or ParameterFilters in a single request."));
        }
        let filters =
            if legacy.is_empty() { parse_filters(modern, FilterUse::Describe)? } else { legacy_filters(legacy)? };
        let max = page_size(input.max_results, DESCRIBE_DEFAULT_PAGE);
        let query = format!(
            "describe\0{}\0{}\0{}",
            serde_json::to_string(&input.filters).unwrap_or_default(),
            serde_json::to_string(&input.parameter_filters).unwrap_or_default(),
            input.shared.unwrap_or(false)
        );
        let after = input.next_token.as_deref().map(|t| decode_token(&query, t)).transpose()?;
        if input.shared.unwrap_or(false) {
            let mut found = Vec::new();
            for arn in shared_with_caller(ctx).await? {
                let Ok(reference) = ParameterReference::parse(&arn, ctx.scope, false) else { continue };
                let Owner::Account(owner) = &reference.owner else { continue };
                let canonical = &reference.name.canonical;
                let Some(record) = store::load_in(&ctx.tx, owner, canonical).await? else { continue };
                if filters.iter().all(|f| f.matches(canonical, &record)) && after.as_ref().is_none_or(|a| arn > *a) {
                    found.push((arn.clone(), metadata(owner, canonical, &record)));
                }
            }
            found.sort_by(|a, b| a.0.cmp(&b.0));
            let more = found.len() > max;
            found.truncate(max);
            let next = if more { found.last().map(|(arn, _)| encode_token(&query, arn)) } else { None };
            return Ok(DescribeParametersResult {
                parameters: Some(found.into_iter().map(|(_, m)| m).collect()),
                next_token: next,
            });
        }
        let sources = plan_sources(&filters);
        let (page, next) =
            collect_page(ctx, &sources, after, max, |c, r| filters.iter().all(|f| f.matches(c, r))).await?;
        let parameters = page.iter().map(|(c, r)| metadata(ctx.scope, c, r)).collect();
        Ok(DescribeParametersResult {
            parameters: Some(parameters),
            next_token: next.map(|k| encode_token(&query, &k)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(key: &str, option: Option<&str>, values: &[&str]) -> ParameterStringFilter {
        ParameterStringFilter {
            key: key.to_string(),
            option: option.map(str::to_string),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn record(name: &str) -> ParameterRecord {
        ParameterRecord {
            name: name.to_string(),
            parameter_type: crate::types::ParameterType::String,
            value: "v".into(),
            version: 2,
            last_modified: ingot_core::Timestamp(0),
            last_modified_user: "u".into(),
            data_type: "text".into(),
            tier: crate::types::ParameterTier::Standard,
            description: None,
            allowed_pattern: None,
            key_id: None,
            policies: vec![],
            tags: vec![("env".into(), "prod".into())],
            labels: BTreeMap::from([("Live".to_string(), 1)]),
            oldest_version: 1,
        }
    }

    #[test]
    fn by_path_allows_only_type_key_id_and_label() {
        assert!(parse_filters(&[filter("Type", None, &["String"])], FilterUse::ByPath).is_ok());
        for key in ["Name", "Path", "Tier", "DataType", "tag:env"] {
            let err = parse_filters(&[filter(key, None, &["x"])], FilterUse::ByPath).unwrap_err();
            assert!(matches!(err, SsmError::InvalidFilterKey(_)), "{key}");
        }
    }

    #[test]
    fn describe_refuses_label_and_duplicate_keys() {
        assert!(matches!(
            parse_filters(&[filter("Label", None, &["x"])], FilterUse::Describe),
            Err(SsmError::InvalidFilterKey(_))
        ));
        let twice = [filter("Type", None, &["String"]), filter("Type", None, &["SecureString"])];
        assert!(matches!(parse_filters(&twice, FilterUse::Describe), Err(SsmError::InvalidFilterKey(_))));
    }

    #[test]
    fn options_depend_on_the_key() {
        assert!(parse_filters(&[filter("Name", Some("Contains"), &["x"])], FilterUse::Describe).is_ok());
        let err = parse_filters(&[filter("Type", Some("Contains"), &["x"])], FilterUse::Describe).unwrap_err();
        assert_eq!(
            err.message(),
            Some("The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals].")
        );
        assert!(parse_filters(&[filter("Path", Some("Equals"), &["/a"])], FilterUse::Describe).is_err());
        assert!(parse_filters(&[filter("Label", Some("BeginsWith"), &["x"])], FilterUse::ByPath).is_err());
        let path = parse_filters(&[filter("Path", None, &["/a"])], FilterUse::Describe).unwrap();
        assert_eq!(path[0].option, FilterOption::OneLevel);
    }

    #[test]
    fn values_are_checked() {
        let err = parse_filters(&[filter("Type", None, &["Text"])], FilterUse::Describe).unwrap_err();
        assert!(matches!(err, SsmError::InvalidFilterValue(_)));
        let missing = ParameterStringFilter { key: "Name".into(), option: None, values: None };
        assert!(matches!(parse_filters(&[missing], FilterUse::Describe), Err(SsmError::InvalidFilterValue(_))));
        let reserved = parse_filters(&[filter("Path", None, &["/aws/x"])], FilterUse::Describe).unwrap_err();
        assert!(reserved.message().unwrap().starts_with("Filters for common parameters"));
    }

    #[test]
    fn a_tag_filter_without_values_matches_any_value_of_that_tag_key() {
        let no_values = |key: &str| ParameterStringFilter { key: key.into(), option: None, values: None };
        let parsed = parse_filters(&[no_values("tag:env")], FilterUse::Describe).unwrap();
        assert_eq!(parsed[0].key, FilterKey::Tag("env".into()));
        assert!(parsed[0].matches("app/db", &record("/app/db")));
        let mut untagged = record("/app/db");
        untagged.tags = vec![("team".into(), "prod".into())];
        assert!(!parsed[0].matches("app/db", &untagged));
        // Every other key still needs values.
        for key in ["Name", "Type", "KeyId", "Path", "Tier", "DataType"] {
            let err = parse_filters(&[no_values(key)], FilterUse::Describe).unwrap_err();
            assert_eq!(
                err.message(),
                Some(format!("The following filter values are missing : null for filter key {key}.").as_str()),
                "{key}"
            );
        }
    }

    #[test]
    fn describe_pages_hold_ten_unless_asked_otherwise() {
        assert_eq!(page_size(None, DESCRIBE_DEFAULT_PAGE), 10);
        assert_eq!(page_size(Some(1), DESCRIBE_DEFAULT_PAGE), 1);
        assert_eq!(page_size(Some(50), DESCRIBE_DEFAULT_PAGE), 50);
    }

    #[test]
    fn name_filters_ignore_the_leading_slash() {
        let r = record("/app/db");
        let f = |o, v: &str| Filter { key: FilterKey::Name, option: o, values: vec![v.to_string()] };
        assert!(f(FilterOption::Equals, "/app/db").matches("app/db", &r));
        assert!(f(FilterOption::Equals, "app/db").matches("app/db", &r));
        assert!(f(FilterOption::BeginsWith, "/app").matches("app/db", &r));
        assert!(f(FilterOption::Contains, "p/d").matches("app/db", &r));
        assert!(!f(FilterOption::BeginsWith, "/db").matches("app/db", &r));
    }

    #[test]
    fn tag_label_and_path_filters_match() {
        let r = record("/app/db");
        let tag =
            Filter { key: FilterKey::Tag("env".into()), option: FilterOption::Equals, values: vec!["prod".into()] };
        assert!(tag.matches("app/db", &r));
        let label = Filter { key: FilterKey::Label, option: FilterOption::Equals, values: vec!["Live".into()] };
        assert!(label.matches("app/db", &r));
        let one = Filter { key: FilterKey::Path, option: FilterOption::OneLevel, values: vec!["/app".into()] };
        assert!(one.matches("app/db", &r));
        assert!(!one.matches("app/db/x", &r));
        let rec = Filter { key: FilterKey::Path, option: FilterOption::Recursive, values: vec!["/".into()] };
        assert!(rec.matches("app/db/x", &r));
    }

    #[test]
    fn sources_prefer_exact_names_then_prefixes_then_paths() {
        let name_eq = parse_filters(&[filter("Name", None, &["/b", "a", "/a"])], FilterUse::Describe).unwrap();
        assert_eq!(plan_sources(&name_eq), vec![Source::Names(vec!["a".into(), "b".into()])]);
        let prefix =
            parse_filters(&[filter("Name", Some("BeginsWith"), &["/app", "/app/x", "/b"])], FilterUse::Describe)
                .unwrap();
        assert_eq!(plan_sources(&prefix), vec![Source::Prefix("app".into()), Source::Prefix("b".into())]);
        let path = parse_filters(&[filter("Path", None, &["/a/b"])], FilterUse::Describe).unwrap();
        assert_eq!(plan_sources(&path), vec![Source::Children("a/b".into())]);
        let rec = parse_filters(&[filter("Path", Some("Recursive"), &["/"])], FilterUse::Describe).unwrap();
        assert_eq!(plan_sources(&rec), vec![Source::Prefix(String::new())]);
        assert_eq!(plan_sources(&[]), vec![Source::Prefix(String::new())]);
    }

    #[test]
    fn tokens_round_trip_only_for_the_same_query() {
        let t = encode_token("q1", "a/b");
        assert_eq!(decode_token("q1", &t).unwrap(), "a/b");
        assert!(matches!(decode_token("q2", &t), Err(SsmError::InvalidNextToken(_))));
        assert!(matches!(decode_token("q1", "not-a-token"), Err(SsmError::InvalidNextToken(_))));
        assert!(matches!(decode_token("q1", "eyJ4IjoxfQ=="), Err(SsmError::InvalidNextToken(_))));
    }
}
