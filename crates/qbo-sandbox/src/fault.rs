//! QuickBooks faults, in the shapes Intuit sends them.
//!
//! Everything the sandbox refuses goes through [`Fault`], so every refusal has
//! the code, message, detail and element a real client must be able to parse.

use serde_json::{json, Value};

/// The `type` attribute of a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultType {
    Validation,
    System,
    Authentication,
    Authorization,
    /// The throttling gateway's XML fault (`type="SERVICE"`).
    Service,
    /// The API gateway's lower-case 401 (`"type":"AUTHENTICATION"`).
    GatewayAuthentication,
}

impl FaultType {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultType::Validation => "ValidationFault",
            FaultType::System => "SystemFault",
            FaultType::Authentication => "AuthenticationFault",
            FaultType::Authorization => "AuthorizationFault",
            FaultType::Service => "SERVICE",
            FaultType::GatewayAuthentication => "AUTHENTICATION",
        }
    }
}

/// How the fault body is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultShape {
    /// `{"Fault":{"Error":[{"Message","Detail","code","element"}],"type"},"time"}`
    Json,
    /// `{"fault":{"error":[{"message","detail","code"}],"type":"AUTHENTICATION"}}`
    GatewayJson,
    /// `<IntuitResponse><Fault type=…><Error code=…><Message>…` even when JSON was asked for.
    Xml,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultError {
    pub message: String,
    pub detail: String,
    pub code: String,
    pub element: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub status: u16,
    pub fault_type: FaultType,
    pub shape: FaultShape,
    pub errors: Vec<FaultError>,
}

impl Fault {
    pub fn new(
        status: u16,
        fault_type: FaultType,
        code: &str,
        message: &str,
        detail: impl Into<String>,
        element: Option<&str>,
    ) -> Fault {
        Fault {
            status,
            fault_type,
            shape: FaultShape::Json,
            errors: vec![FaultError {
                message: message.to_owned(),
                detail: detail.into(),
                code: code.to_owned(),
                element: element.map(str::to_owned),
            }],
        }
    }

    /// A 400 `ValidationFault` with one error.
    pub fn validation(code: &str, message: &str, detail: impl Into<String>, element: Option<&str>) -> Fault {
        Fault::new(400, FaultType::Validation, code, message, detail, element)
    }

    /// 2020: a field QuickBooks requires is absent.
    pub fn required(element: &str) -> Fault {
        Fault::validation(
            "2020",
            "Required param missing, need to supply the required value for the API",
            format!("Required parameter {element} is missing in the request"),
            Some(element),
        )
    }

    /// 610: the object, or an object a reference names, does not exist or is inactive.
    pub fn object_not_found(element: &str, detail: impl Into<String>) -> Fault {
        Fault::validation("610", "Object Not Found", detail, Some(element))
    }

    /// 2500: a reference id that is not a valid id of the referenced entity.
    pub fn invalid_reference(element: &str, id: &str) -> Fault {
        Fault::validation(
            "2500",
            "Invalid Reference Id",
            format!("Invalid Reference Id : {element} assigned is invalid: {id}"),
            Some(element),
        )
    }

    /// 6240: DisplayName (or Name) already used by another customer, vendor or employee.
    pub fn duplicate_name(name: &str, existing_id: &str) -> Fault {
        Fault::validation(
            "6240",
            "Duplicate Name Exists Error",
            format!("The name supplied already exists. : Another customer, vendor or employee is already using this name ({name}, Id={existing_id}). Please use a different name."),
            Some("DisplayName"),
        )
    }

    /// 6140: DocNumber already used by another transaction of the same type.
    pub fn duplicate_doc_number(doc_number: &str) -> Fault {
        Fault::validation(
            "6140",
            "Duplicate Document Number Error",
            format!("You must specify a different number. This number has already been used. DocNumber={doc_number} is assigned to TxnType=Invoice"),
            Some("DocNumber"),
        )
    }

    /// 5010: the SyncToken sent is not the current one.
    pub fn stale_object(id: &str, sent: &str, current: &str) -> Fault {
        Fault::validation(
            "5010",
            "Stale Object Error",
            format!("Stale Object Error : You and another user were working on the same thing (Id={id}). SyncToken sent={sent}, current={current}."),
            Some("SyncToken"),
        )
    }

    /// 6000: a business rule refused the write.
    pub fn business(detail: impl Into<String>, element: Option<&str>) -> Fault {
        Fault::validation(
            "6000",
            "A business validation error has occurred while processing your request",
            detail,
            element,
        )
    }

    /// 6540: a deposited transaction cannot be changed.
    pub fn deposited(id: &str) -> Fault {
        Fault::validation(
            "6540",
            "Deposited Transaction cannot be changed",
            format!("This transaction has been deposited (Id={id}). If you want to change or delete it, you must edit the deposit it appears on and remove it first."),
            None,
        )
    }

    /// 4000: the query could not be parsed.
    pub fn query_parser(detail: impl Into<String>) -> Fault {
        Fault::validation("4000", "Error parsing query", format!("QueryParserError: {}", detail.into()), None)
    }

    /// 4001: a query (or CDC request) that parses but that QuickBooks will not run.
    pub fn invalid_query(detail: impl Into<String>, element: Option<&str>) -> Fault {
        Fault::validation("4001", "Invalid query", detail, element)
    }

    /// 4001: a query names a property the entity does not have (or has only for `SELECT *`).
    pub fn property_not_found(property: &str, entity: &str) -> Fault {
        Fault::invalid_query(format!("QueryValidationError: Property {property} not found for Entity {entity}"), None)
    }

    /// 4001: a query filters or sorts on a property QuickBooks does not let it filter on.
    pub fn not_queryable(property: &str) -> Fault {
        Fault::invalid_query(format!("QueryValidationError: property '{property}' is not queryable"), None)
    }

    /// A 4xx/5xx system fault (also what fault injection answers with).
    pub fn system(status: u16, detail: impl Into<String>) -> Fault {
        Fault::new(
            status,
            FaultType::System,
            "10000",
            "An application error has occurred while processing your request",
            detail,
            None,
        )
    }

    /// 429 from the throttling gateway, in XML whatever was asked for.
    pub fn throttled() -> Fault {
        Fault {
            shape: FaultShape::Xml,
            ..Fault::new(
                429,
                FaultType::Service,
                "3001",
                "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                "The request limit was reached.",
                None,
            )
        }
    }

    /// 401 from the API gateway (missing, malformed, expired or revoked access token).
    pub fn gateway_unauthorized() -> Fault {
        Fault {
            shape: FaultShape::GatewayJson,
            ..Fault::new(
                401,
                FaultType::GatewayAuthentication,
                "3200",
                "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "Token expired or invalid",
                None,
            )
        }
    }

    /// A valid token presented for a company it was not issued for.
    pub fn wrong_realm(realm_id: &str) -> Fault {
        Fault {
            shape: FaultShape::Xml,
            ..Fault::new(
                401,
                FaultType::Authentication,
                "100",
                "General Authentication Error",
                format!("The access token is not valid for company {realm_id}"),
                None,
            )
        }
    }

    /// 403: the app is not authorized for this operation.
    pub fn forbidden(detail: impl Into<String>) -> Fault {
        Fault::new(
            403,
            FaultType::Authorization,
            "3100",
            "message=AuthorizationFailed; errorCode=003100; statusCode=403",
            detail,
            None,
        )
    }

    /// The first error's code (every fault has at least one error).
    pub fn code(&self) -> &str {
        self.errors.first().map(|e| e.code.as_str()).unwrap_or("")
    }

    /// The `Fault` object in the usual JSON shape (also what a batch item carries).
    pub fn to_json(&self) -> Value {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                let mut error = json!({"Message": e.message, "Detail": e.detail, "code": e.code});
                if let Some(element) = &e.element {
                    error["element"] = Value::String(element.clone());
                }
                error
            })
            .collect();
        json!({"Error": errors, "type": self.fault_type.as_str()})
    }

    /// The whole response body and its content type, as Intuit writes it for this fault's shape.
    pub fn body(&self, time: &str) -> (&'static str, String) {
        match self.shape {
            FaultShape::Json => ("application/json", json!({"Fault": self.to_json(), "time": time}).to_string()),
            FaultShape::GatewayJson => {
                let errors: Vec<Value> = self
                    .errors
                    .iter()
                    .map(|e| json!({"message": e.message, "detail": e.detail, "code": e.code}))
                    .collect();
                ("application/json", json!({"fault": {"error": errors, "type": self.fault_type.as_str()}}).to_string())
            }
            FaultShape::Xml => {
                let mut xml = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\" time=\"{}\"><Fault type=\"{}\">",
                    xml_escape(time),
                    self.fault_type.as_str()
                );
                for e in &self.errors {
                    xml.push_str(&format!(
                        "<Error code=\"{}\"><Message>{}</Message><Detail>{}</Detail></Error>",
                        xml_escape(&e.code),
                        xml_escape(&e.message),
                        xml_escape(&e.detail)
                    ));
                }
                xml.push_str("</Fault></IntuitResponse>");
                ("application/xml", xml)
            }
        }
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fault_names_the_element() {
        let (content_type, body) = Fault::required("CustomerRef").body("2026-01-01T00:00:00-08:00");
        assert_eq!(content_type, "application/json");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["Fault"]["type"], "ValidationFault");
        assert_eq!(v["Fault"]["Error"][0]["code"], "2020");
        assert_eq!(v["Fault"]["Error"][0]["element"], "CustomerRef");
    }

    #[test]
    fn throttle_fault_is_xml_with_code_3001() {
        let fault = Fault::throttled();
        assert_eq!(fault.status, 429);
        let (content_type, body) = fault.body("t");
        assert_eq!(content_type, "application/xml");
        assert!(body.contains("<Fault type=\"SERVICE\"><Error code=\"3001\">"));
        assert!(body.contains("statusCode=429"));
    }

    #[test]
    fn gateway_401_is_lower_case() {
        let (_, body) = Fault::gateway_unauthorized().body("t");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["fault"]["type"], "AUTHENTICATION");
        assert_eq!(v["fault"]["error"][0]["code"], "3200");
        assert!(v.get("Fault").is_none());
    }
}
