//! The `debcast` binary: a thin layer over the library (see `debcast::cli`).

fn main() -> std::process::ExitCode {
    debcast::cli::main()
}
