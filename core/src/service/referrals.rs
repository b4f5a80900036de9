//! Referrals between organisations (on consent, opening exactly the sections named),
//! services planned and delivered, and shelter placements (location encrypted, seen only
//! by the shelter, the advocate and the owning organisation).

use super::audit::{NewEntry, commit_audited};
use super::cases::consent_of_case;
use super::{Actor, Result, Route, ServiceError, Services};
use crate::crypto::{FieldLocation, random_token};
use crate::domain::{
    self, AuditAction, CaseAction, CaseEvent, Invalid, OrgKind, Purpose, Relation, Role, Section,
    Sections, may,
};
use crate::ports::{PartnerOutcome, PartnerRequest};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{
    case, case_service, consent, organisation, person, placement, referral, user,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder,
};
use std::collections::HashMap;

/// The services a referral may ask for.
pub const SERVICES: &[&str] = &[
    "shelter",
    "medical",
    "psychological",
    "legal_aid",
    "interpretation",
    "counselling",
    "return_assistance",
    "reintegration",
    "other",
];

/// A service kind, named by the request field it came in (`service` on a referral,
/// `kind` on a planned service).
fn parse_service(field: &'static str, s: &str) -> Result<&'static str, Invalid> {
    SERVICES
        .iter()
        .copied()
        .find(|x| *x == s.trim())
        .ok_or_else(|| {
            Invalid::new(
                field,
                format!("unknown service; expected one of: {}", SERVICES.join(", ")),
            )
        })
}

fn parse_day(field: &'static str, s: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, "must be a date written YYYY-MM-DD"))
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ReferralInput {
    pub to_org_id: i64,
    pub service: String,
    /// Sections the receiver may see once it accepts: person, identification, services, placement.
    #[serde(default)]
    pub sections: Vec<String>,
    /// The person's consent to this disclosure (its id); required.
    pub consent_id: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    /// 32-character hex id.
    pub id: String,
    pub reference: String,
    pub from_org_id: i64,
    pub from_org: String,
    pub to_org_id: i64,
    pub to_org: String,
    pub service: String,
    pub sections: Vec<String>,
    pub status: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Pending past its answer time.
    pub overdue: bool,
    pub answered_at: Option<DateTime<Utc>>,
    /// What a partner plugin made of the referral, when the receiver has one.
    pub partner_payload: Option<String>,
    /// In the receiver's inbox: whether the person is a child (the child rule, from the
    /// birth date or the minor flag). A receiver decides on it before accepting (a
    /// shelter for adults cannot take a child), and it names no one.
    pub child: Option<bool>,
    /// In the receiver's inbox: the language the person was informed in and consented
    /// in (the consent's language), so that the receiver can plan an interpreter. Names
    /// no one either.
    pub language: Option<String>,
}

super::page_of!(
    /// A page of referrals, newest first.
    ReferralPage,
    ReferralView
);

/// Which referrals of my organisation to list.
#[derive(Debug, Clone, Default)]
pub struct ReferralFilter {
    /// true: to my organisation; false: from it; None: both.
    pub incoming: Option<bool>,
    /// pending, accepted, declined or consent_withdrawn.
    pub status: Option<String>,
}

impl ReferralFilter {
    pub const STATUSES: &'static [&'static str] =
        &["pending", "accepted", "declined", "consent_withdrawn"];

    pub fn parse(direction: Option<&str>, status: Option<&str>) -> Result<Self, Invalid> {
        let incoming = match direction.map(str::trim) {
            None | Some("") | Some("all") => None,
            Some("incoming") => Some(true),
            Some("outgoing") => Some(false),
            Some(_) => {
                return Err(Invalid::new(
                    "direction",
                    "must be incoming, outgoing or all",
                ));
            }
        };
        let status = match status.map(str::trim) {
            None | Some("") => None,
            Some(s) if Self::STATUSES.contains(&s) => Some(s.to_owned()),
            Some(_) => {
                return Err(Invalid::new(
                    "status",
                    format!("must be one of: {}", Self::STATUSES.join(", ")),
                ));
            }
        };
        Ok(Self { incoming, status })
    }
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ServiceInput {
    pub provider_org_id: i64,
    pub kind: String,
    pub planned_on: String,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct DeliveryInput {
    pub delivered_on: String,
    #[serde(default)]
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub provider_org_id: i64,
    pub provider: String,
    pub kind: String,
    pub planned_on: NaiveDate,
    pub delivered_on: Option<NaiveDate>,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct PlacementInput {
    pub shelter_org_id: i64,
    pub location: String,
    pub from_on: String,
    #[serde(default)]
    pub until_on: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlacementView {
    pub id: String,
    pub shelter_org_id: i64,
    pub shelter: String,
    pub location: String,
    pub from_on: NaiveDate,
    pub until_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CareView {
    pub reference: String,
    pub services: Vec<ServiceView>,
    pub placements: Vec<PlacementView>,
    /// Outgoing referrals (owning organisation only).
    pub referrals: Option<Vec<ReferralView>>,
    pub can_refer: bool,
    pub can_edit_services: bool,
    pub can_edit_placement: bool,
    /// The caller's organisation, when it may only record its own services.
    pub own_provider_only: Option<i64>,
}

impl Services {
    async fn org_names(&self) -> Result<HashMap<i64, (String, String)>> {
        Ok(organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, (o.name, o.kind)))
            .collect())
    }

    fn referral_view(
        &self,
        r: referral::Model,
        reference: &str,
        orgs: &HashMap<i64, (String, String)>,
    ) -> Result<ReferralView> {
        let now = Utc::now();
        let reason = match &r.reason_enc {
            Some(b) => Some(self.keys.decrypt_string(
                FieldLocation {
                    table: "referrals",
                    column: "reason",
                    row: &r.id.to_string(),
                },
                b,
            )?),
            None => None,
        };
        Ok(ReferralView {
            overdue: r.status == "pending" && r.due_at < now,
            reference: reference.to_owned(),
            from_org_id: r.from_org_id,
            to_org_id: r.to_org_id,
            from_org: orgs
                .get(&r.from_org_id)
                .map(|o| o.0.clone())
                .unwrap_or_default(),
            to_org: orgs
                .get(&r.to_org_id)
                .map(|o| o.0.clone())
                .unwrap_or_default(),
            sections: Sections::parse(&r.sections)
                .unwrap_or_default()
                .list()
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            id: r.uid.unwrap_or_default(),
            service: r.service,
            status: r.status,
            reason,
            created_at: r.created_at,
            due_at: r.due_at,
            answered_at: r.answered_at,
            partner_payload: r.partner_payload,
            child: None,
            language: None,
        })
    }

    /// Refer a case to another organisation for a service, on the person's consent.
    /// When the receiver has a partner adapter, the referral goes through it: an incomplete
    /// one is refused with the partner's reasons.
    pub async fn refer(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ReferralInput,
        route: Route<'_>,
    ) -> Result<ReferralView> {
        let service = parse_service("service", &input.service)?;
        let sections = Sections::parse(&input.sections.join(","))?;
        let (c, _) = self
            .load_for(&self.db, actor, reference, CaseAction::Refer, route)
            .await?;
        let to = organisation::Entity::find_by_id(input.to_org_id)
            .first(&self.db)
            .await?
            .ok_or_else(|| Invalid::new("to_org_id", "no such organisation"))?;
        if to.id == c.owner_org_id {
            return Err(Invalid::new(
                "to_org_id",
                "a case cannot be referred to its own organisation",
            )
            .into());
        }
        let Some(consent_id) = input.consent_id.as_deref() else {
            return Err(ServiceError::Refused(
                "a referral discloses the case: it needs the person's recorded consent for this service; record the consent, then choose it".into(),
            ));
        };
        let k = consent_of_case(&self.db, c.id, consent_id)
            .await?
            .ok_or_else(|| ServiceError::Refused("no such consent on this case: the referral needs the person's recorded consent".into()))?;
        let consent_id = k.id;
        let purpose = Purpose::parse(service)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))?;
        let k_purpose =
            Purpose::parse(&k.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?;
        domain::consent_covers(k_purpose, k.withdrawn_at.is_some(), purpose)
            .map_err(|m| ServiceError::Refused(m.into()))?;

        // A partner adapter formats (and may refuse) the request, off the executor.
        let partner_payload = match self.adapters.partner(&to.name) {
            Some(partner) => {
                let request = self
                    .partner_request(&c, "referral", service, sections, &k)
                    .await?;
                match self
                    .call_port(move || partner.format_request(&request))
                    .await?
                {
                    PartnerOutcome::Formatted(json) => Some(json),
                    PartnerOutcome::Refused(reasons) => {
                        return Err(ServiceError::Refused(format!(
                            "{} cannot take this referral: {}",
                            to.name,
                            reasons.join("; ")
                        )));
                    }
                }
            }
            None => None,
        };
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let m = referral::ActiveModel {
            case_id: Set(c.id),
            from_org_id: Set(c.owner_org_id),
            to_org_id: Set(to.id),
            service: Set(service.into()),
            sections: Set(sections.to_csv()),
            consent_id: Set(consent_id),
            status: Set("pending".into()),
            reason_enc: Set(None),
            partner_payload: Set(partner_payload),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            due_at: Set(now + Duration::days(self.referral_answer_days)),
            answered_by: Set(None),
            answered_at: Set(None),
            uid: Set(Some(random_token(16)?)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        // The receiving organisation's caseworkers and administrator are told, in the
        // same transaction (the referral and its notice commit together).
        let to_tell = self
            .users_with_roles(
                &txn,
                to.id,
                &[
                    Role::Advocate,
                    Role::ShelterCoordinator,
                    Role::ReturnOfficer,
                    Role::FollowUpOfficer,
                    Role::OrgAdmin,
                ],
            )
            .await?;
        self.notify_in(
            &txn,
            &to_tell,
            &crate::service::notify::Event {
                kind: crate::notify::NotificationKind::ReferralReceived,
                reference: Some(&c.reference),
                from_org_id: c.owner_org_id,
                link: "/referrals#inbox".into(),
            },
            None,
        )
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Referrals,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        let orgs = self.org_names().await?;
        self.referral_view(m, &c.reference, &orgs)
    }

    /// What a partner adapter receives: only the sections named, under the consent.
    async fn partner_request(
        &self,
        c: &case::Model,
        kind: &str,
        service: &str,
        sections: Sections,
        k: &consent::Model,
    ) -> Result<PartnerRequest> {
        let p = person::Entity::find_by_id(c.person_id.clone())
            .first(&self.db)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("case without person")))?;
        let facts = self.person_facts(&self.db, c).await?;
        let with_person = sections.has(Section::Person);
        let open = |col: &'static str, v: &Option<Vec<u8>>| -> Result<Option<String>> {
            if with_person {
                self.open(col, &p.id, v.as_ref())
            } else {
                Ok(None)
            }
        };
        Ok(PartnerRequest {
            kind: kind.into(),
            reference: c.reference.clone(),
            service: service.into(),
            sections: sections
                .list()
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            consent_language: k.language.clone(),
            consent_form_version: k.form_version.clone(),
            consented_on: k.consented_at.date_naive().to_string(),
            child: facts.child,
            name: open("name", &Some(p.name_enc.clone()))?,
            birth_date: open("birth_date", &p.birth_date_enc)?,
            nationality: open("nationality", &p.nationality_enc)?,
            stateless: p.stateless,
            languages: open("languages", &p.languages_enc)?,
            destination_country: None,
            notes: None,
        })
    }

    /// The receiving organisation accepts or declines (with a reason).
    pub async fn answer_referral(
        &self,
        actor: &Actor,
        referral_id: &str,
        accept: bool,
        reason: Option<&str>,
        route: Route<'_>,
    ) -> Result<ReferralView> {
        if !(actor.role.is_caseworker() || actor.role == Role::OrgAdmin) {
            return Err(ServiceError::Forbidden(
                "your role cannot answer referrals".into(),
            ));
        }
        let reason = domain::parse_optional_text("reason", reason, 2000)?;
        if !accept && reason.is_none() {
            return Err(Invalid::new("reason", "is required to decline a referral").into());
        }
        let txn = begin_write(&self.db).await?;
        let r = referral::Entity::find()
            .filter(referral::Column::Uid.eq(referral_id.trim()))
            .first(&txn)
            .await?
            .filter(|r| r.to_org_id == actor.org_id)
            .ok_or(ServiceError::NotFound("referral"))?;
        if r.status != "pending" {
            return Err(ServiceError::Conflict(format!(
                "this referral was already answered ({})",
                r.status
            )));
        }
        let c = case::Entity::find_by_id(r.case_id)
            .first(&txn)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("referral without case")))?;
        let id = r.id.to_string();
        let mut a = r.into_active_model();
        a.status = Set(if accept { "accepted" } else { "declined" }.into());
        a.reason_enc = Set(match &reason {
            Some(t) => Some(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                FieldLocation {
                    table: "referrals",
                    column: "reason",
                    row: &id,
                },
                t,
            )?),
            None => None,
        });
        a.answered_by = Set(Some(actor.user_id));
        a.answered_at = Set(Some(Utc::now()));
        let m = a.update(&txn).await?;
        // The referring user hears the answer.
        if let Some(u) = user::Entity::find_by_id(m.created_by).first(&txn).await? {
            self.notify_in(
                &txn,
                &[u],
                &crate::service::notify::Event {
                    kind: crate::notify::NotificationKind::ReferralAnswered,
                    reference: Some(&c.reference),
                    from_org_id: m.to_org_id,
                    link: format!("/cases/{}/care", c.reference),
                },
                None,
            )
            .await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Referrals,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        let orgs = self.org_names().await?;
        let mut v = self.referral_view(m, &c.reference, &orgs)?;
        v.partner_payload = None;
        Ok(v)
    }

    /// One page of the referrals to and from the caller's organisation, newest first.
    pub async fn referral_page(
        &self,
        actor: &Actor,
        filter: &ReferralFilter,
        paging: domain::Paging,
        route: Route<'_>,
    ) -> Result<ReferralPage> {
        let (inbox, outbox) = self.referral_lists(actor, route).await?;
        let mut all: Vec<ReferralView> = match filter.incoming {
            Some(true) => inbox,
            Some(false) => outbox,
            None => inbox.into_iter().chain(outbox).collect(),
        };
        if let Some(s) = &filter.status {
            all.retain(|r| &r.status == s);
        }
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(ReferralPage::of(all, paging))
    }

    /// Referrals to the caller's organisation (the inbox) and from it (the outbox).
    pub async fn referral_lists(
        &self,
        actor: &Actor,
        route: Route<'_>,
    ) -> Result<(Vec<ReferralView>, Vec<ReferralView>)> {
        if !(actor.role.is_caseworker() || actor.role == Role::OrgAdmin) {
            return Err(ServiceError::Forbidden("your role has no referrals".into()));
        }
        let orgs = self.org_names().await?;
        let cases: HashMap<i64, case::Model> = case::Entity::find()
            .filter(
                case::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(referral::Column::CaseId)
                        .from(referral::Entity)
                        .and_where(
                            referral::Column::ToOrgId
                                .eq(actor.org_id)
                                .or(referral::Column::FromOrgId.eq(actor.org_id)),
                        )
                        .to_owned(),
                ),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let rows = referral::Entity::find()
            .filter(
                referral::Column::ToOrgId
                    .eq(actor.org_id)
                    .or(referral::Column::FromOrgId.eq(actor.org_id)),
            )
            .order_by_desc(referral::Column::CreatedAt)
            .all(&self.db)
            .await?;
        // What the receiver needs to decide (child or adult, the language), for the
        // referrals still waiting for its answer.
        let consent_ids: Vec<i64> = rows
            .iter()
            .filter(|r| r.to_org_id == actor.org_id && r.status == "pending")
            .map(|r| r.consent_id)
            .collect();
        let languages: HashMap<i64, String> = if consent_ids.is_empty() {
            HashMap::new()
        } else {
            consent::Entity::find()
                .filter(consent::Column::Id.is_in(consent_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|k| (k.id, k.language))
                .collect()
        };
        let mut inbox = Vec::new();
        let mut outbox = Vec::new();
        let mut entries = vec![NewEntry::by(
            actor,
            None,
            Section::Referrals,
            AuditAction::Read,
            route,
        )];
        for r in rows {
            let incoming = r.to_org_id == actor.org_id;
            let pending = r.status == "pending";
            let c = cases.get(&r.case_id);
            let reference = c.map(|c| c.reference.clone()).unwrap_or_default();
            let child = match c {
                Some(c) if incoming && pending => Some(self.person_facts(&self.db, c).await?.child),
                _ => None,
            };
            let language = if incoming && pending {
                languages.get(&r.consent_id).cloned()
            } else {
                None
            };
            let mut v = self.referral_view(r, &reference, &orgs)?;
            // The partner's payload is for the sending side's records, not the inbox.
            if incoming {
                v.partner_payload = None;
                if child.is_some() {
                    // A fact of the person was read for the receiver: on record.
                    entries.push(NewEntry::by(
                        actor,
                        Some(&reference),
                        Section::Referrals,
                        AuditAction::Read,
                        route,
                    ));
                }
                v.child = child;
                v.language = language;
                inbox.push(v);
            } else {
                outbox.push(v);
            }
        }
        self.audit.record(entries).await?;
        Ok((inbox, outbox))
    }

    /// Services, placements and outgoing referrals of a case, as far as the caller may see.
    pub async fn care(&self, actor: &Actor, reference: &str, route: Route<'_>) -> Result<CareView> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Summary),
                route,
            )
            .await?;
        let see_services = may(actor.role, rel, CaseAction::ViewSection(Section::Services));
        let see_placement = may(actor.role, rel, CaseAction::ViewSection(Section::Placement));
        let see_referrals = may(actor.role, rel, CaseAction::ViewSection(Section::Referrals));
        if !(see_services || see_placement || see_referrals) {
            return Err(ServiceError::Forbidden(
                "your role or organisation cannot see the services of this case".into(),
            ));
        }
        let orgs = self.org_names().await?;
        let org_name = |id: i64| orgs.get(&id).map(|o| o.0.clone()).unwrap_or_default();
        let mut sections = Vec::new();
        let mut services = Vec::new();
        if see_services {
            sections.push(Section::Services);
            for s in case_service::Entity::find()
                .filter(case_service::Column::CaseId.eq(c.id))
                .order_by_asc(case_service::Column::PlannedOn)
                .all(&self.db)
                .await?
            {
                let outcome = match &s.outcome_enc {
                    Some(b) => Some(self.keys.decrypt_string(
                        FieldLocation {
                            table: "case_services",
                            column: "outcome",
                            row: &s.id,
                        },
                        b,
                    )?),
                    None => None,
                };
                services.push(ServiceView {
                    provider: org_name(s.provider_org_id),
                    id: s.id,
                    provider_org_id: s.provider_org_id,
                    kind: s.kind,
                    planned_on: s.planned_on,
                    delivered_on: s.delivered_on,
                    outcome,
                });
            }
        }
        let mut placements = Vec::new();
        if see_placement {
            sections.push(Section::Placement);
            // The shelter sees its own placements; the owner and the advocate see all.
            let all = matches!(rel, Relation::Owner)
                || matches!(rel, Relation::SharedWith { advocate: true, .. });
            for p in placement::Entity::find()
                .filter(placement::Column::CaseId.eq(c.id))
                .order_by_desc(placement::Column::FromOn)
                .all(&self.db)
                .await?
            {
                if !all && p.shelter_org_id != actor.org_id {
                    continue;
                }
                placements.push(PlacementView {
                    location: self.keys.decrypt_string(
                        FieldLocation {
                            table: "placements",
                            column: "location",
                            row: &p.id,
                        },
                        &p.location_enc,
                    )?,
                    shelter: org_name(p.shelter_org_id),
                    id: p.id,
                    shelter_org_id: p.shelter_org_id,
                    from_on: p.from_on,
                    until_on: p.until_on,
                });
            }
        }
        let referrals = if see_referrals && rel == Relation::Owner {
            sections.push(Section::Referrals);
            let mut out = Vec::new();
            for r in referral::Entity::find()
                .filter(referral::Column::CaseId.eq(c.id))
                .order_by_desc(referral::Column::CreatedAt)
                .all(&self.db)
                .await?
            {
                out.push(self.referral_view(r, &c.reference, &orgs)?);
            }
            Some(out)
        } else {
            None
        };
        self.audit
            .record(
                sections
                    .iter()
                    .map(|s| NewEntry::by(actor, Some(&c.reference), *s, AuditAction::Read, route))
                    .collect(),
            )
            .await?;
        Ok(CareView {
            reference: c.reference.clone(),
            services,
            placements,
            referrals,
            can_refer: may(actor.role, rel, CaseAction::Refer),
            can_edit_services: may(actor.role, rel, CaseAction::EditServices),
            can_edit_placement: may(actor.role, rel, CaseAction::EditPlacement),
            own_provider_only: (rel != Relation::Owner).then_some(actor.org_id),
        })
    }

    /// Plan a service. A provider organisation (not the owner) plans only its own.
    pub async fn add_service(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ServiceInput,
        route: Route<'_>,
    ) -> Result<ServiceView> {
        let kind = parse_service("kind", &input.kind)?;
        let planned_on = parse_day("planned_on", &input.planned_on)?;
        let txn = begin_write(&self.db).await?;
        let (c, rel) = self
            .load_for(&txn, actor, reference, CaseAction::EditServices, route)
            .await?;
        if rel != Relation::Owner && input.provider_org_id != actor.org_id {
            return Err(ServiceError::Forbidden(
                "you can only record the services your own organisation provides".into(),
            ));
        }
        let provider = organisation::Entity::find_by_id(input.provider_org_id)
            .first(&txn)
            .await?
            .ok_or_else(|| Invalid::new("provider_org_id", "no such organisation"))?;
        let id = random_token(16)?;
        let m = case_service::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            provider_org_id: Set(input.provider_org_id),
            kind: Set(kind.into()),
            planned_on: Set(planned_on),
            delivered_on: Set(None),
            outcome_enc: Set(None),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        // Reintegration after the return is where follow-up begins.
        if kind == "reintegration" {
            self.advance_stage(&txn, c.id, CaseEvent::FollowUpStarted)
                .await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Services,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(ServiceView {
            id: m.id,
            provider_org_id: m.provider_org_id,
            provider: provider.name,
            kind: m.kind,
            planned_on: m.planned_on,
            delivered_on: None,
            outcome: None,
        })
    }

    /// Record that a service was delivered, with its outcome.
    pub async fn deliver_service(
        &self,
        actor: &Actor,
        reference: &str,
        service_id: &str,
        input: &DeliveryInput,
        route: Route<'_>,
    ) -> Result<ServiceView> {
        let delivered_on = parse_day("delivered_on", &input.delivered_on)?;
        if delivered_on > Utc::now().date_naive() {
            return Err(Invalid::new("delivered_on", "cannot be in the future").into());
        }
        let outcome = domain::parse_optional_text("outcome", input.outcome.as_deref(), 5000)?;
        let txn = begin_write(&self.db).await?;
        let (c, rel) = self
            .load_for(&txn, actor, reference, CaseAction::EditServices, route)
            .await?;
        let s = case_service::Entity::find_by_id(service_id.to_owned())
            .first(&txn)
            .await?
            .filter(|s| s.case_id == c.id)
            .ok_or(ServiceError::NotFound("service"))?;
        if rel != Relation::Owner && s.provider_org_id != actor.org_id {
            return Err(ServiceError::Forbidden(
                "you can only record the services your own organisation provides".into(),
            ));
        }
        if delivered_on < s.planned_on - Duration::days(365) {
            return Err(Invalid::new(
                "delivered_on",
                "is implausibly long before the planned date",
            )
            .into());
        }
        let sealed = match &outcome {
            Some(o) => Some(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                FieldLocation {
                    table: "case_services",
                    column: "outcome",
                    row: &s.id,
                },
                o,
            )?),
            None => None,
        };
        let mut a = s.into_active_model();
        a.delivered_on = Set(Some(delivered_on));
        a.outcome_enc = Set(sealed);
        let m = a.update(&txn).await?;
        let provider = organisation::Entity::find_by_id(m.provider_org_id)
            .first(&txn)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Services,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        Ok(ServiceView {
            id: m.id,
            provider_org_id: m.provider_org_id,
            provider,
            kind: m.kind,
            planned_on: m.planned_on,
            delivered_on: m.delivered_on,
            outcome,
        })
    }

    /// Record a shelter placement; the location is encrypted.
    pub async fn add_placement(
        &self,
        actor: &Actor,
        reference: &str,
        input: &PlacementInput,
        route: Route<'_>,
    ) -> Result<PlacementView> {
        let location = domain::parse_line("location", &input.location, 500)?;
        let from_on = parse_day("from_on", &input.from_on)?;
        let until_on = match input.until_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(parse_day("until_on", s)?),
        };
        if until_on.is_some_and(|u| u < from_on) {
            return Err(
                Invalid::new("until_on", "cannot be before the start of the placement").into(),
            );
        }
        let txn = begin_write(&self.db).await?;
        let (c, rel) = self
            .load_for(&txn, actor, reference, CaseAction::EditPlacement, route)
            .await?;
        let shelter = organisation::Entity::find_by_id(input.shelter_org_id)
            .first(&txn)
            .await?
            .ok_or_else(|| Invalid::new("shelter_org_id", "no such organisation"))?;
        if shelter.kind != OrgKind::Shelter.as_str() {
            return Err(Invalid::new("shelter_org_id", "must be a shelter").into());
        }
        if rel != Relation::Owner && shelter.id != actor.org_id {
            return Err(ServiceError::Forbidden(
                "a shelter records only its own placements".into(),
            ));
        }
        let id = random_token(16)?;
        placement::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            shelter_org_id: Set(shelter.id),
            location_enc: Set(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                FieldLocation {
                    table: "placements",
                    column: "location",
                    row: &id,
                },
                &location,
            )?),
            from_on: Set(from_on),
            until_on: Set(until_on),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        let view = PlacementView {
            id,
            shelter_org_id: shelter.id,
            shelter: shelter.name,
            location,
            from_on,
            until_on,
        };
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Placement,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(view)
    }

    /// Organisations a case may be referred to, with their kind.
    pub async fn referral_targets(&self, owner_org_id: i64) -> Result<Vec<(i64, String, String)>> {
        Ok(organisation::Entity::find()
            .filter(organisation::Column::Active.eq(true))
            .filter(organisation::Column::Id.ne(owner_org_id))
            .order_by_asc(organisation::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name, o.kind))
            .collect())
    }
}
