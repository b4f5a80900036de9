//! The audit trail of one case, for those allowed to see it.

use super::*;

impl Services {
    /// The audit trail of one case, newest first, for those allowed to see it (itself
    /// audited). Refused attempts on the case are in it too.
    pub async fn case_audit_trail(
        &self,
        actor: &Actor,
        reference: &str,
        paging: domain::Paging,
        route: Route<'_>,
    ) -> Result<TrailPage> {
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Audit),
                route,
            )
            .await?;
        self.audit
            .record(vec![NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Audit,
                AuditAction::Read,
                route,
            )])
            .await?;
        let q =
            audit_log::Entity::find().filter(audit_log::Column::CaseRef.eq(c.reference.as_str()));
        let total = q.clone().count(&self.db).await?;
        let st = with_limit(
            q.order_by_desc(audit_log::Column::Seq)
                .build(self.db.get_database_backend()),
            paging.per_page,
            paging.offset(),
        );
        let rows = audit_log::Model::find_by_statement(st)
            .all(&self.db)
            .await?;
        let names: HashMap<i64, String> = user::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(TrailRow {
                    seq: r.seq,
                    at: r.at,
                    user: r.user_id.and_then(|u| names.get(&u).cloned()),
                    user_id: r.user_id,
                    org: r.org_id.and_then(|o| orgs.get(&o).cloned()),
                    org_id: r.org_id,
                    section: Section::parse(&r.section)
                        .map_err(|e| anyhow::anyhow!("stored section: {e}"))?,
                    action: AuditAction::parse(&r.action)
                        .map_err(|e| anyhow::anyhow!("stored action: {e}"))?,
                    route: r.route,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TrailPage {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
            pages: paging.pages(total),
        })
    }
}
