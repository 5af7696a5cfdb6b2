//! The reactor on its own thread, startable in-process.

use std::net::SocketAddr;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use twine_core::protocol::Factory;
use twine_core::{Reactor, ReactorHandle};

use crate::blocking::mark_reactor_thread;
use crate::config::Config;
use crate::driver::{Control, Driver, ShutdownReport};
use crate::metrics::Metrics;

/// A reactor running on its own OS thread over the mio driver, with its
/// thread pool. What `twine serve` runs, and what tests and the gateway
/// start in-process.
///
/// ```
/// use std::io::{BufRead, BufReader, Write};
/// use std::net::TcpStream;
/// use twine_core::protocol::factory;
/// use twine_core::protocols::{Echo, LineEcho};
/// use twine_native::{Config, ReactorThread};
///
/// let (server, addr) = ReactorThread::spawn(Config::default(), |setup| {
///     setup.listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| LineEcho::new(Echo)))
/// })
/// .unwrap();
/// let mut client = TcpStream::connect(addr).unwrap();
/// client.write_all(b"hello\r\n").unwrap();
/// let mut line = String::new();
/// BufReader::new(&client).read_line(&mut line).unwrap();
/// assert_eq!(line, "hello\r\n");
/// server.shutdown();
/// assert!(server.join().is_clean());
/// ```
pub struct ReactorThread {
    handle: ReactorHandle,
    metrics: Metrics,
    control: Arc<Control>,
    thread: Option<JoinHandle<ShutdownReport>>,
}

/// What the setup closure of [`ReactorThread::spawn`] gets, on the reactor
/// thread, before the loop starts.
pub struct Setup<'a> {
    driver: &'a mut Driver,
}

impl Setup<'_> {
    /// The reactor: install a trace sink, schedule calls, listen, connect.
    pub fn reactor(&self) -> &Reactor {
        self.driver.reactor.reactor()
    }

    /// The handle other threads use to reach the reactor.
    pub fn handle(&self) -> ReactorHandle {
        self.driver.reactor.handle()
    }

    /// The reactor's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.driver.metrics
    }

    /// What the gateway hands upgraded WebSockets to this reactor through.
    pub(crate) fn handoff(&self) -> crate::driver::Handoff {
        crate::driver::Handoff::new(self.driver.control.clone())
    }

    /// Listens for TCP connections on `addr` (port 0: any free port) and
    /// returns the bound address, or the bind error (address in use, ...).
    /// Twisted's `listenTCP`, bound at once.
    pub fn listen_tcp(&mut self, addr: SocketAddr, factory: impl Factory) -> std::io::Result<SocketAddr> {
        let port = self.driver.reactor.listen_tcp(addr, factory);
        // A listener nobody waits on logs its failure; the caller gets this
        // one as the error below, so wait on it (and let the wait end quietly).
        port.when_listening().add_errback(move |_| addr);
        self.driver.apply_effects();
        match port.address() {
            Some(bound) => Ok(bound),
            None => Err(match self.driver.listen_errors.remove(&port.id()) {
                Some(e) => std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")),
                None => std::io::Error::other(format!("cannot listen on {addr}")),
            }),
        }
    }

    /// Runs `hook` on the reactor thread when a graceful shutdown begins,
    /// before connections are asked to close: a gateway stops its HTTP
    /// server and says goodbye to its clients here.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use twine_native::{Config, ReactorThread};
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let (server, ()) = ReactorThread::spawn(Config::default(), move |setup| {
    ///     setup.on_shutdown(move |reactor| tx.send(reactor.is_running()).unwrap());
    ///     Ok(())
    /// })
    /// .unwrap();
    /// assert!(rx.try_recv().is_err());
    /// server.shutdown();
    /// server.join();
    /// assert_eq!(rx.try_recv(), Ok(true), "the hook ran while the reactor was still running");
    /// ```
    pub fn on_shutdown(&mut self, hook: impl FnOnce(&Reactor) + 'static) {
        self.driver.shutdown_hooks.push(Box::new(hook));
    }
}

impl ReactorThread {
    /// Starts a reactor thread. `setup` runs on it first (install listeners,
    /// a trace sink, timers) and its value is returned here, once the
    /// listeners it asked for are bound. A setup error or panic stops the
    /// thread and is returned.
    pub fn spawn<T: Send + 'static>(
        config: Config,
        setup: impl FnOnce(&mut Setup<'_>) -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<(ReactorThread, T)> {
        type Ready<T> = std::io::Result<(ReactorHandle, Metrics, Arc<Control>, T)>;
        let (tx, rx) = mpsc::sync_channel::<Ready<T>>(1);
        let thread = std::thread::Builder::new().name(config.thread_name.clone()).spawn(move || {
            mark_reactor_thread();
            let mut driver = match Driver::new(config) {
                Ok(driver) => driver,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return ShutdownReport::default();
                }
            };
            let outcome = catch_unwind(AssertUnwindSafe(|| setup(&mut Setup { driver: &mut driver })));
            driver.apply_effects();
            let ready = match outcome {
                Ok(Ok(value)) => Ok((driver.reactor.handle(), driver.metrics.clone(), driver.control.clone(), value)),
                Ok(Err(e)) => Err(e),
                Err(payload) => {
                    let failure = twine_core::defer::Failure::from_panic(payload);
                    Err(std::io::Error::other(format!("the reactor setup panicked: {}", failure.message())))
                }
            };
            let ok = ready.is_ok();
            let _ = tx.send(ready);
            if ok {
                driver.run()
            } else {
                driver.finish()
            }
        })?;
        match rx.recv() {
            Ok(Ok((handle, metrics, control, value))) => {
                Ok((ReactorThread { handle, metrics, control, thread: Some(thread) }, value))
            }
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(std::io::Error::other("the reactor thread died during setup"))
            }
        }
    }

    /// The handle other threads use to reach the reactor.
    pub fn handle(&self) -> &ReactorHandle {
        &self.handle
    }

    /// The reactor's health counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Begins a graceful shutdown and returns at once: stop accepting, run
    /// the `on_shutdown` hooks, flush and close connections, let jobs finish
    /// (within [`Config::shutdown_grace`]), stop the reactor, join the pool.
    /// Idempotent.
    pub fn shutdown(&self) {
        self.control.request_shutdown();
    }

    /// Whether the reactor thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the reactor thread to end (after [`shutdown`](Self::shutdown),
    /// a signal, or `reactor.stop()`), and says how it ended.
    pub fn join(mut self) -> ShutdownReport {
        self.join_thread()
    }

    fn join_thread(&mut self) -> ShutdownReport {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(report)) => report,
            Some(Err(payload)) => resume_unwind(payload),
            None => ShutdownReport::default(),
        }
    }
}

impl Drop for ReactorThread {
    /// Shuts the reactor down and waits for it, unless already joined.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
            if !std::thread::panicking() {
                self.join_thread();
            }
        }
    }
}

impl std::fmt::Debug for ReactorThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReactorThread").field("finished", &self.is_finished()).finish()
    }
}
