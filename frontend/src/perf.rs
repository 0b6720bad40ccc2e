//! The dashboard timing itself, for the benchmark (`scripts/bench-dashboard.sh`): how long a
//! feed message takes to reach the screen.
//!
//! Off unless the page was opened with `perf` in its query string (`/connections?perf=1`); then
//! each snapshot leaves three User Timing measures, read back with
//! `performance.getEntriesByName(…)`:
//! - [`DECODE`]: the message's arrival to its snapshot in the signals (decoding);
//! - [`TO_FRAME`]: arrival to the next animation frame, when every reactive update of the DOM
//!   has run (Leptos applies them in microtasks, before the frame);
//! - [`TO_PAINT`]: arrival to a task queued from that frame, i.e. after its style, layout and
//!   paint.
//!
//! Off, it costs one flag read per message.

use std::cell::Cell;
use web_sys::Performance;

pub const DECODE: &str = "statewall:feed-decode";
pub const TO_FRAME: &str = "statewall:feed-to-frame";
pub const TO_PAINT: &str = "statewall:feed-to-paint";
/// The mark each measure starts from.
const ARRIVED: &str = "statewall:feed-in";

thread_local! {
    static ENABLED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Whether the page asked for timing (read once, from the URL it was opened with).
pub fn enabled() -> bool {
    ENABLED.with(|e| {
        if let Some(on) = e.get() {
            return on;
        }
        let on = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .is_some_and(|q| {
                q.trim_start_matches('?')
                    .split('&')
                    .any(|kv| kv == "perf" || kv.starts_with("perf="))
            });
        e.set(Some(on));
        on
    })
}

fn performance() -> Option<Performance> {
    enabled()
        .then(|| web_sys::window()?.performance())
        .flatten()
}

/// A feed message came in (before it is decoded).
pub fn feed_message_arrived() {
    if let Some(p) = performance() {
        let _ = p.mark(ARRIVED);
    }
}

/// Its snapshot is in the signals: measure decoding now, the DOM at the next frame, and the
/// paint after it.
pub fn feed_message_applied() {
    let Some(p) = performance() else { return };
    let _ = p.measure_with_start_mark(DECODE, ARRIVED);
    leptos::prelude::request_animation_frame(move || {
        let _ = p.measure_with_start_mark(TO_FRAME, ARRIVED);
        leptos::prelude::set_timeout(
            move || {
                let _ = p.measure_with_start_mark(TO_PAINT, ARRIVED);
            },
            std::time::Duration::ZERO,
        );
    });
}
