//! Commands run directly on a router in memory: what REST, the binary API and the console all
//! reach.

use super::*;
use crate::testing::{state_with, Local, TempDir};
use crate::users::Group;

fn admin() -> Login {
    Login {
        user: "admin".into(),
        group: Group::Full,
    }
}

fn viewer() -> Login {
    Login {
        user: "viewer".into(),
        group: Group::Read,
    }
}

#[test]
fn print_with_query_proplist_and_count_only() {
    let dir = TempDir::new("command");
    let (st, _) = state_with(&dir, Local::new);
    let mut cmd = Command::new(&["ip", "firewall", "connection"], "print");
    cmd.query = Some(Query::parse(&["?=protocol=tcp"]).unwrap());
    cmd.proplist = Some(vec!["src-address".into(), "protocol".into()]);
    let reply = execute(&st, &admin(), cmd).unwrap();
    assert_eq!(
        reply.rows,
        [Row(vec![
            ("protocol".into(), "tcp".into()),
            ("src-address".into(), "198.51.100.10:40000".into())
        ])]
    );
    let mut count = Command::new(&["ip", "firewall", "connection"], "getall");
    count.count_only = true;
    assert_eq!(
        execute(&st, &viewer(), count).unwrap().ret.as_deref(),
        Some("3")
    );
    let tracking = Command::new(&["ip", "firewall", "connection", "tracking"], "print");
    let rows = execute(&st, &viewer(), tracking).unwrap().rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("udp-timeout"), Some("10s"));
    assert_eq!(rows[0].get("total-entries"), Some("3"));
    assert_eq!(rows[0].0.first().map(|(k, _)| k.as_str()), Some("enabled"));
}

#[test]
fn changes_go_through_the_editor_and_read_users_may_not() {
    let dir = TempDir::new("command");
    let (st, local) = state_with(&dir, Local::new);
    let set = Command::new(&["ip", "firewall", "connection", "tracking"], "set")
        .arg("udp-timeout", "30s");
    assert_eq!(
        execute(&st, &viewer(), set.clone())
            .unwrap_err()
            .to_string(),
        "not enough permissions: user viewer is in group read"
    );
    assert_eq!(execute(&st, &admin(), set).unwrap(), Reply::default());
    assert_eq!(
        local.udp_timeout(),
        shared::duration::Duration::from_secs(30)
    );
    let add = Command::new(&["ip", "firewall", "filter"], "add")
        .arg("chain", "forward")
        .arg("action", "drop");
    assert_eq!(
        execute(&st, &admin(), add).unwrap().ret.as_deref(),
        Some("*C")
    );
    let typo = Command::new(&["ip", "firewall", "filter"], "add").arg("chian", "x");
    let err = execute(&st, &admin(), typo).unwrap_err();
    assert!(
        err.to_string().starts_with("unknown parameter chian"),
        "{err}"
    );
    assert_eq!(err.category(), 1);
    let missing = Command::new(&["ip", "firewall", "filter"], "remove").arg(".id", "*63");
    assert_eq!(
        execute(&st, &admin(), missing).unwrap_err(),
        CommandError::NoSuchItem("*63".into())
    );
}

#[test]
fn unknown_menus_commands_and_arguments_are_named() {
    let dir = TempDir::new("command");
    let (st, _) = state_with(&dir, Local::new);
    let cases = [
        (
            Command::new(&["ip", "nope"], "print"),
            "no such command or directory (nope)",
        ),
        (
            Command::new(&["ip", "firewall", "connection"], "add"),
            "no such command (add)",
        ),
        (Command::new(&["interface"], "set"), "no such command (set)"),
        (
            Command::new(&[], "frobnicate"),
            "no such command or directory (frobnicate)",
        ),
        (
            Command::new(&["ip", "firewall", "filter"], "print").arg("where", "x"),
            "unknown parameter where",
        ),
        (
            {
                let mut c = Command::new(&["user"], "set");
                c.count_only = true;
                c
            },
            "unknown parameter count-only",
        ),
    ];
    for (cmd, text) in cases {
        let shown = format!("{cmd:?}");
        assert_eq!(
            execute(&st, &admin(), cmd).unwrap_err().to_string(),
            text,
            "{shown}"
        );
    }
}

#[test]
fn get_and_export() {
    let dir = TempDir::new("command");
    let (st, _) = state_with(&dir, Local::new);
    let get = Command::new(&["ip", "firewall", "connection", "tracking"], "get")
        .arg("value-name", "icmp-timeout");
    assert_eq!(
        execute(&st, &admin(), get).unwrap().ret.as_deref(),
        Some("10s")
    );
    let get = Command::new(&["ip", "firewall", "filter"], "get")
        .arg("numbers", "*1")
        .arg("value-name", "chain");
    assert_eq!(
        execute(&st, &admin(), get).unwrap().ret.as_deref(),
        Some("input")
    );
    let export = execute(&st, &viewer(), Command::new(&[], "export")).unwrap();
    assert!(export.ret.unwrap().contains("/ip firewall filter"));
    let sensitive = Command::new(&[], "export").arg("show-sensitive", "");
    assert!(matches!(
        execute(&st, &viewer(), sensitive),
        Err(CommandError::NotPermitted { .. })
    ));
}

#[test]
fn listen_polls_a_print_that_keeps_ids() {
    let mut cmd = Command::new(&["ip", "firewall", "connection"], "listen");
    cmd.proplist = Some(vec!["protocol".into()]);
    let print = listen_print(&cmd).unwrap();
    assert_eq!(print.verb, "print");
    assert_eq!(
        print.proplist,
        Some(vec![".id".to_string(), "protocol".to_string()])
    );
    let settings = Command::new(&["ip", "settings"], "listen");
    assert_eq!(
        listen_print(&settings).unwrap_err(),
        CommandError::NoSuchCommand("listen".into())
    );
}

#[test]
fn import_runs_a_file_on_top_of_the_configuration_whole_or_not_at_all() {
    let dir = TempDir::new("command");
    let (st, local) = state_with(&dir, Local::new);
    let store = st.config.store();
    let filters = |st: &AppState| {
        st.config
            .read()
            .list(&["ip", "firewall", "filter"])
            .unwrap()
            .len()
    };
    let before = filters(&st);
    let good = "/ip firewall filter\n\
                add chain=forward action=drop src-address=192.0.2.66 comment=\"imported\"\n\
                /ip firewall connection tracking\nset udp-timeout=45s\n";
    store.save_backup("extra.rsc", good.as_bytes(), 10).unwrap();
    let bad = "/ip firewall filter\nadd chain=forward action=drop\n\
               add chain=forward action=acept\n";
    store.save_backup("bad.rsc", bad.as_bytes(), 10).unwrap();

    // A mistake anywhere: nothing of the file applies, and the error says where.
    let err = execute(
        &st,
        &admin(),
        Command::new(&[], "import").arg("file-name", "bad.rsc"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("acept") && err.contains("line 3"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(filters(&st), before);

    // A dry run checks only; the name may leave out `.rsc`.
    let dry = Command::new(&[], "import")
        .arg("file-name", "extra")
        .arg("dry-run", "");
    execute(&st, &admin(), dry).unwrap();
    assert_eq!(filters(&st), before);

    // Read users may not import; a missing file is named.
    let import = Command::new(&[], "import").arg("file-name", "extra.rsc");
    assert!(execute(&st, &viewer(), import.clone()).is_err());
    let missing = Command::new(&[], "import").arg("file-name", "nope.rsc");
    let err = execute(&st, &admin(), missing).unwrap_err().to_string();
    assert!(err.contains("no such file nope.rsc"), "{err}");

    // The real thing: added after what is there, in force in the dataplane, saved.
    execute(&st, &admin(), import).unwrap();
    let editor = st.config.read();
    let rules = editor.list(&["ip", "firewall", "filter"]).unwrap();
    assert_eq!(rules.len(), before + 1);
    let last = rules.last().unwrap();
    assert!(last
        .props
        .iter()
        .any(|(k, v)| k == "comment" && v == "imported"));
    let tracking = editor
        .settings(&["ip", "firewall", "connection", "tracking"])
        .unwrap();
    assert!(tracking
        .iter()
        .any(|(k, v)| k == "udp-timeout" && v == "45s"));
    drop(editor);
    assert_eq!(local.udp_timeout().to_string(), "45s");
    let applied = local.applied.lock().unwrap();
    let applied = applied
        .as_ref()
        .expect("the dataplane got the configuration");
    assert!(applied
        .filter
        .iter()
        .any(|r| r.comment.as_deref() == Some("imported")));
    let saved = std::fs::read_to_string(store.path("config.rsc")).unwrap();
    assert!(saved.contains("imported") && saved.contains("udp-timeout=45s"));
}
