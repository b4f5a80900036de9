//! Follow-up after return in `/api/v1`: the follow-up of a case (visits, assessments,
//! plan, alerts), each item on its own address, what the destination side sees of the
//! alerts, and the follow-up officer's due visits and open alerts.

use crate::http::{ApiAuth, ApiError, PageParams, created, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::follow_up::{
    AlertCategory, AlertStatus, Delta, Dimension, DimensionScore, Direction, Scores, Severity,
    Trend,
};
use passerelle_core::service::follow_up::{
    AlertChangeInput, AlertInput, AlertPage, AlertSummary, AlertView, AssessmentInput,
    AssessmentView, DueVisit, DueVisitPage, ExtendInput, FollowUpView, PlanItemInput,
    PlanItemUpdate, PlanItemView, VisitInput, VisitView,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        api_view,
        api_extend,
        api_visit,
        api_change_visit,
        api_add_assessment,
        api_assessment,
        api_add_plan_item,
        api_plan_item,
        api_update_plan_item,
        api_raise_alert,
        api_alert,
        api_change_alert,
        api_case_alerts,
        api_my_alerts,
        api_my_visits
    ),
    components(schemas(
        FollowUpView,
        VisitView,
        AssessmentView,
        PlanItemView,
        AlertView,
        AlertSummary,
        AlertPage,
        DueVisit,
        DueVisitPage,
        Scores,
        DimensionScore,
        Dimension,
        Trend,
        Delta,
        Direction,
        AlertCategory,
        AlertStatus,
        Severity,
        VisitInput,
        ExtendInput,
        AssessmentInput,
        PlanItemInput,
        PlanItemUpdate,
        AlertInput,
        AlertChangeInput
    ))
)]
pub struct Doc;

const P: &str = "/cases/{reference}/follow-up";

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route(P, web::get().to(api_view))
        .route(
            "/cases/{reference}/follow-up/visits",
            web::post().to(api_extend),
        )
        .route(
            "/cases/{reference}/follow-up/visits/{id}",
            web::get().to(api_visit),
        )
        .route(
            "/cases/{reference}/follow-up/visits/{id}",
            web::post().to(api_change_visit),
        )
        .route(
            "/cases/{reference}/follow-up/assessments",
            web::post().to(api_add_assessment),
        )
        .route(
            "/cases/{reference}/follow-up/assessments/{id}",
            web::get().to(api_assessment),
        )
        .route(
            "/cases/{reference}/follow-up/plan",
            web::post().to(api_add_plan_item),
        )
        .route(
            "/cases/{reference}/follow-up/plan/{id}",
            web::get().to(api_plan_item),
        )
        .route(
            "/cases/{reference}/follow-up/plan/{id}",
            web::patch().to(api_update_plan_item),
        )
        .route(
            "/cases/{reference}/follow-up/alerts",
            web::post().to(api_raise_alert),
        )
        .route(
            "/cases/{reference}/follow-up/alerts/{id}",
            web::get().to(api_alert),
        )
        .route(
            "/cases/{reference}/follow-up/alerts/{id}",
            web::post().to(api_change_alert),
        )
        .route("/cases/{reference}/alerts", web::get().to(api_case_alerts))
        .route("/follow-up/alerts", web::get().to(api_my_alerts))
        .route("/follow-up/visits", web::get().to(api_my_visits));
}

async fn view(a: &ApiAuth, req: &HttpRequest, reference: &str) -> Result<FollowUpView, ApiError> {
    Ok(a.services()
        .follow_up(a.actor(), reference, &route(req))
        .await?)
}

fn url(reference: &str, rest: &str) -> String {
    format!("/api/v1/cases/{reference}/follow-up{rest}")
}

fn find<T>(
    items: Vec<T>,
    id: &str,
    key: impl Fn(&T) -> &str,
    what: &'static str,
) -> Result<T, ApiError> {
    items
        .into_iter()
        .find(|i| key(i) == id)
        .ok_or(ApiError(ServiceError::NotFound(what)))
}

/// The follow-up of a case after return: visits, assessments with their scores and
/// trend, the reintegration plan and alerts. For the organisation the case was handed
/// over to on arrival.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/follow-up", params(("reference" = String, Path)),
    responses((status = 200, body = FollowUpView)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

/// Extend the schedule: more visits, by days after arrival or by date (today or later);
/// answers the follow-up with them.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/follow-up/visits", params(("reference" = String, Path)),
    request_body = ExtendInput, responses((status = 201, body = FollowUpView)))]
pub async fn api_extend(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ExtendInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .extend_visits(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = view(&a, &req, &reference).await?;
    Ok(created(&url(&reference, ""), &v))
}

/// One visit.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/follow-up/visits/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = VisitView)))]
pub async fn api_visit(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = find(
        view(&a, &req, &reference).await?.visits,
        &id,
        |v| &v.id,
        "visit",
    )?;
    Ok(ok(StatusCode::OK, &v))
}

/// Record a visit as done (date, mode, visitor), missed (date, reason) or cancelled
/// (reason); reschedule a planned one; or correct a recorded one (with a note). Answers
/// the visit.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/follow-up/visits/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = VisitInput, responses((status = 200, body = VisitView)))]
pub async fn api_change_visit(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<VisitInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .change_visit(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Record a reintegration assessment; answers it with its scores and the trend against
/// the previous one. Automatic alerts it raises are on the follow-up.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/follow-up/assessments", params(("reference" = String, Path)),
    request_body = AssessmentInput, responses((status = 201, body = AssessmentView)))]
pub async fn api_add_assessment(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<AssessmentInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .add_assessment(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &url(&reference, &format!("/assessments/{}", v.id)),
        &v,
    ))
}

/// One assessment, with its scores and trend.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/follow-up/assessments/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = AssessmentView)))]
pub async fn api_assessment(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = find(
        view(&a, &req, &reference).await?.assessments,
        &id,
        |v| &v.id,
        "assessment",
    )?;
    Ok(ok(StatusCode::OK, &v))
}

/// Add an item to the reintegration plan.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/follow-up/plan", params(("reference" = String, Path)),
    request_body = PlanItemInput, responses((status = 201, body = PlanItemView)))]
pub async fn api_add_plan_item(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<PlanItemInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .add_plan_item(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = find(
        view(&a, &req, &reference).await?.plan,
        &id,
        |v| &v.id,
        "plan_item",
    )?;
    Ok(created(&url(&reference, &format!("/plan/{id}")), &v))
}

/// One item of the plan.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/follow-up/plan/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = PlanItemView)))]
pub async fn api_plan_item(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = find(
        view(&a, &req, &reference).await?.plan,
        &id,
        |v| &v.id,
        "plan_item",
    )?;
    Ok(ok(StatusCode::OK, &v))
}

/// Change an item of the plan (its status, provider, description or funding
/// commitment), at the version it was read; answers it.
#[utoipa::path(patch, path = "/api/v1/cases/{reference}/follow-up/plan/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = PlanItemUpdate, responses((status = 200, body = PlanItemView)))]
pub async fn api_update_plan_item(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<PlanItemUpdate>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .update_plan_item(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    let v = find(
        view(&a, &req, &reference).await?.plan,
        &id,
        |v| &v.id,
        "plan_item",
    )?;
    Ok(ok(StatusCode::OK, &v))
}

/// Raise an alert (contact from traffickers or recruiters, debts, threats, sanctions on
/// return, a wish to re-migrate irregularly, missed visits with no contact).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/follow-up/alerts", params(("reference" = String, Path)),
    request_body = AlertInput, responses((status = 201, body = AlertView)))]
pub async fn api_raise_alert(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<AlertInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .raise_alert(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = find(
        view(&a, &req, &reference).await?.alerts,
        &id,
        |v| &v.id,
        "alert",
    )?;
    Ok(created(&url(&reference, &format!("/alerts/{id}")), &v))
}

/// One alert, in full.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/follow-up/alerts/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = AlertView)))]
pub async fn api_alert(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = find(
        view(&a, &req, &reference).await?.alerts,
        &id,
        |v| &v.id,
        "alert",
    )?;
    Ok(ok(StatusCode::OK, &v))
}

/// Acknowledge an alert, or close it with the action taken; answers it.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/follow-up/alerts/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = AlertChangeInput, responses((status = 200, body = AlertView)))]
pub async fn api_change_alert(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<AlertChangeInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .change_alert(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    let v = find(
        view(&a, &req, &reference).await?.alerts,
        &id,
        |v| &v.id,
        "alert",
    )?;
    Ok(ok(StatusCode::OK, &v))
}

/// The alerts of one case as the caller may see them: the follow-up service in full;
/// the destination side (the owning organisation, the person's advocate) category and
/// severity only, while the reintegration consent is in force (details if it says so).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/alerts", params(("reference" = String, Path), PageParams),
    responses((status = 200, body = AlertPage)))]
pub async fn api_case_alerts(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let all = a
        .services()
        .case_alerts(a.actor(), &reference, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &AlertPage::of(all, paging)))
}

/// My open alerts: a follow-up officer's cases' in full; an advocate's assigned cases'
/// as category and severity (while the consent is in force).
#[utoipa::path(get, path = "/api/v1/follow-up/alerts", params(PageParams),
    responses((status = 200, body = AlertPage)))]
pub async fn api_my_alerts(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let all = a.services().my_alerts(a.actor(), &route(&req)).await?;
    Ok(ok(StatusCode::OK, &AlertPage::of(all, paging)))
}

/// The visits that need me (a follow-up officer): due within two weeks, overdue, or
/// missed since the last contact; soonest first.
#[utoipa::path(get, path = "/api/v1/follow-up/visits", params(PageParams),
    responses((status = 200, body = DueVisitPage)))]
pub async fn api_my_visits(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let all = a.services().due_visits(a.actor(), &route(&req)).await?;
    Ok(ok(StatusCode::OK, &DueVisitPage::of(all, paging)))
}
