//! twine-web: the simulated driver for the playground.
