//! The one door to case data: how the caller's organisation relates to a case, and
//! loading a case for an action (refused attempts audited, closed cases read-only).

use super::*;

impl Services {
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
            // A referral for reintegration (the hand-over on arrival) makes the receiver
            // the follow-up service of the case.
            if r.service == Purpose::Reintegration.as_str() {
                open = open.union(Sections::of(&[Section::FollowUp]));
            }
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
        // An erased case is an anonymous record: its summary and trail stay readable, every
        // other section and every edit is refused (nothing personal is left to show).
        if c.erased_at.is_some()
            && !matches!(
                action,
                CaseAction::ViewSection(Section::Summary | Section::Audit)
            )
        {
            return Err(ServiceError::Conflict(
                "this case was erased: its personal data no longer exist, and it can no longer be changed".into(),
            ));
        }
        if action.is_edit() && c.closed_at.is_some() {
            return Err(ServiceError::Conflict(
                "this case is closed: it can be read but no longer changed".into(),
            ));
        }
        Ok((c, rel))
    }
}

fn forbidden_message(action: CaseAction) -> &'static str {
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
        CaseAction::Close => {
            "only the owning organisation's advocates and follow-up officers, and the follow-up officers the case was handed over to, close a case"
        }
        CaseAction::EditFollowUp => {
            "only the follow-up officers of the organisation the case was handed over to record the follow-up"
        }
    }
}
