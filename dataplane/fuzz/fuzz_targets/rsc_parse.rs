//! The `.rsc` parser and validator on any text: never a panic, and whatever parses prints back
//! to a script that parses to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::rsc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = rsc::check(text);
    if let Ok(script) = rsc::parse(text) {
        let printed = rsc::print(&script);
        let again = rsc::parse(&printed).expect("printed script parses");
        assert_eq!(again.canonical(), script.canonical());
    }
});
