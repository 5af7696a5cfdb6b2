//! Static files from `--www`, confined to that directory.
//!
//! tower-http's `ServeDir` refuses `..` in a path but follows symbolic
//! links wherever they point: a link in `www` to `/etc/passwd` would be
//! served. Before `ServeDir` sees a request, the file it names (and for a
//! directory, its `index.html`) is resolved with every link followed; if
//! that leaves the canonical `www` root, the answer is 404, as for a file
//! that is not there. Links that stay inside the root still work.
//!
//! The check and `ServeDir`'s open are two steps: someone who can change
//! links inside `www` between them could still race it. The guard is
//! against links already there (a checkout, a build output), not against a
//! writer of `www`.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::compression::Compression;
use tower_http::services::ServeDir;

/// `ServeDir` behind the check that a file's real path is inside the root.
#[derive(Clone)]
pub(super) struct ConfinedDir {
    /// The root with every link resolved; `None` if it does not exist (then
    /// nothing is served).
    root: Option<PathBuf>,
    serve: Compression<ServeDir>,
}

impl ConfinedDir {
    pub(super) fn new(www: &Path) -> ConfinedDir {
        ConfinedDir {
            root: std::fs::canonicalize(www).ok(),
            // The build writes brotli and gzip copies of the large generated
            // files (wasm, bundles) at full strength; everything else is
            // gzipped as it is sent. Only the files: a WebSocket upgrade
            // must not be touched.
            serve: Compression::new(
                ServeDir::new(www).append_index_html_on_directories(true).precompressed_br().precompressed_gzip(),
            ),
        }
    }

    pub(super) async fn serve(self, request: Request) -> Response {
        let Some(root) = self.root.clone() else { return not_found() };
        let Some(relative) = relative_path(request.uri().path()) else { return not_found() };
        let inside = tokio::task::spawn_blocking(move || stays_inside(&root, &relative)).await.unwrap_or(false);
        if !inside {
            return not_found();
        }
        match self.serve.oneshot(request).await {
            Ok(response) => response.map(Body::new),
            Err(e) => {
                tracing::warn!("reading a static file failed: {e}");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// The request path as a relative file path, decoded as `ServeDir` decodes
/// it; `None` for what `ServeDir` refuses too (`..`, a root, bad UTF-8).
fn relative_path(uri_path: &str) -> Option<PathBuf> {
    // A request target that is not a path (`GET healthz`, authority form)
    // names no file; ServeDir answered it 500.
    let decoded = percent_decode(uri_path.strip_prefix('/')?.trim_start_matches('/'))?;
    let mut out = PathBuf::new();
    for component in Path::new(&decoded).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

pub(super) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Whether `relative` under `root` (and, for a directory, its
/// `index.html`) resolves to a place inside `root`. What does not exist
/// passes: `ServeDir` answers 404 for it.
fn stays_inside(root: &Path, relative: &Path) -> bool {
    let path = root.join(relative);
    let real = match std::fs::canonicalize(&path) {
        Ok(real) => real,
        // A dangling link is not served either way; say 404 here.
        Err(_) => return std::fs::symlink_metadata(&path).is_err(),
    };
    if !real.starts_with(root) {
        return false;
    }
    if real.is_dir() {
        let index = real.join("index.html");
        if let Ok(real_index) = std::fs::canonicalize(&index) {
            return real_index.starts_with(root);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_decode_like_serve_dir_and_refuse_climbing() {
        assert_eq!(relative_path("/pkg/a%20b.js"), Some(PathBuf::from("pkg/a b.js")));
        assert_eq!(relative_path("/"), Some(PathBuf::new()));
        assert_eq!(relative_path("/./x"), Some(PathBuf::from("x")));
        assert_eq!(relative_path("/../etc/passwd"), None);
        assert_eq!(relative_path("/%2e%2e/etc/passwd"), None);
        assert_eq!(relative_path("//etc/passwd"), Some(PathBuf::from("etc/passwd")));
        assert_eq!(relative_path("/%ff"), None);
        assert_eq!(relative_path("/100%"), Some(PathBuf::from("100%")));
        // Not a path (`GET healthz`, authority form): no file.
        assert_eq!(relative_path("healthz"), None);
        assert_eq!(relative_path(""), None);
    }
}
