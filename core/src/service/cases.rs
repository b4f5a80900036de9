//! Persons and cases: creation, reading (audited, per section), editing with version
//! checks, the caseload, search by exact name, consents and shares.

use super::audit::{NewEntry, TrailPage, TrailRow, append_in, commit_audited};
use super::{Actor, Result, Route, ServiceError, Services};
use crate::crypto::{FieldLocation, random_token};
use crate::domain::{
    self, AuditAction, CaseAction, CaseEvent, CaseRef, ConsentGiver, CountryCode, Invalid, Purpose, Relation,
    Role, Section, Sections, Stage, may,
};
use crate::store::begin_write;
use crate::store::entity::{
    audit_log, case, consent, organisation, person, ref_counter, referral, return_case, share, user,
};
use crate::store::{First, with_limit};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    EntityTrait, FromQueryResult, IntoActiveModel, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Statement,
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
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: Person,
    pub is_child: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    /// 32-character hex id.
    pub id: String,
    pub purpose: Purpose,
    pub given_by: ConsentGiver,
    pub language: String,
    pub form_version: String,
    pub consented_at: DateTime<Utc>,
    pub recorded_by: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub active: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShareView {
    /// 32-character hex id.
    pub id: String,
    pub org_id: i64,
    pub org: String,
    pub purpose: Purpose,
    /// The consent it rests on (its 32-character hex id).
    pub consent_id: String,
    pub created_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub active: bool,
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
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub summary: CaseSummary,
    pub person: Option<PersonView>,
    pub consents: Option<Vec<ConsentView>>,
    pub shares: Option<Vec<ShareView>>,
    pub permissions: Permissions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Cases where the caller is the assigned advocate.
    Mine,
    /// Cases the caller's organisation owns or that were shared with it.
    Organisation,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub pages: u64,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ConsentInput {
    pub purpose: String,
    pub given_by: String,
    pub language: String,
    pub form_version: String,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub consented_on: Option<String>,
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

/// Which cases a caseload scope lists for the actor (and the optional stage filter).
fn caseload_condition(actor: &Actor, scope: Scope, stage: Option<Stage>) -> Condition {
    let mut cond = match scope {
        Scope::Mine => Condition::all().add(case::Column::AdvocateUserId.eq(actor.user_id)),
        Scope::Organisation => {
            let mut any = Condition::any().add(case::Column::OwnerOrgId.eq(actor.org_id));
            // Shared cases are only for caseworkers (see domain::may).
            if actor.role.is_caseworker() {
                any = any.add(
                    case::Column::Id.in_subquery(
                        Query::select()
                            .column((share::Entity, share::Column::CaseId))
                            .from(share::Entity)
                            .inner_join(
                                consent::Entity,
                                Expr::col((consent::Entity, consent::Column::Id))
                                    .equals((share::Entity, share::Column::ConsentId)),
                            )
                            .and_where(
                                Expr::col((share::Entity, share::Column::OrgId)).eq(actor.org_id),
                            )
                            .and_where(Expr::col((share::Entity, share::Column::EndedAt)).is_null())
                            .and_where(
                                Expr::col((consent::Entity, consent::Column::WithdrawnAt))
                                    .is_null(),
                            )
                            .to_owned(),
                    ),
                );
                any = any.add(
                    case::Column::Id.in_subquery(
                        Query::select()
                            .column((referral::Entity, referral::Column::CaseId))
                            .from(referral::Entity)
                            .inner_join(
                                consent::Entity,
                                Expr::col((consent::Entity, consent::Column::Id))
                                    .equals((referral::Entity, referral::Column::ConsentId)),
                            )
                            .and_where(
                                Expr::col((referral::Entity, referral::Column::ToOrgId))
                                    .eq(actor.org_id),
                            )
                            .and_where(
                                Expr::col((referral::Entity, referral::Column::Status))
                                    .eq("accepted"),
                            )
                            .and_where(
                                Expr::col((consent::Entity, consent::Column::WithdrawnAt))
                                    .is_null(),
                            )
                            .to_owned(),
                    ),
                );
            }
            Condition::all().add(any)
        }
    };
    if let Some(s) = stage {
        cond = cond.add(case::Column::Stage.eq(s.as_str()));
    }
    cond
}

/// One page of a caseload, newest activity first, with the owning organisation's and the
/// advocate's names joined in (the [`SummaryRow`] columns): one query for the page. The
/// order matches the indexes `idx_cases_advocate_activity` and `idx_cases_owner_activity`,
/// so that the database reads the page's rows in order instead of sorting all the scope's
/// cases.
fn caseload_page(q: Select<case::Entity>) -> Select<case::Entity> {
    q.select_only()
        .columns([
            case::Column::Reference,
            case::Column::Stage,
            case::Column::OwnerOrgId,
            case::Column::AdvocateUserId,
            case::Column::Version,
            case::Column::CreatedAt,
            case::Column::UpdatedAt,
        ])
        .column_as(organisation::Column::Name, "owner_org")
        .column_as(user::Column::DisplayName, "advocate")
        .join(
            JoinType::LeftJoin,
            case::Entity::belongs_to(organisation::Entity)
                .from(case::Column::OwnerOrgId)
                .to(organisation::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            case::Entity::belongs_to(user::Entity)
                .from(case::Column::AdvocateUserId)
                .to(user::Column::Id)
                .into(),
        )
        .order_by_desc(case::Column::UpdatedAt)
        .order_by_desc(case::Column::Id)
}

/// The statement of a caseload page as [`Services::caseload`] runs it (`page` from 1; the
/// limit and offset written as literals, see [`crate::store::First`]), also for looking at
/// its plan (`EXPLAIN`) in tests and the benchmark.
pub fn caseload_page_statement(
    actor: &Actor,
    scope: Scope,
    stage: Option<Stage>,
    page: u64,
    per_page: u64,
    backend: DbBackend,
) -> Statement {
    let page = std::cmp::max(page, 1);
    with_limit(
        caseload_page(case::Entity::find().filter(caseload_condition(actor, scope, stage)))
            .build(backend),
        per_page,
        (page - 1).saturating_mul(per_page),
    )
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
    })
}

impl Services {
    pub(crate) fn seal(
        &self,
        column: &'static str,
        row: &str,
        v: Option<&str>,
    ) -> Result<Option<Vec<u8>>> {
        Ok(match v {
            Some(s) => Some(self.keys.encrypt_str(loc(column, row), s)?),
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

    fn person_model(
        &self,
        id: &str,
        p: &Person,
        created_at: DateTime<Utc>,
    ) -> Result<person::ActiveModel> {
        Ok(person::ActiveModel {
            id: Set(id.to_owned()),
            name_enc: Set(self.keys.encrypt_str(loc("name", id), &p.name)?),
            name_idx: Set(self.keys.blind_index("person-name", &p.name)),
            aliases_enc: Set(self.seal("aliases", id, p.aliases.as_deref())?),
            birth_date_enc: Set(self.seal(
                "birth_date",
                id,
                p.birth_date
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .as_deref(),
            )?),
            nationality_enc: Set(self.seal("nationality", id, p.nationality.as_deref())?),
            stateless: Set(p.stateless),
            languages_enc: Set(self.seal("languages", id, p.languages.as_deref())?),
            contact_enc: Set(self.seal("contact", id, p.contact.as_deref())?),
            location_enc: Set(self.seal("location", id, p.location.as_deref())?),
            notes_enc: Set(self.seal("notes", id, p.notes.as_deref())?),
            is_minor: Set(p.is_minor),
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
        };
        let is_child =
            domain::is_child(person.birth_date, person.is_minor, Utc::now().date_naive());
        Ok(PersonView { person, is_child })
    }

    /// How the actor's organisation relates to a case: owner, or what active shares and
    /// accepted referrals (each on a consent in force) open to it; or nothing.
    pub(crate) async fn relation<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        c: &case::Model,
    ) -> Result<Relation> {
        if c.owner_org_id == actor.org_id {
            return Ok(Relation::Owner);
        }
        let sections = self.sections_open_to(db, c.id, actor.org_id).await?;
        Ok(match sections {
            Some((sections, agency)) => Relation::SharedWith {
                sections,
                advocate: c.advocate_user_id == Some(actor.user_id),
                agency,
            },
            None => Relation::None,
        })
    }

    /// The sections open to `org_id` through shares, accepted referrals and live
    /// returns it is the agency of, whose consent is in force, and whether it is such an
    /// agency; None when nothing is open.
    pub(crate) async fn sections_open_to<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
        org_id: i64,
    ) -> Result<Option<(Sections, bool)>> {
        let live_consents = Query::select()
            .column(consent::Column::Id)
            .from(consent::Entity)
            .and_where(consent::Column::CaseId.eq(case_id))
            .and_where(consent::Column::WithdrawnAt.is_null())
            .to_owned();
        let shares = share::Entity::find()
            .filter(share::Column::CaseId.eq(case_id))
            .filter(share::Column::OrgId.eq(org_id))
            .filter(share::Column::EndedAt.is_null())
            .filter(share::Column::ConsentId.in_subquery(live_consents.clone()))
            .all(db)
            .await?;
        let referrals = referral::Entity::find()
            .filter(referral::Column::CaseId.eq(case_id))
            .filter(referral::Column::ToOrgId.eq(org_id))
            .filter(referral::Column::Status.eq("accepted"))
            .filter(referral::Column::ConsentId.in_subquery(live_consents.clone()))
            .all(db)
            .await?;
        let agency = return_case::Entity::find()
            .filter(return_case::Column::CaseId.eq(case_id))
            .filter(return_case::Column::AgencyOrgId.eq(org_id))
            .filter(return_case::Column::Stage.ne("cancelled"))
            .filter(return_case::Column::ConsentId.in_subquery(live_consents))
            .count(db)
            .await?
            > 0;
        if shares.is_empty() && referrals.is_empty() && !agency {
            return Ok(None);
        }
        let mut open = Sections::of(&[Section::Summary]);
        if !shares.is_empty() {
            open = open.union(Sections::of(&[Section::Person]));
        }
        if shares
            .iter()
            .any(|s| s.purpose == Purpose::CriminalProceedings.as_str())
        {
            open = open.union(Sections::of(&[Section::Proceedings]));
        }
        for r in referrals {
            open = open.union(Sections::parse(&r.sections).unwrap_or_default());
        }
        if agency {
            // The agency arranges travel documents: it needs the person and the return.
            open = open.union(Sections::of(&[Section::Person, Section::Return]));
        }
        Ok(Some((open, agency)))
    }

    /// Load a case the actor may act on. Invisible cases are "not found", whatever the
    /// reason; a refused attempt (not found, or forbidden) is recorded in the audit log
    /// with the section it aimed at, so that an auditor sees probing. A closed case is
    /// read-only.
    pub(crate) async fn load_for<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        reference: &str,
        action: CaseAction,
        route: Route<'_>,
    ) -> Result<(case::Model, Relation)> {
        let refused = |case_ref: Option<&str>| {
            self.audit.offer(vec![NewEntry::by(
                actor,
                case_ref,
                action.section(),
                AuditAction::Refused,
                route,
            )]);
        };
        let Ok(r) = CaseRef::parse(reference) else {
            refused(None);
            return Err(ServiceError::NotFound("case"));
        };
        let Some(c) = case::Entity::find()
            .filter(case::Column::Reference.eq(r.as_str()))
            .first(db)
            .await?
        else {
            refused(None);
            return Err(ServiceError::NotFound("case"));
        };
        let rel = self.relation(db, actor, &c).await?;
        if rel == Relation::None {
            refused(Some(&c.reference));
            return Err(ServiceError::NotFound("case"));
        }
        if !may(actor.role, rel, action) {
            refused(Some(&c.reference));
            return Err(ServiceError::Forbidden(forbidden_message(action).into()));
        }
        if action.is_edit() && c.closed_at.is_some() {
            return Err(ServiceError::Conflict(
                "this case is closed: it can be read but no longer changed".into(),
            ));
        }
        Ok((c, rel))
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
        let person_id = random_token(16)?;
        let person_row = self.person_model(&person_id, &person, now)?;

        let txn = begin_write(&self.db).await?;
        if let Some(a) = advocate {
            self.check_advocate(&txn, actor.org_id, None, a).await?;
        }
        let reference = next_reference(&txn, now.year()).await?;
        person_row.insert(&txn).await?;
        let created = case::ActiveModel {
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
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(reference.as_str()),
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
        let can = |a| may(role, rel, a);
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
        })
    }

    async fn consents_of(&self, case_id: i64) -> Result<Vec<ConsentView>> {
        let rows = consent::Entity::find()
            .filter(consent::Column::CaseId.eq(case_id))
            .order_by_asc(consent::Column::Id)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.recorded_by).collect();
        let names: HashMap<i64, String> = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        rows.into_iter()
            .map(|r| {
                let by = names.get(&r.recorded_by).cloned().unwrap_or_default();
                consent_view(r, by)
            })
            .collect()
    }

    async fn shares_of(&self, case_id: i64) -> Result<Vec<ShareView>> {
        let rows = share::Entity::find()
            .filter(share::Column::CaseId.eq(case_id))
            .order_by_asc(share::Column::Id)
            .all(&self.db)
            .await?;
        let withdrawn: std::collections::HashSet<i64> = consent::Entity::find()
            .filter(consent::Column::CaseId.eq(case_id))
            .filter(consent::Column::WithdrawnAt.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let uids: HashMap<i64, String> = consent::Entity::find()
            .filter(consent::Column::CaseId.eq(case_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.uid.unwrap_or_default()))
            .collect();
        rows.into_iter()
            .map(|r| {
                let org = orgs.get(&r.org_id).cloned().unwrap_or_default();
                let consent = uids.get(&r.consent_id).cloned().unwrap_or_default();
                let withdrawn = withdrawn.contains(&r.consent_id);
                share_view(r, org, consent, withdrawn)
            })
            .collect()
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
    /// [`domain::stage_after`]; the stage is never set any other way. Bumps the version
    /// when the stage changes. Returns the new stage, if it changed.
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
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
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
        let mut row = self.person_model(&c.person_id, &person, existing.created_at)?;
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

    /// The caller's caseload, newest activity first. One audit entry per page read.
    pub async fn caseload(
        &self,
        actor: &Actor,
        scope: Scope,
        stage: Option<Stage>,
        page: u64,
        per_page: u64,
        route: Route<'_>,
    ) -> Result<CasePage> {
        if !(actor.role.is_caseworker() || matches!(actor.role, Role::OrgAdmin | Role::Auditor)) {
            return Err(ServiceError::Forbidden("your role has no caseload".into()));
        }
        let per_page = per_page.clamp(1, 200);
        let page = std::cmp::max(page, 1);
        // The role decides alone whether this list may be read, so its audit entry goes to
        // the writer first and becomes durable while the reads run (group commit and
        // reads overlap instead of adding up); the answer still waits for it below.
        let audited = self
            .audit
            .submit(vec![NewEntry::by(
                actor,
                None,
                Section::Caseload,
                AuditAction::Read,
                route,
            )])
            .await?;
        let total = case::Entity::find()
            .filter(caseload_condition(actor, scope, stage))
            .count(&self.db)
            .await?;
        let st = caseload_page_statement(
            actor,
            scope,
            stage,
            page,
            per_page,
            self.db.get_database_backend(),
        );
        let items = SummaryRow::find_by_statement(st)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| summary_of(actor, r))
            .collect::<Result<Vec<_>>>()?;
        audited.durable().await?;
        Ok(CasePage {
            items,
            total,
            page,
            per_page,
            pages: total.div_ceil(per_page),
        })
    }

    /// Find cases by the person's exact name (case and spacing ignored) through the blind
    /// index, among the cases whose person the caller may see.
    pub async fn search_by_name(
        &self,
        actor: &Actor,
        name: &str,
        route: Route<'_>,
    ) -> Result<Vec<CaseSummary>> {
        let name = domain::parse_line("name", name, 200)?;
        let idx = self.keys.blind_index("person-name", &name);
        let person_ids: Vec<String> = person::Entity::find()
            .filter(person::Column::NameIdx.eq(idx))
            .select_only()
            .column(person::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut visible = Vec::new();
        if !person_ids.is_empty() {
            for c in case::Entity::find()
                .filter(case::Column::PersonId.is_in(person_ids))
                .all(&self.db)
                .await?
            {
                let rel = self.relation(&self.db, actor, &c).await?;
                if may(actor.role, rel, CaseAction::ViewSection(Section::Person)) {
                    visible.push(c);
                }
            }
        }
        let items = self.summaries(&self.db, actor, visible).await?;
        let mut entries = vec![NewEntry::by(
            actor,
            None,
            Section::Person,
            AuditAction::Search,
            route,
        )];
        entries.extend(items.iter().map(|s| {
            NewEntry::by(
                actor,
                Some(&s.reference),
                Section::Summary,
                AuditAction::Read,
                route,
            )
        }));
        self.audit.record(entries).await?;
        Ok(items)
    }

    /// Record a consent given by the person (or their guardian or representative).
    pub async fn record_consent(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ConsentInput,
        route: Route<'_>,
    ) -> Result<ConsentView> {
        let purpose = Purpose::parse(&input.purpose)?;
        let given_by = ConsentGiver::parse(&input.given_by)?;
        let language = domain::parse_line("language", &input.language, 35)?;
        let form_version = domain::parse_line("form_version", &input.form_version, 40)?;
        let now = Utc::now();
        let consented_at = match input.consented_on.as_deref().map(str::trim) {
            None | Some("") => now,
            Some(s) => {
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    Invalid::new("consented_on", "must be a date written YYYY-MM-DD")
                })?;
                if d > now.date_naive() {
                    return Err(Invalid::new("consented_on", "cannot be in the future").into());
                }
                d.and_hms_opt(12, 0, 0).map(|t| t.and_utc()).unwrap_or(now)
            }
        };
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::ManageConsent, route)
            .await?;
        let m = consent::ActiveModel {
            case_id: Set(c.id),
            purpose: Set(purpose.as_str().into()),
            given_by: Set(given_by.as_str().into()),
            language: Set(language),
            form_version: Set(form_version),
            consented_at: Set(consented_at),
            recorded_by: Set(actor.user_id),
            recorded_at: Set(now),
            withdrawn_at: Set(None),
            withdrawn_by: Set(None),
            uid: Set(Some(random_token(16)?)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Consents,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        consent_view(m, actor.display_name.clone())
    }

    /// Withdraw a consent: every share resting on it ends at once, in the same transaction.
    pub async fn withdraw_consent(
        &self,
        actor: &Actor,
        reference: &str,
        consent_uid: &str,
        route: Route<'_>,
    ) -> Result<u64> {
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::ManageConsent, route)
            .await?;
        let k = consent_of_case(&txn, c.id, consent_uid)
            .await?
            .ok_or(ServiceError::NotFound("consent"))?;
        let consent_id = k.id;
        if k.withdrawn_at.is_some() {
            return Err(ServiceError::Conflict(
                "this consent was already withdrawn".into(),
            ));
        }
        let mut a = k.into_active_model();
        a.withdrawn_at = Set(Some(now));
        a.withdrawn_by = Set(Some(actor.user_id));
        a.update(&txn).await?;
        let ended = share::Entity::update_many()
            .col_expr(share::Column::EndedAt, Expr::value(Some(now)))
            .col_expr(share::Column::EndedBy, Expr::value(Some(actor.user_id)))
            .filter(share::Column::ConsentId.eq(consent_id))
            .filter(share::Column::EndedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        // Referrals resting on it close too (access already ends with the consent).
        referral::Entity::update_many()
            .col_expr(referral::Column::Status, Expr::value("consent_withdrawn"))
            .filter(referral::Column::ConsentId.eq(consent_id))
            .filter(referral::Column::Status.is_in(["pending", "accepted"]))
            .exec(&txn)
            .await?;
        // A return resting on it stops, and what was booked is released.
        let stopped = self
            .stop_returns_on_consent(&txn, consent_id, actor.user_id, now)
            .await?;
        let mut entries = vec![
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Consents,
                AuditAction::Withdraw,
                route,
            ),
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Shares,
                AuditAction::End,
                route,
            ),
        ];
        if stopped {
            entries.push(NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Return,
                AuditAction::End,
                route,
            ));
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        Ok(ended)
    }

    /// Share a case with another organisation for a purpose, on a consent for that purpose.
    pub async fn share_case(
        &self,
        actor: &Actor,
        reference: &str,
        org_id: i64,
        purpose: &str,
        consent_id: Option<&str>,
        route: Route<'_>,
    ) -> Result<ShareView> {
        let purpose = Purpose::parse(purpose)?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::Share, route)
            .await?;
        let org = organisation::Entity::find_by_id(org_id)
            .first(&txn)
            .await?
            .ok_or_else(|| Invalid::new("org_id", "no such organisation"))?;
        if org.id == c.owner_org_id {
            return Err(
                Invalid::new("org_id", "the case already belongs to this organisation").into(),
            );
        }
        let Some(consent_id) = consent_id else {
            return Err(ServiceError::Refused(
                "a case can only be shared on the person's recorded consent: record a consent for this purpose, then choose it".into(),
            ));
        };
        let k = consent_of_case(&txn, c.id, consent_id)
            .await?
            .ok_or_else(|| {
                ServiceError::Refused(
                    "no such consent on this case: the share needs the person's recorded consent"
                        .into(),
                )
            })?;
        let consent_uid = consent_id.to_owned();
        let consent_id = k.id;
        let k_purpose =
            Purpose::parse(&k.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?;
        domain::consent_covers(k_purpose, k.withdrawn_at.is_some(), purpose)
            .map_err(|m| ServiceError::Refused(m.into()))?;
        let dup = share::Entity::find()
            .filter(share::Column::CaseId.eq(c.id))
            .filter(share::Column::OrgId.eq(org.id))
            .filter(share::Column::Purpose.eq(purpose.as_str()))
            .filter(share::Column::EndedAt.is_null())
            .filter(share::Column::ConsentId.eq(consent_id))
            .count(&txn)
            .await?;
        if dup > 0 {
            return Err(ServiceError::Conflict(
                "the case is already shared with this organisation for this purpose".into(),
            ));
        }
        let m = share::ActiveModel {
            case_id: Set(c.id),
            org_id: Set(org.id),
            purpose: Set(purpose.as_str().into()),
            consent_id: Set(consent_id),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            ended_at: Set(None),
            ended_by: Set(None),
            uid: Set(Some(random_token(16)?)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Shares,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        share_view(m, org.name, consent_uid, false)
    }

    /// End a share before its consent is withdrawn.
    pub async fn end_share(
        &self,
        actor: &Actor,
        reference: &str,
        share_uid: &str,
        route: Route<'_>,
    ) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::Share, route)
            .await?;
        let s = share::Entity::find()
            .filter(share::Column::Uid.eq(share_uid))
            .first(&txn)
            .await?
            .filter(|s| s.case_id == c.id)
            .ok_or(ServiceError::NotFound("share"))?;
        if s.ended_at.is_some() {
            return Err(ServiceError::Conflict(
                "this share has already ended".into(),
            ));
        }
        let mut a = s.into_active_model();
        a.ended_at = Set(Some(Utc::now()));
        a.ended_by = Set(Some(actor.user_id));
        a.update(&txn).await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Shares,
                AuditAction::End,
                route,
            ),
        )
        .await?;
        Ok(())
    }

    /// The audit trail of one case, newest first, for those allowed to see it (itself
    /// audited). Refused attempts on the case are in it too.
    pub async fn case_audit_trail(
        &self,
        actor: &Actor,
        reference: &str,
        paging: domain::Paging,
        route: Route<'_>,
    ) -> Result<TrailPage> {
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Audit),
                route,
            )
            .await?;
        self.audit
            .record(vec![NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Audit,
                AuditAction::Read,
                route,
            )])
            .await?;
        let q = audit_log::Entity::find()
            .filter(audit_log::Column::CaseRef.eq(c.reference.as_str()));
        let total = q.clone().count(&self.db).await?;
        let st = with_limit(
            q.order_by_desc(audit_log::Column::Seq)
                .build(self.db.get_database_backend()),
            paging.per_page,
            paging.offset(),
        );
        let rows = audit_log::Model::find_by_statement(st)
            .all(&self.db)
            .await?;
        let names: HashMap<i64, String> = user::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(TrailRow {
                    seq: r.seq,
                    at: r.at,
                    user: r.user_id.and_then(|u| names.get(&u).cloned()),
                    user_id: r.user_id,
                    org: r.org_id.and_then(|o| orgs.get(&o).cloned()),
                    org_id: r.org_id,
                    section: Section::parse(&r.section)
                        .map_err(|e| anyhow::anyhow!("stored section: {e}"))?,
                    action: AuditAction::parse(&r.action)
                        .map_err(|e| anyhow::anyhow!("stored action: {e}"))?,
                    route: r.route,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TrailPage {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
            pages: paging.pages(total),
        })
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

pub(crate) fn forbidden_message(action: CaseAction) -> &'static str {
    match action {
        CaseAction::ViewSection(Section::Audit) => {
            "your role cannot see the audit trail of this case"
        }
        CaseAction::ViewSection(Section::Summary | Section::Caseload) => {
            "your role cannot see this case"
        }
        CaseAction::ViewSection(_) => "you may not see this section of the case",
        CaseAction::EditPerson => "your role cannot edit this person's details",
        CaseAction::ManageConsent => {
            "only the owning organisation's advocates record or withdraw consent"
        }
        CaseAction::Share => "only the owning organisation's advocates share a case",
        CaseAction::Assign => "your role cannot assign an advocate",
        CaseAction::EditIdentification => {
            "only the person's advocate records interviews, elements and determinations"
        }
        CaseAction::Refer => "only the owning organisation's advocates refer a case",
        CaseAction::EditServices => "your role or organisation cannot record services on this case",
        CaseAction::EditPlacement => {
            "your role or organisation cannot record a shelter placement on this case"
        }
        CaseAction::EditProceedings => {
            "only the person's advocate records proceedings, hearings and protective measures"
        }
        CaseAction::EditReturn => {
            "only the person's advocate and the return officers of the owning organisation or of the return agency work on a return"
        }
        CaseAction::ApproveReturn => "only a return officer approves a return",
        CaseAction::Close => "only the owning organisation's advocates and follow-up officers close a case",
    }
}

/// A consent of this case by its id (the 32-character hex `uid`), or None.
pub(crate) async fn consent_of_case<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    uid: &str,
) -> Result<Option<consent::Model>> {
    Ok(consent::Entity::find()
        .filter(consent::Column::Uid.eq(uid.trim()))
        .filter(consent::Column::CaseId.eq(case_id))
        .first(db)
        .await?)
}

fn consent_view(r: consent::Model, recorded_by: String) -> Result<ConsentView> {
    Ok(ConsentView {
        id: r.uid.unwrap_or_default(),
        purpose: Purpose::parse(&r.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?,
        given_by: ConsentGiver::parse(&r.given_by)
            .map_err(|e| anyhow::anyhow!("stored giver: {e}"))?,
        language: r.language,
        form_version: r.form_version,
        consented_at: r.consented_at,
        recorded_by,
        active: r.withdrawn_at.is_none(),
        withdrawn_at: r.withdrawn_at,
    })
}

fn share_view(
    r: share::Model,
    org: String,
    consent_id: String,
    consent_withdrawn: bool,
) -> Result<ShareView> {
    Ok(ShareView {
        id: r.uid.unwrap_or_default(),
        org_id: r.org_id,
        org,
        purpose: Purpose::parse(&r.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?,
        consent_id,
        created_at: r.created_at,
        active: r.ended_at.is_none() && !consent_withdrawn,
        ended_at: r.ended_at,
    })
}

/// The next pseudonymous reference for a year, from a counter row (safe under concurrency:
/// called inside a write transaction).
async fn next_reference<C: ConnectionTrait>(txn: &C, year: i32) -> Result<CaseRef> {
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
            Expr::col(ref_counter::Column::Last).add(1),
        )
        .filter(ref_counter::Column::Year.eq(year))
        .exec(txn)
        .await?;
    let row = ref_counter::Entity::find_by_id(year)
        .first(txn)
        .await?
        .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("reference counter vanished")))?;
    Ok(CaseRef::new(year, row.last))
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
        p.name = " ".into();
        assert_eq!(p.parse(today()).err().map(|e| e.field), Some("name"));
    }
}
