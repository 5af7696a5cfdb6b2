//! Reconnecting with capped exponential backoff: Twisted's
//! `ReconnectingClientFactory`.

use std::cell::RefCell;
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::{ClientFactory, Connector, Factory, Protocol};
use crate::defer::Failure;
use crate::reactor::{DelayedCall, Reactor};

/// A small seeded generator (SplitMix64): jitter must be reproducible (the
/// simulation replays runs byte for byte) and core reads no OS randomness.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal, as the sum of twelve uniforms less six (Irwin–Hall):
    /// plain arithmetic, so the same seed gives the same delays on every
    /// target, where `ln` and `cos` (Box–Muller) may differ in the last bit.
    fn next_normal(&mut self) -> f64 {
        (0..12).map(|_| self.next_f64()).sum::<f64>() - 6.0
    }
}

/// The delays between reconnection attempts: Twisted's
/// `ReconnectingClientFactory` arithmetic, on its own.
///
/// Each retry multiplies the delay by `factor`, caps it at `max_delay`, then
/// draws the actual delay from a normal distribution centred on it with
/// standard deviation `delay * jitter`; the drawn delay is the base for the
/// next retry, as in Twisted. So the first retry waits about
/// `initial_delay * factor`. After `max_retries` retries it gives up.
///
/// Defaults are Twisted's: `initial_delay` 1 s, `factor` e, `jitter`
/// 0.11962656472, `max_delay` 3600 s, no retry limit. The jitter comes from a
/// small generator seeded with [`with_seed`](Self::with_seed) (default 0):
/// give each client its own seed so they do not retry in step.
///
/// ```
/// use std::time::Duration;
/// use twine_core::protocol::Backoff;
///
/// let mut backoff = Backoff::new()
///     .with_initial_delay(Duration::from_secs(1))
///     .with_factor(2.0)
///     .with_jitter(0.0)
///     .with_max_delay(Duration::from_secs(5))
///     .with_max_retries(Some(4));
/// let delays: Vec<_> = std::iter::from_fn(|| backoff.next_delay()).collect();
/// assert_eq!(delays, [2, 4, 5, 5].map(Duration::from_secs));
/// backoff.reset();
/// assert_eq!(backoff.next_delay(), Some(Duration::from_secs(2)));
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    initial_delay: f64,
    factor: f64,
    jitter: f64,
    max_delay: f64,
    max_retries: Option<u32>,
    delay: f64,
    retries: u32,
    seed: u64,
    rng: SplitMix64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

impl Backoff {
    /// Twisted's defaults.
    pub fn new() -> Backoff {
        Backoff {
            initial_delay: 1.0,
            factor: std::f64::consts::E,
            jitter: 0.119_626_564_72,
            max_delay: 3600.0,
            max_retries: None,
            delay: 1.0,
            retries: 0,
            seed: 0,
            rng: SplitMix64(0),
        }
    }

    /// The delay the growth starts from (Twisted's `initialDelay`).
    pub fn with_initial_delay(mut self, delay: Duration) -> Backoff {
        self.initial_delay = delay.as_secs_f64();
        self.delay = self.initial_delay;
        self
    }

    /// What each retry multiplies the delay by (Twisted's `factor`).
    pub fn with_factor(mut self, factor: f64) -> Backoff {
        self.factor = factor;
        self
    }

    /// The standard deviation of a delay, as a fraction of it (Twisted's `jitter`); 0 for none.
    pub fn with_jitter(mut self, jitter: f64) -> Backoff {
        self.jitter = jitter;
        self
    }

    /// The cap on the delay before jitter (Twisted's `maxDelay`).
    pub fn with_max_delay(mut self, delay: Duration) -> Backoff {
        self.max_delay = delay.as_secs_f64();
        self
    }

    /// Gives up after this many retries (Twisted's `maxRetries`); `None` never gives up.
    pub fn with_max_retries(mut self, retries: Option<u32>) -> Backoff {
        self.max_retries = retries;
        self
    }

    /// Seeds the jitter.
    ///
    /// ```
    /// use twine_core::protocol::Backoff;
    ///
    /// let delays = |seed| {
    ///     let mut b = Backoff::new().with_seed(seed);
    ///     [b.next_delay(), b.next_delay(), b.next_delay()]
    /// };
    /// assert_eq!(delays(7), delays(7));
    /// assert_ne!(delays(7), delays(8));
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Backoff {
        self.seed = seed;
        self.rng = SplitMix64(seed);
        self
    }

    /// Retries counted since the last reset.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The current delay base.
    pub fn delay(&self) -> Duration {
        Duration::try_from_secs_f64(self.delay).unwrap_or_default()
    }

    /// Counts a retry and returns how long to wait before it, or `None` when
    /// the retry limit is reached. Twisted's `retry` arithmetic.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.retries = self.retries.saturating_add(1);
        if self.max_retries.is_some_and(|max| self.retries > max) {
            return None;
        }
        self.delay = (self.delay * self.factor).min(self.max_delay);
        if self.jitter != 0.0 {
            self.delay += self.delay * self.jitter * self.rng.next_normal();
        }
        // A negative draw (huge jitter) means "at once", as a negative callLater does.
        Some(Duration::try_from_secs_f64(self.delay).unwrap_or_default())
    }

    /// Back to the initial delay and no retries (Twisted's `resetDelay`).
    /// The jitter generator carries on: a reset does not replay old delays.
    pub fn reset(&mut self) {
        self.delay = self.initial_delay;
        self.retries = 0;
    }
}

type Build = Box<dyn FnMut(SocketAddr) -> Option<Box<dyn Protocol>>>;

struct State {
    backoff: Backoff,
    reactor: Reactor,
    connector: Option<Connector>,
    call: Option<DelayedCall>,
    continue_trying: bool,
    reset_on_connect: bool,
}

/// A client factory that reconnects when a connection fails or is lost,
/// waiting longer each time: Twisted's `ReconnectingClientFactory`.
///
/// A successful connection resets the delay (Twisted leaves that to the
/// user's `buildProtocol`; here it is on by default, see
/// [`reset_on_connect`](Self::reset_on_connect)). [`stop_trying`](Self::stop_trying)
/// gives up. It is a cheap handle: pass one clone to
/// [`connect_tcp`](Reactor::connect_tcp) and keep another to stop it or look
/// at its retries.
///
/// ```
/// use std::time::Duration;
/// use twine_core::protocol::{Backoff, ReconnectingClientFactory};
/// use twine_core::protocols::{basic::LineReceiver, Echo};
/// use twine_core::testing::MemoryReactor;
///
/// let memory = MemoryReactor::new(); // nothing listens: every attempt is refused
/// let reactor = memory.reactor();
/// let factory = ReconnectingClientFactory::new(&reactor, || LineReceiver::new(Echo))
///     .with_backoff(Backoff::new().with_factor(2.0).with_jitter(0.0).with_max_retries(Some(3)));
/// reactor.connect_tcp("127.0.0.1:9".parse().unwrap(), factory.clone(), Duration::from_secs(1));
/// memory.advance(Duration::from_secs(60));
/// assert_eq!(memory.connect_attempts().len(), 4); // the first try and three retries, at 0, 2, 6 and 14 s
/// assert_eq!(factory.retries(), 4); // the fourth retry was refused by max_retries
/// assert!(!factory.retry_pending());
/// ```
#[derive(Clone)]
pub struct ReconnectingClientFactory {
    state: Rc<RefCell<State>>,
    /// Apart from `state`, so the closure may look at the factory.
    build: Rc<RefCell<Build>>,
}

impl ReconnectingClientFactory {
    /// A factory building `P`s, scheduling retries on `reactor`, with Twisted's default backoff.
    pub fn new<P: Protocol>(reactor: &Reactor, mut build: impl FnMut() -> P + 'static) -> ReconnectingClientFactory {
        ReconnectingClientFactory::with_builder(reactor, move |_| Some(Box::new(build())))
    }

    /// A factory from a closure that sees the server's address and may refuse.
    pub fn with_builder(
        reactor: &Reactor,
        build: impl FnMut(SocketAddr) -> Option<Box<dyn Protocol>> + 'static,
    ) -> ReconnectingClientFactory {
        ReconnectingClientFactory {
            state: Rc::new(RefCell::new(State {
                backoff: Backoff::new(),
                reactor: reactor.clone(),
                connector: None,
                call: None,
                continue_trying: true,
                reset_on_connect: true,
            })),
            build: Rc::new(RefCell::new(Box::new(build))),
        }
    }

    /// Uses `backoff` for the delays.
    pub fn with_backoff(self, backoff: Backoff) -> ReconnectingClientFactory {
        self.state.borrow_mut().backoff = backoff;
        self
    }

    /// Whether a connection that is made resets the delay (default `true`).
    /// Turn it off to call [`reset_delay`](Self::reset_delay) yourself, say
    /// once the protocol's handshake succeeded.
    pub fn reset_on_connect(self, reset: bool) -> ReconnectingClientFactory {
        self.state.borrow_mut().reset_on_connect = reset;
        self
    }

    /// The backoff as it stands (retries, current delay).
    pub fn backoff(&self) -> Backoff {
        self.state.borrow().backoff.clone()
    }

    /// Retries counted since the last reset.
    pub fn retries(&self) -> u32 {
        self.state.borrow().backoff.retries()
    }

    /// Whether a retry is scheduled.
    pub fn retry_pending(&self) -> bool {
        self.state.borrow().call.as_ref().is_some_and(DelayedCall::active)
    }

    /// Whether it will retry when the connection fails or is lost.
    pub fn is_trying(&self) -> bool {
        self.state.borrow().continue_trying
    }

    /// Resets the delay and the retry count, and trying again
    /// (Twisted's `resetDelay`).
    pub fn reset_delay(&self) {
        let mut state = self.state.borrow_mut();
        state.backoff.reset();
        state.continue_trying = true;
    }

    /// Stops retrying: cancels a scheduled retry and gives up an attempt in
    /// progress (Twisted's `stopTrying`). An open connection stays open.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::protocol::ReconnectingClientFactory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// let factory = ReconnectingClientFactory::new(&memory.reactor(), || Echo);
    /// memory.reactor().connect_tcp("127.0.0.1:9".parse().unwrap(), factory.clone(), Duration::from_secs(1));
    /// memory.settle();
    /// assert!(factory.retry_pending()); // refused at once; a retry waits
    /// factory.stop_trying();
    /// memory.advance(Duration::from_secs(3600));
    /// assert_eq!(memory.connect_attempts().len(), 1);
    /// ```
    pub fn stop_trying(&self) {
        let (call, connector) = {
            let mut state = self.state.borrow_mut();
            state.continue_trying = false;
            (state.call.take(), state.connector.clone())
        };
        if let Some(call) = call {
            let _ = call.cancel();
        }
        if let Some(connector) = connector {
            connector.stop_connecting();
        }
    }

    /// Schedules the next attempt on `connector`, unless told to stop or out of retries.
    fn retry(&self, connector: &Connector) {
        let mut state = self.state.borrow_mut();
        state.connector = Some(connector.clone());
        if !state.continue_trying {
            return;
        }
        let Some(delay) = state.backoff.next_delay() else {
            tracing::info!(addr = %connector.address(), "abandoning after {} retries", state.backoff.retries() - 1);
            return;
        };
        tracing::debug!(addr = %connector.address(), "reconnecting in {:.3} s", delay.as_secs_f64());
        let weak = Rc::downgrade(&self.state);
        let connector = connector.clone();
        let call = state.reactor.call_later(delay, move |_| {
            if let Some(state) = weak.upgrade() {
                state.borrow_mut().call = None;
            }
            connector.connect();
        });
        state.call = Some(call);
    }
}

impl Factory for ReconnectingClientFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        let protocol = (self.build.borrow_mut())(addr);
        let mut state = self.state.borrow_mut();
        if protocol.is_some() && state.reset_on_connect {
            state.backoff.reset();
            state.continue_trying = true;
        }
        protocol
    }
}

impl ClientFactory for ReconnectingClientFactory {
    fn started_connecting(&mut self, connector: &Connector) {
        self.state.borrow_mut().connector = Some(connector.clone());
    }

    fn client_connection_failed(&mut self, connector: &Connector, reason: &Failure) {
        tracing::debug!(addr = %connector.address(), "connection failed: {reason}");
        self.retry(connector);
    }

    fn client_connection_lost(&mut self, connector: &Connector, reason: &Failure) {
        tracing::debug!(addr = %connector.address(), "connection lost: {reason}");
        self.retry(connector);
    }
}

impl fmt::Debug for ReconnectingClientFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("ReconnectingClientFactory")
            .field("backoff", &state.backoff)
            .field("continue_trying", &state.continue_trying)
            .field("retry_pending", &state.call.as_ref().is_some_and(DelayedCall::active))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irwin_hall_normal_has_unit_spread() {
        let mut rng = SplitMix64(7);
        let draws: Vec<f64> = (0..20_000).map(|_| rng.next_normal()).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn same_seed_same_delays_different_seed_different_delays() {
        let run = |seed| {
            let mut b = Backoff::new().with_seed(seed);
            (0..8).map(|_| b.next_delay().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }
}
