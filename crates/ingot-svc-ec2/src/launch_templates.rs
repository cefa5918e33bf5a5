//! Launch templates: CreateLaunchTemplate, ModifyLaunchTemplate, CreateLaunchTemplateVersion,
//! DescribeLaunchTemplates, DescribeLaunchTemplateVersions, DeleteLaunchTemplate,
//! DeleteLaunchTemplateVersions, and the version RunInstances launches from.
//!
//! A version keeps its data as given: an `ImageId` that is a `resolve:ssm:` reference stays one
//! and is resolved at every launch (and by DescribeLaunchTemplateVersions with `ResolveAlias`).
//! Such a reference must name an `aws:ec2:image` parameter (or one of AWS's public ones).

use crate::access::{authorize, resource_arn};
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::instances::resolve_image;
use crate::network::{page, passes};
use crate::operations::{
    CreateLaunchTemplate, CreateLaunchTemplateVersion, DeleteLaunchTemplate, DeleteLaunchTemplateVersions,
    DescribeLaunchTemplateVersions, DescribeLaunchTemplates, ModifyLaunchTemplate,
};
use crate::store::Tags;
use crate::tags::{from_specifications, to_wire as tags_to_wire, with_request_tags};
use crate::types::{self, LaunchTemplate, LaunchTemplateVersion, RequestLaunchTemplateData, ResourceType};
use crate::Ec2;
use ingot_core::{Access, Call, CommonError, Handler, Origin, RequestContext, Scope, Timestamp};
use ingot_store::Record;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateVersion {
    pub number: i64,
    pub description: Option<String>,
    pub created: Timestamp,
    pub created_by: String,
    /// The `LaunchTemplateData` as given (canonical JSON of the request shape).
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchTemplateRecord {
    pub id: String,
    pub name: String,
    pub created: Timestamp,
    pub created_by: String,
    pub default_version: i64,
    pub latest_version: i64,
    #[serde(default)]
    pub tags: Tags,
    pub versions: Vec<TemplateVersion>,
}

impl Record for LaunchTemplateRecord {
    const KIND: &'static str = "ec2.launch-template";
    const SCHEMA_VERSION: u32 = 1;
}

pub fn template_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["launch-templates/", id].concat())
}

pub fn templates_prefix(scope: &Scope) -> String {
    scope.key("ec2", "launch-templates/")
}

fn invalid(message: impl Into<String>) -> Ec2Error {
    Ec2Error::unmodeled("InvalidParameterValue", 400, message)
}

fn id_not_found(id: &str) -> Ec2Error {
    Ec2Error::unmodeled(
        "InvalidLaunchTemplateId.NotFound",
        400,
        format!("The specified launch template, with template ID {id}, does not exist."),
    )
}

/// A template named alone that does not exist.
fn name_not_found(name: &str) -> Ec2Error {
    Ec2Error::unmodeled(
        "InvalidLaunchTemplateName.NotFoundException",
        400,
        format!("The specified launch template, with template name {name}, does not exist."),
    )
}

/// One of several templates DescribeLaunchTemplates names that does not exist.
fn names_not_found() -> Ec2Error {
    Ec2Error::unmodeled(
        "InvalidLaunchTemplateName.NotFoundException",
        400,
        "At least one of the launch templates specified in the request does not exist.",
    )
}

/// The help EC2 answers a DescribeLaunchTemplateVersions with when it cannot tell which versions
/// are meant (its quotes are typographic).
const DESCRIBE_VERSIONS_HELP: &str = "To describe the launch template data for all your launch templates, for ‘--versions’ specify ‘$Latest’, ‘$Default’, or both, and omit ‘--launch-template-id’, ‘--launch-template-name’, and version numbers. To describe the launch template data for a specific launch template, specify ‘--launch-template-id’ or ‘--launch-template-name’, and for ‘--versions’ specify one or more of the following values: ‘$Latest’, ‘$Default’, or one or more version numbers.";

fn version_not_found(message: String) -> Ec2Error {
    Ec2Error::unmodeled("InvalidLaunchTemplateId.VersionNotFound", 400, message)
}

async fn all_templates(ctx: &RequestContext<'_>) -> Result<Vec<LaunchTemplateRecord>, Ec2Error> {
    crate::store::all(&ctx.tx, &templates_prefix(ctx.scope)).await
}

/// The template a call names by id or by name.
async fn find_template(
    ctx: &RequestContext<'_>,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<LaunchTemplateRecord, Ec2Error> {
    match (id, name) {
        (Some(id), _) => {
            if !id.starts_with("lt-") {
                return Err(Ec2Error::unmodeled(
                    "InvalidLaunchTemplateId.Malformed",
                    400,
                    format!("The specified launch template ID {id} is not valid."),
                ));
            }
            ctx.tx.get_record(&template_key(ctx.scope, id)).await?.ok_or_else(|| id_not_found(id))
        }
        (None, Some(name)) => {
            all_templates(ctx).await?.into_iter().find(|t| t.name == name).ok_or_else(|| name_not_found(name))
        }
        (None, None) => Err(Ec2Error::unmodeled(
            "MissingParameter",
            400,
            "The request must contain the parameter launchTemplateName or launchTemplateId",
        )),
    }
}

/// The version a `Version` string names: a number, `$Latest` or `$Default` (default: default).
/// `missing` words the error for a number the template lacks, as each operation does.
fn find_version<'t>(
    template: &'t LaunchTemplateRecord,
    version: Option<&str>,
    missing: impl FnOnce(i64) -> Ec2Error,
) -> Result<&'t TemplateVersion, Ec2Error> {
    let number = match version {
        None | Some("$Default") => template.default_version,
        Some("$Latest") => template.latest_version,
        Some(text) => text.parse::<i64>().map_err(|_| {
            Ec2Error::unmodeled(
                "InvalidLaunchTemplateVersion.Malformed",
                400,
                format!("The specified launch template version {text} is not valid."),
            )
        })?,
    };
    template.versions.iter().find(|v| v.number == number).ok_or_else(|| missing(number))
}

/// The wording of a missing version where AWS's own is not known.
fn no_such_version(template: &LaunchTemplateRecord) -> impl FnOnce(i64) -> Ec2Error + '_ {
    move |number| {
        version_not_found(format!("Could not find launch template version {number} for template {}", template.id))
    }
}

fn check_name(name: &str) -> Result<(), Ec2Error> {
    let ok =
        (3..=128).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"().-/_".contains(&b));
    if !ok {
        return Err(invalid(format!(
            "Invalid value '{name}' for LaunchTemplateName: must be 3 to 128 characters of letters, digits and ().-/_"
        )));
    }
    Ok(())
}

/// Checks a `resolve:ssm:` image reference: the parameter must exist and, unless it is one of
/// AWS's public parameters, have the data type `aws:ec2:image`.
async fn check_image_reference(ctx: &RequestContext<'_>, data: &RequestLaunchTemplateData) -> Result<(), Ec2Error> {
    let Some(parameter) = data.image_id.as_deref().and_then(|i| i.strip_prefix("resolve:ssm:")) else {
        return Ok(());
    };
    let origin = Origin { via_service: Some("ec2.amazonaws.com"), ..ctx.origin };
    let call = Call { service: "ssm", operation: "GetParameter", scope: ctx.scope, principal: ctx.principal, origin };
    let unsupported = || {
        Ec2Error::unmodeled(
            "SsmInvalidParameter",
            400,
            "Unsupported data type. The following parameter data types are supported: aws:ec2:image",
        )
    };
    match ctx.env.invoker.invoke(ctx.env, call, json!({ "Name": parameter })).await {
        Ok(output) => {
            let public = parameter.starts_with("/aws/service/") || parameter.contains(":parameter/aws/service/");
            if public || output["Parameter"]["DataType"] == "aws:ec2:image" {
                Ok(())
            } else {
                Err(unsupported())
            }
        }
        Err(ingot_core::ServiceFailure::Common(e)) if e.kind == ingot_core::CommonKind::InternalFailure => {
            Err(e.into())
        }
        Err(_) => Err(Ec2Error::unmodeled(
            "SsmInvalidParameter",
            400,
            format!("The parameter {parameter} does not exist or you do not have permission to read it."),
        )),
    }
}

fn to_wire(template: &LaunchTemplateRecord) -> LaunchTemplate {
    LaunchTemplate {
        launch_template_id: Some(template.id.clone()),
        launch_template_name: Some(template.name.clone()),
        create_time: Some(template.created),
        created_by: Some(template.created_by.clone()),
        default_version_number: Some(template.default_version),
        latest_version_number: Some(template.latest_version),
        tags: tags_to_wire(&template.tags),
        operator: None,
    }
}

async fn version_to_wire(
    ctx: &RequestContext<'_>,
    template: &LaunchTemplateRecord,
    version: &TemplateVersion,
    resolve_alias: bool,
) -> Result<LaunchTemplateVersion, Ec2Error> {
    let mut data: types::ResponseLaunchTemplateData = serde_json::from_value(version.data.clone())
        .map_err(|e| CommonError::internal(format!("launch template data of {}: {e}", template.id)))?;
    if resolve_alias {
        if let Some(reference) = data.image_id.clone().filter(|i| i.starts_with("resolve:ssm:")) {
            data.image_id = Some(resolve_image(ctx, &reference).await?);
        }
    }
    Ok(LaunchTemplateVersion {
        launch_template_id: Some(template.id.clone()),
        launch_template_name: Some(template.name.clone()),
        version_number: Some(version.number),
        version_description: version.description.clone(),
        create_time: Some(version.created),
        created_by: Some(version.created_by.clone()),
        default_version: Some(version.number == template.default_version),
        launch_template_data: Some(data),
        operator: None,
    })
}

fn data_value(data: &RequestLaunchTemplateData) -> Result<Value, Ec2Error> {
    Ok(serde_json::to_value(data).map_err(CommonError::internal)?)
}

/// The template version a RunInstances `LaunchTemplate` names, as a launch uses it.
pub struct TemplateLaunch {
    pub data: RequestLaunchTemplateData,
    pub template_id: String,
    pub version: i64,
}

/// The launch data of the version a RunInstances `LaunchTemplate` names.
pub async fn data_for_launch(
    ctx: &RequestContext<'_>,
    spec: &types::LaunchTemplateSpecification,
) -> Result<TemplateLaunch, Ec2Error> {
    let template = find_template(ctx, spec.launch_template_id.as_deref(), spec.launch_template_name.as_deref()).await?;
    let version = find_version(&template, spec.version.as_deref(), no_such_version(&template))?;
    let data = serde_json::from_value(version.data.clone())
        .map_err(|e| CommonError::internal(format!("launch template data of {}: {e}", template.id)))?;
    Ok(TemplateLaunch { data, template_id: template.id.clone(), version: version.number })
}

pub fn template_arn(ctx: &RequestContext<'_>, id: &str) -> String {
    resource_arn(ctx, "launch-template", id)
}

impl Handler<CreateLaunchTemplate> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateLaunchTemplateRequest,
    ) -> Result<types::CreateLaunchTemplateResult, Ec2Error> {
        let tags = from_specifications(input.tag_specifications.as_deref(), ResourceType::LaunchTemplate)?;
        let arns = vec![template_arn(ctx, "*")];
        authorize::<CreateLaunchTemplate>(ctx, with_request_tags(Access::resources(&arns), &tags)).await?;
        crate::dry_run(input.dry_run)?;
        check_name(&input.launch_template_name)?;
        if all_templates(ctx).await?.iter().any(|t| t.name == input.launch_template_name) {
            return Err(Ec2Error::unmodeled(
                "InvalidLaunchTemplateName.AlreadyExistsException",
                400,
                "Launch template name already in use.",
            ));
        }
        check_image_reference(ctx, &input.launch_template_data).await?;
        let created_by = ctx.principal.arn.clone();
        let template = LaunchTemplateRecord {
            id: ctx.ids().resource_id("lt"),
            name: input.launch_template_name,
            created: ctx.now,
            created_by: created_by.clone(),
            default_version: 1,
            latest_version: 1,
            tags,
            versions: vec![TemplateVersion {
                number: 1,
                description: input.version_description,
                created: ctx.now,
                created_by,
                data: data_value(&input.launch_template_data)?,
            }],
        };
        ctx.tx.insert_new(&template_key(ctx.scope, &template.id), ingot_store::encode_record(&template));
        Ok(types::CreateLaunchTemplateResult { launch_template: Some(to_wire(&template)), warning: None })
    }
}

impl Handler<CreateLaunchTemplateVersion> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateLaunchTemplateVersionRequest,
    ) -> Result<types::CreateLaunchTemplateVersionResult, Ec2Error> {
        let arns = vec![template_arn(ctx, input.launch_template_id.as_deref().unwrap_or("*"))];
        authorize::<CreateLaunchTemplateVersion>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut template =
            find_template(ctx, input.launch_template_id.as_deref(), input.launch_template_name.as_deref()).await?;
        // A version made from a source version starts from that version's data.
        let mut data = match &input.source_version {
            Some(source) => find_version(&template, Some(source), no_such_version(&template))?.data.clone(),
            None => json!({}),
        };
        if let (Value::Object(base), Value::Object(given)) = (&mut data, data_value(&input.launch_template_data)?) {
            for (key, value) in given {
                base.insert(key, value);
            }
        }
        let merged: RequestLaunchTemplateData = serde_json::from_value(data.clone()).map_err(CommonError::internal)?;
        check_image_reference(ctx, &merged).await?;
        let number = template.latest_version + 1;
        let version = TemplateVersion {
            number,
            description: input.version_description,
            created: ctx.now,
            created_by: ctx.principal.arn.clone(),
            data,
        };
        template.latest_version = number;
        template.versions.push(version.clone());
        ctx.tx.put_record(&template_key(ctx.scope, &template.id), &template);
        let resolve = input.resolve_alias.unwrap_or(false);
        Ok(types::CreateLaunchTemplateVersionResult {
            launch_template_version: Some(version_to_wire(ctx, &template, &version, resolve).await?),
            warning: None,
        })
    }
}

impl Handler<ModifyLaunchTemplate> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ModifyLaunchTemplateRequest,
    ) -> Result<types::ModifyLaunchTemplateResult, Ec2Error> {
        let arns = vec![template_arn(ctx, input.launch_template_id.as_deref().unwrap_or("*"))];
        authorize::<ModifyLaunchTemplate>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        if input.launch_template_id.is_some() && input.launch_template_name.is_some() {
            return Err(Ec2Error::unmodeled(
                "InvalidParameterCombination",
                400,
                "Either provide launch template ID or launch template name to modify the template.",
            ));
        }
        let mut template =
            find_template(ctx, input.launch_template_id.as_deref(), input.launch_template_name.as_deref()).await?;
        if let Some(default) = &input.default_version {
            let missing = |n| {
                version_not_found(format!(
                    "The launch template version {n} is not found for the specified launch template."
                ))
            };
            let number = find_version(&template, Some(default), missing)?.number;
            template.default_version = number;
            ctx.tx.put_record(&template_key(ctx.scope, &template.id), &template);
        }
        Ok(types::ModifyLaunchTemplateResult { launch_template: Some(to_wire(&template)) })
    }
}

impl Handler<DescribeLaunchTemplates> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeLaunchTemplatesRequest,
    ) -> Result<types::DescribeLaunchTemplatesResult, Ec2Error> {
        authorize::<DescribeLaunchTemplates>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, &["create-time", "launch-template-name", "tag-key"])?;
        let ids = input.launch_template_ids.unwrap_or_default();
        let names = input.launch_template_names.unwrap_or_default();
        let all = all_templates(ctx).await?;
        if let Some(missing) = ids.iter().find(|id| !all.iter().any(|t| t.id == **id)) {
            return Err(id_not_found(missing));
        }
        if names.iter().any(|n| !all.iter().any(|t| t.name == *n)) {
            return Err(names_not_found());
        }
        let items = all
            .iter()
            .filter(|t| ids.is_empty() || ids.contains(&t.id))
            .filter(|t| names.is_empty() || names.contains(&t.name))
            .filter(|t| {
                passes(&filters, &t.tags, |name| match name {
                    "create-time" => Some(t.created.to_iso8601()),
                    "launch-template-name" => Some(t.name.clone()),
                    _ => None,
                })
            })
            .map(|t| (t.id.clone(), to_wire(t)))
            .collect();
        let query = format!("DescribeLaunchTemplates;{ids:?};{names:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeLaunchTemplatesResult { launch_templates: Some(page.items), next_token: page.marker })
    }
}

impl Handler<DescribeLaunchTemplateVersions> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeLaunchTemplateVersionsRequest,
    ) -> Result<types::DescribeLaunchTemplateVersionsResult, Ec2Error> {
        authorize::<DescribeLaunchTemplateVersions>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let versions = input.versions.clone().unwrap_or_default();
        let named = input.launch_template_id.is_some() || input.launch_template_name.is_some();
        // Without a template, only `$Latest` and `$Default` of every template can be asked for.
        let templates = if named {
            vec![find_template(ctx, input.launch_template_id.as_deref(), input.launch_template_name.as_deref()).await?]
        } else if versions.is_empty() {
            return Err(Ec2Error::unmodeled("MissingParameter", 400, DESCRIBE_VERSIONS_HELP));
        } else if versions.iter().any(|v| v != "$Latest" && v != "$Default") {
            return Err(invalid(DESCRIBE_VERSIONS_HELP));
        } else {
            all_templates(ctx).await?
        };
        let bound = |text: &Option<String>| text.as_deref().and_then(|t| t.parse::<i64>().ok());
        let (min, max) = (bound(&input.min_version), bound(&input.max_version));
        let resolve = input.resolve_alias.unwrap_or(false);
        let mut items = Vec::new();
        for template in &templates {
            let mut wanted = Vec::new();
            for text in &versions {
                let missing = |n| {
                    version_not_found(format!(
                        "Could not find the specified version {n} for the launch template with ID {}.",
                        template.id
                    ))
                };
                wanted.push(find_version(template, Some(text), missing)?.number);
            }
            for version in template.versions.iter().filter(|v| versions.is_empty() || wanted.contains(&v.number)) {
                if min.is_some_and(|m| version.number < m) || max.is_some_and(|m| version.number > m) {
                    continue;
                }
                // Per template, newest first, as AWS lists them.
                items.push((
                    format!("{}/{:020}", template.id, i64::MAX - version.number),
                    version_to_wire(ctx, template, version, resolve).await?,
                ));
            }
        }
        let ids: Vec<&str> = templates.iter().map(|t| t.id.as_str()).collect();
        let query = format!("DescribeLaunchTemplateVersions;{ids:?};{versions:?};{min:?};{max:?};{resolve}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeLaunchTemplateVersionsResult {
            launch_template_versions: Some(page.items),
            next_token: page.marker,
        })
    }
}

impl Handler<DeleteLaunchTemplate> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteLaunchTemplateRequest,
    ) -> Result<types::DeleteLaunchTemplateResult, Ec2Error> {
        let arns = vec![template_arn(ctx, input.launch_template_id.as_deref().unwrap_or("*"))];
        authorize::<DeleteLaunchTemplate>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let template =
            find_template(ctx, input.launch_template_id.as_deref(), input.launch_template_name.as_deref()).await?;
        ctx.tx.delete(&template_key(ctx.scope, &template.id));
        Ok(types::DeleteLaunchTemplateResult { launch_template: Some(to_wire(&template)) })
    }
}

impl Handler<DeleteLaunchTemplateVersions> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteLaunchTemplateVersionsRequest,
    ) -> Result<types::DeleteLaunchTemplateVersionsResult, Ec2Error> {
        let arns = vec![template_arn(ctx, input.launch_template_id.as_deref().unwrap_or("*"))];
        authorize::<DeleteLaunchTemplateVersions>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut template =
            find_template(ctx, input.launch_template_id.as_deref(), input.launch_template_name.as_deref()).await?;
        let mut deleted = Vec::new();
        let mut refused = Vec::new();
        for text in &input.versions {
            let failure = |code: &str, message: String| types::DeleteLaunchTemplateVersionsResponseErrorItem {
                launch_template_id: Some(template.id.clone()),
                launch_template_name: Some(template.name.clone()),
                version_number: text.parse().ok(),
                response_error: Some(types::ResponseError {
                    code: Some(ingot_core::model::wire_enum(code)),
                    message: Some(message),
                }),
            };
            match text.parse::<i64>() {
                Ok(number) if number == template.default_version => refused.push(failure(
                    "launchTemplateVersionDoesNotExist",
                    format!("Cannot delete the default version {number} of the launch template"),
                )),
                Ok(number) if template.versions.iter().any(|v| v.number == number) => {
                    template.versions.retain(|v| v.number != number);
                    deleted.push(types::DeleteLaunchTemplateVersionsResponseSuccessItem {
                        launch_template_id: Some(template.id.clone()),
                        launch_template_name: Some(template.name.clone()),
                        version_number: Some(number),
                    });
                }
                _ => refused.push(failure(
                    "launchTemplateVersionDoesNotExist",
                    format!("The specified launch template version {text} does not exist."),
                )),
            }
        }
        ctx.tx.put_record(&template_key(ctx.scope, &template.id), &template);
        Ok(types::DeleteLaunchTemplateVersionsResult {
            successfully_deleted_launch_template_versions: Some(deleted),
            unsuccessfully_deleted_launch_template_versions: Some(refused),
        })
    }
}
