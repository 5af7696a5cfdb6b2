//! `twine`: the native server. See [`twine_native::cli`].
fn main() -> std::process::ExitCode {
    twine_native::cli::main()
}
