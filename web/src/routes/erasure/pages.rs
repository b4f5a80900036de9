//! The erasure's confirmation page (`/cases/{reference}/erase`: what will be destroyed,
//! what is kept, why, and whether the case stays in the statistics) and the list of cases
//! past their retention period (`/retention`), for an organisation's administrator.

use crate::http::{PageError, Pairs, Refill, Signed, SignedForm, route, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::domain::{Paging, Role};
use passerelle_core::erasure::ErasureReason;
use passerelle_core::service::erasure::ErasureInput;
use serde_json::{Value, json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{reference}/erase", web::get().to(confirm))
        .route("/cases/{reference}/erase", web::post().to(erase))
        .route("/retention", web::get().to(retention));
}

#[derive(Debug, serde::Deserialize)]
struct Preset {
    reason: Option<String>,
}

async fn confirm(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<Preset>,
) -> Result<HttpResponse, PageError> {
    confirm_page(&s, &req, &reference, q.reason.as_deref(), None).await
}

async fn confirm_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    preset: Option<&str>,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .get_case(s.actor(), reference, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    if v.erasure.is_some() {
        return Err(s.page.fail(
            StatusCode::CONFLICT,
            "error-conflict",
            s.page.translate("this case was already erased"),
        ));
    }
    if v.summary.access != "owner" || s.actor().role != Role::OrgAdmin {
        return Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-forbidden",
            s.page.translate(
                "only an administrator of the organisation that owns the case erases a person's data",
            ),
        ));
    }
    let pg = &s.page;
    let preset = preset.and_then(|r| ErasureReason::parse(r).ok());
    let reasons: Vec<Value> = ErasureReason::ALL
        .iter()
        .map(|r| {
            json!({
                "value": r.as_str(),
                "label": pg.t(&format!("erasure-reason-{}", r.as_str())),
                "preset": Some(*r) == preset,
            })
        })
        .collect();
    let mut data = pg.base("erase-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(v.summary.reference));
        o.insert("reasons".into(), json!(reasons));
        o.insert(
            "closed".into(),
            json!(
                v.summary
                    .closed_at
                    .map(|d| d.format("%Y-%m-%d").to_string())
            ),
        );
        o.insert("retention_days".into(), json!(s.services().retention_days));
        o.insert(
            "retention_hint".into(),
            json!(pg.t_args(
                "erase-retention-hint",
                &[("n", json!(s.services().retention_days))]
            )),
        );
    }
    Ok(pg.show("erase", data, refill))
}

async fn erase(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    if !f.sent.confirmed() {
        return Ok(see_other(&format!("/cases/{reference}/erase")));
    }
    let input = ErasureInput {
        reason: f.sent.opt("reason"),
        keep_statistics: f.sent.checked("keep_statistics"),
    };
    match s
        .services()
        .erase_case(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(v) => Ok(s
            .page
            .done(&format!("/cases/{}", v.reference), "flash-case-erased")),
        Err(e) => {
            let r = f.refill("erase", e)?;
            confirm_page(s, &req, &reference, None, Some(r)).await
        }
    }
}

async fn retention(
    s: Signed,
    req: HttpRequest,
    q: web::Query<crate::http::PageParams>,
) -> Result<HttpResponse, PageError> {
    let paging = Paging::parse(q.page, q.per_page).map_err(|e| {
        s.page
            .service_error(passerelle_core::ServiceError::BadRequest(e))
    })?;
    let list = s
        .services()
        .past_retention(s.actor(), paging, &route(&req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let pg = &s.page;
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|i| {
            json!({
                "reference": i.reference,
                "closed": i.closed_at.format("%Y-%m-%d").to_string(),
                "ended": i.retention_ended.format("%Y-%m-%d").to_string(),
                "reason": i.close_reason.as_deref().map(|r| pg.t(&format!("closing-reason-{r}"))),
            })
        })
        .collect();
    let mut data = pg.base("retention-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("items".into(), json!(items));
        o.insert(
            "intro".into(),
            json!(pg.t_args(
                "retention-intro",
                &[("n", json!(s.services().retention_days))]
            )),
        );
        o.insert("total".into(), json!(list.total));
    }
    Ok(pg.ok("retention", data))
}
