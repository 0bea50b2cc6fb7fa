//! Names an import from the page gives: its id, its server's, and the
//! uploaded file's as kept.

use std::path::Path;

/// The file in the upload folder naming the server that keeps it.
pub(super) const RUNNER_FILE: &str = ".server-id";

/// Names the server that runs imports from an upload folder: a random name
/// kept in the folder (made, the server's alone, at first start), so that
/// it lasts as long as the uploads do, whatever the machine is called.
pub(super) fn runner_name(dir: &Path) -> String {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let _ = builder.create(dir);
    let file = dir.join(RUNNER_FILE);
    if let Ok(name) = std::fs::read_to_string(&file) {
        if !name.trim().is_empty() {
            return name.trim().to_string();
        }
    }
    let name = import_id();
    if let Err(error) = std::fs::write(&file, &name) {
        tracing::warn!("cannot keep this server's name in its upload folder: {error}");
    }
    name
}

/// A new import's id: random, so it says nothing of who or when.
pub(super) fn import_id() -> String {
    use rand::Rng;
    format!("{:032x}", rand::rng().random::<u128>())
}

/// An uploaded file's name as it is kept: its last component, of letters,
/// digits and `._- ` only, never empty or hidden; the extension tells the
/// format of a single file, so it is kept.
pub fn upload_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ' '))
        .collect();
    let kept = kept.trim().trim_start_matches('.');
    let mut kept: String = kept
        .chars()
        .rev()
        .take(120)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if kept.is_empty() {
        kept = "upload".into();
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_name_keeps_its_last_component_and_extension_only() {
        assert_eq!(upload_name("my_spotify_data.zip"), "my_spotify_data.zip");
        assert_eq!(upload_name("../../etc/passwd"), "passwd");
        assert_eq!(
            upload_name("C:\\Users\\me\\endsong_0.json"),
            "endsong_0.json"
        );
        assert_eq!(upload_name("..."), "upload");
        assert_eq!(upload_name(""), "upload");
        assert_eq!(upload_name(".hidden.csv"), "hidden.csv");
        assert_eq!(upload_name("a\u{0}b\nc<script>.json"), "abcscript.json");
        let long = format!("{}.zip", "x".repeat(300));
        let kept = upload_name(&long);
        assert_eq!(kept.len(), 120);
        assert!(kept.ends_with(".zip"));
    }

    #[test]
    fn import_ids_differ() {
        assert_ne!(import_id(), import_id());
        assert_eq!(import_id().len(), 32);
    }
}
