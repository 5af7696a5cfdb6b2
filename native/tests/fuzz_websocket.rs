//! Fuzzing the WebSocket path in the reactor from outside: after a real
//! handshake, a client sends frames built to be nearly right (every opcode,
//! reserved bits, masked or not, lengths in every encoding, fragments,
//! control frames too long, close codes of every kind), then flips bytes
//! and cuts the stream short, then ends its side.
//!
//! What must hold for every input: the server ends that connection once the
//! client is done (it never leaks one), and a well-behaved client on the
//! same reactor still gets its echo (nothing the fuzzer sent broke the
//! reactor). This is the end-to-end check, a connection per case: `cargo
//! test` runs a few hundred cases, `cargo xtask fuzz` 2,000; millions of
//! inputs go through the same framing in memory in the `websocket` target
//! of `fuzz/`. A failing input is kept by proptest in
//! `fuzz_websocket.proptest-regressions` and replayed by every later run.

mod gateway_support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use gateway_support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use twine_native::gateway::GatewayConfig;

#[derive(Clone, Debug)]
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    /// 0: the shortest length encoding; 1: 16 bits; 2: 64 bits (the longer
    /// ones are legal only when needed, so they test the checks).
    encoding: u8,
}

fn frame() -> impl Strategy<Value = Frame> {
    let opcode = prop_oneof![4 => Just(1u8), 4 => Just(2), 3 => Just(0), 2 => Just(8), 2 => Just(9), 1 => Just(10), 1 => 0u8..16];
    let rsv = prop_oneof![8 => Just(0u8), 1 => 1u8..8];
    let mask = prop_oneof![8 => any::<[u8; 4]>().prop_map(Some), 1 => Just(None)];
    let payload = prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..40),
        // A close payload: a code of any kind, then text that may not be UTF-8.
        2 => (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(code, reason)| [code.to_be_bytes().to_vec(), reason].concat()),
        1 => proptest::collection::vec(any::<u8>(), 100..300),
        // Around the limit, and far over it.
        1 => (900usize..1100).prop_map(|n| vec![b'x'; n]),
        1 => (1000usize..70_000).prop_map(|n| vec![b'y'; n]),
    ];
    (any::<bool>(), rsv, opcode, mask, payload, prop_oneof![6 => Just(0u8), 1 => Just(1), 1 => Just(2)])
        .prop_map(|(fin, rsv, opcode, mask, payload, encoding)| Frame { fin, rsv, opcode, mask, payload, encoding })
}

impl Frame {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.fin) << 7 | self.rsv << 4 | self.opcode);
        let masked = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload.len();
        match self.encoding {
            0 if len < 126 => out.push(masked | len as u8),
            0 | 1 if len < 65536 => {
                out.push(masked | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(masked | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(self.payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            }
            None => out.extend_from_slice(&self.payload),
        }
    }
}

/// A stream of frames, then damage: bytes flipped, and maybe cut short.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    let flips = proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..4);
    (
        proptest::collection::vec(frame(), 1..8),
        flips,
        prop_oneof![3 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
    )
        .prop_map(|(frames, flips, cut)| {
            let mut wire = Vec::new();
            for f in &frames {
                f.encode(&mut wire);
            }
            for (at, bits) in flips {
                let i = at.index(wire.len());
                wire[i] ^= bits;
            }
            if let Some(at) = cut {
                wire.truncate(at.index(wire.len() + 1));
            }
            wire
        })
}

/// A masked text frame (zero mask) and the unmasked echo the server sends.
fn echo_once(mut good: &TcpStream, text: &str) -> std::io::Result<bool> {
    let mut frame = vec![0x81, 0x80 | text.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(text.as_bytes());
    good.write_all(&frame)?;
    let mut reply = vec![0u8; 2 + text.len()];
    good.read_exact(&mut reply)?;
    Ok(reply[0] == 0x81 && reply[1] as usize == text.len() && &reply[2..] == text.as_bytes())
}

#[test]
fn whatever_frames_arrive_the_connection_ends_and_the_reactor_serves_the_others() {
    // A small limit, so that "too big" is one of the paths the cases take.
    let server = Server::start(GatewayConfig { max_message: 1000, ..GatewayConfig::default() });
    let good = ws_handshake(server.addr());
    good.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // No shrinking: the cases share one server, so once an input has broken
    // it every smaller input fails too, and shrinking would end at nothing.
    // The input reported (and kept) is the one that broke it.
    let config = Config { source_file: Some(file!()), max_shrink_iters: 0, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let cases = std::cell::Cell::new(0u64);
    let result = runner.run(&wire(), |wire| {
        let case = cases.get() + 1;
        cases.set(case);
        let mut fuzz = ws_handshake(server.addr());
        // Broken pipes and resets are the server hanging up early: fine.
        let _ = fuzz.write_all(&wire);
        let _ = fuzz.shutdown(Shutdown::Write);
        fuzz.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        let mut sink = [0u8; 4096];
        loop {
            match fuzz.read(&mut sink) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "the server kept the connection {:?} after the client finished: {e}",
                        started.elapsed()
                    )))
                }
            }
        }
        let echoed = echo_once(&good, &format!("still there {case}"));
        prop_assert!(matches!(echoed, Ok(true)), "the good client's echo after case {case}: {echoed:?}");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
