//! The `debcast` binary: parses the command line ([`debcast::cli`]) and hands it to
//! [`debcast::commands`].

fn main() -> std::process::ExitCode {
    debcast::commands::main(<debcast::cli::Cli as clap::Parser>::parse())
}
