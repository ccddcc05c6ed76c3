//! Recycled chunk buffers for [`ByteWriter`](crate::ByteWriter)'s copying
//! writes.
//!
//! A copying write (`std::io::Write`, the async writes) of `MIN..=MAX`
//! bytes copies into a buffer of exactly that length taken from the
//! writer's pool, and hands it to `bytes` as the owner of the chunk
//! ([`Bytes::from_owner`]): every stream still shares the one buffer by
//! reference count, and when the last clone is dropped (on whichever
//! thread) the buffer goes back to the pool instead of to the allocator.
//!
//! Why: with readers that keep up, each chunk is freed right after it is
//! written, so glibc returns the top of its heap to the kernel (the trim
//! threshold is 128 KiB) and the next writes fault the same pages in
//! again, zeroed, one by one. `perf record` of
//! `bytes_fanout_4KiB/stream-bytes/16` (benches/bytes.rs) put page faults
//! and `clear_page` at about 8 % of all samples, in the writer, and the
//! writer's loop was as slow as the whole run: the writer was the
//! bottleneck at 4 KiB. Smaller chunks come from the allocator's
//! per-thread caches and are not pooled.
//!
//! Bounds: the pool keeps at most [`POOL_BYTES`] of free buffers, counted
//! in bytes whatever their lengths (four of the largest), so a writer
//! holds at most that much besides its chunks; buffers returned beyond it,
//! or while the writer is taking one (the lock is only ever tried, never
//! waited for), are freed. A buffer of another length than the one asked
//! for is freed, not reused, so a writer whose chunk size changes drains
//! the old size out of its pool. Once the writer is closed or dropped, its
//! free buffers are freed and so is every buffer returned after.
//!
//! A pooled chunk's `bytes` header is the owner's (`Bytes::from_owner`:
//! a reference count, a drop function and `Owned`, 40 bytes on x86-64)
//! and its buffer is an allocation of its own, against one 24-byte header
//! for a shared `Vec`: up to 24 bytes more per chunk than
//! [`CHUNK_OVERHEAD`](crate::CHUNK_OVERHEAD) counts, under 2.5 % of a
//! chunk of at least `MIN` bytes (its doc says so; `tests/memory.rs`
//! measures the peak for every pooled size).

use core::mem;
// std's, under loom too: the pool is not part of the protocol the loom
// models check (its lock is only ever tried by a returning chunk, and what
// it holds is free memory, no chunk a stream can see), and the models'
// writes are smaller than `MIN`.
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

/// The smallest write copied into a pooled buffer.
pub(crate) const MIN: usize = 1024;
/// The largest write copied into a pooled buffer.
pub(crate) const MAX: usize = 64 * 1024;
/// The most bytes of free buffers a pool keeps.
pub(crate) const POOL_BYTES: usize = 256 * 1024;

#[derive(Default)]
struct Free {
    /// Free buffers, the most recently returned last (still warm in a cache).
    bufs: Vec<Box<[u8]>>,
    /// Their total length: at most `POOL_BYTES`.
    bytes: usize,
    /// Set when the writer is closed or dropped: returned buffers are
    /// freed. Under the lock (no ordering argument: a buffer returned
    /// after the close takes the lock after it, and sees it).
    closed: bool,
}

#[derive(Default)]
struct PoolShared {
    free: Mutex<Free>,
}

/// A writer's pool (see the module doc).
#[derive(Default)]
pub(crate) struct Pool {
    shared: Arc<PoolShared>,
}

impl core::fmt::Debug for Pool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let free = self
            .shared
            .free
            .try_lock()
            .map(|free| (free.bufs.len(), free.bytes));
        match free {
            Ok((n, bytes)) => f
                .debug_struct("Pool")
                .field("free", &n)
                .field("bytes", &bytes)
                .finish(),
            Err(_) => f.debug_struct("Pool").finish_non_exhaustive(),
        }
    }
}

impl Pool {
    /// A chunk holding a copy of `buf`: in a recycled buffer when its
    /// length is in `MIN..=MAX`, else allocated as `Bytes::copy_from_slice`.
    pub(crate) fn copy(&self, buf: &[u8]) -> Bytes {
        if !(MIN..=MAX).contains(&buf.len()) {
            return Bytes::copy_from_slice(buf);
        }
        let reused = match self.shared.free.try_lock() {
            Ok(mut free) => free.bufs.pop().inspect(|b| free.bytes -= b.len()),
            // Contended (a stream is returning one) or poisoned (nothing
            // in the critical sections panics, but never mind): allocate.
            Err(_) => None,
        };
        let data = match reused {
            Some(mut b) if b.len() == buf.len() => {
                b.copy_from_slice(buf);
                b
            }
            // Another length: freed (here, outside the lock), not reused.
            _ => Box::from(buf),
        };
        Bytes::from_owner(Owned {
            data,
            pool: Arc::clone(&self.shared),
        })
    }
}

impl Pool {
    /// The writer is closed (it writes no more): frees the free buffers,
    /// and every buffer returned from now on.
    pub(crate) fn close(&self) {
        let bufs = {
            let mut free = self
                .shared
                .free
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            free.closed = true;
            free.bytes = 0;
            mem::take(&mut free.bufs)
        };
        // After the lock.
        drop(bufs);
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

/// The owner of one pooled chunk's bytes: returns them to the pool when
/// `bytes` drops it (the chunk's last clone is gone).
struct Owned {
    data: Box<[u8]>,
    pool: Arc<PoolShared>,
}

impl AsRef<[u8]> for Owned {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        let data = mem::take(&mut self.data);
        if let Ok(mut free) = self.pool.free.try_lock()
            && !free.closed
            && free.bytes + data.len() <= POOL_BYTES
        {
            free.bytes += data.len();
            free.bufs.push(data);
            return;
        }
        // Closed, full, contended or poisoned: freed here, after the lock.
        drop(data);
    }
}

#[cfg(all(test, not(ring_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_freed_by_its_last_clone_is_reused_for_the_next_copy_of_its_length() {
        let pool = Pool::default();
        let a = pool.copy(&[1u8; 4096]);
        let b = a.clone();
        let addr = a.as_ptr();
        drop(a);
        assert_eq!(
            pool.shared.free.lock().unwrap().bufs.len(),
            0,
            "a clone still holds it"
        );
        drop(b);
        assert_eq!(pool.shared.free.lock().unwrap().bufs.len(), 1);
        let c = pool.copy(&[2u8; 4096]);
        assert_eq!(c.as_ptr(), addr, "the same buffer");
        assert!(c.iter().all(|&x| x == 2), "overwritten with the new bytes");
        // Another length frees the pooled buffer instead of reusing it.
        drop(c);
        let d = pool.copy(&[3u8; 2048]);
        assert_eq!(d.len(), 2048);
        assert!(d.iter().all(|&x| x == 3));
        assert_eq!(pool.shared.free.lock().unwrap().bufs.len(), 0);
    }

    #[test]
    fn small_and_large_writes_are_not_pooled_and_the_pool_keeps_at_most_its_bound() {
        let pool = Pool::default();
        let small = pool.copy(&[7u8; MIN - 1]);
        let large = pool.copy(&vec![7u8; MAX + 1]);
        drop((small, large));
        assert_eq!(pool.shared.free.lock().unwrap().bufs.len(), 0);
        let chunks: Vec<Bytes> = (0..100).map(|_| pool.copy(&[9u8; 4096])).collect();
        drop(chunks);
        assert_eq!(
            pool.shared.free.lock().unwrap().bufs.len(),
            POOL_BYTES / 4096,
            "at most POOL_BYTES of free buffers"
        );
        let big: Vec<Bytes> = (0..5).map(|_| pool.copy(&vec![1u8; MAX])).collect();
        {
            let mut free = pool.shared.free.lock().unwrap();
            free.bufs.clear();
            free.bytes = 0;
        }
        drop(big);
        assert_eq!(pool.shared.free.lock().unwrap().bufs.len(), 4);
    }

    #[test]
    fn the_bound_counts_bytes_whatever_the_lengths_and_a_closed_pool_keeps_none() {
        let pool = Pool::default();
        // Largest first: a bound by count per length kept them all.
        let chunks: Vec<Bytes> = (0..64)
            .map(|i| pool.copy(&vec![1u8; (POOL_BYTES / (i + 1)).min(MAX)]))
            .collect();
        drop(chunks);
        let free = pool.shared.free.lock().unwrap();
        let kept: usize = free.bufs.iter().map(|b| b.len()).sum();
        assert_eq!(kept, free.bytes);
        assert!(kept <= POOL_BYTES, "{kept}");
        drop(free);
        let a = pool.copy(&[1u8; 4096]);
        pool.close();
        assert_eq!(pool.shared.free.lock().unwrap().bufs.len(), 0);
        drop(a);
        assert_eq!(pool.shared.free.lock().unwrap().bufs.len(), 0);
        let b = pool.copy(&[2u8; 4096]);
        assert!(b.iter().all(|&x| x == 2), "a closed pool still copies");
    }

    #[test]
    fn buffers_returned_after_the_writer_is_gone_are_freed() {
        let pool = Pool::default();
        let shared = Arc::clone(&pool.shared);
        let a = pool.copy(&[1u8; 4096]);
        drop(pool);
        drop(a);
        assert_eq!(shared.free.lock().unwrap().bufs.len(), 0);
    }
}
