//! What the configuration forms (Settings, the rule form) share: mistakes, found by the shared
//! validation as the user types or answered by the router on submit, each shown beside the
//! field it concerns, and the markup of one labelled field.
//!
//! Both sources give the same words: the browser runs the editor the REST API runs
//! (`shared::config::edit`) and shows `api_detail` of its error, which is the REST API's
//! `detail` for the same mistake. The field is the argument the error names
//! ([`shared::rsc::ErrorKind::argument`], or read back from the router's text by
//! [`crate::api::ApiError::argument`]).

use crate::api::ApiError;
use leptos::prelude::*;
use shared::config::edit::{api_detail, EditError};

/// One mistake: the argument it concerns, if any, and what to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    pub field: Option<String>,
    pub message: String,
}

impl Mistake {
    /// Every mistake of a refused change, in the router's words, each once.
    pub fn from_edit(e: &EditError) -> Vec<Mistake> {
        let all = match e {
            EditError::Invalid(errors) => errors
                .iter()
                .map(|e| Mistake {
                    field: e.kind.argument().map(str::to_string),
                    message: api_detail(&e.kind),
                })
                .collect(),
            other => vec![Mistake {
                field: None,
                message: other.to_string(),
            }],
        };
        let mut out: Vec<Mistake> = Vec::new();
        for m in all {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// The router's refusal: its `detail` at the argument it names, or the whole error.
    pub fn from_api(e: &ApiError) -> Mistake {
        Mistake {
            field: e.argument().map(str::to_string),
            message: e
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string()),
        }
    }
}

/// The messages about `field`, one per line.
pub fn message_for(mistakes: &[Mistake], field: &str) -> Option<String> {
    let texts: Vec<&str> = mistakes
        .iter()
        .filter(|m| m.field.as_deref() == Some(field))
        .map(|m| m.message.as_str())
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// The messages about no field among `fields` (shown above the buttons).
pub fn general(mistakes: &[Mistake], fields: &[&str]) -> Vec<String> {
    mistakes
        .iter()
        .filter(|m| m.field.as_deref().is_none_or(|f| !fields.contains(&f)))
        .map(|m| m.message.clone())
        .collect()
}

/// The id of the element that explains a control (`aria-describedby`).
pub fn hint_id(control: &str) -> String {
    format!("{control}-hint")
}

/// The id of the element that holds a control's mistake.
pub fn error_id(control: &str) -> String {
    format!("{control}-error")
}

/// `aria-describedby` for a control: its hint and its mistake.
pub fn described_by(control: &str) -> String {
    format!("{} {}", hint_id(control), error_id(control))
}

/// One labelled field: the control (given as children, with `id=control`), a hint below it,
/// and the mistake about it (`data-testid="error-{name}"`), announced when it changes.
#[component]
pub fn Field(
    /// The argument name (`udp-timeout`).
    name: &'static str,
    /// The control's id, which the label points at.
    #[prop(into)]
    control: String,
    #[prop(into)] label: String,
    /// Unit, default, what it means.
    #[prop(optional, into)]
    hint: ViewFn,
    #[prop(into)] error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div
            class="field"
            class:invalid=move || error.with(Option::is_some)
            data-testid=format!("field-{name}")
        >
            <label for=control.clone()>{label}</label>
            {children()}
            <div class="hint" id=hint_id(&control)>
                {hint.run()}
            </div>
            <p
                class="field-error"
                id=error_id(&control)
                aria-live="polite"
                data-testid=format!("error-{name}")
            >
                {move || error.get()}
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RosError;
    use shared::config::edit::{Change, Editor};
    use shared::config::RouterConfig;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn mistakes_land_on_their_fields() {
        let editor = Editor::new(RouterConfig::default());
        let args = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let e = editor
            .prepare(
                &["ip", "firewall", "filter"],
                &Change::Add(args(&[("chain", "forward"), ("dst-port", "80")])),
            )
            .unwrap_err();
        let found = Mistake::from_edit(&e);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field.as_deref(), Some("dst-port"));
        assert_eq!(message_for(&found, "dst-port"), Some(e.to_string()));
        assert!(general(&found, &["dst-port"]).is_empty());
        assert_eq!(general(&found, &["chain"]), vec![e.to_string()]);

        let server = ApiError::Router(RosError {
            error: 400,
            message: "Bad Request".into(),
            detail: Some(e.to_string()),
        });
        assert_eq!(Mistake::from_api(&server), found[0]);
        let down = ApiError::Network("Failed to fetch".into());
        assert_eq!(Mistake::from_api(&down).field, None);
    }
}
