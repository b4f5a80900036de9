//! The notifications page, and opening one.

use crate::http::{PageError, Signed, see_other};
use actix_web::{HttpResponse, web};
use passerelle_core::domain::{Paging, Role};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(list))
        .route("/notifications/{id}", web::get().to(open));
}

async fn list(s: Signed) -> Result<HttpResponse, PageError> {
    let svc = s.services();
    let (page, _) = svc
        .my_notifications(
            s.actor(),
            Paging {
                page: 1,
                per_page: Paging::MAX_PER_PAGE,
            },
        )
        .await
        .map_err(|e| s.page.service_error(e))?;
    let failing = if s.actor().role == Role::OrgAdmin {
        svc.failing_addresses(s.actor())
            .await
            .map_err(|e| s.page.service_error(e))?
    } else {
        vec![]
    };
    let mut data = s.page.base("notifications-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "items".into(),
            json!(
                page.items
                    .iter()
                    .map(|n| json!({
                        "id": n.id,
                        "kind_value": n.kind.as_str(),
                        "kind": s.page.t(&format!("notification-kind-{}", n.kind.as_str())),
                        "reference": n.reference,
                        "from_org": n.from_org,
                        "created": n.created_at.format("%Y-%m-%d %H:%M").to_string(),
                        "read": n.read,
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "failing".into(),
            json!(
                failing
                    .iter()
                    .map(|(e, t)| json!({"email": e, "since": t.format("%Y-%m-%d %H:%M").to_string()}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.ok("notifications", data))
}

/// Open a notification: marked read, then its page.
async fn open(s: Signed, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    let link = s
        .services()
        .open_notification(s.actor(), &id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    Ok(see_other(&link))
}
