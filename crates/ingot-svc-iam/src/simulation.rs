//! Policy simulation: SimulatePrincipalPolicy (the policies of a user, group or role, gathered as
//! the authorizer gathers them, plus or minus what the request adds or excludes) and
//! SimulateCustomPolicy (policies given as text). Each action is evaluated on each resource by the
//! policy engine in AWS's order: SCPs of the entity's account when it is in an organization, the
//! resource policy, the identity policies, the permissions boundary.

use crate::access;
use crate::errors::IamError;
use crate::names::name_of_arn;
use crate::operations::{SimulateCustomPolicy, SimulatePrincipalPolicy};
use crate::pages::{max_items, page_of};
use crate::types::{
    ContextEntry, EvaluationResult, OrganizationsDecisionDetail, PermissionsBoundaryDecisionDetail,
    PolicyEvaluationDecisionType, PolicyIdentifier, PolicyIdentifierPolicyType, PolicySourceType, Position,
    ResourceSpecificResult, SimulateCustomPolicyRequest, SimulatePolicyResponse, SimulatePrincipalPolicyRequest,
    Statement,
};
use crate::Iam;
use ingot_core::{AccountId, Arn, Handler, RequestContext};
use ingot_identity::iam::{parse_entity_arn, EntityKind};
use ingot_identity::organization::account_path;
use ingot_policy::engine::{
    evaluate, ContextKeys, Evaluation, Policy, PolicyKind, PolicySet, PolicySource, PrincipalFacts, Request,
};
use ingot_policy::gather::{entity_policies, SourceKind};

/// One policy of a simulation and where it comes from.
struct Input {
    /// What the exclusion list matches: the inline policy's name or the managed policy's ARN.
    source: String,
    /// What `SourcePolicyId` reports.
    id: String,
    kind: PolicySourceType,
    /// For inline policies: `user`, `group` or `role`.
    inline_of: Option<SourceKind>,
    text: String,
    policy: Policy,
}

/// Everything one simulation evaluates against.
struct Simulation {
    identity: Vec<Input>,
    boundary: Option<Input>,
    scp_levels: Vec<Vec<Policy>>,
    /// Whether the account is subject to SCPs (`OrganizationsDecisionDetail` is reported).
    in_organization: bool,
    resource_policy: Option<Input>,
    principal: PrincipalFacts,
    context: ContextKeys,
    /// The account that owns the simulated resources, when the request says.
    resource_owner: Option<String>,
}

fn invalid_policy(message: &str) -> IamError {
    IamError::invalid_input_exception(message.to_string())
}

/// A policy given as text in the request (`PolicyInputList.1`, `ResourcePolicy`, …).
fn given(id: String, kind: PolicySourceType, text: &str, policy_kind: PolicyKind) -> Result<Input, IamError> {
    let policy = Policy::parse(text, policy_kind).map_err(|e| invalid_policy(&e.message))?;
    Ok(Input { source: id.clone(), id, kind, inline_of: None, text: text.to_string(), policy })
}

fn given_list(
    name: &str,
    texts: &[String],
    kind: PolicySourceType,
    policy_kind: PolicyKind,
) -> Result<Vec<Input>, IamError> {
    texts.iter().enumerate().map(|(i, text)| given(format!("{name}.{}", i + 1), kind, text, policy_kind)).collect()
}

fn source_type(kind: SourceKind) -> PolicySourceType {
    match kind {
        SourceKind::User => PolicySourceType::User,
        SourceKind::Group => PolicySourceType::Group,
        SourceKind::Role => PolicySourceType::Role,
        SourceKind::AwsManaged => PolicySourceType::AwsManaged,
        SourceKind::UserManaged => PolicySourceType::UserManaged,
    }
}

/// A stored policy of the simulated entity; `None` if it no longer parses.
fn stored(doc: ingot_policy::gather::SourcedDocument) -> Option<Input> {
    let policy = Policy::parse(&doc.document, PolicyKind::Identity).ok()?;
    let managed = matches!(doc.kind, SourceKind::AwsManaged | SourceKind::UserManaged);
    Some(Input {
        id: if managed { name_of_arn(&doc.id).to_string() } else { doc.id.clone() },
        source: doc.id,
        kind: source_type(doc.kind),
        inline_of: (!managed).then_some(doc.kind),
        text: doc.document,
        policy,
    })
}

fn attachment_kind(kind: crate::types::AttachmentType) -> SourceKind {
    match kind {
        crate::types::AttachmentType::User => SourceKind::User,
        crate::types::AttachmentType::Group => SourceKind::Group,
        crate::types::AttachmentType::Role => SourceKind::Role,
    }
}

/// Whether the exclusion list leaves `input` out.
fn excluded(input: &Input, exclusions: &[PolicyIdentifier], boundary: bool) -> bool {
    exclusions.iter().any(|e| {
        if e.policy_arn.as_deref() == Some(input.source.as_str()) {
            return true;
        }
        if boundary && e.policy_type == Some(PolicyIdentifierPolicyType::PermissionBoundary) && e.policy_arn.is_none() {
            return true;
        }
        match (&e.inline_policy_identifier, input.inline_of) {
            (Some(inline), Some(of)) => {
                inline.policy_name == input.source && attachment_kind(inline.attachment_type) == of
            }
            _ => false,
        }
    })
}

fn context_keys(entries: Option<Vec<ContextEntry>>) -> ContextKeys {
    let mut keys = ContextKeys::new();
    for entry in entries.unwrap_or_default() {
        if let Some(name) = entry.context_key_name {
            keys.set(&name, entry.context_key_values.unwrap_or_default());
        }
    }
    keys
}

/// Who the simulated caller is, from an ARN (`CallerArn`, or the simulated user or role).
fn principal_of(arn: &str, fallback_account: &str) -> PrincipalFacts {
    let account = Arn::account_of(arn).ok().filter(|a| AccountId::parse(a).is_some()).unwrap_or(fallback_account);
    if arn == format!("arn:aws:iam::{account}:root") {
        return PrincipalFacts::root(account);
    }
    match parse_entity_arn(arn) {
        Some(p) if p.kind == EntityKind::Role => PrincipalFacts::role_session(account, arn, arn, None),
        _ => PrincipalFacts::user(account, arn, None),
    }
}

/// The SCPs on each level of `account`'s path that apply to `identity_arn`, root first; empty
/// when none apply (the same gathering as the authorizer's).
async fn scp_levels(
    ctx: &RequestContext<'_>,
    account: &AccountId,
    identity_arn: &str,
) -> Result<Vec<Vec<Policy>>, IamError> {
    let Some(path) = account_path(&ctx.tx, account).await? else { return Ok(Vec::new()) };
    let texts = ingot_policy::gather::service_control_policies(&ctx.tx, &path, account, identity_arn).await?;
    let compile = |level: Vec<String>| -> Vec<Policy> {
        level.iter().filter_map(|text| Policy::parse(text, PolicyKind::ServiceControl).ok()).collect()
    };
    Ok(texts.into_iter().map(compile).collect())
}

/// The account a simulated resource belongs to: `ResourceOwner`'s, else the ARN's.
fn owner_of<'a>(resource: &'a str, resource_owner: Option<&'a str>) -> Option<&'a str> {
    let from = resource_owner.unwrap_or(resource);
    Arn::account_of(from).ok().filter(|a| !a.is_empty()).or_else(|| AccountId::parse(from).map(|_| from))
}

impl Simulation {
    fn set<'a>(&'a self, same_account: bool) -> PolicySet<'a> {
        PolicySet {
            scp_levels: self.scp_levels.iter().map(|l| l.iter().collect()).collect(),
            resource_policy: self.resource_policy.as_ref().map(|p| &p.policy),
            identity: self.identity.iter().map(|p| &p.policy).collect(),
            boundary: self.boundary.as_ref().map(|p| &p.policy),
            same_account,
            principal_is_root: self.principal.is_root(),
            ..PolicySet::default()
        }
    }

    fn input(&self, source: PolicySource) -> Option<&Input> {
        match source {
            PolicySource::Identity(i) => self.identity.get(i),
            PolicySource::ResourcePolicy => self.resource_policy.as_ref(),
            PolicySource::Boundary => self.boundary.as_ref(),
            PolicySource::Scp { .. } | PolicySource::Session(_) => None,
        }
    }

    /// The statements that decided `evaluation`, as `MatchedStatements` reports them.
    fn matched(&self, evaluation: &Evaluation, decision: PolicyEvaluationDecisionType) -> Vec<Statement> {
        let wanted = |allow: bool, source: PolicySource| match decision {
            PolicyEvaluationDecisionType::Allowed => {
                allow && matches!(source, PolicySource::Identity(_) | PolicySource::ResourcePolicy)
            }
            PolicyEvaluationDecisionType::ExplicitDeny => !allow,
            PolicyEvaluationDecisionType::ImplicitDeny => false,
        };
        evaluation
            .matched
            .iter()
            .filter(|m| wanted(m.effect_allow, m.source))
            .filter_map(|m| {
                let input = self.input(m.source)?;
                let (start_position, end_position) = statement_span(&input.text, m.statement).unzip();
                Some(Statement {
                    source_policy_id: Some(input.id.clone()),
                    source_policy_type: Some(input.kind),
                    start_position,
                    end_position,
                })
            })
            .collect()
    }

    fn result(&self, action: &str, resource: &str) -> EvaluationResult {
        let same_account =
            owner_of(resource, self.resource_owner.as_deref()).is_none_or(|owner| owner == self.principal.account);
        let request = Request { action, resource, principal: &self.principal, context: &self.context };
        let evaluation = evaluate(&self.set(same_account), &request);
        let decision = if evaluation.allowed {
            PolicyEvaluationDecisionType::Allowed
        } else if evaluation.explicit_deny {
            PolicyEvaluationDecisionType::ExplicitDeny
        } else {
            PolicyEvaluationDecisionType::ImplicitDeny
        };
        let organizations = self.in_organization.then(|| {
            let scps_only = PolicySet {
                scp_levels: self.scp_levels.iter().map(|l| l.iter().collect()).collect(),
                principal_is_root: true,
                same_account: true,
                ..PolicySet::default()
            };
            OrganizationsDecisionDetail { allowed_by_organizations: Some(evaluate(&scps_only, &request).allowed) }
        });
        let boundary = self.boundary.as_ref().map(|b| {
            let alone = PolicySet { identity: vec![&b.policy], same_account: true, ..PolicySet::default() };
            PermissionsBoundaryDecisionDetail {
                allowed_by_permissions_boundary: Some(evaluate(&alone, &request).allowed),
            }
        });
        let matched = self.matched(&evaluation, decision);
        // AWS lists what a simulation of named resources lacked per resource; the result's own
        // list is for `*`.
        let (missing, resource_specific) = if resource == "*" {
            (evaluation.missing_context.clone(), None)
        } else {
            let specific = ResourceSpecificResult {
                eval_resource_name: resource.to_string(),
                eval_resource_decision: decision,
                matched_statements: Some(matched.clone()),
                missing_context_values: Some(evaluation.missing_context.clone()),
                eval_decision_details: None,
                permissions_boundary_decision_detail: boundary.clone(),
            };
            (Vec::new(), Some(vec![specific]))
        };
        EvaluationResult {
            eval_action_name: action.to_string(),
            eval_resource_name: Some(resource.to_string()),
            eval_decision: decision,
            matched_statements: Some(matched),
            missing_context_values: Some(missing),
            organizations_decision_detail: organizations,
            permissions_boundary_decision_detail: boundary,
            eval_decision_details: None,
            resource_specific_results: resource_specific,
        }
    }

    /// One page of results: each action on each resource (`*` when none is given).
    fn run(
        &self,
        query: &str,
        actions: &[String],
        resources: Option<Vec<String>>,
        marker: Option<&str>,
        max: Option<i32>,
    ) -> Result<SimulatePolicyResponse, IamError> {
        let resources = resources.filter(|r| !r.is_empty()).unwrap_or_else(|| vec!["*".to_string()]);
        let mut items = Vec::with_capacity(actions.len() * resources.len());
        for action in actions {
            for resource in &resources {
                items.push((format!("{:08}", items.len()), (action, resource)));
            }
        }
        let page = page_of(items, query, marker, max_items(max))?;
        let results = page.items.iter().map(|(action, resource)| self.result(action, resource)).collect();
        Ok(SimulatePolicyResponse {
            evaluation_results: Some(results),
            is_truncated: Some(page.marker.is_some()),
            marker: page.marker,
        })
    }
}

/// The query a simulation's markers are bound to: its actions and resources.
fn query(operation: &str, actions: &[String], resources: Option<&Vec<String>>) -> String {
    let resources = resources.map(|r| r.join(",")).unwrap_or_default();
    format!("{operation}\n{}\n{resources}", actions.join(","))
}

impl Handler<SimulatePrincipalPolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: SimulatePrincipalPolicyRequest,
    ) -> Result<SimulatePolicyResponse, IamError> {
        let source_arn = input.policy_source_arn.as_str();
        access::authorize::<SimulatePrincipalPolicy>(ctx, source_arn, &[]).await?;
        let Some(parsed) = parse_entity_arn(source_arn)
            .filter(|p| matches!(p.kind, EntityKind::User | EntityKind::Group | EntityKind::Role))
        else {
            return Err(IamError::invalid_input_exception(format!("Invalid ARN: {source_arn}")));
        };
        let Some(account) = AccountId::parse(parsed.account) else {
            return Err(IamError::invalid_input_exception(format!("Invalid ARN: {source_arn}")));
        };
        let Some(gathered) = entity_policies(&ctx.tx, source_arn).await? else {
            let what = parsed.kind.arn_type();
            return Err(IamError::no_such_entity_exception(format!(
                "The {what} with name {} cannot be found.",
                parsed.name
            )));
        };
        let exclusions = input.policy_exclusion_list.unwrap_or_default();
        let mut identity: Vec<Input> =
            gathered.identity.into_iter().filter_map(stored).filter(|p| !excluded(p, &exclusions, false)).collect();
        identity.extend(given_list(
            "PolicyInputList",
            &input.policy_input_list.unwrap_or_default(),
            PolicySourceType::None,
            PolicyKind::Identity,
        )?);
        let given_boundaries = given_list(
            "PermissionsBoundaryPolicyInputList",
            &input.permissions_boundary_policy_input_list.unwrap_or_default(),
            PolicySourceType::None,
            PolicyKind::Identity,
        )?;
        let boundary = match given_boundaries.into_iter().next() {
            Some(given) => Some(given),
            None => gathered.boundary.and_then(stored).filter(|b| !excluded(b, &exclusions, true)),
        };
        let resource_policy = match &input.resource_policy {
            Some(text) => Some(given("ResourcePolicy".into(), PolicySourceType::Resource, text, PolicyKind::Resource)?),
            None => None,
        };
        let scp_levels = scp_levels(ctx, &account, source_arn).await?;
        // The simulated caller: `CallerArn`, else the user or role itself.
        let principal_arn = input.caller_arn.clone().unwrap_or_else(|| source_arn.to_string());
        let simulation = Simulation {
            identity,
            boundary,
            in_organization: !scp_levels.is_empty(),
            scp_levels,
            resource_policy,
            principal: principal_of(&principal_arn, account.as_str()),
            context: context_keys(input.context_entries),
            resource_owner: input.resource_owner,
        };
        let query =
            query(&format!("SimulatePrincipalPolicy\n{source_arn}"), &input.action_names, input.resource_arns.as_ref());
        simulation.run(&query, &input.action_names, input.resource_arns, input.marker.as_deref(), input.max_items)
    }
}

impl Handler<SimulateCustomPolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: SimulateCustomPolicyRequest,
    ) -> Result<SimulatePolicyResponse, IamError> {
        access::authorize_any::<SimulateCustomPolicy>(ctx).await?;
        let identity =
            given_list("PolicyInputList", &input.policy_input_list, PolicySourceType::None, PolicyKind::Identity)?;
        let boundary = given_list(
            "PermissionsBoundaryPolicyInputList",
            &input.permissions_boundary_policy_input_list.unwrap_or_default(),
            PolicySourceType::None,
            PolicyKind::Identity,
        )?
        .into_iter()
        .next();
        let mut scp_levels = Vec::new();
        for level in input.ordered_organization_policy_input_list.unwrap_or_default() {
            let mut policies = Vec::new();
            for text in level.service_control_policy_input_list.unwrap_or_default() {
                policies
                    .push(Policy::parse(&text, PolicyKind::ServiceControl).map_err(|e| invalid_policy(&e.message))?);
            }
            scp_levels.push(policies);
        }
        let resource_policy = match &input.resource_policy {
            Some(text) => Some(given("ResourcePolicy".into(), PolicySourceType::Resource, text, PolicyKind::Resource)?),
            None => None,
        };
        let account = ctx.scope.account.as_str();
        let caller = input.caller_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{account}:user/SimulatedCaller"));
        let simulation = Simulation {
            identity,
            boundary,
            in_organization: !scp_levels.is_empty(),
            scp_levels,
            resource_policy,
            principal: principal_of(&caller, account),
            context: context_keys(input.context_entries),
            resource_owner: input.resource_owner,
        };
        let query = query("SimulateCustomPolicy", &input.action_names, input.resource_arns.as_ref());
        simulation.run(&query, &input.action_names, input.resource_arns, input.marker.as_deref(), input.max_items)
    }
}

/// Where statement `index` of a policy document starts and ends: the 1-based line and column of
/// its opening and closing braces. `None` when the document is not laid out as expected.
pub fn statement_span(doc: &str, index: usize) -> Option<(Position, Position)> {
    let bytes = doc.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let (key, after_key) = read_string(bytes, i)?;
        i = skip_ws(bytes, after_key);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        if key == b"Statement" {
            return match bytes.get(i)? {
                b'{' if index == 0 => {
                    let end = skip_value(bytes, i)?;
                    Some((position(doc, i), position(doc, end - 1)))
                }
                b'[' => nth_element(doc, i + 1, index),
                _ => None,
            };
        }
        i = skip_value(bytes, i)?;
    }
}

/// The span of element `index` of the array whose first element is at or after `start`.
fn nth_element(doc: &str, start: usize, index: usize) -> Option<(Position, Position)> {
    let bytes = doc.as_bytes();
    let mut i = start;
    let mut n = 0;
    loop {
        i = skip_ws(bytes, i);
        match bytes.get(i)? {
            b']' => return None,
            b',' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let end = skip_value(bytes, i)?;
        if n == index {
            return Some((position(doc, i), position(doc, end - 1)));
        }
        n += 1;
        i = end;
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The raw content of the string starting at `i` and the index after its closing quote.
fn read_string(bytes: &[u8], i: usize) -> Option<(&[u8], usize)> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match bytes.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some((bytes.get(i + 1..j)?, j + 1)),
            _ => j += 1,
        }
    }
}

/// The index just after the JSON value starting at `i`.
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => read_string(bytes, i).map(|(_, end)| end),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = read_string(bytes, j)?.1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while bytes.get(j).is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()) {
                j += 1;
            }
            Some(j)
        }
    }
}

/// The 1-based line and column (in characters) of byte `i`.
fn position(doc: &str, i: usize) -> Position {
    let before = doc.get(..i).unwrap_or(doc);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Position {
        line: Some(i32::try_from(line).unwrap_or(i32::MAX)),
        column: Some(i32::try_from(column).unwrap_or(i32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: i32, column: i32) -> Position {
        Position { line: Some(line), column: Some(column) }
    }

    #[test]
    fn statements_of_an_array_are_found_by_index() {
        let doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\"Effect\": \"Deny\",\n     \"Action\": \"s3:Delete*\", \"Resource\": \"*\"}\n  ]\n}";
        assert_eq!(statement_span(doc, 0), Some((at(4, 5), at(4, 58))));
        assert_eq!(statement_span(doc, 1), Some((at(5, 5), at(6, 45))));
        assert_eq!(statement_span(doc, 2), None);
    }

    #[test]
    fn a_single_statement_object_is_statement_zero() {
        let doc = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"},"Version":"2012-10-17"}"#;
        assert_eq!(statement_span(doc, 0), Some((at(1, 14), at(1, 62))));
        assert_eq!(statement_span(doc, 1), None);
    }

    #[test]
    fn strings_with_braces_do_not_confuse_the_scan() {
        let doc = r#"{"Id":"{[x]}","Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/}"}]}"#;
        assert!(statement_span(doc, 0).is_some());
        assert_eq!(statement_span("not json", 0), None);
        assert_eq!(statement_span("{\"Statement\": [", 0), None);
    }

    fn allow(action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
        )
    }

    fn simulation(identity: Vec<String>) -> Simulation {
        Simulation {
            identity: given_list("PolicyInputList", &identity, PolicySourceType::None, PolicyKind::Identity).unwrap(),
            boundary: None,
            scp_levels: Vec::new(),
            in_organization: false,
            resource_policy: None,
            principal: PrincipalFacts::user("111122223333", "arn:aws:iam::111122223333:user/u", None),
            context: ContextKeys::new(),
            resource_owner: None,
        }
    }

    #[test]
    fn an_allow_on_one_resource_decides_that_resource_only() {
        let arn = "arn:aws:ssm:us-east-1:111122223333:parameter/app";
        let sim = simulation(vec![allow("ssm:GetParameter", arn)]);
        let allowed = sim.result("ssm:GetParameter", arn);
        assert_eq!(allowed.eval_decision, PolicyEvaluationDecisionType::Allowed);
        let matched = allowed.matched_statements.unwrap();
        assert_eq!(matched.len(), 1);
        assert_eq!(matched[0].source_policy_id.as_deref(), Some("PolicyInputList.1"));
        let elsewhere = sim.result("ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/other");
        assert_eq!(elsewhere.eval_decision, PolicyEvaluationDecisionType::ImplicitDeny);
        assert!(elsewhere.matched_statements.unwrap().is_empty());
    }

    #[test]
    fn an_explicit_deny_wins_over_an_allow() {
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ssm:*","Resource":"*"}]}"#;
        let sim = simulation(vec![allow("ssm:*", "*"), deny.to_string()]);
        let result = sim.result("ssm:GetParameter", "*");
        assert_eq!(result.eval_decision, PolicyEvaluationDecisionType::ExplicitDeny);
        let matched = result.matched_statements.unwrap();
        assert_eq!(matched[0].source_policy_id.as_deref(), Some("PolicyInputList.2"));
    }

    #[test]
    fn a_boundary_caps_what_identity_policies_allow() {
        let mut sim = simulation(vec![allow("ssm:*", "*")]);
        sim.boundary = given_list(
            "PermissionsBoundaryPolicyInputList",
            &[allow("ssm:GetParameter", "*")],
            PolicySourceType::None,
            PolicyKind::Identity,
        )
        .unwrap()
        .into_iter()
        .next();
        let get = sim.result("ssm:GetParameter", "*");
        assert_eq!(get.eval_decision, PolicyEvaluationDecisionType::Allowed);
        let put = sim.result("ssm:PutParameter", "*");
        assert_eq!(put.eval_decision, PolicyEvaluationDecisionType::ImplicitDeny);
        assert_eq!(put.permissions_boundary_decision_detail.unwrap().allowed_by_permissions_boundary, Some(false));
    }

    #[test]
    fn results_page_over_actions_and_resources() {
        let sim = simulation(vec![allow("ssm:*", "*")]);
        let actions = vec!["ssm:GetParameter".to_string(), "ssm:PutParameter".to_string()];
        let resources = Some(vec!["a".to_string(), "b".to_string()]);
        let first = sim.run("q", &actions, resources.clone(), None, Some(3)).unwrap();
        assert_eq!(first.evaluation_results.as_ref().map(Vec::len), Some(3));
        let second = sim.run("q", &actions, resources, first.marker.as_deref(), Some(3)).unwrap();
        let rest = second.evaluation_results.unwrap();
        assert_eq!((rest.len(), rest[0].eval_action_name.as_str()), (1, "ssm:PutParameter"));
    }
}
