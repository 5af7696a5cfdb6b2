//! Connections per client address (`twine serve --max-connections-per-ip`):
//! one count shared by everything that accepts (the HTTP gateway, its
//! WebSockets, the TCP line echo on every reactor), so that one address
//! cannot take the places `--max-http-connections` and the fd limit leave
//! for everyone.
//!
//! A place is taken at accept and given back when its connection closes (a
//! WebSocket keeps its HTTP connection's place). Past the limit, the gateway
//! answers 429 and the line echo writes a line saying why, then closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The shared count of open connections per address. Cheap to clone: every
/// clone counts against the same limit.
///
/// ```
/// use twine_native::PerIpLimit;
///
/// let limit = PerIpLimit::new(2);
/// let ip = "192.0.2.7".parse().unwrap();
/// let a = limit.try_take(ip).unwrap();
/// let _b = limit.try_take(ip).unwrap();
/// assert!(limit.try_take(ip).is_none()); // a third from the same address
/// assert!(limit.try_take("192.0.2.8".parse().unwrap()).is_some()); // others carry on
/// drop(a);
/// assert!(limit.try_take(ip).is_some());
/// ```
#[derive(Clone)]
pub struct PerIpLimit {
    shared: Arc<Shared>,
}

struct Shared {
    max: usize,
    /// Only addresses with a connection open: entries go at zero.
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place under its address's limit; given back when dropped.
pub struct IpPlace {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl PerIpLimit {
    /// At most `max` connections open from one address at once (at least 1).
    pub fn new(max: usize) -> PerIpLimit {
        PerIpLimit { shared: Arc::new(Shared { max: max.max(1), open: Mutex::new(HashMap::new()) }) }
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.shared.max
    }

    /// A place for one more connection from `ip`, or `None` when it has
    /// `max` open already.
    pub fn try_take(&self, ip: IpAddr) -> Option<IpPlace> {
        // An IPv4 client reaching an IPv6 socket is the same client.
        let ip = ip.to_canonical();
        let mut open = self.shared.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.shared.max {
            return None;
        }
        *n += 1;
        Some(IpPlace { shared: self.shared.clone(), ip })
    }

    /// Connections open from `ip` now.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.shared.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&ip.to_canonical()).copied().unwrap_or(0)
    }
}

impl Drop for IpPlace {
    fn drop(&mut self) {
        let mut open = self.shared.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl std::fmt::Debug for PerIpLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerIpLimit").field("max", &self.shared.max).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_client_counts_the_same_through_an_ipv6_socket() {
        let limit = PerIpLimit::new(1);
        let _a = limit.try_take("127.0.0.1".parse().unwrap()).unwrap();
        assert!(limit.try_take("::ffff:127.0.0.1".parse().unwrap()).is_none());
        assert_eq!(limit.open("127.0.0.1".parse().unwrap()), 1);
    }

    #[test]
    fn addresses_with_nothing_open_are_forgotten() {
        let limit = PerIpLimit::new(3);
        let place = limit.try_take("10.0.0.1".parse().unwrap()).unwrap();
        drop(place);
        assert!(limit.shared.open.lock().unwrap().is_empty());
    }
}
