//! Persons and cases: creation, reading (audited, per section), editing with version
//! checks, moving along the care track, closing. The rest of the area is in its parts:
//! `access` (the one door: relation, load_for), `caseload` (the caseload and the search
//! by exact name), `consents` (consents and shares), `trail` (a case's audit trail).

mod access;
mod caseload;
mod closing;
mod consents;
mod trail;

pub use caseload::{CasePage, PersonLabel, Scope, caseload_page_statement};
pub use closing::CloseInput;
pub(crate) use consents::consent_of_case;
pub use consents::{ConsentInput, ConsentView, ShareView, WithdrawalEffects, WithdrawalInput};

use super::audit::{NewEntry, TrailPage, TrailRow, append_in, commit_audited};
use super::{Actor, Result, Route, ServiceError, Services};
use crate::crypto::{FieldLocation, random_token};
use crate::data::Gender;
use crate::domain::{
    self, AuditAction, CaseAction, CaseEvent, CaseRef, ConsentGiver, CountryCode, Invalid, Purpose,
    Relation, Role, Section, Sections, Stage, may,
};
use crate::store::begin_write;
use crate::store::entity::{
    audit_log, case, consent, organisation, person, ref_counter, referral, return_case, share, user,
};
use crate::store::{First, with_limit};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult, IntoActiveModel, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use std::collections::HashMap;

/// Personal fields as typed by a user (form or JSON). Parsed by [`PersonInput::parse`].
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    pub name: String,
    #[serde(default)]
    pub aliases: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub stateless: bool,
    #[serde(default)]
    pub languages: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub is_minor: bool,
    /// female, male, other or unknown; empty: not recorded.
    #[serde(default)]
    pub gender: Option<String>,
}

/// Validated personal fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Person {
    pub name: String,
    pub aliases: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub nationality: Option<String>,
    pub stateless: bool,
    pub languages: Option<String>,
    pub contact: Option<String>,
    pub location: Option<String>,
    pub notes: Option<String>,
    pub is_minor: bool,
    pub gender: Option<Gender>,
}

impl PersonInput {
    pub fn parse(&self, today: NaiveDate) -> Result<Person, Invalid> {
        let name = domain::parse_line("name", &self.name, 200)?;
        let birth_date = match self.birth_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| Invalid::new("birth_date", "must be a date written YYYY-MM-DD"))?;
                if d > today {
                    return Err(Invalid::new("birth_date", "cannot be in the future"));
                }
                if d.year() < 1900 {
                    return Err(Invalid::new("birth_date", "must be after 1900"));
                }
                Some(d)
            }
        };
        let nationality = match self.nationality.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(
                CountryCode::parse(s)
                    .map_err(|_| {
                        Invalid::new(
                            "nationality",
                            "must be a two-letter ISO 3166-1 code such as NG",
                        )
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let gender = match self.gender.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) => Some(Gender::parse(g)?),
        };
        if self.stateless && nationality.is_some() {
            return Err(Invalid::new(
                "nationality",
                "a stateless person has no nationality: leave it empty",
            ));
        }
        Ok(Person {
            name,
            aliases: domain::parse_optional_text("aliases", self.aliases.as_deref(), 500)?,
            birth_date,
            nationality,
            stateless: self.stateless,
            languages: domain::parse_optional_text("languages", self.languages.as_deref(), 200)?,
            contact: domain::parse_optional_text("contact", self.contact.as_deref(), 500)?,
            location: domain::parse_optional_text("location", self.location.as_deref(), 500)?,
            notes: domain::parse_optional_text("notes", self.notes.as_deref(), 10_000)?,
            is_minor: self.is_minor,
            gender,
        })
    }
}

/// What anyone who may see a case sees: no personal data.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub reference: String,
    pub stage: Stage,
    pub owner_org_id: i64,
    pub owner_org: String,
    pub advocate_user_id: Option<i64>,
    pub advocate: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// "owner" or "shared": how the caller's organisation relates to the case.
    pub access: &'static str,
    /// When the case was closed (it is then read-only), with its outcome.
    pub closed_at: Option<DateTime<Utc>>,
    /// HTCDS case status on closing: closed or closed_referred.
    pub close_status: Option<String>,
    pub close_reason: Option<String>,
    /// When the person's data were erased (the case is then an anonymous record), and why
    /// (person_request or retention_expired).
    pub erased_at: Option<DateTime<Utc>>,
    pub erasure_reason: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: Person,
    pub is_child: bool,
}

/// What the caller may do on this case, for the page to show only usable actions.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct Permissions {
    pub edit_person: bool,
    pub manage_consent: bool,
    pub share: bool,
    pub assign: bool,
    pub view_audit: bool,
    pub view_identification: bool,
    pub edit_identification: bool,
    /// The care page: services, placements and (for the owner) referrals.
    pub view_care: bool,
    pub view_services: bool,
    pub edit_services: bool,
    pub view_placement: bool,
    pub edit_placement: bool,
    pub refer: bool,
    pub view_proceedings: bool,
    pub edit_proceedings: bool,
    pub view_return: bool,
    pub edit_return: bool,
    pub approve_return: bool,
    pub view_deadlines: bool,
    /// The case is open (a closed case is read-only).
    pub close: bool,
    /// The follow-up after return (the follow-up service).
    pub view_follow_up: bool,
    /// What the follow-up's alerts say (the destination side: category and severity).
    pub view_alerts: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub summary: CaseSummary,
    pub person: Option<PersonView>,
    pub consents: Option<Vec<ConsentView>>,
    pub shares: Option<Vec<ShareView>>,
    pub permissions: Permissions,
    /// Set when the person's data were erased: the case shows this instead of them.
    pub erasure: Option<crate::service::erasure::ErasureView>,
}

const PERSONS: &str = "persons";

fn loc<'a>(column: &'static str, row: &'a str) -> FieldLocation<'a> {
    FieldLocation {
        table: PERSONS,
        column,
        row,
    }
}

fn stored_stage(s: &str) -> Result<Stage> {
    Stage::parse(s).map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored stage: {e}")))
}

/// A case as a list shows it, with the names of its organisation and advocate
/// (`None` when missing).
#[derive(Debug, FromQueryResult)]
struct SummaryRow {
    reference: String,
    stage: String,
    owner_org_id: i64,
    advocate_user_id: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    owner_org: Option<String>,
    advocate: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    close_status: Option<String>,
    close_reason: Option<String>,
    erased_at: Option<DateTime<Utc>>,
    erasure_reason: Option<String>,
}

fn summary_of(actor: &Actor, r: SummaryRow) -> Result<CaseSummary> {
    Ok(CaseSummary {
        stage: stored_stage(&r.stage)?,
        owner_org: r.owner_org.unwrap_or_default(),
        advocate: r.advocate,
        access: if r.owner_org_id == actor.org_id {
            "owner"
        } else {
            "shared"
        },
        reference: r.reference,
        owner_org_id: r.owner_org_id,
        advocate_user_id: r.advocate_user_id,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
        closed_at: r.closed_at,
        close_status: r.close_status,
        close_reason: r.close_reason,
        erased_at: r.erased_at,
        erasure_reason: r.erasure_reason,
    })
}

impl Services {
    /// Seal a person's field with the data key of `org`, the owner of the person's case.
    pub(crate) fn seal(
        &self,
        org: i64,
        column: &'static str,
        row: &str,
        v: Option<&str>,
    ) -> Result<Option<Vec<u8>>> {
        Ok(match v {
            Some(s) => Some(self.keys.encrypt_str_for(Some(org), loc(column, row), s)?),
            None => None,
        })
    }

    pub(crate) fn open(
        &self,
        column: &'static str,
        row: &str,
        v: Option<&Vec<u8>>,
    ) -> Result<Option<String>> {
        Ok(match v {
            Some(b) => Some(self.keys.decrypt_string(loc(column, row), b)?),
            None => None,
        })
    }

    /// The person's row, sealed with the data key of `org`: the organisation that owns
    /// (or will own) the person's case.
    fn person_model(
        &self,
        org: i64,
        id: &str,
        p: &Person,
        created_at: DateTime<Utc>,
    ) -> Result<person::ActiveModel> {
        Ok(person::ActiveModel {
            id: Set(id.to_owned()),
            name_enc: Set(self
                .keys
                .encrypt_str_for(Some(org), loc("name", id), &p.name)?),
            name_idx: Set(self.keys.blind_index("person-name", &p.name)),
            aliases_enc: Set(self.seal(org, "aliases", id, p.aliases.as_deref())?),
            birth_date_enc: Set(self.seal(
                org,
                "birth_date",
                id,
                p.birth_date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .as_deref(),
            )?),
            nationality_enc: Set(self.seal(org, "nationality", id, p.nationality.as_deref())?),
            stateless: Set(p.stateless),
            languages_enc: Set(self.seal(org, "languages", id, p.languages.as_deref())?),
            contact_enc: Set(self.seal(org, "contact", id, p.contact.as_deref())?),
            location_enc: Set(self.seal(org, "location", id, p.location.as_deref())?),
            notes_enc: Set(self.seal(org, "notes", id, p.notes.as_deref())?),
            is_minor: Set(p.is_minor),
            gender_enc: Set(self.seal(org, "gender", id, p.gender.map(Gender::as_str))?),
            created_at: Set(created_at),
        })
    }

    fn decrypt_person(&self, m: &person::Model) -> Result<PersonView> {
        let id = m.id.as_str();
        let birth_date = match self.open("birth_date", id, m.birth_date_enc.as_ref())? {
            Some(s) => Some(NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
                ServiceError::Integrity(crate::crypto::CryptoError::Integrity {
                    table: PERSONS,
                    column: "birth_date",
                })
            })?),
            None => None,
        };
        let person = Person {
            name: self.keys.decrypt_string(loc("name", id), &m.name_enc)?,
            aliases: self.open("aliases", id, m.aliases_enc.as_ref())?,
            birth_date,
            nationality: self.open("nationality", id, m.nationality_enc.as_ref())?,
            stateless: m.stateless,
            languages: self.open("languages", id, m.languages_enc.as_ref())?,
            contact: self.open("contact", id, m.contact_enc.as_ref())?,
            location: self.open("location", id, m.location_enc.as_ref())?,
            notes: self.open("notes", id, m.notes_enc.as_ref())?,
            is_minor: m.is_minor,
            gender: self.open_gender(id, m.gender_enc.as_ref())?,
        };
        let is_child =
            domain::is_child(person.birth_date, person.is_minor, Utc::now().date_naive());
        Ok(PersonView { person, is_child })
    }

    /// The stored gender (`None`: not recorded); a value that is not one of the vocabulary
    /// is an integrity failure, never silently dropped.
    pub(crate) fn open_gender(&self, row: &str, v: Option<&Vec<u8>>) -> Result<Option<Gender>> {
        self.open("gender", row, v)?
            .map(|g| {
                Gender::parse(&g).map_err(|_| {
                    ServiceError::Integrity(crate::crypto::CryptoError::Integrity {
                        table: PERSONS,
                        column: "gender",
                    })
                })
            })
            .transpose()
    }

    pub(crate) async fn summaries<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        cases: Vec<case::Model>,
    ) -> Result<Vec<CaseSummary>> {
        let mut org_ids: Vec<i64> = cases.iter().map(|c| c.owner_org_id).collect();
        org_ids.sort_unstable();
        org_ids.dedup();
        let mut user_ids: Vec<i64> = cases.iter().filter_map(|c| c.advocate_user_id).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let orgs: HashMap<i64, String> = if org_ids.is_empty() {
            HashMap::new()
        } else {
            organisation::Entity::find()
                .filter(organisation::Column::Id.is_in(org_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect()
        };
        let users: HashMap<i64, String> = if user_ids.is_empty() {
            HashMap::new()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(user_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.display_name))
                .collect()
        };
        cases
            .into_iter()
            .map(|c| {
                summary_of(
                    actor,
                    SummaryRow {
                        owner_org: orgs.get(&c.owner_org_id).cloned(),
                        advocate: c.advocate_user_id.and_then(|u| users.get(&u).cloned()),
                        reference: c.reference,
                        stage: c.stage,
                        owner_org_id: c.owner_org_id,
                        advocate_user_id: c.advocate_user_id,
                        version: c.version,
                        created_at: c.created_at,
                        updated_at: c.updated_at,
                        closed_at: c.closed_at,
                        close_status: c.close_status,
                        close_reason: c.close_reason,
                        erased_at: c.erased_at,
                        erasure_reason: c.erasure_reason,
                    },
                )
            })
            .collect()
    }

    /// The advocate must be an active advocate of the owning organisation, or of an
    /// organisation the case is shared with on consent (`case_id` given).
    async fn check_advocate<C: ConnectionTrait>(
        &self,
        db: &C,
        org_id: i64,
        case_id: Option<i64>,
        user_id: i64,
    ) -> Result<()> {
        let bad = || -> ServiceError {
            Invalid::new(
                "advocate_user_id",
                "must be an active advocate of the owning organisation or of an organisation the case is shared with",
            )
            .into()
        };
        let Some(u) = user::Entity::find_by_id(user_id).first(db).await? else {
            return Err(bad());
        };
        if !u.active || u.role != Role::Advocate.as_str() {
            return Err(bad());
        }
        if u.org_id == org_id {
            return Ok(());
        }
        match case_id {
            Some(id) if self.sections_open_to(db, id, u.org_id).await?.is_some() => Ok(()),
            _ => Err(bad()),
        }
    }

    /// Create a person and their case, owned by the actor's organisation.
    pub async fn create_case(
        &self,
        actor: &Actor,
        input: &PersonInput,
        advocate_user_id: Option<i64>,
        route: Route<'_>,
    ) -> Result<CaseSummary> {
        if !domain::may_create_case(actor.role) {
            return Err(ServiceError::Forbidden(
                "your role cannot open cases".into(),
            ));
        }
        let now = Utc::now();
        let person = input.parse(now.date_naive())?;
        let advocate = advocate_user_id.or((actor.role == Role::Advocate).then_some(actor.user_id));
        let txn = begin_write(&self.db).await?;
        if let Some(a) = advocate {
            self.check_advocate(&txn, actor.org_id, None, a).await?;
        }
        let created = self
            .insert_case_in(&txn, actor, &person, advocate, now)
            .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(created.reference.as_str()),
                Section::Person,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        self.summaries(&self.db, actor, vec![created])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("created case vanished")))
    }

    /// Insert a person (fields encrypted, name blind-indexed) and their case, owned by the
    /// actor's organisation, with the next reference, in `txn`. The caller has checked the
    /// role and the advocate, and appends the audit entry.
    pub(crate) async fn insert_case_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        person: &Person,
        advocate: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<case::Model> {
        let person_id = random_token(16)?;
        let person_row = self.person_model(actor.org_id, &person_id, person, now)?;
        let reference = next_reference(txn, now.year()).await?;
        person_row.insert(txn).await?;
        Ok(case::ActiveModel {
            reference: Set(reference.as_str().into()),
            person_id: Set(person_id),
            owner_org_id: Set(actor.org_id),
            advocate_user_id: Set(advocate),
            stage: Set(Stage::Referred.as_str().into()),
            version: Set(1),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    }

    /// Insert many persons and their cases at once (the caseload import), each as
    /// [`Self::insert_case_in`] inserts one: encrypted, blind-indexed, owned by the actor's
    /// organisation, with consecutive references reserved in one counter update, and
    /// written in multi-row inserts. The references, in the order of `people`.
    pub(crate) async fn insert_cases_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        people: &[(&Person, Option<i64>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let refs = reserve_references(txn, now.year(), people.len()).await?;
        let mut persons = Vec::with_capacity(people.len());
        let mut cases = Vec::with_capacity(people.len());
        for ((person, advocate), reference) in people.iter().zip(&refs) {
            let person_id = random_token(16)?;
            persons.push(self.person_model(actor.org_id, &person_id, person, now)?);
            cases.push(case::ActiveModel {
                reference: Set(reference.as_str().into()),
                person_id: Set(person_id),
                owner_org_id: Set(actor.org_id),
                advocate_user_id: Set(*advocate),
                stage: Set(Stage::Referred.as_str().into()),
                version: Set(1),
                created_by: Set(actor.user_id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
        // A hundred rows a statement keeps well under SQLite's bound parameters.
        for chunk in persons.chunks(100) {
            person::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
        for chunk in cases.chunks(100) {
            case::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(txn)
                .await?;
        }
        Ok(refs.iter().map(|r| r.as_str().to_owned()).collect())
    }

    /// Read a case: every section the actor may see, each read audited before it is returned.
    pub async fn get_case(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<CaseView> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Summary),
                route,
            )
            .await?;
        let role = actor.role;
        let erasure = self.erasure_view(&c).await?;
        let live = erasure.is_none();
        // An erased case shows its summary, its trail and how it was erased: nothing else.
        let can = |a| match a {
            CaseAction::ViewSection(Section::Summary | Section::Audit) => may(role, rel, a),
            _ => live && may(role, rel, a),
        };
        let open = c.closed_at.is_none();
        let edit = |a| open && can(a);
        let view = |s| can(CaseAction::ViewSection(s));
        let permissions = Permissions {
            edit_person: edit(CaseAction::EditPerson),
            manage_consent: edit(CaseAction::ManageConsent),
            share: edit(CaseAction::Share),
            assign: edit(CaseAction::Assign),
            view_audit: view(Section::Audit),
            view_identification: view(Section::Identification),
            edit_identification: edit(CaseAction::EditIdentification),
            view_care: view(Section::Services)
                || view(Section::Placement)
                || view(Section::Referrals),
            view_services: view(Section::Services),
            edit_services: edit(CaseAction::EditServices),
            view_placement: view(Section::Placement),
            edit_placement: edit(CaseAction::EditPlacement),
            refer: edit(CaseAction::Refer),
            view_proceedings: view(Section::Proceedings),
            edit_proceedings: edit(CaseAction::EditProceedings),
            view_return: view(Section::Return),
            edit_return: edit(CaseAction::EditReturn),
            approve_return: edit(CaseAction::ApproveReturn),
            view_deadlines: view(Section::Deadlines),
            close: edit(CaseAction::Close),
            view_follow_up: view(Section::FollowUp),
            view_alerts: view(Section::FollowUpAlerts),
        };
        let mut sections = vec![Section::Summary];
        let person = if can(CaseAction::ViewSection(Section::Person)) {
            let p = person::Entity::find_by_id(c.person_id.clone())
                .first(&self.db)
                .await?
                .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("case without person")))?;
            sections.push(Section::Person);
            Some(self.decrypt_person(&p)?)
        } else {
            None
        };
        let consents = if can(CaseAction::ViewSection(Section::Consents)) {
            sections.push(Section::Consents);
            Some(self.consents_of(c.id).await?)
        } else {
            None
        };
        let shares = if can(CaseAction::ViewSection(Section::Shares)) {
            sections.push(Section::Shares);
            Some(self.shares_of(c.id).await?)
        } else {
            None
        };
        let summary = self
            .summaries(&self.db, actor, vec![c])
            .await?
            .into_iter()
            .next();
        let summary =
            summary.ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("summary lost")))?;
        self.audit
            .record(
                sections
                    .into_iter()
                    .map(|s| {
                        NewEntry::by(actor, Some(&summary.reference), s, AuditAction::Read, route)
                    })
                    .collect(),
            )
            .await?;
        Ok(CaseView {
            summary,
            person,
            consents,
            shares,
            permissions,
            erasure,
        })
    }

    /// Bump the version if it is still `expected`: the optimistic lock.
    pub(crate) async fn bump_version<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
        expected: i64,
    ) -> Result<()> {
        if c.version != expected {
            return Err(stale(c.version));
        }
        let res = case::Entity::update_many()
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(case::Column::Id.eq(c.id))
            .filter(case::Column::Version.eq(expected))
            .exec(db)
            .await?;
        if res.rows_affected != 1 {
            return Err(stale(c.version));
        }
        Ok(())
    }

    /// Move the case along the care track after `event`, through the core rule
    /// [`domain::stage_after`]; the stage is never set any other way. The stage is no
    /// user's edit, so it leaves the version alone (an edit of the person opened before an
    /// interview started is not stale). Returns the new stage, if it changed.
    pub(crate) async fn advance_stage<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
        event: CaseEvent,
    ) -> Result<Option<Stage>> {
        let c = case::Entity::find_by_id(case_id)
            .first(db)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        let Some(next) = domain::stage_after(stored_stage(&c.stage)?, event) else {
            return Ok(None);
        };
        case::Entity::update_many()
            .col_expr(case::Column::Stage, Expr::value(next.as_str()))
            .col_expr(case::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(case::Column::Id.eq(c.id))
            .exec(db)
            .await?;
        Ok(Some(next))
    }

    /// Replace the person's fields. `expected_version` is the version the editor saw.
    pub async fn update_person(
        &self,
        actor: &Actor,
        reference: &str,
        expected_version: i64,
        input: &PersonInput,
        route: Route<'_>,
    ) -> Result<i64> {
        let person = input.parse(Utc::now().date_naive())?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditPerson, route)
            .await?;
        self.bump_version(&txn, &c, expected_version).await?;
        let existing = person::Entity::find_by_id(c.person_id.clone())
            .first(&txn)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("case without person")))?;
        let mut row =
            self.person_model(c.owner_org_id, &c.person_id, &person, existing.created_at)?;
        row.created_at = sea_orm::ActiveValue::Unchanged(existing.created_at);
        row.id = sea_orm::ActiveValue::Unchanged(c.person_id.clone());
        row.update(&txn).await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Person,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        Ok(expected_version + 1)
    }

    /// Assign (or unassign) the advocate.
    pub async fn assign_advocate(
        &self,
        actor: &Actor,
        reference: &str,
        expected_version: i64,
        advocate_user_id: Option<i64>,
        route: Route<'_>,
    ) -> Result<i64> {
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::Assign, route)
            .await?;
        if let Some(a) = advocate_user_id {
            self.check_advocate(&txn, c.owner_org_id, Some(c.id), a)
                .await?;
        }
        self.bump_version(&txn, &c, expected_version).await?;
        case::Entity::update_many()
            .col_expr(case::Column::AdvocateUserId, Expr::value(advocate_user_id))
            .filter(case::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Summary,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        Ok(expected_version + 1)
    }

    /// Organisations a case may be shared with (all active ones but the owner).
    pub async fn share_targets(&self, owner_org_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(organisation::Entity::find()
            .filter(organisation::Column::Active.eq(true))
            .filter(organisation::Column::Id.ne(owner_org_id))
            .order_by_asc(organisation::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect())
    }

    pub async fn count_cases(&self) -> Result<u64> {
        Ok(case::Entity::find().count(&self.db).await?)
    }
}

fn stale(current: i64) -> ServiceError {
    ServiceError::Conflict(format!(
        "this case was changed by someone else since you opened it (it is now at version {current}); reload it and apply your change again"
    ))
}

/// The next pseudonymous reference for a year, from a counter row (safe under concurrency:
/// called inside a write transaction).
async fn next_reference<C: ConnectionTrait>(txn: &C, year: i32) -> Result<CaseRef> {
    reserve_references(txn, year, 1)
        .await?
        .pop()
        .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("no reference reserved")))
}

/// Reserve `n` consecutive references of `year`, in `txn`.
async fn reserve_references<C: ConnectionTrait>(
    txn: &C,
    year: i32,
    n: usize,
) -> Result<Vec<CaseRef>> {
    let n = i64::try_from(n)
        .map_err(|_| ServiceError::Unexpected(anyhow::anyhow!("too many references")))?;
    // Make sure the year's row exists (a no-op when it does; concurrent first inserts wait
    // on the primary key instead of failing), then bump it: the UPDATE takes the row lock.
    ref_counter::Entity::insert(ref_counter::ActiveModel {
        year: Set(year),
        last: Set(0),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(ref_counter::Column::Year)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    ref_counter::Entity::update_many()
        .col_expr(
            ref_counter::Column::Last,
            Expr::col(ref_counter::Column::Last).add(n),
        )
        .filter(ref_counter::Column::Year.eq(year))
        .exec(txn)
        .await?;
    let row = ref_counter::Entity::find_by_id(year)
        .first(txn)
        .await?
        .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("reference counter vanished")))?;
    Ok((row.last - n + 1..=row.last)
        .map(|k| CaseRef::new(year, k))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default()
    }

    #[test]
    fn person_input_is_validated_with_field_names() {
        let mut p = PersonInput {
            name: "  Amina  ".into(),
            ..Default::default()
        };
        assert_eq!(p.parse(today()).map(|p| p.name), Ok("Amina".to_owned()));
        p.birth_date = Some("2030-01-01".into());
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("birth_date"));
        p.birth_date = Some("01/02/2000".into());
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("birth_date"));
        p.birth_date = None;
        p.nationality = Some("NG".into());
        p.stateless = true;
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("nationality"));
        p.stateless = false;
        p.nationality = Some("Nigeria".into());
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("nationality"));
        p.nationality = None;
        p.gender = Some("woman".into());
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("gender"));
        p.gender = Some(" female ".into());
        assert_eq!(p.parse(today()).map(|p| p.gender), Ok(Some(Gender::Female)));
        p.gender = Some(String::new());
        assert_eq!(p.parse(today()).map(|p| p.gender), Ok(None));
        p.name = " ".into();
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("name"));
    }
}
