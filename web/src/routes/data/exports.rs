//! Exports (issue 14, points 2 and 3), in `/api/v1` and as pages:
//!
//! - the k-anonymised statistics export (`GET /api/v1/statistics?k=11`, the page
//!   `/statistics`: the combinations with their counts and the suppression report), for a
//!   statistician or a state authority's administrator or auditor;
//! - the HTCDS export of the organisation's own cases (`POST /api/v1/exports/htcds`, JSON
//!   or CSV, the columns chosen; the page `/exports/htcds`, which downloads it as an
//!   attachment), for its administrator, within five minutes of giving the password again
//!   (`POST /api/v1/session/reauth`, or the form on the page).

use crate::http::{ApiAuth, ApiError, PageError, Pairs, Refill, Signed, SignedForm, ok, route};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::data::{
    Attribute, AttributeReport, Levels, Row, SuppressedBy, SuppressionReport,
};
use passerelle_core::domain::Role;
use passerelle_core::service::data::htcds::{
    HtcdsColumn, HtcdsExport, HtcdsFormat, may_export_htcds,
};
use passerelle_core::service::data::statistics::{StatisticsExport, statistics_scope};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(api_statistics, api_htcds, api_reauth),
    components(schemas(
        StatisticsExport,
        Levels,
        Row,
        SuppressionReport,
        SuppressedBy,
        AttributeReport,
        Attribute,
        HtcdsExport,
        HtcdsBody,
        ReauthBody,
        Reauthenticated
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/statistics", web::get().to(api_statistics))
        .route("/exports/htcds", web::post().to(api_htcds))
        .route("/session/reauth", web::post().to(api_reauth));
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/statistics", web::get().to(statistics_page))
        .route("/exports/htcds", web::get().to(htcds_page))
        .route("/exports/htcds", web::post().to(htcds_download))
        .route("/exports/htcds/reauth", web::post().to(reauth_form));
}

// ---------- API ----------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsParams {
    /// Every combination of values occurs at least this many times; default 11 (CTDC),
    /// never below 5.
    k: Option<u64>,
}

/// The k-anonymised statistics export over the organisations that opted in (a
/// statistician: all of them; a state authority's administrator or auditor: those of its
/// country): one row per case kept, generalised and suppressed until every combination
/// occurs at least `k` times, and what was suppressed. No free text, no date finer than a
/// year, no reference. Each export is audited.
#[utoipa::path(get, path = "/api/v1/statistics", params(StatisticsParams),
    responses((status = 200, body = StatisticsExport)))]
async fn api_statistics(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<StatisticsParams>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .statistics_export(a.actor(), q.k, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct HtcdsBody {
    /// `json` (default) or `csv`.
    #[serde(default)]
    format: Option<String>,
    /// The columns to export, by name (docs/htcds.md); absent: all of them.
    #[serde(default)]
    columns: Option<Vec<String>>,
}

/// The organisation's own cases in the HTCDS v2.0 vocabulary (docs/htcds.md), as JSON or
/// CSV, with the columns chosen: personal data, for the organisation's administrator only,
/// within five minutes of re-authenticating (`POST /api/v1/session/reauth`; 403 otherwise).
/// Every case exported gets an `export` entry in its audit trail.
#[utoipa::path(post, path = "/api/v1/exports/htcds", request_body = HtcdsBody,
    responses((status = 200, description = "the export", content(
        (HtcdsExport = "application/json"),
        (String = "text/csv")
    ))))]
async fn api_htcds(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Json<HtcdsBody>,
) -> Result<HttpResponse, ApiError> {
    let format = HtcdsFormat::parse(body.format.as_deref()).map_err(ServiceError::from)?;
    let v = a
        .services()
        .export_htcds(
            a.actor(),
            a.session.session_id,
            body.columns.as_deref(),
            &route(&req),
        )
        .await?;
    Ok(htcds_answer(&v, format)?)
}

/// The export as a download: JSON or CSV, never cached.
fn htcds_answer(v: &HtcdsExport, format: HtcdsFormat) -> Result<HttpResponse, ServiceError> {
    let (body, content_type, ext) = match format {
        HtcdsFormat::Json => (
            serde_json::to_string(v)
                .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))?,
            "application/json",
            "json",
        ),
        HtcdsFormat::Csv => (v.to_csv()?, "text/csv; charset=utf-8", "csv"),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"htcds-export.{ext}\""),
        ))
        .content_type(content_type)
        .body(body))
}

#[derive(Deserialize, ToSchema)]
pub struct ReauthBody {
    password: String,
    /// The code of the authenticator application, when two-factor sign-in is on.
    #[serde(default)]
    code: Option<String>,
}

/// The session is re-authenticated until then.
#[derive(Serialize, ToSchema)]
pub struct Reauthenticated {
    reauthenticated_until: chrono::DateTime<chrono::Utc>,
}

/// Give the password again, and the code of the authenticator application when
/// two-factor sign-in is on: the session is re-authenticated for five minutes (the HTCDS
/// export needs it). A wrong password is a 422 naming `password` and counts as a failed
/// sign-in (six lock the account for a while).
#[utoipa::path(post, path = "/api/v1/session/reauth", request_body = ReauthBody,
    responses((status = 200, body = Reauthenticated)))]
async fn api_reauth(a: ApiAuth, body: web::Json<ReauthBody>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let until = a
        .services()
        .reauthenticate(
            a.session.session_id,
            a.actor(),
            SecretString::from(body.password),
            body.code.as_deref(),
        )
        .await?;
    Ok(ok(
        StatusCode::OK,
        &Reauthenticated {
            reauthenticated_until: until,
        },
    ))
}

// ---------- Pages ----------

/// What a generalised value of the export says, in words: age bands and years as they
/// are, countries by their code, regions, groups, `unknown` and `suppressed` in the
/// reader's language.
fn value_words(s: &Signed, attribute: Attribute, v: &str) -> String {
    let key = |prefix: &str| format!("{prefix}-{v}");
    let known = |k: String| {
        let t = s.page.t(&k);
        (t != k).then_some(t)
    };
    let special = known(format!(
        "statistics-value-{}",
        v.to_ascii_lowercase().replace(' ', "-")
    ));
    let own = match attribute {
        Attribute::Gender => known(key("gender")),
        Attribute::Exploitation => known(key("exploitation")),
        Attribute::MeansOfControl => known(key("control")),
        _ => None,
    };
    own.or(special).unwrap_or_else(|| v.to_owned())
}

fn list_words(s: &Signed, attribute: Attribute, vs: &[&str]) -> String {
    vs.iter()
        .map(|v| value_words(s, attribute, v))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn statistics_page(
    s: Signed,
    req: HttpRequest,
    q: web::Query<Pairs>,
) -> Result<HttpResponse, PageError> {
    let own = s
        .services()
        .org(s.actor().org_id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    if statistics_scope(s.actor().role, own.kind, &own.country).is_none() {
        return Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-forbidden",
            s.page.t("statistics-forbidden"),
        ));
    }
    let sent = q.into_inner();
    let outcome = match sent.number("k") {
        Ok(k) => {
            let k = k.map(|k| u64::try_from(k).unwrap_or(0));
            s.services()
                .statistics_export(s.actor(), k, &route(&req))
                .await
        }
        Err(e) => Err(e),
    };
    let mut data = s.page.base("statistics-title");
    let (export, refill) = match outcome {
        Ok(v) => (Some(v), None),
        Err(e) => {
            // A k out of range is said with the field's own hint, in the reader's language.
            let bad_k = matches!(&e, ServiceError::Invalid(i) if i.field == "k");
            let mut r = s.page.refill("statistics", None, &s.page.path, &sent, e)?;
            if bad_k {
                let hint = s.page.t("statistics-k-hint");
                if let Some(o) = r.form.as_object_mut() {
                    o.insert(
                        "message".into(),
                        json!(format!("{} — {hint}", s.page.t("field-k"))),
                    );
                }
                r = r.with_error("k", hint);
            }
            (None, Some(r))
        }
    };
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "k".into(),
            json!(
                export
                    .as_ref()
                    .map_or(passerelle_core::data::DEFAULT_K, |e| e.k)
            ),
        );
        o.insert(
            "scope".into(),
            json!(if s.actor().role == Role::Statistician {
                s.page.t("statistics-scope-all")
            } else {
                s.page.t("statistics-scope-country")
            }),
        );
        o.insert(
            "export".into(),
            export.as_ref().map_or(Value::Null, |e| export_json(&s, e)),
        );
    }
    Ok(s.page.show("statistics", data, refill))
}

fn export_json(s: &Signed, e: &StatisticsExport) -> Value {
    let r = &e.report;
    let groups: Vec<Value> = e
        .groups()
        .iter()
        .map(|g| {
            json!({
                "age": value_words(s, Attribute::Age, g.row.age),
                "gender": value_words(s, Attribute::Gender, g.row.gender),
                "year": value_words(s, Attribute::RegistrationYear, &g.row.registration_year),
                "citizenship": value_words(s, Attribute::Citizenship, &g.row.citizenship),
                "country_of_exploitation": value_words(s, Attribute::CountryOfExploitation, &g.row.country_of_exploitation),
                "exploitation": list_words(s, Attribute::Exploitation, &g.row.exploitation),
                "means_of_control": list_words(s, Attribute::MeansOfControl, &g.row.means_of_control),
                "rows": g.rows,
            })
        })
        .collect();
    json!({
        "organisations": e.organisations,
        "input_rows": r.input_rows,
        "output_rows": r.output_rows,
        "suppressed_rows": r.suppressed_rows,
        "small_group": r.suppressed_by.small_group,
        "population_below_k": r.suppressed_by.population_below_k,
        "max_suppressed_rows": r.max_suppressed_rows,
        "groups_count": r.groups,
        "smallest_group": r.smallest_group,
        "attributes": r.attributes.iter().map(|a| json!({
            "attribute": s.page.t(&format!("statistics-attribute-{}", a.attribute.as_str())),
            "level": s.page.t(&format!("statistics-level-{}", a.level_name)),
            "suppressed_cells": a.suppressed_cells,
        })).collect::<Vec<_>>(),
        "groups": groups,
    })
}

fn admin_only(s: &Signed) -> Result<(), PageError> {
    if may_export_htcds(s.actor().role) {
        Ok(())
    } else {
        Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-forbidden",
            s.page.t("exports-admin-only"),
        ))
    }
}

async fn htcds_page(s: Signed) -> Result<HttpResponse, PageError> {
    htcds_page_with(&s, None).await
}

/// The export page: the re-authentication, the columns and the format; after a failed
/// POST, with what was chosen and what is wrong (the password is never sent back).
async fn htcds_page_with(s: &Signed, refill: Option<Refill>) -> Result<HttpResponse, PageError> {
    admin_only(s)?;
    let until = s
        .services()
        .reauthenticated_until(s.session.session_id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let own = s
        .services()
        .org(s.actor().org_id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("exports-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "columns".into(),
            json!(
                HtcdsColumn::ALL
                    .iter()
                    .map(|c| json!({
                        "name": c.name(),
                        "label": s.page.t(&format!("htcds-column-{}", c.name().to_ascii_lowercase())),
                        "htcds": c.is_htcds(),
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "reauth_until".into(),
            json!(until.map(|u| crate::words::time(&u.to_rfc3339()))),
        );
        o.insert("org".into(), json!(own.name));
        let two_factor = s
            .services()
            .two_factor_status(s.actor())
            .await
            .map_err(|e| s.page.service_error(e))?;
        o.insert("two_factor".into(), json!(two_factor.enabled));
        o.insert(
            "statistics".into(),
            json!(statistics_scope(s.actor().role, own.kind, &own.country).is_some()),
        );
    }
    Ok(s.page.show("htcds", data, refill))
}

/// Download the export (an attachment), or the page again with what is wrong: without a
/// re-authentication in the last five minutes, a 403 that says to give the password.
async fn htcds_download(f: SignedForm<Pairs>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    admin_only(s)?;
    let columns = f.sent.all("columns");
    let outcome = async {
        let format = HtcdsFormat::parse(f.sent.get("format"))?;
        let v = s
            .services()
            .export_htcds(
                s.actor(),
                s.session.session_id,
                Some(&columns),
                &route(&req),
            )
            .await?;
        htcds_answer(&v, format)
    }
    .await;
    match outcome {
        Ok(resp) => Ok(resp),
        // The administrator may export: what is missing is the password given again.
        Err(ServiceError::Forbidden(_)) => {
            let r = f.refill("export", ServiceError::Refused(String::new()))?;
            let mut form = r.form;
            if let Some(o) = form.as_object_mut() {
                o.insert("message".into(), json!(s.page.t("exports-reauth-first")));
            }
            let refill = Refill {
                status: StatusCode::FORBIDDEN,
                at: r.at,
                form,
            };
            htcds_page_with(s, Some(refill)).await
        }
        Err(e) => {
            // Column names are the page's own checkboxes: an unknown one is said as such.
            let unknown = matches!(&e, ServiceError::Invalid(i)
                if i.field == "columns" && i.message.starts_with("unknown columns"));
            let mut r = f.refill("export", e)?;
            if unknown {
                let what = s.page.t("msg-unknown-choice");
                let sent: Vec<String> = columns
                    .iter()
                    .filter(|c| HtcdsColumn::parse(c).is_none())
                    .map(|c| c.chars().take(60).collect())
                    .collect();
                if let Some(o) = r.form.as_object_mut() {
                    o.insert(
                        "message".into(),
                        json!(format!(
                            "{} — {what}{}{}",
                            s.page.t("field-columns"),
                            s.page.t("colon"),
                            sent.join(", ")
                        )),
                    );
                }
                r = r.with_error("columns", what);
            }
            htcds_page_with(s, Some(r)).await
        }
    }
}

async fn reauth_form(f: SignedForm<Pairs>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    admin_only(s)?;
    let password = SecretString::from(f.sent.text("password"));
    let code = f.sent.text("code");
    match s
        .services()
        .reauthenticate(s.session.session_id, s.actor(), password, Some(&code))
        .await
    {
        Ok(_) => Ok(s
            .page
            .done("/exports/htcds#export", "flash-reauthenticated")),
        Err(e) => htcds_page_with(s, Some(f.refill("reauth", e)?)).await,
    }
}
