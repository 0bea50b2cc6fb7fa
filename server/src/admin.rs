//! `server accounts …`: what an administrator does from a shell, on the
//! same database the server uses. Secrets (tokens, links) are printed once;
//! passwords are never printed, and are read from a file, from a pipe, or
//! asked for without echo. Removing a person and deleting a person's data
//! happen here too, for the shell and the web pages alike.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{bail, Context};
use chrono::Duration;

use crate::accounts::password::PasswordDigest;
use crate::accounts::{Account, AccountState, PersonId, PersonName, Role};
use crate::config::{AccountsCommand, KafkaSettings};
use crate::event::ForgetScope;
use crate::store::accounts::{AccountError, LinkPurpose};
use crate::store::{Store, StoreError};
use crate::stream::{control, KafkaUnreachable};

/// How long a sign-in link printed here works.
const SIGN_IN_LINK_VALID_FOR: Duration = Duration::hours(1);

/// Why a person's figures cannot be removed now.
#[derive(Debug, thiserror::Error)]
pub enum RemovalError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the message broker did not take the removal ({0}); nothing was removed, try again")]
    Kafka(#[from] KafkaUnreachable),
}

/// Deletes everything counted for a person so far: a control event on the
/// listens topic removes their figures, in order with their listens, on
/// every server; the registry forgets their imports, so the same files may
/// be imported again.
pub async fn forget_data(
    store: &Store,
    kafka: &KafkaSettings,
    person: &PersonId,
) -> Result<(), RemovalError> {
    control::forget(kafka, person, ForgetScope::Data).await?;
    store.forget_imports(person).await?;
    Ok(())
}

/// Removes an account with all its figures: first the control event (so
/// nothing is removed if the broker cannot take it), then its imports, its
/// sessions, tokens and share link, and the account.
pub async fn remove_person(
    store: &Store,
    kafka: &KafkaSettings,
    name: &PersonName,
) -> Result<Account, RemovalError> {
    let account = store
        .account(&name.key())
        .await?
        .ok_or_else(|| AccountError::NoSuchAccount(name.clone()))?;
    control::forget(kafka, &account.id, ForgetScope::Account).await?;
    store.forget_imports(&account.id).await?;
    Ok(store.remove_account(name).await?)
}

/// Runs one command; `public_url` is where the links it prints point.
pub async fn run(
    store: &Store,
    kafka: &KafkaSettings,
    public_url: &str,
    command: AccountsCommand,
) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Add {
            name,
            admin,
            password_file,
        } => {
            let name = parse_name(&name)?;
            let password = read_password(password_file.as_deref(), true)?;
            let role = if admin { Role::Admin } else { Role::Member };
            match store.create_account(&name, password, role).await {
                Ok(account) => println!("created {} ({})", account.name, role_word(role)),
                Err(AccountError::NameTaken(name)) => {
                    bail!("the name {name} is taken; choose another, or `server accounts list`")
                }
                Err(error) => return Err(error.into()),
            }
        }
        AccountsCommand::List => {
            let accounts = store.accounts().await?;
            if accounts.is_empty() {
                println!("no accounts yet: `server accounts add NAME --admin` creates the first");
            }
            for account in accounts {
                let state = match account.state {
                    AccountState::Active => "active",
                    AccountState::Disabled => "disabled",
                };
                println!(
                    "{:<32} {:<6} {:<8} created {}",
                    account.name.as_str(),
                    role_word(account.role),
                    state,
                    account.created_at.format("%Y-%m-%d")
                );
            }
        }
        AccountsCommand::Remove { name } => {
            let name = parse_name(&name)?;
            let account = match remove_person(store, kafka, &name).await {
                Ok(account) => account,
                Err(RemovalError::Account(error)) => return Err(explain(error)),
                Err(error) => return Err(error.into()),
            };
            println!("removed {} and all their figures", account.name);
        }
        AccountsCommand::ResetPassword {
            name,
            password_file,
        } => {
            let name = parse_name(&name)?;
            let password = read_password(password_file.as_deref(), true)?;
            store.set_password(&name, password).await.map_err(explain)?;
            println!("new password set for {name}; its sessions have ended");
        }
        AccountsCommand::Token { name, label } => {
            let name = parse_name(&name)?;
            existing(store, &name).await?;
            let token = store.create_token(&name.key(), &label).await?;
            println!("{}", token.expose());
        }
        AccountsCommand::SignInLink { name } => {
            let name = parse_name(&name)?;
            existing(store, &name).await?;
            let link = store
                .create_link(
                    LinkPurpose::SignIn { person: name.key() },
                    SIGN_IN_LINK_VALID_FOR,
                )
                .await?;
            println!("{public_url}/sign-in/link/{}", link.expose());
        }
    }
    Ok(())
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

fn parse_name(raw: &str) -> anyhow::Result<PersonName> {
    PersonName::parse(raw).with_context(|| format!("{raw:?} cannot be a name"))
}

async fn existing(store: &Store, name: &PersonName) -> anyhow::Result<()> {
    if store.account(&name.key()).await?.is_none() {
        bail!("there is no account named {name}; `server accounts list` shows them");
    }
    Ok(())
}

fn explain(error: AccountError) -> anyhow::Error {
    match error {
        AccountError::NoSuchAccount(name) => {
            anyhow::anyhow!("there is no account named {name}; `server accounts list` shows them")
        }
        other => other.into(),
    }
}

/// A new password: from a file, from standard input when it is a pipe, or
/// asked for twice without echo.
fn read_password(file: Option<&Path>, confirm: bool) -> anyhow::Result<PasswordDigest> {
    let password = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password from {}", path.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        None if !std::io::stdin().is_terminal() => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\n', '\r']).to_string()
        }
        None => {
            let first = rpassword::prompt_password("password: ")?;
            if confirm && rpassword::prompt_password("again: ")? != first {
                bail!("the two passwords differ; nothing was changed");
            }
            first
        }
    };
    Ok(PasswordDigest::new(&password)?)
}
