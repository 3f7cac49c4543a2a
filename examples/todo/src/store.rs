//! The todo list itself: an in-memory store shared by every view of the app, and the title rule.

use std::sync::{Arc, Mutex, MutexGuard};

/// The longest title accepted, in characters.
pub const MAX_TITLE: usize = 60;

/// One todo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// Unique for the life of the store (never reused).
    pub id: u64,
    /// What to do (validated by [`Store::check_title`]).
    pub title: String,
    /// Done or still open.
    pub done: bool,
}

/// The todos in display order, behind a mutex: clones share the same list, so every view (and a
/// fresh page load) sees the same todos.
///
/// ```
/// let store = todo::Store::default();
/// let milk = store.add("Milk");
/// let bread = store.add("Bread");
/// store.toggle(milk.id);
/// store.move_to_top(bread.id);
/// assert_eq!(store.all().iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), ["Bread", "Milk"]);
/// assert_eq!(store.open_count(), 1);
/// assert_eq!(store.clear_completed(), [bread]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Store(Arc<Mutex<List>>);

#[derive(Debug, Default)]
struct List {
    last_id: u64,
    todos: Vec<Todo>,
}

/// Two handles are equal when they share the same list.
impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Store {}

impl Store {
    fn list(&self) -> MutexGuard<'_, List> {
        // A panic while holding the lock cannot leave the list half-changed: every change is
        // a single push, remove or field write.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every todo, in display order.
    pub fn all(&self) -> Vec<Todo> {
        self.list().todos.clone()
    }

    /// The todo `id`, if it exists.
    pub fn get(&self, id: u64) -> Option<Todo> {
        self.list().todos.iter().find(|t| t.id == id).cloned()
    }

    /// Appends an open todo (the title is taken as is: check it first).
    pub fn add(&self, title: &str) -> Todo {
        let mut list = self.list();
        list.last_id += 1;
        let todo = Todo {
            id: list.last_id,
            title: title.to_owned(),
            done: false,
        };
        list.todos.push(todo.clone());
        todo
    }

    /// Changes the title of `id`; returns the changed todo.
    pub fn rename(&self, id: u64, title: &str) -> Option<Todo> {
        self.change(id, |todo| title.clone_into(&mut todo.title))
    }

    /// Flips `done` of `id`; returns the changed todo.
    pub fn toggle(&self, id: u64) -> Option<Todo> {
        self.change(id, |todo| todo.done = !todo.done)
    }

    fn change(&self, id: u64, f: impl FnOnce(&mut Todo)) -> Option<Todo> {
        let mut list = self.list();
        let todo = list.todos.iter_mut().find(|t| t.id == id)?;
        f(todo);
        Some(todo.clone())
    }

    /// Removes `id`; returns it.
    pub fn delete(&self, id: u64) -> Option<Todo> {
        let mut list = self.list();
        let at = list.todos.iter().position(|t| t.id == id)?;
        Some(list.todos.remove(at))
    }

    /// Moves `id` to the top of the list; returns it.
    pub fn move_to_top(&self, id: u64) -> Option<Todo> {
        let mut list = self.list();
        let at = list.todos.iter().position(|t| t.id == id)?;
        let todo = list.todos.remove(at);
        list.todos.insert(0, todo.clone());
        Some(todo)
    }

    /// Removes every done todo; returns the remaining ones.
    pub fn clear_completed(&self) -> Vec<Todo> {
        let mut list = self.list();
        list.todos.retain(|t| !t.done);
        list.todos.clone()
    }

    /// How many todos are still open.
    pub fn open_count(&self) -> usize {
        self.list().todos.iter().filter(|t| !t.done).count()
    }

    /// How many todos are done.
    pub fn done_count(&self) -> usize {
        self.list().todos.iter().filter(|t| t.done).count()
    }

    /// The trimmed title if it is acceptable for todo `id` (`None`: a new todo): not blank, at
    /// most [`MAX_TITLE`] characters, and not the title of another open todo (case-insensitive).
    ///
    /// ```
    /// let store = todo::Store::default();
    /// let milk = store.add("Milk");
    /// assert_eq!(store.check_title("  Bread ", None), Ok("Bread".to_owned()));
    /// assert_eq!(store.check_title(" ", None), Err("can't be blank"));
    /// assert_eq!(store.check_title("MILK", None), Err("is already on the list"));
    /// assert_eq!(store.check_title("MILK", Some(milk.id)), Ok("MILK".to_owned()));
    /// ```
    pub fn check_title(&self, title: &str, id: Option<u64>) -> Result<String, &'static str> {
        let title = title.trim();
        if title.is_empty() {
            return Err("can't be blank");
        }
        if title.chars().count() > MAX_TITLE {
            return Err("should be at most 60 characters");
        }
        let taken =
            self.list().todos.iter().any(|t| {
                Some(t.id) != id && !t.done && t.title.to_lowercase() == title.to_lowercase()
            });
        if taken {
            return Err("is already on the list");
        }
        Ok(title.to_owned())
    }
}
