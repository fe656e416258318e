//! `askpro bench --calcom`: the bench tenant's staff linked to a Cal.com
//! stand-in on 127.0.0.1 (there is no Cal.com to reach from a bench), so
//! ListAvailableSlots pays for Cal.com's busy times: from the cache (warm,
//! the default `calcom_busy_ttl_secs`) or read on every call
//! (`ASKPRO_CALCOM_BUSY_TTL_SECS=0`, cold). The stand-in answers
//! `GET /v2/bookings` in Cal.com's v2 shape with three one-hour bookings a
//! day for the next 30 days, as a busy account would have.
use anyhow::Context;
use axum::routing::get;
use chrono::{TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::domain::ids::TenantId;
use crate::store::Store;
use crate::store::entities::{calcom_connection, calcom_staff_link};

/// The stand-in's answer, built once.
fn bookings_page() -> serde_json::Value {
    let today = Utc::now().date_naive();
    let mut bookings = Vec::new();
    for day in 0..30 {
        for hour in [9, 12, 15] {
            let Some(start) = (today + TimeDelta::days(day)).and_hms_opt(hour, 0, 0) else { continue };
            let start = start.and_utc();
            let iso = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            bookings.push(json!({
                "id": bookings.len() + 1, "uid": format!("bench{day}x{hour}"), "status": "accepted",
                "start": iso(start), "end": iso(start + TimeDelta::hours(1)), "metadata": {},
            }));
        }
    }
    json!({"status": "success", "data": bookings})
}

/// Starts the stand-in; answers its base URL.
pub async fn start() -> anyhow::Result<String> {
    let page = bookings_page();
    let app = axum::Router::new().route("/v2/bookings", get(move || async move { axum::Json(page.clone()) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the Cal.com stand-in")?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{address}"))
}

/// Connects the bench tenant to the stand-in, every staff member linked to
/// its one account (written directly: ConnectCalcom would ask for /v2/me).
pub async fn connect(store: &Store, tenant: TenantId, base_url: &str, staff: &[Uuid]) -> anyhow::Result<()> {
    let at = Utc::now();
    let connection = calcom_connection::Model {
        tenant_id: tenant.0,
        base_url: base_url.to_owned(),
        api_key: "cal_bench_stand_in_key_0000".into(),
        account_user_id: 1,
        account_username: "bench".into(),
        account_email: "bench@example.com".into(),
        account_time_zone: "Europe/Berlin".into(),
        create_time: at,
        update_time: at,
    };
    let links = staff
        .iter()
        .map(|id| calcom_staff_link::Model {
            tenant_id: tenant.0,
            staff_id: *id,
            event_type_id: 1,
            event_type_length: 30,
            calcom_user_id: 1,
            calcom_email: String::new(),
        })
        .collect();
    let tx = store.write(tenant).await?;
    crate::store::calcom::save(&tx, connection, links).await?;
    tx.commit().await?;
    Ok(())
}
