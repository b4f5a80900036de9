//! Notifications (issue 13): written by the use cases in the transaction of their change
//! (`notify_in`), made by the scheduler for deadlines that come near (`schedule_reminders`,
//! each reminder once across nodes by its unique `dedup_key`), claimed by the delivery
//! workers of every node (`claim_due`: a lease, and `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL; the single writer on SQLite), marked sent or failed (`mark_sent`,
//! `mark_failed`: exponential backoff, then the address is marked failing for the
//! administrator). A crash between sending and marking leaves the lease to expire: the
//! message is sent again with the same `Message-ID`, never lost. In-app: the caller's
//! list, its unread count, marking read.

use super::{Actor, Result, ServiceError, Services, page_of};
use crate::crypto::random_token;
use crate::domain::{Paging, Role};
use crate::notify::{AfterFailure, Delivery, NotificationKind, ReminderWindows, RetryPolicy};
use crate::store::entity::{notification, notification_pref, organisation, user};
use crate::store::{First, begin_write};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Statement,
};

/// A reminder to make: its dedup base, recipients, case (id, reference), organisation,
/// link.
type Reminder = (String, Vec<i64>, Option<(i64, String)>, i64, String);

/// A notification as the in-app list shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: String,
    pub kind: NotificationKind,
    pub reference: Option<String>,
    pub from_org: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

page_of!(
    /// A page of the caller's notifications, newest first.
    NotificationPage,
    NotificationView
);

/// How one kind is delivered to the caller (or by default in their organisation).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Preference {
    pub kind: NotificationKind,
    /// immediately, daily_digest or off; none: the default (the organisation's, else
    /// immediately).
    pub delivery: Option<Delivery>,
    /// Alerts and overdue deadlines cannot be turned off.
    pub mandatory: bool,
}

page_of!(
    /// The deliveries of every kind (one page holds them all).
    PreferencePage,
    Preference
);

/// A choice of delivery for one kind.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PreferenceInput {
    pub kind: String,
    /// immediately, daily_digest or off; empty or absent: back to the default.
    #[serde(default)]
    pub delivery: Option<String>,
}

/// A message claimed for delivery by one node.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub email: String,
    pub lang: String,
    pub kind: NotificationKind,
    pub reference: Option<String>,
    pub from_org: String,
    pub link: String,
    pub attempts: i32,
    /// For a digest: the events it gathers (kind, case reference), oldest first.
    pub items: Vec<(NotificationKind, Option<String>)>,
}

/// What a use case tells: the kind, the case (its reference), the organisation it comes
/// from, the page to open.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: NotificationKind,
    pub reference: Option<&'a str>,
    pub from_org_id: i64,
    pub link: String,
}

impl Services {
    /// Write one notification per recipient, in the caller's transaction (the change and
    /// its notifications commit together, or neither does). Inactive users are skipped.
    pub(crate) async fn notify_in(
        &self,
        txn: &DatabaseTransaction,
        recipients: &[user::Model],
        event: &Event<'_>,
        dedup: Option<&str>,
    ) -> Result<usize> {
        self.notify_many_in(txn, &[(recipients, event, dedup)])
            .await
    }

    /// [`Self::notify_in`] for several events at once: the organisations' names and the
    /// recipients' deliveries read in one query each, the rows written in multi-row
    /// inserts (a notification whose `dedup_key` exists already is skipped). The number
    /// of rows written.
    pub(crate) async fn notify_many_in(
        &self,
        txn: &DatabaseTransaction,
        items: &[(&[user::Model], &Event<'_>, Option<&str>)],
    ) -> Result<usize> {
        use std::collections::{BTreeSet, HashMap};
        if items
            .iter()
            .any(|(_, e, _)| !crate::notify::safe_path(&e.link))
        {
            return Err(ServiceError::Unexpected(anyhow::anyhow!(
                "a notification link must be a path of this deployment"
            )));
        }
        let orgs: BTreeSet<i64> = items.iter().map(|(_, e, _)| e.from_org_id).collect();
        let names: HashMap<i64, String> = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(orgs))
            .all(txn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name.chars().take(200).collect()))
            .collect();
        let active = || {
            items
                .iter()
                .flat_map(|(rs, _, _)| rs.iter())
                .filter(|u| u.active)
        };
        let prefs = if active().next().is_none() {
            vec![]
        } else {
            let kinds: BTreeSet<&str> = items.iter().map(|(_, e, _)| e.kind.as_str()).collect();
            let users: BTreeSet<i64> = active().map(|u| u.id).collect();
            let user_orgs: BTreeSet<i64> = active().map(|u| u.org_id).collect();
            notification_pref::Entity::find()
                .filter(notification_pref::Column::Kind.is_in(kinds))
                .filter(
                    sea_orm::Condition::any()
                        .add(
                            sea_orm::Condition::all()
                                .add(notification_pref::Column::Scope.eq("user"))
                                .add(notification_pref::Column::ScopeId.is_in(users)),
                        )
                        .add(
                            sea_orm::Condition::all()
                                .add(notification_pref::Column::Scope.eq("org"))
                                .add(notification_pref::Column::ScopeId.is_in(user_orgs)),
                        ),
                )
                .all(txn)
                .await?
        };
        let now = Utc::now();
        let mut rows = Vec::new();
        for (recipients, event, dedup) in items {
            for u in recipients.iter().filter(|u| u.active) {
                let delivery = crate::notify::effective_delivery(
                    event.kind,
                    chosen_delivery(&prefs, u, event.kind)?,
                );
                let mail_status = match delivery {
                    Delivery::Immediately => "pending",
                    Delivery::DailyDigest => "digest",
                    Delivery::Off => "none",
                };
                rows.push(notification::ActiveModel {
                    id: Set(random_token(16)?),
                    user_id: Set(u.id),
                    org_id: Set(u.org_id),
                    kind: Set(event.kind.as_str().into()),
                    case_ref: Set(event.reference.map(str::to_owned)),
                    from_org: Set(names.get(&event.from_org_id).cloned().unwrap_or_default()),
                    link: Set(event.link.clone()),
                    lang: Set(u.lang.clone()),
                    email: Set(u.email.clone()),
                    delivery: Set(delivery.as_str().into()),
                    mail_status: Set(mail_status.into()),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    lease_owner: Set(None),
                    lease_until: Set(None),
                    sent_at: Set(None),
                    last_error: Set(None),
                    read_at: Set(None),
                    dedup_key: Set(dedup.map(|d| format!("{d}|{}", u.id))),
                    created_at: Set(now),
                    digest_id: Set(None),
                    secret_enc: Set(None),
                });
            }
        }
        let mut n = 0;
        // 22 columns a row: 200 rows keep a statement well under SQLite's bound parameters.
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(200).collect();
            n += notification::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::column(notification::Column::DedupKey)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await? as usize;
        }
        Ok(n)
    }

    /// Tell the case's assigned advocate (unless they did it themselves) of an event on
    /// one of the case's pages (`page`: "return", "proceedings"...), in `txn`.
    pub(crate) async fn tell_case_advocate(
        &self,
        txn: &DatabaseTransaction,
        c: &crate::store::entity::case::Model,
        actor: &Actor,
        kind: NotificationKind,
        page: &str,
    ) -> Result<()> {
        let Some(adv) = c.advocate_user_id.filter(|a| *a != actor.user_id) else {
            return Ok(());
        };
        let Some(u) = user::Entity::find_by_id(adv).first(txn).await? else {
            return Ok(());
        };
        self.notify_in(
            txn,
            &[u],
            &Event {
                kind,
                reference: Some(&c.reference),
                from_org_id: actor.org_id,
                link: format!("/cases/{}/{page}", c.reference),
            },
            None,
        )
        .await?;
        Ok(())
    }

    /// The active users of an organisation with one of these roles.
    pub(crate) async fn users_with_roles<C: ConnectionTrait>(
        &self,
        db: &C,
        org_id: i64,
        roles: &[Role],
    ) -> Result<Vec<user::Model>> {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Ok(user::Entity::find()
            .filter(user::Column::OrgId.eq(org_id))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::Role.is_in(names))
            .all(db)
            .await?)
    }

    /// Claim up to `limit` due messages for this node, for `lease` (another node takes
    /// over a message whose lease expired: sent again with the same `Message-ID`).
    pub async fn claim_due(&self, node: &str, lease: Duration, limit: u32) -> Result<Vec<Claimed>> {
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let backend = txn.get_database_backend();
        // The limit is a literal integer (never a bound parameter: see store::First).
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let (p1, p2) = if backend == DbBackend::Postgres {
            ("$1", "$2")
        } else {
            ("?", "?")
        };
        let sql = format!(
            "SELECT id FROM notifications WHERE mail_status = 'pending' AND next_attempt_at <= {p1} \
             AND (lease_until IS NULL OR lease_until < {p2}) ORDER BY next_attempt_at LIMIT {limit}{lock}"
        );
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [now.into(), now.into()],
            ))
            .await?;
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "id").ok())
            .collect();
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(vec![]);
        }
        notification::Entity::update_many()
            .col_expr(notification::Column::LeaseOwner, Expr::value(node))
            .col_expr(notification::Column::LeaseUntil, Expr::value(now + lease))
            .filter(notification::Column::Id.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        let claimed = notification::Entity::find()
            .filter(notification::Column::Id.is_in(ids))
            .all(&txn)
            .await?;
        let digests: Vec<String> = claimed
            .iter()
            .filter(|m| m.kind == NotificationKind::Digest.as_str())
            .map(|m| m.id.clone())
            .collect();
        let gathered = if digests.is_empty() {
            vec![]
        } else {
            notification::Entity::find()
                .filter(notification::Column::DigestId.is_in(digests))
                .order_by_asc(notification::Column::CreatedAt)
                .all(&txn)
                .await?
        };
        txn.commit().await?;
        claimed
            .into_iter()
            .map(|m| {
                let items = gathered
                    .iter()
                    .filter(|g| g.digest_id.as_deref() == Some(m.id.as_str()))
                    .map(|g| Ok((NotificationKind::parse(&g.kind)?, g.case_ref.clone())))
                    .collect::<Result<Vec<_>>>()?;
                let link = match &m.secret_enc {
                    Some(b) => self
                        .keys
                        .decrypt_string(super::at("notifications", "secret", &m.id), b)?,
                    None => m.link.clone(),
                };
                Ok(Claimed {
                    items,
                    kind: NotificationKind::parse(&m.kind)?,
                    id: m.id,
                    email: m.email,
                    lang: m.lang,
                    reference: m.case_ref,
                    from_org: m.from_org,
                    link,
                    attempts: m.attempts,
                })
            })
            .collect()
    }

    /// The message was handed to the mail server. Only the node that holds the lease
    /// marks it; false when the lease was lost meanwhile (another node may send it again,
    /// with the same `Message-ID`).
    pub async fn mark_sent(&self, id: &str, node: &str) -> Result<bool> {
        let r = notification::Entity::update_many()
            .col_expr(notification::Column::MailStatus, Expr::value("sent"))
            .col_expr(notification::Column::SentAt, Expr::value(Some(Utc::now())))
            .col_expr(
                notification::Column::Attempts,
                Expr::col(notification::Column::Attempts).add(1),
            )
            .col_expr(
                notification::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                notification::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::LeaseOwner.eq(node))
            .filter(notification::Column::MailStatus.eq("pending"))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// The attempt failed: retry later with backoff, or give up and mark the address as
    /// failing (the organisation administrator sees it). `error` is the mail server's
    /// answer (no personal data: it names the address at most).
    pub async fn mark_failed(
        &self,
        id: &str,
        node: &str,
        error: &str,
        permanent: bool,
        policy: RetryPolicy,
    ) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        let Some(m) = notification::Entity::find_by_id(id.to_owned())
            .first(&txn)
            .await?
        else {
            return Ok(());
        };
        if m.lease_owner.as_deref() != Some(node) || m.mail_status != "pending" {
            return Ok(());
        }
        let attempts = m.attempts + 1;
        let now = Utc::now();
        let error: String = error.chars().take(300).collect();
        let mut q = notification::Entity::update_many()
            .col_expr(notification::Column::Attempts, Expr::value(attempts))
            .col_expr(notification::Column::LastError, Expr::value(Some(error)))
            .col_expr(
                notification::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                notification::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
        match policy.after_failure(u32::try_from(attempts).unwrap_or(u32::MAX), permanent, now) {
            AfterFailure::RetryAt(t) => {
                q = q.col_expr(notification::Column::NextAttemptAt, Expr::value(t));
            }
            AfterFailure::GiveUp => {
                q = q.col_expr(notification::Column::MailStatus, Expr::value("failed"));
                user::Entity::update_many()
                    .col_expr(user::Column::MailFailingAt, Expr::value(Some(now)))
                    .filter(user::Column::Id.eq(m.user_id))
                    .filter(user::Column::MailFailingAt.is_null())
                    .exec(&txn)
                    .await?;
            }
        }
        q.filter(notification::Column::Id.eq(id)).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The caller's notifications, newest first, and how many are unread.
    pub async fn my_notifications(
        &self,
        actor: &Actor,
        paging: Paging,
    ) -> Result<(NotificationPage, u64)> {
        let rows = notification::Entity::find()
            .filter(notification::Column::UserId.eq(actor.user_id))
            .order_by_desc(notification::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let unread = rows.iter().filter(|r| r.read_at.is_none()).count() as u64;
        let all = rows
            .into_iter()
            .map(|r| {
                Ok(NotificationView {
                    kind: NotificationKind::parse(&r.kind)?,
                    read: r.read_at.is_some(),
                    id: r.id,
                    reference: r.case_ref,
                    from_org: r.from_org,
                    link: r.link,
                    created_at: r.created_at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((NotificationPage::of(all, paging), unread))
    }

    /// How many of the caller's notifications are unread (the page header's count).
    pub async fn unread_count(&self, actor: &Actor) -> Result<u64> {
        Ok(notification::Entity::find()
            .filter(notification::Column::UserId.eq(actor.user_id))
            .filter(notification::Column::ReadAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// Mark one of the caller's notifications read (opened); its link.
    pub async fn open_notification(&self, actor: &Actor, id: &str) -> Result<String> {
        let m = notification::Entity::find_by_id(id.to_owned())
            .first(&self.db)
            .await?
            .filter(|m| m.user_id == actor.user_id)
            .ok_or(ServiceError::NotFound("notification"))?;
        if m.read_at.is_none() {
            notification::Entity::update_many()
                .col_expr(notification::Column::ReadAt, Expr::value(Some(Utc::now())))
                .filter(notification::Column::Id.eq(id))
                .exec(&self.db)
                .await?;
        }
        Ok(m.link)
    }

    /// The users of the administrator's organisation whose mail keeps failing.
    pub async fn failing_addresses(&self, actor: &Actor) -> Result<Vec<(String, DateTime<Utc>)>> {
        if actor.role != Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "only the organisation administrator sees failing addresses".into(),
            ));
        }
        Ok(user::Entity::find()
            .filter(user::Column::OrgId.eq(actor.org_id))
            .filter(user::Column::MailFailingAt.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|u| u.mail_failing_at.map(|t| (u.email, t)))
            .collect())
    }

    /// The scheduler (run by every node's worker, each reminder created once across nodes
    /// by its unique `dedup_key`): a stored deadline of an open case due within
    /// `windows.deadline_days` or overdue, a citizenship confirmation past its due date,
    /// and a hearing within `windows.hearing_days` that needs the person remind the case's
    /// advocate; a planned follow-up visit due within the deadline days reminds the
    /// follow-up officers of its organisation; a referral unanswered past its date, the
    /// receiving organisation. The number of reminders created.
    pub async fn schedule_reminders(
        &self,
        now: DateTime<Utc>,
        windows: ReminderWindows,
    ) -> Result<usize> {
        use crate::store::entity::{
            case, citizenship_request, deadline, follow_up_visit, hearing, referral, return_case,
        };
        use std::collections::{HashMap, HashSet};
        let today = now.date_naive();
        let soon = today + Duration::days(windows.deadline_days);
        // What may need a reminder: read first, then only the cases they belong to (a run
        // costs in proportion to what is due, not to the caseload).
        let deadlines = deadline::Entity::find()
            .filter(deadline::Column::ClosedAt.is_null())
            .filter(deadline::Column::DueOn.lte(soon))
            .all(&self.db)
            .await?;
        let visits = follow_up_visit::Entity::find()
            .filter(follow_up_visit::Column::Status.eq("planned"))
            .filter(follow_up_visit::Column::DueOn.lte(soon))
            .all(&self.db)
            .await?;
        let overdue = citizenship_request::Entity::find()
            .filter(citizenship_request::Column::Answer.eq("pending"))
            .filter(citizenship_request::Column::DueOn.lt(today))
            .all(&self.db)
            .await?;
        let returns: HashMap<String, i64> = if overdue.is_empty() {
            HashMap::new()
        } else {
            return_case::Entity::find()
                .filter(return_case::Column::Id.is_in(overdue.iter().map(|q| q.return_id.clone())))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|r| (r.id, r.case_id))
                .collect()
        };
        let hearings: Vec<hearing::Model> = hearing::Entity::find()
            .filter(hearing::Column::CancelledAt.is_null())
            .filter(hearing::Column::HeldOn.gte(today))
            .filter(hearing::Column::HeldOn.lte(today + Duration::days(windows.hearing_days)))
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|h| h.testimony_required || h.presence_required)
            .collect();
        let late_referrals = referral::Entity::find()
            .filter(referral::Column::Status.eq("pending"))
            .filter(referral::Column::DueAt.lt(now))
            .all(&self.db)
            .await?;
        let mut ids: Vec<i64> = deadlines
            .iter()
            .map(|d| d.case_id)
            .chain(visits.iter().map(|v| v.case_id))
            .chain(returns.values().copied())
            .chain(hearings.iter().map(|h| h.case_id))
            .chain(late_referrals.iter().map(|r| r.case_id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(0);
        }
        let mut open_cases: HashMap<i64, case::Model> = HashMap::new();
        for chunk in ids.chunks(500) {
            for c in case::Entity::find()
                .filter(case::Column::Id.is_in(chunk.to_vec()))
                .filter(case::Column::ClosedAt.is_null())
                .all(&self.db)
                .await?
            {
                open_cases.insert(c.id, c);
            }
        }
        // The reminders already made (this scheduler's kind, the last 400 days: a row stays
        // due that long only if nobody acts).
        let mut known: HashSet<String> = HashSet::new();
        for n in notification::Entity::find()
            .filter(notification::Column::DedupKey.is_not_null())
            .filter(notification::Column::Kind.eq(NotificationKind::DeadlineDue.as_str()))
            .filter(notification::Column::CreatedAt.gte(now - Duration::days(400)))
            .all(&self.db)
            .await?
        {
            if let Some(k) = n.dedup_key {
                known.insert(k);
            }
        }
        let mut todo: Vec<Reminder> = Vec::new();
        for d in deadlines {
            let Some(c) = open_cases.get(&d.case_id) else {
                continue;
            };
            let Some(adv) = c.advocate_user_id else {
                continue;
            };
            let stage = crate::domain::Stage::parse(&c.stage)?;
            if !crate::deadlines::applies(&d.kind, stage) {
                continue;
            }
            let key = format!("deadline:{}:{}", d.id, d.due_on);
            if known.contains(&format!("{key}|{adv}")) {
                continue;
            }
            let page = crate::deadlines::page_of(&d.kind);
            todo.push((
                key,
                vec![adv],
                Some((c.id, c.reference.clone())),
                c.owner_org_id,
                format!("/cases/{}/{page}", c.reference),
            ));
        }
        // The recipients of an organisation, read once a run.
        let mut officers: HashMap<i64, Vec<user::Model>> = HashMap::new();
        for v in visits {
            let Some(c) = open_cases.get(&v.case_id) else {
                continue;
            };
            let key = format!("visit:{}:{}", v.id, v.due_on);
            if let std::collections::hash_map::Entry::Vacant(e) = officers.entry(v.org_id) {
                e.insert(
                    self.users_with_roles(&self.db, v.org_id, &[Role::FollowUpOfficer])
                        .await?,
                );
            }
            let ids: Vec<i64> = officers
                .get(&v.org_id)
                .into_iter()
                .flatten()
                .map(|u| u.id)
                .filter(|id| !known.contains(&format!("{key}|{id}")))
                .collect();
            if !ids.is_empty() {
                todo.push((
                    key,
                    ids,
                    Some((c.id, c.reference.clone())),
                    v.org_id,
                    format!("/cases/{}/follow-up", c.reference),
                ));
            }
        }
        // Citizenship confirmations past their due date, and hearings within a week that
        // need the person: the case's advocate.
        for q in overdue {
            let Some(c) = returns.get(&q.return_id).and_then(|id| open_cases.get(id)) else {
                continue;
            };
            let Some(adv) = c.advocate_user_id else {
                continue;
            };
            let key = format!("citizenship:{}:{}", q.id, q.due_on);
            if !known.contains(&format!("{key}|{adv}")) {
                todo.push((
                    key,
                    vec![adv],
                    Some((c.id, c.reference.clone())),
                    c.owner_org_id,
                    format!("/cases/{}/return", c.reference),
                ));
            }
        }
        for h in hearings {
            let Some(c) = open_cases.get(&h.case_id) else {
                continue;
            };
            let Some(adv) = c.advocate_user_id else {
                continue;
            };
            let key = format!("hearing:{}:{}", h.id, h.held_on);
            if !known.contains(&format!("{key}|{adv}")) {
                todo.push((
                    key,
                    vec![adv],
                    Some((c.id, c.reference.clone())),
                    c.owner_org_id,
                    format!("/cases/{}/proceedings", c.reference),
                ));
            }
        }
        // Referrals waiting past their answer date: the receiving organisation's
        // caseworkers and administrator.
        let mut receivers: HashMap<i64, Vec<user::Model>> = HashMap::new();
        for r in late_referrals {
            let Some(c) = open_cases.get(&r.case_id) else {
                continue;
            };
            let key = format!("referral:{}", r.id);
            if let std::collections::hash_map::Entry::Vacant(e) = receivers.entry(r.to_org_id) {
                e.insert(
                    self.users_with_roles(
                        &self.db,
                        r.to_org_id,
                        &[
                            Role::ShelterCoordinator,
                            Role::Advocate,
                            Role::ReturnOfficer,
                            Role::FollowUpOfficer,
                            Role::OrgAdmin,
                        ],
                    )
                    .await?,
                );
            }
            let ids: Vec<i64> = receivers
                .get(&r.to_org_id)
                .into_iter()
                .flatten()
                .map(|u| u.id)
                .filter(|id| !known.contains(&format!("{key}|{id}")))
                .collect();
            if !ids.is_empty() {
                todo.push((
                    key,
                    ids,
                    Some((c.id, c.reference.clone())),
                    c.owner_org_id,
                    "/referrals#inbox".into(),
                ));
            }
        }
        if todo.is_empty() {
            return Ok(0);
        }
        let mut made = 0;
        // In batches: one transaction per 500 reminders keeps a run short on SQLite; the
        // recipients of a batch are read in one query, its rows written in a few.
        for chunk in todo.chunks(500) {
            let txn = begin_write(&self.db).await?;
            let wanted: Vec<i64> = chunk
                .iter()
                .flat_map(|(_, us, ..)| us.iter().copied())
                .collect();
            let mut users: HashMap<i64, user::Model> = HashMap::new();
            for ids in wanted.chunks(1000) {
                for u in user::Entity::find()
                    .filter(user::Column::Id.is_in(ids.to_vec()))
                    .all(&txn)
                    .await?
                {
                    users.insert(u.id, u);
                }
            }
            let recipients: Vec<Vec<user::Model>> = chunk
                .iter()
                .map(|(_, us, ..)| us.iter().filter_map(|id| users.get(id).cloned()).collect())
                .collect();
            let events: Vec<Event<'_>> = chunk
                .iter()
                .map(|(_, _, case, org, link)| Event {
                    kind: NotificationKind::DeadlineDue,
                    reference: case.as_ref().map(|(_, r)| r.as_str()),
                    from_org_id: *org,
                    link: link.clone(),
                })
                .collect();
            let items: Vec<(&[user::Model], &Event<'_>, Option<&str>)> = chunk
                .iter()
                .zip(&recipients)
                .zip(&events)
                .map(|(((key, ..), rs), e)| (rs.as_slice(), e, Some(key.as_str())))
                .collect();
            made += self.notify_many_in(&txn, &items).await?;
            txn.commit().await?;
        }
        Ok(made)
    }

    /// The caller's deliveries (or, with `organisation`, their organisation's defaults,
    /// for its administrator), per kind: what is chosen and whether it can be turned off.
    pub async fn preferences(&self, actor: &Actor, organisation: bool) -> Result<Vec<Preference>> {
        let (scope, id) = self.pref_scope(actor, organisation)?;
        let rows = notification_pref::Entity::find()
            .filter(notification_pref::Column::Scope.eq(scope))
            .filter(notification_pref::Column::ScopeId.eq(id))
            .all(&self.db)
            .await?;
        NotificationKind::ALL
            .iter()
            .filter(|k| k.choosable())
            .map(|k| {
                let chosen = match rows.iter().find(|r| r.kind == k.as_str()) {
                    Some(r) => Some(Delivery::parse(&r.delivery)?),
                    None => None,
                };
                Ok(Preference {
                    kind: *k,
                    delivery: chosen,
                    mandatory: k.mandatory(),
                })
            })
            .collect()
    }

    fn pref_scope(&self, actor: &Actor, organisation: bool) -> Result<(&'static str, i64)> {
        if !organisation {
            return Ok(("user", actor.user_id));
        }
        if actor.role != Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "only the organisation administrator sets the organisation's defaults".into(),
            ));
        }
        Ok(("org", actor.org_id))
    }

    /// Choose how a kind is delivered (empty: back to the default). "Off" is refused for
    /// the kinds that cannot be turned off.
    pub async fn set_preference(
        &self,
        actor: &Actor,
        organisation: bool,
        input: &PreferenceInput,
    ) -> Result<()> {
        let (scope, id) = self.pref_scope(actor, organisation)?;
        let kind = NotificationKind::parse(input.kind.trim())?;
        if !kind.choosable() {
            return Err(crate::domain::Invalid::new(
                "kind",
                "a digest is not chosen: it is how the others arrive",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        notification_pref::Entity::delete_many()
            .filter(notification_pref::Column::Scope.eq(scope))
            .filter(notification_pref::Column::ScopeId.eq(id))
            .filter(notification_pref::Column::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
        match input.delivery.as_deref().map(str::trim) {
            None | Some("") => {}
            Some(d) => {
                let delivery = Delivery::parse(d)?;
                if delivery == Delivery::Off && kind.mandatory() {
                    return Err(crate::domain::Invalid::new(
                        "delivery",
                        "alerts and overdue deadlines cannot be turned off",
                    )
                    .into());
                }
                notification_pref::ActiveModel {
                    scope: Set(scope.into()),
                    scope_id: Set(id),
                    kind: Set(kind.as_str().into()),
                    delivery: Set(delivery.as_str().into()),
                    updated_at: Set(Utc::now()),
                }
                .insert(&txn)
                .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Gather each user's waiting digest notifications into one digest, at most once per
    /// `interval` per user (created once across nodes by its dedup key). The number made.
    pub async fn make_digests(&self, now: DateTime<Utc>, interval: Duration) -> Result<usize> {
        use std::collections::BTreeMap;
        let waiting = notification::Entity::find()
            .filter(notification::Column::MailStatus.eq("digest"))
            .order_by_asc(notification::Column::CreatedAt)
            .all(&self.db)
            .await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let secs = std::cmp::max(interval.num_seconds(), 1);
        let slot = now.timestamp().div_euclid(secs);
        let mut by_user: BTreeMap<i64, Vec<&notification::Model>> = BTreeMap::new();
        for w in &waiting {
            by_user.entry(w.user_id).or_default().push(w);
        }
        let mut made = 0;
        for (user_id, rows) in by_user {
            // The first waiting one must have waited a whole interval.
            if rows.first().is_some_and(|r| now - r.created_at < interval) {
                continue;
            }
            let Some(first) = rows.first() else { continue };
            let txn = begin_write(&self.db).await?;
            let id = random_token(16)?;
            let r = notification::Entity::insert(notification::ActiveModel {
                id: Set(id.clone()),
                user_id: Set(user_id),
                org_id: Set(first.org_id),
                kind: Set(NotificationKind::Digest.as_str().into()),
                case_ref: Set(None),
                from_org: Set(String::new()),
                link: Set("/notifications".into()),
                lang: Set(first.lang.clone()),
                email: Set(first.email.clone()),
                delivery: Set(Delivery::Immediately.as_str().into()),
                mail_status: Set("pending".into()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                lease_owner: Set(None),
                lease_until: Set(None),
                sent_at: Set(None),
                last_error: Set(None),
                // Read in the app through the notifications it gathers.
                read_at: Set(Some(now)),
                dedup_key: Set(Some(format!("digest:{user_id}:{slot}"))),
                created_at: Set(now),
                digest_id: Set(None),
                secret_enc: Set(None),
            })
            .on_conflict(
                OnConflict::column(notification::Column::DedupKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
            if r == 0 {
                continue;
            }
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            notification::Entity::update_many()
                .col_expr(notification::Column::MailStatus, Expr::value("digested"))
                .col_expr(notification::Column::DigestId, Expr::value(Some(id)))
                .filter(notification::Column::Id.is_in(ids))
                .filter(notification::Column::MailStatus.eq("digest"))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            made += 1;
        }
        Ok(made)
    }

    /// The language of the caller's mail.
    pub async fn set_mail_language(&self, user_id: i64, lang: &str) -> Result<()> {
        user::Entity::update_many()
            .col_expr(
                user::Column::Lang,
                Expr::value(lang.chars().take(8).collect::<String>()),
            )
            .filter(user::Column::Id.eq(user_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// How this user gets this kind by mail, from the preferences read (`prefs`): their own
/// choice, else their organisation's default, else immediately.
fn chosen_delivery(
    prefs: &[notification_pref::Model],
    u: &user::Model,
    kind: NotificationKind,
) -> Result<Delivery> {
    let of = |scope: &str, id: i64| {
        prefs
            .iter()
            .find(|p| p.kind == kind.as_str() && p.scope == scope && p.scope_id == id)
    };
    Ok(match of("user", u.id).or_else(|| of("org", u.org_id)) {
        Some(p) => Delivery::parse(&p.delivery)?,
        None => Delivery::Immediately,
    })
}
