//! The JSON API under `/api/v1`: the same use cases and access rules as the pages. Each
//! area registers its endpoints (`configure_api`) and documents them (`Doc`); this module
//! puts them under one scope and one OpenAPI document, and adds to every operation the
//! error answers it can give, all in the one error shape. docs/api.md states the
//! conventions.
//!
//! CSRF: every state-changing call takes a JSON body, which a browser cannot send
//! cross-site without a CORS preflight that this server never grants; the session
//! cookie is also `SameSite=Strict`.

use crate::http::error_json;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/openapi.json", web::get().to(openapi))
            .configure(crate::routes::session::configure_api)
            .configure(crate::routes::cases::configure_api)
            .configure(crate::routes::identification::configure_api)
            .configure(crate::routes::care::configure_api)
            .configure(crate::routes::trial::configure_api)
            .configure(crate::routes::returns::configure_api)
            .configure(crate::routes::follow_up::configure_api)
            .configure(crate::routes::notifications::configure_api)
            .configure(crate::routes::admin::configure_api)
            .configure(crate::routes::funding::configure_api)
            .configure(crate::routes::data::configure_api)
            .configure(crate::routes::data::exports::configure_api)
            .configure(crate::routes::data::configure_dashboard_api)
            .configure(crate::routes::erasure::configure_api)
            .default_service(web::to(|| async {
                error_json(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such API endpoint; see /api/v1/openapi.json",
                    None,
                )
            })),
    );
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle API",
        version = "1",
        description = "Case management for the protection of victims of trafficking and smuggled migrants.\n\nSign in with POST /auth/login; the session cookie authenticates every other call.\n\nConventions (docs/api.md): a case is named by its reference (PSG-2026-0042); every record of a case by a 32-character hex `id` (computed rows too: their id is stable); organisations and users by an integer `id`. A create answers 201 with the created resource and its `Location`; an edit of a versioned record takes the `version` it read (409 when stale) and answers the new one. Lists answer `{items, total, page, per_page, pages}`; `page` from 1, `per_page` from 1 to 200, anything else is a 400. Every error is `{error, message, field}`. Text a person reads (labels, reasons) follows `Accept-Language` (en, fr)."
    ),
    components(schemas(ErrorBody, VersionBody))
)]
pub struct ApiDoc;

/// Every error answer: what kind, a sentence that says what is wrong, and the request
/// field at fault when there is one.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// bad_request, unauthorized, forbidden, not_found, conflict, invalid, refused,
    /// adapter_failed, integrity, internal
    error: String,
    message: String,
    field: Option<String>,
}

/// The new version of a versioned record after an edit.
#[derive(Serialize, ToSchema)]
pub struct VersionBody {
    pub version: i64,
}

/// The whole document as utoipa builds it: the shared schemas and each area's paths.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::session::Doc::openapi());
    doc.merge(crate::routes::cases::Doc::openapi());
    doc.merge(crate::routes::identification::Doc::openapi());
    doc.merge(crate::routes::care::Doc::openapi());
    doc.merge(crate::routes::trial::Doc::openapi());
    doc.merge(crate::routes::returns::Doc::openapi());
    doc.merge(crate::routes::follow_up::Doc::openapi());
    doc.merge(crate::routes::notifications::Doc::openapi());
    doc.merge(crate::routes::admin::Doc::openapi());
    doc.merge(crate::routes::funding::Doc::openapi());
    doc.merge(crate::routes::data::Doc::openapi());
    doc.merge(crate::routes::data::exports::Doc::openapi());
    doc.merge(crate::routes::data::DashboardDoc::openapi());
    doc.merge(crate::routes::erasure::Doc::openapi());
    doc
}

/// Why each error status can happen, for the operations it applies to.
fn error_description(status: &str) -> &'static str {
    match status {
        "400" => {
            "the request cannot be read: malformed JSON or query string, or a query value out of range"
        }
        "401" => "not signed in (or the session expired)",
        "403" => "signed in, but this role or organisation may not do this",
        "404" => "no such resource, or not visible to the caller",
        "409" => "a conflict: a stale version, a duplicate, or a state that no longer allows it",
        "413" => "the request body is too large",
        "415" => "the body is not sent as application/json",
        "429" => {
            "too many requests from this address or account in the window; the Retry-After header says in how many seconds to try again"
        }
        "422" => {
            "a value is not valid (the field is named), or a rule refused the action (the rule is named)"
        }
        "default" => {
            "an unexpected failure (500), or a jurisdiction or partner plugin that failed (503)"
        }
        _ => "an error",
    }
}

/// The document served at `/api/v1/openapi.json`: [`document`] with, on every operation,
/// each error answer it can give (401 when signed out, 403, 404 for paths with ids, 400,
/// 413, 415 and 422 for bodies, 400 and 422 for query strings, 409 for writes, and a
/// default for 500 and 503), every one in the [`ErrorBody`] shape, and the `Location`
/// header of every 201.
pub fn document_json() -> Value {
    let mut doc = serde_json::to_value(document()).unwrap_or(Value::Null);
    let error_ref =
        json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let public = path == "/api/v1/auth/login";
            let has_path_param = path.contains('{');
            let has_body = op.contains_key("requestBody");
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let write = method != "get";
            let mut statuses: Vec<&str> = vec!["default"];
            if !public {
                statuses.extend(["401", "403"]);
            }
            if has_path_param {
                statuses.push("404");
            }
            if has_body {
                statuses.extend(["400", "413", "415", "422"]);
            }
            if has_query {
                statuses.extend(["400", "422"]);
            }
            if write && !public {
                statuses.push("409");
            }
            if public {
                statuses.push("401");
            }
            let m = actix_web::http::Method::from_bytes(method.to_uppercase().as_bytes());
            if m.is_ok_and(|m| crate::limits::class_of(&m, path).is_some()) {
                statuses.push("429");
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            let Some(responses) = responses else { continue };
            for s in statuses {
                let r = responses
                    .entry(s.to_owned())
                    .or_insert_with(|| json!({"description": error_description(s)}));
                if let Some(r) = r.as_object_mut() {
                    if r.get("description").and_then(Value::as_str) == Some("") {
                        r.insert("description".into(), json!(error_description(s)));
                    }
                    r.entry("content").or_insert_with(|| error_ref.clone());
                }
            }
            // Error answers documented by the handlers get the one error shape too.
            for (s, r) in responses.iter_mut() {
                let is_error = s == "default" || s.starts_with('4') || s.starts_with('5');
                if let Some(r) = r.as_object_mut() {
                    if is_error {
                        r.entry("content").or_insert_with(|| error_ref.clone());
                    }
                    if s == "201" {
                        r.insert(
                            "headers".into(),
                            json!({"Location": {"description": "where the created resource lives", "schema": {"type": "string"}}}),
                        );
                    }
                }
            }
        }
    }
    doc
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(document_json())
}

/// For tests and the docs: the paths the OpenAPI document lists.
pub fn documented_paths() -> Vec<String> {
    document().paths.paths.keys().cloned().collect()
}
