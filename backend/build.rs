//! rust-embed notices changed files of `frontend/dist` but not added ones: rebuild when the
//! folder changes. While there is no build, watch `frontend/` for one to appear (a missing
//! path would make cargo run this script on every build).

fn main() {
    let dist = std::path::Path::new("../frontend/dist");
    if dist.is_dir() {
        println!("cargo:rerun-if-changed=../frontend/dist");
    } else {
        println!("cargo:rerun-if-changed=../frontend");
    }
}
