//! Where a download's bytes go: a destination can only be appended to or thrown away whole, so a
//! body that does not verify is never kept.

use std::io::Write;

use crate::fetch::{Expected, FetchError};
use crate::hash::Sha256Digest;
use crate::store::{Kind, Store, StoreError};

/// Why a destination attempt stopped early.
pub(crate) enum Interrupt {
    /// Throw away what was written and start again on a fresh destination.
    Restart,
    Fail(FetchError),
}

/// Where bytes go: appended to, and kept only if the writing closure succeeds.
pub(crate) trait Destination {
    /// Runs `write` on a fresh, empty writer; keeps what it wrote only if it returns `Ok`.
    fn attempt(
        &mut self,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<(), Interrupt>,
    ) -> Result<(), Interrupt>;
}

impl Destination for Vec<u8> {
    fn attempt(
        &mut self,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<(), Interrupt>,
    ) -> Result<(), Interrupt> {
        self.clear();
        let r = write(self);
        if r.is_err() {
            self.clear();
        }
        r
    }
}

/// A store entry (written to `tmp/`, renamed into place once verified).
pub(crate) struct StoreDestination<'a> {
    pub store: &'a Store,
    pub kind: Kind,
    pub expected: Option<Expected>,
    pub what: &'a str,
    pub digest: Option<Sha256Digest>,
}

impl Destination for StoreDestination<'_> {
    fn attempt(
        &mut self,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<(), Interrupt>,
    ) -> Result<(), Interrupt> {
        match self
            .store
            .insert(self.kind, self.expected.as_ref(), self.what, |w| write(w))
        {
            Ok(Ok(d)) => {
                self.digest = Some(d);
                Ok(())
            }
            Ok(Err(i)) => Err(i),
            // The transport verified before returning Ok, so a mismatch here means the bytes
            // changed on their way to disk; not something another attempt is likely to fix.
            Err(e @ (StoreError::Io { .. } | StoreError::Mismatch(_))) => Err(Interrupt::Fail(e.into())),
        }
    }
}
