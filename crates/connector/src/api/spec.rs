//! The connector spec of an instance: edits, validation, upgrades, previews and a test against the company.

use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::instance::{Environment, Instances};
use crate::platform::{Module, PlatformStore};
use crate::spec::customize::{self, Difference, UpgradeChange};
use crate::spec::mapping::{map_each, RuleResult, HELPERS};
use crate::spec::pick::platform_fields;
use crate::spec::qbo_fields::{qbo_fields, required_group};
use crate::spec::{CompiledMethod, Context, Issue, MethodName, Pick, Severity, Spec};

use super::*;

impl Connector {
    /// The instance's spec: its customized one, or the built-in one.
    pub fn spec(&self, name: &str) -> ApiResult<Spec> {
        let instance = Instances::new(&self.store).get(name)?;
        let stored: Option<String> = self
            .store
            .connection()
            .query_row("SELECT spec FROM instance_spec WHERE instance_id = ?1", [instance.id], |row| row.get(0))
            .optional()?;
        match stored {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                ApiError::new(ErrorCode::Storage, format!("the stored spec of {name:?} is unreadable: {e}"))
            }),
            None => Ok(Spec::built_in()),
        }
    }

    /// Saves a customized spec if it has no errors; answers its warnings.
    pub fn save_spec(&self, name: &str, spec: &Spec) -> ApiResult<Vec<Issue>> {
        let issues = crate::spec::validate(spec);
        let errors: Vec<String> =
            issues.iter().filter(|i| i.severity == Severity::Error).map(ToString::to_string).collect();
        if !errors.is_empty() {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("the spec was not saved: {} problem(s)", errors.len()),
            )
            .with_detail(errors.join("\n")));
        }
        let instance = Instances::new(&self.store).get(name)?;
        let text = serde_json::to_string(spec).map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?;
        self.store.connection().execute(
            "INSERT INTO instance_spec (instance_id, spec, base) VALUES (?1, ?2, ?3)
             ON CONFLICT (instance_id) DO UPDATE SET spec = excluded.spec",
            params![instance.id, text, crate::spec::document::BUILT_IN],
        )?;
        Ok(issues)
    }

    /// Back to the built-in spec.
    pub fn reset_spec(&self, name: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        self.store.connection().execute("DELETE FROM instance_spec WHERE instance_id = ?1", [instance.id])?;
        Ok(())
    }

    /// How the instance's spec differs from the built-in one.
    pub fn spec_diff(&self, name: &str) -> ApiResult<Vec<Difference>> {
        Ok(self.diff_from_built_in(&self.spec(name)?))
    }

    /// How `spec` (saved or still being edited) differs from this build's built-in spec.
    pub fn diff_from_built_in(&self, spec: &Spec) -> Vec<Difference> {
        customize::diff(&Spec::built_in(), spec)
    }

    /// The three-way comparison with this build's built-in spec.
    pub fn spec_upgrade_plan(&self, name: &str) -> ApiResult<Vec<UpgradeChange>> {
        let instance = Instances::new(&self.store).get(name)?;
        let base: Option<String> = self
            .store
            .connection()
            .query_row("SELECT base FROM instance_spec WHERE instance_id = ?1", [instance.id], |row| row.get(0))
            .optional()?;
        let Some(base) = base else { return Ok(Vec::new()) };
        let base: Spec = serde_json::from_str(&base).map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?;
        Ok(customize::upgrade_plan(&base, &Spec::built_in(), &self.spec(name)?))
    }

    /// What `method` of `module` would send for one platform record (push), or write
    /// for one QuickBooks entity given as JSON (pull) — nothing is written anywhere.
    pub fn preview(&self, name: &str, module: &str, method: MethodName, source: PreviewSource) -> ApiResult<Preview> {
        self.preview_with(name, &self.spec(name)?, module, method, source)
    }

    /// [`Connector::preview`] with a spec being edited, not yet saved.
    pub fn preview_with(
        &self,
        name: &str,
        spec: &Spec,
        module: &str,
        method: MethodName,
        source: PreviewSource,
    ) -> ApiResult<Preview> {
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        let compiled = CompiledMethod::from_spec(spec, &module_spec.name, method).map_err(|errors| {
            ApiError::new(ErrorCode::Validation, format!("{module} {method} does not compile")).with_detail(
                errors
                    .iter()
                    .map(|e| format!("rule {} ({}): {}", e.rule, e.target, e.reason))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let (record, record_id) = match source {
            PreviewSource::Platform(id) => {
                let platform_module: Module = module_spec
                    .platform_module()
                    .parse()
                    .map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
                (PlatformStore::new(&self.store).get(platform_module, &id)?.data, id)
            }
            PreviewSource::QuickBooks(entity) => {
                let id = entity.get("Id").and_then(Value::as_str).unwrap_or("(entity)").to_owned();
                (entity, id)
            }
        };
        let context = self.preview_context(name, &record)?;
        let mapped =
            compiled.map(&record, &context).map_err(|e| ApiError::new(ErrorCode::Validation, e.to_string()))?;
        let rules = module_spec.methods.rules(method).map(|m| m.rules.clone()).unwrap_or_default();
        let provenance = mapped
            .provenance
            .into_iter()
            .map(|(field, rule)| (field, (rule, rules.get(rule - 1).map(|r| r.expr.clone()).unwrap_or_default())))
            .collect();
        Ok(Preview {
            module: module_spec.name.clone(),
            method,
            entity: module_spec.entity.clone(),
            record_id,
            body: mapped.body,
            rules: provenance,
        })
    }

    /// What a preview's rules read besides the record: the instance's variables and lookups,
    /// the related platform records (a contact's account), and placeholders for links.
    fn preview_context(&self, name: &str, record: &Value) -> ApiResult<Context> {
        let mut context = Context { vars: self.variables(name)?, preview: true, ..Context::default() };
        for row in self.lookups(name)? {
            context.lookups.entry(row.lookup).or_default().insert(row.platform_value, row.qbo_value);
        }
        for id in crate::spec::mapping::referenced_ids(record) {
            for candidate in Module::ALL {
                if let Ok(found) = PlatformStore::new(&self.store).get(candidate, &id) {
                    context.related.entry(candidate.name().to_owned()).or_default().insert(id.clone(), found.data);
                }
            }
        }
        Ok(context)
    }

    /// Every rule of a push method run by itself over one platform record of a spec being
    /// edited: each rule's value or why it fails, and the body the others still make.
    pub fn preview_rules(
        &self,
        name: &str,
        spec: &Spec,
        module: &str,
        method: MethodName,
        record_id: &str,
    ) -> ApiResult<RulesPreview> {
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        if !method.is_push() {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("{method} maps QuickBooks entities; a platform record previews only push methods"),
            ));
        }
        let platform_module: Module =
            module_spec.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let record = PlatformStore::new(&self.store).get(platform_module, record_id)?.data;
        let context = self.preview_context(name, &record)?;
        let rules = module_spec.methods.rules(method).map(|m| m.rules.clone()).unwrap_or_default();
        let (body, results) = map_each(&rules, &record, &context);
        let values = rules
            .iter()
            .zip(results)
            .enumerate()
            .map(|(index, (rule, result))| {
                let (value, error, failure) = match result {
                    RuleResult::Value(value) => (value, None, None),
                    RuleResult::Failed { kind, reason } => (Value::Null, Some(reason), Some(kind)),
                };
                RuleValue { rule: index + 1, target: rule.target.clone(), value, error, failure }
            })
            .collect();
        Ok(RulesPreview {
            module: module_spec.name.clone(),
            method,
            entity: module_spec.entity.clone(),
            record_id: record_id.to_owned(),
            body,
            values,
        })
    }

    /// What the mapping editor offers for `method` of `module` in a spec being edited.
    pub fn mapping_fields(&self, spec: &Spec, module: &str, method: MethodName) -> ApiResult<MappingFields> {
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        let platform_module: Module =
            module_spec.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let entity = module_spec.entity.as_str();
        let qbo: Vec<FieldView> = qbo_fields(entity)
            .unwrap_or_default()
            .iter()
            .map(|field| {
                let group = required_group(entity, field.path);
                let top = field.path.split('.').next().unwrap_or_default();
                FieldView {
                    path: field.path.to_owned(),
                    label: field.label.to_owned(),
                    kind: field.kind,
                    required: group.is_some(),
                    or_instead: group
                        .unwrap_or_default()
                        .iter()
                        .filter(|other| **other != top)
                        .map(|other| (*other).to_owned())
                        .collect(),
                    refers_to: None,
                }
            })
            .collect();
        let platform: Vec<FieldView> = platform_fields(platform_module)
            .into_iter()
            .map(|field| FieldView {
                label: field.path.clone(),
                path: field.path,
                kind: field.kind,
                required: field.required,
                or_instead: Vec::new(),
                refers_to: field.refers_to,
            })
            .collect();
        let (targets, sources) = if method.is_push() { (qbo, platform) } else { (platform, qbo) };
        Ok(MappingFields {
            entity: module_spec.entity.clone(),
            platform_module: platform_module.name().to_owned(),
            targets,
            sources,
            variables: spec.variables.iter().map(|v| v.name.clone()).collect(),
            lookups: spec.lookups.iter().map(|l| l.name.clone()).collect(),
            modules: spec
                .modules
                .iter()
                .map(|m| ModuleChoice {
                    name: m.name.clone(),
                    entity: m.entity.clone(),
                    platform_module: m.platform_module().to_owned(),
                })
                .collect(),
            helpers: HELPERS
                .iter()
                .map(|(name, signature, summary)| HelperView {
                    name: (*name).to_owned(),
                    signature: (*signature).to_owned(),
                    summary: (*summary).to_owned(),
                })
                .collect(),
            unfilled_required: crate::spec::unfilled_required(module_spec),
        })
    }

    /// The jq a pick stands for.
    pub fn pick_expression(&self, pick: &Pick) -> String {
        pick.expression()
    }

    /// Which rules are plain picks (and which), so the editor opens each as a pick or as jq.
    pub fn read_picks(&self, expressions: &[String]) -> Vec<Option<Pick>> {
        expressions.iter().map(|expression| Pick::read(expression)).collect()
    }

    /// The problems of a spec being edited, without saving it.
    pub fn check_spec(&self, spec: &Spec) -> Vec<Issue> {
        crate::spec::validate(spec)
    }

    pub fn built_in_spec(&self) -> Spec {
        Spec::built_in()
    }

    /// Sends what a push method makes of one platform record to the connected company and
    /// answers what QuickBooks said, field errors included. It writes for real, so it is
    /// refused for production companies.
    pub async fn test_mapping(
        &self,
        name: &str,
        spec: &Spec,
        module: &str,
        method: MethodName,
        record_id: &str,
    ) -> ApiResult<TestOutcome> {
        let instance = Instances::new(&self.store).get(name)?;
        if instance.environment == Environment::Production {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("{name:?} is connected to a production company; a test would write real records there"),
            ));
        }
        let preview = self.preview_with(name, spec, module, method, PreviewSource::Platform(record_id.to_owned()))?;
        let client = self.qbo_client(name).await?;
        let request_id = qbo::RequestId::new();
        let answer = match method {
            MethodName::PushCreate => client.create_json(&preview.entity, &preview.body, &request_id).await,
            MethodName::PushUpdate => {
                let instance_id = instance.id;
                let link = crate::sync::store::link_by_platform(
                    &self.store.connection(),
                    instance_id,
                    &preview.module,
                    record_id,
                )?;
                let link = link.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Validation,
                        format!("{module} {record_id} is not in QuickBooks yet: test its push_create first"),
                    )
                })?;
                let current = client.read_json(&preview.entity, &link.qbo_id).await?;
                let mut body = preview.body.clone();
                body["Id"] = Value::String(link.qbo_id.clone());
                body["SyncToken"] = current.get("SyncToken").cloned().unwrap_or(Value::Null);
                client.update_json(&preview.entity, &body, true, &request_id).await
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::Validation,
                    format!("only push_create and push_update can be tested against a company, not {other}"),
                ))
            }
        };
        Ok(match answer {
            Ok(entity) => TestOutcome::Accepted { preview, entity },
            Err(error) => TestOutcome::Refused { preview, error: error.into() },
        })
    }
}
