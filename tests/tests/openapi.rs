//! The OpenAPI document keeps to the conventions of docs/api.md, operation by operation:
//! every answer it documents carries a schema; errors are all the one `ErrorBody`; every
//! 201 has a `Location` and the shape a GET of the resource returns; lists have the one
//! page shape; ids are hex strings except the directory's. And the server's real error
//! answers have the documented shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{get_json as get, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ERROR: &str = "#/components/schemas/ErrorBody";
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

/// The schema of an answer: its JSON one, or that of its one other media type (a CSV).
fn schema_of(resp: &Value) -> Option<&Value> {
    let content = resp.get("content")?.as_object()?;
    content
        .get("application/json")
        .or_else(|| content.values().next())?
        .get("schema")
}

/// The name of a `$ref` schema, or of an array's item schema prefixed with `[]`.
fn name_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(items) = schema.get("items") {
        return format!("[]{}", name_of(items));
    }
    schema.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_keeps_to_the_conventions() {
    let app = spawn_app().await;
    let c = passerelle_tests::client();
    let (st, doc) = get(&c, app.url("/api/v1/openapi.json")).await;
    assert_eq!(st, 200);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // The old per-area "created id" shapes are gone (one of them documented hex ids as
    // integers under a name another used for integers).
    for old in [
        "CreatedId",
        "CreatedRef",
        "CreatedNumber",
        "IdBody",
        "Created",
    ] {
        assert!(!schemas.contains_key(old), "{old} is still in the document");
    }
    let page_fields = ["items", "total", "page", "per_page", "pages"];
    // What a GET of each path answers, to compare creates with.
    let mut get_shapes: BTreeMap<String, String> = BTreeMap::new();
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        if let Some(s) = item
            .get("get")
            .and_then(|op| op["responses"].get("200"))
            .and_then(schema_of)
        {
            get_shapes.insert(path.clone(), name_of(s));
        }
    }
    let mut problems = Vec::new();
    let mut operations = 0;
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            operations += 1;
            let here = format!("{} {path}", method.to_uppercase());
            let responses = op["responses"].as_object().unwrap();
            let success: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
            if success.is_empty() {
                problems.push(format!("{here}: no success answer"));
            }
            for (status, resp) in responses {
                let schema = schema_of(resp);
                let is_error =
                    status == "default" || status.starts_with('4') || status.starts_with('5');
                if is_error {
                    if schema.and_then(|s| s.get("$ref")).and_then(Value::as_str) != Some(ERROR) {
                        problems.push(format!("{here} {status}: not the ErrorBody schema"));
                    }
                } else if status != "204" && schema.is_none() {
                    problems.push(format!("{here} {status}: no schema"));
                }
                if status == "201" {
                    if resp["headers"].get("Location").is_none() {
                        problems.push(format!("{here} 201: no Location header"));
                    }
                    // A create answers what a GET of the created resource answers.
                    let created = schema.map(name_of).unwrap_or_default();
                    if !get_shapes.values().any(|g| *g == created) {
                        problems.push(format!("{here} 201: {created} is not what any GET answers"));
                    }
                }
            }
            let authenticated = path != "/api/v1/auth/login";
            let has_body = op.get("requestBody").is_some();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut expected: Vec<&str> = vec!["default"];
            if authenticated {
                expected.extend(["401", "403"]);
            }
            if path.contains('{') {
                expected.push("404");
            }
            if has_body {
                expected.extend(["400", "415", "422"]);
            }
            if params.iter().any(|p| p["in"] == "query") {
                expected.extend(["400", "422"]);
            }
            for s in expected {
                if !responses.contains_key(s) {
                    problems.push(format!("{here}: {s} is not documented"));
                }
            }
            // Ids: 32-hex strings for records of a case, integers for the directory.
            for p in params.iter().filter(|p| p["in"] == "path") {
                let name = p["name"].as_str().unwrap();
                let ty = p["schema"]["type"].as_str().unwrap_or_default();
                let directory = path.starts_with("/api/v1/organisations/")
                    || path.starts_with("/api/v1/users/");
                let want = if name == "id" && directory {
                    "integer"
                } else {
                    "string"
                };
                if ty != want {
                    problems.push(format!("{here}: path parameter {name} is {ty}, not {want}"));
                }
            }
            // Lists answer the one page shape.
            if *method == "get"
                && let Some(name) = responses.get("200").and_then(schema_of).map(name_of)
            {
                if name.starts_with("[]") {
                    problems.push(format!("{here}: answers a bare array ({name}), not a page"));
                }
                if let Some(s) = schemas.get(&name)
                    && s["properties"].get("items").is_some()
                {
                    for f in page_fields {
                        if s["properties"].get(f).is_none() {
                            problems.push(format!("{here}: the page {name} has no {f}"));
                        }
                    }
                }
            }
        }
    }
    assert!(operations > 70, "{operations} operations");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The record ids the schemas document are strings.
    for (name, field) in [
        ("ConsentView", "id"),
        ("ShareView", "consent_id"),
        ("ReferralView", "id"),
        ("DeadlineView", "id"),
        ("ReturnView", "consent_id"),
    ] {
        assert_eq!(
            schemas[name]["properties"][field]["type"], "string",
            "{name}.{field}"
        );
    }
    for (name, field) in [
        ("ReferralView", "to_org_id"),
        ("ReferralView", "from_org_id"),
        ("ReturnView", "agency_org_id"),
        ("ReturnView", "receiving_org_id"),
        ("TrailRow", "user_id"),
        ("TrailRow", "org_id"),
    ] {
        assert!(
            schemas[name]["properties"].get(field).is_some(),
            "{name} has no {field} beside its name"
        );
    }
}

/// Every field of the error shape, and nothing else.
fn is_error_body(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.len() == 3
            && o["error"].is_string()
            && o["message"].is_string()
            && (o["field"].is_null() || o["field"].is_string())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_errors_have_the_documented_shape() {
    let app = spawn_app().await;
    app.world().await;
    let anon = passerelle_tests::client();
    let (st, v) = get(&anon, app.url("/api/v1/cases")).await;
    assert_eq!(st, 401);
    assert!(is_error_body(&v), "{v}");
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Error Shapes").await;
    // 415: not JSON.
    let r = adv
        .post(app.url("/api/v1/cases"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let v: Value = r.json().await.unwrap();
    assert!(is_error_body(&v), "{v}");
    // 400: malformed JSON, and a query value out of range.
    let r = adv
        .post(app.url("/api/v1/cases"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(is_error_body(&r.json().await.unwrap()));
    let (st, v) = get(&adv, app.url("/api/v1/cases?page=0")).await;
    assert_eq!((st, v["field"].as_str()), (400, Some("page")));
    assert!(is_error_body(&v), "{v}");
    // 404, 409, 422.
    let (st, v) = get(&adv, app.url("/api/v1/cases/PSG-2026-9999")).await;
    assert_eq!(st, 404);
    assert!(is_error_body(&v), "{v}");
    let (st, v) = passerelle_tests::send_json(
        &adv,
        "PUT",
        app.url(&format!("/api/v1/cases/{reference}/person")),
        json!({"version": 99, "person": {"name": "X"}}),
    )
    .await;
    assert_eq!(st, 409);
    assert!(is_error_body(&v), "{v}");
    let (st, v) = passerelle_tests::send_json(
        &adv,
        "POST",
        app.url("/api/v1/cases"),
        json!({"person": {"name": "X", "birth_date": "tomorrow"}}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("birth_date")));
    assert!(is_error_body(&v), "{v}");
    // A create: 201, Location, and the shape its GET answers.
    let r = adv
        .post(app.url(&format!("/api/v1/cases/{reference}/consents")))
        .json(&json!({"purpose": "shelter", "given_by": "person", "language": "en", "form_version": "v1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(location, format!("/api/v1/cases/{reference}/consents/{id}"));
    let (st, again) = get(&adv, app.url(&location)).await;
    assert_eq!((st, &again), (200, &created));
}
