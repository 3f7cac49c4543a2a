//! The avatar upload and `GET /account/avatar` with `livefire::test` (no browser, the real
//! protocol): a PNG and a JPEG go through the account page's upload into the store and come
//! back to their owner only, with the stored type and the protective headers; files that only
//! look like images by name (SVG, HTML, a GIF) are refused by their bytes; an SVG by its type
//! is refused live; a file over the limit is refused live; cancel removes an entry; an
//! anonymous request gets 403. The browser side is in `tests/browser.rs`.

use demo::avatars::{ImageType, MAX_AVATAR_BYTES};
use demo::db::Db;
use demo::users::Users;
use demo::web::{self, AppState, Options};
use livefire::test::{Browser, LiveTest, UploadFile};
use livefire::token::Keyring;

const PASSWORD: &str = "correct horse battery";
const FILE_INPUT: &str = "#avatar-form input[type=file]";

/// A valid 1×1 PNG (one opaque red pixel).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Bytes that start like a JPEG (the store looks at the signature only).
fn jpeg_bytes() -> Vec<u8> {
    let mut bytes = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01".to_vec();
    bytes.extend_from_slice(&[0x42; 64]);
    bytes.extend_from_slice(b"\xff\xd9");
    bytes
}

struct App {
    router: axum::Router,
    users: Users,
    data: tempfile::TempDir,
}

/// The demo on a private database file and data directory.
async fn app() -> App {
    let data = tempfile::tempdir().expect("tempdir");
    let path = data.path().join("demo.sqlite3");
    let db = tokio::task::spawn_blocking(move || Db::open(&path))
        .await
        .expect("task")
        .expect("db");
    let users = Users::new(db);
    let router = web::app_with(
        AppState {
            users: users.clone(),
            keyring: Keyring::random(),
            secure_cookies: false,
        },
        Options {
            data_dir: Some(data.path().to_owned()),
            ..Options::default()
        },
    );
    App {
        router,
        users,
        data,
    }
}

/// A browser signed in as a new user `email`, on its account page.
async fn signed_in(app: &App, email: &str) -> (Browser, LiveTest) {
    app.users.register(email, PASSWORD).await.expect("register");
    let browser = Browser::start(&app.router).await.expect("browser");
    let mut login = browser.live("/login").await.expect("/login");
    let redirect = login
        .submit_form("#login-form", &[("email", email), ("password", PASSWORD)])
        .await
        .expect("login")
        .navigation();
    let account = login.follow_redirect(redirect).await.expect("/account");
    assert!(
        account.has_element("#signed-in", Some(email)),
        "{}",
        account.html()
    );
    (browser, account)
}

/// Uploads `file` on the account page and presses "Save avatar"; the page's HTML after it.
async fn upload_and_save(account: &mut LiveTest, file: UploadFile) -> String {
    account
        .file_input(FILE_INPUT, vec![file])
        .upload()
        .await
        .expect("upload")
        .html();
    assert!(
        account.has_element(".upload-percent", Some("100%")),
        "{}",
        account.html()
    );
    account
        .submit_form("#avatar-form", &[])
        .await
        .expect("save")
        .html()
}

/// The files in the avatar directory.
fn stored_files(app: &App) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app.data.path().join("avatars"))
        .expect("avatar dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_avatar_is_stored_and_served_to_its_owner_only() {
    let app = app().await;
    let (ann, mut ann_account) = signed_in(&app, "ann@example.com").await;
    let (bob, mut bob_account) = signed_in(&app, "bob@example.com").await;
    assert!(ann_account.has_element("#no-avatar", None));
    assert_eq!(ann.get("/account/avatar").await.unwrap().status, 404);

    // Ann uploads a PNG: the page shows it from /account/avatar?v=<its file id>.
    let html = upload_and_save(
        &mut ann_account,
        UploadFile::new("me.png", "image/png", PNG.to_vec()),
    )
    .await;
    assert!(
        ann_account.has_element(".flash-info", Some("Your avatar was updated.")),
        "{html}"
    );
    assert!(
        !ann_account.has_element(".upload-entry", None),
        "consumed: {html}"
    );
    let img = ann_account.elements("#current-avatar").unwrap();
    assert_eq!(img.len(), 1, "{html}");
    let ann_files = stored_files(&app);
    assert_eq!(ann_files.len(), 1, "{ann_files:?}");
    let ann_id = ann_files[0].strip_suffix(".png").expect("a .png file");
    assert!(
        img[0].contains(&format!("src=\"/account/avatar?v={ann_id}\"")),
        "{img:?}"
    );

    let res = ann
        .get(&format!("/account/avatar?v={ann_id}"))
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["content-type"], "image/png");
    assert_eq!(res.headers["x-content-type-options"], "nosniff");
    assert_eq!(res.headers["cache-control"], "private, no-store");
    assert_eq!(
        res.headers["content-security-policy"], "default-src 'none'; sandbox",
        "the image's own policy, not the pages'"
    );
    assert_eq!(
        res.headers["content-disposition"],
        "inline; filename=\"avatar.png\""
    );
    assert_eq!(res.body, String::from_utf8_lossy(PNG));

    // Bob has none, whatever the URL says: the query names no user.
    for path in [
        "/account/avatar".to_owned(),
        format!("/account/avatar?v={ann_id}"),
    ] {
        let res = bob.get(&path).await.unwrap();
        assert_eq!(res.status, 404, "{path}");
        assert_ne!(res.body, String::from_utf8_lossy(PNG), "{path}");
    }

    // Bob saves a JPEG: each gets their own, with its own type.
    let jpeg = jpeg_bytes();
    upload_and_save(
        &mut bob_account,
        UploadFile::new("bob.jpeg", "image/jpeg", jpeg.clone()),
    )
    .await;
    let res = bob
        .get(&format!("/account/avatar?v={ann_id}"))
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["content-type"], "image/jpeg");
    assert_eq!(
        res.headers["content-disposition"],
        "inline; filename=\"avatar.jpg\""
    );
    assert_eq!(res.body, String::from_utf8_lossy(&jpeg));
    let res = ann.get("/account/avatar").await.unwrap();
    assert_eq!(res.headers["content-type"], "image/png");
    assert_eq!(res.body, String::from_utf8_lossy(PNG));
    assert_eq!(stored_files(&app).len(), 2);

    // Ann replaces hers: a new file id, a new URL; the old file is deleted.
    upload_and_save(
        &mut ann_account,
        UploadFile::new("again.png", "image/png", PNG.to_vec()),
    )
    .await;
    let files = stored_files(&app);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        !files.contains(&ann_files[0]),
        "old file deleted: {files:?}"
    );
    assert!(
        !ann_account.has_element(&format!("#current-avatar[src$='{ann_id}']"), None),
        "{}",
        ann_account.html()
    );

    // The profile page shows the same image.
    let profile = ann.live("/profile").await.unwrap();
    let new_img = ann_account.elements("#current-avatar").unwrap();
    assert_eq!(profile.elements("#current-avatar").unwrap(), new_img);

    // Logged out, nobody gets an avatar.
    let stranger = Browser::start(&app.router).await.unwrap();
    let res = stranger.get("/account/avatar").await.unwrap();
    assert_eq!(res.status, 403);
    assert_eq!(res.body, "Log in to see your avatar.");
    let home = ann.get("/account").await.unwrap();
    ann.submit_form(&home, "#logout-form", &[]).await.unwrap();
    assert_eq!(ann.get("/account/avatar").await.unwrap().status, 403);
}

#[tokio::test]
async fn files_named_like_images_are_refused_by_their_bytes() {
    let app = app().await;
    let (ann, mut account) = signed_in(&app, "ann@example.com").await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    for (name, bytes) in [
        ("drawing.png", &svg[..]),
        ("page.png", &html[..]),
        ("photo.jpg", &svg[..]),
        ("anim.webp", &gif[..]),
    ] {
        assert!(ImageType::sniff(bytes).is_none(), "{name}");
        let mime = if name.ends_with(".png") {
            "image/png"
        } else {
            "image/jpeg"
        };
        let html = upload_and_save(&mut account, UploadFile::new(name, mime, bytes.to_vec())).await;
        assert!(
            account.has_element(
                "#avatar-save-error",
                Some("The file is not a PNG, JPEG or WebP image.")
            ),
            "{name}: {html}"
        );
        assert!(
            !account.has_element("#current-avatar", None),
            "{name}: {html}"
        );
        assert!(
            !account.has_element(".upload-entry", None),
            "{name}: consumed"
        );
        assert_eq!(stored_files(&app), Vec::<String>::new(), "{name}");
        assert_eq!(
            ann.get("/account/avatar").await.unwrap().status,
            404,
            "{name}"
        );
    }
    // Nothing was left behind in the uploads directory either.
    let uploads = std::fs::read_dir(app.data.path().join("uploads"))
        .unwrap()
        .count();
    assert_eq!(uploads, 0);
}

#[tokio::test]
async fn svg_too_large_and_cancelled_files_are_handled_live() {
    let app = app().await;
    let (_ann, mut account) = signed_in(&app, "ann@example.com").await;
    assert!(
        account.has_element("#avatar-form label", Some("at most 1 MB")),
        "the limit is announced: {}",
        account.html()
    );

    // An SVG by its name and type: refused as soon as it is chosen, nothing is sent.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec();
    account
        .file_input(
            FILE_INPUT,
            vec![UploadFile::new("logo.svg", "image/svg+xml", svg)],
        )
        .upload()
        .await
        .unwrap();
    assert!(
        account.has_element(
            ".upload-entry .upload-error",
            Some("Only PNG, JPEG and WebP images are accepted.")
        ),
        "{}",
        account.html()
    );
    assert!(account.has_element("#avatar-save[disabled]", None));

    // One byte over the limit: the size error, and the previous entry is replaced.
    let mut big = PNG.to_vec();
    big.resize(usize::try_from(MAX_AVATAR_BYTES).unwrap() + 1, 0);
    account
        .file_input(
            FILE_INPUT,
            vec![UploadFile::new("big.png", "image/png", big)],
        )
        .upload()
        .await
        .unwrap();
    assert!(
        account.has_element(
            ".upload-entry .upload-error",
            Some("The file is larger than 1 MB.")
        ),
        "{}",
        account.html()
    );
    assert_eq!(account.elements(".upload-entry").unwrap().len(), 1);
    assert!(account.has_element("#avatar-save[disabled]", None));
    assert!(account.has_element(".upload-entry .upload-name", Some("big.png")));

    // Exactly at the limit is fine.
    let mut limit = PNG.to_vec();
    limit.resize(usize::try_from(MAX_AVATAR_BYTES).unwrap(), 0);
    account
        .file_input(
            FILE_INPUT,
            vec![UploadFile::new("limit.png", "image/png", limit)],
        )
        .upload()
        .await
        .unwrap();
    assert!(
        !account.has_element(".upload-error", None),
        "{}",
        account.html()
    );
    assert!(account.has_element(".upload-entry .upload-percent", Some("100%")));
    assert!(!account.has_element("#avatar-save[disabled]", None));

    // Cancel: the entry is gone and its temporary file deleted.
    account.click(".upload-entry .upload-cancel").await.unwrap();
    assert!(
        !account.has_element(".upload-entry", None),
        "{}",
        account.html()
    );
    assert!(account.has_element("#avatar-save[disabled]", None));
    let uploads = std::fs::read_dir(app.data.path().join("uploads"))
        .unwrap()
        .count();
    assert_eq!(uploads, 0, "the cancelled upload's file is deleted");

    // Saving with nothing chosen stores nothing.
    account.submit_form("#avatar-form", &[]).await.unwrap();
    assert!(account.has_element("#avatar-save-error", Some("Choose an image first.")));
    assert!(stored_files(&app).is_empty());
}
