//! The caseload (one query per page, in index order) and the search by exact name
//! through the blind index.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Cases where the caller is the assigned advocate.
    Mine,
    /// Cases the caller's organisation owns or that were shared with it.
    Organisation,
}

super::super::page_of!(
    /// A page of cases, newest activity first.
    CasePage,
    CaseSummary
);

/// Which cases a caseload scope lists for the actor (and the optional stage filter).
fn caseload_condition(actor: &Actor, scope: Scope, stage: Option<Stage>) -> Condition {
    let mut cond = match scope {
        Scope::Mine => Condition::all().add(case::Column::AdvocateUserId.eq(actor.user_id)),
        Scope::Organisation => {
            let mut any = Condition::any().add(case::Column::OwnerOrgId.eq(actor.org_id));
            // Shared cases are only for caseworkers (see domain::may).
            if actor.role.is_caseworker() {
                any = any.add(
                    case::Column::Id.in_subquery(
                        Query::select()
                            .column((share::Entity, share::Column::CaseId))
                            .from(share::Entity)
                            .inner_join(
                                consent::Entity,
                                Expr::col((consent::Entity, consent::Column::Id))
                                    .equals((share::Entity, share::Column::ConsentId)),
                            )
                            .and_where(
                                Expr::col((share::Entity, share::Column::OrgId)).eq(actor.org_id),
                            )
                            .and_where(Expr::col((share::Entity, share::Column::EndedAt)).is_null())
                            .and_where(
                                Expr::col((consent::Entity, consent::Column::WithdrawnAt))
                                    .is_null(),
                            )
                            .to_owned(),
                    ),
                );
                any = any.add(
                    case::Column::Id.in_subquery(
                        Query::select()
                            .column((referral::Entity, referral::Column::CaseId))
                            .from(referral::Entity)
                            .inner_join(
                                consent::Entity,
                                Expr::col((consent::Entity, consent::Column::Id))
                                    .equals((referral::Entity, referral::Column::ConsentId)),
                            )
                            .and_where(
                                Expr::col((referral::Entity, referral::Column::ToOrgId))
                                    .eq(actor.org_id),
                            )
                            .and_where(
                                Expr::col((referral::Entity, referral::Column::Status))
                                    .eq("accepted"),
                            )
                            .and_where(
                                Expr::col((consent::Entity, consent::Column::WithdrawnAt))
                                    .is_null(),
                            )
                            .to_owned(),
                    ),
                );
            }
            Condition::all().add(any)
        }
    };
    // Closed cases leave the caseloads; they are listed when asked for by their stage,
    // and stay readable (and found) by their reference.
    match stage {
        Some(s) => cond = cond.add(case::Column::Stage.eq(s.as_str())),
        None => cond = cond.add(case::Column::ClosedAt.is_null()),
    }
    cond
}

/// One page of a caseload, newest activity first, with the owning organisation's and the
/// advocate's names joined in (the [`SummaryRow`] columns): one query for the page. The
/// order matches the indexes `idx_cases_advocate_activity` and `idx_cases_owner_activity`,
/// so that the database reads the page's rows in order instead of sorting all the scope's
/// cases.
fn caseload_page(q: Select<case::Entity>) -> Select<case::Entity> {
    q.select_only()
        .columns([
            case::Column::Reference,
            case::Column::Stage,
            case::Column::OwnerOrgId,
            case::Column::AdvocateUserId,
            case::Column::Version,
            case::Column::CreatedAt,
            case::Column::UpdatedAt,
            case::Column::ClosedAt,
            case::Column::CloseStatus,
            case::Column::CloseReason,
            case::Column::ErasedAt,
            case::Column::ErasureReason,
        ])
        .column_as(organisation::Column::Name, "owner_org")
        .column_as(user::Column::DisplayName, "advocate")
        .join(
            JoinType::LeftJoin,
            case::Entity::belongs_to(organisation::Entity)
                .from(case::Column::OwnerOrgId)
                .to(organisation::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            case::Entity::belongs_to(user::Entity)
                .from(case::Column::AdvocateUserId)
                .to(user::Column::Id)
                .into(),
        )
        .order_by_desc(case::Column::UpdatedAt)
        .order_by_desc(case::Column::Id)
}

/// The statement of a caseload page as [`Services::caseload`] runs it (`page` from 1; the
/// limit and offset written as literals, see [`crate::store::First`]), also for looking at
/// its plan (`EXPLAIN`) in tests and the benchmark.
pub fn caseload_page_statement(
    actor: &Actor,
    scope: Scope,
    stage: Option<Stage>,
    page: u64,
    per_page: u64,
    backend: DbBackend,
) -> Statement {
    let page = std::cmp::max(page, 1);
    with_limit(
        caseload_page(case::Entity::find().filter(caseload_condition(actor, scope, stage)))
            .build(backend),
        per_page,
        (page - 1).saturating_mul(per_page),
    )
}

impl Services {
    /// The caller's caseload, newest activity first. One audit entry per page read.
    pub async fn caseload(
        &self,
        actor: &Actor,
        scope: Scope,
        stage: Option<Stage>,
        page: u64,
        per_page: u64,
        route: Route<'_>,
    ) -> Result<CasePage> {
        if !(actor.role.is_caseworker() || matches!(actor.role, Role::OrgAdmin | Role::Auditor)) {
            return Err(ServiceError::Forbidden("your role has no caseload".into()));
        }
        let per_page = per_page.clamp(1, 200);
        let page = std::cmp::max(page, 1);
        // The role decides alone whether this list may be read, so its audit entry goes to
        // the writer first and becomes durable while the reads run (group commit and
        // reads overlap instead of adding up); the answer still waits for it below.
        let audited = self
            .audit
            .submit(vec![NewEntry::by(
                actor,
                None,
                Section::Caseload,
                AuditAction::Read,
                route,
            )])
            .await?;
        let total = case::Entity::find()
            .filter(caseload_condition(actor, scope, stage))
            .count(&self.db)
            .await?;
        let st = caseload_page_statement(
            actor,
            scope,
            stage,
            page,
            per_page,
            self.db.get_database_backend(),
        );
        let items = SummaryRow::find_by_statement(st)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| summary_of(actor, r))
            .collect::<Result<Vec<_>>>()?;
        audited.durable().await?;
        Ok(CasePage {
            items,
            total,
            page,
            per_page,
            pages: total.div_ceil(per_page),
        })
    }

    /// Find a case by its reference, among the cases the caller may see (closed ones
    /// too): at most one.
    pub async fn search_by_reference(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<Vec<CaseSummary>> {
        let r = CaseRef::parse(reference.trim().to_ascii_uppercase().as_str())?;
        let mut found = Vec::new();
        if let Some(c) = case::Entity::find()
            .filter(case::Column::Reference.eq(r.as_str()))
            .first(&self.db)
            .await?
        {
            let rel = self.relation(&self.db, actor, &c).await?;
            if may(actor.role, rel, CaseAction::ViewSection(Section::Summary)) {
                found.push(c);
            }
        }
        let items = self.summaries(&self.db, actor, found).await?;
        let mut entries = vec![NewEntry::by(
            actor,
            None,
            Section::Summary,
            AuditAction::Search,
            route,
        )];
        entries.extend(items.iter().map(|s| {
            NewEntry::by(
                actor,
                Some(&s.reference),
                Section::Summary,
                AuditAction::Read,
                route,
            )
        }));
        self.audit.record(entries).await?;
        Ok(items)
    }

    /// Find cases by the person's exact name (case and spacing ignored) through the blind
    /// index, among the cases whose person the caller may see.
    pub async fn search_by_name(
        &self,
        actor: &Actor,
        name: &str,
        route: Route<'_>,
    ) -> Result<Vec<CaseSummary>> {
        let name = domain::parse_line("name", name, 200)?;
        let idx = self.keys.blind_index("person-name", &name);
        let person_ids: Vec<String> = person::Entity::find()
            .filter(person::Column::NameIdx.eq(idx))
            .select_only()
            .column(person::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut visible = Vec::new();
        if !person_ids.is_empty() {
            for c in case::Entity::find()
                .filter(case::Column::PersonId.is_in(person_ids))
                .all(&self.db)
                .await?
            {
                let rel = self.relation(&self.db, actor, &c).await?;
                if may(actor.role, rel, CaseAction::ViewSection(Section::Person)) {
                    visible.push(c);
                }
            }
        }
        let items = self.summaries(&self.db, actor, visible).await?;
        let mut entries = vec![NewEntry::by(
            actor,
            None,
            Section::Person,
            AuditAction::Search,
            route,
        )];
        entries.extend(items.iter().map(|s| {
            NewEntry::by(
                actor,
                Some(&s.reference),
                Section::Summary,
                AuditAction::Read,
                route,
            )
        }));
        self.audit.record(entries).await?;
        Ok(items)
    }
}

/// What helps find a person in a list: their name, and aliases when recorded. Only ever
/// built for a caller who may see the person section, and each one read is audited.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PersonLabel {
    pub name: String,
    pub aliases: Option<String>,
}

impl Services {
    /// The names (and aliases) of the persons of these cases, for a list the caller reads
    /// (their home, a referral inbox): only where `domain::may` lets the caller see the
    /// person section, each read audited like any other read of the person (one entry per
    /// case). Cases the caller may not see, or whose person they may not see, are simply
    /// absent from the answer. The names are for the page only: never in a URL.
    pub async fn person_labels(
        &self,
        actor: &Actor,
        references: &[String],
        route: Route<'_>,
    ) -> Result<HashMap<String, PersonLabel>> {
        let mut out = HashMap::new();
        if references.is_empty() {
            return Ok(out);
        }
        let cases = case::Entity::find()
            .filter(case::Column::Reference.is_in(references.iter().map(String::as_str)))
            .all(&self.db)
            .await?;
        let mut allowed: Vec<case::Model> = Vec::new();
        for c in cases {
            let rel = self.relation(&self.db, actor, &c).await?;
            // An erased person has no name left to show.
            if c.erased_at.is_none()
                && may(actor.role, rel, CaseAction::ViewSection(Section::Person))
            {
                allowed.push(c);
            }
        }
        if allowed.is_empty() {
            return Ok(out);
        }
        let persons: HashMap<String, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(allowed.iter().map(|c| c.person_id.clone())))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let mut entries = Vec::new();
        for c in allowed {
            let Some(p) = persons.get(&c.person_id) else {
                continue;
            };
            let name = self.keys.decrypt_string(loc("name", &p.id), &p.name_enc)?;
            let aliases = self.open("aliases", &p.id, p.aliases_enc.as_ref())?;
            entries.push(NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Person,
                AuditAction::Read,
                route,
            ));
            out.insert(c.reference, PersonLabel { name, aliases });
        }
        // The names are returned only once their reads are on record.
        self.audit.record(entries).await?;
        Ok(out)
    }

    /// Cases that may already be this person's: the same name (through the blind index,
    /// so no name is compared in clear in the database) and the same birth date, among the
    /// cases whose person the caller may see. Another organisation's case the caller may
    /// not see is never among them, nor hinted at. Without a birth date there is no
    /// likely duplicate (a name alone is too common to warn on). The search and each case
    /// found are audited like a search by name.
    pub async fn likely_duplicates(
        &self,
        actor: &Actor,
        input: &PersonInput,
        route: Route<'_>,
    ) -> Result<Vec<CaseSummary>> {
        let person = input.parse(Utc::now().date_naive())?;
        let Some(birth_date) = person.birth_date else {
            return Ok(vec![]);
        };
        let idx = self.keys.blind_index("person-name", &person.name);
        let candidates: Vec<person::Model> = person::Entity::find()
            .filter(person::Column::NameIdx.eq(idx))
            .all(&self.db)
            .await?;
        let mut same = Vec::new();
        if !candidates.is_empty() {
            let by_id: HashMap<String, &person::Model> =
                candidates.iter().map(|p| (p.id.clone(), p)).collect();
            for c in case::Entity::find()
                .filter(case::Column::PersonId.is_in(by_id.keys().cloned()))
                .order_by_asc(case::Column::Id)
                .all(&self.db)
                .await?
            {
                let rel = self.relation(&self.db, actor, &c).await?;
                if !may(actor.role, rel, CaseAction::ViewSection(Section::Person)) {
                    continue;
                }
                let Some(p) = by_id.get(&c.person_id) else {
                    continue;
                };
                let born = self.open("birth_date", &p.id, p.birth_date_enc.as_ref())?;
                if born.as_deref() == Some(birth_date.format("%Y-%m-%d").to_string().as_str()) {
                    same.push(c);
                }
            }
        }
        let items = self.summaries(&self.db, actor, same).await?;
        let mut entries = vec![NewEntry::by(
            actor,
            None,
            Section::Person,
            AuditAction::Search,
            route,
        )];
        entries.extend(items.iter().map(|s| {
            NewEntry::by(
                actor,
                Some(&s.reference),
                Section::Summary,
                AuditAction::Read,
                route,
            )
        }));
        self.audit.record(entries).await?;
        Ok(items)
    }
}
