//! The todo example in a real headless Chromium running the official LiveView client.
//!
//! Acceptance: todos are added (the form validated live), edited in place in their row
//! component's own form, toggled, moved to the top, deleted and cleared through a confirmation
//! dialog opened and closed by JS commands; after every action the page's live container is
//! the server's fresh render of the same state (a new `GET /`, see `common`), the title follows
//! the open count, and the browser reports no console error, warning or failed request.

mod common;

use std::time::Instant;

use common::{LiveSnapshot, Ui, WAIT, assert_same_dom, dead_get, expected_canon, fresh_render};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use livefire::token::Keyring;
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, click, record_js_errors, serve, sync_lv,
    wait_until_js,
};
use serde_json::json;
use todo::{Store, Todo};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What the test expects the list to be, in display order.
#[derive(Debug, Default)]
struct Model {
    todos: Vec<Todo>,
    last_id: u64,
}

impl Model {
    fn add(&mut self, title: &str) -> u64 {
        self.last_id += 1;
        self.todos.push(Todo {
            id: self.last_id,
            title: title.to_owned(),
            done: false,
        });
        self.last_id
    }

    fn get(&mut self, id: u64) -> &mut Todo {
        self.todos
            .iter_mut()
            .find(|t| t.id == id)
            .expect("todo in the model")
    }

    fn position(&self, id: u64) -> usize {
        self.todos
            .iter()
            .position(|t| t.id == id)
            .expect("todo in the model")
    }

    fn open(&self) -> usize {
        self.todos.iter().filter(|t| !t.done).count()
    }

    /// A JavaScript condition: the list shows these todos in this order (ids, done, titles;
    /// the row being edited has no title line), and the header and the title show the open
    /// count.
    fn shown(&self, editing: Option<u64>) -> String {
        let rows: Vec<_> = self
            .todos
            .iter()
            .map(|t| {
                let title = (Some(t.id) != editing).then_some(t.title.as_str());
                json!([format!("todos-{}", t.id), t.done, title])
            })
            .collect();
        let open = self.open();
        format!(
            "(function () {{
              var rows = Array.from(document.querySelectorAll('#todos > li'), function (li) {{
                var title = li.querySelector('.title');
                return [li.id, li.classList.contains('done'), title ? title.textContent : null];
              }});
              return JSON.stringify(rows) === {rows}
                && document.getElementById('open-count').textContent === '{open}'
                && document.title === 'Todos ({open} open)';
            }})()",
            rows = json!(json!(rows).to_string()),
        )
    }
}

/// Waits for `condition`, then for the view to be idle.
async fn settle(client: &Client, condition: &str, context: &str) {
    if let Err(err) = wait_until_js(client, condition, WAIT).await {
        panic!("{context}: {err}");
    }
    if let Err(err) = sync_lv(client).await {
        panic!("{context}: {err}");
    }
}

/// Checks the store against the model, then the live page against a fresh render of the
/// store (see `common`): container, title, and that every `phx-target` is its own row's cid.
async fn check(
    client: &Client,
    app: &axum::Router,
    store: &Store,
    model: &Model,
    ui: &Ui,
    context: &str,
) {
    assert_eq!(store.all(), model.todos, "{context}: the store");
    let LiveSnapshot {
        html,
        title,
        foreign_targets,
    } = common::live_snapshot(client, ui).await;
    let (fresh_title, fresh_html) = fresh_render(app).await;
    let expected = expected_canon(client, &fresh_html, ui).await;
    assert_same_dom(&html, &expected, context);
    assert_eq!(title, fresh_title, "{context}: the page title");
    assert_eq!(
        foreign_targets,
        Vec::<String>::new(),
        "{context}: phx-target of another component"
    );
}

/// Panics unless the browser reported no error, warning or failed request since the last check.
async fn assert_clean_console(client: &Client, context: &str) {
    if let Err(err) = check_clean_console(client).await {
        panic!("{context}: {err}");
    }
}

/// Replaces the text of the input `selector` as a user would: select all, delete, type.
/// Every key fires the form's `phx-change`.
async fn retype(client: &Client, selector: &str, text: &str) -> TestResult {
    let input = client.find(Locator::Css(selector)).await?;
    let keys: String = [
        Key::Control.into(),
        'a',
        Key::Null.into(),
        Key::Backspace.into(),
    ]
    .into_iter()
    .collect();
    input.send_keys(&keys).await?;
    if !text.is_empty() {
        input.send_keys(text).await?;
    }
    Ok(())
}

/// A JavaScript condition: the input `id` holds `value` (its live property).
fn value_is(id: &str, value: &str) -> String {
    format!(
        "document.getElementById({}).value === {}",
        json!(id),
        json!(value)
    )
}

/// A JavaScript condition: the element `id` shows `text`, or is absent for `None`.
fn text_is(id: &str, text: Option<&str>) -> String {
    match text {
        Some(text) => format!(
            "(document.getElementById({id}) || {{}}).textContent === {text}",
            id = json!(id),
            text = json!(text)
        ),
        None => format!("document.getElementById({}) === null", json!(id)),
    }
}

/// A JavaScript condition: the dialog is shown (`true`) or hidden, with its transition over.
fn dialog_is(shown: bool) -> String {
    format!(
        "(function () {{ var d = document.getElementById('confirm-clear');
            return getComputedStyle(d).display === '{}' && d.className === 'dialog'; }})()",
        if shown { "flex" } else { "none" }
    )
}

#[tokio::test]
async fn dead_render_lists_the_stored_todos() {
    let store = Store::default();
    store.add("Milk");
    let bread = store.add("Bread & <butter>");
    store.toggle(bread.id);
    let (status, page) = dead_get(todo::app(Keyring::random(), store), "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<title>Todos (1 open)</title>"), "{page}");
    let inner = common::main_inner(&page);
    for needle in [
        "<span id=\"open-count\">1</span>",
        "<ul id=\"todos\" phx-update=\"stream\"><li id=\"todos-1\" class=\"todo\">",
        "<li id=\"todos-2\" class=\"todo done\"><div class=\"row\" id=\"row-2\">",
        "<span class=\"title\">Bread &amp; &lt;butter&gt;</span>",
        "<input id=\"done-2\" type=\"checkbox\" aria-label=\"Done\" checked phx-click=\"toggle\" phx-target=\"2\">",
        "<button id=\"clear-completed\" type=\"button\" phx-click=\"[[&quot;show&quot;,",
        "<div id=\"confirm-clear\" class=\"dialog\" style=\"display: none\"",
    ] {
        assert!(inner.contains(needle), "{needle} missing from {inner}");
    }
}

#[tokio::test]
async fn every_action_leaves_the_page_equal_to_a_fresh_render() -> TestResult {
    let started = Instant::now();
    let store = Store::default();
    let app = todo::app(Keyring::random(), store.clone());
    let base = serve(app.clone()).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;

    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "after connect").await;
    let mut model = Model::default();
    let plain = Ui::default();
    // While the "new todo" form shows a draft or an error (this view's own state), it is
    // checked on its own and left out of the comparison.
    let drafting = Ui {
        masked: vec!["new-todo".to_owned()],
        ..Ui::default()
    };
    check(client, &app, &store, &model, &plain, "after connect").await;

    // The new todo form, validated as you type.
    retype(client, "#new-title", "   ").await?;
    settle(
        client,
        &text_is("new-title-error", Some("Title can't be blank")),
        "blank title",
    )
    .await;
    check(client, &app, &store, &model, &drafting, "blank title").await;

    retype(client, "#new-title", "Buy milk").await?;
    settle(client, &text_is("new-title-error", None), "valid draft").await;
    check(client, &app, &store, &model, &drafting, "valid draft").await;

    click(client, "#add").await?;
    model.add("Buy milk");
    let added = format!("{} && {}", model.shown(None), value_is("new-title", ""));
    settle(client, &added, "first todo added").await;
    check(client, &app, &store, &model, &plain, "first todo added").await;

    // A duplicate (case-insensitive) is refused, live and on submit.
    retype(client, "#new-title", "buy MILK").await?;
    let duplicate = text_is("new-title-error", Some("Title is already on the list"));
    settle(client, &duplicate, "duplicate draft").await;
    check(client, &app, &store, &model, &drafting, "duplicate draft").await;
    click(client, "#add").await?;
    settle(
        client,
        &format!("{duplicate} && {}", value_is("new-title", "buy MILK")),
        "duplicate submitted",
    )
    .await;
    check(
        client,
        &app,
        &store,
        &model,
        &drafting,
        "duplicate submitted",
    )
    .await;

    // Submitting with Enter from the input.
    retype(client, "#new-title", "Walk the dog").await?;
    settle(client, &text_is("new-title-error", None), "second draft").await;
    client
        .find(Locator::Css("#new-title"))
        .await?
        .send_keys(&char::from(Key::Enter).to_string())
        .await?;
    model.add("Walk the dog");
    let added = format!("{} && {}", model.shown(None), value_is("new-title", ""));
    settle(client, &added, "second todo added with Enter").await;
    check(
        client,
        &app,
        &store,
        &model,
        &plain,
        "second todo added with Enter",
    )
    .await;

    for title in ["Write report", "Call mom"] {
        retype(client, "#new-title", title).await?;
        settle(client, &text_is("new-title-error", None), title).await;
        click(client, "#add").await?;
        model.add(title);
        let added = format!("{} && {}", model.shown(None), value_is("new-title", ""));
        let context = format!("added {title:?}");
        settle(client, &added, &context).await;
        check(client, &app, &store, &model, &plain, &context).await;
    }
    assert_clean_console(client, "after adding").await;

    // Editing a row in place: its own form, validated by the row component.
    let editing = Ui {
        masked: vec!["row-2".to_owned()],
        ..Ui::default()
    };
    click(client, "#edit-2-open").await?;
    settle(
        client,
        &format!(
            "{} && {}",
            model.shown(Some(2)),
            value_is("edit-2-title", "Walk the dog")
        ),
        "edit form open",
    )
    .await;
    check(client, &app, &store, &model, &editing, "edit form open").await;

    retype(client, "#edit-2-title", "call MOM").await?;
    settle(
        client,
        &text_is("edit-2-error", Some("Title is already on the list")),
        "edit: duplicate",
    )
    .await;
    check(client, &app, &store, &model, &editing, "edit: duplicate").await;

    retype(client, "#edit-2-title", &"x".repeat(todo::MAX_TITLE + 1)).await?;
    settle(
        client,
        &text_is(
            "edit-2-error",
            Some("Title should be at most 60 characters"),
        ),
        "edit: too long",
    )
    .await;
    check(client, &app, &store, &model, &editing, "edit: too long").await;

    // Saving an invalid title keeps the form open with its error.
    click(client, "#save-2").await?;
    settle(
        client,
        &format!(
            "{} && {}",
            text_is(
                "edit-2-error",
                Some("Title should be at most 60 characters")
            ),
            model.shown(Some(2))
        ),
        "edit: invalid save",
    )
    .await;
    check(client, &app, &store, &model, &editing, "edit: invalid save").await;

    retype(client, "#edit-2-title", "Walk the dog twice").await?;
    settle(client, &text_is("edit-2-error", None), "edit: valid").await;
    click(client, "#save-2").await?;
    model.get(2).title = "Walk the dog twice".to_owned();
    settle(
        client,
        &format!("{} && {}", model.shown(None), text_is("edit-2", None)),
        "renamed",
    )
    .await;
    check(client, &app, &store, &model, &plain, "renamed").await;

    // Cancel throws the draft away.
    let editing = Ui {
        masked: vec!["row-4".to_owned()],
        ..Ui::default()
    };
    click(client, "#edit-4-open").await?;
    settle(client, &model.shown(Some(4)), "second edit open").await;
    retype(client, "#edit-4-title", "Call mom back").await?;
    settle(
        client,
        &value_is("edit-4-title", "Call mom back"),
        "second edit typed",
    )
    .await;
    sync_lv(client).await?;
    check(client, &app, &store, &model, &editing, "second edit typed").await;
    click(client, "#cancel-4").await?;
    settle(
        client,
        &format!("{} && {}", model.shown(None), text_is("edit-4", None)),
        "edit cancelled",
    )
    .await;
    check(client, &app, &store, &model, &plain, "edit cancelled").await;

    // Done checkboxes: the row tells the list, which updates the item in place and the counts.
    for (id, done) in [(1, true), (3, true), (3, false), (3, true)] {
        click(client, &format!("#done-{id}")).await?;
        model.get(id).done = done;
        let context = format!("todo {id} done: {done}");
        let checked = format!("document.getElementById('done-{id}').checked === {done}");
        settle(
            client,
            &format!("{} && {checked}", model.shown(None)),
            &context,
        )
        .await;
        check(client, &app, &store, &model, &plain, &context).await;
    }
    assert_clean_console(client, "after toggling").await;

    // Moving to the top, deleting.
    for id in [4, 3] {
        click(client, &format!("#top-{id}")).await?;
        let todo = model.todos.remove(model.position(id));
        model.todos.insert(0, todo);
        let context = format!("todo {id} moved to the top");
        settle(client, &model.shown(None), &context).await;
        check(client, &app, &store, &model, &plain, &context).await;
    }
    // A moved row is still the same component: edit it.
    click(client, "#edit-3-open").await?;
    settle(client, &model.shown(Some(3)), "moved row: edit open").await;
    retype(client, "#edit-3-title", "Write the final report").await?;
    settle(client, &text_is("edit-3-error", None), "moved row: draft").await;
    click(client, "#save-3").await?;
    model.get(3).title = "Write the final report".to_owned();
    settle(
        client,
        &format!("{} && {}", model.shown(None), text_is("edit-3", None)),
        "moved row renamed",
    )
    .await;
    check(client, &app, &store, &model, &plain, "moved row renamed").await;

    click(client, "#delete-2").await?;
    model.todos.remove(model.position(2));
    settle(client, &model.shown(None), "todo 2 deleted").await;
    check(client, &app, &store, &model, &plain, "todo 2 deleted").await;

    // The confirmation dialog: JS commands show and hide it without a round trip.
    let dialog = Ui {
        dialog_open: true,
        ..Ui::default()
    };
    click(client, "#clear-completed").await?;
    settle(client, &dialog_is(true), "dialog shown").await;
    check(client, &app, &store, &model, &dialog, "dialog shown").await;
    click(client, "#confirm-clear-no").await?;
    settle(client, &dialog_is(false), "dialog cancelled").await;
    check(client, &app, &store, &model, &plain, "dialog cancelled").await;

    // "Clear" hides it and pushes the event: the stream is reset with the todos left.
    click(client, "#clear-completed").await?;
    settle(client, &dialog_is(true), "dialog shown again").await;
    check(client, &app, &store, &model, &dialog, "dialog shown again").await;
    click(client, "#confirm-clear-yes").await?;
    model.todos.retain(|t| !t.done);
    let cleared = format!(
        "{} && {} && document.getElementById('clear-completed').disabled",
        model.shown(None),
        dialog_is(false)
    );
    settle(client, &cleared, "completed cleared").await;
    check(client, &app, &store, &model, &plain, "completed cleared").await;

    // The stream goes on after its reset.
    retype(client, "#new-title", "Buy bread").await?;
    settle(
        client,
        &text_is("new-title-error", None),
        "draft after reset",
    )
    .await;
    click(client, "#add").await?;
    let bread = model.add("Buy bread");
    let added = format!("{} && {}", model.shown(None), value_is("new-title", ""));
    settle(client, &added, "added after reset").await;
    check(client, &app, &store, &model, &plain, "added after reset").await;
    click(client, &format!("#top-{bread}")).await?;
    let todo = model.todos.remove(model.position(bread));
    model.todos.insert(0, todo);
    settle(client, &model.shown(None), "moved after reset").await;
    check(client, &app, &store, &model, &plain, "moved after reset").await;
    assert_no_js_errors(client, "before reload").await;

    // A page load shows the same list (a new mount streams every stored todo), and it works.
    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "after reload").await;
    check(client, &app, &store, &model, &plain, "after reload").await;
    click(client, &format!("#done-{bread}")).await?;
    model.get(bread).done = true;
    settle(client, &model.shown(None), "toggled after reload").await;
    check(client, &app, &store, &model, &plain, "toggled after reload").await;

    assert_no_js_errors(client, "the end").await;
    browser.close().await?;
    eprintln!("todo scenario: {:?}", started.elapsed());
    Ok(())
}

/// Panics unless the page logged no JavaScript error or warning since it loaded, and the
/// browser reported no error, warning or failed request since the last check.
async fn assert_no_js_errors(client: &Client, context: &str) {
    if let Err(err) = check_no_js_errors(client).await {
        panic!("{context}: {err}");
    }
    assert_clean_console(client, context).await;
}
