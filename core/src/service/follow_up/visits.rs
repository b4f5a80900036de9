//! Visits: planned on arrival from the jurisdiction's schedule, recorded (done, missed,
//! cancelled), rescheduled, corrected, and the schedule extended. A missed visit may
//! raise the "missed visits, no contact" alert.

use super::*;
use crate::crypto::random_token;
use crate::domain::{self, CaseEvent, Invalid};
use crate::follow_up::VisitChange;
use crate::service::RulesRefused;
use crate::service::audit::commit_audited;
use crate::store::begin_write;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction};

/// What happened to a visit, or how it changes.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct VisitInput {
    /// done, missed, cancelled (a planned visit), reschedule (a planned visit, to
    /// `due_on`), or correct (a done or missed one, with `to` and a `note`).
    pub change: String,
    /// For a correction: what the visit really was, done or missed.
    #[serde(default)]
    pub to: Option<String>,
    /// YYYY-MM-DD: when the visit took place or was missed (done, missed, correct).
    #[serde(default)]
    pub on: Option<String>,
    /// in_person, phone or video (done).
    #[serde(default)]
    pub mode: Option<String>,
    /// Who made the visit (done).
    #[serde(default)]
    pub visitor: Option<String>,
    /// Why it was missed or cancelled.
    #[serde(default)]
    pub reason: Option<String>,
    /// YYYY-MM-DD: the new due date (reschedule).
    #[serde(default)]
    pub due_on: Option<String>,
    /// What was wrong (correct).
    #[serde(default)]
    pub note: Option<String>,
}

/// More visits: days after arrival, or dates.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ExtendInput {
    /// Days after the arrival.
    #[serde(default)]
    pub offsets_days: Vec<u32>,
    /// YYYY-MM-DD dates (each turned into days after the arrival).
    #[serde(default)]
    pub due_on: Vec<String>,
}

/// A visit that needs the follow-up officer: due within two weeks, overdue, or missed
/// since the last contact.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DueVisit {
    pub reference: String,
    pub visit_id: String,
    pub due_on: NaiveDate,
    /// planned or missed.
    pub status: String,
    pub overdue: bool,
    /// Days until due (negative: late).
    pub days_left: i64,
}

fn day(field: &'static str, s: Option<&str>) -> Result<NaiveDate, Invalid> {
    let s = s
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Invalid::new(field, "is required: a date written YYYY-MM-DD"))?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, "must be a date written YYYY-MM-DD"))
}

fn text(s: Option<&str>) -> String {
    s.map(str::trim).unwrap_or("").to_owned()
}

/// The outcome a form or request describes (`what`: done, missed or cancelled).
fn outcome(what: &str, input: &VisitInput) -> Result<VisitStatus> {
    Ok(match what {
        "done" => VisitStatus::Done {
            on: day("on", input.on.as_deref())?,
            mode: VisitMode::parse(input.mode.as_deref().unwrap_or("").trim())?,
            by: text(input.visitor.as_deref()),
        },
        "missed" => VisitStatus::Missed {
            on: day("on", input.on.as_deref())?,
            reason: text(input.reason.as_deref()),
        },
        "cancelled" => VisitStatus::Cancelled {
            reason: text(input.reason.as_deref()),
        },
        _ => {
            return Err(Invalid::new("to", "must be done or missed").into());
        }
    })
}

fn parse_change(input: &VisitInput) -> Result<VisitChange> {
    Ok(match input.change.trim() {
        w @ ("done" | "missed" | "cancelled") => VisitChange::Record {
            to: outcome(w, input)?,
        },
        "reschedule" => VisitChange::Reschedule {
            due_on: day("due_on", input.due_on.as_deref())?,
        },
        "correct" => {
            let to = input.to.as_deref().map(str::trim).unwrap_or("");
            if !matches!(to, "done" | "missed") {
                return Err(
                    Invalid::new("to", "a correction records the visit as done or missed").into(),
                );
            }
            VisitChange::Correct {
                to: outcome(to, input)?,
                note: text(input.note.as_deref()),
            }
        }
        _ => {
            return Err(Invalid::new(
                "change",
                "must be one of: done, missed, cancelled, reschedule, correct",
            )
            .into());
        }
    })
}

fn refused(action: &str, what: &str, r: crate::returns::Refusal) -> ServiceError {
    ServiceError::RulesRefused(RulesRefused::new(action, what, vec![r]))
}

impl Services {
    pub(crate) async fn visit_rows<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<Vec<follow_up_visit::Model>> {
        Ok(follow_up_visit::Entity::find()
            .filter(follow_up_visit::Column::CaseId.eq(case_id))
            .order_by_asc(follow_up_visit::Column::DueOn)
            .order_by_asc(follow_up_visit::Column::CreatedAt)
            .all(db)
            .await?)
    }

    /// A stored visit with its texts decrypted, as the rules know it.
    fn visit_full(&self, m: &follow_up_visit::Model) -> Result<Visit> {
        let mut v = visit_of(m)?;
        let visitor = self
            .open_opt("follow_up_visits", "visitor", &m.id, m.visitor_enc.as_ref())?
            .unwrap_or_default();
        let why = self
            .open_opt("follow_up_visits", "reason", &m.id, m.reason_enc.as_ref())?
            .unwrap_or_default();
        match &mut v.status {
            VisitStatus::Done { by, .. } => *by = visitor,
            VisitStatus::Missed { reason, .. } | VisitStatus::Cancelled { reason } => *reason = why,
            VisitStatus::Planned => {}
        }
        Ok(v)
    }

    pub(crate) fn visit_view(
        &self,
        m: &follow_up_visit::Model,
        v: &Visit,
        grace_days: u32,
        today: NaiveDate,
    ) -> Result<VisitView> {
        Ok(VisitView {
            id: m.id.clone(),
            due_on: m.due_on,
            status: m.status.clone(),
            happened_on: m.happened_on,
            mode: m.mode.clone(),
            visitor: self.open_opt("follow_up_visits", "visitor", &m.id, m.visitor_enc.as_ref())?,
            reason: self.open_opt("follow_up_visits", "reason", &m.id, m.reason_enc.as_ref())?,
            correction_note: self.open_opt(
                "follow_up_visits",
                "correction_note",
                &m.id,
                m.correction_note_enc.as_ref(),
            )?,
            overdue: rules::is_overdue(v, grace_days, today),
            added: m.added,
        })
    }

    /// Plan the follow-up on arrival: the jurisdiction's schedule for this person, for
    /// the organisation the case is handed over to. Called by the arrival, in its
    /// transaction, with the schedule asked of the jurisdiction before it began.
    pub(crate) async fn plan_visits(
        &self,
        txn: &DatabaseTransaction,
        case_id: i64,
        org_id: i64,
        arrival: NaiveDate,
        offsets_days: &[u32],
        by_user: i64,
    ) -> Result<usize> {
        let dates = rules::schedule(arrival, offsets_days).map_err(|e| {
            ServiceError::Port(crate::ports::PortError::new(
                "domain",
                format!(
                    "the jurisdiction's follow-up schedule is not usable: {}",
                    e.message
                ),
            ))
        })?;
        self.insert_visits(txn, case_id, org_id, &dates, false, by_user)
            .await?;
        Ok(dates.len())
    }

    async fn insert_visits(
        &self,
        txn: &DatabaseTransaction,
        case_id: i64,
        org_id: i64,
        dates: &[NaiveDate],
        added: bool,
        by_user: i64,
    ) -> Result<()> {
        let now = Utc::now();
        for d in dates {
            follow_up_visit::ActiveModel {
                id: Set(random_token(16)?),
                case_id: Set(case_id),
                org_id: Set(org_id),
                due_on: Set(*d),
                status: Set("planned".into()),
                happened_on: Set(None),
                mode: Set(None),
                visitor_enc: Set(None),
                reason_enc: Set(None),
                correction_note_enc: Set(None),
                added: Set(added),
                created_by: Set(by_user),
                created_at: Set(now),
                updated_by: Set(None),
                updated_at: Set(None),
            }
            .insert(txn)
            .await?;
        }
        Ok(())
    }

    /// The schedule the jurisdiction gives for this case's person (days after arrival).
    pub(crate) async fn follow_up_schedule<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
    ) -> Result<Vec<u32>> {
        let facts = self.person_facts(db, c).await?;
        let j = self.jurisdiction_of(db, c).await?;
        self.call_port(move || j.follow_up_schedule_days(&facts))
            .await
    }

    /// Record what happened to a visit, reschedule it, or correct it. Answers the visit.
    pub async fn change_visit(
        &self,
        actor: &Actor,
        reference: &str,
        visit_id: &str,
        input: &VisitInput,
        route: Route<'_>,
    ) -> Result<VisitView> {
        let change = parse_change(input)?;
        let (c, _) = self
            .load_for(&self.db, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let h = self.handover_required(&self.db, c.id).await?;
        let config = self.reintegration_config(&self.db, &c, h.org_id).await?;
        let today = Utc::now().date_naive();
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let m = follow_up_visit::Entity::find_by_id(visit_id.to_owned())
            .first(&txn)
            .await?
            .filter(|m| m.case_id == c.id)
            .ok_or(ServiceError::NotFound("visit"))?;
        let current = self.visit_full(&m)?;
        let next = rules::apply_visit_change(&current, &change, h.arrival_on(), today)
            .map_err(|r| refused("change_visit", "the visit cannot be changed so", r))?;
        let now = Utc::now();
        let id = m.id.clone();
        let mut am: follow_up_visit::ActiveModel = m.clone().into();
        am.due_on = Set(next.due_on);
        am.status = Set(next.status.name().into());
        am.updated_by = Set(Some(actor.user_id));
        am.updated_at = Set(Some(now));
        match &next.status {
            VisitStatus::Done { on, mode, by } => {
                am.happened_on = Set(Some(*on));
                am.mode = Set(Some(mode.as_str().into()));
                am.visitor_enc = Set(Some(self.seal_field(
                    c.owner_org_id,
                    "follow_up_visits",
                    "visitor",
                    &id,
                    by.trim(),
                )?));
                am.reason_enc = Set(None);
            }
            VisitStatus::Missed { on, reason } => {
                am.happened_on = Set(Some(*on));
                am.mode = Set(None);
                am.visitor_enc = Set(None);
                am.reason_enc = Set(Some(self.seal_field(
                    c.owner_org_id,
                    "follow_up_visits",
                    "reason",
                    &id,
                    reason.trim(),
                )?));
            }
            VisitStatus::Cancelled { reason } => {
                am.reason_enc = Set(Some(self.seal_field(
                    c.owner_org_id,
                    "follow_up_visits",
                    "reason",
                    &id,
                    reason.trim(),
                )?));
            }
            VisitStatus::Planned => {}
        }
        if let VisitChange::Correct { note, .. } = &change {
            am.correction_note_enc = Set(Some(self.seal_field(
                c.owner_org_id,
                "follow_up_visits",
                "correction_note",
                &id,
                note.trim(),
            )?));
        }
        // Another officer's change of the same visit meanwhile is refused, not overwritten.
        let updated = follow_up_visit::Entity::update_many()
            .set(am)
            .filter(follow_up_visit::Column::Id.eq(id.clone()))
            .filter(follow_up_visit::Column::Status.eq(m.status.clone()))
            .filter(follow_up_visit::Column::DueOn.eq(m.due_on))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(ServiceError::Conflict(
                "this visit was changed by someone else meanwhile; reload it and try again".into(),
            ));
        }
        if matches!(
            next.status,
            VisitStatus::Done { .. } | VisitStatus::Missed { .. }
        ) {
            self.advance_stage(&txn, c.id, CaseEvent::FollowUpStarted)
                .await?;
        }
        let mut entries = vec![];
        if matches!(next.status, VisitStatus::Missed { .. }) {
            // The follow-up service's other officers hear of it.
            let others: Vec<_> = self
                .users_with_roles(&txn, h.org_id, &[crate::domain::Role::FollowUpOfficer])
                .await?
                .into_iter()
                .filter(|u| u.id != actor.user_id)
                .collect();
            self.notify_in(
                &txn,
                &others,
                &crate::service::notify::Event {
                    kind: crate::notify::NotificationKind::FollowUpVisitMissed,
                    reference: Some(&c.reference),
                    from_org_id: h.org_id,
                    link: format!("/cases/{}/follow-up#visits", c.reference),
                },
                None,
            )
            .await?;
            let rows = self.visit_rows(&txn, c.id).await?;
            let plain: Vec<Visit> = rows.iter().map(visit_of).collect::<Result<Vec<_>>>()?;
            if let Some(a) = rules::missed_visit_alert(&plain, &config.alerts) {
                self.raise_automatic(&txn, &c, h.org_id, actor, &a, "missed_visits")
                    .await?;
                entries.push(NewEntry::by(
                    actor,
                    Some(&c.reference),
                    Section::FollowUp,
                    AuditAction::Create,
                    route,
                ));
            }
        }
        entries.insert(
            0,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::FollowUp,
                AuditAction::Update,
                route,
            ),
        );
        crate::service::audit::append_in(&txn, &entries).await?;
        txn.commit().await?;
        let m = follow_up_visit::Entity::find_by_id(id)
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("visit"))?;
        let v = visit_of(&m)?;
        self.visit_view(&m, &v, config.visits.grace_days, today)
    }

    /// Add visits to the schedule (due today or later). Answers the ids of the new ones.
    pub async fn extend_visits(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ExtendInput,
        route: Route<'_>,
    ) -> Result<Vec<String>> {
        let today = Utc::now().date_naive();
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let h = self.handover_required(&txn, c.id).await?;
        let mut offsets = input.offsets_days.clone();
        for d in &input.due_on {
            let d = day("due_on", Some(d))?;
            let days = (d - h.arrived_on).num_days();
            if days < 0 {
                return Err(Invalid::new(
                    "due_on",
                    format!("{d} is before the person's arrival on {}", h.arrived_on),
                )
                .into());
            }
            offsets.push(u32::try_from(days).unwrap_or(u32::MAX));
        }
        let existing: Vec<NaiveDate> = self
            .visit_rows(&txn, c.id)
            .await?
            .iter()
            .map(|v| v.due_on)
            .collect();
        let new = rules::extend_schedule(h.arrived_on, &existing, &offsets, today)?;
        self.insert_visits(&txn, c.id, h.org_id, &new, true, actor.user_id)
            .await?;
        let ids: Vec<String> = self
            .visit_rows(&txn, c.id)
            .await?
            .into_iter()
            .filter(|v| v.added && new.contains(&v.due_on) && v.status == "planned")
            .map(|v| v.id)
            .collect();
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::FollowUp,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(ids)
    }

    /// The visits that need the caller (a follow-up officer): planned visits due within
    /// 14 days or overdue, and visits missed since the last contact, of the cases their
    /// organisation follows up. Soonest first. References and dates only; audited as a
    /// read of each case's follow-up.
    pub async fn due_visits(&self, actor: &Actor, route: Route<'_>) -> Result<Vec<DueVisit>> {
        let today = Utc::now().date_naive();
        let cases = self.followed_cases(actor).await?;
        if cases.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<i64> = cases.keys().copied().collect();
        let rows = follow_up_visit::Entity::find()
            .filter(follow_up_visit::Column::CaseId.is_in(ids))
            .filter(follow_up_visit::Column::Status.is_in(["planned", "missed", "done"]))
            .order_by_asc(follow_up_visit::Column::DueOn)
            .all(&self.db)
            .await?;
        let grace = self.default_reintegration()?.visits.grace_days;
        let mut by_case: HashMap<i64, Vec<&follow_up_visit::Model>> = HashMap::new();
        for r in &rows {
            by_case.entry(r.case_id).or_default().push(r);
        }
        let mut out = Vec::new();
        let mut read = Vec::new();
        for (case_id, rows) in by_case {
            let Some(reference) = cases.get(&case_id) else {
                continue;
            };
            let last_done = rows
                .iter()
                .filter(|r| r.status == "done")
                .map(|r| r.due_on)
                .max();
            let mut any = false;
            for r in rows {
                let v = visit_of(r)?;
                let keep = match r.status.as_str() {
                    "planned" => (r.due_on - today).num_days() <= 14,
                    "missed" => last_done.is_none_or(|d| r.due_on > d),
                    _ => false,
                };
                if keep {
                    any = true;
                    out.push(DueVisit {
                        reference: reference.clone(),
                        visit_id: r.id.clone(),
                        due_on: r.due_on,
                        status: r.status.clone(),
                        overdue: rules::is_overdue(&v, grace, today),
                        days_left: (r.due_on - today).num_days(),
                    });
                }
            }
            if any {
                read.push(reference.clone());
            }
        }
        out.sort_by(|a, b| a.due_on.cmp(&b.due_on).then(a.reference.cmp(&b.reference)));
        read.sort();
        if !read.is_empty() {
            self.audit
                .record(
                    read.iter()
                        .map(|r| {
                            NewEntry::by(
                                actor,
                                Some(r),
                                Section::FollowUp,
                                AuditAction::Read,
                                route,
                            )
                        })
                        .collect(),
                )
                .await?;
        }
        Ok(out)
    }

    /// The open cases the caller's organisation follows up (the hand-over referral for
    /// reintegration, on a consent in force; or owned by it, for a follow-up officer of an
    /// origin-country service that owns the case), by id → reference. Only for roles that
    /// see the follow-up.
    pub(crate) async fn followed_cases(&self, actor: &Actor) -> Result<HashMap<i64, String>> {
        if actor.role != crate::domain::Role::FollowUpOfficer {
            return Ok(HashMap::new());
        }
        let live = sea_orm::sea_query::Query::select()
            .column(consent::Column::Id)
            .from(consent::Entity)
            .and_where(consent::Column::WithdrawnAt.is_null())
            .to_owned();
        let handed: Vec<i64> = referral::Entity::find()
            .filter(referral::Column::ToOrgId.eq(actor.org_id))
            .filter(referral::Column::Service.eq(domain::Purpose::Reintegration.as_str()))
            .filter(referral::Column::Status.eq("accepted"))
            .filter(referral::Column::ConsentId.in_subquery(live))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| r.case_id)
            .collect();
        let cases = case::Entity::find()
            .filter(case::Column::ClosedAt.is_null())
            .filter(
                sea_orm::Condition::any()
                    .add(case::Column::Id.is_in(handed))
                    .add(case::Column::OwnerOrgId.eq(actor.org_id)),
            )
            .all(&self.db)
            .await?;
        Ok(cases.into_iter().map(|c| (c.id, c.reference)).collect())
    }
}

impl Handover {
    pub(crate) fn arrival_on(&self) -> NaiveDate {
        self.arrived_on
    }
}
