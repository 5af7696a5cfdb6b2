//! Reactor-local storage: typed values that live as long as the reactor,
//! one per type, so reactor-side state needs no `thread_local!` (and two
//! reactors on one thread, as in the playground's comparisons, keep theirs
//! apart).

use std::any::{Any, TypeId};
use std::rc::Rc;

use super::{IdMap, Reactor};

/// The values, by type.
#[derive(Default)]
pub(crate) struct Locals(IdMap<TypeId, Rc<dyn Any>>);

impl Reactor {
    /// This reactor's value of type `T`, if one was set with
    /// [`set_local`](Self::set_local). It is shared: keep mutable state in
    /// a `Cell` or `RefCell`.
    ///
    /// A result a worker thread sends back with
    /// [`call_from_thread`](crate::ReactorHandle::call_from_thread) reaches
    /// reactor-side state this way, since the closure it sends must be
    /// `Send` and cannot carry an `Rc`:
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::time::Duration;
    /// use twine_core::task::Clock;
    ///
    /// #[derive(Default)]
    /// struct Results(RefCell<Vec<u64>>);
    ///
    /// let clock = Clock::new();
    /// let reactor = clock.reactor();
    /// reactor.set_local(Results::default());
    /// let handle = reactor.handle();
    /// std::thread::spawn(move || {
    ///     let sum = (1..=10).sum::<u64>(); // blocking work
    ///     handle.call_from_thread(move |reactor| {
    ///         reactor.local::<Results>().unwrap().0.borrow_mut().push(sum);
    ///     });
    /// })
    /// .join()
    /// .unwrap();
    /// clock.advance(Duration::ZERO);
    /// assert_eq!(*reactor.local::<Results>().unwrap().0.borrow(), [55]);
    /// ```
    pub fn local<T: 'static>(&self) -> Option<Rc<T>> {
        let value = self.inner.locals.borrow().0.get(&TypeId::of::<T>())?.clone();
        value.downcast().ok()
    }

    /// Sets this reactor's value of type `T`, returning the one it replaces.
    /// It is dropped with the reactor; a value holding a clone of the
    /// reactor would keep it alive, so hold a
    /// [`handle`](Self::handle) or nothing.
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// let reactor = twine_core::ReactorDriver::new();
    /// assert!(reactor.set_local(Cell::new(1_u32)).is_none());
    /// let old = reactor.set_local(Cell::new(2_u32)).unwrap();
    /// assert_eq!((old.get(), reactor.local::<Cell<u32>>().unwrap().get()), (1, 2));
    /// ```
    pub fn set_local<T: 'static>(&self, value: T) -> Option<Rc<T>> {
        let old = self.inner.locals.borrow_mut().0.insert(TypeId::of::<T>(), Rc::new(value));
        old.and_then(|old| old.downcast().ok())
    }

    /// This reactor's value of type `T`, made with `init` if there is none.
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// #[derive(Default)]
    /// struct Hits(Cell<u32>);
    ///
    /// let reactor = twine_core::ReactorDriver::new();
    /// reactor.local_or_insert_with(Hits::default).0.set(1);
    /// let hits = reactor.local_or_insert_with(Hits::default); // the same one
    /// assert_eq!(hits.0.get(), 1);
    /// ```
    pub fn local_or_insert_with<T: 'static>(&self, init: impl FnOnce() -> T) -> Rc<T> {
        if let Some(value) = self.local::<T>() {
            return value;
        }
        // `init` runs unborrowed: it may use the reactor's locals itself.
        let value = Rc::new(init());
        self.inner.locals.borrow_mut().0.insert(TypeId::of::<T>(), value.clone());
        value
    }

    /// Removes this reactor's value of type `T` and returns it.
    ///
    /// ```
    /// let reactor = twine_core::ReactorDriver::new();
    /// reactor.set_local("config");
    /// assert_eq!(reactor.take_local::<&str>().as_deref(), Some(&"config"));
    /// assert!(reactor.local::<&str>().is_none());
    /// ```
    pub fn take_local<T: 'static>(&self) -> Option<Rc<T>> {
        let old = self.inner.locals.borrow_mut().0.remove(&TypeId::of::<T>());
        old.and_then(|old| old.downcast().ok())
    }
}
