//! Framing receivers: lines and strings cut out of chunks, alone and as the
//! classic line echo on a reactor connection.
//!
//! `cargo bench -p twine-core --bench framing`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use twine_core::protocol::{ConnectionKind, Message, Protocol, Transport};
use twine_core::protocols::basic::{Int32StringReceiver, LineReceiver, NetstringReceiver};
use twine_core::protocols::{Echo, LineEcho};
use twine_core::reactor::Effect;
use twine_core::testing::StringTransport;
use twine_core::{ReactorDriver, Time};

/// A 64 KiB chunk of `line_len`-byte lines (delimiter included), as a busy
/// client's socket read gives them.
fn line_chunk(line_len: usize) -> Vec<u8> {
    let line: Vec<u8> = (0..line_len - 2).map(|i| b'a' + (i % 26) as u8).chain(*b"\r\n").collect();
    line.repeat(64 * 1024 / line_len)
}

#[derive(Default)]
struct Count(u64);
impl Protocol for Count {
    fn message_received(&mut self, _: &Transport, m: Message) {
        self.0 += m.len() as u64 + 1;
    }
}

fn lines(c: &mut Criterion) {
    let mut group = c.benchmark_group("lines");
    group.measurement_time(Duration::from_secs(3));
    for line_len in [16, 128] {
        let chunk = line_chunk(line_len);
        group.throughput(Throughput::Bytes(chunk.len() as u64));

        // Cutting alone: the receiver hands each line to a protocol that counts it.
        let t = StringTransport::new();
        let mut receiver = LineReceiver::new(Count::default());
        t.make_connection(&mut receiver);
        group.bench_function(format!("cut {line_len}-byte lines"), |b| {
            b.iter(|| receiver.data_received(t.transport(), &chunk))
        });

        // The line echo hosted by a reactor, as a driver runs it: deliver the
        // chunk, take the coalesced write, give the buffer back.
        let reactor = ReactorDriver::new();
        let conn = reactor.open_connection(
            Time::ZERO,
            Box::new(LineEcho::new(Echo)),
            ConnectionKind::Stream,
            "127.0.0.1:5000".parse().unwrap(),
            "127.0.0.1:7".parse().unwrap(),
        );
        group.bench_function(format!("line echo on a reactor, {line_len}-byte lines"), |b| {
            b.iter(|| {
                reactor.handle_data(Time::ZERO, conn, &chunk);
                while let Some(effect) = reactor.poll_effect() {
                    if let Effect::Write { data, .. } = effect {
                        assert_eq!(data.len(), chunk.len());
                        reactor.recycle_buffer(data);
                    }
                }
            })
        });
    }
    group.finish();
}

fn strings(c: &mut Criterion) {
    let mut group = c.benchmark_group("strings");
    group.measurement_time(Duration::from_secs(3));
    let payloads: Vec<Vec<u8>> = (0..1024).map(|i| vec![b'x'; 16 + i % 48]).collect();

    let framed = |mut receiver: Box<dyn Protocol>| {
        let t = StringTransport::new();
        receiver.connection_made(t.transport());
        for p in &payloads {
            t.transport().send(Message::binary(p.clone()));
        }
        t.value()
    };
    let netstrings = framed(Box::new(NetstringReceiver::new(Count::default())));
    let int32s = framed(Box::new(Int32StringReceiver::new(Count::default())));

    group.throughput(Throughput::Bytes(netstrings.len() as u64));
    let t = StringTransport::new();
    let mut receiver = NetstringReceiver::new(Count::default());
    t.make_connection(&mut receiver);
    group.bench_function("cut netstrings", |b| b.iter(|| receiver.data_received(t.transport(), &netstrings)));

    group.throughput(Throughput::Bytes(int32s.len() as u64));
    let t = StringTransport::new();
    let mut receiver = Int32StringReceiver::new(Count::default());
    t.make_connection(&mut receiver);
    group.bench_function("cut int32 strings", |b| b.iter(|| receiver.data_received(t.transport(), &int32s)));
    group.finish();
}

criterion_group!(benches, lines, strings);
criterion_main!(benches);
