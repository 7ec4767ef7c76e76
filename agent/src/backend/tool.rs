//! Finding a vendor tool and running it with a time limit.
//!
//! A tool is looked up on `PATH`, then in the vendor's usual install directories (drivers often
//! leave them off `PATH`). A run has a deadline, so a hung tool (a wedged driver makes them hang)
//! cannot hang the agent: past it the tool is killed and the run is an error. A non-zero exit is an
//! error carrying the exit status and the end of stderr. Tools run with `LC_ALL=C` so they print
//! the English layouts the parsers know. This module does not parse anything.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::BackendError;
use super::output::Output;

/// How long a tool may run before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// How much of stderr an error quotes.
const STDERR_QUOTE: usize = 600;

/// The first executable file called `program` on `PATH` or in one of `dirs`.
pub fn locate(program: &str, dirs: &[&str]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    path_dirs
        .unwrap_or_default()
        .into_iter()
        .chain(dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Runs `program` with `args` for `backend`, and returns its standard output.
pub fn run(backend: &'static str, program: &Path, args: &[&str], timeout: Duration) -> Result<Output, BackendError> {
    let command_line = std::iter::once(program.display().to_string())
        .chain(args.iter().map(|arg| (*arg).to_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let unavailable = |problem: String| BackendError::Unavailable { backend, what: command_line.clone(), problem };
    let mut child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| unavailable(error.to_string()))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                // Best effort: the error below is what matters, whether or not the kill lands.
                let _ = child.kill();
                let _ = child.wait();
                return Err(unavailable(format!("still running after {} s; killed", timeout.as_secs())));
            }
            Err(error) => return Err(unavailable(error.to_string())),
        }
    };
    // A child the tool left behind may hold the pipes open: wait for them only until the deadline.
    let remaining = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let stdout = stdout.recv_timeout(remaining()).unwrap_or_default();
    let stderr = stderr.recv_timeout(remaining()).unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let stderr = stderr.trim();
        let start = stderr.char_indices().rev().nth(STDERR_QUOTE).map_or(0, |(at, _)| at);
        let code = status.code().map_or("killed by a signal".to_owned(), |code| format!("exit status {code}"));
        return Err(unavailable(if stderr.is_empty() { code } else { format!("{code}: {}", &stderr[start..]) }));
    }
    Ok(Output::new(backend, command_line, &String::from_utf8_lossy(&stdout)))
}

/// Reads a pipe to its end on a thread; the bytes arrive on the returned channel.
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            // A read error leaves what was read; the exit status tells whether the run worked.
            let _ = pipe.read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
    }
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_a_tool_and_returns_its_output() {
        let output = run("test", Path::new("/bin/sh"), &["-c", "echo hello"], TIMEOUT).unwrap();
        assert_eq!(output.text, "hello\n");
        assert_eq!(output.origin, "/bin/sh -c echo hello");
    }

    #[test]
    fn failures_carry_the_exit_status_and_stderr() {
        let error = run("test", Path::new("/bin/sh"), &["-c", "echo broken >&2; exit 3"], TIMEOUT).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("exit status 3: broken"), "{text}");
        let missing = run("test", Path::new("/nonexistent/tool"), &[], TIMEOUT).unwrap_err();
        assert!(matches!(missing, BackendError::Unavailable { .. }));
    }

    #[test]
    fn a_hung_tool_is_killed_at_the_deadline() {
        let started = Instant::now();
        let error = run("test", Path::new("/bin/sh"), &["-c", "sleep 30"], Duration::from_millis(300)).unwrap_err();
        assert!(error.to_string().contains("killed"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn tools_are_found_on_path_or_in_vendor_dirs() {
        assert!(locate("sh", &[]).is_some());
        assert_eq!(locate("sh", &["/bin"]).map(|path| path.is_file()), Some(true));
        assert_eq!(locate("no-such-tool-here", &["/nonexistent"]), None);
    }
}
