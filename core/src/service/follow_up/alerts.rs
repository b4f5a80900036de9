//! Alerts after return: raised by a follow-up officer (contact from traffickers or
//! recruiters, debts, threats, sanctions on return, a wish to re-migrate irregularly, a
//! missed visit with no contact) or by the system (scores, missed visits); acknowledged,
//! then closed with the action taken. They reach the follow-up service in full and the
//! destination side (the owning organisation's caseworkers, the person's advocate) as
//! category and severity only, while the reintegration consent of the hand-over is in
//! force; the details too only when that consent says so.

use super::*;
use crate::crypto::random_token;
use crate::domain::{self, Invalid, Role};
use crate::follow_up::{AlertChange, AutoAlert};
use crate::service::RulesRefused;
use crate::service::audit::{append_in, commit_audited};
use crate::store::begin_write;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, PaginatorTrait};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct AlertInput {
    /// trafficker_or_recruiter_contact, debt, threats_to_person_or_family,
    /// sanctions_on_return, wish_to_remigrate_irregularly or missed_visits_no_contact.
    pub category: String,
    /// low, medium, high or critical (contact from traffickers and threats: high at least).
    pub severity: String,
    /// What happened (encrypted; reaches the destination side only if the consent says so).
    #[serde(default)]
    pub details: Option<String>,
    /// The user of the follow-up organisation who owns it; the caller when empty.
    #[serde(default)]
    pub owner_user_id: Option<i64>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct AlertChangeInput {
    /// acknowledge, or close (with the action taken).
    pub change: String,
    #[serde(default)]
    pub action: Option<String>,
}

/// An alert as a list shows it: to the destination side, category and severity (and the
/// details only when the consent says so).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AlertSummary {
    pub id: String,
    pub reference: String,
    pub category: AlertCategory,
    pub severity: Severity,
    pub status: AlertStatus,
    pub automatic: bool,
    /// What raised an automatic alert (e.g. `low_score:economic`).
    pub rule: Option<String>,
    pub raised_at: DateTime<Utc>,
    /// Only for the follow-up service, or when the consent lets the destination side read
    /// the details.
    pub details: Option<String>,
}

fn severity_order(s: &str) -> u8 {
    Severity::parse(s).map_or(0, |s| s.rank())
}

fn sort_alerts(rows: &mut [follow_up_alert::Model]) {
    rows.sort_by(|a, b| {
        (a.status == "closed")
            .cmp(&(b.status == "closed"))
            .then(severity_order(&b.severity).cmp(&severity_order(&a.severity)))
            .then(b.raised_at.cmp(&a.raised_at))
    });
}

impl Services {
    /// Tell both sides of a new alert, in its transaction: the follow-up organisation's
    /// officers, and the destination advocate while the hand-over's consent is in force
    /// (the mail says only that there is an alert on the case).
    async fn tell_alert(
        &self,
        txn: &DatabaseTransaction,
        c: &case::Model,
        org_id: i64,
    ) -> Result<()> {
        use crate::notify::NotificationKind;
        use crate::service::notify::Event;
        let officers = self
            .users_with_roles(txn, org_id, &[Role::FollowUpOfficer])
            .await?;
        let event = |link: String| Event {
            kind: NotificationKind::AlertRaised,
            reference: Some(&c.reference),
            from_org_id: org_id,
            link,
        };
        self.notify_in(
            txn,
            &officers,
            &event(format!("/cases/{}/follow-up#alerts", c.reference)),
            None,
        )
        .await?;
        if let Some(adv) = c.advocate_user_id
            && let Some(h) = self.handover_of(txn, c.id).await?
            && h.consent.withdrawn_at.is_none()
            && let Some(u) = user::Entity::find_by_id(adv).first(txn).await?
        {
            self.notify_in(
                txn,
                &[u],
                &event(format!("/cases/{}#alerts", c.reference)),
                None,
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn alert_views<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<Vec<AlertView>> {
        let mut rows = follow_up_alert::Entity::find()
            .filter(follow_up_alert::Column::CaseId.eq(case_id))
            .all(db)
            .await?;
        sort_alerts(&mut rows);
        let names = self
            .display_names(
                db,
                rows.iter()
                    .flat_map(|r| [r.owner_user_id, r.raised_by])
                    .flatten(),
            )
            .await?;
        let name = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned());
        rows.into_iter()
            .map(|r| {
                Ok(AlertView {
                    category: AlertCategory::parse(&r.category)?,
                    severity: Severity::parse(&r.severity)?,
                    status: AlertStatus::parse(&r.status)?,
                    automatic: r.automatic,
                    details: self.open_opt(
                        "follow_up_alerts",
                        "details",
                        &r.id,
                        r.details_enc.as_ref(),
                    )?,
                    action: self.open_opt(
                        "follow_up_alerts",
                        "action",
                        &r.id,
                        r.action_enc.as_ref(),
                    )?,
                    owner: name(r.owner_user_id),
                    raised_by: name(r.raised_by),
                    raised_at: r.raised_at,
                    acknowledged_at: r.acknowledged_at,
                    closed_at: r.closed_at,
                    rule: r.rule,
                    id: r.id,
                })
            })
            .collect()
    }

    /// Raise an automatic alert in the caller's transaction, unless one raised by the same
    /// rule is still open or acknowledged on the case (it would say the same thing again).
    /// True when it was raised. Its owner is the user whose record raised it.
    pub(crate) async fn raise_automatic(
        &self,
        txn: &DatabaseTransaction,
        c: &case::Model,
        org_id: i64,
        actor: &Actor,
        a: &AutoAlert,
        rule: &str,
    ) -> Result<bool> {
        let open = follow_up_alert::Entity::find()
            .filter(follow_up_alert::Column::CaseId.eq(c.id))
            .filter(follow_up_alert::Column::Rule.eq(rule))
            .filter(follow_up_alert::Column::Status.ne(AlertStatus::Closed.as_str()))
            .count(txn)
            .await?;
        if open > 0 {
            return Ok(false);
        }
        let id = random_token(16)?;
        follow_up_alert::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            org_id: Set(org_id),
            category: Set(a.category.as_str().into()),
            severity: Set(a.severity.as_str().into()),
            status: Set(AlertStatus::Open.as_str().into()),
            automatic: Set(true),
            rule: Set(Some(rule.chars().take(64).collect())),
            // The message names scores and counts, not the person; kept encrypted like
            // every alert's details all the same.
            details_enc: Set(Some(self.seal_field(
                c.owner_org_id,
                "follow_up_alerts",
                "details",
                &id,
                &a.message,
            )?)),
            owner_user_id: Set(Some(actor.user_id)),
            raised_by: Set(None),
            raised_at: Set(Utc::now()),
            acknowledged_by: Set(None),
            acknowledged_at: Set(None),
            closed_by: Set(None),
            closed_at: Set(None),
            action_enc: Set(None),
        }
        .insert(txn)
        .await?;
        self.tell_alert(txn, c, org_id).await?;
        Ok(true)
    }

    /// A follow-up officer raises an alert. Answers its id.
    pub async fn raise_alert(
        &self,
        actor: &Actor,
        reference: &str,
        input: &AlertInput,
        route: Route<'_>,
    ) -> Result<String> {
        let category = AlertCategory::parse(input.category.trim())?;
        if matches!(category, AlertCategory::LowScore | AlertCategory::SharpDrop) {
            return Err(Invalid::new(
                "category",
                "low_score and sharp_drop alerts are raised by the assessments themselves",
            )
            .into());
        }
        let severity = Severity::parse(input.severity.trim())?;
        rules::check_new_alert(category, severity).map_err(|r| {
            ServiceError::RulesRefused(RulesRefused::new(
                "raise_alert",
                "the alert cannot be raised",
                vec![r],
            ))
        })?;
        let details =
            domain::parse_optional_text("details", input.details.as_deref(), rules::MAX_TEXT)?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let h = self.handover_required(&txn, c.id).await?;
        let owner = match input.owner_user_id {
            None => actor.user_id,
            Some(uid) => {
                let u = user::Entity::find_by_id(uid)
                    .first(&txn)
                    .await?
                    .filter(|u| u.org_id == actor.org_id && u.active)
                    .ok_or_else(|| {
                        Invalid::new(
                            "owner_user_id",
                            "no active user of your organisation has this id",
                        )
                    })?;
                u.id
            }
        };
        let id = random_token(16)?;
        follow_up_alert::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            org_id: Set(h.org_id),
            category: Set(category.as_str().into()),
            severity: Set(severity.as_str().into()),
            status: Set(AlertStatus::Open.as_str().into()),
            automatic: Set(false),
            rule: Set(None),
            details_enc: Set(self.seal_opt(
                c.owner_org_id,
                "follow_up_alerts",
                "details",
                &id,
                details.as_deref(),
            )?),
            owner_user_id: Set(Some(owner)),
            raised_by: Set(Some(actor.user_id)),
            raised_at: Set(Utc::now()),
            acknowledged_by: Set(None),
            acknowledged_at: Set(None),
            closed_by: Set(None),
            closed_at: Set(None),
            action_enc: Set(None),
        }
        .insert(&txn)
        .await?;
        self.tell_alert(&txn, &c, h.org_id).await?;
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
        Ok(id)
    }

    /// Acknowledge an alert, or close it with the action taken.
    pub async fn change_alert(
        &self,
        actor: &Actor,
        reference: &str,
        alert_id: &str,
        input: &AlertChangeInput,
        route: Route<'_>,
    ) -> Result<()> {
        let change = match input.change.trim() {
            "acknowledge" => AlertChange::Acknowledge,
            "close" => AlertChange::Close {
                action: input.action.clone().unwrap_or_default(),
            },
            _ => {
                return Err(Invalid::new("change", "must be acknowledge or close").into());
            }
        };
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let m = follow_up_alert::Entity::find_by_id(alert_id.to_owned())
            .first(&txn)
            .await?
            .filter(|m| m.case_id == c.id)
            .ok_or(ServiceError::NotFound("alert"))?;
        let current = AlertStatus::parse(&m.status)?;
        let next = rules::check_alert_change(current, &change).map_err(|r| {
            ServiceError::RulesRefused(RulesRefused::new(
                "change_alert",
                "the alert cannot change so",
                vec![r],
            ))
        })?;
        let now = Utc::now();
        let mut am: follow_up_alert::ActiveModel = m.clone().into();
        am.status = Set(next.as_str().into());
        match &change {
            AlertChange::Acknowledge => {
                am.acknowledged_by = Set(Some(actor.user_id));
                am.acknowledged_at = Set(Some(now));
            }
            AlertChange::Close { action } => {
                am.closed_by = Set(Some(actor.user_id));
                am.closed_at = Set(Some(now));
                am.action_enc = Set(Some(self.seal_field(
                    c.owner_org_id,
                    "follow_up_alerts",
                    "action",
                    &m.id,
                    action.trim(),
                )?));
            }
        }
        let done = follow_up_alert::Entity::update_many()
            .set(am)
            .filter(follow_up_alert::Column::Id.eq(m.id.clone()))
            .filter(follow_up_alert::Column::Status.eq(m.status.clone()))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(ServiceError::Conflict(
                "this alert was changed by someone else meanwhile; reload it and try again".into(),
            ));
        }
        append_in(
            &txn,
            &[NewEntry::by(
                actor,
                Some(&c.reference),
                Section::FollowUp,
                AuditAction::Update,
                route,
            )],
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// What the destination side sees of one case's alerts; the follow-up service sees
    /// them in full. Empty once the reintegration consent of the hand-over is withdrawn.
    pub async fn case_alerts(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<Vec<AlertSummary>> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::FollowUpAlerts),
                route,
            )
            .await?;
        let full = may(actor.role, rel, CaseAction::ViewSection(Section::FollowUp));
        let out = self
            .summaries_of(&[(c.id, c.reference.clone())], full, false)
            .await?;
        self.audit
            .read(actor, Some(&c.reference), Section::FollowUpAlerts, route)
            .await?;
        Ok(out)
    }

    /// The alerts of these cases as the caller may see them: in full for the follow-up
    /// service (`full`), else only while the hand-over's consent is in force, with the
    /// details when it says so. `open_only`: leave out closed alerts.
    async fn summaries_of(
        &self,
        cases: &[(i64, String)],
        full: bool,
        open_only: bool,
    ) -> Result<Vec<AlertSummary>> {
        let mut out = Vec::new();
        for (case_id, reference) in cases {
            let details = if full {
                true
            } else {
                match self.handover_of(&self.db, *case_id).await? {
                    Some(h) if h.consent.withdrawn_at.is_none() => h.consent.alert_details,
                    // No hand-over in force: nothing reaches the destination side.
                    _ => continue,
                }
            };
            let mut rows = follow_up_alert::Entity::find()
                .filter(follow_up_alert::Column::CaseId.eq(*case_id))
                .all(&self.db)
                .await?;
            if open_only {
                rows.retain(|r| r.status != AlertStatus::Closed.as_str());
            }
            sort_alerts(&mut rows);
            for r in rows {
                out.push(AlertSummary {
                    category: AlertCategory::parse(&r.category)?,
                    severity: Severity::parse(&r.severity)?,
                    status: AlertStatus::parse(&r.status)?,
                    automatic: r.automatic,
                    rule: r.rule.clone(),
                    raised_at: r.raised_at,
                    details: if details {
                        self.open_opt("follow_up_alerts", "details", &r.id, r.details_enc.as_ref())?
                    } else {
                        None
                    },
                    reference: reference.clone(),
                    id: r.id,
                });
            }
        }
        out.sort_by(|a, b| {
            b.severity
                .rank()
                .cmp(&a.severity.rank())
                .then(b.raised_at.cmp(&a.raised_at))
        });
        Ok(out)
    }

    /// The open alerts that concern the caller, most severe first: for a follow-up
    /// officer, those of the cases their organisation follows up (in full); for an
    /// advocate, those of the cases assigned to them whose hand-over consent is in force
    /// (category and severity; the details if the consent says so). Each case read is
    /// audited.
    pub async fn my_alerts(&self, actor: &Actor, route: Route<'_>) -> Result<Vec<AlertSummary>> {
        let (cases, full): (Vec<(i64, String)>, bool) = match actor.role {
            Role::FollowUpOfficer => (
                self.followed_cases(actor).await?.into_iter().collect(),
                true,
            ),
            Role::Advocate => {
                let with_alerts = sea_orm::sea_query::Query::select()
                    .column(follow_up_alert::Column::CaseId)
                    .from(follow_up_alert::Entity)
                    .and_where(follow_up_alert::Column::Status.ne(AlertStatus::Closed.as_str()))
                    .to_owned();
                let rows = case::Entity::find()
                    .filter(case::Column::AdvocateUserId.eq(actor.user_id))
                    .filter(case::Column::ClosedAt.is_null())
                    .filter(case::Column::Id.in_subquery(with_alerts))
                    .all(&self.db)
                    .await?;
                let mut keep = Vec::new();
                for c in rows {
                    let rel = self.relation(&self.db, actor, &c).await?;
                    if may(
                        actor.role,
                        rel,
                        CaseAction::ViewSection(Section::FollowUpAlerts),
                    ) {
                        keep.push((c.id, c.reference));
                    }
                }
                (keep, false)
            }
            _ => (vec![], false),
        };
        let out = self.summaries_of(&cases, full, true).await?;
        let mut read: Vec<&str> = out.iter().map(|a| a.reference.as_str()).collect();
        read.sort();
        read.dedup();
        if !read.is_empty() {
            let section = if full {
                Section::FollowUp
            } else {
                Section::FollowUpAlerts
            };
            self.audit
                .record(
                    read.into_iter()
                        .map(|r| NewEntry::by(actor, Some(r), section, AuditAction::Read, route))
                        .collect(),
                )
                .await?;
        }
        Ok(out)
    }
}
