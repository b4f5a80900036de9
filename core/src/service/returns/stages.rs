//! The stages of a return: the request (on the person's request and consent), the moves
//! checked by the core rule and the jurisdiction, the hand-over on arrival, and the
//! person's withdrawal of consent.

use super::travel::release_bookings;
use super::*;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReturnRequestInput {
    /// Who asked: person, guardian or legal_representative.
    pub requested_by: String,
    /// The person's recorded consent for return assistance (purpose return_assistance):
    /// its id.
    pub consent_id: String,
    /// Who explained the return and the consent to the person, in their language.
    pub explained_by: String,
    /// ISO 3166-1 alpha-2 code of the country of return.
    pub destination_country: String,
    /// A return agency organisation; it receives the request in its own format.
    #[serde(default)]
    pub agency_org_id: Option<i64>,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub requested_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// The next stage, or "cancelled".
    pub to: String,
    /// The return's version as last read (a stale move is refused).
    pub version: i64,
    /// Required when cancelling.
    #[serde(default)]
    pub reason: Option<String>,
    /// On arrival: the person's consent (purpose reintegration) for the hand-over: its id.
    #[serde(default)]
    pub handover_consent_id: Option<String>,
    /// On arrival: the sections the origin-country organisation receives.
    #[serde(default)]
    pub handover_sections: Vec<String>,
    /// On departure and arrival: the day it happened (YYYY-MM-DD); today when empty.
    /// Never in the future; a departure not before the booked travel date (see
    /// `early_reason`), an arrival not before the departure.
    #[serde(default)]
    pub on: Option<String>,
    /// On departure: why the person left before the booked travel date.
    #[serde(default)]
    pub early_reason: Option<String>,
}

impl Services {
    /// Start a return: only on the request of the person (or, for a child, their
    /// guardian or representative) and with their recorded consent for return.
    pub async fn request_return(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ReturnRequestInput,
        route: Route<'_>,
    ) -> Result<String> {
        let requested_by = ConsentGiver::parse(&input.requested_by).map_err(|_| {
            Invalid::new(
                "requested_by",
                "must be person, guardian or legal_representative",
            )
        })?;
        let explained_by = domain::parse_line("explained_by", &input.explained_by, 300)?;
        let destination = CountryCode::parse(&input.destination_country)
            .map_err(|e| Invalid::new("destination_country", e.message))?;
        let requested_on = not_future(
            "requested_on",
            day_or_today("requested_on", input.requested_on.as_deref())?,
        )?;
        let (c, _) = self
            .load_for(&self.db, actor, reference, CaseAction::EditReturn, route)
            .await?;
        let k = consent_of_case(&self.db, c.id, &input.consent_id)
            .await?
            .ok_or_else(|| {
                ServiceError::Refused(
                    "no such consent on this case: a return needs the person's recorded, informed consent to return".into(),
                )
            })?;
        domain::consent_covers(
            Purpose::parse(&k.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?,
            k.withdrawn_at.is_some(),
            Purpose::ReturnAssistance,
        )
        .map_err(|m| ServiceError::Refused(m.into()))?;
        let facts = self.person_facts(&self.db, &c).await?;
        if requested_by != ConsentGiver::Person && !facts.child {
            return Err(ServiceError::Refused(
                "an adult's return starts only at the person's own request".into(),
            ));
        }
        let agency = match input.agency_org_id {
            None => None,
            Some(id) => {
                let o = organisation::Entity::find_by_id(id)
                    .first(&self.db)
                    .await?
                    .ok_or_else(|| Invalid::new("agency_org_id", "no such organisation"))?;
                if o.kind != OrgKind::ReturnAgency.as_str() {
                    return Err(Invalid::new("agency_org_id", "must be a return agency").into());
                }
                Some(o)
            }
        };
        let payload = match &agency {
            Some(a) => {
                self.format_for_agency(&c, &k, a, destination.as_str())
                    .await?
            }
            None => None,
        };
        let today = Utc::now().date_naive();
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        if let Some(r) = self.latest_return(&txn, c.id).await? {
            let stage = ReturnStage::parse(&r.stage)?;
            if stage == ReturnStage::Received {
                return Err(ServiceError::Conflict(
                    "the person has already returned: a new return cannot be requested on this case".into(),
                ));
            }
            if stage.is_open() {
                return Err(ServiceError::Conflict(format!(
                    "this case already has a return ({stage}); cancel it before requesting another"
                )));
            }
        }
        let in_recovery = deadline::Entity::find()
            .filter(deadline::Column::CaseId.eq(c.id))
            .filter(deadline::Column::Kind.eq(crate::service::identification::RECOVERY_PERIOD_END))
            .filter(deadline::Column::ClosedAt.is_null())
            .filter(deadline::Column::DueOn.gte(today))
            .first(&txn)
            .await?
            .is_some();
        let id = random_token(16)?;
        let now = Utc::now();
        return_case::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            stage: Set(ReturnStage::Requested.as_str().into()),
            // The request stage began when the person asked (it may be recorded later).
            stage_since: Set(if requested_on < today {
                requested_on.and_time(chrono::NaiveTime::MIN).and_utc()
            } else {
                now
            }),
            consent_id: Set(k.id),
            explained_by_enc: Set(self.seal_field(
                c.owner_org_id,
                "returns",
                "explained_by",
                &id,
                &explained_by,
            )?),
            requested_by: Set(requested_by.as_str().into()),
            requested_on: Set(requested_on),
            during_recovery_period: Set(in_recovery),
            destination_country: Set(destination.as_str().into()),
            agency_org_id: Set(agency.as_ref().map(|a| a.id)),
            partner_payload_enc: Set(self.seal_opt(
                c.owner_org_id,
                "returns",
                "partner_payload",
                &id,
                payload.as_deref(),
            )?),
            guardian_enc: Set(None),
            best_interests_on: Set(None),
            best_interests_by_enc: Set(None),
            counselled_on: Set(None),
            counselled_by_enc: Set(None),
            receiving_org_id: Set(None),
            reception_on: Set(None),
            departed_on: Set(None),
            received_on: Set(None),
            handover_referral_id: Set(None),
            cancelled_reason_enc: Set(None),
            early_departure_reason_enc: Set(None),
            version: Set(1),
            created_by: Set(actor.user_id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        return_stage::ActiveModel {
            return_id: Set(id.clone()),
            stage: Set(ReturnStage::Requested.as_str().into()),
            at: Set(now),
            by_user: Set(actor.user_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.advance_stage(&txn, c.id, CaseEvent::ReturnRequested)
            .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Return,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// May the caller request a return on this case (when it has none, or only a
    /// cancelled one)? Reads nothing of the case beyond its access.
    pub async fn may_request_return(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<bool> {
        let (_, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Return),
                route,
            )
            .await?;
        Ok(may(actor.role, rel, CaseAction::EditReturn))
    }

    /// Move a return to its next stage, or cancel it. The core rule and, for approval
    /// and arrival, the jurisdiction decide; every refusal names its rule (checklist items
    /// with their label in `lang`). Approval is a return officer's; the move and its
    /// effects are one transaction.
    pub async fn move_return(
        &self,
        actor: &Actor,
        reference: &str,
        input: &MoveInput,
        lang: &str,
        route: Route<'_>,
    ) -> Result<ReturnStage> {
        let to = ReturnStage::parse(&input.to)?;
        let reason = domain::parse_optional_text("reason", input.reason.as_deref(), 2_000)?;
        let early_reason =
            domain::parse_optional_text("early_reason", input.early_reason.as_deref(), 2_000)?;
        let on = day_or_today("on", input.on.as_deref())?;
        if to == ReturnStage::Cancelled && reason.is_none() {
            return Err(
                Invalid::new("reason", "is required: say why the return is cancelled").into(),
            );
        }
        let action = if to == ReturnStage::Approved {
            CaseAction::ApproveReturn
        } else {
            CaseAction::EditReturn
        };
        // Facts and the jurisdiction's guard are read first (plugin calls), then the
        // move is written in one transaction that re-checks the version.
        let l = self
            .return_case_for(&self.db, actor, reference, action, route)
            .await?;
        if l.r.version != input.version {
            return Err(ServiceError::Conflict(format!(
                "this return was changed by someone else since you opened it (it is now at version {}); reload it and try again",
                l.r.version
            )));
        }
        let (facts, _, _, _) = self.return_facts(&self.db, &l, lang).await?;
        let mut refusals = rules::check_move(to, &facts);
        if refusals.is_empty() {
            refusals = self.guard(&self.db, &l, to, &facts).await?;
        }
        if !refusals.is_empty() {
            return Err(ServiceError::RulesRefused(
                crate::service::RulesRefused::new(
                    "return_move",
                    format!("the return cannot move to {to}"),
                    refusals,
                )
                .with("to", to),
            ));
        }
        if matches!(to, ReturnStage::Departed | ReturnStage::Received) {
            rules::check_travel_date(
                to,
                on,
                Utc::now().date_naive(),
                l.r.requested_on,
                l.first_departure(),
                l.r.departed_on,
                early_reason.is_some(),
            )?;
        }
        let handover = if to == ReturnStage::Received {
            Some(self.check_handover(&l, input).await?)
        } else {
            None
        };
        // The follow-up schedule the jurisdiction gives for this person (a plugin call,
        // before the transaction; a failing plugin refuses the arrival, 503).
        let schedule = if to == ReturnStage::Received {
            self.follow_up_schedule(&self.db, &l.c).await?
        } else {
            vec![]
        };
        let now = Utc::now();
        let txn = begin_write(&self.db).await?;
        let fresh = return_case::Entity::find_by_id(l.r.id.clone())
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("return"))?;
        if fresh.version != input.version {
            return Err(ServiceError::Conflict(
                "this return was changed by someone else meanwhile; reload it and try again".into(),
            ));
        }
        let mut am = fresh.clone().into_active_model();
        am.stage = Set(to.as_str().into());
        am.stage_since = Set(now);
        am.version = Set(fresh.version + 1);
        let mut case_event = None;
        match to {
            ReturnStage::Approved => case_event = Some(CaseEvent::ReturnApproved),
            ReturnStage::Departed => {
                am.departed_on = Set(Some(on));
                if l.first_departure().is_some_and(|leg| on < leg) {
                    am.early_departure_reason_enc = Set(self.seal_opt(
                        l.c.owner_org_id,
                        "returns",
                        "early_departure_reason",
                        &fresh.id,
                        early_reason.as_deref(),
                    )?);
                }
            }
            ReturnStage::Received => {
                am.received_on = Set(Some(on));
                case_event = Some(CaseEvent::Arrived);
                if let Some((org_id, consent_id, sections)) = handover {
                    let m = referral::ActiveModel {
                        case_id: Set(l.c.id),
                        from_org_id: Set(l.c.owner_org_id),
                        to_org_id: Set(org_id),
                        service: Set(Purpose::Reintegration.as_str().into()),
                        sections: Set(sections.to_csv()),
                        consent_id: Set(consent_id),
                        status: Set("accepted".into()),
                        reason_enc: Set(None),
                        partner_payload: Set(None),
                        created_by: Set(actor.user_id),
                        created_at: Set(now),
                        due_at: Set(now),
                        answered_by: Set(Some(actor.user_id)),
                        answered_at: Set(Some(now)),
                        uid: Set(Some(random_token(16)?)),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                    am.handover_referral_id = Set(Some(m.id));
                    self.plan_visits(&txn, l.c.id, org_id, on, &schedule, actor.user_id)
                        .await?;
                    let officers = self
                        .users_with_roles(&txn, org_id, &[crate::domain::Role::FollowUpOfficer])
                        .await?;
                    self.notify_in(
                        &txn,
                        &officers,
                        &crate::service::notify::Event {
                            kind: crate::notify::NotificationKind::HandoverReceived,
                            reference: Some(&l.c.reference),
                            from_org_id: l.c.owner_org_id,
                            link: format!("/cases/{}/follow-up", l.c.reference),
                        },
                        None,
                    )
                    .await?;
                }
            }
            ReturnStage::Cancelled => {
                am.cancelled_reason_enc = Set(Some(self.seal_field(
                    l.c.owner_org_id,
                    "returns",
                    "cancelled_reason",
                    &fresh.id,
                    reason.as_deref().unwrap_or(""),
                )?));
                release_bookings(&txn, &fresh.id, l.c.id).await?;
                self.release_return_commitments(&txn, actor.user_id, l.c.id, &fresh.id)
                    .await?;
                case_event = Some(CaseEvent::ReturnCancelled);
            }
            _ => {}
        }
        am.update(&txn).await?;
        return_stage::ActiveModel {
            return_id: Set(fresh.id.clone()),
            stage: Set(to.as_str().into()),
            at: Set(now),
            by_user: Set(actor.user_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(event) = case_event {
            self.advance_stage(&txn, l.c.id, event).await?;
        }
        // The person's advocate hears of a move made by someone else (the agency's
        // officer approving, say); the agency's officers of a move made by the advocate.
        self.tell_case_advocate(
            &txn,
            &l.c,
            actor,
            crate::notify::NotificationKind::ReturnStageChanged,
            "return",
        )
        .await?;
        if let Some(agency) = fresh.agency_org_id.filter(|a| *a != actor.org_id) {
            let officers = self
                .users_with_roles(&txn, agency, &[crate::domain::Role::ReturnOfficer])
                .await?;
            self.notify_in(
                &txn,
                &officers,
                &crate::service::notify::Event {
                    kind: crate::notify::NotificationKind::ReturnStageChanged,
                    reference: Some(&l.c.reference),
                    from_org_id: actor.org_id,
                    link: format!("/cases/{}/return", l.c.reference),
                },
                None,
            )
            .await?;
        }
        let mut entries = vec![NewEntry::by(
            actor,
            Some(&l.c.reference),
            Section::Return,
            if to == ReturnStage::Cancelled {
                AuditAction::End
            } else {
                AuditAction::Update
            },
            route,
        )];
        if to == ReturnStage::Received {
            entries.push(NewEntry::by(
                actor,
                Some(&l.c.reference),
                Section::Referrals,
                AuditAction::Create,
                route,
            ));
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        Ok(to)
    }

    /// The hand-over on arrival: the receiving origin-country organisation, a consent
    /// for reintegration in force, and the sections it will see.
    async fn check_handover(&self, l: &Loaded, input: &MoveInput) -> Result<(i64, i64, Sections)> {
        let org_id = l.r.receiving_org_id.ok_or_else(|| {
            ServiceError::Refused("record the receiving organisation before the arrival".into())
        })?;
        let consent_uid = input.handover_consent_id.as_deref().ok_or_else(|| {
            Invalid::new(
                "handover_consent_id",
                "is required: the hand-over needs the person's consent for reintegration follow-up",
            )
        })?;
        let k = consent_of_case(&self.db, l.c.id, consent_uid)
            .await?
            .ok_or_else(|| Invalid::new("handover_consent_id", "no such consent on this case"))?;
        let consent_id = k.id;
        domain::consent_covers(
            Purpose::parse(&k.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?,
            k.withdrawn_at.is_some(),
            Purpose::Reintegration,
        )
        .map_err(|m| ServiceError::Refused(m.into()))?;
        let sections = Sections::parse(&input.handover_sections.join(","))?;
        if sections.list().is_empty() {
            return Err(Invalid::new(
                "handover_sections",
                "name the sections the follow-up service receives",
            )
            .into());
        }
        Ok((org_id, consent_id, sections))
    }

    /// The person withdraws their consent to return: the consent record is withdrawn,
    /// the return stops and what was booked is released, in one transaction.
    pub async fn withdraw_return_consent(
        &self,
        actor: &Actor,
        reference: &str,
        input: &crate::service::cases::WithdrawalInput,
        route: Route<'_>,
    ) -> Result<()> {
        let why = input.reason()?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        if l.r.stage == ReturnStage::Departed.as_str() {
            return Err(ServiceError::Conflict(
                "the person has already departed: the return can no longer be stopped; record the arrival, and the follow-up service takes over".into(),
            ));
        }
        if l.consent.withdrawn_at.is_some() {
            return Err(ServiceError::Conflict(
                "this consent was already withdrawn".into(),
            ));
        }
        let now = Utc::now();
        let mut k = l.consent.clone().into_active_model();
        k.withdrawn_at = Set(Some(now));
        k.withdrawn_by = Set(Some(actor.user_id));
        k.withdraw_reason_enc = Set(self.seal_opt(
            l.c.owner_org_id,
            "consents",
            "withdraw_reason",
            &l.consent.id.to_string(),
            why.as_deref(),
        )?);
        k.update(&txn).await?;
        let stopped = self
            .stop_returns_on_consent(&txn, l.c.owner_org_id, l.consent.id, actor.user_id, now)
            .await?;
        let mut entries = vec![NewEntry::by(
            actor,
            Some(&l.c.reference),
            Section::Consents,
            AuditAction::Withdraw,
            route,
        )];
        if stopped {
            entries.push(NewEntry::by(
                actor,
                Some(&l.c.reference),
                Section::Return,
                AuditAction::End,
                route,
            ));
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        Ok(())
    }

    /// When a consent is withdrawn (from the return page or the case page), every live
    /// return resting on it is cancelled and its bookings released. True if one was.
    /// `owner_org` owns the consent's case (and so its returns): its data key seals.
    pub(crate) async fn stop_returns_on_consent(
        &self,
        txn: &DatabaseTransaction,
        owner_org: i64,
        consent_id: i64,
        by_user: i64,
        now: chrono::DateTime<Utc>,
    ) -> Result<bool> {
        let live: Vec<return_case::Model> = return_case::Entity::find()
            .filter(return_case::Column::ConsentId.eq(consent_id))
            .all(txn)
            .await?
            .into_iter()
            .filter(|r| {
                ReturnStage::parse(&r.stage)
                    .is_ok_and(|s| s.is_open() && s != ReturnStage::Departed)
            })
            .collect();
        for r in &live {
            let mut am = r.clone().into_active_model();
            am.stage = Set(ReturnStage::Cancelled.as_str().into());
            am.stage_since = Set(now);
            am.version = Set(r.version + 1);
            am.cancelled_reason_enc = Set(Some(self.seal_field(
                owner_org,
                "returns",
                "cancelled_reason",
                &r.id,
                "the person withdrew their consent to return",
            )?));
            am.update(txn).await?;
            return_stage::ActiveModel {
                return_id: Set(r.id.clone()),
                stage: Set(ReturnStage::Cancelled.as_str().into()),
                at: Set(now),
                by_user: Set(by_user),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            release_bookings(txn, &r.id, r.case_id).await?;
            self.release_return_commitments(txn, by_user, r.case_id, &r.id)
                .await?;
            // The agency arranging it hears that it stopped.
            if let Some(agency) = r.agency_org_id
                && let Some(c) = case::Entity::find_by_id(r.case_id).first(txn).await?
            {
                let officers: Vec<_> = self
                    .users_with_roles(txn, agency, &[crate::domain::Role::ReturnOfficer])
                    .await?
                    .into_iter()
                    .filter(|u| u.id != by_user)
                    .collect();
                self.notify_in(
                    txn,
                    &officers,
                    &crate::service::notify::Event {
                        kind: crate::notify::NotificationKind::ReturnStageChanged,
                        reference: Some(&c.reference),
                        from_org_id: c.owner_org_id,
                        link: format!("/cases/{}/return", c.reference),
                    },
                    None,
                )
                .await?;
            }
            self.advance_stage(txn, r.case_id, CaseEvent::ReturnCancelled)
                .await?;
        }
        Ok(!live.is_empty())
    }
}
