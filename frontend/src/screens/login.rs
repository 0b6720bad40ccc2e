//! Login: `POST /login` with a name and password; the router answers with a session cookie.
//!
//! The router answers a wrong name or password with a bare 401, and after repeated failures
//! from one address (5 within a minute) it waits before checking each further attempt: 1 s,
//! doubling up to 30 s (`backend/src/api/auth.rs`). It says nothing more, so a 401 that took
//! that long is read as throttled, and the form says so; while an attempt is slow the form says
//! why it waits.

use crate::api::{self, ApiError, LoginInfo};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

/// A failed login that took this long was delayed by the router's throttling (its first delay
/// is 1 s; a check itself takes tens of milliseconds).
pub const THROTTLED_AFTER_MS: f64 = 900.0;

/// What to tell the user about a failed login that took `elapsed_ms`.
pub fn failure_message(e: &ApiError, elapsed_ms: f64) -> String {
    match e {
        e if e.is_unauthorized() && elapsed_ms >= THROTTLED_AFTER_MS => {
            "Wrong name or password. After repeated failures the router waits before checking \
             each attempt from this address (up to 30 s): wait a minute, then try again."
                .into()
        }
        e if e.is_unauthorized() => "Wrong name or password.".into(),
        ApiError::Router(r) if r.detail.is_some() => e.to_string(),
        ApiError::Network(_) => format!("Cannot reach the router: {e}."),
        _ => format!("The login failed: {e}."),
    }
}

/// The form itself: what it shows comes in, what is typed goes out.
#[component]
pub fn LoginForm(
    /// The last failure, shown as an alert.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// An attempt is under way.
    #[prop(into)]
    busy: Signal<bool>,
    /// Name and password, on submit.
    on_submit: Callback<(String, String)>,
    /// Something to say that is not an error (why the form is back, why it waits).
    #[prop(optional, into)]
    note: MaybeProp<String>,
) -> impl IntoView {
    let name = RwSignal::new("admin".to_string());
    let password = RwSignal::new(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !busy.get_untracked() {
            on_submit.run((name.get_untracked(), password.get_untracked()));
        }
    };
    view! {
        <form class="login" on:submit=submit data-testid="login-form">
            <h1>"statewall"</h1>
            <label for="login-name">"Name"</label>
            <input
                id="login-name"
                name="name"
                autocomplete="username"
                required
                bind:value=name
            />
            <label for="login-password">"Password"</label>
            <input
                id="login-password"
                name="password"
                type="password"
                autocomplete="current-password"
                autofocus
                bind:value=password
            />
            <button type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Logging in…" } else { "Log in" }}
            </button>
            <p class="note" role="status" data-testid="login-note">
                {move || note.get()}
            </p>
            <p class="error" role="alert" data-testid="login-error">
                {move || error.get()}
            </p>
        </form>
    }
}

/// The login screen: the form, wired to `POST /login`.
#[component]
pub fn Login(
    /// Called with who logged in.
    on_login: Callback<LoginInfo>,
    /// Why the form is shown (the session ended, the router is unreachable), if it is news.
    notice: Option<String>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let note = RwSignal::new(notice);
    let submit = Callback::new(move |(name, password): (String, String)| {
        busy.set(true);
        error.set(None);
        note.set(None);
        let slow = set_timeout_with_handle(
            move || {
                if busy.get_untracked() {
                    note.set(Some(
                        "Still checking: the router delays logins after repeated failures.".into(),
                    ));
                }
            },
            Duration::from_millis(THROTTLED_AFTER_MS as u64),
        )
        .ok();
        let started = js_sys::Date::now();
        spawn_local(async move {
            let result = api::login(&name, &password).await;
            if let Some(t) = slow {
                t.clear();
            }
            busy.set(false);
            note.set(None);
            match result {
                Ok(info) => on_login.run(info),
                Err(e) => error.set(Some(failure_message(&e, js_sys::Date::now() - started))),
            }
        });
    });
    view! {
        <div class="login-screen">
            <LoginForm error=error busy=busy on_submit=submit note=note />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RosError;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn failures_are_told_apart() {
        let wrong = ApiError::Router(RosError {
            error: 401,
            message: "Unauthorized".into(),
            detail: None,
        });
        assert_eq!(failure_message(&wrong, 40.0), "Wrong name or password.");
        assert!(failure_message(&wrong, 2_000.0).contains("waits before checking"));
        let bad = ApiError::Router(RosError {
            error: 400,
            message: "Bad Request".into(),
            detail: Some("missing =password=".into()),
        });
        assert_eq!(
            failure_message(&bad, 10.0),
            "Bad Request: missing =password="
        );
        let down = ApiError::Network("Failed to fetch".into());
        assert!(failure_message(&down, 10.0).starts_with("Cannot reach the router"));
    }
}
