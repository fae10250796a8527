//! The repository these tests check: its files, and what of it is deployed (the function crates,
//! the route table's routes but the dev server's, and the keys each function holds).

use shared::http::routes::{Function, Keys, ROUTES, Route};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The workspace's root: the directory above this crate.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The text of the file at `path` below the workspace's root.
pub fn read(path: &str) -> String {
    let full = root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// The crates in `functions/` that are deployed: all but the dev server.
pub fn function_crates() -> BTreeSet<String> {
    let dir = root().join("functions");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| path.file_name().expect("a name").to_string_lossy().into_owned())
        .filter(|name| name != "dev-server")
        .collect()
}

/// The route table's deployed routes: all but the dev server's.
pub fn deployed_routes() -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(|r| r.function != Function::Dev)
}

/// The keys a deployed function holds, as the route table declares them; the authorizer's own
/// (`shared::authorizer::KEYS`); none for the cleanup, which serves no route.
pub fn declared_keys(name: &str) -> Keys {
    if name == "authorizer" {
        return shared::authorizer::KEYS;
    }
    deployed_routes().find(|r| r.function.name() == name).map_or(Keys::NONE, |r| r.function.keys())
}
