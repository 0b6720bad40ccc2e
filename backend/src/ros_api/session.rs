//! One API connection: sentences in, replies out.
//!
//! The reader (this task) decodes sentences and runs them in order; a writer task owns the
//! stream's write half and sends what every command queues for it. A command with a `.tag`
//! runs in its own task (so `listen` can go on while other commands run, and `/cancel` can stop
//! it); one without a tag runs before the next sentence is read, so untagged replies keep their
//! order.
//!
//! - Before login only `/login` (`=name=`, `=password=`, RouterOS 6.43+) and `/quit` are
//!   taken; failed logins are throttled per address like the web's ([`crate::api::login`]).
//!   The pre-6.43 challenge (`/login` alone, then `=response=`) needs the password in clear on
//!   the router, which statewall never keeps, so it is refused with a message saying what to
//!   use instead.
//! - A malformed frame (a reserved length byte, a word or sentence over the limits) ends the
//!   connection with `!fatal`: after one there is no telling where the next word starts.
//! - A connection not logged in within [`Options::login_timeout`] of connecting, or logged in
//!   and silent for [`Options::idle_timeout`] with no command running, gets `!fatal` and is
//!   closed.

use super::sentence::{self, Request};
use super::server::Options;
use super::wire;
use crate::api::AppState;
use crate::command::{self, Command, CommandError, Row};
use crate::users::Login;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

/// Bytes a sentence may take before login.
const LOGIN_SENTENCE: usize = 4096;
/// What RouterOS answers a wrong name or password.
const BAD_LOGIN: &str = "invalid user name or password (6)";
const CHALLENGE_REFUSED: &str = "the pre-6.43 challenge login is not supported: log in with \
                                 =name= and =password= (routeros_api: plaintext_login=True)";

/// What the writer is told.
enum Out {
    Sentence(Vec<u8>),
    /// Everything before it is written; then the stream is shut.
    Close,
}

/// Where one command's replies go: the writer, with the command's tag on each sentence.
#[derive(Clone)]
struct Replier {
    tx: mpsc::Sender<Out>,
    tag: Option<String>,
}

impl Replier {
    /// Queues a sentence; false once the connection is gone.
    async fn send(&self, words: Vec<Vec<u8>>) -> bool {
        let mut bytes = Vec::new();
        wire::encode_sentence(&words, &mut bytes);
        self.tx.send(Out::Sentence(bytes)).await.is_ok()
    }

    async fn re(&self, row: &Row) -> bool {
        self.send(sentence::re(row, self.tag.as_deref())).await
    }

    async fn done(&self, ret: Option<&str>) -> bool {
        self.send(sentence::done(ret, self.tag.as_deref())).await
    }

    /// The error's traps, then `!done`.
    async fn error(&self, err: &CommandError) -> bool {
        for trap in sentence::traps(err, self.tag.as_deref()) {
            if !self.send(trap).await {
                return false;
            }
        }
        self.done(None).await
    }

    async fn trap_message(&self, message: &str) -> bool {
        self.send(sentence::trap_message(message, self.tag.as_deref()))
            .await
            && self.done(None).await
    }
}

/// A tagged command in its own task.
struct Running {
    cancel: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<()>,
}

struct Session {
    st: AppState,
    options: Arc<Options>,
    client: SocketAddr,
    tx: mpsc::Sender<Out>,
    login: Option<Login>,
    running: HashMap<String, Running>,
}

/// Serves one connection until it closes, fails, times out or quits.
pub(super) async fn run<S>(stream: S, client: SocketAddr, st: AppState, options: Arc<Options>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, writer) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(64);
    let writing = tokio::spawn(write(writer, rx));
    let mut session = Session {
        st,
        options,
        client,
        tx,
        login: None,
        running: HashMap::new(),
    };
    let span = tracing::info_span!("api", %client);
    session.read(&mut reader).instrument(span).await;
    for (_, r) in session.running.drain() {
        r.handle.abort();
    }
    drop(session);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), writing).await;
}

/// Writes what is queued, flushing whenever the queue runs dry.
async fn write<W: AsyncWrite + Unpin>(mut w: W, mut rx: mpsc::Receiver<Out>) {
    while let Some(out) = rx.recv().await {
        match out {
            Out::Sentence(bytes) => {
                if w.write_all(&bytes).await.is_err() {
                    return;
                }
                if rx.is_empty() && w.flush().await.is_err() {
                    return;
                }
            }
            Out::Close => break,
        }
    }
    let _ = w.flush().await;
    let _ = w.shutdown().await;
}

impl Session {
    fn replier(&self, tag: Option<String>) -> Replier {
        Replier {
            tx: self.tx.clone(),
            tag,
        }
    }

    /// `!fatal REASON`, then the connection closes.
    async fn fatal(&self, reason: &str) {
        tracing::debug!(reason, "API: closing the connection");
        let _ = self.replier(None).send(sentence::fatal(reason)).await;
        let _ = self.tx.send(Out::Close).await;
    }

    /// Forgets the tagged commands that have finished.
    fn reap(&mut self) {
        self.running.retain(|_, r| !r.handle.is_finished());
    }

    async fn read<R: AsyncRead + Unpin>(&mut self, reader: &mut R) {
        let started = Instant::now();
        let mut last = started;
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = vec![0u8; 8192];
        loop {
            let (limits, cap) = match self.login {
                Some(_) => (self.options.limits, self.options.max_sentence),
                None => (self.options.login_limits, LOGIN_SENTENCE),
            };
            match wire::decode_sentence(&buf, &limits) {
                Err(e) => return self.fatal(&format!("malformed sentence: {e}")).await,
                Ok(Some((words, used))) => {
                    buf.drain(..used);
                    last = Instant::now();
                    if !words.is_empty() && !self.sentence(&words).await {
                        return;
                    }
                    continue;
                }
                Ok(None) if buf.len() > cap => {
                    return self
                        .fatal(&format!("malformed sentence: longer than {cap} bytes"))
                        .await
                }
                Ok(None) => {}
            }
            let deadline = match self.login {
                None => started + self.options.login_timeout,
                Some(_) => last + self.options.idle_timeout,
            };
            let n = match tokio::time::timeout_at(deadline, reader.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => n,
                Err(_) if self.login.is_none() => {
                    return self.fatal("not logged in within the login timeout").await
                }
                Err(_) => {
                    self.reap();
                    if self.running.is_empty() {
                        return self.fatal("session timed out").await;
                    }
                    // A command (a `listen`) is still running: the session is in use.
                    last = Instant::now();
                    continue;
                }
            };
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Runs one sentence; false when the connection is to close.
    async fn sentence(&mut self, words: &[Vec<u8>]) -> bool {
        let req = match Request::parse(words) {
            Ok(r) => r,
            Err(e) => return self.replier(None).error(&e).await,
        };
        tracing::debug!(command = %req.command, tag = req.tag.as_deref(), "API: sentence");
        let reply = self.replier(req.tag.clone());
        match req.command.as_str() {
            "/quit" => {
                self.fatal("session terminated on request").await;
                false
            }
            "/login" => self.log_in(&req, reply).await,
            _ if self.login.is_none() => reply.trap_message("not logged in").await,
            "/cancel" => self.cancel(&req, reply).await,
            _ => self.command(&req, reply).await,
        }
    }

    async fn log_in(&mut self, req: &Request, reply: Replier) -> bool {
        let (Some(name), Some(password)) = (req.attr("name"), req.attr("password")) else {
            return reply.trap_message(CHALLENGE_REFUSED).await;
        };
        match crate::api::login(&self.st, self.client.ip(), name, password).await {
            Ok(login) => {
                tracing::info!(user = %login.user, group = login.group.as_str(), "API: logged in");
                self.login = Some(login);
                reply.done(None).await
            }
            Err(_) => reply.trap_message(BAD_LOGIN).await,
        }
    }

    /// `/cancel =tag=X` stops that command (it answers `interrupted`); `/cancel` alone stops
    /// every running one. Then `!done`.
    async fn cancel(&mut self, req: &Request, reply: Replier) -> bool {
        self.reap();
        let stopped: Vec<Running> = match req.attr("tag") {
            Some(tag) => match self.running.remove(tag) {
                Some(r) => vec![r],
                None => {
                    let e = CommandError::Invalid(format!("no command with tag {tag} is running"));
                    return reply.error(&e).await;
                }
            },
            None => self.running.drain().map(|(_, r)| r).collect(),
        };
        for r in stopped {
            let _ = r.cancel.send(());
            let _ = r.handle.await;
        }
        reply.done(None).await
    }

    async fn command(&mut self, req: &Request, reply: Replier) -> bool {
        let cmd = match req.to_command() {
            Ok(c) => c,
            Err(e) => return reply.error(&e).await,
        };
        let Some(login) = self.login.clone() else {
            return reply.trap_message("not logged in").await;
        };
        let work = run_command(
            self.st.clone(),
            login,
            cmd,
            reply.clone(),
            self.options.listen_interval,
        );
        let Some(tag) = reply.tag.clone() else {
            work.await;
            return true;
        };
        self.reap();
        if self.running.contains_key(&tag) {
            let e = CommandError::Invalid(format!("a command with tag {tag} is running"));
            return reply.error(&e).await;
        }
        if self.running.len() >= self.options.max_running {
            let e = CommandError::Invalid(format!(
                "too many commands running (at most {})",
                self.options.max_running
            ));
            return reply.error(&e).await;
        }
        let (cancel, cancelled) = oneshot::channel::<()>();
        let span = tracing::Span::current();
        let handle = tokio::spawn(
            async move {
                tokio::select! {
                    _ = work => {}
                    _ = cancelled => {
                        reply.error(&CommandError::Interrupted).await;
                    }
                }
            }
            .instrument(span),
        );
        self.running.insert(tag, Running { cancel, handle });
        true
    }
}

/// Runs a command and sends its replies: rows as `!re`, then `!done` (with `ret`), or the
/// error's traps and `!done`. `listen` goes on until cancelled.
async fn run_command(
    st: AppState,
    login: Login,
    cmd: Command,
    reply: Replier,
    interval: std::time::Duration,
) {
    if cmd.verb == "listen" {
        return listen(st, login, cmd, reply, interval).await;
    }
    match st
        .blocking(move |st| command::execute(&st, &login, cmd))
        .await
    {
        Ok(Ok(r)) => {
            for row in &r.rows {
                if !reply.re(row).await {
                    return;
                }
            }
            reply.done(r.ret.as_deref()).await;
        }
        Ok(Err(e)) => {
            reply.error(&e).await;
        }
        Err(_) => {
            reply.error(&CommandError::Internal).await;
        }
    }
}

/// Whether two printings of an item differ in more than the countdown of its `timeout` (which
/// changes every second and is not a change of the item).
fn changed(before: &Row, now: &Row) -> bool {
    let fields = |r: &Row| -> Vec<(String, String)> {
        r.0.iter()
            .filter(|(k, _)| k != "timeout")
            .cloned()
            .collect()
    };
    fields(before) != fields(now)
}

/// `listen`: prints the menu every `interval` and sends what changed since the one before (the
/// first printing is the baseline): new and changed items as `!re`, removed ones as `!re
/// =.id=… =.dead=yes`. Until cancelled, or the connection goes.
async fn listen(
    st: AppState,
    login: Login,
    cmd: Command,
    reply: Replier,
    interval: std::time::Duration,
) {
    let print = match command::listen_print(&cmd) {
        Ok(p) => p,
        Err(e) => {
            reply.error(&e).await;
            return;
        }
    };
    let mut known: Option<HashMap<String, Row>> = None;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (p, l) = (print.clone(), login.clone());
        let rows = match st.blocking(move |st| command::execute(&st, &l, p)).await {
            Ok(Ok(r)) => r.rows,
            Ok(Err(e)) => {
                reply.error(&e).await;
                return;
            }
            Err(_) => {
                reply.error(&CommandError::Internal).await;
                return;
            }
        };
        let mut now = HashMap::with_capacity(rows.len());
        if let Some(before) = &known {
            for row in &rows {
                let Some(id) = row.get(".id") else { continue };
                if before.get(id).is_none_or(|old| changed(old, row)) && !reply.re(row).await {
                    return;
                }
            }
            let ids: std::collections::HashSet<&str> =
                rows.iter().filter_map(|r| r.get(".id")).collect();
            let mut gone: Vec<(u32, &str)> = before
                .keys()
                .filter(|id| !ids.contains(id.as_str()))
                .map(|id| (shared::connection::parse_id(id).unwrap_or(0), id.as_str()))
                .collect();
            gone.sort_unstable();
            for (_, id) in gone {
                let dead = Row(vec![
                    (".id".into(), id.to_string()),
                    (".dead".into(), "yes".into()),
                ]);
                if !reply.re(&dead).await {
                    return;
                }
            }
        }
        for row in rows {
            if let Some(id) = row.get(".id").map(str::to_string) {
                now.insert(id, row);
            }
        }
        known = Some(now);
    }
}
