//! Before approval: the risk assessment, a child's safeguards, and the jurisdiction's own
//! checks ticked on the page.

use super::*;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RiskInput {
    /// Risk of persecution or serious harm in the country of origin: low, medium, high.
    pub persecution: String,
    /// Risk of re-trafficking: low, medium, high.
    pub re_trafficking: String,
    /// Findings, including the family situation and health.
    pub findings: String,
    /// Required for a high risk of re-trafficking.
    #[serde(default)]
    pub safety_plan: Option<String>,
    #[serde(default)]
    pub assessed_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ChildSafeguardsInput {
    #[serde(default)]
    pub guardian: Option<String>,
    #[serde(default)]
    pub best_interests_on: Option<String>,
    #[serde(default)]
    pub best_interests_by: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CheckInput {
    /// A requirement id of the jurisdiction's checklist.
    pub requirement: String,
    #[serde(default)]
    pub done_on: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RiskView {
    pub persecution: RiskLevel,
    pub re_trafficking: RiskLevel,
    pub findings: String,
    pub safety_plan: Option<String>,
    pub assessed_on: NaiveDate,
    pub author: String,
}

impl Services {
    /// Record the risk assessment, dated and signed by its author.
    pub async fn assess_return(
        &self,
        actor: &Actor,
        reference: &str,
        input: &RiskInput,
        route: Route<'_>,
    ) -> Result<String> {
        let persecution = RiskLevel::parse(&input.persecution)
            .map_err(|e| Invalid::new("persecution", e.message))?;
        let re_trafficking = RiskLevel::parse(&input.re_trafficking)
            .map_err(|e| Invalid::new("re_trafficking", e.message))?;
        let findings = domain::parse_optional_text("findings", Some(&input.findings), 10_000)?
            .ok_or_else(|| {
                Invalid::new(
                    "findings",
                    "is required: family situation, health, what was found",
                )
            })?;
        let plan =
            domain::parse_optional_text("safety_plan", input.safety_plan.as_deref(), 10_000)?;
        let assessed_on = not_future(
            "assessed_on",
            day_or_today("assessed_on", input.assessed_on.as_deref())?,
        )?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        if assessed_on < l.r.requested_on {
            return Err(
                Invalid::new("assessed_on", "cannot be before the return was requested").into(),
            );
        }
        let id = random_token(16)?;
        risk_assessment::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            persecution: Set(persecution.as_str().into()),
            re_trafficking: Set(re_trafficking.as_str().into()),
            findings_enc: Set(self.seal_field(
                l.c.owner_org_id,
                "risk_assessments",
                "findings",
                &id,
                &findings,
            )?),
            safety_plan_enc: Set(self.seal_opt(
                l.c.owner_org_id,
                "risk_assessments",
                "safety_plan",
                &id,
                plan.as_deref(),
            )?),
            assessed_on: Set(assessed_on),
            author_user_id: Set(actor.user_id),
            recorded_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        Ok(id)
    }

    /// A child's safeguards: the guardian and the best-interests determination.
    pub async fn child_safeguards(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ChildSafeguardsInput,
        route: Route<'_>,
    ) -> Result<()> {
        let guardian = domain::parse_optional_text("guardian", input.guardian.as_deref(), 300)?;
        let bid_on = match input.best_interests_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(not_future(
                "best_interests_on",
                day("best_interests_on", s)?,
            )?),
        };
        let bid_by = domain::parse_optional_text(
            "best_interests_by",
            input.best_interests_by.as_deref(),
            300,
        )?;
        if bid_on.is_some() != bid_by.is_some() {
            return Err(Invalid::new(
                "best_interests_by",
                "a best-interests determination needs both its date and who made it",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let rid = l.r.id.clone();
        let mut am = l.r.clone().into_active_model();
        if let Some(g) = &guardian {
            am.guardian_enc = Set(Some(self.seal_field(
                l.c.owner_org_id,
                "returns",
                "guardian",
                &rid,
                g,
            )?));
        }
        if let (Some(on), Some(by)) = (bid_on, &bid_by) {
            am.best_interests_on = Set(Some(on));
            am.best_interests_by_enc = Set(Some(self.seal_field(
                l.c.owner_org_id,
                "returns",
                "best_interests_by",
                &rid,
                by,
            )?));
        }
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Tick one of the jurisdiction's own checks (e.g. a national programme's file).
    pub async fn record_check(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CheckInput,
        route: Route<'_>,
    ) -> Result<()> {
        let requirement = domain::parse_line("requirement", &input.requirement, 64)?;
        let on = not_future(
            "done_on",
            day_or_today("done_on", input.done_on.as_deref())?,
        )?;
        let note = domain::parse_optional_text("note", input.note.as_deref(), 2_000)?;
        let l = self
            .return_case_for(&self.db, actor, reference, CaseAction::EditReturn, route)
            .await?;
        let (_, checklist, _, _) = self.return_facts(&self.db, &l, "en").await?;
        if !checklist.iter().any(|i| i.id == requirement) {
            return Err(
                Invalid::new("requirement", "is not on this jurisdiction's checklist").into(),
            );
        }
        if matches!(
            requirement.as_str(),
            "informed_consent"
                | "risk_assessment"
                | "citizenship_confirmed"
                | "travel_document"
                | "reception_arranged"
                | "guardian_appointed"
                | "best_interests_determination"
        ) {
            return Err(Invalid::new(
                "requirement",
                "is met by recording it in its own section, not by a tick",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        Self::require_open(&l)?;
        let id = random_token(16)?;
        return_check::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            requirement: Set(requirement),
            done_on: Set(on),
            note_enc: Set(self.seal_opt(
                l.c.owner_org_id,
                "return_checks",
                "note",
                &id,
                note.as_deref(),
            )?),
            by_user: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await
    }
}
