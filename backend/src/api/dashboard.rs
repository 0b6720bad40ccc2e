//! The dashboard's files: `frontend/dist` (trunk's release build), embedded in the binary and
//! served at every path that is not the API's, without a login (the page must load to show its
//! login form; everything it then asks for is behind the login layer).
//!
//! - `index.html` answers `/` and every other path that names no file, so a client route
//!   (`/connections?sort=bytes`) survives a reload or a shared link. A path whose last segment
//!   looks like a file name (`/missing.js`) is a 404 instead: a stale page must not get HTML
//!   where it asked for a script.
//! - Trunk puts a content hash in each asset's name (`frontend-1a2b…_bg.wasm`), so those are
//!   cached for a year; `index.html` and unhashed files are revalidated each time (`ETag`).
//! - Without a build (`frontend/dist` missing when the binary was compiled) every page is a
//!   503 saying how to build it; the API works the same.
//!
//! Release builds carry the files; debug builds read them from `frontend/dist` at run time
//! (rust-embed), so `trunk build` is enough to see a change there. `build.rs` makes cargo
//! rebuild the embed when files are added to `dist`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

/// trunk's output.
#[derive(RustEmbed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Dist;

const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The answer when there is no build to serve.
const NOT_BUILT: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>statewall: dashboard not built</title></head>
<body>
<h1>The dashboard is not built</h1>
<p>This <code>statewall</code> was compiled without <code>frontend/dist</code>. The REST API
(<code>/rest</code>) and the live feed (<code>/ws</code>) work as usual.</p>
<p>To build the dashboard: <code>bash scripts/install-deps.sh</code> (once, for trunk and its
tools), then <code>cd frontend &amp;&amp; trunk build --release</code>, then build statewall again
(<code>cargo build --release -p backend</code>). See the README.</p>
</body></html>
";

/// The fallback of [`super::app`]: any path outside the API.
pub(super) async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    serve_from::<Dist>(&method, uri.path(), &headers)
}

/// `path` of `E` (a test gives its own files).
fn serve_from<E: RustEmbed>(method: &Method, path: &str, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("GET, HEAD"))],
        )
            .into_response();
    }
    let name = path.trim_start_matches('/');
    let (name, file) = match (name, E::get(name)) {
        ("", _) | (_, None) if !looks_like_a_file(name) => (INDEX, E::get(INDEX)),
        (_, file) => (name, file),
    };
    match file {
        Some(file) => answer(method, name, file, headers),
        None if E::get(INDEX).is_none() => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            NOT_BUILT,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A last segment with an extension (`app.js`), not a client route (`connections`).
fn looks_like_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// Whether trunk put a content hash in the name: a run of 16 hex digits after a `-`.
fn hashed(name: &str) -> bool {
    name.split(['-', '.', '_'])
        .any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn answer(method: &Method, name: &str, file: EmbeddedFile, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if name != INDEX && hashed(name) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let len = file.data.len();
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(file.data)
        };
        let mut r = Response::new(body);
        if let Ok(v) = HeaderValue::from_str(file.metadata.mimetype()) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The router's admin page is never framed by another site (clickjacking).
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dashboard build in miniature.
    #[derive(RustEmbed)]
    #[folder = "fixtures/dashboard"]
    struct Fixture;

    /// No build at all.
    #[derive(RustEmbed)]
    #[folder = "fixtures/dashboard-missing"]
    #[allow_missing = true]
    struct Missing;

    fn get<E: RustEmbed>(path: &str) -> Response {
        serve_from::<E>(&Method::GET, path, &HeaderMap::new())
    }

    fn header_of(r: &Response, name: header::HeaderName) -> &str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    async fn text(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn client_routes_get_the_index_and_files_their_type() {
        for path in ["/", "/connections", "/firewall/rules", "/a/b/c"] {
            let r = get::<Fixture>(path);
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&r, header::CONTENT_TYPE), "text/html", "{path}");
            assert_eq!(header_of(&r, header::CACHE_CONTROL), REVALIDATE);
            assert!(text(r).await.contains("fixture index"));
        }
        let wasm = get::<Fixture>("/frontend-0123456789abcdef_bg.wasm");
        assert_eq!(wasm.status(), StatusCode::OK);
        assert_eq!(header_of(&wasm, header::CONTENT_TYPE), "application/wasm");
        assert_eq!(header_of(&wasm, header::CACHE_CONTROL), IMMUTABLE);
        let js = get::<Fixture>("/frontend-0123456789abcdef.js");
        assert_eq!(header_of(&js, header::CONTENT_TYPE), "text/javascript");
        assert_eq!(header_of(&js, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        let css = get::<Fixture>("/style.css");
        assert_eq!(header_of(&css, header::CONTENT_TYPE), "text/css");
        assert_eq!(header_of(&css, header::CACHE_CONTROL), REVALIDATE);
        // A file that is not there is not the index.
        assert_eq!(get::<Fixture>("/gone.js").status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn etags_revalidate_and_head_has_no_body() {
        let r = get::<Fixture>("/");
        let etag = header_of(&r, header::ETAG).to_string();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag.parse().unwrap());
        let again = serve_from::<Fixture>(&Method::GET, "/", &h);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(text(again).await, "");
        let head = serve_from::<Fixture>(&Method::HEAD, "/style.css", &HeaderMap::new());
        assert_eq!(head.status(), StatusCode::OK);
        assert_ne!(header_of(&head, header::CONTENT_LENGTH), "0");
        assert_eq!(text(head).await, "");
        let post = serve_from::<Fixture>(&Method::POST, "/", &HeaderMap::new());
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn without_a_build_every_page_says_how_to_make_one() {
        for path in ["/", "/connections", "/app.js"] {
            let r = get::<Missing>(path);
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(text(r).await.contains("trunk build --release"));
        }
    }

    #[test]
    fn trunk_hashes_are_recognised() {
        assert!(hashed("frontend-0123456789abcdef_bg.wasm"));
        assert!(hashed("style-89abcdef01234567.css"));
        assert!(!hashed("style.css"));
        assert!(!hashed("favicon.ico"));
    }
}
