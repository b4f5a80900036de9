//! Funding in `/api/v1`: funds, their ledger (allocations, commitments, approvals,
//! spending, releases, corrections), a case's money and the funds that could pay for it,
//! and the reports (JSON and CSV). Amounts are integer minor units of the fund's
//! currency, with the currency named beside them.

use crate::http::{ApiAuth, ApiError, PageParams, created, ok, route};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use passerelle_core::ServiceError;
use passerelle_core::domain::Invalid;
use passerelle_core::funding::{
    Arg, Balances, Beneficiary, CommitmentStatus, CostCategory, Currency, FundRefusal, FundRule,
    FundRules, PurposeKind, SourceKind,
};
use passerelle_core::service::funding::{
    AllocationInput, CaseFunding, CaseTotal, CategoryRow, CommitmentInput, CommitmentPage,
    CommitmentView, CorrectionInput, EntryPage, EntryView, EstimateInput, EstimateView, FundInput,
    FundPage, FundReport, FundView, MonthRow, OfferPage, OfferView, Opening, OpeningInput,
    RefusalInput, ReleaseInput, ReturnCostLine, ReturnCosts, SpendingInput,
};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_funds,
        create_fund,
        get_fund,
        update_fund,
        open_fund,
        allocate,
        entries,
        entry,
        correct,
        commitments,
        commit,
        commitment,
        approve,
        refuse,
        spend,
        release,
        report,
        report_csv,
        case_funding,
        offers,
        return_costs,
        estimate_return_cost,
        return_estimate
    ),
    components(schemas(
        FundPage,
        FundView,
        FundInput,
        FundRules,
        Opening,
        OpeningInput,
        Balances,
        SourceKind,
        Currency,
        CostCategory,
        Beneficiary,
        PurposeKind,
        CommitmentStatus,
        AllocationInput,
        CommitmentInput,
        CommitmentView,
        CommitmentPage,
        SpendingInput,
        ReleaseInput,
        RefusalInput,
        CorrectionInput,
        EntryView,
        EntryPage,
        FundReport,
        MonthRow,
        CategoryRow,
        CaseFunding,
        CaseTotal,
        OfferView,
        OfferPage,
        EstimateInput,
        EstimateView,
        ReturnCostLine,
        ReturnCosts,
        FundRefusal,
        FundRule,
        Arg
    ))
)]
pub struct Doc;

const F: &str = "/funds/{id}";

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/funds", web::get().to(list_funds))
        .route("/funds", web::post().to(create_fund))
        .route(F, web::get().to(get_fund))
        .route(F, web::put().to(update_fund))
        .route("/funds/{id}/openings", web::post().to(open_fund))
        .route("/funds/{id}/allocations", web::post().to(allocate))
        .route("/funds/{id}/entries", web::get().to(entries))
        .route("/funds/{id}/entries/{entry}", web::get().to(entry))
        .route(
            "/funds/{id}/entries/{entry}/corrections",
            web::post().to(correct),
        )
        .route("/funds/{id}/commitments", web::get().to(commitments))
        .route("/funds/{id}/commitments", web::post().to(commit))
        .route(
            "/funds/{id}/commitments/{commitment}",
            web::get().to(commitment),
        )
        .route(
            "/funds/{id}/commitments/{commitment}/approve",
            web::post().to(approve),
        )
        .route(
            "/funds/{id}/commitments/{commitment}/refuse",
            web::post().to(refuse),
        )
        .route(
            "/funds/{id}/commitments/{commitment}/spendings",
            web::post().to(spend),
        )
        .route(
            "/funds/{id}/commitments/{commitment}/release",
            web::post().to(release),
        )
        .route("/funds/{id}/report", web::get().to(report))
        .route("/funds/{id}/report.csv", web::get().to(report_csv))
        .route("/cases/{reference}/funding", web::get().to(case_funding))
        .route("/cases/{reference}/funding/offers", web::get().to(offers))
        .route(
            "/cases/{reference}/return/costs",
            web::get().to(return_costs),
        )
        .route(
            "/cases/{reference}/return/estimates",
            web::post().to(estimate_return_cost),
        )
        .route(
            "/cases/{reference}/return/estimates/{id}",
            web::get().to(return_estimate),
        );
}

fn fund_url(id: &str) -> String {
    format!("/api/v1/funds/{id}")
}

/// My organisation's funds and those opened to it, by name.
#[utoipa::path(get, path = "/api/v1/funds", params(PageParams), responses((status = 200, body = FundPage)))]
async fn list_funds(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    Ok(ok(
        StatusCode::OK,
        &a.services().funds(a.actor(), paging, &route(&req)).await?,
    ))
}

/// Create a fund (a fund manager, for their organisation).
#[utoipa::path(post, path = "/api/v1/funds", request_body = FundInput, responses((status = 201, body = FundView)))]
async fn create_fund(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Json<FundInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .create_fund(a.actor(), &body, &route(&req))
        .await?;
    Ok(created(&fund_url(&v.id), &v))
}

/// One fund: its rules and its balances (derived from its entries).
#[utoipa::path(get, path = "/api/v1/funds/{id}", params(("id" = String, Path)), responses((status = 200, body = FundView)))]
async fn get_fund(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services().fund(a.actor(), &id, &route(&req)).await?,
    ))
}

/// Change a fund's settings (with the `version` read); answers the fund.
#[utoipa::path(put, path = "/api/v1/funds/{id}", params(("id" = String, Path)), request_body = FundInput,
    responses((status = 200, body = FundView)))]
async fn update_fund(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<FundInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .update_fund(a.actor(), &id, &body, &route(&req))
            .await?,
    ))
}

/// Open the fund to another organisation: it may then ask money for its own cases (and
/// sees only those). Answers the fund.
#[utoipa::path(post, path = "/api/v1/funds/{id}/openings", params(("id" = String, Path)), request_body = OpeningInput,
    responses((status = 200, body = FundView)))]
async fn open_fund(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<OpeningInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .open_fund(a.actor(), &id, body.org_id, &route(&req))
            .await?,
    ))
}

/// Put money into the fund, with where it comes from.
#[utoipa::path(post, path = "/api/v1/funds/{id}/allocations", params(("id" = String, Path)), request_body = AllocationInput,
    responses((status = 201, body = EntryView)))]
async fn allocate(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<AllocationInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .allocate(a.actor(), &id, &body, &route(&req))
        .await?;
    Ok(created(&format!("{}/entries/{}", fund_url(&id), v.id), &v))
}

/// The fund's entries, newest first (its fund managers, auditors and administrators).
#[utoipa::path(get, path = "/api/v1/funds/{id}/entries", params(("id" = String, Path), PageParams),
    responses((status = 200, body = EntryPage)))]
async fn entries(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .fund_entries(a.actor(), &id, paging, &route(&req))
            .await?,
    ))
}

/// One entry of the fund.
#[utoipa::path(get, path = "/api/v1/funds/{id}/entries/{entry}", params(("id" = String, Path), ("entry" = String, Path)),
    responses((status = 200, body = EntryView)))]
async fn entry(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, entry) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .fund_entry(a.actor(), &id, &entry, &route(&req))
            .await?,
    ))
}

/// Correct an allocation, a commitment or a spending by a signed amount, with a reason.
#[utoipa::path(post, path = "/api/v1/funds/{id}/entries/{entry}/corrections", params(("id" = String, Path), ("entry" = String, Path)),
    request_body = CorrectionInput, responses((status = 201, body = EntryView)))]
async fn correct(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<CorrectionInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, entry) = path.into_inner();
    let v = a
        .services()
        .correct(a.actor(), &id, &entry, &body, &route(&req))
        .await?;
    Ok(created(&format!("{}/entries/{}", fund_url(&id), v.id), &v))
}

/// The fund's commitments the caller may see (all of them for the holder's fund
/// managers, auditors and administrators; else those of the caller's own cases).
#[utoipa::path(get, path = "/api/v1/funds/{id}/commitments", params(("id" = String, Path), PageParams),
    responses((status = 200, body = CommitmentPage)))]
async fn commitments(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let all = a
        .services()
        .fund_commitments(a.actor(), &id, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &CommitmentPage::of(all, paging)))
}

/// Ask for money for a case: every eligibility rule that refuses is named (422); above
/// the fund's threshold it waits for approval, its money already reserved.
#[utoipa::path(post, path = "/api/v1/funds/{id}/commitments", params(("id" = String, Path)), request_body = CommitmentInput,
    responses((status = 201, body = CommitmentView)))]
async fn commit(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<CommitmentInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .commit(a.actor(), &id, &body, &route(&req))
        .await?;
    Ok(created(
        &format!("{}/commitments/{}", fund_url(&id), v.id),
        &v,
    ))
}

async fn one_commitment(
    a: &ApiAuth,
    req: &HttpRequest,
    id: &str,
    commitment: &str,
) -> Result<CommitmentView, ApiError> {
    a.services()
        .fund_commitments(a.actor(), id, &route(req))
        .await?
        .into_iter()
        .find(|c| c.id == commitment)
        .ok_or(ApiError(ServiceError::NotFound("commitment")))
}

/// One commitment: what it set aside, spent, released, and what it has left.
#[utoipa::path(get, path = "/api/v1/funds/{id}/commitments/{commitment}", params(("id" = String, Path), ("commitment" = String, Path)),
    responses((status = 200, body = CommitmentView)))]
async fn commitment(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, c) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &one_commitment(&a, &req, &id, &c).await?,
    ))
}

/// Approve a commitment waiting for approval (the fund's managers).
#[utoipa::path(post, path = "/api/v1/funds/{id}/commitments/{commitment}/approve", params(("id" = String, Path), ("commitment" = String, Path)),
    responses((status = 200, body = CommitmentView)))]
async fn approve(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, c) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .approve_commitment(a.actor(), &id, &c, &route(&req))
            .await?,
    ))
}

/// Refuse a commitment waiting for approval, with a reason: its money goes back.
#[utoipa::path(post, path = "/api/v1/funds/{id}/commitments/{commitment}/refuse", params(("id" = String, Path), ("commitment" = String, Path)),
    request_body = RefusalInput, responses((status = 200, body = CommitmentView)))]
async fn refuse(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<RefusalInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, c) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .refuse_commitment(a.actor(), &id, &c, &body, &route(&req))
            .await?,
    ))
}

/// Record an invoice paid from an approved commitment (partial spending allowed, never
/// more than it has left); answers the commitment.
#[utoipa::path(post, path = "/api/v1/funds/{id}/commitments/{commitment}/spendings", params(("id" = String, Path), ("commitment" = String, Path)),
    request_body = SpendingInput, responses((status = 200, body = CommitmentView)))]
async fn spend(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<SpendingInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, c) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .spend(a.actor(), &id, &c, &body, &route(&req))
            .await?,
    ))
}

/// Give back what the commitment has unspent (all of it when no amount is given).
#[utoipa::path(post, path = "/api/v1/funds/{id}/commitments/{commitment}/release", params(("id" = String, Path), ("commitment" = String, Path)),
    request_body = ReleaseInput, responses((status = 200, body = CommitmentView)))]
async fn release(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<ReleaseInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, c) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .release(a.actor(), &id, &c, &body, &route(&req))
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// YYYY-MM-DD; the fund's opening when empty.
    from: Option<String>,
    /// YYYY-MM-DD; today when empty.
    to: Option<String>,
}

fn period(q: &PeriodParams) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
    let day = |field: &'static str, s: &Option<String>| match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError(Invalid::new(field, "must be a date written YYYY-MM-DD").into())),
    };
    Ok((day("from", &q.from)?, day("to", &q.to)?))
}

/// The fund's report for a period: the balance at each month's end, what was
/// allocated, committed, spent and released, spending by category, cases served (a
/// count). Identifies no one: it is also the donor report.
#[utoipa::path(get, path = "/api/v1/funds/{id}/report", params(("id" = String, Path), PeriodParams),
    responses((status = 200, body = FundReport)))]
async fn report(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PeriodParams>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = period(&q)?;
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .fund_report(a.actor(), &id, from, to, &route(&req))
            .await?,
    ))
}

/// The same report as CSV: one line per month, then one per category.
#[utoipa::path(get, path = "/api/v1/funds/{id}/report.csv", params(("id" = String, Path), PeriodParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
async fn report_csv(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<PeriodParams>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = period(&q)?;
    let r = a
        .services()
        .fund_report(a.actor(), &id, from, to, &route(&req))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/csv; charset=utf-8")
        .body(report_to_csv(&r)))
}

/// A report as CSV (amounts as decimals of the currency; no one is named in it).
pub fn report_to_csv(r: &FundReport) -> String {
    use passerelle_core::funding::format_decimal;
    let c = r.currency;
    let mut out = String::new();
    let cell = |s: &str| {
        // Quote, and defuse what a spreadsheet would run as a formula.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    };
    out.push_str(&format!(
        "fund,{},currency,{},from,{},to,{},cases_served,{},commitments,{}\n",
        cell(&r.fund),
        c.code(),
        r.from,
        r.to,
        r.cases_served,
        r.commitments
    ));
    out.push_str("month,allocated,committed,spent,released,available_at_end\n");
    for m in &r.months {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            m.month,
            format_decimal(m.allocated_minor, c),
            format_decimal(m.committed_minor, c),
            format_decimal(m.spent_minor, c),
            format_decimal(m.released_minor, c),
            format_decimal(m.available_end_minor, c)
        ));
    }
    out.push_str("category,committed,spent\n");
    for k in &r.by_category {
        out.push_str(&format!(
            "{},{},{}\n",
            k.category,
            format_decimal(k.committed_minor, c),
            format_decimal(k.spent_minor, c)
        ));
    }
    out
}

/// A case's money: its commitments the caller may see, and what they add up to.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/funding", params(("reference" = String, Path)),
    responses((status = 200, body = CaseFunding)))]
async fn case_funding(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .case_funding(a.actor(), &reference, &route(&req))
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferParams {
    /// The cost category to pay.
    category: String,
}

/// The funds that could pay a category for this case, with what each has left for it,
/// and why the others cannot.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/funding/offers", params(("reference" = String, Path), OfferParams),
    responses((status = 200, body = OfferPage)))]
async fn offers(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<OfferParams>,
) -> Result<HttpResponse, ApiError> {
    let all = a
        .services()
        .funding_offers(a.actor(), &reference, &q.category, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &OfferPage::of(
            all,
            passerelle_core::domain::Paging {
                page: 1,
                per_page: passerelle_core::domain::Paging::MAX_PER_PAGE,
            },
        ),
    ))
}

/// A return's costs: per category (travel, escort, documents) and currency, what is
/// estimated, committed (approved and pending), pending approval and spent; and every
/// estimate, newest first.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return/costs", params(("reference" = String, Path)),
    responses((status = 200, body = ReturnCosts)))]
async fn return_costs(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .return_costs(a.actor(), &reference, &route(&req))
            .await?,
    ))
}

/// Estimate one category of the return's costs; it replaces the category's previous
/// estimate, which stays in the history.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/estimates", params(("reference" = String, Path)),
    request_body = EstimateInput, responses((status = 201, body = EstimateView)))]
async fn estimate_return_cost(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<EstimateInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .estimate_return_cost(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &format!("/api/v1/cases/{reference}/return/estimates/{}", v.id),
        &v,
    ))
}

/// One estimate of the return's costs.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return/estimates/{id}",
    params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = EstimateView)))]
async fn return_estimate(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .return_estimate(a.actor(), &reference, &id, &route(&req))
            .await?,
    ))
}
