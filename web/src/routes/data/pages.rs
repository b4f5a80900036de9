//! The caseload import page, for the organisation's administrator: the file (a multipart
//! upload, its CSRF token checked), checked first; its report (row, column, value, what is
//! wrong, in the user's language), or the import, all or nothing, with the references
//! created.

use super::api::IMPORT_MAX_BYTES;
use crate::http::{PageError, Signed, constant_eq};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use passerelle_core::data::import::Column;
use passerelle_core::service::data::import::{ImportOutcome, may_import_cases};
use serde_json::{Value, json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/imports/cases", web::get().to(form))
        .route("/imports/cases/template.csv", web::get().to(template))
        .service(
            web::resource("/imports/cases/upload")
                .app_data(web::PayloadConfig::default().limit(IMPORT_MAX_BYTES))
                .route(web::post().to(upload)),
        );
}

fn admin_only(s: &Signed) -> Result<(), PageError> {
    if may_import_cases(s.actor().role) {
        Ok(())
    } else {
        Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-forbidden",
            s.page.t("import-admin-only"),
        ))
    }
}

/// The page's data: the column template.
fn base(s: &Signed) -> Value {
    let mut data = s.page.base("import-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "columns".into(),
            json!(
                Column::ALL
                    .iter()
                    .map(|c| json!({
                        "name": c.name(),
                        "htcds": c.htcds(),
                        "required": c.required(),
                        "value_required": c.value_required(),
                        "max": c.max_chars(),
                    }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    data
}

async fn form(s: Signed) -> Result<HttpResponse, PageError> {
    admin_only(&s)?;
    Ok(s.page.ok("import", base(&s)))
}

/// The template's header row, to fill in a spreadsheet.
async fn template(s: Signed) -> Result<HttpResponse, PageError> {
    admin_only(&s)?;
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"passerelle-caseload.csv\"",
        ))
        .body(format!("{}\n", header.join(","))))
}

/// What the form sent: the CSRF token, check or import, the file.
struct Upload {
    csrf: String,
    import: bool,
    file: Vec<u8>,
    file_name: String,
}

async fn read_upload(mut m: Multipart) -> Result<Upload, String> {
    let mut u = Upload {
        csrf: String::new(),
        import: false,
        file: Vec::new(),
        file_name: String::new(),
    };
    while let Some(field) = m.next().await {
        let mut field = field.map_err(|e| e.to_string())?;
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            u.file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            if bytes.len() + chunk.len() > IMPORT_MAX_BYTES {
                return Err(format!("the file is larger than {IMPORT_MAX_BYTES} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "_csrf" => u.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "action" => u.import = bytes == b"import",
            "file" => u.file = bytes,
            _ => {}
        }
    }
    Ok(u)
}

async fn upload(s: Signed, m: Multipart) -> Result<HttpResponse, PageError> {
    let u = match read_upload(m).await {
        Ok(u) => u,
        Err(e) => {
            return Err(s.page.fail(StatusCode::BAD_REQUEST, "error-bad-form", e));
        }
    };
    if !constant_eq(&u.csrf, &s.session.csrf_token) {
        return Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-csrf",
            s.page.t("error-csrf-detail"),
        ));
    }
    admin_only(&s)?;
    let route = "/imports/cases/upload";
    let svc = s.services();
    // The check first, so that an import refused shows its whole report.
    let checked = svc
        .import_cases(s.actor(), &u.file, true, route)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let clean = checked.problems.is_empty() && checked.omitted == 0;
    let (status, outcome) = if u.import && clean {
        let done = svc
            .import_cases(s.actor(), &u.file, false, route)
            .await
            .map_err(|e| s.page.service_error(e))?;
        (StatusCode::OK, done)
    } else if clean {
        (StatusCode::OK, checked)
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, checked)
    };
    let mut data = base(&s);
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "result".into(),
            result(&s, &outcome, &u.file_name, u.import),
        );
    }
    Ok(s.page.render(status, "import", data))
}

/// The outcome as the page shows it: each problem in the user's language.
fn result(s: &Signed, o: &ImportOutcome, file_name: &str, asked_import: bool) -> Value {
    let problems: Vec<Value> = o
        .problems
        .iter()
        .map(|p| {
            let mut args: Vec<(&'static str, Value)> =
                vec![("column", json!(p.column.clone().unwrap_or_default()))];
            for (k, v) in &p.args {
                if let Some(name) = ARG_NAMES.iter().find(|n| **n == k.as_str()) {
                    args.push((name, json!(v)));
                }
            }
            json!({
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "message": s.page.t_args(&p.rule, &args),
            })
        })
        .collect();
    let total = o.problems.len() + o.omitted;
    json!({
        "file": file_name,
        "rows": o.rows,
        "problems": problems,
        "has_problems": total > 0,
        "total_problems": total,
        "omitted": o.omitted,
        "refused": asked_import && total > 0,
        "ready": !asked_import && total == 0,
        "imported": o.imported.len(),
        "first": o.imported.first().map(|c| c.reference.clone()),
        "last": o.imported.last().map(|c| c.reference.clone()),
        "summary": s.page.t_args("import-rows", &[("n", json!(o.rows)), ("problems", json!(total))]),
    })
}

/// The arguments the problems' messages use (a fixed set: Fluent takes `&'static str`).
const ARG_NAMES: &[&str] = &[
    "max",
    "byte",
    "rows",
    "allowed",
    "first",
    "position",
    "found",
    "expected",
    "other_row",
    "length",
    "character",
    "today",
    "age",
    "message",
    "reference",
];
