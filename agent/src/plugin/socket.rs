//! Unix sockets for gRPC: binding a plugin's socket, dialing one, and telling whether a socket
//! file is still the one we saw (kubelet recreates `kubelet.sock` when it restarts, and removes
//! plugin sockets).

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

/// Binds a unix socket at `path`, replacing a stale socket left there; refuses to replace
/// anything that is not a socket.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    UnixListener::bind(path)
}

/// A gRPC channel to the server listening on the unix socket `path`; fails if it cannot connect
/// within `timeout`.
pub async fn connect(path: &Path, timeout: Duration) -> Result<Channel, tonic::transport::Error> {
    let path: PathBuf = path.to_owned();
    // The URI is required by the API but unused: every connection goes to `path`.
    Endpoint::from_static("http://localhost")
        .connect_timeout(timeout)
        .connect_with_connector(service_fn(move |_: Uri| {
            let path = path.clone();
            async move { Ok::<_, io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
}

/// Which file a path named when we looked: device, inode and change time. A file removed and
/// created again at the same path has a different identity, even if the inode number is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    device: u64,
    inode: u64,
    ctime: i64,
    ctime_nsec: i64,
}

impl FileIdentity {
    /// The identity of the file at `path` (not following a final symlink).
    pub fn of(path: &Path) -> io::Result<Self> {
        let meta = std::fs::symlink_metadata(path)?;
        Ok(FileIdentity { device: meta.dev(), inode: meta.ino(), ctime: meta.ctime(), ctime_nsec: meta.ctime_nsec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bind_replaces_stale_sockets_but_not_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin.sock");
        let first = bind(&path).unwrap();
        let identity = FileIdentity::of(&path).unwrap();
        drop(first);
        let _second = bind(&path).unwrap();
        assert_ne!(FileIdentity::of(&path).unwrap(), identity);

        let file = dir.path().join("not-a-socket");
        std::fs::write(&file, "data").unwrap();
        assert_eq!(bind(&file).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
    }

    #[tokio::test]
    async fn connecting_to_nothing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(connect(&dir.path().join("absent.sock"), Duration::from_millis(200)).await.is_err());
    }
}
