//! Funding pages: the funds list, a fund (balances, rules, commitments to approve, spend
//! or release, entries, openings, allocation), its report and donor report (HTML and
//! CSV), and a case's money with the funds that could pay for it.

use crate::http::{PageError, Pairs, Signed, SignedForm, route, see_other};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use passerelle_core::domain::{Invalid, Paging};
use passerelle_core::funding::{
    Beneficiary, CostCategory, Currency, FundRefusal, PurposeKind, SourceKind, format_decimal,
    parse_amount,
};
use passerelle_core::service::funding::{
    AllocationInput, CommitmentInput, CommitmentView, CorrectionInput, FundInput, FundReport,
    FundView, RefusalInput, ReleaseInput, SpendingInput,
};
use serde_json::{Value, json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/funds", web::get().to(list_page))
        .route("/funds", web::post().to(create_page))
        .route("/funds/{id}", web::get().to(fund_page))
        .route("/funds/{id}/allocations", web::post().to(allocate_page))
        .route("/funds/{id}/openings", web::post().to(open_page))
        .route(
            "/funds/{id}/commitments/{c}/{action}",
            web::post().to(commitment_action_page),
        )
        .route(
            "/funds/{id}/entries/{e}/corrections",
            web::post().to(correct_page),
        )
        .route("/funds/{id}/report", web::get().to(report_page))
        .route("/funds/{id}/report.csv", web::get().to(report_csv_page))
        .route("/funds/{id}/donor-report", web::get().to(donor_page))
        .route("/cases/{reference}/funding", web::get().to(case_page))
        .route(
            "/cases/{reference}/funding",
            web::post().to(case_commit_page),
        );
}

/// An amount in the reader's language: decimals with the currency.
pub fn money(lang: &str, minor: i64, currency: Currency) -> String {
    let d = format_decimal(minor, currency);
    let d = if lang == "fr" { d.replace('.', ",") } else { d };
    format!("{d} {}", currency.code())
}

/// A refusal in words: its rule's message with its arguments, else the English one.
pub fn refusal_text(s: &Signed, r: &FundRefusal) -> String {
    let key = format!("fund-rule-{}", r.rule.as_str());
    let mut args = fluent_bundle::FluentArgs::new();
    for a in &r.args {
        let v = match a.name {
            "category" => s.page.t(&format!("cost-{}", a.value)),
            _ => a.value.clone(),
        };
        args.set(a.name, v);
    }
    let text = s.page.state.i18n.t(s.page.lang, &key, Some(&args));
    if text == key { r.message.clone() } else { text }
}

fn options<T: Copy>(
    s: &Signed,
    prefix: &str,
    all: &[T],
    as_str: impl Fn(T) -> &'static str,
) -> Vec<Value> {
    all.iter()
        .map(|v| json!({"value": as_str(*v), "label": s.page.t(&format!("{prefix}-{}", as_str(*v)))}))
        .collect()
}

fn fund_json(s: &Signed, f: &FundView) -> Value {
    let lang = s.page.lang;
    let c = f.currency;
    json!({
        "id": f.id, "name": f.name, "holder": f.holder_org,
        "source": s.page.t(&format!("source-{}", f.source.as_str())),
        "currency": c.code(),
        "valid_from": f.valid_from.to_string(),
        "valid_until": f.valid_until.map(|d| d.to_string()),
        "allocated": money(lang, f.balances.allocated, c),
        "committed": money(lang, f.balances.committed_unspent, c),
        "pending": money(lang, f.balances.pending, c),
        "spent": money(lang, f.balances.spent, c),
        "available": money(lang, f.balances.available, c),
        "low": f.low,
        "threshold": f.approval_threshold_minor.map(|t| money(lang, t, c)),
        "categories": f.rules.categories.iter().map(|k| s.page.t(&format!("cost-{}", k.as_str()))).collect::<Vec<_>>().join(", "),
        "beneficiaries": f.rules.beneficiaries.iter().map(|b| s.page.t(&format!("beneficiary-{}", b.as_str()))).collect::<Vec<_>>().join(", "),
        "children_only": f.rules.children_only,
        "nationalities": f.rules.nationalities.iter().map(|n| n.as_str().to_owned()).collect::<Vec<_>>().join(", "),
        "destinations": f.rules.destinations.iter().map(|n| n.as_str().to_owned()).collect::<Vec<_>>().join(", "),
        "case_cap": f.rules.case_cap.map(|t| money(lang, t, c)),
        "opened_to": f.opened_to.iter().map(|o| o.org.clone()).collect::<Vec<_>>().join(", "),
        "holder_relation": f.relation == "holder",
        "can_manage": f.can_manage, "can_request": f.can_request, "can_view_all": f.can_view_all,
    })
}

fn commitment_json(s: &Signed, c: &CommitmentView) -> Value {
    let lang = s.page.lang;
    json!({
        "id": c.id, "reference": c.reference,
        "category": s.page.t(&format!("cost-{}", c.category.as_str())),
        "purpose": s.page.t(&format!("purpose-kind-{}", c.purpose.as_str())),
        "description": c.description,
        "amount": money(lang, c.amount_minor, c.currency),
        "spent": money(lang, c.spent_minor, c.currency),
        "released": money(lang, c.released_minor, c.currency),
        "unspent": money(lang, c.unspent_minor, c.currency),
        "open": c.unspent_minor > 0,
        "status": s.page.t(&format!("commitment-status-{}", c.status.as_str())),
        "pending": c.status == passerelle_core::funding::CommitmentStatus::PendingApproval,
        "approved": c.status == passerelle_core::funding::CommitmentStatus::Approved,
        "on": c.on.to_string(), "by": c.requested_by, "fund": c.fund, "fund_id": c.fund_id,
    })
}

fn err(s: &Signed, e: passerelle_core::ServiceError) -> PageError {
    s.page.service_error(e)
}

async fn list_page(s: Signed, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let page = s
        .services()
        .funds(
            s.actor(),
            Paging {
                page: 1,
                per_page: Paging::MAX_PER_PAGE,
            },
            &route(&req),
        )
        .await
        .map_err(|e| err(&s, e))?;
    let mut data = s.page.base("funds-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "funds".into(),
            json!(
                page.items
                    .iter()
                    .map(|f| fund_json(&s, f))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "can_create".into(),
            json!(passerelle_core::funding::may_create_fund(s.actor().role)),
        );
        o.insert(
            "sources".into(),
            json!(options(&s, "source", SourceKind::ALL, |k| k.as_str())),
        );
        o.insert(
            "categories".into(),
            json!(options(&s, "cost", CostCategory::ALL, |k| k.as_str())),
        );
        o.insert(
            "beneficiaries".into(),
            json!(options(&s, "beneficiary", Beneficiary::ALL, |k| k.as_str())),
        );
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.ok("funds", data))
}

/// An amount typed on a page, in a currency.
fn amount(s: &Signed, f: &Pairs, field: &'static str, c: Currency) -> Result<i64, PageError> {
    parse_amount(field, &f.text(field), c).map_err(|e| invalid(s, e))
}

fn invalid(s: &Signed, e: Invalid) -> PageError {
    s.page.fail(
        StatusCode::UNPROCESSABLE_ENTITY,
        "error-invalid",
        s.page.invalid_detail(&e),
    )
}

fn opt_amount(
    s: &Signed,
    f: &Pairs,
    field: &'static str,
    c: Currency,
) -> Result<Option<i64>, PageError> {
    if f.text(field).trim().is_empty() {
        return Ok(None);
    }
    passerelle_core::funding::parse_limit(field, &f.text(field), c)
        .map(Some)
        .map_err(|e| invalid(s, e))
}

async fn create_page(f: SignedForm<Pairs>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let currency = Currency::parse(&f.form.text("currency")).map_err(|e| invalid(s, e))?;
    let input = FundInput {
        name: f.form.text("name"),
        source: f.form.text("source"),
        currency: f.form.text("currency"),
        valid_from: f.form.opt("valid_from"),
        valid_until: f.form.opt("valid_until"),
        approval_threshold_minor: opt_amount(s, &f.form, "approval_threshold", currency)?,
        low_balance_minor: opt_amount(s, &f.form, "low_balance", currency)?,
        categories: f.form.all("categories"),
        beneficiaries: f.form.all("beneficiaries"),
        children_only: f.form.checked("children_only"),
        nationalities: split(&f.form.text("nationalities")),
        destinations: split(&f.form.text("destinations")),
        stages: vec![],
        case_cap_minor: opt_amount(s, &f.form, "case_cap", currency)?,
        category_caps_minor: Default::default(),
        version: None,
    };
    let v = s
        .services()
        .create_fund(s.actor(), &input, &route(&req))
        .await
        .map_err(|e| err(s, e))?;
    Ok(see_other(&format!("/funds/{}", v.id)))
}

fn split(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn fund_page(
    s: Signed,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let r = route(&req);
    let v = s
        .services()
        .fund(s.actor(), &id, &r)
        .await
        .map_err(|e| err(&s, e))?;
    let commitments = s
        .services()
        .fund_commitments(s.actor(), &id, &r)
        .await
        .map_err(|e| err(&s, e))?;
    let entries = if v.can_view_all {
        s.services()
            .fund_entries(s.actor(), &id, Paging::default(), &r)
            .await
            .map_err(|e| err(&s, e))?
            .items
    } else {
        vec![]
    };
    let orgs = if v.can_manage {
        s.services().list_orgs().await.map_err(|e| err(&s, e))?
    } else {
        vec![]
    };
    let lang = s.page.lang;
    let mut data = s.page.base("fund-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("fund".into(), fund_json(&s, &v));
        o.insert(
            "commitments".into(),
            json!(
                commitments
                    .iter()
                    .map(|c| commitment_json(&s, c))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "entries".into(),
            json!(entries.iter().map(|e| json!({
            "id": e.id, "kind": s.page.t(&format!("entry-kind-{}", e.kind)),
            "amount": money(lang, e.amount_minor, v.currency), "reference": e.reference,
            "category": e.category.as_ref().map(|c| s.page.t(&format!("cost-{c}"))),
            "detail": e.detail, "on": e.on.to_string(), "by": e.by,
            "correctable": matches!(e.kind.as_str(), "allocation" | "commitment" | "spending"),
        })).collect::<Vec<_>>()),
        );
        o.insert(
            "orgs".into(),
            json!(
                orgs.iter()
                    .filter(|x| x.id != v.holder_org_id)
                    .map(|x| json!({"id": x.id, "name": x.name}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
        o.insert(
            "origin_hint".into(),
            json!(
                s.page
                    .t(&format!("origin-{}", v.source.origin_kind().as_str()))
            ),
        );
    }
    Ok(s.page.ok("fund", data))
}

fn back(id: &str, anchor: &str) -> HttpResponse {
    see_other(&format!("/funds/{id}#{anchor}"))
}

async fn fund_currency(s: &Signed, req: &HttpRequest, id: &str) -> Result<Currency, PageError> {
    Ok(s.services()
        .fund(s.actor(), id, &route(req))
        .await
        .map_err(|e| err(s, e))?
        .currency)
}

async fn allocate_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let c = fund_currency(s, &req, &id).await?;
    let input = AllocationInput {
        amount_minor: amount(s, &f.form, "amount", c)?,
        currency: c.code().into(),
        origin: f.form.text("origin"),
        on: f.form.opt("on"),
    };
    s.services()
        .allocate(s.actor(), &id, &input, &route(&req))
        .await
        .map_err(|e| err(s, e))?;
    Ok(back(&id, "balances"))
}

async fn open_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let org = f
        .form
        .text("org_id")
        .trim()
        .parse::<i64>()
        .map_err(|_| invalid(s, Invalid::new("org_id", "choose an organisation")))?;
    s.services()
        .open_fund(s.actor(), &id, org, &route(&req))
        .await
        .map_err(|e| err(s, e))?;
    Ok(back(&id, "openings"))
}

async fn commitment_action_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (id, c, action) = path.into_inner();
    let r = route(&req);
    let sv = s.services();
    let done = match action.as_str() {
        "approve" => sv.approve_commitment(s.actor(), &id, &c, &r).await,
        "refuse" => {
            sv.refuse_commitment(
                s.actor(),
                &id,
                &c,
                &RefusalInput {
                    reason: f.form.text("reason"),
                },
                &r,
            )
            .await
        }
        "spendings" => {
            let cur = fund_currency(s, &req, &id).await?;
            let input = SpendingInput {
                amount_minor: amount(s, &f.form, "amount", cur)?,
                currency: cur.code().into(),
                invoice: f.form.text("invoice"),
                on: f.form.opt("on"),
            };
            sv.spend(s.actor(), &id, &c, &input, &r).await
        }
        "release" => {
            let cur = fund_currency(s, &req, &id).await?;
            let input = ReleaseInput {
                amount_minor: opt_amount(s, &f.form, "amount", cur)?,
            };
            sv.release(s.actor(), &id, &c, &input, &r).await
        }
        _ => {
            return Err(s.page.fail(
                StatusCode::NOT_FOUND,
                "error-not-found",
                s.page.t("error-no-such-page"),
            ));
        }
    };
    done.map_err(|e| err(s, e))?;
    Ok(back(&id, "commitments"))
}

async fn correct_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (id, e) = path.into_inner();
    let cur = fund_currency(s, &req, &id).await?;
    let text = f.form.text("delta");
    let (negative, digits) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, text.trim().trim_start_matches('+').to_owned()),
    };
    let magnitude = parse_amount("delta", &digits, cur).map_err(|x| invalid(s, x))?;
    let input = CorrectionInput {
        delta_minor: if negative { -magnitude } else { magnitude },
        reason: f.form.text("reason"),
    };
    s.services()
        .correct(s.actor(), &id, &e, &input, &route(&req))
        .await
        .map_err(|x| err(s, x))?;
    Ok(back(&id, "entries"))
}

#[derive(serde::Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn period(
    s: &Signed,
    q: &PeriodQuery,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), PageError> {
    let day = |field: &'static str, v: &Option<String>| match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| invalid(s, Invalid::new(field, "must be a date written YYYY-MM-DD"))),
    };
    Ok((day("from", &q.from)?, day("to", &q.to)?))
}

fn report_json(s: &Signed, r: &FundReport) -> Value {
    let lang = s.page.lang;
    let c = r.currency;
    let max_spent = r
        .by_category
        .iter()
        .map(|k| k.spent_minor.max(k.committed_minor))
        .max()
        .unwrap_or(0)
        .max(1);
    json!({
        "fund_id": r.fund_id, "fund": r.fund, "holder": r.holder_org,
        "source": s.page.t(&format!("source-{}", r.source.as_str())),
        "currency": c.code(), "from": r.from.to_string(), "to": r.to.to_string(),
        "opening": money(lang, r.opening_available_minor, c),
        "months": r.months.iter().map(|m| json!({
            "month": m.month, "allocated": money(lang, m.allocated_minor, c), "committed": money(lang, m.committed_minor, c),
            "spent": money(lang, m.spent_minor, c), "released": money(lang, m.released_minor, c),
            "available": money(lang, m.available_end_minor, c),
        })).collect::<Vec<_>>(),
        "categories": r.by_category.iter().map(|k| json!({
            "category": s.page.t(&format!("cost-{}", k.category)),
            "committed": money(lang, k.committed_minor, c), "spent": money(lang, k.spent_minor, c),
            // A bar as wide as its share of the largest, drawn with CSS (no script).
            "width": (k.spent_minor.max(0) * 100 / max_spent),
        })).collect::<Vec<_>>(),
        "cases_served": r.cases_served, "commitments": r.commitments,
        "total_allocated": money(lang, r.total_allocated_minor, c),
        "total_spent": money(lang, r.total_spent_minor, c),
    })
}

async fn report_common(
    s: &Signed,
    req: &HttpRequest,
    id: &str,
    q: &PeriodQuery,
    donor: bool,
) -> Result<HttpResponse, PageError> {
    let (from, to) = period(s, q)?;
    let r = s
        .services()
        .fund_report(s.actor(), id, from, to, &route(req))
        .await
        .map_err(|e| err(s, e))?;
    let mut data = s.page.base(if donor {
        "donor-report-title"
    } else {
        "fund-report-title"
    });
    if let Some(o) = data.as_object_mut() {
        o.insert("report".into(), report_json(s, &r));
        o.insert("donor".into(), json!(donor));
    }
    Ok(s.page.ok("fund_report", data))
}

async fn report_page(
    s: Signed,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    report_common(&s, &req, &id, &q, false).await
}

async fn donor_page(
    s: Signed,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    report_common(&s, &req, &id, &q, true).await
}

async fn report_csv_page(
    s: Signed,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let (from, to) = period(&s, &q)?;
    let r = s
        .services()
        .fund_report(s.actor(), &id, from, to, &route(&req))
        .await
        .map_err(|e| err(&s, e))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"fund-{}-{}-{}.csv\"",
                r.fund_id, r.from, r.to
            ),
        ))
        .content_type("text/csv; charset=utf-8")
        .body(super::api::report_to_csv(&r)))
}

#[derive(serde::Deserialize)]
struct CaseQuery {
    category: Option<String>,
    purpose: Option<String>,
    record: Option<String>,
}

async fn case_page(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<CaseQuery>,
) -> Result<HttpResponse, PageError> {
    let r = route(&req);
    let money_of_case = s
        .services()
        .case_funding(s.actor(), &reference, &r)
        .await
        .map_err(|e| err(&s, e))?;
    let category = q
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .unwrap_or("shelter");
    let offers = s
        .services()
        .funding_offers(s.actor(), &reference, category, &r)
        .await
        .map_err(|e| err(&s, e))?;
    let lang = s.page.lang;
    let mut data = s.page.base("case-funding-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(reference.as_str()));
        o.insert(
            "commitments".into(),
            json!(
                money_of_case
                    .commitments
                    .iter()
                    .map(|c| commitment_json(&s, c))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert("totals".into(), json!(money_of_case.totals.iter().map(|t| json!({
            "committed": money(lang, t.committed_minor, t.currency), "pending": money(lang, t.pending_minor, t.currency),
            "spent": money(lang, t.spent_minor, t.currency),
        })).collect::<Vec<_>>()));
        o.insert("category".into(), json!(category));
        o.insert(
            "category_label".into(),
            json!(s.page.t(&format!("cost-{category}"))),
        );
        o.insert("categories".into(), json!(CostCategory::ALL.iter().map(|k| json!({"value": k.as_str(), "label": s.page.t(&format!("cost-{}", k.as_str())), "selected": k.as_str() == category})).collect::<Vec<_>>()));
        o.insert(
            "purpose".into(),
            json!(q.purpose.as_deref().unwrap_or("other")),
        );
        o.insert("purposes".into(), json!(PurposeKind::ALL.iter().map(|k| json!({"value": k.as_str(), "label": s.page.t(&format!("purpose-kind-{}", k.as_str())), "selected": Some(k.as_str()) == q.purpose.as_deref()})).collect::<Vec<_>>()));
        o.insert("record".into(), json!(q.record.as_deref().unwrap_or("")));
        o.insert("eligible".into(), json!(offers.iter().filter(|x| x.eligible).map(|x| json!({
            "fund_id": x.fund_id, "fund": x.fund, "left": money(lang, x.left_minor, x.currency), "currency": x.currency.code(),
        })).collect::<Vec<_>>()));
        o.insert("ineligible".into(), json!(offers.iter().filter(|x| !x.eligible).map(|x| json!({
            "fund": x.fund, "reasons": x.refusals.iter().map(|r| refusal_text(&s, r)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()));
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.ok("case_funding", data))
}

async fn case_commit_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let fund_id = f.form.text("fund_id");
    if fund_id.trim().is_empty() {
        return Err(invalid(s, Invalid::new("fund_id", "choose a fund")));
    }
    let cur = fund_currency(s, &req, &fund_id).await?;
    let input = CommitmentInput {
        reference: reference.to_string(),
        category: f.form.text("category"),
        purpose: f.form.text("purpose"),
        record_id: f.form.opt("record_id").filter(|r| !r.trim().is_empty()),
        description: f.form.opt("description"),
        amount_minor: amount(s, &f.form, "amount", cur)?,
        currency: cur.code().into(),
        on: None,
    };
    match s
        .services()
        .commit(s.actor(), &fund_id, &input, &route(&req))
        .await
    {
        // Back on the same category: the funds offered now show what they have left.
        Ok(c) => Ok(see_other(&format!(
            "/cases/{reference}/funding?category={}&purpose={}#commitments",
            c.category.as_str(),
            c.purpose.as_str()
        ))),
        Err(e) => Err(err(s, e)),
    }
}

/// The return page's costs card: per category, what is estimated, committed (of which
/// pending approval) and spent, with a link to fund each category, and the estimates'
/// history. Null when the caller may not see the return's costs.
pub async fn return_costs_json(s: &Signed, reference: &str, route: &str) -> Value {
    let Ok(c) = s.services().return_costs(s.actor(), reference, route).await else {
        return Value::Null;
    };
    let lang = s.page.lang;
    let line = |l: &passerelle_core::service::funding::ReturnCostLine| {
        json!({
            "category": s.page.t(&format!("cost-{}", l.category.as_str())),
            "category_value": l.category.as_str(),
            "estimated": l.estimated_minor.map(|m| money(lang, m, l.currency)),
            "committed": money(lang, l.committed_minor, l.currency),
            "pending": (l.pending_minor > 0).then(|| money(lang, l.pending_minor, l.currency)),
            "spent": money(lang, l.spent_minor, l.currency),
            "over": l.estimated_minor.is_some_and(|e| l.committed_minor > e),
        })
    };
    let fund_links: Vec<Value> = passerelle_core::service::funding::RETURN_CATEGORIES
        .iter()
        .map(|k| {
            json!({
                "label": s.page.t(&format!("cost-{}", k.as_str())),
                "value": k.as_str(),
            })
        })
        .collect();
    json!({
        "lines": c.lines.iter().map(line).collect::<Vec<_>>(),
        "estimates": c.estimates.iter().map(|e| json!({
            "category": s.page.t(&format!("cost-{}", e.category.as_str())),
            "amount": money(lang, e.amount_minor, e.currency),
            "note": e.note,
            "by": e.by,
            "at": e.at.format("%Y-%m-%d").to_string(),
            "current": e.current,
        })).collect::<Vec<_>>(),
        "return_id": c.return_id,
        "commitments_shown": c.commitments_shown,
        "can_estimate": c.can_estimate,
        "can_fund": c.can_estimate && c.commitments_shown,
        "fund_links": fund_links,
        "categories": passerelle_core::service::funding::RETURN_CATEGORIES.iter().map(|k| json!({
            "value": k.as_str(), "label": s.page.t(&format!("cost-{}", k.as_str())),
        })).collect::<Vec<_>>(),
    })
}
