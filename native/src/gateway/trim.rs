//! Giving memory back to the system after connections leave.
//!
//! A client that does not read makes the server hold what it could not
//! send (up to its reactor stream's high-water mark, plus the framing's
//! buffers). When the client leaves, all of it is freed, but glibc's
//! allocator keeps freed memory in its per-thread arenas for reuse rather
//! than returning it (on the tokio bridge this branch was written against,
//! 50 such clients left the process 37 MiB larger for good; the reactor
//! itself keeps only its bounded pool of spare write buffers). So, at most once a second and only after WebSockets
//! have closed, the gateway asks the allocator to return what it can
//! (`malloc_trim`, which walks every arena). Elsewhere this does nothing.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::App;

/// How often to look for closed WebSockets.
const EVERY: Duration = Duration::from_secs(1);

/// Runs until the gateway shuts down.
pub(super) async fn give_back_memory(app: Arc<App>) {
    let mut shutdown = app.shutdown.clone();
    let closed = |app: &App| app.stats.ws_total.load(Ordering::Relaxed).saturating_sub(app.slots.open() as u64);
    let mut seen = closed(&app);
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = super::shutting_down(&mut shutdown) => return,
        }
        let now = closed(&app);
        if now != seen {
            seen = now;
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; it only returns free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
