//! [`Store`] on SQLite: the queries of the embedded default, on [`Db`]'s one connection (run
//! on tokio's blocking pool by [`Db::call`]).

use rusqlite::{OptionalExtension as _, params};

use super::{AvatarRow, Backend, Cutoffs, NewToken, SessionRow, Store, StoreFuture};
use crate::db::Db;
use crate::users::User;

/// A valid session token (alias `t`): `?1`, `?2`, `?3` are the [`Cutoffs`].
const VALID_SESSION: &str = "((t.context = 'session' AND t.inserted_at > ?1) \
     OR (t.context = 'session_remember' AND t.inserted_at > ?2)) \
     AND coalesce(t.last_used_at, t.inserted_at) > ?3";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
    })
}

impl Store for Db {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn schema_version(&self) -> StoreFuture<'_, i64> {
        Box::pin(Db::schema_version(self))
    }

    fn insert_user(
        &self,
        email: String,
        password_hash: String,
        now: i64,
    ) -> StoreFuture<'_, Option<i64>> {
        Box::pin(async move {
            let inserted = self
                .call(move |c| {
                    c.query_row(
                        "INSERT INTO users (email, password_hash, inserted_at) VALUES (?1, ?2, ?3) \
                         RETURNING id",
                        params![email, password_hash, now],
                        |r| r.get(0),
                    )
                })
                .await;
            match inserted {
                Ok(id) => Ok(Some(id)),
                Err(e) if e.is_unique_violation() => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn user_by_email(&self, email: String) -> StoreFuture<'_, Option<User>> {
        Box::pin(self.call(move |c| {
            c.query_row(
                "SELECT id, email FROM users WHERE email = ?1",
                [email],
                user_from_row,
            )
            .optional()
        }))
    }

    fn login_by_email(&self, email: String) -> StoreFuture<'_, Option<(User, String)>> {
        Box::pin(self.call(move |c| {
            c.query_row(
                "SELECT id, email, password_hash FROM users \
                 WHERE email = ?1 AND disabled_at IS NULL",
                [email],
                |r| Ok((user_from_row(r)?, r.get::<_, String>(2)?)),
            )
            .optional()
        }))
    }

    fn set_password_hash(
        &self,
        user_id: i64,
        hash: String,
        expected: Option<String>,
    ) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let changed = self
                .call(move |c| match expected {
                    Some(old) => c.execute(
                        "UPDATE users SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3",
                        params![hash, user_id, old],
                    ),
                    None => c.execute(
                        "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                        params![hash, user_id],
                    ),
                })
                .await?;
            Ok(changed > 0)
        })
    }

    fn password_hash(&self, user_id: i64) -> StoreFuture<'_, Option<String>> {
        Box::pin(self.call(move |c| {
            c.query_row(
                "SELECT password_hash FROM users WHERE id = ?1",
                [user_id],
                |r| r.get(0),
            )
            .optional()
        }))
    }

    fn set_disabled(&self, user_id: i64, disabled: bool, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.call(move |c| {
                c.execute(
                    "UPDATE users SET disabled_at = CASE WHEN ?2 THEN coalesce(disabled_at, ?3) END \
                     WHERE id = ?1",
                    params![user_id, disabled, now],
                )
            })
            .await?;
            Ok(())
        })
    }

    fn insert_token(&self, token: NewToken) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.call(move |c| {
                c.execute(
                    "INSERT INTO user_tokens \
                     (token_hash, user_id, context, inserted_at, last_used_at, login_id) \
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                    params![
                        token.hash,
                        token.user_id,
                        token.context,
                        token.now,
                        token.login_id
                    ],
                )
            })
            .await?;
            Ok(())
        })
    }

    fn session(&self, hash: Vec<u8>, cutoffs: Cutoffs) -> StoreFuture<'_, Option<SessionRow>> {
        Box::pin(self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT u.id, u.email, t.context, t.inserted_at, \
                     coalesce(t.last_used_at, t.inserted_at), coalesce(t.login_id, t.token_hash) \
                     FROM user_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = ?4 AND {VALID_SESSION} AND u.disabled_at IS NULL"
                ),
                params![cutoffs.plain, cutoffs.remembered, cutoffs.idle, hash],
                |r| {
                    Ok(SessionRow {
                        user: user_from_row(r)?,
                        context: r.get(2)?,
                        inserted_at: r.get(3)?,
                        last_used_at: r.get(4)?,
                        login_id: r.get(5)?,
                    })
                },
            )
            .optional()
        }))
    }

    fn touch_token(&self, hash: Vec<u8>, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.call(move |c| {
                c.execute(
                    "UPDATE user_tokens SET last_used_at = ?2 \
                     WHERE token_hash = ?1 AND coalesce(last_used_at, 0) < ?2",
                    params![hash, now],
                )
            })
            .await?;
            Ok(())
        })
    }

    fn delete_login(&self, hash: Vec<u8>) -> StoreFuture<'_, Vec<Vec<u8>>> {
        Box::pin(self.call(move |c| {
            c.prepare(
                "DELETE FROM user_tokens WHERE context IN ('session', 'session_remember') \
                 AND coalesce(login_id, token_hash) = (SELECT coalesce(login_id, token_hash) \
                 FROM user_tokens WHERE token_hash = ?1 \
                 AND context IN ('session', 'session_remember')) \
                 RETURNING token_hash",
            )?
            .query_map([hash], |r| r.get(0))?
            .collect()
        }))
    }

    fn valid_session_hashes(
        &self,
        hashes: Vec<Vec<u8>>,
        cutoffs: Cutoffs,
    ) -> StoreFuture<'_, Vec<Vec<u8>>> {
        Box::pin(async move {
            if hashes.is_empty() {
                return Ok(Vec::new());
            }
            self.call(move |c| {
                let placeholders = (4..4 + hashes.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(",");
                let mut statement = c.prepare(&format!(
                    "SELECT t.token_hash FROM user_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE {VALID_SESSION} AND u.disabled_at IS NULL \
                     AND t.token_hash IN ({placeholders})"
                ))?;
                let mut params: Vec<&dyn rusqlite::ToSql> =
                    vec![&cutoffs.plain, &cutoffs.remembered, &cutoffs.idle];
                params.extend(hashes.iter().map(|h| h as &dyn rusqlite::ToSql));
                statement
                    .query_map(params.as_slice(), |r| r.get::<_, Vec<u8>>(0))?
                    .collect()
            })
            .await
        })
    }

    fn delete_session_tokens(&self, user_id: i64) -> StoreFuture<'_, Vec<Vec<u8>>> {
        Box::pin(self.call(move |c| {
            c.prepare(
                "DELETE FROM user_tokens WHERE user_id = ?1 \
                 AND context IN ('session', 'session_remember') RETURNING token_hash",
            )?
            .query_map([user_id], |r| r.get(0))?
            .collect()
        }))
    }

    fn token_context(&self, hash: Vec<u8>) -> StoreFuture<'_, Option<String>> {
        Box::pin(self.call(move |c| {
            c.query_row(
                "SELECT context FROM user_tokens WHERE token_hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .optional()
        }))
    }

    fn delete_all_tokens(&self, user_id: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let n = self
                .call(move |c| c.execute("DELETE FROM user_tokens WHERE user_id = ?1", [user_id]))
                .await?;
            Ok(n as u64)
        })
    }

    fn purge_tokens(&self, cutoffs: Cutoffs) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let n = self
                .call(move |c| {
                    c.execute(
                        &format!(
                            "DELETE FROM user_tokens AS t WHERE t.context IN ('session', \
                             'session_remember') AND NOT ({VALID_SESSION})"
                        ),
                        params![cutoffs.plain, cutoffs.remembered, cutoffs.idle],
                    )
                })
                .await?;
            Ok(n as u64)
        })
    }

    fn count_tokens(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let n: i64 = self
                .call(|c| c.query_row("SELECT count(*) FROM user_tokens", [], |r| r.get(0)))
                .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn avatar(&self, user_id: i64) -> StoreFuture<'_, Option<AvatarRow>> {
        Box::pin(self.call(move |c| {
            c.query_row(
                "SELECT file_id, content_type, size, updated_at FROM avatars WHERE user_id = ?1",
                [user_id],
                |r| {
                    Ok(AvatarRow {
                        file_id: r.get(0)?,
                        content_type: r.get(1)?,
                        size: r.get(2)?,
                        updated_at: r.get(3)?,
                    })
                },
            )
            .optional()
        }))
    }

    fn put_avatar(
        &self,
        user_id: i64,
        avatar: AvatarRow,
    ) -> StoreFuture<'_, Option<(String, String)>> {
        Box::pin(self.call(move |c| {
            let tx = c.transaction()?;
            let old: Option<(String, String)> = tx
                .query_row(
                    "SELECT file_id, content_type FROM avatars WHERE user_id = ?1",
                    [user_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            tx.execute(
                "INSERT INTO avatars (user_id, file_id, content_type, size, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user_id) DO UPDATE SET file_id = excluded.file_id,
                    content_type = excluded.content_type, size = excluded.size,
                    updated_at = excluded.updated_at",
                params![
                    user_id,
                    avatar.file_id,
                    avatar.content_type,
                    avatar.size,
                    avatar.updated_at
                ],
            )?;
            tx.commit()?;
            Ok(old)
        }))
    }
}
