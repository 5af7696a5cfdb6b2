//! The live driver in a real browser, without a server: what a page sees
//! when the gateway is not there. (Round trips through a real `twine serve`
//! are covered by the end-to-end suite.)
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use twine_web::live::LiveEcho;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_url_with_a_non_websocket_scheme_is_refused_at_once() {
    let err = LiveEcho::new("ftp://127.0.0.1/ws").err().expect("a non-WebSocket scheme is refused");
    let message = js_sys::Reflect::get(&err, &"message".into()).unwrap().as_string().unwrap_or_default();
    assert!(!message.is_empty(), "the error says why");
}

#[wasm_bindgen_test]
async fn a_refused_connection_closes_and_sending_then_fails_clearly() {
    // Port 9 (discard) is closed on the test machine: the socket fails to open.
    let echo = LiveEcho::new("ws://127.0.0.1:9/ws").expect("a well-formed URL");
    assert_eq!(echo.state(), "connecting");
    let closed = Promise::new(&mut |resolve: Function, _reject| {
        let cb = Closure::once_into_js(move |reason: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &reason);
        });
        echo.on_close(cb.unchecked_into());
    });
    let reason = JsFuture::from(closed).await.unwrap().as_string().unwrap();
    assert!(reason.contains("connection lost"), "{reason}");
    assert_eq!(echo.state(), "closed");
    let err = echo.send("hello").expect_err("nothing to send on");
    let message = js_sys::Reflect::get(&err, &"message".into()).unwrap().as_string().unwrap();
    assert_eq!(message, "the echo connection is closed");
    let summary = echo.summary();
    assert_eq!(js_sys::Reflect::get(&summary, &"sent".into()).unwrap().as_f64(), Some(0.0));
}
