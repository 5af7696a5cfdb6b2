//! Framing receivers: Twisted's `twisted.protocols.basic`.
