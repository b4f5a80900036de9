//! The HTCDS export (issue #14, point 3): an organisation's own cases in the vocabulary of
//! the Human Trafficking Case Data Standard v2.0 (IOM), as JSON or CSV, with the columns
//! its administrator chooses. docs/htcds.md says which field maps to which HTCDS field and
//! what has none.
//!
//! This is personal data leaving the platform. Only the organisation's administrator
//! exports, only the cases the organisation owns (not those shared with it), only within
//! [`REAUTH_WINDOW`] of giving the password again in the session
//! (`Services::reauthenticate`), and every exported case gets an `export` entry in its
//! audit trail. The administrator does not see the person on a case page (`domain::may`);
//! this export is the one deliberate exception, which is why it asks for the password
//! again and names every case in the log. A refused attempt (no re-authentication) is
//! logged too.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
//! a tab or a carriage return) are written with a leading `'` (OWASP, "CSV Injection").

use crate::data::Gender;
use crate::domain::{AuditAction, Invalid, Role, Section, Stage};
use crate::identification::{
    Control, DecidingBody, Elements, Exploitation, SmugglingStatus, TraffickingStatus,
};
use crate::service::audit::NewEntry;
use crate::service::auth::REAUTH_WINDOW;
use crate::service::{Actor, Result, Route, ServiceError, Services, at};
use crate::store::entity::{case, case_elements, person, smuggling_decision, trafficking_decision};
use crate::store::with_limit;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryTrait};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The standard and version the export follows.
pub const STANDARD: &str = "HTCDS 2.0";
/// Cases read per batch.
const BATCH: u64 = 1_000;

/// A column of the export: an HTCDS v2.0 field, or Passerelle's own name where HTCDS has
/// no field for what a case holds (docs/htcds.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HtcdsColumn {
    Reference,
    CaseStatus,
    Name,
    Birthdate,
    Gender,
    Nationality,
    Stateless,
    IsMinor,
    TraffickingStatus,
    TraffickingDecisionMaker,
    TypeOfExploitation,
    MethodsOfControl,
    CountryOfExploitation,
    SmugglingStatus,
}

impl HtcdsColumn {
    /// Every column, in the order of the export.
    pub const ALL: &'static [HtcdsColumn] = &[
        HtcdsColumn::Reference,
        HtcdsColumn::CaseStatus,
        HtcdsColumn::Name,
        HtcdsColumn::Birthdate,
        HtcdsColumn::Gender,
        HtcdsColumn::Nationality,
        HtcdsColumn::Stateless,
        HtcdsColumn::IsMinor,
        HtcdsColumn::TraffickingStatus,
        HtcdsColumn::TraffickingDecisionMaker,
        HtcdsColumn::TypeOfExploitation,
        HtcdsColumn::MethodsOfControl,
        HtcdsColumn::CountryOfExploitation,
        HtcdsColumn::SmugglingStatus,
    ];

    /// The column's name in the export: the HTCDS field name (`prs_Gender`), or
    /// Passerelle's (`reference`) where HTCDS has none.
    pub fn name(self) -> &'static str {
        match self {
            HtcdsColumn::Reference => "reference",
            HtcdsColumn::CaseStatus => "cas_Status",
            HtcdsColumn::Name => "name",
            HtcdsColumn::Birthdate => "prs_Birthdate",
            HtcdsColumn::Gender => "prs_Gender",
            HtcdsColumn::Nationality => "prs_Nationality",
            HtcdsColumn::Stateless => "stateless",
            HtcdsColumn::IsMinor => "is_minor",
            HtcdsColumn::TraffickingStatus => "vic_TraffickingStatus",
            HtcdsColumn::TraffickingDecisionMaker => {
                "vic_TraffickingStatusDecisionMakingOrganisation"
            }
            HtcdsColumn::TypeOfExploitation => "vic_TypeOfExploitation",
            HtcdsColumn::MethodsOfControl => "vic_MethodsOfControl",
            HtcdsColumn::CountryOfExploitation => "country_of_exploitation",
            HtcdsColumn::SmugglingStatus => "smuggling_status",
        }
    }

    /// Is the column an HTCDS field (else a Passerelle one, docs/htcds.md)?
    pub fn is_htcds(self) -> bool {
        !matches!(
            self,
            HtcdsColumn::Reference
                | HtcdsColumn::Name
                | HtcdsColumn::Stateless
                | HtcdsColumn::IsMinor
                | HtcdsColumn::CountryOfExploitation
                | HtcdsColumn::SmugglingStatus
        )
    }

    /// The part of the case the column reads (for the audit entry).
    pub fn section(self) -> Section {
        match self {
            HtcdsColumn::Reference | HtcdsColumn::CaseStatus => Section::Summary,
            HtcdsColumn::Name
            | HtcdsColumn::Birthdate
            | HtcdsColumn::Gender
            | HtcdsColumn::Nationality
            | HtcdsColumn::Stateless
            | HtcdsColumn::IsMinor => Section::Person,
            HtcdsColumn::TraffickingStatus
            | HtcdsColumn::TraffickingDecisionMaker
            | HtcdsColumn::TypeOfExploitation
            | HtcdsColumn::MethodsOfControl
            | HtcdsColumn::CountryOfExploitation
            | HtcdsColumn::SmugglingStatus => Section::Identification,
        }
    }

    pub fn parse(s: &str) -> Option<HtcdsColumn> {
        let s = s.trim();
        HtcdsColumn::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }

    /// The columns asked for, in the export's order, each once; `None` is every column.
    /// An unknown name is refused, naming it; so is an empty choice.
    pub fn parse_set(names: Option<&[String]>) -> Result<Vec<HtcdsColumn>, Invalid> {
        let Some(names) = names else {
            return Ok(HtcdsColumn::ALL.to_vec());
        };
        let mut unknown = Vec::new();
        let mut chosen = Vec::new();
        for n in names.iter().filter(|n| !n.trim().is_empty()) {
            match HtcdsColumn::parse(n) {
                Some(c) => chosen.push(c),
                None => unknown.push(n.trim().chars().take(60).collect::<String>()),
            }
        }
        if !unknown.is_empty() {
            return Err(Invalid::new(
                "columns",
                format!(
                    "unknown columns: {}; the columns are: {}",
                    unknown.join(", "),
                    HtcdsColumn::ALL
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if chosen.is_empty() {
            return Err(Invalid::new("columns", "choose at least one column"));
        }
        chosen.sort_unstable();
        chosen.dedup();
        Ok(chosen)
    }
}

/// The two formats of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtcdsFormat {
    Json,
    Csv,
}

impl HtcdsFormat {
    /// `json` or `csv` (absent: JSON).
    pub fn parse(s: Option<&str>) -> Result<HtcdsFormat, Invalid> {
        match s.map(str::trim) {
            None | Some("" | "json") => Ok(HtcdsFormat::Json),
            Some("csv") => Ok(HtcdsFormat::Csv),
            Some(_) => Err(Invalid::new("format", "must be json or csv")),
        }
    }
}

// ---- The vocabulary -------------------------------------------------------------------

/// `vic_TypeOfExploitation`: the HTCDS value of a type of exploitation. Forced
/// criminality is not in HTCDS v2.0 (HTCDS issue #28 asks for it): it keeps its own name.
pub fn exploitation_value(e: Exploitation) -> &'static str {
    match e {
        Exploitation::ForcedLabour => "ForcedLabour",
        Exploitation::SexualExploitation => "SexualExploitation",
        Exploitation::ChildLabour => "ChildLabour",
        Exploitation::ForcedMarriage => "ForcedMarriage",
        Exploitation::Servitude => "Servitude",
        Exploitation::ForcedMilitaryByNonStateActors => "ForcedMilitaryByNonStateActors",
        Exploitation::OrganRemoval => "OrganRemoval",
        Exploitation::ForcedBegging => "ForcedBegging",
        Exploitation::ForcedAdoption => "ForcedAdoption",
        Exploitation::Surrogacy => "Surrogacy",
        Exploitation::ForcedCriminality => "ForcedCriminality",
        Exploitation::Other => "Other",
    }
}

/// `vic_MethodsOfControl`: the HTCDS value of a method of control. Threats to the family
/// are HTCDS's `Threats` (harm to the individual "or another"); isolation is part of
/// HTCDS's `RestrictsMovement` (which includes restricting access to support networks).
pub fn control_value(c: Control) -> &'static str {
    match c {
        Control::DebtBondage => "DebtBondage",
        Control::TakesEarnings => "TakesEarnings",
        Control::WithholdsDocuments => "WithholdsDocuments",
        Control::ThreatsLawEnforcement => "ThreatOfLawEnforcement",
        Control::ThreatsToFamily => "Threats",
        Control::PhysicalAbuse => "PhysicalAbuse",
        Control::SexualAbuse => "SexualAbuse",
        Control::PsychologicalAbuse => "PsychologicalAbuse",
        Control::RestrictsMovement | Control::Isolation => "RestrictsMovement",
        Control::PsychoactiveSubstances => "PsychoactiveSubstances",
        Control::FalsePromises => "FalsePromises",
        Control::Other => "Other",
    }
}

/// `prs_Gender` (HTCDS v1.0 and later, the IOM values).
pub fn gender_value(g: Gender) -> &'static str {
    match g {
        Gender::Female => "Feminine",
        Gender::Male => "Masculine",
        Gender::Other => "NonConforming",
        Gender::Unknown => "NonSpecifiedUnknown",
    }
}

/// `vic_TraffickingStatus`. A reasonable-grounds decision (presumed) is not yet a
/// determination that the person is a victim: it is HTCDS's possible victim.
pub fn trafficking_status_value(s: TraffickingStatus) -> &'static str {
    match s {
        TraffickingStatus::Possible | TraffickingStatus::Presumed => "PossibleVictimOfTrafficking",
        TraffickingStatus::Confirmed => "ActualVictimOfTrafficking",
        TraffickingStatus::NotAVictim => "NotAVictimOfTrafficking",
    }
}

/// The type of organisation that made the trafficking decision (HTCDS: Police, NGO,
/// CourtOrProsecution…); the bodies HTCDS has no type for are `Other`.
pub fn deciding_body_value(b: DecidingBody) -> &'static str {
    match b {
        DecidingBody::Police => "Police",
        DecidingBody::Prosecution | DecidingBody::Court => "CourtOrProsecution",
        DecidingBody::Ngo => "NGO",
        DecidingBody::ImmigrationAuthority
        | DecidingBody::LabourInspectorate
        | DecidingBody::NationalReferralMechanism
        | DecidingBody::Other => "Other",
    }
}

/// `cas_Status`: Active, FollowUp, Closed or ClosedReferred.
pub fn case_status_value(stage: Stage, close_status: Option<&str>) -> &'static str {
    match (stage, close_status) {
        (Stage::Closed, Some("closed_referred")) => "ClosedReferred",
        (Stage::Closed, _) => "Closed",
        (Stage::FollowUp, _) => "FollowUp",
        _ => "Active",
    }
}

// ---- The export -----------------------------------------------------------------------

/// The export: its columns and one object per case, keyed by column name (a multi-select
/// field is a list; a value not recorded is null).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HtcdsExport {
    /// "HTCDS 2.0".
    pub standard: &'static str,
    pub columns: Vec<&'static str>,
    #[schema(value_type = Vec<Object>)]
    pub cases: Vec<Map<String, Value>>,
}

impl HtcdsExport {
    /// The same as CSV: a header row of the column names, one row per case; a list is its
    /// values joined by `;`, a value not recorded an empty cell; formula-leading cells
    /// escaped.
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let unexpected = |e: csv::Error| ServiceError::Unexpected(anyhow::anyhow!("csv: {e}"));
        w.write_record(&self.columns).map_err(unexpected)?;
        for c in &self.cases {
            let cells: Vec<String> = self
                .columns
                .iter()
                .map(|name| csv_cell(c.get(*name).unwrap_or(&Value::Null)))
                .collect();
            w.write_record(&cells).map_err(unexpected)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("csv: {e}")))?;
        String::from_utf8(bytes).map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("csv: {e}")))
    }
}

/// One cell of the CSV: text as is, lists joined by `;`, booleans `true`/`false`, null
/// empty; then escaped against formula injection.
fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    };
    escape_formula(text)
}

/// A cell a spreadsheet would run as a formula gets a leading `'`.
pub fn escape_formula(s: String) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s,
    }
}

/// What of one case the export may need, decrypted.
struct CaseData<'a> {
    case: &'a case::Model,
    person: Option<&'a person::Model>,
    elements: Option<Elements>,
    trafficking: Option<&'a trafficking_decision::Model>,
    smuggling: Option<&'a smuggling_decision::Model>,
}

/// May this role export its organisation's cases in HTCDS?
pub fn may_export_htcds(role: Role) -> bool {
    role == Role::OrgAdmin
}

impl Services {
    /// Export the actor's organisation's cases in HTCDS (see the module). `session_id` is
    /// the caller's session, which must have been re-authenticated within
    /// [`REAUTH_WINDOW`]; `columns` is the choice (`None`: all).
    pub async fn export_htcds(
        &self,
        actor: &Actor,
        session_id: i64,
        columns: Option<&[String]>,
        route: Route<'_>,
    ) -> Result<HtcdsExport> {
        if !may_export_htcds(actor.role) {
            return Err(ServiceError::Forbidden(
                "only the organisation's administrator exports its cases".into(),
            ));
        }
        let columns = HtcdsColumn::parse_set(columns)?;
        if self.reauthenticated_until(session_id).await?.is_none() {
            self.audit.offer(vec![NewEntry::by(
                actor,
                None,
                Section::Caseload,
                AuditAction::Refused,
                route,
            )]);
            return Err(ServiceError::Forbidden(format!(
                "re-authenticate first: give your password again (POST /api/v1/session/reauth); it holds {} minutes",
                REAUTH_WINDOW.num_minutes()
            )));
        }
        let needs = |s: Section| columns.iter().any(|c| c.section() == s);
        let section = if needs(Section::Person) {
            Section::Person
        } else if needs(Section::Identification) {
            Section::Identification
        } else {
            Section::Summary
        };
        let backend = self.db.get_database_backend();
        let mut cases_out = Vec::new();
        let mut entries = Vec::new();
        let mut after = 0i64;
        loop {
            let st = with_limit(
                case::Entity::find()
                    .filter(case::Column::OwnerOrgId.eq(actor.org_id))
                    // An erased case has no personal data left to exchange.
                    .filter(case::Column::ErasedAt.is_null())
                    .filter(case::Column::Id.gt(after))
                    .order_by_asc(case::Column::Id)
                    .build(backend),
                BATCH,
                0,
            );
            let cases = case::Model::find_by_statement(st).all(&self.db).await?;
            let Some(last) = cases.last() else { break };
            after = last.id;
            let full = cases.len() as u64 == BATCH;
            let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
            let persons: HashMap<String, person::Model> = if needs(Section::Person) {
                person::Entity::find()
                    .filter(person::Column::Id.is_in(cases.iter().map(|c| c.person_id.clone())))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|p| (p.id.clone(), p))
                    .collect()
            } else {
                HashMap::new()
            };
            let want = |c: HtcdsColumn| columns.contains(&c);
            let elements: HashMap<i64, case_elements::Model> =
                if want(HtcdsColumn::TypeOfExploitation)
                    || want(HtcdsColumn::MethodsOfControl)
                    || want(HtcdsColumn::CountryOfExploitation)
                {
                    case_elements::Entity::find()
                        .filter(case_elements::Column::CaseId.is_in(ids.clone()))
                        .all(&self.db)
                        .await?
                        .into_iter()
                        .map(|e| (e.case_id, e))
                        .collect()
                } else {
                    HashMap::new()
                };
            // The latest decision of each case (the last recorded wins).
            let mut trafficking: HashMap<i64, trafficking_decision::Model> = HashMap::new();
            if want(HtcdsColumn::TraffickingStatus) || want(HtcdsColumn::TraffickingDecisionMaker) {
                for d in trafficking_decision::Entity::find()
                    .filter(trafficking_decision::Column::CaseId.is_in(ids.clone()))
                    .order_by_asc(trafficking_decision::Column::RecordedAt)
                    .all(&self.db)
                    .await?
                {
                    trafficking.insert(d.case_id, d);
                }
            }
            let mut smuggling: HashMap<i64, smuggling_decision::Model> = HashMap::new();
            if want(HtcdsColumn::SmugglingStatus) {
                for d in smuggling_decision::Entity::find()
                    .filter(smuggling_decision::Column::CaseId.is_in(ids.clone()))
                    .order_by_asc(smuggling_decision::Column::RecordedAt)
                    .all(&self.db)
                    .await?
                {
                    smuggling.insert(d.case_id, d);
                }
            }
            for c in &cases {
                let elements = match elements.get(&c.id) {
                    Some(e) => Some(self.open_elements(c.id, e)?),
                    None => None,
                };
                let data = CaseData {
                    case: c,
                    person: persons.get(&c.person_id),
                    elements,
                    trafficking: trafficking.get(&c.id),
                    smuggling: smuggling.get(&c.id),
                };
                cases_out.push(self.htcds_case(&columns, &data)?);
                entries.push(NewEntry::by(
                    actor,
                    Some(&c.reference),
                    section,
                    AuditAction::Export,
                    route,
                ));
            }
            if !full {
                break;
            }
        }
        // Every case exported is in its trail before anything leaves.
        self.audit.record(entries).await?;
        tracing::info!(
            cases = cases_out.len(),
            columns = columns.len(),
            "HTCDS export"
        );
        Ok(HtcdsExport {
            standard: STANDARD,
            columns: columns.iter().map(|c| c.name()).collect(),
            cases: cases_out,
        })
    }

    fn open_elements(&self, case_id: i64, e: &case_elements::Model) -> Result<Elements> {
        let row = case_id.to_string();
        serde_json::from_slice(
            &self
                .keys
                .decrypt(at("case_elements", "elements", &row), &e.elements_enc)?,
        )
        .map_err(|_| {
            ServiceError::Integrity(crate::crypto::CryptoError::Integrity {
                table: "case_elements",
                column: "elements",
            })
        })
    }

    /// One case as the chosen columns say it.
    fn htcds_case(&self, columns: &[HtcdsColumn], d: &CaseData<'_>) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        let stored = |what: &str, e: Invalid| {
            ServiceError::Unexpected(anyhow::anyhow!("stored {what}: {e}"))
        };
        for col in columns {
            let p = d.person;
            let pid = p.map(|p| p.id.as_str()).unwrap_or_default();
            let v = match col {
                HtcdsColumn::Reference => json!(d.case.reference),
                HtcdsColumn::CaseStatus => {
                    let stage = Stage::parse(&d.case.stage).map_err(|e| stored("stage", e))?;
                    json!(case_status_value(stage, d.case.close_status.as_deref()))
                }
                HtcdsColumn::Name => match p {
                    Some(p) => json!(
                        self.keys
                            .decrypt_string(at("persons", "name", pid), &p.name_enc)?
                    ),
                    None => Value::Null,
                },
                HtcdsColumn::Birthdate => {
                    let b =
                        self.open("birth_date", pid, p.and_then(|p| p.birth_date_enc.as_ref()))?;
                    // Stored as YYYY-MM-DD; checked so that nothing else leaves as a date.
                    match b {
                        Some(s) => json!(
                            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                                .map_err(|_| ServiceError::Integrity(
                                    crate::crypto::CryptoError::Integrity {
                                        table: "persons",
                                        column: "birth_date",
                                    }
                                ))?
                                .format("%Y-%m-%d")
                                .to_string()
                        ),
                        None => Value::Null,
                    }
                }
                HtcdsColumn::Gender => {
                    match self.open_gender(pid, p.and_then(|p| p.gender_enc.as_ref()))? {
                        Some(g) => json!(gender_value(g)),
                        None => Value::Null,
                    }
                }
                HtcdsColumn::Nationality => {
                    json!(self.open(
                        "nationality",
                        pid,
                        p.and_then(|p| p.nationality_enc.as_ref())
                    )?)
                }
                HtcdsColumn::Stateless => json!(p.map(|p| p.stateless)),
                HtcdsColumn::IsMinor => json!(p.map(|p| p.is_minor)),
                HtcdsColumn::TraffickingStatus => match d.trafficking {
                    Some(t) => json!(trafficking_status_value(
                        TraffickingStatus::parse(&t.status).map_err(|e| stored("status", e))?
                    )),
                    None => Value::Null,
                },
                HtcdsColumn::TraffickingDecisionMaker => match d.trafficking {
                    Some(t) => json!(deciding_body_value(
                        DecidingBody::parse(&t.deciding_body).unwrap_or(DecidingBody::Other)
                    )),
                    None => Value::Null,
                },
                HtcdsColumn::TypeOfExploitation => json!(
                    d.elements
                        .as_ref()
                        .map(|e| e
                            .purposes
                            .iter()
                            .map(|x| exploitation_value(*x))
                            .collect::<Vec<_>>())
                        .unwrap_or_default()
                ),
                HtcdsColumn::MethodsOfControl => {
                    // Two of ours can be one HTCDS value (isolation, restricted movement).
                    let mut values: Vec<&str> = Vec::new();
                    for x in d.elements.iter().flat_map(|e| e.controls.iter()) {
                        let v = control_value(*x);
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    }
                    json!(values)
                }
                HtcdsColumn::CountryOfExploitation => json!(
                    d.elements
                        .as_ref()
                        .and_then(|e| e.country_of_exploitation.clone())
                ),
                HtcdsColumn::SmugglingStatus => match d.smuggling {
                    Some(s) => json!(
                        SmugglingStatus::parse(&s.status)
                            .map_err(|e| stored("status", e))?
                            .as_str()
                    ),
                    None => Value::Null,
                },
            };
            out.insert(col.name().to_owned(), v);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_chosen_by_name_and_unknown_ones_are_named() {
        assert_eq!(
            HtcdsColumn::parse_set(None).map(|c| c.len()),
            Ok(HtcdsColumn::ALL.len())
        );
        let chosen = HtcdsColumn::parse_set(Some(&[
            "vic_MethodsOfControl".into(),
            "prs_gender".into(),
            "vic_MethodsOfControl".into(),
        ]));
        assert_eq!(
            chosen,
            Ok(vec![HtcdsColumn::Gender, HtcdsColumn::MethodsOfControl])
        );
        let e = HtcdsColumn::parse_set(Some(&[
            "prs_Gender".into(),
            "eye_colour".into(),
            "x".into(),
        ]))
        .err();
        assert_eq!(e.as_ref().map(|e| e.field), Some("columns"));
        let m = e.map(|e| e.message).unwrap_or_default();
        assert!(m.contains("eye_colour, x"), "{m}");
        assert_eq!(
            HtcdsColumn::parse_set(Some(&[])).err().map(|e| e.field),
            Some("columns")
        );
        // Names are unique, and HTCDS ones are told apart from ours.
        let mut names: Vec<&str> = HtcdsColumn::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), HtcdsColumn::ALL.len());
        assert!(HtcdsColumn::Gender.is_htcds() && HtcdsColumn::TypeOfExploitation.is_htcds());
        assert!(
            !HtcdsColumn::Reference.is_htcds() && !HtcdsColumn::CountryOfExploitation.is_htcds()
        );
        assert!(!HtcdsColumn::SmugglingStatus.is_htcds() && !HtcdsColumn::IsMinor.is_htcds());
    }

    #[test]
    fn every_value_has_an_htcds_name() {
        for e in Exploitation::ALL {
            let v = exploitation_value(*e);
            assert!(
                v.chars().all(|c| c.is_ascii_alphabetic()) && v.starts_with(char::is_uppercase),
                "{v}"
            );
        }
        for c in Control::ALL {
            let v = control_value(*c);
            assert!(
                v.chars().all(|c| c.is_ascii_alphabetic()) && v.starts_with(char::is_uppercase),
                "{v}"
            );
        }
        assert_eq!(
            control_value(Control::ThreatsLawEnforcement),
            "ThreatOfLawEnforcement"
        );
        assert_eq!(gender_value(Gender::Female), "Feminine");
        assert_eq!(
            trafficking_status_value(TraffickingStatus::Confirmed),
            "ActualVictimOfTrafficking"
        );
        assert_eq!(
            trafficking_status_value(TraffickingStatus::Presumed),
            "PossibleVictimOfTrafficking"
        );
        assert_eq!(
            case_status_value(Stage::Closed, Some("closed_referred")),
            "ClosedReferred"
        );
        assert_eq!(case_status_value(Stage::FollowUp, None), "FollowUp");
        assert_eq!(case_status_value(Stage::Protection, None), "Active");
        assert_eq!(
            deciding_body_value(DecidingBody::Court),
            "CourtOrProsecution"
        );
    }

    #[test]
    fn the_format_is_json_or_csv() {
        assert_eq!(HtcdsFormat::parse(None), Ok(HtcdsFormat::Json));
        assert_eq!(HtcdsFormat::parse(Some("csv")), Ok(HtcdsFormat::Csv));
        assert_eq!(
            HtcdsFormat::parse(Some("xlsx")).err().map(|e| e.field),
            Some("format")
        );
    }

    #[test]
    fn the_csv_has_the_names_lists_and_no_formula() {
        let mut case = Map::new();
        case.insert("name".into(), json!("=HYPERLINK(\"x\")"));
        case.insert(
            "vic_MethodsOfControl".into(),
            json!(["DebtBondage", "WithholdsDocuments"]),
        );
        case.insert("prs_Gender".into(), Value::Null);
        case.insert("stateless".into(), json!(false));
        let e = HtcdsExport {
            standard: STANDARD,
            columns: vec!["name", "vic_MethodsOfControl", "prs_Gender", "stateless"],
            cases: vec![case],
        };
        let csv = e.to_csv().unwrap_or_default();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("name,vic_MethodsOfControl,prs_Gender,stateless")
        );
        assert_eq!(
            lines.next(),
            Some("\"'=HYPERLINK(\"\"x\"\")\",DebtBondage;WithholdsDocuments,,false")
        );
        for s in ["+1", "-1", "@a", "\tx", "\rx"] {
            assert!(escape_formula(s.into()).starts_with('\''), "{s:?}");
        }
        assert_eq!(escape_formula("+".into()), "'+");
        assert_eq!(escape_formula("Amina".into()), "Amina");
    }
}
