//! Rate limits (issue 15, point 2) and the bound on request headers.
//!
//! - **What is limited** ([`class_of`]): failed sign-ins (the password form and the API's
//!   login: only the attempts answered 401 count, so an office whose staff all sign in
//!   through one address is not locked out by its own successes), sign-in links (asking
//!   for one, opening or using one: a token guessed by trying), the search, and the
//!   exports (statistics, HTCDS, and the re-authentication before them).
//! - **Per client address and per account.** Every limited request counts against its
//!   client address; the search and the exports count against the signed-in account too
//!   (the account's own lock after six failed sign-ins is in `Services::login`).
//! - **The client address** ([`client_address`]) is the socket's peer. A forwarded header
//!   (`X-Forwarded-For` by default) is believed only when the peer is one of the
//!   configured `[limits] trusted_proxies`, and then only its last address that is not a
//!   trusted proxy: what a client writes in the header itself is never taken. Without a
//!   trusted proxy the header changes nothing. IPv6 addresses count by their /64 prefix
//!   (one host holds a whole /64).
//! - **Sliding windows** of `window_seconds`: the last hits of each key are kept, and a
//!   request over the limit gets 429 with `Retry-After` (the seconds until the oldest hit
//!   leaves the window), in the user's language on pages. Per node, in memory: behind a
//!   load balancer each node limits on its own (the account lock, in the database, holds
//!   across nodes).
//! - **Headers**: a request whose headers add up to more than `max_header_bytes` is
//!   refused with 431 before any handler runs (actix reads up to 128 KiB of them).
//!
//! Not `governor`: its GCRA meters every request and cannot look without counting, while
//! failed sign-ins must be counted after the answer and checked before the next attempt;
//! the windows here are a hundred lines with their tests.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `[limits]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// Comma-separated addresses of the reverse proxies whose forwarded header is believed.
    pub trusted_proxies: String,
    /// The header such a proxy writes the client's address in.
    pub client_address_header: String,
    pub window_seconds: u64,
    pub sign_in_failures_per_address: u32,
    pub sign_in_links_per_address: u32,
    pub search_per_account: u32,
    pub search_per_address: u32,
    pub exports_per_account: u32,
    pub exports_per_address: u32,
    pub max_header_bytes: usize,
}

/// What a limited request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    SignIn,
    SignInLink,
    Search,
    Export,
}

/// Whom a count is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Account(i64),
}

/// Which limit a request falls under, from its method and path (pages and API alike).
pub fn class_of(method: &Method, path: &str) -> Option<Class> {
    let post = method == Method::POST;
    match path {
        "/login" | "/api/v1/auth/login" | "/login/code" | "/api/v1/auth/code" if post => {
            Some(Class::SignIn)
        }
        "/forgot" | "/api/v1/auth/forgot" if post => Some(Class::SignInLink),
        "/search" | "/api/v1/search" if post => Some(Class::Search),
        "/statistics" | "/api/v1/statistics" if method == Method::GET => Some(Class::Export),
        "/exports/htcds"
        | "/api/v1/exports/htcds"
        | "/exports/htcds/reauth"
        | "/api/v1/session/reauth"
        | "/admin/users/reauth"
            if post =>
        {
            Some(Class::Export)
        }
        p if p.starts_with("/signin/") => Some(Class::SignInLink),
        _ => None,
    }
}

/// The client's address: the peer, or what a trusted proxy forwarded (see the module).
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let Some(list) = forwarded else {
        return Some(peer);
    };
    for part in list.rsplit(',') {
        match part.trim().parse::<IpAddr>() {
            Ok(a) if trusted.contains(&a) => continue,
            Ok(a) => return Some(a),
            // A value the proxy did not write: stop at what can be believed.
            Err(_) => break,
        }
    }
    Some(peer)
}

/// The address a count is kept under: IPv6 by its /64.
fn counted(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(_) => a,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Beyond this many keys, the ones whose window has emptied are dropped.
const TIDY_ABOVE: usize = 10_000;
/// And beyond this many live keys, new keys are not counted (the account lock still
/// holds): a flood of addresses cannot grow the memory without bound.
const KEYS_AT_MOST: usize = 200_000;

/// This node's counts.
pub struct RateLimits {
    settings: LimitSettings,
    trusted: Vec<IpAddr>,
    window: Duration,
    hits: Mutex<HashMap<(Class, Key), VecDeque<Instant>>>,
}

impl RateLimits {
    /// Check the settings (a bad value stops start-up, naming the key).
    pub fn new(settings: &LimitSettings) -> anyhow::Result<Self> {
        let mut trusted = Vec::new();
        for p in settings
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            trusted.push(p.parse::<IpAddr>().map_err(|_| {
                anyhow::anyhow!("configuration: limits.trusted_proxies: {p:?} is not an IP address")
            })?);
        }
        if settings.client_address_header.trim().is_empty()
            || header::HeaderName::try_from(settings.client_address_header.trim()).is_err()
        {
            anyhow::bail!("configuration: limits.client_address_header is not a header name");
        }
        if !(1..=3600).contains(&settings.window_seconds) {
            anyhow::bail!("configuration: limits.window_seconds must be from 1 to 3600");
        }
        for (key, v) in [
            (
                "sign_in_failures_per_address",
                settings.sign_in_failures_per_address,
            ),
            (
                "sign_in_links_per_address",
                settings.sign_in_links_per_address,
            ),
            ("search_per_account", settings.search_per_account),
            ("search_per_address", settings.search_per_address),
            ("exports_per_account", settings.exports_per_account),
            ("exports_per_address", settings.exports_per_address),
        ] {
            if !(1..=100_000).contains(&v) {
                anyhow::bail!("configuration: limits.{key} must be from 1 to 100000");
            }
        }
        if !(4096..=131_072).contains(&settings.max_header_bytes) {
            anyhow::bail!("configuration: limits.max_header_bytes must be from 4096 to 131072");
        }
        Ok(Self {
            settings: settings.clone(),
            trusted,
            window: Duration::from_secs(settings.window_seconds),
            hits: Mutex::new(HashMap::new()),
        })
    }

    fn per_address(&self, class: Class) -> usize {
        let s = &self.settings;
        (match class {
            Class::SignIn => s.sign_in_failures_per_address,
            Class::SignInLink => s.sign_in_links_per_address,
            Class::Search => s.search_per_address,
            Class::Export => s.exports_per_address,
        }) as usize
    }

    fn per_account(&self, class: Class) -> Option<usize> {
        let s = &self.settings;
        match class {
            Class::Search => Some(s.search_per_account as usize),
            Class::Export => Some(s.exports_per_account as usize),
            Class::SignIn | Class::SignInLink => None,
        }
    }

    /// Is `key` over `limit`? If it is, how long until it is not. With `count`, a request
    /// that is not over the limit is counted.
    fn take(&self, class: Class, key: Key, limit: usize, count: bool) -> Option<Duration> {
        let now = Instant::now();
        let mut hits = self
            .hits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if hits.len() > TIDY_ABOVE {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let full = hits.len() >= KEYS_AT_MOST;
        let q = match hits.get_mut(&(class, key)) {
            Some(q) => q,
            None if full || !count => return None,
            None => hits.entry((class, key)).or_default(),
        };
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() >= limit {
            let oldest = q.front().copied().unwrap_or(now);
            return Some(self.window.saturating_sub(now.duration_since(oldest)));
        }
        if count {
            q.push_back(now);
        }
        None
    }

    fn address_of(&self, req: &ServiceRequest) -> Option<IpAddr> {
        let forwarded = req
            .headers()
            .get(self.settings.client_address_header.trim())
            .and_then(|v| v.to_str().ok());
        client_address(req.peer_addr().map(|a| a.ip()), forwarded, &self.trusted).map(counted)
    }
}

fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum()
}

/// The middleware: the header bound, then the limits of [`class_of`].
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<crate::http::State>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let limits = &state.limits;
    if header_bytes(&req) > limits.settings.max_header_bytes {
        let resp = refusal(&req, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, None).await;
        return Ok(req.into_response(resp));
    }
    let Some(class) = class_of(req.method(), req.path()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let address = limits.address_of(&req).map(Key::Address);
    // Failed sign-ins are counted after the answer; everything else as it comes.
    let count_now = class != Class::SignIn;
    let mut wait =
        address.and_then(|k| limits.take(class, k, limits.per_address(class), count_now));
    if wait.is_none()
        && let Some(limit) = limits.per_account(class)
        && let Ok(Some(s)) = crate::http::session_of(req.request()).await
    {
        wait = limits.take(class, Key::Account(s.actor.user_id), limit, true);
    }
    if let Some(wait) = wait {
        tracing::warn!(route = req.path_for_log(), "rate limit reached");
        let resp = refusal(&req, StatusCode::TOO_MANY_REQUESTS, Some(wait)).await;
        return Ok(req.into_response(resp));
    }
    let res = next.call(req).await?;
    if class == Class::SignIn
        && res.status() == StatusCode::UNAUTHORIZED
        && let Some(k) = address
    {
        limits.take(class, k, usize::MAX, true);
    }
    Ok(res.map_into_boxed_body())
}

/// Routes are logged by their pattern (never the concrete path: a sign-in link's token).
trait PathForLog {
    fn path_for_log(&self) -> String;
}

impl PathForLog for ServiceRequest {
    fn path_for_log(&self) -> String {
        self.match_pattern().unwrap_or_else(|| "(unmatched)".into())
    }
}

/// The answer to a refused request: JSON on the API, a page in the user's language
/// elsewhere; `Retry-After` in whole seconds (at least one).
async fn refusal(req: &ServiceRequest, status: StatusCode, wait: Option<Duration>) -> HttpResponse {
    let seconds = wait
        .map(|w| w.as_secs() + u64::from(w.subsec_nanos() > 0))
        .map(|s| s.max(1));
    let mut resp = if req.path().starts_with("/api/") {
        let message = match seconds {
            Some(s) => {
                format!("too many requests from this address or account; try again in {s} s")
            }
            None => "the request's headers are too large".to_owned(),
        };
        let kind = if seconds.is_some() {
            "too_many_requests"
        } else {
            "headers_too_large"
        };
        crate::http::error_json(status, kind, &message, None)
    } else {
        let mut payload = actix_web::dev::Payload::None;
        match crate::http::Page::from_request(req.request(), &mut payload).await {
            Ok(page) => {
                let (heading, detail) = match seconds {
                    Some(s) => (
                        "error-too-many",
                        page.t_args(
                            "error-too-many-detail",
                            &[("seconds", serde_json::json!(s))],
                        ),
                    ),
                    None => (
                        "error-headers-too-large",
                        page.t("error-headers-too-large-detail"),
                    ),
                };
                page.fail(status, heading, detail).error_response()
            }
            Err(e) => e.error_response(),
        }
    };
    if let Some(s) = seconds
        && let Ok(v) = header::HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn settings() -> LimitSettings {
        LimitSettings {
            trusted_proxies: String::new(),
            client_address_header: "X-Forwarded-For".into(),
            window_seconds: 60,
            sign_in_failures_per_address: 6,
            sign_in_links_per_address: 5,
            search_per_account: 3,
            search_per_address: 10,
            exports_per_account: 2,
            exports_per_address: 4,
            max_header_bytes: 16_384,
        }
    }

    #[test]
    fn a_forwarded_header_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let forged = Some("203.0.113.9");
        // No proxy configured: the header is ignored.
        assert_eq!(
            client_address(Some(ip("198.51.100.7")), forged, &[]),
            Some(ip("198.51.100.7"))
        );
        // A proxy configured, but the request comes from elsewhere: ignored too.
        assert_eq!(
            client_address(Some(ip("198.51.100.7")), forged, &[proxy]),
            Some(ip("198.51.100.7"))
        );
        // From the proxy: its last address that is not a proxy; what the client put
        // before it is not believed.
        assert_eq!(
            client_address(Some(proxy), Some("1.2.3.4, 203.0.113.9"), &[proxy]),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(Some(proxy), Some("203.0.113.9, 10.0.0.2"), &[proxy]),
            Some(ip("203.0.113.9"))
        );
        // From the proxy with garbage: the proxy itself.
        assert_eq!(
            client_address(Some(proxy), Some("not an address"), &[proxy]),
            Some(proxy)
        );
        assert_eq!(client_address(Some(proxy), None, &[proxy]), Some(proxy));
    }

    #[test]
    fn ipv6_counts_by_its_64_prefix_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            counted(ip("2001:db8:1:2:aaaa::1")),
            counted(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            counted(ip("2001:db8:1:2::1")),
            counted(ip("2001:db8:1:3::1"))
        );
        assert_eq!(counted(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn a_window_refuses_the_hit_over_its_limit_and_says_how_long_to_wait() {
        let l = RateLimits::new(&settings()).unwrap();
        let k = Key::Address(ip("192.0.2.1"));
        for _ in 0..3 {
            assert_eq!(l.take(Class::Search, k, 3, true), None);
        }
        let wait = l
            .take(Class::Search, k, 3, true)
            .expect("the 4th is over the limit");
        assert!(
            wait <= Duration::from_secs(60) && wait > Duration::from_secs(55),
            "{wait:?}"
        );
        // Another key, another class: counted apart.
        assert_eq!(
            l.take(Class::Search, Key::Address(ip("192.0.2.2")), 3, true),
            None
        );
        assert_eq!(l.take(Class::Export, k, 3, true), None);
        // Looking without counting does not count.
        let other = Key::Account(7);
        for _ in 0..10 {
            assert_eq!(l.take(Class::SignIn, other, 1, false), None);
        }
    }

    #[test]
    fn the_limited_routes_are_the_sign_in_links_search_and_exports() {
        assert_eq!(class_of(&Method::POST, "/login"), Some(Class::SignIn));
        assert_eq!(class_of(&Method::GET, "/login"), None);
        assert_eq!(
            class_of(&Method::POST, "/api/v1/auth/login"),
            Some(Class::SignIn)
        );
        assert_eq!(
            class_of(&Method::POST, "/api/v1/auth/forgot"),
            Some(Class::SignInLink)
        );
        assert_eq!(
            class_of(&Method::GET, "/signin/abc"),
            Some(Class::SignInLink)
        );
        assert_eq!(
            class_of(&Method::POST, "/api/v1/search"),
            Some(Class::Search)
        );
        assert_eq!(
            class_of(&Method::GET, "/api/v1/statistics"),
            Some(Class::Export)
        );
        assert_eq!(
            class_of(&Method::POST, "/api/v1/exports/htcds"),
            Some(Class::Export)
        );
        assert_eq!(class_of(&Method::GET, "/cases"), None);
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mut s = settings();
        s.trusted_proxies = "10.0.0.1, proxy.example".into();
        let e = RateLimits::new(&s).err().unwrap().to_string();
        assert!(e.contains("limits.trusted_proxies"), "{e}");
        let mut s = settings();
        s.search_per_account = 0;
        let e = RateLimits::new(&s).err().unwrap().to_string();
        assert!(e.contains("limits.search_per_account"), "{e}");
    }
}
