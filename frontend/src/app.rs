//! The shell: the login form until there is a session, then the nav bar, the live indicator
//! and the screen of the URL.
//!
//! Screens are client routes (`/connections?address=…`): the server answers every such path
//! with the same page, so a reload or a shared link opens the same screen with the same
//! filter. No route starts with one of the API's prefixes (`/rest`, `/ws`, `/backup`, `/login`,
//! `/logout`, `/metrics`), which the server and `trunk serve` send to the API instead.
//!
//! Whether the browser still has a session cannot be read (the cookie is `HttpOnly`): the app
//! asks `GET /rest/system/identity` at start; a 401 there or anywhere later shows the login form.

use crate::api::{self, LoginInfo};
use crate::feed::{self, ConnState, Feed};
use crate::screens::backup::Backup;
use crate::screens::connections::Connections;
use crate::screens::flow::Flow;
use crate::screens::login::Login;
use crate::screens::rules::{RuleTable, Rules};
use crate::screens::settings::Settings;
use crate::screens::system::System;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;
use serde::Deserialize;

/// The screens in the nav bar: path, label.
pub const SCREENS: [(&str, &str); 7] = [
    ("/", "Flow"),
    ("/connections", "Connections"),
    ("/firewall", "Firewall"),
    ("/nat", "NAT"),
    ("/settings", "Settings"),
    ("/backups", "Backup"),
    ("/system", "System"),
];

/// Where the session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Asking the router at start.
    Checking,
    /// The login form, with why it is shown again (the session ended, the router is
    /// unreachable), if it is news.
    LoggedOut {
        notice: Option<String>,
    },
    LoggedIn(Session),
}

/// The logged-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who, when this page logged in (after a reload the router does not say).
    pub user: Option<LoginInfo>,
    /// `/system identity`.
    pub identity: String,
}

/// The session state, for screens that need to know who is logged in (`use_context`).
#[derive(Clone, Copy)]
pub struct AuthState(pub RwSignal<Auth>);

#[derive(Deserialize)]
struct Identity {
    name: String,
}

async fn identity() -> Result<String, api::ApiError> {
    api::get::<Identity>("/system/identity")
        .await
        .map(|i| i.name)
}

#[component]
pub fn App() -> impl IntoView {
    let auth = RwSignal::new(Auth::Checking);
    provide_context(AuthState(auth));
    api::on_unauthorized(move || {
        if matches!(auth.get_untracked(), Auth::LoggedIn(_)) {
            auth.set(Auth::LoggedOut {
                notice: Some("The session ended: log in again.".into()),
            });
        }
    });
    spawn_local(async move {
        auth.set(match identity().await {
            Ok(identity) => Auth::LoggedIn(Session {
                user: None,
                identity,
            }),
            Err(e) if e.is_unauthorized() => Auth::LoggedOut { notice: None },
            Err(e) => Auth::LoggedOut {
                notice: Some(e.to_string()),
            },
        });
    });
    let logged_in = Callback::new(move |user: LoginInfo| {
        spawn_local(async move {
            let identity = identity().await.unwrap_or_default();
            auth.set(Auth::LoggedIn(Session {
                user: Some(user),
                identity,
            }));
        });
    });
    view! {
        <Router>
            {move || match auth.get() {
                Auth::Checking => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Auth::LoggedOut { notice } => {
                    view! { <Login on_login=logged_in notice=notice /> }.into_any()
                }
                Auth::LoggedIn(session) => view! { <Shell session=session /> }.into_any(),
            }}
        </Router>
    }
}

/// Everything after login. Owns the feed: logging out unmounts it, which closes the socket.
#[component]
fn Shell(session: Session) -> impl IntoView {
    let feed = Feed::new(feed::page_url()).start();
    provide_context(feed);
    let AuthState(auth) = expect_context();
    let logout = move |_| {
        spawn_local(async move {
            // Shown logged out even if the router is unreachable; the cookie then ends by itself.
            let _ = api::logout().await;
            auth.set(Auth::LoggedOut { notice: None });
        });
    };
    let who = session
        .user
        .as_ref()
        .map(|u| format!("{} ({})", u.name, u.group));
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <span class="brand">
                "statewall" <span class="identity" data-testid="identity">{session.identity}</span>
            </span>
            <NavBar />
            <div class="session">
                <LiveIndicator state=feed.state_signal() />
                {who.map(|w| view! { <span class="who">{w}</span> })}
                <button type="button" class="logout" data-testid="logout" on:click=logout>
                    "Log out"
                </button>
            </div>
        </header>
        <main id="main" tabindex="-1">
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/") view=Flow />
                <Route path=path!("/connections") view=Connections />
                <Route path=path!("/firewall") view=|| view! { <Rules table=RuleTable::Filter /> } />
                <Route path=path!("/nat") view=|| view! { <Rules table=RuleTable::Nat /> } />
                <Route path=path!("/settings") view=Settings />
                <Route path=path!("/backups") view=Backup />
                <Route path=path!("/system") view=System />
            </Routes>
        </main>
    }
}

#[component]
fn NavBar() -> impl IntoView {
    view! {
        <nav aria-label="Screens">
            <ul>
                {SCREENS
                    .iter()
                    .map(|&(href, label)| {
                        view! {
                            <li>
                                <A href=href exact=true>
                                    {label}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// "live" while snapshots arrive, "reconnecting" while the feed is down.
#[component]
pub fn LiveIndicator(#[prop(into)] state: Signal<ConnState>) -> impl IntoView {
    let label = move || match state.get() {
        ConnState::Live => "live",
        ConnState::Connecting => "connecting…",
        ConnState::Reconnecting => "reconnecting…",
    };
    view! {
        <span
            class="live"
            class:up=move || state.get() == ConnState::Live
            class:down=move || state.get() == ConnState::Reconnecting
            role="status"
            data-testid="live-indicator"
            data-state=move || state.get().label()
        >
            <span class="dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Not found"</h1>
        <p>"There is no such screen. " <A href="/">"Back to the flow"</A></p>
    }
}
