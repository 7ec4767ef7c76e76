//! Waiting for child processes without hanging a test.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Waits up to ten seconds for `child` to exit; kills it and returns `None` if it does not.
pub fn wait_for_exit(child: &mut Child) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
