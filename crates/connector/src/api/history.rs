//! History: runs and their records filtered (by outcome, module, date and a record's name),
//! records shown by name, a record's trail through every run, the way to each entity in
//! QuickBooks' web app, and a run's report as CSV.

use std::io::Write;

use crate::instance::{Environment, Instances};
use crate::spec::Spec;
use crate::sync::store::{self, OutcomeFilter, RunFilter};

use super::*;

/// Rows a report reads from the store at a time, so a run of 100,000 records costs a page.
const REPORT_PAGE: usize = 1_000;

/// The columns of a run's CSV report, in order.
pub const REPORT_COLUMNS: [&str; 10] =
    ["run", "module", "record", "name", "operation", "outcome", "quickbooks_id", "code", "message", "intuit_tid"];

impl Connector {
    /// A page of `name`'s runs that `filter` lets through, newest first, and how many it lets
    /// through. `from` and `to` may be RFC 3339 or dates (whole days, UTC).
    pub fn history_runs(&self, name: &str, filter: &RunFilter, offset: usize, limit: usize) -> ApiResult<RunPage> {
        let instance = self.instance_id(name)?;
        let filter = RunFilter {
            from: filter.from.as_deref().map(|t| bound(t, false)).transpose()?,
            to: filter.to.as_deref().map(|t| bound(t, true)).transpose()?,
            ..filter.clone()
        };
        let connection = self.store.connection();
        Ok(RunPage {
            total: store::count_filtered_runs(&connection, instance, &filter)?,
            runs: store::filtered_runs_page(&connection, instance, &filter, offset, limit)?,
        })
    }

    /// A run counted as Home counts its last: sent and received apart, and its problems.
    pub fn run_counts(&self, name: &str, run_id: i64) -> ApiResult<HomeRun> {
        self.check_run(name, run_id)?;
        let connection = self.store.connection();
        let run = store::find_run(&connection, run_id)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("{name:?} has no run {run_id}")))?;
        Ok(super::home::home_run(&run, &store::tally(&connection, run_id)?))
    }

    /// A page of a run's records that `filter` lets through, each with its name, and how many
    /// it lets through.
    pub fn history_records(
        &self,
        name: &str,
        run_id: i64,
        filter: &OutcomeFilter,
        offset: usize,
        limit: usize,
    ) -> ApiResult<HistoryPage> {
        self.check_run(name, run_id)?;
        let environment = Instances::new(&self.store).get(name)?.environment;
        let spec = self.spec(name)?;
        let modules = platform_modules(&spec);
        let connection = self.store.connection();
        let total = store::count_filtered_outcomes(&connection, run_id, &modules, filter)?;
        let records = store::filtered_outcomes(&connection, run_id, &modules, filter, offset, limit)?
            .into_iter()
            .map(|(outcome, record_name)| {
                let quickbooks_url = url_of(&environment, &spec, &outcome.module, outcome.qbo_id.as_deref());
                HistoryRecord { outcome, name: record_name, quickbooks_url }
            })
            .collect();
        Ok(HistoryPage { total, records })
    }

    /// Every run that touched `module`'s record `platform_id`, newest first, with what each
    /// did to it, and where QuickBooks shows it.
    pub fn record_trail(&self, name: &str, module: &str, platform_id: &str) -> ApiResult<RecordTrail> {
        let instance = Instances::new(&self.store).get(name)?;
        let spec = self.spec(name)?;
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        let connection = self.store.connection();
        let runs: Vec<TrailEntry> = store::trail(&connection, instance.id, module, platform_id)?
            .into_iter()
            .map(|row| TrailEntry {
                run_id: row.run_id,
                started_at: row.started_at,
                trigger: row.trigger,
                operation: row.outcome.operation,
                outcome: row.outcome.outcome,
                quickbooks_url: url_of(&instance.environment, &spec, module, row.outcome.qbo_id.as_deref()),
                qbo_id: row.outcome.qbo_id,
                message: row.outcome.message,
                code: row.outcome.code,
                intuit_tid: row.outcome.intuit_tid,
            })
            .collect();
        let qbo_id = store::link_by_platform(&connection, instance.id, module, platform_id)?.map(|link| link.qbo_id);
        Ok(RecordTrail {
            module: module_spec.name.clone(),
            record_id: platform_id.to_owned(),
            name: store::record_name(&connection, module_spec.platform_module(), platform_id)?,
            entity: module_spec.entity.clone(),
            quickbooks_url: qbo_id
                .as_deref()
                .and_then(|id| quickbooks_url(&instance.environment, &module_spec.entity, id)),
            qbo_id,
            runs,
        })
    }

    /// Where QuickBooks' web app shows `module`'s entity `qbo_id` for `name`'s company: the
    /// address the app opens, made here so that it never opens one a screen made up.
    pub fn quickbooks_address(&self, name: &str, module: &str, qbo_id: &str) -> ApiResult<String> {
        let environment = Instances::new(&self.store).get(name)?.environment;
        url_of(&environment, &self.spec(name)?, module, Some(qbo_id)).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("QuickBooks has no page to open for {module} {qbo_id} here"))
        })
    }

    /// Writes a run's records that `filter` lets through (all of them by default) as CSV,
    /// RFC 4180, under a header of [`REPORT_COLUMNS`]; answers how many rows were written.
    pub fn write_run_report(
        &self,
        name: &str,
        run_id: i64,
        filter: &OutcomeFilter,
        out: impl Write,
    ) -> ApiResult<usize> {
        self.check_run(name, run_id)?;
        let modules = platform_modules(&self.spec(name)?);
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out);
        writer.write_record(REPORT_COLUMNS).map_err(report_error)?;
        let run = run_id.to_string();
        let mut written = 0;
        loop {
            let page = {
                let connection = self.store.connection();
                store::filtered_outcomes(&connection, run_id, &modules, filter, written, REPORT_PAGE)?
            };
            for (o, record_name) in &page {
                let text = |value: &Option<String>| value.clone().unwrap_or_default();
                writer
                    .write_record([
                        run.clone(),
                        o.module.clone(),
                        o.record_id.clone(),
                        text(record_name),
                        o.operation.to_string(),
                        o.outcome.to_string(),
                        text(&o.qbo_id),
                        text(&o.code),
                        text(&o.message),
                        text(&o.intuit_tid),
                    ])
                    .map_err(report_error)?;
            }
            written += page.len();
            if page.len() < REPORT_PAGE {
                break;
            }
        }
        writer.flush().map_err(|e| report_error(e.into()))?;
        Ok(written)
    }

    /// [`Connector::write_run_report`] as text, for the app to save.
    pub fn run_report_csv(&self, name: &str, run_id: i64, filter: &OutcomeFilter) -> ApiResult<String> {
        let mut bytes = Vec::new();
        self.write_run_report(name, run_id, filter, &mut bytes)?;
        String::from_utf8(bytes).map_err(|_| ApiError::new(ErrorCode::Storage, "the report is not UTF-8"))
    }
}

fn report_error(error: csv::Error) -> ApiError {
    ApiError::new(ErrorCode::Storage, "the run's report could not be written").with_detail(error.to_string())
}

/// The spec's modules and the platform modules their records are in, as the JSON object the
/// store's record lists read names through.
fn platform_modules(spec: &Spec) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        spec.modules.iter().map(|m| (m.name.clone(), m.platform_module().into())).collect();
    serde_json::Value::Object(map).to_string()
}

fn url_of(environment: &Environment, spec: &Spec, module: &str, qbo_id: Option<&str>) -> Option<String> {
    let entity = &spec.module(module)?.entity;
    quickbooks_url(environment, entity, qbo_id?)
}

/// Where QuickBooks' web app shows an entity: production or Intuit's sandbox by the instance's
/// environment. `None` for a server of its own (a local sandbox has no web app) and for an
/// entity the web app has no page of its own for (Item).
pub fn quickbooks_url(environment: &Environment, entity: &str, qbo_id: &str) -> Option<String> {
    let host = match environment {
        Environment::Production => "https://app.qbo.intuit.com",
        Environment::Sandbox => "https://app.sandbox.qbo.intuit.com",
        Environment::Custom { .. } => return None,
    };
    let page = match entity {
        "Customer" => "customerdetail?nameId",
        "Vendor" => "vendordetail?nameId",
        "Invoice" => "invoice?txnId",
        "Estimate" => "estimate?txnId",
        "SalesReceipt" => "salesreceipt?txnId",
        "CreditMemo" => "creditmemo?txnId",
        "Payment" => "recvpayment?txnId",
        "PurchaseOrder" => "purchaseorder?txnId",
        "Bill" => "bill?txnId",
        "JournalEntry" => "journal?txnId",
        _ => return None,
    };
    if qbo_id.is_empty() {
        return None;
    }
    let id: String = url::form_urlencoded::byte_serialize(qbo_id.as_bytes()).collect();
    Some(format!("{host}/app/{page}={id}"))
}

/// A History date bound as the store compares it: RFC 3339 as the instant it names; a date as
/// the start of that day (UTC), or for the end of a range the start of the next.
fn bound(text: &str, end: bool) -> ApiResult<String> {
    let text = text.trim();
    if let Some(instant) = qbo::rfc3339::parse(text) {
        return Ok(qbo::rfc3339::format(instant));
    }
    let day = qbo::rfc3339::parse_date(text).ok_or_else(|| {
        ApiError::new(ErrorCode::Validation, format!("{text:?} is neither a date (2026-03-01) nor an RFC 3339 time"))
    })?;
    let day = if end { day.succ_opt().unwrap_or(day) } else { day };
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Ok(qbo::rfc3339::format(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quickbooks_urls_follow_the_environment_and_the_entity() {
        let cases = [
            (
                Environment::Production,
                "Customer",
                "58",
                Some("https://app.qbo.intuit.com/app/customerdetail?nameId=58"),
            ),
            (
                Environment::Sandbox,
                "Customer",
                "58",
                Some("https://app.sandbox.qbo.intuit.com/app/customerdetail?nameId=58"),
            ),
            (Environment::Production, "Invoice", "130", Some("https://app.qbo.intuit.com/app/invoice?txnId=130")),
            (Environment::Sandbox, "Payment", "7", Some("https://app.sandbox.qbo.intuit.com/app/recvpayment?txnId=7")),
            (
                Environment::Production,
                "PurchaseOrder",
                "9",
                Some("https://app.qbo.intuit.com/app/purchaseorder?txnId=9"),
            ),
            (Environment::Production, "Item", "3", None),
            (Environment::Production, "Customer", "", None),
            (
                Environment::Production,
                "Customer",
                "1&x=2",
                Some("https://app.qbo.intuit.com/app/customerdetail?nameId=1%26x%3D2"),
            ),
            (Environment::Custom { base_url: "http://127.0.0.1:9".into() }, "Customer", "58", None),
        ];
        for (environment, entity, id, wanted) in cases {
            assert_eq!(quickbooks_url(&environment, entity, id).as_deref(), wanted, "{environment:?} {entity} {id}");
        }
    }

    #[test]
    fn a_date_bound_is_a_whole_utc_day_and_an_instant_is_itself() {
        assert_eq!(bound("2026-03-01", false).unwrap(), "2026-03-01T00:00:00Z");
        assert_eq!(bound("2026-03-01", true).unwrap(), "2026-03-02T00:00:00Z");
        assert_eq!(bound("2026-03-01T10:30:00+02:00", true).unwrap(), "2026-03-01T08:30:00Z");
        let refused = bound("yesterday", false).unwrap_err();
        assert_eq!(refused.code, ErrorCode::Validation);
        assert!(refused.message.contains("\"yesterday\""), "{}", refused.message);
    }
}
