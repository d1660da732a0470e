//! Connections to Redis (a small pool of blocking connections, each with connect and reply timeouts) and the one
//! mapping of Redis failures to [`Error::Budget`]. The URL is only ever shown without its password.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::{Client, Connection, ErrorKind, RedisError};

use super::config::{BudgetConfig, OnRedisError};
use crate::code::ErrorCode;
use crate::error::{Error, Result};
use crate::redact::{redact_url, redact_values};

/// How long a process in [`OnRedisError::Local`] mode leaves Redis alone after a failure.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// Most idle connections kept.
const POOL: usize = 64;

pub(crate) struct Store {
    client: Client,
    shown: String,
    password: Option<String>,
    timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    mode: OnRedisError,
    /// In local mode, after a failure: no Redis before this instant.
    down_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("url", &self.shown).finish_non_exhaustive()
    }
}

impl Store {
    /// Parses the URL (adding `ZCRM_BUDGET_PASSWORD` when the URL has none); does not connect.
    pub(crate) fn new(config: &BudgetConfig) -> Result<Store> {
        let shown = redact_url(config.url.trim());
        let mut info: redis::ConnectionInfo = redis::IntoConnectionInfo::into_connection_info(config.url.trim())
            .map_err(|e| Error::config("budget", format!("{shown}: {}", e.detail().unwrap_or("not a Redis URL"))))?;
        let from_env = std::env::var("ZCRM_BUDGET_PASSWORD").ok().filter(|p| !p.is_empty());
        let mut password = info.redis_settings().password().map(str::to_owned);
        if password.is_none()
            && let Some(p) = from_env
        {
            let settings = info.redis_settings().clone().set_password(p.clone());
            info = info.set_redis_settings(settings);
            password = Some(p);
        }
        let client = Client::open(info).map_err(|e| Error::config("budget", format!("{shown}: {e}")))?;
        Ok(Store {
            client,
            shown,
            password,
            timeout: config.timeout,
            idle: Mutex::new(Vec::new()),
            mode: config.on_redis_error,
            down_until: Mutex::new(None),
        })
    }

    /// The URL without its password.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Whether a failure is answered locally, and whether Redis is being left alone after one.
    pub(crate) fn local_now(&self) -> bool {
        self.mode == OnRedisError::Local
            && self.down_until.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|t| Instant::now() < t)
    }

    /// In local mode, whether `e` should be answered locally (and Redis left alone for a while).
    pub(crate) fn fall_back(&self, e: &Error) -> bool {
        if self.mode != OnRedisError::Local || e.code() != ErrorCode::BudgetUnavailable {
            return false;
        }
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + RETRY_AFTER_FAILURE);
        true
    }

    fn connect(&self) -> Result<Connection> {
        let con = self.client.get_connection_with_timeout(self.timeout).map_err(|e| self.error(&e))?;
        con.set_read_timeout(Some(self.timeout)).map_err(|e| self.error(&e))?;
        con.set_write_timeout(Some(self.timeout)).map_err(|e| self.error(&e))?;
        Ok(con)
    }

    /// Runs `f` on a pooled connection. A connection whose command failed at the connection level is closed.
    pub(crate) fn run<T>(&self, f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>) -> Result<T> {
        self.run_with(None, f)
    }

    /// [`Store::run`] with a longer reply timeout (for blocking commands).
    pub(crate) fn run_with<T>(
        &self,
        read_timeout: Option<Duration>,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut con = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        if let Some(t) = read_timeout {
            con.set_read_timeout(Some(t)).map_err(|e| self.error(&e))?;
        }
        let result = f(&mut con);
        if read_timeout.is_some() && result.is_ok() {
            let _ = con.set_read_timeout(Some(self.timeout));
        }
        match result {
            Ok(v) => {
                self.put_back(con);
                Ok(v)
            }
            Err(e) => {
                // A server's error reply leaves the connection usable; anything else may leave it mid-reply.
                if matches!(e.kind(), ErrorKind::Server(_)) && read_timeout.is_none() {
                    self.put_back(con);
                }
                Err(self.error(&e))
            }
        }
    }

    fn put_back(&self, con: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL {
            idle.push(con);
        }
    }

    /// The typed error for a Redis failure, naming the URL without its password.
    pub(crate) fn error(&self, e: &RedisError) -> Error {
        let text = e.to_string();
        let upper = text.to_ascii_uppercase();
        let auth = matches!(e.kind(), ErrorKind::AuthenticationFailed)
            || upper.contains("WRONGPASS")
            || upper.contains("NOAUTH")
            || upper.contains("INVALID PASSWORD")
            || upper.contains("INVALID USERNAME-PASSWORD");
        let masked: Vec<&str> = self.password.iter().map(String::as_str).collect();
        let text = redact_values(&text, &masked);
        if auth {
            Error::Budget {
                code: ErrorCode::BudgetAuth,
                message: format!(
                    "Redis at {} refused the credentials ({text}); check the password in the URL or ZCRM_BUDGET_PASSWORD",
                    self.shown
                ),
            }
        } else {
            Error::Budget {
                code: ErrorCode::BudgetUnavailable,
                message: format!("Redis at {} failed: {text}", self.shown),
            }
        }
    }
}
