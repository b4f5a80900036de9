//! Consents (recorded, withdrawn: withdrawing ends what rests on them at once) and
//! shares with other organisations, on consent.

use super::*;

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
    /// Why or how it was withdrawn, when the person said.
    pub withdrawn_reason: Option<String>,
    pub active: bool,
    /// A reintegration consent: the destination side may read alert details.
    pub alert_details: bool,
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

/// A consent's withdrawal. The person never has to give a reason; when they do (or to
/// note how they withdrew it), it is kept with the consent (encrypted).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct WithdrawalInput {
    /// Optional; at most 2,000 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

impl WithdrawalInput {
    /// The reason as stored: trimmed, None when empty.
    pub(crate) fn reason(&self) -> Result<Option<String>, Invalid> {
        domain::parse_optional_text("reason", self.reason.as_deref(), 2_000)
    }
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
    /// A reintegration consent only: the person agrees that the destination side (their
    /// advocate there) reads the details of follow-up alerts, not only their category and
    /// severity.
    #[serde(default)]
    pub share_alert_details: bool,
}

/// What withdrawing a consent ends, for the page that asks to confirm it.
#[derive(Debug, Clone)]
pub struct WithdrawalEffects {
    pub consent: ConsentView,
    /// The shares that end: the organisation and the purpose of each.
    pub shares: Vec<(String, Purpose)>,
    /// The referrals that close (pending or accepted; an accepted one to a shelter cuts
    /// the shelter off): the organisation and the service of each.
    pub referrals: Vec<(String, String)>,
    /// The live return that stops, and whose bookings are released: its destination.
    pub return_to: Option<String>,
}

impl Services {
    /// What withdrawing this consent would end (nothing changes; the consents section is
    /// read and audited), for its confirmation page.
    pub async fn consent_withdrawal_effects(
        &self,
        actor: &Actor,
        reference: &str,
        consent_uid: &str,
        route: Route<'_>,
    ) -> Result<WithdrawalEffects> {
        let (c, _) = self
            .load_for(&self.db, actor, reference, CaseAction::ManageConsent, route)
            .await?;
        let k = consent_of_case(&self.db, c.id, consent_uid)
            .await?
            .ok_or(ServiceError::NotFound("consent"))?;
        let view = self
            .consents_of(c.id)
            .await?
            .into_iter()
            .find(|v| v.id == consent_uid.trim())
            .ok_or(ServiceError::NotFound("consent"))?;
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let org = |id: i64| orgs.get(&id).cloned().unwrap_or_default();
        let mut shares = Vec::new();
        for s in share::Entity::find()
            .filter(share::Column::ConsentId.eq(k.id))
            .filter(share::Column::EndedAt.is_null())
            .all(&self.db)
            .await?
        {
            let p =
                Purpose::parse(&s.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?;
            shares.push((org(s.org_id), p));
        }
        let referrals = referral::Entity::find()
            .filter(referral::Column::ConsentId.eq(k.id))
            .filter(referral::Column::Status.is_in(["pending", "accepted"]))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (org(r.to_org_id), r.service))
            .collect();
        let return_to = return_case::Entity::find()
            .filter(return_case::Column::ConsentId.eq(k.id))
            .all(&self.db)
            .await?
            .into_iter()
            .find(|r| {
                crate::returns::ReturnStage::parse(&r.stage)
                    .is_ok_and(|s| s.is_open() && s != crate::returns::ReturnStage::Departed)
            })
            .map(|r| r.destination_country);
        self.audit
            .read(actor, Some(&c.reference), Section::Consents, route)
            .await?;
        Ok(WithdrawalEffects {
            consent: view,
            shares,
            referrals,
            return_to,
        })
    }

    /// One consent of a case (the consents section, audited).
    pub async fn consent(
        &self,
        actor: &Actor,
        reference: &str,
        consent_uid: &str,
        route: Route<'_>,
    ) -> Result<ConsentView> {
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Consents),
                route,
            )
            .await?;
        let v = self
            .consents_of(c.id)
            .await?
            .into_iter()
            .find(|k| k.id == consent_uid)
            .ok_or(ServiceError::NotFound("consent"))?;
        self.audit
            .read(actor, Some(&c.reference), Section::Consents, route)
            .await?;
        Ok(v)
    }

    /// One share of a case (the shares section, audited).
    pub async fn share(
        &self,
        actor: &Actor,
        reference: &str,
        share_uid: &str,
        route: Route<'_>,
    ) -> Result<ShareView> {
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Shares),
                route,
            )
            .await?;
        let v = self
            .shares_of(c.id)
            .await?
            .into_iter()
            .find(|s| s.id == share_uid)
            .ok_or(ServiceError::NotFound("share"))?;
        self.audit
            .read(actor, Some(&c.reference), Section::Shares, route)
            .await?;
        Ok(v)
    }

    pub(super) async fn consents_of(&self, case_id: i64) -> Result<Vec<ConsentView>> {
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
                let why = self.open_opt(
                    "consents",
                    "withdraw_reason",
                    &r.id.to_string(),
                    r.withdraw_reason_enc.as_ref(),
                )?;
                consent_view(r, by, why)
            })
            .collect()
    }

    pub(super) async fn shares_of(&self, case_id: i64) -> Result<Vec<ShareView>> {
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
        if input.share_alert_details && purpose != Purpose::Reintegration {
            return Err(Invalid::new(
                "share_alert_details",
                "applies to a consent for reintegration follow-up only",
            )
            .into());
        }
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
            alert_details: Set(input.share_alert_details),
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
        consent_view(m, actor.display_name.clone(), None)
    }

    /// Withdraw a consent: every share resting on it ends at once, in the same transaction.
    pub async fn withdraw_consent(
        &self,
        actor: &Actor,
        reference: &str,
        consent_uid: &str,
        input: &WithdrawalInput,
        route: Route<'_>,
    ) -> Result<u64> {
        let why = input.reason()?;
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
        a.withdraw_reason_enc = Set(self.seal_opt(
            c.owner_org_id,
            "consents",
            "withdraw_reason",
            &consent_id.to_string(),
            why.as_deref(),
        )?);
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
            .stop_returns_on_consent(&txn, c.owner_org_id, consent_id, actor.user_id, now)
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
        // The organisation the case is shared with hears of it (its caseworkers).
        let to_tell = self
            .users_with_roles(
                &txn,
                org.id,
                &[
                    Role::Advocate,
                    Role::ShelterCoordinator,
                    Role::ReturnOfficer,
                    Role::FollowUpOfficer,
                ],
            )
            .await?;
        self.notify_in(
            &txn,
            &to_tell,
            &crate::service::notify::Event {
                kind: crate::notify::NotificationKind::ShareReceived,
                reference: Some(&c.reference),
                from_org_id: c.owner_org_id,
                link: format!("/cases/{}", c.reference),
            },
            None,
        )
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

fn consent_view(
    r: consent::Model,
    recorded_by: String,
    withdrawn_reason: Option<String>,
) -> Result<ConsentView> {
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
        withdrawn_reason,
        alert_details: r.alert_details,
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
