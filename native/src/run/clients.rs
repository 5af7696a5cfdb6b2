//! Real clients on loopback: TCP connections sending one line per request
//! (its id) and reading the id back, open loop (requests at a fixed or
//! Poisson rate whatever the server does) or closed loop (each client sends,
//! waits for its answer, thinks, sends again).
//!
//! Latency is from when a request was due to when its answer was read, as
//! in the simulation: an open-loop sender that falls behind does not hide
//! the server's delay (no coordinated omission).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use twine_scenario::arrivals::{ClosedClient, OpenArrivals};
use twine_scenario::program::ClientsDef;

use super::metrics::ClientReport;

/// Where the clients are: running, or done with what they measured.
pub(crate) struct Clients {
    report: Arc<Mutex<ClientReport>>,
    threads: Vec<thread::JoinHandle<()>>,
    /// Set when every request is answered (or the server is gone).
    pub done: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

/// Poison is not an error here: a client thread that panicked left its figures.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Clients {
    /// Connects and starts sending. `epoch` is time zero; `until_ns` ends
    /// sending when the scenario gives no request count.
    pub(crate) fn start(
        def: ClientsDef,
        server: SocketAddr,
        epoch: Instant,
        until_ns: u64,
        seed: u64,
    ) -> std::io::Result<Clients> {
        let report = Arc::new(Mutex::new(ClientReport::default()));
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let now_ns = move || epoch.elapsed().as_nanos() as u64;
        let sleep_until = move |t_ns: u64| {
            let now = now_ns();
            if t_ns > now {
                thread::sleep(Duration::from_nanos(t_ns - now));
            }
        };
        match def {
            ClientsDef::Open { mean_gap, poisson, requests, connections, start, .. } => {
                let streams: Vec<TcpStream> =
                    (0..connections.max(1)).map(|_| connect(server)).collect::<std::io::Result<_>>()?;
                // Request i's due time, by id, and whether it was answered:
                // an answer counts once, and only for a request that was sent.
                let due: Arc<Mutex<Vec<(u64, bool)>>> = Arc::new(Mutex::new(Vec::new()));
                let answered = Arc::new(std::sync::atomic::AtomicU64::new(0));
                let all_sent = Arc::new(AtomicBool::new(false));
                for stream in &streams {
                    let reader = BufReader::new(stream.try_clone()?);
                    let (report, due, done, answered, all_sent) =
                        (report.clone(), due.clone(), done.clone(), answered.clone(), all_sent.clone());
                    threads.push(thread::spawn(move || {
                        for line in reader.lines() {
                            let Ok(line) = line else { break };
                            let Ok(id) = line.trim().parse::<usize>() else { continue };
                            let at = now_ns();
                            let sent = match lock(&due).get_mut(id) {
                                Some((sent, answered @ false)) => {
                                    *answered = true;
                                    *sent
                                }
                                _ => continue,
                            };
                            let mut r = lock(&report);
                            r.latencies_ns.push(at.saturating_sub(sent));
                            r.last_answer_ns = Some(at);
                            let n = answered.fetch_add(1, Ordering::SeqCst) + 1;
                            if all_sent.load(Ordering::SeqCst) && n >= r.sent {
                                done.store(true, Ordering::SeqCst);
                            }
                        }
                        // The server closed: nothing more will be answered.
                        done.store(true, Ordering::SeqCst);
                    }));
                }
                let (report, stop, done) = (report.clone(), stop.clone(), done.clone());
                threads.push(thread::spawn(move || {
                    let mut streams = streams;
                    // The simulation's send times for this seed.
                    for (id, t) in OpenArrivals::new(seed, start, mean_gap, poisson).enumerate() {
                        if requests.is_some_and(|n| id as u64 >= n) || t > until_ns || stop.load(Ordering::SeqCst) {
                            break;
                        }
                        sleep_until(t);
                        lock(&due).push((t, false));
                        {
                            let mut r = lock(&report);
                            r.sent += 1;
                            r.first_sent_ns.get_or_insert(t);
                        }
                        let c = id % streams.len();
                        if streams[c].write_all(format!("{id}\r\n").as_bytes()).is_err() {
                            break;
                        }
                    }
                    all_sent.store(true, Ordering::SeqCst);
                    if answered.load(Ordering::SeqCst) >= lock(&report).sent {
                        done.store(true, Ordering::SeqCst);
                    }
                }));
            }
            ClientsDef::Closed { clients, think, exponential, requests, start, .. } => {
                let left = Arc::new(std::sync::atomic::AtomicU32::new(clients));
                for client in 0..clients {
                    let stream = connect(server)?;
                    // The simulation's first send and think times for this seed and client.
                    let mut schedule = ClosedClient::new(seed, client, think, exponential);
                    let first = schedule.first_send(start);
                    let (report, stop, done, left) = (report.clone(), stop.clone(), done.clone(), left.clone());
                    threads.push(thread::spawn(move || {
                        let mut reader = match stream.try_clone() {
                            Ok(s) => BufReader::new(s),
                            Err(_) => return,
                        };
                        let mut writer = stream;
                        let mut t = first;
                        let mut line = String::new();
                        for id in 0u64.. {
                            if requests.is_some_and(|n| id >= n) || t > until_ns || stop.load(Ordering::SeqCst) {
                                break;
                            }
                            sleep_until(t);
                            {
                                let mut r = lock(&report);
                                r.sent += 1;
                                r.first_sent_ns = Some(r.first_sent_ns.map_or(t, |f| f.min(t)));
                            }
                            line.clear();
                            if writer.write_all(format!("{id}\r\n").as_bytes()).is_err()
                                || reader.read_line(&mut line).unwrap_or(0) == 0
                            {
                                break;
                            }
                            if line.trim().parse::<u64>().ok() != Some(id) {
                                // Not this request's answer: the server is confused; stop.
                                break;
                            }
                            let at = now_ns();
                            {
                                let mut r = lock(&report);
                                r.latencies_ns.push(at - t.min(at));
                                r.last_answer_ns = Some(r.last_answer_ns.map_or(at, |l| l.max(at)));
                            }
                            t = at + schedule.pause();
                        }
                        if left.fetch_sub(1, Ordering::SeqCst) == 1 {
                            done.store(true, Ordering::SeqCst);
                        }
                    }));
                }
            }
        }
        Ok(Clients { report, threads, done, stop })
    }

    /// Stops sending, waits for the client threads, and returns what they measured.
    /// Call after the server is gone: readers end at its close.
    pub(crate) fn finish(self) -> ClientReport {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        let report = lock(&self.report).clone();
        report
    }
}

fn connect(server: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(server)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
