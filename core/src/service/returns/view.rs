//! Reading returns: the return of a case (checklist, blockers, timeline, clocks) and an
//! organisation's returns with their service-level clocks.

use super::*;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub id: String,
    pub label: String,
    pub met: bool,
    /// The stage that needs it.
    pub needed_for: ReturnStage,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StageEntry {
    pub stage: ReturnStage,
    pub at: chrono::DateTime<Utc>,
    pub by: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub id: String,
    pub reference: String,
    pub stage: ReturnStage,
    pub version: i64,
    pub jurisdiction: String,
    pub requested_by: ConsentGiver,
    pub requested_on: NaiveDate,
    /// Requested while the recovery and reflection period ran (at the person's request).
    pub during_recovery_period: bool,
    pub destination_country: String,
    pub child: bool,
    pub stateless: bool,
    /// The consent the return rests on (its id).
    pub consent_id: String,
    pub consent_language: String,
    pub consent_form_version: String,
    pub consent_active: bool,
    pub explained_by: String,
    pub agency_org_id: Option<i64>,
    pub agency: Option<String>,
    /// The request in the agency's own format, when it has a partner adapter.
    pub partner_request: Option<String>,
    pub guardian: Option<String>,
    pub best_interests_on: Option<NaiveDate>,
    pub best_interests_by: Option<String>,
    pub risk: Option<RiskView>,
    pub citizenship: Vec<CitizenshipView>,
    pub documents: Vec<DocumentView>,
    pub legs: Vec<LegView>,
    pub counselled_on: Option<NaiveDate>,
    pub counselled_by: Option<String>,
    pub receiving_org_id: Option<i64>,
    pub receiving_org: Option<String>,
    pub reception_on: Option<NaiveDate>,
    pub departed_on: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub cancelled_reason: Option<String>,
    /// On arrival, the sections handed over to the receiving organisation.
    pub handed_over: Vec<Section>,
    pub checklist: Vec<ChecklistItem>,
    /// The next stage and what holds it back (empty: it may go ahead).
    pub next: Option<ReturnStage>,
    pub blockers: Vec<Refusal>,
    pub conflicts: Vec<Conflict>,
    pub timeline: Vec<StageEntry>,
    pub clock: ReturnClock,
    pub can_edit: bool,
    pub can_approve: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnListItem {
    pub reference: String,
    pub stage: ReturnStage,
    pub destination_country: String,
    pub agency_org_id: Option<i64>,
    pub agency: Option<String>,
    pub requested_on: NaiveDate,
    pub clock: ReturnClock,
    pub overdue_citizenship: usize,
    /// Age in days of the oldest overdue citizenship request.
    pub oldest_overdue_days: i64,
    /// Whether the caller may open the return page of this case (an agency whose return
    /// was cancelled, or whose consent was withdrawn, no longer may; nor may a role that
    /// sees the clocks but not the return).
    pub can_open: bool,
}

super::super::page_of!(
    /// A page of an organisation's returns, oldest request first.
    ReturnPage,
    ReturnListItem
);

/// Which returns of my organisation to list.
#[derive(Debug, Clone, Default)]
pub struct ReturnFilter {
    pub stage: Option<ReturnStage>,
    /// Only those stuck past their stage's target.
    pub stuck: bool,
}

impl Services {
    /// One page of the organisation's returns.
    pub async fn return_page(
        &self,
        actor: &Actor,
        filter: &ReturnFilter,
        paging: domain::Paging,
        route: Route<'_>,
    ) -> Result<ReturnPage> {
        let mut all = self.returns_of_my_org(actor, route).await?;
        all.retain(|r| {
            filter.stage.is_none_or(|s| r.stage == s) && (!filter.stuck || r.clock.stuck)
        });
        Ok(ReturnPage::of(all, paging))
    }

    /// The return of a case, with its checklist, what holds the next stage back, the
    /// timeline and the clocks.
    pub async fn return_view(
        &self,
        actor: &Actor,
        reference: &str,
        lang: &str,
        route: Route<'_>,
    ) -> Result<ReturnView> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Return),
                route,
            )
            .await?;
        let l = self.load_return(&self.db, c).await?;
        let (facts, checklist, conflicts, jurisdiction) =
            self.return_facts(&self.db, &l, lang).await?;
        let stage = facts.stage;
        let next = stage.next();
        let mut blockers = match next {
            Some(n) => rules::check_move(n, &facts),
            None => vec![],
        };
        if let Some(n) = next
            && blockers.is_empty()
        {
            blockers = self.guard(&self.db, &l, n, &facts).await?;
        }
        let today = Utc::now().date_naive();
        let user_ids: Vec<i64> = l
            .risk
            .iter()
            .map(|a| a.author_user_id)
            .chain(std::iter::once(l.r.created_by))
            .collect();
        let stages = return_stage::Entity::find()
            .filter(return_stage::Column::ReturnId.eq(l.r.id.clone()))
            .order_by_asc(return_stage::Column::Id)
            .all(&self.db)
            .await?;
        let mut ids = user_ids;
        ids.extend(stages.iter().map(|s| s.by_user));
        let names: HashMap<i64, String> = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
        let org_ids: Vec<i64> = [l.r.agency_org_id, l.r.receiving_org_id]
            .into_iter()
            .flatten()
            .collect();
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(org_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let rid = l.r.id.clone();
        let risk = match &l.risk {
            Some(a) => Some(RiskView {
                persecution: RiskLevel::parse(&a.persecution)?,
                re_trafficking: RiskLevel::parse(&a.re_trafficking)?,
                findings: self
                    .keys
                    .decrypt_string(at("risk_assessments", "findings", &a.id), &a.findings_enc)?,
                safety_plan: self.open_opt(
                    "risk_assessments",
                    "safety_plan",
                    &a.id,
                    a.safety_plan_enc.as_ref(),
                )?,
                assessed_on: a.assessed_on,
                author: name(a.author_user_id),
            }),
            None => None,
        };
        let documents = l
            .documents
            .iter()
            .map(|d| self.document_view(d))
            .collect::<Result<Vec<_>>>()?;
        let legs = l
            .legs
            .iter()
            .map(|g| self.leg_view(g))
            .collect::<Result<Vec<_>>>()?;
        let mut citizenship = Vec::new();
        for q in &l.citizenship {
            let answer = CitizenshipAnswer::parse(&q.answer)?;
            citizenship.push(CitizenshipView {
                id: q.id.clone(),
                authority: q.authority.clone(),
                sent_on: q.sent_on,
                due_on: q.due_on,
                reminders: q.reminders,
                last_reminder_on: q.last_reminder_on,
                answer,
                answered_on: q.answered_on,
                clock: rules::citizenship_clock(q.sent_on, q.due_on, answer, today),
            });
        }
        let person = self.person_facts(&self.db, &l.c).await?;
        let handed_over = match l.r.handover_referral_id {
            Some(id) => referral::Entity::find_by_id(id)
                .first(&self.db)
                .await?
                .map(|r| Sections::parse(&r.sections).unwrap_or_default().list())
                .unwrap_or_default(),
            None => vec![],
        };
        let view = ReturnView {
            id: rid.clone(),
            reference: l.c.reference.clone(),
            stage,
            version: l.r.version,
            jurisdiction,
            requested_by: ConsentGiver::parse(&l.r.requested_by)?,
            requested_on: l.r.requested_on,
            during_recovery_period: l.r.during_recovery_period,
            destination_country: l.r.destination_country.clone(),
            child: person.child,
            stateless: person.stateless,
            consent_id: l.consent.uid.clone().unwrap_or_default(),
            consent_language: l.consent.language.clone(),
            consent_form_version: l.consent.form_version.clone(),
            consent_active: l.consent.withdrawn_at.is_none(),
            explained_by: self
                .keys
                .decrypt_string(at("returns", "explained_by", &rid), &l.r.explained_by_enc)?,
            agency_org_id: l.r.agency_org_id,
            agency: l.r.agency_org_id.and_then(|id| orgs.get(&id).cloned()),
            partner_request: self.open_opt(
                "returns",
                "partner_payload",
                &rid,
                l.r.partner_payload_enc.as_ref(),
            )?,
            guardian: self.open_opt("returns", "guardian", &rid, l.r.guardian_enc.as_ref())?,
            best_interests_on: l.r.best_interests_on,
            best_interests_by: self.open_opt(
                "returns",
                "best_interests_by",
                &rid,
                l.r.best_interests_by_enc.as_ref(),
            )?,
            risk,
            citizenship,
            documents,
            legs,
            counselled_on: l.r.counselled_on,
            counselled_by: self.open_opt(
                "returns",
                "counselled_by",
                &rid,
                l.r.counselled_by_enc.as_ref(),
            )?,
            receiving_org_id: l.r.receiving_org_id,
            receiving_org: l.r.receiving_org_id.and_then(|id| orgs.get(&id).cloned()),
            reception_on: l.r.reception_on,
            departed_on: l.r.departed_on,
            received_on: l.r.received_on,
            cancelled_reason: self.open_opt(
                "returns",
                "cancelled_reason",
                &rid,
                l.r.cancelled_reason_enc.as_ref(),
            )?,
            handed_over,
            checklist,
            next,
            blockers,
            conflicts,
            timeline: stages
                .iter()
                .map(|s| {
                    Ok(StageEntry {
                        stage: ReturnStage::parse(&s.stage)?,
                        at: s.at,
                        by: name(s.by_user),
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            clock: rules::return_clock(
                stage,
                l.r.requested_on,
                l.r.stage_since.date_naive(),
                l.r.departed_on,
                today,
            ),
            can_edit: may(actor.role, rel, CaseAction::EditReturn) && stage.is_open(),
            can_approve: may(actor.role, rel, CaseAction::ApproveReturn) && stage.is_open(),
        };
        self.audit
            .read(actor, Some(&view.reference), Section::Return, route)
            .await?;
        Ok(view)
    }

    /// The returns of my organisation (as owner or as return agency), for the
    /// service-level view: no personal data, only references, stages and clocks.
    pub async fn returns_of_my_org(
        &self,
        actor: &Actor,
        route: Route<'_>,
    ) -> Result<Vec<ReturnListItem>> {
        if !actor.role.is_caseworker() && actor.role != domain::Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "your role has no view of returns".into(),
            ));
        }
        let own_cases: Vec<case::Model> = case::Entity::find()
            .filter(case::Column::OwnerOrgId.eq(actor.org_id))
            .all(&self.db)
            .await?;
        let own_ids: Vec<i64> = own_cases.iter().map(|c| c.id).collect();
        let mut rows = return_case::Entity::find()
            .filter(return_case::Column::AgencyOrgId.eq(actor.org_id))
            .all(&self.db)
            .await?;
        if !own_ids.is_empty() {
            rows.extend(
                return_case::Entity::find()
                    .filter(return_case::Column::CaseId.is_in(own_ids))
                    .all(&self.db)
                    .await?,
            );
        }
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows.dedup_by(|a, b| a.id == b.id);
        let case_ids: Vec<i64> = rows.iter().map(|r| r.case_id).collect();
        let cases: HashMap<i64, case::Model> = if case_ids.is_empty() {
            HashMap::new()
        } else {
            case::Entity::find()
                .filter(case::Column::Id.is_in(case_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect()
        };
        let mut openable: HashMap<i64, bool> = HashMap::new();
        for (id, c) in &cases {
            let rel = self.relation(&self.db, actor, c).await?;
            openable.insert(
                *id,
                may(actor.role, rel, CaseAction::ViewSection(Section::Return)),
            );
        }
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let return_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let requests = if return_ids.is_empty() {
            vec![]
        } else {
            citizenship_request::Entity::find()
                .filter(citizenship_request::Column::ReturnId.is_in(return_ids))
                .all(&self.db)
                .await?
        };
        let today = Utc::now().date_naive();
        let mut out = Vec::new();
        for r in rows {
            let stage = ReturnStage::parse(&r.stage)?;
            let clocks: Vec<RequestClock> = requests
                .iter()
                .filter(|q| q.return_id == r.id)
                .filter_map(|q| {
                    CitizenshipAnswer::parse(&q.answer)
                        .ok()
                        .map(|a| rules::citizenship_clock(q.sent_on, q.due_on, a, today))
                })
                .filter(|c| c.overdue)
                .collect();
            out.push(ReturnListItem {
                reference: cases
                    .get(&r.case_id)
                    .map(|c| c.reference.clone())
                    .unwrap_or_default(),
                can_open: openable.get(&r.case_id).copied().unwrap_or(false),
                stage,
                destination_country: r.destination_country.clone(),
                agency_org_id: r.agency_org_id,
                agency: r.agency_org_id.and_then(|id| orgs.get(&id).cloned()),
                requested_on: r.requested_on,
                clock: rules::return_clock(
                    stage,
                    r.requested_on,
                    r.stage_since.date_naive(),
                    r.departed_on,
                    today,
                ),
                overdue_citizenship: clocks.len(),
                oldest_overdue_days: clocks.iter().map(|c| c.age_days).max().unwrap_or(0),
            });
        }
        out.sort_by(|a, b| {
            b.clock
                .days_in_stage
                .cmp(&a.clock.days_in_stage)
                .then(a.reference.cmp(&b.reference))
        });
        self.audit.read(actor, None, Section::Return, route).await?;
        Ok(out)
    }
}
