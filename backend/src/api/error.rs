//! The one error shape of the REST API, RouterOS's: `{"detail":"…","error":400,"message":"Bad
//! Request"}` (`detail` left out when there is nothing to add, as RouterOS does for 404).
//!
//! Details say what the client did wrong, naming the argument. Internal failures (a file that
//! cannot be written, a dataplane that does not answer) are logged in full and answered with a
//! bare 500: their text is for the operator, not the client.

use crate::command::CommandError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::config::edit::EditError;

/// An answer other than success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, detail: Option<String>) -> Self {
        ApiError { status, detail }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(detail.into()))
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, None)
    }

    /// Missing or wrong credentials; the response asks for Basic auth.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None)
    }

    /// A `read` user asking to change something.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, Some(detail.into()))
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("the body must be JSON, sent with Content-Type: application/json".into()),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(format!("the body is larger than {limit} bytes")),
        )
    }

    /// `no such command or directory (word)`, RouterOS's answer to an unknown path.
    pub fn no_such_directory(word: &str) -> Self {
        Self::bad_request(format!("no such command or directory ({word})"))
    }

    /// `no such command (word)`: the menu exists but does not take that command or method.
    pub fn no_such_command(word: &str) -> Self {
        Self::bad_request(format!("no such command ({word})"))
    }

    /// A failure of the server: `what` is logged, the client sees only a 500.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!("{what}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None)
    }
}

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::NoSuchItem(_) => ApiError::not_found(),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

/// A command's error as REST answers it: its text as the detail; 403 for permissions, 500 for
/// the router's own failures (already logged), 400 for the rest.
impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Edit(e) => e.into(),
            CommandError::NotPermitted { .. } => ApiError::forbidden(e.to_string()),
            CommandError::Internal => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        body.insert("error".into(), self.status.as_u16().into());
        body.insert(
            "message".into(),
            self.status.canonical_reason().unwrap_or("Error").into(),
        );
        if let Some(d) = self.detail {
            body.insert("detail".into(), d.into());
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"statewall\""),
            );
        }
        response
    }
}
