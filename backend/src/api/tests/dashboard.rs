//! The dashboard beside the API: its page loads without a login, the API still needs one.
//! (Serving itself — types, caching, a missing build — is tested on fixtures in
//! `api/dashboard.rs`; here the real `frontend/dist` is used if it was built, and its absence is
//! the 503 page if not.)

use super::support::{request, server, Server, ADMIN};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use tower::ServiceExt;

/// Status, content type and body of a request without credentials.
async fn fetch(s: &Server, path: &str) -> (StatusCode, String, String) {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    let res = s.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, kind, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_page_loads_without_a_login() {
    let s = server();
    let (status, kind, page) = fetch(&s, "/").await;
    assert!(kind.starts_with("text/html"), "{kind}");
    match status {
        StatusCode::OK => {
            // trunk's index: it names the wasm, which is served as wasm.
            let end = page.find("_bg.wasm").expect("the index names the wasm");
            let start = page[..end].rfind('/').expect("an absolute path");
            let wasm = &page[start..end + "_bg.wasm".len()];
            let (status, kind, _) = fetch(&s, wasm).await;
            assert_eq!(
                (status, kind.as_str()),
                (StatusCode::OK, "application/wasm")
            );
        }
        // Not built: the page says how to build it.
        StatusCode::SERVICE_UNAVAILABLE => assert!(page.contains("trunk build"), "{page}"),
        other => panic!("/ answered {other}: {page}"),
    }
    // A client route reloads as the same page.
    let (again, _, route_page) = fetch(&s, "/connections").await;
    assert_eq!((again, route_page), (status, page));
}

#[tokio::test]
async fn the_api_still_needs_a_login() {
    let s = server();
    for path in [
        "/rest",
        "/rest/ip/firewall/filter",
        "/rest/nothing",
        "/ws",
        "/metrics",
    ] {
        let a = s.send(request(None, Method::GET, path, None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.json["error"], 401, "{path}");
    }
    for path in ["/backup", "/backup/nothing", "/ws/x", "/metrics/x"] {
        let a = s.send(request(None, Method::GET, path, None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        let a = s.send(request(Some(ADMIN), Method::GET, path, None)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.json["error"], 404, "{path}");
    }
    // A method the dashboard does not serve.
    let a = s
        .send(request(None, Method::POST, "/connections", None))
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
}
