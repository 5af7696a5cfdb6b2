//! The live driver: a real twine-core reactor in the page, on the browser's
//! own event loop, talking to the native gateway over a web-sys WebSocket.
//!
//! The reactor is the same sans-IO state machine `twine serve` runs on mio;
//! here the browser is its driver: `performance.now()` is the clock, one
//! `setTimeout` stands for the next timer, and a `WebSocket` is a message
//! connection whose events become `handle_message` / `handle_closed` and
//! whose `Effect::Send`s become `ws.send`. It needs only the global
//! scope's `performance`, timers and `WebSocket`, so it runs in a worker as
//! well as in a window (the playground runs it in a worker).
//!
//! [`LiveEcho`] runs core's [`LatencyProbe`] over `/ws`:
//!
//! ```js
//! import init, { LiveEcho } from './pkg/twine_web.js';
//! await init();
//! const echo = new LiveEcho(`ws://${location.host}/ws`);
//! echo.onRoundTrip(({ seq, text, rtt_ms }) => console.log(seq, text, rtt_ms));
//! echo.onOpen(() => echo.send('hello, reactor'));
//! echo.onClose((reason) => console.log('closed:', reason));
//! echo.summary(); // {sent, received, lost, min_ms, mean_ms, p50_ms, p90_ms, p99_ms, max_ms}
//! ```

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::time::Duration;

use js_sys::{ArrayBuffer, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ConnectionId, ConnectionKind, Message, Protocol};
use twine_core::protocols::{LatencyProbe, LatencySummary, ProbeConfig, ProbeReport};
use twine_core::reactor::Effect;
use twine_core::{ReactorDriver, Time};

// The global scope's clock and timers, a window's or a worker's alike: the
// playground runs the echo in a worker, so the page's drawing cannot hold
// back the handler that times a reply.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, delay_ms: i32) -> i32;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: i32);
}

/// The browser's monotonic clock, in reactor time.
fn now() -> Time {
    Time::from_nanos((performance_now() * 1e6) as u64)
}

/// Where a live connection stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LinkState {
    Connecting,
    Open,
    Closed,
}

impl LinkState {
    fn name(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Open => "open",
            LinkState::Closed => "closed",
        }
    }
}

/// One WebSocket and the closures that must live as long as it.
struct Socket {
    ws: WebSocket,
    _handlers: [Closure<dyn FnMut(JsValue)>; 3],
}

/// Drives one reactor from browser events.
struct Driver {
    reactor: ReactorDriver,
    socket: RefCell<Option<Socket>>,
    conn: Cell<Option<ConnectionId>>,
    state: Cell<LinkState>,
    /// The pending `setTimeout`: its handle and the reactor time it is for.
    timer: Cell<Option<(i32, Time)>>,
    timer_callback: RefCell<Option<Closure<dyn FnMut()>>>,
    on_open: RefCell<Option<Function>>,
    on_close: RefCell<Option<Function>>,
}

impl Driver {
    fn new() -> Rc<Driver> {
        let reactor = ReactorDriver::new();
        reactor.set_clock(now);
        let driver = Rc::new(Driver {
            reactor,
            socket: RefCell::new(None),
            conn: Cell::new(None),
            state: Cell::new(LinkState::Connecting),
            timer: Cell::new(None),
            timer_callback: RefCell::new(None),
            on_open: RefCell::new(None),
            on_close: RefCell::new(None),
        });
        let weak = Rc::downgrade(&driver);
        *driver.timer_callback.borrow_mut() = Some(Closure::new(move || {
            if let Some(driver) = weak.upgrade() {
                driver.timer.set(None);
                driver.pump();
            }
        }));
        driver
    }

    /// One pass of the loop: a turn, its effects, and the next wake-up.
    fn pump(&self) {
        self.reactor.handle_timeout(now());
        self.apply_effects();
        self.schedule_timer();
    }

    fn apply_effects(&self) {
        while let Some(effect) = self.reactor.poll_effect() {
            let socket = self.socket.borrow();
            let Some(socket) = socket.as_ref() else { continue };
            let sent = match effect {
                Effect::Send { message, .. } => match message.as_text() {
                    Some(text) => socket.ws.send_with_str(text),
                    None => socket.ws.send_with_u8_array(message.as_bytes()),
                },
                Effect::Write { data, .. } => socket.ws.send_with_u8_array(&data),
                Effect::Close { .. } | Effect::Abort { .. } => socket.ws.close_with_code(1000),
                // Reading a WebSocket cannot be paused; the browser buffers.
                Effect::PauseReading { .. } | Effect::ResumeReading { .. } => Ok(()),
                // The browser does not say when a send has left: no drains to report.
                Effect::ReportDrained { .. } => Ok(()),
                other => {
                    web_sys::console::warn_1(&format!("live driver: {other:?} is not supported in the page").into());
                    Ok(())
                }
            };
            if let Err(e) = sent {
                web_sys::console::warn_1(&e);
            }
        }
    }

    fn schedule_timer(&self) {
        let Some(due) = self.reactor.poll_timeout() else { return };
        if self.timer.get().is_some_and(|(_, at)| at <= due) {
            return; // an earlier wake-up is already set
        }
        if let Some((handle, _)) = self.timer.take() {
            clear_timeout(handle);
        }
        let delay_ms = (due - now()).as_secs_f64() * 1e3;
        let callback = self.timer_callback.borrow();
        let Some(callback) = callback.as_ref() else { return };
        let handle = set_timeout(callback.as_ref().unchecked_ref(), delay_ms.ceil() as i32);
        self.timer.set(Some((handle, due)));
    }

    /// Opens `url` and hosts the protocol `make` builds on it once open.
    fn connect(self: &Rc<Self>, url: &str, make: impl FnOnce() -> Box<dyn Protocol> + 'static) -> Result<(), JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let peer = peer_address(url);
        let weak = Rc::downgrade(self);
        let mut make = Some(make);
        let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let (Some(driver), Some(make)) = (weak.upgrade(), make.take()) else { return };
            let local: SocketAddr = ([0, 0, 0, 0], 0).into();
            let conn = driver.reactor.open_connection(now(), make(), ConnectionKind::Message, peer, local);
            driver.conn.set(Some(conn));
            driver.state.set(LinkState::Open);
            driver.pump();
            call(&driver.on_open, &JsValue::UNDEFINED);
        });
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Some(driver) = weak.upgrade() else { return };
            let Some(conn) = driver.conn.get() else { return };
            let Ok(event) = event.dyn_into::<MessageEvent>() else { return };
            let data = event.data();
            let message = match data.as_string() {
                Some(text) => Message::text(text),
                None => match data.dyn_into::<ArrayBuffer>() {
                    Ok(buffer) => Message::binary(Uint8Array::new(&buffer).to_vec()),
                    Err(_) => return,
                },
            };
            driver.reactor.handle_message(now(), conn, message);
            driver.pump();
        });
        let weak: Weak<Driver> = Rc::downgrade(self);
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Some(driver) = weak.upgrade() else { return };
            let (clean, reason) = match event.dyn_ref::<CloseEvent>() {
                Some(e) if e.was_clean() => (
                    true,
                    format!("closed ({}{}{})", e.code(), if e.reason().is_empty() { "" } else { ": " }, e.reason()),
                ),
                Some(e) => (false, format!("connection lost ({})", e.code())),
                None => (false, "connection lost".to_owned()),
            };
            driver.state.set(LinkState::Closed);
            if let Some(conn) = driver.conn.take() {
                let kind = if clean { FailureKind::ConnectionDone } else { FailureKind::ConnectionLost };
                driver.reactor.handle_closed(now(), conn, Failure::new(kind, reason.clone()));
                driver.pump();
            }
            call(&driver.on_close, &JsValue::from_str(&reason));
            // Let the socket and its closures go once this handler returns.
            let socket = driver.socket.borrow_mut().take();
            if let Some(socket) = socket {
                socket.ws.set_onopen(None);
                socket.ws.set_onmessage(None);
                socket.ws.set_onclose(None);
                free_later(socket);
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.socket.borrow_mut() = Some(Socket { ws, _handlers: [on_open, on_message, on_close] });
        self.pump(); // the first turn starts the reactor
        Ok(())
    }
}

/// Dropping a closure while it runs is undefined in wasm-bindgen; the close
/// handler hands its socket to a zero-delay timeout, which drops it later.
fn free_later(socket: Socket) {
    let mut socket = Some(socket);
    let free = Closure::once_into_js(move || drop(socket.take()));
    set_timeout(free.unchecked_ref(), 0);
}

fn call(callback: &RefCell<Option<Function>>, arg: &JsValue) {
    let callback = callback.borrow().clone();
    if let Some(f) = callback {
        if let Err(e) = f.call1(&JsValue::NULL, arg) {
            web_sys::console::error_1(&e);
        }
    }
}

/// The peer as a socket address when the URL names one (`ws://127.0.0.1:8080/ws`).
fn peer_address(url: &str) -> SocketAddr {
    let authority = url.split("://").nth(1).unwrap_or(url).split('/').next().unwrap_or("");
    authority.parse().unwrap_or_else(|_| ([0, 0, 0, 0], 0).into())
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn summary_object(s: &LatencySummary) -> JsValue {
    let o = Object::new();
    set(&o, "sent", s.sent as f64);
    set(&o, "received", s.received as f64);
    set(&o, "lost", s.lost as f64);
    for (key, d) in [
        ("min_ms", s.min),
        ("mean_ms", s.mean),
        ("p50_ms", s.p50),
        ("p90_ms", s.p90),
        ("p99_ms", s.p99),
        ("max_ms", s.max),
    ] {
        set(&o, key, ms(d));
    }
    o.into()
}

/// An echo console: core's [`LatencyProbe`] in the page, over a WebSocket to
/// the gateway's `/ws` echo. Each [`send`](LiveEcho::send) is a probe
/// carrying the text; each echo is reported with its round-trip time.
#[wasm_bindgen]
pub struct LiveEcho {
    driver: Rc<Driver>,
    report: ProbeReport,
}

#[wasm_bindgen]
impl LiveEcho {
    /// Connects to `url` (a `ws://` URL). Throws if the URL is not one.
    #[wasm_bindgen(constructor)]
    pub fn new(url: &str) -> Result<LiveEcho, JsValue> {
        let driver = Driver::new();
        let config = ProbeConfig { manual: true, close_when_done: false, ..ProbeConfig::default() };
        let (probe, report) = LatencyProbe::new(config);
        driver.connect(url, move || Box::new(probe))?;
        Ok(LiveEcho { driver, report })
    }

    /// Calls `f()` once the WebSocket is open.
    #[wasm_bindgen(js_name = onOpen)]
    pub fn on_open(&self, f: Function) {
        *self.driver.on_open.borrow_mut() = Some(f);
    }

    /// Calls `f(reason)` when the connection ends.
    #[wasm_bindgen(js_name = onClose)]
    pub fn on_close(&self, f: Function) {
        *self.driver.on_close.borrow_mut() = Some(f);
    }

    /// Calls `f({seq, text, rtt_ms})` for every echo that comes back.
    #[wasm_bindgen(js_name = onRoundTrip)]
    pub fn on_round_trip(&self, f: Function) {
        self.report.on_round_trip(move |trip| {
            let o = Object::new();
            set(&o, "seq", trip.seq as f64);
            set(&o, "text", trip.text);
            set(&o, "rtt_ms", ms(trip.rtt));
            if let Err(e) = f.call1(&JsValue::NULL, &o) {
                web_sys::console::error_1(&e);
            }
        });
    }

    /// Sends `text` as a probe and returns its sequence number. Throws when
    /// the connection is not open.
    pub fn send(&self, text: &str) -> Result<f64, JsValue> {
        let seq = self
            .report
            .send(text)
            .ok_or_else(|| js_sys::Error::new(&format!("the echo connection is {}", self.state())))?;
        self.driver.apply_effects();
        self.driver.schedule_timer();
        Ok(seq as f64)
    }

    /// Round-trip statistics so far: `{sent, received, lost, min_ms, mean_ms, p50_ms, p90_ms, p99_ms, max_ms}`.
    pub fn summary(&self) -> JsValue {
        summary_object(&self.report.summary())
    }

    /// `"connecting"`, `"open"` or `"closed"`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.driver.state.get().name().to_owned()
    }

    /// Closes the connection (the reactor's protocol sees it close cleanly).
    pub fn close(&self) {
        if let Some(socket) = self.driver.socket.borrow().as_ref() {
            let _ = socket.ws.close_with_code(1000);
        }
    }
}
