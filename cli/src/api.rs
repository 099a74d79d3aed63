//! Calls sent with the generated client as they are: the answer's body, its error the
//! library's (so that `-v`, the exit status and the one-line message treat it as any other).

use crate::Result;
use docr::prelude::*;
use docr::{client::GeneratedError, client::ResponseValue, types};

/// A call's answer, its error as the library's.
pub async fn answer<T>(
    call: impl Future<Output = std::result::Result<ResponseValue<T>, GeneratedError<types::Error>>>,
) -> Result<T> {
    Ok(call.await.map_err(Error::from)?.into_inner())
}
