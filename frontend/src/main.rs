//! The dashboard's entry point (trunk builds this binary to WebAssembly).

fn main() {
    leptos::mount::mount_to_body(frontend::app::App);
}
