//! Drop-in review (round 2): chan-watch against `tokio::sync::watch`
//! (tokio 1.54), the same code run on both: auto traits for payloads the
//! first review did not try, the public functions' types and the
//! handles' sizes, and the `borrow` panic on leaked `Ref`s (ignored by
//! default: about 2^30 borrows on each side).
//!
//! The review's other findings are deliberate deviations, documented in
//! chan-watch's crate docs ("Where it is not tokio's watch"): the value a
//! `send` replaces while a `Ref` shows it is dropped by that `Ref`'s drop
//! (on its thread), not inside `send`; the channel keeps the extra slots
//! such `Ref`s needed; the extra inherent methods (`get`, `into_stream`,
//! `downgrade`, ...) take precedence over a user's extension-trait
//! methods of the same names.

/// A drop-in property not checked before: the auto traits of
/// the handles, `Ref` and the futures for a `T` that is `Send + Sync`
/// but not `RefUnwindSafe` (interior mutability through its own unsafe
/// code, as `parking_lot::Mutex` or an atomic-free cell type), and for a
/// `T` that is `Sync` but not `Send`.
#[test]
fn auto_traits_for_sync_but_not_ref_unwind_safe_payloads() {
    use std::cell::UnsafeCell;
    use std::panic::{RefUnwindSafe, UnwindSafe};

    /// `Send + Sync`, `!RefUnwindSafe` (an `UnsafeCell` inside).
    struct Interior(#[allow(dead_code)] UnsafeCell<u32>);
    // SAFETY: never accessed (a marker for the auto-trait probe).
    unsafe impl Sync for Interior {}
    /// `Sync`, `!Send`.
    struct SyncOnly(
        #[allow(dead_code)] std::marker::PhantomData<std::sync::MutexGuard<'static, ()>>,
    );

    let mut mismatches = Vec::new();
    macro_rules! traits {
        (value $v:ident) => {
            [
                seqcast_test_support::implements!(value $v => Send),
                seqcast_test_support::implements!(value $v => Sync),
                seqcast_test_support::implements!(value $v => Unpin),
                seqcast_test_support::implements!(value $v => UnwindSafe),
                seqcast_test_support::implements!(value $v => RefUnwindSafe),
            ]
        };
        ($t:ty) => {
            [
                seqcast_test_support::implements!($t: Send),
                seqcast_test_support::implements!($t: Sync),
                seqcast_test_support::implements!($t: Unpin),
                seqcast_test_support::implements!($t: UnwindSafe),
                seqcast_test_support::implements!($t: RefUnwindSafe),
            ]
        };
    }
    macro_rules! types {
        ($t:ty) => {
            for (what, o, t) in [
                (
                    "Sender",
                    traits!(chan_watch::Sender<$t>),
                    traits!(tokio::sync::watch::Sender<$t>),
                ),
                (
                    "Receiver",
                    traits!(chan_watch::Receiver<$t>),
                    traits!(tokio::sync::watch::Receiver<$t>),
                ),
                (
                    "Ref",
                    traits!(chan_watch::Ref<'static, $t>),
                    traits!(tokio::sync::watch::Ref<'static, $t>),
                ),
            ] {
                if o != t {
                    mismatches.push(format!(
                        "{what}<{}>: ours {o:?} tokio {t:?}",
                        stringify!($t)
                    ));
                }
            }
        };
    }
    macro_rules! futures {
        ($v:expr) => {{
            let (ot, mut or) = chan_watch::channel($v);
            let (tt, mut tr) = tokio::sync::watch::channel($v);
            let what = stringify!($v);
            {
                let (o, t) = (or.changed(), tr.changed());
                let (o, t) = (traits!(value o), traits!(value t));
                if o[..4] != t[..4] {
                    mismatches.push(format!("changed {what}: ours {o:?} tokio {t:?}"));
                }
            }
            {
                let (o, t) = (or.wait_for(|_| true), tr.wait_for(|_| true));
                let (o, t) = (traits!(value o), traits!(value t));
                if o[..4] != t[..4] {
                    mismatches.push(format!("wait_for {what}: ours {o:?} tokio {t:?}"));
                }
            }
            {
                let (o, t) = (ot.closed(), tt.closed());
                let (o, t) = (traits!(value o), traits!(value t));
                if o[..4] != t[..4] {
                    mismatches.push(format!("closed {what}: ours {o:?} tokio {t:?}"));
                }
            }
        }};
    }
    types!(Interior);
    types!(SyncOnly);
    futures!(Interior(UnsafeCell::new(0)));
    futures!(SyncOnly(std::marker::PhantomData));
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Slow (about 2^30 borrows on each side; run with `--ignored`). On a
/// 64-bit target tokio's `borrow` (std's futex `RwLock::read`) panics
/// with "too many active read locks on RwLock" once 2^30 - 2 `Ref`s are
/// alive or leaked (`mem::forget`); chan-watch must panic at the same
/// count with the same message (it let the count go on to 2^59, with
/// another message, until the review found it).
#[test]
#[ignore = "about 2^30 borrows on each side"]
fn leaked_refs_make_borrow_panic_where_tokios_does() {
    const STD_MAX_READERS: u64 = (1 << 30) - 2;
    fn leak_until_panic(borrow: &dyn Fn(), limit: u64) -> (u64, Option<String>) {
        let mut n = 0_u64;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            while n < limit {
                borrow();
                n += 1;
            }
        }));
        let msg = r.err().map(|p| {
            p.downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        });
        (n, msg)
    }
    let limit = STD_MAX_READERS + 16;
    let (_ttx, trx) = tokio::sync::watch::channel(0_u8);
    let theirs = leak_until_panic(&|| std::mem::forget(trx.borrow()), limit);
    let (_otx, orx) = chan_watch::channel(0_u8);
    let ours = leak_until_panic(&|| std::mem::forget(orx.borrow()), limit);
    assert_eq!(ours, theirs, "(leaked Refs before the panic, its message)");
}

/// Drop-in properties not checked before: the public functions
/// coerce to the same function-pointer types (so a user's code that
/// stores or passes them builds with either crate), and the handles,
/// `Ref`, their `Option`s and the errors have tokio's sizes (checked by
/// users with `assert_eq_size!`, and in `enum` layouts).
#[test]
fn function_pointer_types_and_sizes_match_tokio() {
    use std::mem::size_of;
    macro_rules! signatures {
        ($w:path) => {{
            use $w as watch;
            type T = Vec<u8>;
            let _: fn(T) -> (watch::Sender<T>, watch::Receiver<T>) = watch::channel::<T>;
            let _: fn(T) -> watch::Sender<T> = watch::Sender::<T>::new;
            let _: fn(&watch::Sender<T>, T) -> Result<(), watch::error::SendError<T>> =
                watch::Sender::<T>::send;
            let _: fn(&watch::Sender<T>, T) -> T = watch::Sender::<T>::send_replace;
            let _: fn(&watch::Sender<T>, fn(&mut T)) =
                watch::Sender::<T>::send_modify::<fn(&mut T)>;
            let _: fn(&watch::Sender<T>, fn(&mut T) -> bool) -> bool =
                watch::Sender::<T>::send_if_modified::<fn(&mut T) -> bool>;
            let _: for<'a> fn(&'a watch::Sender<T>) -> watch::Ref<'a, T> =
                watch::Sender::<T>::borrow;
            let _: fn(&watch::Sender<T>) -> bool = watch::Sender::<T>::is_closed;
            let _: fn(&watch::Sender<T>) -> watch::Receiver<T> = watch::Sender::<T>::subscribe;
            let _: fn(&watch::Sender<T>) -> usize = watch::Sender::<T>::receiver_count;
            let _: fn(&watch::Sender<T>) -> usize = watch::Sender::<T>::sender_count;
            let _: fn(&watch::Sender<T>, &watch::Sender<T>) -> bool =
                watch::Sender::<T>::same_channel;
            let _: for<'a> fn(&'a watch::Receiver<T>) -> watch::Ref<'a, T> =
                watch::Receiver::<T>::borrow;
            let _: for<'a> fn(&'a mut watch::Receiver<T>) -> watch::Ref<'a, T> =
                watch::Receiver::<T>::borrow_and_update;
            let _: fn(&watch::Receiver<T>) -> Result<bool, watch::error::RecvError> =
                watch::Receiver::<T>::has_changed;
            let _: fn(&watch::Receiver<T>) -> bool = watch::Receiver::<T>::is_closed;
            let _: fn(&mut watch::Receiver<T>) = watch::Receiver::<T>::mark_changed;
            let _: fn(&mut watch::Receiver<T>) = watch::Receiver::<T>::mark_unchanged;
            let _: fn(&watch::Receiver<T>, &watch::Receiver<T>) -> bool =
                watch::Receiver::<T>::same_channel;
            let _: fn(&watch::Ref<'static, T>) -> bool = watch::Ref::<'static, T>::has_changed;
            [
                size_of::<watch::Sender<T>>(),
                size_of::<Option<watch::Sender<T>>>(),
                size_of::<watch::Receiver<T>>(),
                size_of::<Option<watch::Receiver<T>>>(),
                size_of::<watch::Ref<'static, T>>(),
                size_of::<Option<watch::Ref<'static, T>>>(),
                size_of::<watch::error::SendError<T>>(),
                size_of::<watch::error::RecvError>(),
                size_of::<Result<(), watch::error::RecvError>>(),
            ]
        }};
    }
    assert_eq!(signatures!(chan_watch), signatures!(tokio::sync::watch));
}
