//! The REST API end to end through the axum router (`oneshot`): every menu and method, every
//! error path, the JSON shapes, and that each change is saved and in force.

mod backup;
mod dashboard;
mod feed;
mod support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use support::{all_strings, request, server, Server, ADMIN, VIEWER};

const FILTER: &str = "/rest/ip/firewall/filter";
const NAT: &str = "/rest/ip/firewall/nat";

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o[".id"].as_str().unwrap().to_string())
        .collect()
}

async fn add(s: &Server, uri: &str, body: Value) -> String {
    let a = s.call(Method::PUT, uri, Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    a.json[".id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn logins_are_required_and_checked() {
    let s = server();
    for who in [None, Some(("admin", "wrong")), Some(("nobody", "x"))] {
        let a = s.send(request(who, Method::GET, FILTER, None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            a.header(header::WWW_AUTHENTICATE),
            Some("Basic realm=\"statewall\"")
        );
        assert_eq!(a.json, json!({"error": 401, "message": "Unauthorized"}));
    }
    let garbled = Request::builder()
        .uri(FILTER)
        .header(header::AUTHORIZATION, "Basic %%%")
        .body(Body::empty())
        .unwrap();
    assert_eq!(s.send(garbled).await.status, StatusCode::UNAUTHORIZED);
    // Even an unknown path of the API asks for a login first (other paths are the
    // dashboard's: `dashboard.rs`).
    let a = s
        .send(request(None, Method::GET, "/backup/nothing", None))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = s.get("/backup/nothing").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(FILTER).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_scripts_401_asks_no_browser_dialog() {
    // A browser opens its own password dialog on a `fetch` answered with `WWW-Authenticate`;
    // the dashboard says it is a script, and gets a bare 401 to show its own form.
    let s = server();
    for who in [None, Some(("admin", "wrong"))] {
        let mut req = request(who, Method::GET, FILTER, None);
        req.headers_mut()
            .insert("x-requested-with", "statewall".parse().unwrap());
        let a = s.send(req).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.header(header::WWW_AUTHENTICATE), None);
    }
}

#[tokio::test]
async fn read_users_look_but_do_not_change() {
    let s = server();
    let get = s.call_as(VIEWER, Method::GET, FILTER, None).await;
    assert_eq!(get.status, StatusCode::OK);
    let print = s
        .call_as(
            VIEWER,
            Method::POST,
            &format!("{FILTER}/print"),
            Some(json!({})),
        )
        .await;
    assert_eq!(print.status, StatusCode::OK);
    let attempts = [
        (
            Method::PUT,
            FILTER.to_string(),
            Some(json!({"chain": "input"})),
        ),
        (
            Method::PATCH,
            format!("{FILTER}/*1"),
            Some(json!({"comment": "x"})),
        ),
        (Method::DELETE, format!("{FILTER}/*1"), None),
        (
            Method::POST,
            format!("{FILTER}/disable"),
            Some(json!({".id": "*1"})),
        ),
        (
            Method::POST,
            "/rest/ip/firewall/connection/tracking/set".into(),
            Some(json!({"udp-timeout": "1m"})),
        ),
        (
            Method::POST,
            "/rest/ip/firewall/connection/remove".into(),
            Some(json!({".id": "*1"})),
        ),
        (
            Method::POST,
            "/rest/system/identity/set".into(),
            Some(json!({"name": "x"})),
        ),
        (Method::PUT, "/rest/user".into(), Some(json!({"name": "x"}))),
        (
            Method::POST,
            "/rest/export".into(),
            Some(json!({"show-sensitive": ""})),
        ),
    ];
    for (method, uri, body) in attempts {
        let a = s.call_as(VIEWER, method.clone(), &uri, body).await;
        assert_eq!(
            a.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            a.json
        );
        assert_eq!(a.json["error"], 403);
        assert_eq!(a.json["message"], "Forbidden");
        assert!(a.detail().contains("group read"), "{}", a.json);
    }
    let export = s.call_as(VIEWER, Method::POST, "/rest/export", None).await;
    assert_eq!(export.status, StatusCode::OK);
    // Nothing changed.
    assert_eq!(s.get(FILTER).await.json, get.json);
}

#[tokio::test]
async fn rules_print_as_routeros_rest_does() {
    let s = server();
    let a = s.get(FILTER).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(all_strings(&a.json), "{}", a.json);
    let rules = a.json.as_array().unwrap();
    assert_eq!(rules.len(), 11);
    assert_eq!(ids(&a.json)[..3], ["*1", "*2", "*3"]);
    let drop_not_lan = &rules[4];
    for (k, v) in [
        ("action", "drop"),
        ("chain", "input"),
        ("in-interface-list", "!LAN"),
        ("disabled", "false"),
        ("dynamic", "false"),
        ("invalid", "false"),
        ("log", "false"),
        ("log-prefix", ""),
        ("comment", "defconf: drop all not coming from LAN"),
    ] {
        assert_eq!(drop_not_lan[k], v, "{k}: {drop_not_lan}");
    }
    // The ping to the router was counted by "accept ICMP" (*3), with its bytes.
    assert_eq!(rules[2]["packets"], "1");
    assert_ne!(rules[2]["bytes"], "0");
    assert_eq!(rules[0]["packets"], "0");
    // Filters and .proplist on GET (the list always keeps .id).
    let a = s
        .get(&format!(
            "{FILTER}?chain=forward&action=drop&.proplist=comment"
        ))
        .await;
    assert_eq!(
        a.json,
        json!([
            {".id": "*A", "comment": "defconf: drop invalid"},
            {".id": "*B", "comment": "defconf: drop all from WAN not DSTNATed"}
        ])
    );
    let one = s.get(&format!("{FILTER}/*3")).await;
    assert_eq!(one.json, rules[2]);
    // Lower-case hex names the same item.
    let nat = s.get(&format!("{NAT}/*1")).await;
    assert_eq!(nat.json["action"], "masquerade");
    // The masquerade rule translated the TCP and the UDP connection.
    assert_eq!(nat.json["packets"], "2");
}

#[tokio::test]
async fn add_get_set_remove_with_stable_ids() {
    let s = server();
    let put = s
        .call(
            Method::PUT,
            FILTER,
            Some(
                json!({"chain": "forward", "action": "drop", "protocol": "tcp",
                        "dst-port": "23", "comment": "no telnet"}),
            ),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.json);
    assert_eq!(
        put.header(header::LOCATION),
        Some("/rest/ip/firewall/filter/*C")
    );
    assert!(all_strings(&Value::Array(vec![put.json.clone()])));
    assert_eq!(put.json[".id"], "*C");
    assert_eq!(put.json["dst-port"], "23");
    assert_eq!(put.json["bytes"], "0");
    assert_eq!(s.get(&format!("{FILTER}/*C")).await.json, put.json);
    s.assert_saved();

    let patch = s
        .call(
            Method::PATCH,
            &format!("{FILTER}/*C"),
            Some(json!({"dst-port": "23,2323", "disabled": true})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.json);
    assert_eq!(patch.json["dst-port"], "23,2323");
    assert_eq!(patch.json["disabled"], "true");
    assert_eq!(patch.json["comment"], "no telnet");
    s.assert_saved();

    let del = s.call(Method::DELETE, &format!("{FILTER}/*C"), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(del.json, Value::Null);
    s.assert_saved();
    let gone = s.get(&format!("{FILTER}/*C")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json, json!({"error": 404, "message": "Not Found"}));

    // The removed id never comes back; the others keep theirs.
    assert_eq!(add(&s, FILTER, json!({"chain": "input"})).await, "*D");
    let all = ids(&s.get(FILTER).await.json);
    assert_eq!(all.len(), 12);
    assert_eq!(all[..2], ["*1", "*2"]);
    assert_eq!(all.last().map(String::as_str), Some("*D"));
    s.assert_saved();
}

#[tokio::test]
async fn bad_changes_name_the_argument_and_change_nothing() {
    let s = server();
    let before = s.get(FILTER).await.json;
    let saved = std::fs::read(s.dir.0.join(crate::store::CONFIG_FILE)).unwrap();
    let cases = [
        (
            json!({"action": "accept"}),
            "missing =chain= (every item of /ip firewall filter needs it)",
        ),
        (
            json!({"chain": "input", "actoin": "drop"}),
            "unknown parameter actoin; did you mean action?",
        ),
        (
            json!({"chain": "input", "protocol": "tcp", "dst-port": "99999"}),
            "invalid value for argument dst-port: \"99999\"",
        ),
        (
            json!({"chain": "input", "dst-port": "80"}),
            "argument \"dst-port\" needs protocol=tcp or protocol=udp",
        ),
        (
            json!({"chain": "input", "action": "jump"}),
            "action=jump needs argument \"jump-target\"",
        ),
        (
            json!({"chain": "input", "place-before": "*63"}),
            "no such item *63",
        ),
        (json!({"chain": null}), "invalid value for argument chain"),
    ];
    for (body, detail) in cases {
        let a = s.call(Method::PUT, FILTER, Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.json);
        assert_eq!(a.json["error"], 400);
        assert_eq!(a.json["message"], "Bad Request");
        assert!(a.detail().starts_with(detail), "{body}: {}", a.detail());
    }
    let nat = s
        .call(
            Method::PUT,
            NAT,
            Some(json!({"chain": "dstnat", "action": "masquerade"})),
        )
        .await;
    assert!(
        nat.detail()
            .starts_with("action=masquerade is not allowed in chain dstnat"),
        "{}",
        nat.json
    );
    let patch = s
        .call(
            Method::PATCH,
            &format!("{FILTER}/*1"),
            Some(json!({"log": "perhaps"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::BAD_REQUEST);
    assert!(patch.detail().contains("argument log"), "{}", patch.json);
    // Wrong ids are 404.
    for (method, uri) in [
        (Method::PATCH, format!("{FILTER}/*99")),
        (Method::DELETE, format!("{FILTER}/*99")),
        (Method::GET, format!("{FILTER}/*99")),
        (Method::GET, format!("{FILTER}/nonsense")),
    ] {
        let a = s.call(method.clone(), &uri, Some(json!({}))).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method} {uri}");
    }
    // A body naming a missing item is a bad request, as in RouterOS.
    let a = s
        .post(&format!("{FILTER}/remove"), json!({".id": "*1,*99"}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.detail(), "no such item (*99)");
    assert_eq!(s.get(FILTER).await.json, before);
    assert_eq!(
        std::fs::read(s.dir.0.join(crate::store::CONFIG_FILE)).unwrap(),
        saved
    );
}

#[tokio::test]
async fn bodies_paths_and_methods_are_checked() {
    let s = server();
    // No JSON content type: 415.
    let req = Request::builder()
        .method(Method::PUT)
        .uri(FILTER)
        .header(header::AUTHORIZATION, support_auth(ADMIN))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"chain":"input"}"#))
        .unwrap();
    let a = s.send(req).await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(a.json["error"], 415);
    // Too large: 413.
    let big = json!({"chain": "input", "comment": "x".repeat(crate::api::BODY_LIMIT)});
    let a = s.call(Method::PUT, FILTER, Some(big)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json["message"], "Payload Too Large");
    // Not JSON, not an object.
    let req = Request::builder()
        .method(Method::PUT)
        .uri(FILTER)
        .header(header::AUTHORIZATION, support_auth(ADMIN))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{chain"))
        .unwrap();
    assert_eq!(s.send(req).await.status, StatusCode::BAD_REQUEST);
    let a = s.call(Method::PUT, FILTER, Some(json!(["chain"]))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Unknown menus and commands.
    let a = s.get("/rest/ip/firewall/nope").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.detail(), "no such command or directory (nope)");
    let a = s.post(&format!("{FILTER}/frobnicate"), json!({})).await;
    assert_eq!(a.detail(), "no such command (frobnicate)");
    let a = s
        .call(Method::PUT, "/rest/interface", Some(json!({"name": "x"})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = s
        .call(Method::PATCH, "/rest/ip/settings", Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = s.get("/rest").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

fn support_auth((user, password): (&str, &str)) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

#[tokio::test]
async fn post_commands_on_a_list() {
    let s = server();
    let a = s
        .post(&format!("{FILTER}/add"), json!({"chain": "c1"}))
        .await;
    assert_eq!(a.json, json!({"ret": "*C"}));
    let a = s
        .post(
            &format!("{FILTER}/add"),
            json!({"chain": "c2", "place-before": "*1"}),
        )
        .await;
    assert_eq!(a.json, json!({"ret": "*D"}));
    assert_eq!(ids(&s.get(FILTER).await.json)[..2], ["*D", "*1"]);

    let a = s
        .post(
            &format!("{FILTER}/set"),
            json!({".id": "*C,*D", "comment": "mine"}),
        )
        .await;
    assert_eq!(a.json, json!([]), "{}", a.json);
    let mine = s.get(&format!("{FILTER}?comment=mine")).await.json;
    assert_eq!(ids(&mine), ["*D", "*C"]);

    let a = s
        .post(&format!("{FILTER}/disable"), json!({"numbers": "*C"}))
        .await;
    assert_eq!(a.json, json!([]));
    assert_eq!(
        s.get(&format!("{FILTER}/*C")).await.json["disabled"],
        "true"
    );
    s.post(&format!("{FILTER}/enable"), json!({".id": "*C"}))
        .await;
    assert_eq!(
        s.get(&format!("{FILTER}/*C")).await.json["disabled"],
        "false"
    );

    let a = s
        .post(
            &format!("{FILTER}/move"),
            json!({".id": "*C", "destination": "*D"}),
        )
        .await;
    assert_eq!(a.json, json!([]), "{}", a.json);
    assert_eq!(ids(&s.get(FILTER).await.json)[..3], ["*C", "*D", "*1"]);
    s.post(&format!("{FILTER}/move"), json!({".id": "*C,*D"}))
        .await;
    assert_eq!(ids(&s.get(FILTER).await.json)[11..], ["*C", "*D"]);

    s.post(
        &format!("{FILTER}/set"),
        json!({".id": "*C", "src-address": "10.0.0.0/8"}),
    )
    .await;
    let a = s
        .post(
            &format!("{FILTER}/unset"),
            json!({".id": "*C", "value-name": "src-address"}),
        )
        .await;
    assert_eq!(a.json, json!([]), "{}", a.json);
    assert_eq!(
        s.get(&format!("{FILTER}/*C")).await.json.get("src-address"),
        None
    );
    let a = s
        .post(
            &format!("{FILTER}/unset"),
            json!({".id": "*C", "value-name": "chain"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.detail().contains("\"chain\""), "{}", a.json);

    let a = s
        .post(&format!("{FILTER}/remove"), json!({".id": "*C,*D"}))
        .await;
    assert_eq!(a.json, json!([]));
    assert_eq!(s.get(FILTER).await.json.as_array().unwrap().len(), 11);
    let a = s.post(&format!("{FILTER}/remove"), json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.detail().contains(".id"), "{}", a.json);
    s.assert_saved();
}

#[tokio::test]
async fn print_with_query_proplist_and_count_only() {
    let s = server();
    let print = format!("{FILTER}/print");
    let a = s.post(&print, json!({"count-only": ""})).await;
    assert_eq!(a.json, json!({"ret": "11"}));
    let a = s
        .post(
            &print,
            json!({".query": ["chain=input", "action=drop", "#&"], ".proplist": "comment,action"}),
        )
        .await;
    assert_eq!(
        a.json,
        json!([
            {"action": "drop", "comment": "defconf: drop invalid"},
            {"action": "drop", "comment": "defconf: drop all not coming from LAN"}
        ])
    );
    let a = s
        .post(
            &print,
            json!({".query": ["action=accept", "action=drop", "#|!"], "count-only": ""}),
        )
        .await;
    assert_eq!(a.json, json!({"ret": "1"}), "the fasttrack rule");
    let a = s.post(&print, json!({".query": ["#&"]})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = s.post(&print, json!({"where": "x"})).await;
    assert_eq!(a.detail(), "unknown parameter where");
}

#[tokio::test]
async fn rule_counters_follow_rules_and_reset() {
    let s = server();
    assert_eq!(s.get(&format!("{NAT}/*1")).await.json["packets"], "2");
    // Counters stay with their rule through changes to it and around it (they are kept by id).
    add(&s, FILTER, json!({"chain": "input", "place-before": "*1"})).await;
    let patched = s
        .call(
            Method::PATCH,
            &format!("{FILTER}/*3"),
            Some(json!({"comment": "icmp"})),
        )
        .await;
    assert_eq!(patched.json["packets"], "1");
    assert_eq!(
        ids(&s.get(FILTER).await.json)[..4],
        ["*C", "*1", "*2", "*3"]
    );
    let a = s
        .post(&format!("{NAT}/reset-counters"), json!({".id": "*1"}))
        .await;
    assert_eq!(a.json, json!([]));
    let nat = s.get(&format!("{NAT}/*1")).await.json;
    assert_eq!(
        (nat["packets"].as_str(), nat["bytes"].as_str()),
        (Some("0"), Some("0"))
    );
    assert_eq!(s.get(&format!("{FILTER}/*3")).await.json["packets"], "1");
    let a = s
        .post(&format!("{FILTER}/reset-counters-all"), json!({}))
        .await;
    assert_eq!(a.json, json!([]));
    assert_eq!(s.get(&format!("{FILTER}/*3")).await.json["packets"], "0");
    let a = s
        .post("/rest/ip/address/reset-counters-all", json!({}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = s
        .post(&format!("{FILTER}/reset-counters"), json!({".id": "*77"}))
        .await;
    assert_eq!(a.detail(), "no such item (*77)");
}

#[tokio::test]
async fn connections_list_remove_and_count() {
    let s = server();
    let uri = "/rest/ip/firewall/connection";
    let a = s.get(uri).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(all_strings(&a.json), "{}", a.json);
    let conns = a.json.as_array().unwrap().clone();
    assert_eq!(conns.len(), 3, "{}", a.json);
    let tcp = conns.iter().find(|c| c["protocol"] == "tcp").unwrap();
    for (k, v) in [
        ("src-address", "198.51.100.10:40000"),
        ("dst-address", "192.0.2.1:80"),
        ("reply-src-address", "192.0.2.1:80"),
        ("tcp-state", "syn-sent"),
        ("orig-packets", "1"),
        ("repl-packets", "0"),
        ("seen-reply", "false"),
        ("srcnat", "true"),
        ("assured", "false"),
    ] {
        assert_eq!(tcp[k], v, "{k}: {tcp}");
    }
    assert!(tcp[".id"].as_str().unwrap().starts_with('*'));
    assert!(tcp.get("timeout").is_some());
    let tcp_id = tcp[".id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&format!("{uri}/{tcp_id}")).await.json, *tcp);

    let print = format!("{uri}/print");
    let a = s.post(&print, json!({"count-only": ""})).await;
    assert_eq!(a.json, json!({"ret": "3"}));
    let a = s
        .post(
            &print,
            json!({".query": ["protocol=udp"], ".proplist": ["dst-address"]}),
        )
        .await;
    assert_eq!(a.json, json!([{"dst-address": "192.0.2.1:53"}]));
    let a = s
        .get(&format!("{uri}?protocol=icmp&.proplist=protocol"))
        .await;
    assert_eq!(a.json.as_array().unwrap().len(), 1);

    let del = s
        .call(Method::DELETE, &format!("{uri}/{tcp_id}"), None)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get(&format!("{uri}/{tcp_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let again = s
        .call(Method::DELETE, &format!("{uri}/{tcp_id}"), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let rest: Vec<String> = ids(&s.get(uri).await.json);
    assert_eq!(rest.len(), 2);
    let a = s
        .post(&format!("{uri}/remove"), json!({".id": rest.join(",")}))
        .await;
    assert_eq!(a.json, json!([]), "{}", a.json);
    assert_eq!(
        s.post(&print, json!({"count-only": ""})).await.json,
        json!({"ret": "0"})
    );
    let a = s
        .post(&format!("{uri}/remove"), json!({".id": "*FFFF"}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = s
        .post(&format!("{uri}/remove"), json!({".id": "nope"}))
        .await;
    assert_eq!(a.detail(), "no such item (nope)");
    // Entries cannot be added or set.
    let a = s
        .call(Method::PUT, uri, Some(json!({"protocol": "tcp"})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = s
        .call(Method::PATCH, &format!("{uri}/*1"), Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tracking_settings_get_and_set() {
    let s = server();
    let uri = "/rest/ip/firewall/connection/tracking";
    let a = s.get(uri).await;
    assert!(
        a.json.is_object(),
        "a settings menu is one object: {}",
        a.json
    );
    assert!(all_strings(&Value::Array(vec![a.json.clone()])));
    assert_eq!(a.json["loose-tcp-tracking"], "true");
    assert_eq!(a.json["enabled"], "auto");
    assert_eq!(a.json["udp-timeout"], "10s");
    assert_eq!(a.json["total-entries"], "3");
    assert_eq!(a.json["max-entries"], "65536");
    let set = s
        .post(&format!("{uri}/set"), json!({"udp-timeout": "30s"}))
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.json, json!([]));
    assert_eq!(s.get(uri).await.json["udp-timeout"], "30s");
    assert_eq!(
        s.local.udp_timeout(),
        shared::duration::Duration::from_secs(30)
    );
    s.assert_saved();
    let typo = s
        .post(&format!("{uri}/set"), json!({"tcp-loose-tracking": "no"}))
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        typo.detail(),
        "unknown parameter tcp-loose-tracking; did you mean loose-tcp-tracking?"
    );
    let bad = s
        .post(&format!("{uri}/set"), json!({"icmp-timeout": "soon"}))
        .await;
    assert!(bad
        .detail()
        .starts_with("invalid value for argument icmp-timeout"));
    let ro = s
        .post(&format!("{uri}/set"), json!({"max-entries": "9"}))
        .await;
    assert_eq!(ro.status, StatusCode::BAD_REQUEST);
    let print = s
        .post(&format!("{uri}/print"), json!({".proplist": "udp-timeout"}))
        .await;
    assert_eq!(print.json, json!([{"udp-timeout": "30s"}]));
    let a = s.get(&format!("{uri}/*1")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn ip_settings_get_and_set() {
    let s = server();
    let uri = "/rest/ip/settings";
    let a = s.get(uri).await;
    assert_eq!(a.json["ip-forward"], "true");
    assert_eq!(a.json["tcp-syncookies"], "false");
    assert_eq!(a.json["rp-filter"], "no");
    s.post(
        &format!("{uri}/set"),
        json!({"tcp-syncookies": "yes", "rp-filter": "strict"}),
    )
    .await;
    let a = s.get(uri).await;
    assert_eq!(a.json["tcp-syncookies"], "true");
    assert_eq!(a.json["rp-filter"], "strict");
    s.assert_saved();
    let a = s
        .post(&format!("{uri}/set"), json!({"rp-filter": "sometimes"}))
        .await;
    assert!(
        a.detail()
            .starts_with("invalid value for argument rp-filter"),
        "{}",
        a.json
    );
    let a = s.call(Method::PUT, uri, Some(json!({}))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn address_lists_change_every_way() {
    let s = server();
    let uri = "/rest/ip/firewall/address-list";
    let a = add(
        &s,
        uri,
        json!({"list": "blocked", "address": "203.0.113.77"}),
    )
    .await;
    let b = add(
        &s,
        uri,
        json!({"list": "blocked", "address": "198.18.0.0/15", "comment": "bench"}),
    )
    .await;
    assert_eq!((a.as_str(), b.as_str()), ("*1", "*2"));
    let dup = s
        .call(
            Method::PUT,
            uri,
            Some(json!({"list": "blocked", "address": "203.0.113.77"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert!(dup.detail().contains("already has"), "{}", dup.json);
    let p = s
        .call(
            Method::PATCH,
            &format!("{uri}/*1"),
            Some(json!({"timeout": "1h"})),
        )
        .await;
    assert_eq!(p.json["timeout"], "1h");
    s.post(&format!("{uri}/disable"), json!({".id": "*2"}))
        .await;
    s.post(
        &format!("{uri}/move"),
        json!({".id": "*2", "destination": "*1"}),
    )
    .await;
    let list = s.get(uri).await.json;
    assert_eq!(ids(&list), ["*2", "*1"]);
    assert_eq!(list[0]["disabled"], "true");
    s.call(Method::DELETE, &format!("{uri}/*2"), None).await;
    assert_eq!(
        add(&s, uri, json!({"list": "x", "address": "192.0.2.9"})).await,
        "*3"
    );
    s.assert_saved();
}

#[tokio::test]
async fn addresses_routes_arp_and_interface_lists() {
    let s = server();
    let a = s.get("/rest/ip/address").await;
    assert_eq!(a.json[0]["address"], "198.51.100.1/24");
    assert_eq!(a.json[0]["network"], "198.51.100.0");
    assert_eq!(a.json[0]["interface"], "ether2");
    let id = add(
        &s,
        "/rest/ip/address",
        json!({"address": "198.51.100.2/24", "interface": "ether2"}),
    )
    .await;
    assert_eq!(id, "*3");
    let r = s.get("/rest/ip/route").await;
    assert_eq!(r.json[0]["gateway"], "203.0.113.1");
    assert_eq!(r.json[0]["dst-address"], "0.0.0.0/0");
    assert_eq!(r.json[0]["distance"], "1");
    add(
        &s,
        "/rest/ip/route",
        json!({"dst-address": "10.0.0.0/8", "gateway": "198.51.100.254"}),
    )
    .await;
    let bad = s
        .call(
            Method::PUT,
            "/rest/ip/route",
            Some(json!({"gateway": "a,b"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let arp = s.get("/rest/ip/arp").await;
    assert_eq!(arp.json[0]["mac-address"], "02:00:00:00:99:01");
    let id = add(
        &s,
        "/rest/ip/arp",
        json!({"address": "198.51.100.30", "mac-address": "02:00:00:00:30:30", "interface": "ether2"}),
    )
    .await;
    assert_eq!(
        s.call(Method::DELETE, &format!("/rest/ip/arp/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Interface lists by name, and their members.
    let lan = s.get("/rest/interface/list/LAN").await;
    assert_eq!(lan.json[".id"], "*2");
    add(&s, "/rest/interface/list", json!({"name": "MGMT"})).await;
    let m = add(
        &s,
        "/rest/interface/list/member",
        json!({"list": "MGMT", "interface": "ether2"}),
    )
    .await;
    assert_eq!(m, "*3");
    let members = s.get("/rest/interface/list/member?list=MGMT").await;
    assert_eq!(members.json.as_array().unwrap().len(), 1);
    let renamed = s
        .call(
            Method::PATCH,
            "/rest/interface/list/MGMT",
            Some(json!({"comment": "mgmt"})),
        )
        .await;
    assert_eq!(renamed.json["comment"], "mgmt");
    let a = s
        .post("/rest/interface/list/disable", json!({".id": "MGMT"}))
        .await;
    assert_eq!(a.detail(), "no such command (disable) in /interface list");
    s.assert_saved();
}

#[tokio::test]
async fn interfaces_show_ports_with_counters() {
    let s = server();
    let a = s.get("/rest/interface").await;
    assert!(all_strings(&a.json));
    let ports = a.json.as_array().unwrap();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[0]["name"], "ether1");
    assert_eq!(ports[0]["type"], "ether");
    assert_eq!(ports[0]["mac-address"], "02:00:00:00:E1:01");
    assert_eq!(ports[0]["mtu"], "1500");
    assert_eq!(ports[0]["running"], "true");
    // Three frames came in on the LAN port; two went out on the WAN port.
    assert_eq!(ports[1]["rx-packet"], "3");
    assert_eq!(ports[0]["tx-packet"], "2");
    assert_ne!(ports[1]["rx-byte"], "0");
    let by_name = s
        .get("/rest/interface/ether2?.proplist=name,rx-packet")
        .await;
    assert_eq!(
        by_name.json,
        json!({".id": "*2", "name": "ether2", "rx-packet": "3"})
    );
    let a = s
        .post(
            "/rest/interface/print",
            json!({".query": ["type=ether"], "count-only": ""}),
        )
        .await;
    assert_eq!(a.json, json!({"ret": "2"}));
    let a = s.call(Method::DELETE, "/rest/interface/ether1", None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn identity_is_saved() {
    let s = server();
    let uri = "/rest/system/identity";
    assert_eq!(s.get(uri).await.json, json!({"name": "statewall"}));
    let a = s
        .post(&format!("{uri}/set"), json!({"name": "edge-1"}))
        .await;
    assert_eq!(a.json, json!([]));
    assert_eq!(s.get(uri).await.json, json!({"name": "edge-1"}));
    let store = crate::store::Store::open(&s.dir.0).unwrap();
    assert_eq!(super::system::load_identity(&store).unwrap(), "edge-1");
    let a = s.post(&format!("{uri}/set"), json!({"name": ""})).await;
    assert!(a.detail().starts_with("invalid value for argument name"));
    let a = s.post(&format!("{uri}/set"), json!({"nmae": "x"})).await;
    assert_eq!(a.detail(), "unknown parameter nmae");
}

#[tokio::test]
async fn users_are_managed_by_full_users() {
    let s = server();
    let a = s.get("/rest/user").await;
    assert_eq!(
        a.json,
        json!([
            {".id": "*1", "name": "admin", "group": "full", "disabled": "false",
             "comment": "created on first start"},
            {".id": "*2", "name": "viewer", "group": "read", "disabled": "false"}
        ])
    );
    let put = s
        .call(
            Method::PUT,
            "/rest/user",
            Some(json!({"name": "ops", "group": "full", "password": "ops-pw"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.json);
    assert_eq!(put.header(header::LOCATION), Some("/rest/user/*3"));
    assert_eq!(put.json.get("password"), None);
    // The new user logs in and may change things.
    let a = s
        .call_as(
            ("ops", "ops-pw"),
            Method::POST,
            "/rest/system/identity/set",
            Some(json!({"name": "r"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    // A password change takes effect at once (remembered logins are forgotten).
    s.call(
        Method::PATCH,
        "/rest/user/ops",
        Some(json!({"password": "new"})),
    )
    .await;
    let old = s
        .call_as(("ops", "ops-pw"), Method::GET, "/rest/user", None)
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let bad = s
        .call(
            Method::PUT,
            "/rest/user",
            Some(json!({"name": "x", "group": "write", "password": "p"})),
        )
        .await;
    assert!(
        bad.detail().starts_with("invalid value for argument group"),
        "{}",
        bad.json
    );
    let missing = s
        .call(Method::PUT, "/rest/user", Some(json!({"name": "x"})))
        .await;
    assert!(
        missing.detail().starts_with("missing =group="),
        "{}",
        missing.json
    );
    let last = s.call(Method::DELETE, "/rest/user/*1", None).await;
    assert_eq!(
        last.status,
        StatusCode::NO_CONTENT,
        "ops is still a full user"
    );
    let a = s
        .call_as(("ops", "new"), Method::DELETE, "/rest/user/*3", None)
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "the last full user stays"
    );
    assert!(a.detail().starts_with("failure:"), "{}", a.json);
    let gone = s
        .call_as(("ops", "new"), Method::DELETE, "/rest/user/*9", None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn export_is_the_compact_script() {
    let s = server();
    let a = s.post("/rest/export", json!({})).await;
    assert_eq!(a.status, StatusCode::OK);
    let text = a.json["ret"].as_str().unwrap();
    assert!(text.starts_with("# ") && text.lines().next().unwrap().contains("by statewall"));
    assert!(
        text.contains("/ip firewall filter\nadd action=accept chain=input"),
        "{text}"
    );
    let cfg = shared::config::RouterConfig::from_rsc(text).unwrap();
    assert_eq!(cfg.to_rsc(), s.state.config.read().config().to_rsc());
    let terse = s.post("/rest/export", json!({"terse": ""})).await;
    assert!(terse.json["ret"]
        .as_str()
        .unwrap()
        .contains("/ip firewall nat add "));
    let sensitive = s.post("/rest/export", json!({"show-sensitive": ""})).await;
    assert_eq!(sensitive.status, StatusCode::OK);
    let verbose = s.post("/rest/export", json!({"verbose": ""})).await;
    assert_eq!(verbose.status, StatusCode::OK);
    assert!(verbose.json["ret"]
        .as_str()
        .unwrap()
        .contains(" !src-address"));
    assert_eq!(s.get("/rest/export").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_change_the_dataplane_refuses_changes_nothing() {
    let s = server();
    let before = s.get(FILTER).await.json;
    let saved = std::fs::read(s.dir.0.join(crate::store::CONFIG_FILE)).unwrap();
    s.local
        .fail_reconfigure
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let a = s
        .call(Method::PUT, FILTER, Some(json!({"chain": "input"})))
        .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        a.json,
        json!({"error": 500, "message": "Internal Server Error"})
    );
    assert_eq!(s.get(FILTER).await.json, before);
    let now = std::fs::read(s.dir.0.join(crate::store::CONFIG_FILE)).unwrap();
    assert_eq!(
        shared::config::RouterConfig::from_rsc(&String::from_utf8(now).unwrap()).unwrap(),
        shared::config::RouterConfig::from_rsc(&String::from_utf8(saved).unwrap()).unwrap()
    );
    // The next id is not used up either.
    assert_eq!(add(&s, FILTER, json!({"chain": "input"})).await, "*C");
}
