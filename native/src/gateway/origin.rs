//! Which browser origins may open a WebSocket (`--allowed-origin`).
//!
//! Browsers send `Origin` with every WebSocket handshake and let any page
//! open one to any server, so the server decides. Clients that are not
//! browsers (load generators, test suites, `websocat`) send no `Origin` and
//! are let in: the check protects users' browsers, not the server.

use std::net::{IpAddr, SocketAddr};

use axum::http::Uri;

/// The rule for `Origin` headers. Always allowed: the server's own host,
/// meaning an origin whose host is the IP address the server listens on
/// (with its port), or, when the page was loaded by IP address, the same
/// IP and port as the request's `Host`. Beyond that: the origins listed
/// (`*` allows every origin), or, when none are listed, loopback origins
/// (`localhost`, `127.0.0.0/8`, `[::1]`, any port).
///
/// Host names are matched only when listed: a page on a domain that happens
/// to resolve to this server (DNS rebinding) is refused.
///
/// ```
/// use twine_native::gateway::OriginPolicy;
///
/// let policy = OriginPolicy::new(&[], "127.0.0.1:8080".parse().unwrap()).unwrap();
/// assert!(policy.allows(Some("http://localhost:3000"), Some("127.0.0.1:8080")));
/// assert!(!policy.allows(Some("https://evil.example"), Some("127.0.0.1:8080")));
/// assert!(policy.allows(None, None)); // not a browser
///
/// let listed = OriginPolicy::new(&["https://app.example".into()], "0.0.0.0:8080".parse().unwrap()).unwrap();
/// assert!(listed.allows(Some("https://app.example"), Some("app.example")));
/// assert!(!listed.allows(Some("http://localhost:3000"), Some("app.example")));
/// assert!(listed.allows(Some("http://10.0.0.5:8080"), Some("10.0.0.5:8080"))); // same origin, by IP
/// ```
#[derive(Clone, Debug)]
pub struct OriginPolicy {
    any: bool,
    listed: Vec<Origin>,
    server: SocketAddr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(text: &str) -> Result<Origin, String> {
        let trimmed = text.trim().trim_end_matches('/');
        let uri: Uri = trimmed.parse().map_err(|e| format!("{text:?} is not an origin: {e}"))?;
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase).ok_or_else(|| format!("{text:?} has no scheme"))?;
        let default_port = match scheme.as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => return Err(format!("{text:?}: the scheme must be http or https")),
        };
        let host = uri.host().ok_or_else(|| format!("{text:?} has no host"))?.to_ascii_lowercase();
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty()) {
            return Err(format!("{text:?}: an origin has no path"));
        }
        Ok(Origin { scheme, host, port: uri.port_u16().unwrap_or(default_port) })
    }

    fn ip(&self) -> Option<IpAddr> {
        self.host.trim_start_matches('[').trim_end_matches(']').parse().ok()
    }

    fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.ip().is_some_and(|ip| ip.is_loopback())
    }
}

/// A `Host` header's IP and port, when its host is an IP literal.
fn host_ip(host: &str) -> Option<SocketAddr> {
    if let Ok(addr) = host.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 80))
}

impl OriginPolicy {
    /// The policy for a server listening on `server`, allowing `listed`
    /// origins (`scheme://host[:port]`, or `*`) besides its own host. Errs
    /// naming an entry that is not an origin.
    pub fn new(listed: &[String], server: SocketAddr) -> Result<OriginPolicy, String> {
        let mut policy = OriginPolicy { any: false, listed: Vec::new(), server };
        for entry in listed {
            if entry.trim() == "*" {
                policy.any = true;
            } else {
                policy.listed.push(Origin::parse(entry).map_err(|e| format!("--allowed-origin {e}"))?);
            }
        }
        Ok(policy)
    }

    /// Whether a handshake with this `Origin` (`None`: no header) and
    /// `Host` may go on.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        if self.any {
            return true;
        }
        let Ok(origin) = Origin::parse(origin) else { return false };
        if let Some(ip) = origin.ip() {
            let own = !self.server.ip().is_unspecified() && ip == self.server.ip() && origin.port == self.server.port();
            let same = host.and_then(host_ip).is_some_and(|h| h.ip() == ip && h.port() == origin.port);
            if own || same {
                return true;
            }
        }
        if self.listed.is_empty() {
            origin.is_loopback()
        } else {
            self.listed.contains(&origin)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(listed: &[&str], server: &str) -> OriginPolicy {
        OriginPolicy::new(&listed.iter().map(|s| s.to_string()).collect::<Vec<_>>(), server.parse().unwrap()).unwrap()
    }

    #[test]
    fn by_default_loopback_and_the_servers_own_address_are_allowed() {
        let p = policy(&[], "192.168.1.5:8080");
        for ok in ["http://localhost", "http://127.0.0.1:5173", "http://[::1]:8080", "http://192.168.1.5:8080"] {
            assert!(p.allows(Some(ok), Some("192.168.1.5:8080")), "{ok}");
        }
        for refused in
            ["http://192.168.1.5:9999", "https://evil.example", "null", "file://", "http://127.0.0.1.evil.example"]
        {
            assert!(!p.allows(Some(refused), Some("192.168.1.5:8080")), "{refused}");
        }
    }

    #[test]
    fn a_rebound_host_name_is_not_the_same_origin() {
        let p = policy(&[], "0.0.0.0:8080");
        assert!(!p.allows(Some("http://rebound.example:8080"), Some("rebound.example:8080")));
        assert!(p.allows(Some("http://10.1.2.3:8080"), Some("10.1.2.3:8080")));
        assert!(p.allows(Some("http://10.1.2.3"), Some("10.1.2.3")));
    }

    #[test]
    fn listed_origins_replace_loopback_and_star_allows_all() {
        let p = policy(&["HTTPS://App.Example/"], "127.0.0.1:8080");
        assert!(p.allows(Some("https://app.example"), None));
        assert!(p.allows(Some("https://app.example:443"), None));
        assert!(!p.allows(Some("http://app.example"), None));
        assert!(!p.allows(Some("http://localhost:3000"), None));
        assert!(p.allows(Some("http://127.0.0.1:8080"), None), "the server's own address stays allowed");
        assert!(policy(&["*"], "127.0.0.1:1").allows(Some("https://anything.example"), None));
    }

    #[test]
    fn entries_that_are_not_origins_are_refused_with_their_name() {
        let err = OriginPolicy::new(&["app.example".into()], "127.0.0.1:1".parse().unwrap()).unwrap_err();
        assert!(err.contains("app.example"), "{err}");
        let err = OriginPolicy::new(&["ftp://x".into()], "127.0.0.1:1".parse().unwrap()).unwrap_err();
        assert!(err.contains("http or https"), "{err}");
        assert!(OriginPolicy::new(&["https://x/path".into()], "127.0.0.1:1".parse().unwrap()).is_err());
    }
}
