//! The connection table, windowed: whatever the number of matching entries, the DOM holds a
//! fixed pool of rows (one screenful and a row), and the scroll height is made by two spacer
//! rows (`matching × ROW_H` in all). Scrolling moves the pool and changes the text of its cells;
//! it never creates or removes rows. The rows come from the feed's window, which the screen
//! moves after the scroll position (debounced); rows not yet received show as "…".
//!
//! Columns are RouterOS's fields; a NAT'd address reads "translated (original)". The server
//! sorts: a header sets `sort`/`desc` in the URL.

use super::query::{answers, TableQuery};
use crate::format;
use leptos::html;
use leptos::prelude::*;
use shared::connection::ConnectionEntry;
use shared::feed::{SortColumn, Window};
use std::sync::Arc;

/// Every row's height, in CSS pixels (the rows' style says the same).
pub const ROW_H: f64 = 28.0;
/// The most rows the pool holds, whatever the viewport's height.
pub const MAX_POOL: usize = 60;
/// The tallest scroll height used; beyond it the scroll position maps onto rows by proportion
/// (browsers cap element heights at a few million pixels).
pub const MAX_SCROLL_PX: f64 = 8_000_000.0;

/// Which rows are in view: the index of the first, and how many the pool shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    pub first: u64,
    pub rows: usize,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport { first: 0, rows: 20 }
    }
}

/// The scroll geometry for `matching` rows in a viewport `view_px` high.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub matching: u64,
    pub view_px: f64,
}

impl Geometry {
    fn real_px(&self) -> f64 {
        self.matching as f64 * ROW_H
    }

    /// The height of all rows together, as scrolled.
    pub fn total_px(&self) -> f64 {
        self.real_px().min(MAX_SCROLL_PX)
    }

    fn scaled(&self) -> bool {
        self.real_px() > MAX_SCROLL_PX
    }

    /// The first row in view at a scroll position.
    pub fn first_row(&self, scroll_top: f64) -> u64 {
        let row = if self.scaled() {
            let range = (MAX_SCROLL_PX - self.view_px).max(1.0);
            let rows = (self.real_px() - self.view_px).max(0.0) / ROW_H;
            (scroll_top / range).clamp(0.0, 1.0) * rows
        } else {
            scroll_top / ROW_H
        };
        (row.max(0.0) as u64).min(self.matching.saturating_sub(1))
    }

    /// Where a row is scrolled to, to show it first.
    pub fn scroll_for(&self, row: u64) -> f64 {
        if self.scaled() {
            let rows = ((self.real_px() - self.view_px) / ROW_H).max(1.0);
            row as f64 / rows * (MAX_SCROLL_PX - self.view_px)
        } else {
            row as f64 * ROW_H
        }
    }

    /// The top spacer's height when `first` is the first row (at `scroll_top`).
    pub fn top_px(&self, first: u64, scroll_top: f64) -> f64 {
        if self.scaled() {
            (scroll_top - scroll_top % ROW_H).max(0.0)
        } else {
            first as f64 * ROW_H
        }
    }
}

/// A table cell's text, with a class when it says something special (a translation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub nat: bool,
}

/// One entry, formatted once per snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCells {
    pub id: String,
    pub cells: [Cell; COLUMNS.len() - 1],
    pub flags_title: String,
}

/// The RouterOS flags an entry has, as `print` writes them, with their words.
fn flags(e: &ConnectionEntry) -> (String, String) {
    let all = [
        (e.expected, 'E', "expected"),
        (e.seen_reply, 'S', "seen-reply"),
        (e.assured, 'A', "assured"),
        (e.confirmed, 'C', "confirmed"),
        (e.dying, 'D', "dying"),
        (e.fasttrack, 'F', "fasttrack"),
        (e.srcnat, 's', "srcnat"),
        (e.dstnat, 'd', "dstnat"),
    ];
    let on: Vec<_> = all.iter().filter(|(set, _, _)| *set).collect();
    (
        on.iter().map(|(_, c, _)| *c).collect(),
        on.iter().map(|(_, _, w)| *w).collect::<Vec<_>>().join(", "),
    )
}

/// A reply address: "translated (original)" when NAT changed it (it is not the original
/// direction's address it mirrors), else as it is.
fn reply_cell(reply: &str, mirrored: &str) -> Cell {
    if reply == mirrored {
        Cell {
            text: reply.to_string(),
            nat: false,
        }
    } else {
        Cell {
            text: format!("{reply} ({mirrored})"),
            nat: true,
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell {
        text: s.into(),
        nat: false,
    }
}

/// Bits per second (entries carry rates in bits).
fn bit_rate(bits: u64) -> String {
    format::bits_per_second(bits as f64 / 8.0)
}

impl RowCells {
    pub fn of(e: &ConnectionEntry) -> RowCells {
        let (letters, words) = flags(e);
        let state = match (&e.tcp_state, e.icmp_type) {
            (Some(s), _) => s.clone(),
            (None, Some(t)) => format!("type {t} code {}", e.icmp_code.unwrap_or(0)),
            _ => String::new(),
        };
        let left = shared::duration::Duration::from_secs(e.timeout.to_std().as_secs());
        RowCells {
            id: e.id.clone(),
            cells: [
                text(e.protocol.clone()),
                text(e.src_address.clone()),
                text(e.dst_address.clone()),
                reply_cell(&e.reply_src_address, &e.dst_address),
                reply_cell(&e.reply_dst_address, &e.src_address),
                text(state),
                text(left.to_string()),
                text(format!(
                    "{} / {}",
                    format::bytes(e.orig_bytes),
                    format::count(e.orig_packets)
                )),
                text(format!(
                    "{} / {}",
                    format::bytes(e.repl_bytes),
                    format::count(e.repl_packets)
                )),
                text(bit_rate(e.orig_rate)),
                text(bit_rate(e.repl_rate)),
                text(letters),
            ],
            flags_title: words,
        }
    }
}

/// A column: its heading, the orders its header offers, its width.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    /// The sort buttons: column and the word on the button (empty: the heading itself).
    pub sorts: &'static [(SortColumn, &'static str)],
    pub width: &'static str,
    pub numeric: bool,
}

const fn col(
    key: &'static str,
    label: &'static str,
    sorts: &'static [(SortColumn, &'static str)],
    width: &'static str,
    numeric: bool,
) -> Column {
    Column {
        key,
        label,
        sorts,
        width,
        numeric,
    }
}

/// The columns, the last being the row's actions.
pub const COLUMNS: [Column; 13] = [
    col(
        "protocol",
        "Proto",
        &[(SortColumn::Protocol, "")],
        "3.4em",
        false,
    ),
    col(
        "src",
        "Source",
        &[(SortColumn::SrcAddress, "")],
        "10em",
        false,
    ),
    col(
        "dst",
        "Destination",
        &[(SortColumn::DstAddress, "")],
        "10em",
        false,
    ),
    col(
        "reply-src",
        "Reply source",
        &[(SortColumn::ReplySrcAddress, "")],
        "11.5em",
        false,
    ),
    col(
        "reply-dst",
        "Reply destination",
        &[(SortColumn::ReplyDstAddress, "")],
        "11.5em",
        false,
    ),
    col(
        "state",
        "TCP state",
        &[(SortColumn::TcpState, "")],
        "6.5em",
        false,
    ),
    col(
        "timeout",
        "Time left",
        &[(SortColumn::Timeout, "")],
        "5em",
        true,
    ),
    col(
        "orig",
        "Original",
        &[
            (SortColumn::OrigBytes, "bytes"),
            (SortColumn::OrigPackets, "pkts"),
        ],
        "7.5em",
        true,
    ),
    col(
        "reply",
        "Reply",
        &[
            (SortColumn::ReplBytes, "bytes"),
            (SortColumn::ReplPackets, "pkts"),
        ],
        "7.5em",
        true,
    ),
    col(
        "orig-rate",
        "Orig rate",
        &[(SortColumn::OrigRate, "")],
        "6em",
        true,
    ),
    col(
        "reply-rate",
        "Reply rate",
        &[(SortColumn::ReplRate, "")],
        "6em",
        true,
    ),
    col("flags", "Flags", &[], "3.4em", false),
    col("actions", "", &[], "2.4em", false),
];

/// Every order the feed offers, for the "sort by" list: the columns' and the totals.
pub const SORTS: [(SortColumn, &str); 17] = [
    (SortColumn::Id, "creation (.id)"),
    (SortColumn::Protocol, "protocol"),
    (SortColumn::SrcAddress, "source"),
    (SortColumn::DstAddress, "destination"),
    (SortColumn::ReplySrcAddress, "reply source"),
    (SortColumn::ReplyDstAddress, "reply destination"),
    (SortColumn::TcpState, "TCP state"),
    (SortColumn::Timeout, "time left"),
    (SortColumn::OrigBytes, "original bytes"),
    (SortColumn::OrigPackets, "original packets"),
    (SortColumn::ReplBytes, "reply bytes"),
    (SortColumn::ReplPackets, "reply packets"),
    (SortColumn::Bytes, "bytes, both ways"),
    (SortColumn::Packets, "packets, both ways"),
    (SortColumn::OrigRate, "original rate"),
    (SortColumn::ReplRate, "reply rate"),
    (SortColumn::Rate, "rate, both ways"),
];

/// The rows of the window shown, formatted, with the query they answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TableData {
    pub query: Window,
    pub matching: u64,
    pub rows: Vec<Arc<RowCells>>,
}

impl TableData {
    pub fn of(window: &shared::feed::WindowView) -> TableData {
        TableData {
            query: window.query.clone(),
            matching: window.matching,
            rows: window
                .entries
                .iter()
                .map(|e| Arc::new(RowCells::of(e)))
                .collect(),
        }
    }

    /// Row `i` of the matching entries, if this window holds it.
    fn row(&self, i: u64) -> Option<Arc<RowCells>> {
        let at = i.checked_sub(self.query.offset)?;
        self.rows.get(usize::try_from(at).ok()?).cloned()
    }
}

/// What one slot of the pool shows.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Row(u64, Arc<RowCells>),
    /// A matching row whose entry has not arrived (yet).
    Loading(u64),
    /// Past the last matching row.
    Empty,
}

impl Slot {
    fn cell(&self, c: usize) -> Cell {
        match self {
            Slot::Row(_, r) => r.cells.get(c).cloned().unwrap_or_default(),
            Slot::Loading(_) if c == 1 => text("…"),
            _ => Cell::default(),
        }
    }

    fn id(&self) -> Option<String> {
        match self {
            Slot::Row(_, r) => Some(r.id.clone()),
            _ => None,
        }
    }

    fn index(&self) -> Option<u64> {
        match self {
            Slot::Row(i, _) | Slot::Loading(i) => Some(*i),
            Slot::Empty => None,
        }
    }
}

/// The table. `data` is the shown window (`None` before the first); `want` the window the
/// screen asks for now (rows of another filter or order are not shown under its headings);
/// `viewport` is written here from the scroll position; `scroll_to` asks to show a row first
/// once the rows are known (a link's offset). `on_remove` removes one entry by id.
#[component]
pub fn ConnTable(
    #[prop(into)] data: Signal<Option<Arc<TableData>>>,
    #[prop(into)] query: Signal<TableQuery>,
    #[prop(into)] matching: Signal<u64>,
    viewport: RwSignal<Viewport>,
    scroll_to: RwSignal<Option<u64>>,
    #[prop(into)] on_sort: Callback<SortColumn>,
    #[prop(into)] on_remove: Callback<String>,
) -> impl IntoView {
    let scroller = NodeRef::<html::Div>::new();
    let view_px = RwSignal::new(ROW_H * 20.0);
    let scroll_top = RwSignal::new(0.0);
    let geometry = Memo::new(move |_| Geometry {
        matching: matching.get(),
        view_px: view_px.get(),
    });

    // The viewport's height decides the pool's size; read it now and on resize.
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            let h = f64::from(el.client_height());
            // Nothing laid out yet (or no style): assume a screenful.
            let h = if h > ROW_H { h } else { ROW_H * 20.0 };
            view_px.set(h);
            let rows = ((h / ROW_H).ceil() as usize + 1).clamp(1, MAX_POOL);
            viewport.update(|v| v.rows = rows);
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = f64::from(el.scroll_top());
        scroll_top.set(top);
        let first = geometry.get_untracked().first_row(top);
        if viewport.get_untracked().first != first {
            viewport.update(|v| v.first = first);
        }
    };

    let want = Memo::new(move |_| query.with(|q| q.window(0, 0)));
    let loaded = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .is_some_and(|d| want.with(|w| answers(&d.query, w)))
        })
    });
    // A row asked for (a link's offset, or the top after a new filter): scroll there once the
    // query's rows are counted (to the last row if there are fewer now).
    Effect::new(move |_| {
        let Some(row) = scroll_to.get() else { return };
        let g = geometry.get();
        let Some(el) = scroller.get() else { return };
        if row > 0 && !loaded.get() {
            return;
        }
        let row = row.min(g.matching.saturating_sub(1));
        let top = g.scroll_for(row);
        el.set_scroll_top(top as i32);
        scroll_top.set(top);
        viewport.update(|v| v.first = row.min(g.matching.saturating_sub(1)));
        scroll_to.set(None);
    });

    let slot = move |k: usize| {
        Memo::new(move |_| {
            let i = viewport.with(|v| v.first) + k as u64;
            if i >= matching.get() {
                return Slot::Empty;
            }
            data.with(|d| {
                d.as_ref()
                    .filter(|d| want.with(|w| answers(&d.query, w)))
                    .and_then(|d| d.row(i))
                    .map_or(Slot::Loading(i), |r| Slot::Row(i, r))
            })
        })
    };
    let top_px = Memo::new(move |_| {
        geometry
            .get()
            .top_px(viewport.with(|v| v.first), scroll_top.get())
    });
    let bottom_px = Memo::new(move |_| {
        let shown = viewport.with(|v| v.rows) as f64 * ROW_H;
        (geometry.get().total_px() - top_px.get() - shown).max(0.0)
    });
    let pool = Memo::new(move |_| viewport.with(|v| v.rows));
    let label = move || {
        let v = viewport.get();
        let m = matching.get();
        if m == 0 {
            "Connections: none match".to_string()
        } else {
            let last = (v.first + v.rows as u64).min(m);
            format!("Connections, rows {} to {} of {}", v.first + 1, last, m)
        }
    };

    view! {
        <div
            class="conn-scroll"
            node_ref=scroller
            on:scroll=on_scroll
            tabindex="0"
            role="region"
            aria-label=label
            data-testid="conn-scroll"
            style="overflow: auto; height: min(70vh, 42rem); min-height: 12rem; position: relative;"
        >
            <table
                class="conn-table"
                aria-rowcount=move || matching.get() + 1
                data-testid="conn-table"
                data-matching=move || matching.get()
            >
                <colgroup>
                    {COLUMNS
                        .iter()
                        .map(|c| view! { <col style=format!("width: {}", c.width) /> })
                        .collect_view()}
                </colgroup>
                <thead>
                    <tr aria-rowindex="1">
                        {COLUMNS
                            .iter()
                            .map(|c| view! { <Header column=*c query=query on_sort=on_sort /> })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" style:height=move || format!("{}px", top_px.get())>
                        <td colspan=COLUMNS.len()></td>
                    </tr>
                    <For
                        each=move || 0..pool.get()
                        key=|k: &usize| *k
                        children=move |k| view! { <PoolRow shown=slot(k) on_remove=on_remove /> }
                    />
                    <tr class="spacer" aria-hidden="true" style:height=move || format!("{}px", bottom_px.get())>
                        <td colspan=COLUMNS.len()></td>
                    </tr>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Header(
    column: Column,
    #[prop(into)] query: Signal<TableQuery>,
    on_sort: Callback<SortColumn>,
) -> impl IntoView {
    let active = move || {
        query.with(|q| {
            column
                .sorts
                .iter()
                .any(|(c, _)| *c == q.sort)
                .then_some(q.descending)
        })
    };
    let aria_sort = move || match active() {
        Some(true) => "descending",
        Some(false) => "ascending",
        None => "none",
    };
    let arrow = move |c: SortColumn| {
        move || {
            query.with(|q| match (q.sort == c, q.descending) {
                (true, false) => " ▲",
                (true, true) => " ▼",
                _ => "",
            })
        }
    };
    let buttons = column
        .sorts
        .iter()
        .map(|&(c, word)| {
            let text = if word.is_empty() { column.label } else { word };
            let pressed = move || query.with(|q| q.sort == c);
            view! {
                <button
                    type="button"
                    class="sort"
                    aria-pressed=move || pressed().to_string()
                    data-sort=super::query::sort_name(c)
                    on:click=move |_| on_sort.run(c)
                >
                    {text}
                    <span aria-hidden="true">{arrow(c)}</span>
                </button>
            }
        })
        .collect_view();
    let title = (column.sorts.len() > 1 || column.sorts.is_empty()).then_some(column.label);
    view! {
        <th
            scope="col"
            class=column.key
            class:num=column.numeric
            aria-sort=move || (!column.sorts.is_empty()).then(aria_sort)
        >
            {title.map(|t| view! { <span class="th-label">{t}</span> })}
            {buttons}
            {column.key.eq("actions").then(|| view! { <span class="visually-hidden">"Remove"</span> })}
        </th>
    }
}

#[component]
fn PoolRow(shown: Memo<Slot>, on_remove: Callback<String>) -> impl IntoView {
    let slot = shown;
    let cells = COLUMNS[..COLUMNS.len() - 1]
        .iter()
        .enumerate()
        .map(|(c, column)| {
            let cell = Memo::new(move |_| slot.with(|s| s.cell(c)));
            let title = move || {
                let t = cell.with(|x| x.text.clone());
                if column.key == "flags" {
                    slot.with(|s| match s {
                        Slot::Row(_, r) => r.flags_title.clone(),
                        _ => String::new(),
                    })
                } else {
                    t
                }
            };
            view! {
                <td class=column.key class:num=column.numeric class:nat=move || cell.with(|x| x.nat) title=title>
                    {move || cell.with(|x| x.text.clone())}
                </td>
            }
        })
        .collect_view();
    let id = Memo::new(move |_| slot.with(Slot::id));
    let remove = move |_| {
        if let Some(id) = id.get_untracked() {
            on_remove.run(id);
        }
    };
    view! {
        <tr
            class="conn-row"
            class:loading=move || slot.with(|s| matches!(s, Slot::Loading(_)))
            class:empty=move || slot.with(|s| matches!(s, Slot::Empty))
            data-testid="conn-row"
            data-id=move || id.get()
            aria-rowindex=move || slot.with(Slot::index).map(|i| i + 2)
            style="height: 28px"
        >
            {cells}
            <td class="actions">
                <Show when=move || id.with(Option::is_some)>
                    <button
                        type="button"
                        class="row-remove"
                        aria-label=move || format!("Remove connection {}", id.get().unwrap_or_default())
                        title="Remove this connection"
                        data-testid="conn-remove"
                        on:click=remove
                    >
                        "✕"
                    </button>
                </Show>
            </td>
        </tr>
    }
}
