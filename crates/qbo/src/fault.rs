//! Every shape in which QuickBooks reports a failure, parsed into one [`Fault`].
//!
//! The usual JSON `{"Fault":{"Error":[…],"type"}}`, the gateway's lower-case 401
//! `{"fault":{"error":[…]}}`, the throttler's XML 429 (sent even when JSON was asked
//! for), XML authentication faults, a Fault inside an HTTP 200 batch item, and bodies
//! that are not faults at all (an HTML error page, nothing).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultError {
    pub code: String,
    pub message: String,
    pub detail: String,
    /// The field the error is about, when QuickBooks names one.
    pub element: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// HTTP status of the answer (200 for a batch item's fault).
    pub status: u16,
    /// `ValidationFault`, `SystemFault`, `AuthenticationFault`, `SERVICE`, `AUTHENTICATION`, …
    pub fault_type: String,
    pub errors: Vec<FaultError>,
    /// Intuit's transaction id of the failing call: support asks for it.
    pub intuit_tid: Option<String>,
}

/// Codes a caller acts on.
pub mod codes {
    pub const OBJECT_NOT_FOUND: &str = "610";
    pub const REQUIRED_MISSING: &str = "2020";
    pub const INVALID_REFERENCE: &str = "2500";
    pub const THROTTLED: &str = "3001";
    pub const AUTHENTICATION_FAILED: &str = "3200";
    pub const STALE_OBJECT: &str = "5010";
    pub const BUSINESS_VALIDATION: &str = "6000";
    pub const DUPLICATE_DOC_NUMBER: &str = "6140";
    pub const DUPLICATE_NAME: &str = "6240";
    pub const DEPOSITED: &str = "6540";
}

impl Fault {
    pub fn code(&self) -> &str {
        self.errors.first().map_or("", |e| e.code.as_str())
    }

    pub fn message(&self) -> &str {
        self.errors.first().map_or("", |e| e.message.as_str())
    }

    pub fn element(&self) -> Option<&str> {
        self.errors.first().and_then(|e| e.element.as_deref())
    }

    /// One line for logs and run history: code, message, detail, element and tid.
    pub fn summary(&self) -> String {
        let error = self.errors.first();
        let mut text = format!(
            "QuickBooks {} (HTTP {}) {}: {}",
            self.fault_type,
            self.status,
            self.code(),
            error.map_or("", |e| e.message.as_str())
        );
        if let Some(detail) = error.map(|e| e.detail.as_str()).filter(|d| !d.is_empty()) {
            text.push_str(&format!(" — {detail}"));
        }
        if let Some(element) = self.element() {
            text.push_str(&format!(" [field {element}]"));
        }
        if let Some(tid) = &self.intuit_tid {
            text.push_str(&format!(" (intuit_tid {tid})"));
        }
        text
    }

    /// Parses an error answer of any shape. Never fails: an unknown body becomes a
    /// fault with code `HTTP{status}` and the body's start as its detail.
    pub fn parse(status: u16, body: &str, intuit_tid: Option<String>) -> Fault {
        let trimmed = body.trim_start();
        let parsed = if trimmed.starts_with('<') {
            parse_xml(status, trimmed)
        } else {
            serde_json::from_str::<Value>(trimmed).ok().and_then(|value| Fault::from_json(status, &value))
        };
        let mut fault = parsed.unwrap_or_else(|| Fault {
            status,
            fault_type: "HTTP".into(),
            errors: vec![FaultError {
                code: format!("HTTP{status}"),
                message: status_text(status).into(),
                detail: body.chars().take(300).collect(),
                element: None,
            }],
            intuit_tid: None,
        });
        fault.intuit_tid = intuit_tid;
        fault
    }

    /// A fault from a JSON value: a whole answer (`{"Fault":…}`, `{"fault":…}`) or a
    /// batch item's `Fault` object itself.
    pub fn from_json(status: u16, value: &Value) -> Option<Fault> {
        let (fault, lower) = match (value.get("Fault"), value.get("fault")) {
            (Some(fault), _) => (fault, false),
            (None, Some(fault)) => (fault, true),
            (None, None) if value.get("Error").is_some() => (value, false),
            _ => return None,
        };
        let errors_key = if lower { "error" } else { "Error" };
        let field = |error: &Value, upper: &str, lower_name: &str| {
            error.get(upper).or_else(|| error.get(lower_name)).and_then(Value::as_str).unwrap_or_default().to_owned()
        };
        let errors = fault
            .get(errors_key)
            .and_then(Value::as_array)?
            .iter()
            .map(|error| FaultError {
                code: field(error, "code", "code"),
                message: field(error, "Message", "message"),
                detail: field(error, "Detail", "detail"),
                element: error.get("element").and_then(Value::as_str).map(str::to_owned),
            })
            .collect();
        Some(Fault {
            status,
            fault_type: fault.get("type").and_then(Value::as_str).unwrap_or_default().to_owned(),
            errors,
            intuit_tid: None,
        })
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unexpected answer",
    }
}

/// The text of the first `<tag …>…</tag>` after `from`, and where it ends.
fn xml_element<'a>(xml: &'a str, tag: &str, from: usize) -> Option<(&'a str, &'a str, usize)> {
    let open = xml[from..].find(&format!("<{tag}"))? + from;
    let head_end = xml[open..].find('>')? + open;
    let head = &xml[open..head_end];
    if head.ends_with('/') {
        return Some((head, "", head_end + 1));
    }
    let close_tag = format!("</{tag}>");
    let close = xml[head_end..].find(&close_tag)? + head_end;
    Some((head, &xml[head_end + 1..close], close + close_tag.len()))
}

fn xml_attribute(head: &str, name: &str) -> Option<String> {
    let start = head.find(&format!("{name}=\""))? + name.len() + 2;
    let end = head[start..].find('"')? + start;
    Some(xml_unescape(&head[start..end]))
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn parse_xml(status: u16, xml: &str) -> Option<Fault> {
    let (fault_head, fault_body, _) = xml_element(xml, "Fault", 0)?;
    let mut errors = Vec::new();
    let mut at = 0;
    while let Some((head, body, end)) = xml_element(fault_body, "Error", at) {
        let text = |tag: &str| xml_element(body, tag, 0).map(|(_, t, _)| xml_unescape(t)).unwrap_or_default();
        errors.push(FaultError {
            code: xml_attribute(head, "code").unwrap_or_default(),
            message: text("Message"),
            detail: text("Detail"),
            element: xml_attribute(head, "element"),
        });
        at = end;
    }
    Some(Fault { status, fault_type: xml_attribute(fault_head, "type").unwrap_or_default(), errors, intuit_tid: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_json_fault_keeps_every_part() {
        let body = r#"{"Fault":{"Error":[{"Message":"Duplicate Name Exists Error","Detail":"The name supplied already exists.","code":"6240","element":"DisplayName"}],"type":"ValidationFault"},"time":"2026-01-01T00:00:00-08:00"}"#;
        let fault = Fault::parse(400, body, Some("1-abc".into()));
        assert_eq!(fault.code(), codes::DUPLICATE_NAME);
        assert_eq!(fault.fault_type, "ValidationFault");
        assert_eq!(fault.element(), Some("DisplayName"));
        assert_eq!(fault.intuit_tid.as_deref(), Some("1-abc"));
        assert!(fault.summary().contains("intuit_tid 1-abc") && fault.summary().contains("[field DisplayName]"));
    }

    #[test]
    fn the_gateways_lower_case_401() {
        let body = r#"{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired","code":"3200"}],"type":"AUTHENTICATION"}}"#;
        let fault = Fault::parse(401, body, None);
        assert_eq!(fault.code(), codes::AUTHENTICATION_FAILED);
        assert_eq!(fault.fault_type, "AUTHENTICATION");
        assert_eq!(fault.errors[0].detail, "Token expired");
    }

    #[test]
    fn the_throttlers_xml_429_even_as_json() {
        let body = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2026-01-01"><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>Too many &amp; more</Detail></Error></Fault></IntuitResponse>"#;
        let fault = Fault::parse(429, body, None);
        assert_eq!(fault.code(), codes::THROTTLED);
        assert_eq!(fault.fault_type, "SERVICE");
        assert_eq!(fault.errors[0].detail, "Too many & more");
    }

    #[test]
    fn an_xml_authentication_fault() {
        let body = r#"<IntuitResponse><Fault type="AuthenticationFault"><Error code="100"><Message>General Authentication Error</Message></Error></Fault></IntuitResponse>"#;
        let fault = Fault::parse(401, body, None);
        assert_eq!(fault.code(), "100");
        assert_eq!(fault.fault_type, "AuthenticationFault");
        assert_eq!(fault.errors[0].detail, "");
    }

    #[test]
    fn a_batch_items_fault_object() {
        let item: Value = serde_json::from_str(r#"{"bId":"2","Fault":{"Error":[{"Message":"Stale Object Error","code":"5010","Detail":"x"}],"type":"ValidationFault"}}"#).unwrap();
        let fault = Fault::from_json(200, &item).unwrap();
        assert_eq!(fault.status, 200);
        assert_eq!(fault.code(), codes::STALE_OBJECT);
    }

    #[test]
    fn a_body_that_is_not_a_fault() {
        let fault = Fault::parse(502, "<html><body>Bad gateway</body></html>", Some("t".into()));
        assert_eq!(fault.code(), "HTTP502");
        assert!(fault.errors[0].detail.contains("Bad gateway"));
        assert_eq!(Fault::parse(503, "", None).code(), "HTTP503");
    }
}
