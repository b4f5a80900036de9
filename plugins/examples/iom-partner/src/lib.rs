//! Example partner plugin for an IOM-style return agency ("iom-style-return").
//!
//! The JSON formats below are a plausible, **fictional** schema modelled on how assisted
//! voluntary return and reintegration (AVRR) programmes take referrals; they are not
//! IOM's actual formats.
//!
//! Out: `{"schema": "iom-avrr-referral/1", "request_type", "case_ref", "service",
//! "beneficiary": {…}, "consent": {…}, "destination_country", "notes"}` (keys sorted).
//! In (status updates): `{"schema": "iom-avrr-status/1", "case_ref", "status": "RECEIVED"
//! | "UNDER_REVIEW" | "ACCEPTED" | "DECLINED" | "TRAVELLED" | "COMPLETED", "remarks"}`.

use passerelle_plugin_sdk::API_VERSION;
use passerelle_plugin_sdk::partner::{Guest, PartnerOutcome, PartnerRequest, PartnerStatus};
use serde_json::{Value, json};

struct Iom;

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Everything the agency needs, or the list of what is missing.
fn missing(r: &PartnerRequest) -> Vec<String> {
    let mut m = Vec::new();
    let return_request = match r.kind.as_str() {
        "referral" => false,
        "return_request" => true,
        _ => {
            m.push("The request type must be \"referral\" or \"return_request\".".to_owned());
            false
        }
    };
    if r.reference.trim().is_empty() {
        m.push("The case reference is missing.".to_owned());
    }
    if r.consent_language.trim().is_empty() {
        m.push("The language in which consent was given is missing.".to_owned());
    }
    if r.consented_on.trim().is_empty() || r.consent_form_version.trim().is_empty() {
        m.push("The consent date and form version are required.".to_owned());
    }
    if present(&r.nationality).is_none() && !r.stateless {
        m.push(
            "The nationality is missing (and the person is not recorded as stateless).".to_owned(),
        );
    }
    if present(&r.languages).is_none() {
        m.push(
            "The languages the person speaks are missing: counselling needs an interpreter."
                .to_owned(),
        );
    }
    let person = r.sections.iter().any(|s| s == "person");
    if return_request {
        if present(&r.destination_country).is_none() {
            m.push("A return request needs the destination country.".to_owned());
        }
        if !person || present(&r.name).is_none() || present(&r.birth_date).is_none() {
            m.push("A return request needs the \"person\" section (name and date of birth) for travel documents.".to_owned());
        }
    }
    if r.child && !person {
        m.push("A child's request needs the \"person\" section, so that the guardian can be identified.".to_owned());
    }
    m
}

fn opt(v: &Option<String>) -> Value {
    present(v).map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn format(r: &PartnerRequest) -> Value {
    let languages: Vec<String> = present(&r.languages)
        .unwrap_or("")
        .split([',', ';'])
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let service = if r.kind == "return_request" {
        "avrr".to_owned()
    } else {
        r.service.clone()
    };
    json!({
        "schema": "iom-avrr-referral/1",
        "request_type": r.kind,
        "case_ref": r.reference,
        "service": service,
        "beneficiary": {
            "name": opt(&r.name),
            "birth_date": opt(&r.birth_date),
            "nationality": if r.stateless { Value::Null } else { opt(&r.nationality) },
            "stateless": r.stateless,
            "minor": r.child,
            "languages": languages,
        },
        "consent": {
            "language": r.consent_language,
            "form_version": r.consent_form_version,
            "given_on": r.consented_on,
            "sections": r.sections,
        },
        "destination_country": opt(&r.destination_country),
        "notes": opt(&r.notes),
    })
}

impl Guest for Iom {
    fn api_version() -> String {
        API_VERSION.into()
    }

    fn format_request(request: PartnerRequest) -> Result<PartnerOutcome, String> {
        let missing = missing(&request);
        if !missing.is_empty() {
            return Ok(PartnerOutcome::Refused(missing));
        }
        Ok(PartnerOutcome::Formatted(format(&request).to_string()))
    }

    fn read_status(update: String) -> Result<PartnerStatus, String> {
        let v: Value = serde_json::from_str(&update)
            .map_err(|_| "The status update is not valid JSON.".to_owned())?;
        if v["schema"] != "iom-avrr-status/1" {
            return Err("The status update is not in the iom-avrr-status/1 format.".into());
        }
        let reference = v["case_ref"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or("The status update has no case_ref.")?;
        let code = v["status"]
            .as_str()
            .ok_or("The status update has no status.")?;
        let status = match code {
            "RECEIVED" | "UNDER_REVIEW" => "received",
            "ACCEPTED" => "accepted",
            "DECLINED" => "declined",
            "TRAVELLED" | "COMPLETED" => "completed",
            other => {
                return Err(format!(
                    "Unknown status code '{}'.",
                    other.chars().take(30).collect::<String>()
                ));
            }
        };
        Ok(PartnerStatus {
            reference: reference.to_owned(),
            status: status.to_owned(),
            note: v["remarks"].as_str().map(str::to_owned),
        })
    }
}

passerelle_plugin_sdk::partner::export_partner!(Iom);
