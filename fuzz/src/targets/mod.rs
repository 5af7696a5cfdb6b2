//! The targets, one per decoder or parser a client or a link reaches.

pub mod framing;
pub mod frontends;
pub mod http;
pub mod websocket;

use crate::Target;

/// Every target's name, in the order `cargo xtask fuzz` runs them.
pub const NAMES: &[&str] = &["framing", "websocket", "http", "scenario", "python", "scenario-run", "python-run"];

/// The target called `name`, ready to run (`http` starts a reactor and a gateway).
pub fn by_name(name: &str) -> Result<Box<dyn Target>, String> {
    Ok(match name {
        "framing" => Box::new(framing::Framing),
        "websocket" => Box::new(websocket::WebSocket),
        "http" => Box::new(http::Http::new().map_err(|e| format!("cannot start the gateway: {e}"))?),
        "scenario" => Box::new(frontends::ScenarioJson { run: false }),
        "scenario-run" => Box::new(frontends::ScenarioJson { run: true }),
        "python" => Box::new(frontends::Python { run: false }),
        "python-run" => Box::new(frontends::Python { run: true }),
        other => return Err(format!("no target `{other}` (targets: {})", NAMES.join(", "))),
    })
}
