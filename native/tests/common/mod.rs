//! Helpers shared by the integration tests: servers in-process and as a
//! child process, a seeded PRNG, and polling.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Lines, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use twine_native::cli::line_echo_factory;
use twine_native::{Config, ReactorThread};

/// A line echo server on an ephemeral loopback port.
pub fn line_echo(config: Config) -> (ReactorThread, SocketAddr) {
    ReactorThread::spawn(config, |setup| setup.listen_tcp(([127, 0, 0, 1], 0).into(), line_echo_factory()))
        .expect("start the line echo")
}

/// A small deterministic PRNG (xorshift64*), so failures replay.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// `n` bytes that are not all alike.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

/// Polls `check` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `twine serve ARGS` as a child process: its stdout read line by line,
/// its stderr collected as it comes. Killed on drop if still running.
pub struct TwineProcess {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr_text: Arc<Mutex<String>>,
    stderr: Option<JoinHandle<()>>,
}

impl TwineProcess {
    pub fn serve(args: &[&str]) -> TwineProcess {
        TwineProcess::spawn(Command::new(env!("CARGO_BIN_EXE_twine")).arg("serve").args(args))
    }

    /// `twine serve ARGS` with at most `max_fds` file descriptors
    /// (`RLIMIT_NOFILE`, set in the child before it runs twine).
    pub fn serve_with_fd_limit(args: &[&str], max_fds: u64) -> TwineProcess {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(env!("CARGO_BIN_EXE_twine"));
        command.arg("serve").args(args);
        // SAFETY: setrlimit(2) is async-signal-safe, and the closure touches
        // nothing else of the parent's between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit { rlim_cur: max_fds as libc::rlim_t, rlim_max: max_fds as libc::rlim_t };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        TwineProcess::spawn(&mut command)
    }

    fn spawn(command: &mut Command) -> TwineProcess {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start twine");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut pipe = child.stderr.take().unwrap();
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let text = stderr_text.clone();
        // Read as it comes, so a chatty log never fills the pipe and blocks the server.
        let stderr = std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        TwineProcess { child, stdout, stderr_text, stderr: Some(stderr) }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has written on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr_text.lock().unwrap().clone()
    }

    /// The next line it prints on stdout.
    pub fn next_line(&mut self) -> String {
        self.stdout.next().expect("twine exited before printing a line").expect("read twine's stdout")
    }

    /// Reads stdout up to the line that starts with `prefix`; returns the rest of that line.
    pub fn line_after(&mut self, prefix: &str) -> String {
        loop {
            if let Some(rest) = self.next_line().strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    pub fn sigterm(&self) {
        // SAFETY: kill(2) with a pid we spawned and still own (not yet waited for).
        assert_eq!(unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    }

    /// Waits up to `timeout` for it to exit; past that kills it and returns `None`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything it wrote on stderr, once it has exited.
    pub fn stderr(&mut self) -> String {
        if let Some(reader) = self.stderr.take() {
            reader.join().unwrap();
        }
        self.stderr_so_far()
    }
}

impl Drop for TwineProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How many file descriptors a process has open, from /proc.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// User plus system CPU time of a process, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces), from field 3 on.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / per_second)
}
