//! The packet-flow diagram as inline SVG: where each box and arrow goes (two layouts, one for
//! wide screens, a column for phones), and the drawing, fed by [`FlowFigures`].
//!
//! The SVG scales to the width of its panel (`viewBox`); the phone layout keeps text at a
//! readable size by stacking the path top to bottom instead of shrinking it. Boxes are SVG
//! links that the app follows itself (the router only intercepts HTML links).

use super::figures::{Edge, FlowFigures, Node};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

/// A box: its top-left corner and size, in viewBox units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    fn left(&self) -> (f64, f64) {
        (self.x, self.cy())
    }
    fn right(&self) -> (f64, f64) {
        (self.x + self.w, self.cy())
    }
    fn top(&self) -> (f64, f64) {
        (self.cx(), self.y)
    }
    fn bottom(&self) -> (f64, f64) {
        (self.cx(), self.y + self.h)
    }
}

/// Where an edge's label sits relative to the point given.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LabelSide {
    /// Above a horizontal segment, centred.
    Above,
    /// Right of a vertical segment.
    Right,
    /// Left of a vertical segment (text ends there).
    Left,
}

/// An arrow: its points, and where its label goes.
#[derive(Debug, Clone, PartialEq)]
struct Route {
    points: Vec<(f64, f64)>,
    label: (f64, f64),
    side: LabelSide,
}

/// Every box and arrow of one layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    boxes: Vec<(Node, Rect)>,
    routes: Vec<(Edge, Route)>,
}

impl Layout {
    pub fn rect(&self, node: Node) -> Rect {
        self.boxes
            .iter()
            .find(|(n, _)| *n == node)
            .map(|(_, r)| *r)
            .unwrap_or(Rect {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0,
            })
    }

    fn route(&self, edge: Edge) -> Option<&Route> {
        self.routes.iter().find(|(e, _)| *e == edge).map(|(_, r)| r)
    }

    /// Boxes left to right: the path in the middle row, the router's own traffic above, the
    /// connection-tracking subsystem below. Fits 1280 px without scaling.
    pub fn wide() -> Layout {
        let (w, gap) = (144.0, 48.0);
        let col = |i: f64| 4.0 + i * (w + gap);
        let top = |i: f64| Rect {
            x: col(i),
            y: 14.0,
            w,
            h: 92.0,
        };
        let mid = |i: f64| Rect {
            x: col(i),
            y: 186.0,
            w,
            h: 110.0,
        };
        let low = |i: f64| Rect {
            x: col(i),
            y: 376.0,
            w,
            h: 110.0,
        };
        let boxes = vec![
            (Node::Incoming, mid(0.0)),
            (Node::Prerouting, mid(1.0)),
            (Node::Dstnat, mid(2.0)),
            (Node::Routing, mid(3.0)),
            (Node::Forward, mid(4.0)),
            (Node::Postrouting, mid(5.0)),
            (Node::Outgoing, mid(6.0)),
            (Node::Input, top(3.0)),
            (Node::Local, top(4.0)),
            (Node::Output, top(5.0)),
            (Node::Timeout, low(0.0)),
            (Node::Table, low(1.0)),
            (Node::Nat, low(2.0)),
        ];
        let mut l = Layout {
            width: 1300.0,
            height: 492.0,
            boxes,
            routes: vec![],
        };
        use Edge::*;
        for e in [
            IncomingPrerouting,
            PreroutingDstnat,
            DstnatRouting,
            RoutingForward,
            ForwardPostrouting,
            PostroutingOutgoing,
            InputLocal,
            LocalOutput,
        ] {
            l.horizontal(e);
        }
        for e in [RoutingInput, OutputPostrouting, PreroutingTable, DstnatNat] {
            l.vertical(e);
        }
        l.horizontal(TableTimeout);
        // srcnat's translations: down from the box, then left along the bottom row to NAT.
        let (post, nat) = (l.rect(Node::Postrouting), l.rect(Node::Nat));
        let y = nat.cy();
        l.routes.push((
            PostroutingNat,
            Route {
                points: vec![post.bottom(), (post.cx(), y), nat.right()],
                label: ((post.cx() + nat.right().0) / 2.0, y),
                side: LabelSide::Above,
            },
        ));
        l
    }

    /// One column for the path, the router's own traffic on the right, the connection-tracking
    /// subsystem on the left: for phones.
    pub fn narrow() -> Layout {
        let step = 136.0;
        let main = |row: f64| Rect {
            x: 160.0,
            y: 4.0 + row * step,
            w: 146.0,
            h: 100.0,
        };
        let side = |x: f64, row: f64| Rect {
            x,
            y: 4.0 + row * step,
            w: 126.0,
            h: 100.0,
        };
        let boxes = vec![
            (Node::Incoming, main(0.0)),
            (Node::Prerouting, main(1.0)),
            (Node::Dstnat, main(2.0)),
            (Node::Routing, main(3.0)),
            (Node::Forward, main(4.0)),
            (Node::Postrouting, main(5.0)),
            (Node::Outgoing, main(6.0)),
            (Node::Input, side(338.0, 3.0)),
            (Node::Local, side(338.0, 4.0)),
            (Node::Output, side(338.0, 5.0)),
            (Node::Timeout, side(2.0, 0.0)),
            (Node::Table, side(2.0, 1.0)),
            (Node::Nat, side(2.0, 4.0)),
        ];
        let mut l = Layout {
            width: 466.0,
            height: 4.0 + 6.0 * step + 104.0,
            boxes,
            routes: vec![],
        };
        use Edge::*;
        for e in [
            IncomingPrerouting,
            PreroutingDstnat,
            DstnatRouting,
            RoutingForward,
            ForwardPostrouting,
            PostroutingOutgoing,
            InputLocal,
            LocalOutput,
        ] {
            l.vertical(e);
        }
        for e in [RoutingInput, OutputPostrouting, PreroutingTable] {
            l.horizontal(e);
        }
        l.vertical(TableTimeout);
        // NAT beside the forward chain: dstnat's arrow comes down the left column, srcnat's up.
        let nat = l.rect(Node::Nat);
        for (edge, from, to) in [
            (DstnatNat, l.rect(Node::Dstnat), nat.top()),
            (PostroutingNat, l.rect(Node::Postrouting), nat.bottom()),
        ] {
            let corner = (nat.cx(), from.cy());
            l.routes.push((
                edge,
                Route {
                    points: vec![from.left(), corner, to],
                    label: (nat.cx(), (corner.1 + to.1) / 2.0),
                    side: LabelSide::Right,
                },
            ));
        }
        l
    }

    /// A straight arrow between boxes side by side (either way round).
    fn horizontal(&mut self, e: Edge) {
        let (a, b) = e.ends();
        let (a, b) = (self.rect(a), self.rect(b));
        let (from, to) = if a.x < b.x {
            (a.right(), b.left())
        } else {
            (a.left(), b.right())
        };
        let y = (from.1 + to.1) / 2.0;
        let (from, to) = ((from.0, y), (to.0, y));
        self.routes.push((
            e,
            Route {
                points: vec![from, to],
                label: ((from.0 + to.0) / 2.0, y),
                side: LabelSide::Above,
            },
        ));
    }

    /// A straight arrow between boxes one above the other (either way round).
    fn vertical(&mut self, e: Edge) {
        let (a, b) = e.ends();
        let (a, b) = (self.rect(a), self.rect(b));
        let (from, to) = if a.y < b.y {
            (a.bottom(), b.top())
        } else {
            (a.top(), b.bottom())
        };
        let x = (from.0 + to.0) / 2.0;
        self.routes.push((
            e,
            Route {
                points: vec![(x, from.1), (x, to.1)],
                label: (x, (from.1 + to.1) / 2.0),
                side: if self.width < 600.0 && a.x < 150.0 {
                    LabelSide::Left
                } else {
                    LabelSide::Right
                },
            },
        ));
    }
}

/// SVG path data through the points.
fn path_data(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        d.push_str(if i == 0 { "M" } else { " L" });
        d.push_str(&format!("{x:.1} {y:.1}"));
    }
    d
}

/// Whether the window is phone-sized (re-read when it is resized).
fn use_narrow() -> Signal<bool> {
    let read = || {
        web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < 700.0)
    };
    let narrow = RwSignal::new(read());
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        let now = read();
        if narrow.get_untracked() != now {
            narrow.set(now);
        }
    });
    on_cleanup(move || handle.remove());
    narrow.into()
}

/// The diagram. `figures` is `None` until the first snapshot.
#[component]
pub fn Diagram(#[prop(into)] figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    let narrow = use_narrow();
    let layout = Memo::new(move |_| {
        if narrow.get() {
            Layout::narrow()
        } else {
            Layout::wide()
        }
    });
    move || {
        let l = layout.get();
        let view_box = format!("0 0 {} {}", l.width, l.height);
        let edges = Edge::ALL
            .iter()
            .filter_map(|e| l.route(*e).cloned().map(|r| (*e, r)))
            .map(|(e, r)| view! { <EdgeView edge=e route=r figures=figures /> })
            .collect_view();
        let nodes = Node::ALL
            .iter()
            .map(|n| view! { <NodeView node=*n rect=l.rect(*n) figures=figures /> })
            .collect_view();
        view! {
            <svg
                class="flow-diagram"
                class:narrow=narrow
                viewBox=view_box
                role="group"
                aria-label="Packet flow through the router, with live rates"
                data-testid="flow-diagram"
            >
                <defs>
                    <marker
                        id="flow-arrow"
                        viewBox="0 0 10 10"
                        refX="9"
                        refY="5"
                        markerWidth="7"
                        markerHeight="7"
                        orient="auto-start-reverse"
                    >
                        <path d="M0 0 L10 5 L0 10 z" class="flow-arrowhead"></path>
                    </marker>
                </defs>
                <g class="flow-edges">{edges}</g>
                <g class="flow-nodes">{nodes}</g>
            </svg>
        }
    }
}

#[component]
fn EdgeView(edge: Edge, route: Route, figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    // A horizontal arrow's label is short: the rate above it, the unit (if not packets) below.
    let unit = match edge.unit() {
        "pkt" => None,
        unit => Some(unit),
    };
    let below = route.side == LabelSide::Above;
    let label = move || {
        figures.with(|f| {
            f.as_ref()
                .map(|f| {
                    let rate = f.edge(edge).per_second();
                    match unit {
                        Some(u) if !below => format!("{rate} {u}"),
                        _ => rate,
                    }
                })
                .unwrap_or_default()
        })
    };
    let active = move || {
        figures.with(|f| {
            f.as_ref()
                .and_then(|f| f.edge(edge).rate)
                .is_some_and(|r| r > 0.0)
        })
    };
    let (x, y) = route.label;
    let (lx, ly, anchor) = match route.side {
        LabelSide::Above => (x, y - 6.0, "middle"),
        LabelSide::Right => (x + 5.0, y + 4.0, "start"),
        LabelSide::Left => (x - 5.0, y + 4.0, "end"),
    };
    // Read as one sentence ("Forward chain to srcnat · postrouting: 14.0/s"), not as loose text.
    let (from, to) = edge.ends();
    let spoken = move || format!("{} to {}: {}", from.title(), to.title(), label());
    view! {
        <g
            class="flow-edge"
            class:relation=edge.is_relation()
            class:active=active
            role="img"
            aria-label=spoken
        >
            <path d=path_data(&route.points) marker-end="url(#flow-arrow)"></path>
            <text
                x=lx
                y=ly
                text-anchor=anchor
                class="flow-rate"
                data-testid=format!("flow-edge-{}", edge.key())
            >
                {label}
            </text>
            {unit
                .filter(|_| below)
                .map(|u| {
                    view! {
                        <text x=lx y=y + 14.0 text-anchor=anchor class="flow-unit" aria-hidden="true">
                            {u}
                        </text>
                    }
                })}
        </g>
    }
}

#[component]
fn NodeView(node: Node, rect: Rect, figures: Signal<Option<FlowFigures>>) -> impl IntoView {
    let navigate = use_navigate();
    let lines = Memo::new(move |_| figures.with(|f| f.as_ref().map(|f| f.lines(node))));
    let click = move |ev: leptos::ev::MouseEvent| {
        // As the router does for HTML links: plain clicks stay in the app.
        if ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
            ev.prevent_default();
            navigate(node.href(), NavigateOptions::default());
        }
    };
    let text_x = rect.x + 10.0;
    let body = move || {
        lines
            .get()
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let y = rect.y + 40.0 + i as f64 * 17.0;
                let label = (!l.label.is_empty()).then(|| format!("{} ", l.label));
                view! {
                    <text x=text_x y=y class="flow-line">
                        <tspan class="flow-label">{label}</tspan>
                        <tspan class="flow-value">{l.value}</tspan>
                    </text>
                }
            })
            .collect_view()
    };
    view! {
        <g class="flow-node" data-testid=format!("flow-node-{}", node.key())>
            <a href=node.href() on:click=click>
                <desc>{node.link_text()}</desc>
                <rect x=rect.x y=rect.y width=rect.w height=rect.h rx="8"></rect>
                <text x=text_x y=rect.y + 20.0 class="flow-title">
                    {node.title()}
                </text>
                {body}
            </a>
        </g>
    }
}
