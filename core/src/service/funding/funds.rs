//! Funds: created and edited by the holder's fund managers, opened to other
//! organisations, read by those who may know of them.

use super::*;
use crate::domain::{CountryCode, Paging, Stage};
use crate::funding::{Beneficiary, CostCategory};
use crate::store::entity::organisation;
use std::collections::{BTreeMap, BTreeSet};

/// A fund as a fund manager types it. Amounts in integer minor units of the currency.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct FundInput {
    pub name: String,
    /// state_budget, confiscated_assets, business_contribution, permit_fees or
    /// intergovernmental_programme.
    pub source: String,
    /// ISO 4217, e.g. EUR.
    pub currency: String,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// YYYY-MM-DD, inclusive; open-ended when empty.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Commitments above this need a fund manager's approval.
    #[serde(default)]
    pub approval_threshold_minor: Option<i64>,
    /// Below this available amount the fund is flagged as running low.
    #[serde(default)]
    pub low_balance_minor: Option<i64>,
    /// The cost categories it pays (shelter, medical, psychological, legal,
    /// interpretation, counselling, travel, escort, documents, reintegration, follow_up,
    /// other).
    #[serde(default)]
    pub categories: Vec<String>,
    /// victim_reasonable_grounds, victim_conclusive_grounds, protected_witness; empty: any.
    #[serde(default)]
    pub beneficiaries: Vec<String>,
    #[serde(default)]
    pub children_only: bool,
    /// ISO 3166-1 alpha-2; empty: any.
    #[serde(default)]
    pub nationalities: Vec<String>,
    #[serde(default)]
    pub destinations: Vec<String>,
    /// Case stages; empty: any.
    #[serde(default)]
    pub stages: Vec<String>,
    #[serde(default)]
    pub case_cap_minor: Option<i64>,
    /// Category → cap per case.
    #[serde(default)]
    pub category_caps_minor: BTreeMap<String, i64>,
    /// On an edit: the version read.
    #[serde(default)]
    pub version: Option<i64>,
}

impl FundInput {
    fn parse(&self, holder_org: i64) -> Result<(Fund, Option<i64>), Invalid> {
        let source =
            SourceKind::parse(&self.source).map_err(|e| Invalid::new("source", e.message))?;
        let currency = Currency::parse(&self.currency)?;
        let valid_from = day_or_today("valid_from", self.valid_from.as_deref())?;
        let valid_until = match self.valid_until.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(_) => Some(day_or_today("valid_until", self.valid_until.as_deref())?),
        };
        let mut categories = BTreeSet::new();
        for c in &self.categories {
            categories
                .insert(CostCategory::parse(c).map_err(|e| Invalid::new("categories", e.message))?);
        }
        let mut beneficiaries = BTreeSet::new();
        for b in &self.beneficiaries {
            beneficiaries.insert(
                Beneficiary::parse(b).map_err(|e| Invalid::new("beneficiaries", e.message))?,
            );
        }
        let countries =
            |field: &'static str, list: &[String]| -> Result<Vec<CountryCode>, Invalid> {
                list.iter()
                    .map(|c| CountryCode::parse(c).map_err(|e| Invalid::new(field, e.message)))
                    .collect()
            };
        let stages = self
            .stages
            .iter()
            .map(|s| Stage::parse(s).map_err(|e| Invalid::new("stages", e.message)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut category_caps = BTreeMap::new();
        for (c, v) in &self.category_caps_minor {
            category_caps.insert(
                CostCategory::parse(c)
                    .map_err(|e| Invalid::new("category_caps_minor", e.message))?,
                *v,
            );
        }
        let nonneg = |field: &'static str, v: Option<i64>| match v {
            Some(x) if !(0..=rules::MAX_MINOR).contains(&x) => Err(Invalid::new(
                field,
                "must be zero or more, in minor units of the currency",
            )),
            _ => Ok(v),
        };
        let fund = Fund {
            name: crate::domain::parse_line("name", &self.name, 200)?,
            source,
            holder_org,
            currency,
            valid_from,
            valid_until,
            approval_threshold: nonneg("approval_threshold_minor", self.approval_threshold_minor)?,
            rules: FundRules {
                categories,
                beneficiaries,
                children_only: self.children_only,
                nationalities: countries("nationalities", &self.nationalities)?,
                destinations: countries("destinations", &self.destinations)?,
                stages,
                case_cap: nonneg("case_cap_minor", self.case_cap_minor)?,
                category_caps,
            },
        };
        rules::check_fund(&fund)?;
        Ok((fund, nonneg("low_balance_minor", self.low_balance_minor)?))
    }
}

/// An organisation a fund is opened to.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Opening {
    pub org_id: i64,
    pub org: String,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct OpeningInput {
    pub org_id: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FundView {
    /// 32-character hex id.
    pub id: String,
    pub name: String,
    pub source: SourceKind,
    pub holder_org_id: i64,
    pub holder_org: String,
    pub currency: Currency,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub approval_threshold_minor: Option<i64>,
    pub low_balance_minor: Option<i64>,
    pub rules: FundRules,
    /// Derived from the entries (and checked against them).
    pub balances: Balances,
    /// Available below the low-balance threshold.
    pub low: bool,
    /// "holder" or "opened": how the caller's organisation relates to it.
    pub relation: String,
    /// The organisations it is opened to (for the holder).
    pub opened_to: Vec<Opening>,
    pub version: i64,
    pub can_manage: bool,
    pub can_request: bool,
    pub can_view_all: bool,
}

crate::service::page_of!(
    /// A page of funds.
    FundPage,
    FundView
);

impl Services {
    pub(super) async fn fund_view<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        f: &fund::Model,
        rel: FundRelation,
    ) -> Result<FundView> {
        let fund = fund_of(f)?;
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let opened_to = if rel == FundRelation::Holder {
            fund_opening::Entity::find()
                .filter(fund_opening::Column::FundId.eq(f.id.clone()))
                .all(db)
                .await?
                .into_iter()
                .map(|o| Opening {
                    org: orgs.get(&o.org_id).cloned().unwrap_or_default(),
                    org_id: o.org_id,
                })
                .collect()
        } else {
            vec![]
        };
        let balances = stored_balances(f);
        Ok(FundView {
            id: f.id.clone(),
            name: fund.name,
            source: fund.source,
            holder_org_id: f.holder_org_id,
            holder_org: orgs.get(&f.holder_org_id).cloned().unwrap_or_default(),
            currency: fund.currency,
            valid_from: fund.valid_from,
            valid_until: fund.valid_until,
            approval_threshold_minor: fund.approval_threshold,
            low_balance_minor: f.low_balance,
            rules: fund.rules,
            low: f.low_balance.is_some_and(|l| balances.available < l),
            balances,
            relation: if rel == FundRelation::Holder {
                "holder"
            } else {
                "opened"
            }
            .into(),
            opened_to,
            version: f.version,
            can_manage: rules::may_fund(actor.role, rel, FundAction::Manage),
            can_request: rules::may_fund(actor.role, rel, FundAction::Request),
            can_view_all: rules::may_fund(actor.role, rel, FundAction::ViewAll),
        })
    }

    /// Create a fund held by the fund manager's organisation.
    pub async fn create_fund(
        &self,
        actor: &Actor,
        input: &FundInput,
        route: Route<'_>,
    ) -> Result<FundView> {
        if !rules::may_create_fund(actor.role) {
            return Err(ServiceError::Forbidden(
                "only fund managers create funds".into(),
            ));
        }
        let (fund, low) = input.parse(actor.org_id)?;
        let id = random_token(16)?;
        let txn = crate::store::begin_write(&self.db).await?;
        let m = fund::ActiveModel {
            id: Set(id.clone()),
            holder_org_id: Set(actor.org_id),
            name: Set(fund.name.clone()),
            source: Set(fund.source.as_str().into()),
            currency: Set(fund.currency.code().into()),
            valid_from: Set(fund.valid_from),
            valid_until: Set(fund.valid_until),
            approval_threshold: Set(fund.approval_threshold),
            low_balance: Set(low),
            rules_json: Set(serde_json::to_string(&fund.rules)
                .map_err(|e| anyhow::anyhow!("fund rules: {e}"))?),
            allocated: Set(0),
            committed_unspent: Set(0),
            pending: Set(0),
            spent: Set(0),
            last_entry: Set(None),
            version: Set(1),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(actor, None, AuditAction::Create, route)],
        )
        .await?;
        txn.commit().await?;
        self.fund_view(&self.db, actor, &m, FundRelation::Holder)
            .await
    }

    /// Change a fund's settings (the version read; its entries stay as they are).
    pub async fn update_fund(
        &self,
        actor: &Actor,
        fund_id: &str,
        input: &FundInput,
        route: Route<'_>,
    ) -> Result<FundView> {
        let txn = crate::store::begin_write(&self.db).await?;
        let (f, rel) = self
            .fund_for(&txn, actor, fund_id, FundAction::Manage, true)
            .await?;
        let (fund, low) = input.parse(f.holder_org_id)?;
        if fund.currency.code() != f.currency && f.last_entry.is_some() {
            return Err(Invalid::new("currency", "a fund with entries keeps its currency").into());
        }
        let Some(version) = input.version else {
            return Err(Invalid::new("version", "is required: the version you read").into());
        };
        let res = fund::Entity::update_many()
            .col_expr(fund::Column::Name, Expr::value(fund.name.clone()))
            .col_expr(fund::Column::Source, Expr::value(fund.source.as_str()))
            .col_expr(fund::Column::Currency, Expr::value(fund.currency.code()))
            .col_expr(fund::Column::ValidFrom, Expr::value(fund.valid_from))
            .col_expr(fund::Column::ValidUntil, Expr::value(fund.valid_until))
            .col_expr(
                fund::Column::ApprovalThreshold,
                Expr::value(fund.approval_threshold),
            )
            .col_expr(fund::Column::LowBalance, Expr::value(low))
            .col_expr(
                fund::Column::RulesJson,
                Expr::value(
                    serde_json::to_string(&fund.rules)
                        .map_err(|e| anyhow::anyhow!("fund rules: {e}"))?,
                ),
            )
            .col_expr(fund::Column::Version, Expr::value(version + 1))
            .filter(fund::Column::Id.eq(f.id.clone()))
            .filter(fund::Column::Version.eq(version))
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            return Err(ServiceError::Conflict(format!(
                "this fund was changed by someone else since you opened it (it is now at version {}); reload it",
                f.version
            )));
        }
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(actor, None, AuditAction::Update, route)],
        )
        .await?;
        txn.commit().await?;
        // Its settings changed: the cached ledger knows the old threshold and name.
        self.ledgers.forget(&f.id);
        let f = fund::Entity::find_by_id(f.id.clone())
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("fund"))?;
        self.fund_view(&self.db, actor, &f, rel).await
    }

    /// Open a fund to another organisation (it may then ask for money for its own cases).
    pub async fn open_fund(
        &self,
        actor: &Actor,
        fund_id: &str,
        org_id: i64,
        route: Route<'_>,
    ) -> Result<FundView> {
        let txn = crate::store::begin_write(&self.db).await?;
        let (f, rel) = self
            .fund_for(&txn, actor, fund_id, FundAction::Manage, true)
            .await?;
        let org = organisation::Entity::find_by_id(org_id)
            .first(&txn)
            .await?
            .ok_or_else(|| Invalid::new("org_id", "no such organisation"))?;
        if org.id == f.holder_org_id {
            return Err(
                Invalid::new("org_id", "the fund already belongs to this organisation").into(),
            );
        }
        let exists = fund_opening::Entity::find()
            .filter(fund_opening::Column::FundId.eq(f.id.clone()))
            .filter(fund_opening::Column::OrgId.eq(org.id))
            .first(&txn)
            .await?
            .is_some();
        if exists {
            return Err(ServiceError::Conflict(
                "the fund is already opened to this organisation".into(),
            ));
        }
        fund_opening::ActiveModel {
            fund_id: Set(f.id.clone()),
            org_id: Set(org.id),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(actor, None, AuditAction::Update, route)],
        )
        .await?;
        txn.commit().await?;
        self.fund_view(&self.db, actor, &f, rel).await
    }

    /// One fund, as the caller may see it.
    pub async fn fund(&self, actor: &Actor, fund_id: &str, route: Route<'_>) -> Result<FundView> {
        let (f, rel) = self
            .fund_for(&self.db, actor, fund_id, FundAction::View, false)
            .await?;
        let v = self.fund_view(&self.db, actor, &f, rel).await?;
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                None,
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(v)
    }

    /// The funds the caller's organisation holds or that were opened to it, by name.
    pub async fn funds(&self, actor: &Actor, paging: Paging, route: Route<'_>) -> Result<FundPage> {
        let opened: Vec<String> = fund_opening::Entity::find()
            .filter(fund_opening::Column::OrgId.eq(actor.org_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| o.fund_id)
            .collect();
        let mut rows = fund::Entity::find()
            .filter(fund::Column::HolderOrgId.eq(actor.org_id))
            .all(&self.db)
            .await?;
        if !opened.is_empty() {
            rows.extend(
                fund::Entity::find()
                    .filter(fund::Column::Id.is_in(opened))
                    .all(&self.db)
                    .await?,
            );
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let mut out = Vec::new();
        for f in &rows {
            let rel = FundRelation::of(actor.org_id, f.holder_org_id, true);
            if rules::may_fund(actor.role, rel, FundAction::View) {
                out.push(self.fund_view(&self.db, actor, f, rel).await?);
            }
        }
        if out.is_empty()
            && !rules::may_create_fund(actor.role)
            && !actor.role.is_caseworker()
            && !matches!(
                actor.role,
                crate::domain::Role::Auditor | crate::domain::Role::OrgAdmin
            )
        {
            return Err(ServiceError::Forbidden("your role has no funds".into()));
        }
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                None,
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(FundPage::of(out, paging))
    }
}
