//! `twine`: the native server.
fn main() {
    println!("twine {}", env!("CARGO_PKG_VERSION"));
}
