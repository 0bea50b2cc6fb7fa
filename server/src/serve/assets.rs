//! The dashboard's own files under `/pkg` (wasm, script, style). A release
//! build (`cargo leptos build --release --split --precompress`) names them after a
//! hash of their content, listed in `hash.txt` beside the server binary, and
//! leaves brotli and gzip copies beside them: browsers get the compressed
//! copy they accept and keep the file for a year, since a new build means a
//! new name. Files named plainly (a development build) are checked again on
//! every use instead.

use std::path::{Path, PathBuf};

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::warn;

/// How the built site names its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `name.<hash>.wasm`: a name is never reused for other content.
    Hashed,
    /// `name.wasm`: the same name after every build.
    Plain,
}

impl Naming {
    fn cache_control(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Naming::Hashed => "public, max-age=31536000, immutable",
            Naming::Plain => "no-cache",
        })
    }
}

/// Finds how the site at `options.site_root` names its files (hashed when
/// the `hash.txt` beside the server binary names a wasm that is there) and
/// tells Leptos, so that pages link the right names. Says so in the log when
/// the site is not there at all: the API still works, pages cannot hydrate.
pub fn detect_naming(options: &mut LeptosOptions) -> Naming {
    let pkg = pkg_dir(options);
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(options.hash_file.as_ref())))
        .and_then(|hash_file| std::fs::read_to_string(hash_file).ok())
        .and_then(|hashes| wasm_hash(&hashes).map(str::to_string))
        .is_some_and(|hash| {
            pkg.join(format!("{}.{hash}.wasm", options.output_name))
                .is_file()
        });
    let naming = if hashed {
        Naming::Hashed
    } else {
        if !pkg.join(format!("{}.wasm", options.output_name)).is_file() {
            warn!(
                "the dashboard's files are not in {} (nor the hashed ones that {} beside the \
                 server binary names): pages will not work. Build them with `cargo leptos build \
                 --release --split --precompress`, set LEPTOS_SITE_ROOT to the site folder, and keep \
                 hash.txt beside the server binary",
                pkg.display(),
                options.hash_file
            );
        }
        Naming::Plain
    };
    options.hash_files = naming == Naming::Hashed;
    naming
}

/// `/pkg/*` from the site folder, compressed copies preferred.
pub fn routes(options: &LeptosOptions, naming: Naming) -> Router {
    let files = ServeDir::new(pkg_dir(options))
        .precompressed_br()
        .precompressed_gzip();
    let cache_control = naming.cache_control();
    Router::new()
        .nest_service("/pkg", files)
        // Only a file found is kept: a name not there (yet) may be asked again.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            move |response: &Response| {
                response
                    .status()
                    .is_success()
                    .then(|| cache_control.clone())
            },
        ))
}

fn pkg_dir(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

/// The wasm's hash in cargo-leptos's `hash.txt` (lines `ext: hash`).
fn wasm_hash(hashes: &str) -> Option<&str> {
    hashes.lines().find_map(|line| {
        let (ext, hash) = line.split_once(':')?;
        (ext.trim() == "wasm").then(|| hash.trim()).filter(|hash| {
            !hash.is_empty()
                && hash
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn found_files_are_kept_a_year_missing_ones_not_at_all() {
        let site = tempfile::tempdir().unwrap();
        std::fs::create_dir(site.path().join("pkg")).unwrap();
        std::fs::write(site.path().join("pkg/app.abc.wasm"), b"\0asm").unwrap();
        let options = LeptosOptions::builder()
            .output_name("app")
            .site_root(site.path().to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .build();
        let get = |path: &str| {
            routes(&options, Naming::Hashed)
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
        };
        let found = get("/pkg/app.abc.wasm").await.unwrap();
        assert_eq!(found.status(), StatusCode::OK);
        assert_eq!(
            found.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        for path in [
            "/pkg/app.old.wasm",
            "/pkg/../pkg/app.abc.wasm",
            "/pkg/%2e%2e/secret",
        ] {
            let missing = get(path).await.unwrap();
            assert!(
                !missing.status().is_success(),
                "{path}: {}",
                missing.status()
            );
            assert!(
                missing.headers().get(header::CACHE_CONTROL).is_none(),
                "{path}"
            );
        }
    }

    #[test]
    fn the_wasm_hash_is_read_from_the_hash_file() {
        assert_eq!(
            wasm_hash("js: abc\nwasm: Xy-9_z\ncss: def\n"),
            Some("Xy-9_z")
        );
        assert_eq!(wasm_hash("js: abc\n"), None);
        assert_eq!(wasm_hash("wasm: ../../etc\n"), None);
    }
}
