//! Compiles the common-password list (`data/common-passwords.txt`) into what
//! `src/domain/password.rs` searches: only the entries a policy can meet (a policy that refuses
//! common passwords requires at least `SHORTEST_CHECKED` characters, `src/domain/preset.rs`),
//! sorted, one per line, so a lookup is a binary search and nothing is built at run time.

/// `password::SHORTEST_CHECKED`, which `src/domain/password.rs`'s tests hold to this.
const SHORTEST_CHECKED: usize = 8;

fn main() {
    let source = "data/common-passwords.txt";
    println!("cargo:rerun-if-changed={source}");
    let text = std::fs::read_to_string(source).expect("the common-password list");
    let mut entries: Vec<&str> =
        text.lines().map(str::trim).filter(|entry| entry.chars().count() >= SHORTEST_CHECKED).collect();
    entries.sort_unstable();
    entries.dedup();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("common-passwords.txt");
    std::fs::write(out, entries.join("\n")).expect("OUT_DIR is writable");
}
