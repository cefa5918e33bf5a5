//! Security groups: DescribeSecurityGroups, CreateSecurityGroup, DeleteSecurityGroup,
//! AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress. A new group allows all traffic out
//! and nothing in; each VPC has a `default` group that cannot be deleted.

use crate::access::{authorize, resource_arn};
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::network::{check_ids, page, passes};
use crate::operations::{
    AuthorizeSecurityGroupIngress, CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups,
    RevokeSecurityGroupIngress,
};
use crate::store::{self, all_traffic_out, Peer, Rule, SecurityGroupRecord, VpcRecord};
use crate::tags::{from_specifications, to_wire as tags_to_wire, with_request_tags};
use crate::types::{self, IpPermission, IpRange, ResourceType, SecurityGroup, UserIdGroupPair};
use crate::Ec2;
use ingot_core::{Access, Handler, RequestContext};

const GROUP_FILTERS: &[&str] = &[
    "description",
    "group-id",
    "group-name",
    "ip-permission.cidr",
    "ip-permission.from-port",
    "ip-permission.group-id",
    "ip-permission.protocol",
    "ip-permission.to-port",
    "owner-id",
    "tag-key",
    "vpc-id",
];

fn invalid(message: impl Into<String>) -> Ec2Error {
    Ec2Error::unmodeled("InvalidParameterValue", 400, message)
}

fn group_not_found(id: &str) -> Ec2Error {
    Ec2Error::unmodeled("InvalidGroup.NotFound", 400, format!("The security group '{id}' does not exist"))
}

/// The wire form of rules: grouped by protocol and ports, as AWS lists them.
fn permissions(rules: &[Rule]) -> Vec<IpPermission> {
    let mut out: Vec<IpPermission> = Vec::new();
    for rule in rules {
        let slot = match out.iter_mut().position(|p| {
            p.ip_protocol.as_deref() == Some(rule.protocol.as_str())
                && p.from_port == rule.from_port
                && p.to_port == rule.to_port
        }) {
            Some(i) => &mut out[i],
            None => {
                out.push(IpPermission {
                    ip_protocol: Some(rule.protocol.clone()),
                    from_port: rule.from_port,
                    to_port: rule.to_port,
                    user_id_group_pairs: Some(Vec::new()),
                    ip_ranges: Some(Vec::new()),
                    ipv6_ranges: Some(Vec::new()),
                    prefix_list_ids: Some(Vec::new()),
                });
                out.last_mut().unwrap_or_else(|| unreachable!())
            }
        };
        match &rule.peer {
            Peer::Cidr(cidr) => slot
                .ip_ranges
                .get_or_insert_with(Vec::new)
                .push(IpRange { cidr_ip: Some(cidr.clone()), description: rule.description.clone() }),
            Peer::Group { id, owner } => slot.user_id_group_pairs.get_or_insert_with(Vec::new).push(UserIdGroupPair {
                user_id: Some(owner.clone()),
                group_id: Some(id.clone()),
                description: rule.description.clone(),
                ..Default::default()
            }),
        }
    }
    out
}

fn to_wire(ctx: &RequestContext<'_>, group: &SecurityGroupRecord) -> SecurityGroup {
    SecurityGroup {
        group_id: Some(group.id.clone()),
        ip_permissions_egress: Some(permissions(&group.egress)),
        tags: tags_to_wire(&group.tags),
        vpc_id: Some(group.vpc_id.clone()),
        security_group_arn: Some(resource_arn(ctx, "security-group", &group.id)),
        owner_id: Some(group.owner.clone()),
        group_name: Some(group.name.clone()),
        description: Some(group.description.clone()),
        ip_permissions: Some(permissions(&group.ingress)),
    }
}

/// The group a call names by id, or by name in the default VPC.
async fn find_group(
    ctx: &RequestContext<'_>,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<SecurityGroupRecord, Ec2Error> {
    let default_vpc = store::ensure_default_network(ctx).await?;
    match (id, name) {
        (Some(id), _) => {
            check_ids(&[id.to_string()], "sg", "InvalidGroupId.Malformed", "expecting \"sg-...\"")?;
            ctx.tx.get_record(&store::security_group_key(ctx.scope, id)).await?.ok_or_else(|| group_not_found(id))
        }
        (None, Some(name)) => {
            let groups = store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await?;
            groups.into_iter().find(|g| g.name == name && g.vpc_id == default_vpc).ok_or_else(|| {
                Ec2Error::unmodeled(
                    "InvalidGroup.NotFound",
                    400,
                    format!("The security group '{name}' does not exist in default VPC '{default_vpc}'"),
                )
            })
        }
        (None, None) => Err(Ec2Error::unmodeled(
            "MissingParameter",
            400,
            "The request must contain the parameter groupName or groupId",
        )),
    }
}

/// A rule given with the flat parameters (`IpProtocol`, `FromPort`, `ToPort`, `CidrIp`,
/// `SourceSecurityGroupName`) instead of `IpPermissions`.
struct FlatRule<'a> {
    protocol: Option<&'a str>,
    from: Option<i32>,
    to: Option<i32>,
    cidr: Option<&'a str>,
    source_group: Option<&'a str>,
}

/// The rules a request names, one peer each: its `IpPermissions`, or the flat parameters.
async fn requested_rules(
    ctx: &RequestContext<'_>,
    permissions: Option<&[IpPermission]>,
    flat: FlatRule<'_>,
) -> Result<Vec<Rule>, Ec2Error> {
    let FlatRule { protocol, from, to, cidr, source_group } = flat;
    let mut list: Vec<IpPermission> = permissions.unwrap_or_default().to_vec();
    if protocol.is_some() || cidr.is_some() || source_group.is_some() {
        list.push(IpPermission {
            ip_protocol: Some(protocol.unwrap_or("-1").to_string()),
            from_port: from,
            to_port: to,
            ip_ranges: cidr.map(|c| vec![IpRange { cidr_ip: Some(c.to_string()), description: None }]),
            user_id_group_pairs: source_group
                .map(|g| vec![UserIdGroupPair { group_name: Some(g.to_string()), ..Default::default() }]),
            ..Default::default()
        });
    }
    let mut rules = Vec::new();
    for permission in list {
        let protocol = normalized_protocol(permission.ip_protocol.as_deref().unwrap_or(""))?;
        let (from, to) = if protocol == "-1" { (None, None) } else { (permission.from_port, permission.to_port) };
        if matches!(protocol.as_str(), "tcp" | "udp") {
            let (Some(f), Some(t)) = (from, to) else {
                return Err(invalid(
                    "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.",
                ));
            };
            for (end, port) in [("from", f), ("to", t)] {
                if !(0..=65535).contains(&port) {
                    return Err(invalid(format!("TCP/UDP ({end}) port ({port}) out of range")));
                }
            }
            if f > t {
                return Err(invalid(format!(
                    "Invalid value 'from port {f} is greater than to port {t}' for portRange."
                )));
            }
        }
        for range in permission.ip_ranges.unwrap_or_default() {
            let cidr = range.cidr_ip.unwrap_or_default();
            if !is_cidr(&cidr) {
                return Err(invalid(format!("CIDR block {cidr} is malformed")));
            }
            rules.push(Rule {
                id: ctx.ids().resource_id("sgr"),
                protocol: protocol.clone(),
                from_port: from,
                to_port: to,
                peer: Peer::Cidr(cidr),
                description: range.description,
            });
        }
        for pair in permission.user_id_group_pairs.unwrap_or_default() {
            let source = find_group(ctx, pair.group_id.as_deref(), pair.group_name.as_deref()).await?;
            rules.push(Rule {
                id: ctx.ids().resource_id("sgr"),
                protocol: protocol.clone(),
                from_port: from,
                to_port: to,
                peer: Peer::Group { id: source.id, owner: source.owner },
                description: pair.description,
            });
        }
    }
    if rules.is_empty() {
        return Err(Ec2Error::unmodeled(
            "MissingParameter",
            400,
            "The request must contain the parameter ipPermissions",
        ));
    }
    Ok(rules)
}

fn normalized_protocol(protocol: &str) -> Result<String, Ec2Error> {
    match protocol.to_ascii_lowercase().as_str() {
        "tcp" | "6" => Ok("tcp".into()),
        "udp" | "17" => Ok("udp".into()),
        "icmp" | "1" => Ok("icmp".into()),
        "-1" | "all" => Ok("-1".into()),
        other if other.parse::<u8>().is_ok() => Ok(other.to_string()),
        other => Err(invalid(format!("Invalid value '{other}' for IP protocol. Unknown protocol."))),
    }
}

fn is_cidr(text: &str) -> bool {
    let Some((address, bits)) = text.split_once('/') else { return false };
    let octets: Vec<&str> = address.split('.').collect();
    octets.len() == 4 && octets.iter().all(|o| o.parse::<u8>().is_ok()) && bits.parse::<u8>().is_ok_and(|b| b <= 32)
}

fn describe_rule(rule: &Rule) -> String {
    let peer = match &rule.peer {
        Peer::Cidr(c) => c.clone(),
        Peer::Group { id, .. } => id.clone(),
    };
    let protocol = if rule.protocol == "-1" { "ALL".to_string() } else { rule.protocol.to_ascii_uppercase() };
    format!(
        "peer: {peer}, {protocol}, from port: {}, to port: {}, ALLOW",
        rule.from_port.map_or("-1".into(), |p| p.to_string()),
        rule.to_port.map_or("-1".into(), |p| p.to_string())
    )
}

/// Whether some ingress rule has a value an `ip-permission.*` filter asks for.
fn rule_filter_matches(filter: &types::Filter, rules: &[Rule]) -> bool {
    let one = std::slice::from_ref(filter);
    rules.iter().any(|rule| {
        crate::filters::matches_filters(one, |name| match name {
            "ip-permission.protocol" => Some(rule.protocol.clone()),
            "ip-permission.from-port" => rule.from_port.map(|p| p.to_string()),
            "ip-permission.to-port" => rule.to_port.map(|p| p.to_string()),
            "ip-permission.cidr" => match &rule.peer {
                Peer::Cidr(c) => Some(c.clone()),
                Peer::Group { .. } => None,
            },
            "ip-permission.group-id" => match &rule.peer {
                Peer::Group { id, .. } => Some(id.clone()),
                Peer::Cidr(_) => None,
            },
            _ => None,
        })
    })
}

fn same_rule(a: &Rule, b: &Rule) -> bool {
    a.protocol == b.protocol && a.from_port == b.from_port && a.to_port == b.to_port && a.peer == b.peer
}

impl Handler<DescribeSecurityGroups> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeSecurityGroupsRequest,
    ) -> Result<types::DescribeSecurityGroupsResult, Ec2Error> {
        authorize::<DescribeSecurityGroups>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, GROUP_FILTERS)?;
        let ids = input.group_ids.unwrap_or_default();
        check_ids(&ids, "sg", "InvalidGroupId.Malformed", "expecting \"sg-...\"")?;
        let names = input.group_names.unwrap_or_default();
        let default_vpc = store::ensure_default_network(ctx).await?;
        let groups = store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await?;
        if let Some(missing) = ids.iter().find(|id| !groups.iter().any(|g| g.id == **id)) {
            return Err(group_not_found(missing));
        }
        if let Some(missing) = names.iter().find(|n| !groups.iter().any(|g| g.name == **n && g.vpc_id == default_vpc)) {
            return Err(Ec2Error::unmodeled(
                "InvalidGroup.NotFound",
                400,
                format!("The security group '{missing}' does not exist in default VPC '{default_vpc}'"),
            ));
        }
        let (rule_filters, other_filters): (Vec<types::Filter>, Vec<types::Filter>) =
            filters.iter().cloned().partition(|f| f.name.as_deref().is_some_and(|n| n.starts_with("ip-permission.")));
        let items = groups
            .iter()
            .filter(|g| ids.is_empty() || ids.contains(&g.id))
            .filter(|g| names.is_empty() || (names.contains(&g.name) && g.vpc_id == default_vpc))
            .filter(|g| rule_filters.iter().all(|f| rule_filter_matches(f, &g.ingress)))
            .filter(|g| {
                passes(&other_filters, &g.tags, |name| match name {
                    "description" => Some(g.description.clone()),
                    "group-id" => Some(g.id.clone()),
                    "group-name" => Some(g.name.clone()),
                    "owner-id" => Some(g.owner.clone()),
                    "vpc-id" => Some(g.vpc_id.clone()),
                    _ => None,
                })
            })
            .map(|g| (g.id.clone(), to_wire(ctx, g)))
            .collect();
        let query = format!("DescribeSecurityGroups;{ids:?};{names:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeSecurityGroupsResult { next_token: page.marker, security_groups: Some(page.items) })
    }
}

impl Handler<CreateSecurityGroup> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateSecurityGroupRequest,
    ) -> Result<types::CreateSecurityGroupResult, Ec2Error> {
        let tags = from_specifications(input.tag_specifications.as_deref(), ResourceType::SecurityGroup)?;
        let default_vpc = store::ensure_default_network(ctx).await?;
        let vpc_id = input.vpc_id.clone().unwrap_or(default_vpc);
        let arns = vec![resource_arn(ctx, "security-group", "*"), resource_arn(ctx, "vpc", &vpc_id)];
        authorize::<CreateSecurityGroup>(ctx, with_request_tags(Access::resources(&arns), &tags)).await?;
        crate::dry_run(input.dry_run)?;
        check_ids(std::slice::from_ref(&vpc_id), "vpc", "InvalidVpcID.Malformed", "expecting \"vpc-...\"")?;
        if ctx.tx.get_record::<VpcRecord>(&store::vpc_key(ctx.scope, &vpc_id)).await?.is_none() {
            return Err(Ec2Error::unmodeled(
                "InvalidVpcID.NotFound",
                400,
                format!("The vpc ID '{vpc_id}' does not exist"),
            ));
        }
        let name = input.group_name;
        if name.is_empty() || name.chars().count() > 255 {
            return Err(invalid("Invalid value for GroupName: must be 1 to 255 characters"));
        }
        if name.eq_ignore_ascii_case("default") {
            return Err(Ec2Error::unmodeled(
                "InvalidGroup.Reserved",
                400,
                format!("The security group '{name}' is reserved"),
            ));
        }
        if name.starts_with("sg-") {
            return Err(invalid(format!(
                "Value ({name}) for parameter GroupName is invalid. Group names may not be in the format sg-*."
            )));
        }
        if input.description.is_empty() || input.description.chars().count() > 255 {
            return Err(invalid("Invalid value for GroupDescription: must be 1 to 255 characters"));
        }
        let groups = store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await?;
        if groups.iter().any(|g| g.name == name && g.vpc_id == vpc_id) {
            return Err(Ec2Error::unmodeled(
                "InvalidGroup.Duplicate",
                400,
                format!("The security group '{name}' already exists for VPC '{vpc_id}'"),
            ));
        }
        let group = SecurityGroupRecord {
            id: ctx.ids().resource_id("sg"),
            name,
            description: input.description,
            vpc_id,
            owner: ctx.account().to_string(),
            ingress: Vec::new(),
            egress: vec![Rule { id: ctx.ids().resource_id("sgr"), ..all_traffic_out() }],
            tags,
        };
        ctx.tx.insert_new(&store::security_group_key(ctx.scope, &group.id), ingot_store::encode_record(&group));
        Ok(types::CreateSecurityGroupResult {
            group_id: Some(group.id.clone()),
            tags: tags_to_wire(&group.tags),
            security_group_arn: Some(resource_arn(ctx, "security-group", &group.id)),
        })
    }
}

impl Handler<DeleteSecurityGroup> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteSecurityGroupRequest,
    ) -> Result<types::DeleteSecurityGroupResult, Ec2Error> {
        let arn = resource_arn(ctx, "security-group", input.group_id.as_deref().unwrap_or("*"));
        authorize::<DeleteSecurityGroup>(ctx, Access::resource(&arn)).await?;
        crate::dry_run(input.dry_run)?;
        let group = find_group(ctx, input.group_id.as_deref(), input.group_name.as_deref()).await?;
        if group.name == "default" {
            return Err(Ec2Error::unmodeled(
                "CannotDelete",
                400,
                format!("the specified group: \"{}\" name: \"default\" cannot be deleted by a user", group.id),
            ));
        }
        let groups = store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await?;
        let referenced = groups.iter().filter(|g| g.id != group.id).any(|g| {
            g.ingress
                .iter()
                .chain(g.egress.iter())
                .any(|r| matches!(&r.peer, Peer::Group { id, .. } if *id == group.id))
        });
        if referenced {
            return Err(Ec2Error::unmodeled(
                "DependencyViolation",
                400,
                format!("resource {} has a dependent object", group.id),
            ));
        }
        ctx.tx.delete(&store::security_group_key(ctx.scope, &group.id));
        Ok(types::DeleteSecurityGroupResult { r#return: Some(true), group_id: Some(group.id) })
    }
}

impl Handler<AuthorizeSecurityGroupIngress> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::AuthorizeSecurityGroupIngressRequest,
    ) -> Result<types::AuthorizeSecurityGroupIngressResult, Ec2Error> {
        let arn = resource_arn(ctx, "security-group", input.group_id.as_deref().unwrap_or("*"));
        authorize::<AuthorizeSecurityGroupIngress>(ctx, Access::resource(&arn)).await?;
        crate::dry_run(input.dry_run)?;
        let mut group = find_group(ctx, input.group_id.as_deref(), input.group_name.as_deref()).await?;
        let flat = FlatRule {
            protocol: input.ip_protocol.as_deref(),
            from: input.from_port,
            to: input.to_port,
            cidr: input.cidr_ip.as_deref(),
            source_group: input.source_security_group_name.as_deref(),
        };
        let rules = requested_rules(ctx, input.ip_permissions.as_deref(), flat).await?;
        let mut added = Vec::new();
        for rule in rules {
            if group.ingress.iter().chain(added.iter()).any(|r| same_rule(r, &rule)) {
                return Err(Ec2Error::unmodeled(
                    "InvalidPermission.Duplicate",
                    400,
                    format!("the specified rule \"{}\" already exists", describe_rule(&rule)),
                ));
            }
            added.push(rule);
        }
        let response_rules = added
            .iter()
            .map(|rule| types::SecurityGroupRule {
                security_group_rule_id: Some(rule.id.clone()),
                group_id: Some(group.id.clone()),
                group_owner_id: Some(group.owner.clone()),
                is_egress: Some(false),
                ip_protocol: Some(rule.protocol.clone()),
                from_port: Some(rule.from_port.unwrap_or(-1)),
                to_port: Some(rule.to_port.unwrap_or(-1)),
                cidr_ipv4: match &rule.peer {
                    Peer::Cidr(c) => Some(c.clone()),
                    Peer::Group { .. } => None,
                },
                referenced_group_info: match &rule.peer {
                    Peer::Group { id, owner } => Some(types::ReferencedSecurityGroup {
                        group_id: Some(id.clone()),
                        user_id: Some(owner.clone()),
                        ..Default::default()
                    }),
                    Peer::Cidr(_) => None,
                },
                description: rule.description.clone(),
                ..Default::default()
            })
            .collect();
        group.ingress.extend(added);
        ctx.tx.put_record(&store::security_group_key(ctx.scope, &group.id), &group);
        Ok(types::AuthorizeSecurityGroupIngressResult {
            r#return: Some(true),
            security_group_rules: Some(response_rules),
        })
    }
}

impl Handler<RevokeSecurityGroupIngress> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RevokeSecurityGroupIngressRequest,
    ) -> Result<types::RevokeSecurityGroupIngressResult, Ec2Error> {
        let arn = resource_arn(ctx, "security-group", input.group_id.as_deref().unwrap_or("*"));
        authorize::<RevokeSecurityGroupIngress>(ctx, Access::resource(&arn)).await?;
        crate::dry_run(input.dry_run)?;
        let mut group = find_group(ctx, input.group_id.as_deref(), input.group_name.as_deref()).await?;
        let rule_ids = input.security_group_rule_ids.clone().unwrap_or_default();
        if !rule_ids.is_empty() {
            if let Some(missing) = rule_ids.iter().find(|id| !group.ingress.iter().any(|r| r.id == **id)) {
                return Err(Ec2Error::unmodeled(
                    "InvalidSecurityGroupRuleId.NotFound",
                    400,
                    format!("The security group rule ID '{missing}' does not exist"),
                ));
            }
            group.ingress.retain(|r| !rule_ids.contains(&r.id));
            ctx.tx.put_record(&store::security_group_key(ctx.scope, &group.id), &group);
            return Ok(types::RevokeSecurityGroupIngressResult {
                r#return: Some(true),
                unknown_ip_permissions: None,
                revoked_security_group_rules: None,
            });
        }
        let flat = FlatRule {
            protocol: input.ip_protocol.as_deref(),
            from: input.from_port,
            to: input.to_port,
            cidr: input.cidr_ip.as_deref(),
            source_group: input.source_security_group_name.as_deref(),
        };
        let rules = requested_rules(ctx, input.ip_permissions.as_deref(), flat).await?;
        let unknown: Vec<Rule> =
            rules.iter().filter(|rule| !group.ingress.iter().any(|r| same_rule(r, rule))).cloned().collect();
        let default_vpc = store::ensure_default_network(ctx).await?;
        if !unknown.is_empty() && group.vpc_id != default_vpc {
            return Err(Ec2Error::unmodeled(
                "InvalidPermission.NotFound",
                400,
                "The specified rule does not exist in this security group.",
            ));
        }
        group.ingress.retain(|r| !rules.iter().any(|gone| same_rule(r, gone)));
        ctx.tx.put_record(&store::security_group_key(ctx.scope, &group.id), &group);
        // In a default VPC, rules the group does not have are reported, not refused.
        let unknown = (!unknown.is_empty()).then(|| permissions(&unknown));
        Ok(types::RevokeSecurityGroupIngressResult {
            r#return: Some(true),
            unknown_ip_permissions: unknown,
            revoked_security_group_rules: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_listed_grouped_by_protocol_and_ports() {
        let rule = |cidr: &str| Rule {
            id: "sgr-1".into(),
            protocol: "tcp".into(),
            from_port: Some(22),
            to_port: Some(22),
            peer: Peer::Cidr(cidr.into()),
            description: None,
        };
        let listed = permissions(&[rule("10.0.0.0/8"), rule("192.168.0.0/16")]);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].ip_ranges.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn protocols_and_cidrs_are_checked() {
        assert_eq!(normalized_protocol("TCP").unwrap(), "tcp");
        assert_eq!(normalized_protocol("all").unwrap(), "-1");
        assert!(normalized_protocol("smtp").is_err());
        assert!(is_cidr("10.0.0.0/8"));
        assert!(!is_cidr("10.0.0/8") && !is_cidr("10.0.0.0/33") && !is_cidr("x"));
    }
}
