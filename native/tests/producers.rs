//! Producers on the real reactor: a pull producer is asked for its next
//! chunk each time the transport has sent the last one, over real TCP, so a
//! large body goes out in bounded pieces and arrives whole.

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

use twine_core::protocol::{factory, Producer, Protocol, Transport};
use twine_native::{Config, ReactorThread};

const CHUNK: usize = 64 * 1024;
const CHUNKS: usize = 64;

/// Writes chunk `i` (every byte `i as u8`) when asked, then ends.
struct Body {
    transport: RefCell<Option<Transport>>,
    sent: Cell<usize>,
}

impl Producer for Body {
    fn resume_producing(&self) {
        let Some(transport) = self.transport.borrow().clone() else { return };
        let i = self.sent.get();
        if i == CHUNKS {
            transport.unregister_producer();
            transport.lose_connection();
            return;
        }
        self.sent.set(i + 1);
        transport.write(&vec![i as u8; CHUNK]);
    }

    fn stop_producing(&self) {
        self.transport.borrow_mut().take();
    }
}

struct Serve;

impl Protocol for Serve {
    fn connection_made(&mut self, transport: &Transport) {
        let body = Rc::new(Body { transport: RefCell::new(Some(transport.clone())), sent: Cell::new(0) });
        transport.register_producer(body, false).expect("no producer yet");
    }
}

#[test]
fn a_pull_producer_sends_a_large_body_chunk_by_chunk_as_the_transport_drains() {
    let (server, addr) = ReactorThread::spawn(Config::default(), |setup| {
        setup.listen_tcp(([127, 0, 0, 1], 0).into(), factory(|| Serve))
    })
    .unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut body = Vec::new();
    client.read_to_end(&mut body).expect("the whole body, then the server closes");
    assert_eq!(body.len(), CHUNK * CHUNKS, "every chunk arrived");
    for (i, chunk) in body.chunks(CHUNK).enumerate() {
        assert!(chunk.iter().all(|&b| b == i as u8), "chunk {i} in order and whole");
    }
    server.shutdown();
    server.join();
}
