//! Deadlines of the caller's cases ("my deadlines"), of one case, and of the whole
//! organisation for its administrator: the stored ones that still matter at the case's
//! stage, and those computed from the case (hearing conflicts, citizenship confirmations
//! due, returns stuck past their stage's target). Most urgent first; every read audited.

use super::audit::NewEntry;
use super::{Actor, Result, Route, ServiceError, Services, page_of};
use crate::deadlines::{
    self as rules, CITIZENSHIP_CONFIRMATION, FOLLOW_UP_VISIT, FOLLOW_UP_VISIT_MISSED,
    HEARING_CONFLICT, RETURN_STAGE_TARGET,
};
use crate::domain::{
    AuditAction, CaseAction, Invalid, Paging, Relation, Role, Section, Stage, may,
};
use crate::returns::{self as return_rules, CitizenshipAnswer, ReturnStage};
use crate::store::entity::{
    case, citizenship_request, deadline, follow_up_visit, referral, return_case,
};
use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    /// 32-character hex id, stable for computed rows too (derived from what the row
    /// comes from).
    pub id: String,
    pub reference: String,
    /// recovery_reflection_period_end, reasonable_grounds_decision_due, hearing_conflict,
    /// citizenship_confirmation_due or return_stage_target.
    pub kind: String,
    pub starts_on: NaiveDate,
    pub due_on: NaiveDate,
    /// Days until due (negative: overdue).
    pub days_left: i64,
    pub overdue: bool,
    pub open: bool,
    /// The page of the case where it is acted on: identification, proceedings or return.
    pub page: String,
}

page_of!(
    /// A page of deadlines, most urgent first.
    DeadlinePage,
    DeadlineView
);

/// Which deadlines to list.
#[derive(Debug, Clone, Default)]
pub struct DeadlineFilter {
    /// One kind only.
    pub kind: Option<String>,
    /// Only overdue ones.
    pub overdue: bool,
    /// One case only (its reference).
    pub reference: Option<String>,
}

impl DeadlineFilter {
    pub fn parse(kind: Option<&str>, overdue: bool, reference: Option<&str>) -> Result<Self> {
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => None,
            Some(k) if rules::KINDS.contains(&k) => Some(k.to_owned()),
            Some(_) => {
                return Err(Invalid::new(
                    "kind",
                    format!("unknown kind; expected one of: {}", rules::KINDS.join(", ")),
                )
                .into());
            }
        };
        Ok(Self {
            kind,
            overdue,
            reference: reference
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        })
    }
    fn keeps(&self, d: &DeadlineView) -> bool {
        self.kind.as_deref().is_none_or(|k| d.kind == k)
            && (!self.overdue || d.overdue)
            && self.reference.as_deref().is_none_or(|r| d.reference == r)
    }
}

/// The cases handed over to this organisation for reintegration follow-up (their ids).
fn handed_over_to(org_id: i64) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(referral::Column::CaseId)
        .from(referral::Entity)
        .and_where(referral::Column::ToOrgId.eq(org_id))
        .and_where(referral::Column::Service.eq(crate::domain::Purpose::Reintegration.as_str()))
        .and_where(referral::Column::Status.eq("accepted"))
        .to_owned()
}

pub fn deadline_view(d: &deadline::Model, reference: &str, today: NaiveDate) -> DeadlineView {
    let days_left = (d.due_on - today).num_days();
    let open = d.closed_at.is_none();
    DeadlineView {
        id: rules::stable_id("deadline", &d.id.to_string()),
        reference: reference.to_owned(),
        kind: d.kind.clone(),
        starts_on: d.starts_on,
        due_on: d.due_on,
        days_left,
        overdue: open && days_left < 0,
        open,
        page: rules::page_of(&d.kind).to_owned(),
    }
}

fn computed(
    kind: &str,
    source: &str,
    reference: &str,
    starts_on: NaiveDate,
    due_on: NaiveDate,
    today: NaiveDate,
) -> DeadlineView {
    let days_left = (due_on - today).num_days();
    DeadlineView {
        id: rules::stable_id(kind, source),
        reference: reference.to_owned(),
        kind: kind.to_owned(),
        starts_on,
        due_on,
        days_left,
        overdue: days_left < 0,
        open: true,
        page: rules::page_of(kind).to_owned(),
    }
}

/// What the caller may see of one case's deadlines.
struct Visible<'a> {
    case: &'a case::Model,
    /// The stored deadlines (the recovery period, the expected decision): those who may
    /// see the case's deadlines section.
    stored: bool,
    proceedings: bool,
    returns: bool,
    /// The follow-up visits (the follow-up service, and its administrator).
    follow_up: bool,
}

impl Services {
    /// The open deadlines of these cases, most urgent first, and the audit entries of the
    /// sections read to compute them.
    async fn deadlines_of(
        &self,
        actor: &Actor,
        cases: &[Visible<'_>],
    ) -> Result<(Vec<DeadlineView>, Vec<NewEntry>)> {
        let today = Utc::now().date_naive();
        let refs: HashMap<i64, &case::Model> = cases.iter().map(|v| (v.case.id, v.case)).collect();
        let ids: Vec<i64> = cases
            .iter()
            .filter(|v| v.stored)
            .map(|v| v.case.id)
            .collect();
        let mut out = Vec::new();
        let mut read: Vec<(String, Section)> = Vec::new();
        if !ids.is_empty() {
            for d in deadline::Entity::find()
                .filter(deadline::Column::CaseId.is_in(ids))
                .filter(deadline::Column::ClosedAt.is_null())
                .all(&self.db)
                .await?
            {
                let Some(c) = refs.get(&d.case_id) else {
                    continue;
                };
                let stage = Stage::parse(&c.stage)?;
                if rules::applies(&d.kind, stage) {
                    out.push(deadline_view(&d, &c.reference, today));
                }
            }
        }
        // Conflicts between a planned departure and a hearing, where the caller may see
        // the proceedings: due when the first alternative must be requested.
        let with_proceedings: Vec<&case::Model> = cases
            .iter()
            .filter(|v| v.proceedings && v.case.closed_at.is_none())
            .map(|v| v.case)
            .collect();
        for (case_id, x) in self.conflicts_of_cases(&with_proceedings).await? {
            let Some(c) = refs.get(&case_id) else {
                continue;
            };
            read.push((c.reference.clone(), Section::Proceedings));
            out.push(computed(
                HEARING_CONFLICT,
                &x.hearing_id,
                &c.reference,
                x.departure_on,
                x.act_by,
                today,
            ));
        }
        // Returns: unanswered citizenship confirmations, and stages past their target.
        let with_returns: Vec<i64> = cases
            .iter()
            .filter(|v| v.returns && v.case.closed_at.is_none())
            .map(|v| v.case.id)
            .collect();
        if !with_returns.is_empty() {
            let returns: Vec<return_case::Model> = return_case::Entity::find()
                .filter(return_case::Column::CaseId.is_in(with_returns))
                .all(&self.db)
                .await?
                .into_iter()
                .filter(|r| {
                    ReturnStage::parse(&r.stage)
                        .is_ok_and(|s| s.is_open() && s != ReturnStage::Departed)
                })
                .collect();
            let return_ids: Vec<String> = returns.iter().map(|r| r.id.clone()).collect();
            let requests = if return_ids.is_empty() {
                vec![]
            } else {
                citizenship_request::Entity::find()
                    .filter(citizenship_request::Column::ReturnId.is_in(return_ids))
                    .filter(
                        citizenship_request::Column::Answer.eq(CitizenshipAnswer::Pending.as_str()),
                    )
                    .all(&self.db)
                    .await?
            };
            for r in &returns {
                let Some(c) = refs.get(&r.case_id) else {
                    continue;
                };
                let stage = ReturnStage::parse(&r.stage)?;
                let mut any = false;
                for q in requests.iter().filter(|q| q.return_id == r.id) {
                    any = true;
                    out.push(computed(
                        CITIZENSHIP_CONFIRMATION,
                        &q.id,
                        &c.reference,
                        q.sent_on,
                        q.due_on,
                        today,
                    ));
                }
                if let Some(target) = stage.target_days() {
                    let since = r.stage_since.date_naive();
                    let due = since + chrono::Duration::days(target);
                    let clock = return_rules::return_clock(
                        stage,
                        r.requested_on,
                        since,
                        r.departed_on,
                        today,
                    );
                    // Shown once it is near (a week) or past, not for the whole stage.
                    if clock.stuck || (due - today).num_days() <= 7 {
                        any = true;
                        out.push(computed(
                            RETURN_STAGE_TARGET,
                            &format!("{}|{}", r.id, r.stage),
                            &c.reference,
                            since,
                            due,
                            today,
                        ));
                    }
                }
                if any {
                    read.push((c.reference.clone(), Section::Return));
                }
            }
        }
        // Follow-up visits: planned ones due within a week or overdue, and missed ones with
        // no visit since.
        let with_follow_up: Vec<i64> = cases
            .iter()
            .filter(|v| v.follow_up && v.case.closed_at.is_none())
            .map(|v| v.case.id)
            .collect();
        if !with_follow_up.is_empty() {
            let grace = self.default_reintegration()?.visits.grace_days;
            let visits = follow_up_visit::Entity::find()
                .filter(follow_up_visit::Column::CaseId.is_in(with_follow_up))
                .order_by_asc(follow_up_visit::Column::DueOn)
                .all(&self.db)
                .await?;
            let mut last_done: HashMap<i64, NaiveDate> = HashMap::new();
            for v in visits.iter().filter(|v| v.status == "done") {
                let e = last_done.entry(v.case_id).or_insert(v.due_on);
                *e = (*e).max(v.due_on);
            }
            for v in &visits {
                let Some(c) = refs.get(&v.case_id) else {
                    continue;
                };
                let row = match v.status.as_str() {
                    "planned" => {
                        let plain = crate::service::follow_up::visit_of(v)?;
                        let overdue = crate::follow_up::is_overdue(&plain, grace, today);
                        ((v.due_on - today).num_days() <= 7 || overdue).then(|| {
                            let mut d = computed(
                                FOLLOW_UP_VISIT,
                                &v.id,
                                &c.reference,
                                v.due_on,
                                v.due_on,
                                today,
                            );
                            d.overdue = overdue;
                            d
                        })
                    }
                    "missed" if last_done.get(&v.case_id).is_none_or(|d| v.due_on > *d) => {
                        let on = v.happened_on.unwrap_or(v.due_on);
                        let mut d = computed(
                            FOLLOW_UP_VISIT_MISSED,
                            &v.id,
                            &c.reference,
                            v.due_on,
                            on,
                            today,
                        );
                        d.overdue = true;
                        Some(d)
                    }
                    _ => None,
                };
                if let Some(d) = row {
                    read.push((c.reference.clone(), Section::FollowUp));
                    out.push(d);
                }
            }
        }
        out.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.reference.cmp(&b.reference)));
        read.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.as_str().cmp(b.1.as_str())));
        read.dedup();
        let entries = read
            .into_iter()
            .map(|(r, s)| NewEntry::by(actor, Some(&r), s, AuditAction::Read, "deadlines"))
            .collect();
        Ok((out, entries))
    }

    /// "My deadlines": the open deadlines of the caller's cases (an advocate: the cases
    /// assigned to them; other caseworkers: their organisation's, and for a return
    /// officer also the return clocks of the returns their organisation is the agency of),
    /// or, for an organisation administrator, every case of the organisation and the
    /// return clocks of the returns it is the agency of (references, kinds and dates: no
    /// personal data).
    pub async fn my_deadlines(
        &self,
        actor: &Actor,
        filter: &DeadlineFilter,
        paging: Paging,
        route: Route<'_>,
    ) -> Result<DeadlinePage> {
        let admin = actor.role == Role::OrgAdmin;
        if !actor.role.is_caseworker() && !admin {
            return Err(ServiceError::Forbidden("your role has no deadlines".into()));
        }
        let mut q = case::Entity::find().filter(case::Column::ClosedAt.is_null());
        q = if actor.role == Role::Advocate {
            q.filter(case::Column::AdvocateUserId.eq(actor.user_id))
        } else if matches!(actor.role, Role::ReturnOfficer | Role::OrgAdmin) {
            // A return agency's officers (and its administrator) work on the returns it is
            // the agency of, whoever owns the case: their clocks are theirs too.
            q.filter(
                sea_orm::Condition::any()
                    .add(case::Column::OwnerOrgId.eq(actor.org_id))
                    .add(
                        case::Column::Id.in_subquery(
                            sea_orm::sea_query::Query::select()
                                .column(return_case::Column::CaseId)
                                .from(return_case::Entity)
                                .and_where(return_case::Column::AgencyOrgId.eq(actor.org_id))
                                .to_owned(),
                        ),
                    )
                    .add(case::Column::Id.in_subquery(handed_over_to(actor.org_id))),
            )
        } else if actor.role == Role::FollowUpOfficer {
            // The follow-up service works on the cases handed over to it on arrival.
            q.filter(
                sea_orm::Condition::any()
                    .add(case::Column::OwnerOrgId.eq(actor.org_id))
                    .add(case::Column::Id.in_subquery(handed_over_to(actor.org_id))),
            )
        } else {
            q.filter(case::Column::OwnerOrgId.eq(actor.org_id))
        };
        if let Some(r) = &filter.reference {
            q = q.filter(case::Column::Reference.eq(r.as_str()));
        }
        let cases = q.order_by_asc(case::Column::Id).all(&self.db).await?;
        let mut visible = Vec::new();
        for c in &cases {
            let rel = self.relation(&self.db, actor, c).await?;
            if rel == Relation::None {
                continue;
            }
            let can = |s| may(actor.role, rel, CaseAction::ViewSection(s));
            let follows = matches!(rel, Relation::SharedWith { sections, .. } if sections.has(Section::FollowUp));
            if admin && rel == Relation::Owner {
                // The administrator oversees what is overdue, without case data.
                visible.push(Visible {
                    case: c,
                    stored: true,
                    proceedings: true,
                    returns: true,
                    follow_up: true,
                });
            } else if can(Section::Deadlines) {
                visible.push(Visible {
                    case: c,
                    stored: true,
                    proceedings: can(Section::Proceedings),
                    returns: can(Section::Return),
                    follow_up: can(Section::FollowUp),
                });
            } else if can(Section::Return)
                || can(Section::FollowUp)
                || (admin && (follows || matches!(rel, Relation::SharedWith { agency: true, .. })))
            {
                // The return agency: the return's clocks only; the follow-up service (and
                // its administrator): the visits only.
                visible.push(Visible {
                    case: c,
                    stored: false,
                    proceedings: false,
                    returns: can(Section::Return)
                        || (admin && matches!(rel, Relation::SharedWith { agency: true, .. })),
                    follow_up: can(Section::FollowUp) || (admin && follows),
                });
            }
        }
        let (all, mut entries) = self.deadlines_of(actor, &visible).await?;
        let all: Vec<DeadlineView> = all.into_iter().filter(|d| filter.keeps(d)).collect();
        for e in &mut entries {
            e.route = route.chars().take(200).collect();
        }
        entries.insert(
            0,
            NewEntry::by(actor, None, Section::Deadlines, AuditAction::Read, route),
        );
        self.audit.record(entries).await?;
        Ok(DeadlinePage::of(all, paging))
    }

    /// The open deadlines of one case.
    pub async fn case_deadlines(
        &self,
        actor: &Actor,
        reference: &str,
        paging: Paging,
        route: Route<'_>,
    ) -> Result<DeadlinePage> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Deadlines),
                route,
            )
            .await?;
        let can = |s| may(actor.role, rel, CaseAction::ViewSection(s));
        let v = Visible {
            case: &c,
            stored: true,
            proceedings: can(Section::Proceedings),
            returns: can(Section::Return),
            follow_up: can(Section::FollowUp),
        };
        let (all, mut entries) = self.deadlines_of(actor, &[v]).await?;
        for e in &mut entries {
            e.route = route.chars().take(200).collect();
        }
        entries.insert(
            0,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Deadlines,
                AuditAction::Read,
                route,
            ),
        );
        self.audit.record(entries).await?;
        Ok(DeadlinePage::of(all, paging))
    }
}
