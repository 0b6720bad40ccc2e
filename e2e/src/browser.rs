//! A real browser in the lab: headless Chromium driven over WebDriver (chromedriver), run inside
//! a lab host's namespace, so the dashboard is reached as an admin's laptop on the LAN reaches
//! it: over the lab's network, through the router, to `https://198.51.100.1`.
//!
//! chromedriver runs in the node's namespace (`ip netns exec`) and the WebDriver client talks to
//! it from a thread that entered the same namespace. The browser and everything it started are
//! ended by PID when the [`Browser`] drops, also when the test fails. Screenshots go to the
//! artifacts folder the test names.

use crate::lab::RouterLab;
use backend::lab::Node;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver's port inside the node's namespace (each test's lab has its own namespaces).
const DRIVER_PORT: u16 = 9515;
/// How long an element or a condition is waited for.
pub const WAIT: Duration = Duration::from_secs(15);

/// Whether chromium and chromedriver are installed; under CI their absence is a failure.
pub fn require_browser(test: &str) -> bool {
    let found = ["chromium", "chromedriver"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found {
        return true;
    }
    assert!(
        !crate::env::in_ci(),
        "{test}: chromium and chromedriver are missing (scripts/install-deps.sh installs them)"
    );
    eprintln!("SKIP {test}: chromium/chromedriver not installed (scripts/install-deps.sh)");
    false
}

/// chromedriver in a lab node's namespace; it and every process it started are killed by PID
/// when this drops.
pub struct Browser {
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver in `node`'s namespace.
    pub fn start(lab: &RouterLab, node: Node) -> Browser {
        let ns = lab.ns(node);
        let profile = std::env::temp_dir().join(format!("{ns}-chromium"));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("making the browser's profile folder");
        let driver = Command::new("ip")
            .args(["netns", "exec", &ns, "chromedriver"])
            .arg(format!("--port={DRIVER_PORT}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Browser { driver, profile }
    }

    /// Runs `f` with a WebDriver session, on a thread in `node`'s namespace, and ends the
    /// session afterwards (the page's console errors are printed if `f` panics).
    pub fn session<T: Send>(
        &self,
        lab: &RouterLab,
        node: Node,
        artifacts: &Path,
        f: impl AsyncFnOnce(&Page) -> T + Send,
    ) -> T {
        let profile = self.profile.clone();
        let artifacts = artifacts.to_path_buf();
        lab.in_ns(node, move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the WebDriver client");
            rt.block_on(async move {
                let client = connect(&profile).await;
                let page = Page {
                    client,
                    base: format!("https://{}", backend::lab::ROUTER_LAN),
                    artifacts,
                };
                let out = f(&page).await;
                let _ = page.client.clone().close().await;
                out
            })
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver's descendants (chromium and its helpers) first, found by parent PID
        // while chromedriver still lives, then chromedriver.
        let root = self.driver.id();
        for pid in descendants(root).into_iter().rev() {
            // SAFETY: kill(2) on a PID this test started (directly or through chromedriver).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Every process whose parent chain leads to `root`, parents before children.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            Some((pid, ppid.parse().ok()?))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// A WebDriver session to headless Chromium (retrying while chromedriver starts).
async fn connect(profile: &Path) -> Client {
    let caps = serde_json::json!({
        "browserName": "chrome",
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic",
                "--window-size=1280,800",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!("a JSON object")
    };
    let url = format!("http://127.0.0.1:{DRIVER_PORT}");
    let deadline = Instant::now() + WAIT;
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session from chromedriver within {WAIT:?}: {e}"),
        }
    }
}

/// The dashboard in the browser.
pub struct Page {
    pub client: Client,
    /// `https://198.51.100.1`.
    pub base: String,
    artifacts: PathBuf,
}

impl Page {
    /// Opens a path of the dashboard (`/`, `/connections?…`).
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => {
                let shot = self.screenshot(&format!("failed-{}", slug(css))).await;
                let url = self.client.current_url().await.map(|u| u.to_string());
                let html = self.client.source().await.unwrap_or_default();
                let html: String = html.chars().take(2000).collect();
                panic!(
                    "no element {css:?} within {WAIT:?}: {e}\nurl: {url:?}\nscreenshot: {}\n\
                     page source (start):\n{html}",
                    shot.display()
                )
            }
        }
    }

    /// Every element matching a CSS selector now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding {css:?}: {e}"))
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("the text of {css:?}: {e}"))
    }

    /// Waits until `check` returns `Some` (polled every 100 ms); panics with `what` and the last
    /// thing seen when it does not within [`WAIT`].
    pub async fn until<T, S: std::fmt::Debug>(
        &self,
        what: &str,
        mut check: impl AsyncFnMut(&Page) -> Result<T, S>,
    ) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            match check(self).await {
                Ok(v) => return v,
                Err(seen) if Instant::now() >= deadline => {
                    self.screenshot(&format!("failed-{}", slug(what))).await;
                    panic!("{what}: not within {WAIT:?}; last seen: {seen:?}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Types into the input matching `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing {css:?}: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css:?}: {e}"));
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    /// Runs JavaScript in the page; its return value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running script: {e}\n{script}"))
    }

    /// Saves a PNG of the viewport as `<artifacts>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        std::fs::create_dir_all(&self.artifacts).expect("making the artifacts folder");
        let path = self.artifacts.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing the screenshot");
        path
    }
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
