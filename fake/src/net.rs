//! Loopback connections that a handler can drop without answering: each accepted stream
//! carries a switch that, once thrown, fails every further read and write, so the server
//! closes the connection before writing a byte of the response.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Accepts loopback connections as [`DroppableStream`]s.
#[derive(Debug)]
pub(crate) struct DroppableListener(pub(crate) TcpListener);

/// A TCP stream with a switch that cuts it.
#[derive(Debug)]
pub(crate) struct DroppableStream {
    inner: TcpStream,
    cut: Arc<AtomicBool>,
}

/// The handle a handler gets (as `ConnectInfo`) to cut its own connection.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    cut: Arc<AtomicBool>,
}

impl Connection {
    /// From now on the connection fails every read and write; the server then closes it.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::Release);
    }
}

impl Listener for DroppableListener {
    type Io = DroppableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    // Small answers should not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let stream = DroppableStream {
                        inner: stream,
                        cut: Arc::new(AtomicBool::new(false)),
                    };
                    return (stream, addr);
                }
                // Out of file descriptors and the like: wait a little, as axum's listener does.
                Err(e) => {
                    tracing::debug!(error = %e, "the docr fake could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, DroppableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, DroppableListener>) -> Self {
        Self {
            cut: stream.io().cut.clone(),
        }
    }
}

impl DroppableStream {
    fn is_cut(&self) -> bool {
        self.cut.load(Ordering::Acquire)
    }
}

fn cut_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by the docr fake's fault injection",
    )
}

impl AsyncRead for DroppableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.is_cut() {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for DroppableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_cut() {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.is_cut() {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
