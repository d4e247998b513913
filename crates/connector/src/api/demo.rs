//! The demo: the bundled QuickBooks sandbox and an instance connected to its US company with
//! demo records, set up the same way by the desktop app, the CLI and the tests.

use std::path::PathBuf;
use std::time::Duration;

use qbo_sandbox::{seed, RegisteredApp, Sandbox, SandboxConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use rust_decimal::Decimal;

use super::{ApiResult, ConnectionView, Connector, InstanceChanges, InstanceView};
use crate::error::{ApiError, ErrorCode};
use crate::instance::{Environment, NewInstance};
use crate::platform::demo::{DemoSize, TaxCode};
use crate::platform::Module;

/// The sales tax codes of the sandbox's US company (California 7.25% with Alameda's 1%, and
/// none), which the demo records use.
pub fn demo_taxes() -> Vec<TaxCode> {
    vec![TaxCode::new("TAX", &[Decimal::new(725, 2), Decimal::ONE]), TaxCode::new("NON", &[])]
}

/// Starts the bundled sandbox with its five companies on a free loopback port. Its consent
/// screen is Intuit's to show; here the US company says yes at once. `data_file` keeps its
/// companies and grants across restarts; in memory without it.
pub async fn start_sandbox(data_file: Option<PathBuf>) -> ApiResult<Sandbox> {
    let config = SandboxConfig { data_file, ..SandboxConfig::auto_approving(seed::US_REALM) };
    Sandbox::start(config).await.map_err(|error| {
        ApiError::new(ErrorCode::Storage, "the demo QuickBooks sandbox could not start").with_detail(error.to_string())
    })
}

impl Connector {
    /// The instance `name` pointed at the demo sandbox at `base_url`, with the demo app's keys:
    /// activated the first time, its address updated after (the sandbox's port changes).
    pub fn demo_instance(&self, name: &str, base_url: &str, redirect_uri: &str) -> ApiResult<InstanceView> {
        self.sandbox_instance(name, base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri)
    }

    fn sandbox_instance(
        &self,
        name: &str,
        base_url: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
    ) -> ApiResult<InstanceView> {
        let environment = Environment::Custom { base_url: base_url.to_owned() };
        if !self.is_name_free(name)? {
            let changes = InstanceChanges { environment: Some(environment), ..InstanceChanges::default() };
            return self.update_instance(name, changes);
        }
        self.activate(
            NewInstance {
                name: name.into(),
                environment,
                company_id: None,
                client_id: Some(client_id.into()),
                redirect_uri: Some(redirect_uri.into()),
            },
            Some(client_secret.into()),
        )
    }

    /// `name` activated against a sandbox that approves at once, with `app` registered there
    /// (its first redirect URI), connected, and its choices made from the company's first
    /// fitting records: how tests and benchmarks get a company.
    pub async fn connect_to_sandbox(
        &self,
        name: &str,
        sandbox: &Sandbox,
        app: RegisteredApp,
    ) -> ApiResult<ConnectionView> {
        let redirect_uri = app.redirect_uris.first().cloned().unwrap_or_default();
        let (client_id, client_secret) = (app.client_id.clone(), app.client_secret.clone());
        sandbox.register_app(app);
        self.sandbox_instance(name, sandbox.base_url(), &client_id, &client_secret, &redirect_uri)?;
        let connection = self.connect_without_browser(name).await?;
        // Ready to sync, as an operator leaves it after the first-sync checklist: a push is
        // refused until the income account and vendor are chosen.
        self.fill_variables_from_company(name).await?;
        Ok(connection)
    }

    /// Demo records (US sales tax), unless the store has accounts already. Answers how many
    /// of each module were made, none when there were records.
    pub fn demo_records(&self, seed: u64) -> ApiResult<Vec<(Module, usize)>> {
        if self.records_page(Module::Accounts, "", 0, 1)?.total > 0 {
            return Ok(Vec::new());
        }
        Ok(self.generate_demo_data(DemoSize::small(), seed, &demo_taxes(), "USD")?.into_iter().collect())
    }

    /// Connects `name` to a server that approves at once (the bundled sandbox's auto-approval):
    /// follows the authorization address without a browser and hands the redirect it answers
    /// with to [`Connector::complete_connect`], as the loopback listener or the relay page
    /// would. An operator's browser takes the same steps with a person in them.
    pub async fn connect_without_browser(&self, name: &str) -> ApiResult<ConnectionView> {
        let url = self.begin_connect(name).await?;
        let no_follow = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::new(ErrorCode::QuickBooks, e.to_string()))?;
        let answer = no_follow.get(url).send().await.map_err(|e| {
            ApiError::new(ErrorCode::QuickBooks, "the authorization server did not answer").with_detail(e.to_string())
        })?;
        let location = answer.headers().get("location").and_then(|v| v.to_str().ok()).ok_or_else(|| {
            ApiError::new(
                ErrorCode::QuickBooks,
                format!(
                    "the authorization server asked for a person (HTTP {}) instead of approving at once",
                    answer.status()
                ),
            )
        })?;
        self.complete_connect(name, location).await
    }
}

/// The BSS sandbox the demo runs, for the shell to hold without naming bss-sandbox itself.
pub use bss_sandbox::BssSandbox;

/// Starts the bundled BSS sandbox (the interworks.cloud BSS's shape) on a free loopback port,
/// with the demo's records: a few accounts with their contacts, products and invoices, an order
/// and a payment, in US dollars as the demo company bills. `data_file` keeps its records across restarts (in
/// memory without it); the demo records are made only into an empty store, so a kept one
/// comes back as it was left, with what syncs wrote to it since.
pub async fn start_bss_sandbox(data_file: Option<PathBuf>) -> ApiResult<BssSandbox> {
    let config = bss_sandbox::BssConfig { data_file, ..bss_sandbox::BssConfig::default() };
    let sandbox = BssSandbox::start(config).await.map_err(|error| {
        ApiError::new(ErrorCode::Storage, "the demo BSS sandbox could not start").with_detail(error.to_string())
    })?;
    let empty = bss_sandbox::Kind::ALL.iter().all(|kind| sandbox.count(*kind) == 0);
    if empty {
        demo_bss_records(&sandbox)
            .map_err(|error| ApiError::new(ErrorCode::Storage, format!("the demo BSS records: {}", error.message)))?;
    }
    Ok(sandbox)
}

/// The demo's BSS records, made directly in the sandbox as the business would have them.
fn demo_bss_records(bss: &bss_sandbox::BssSandbox) -> Result<(), bss_sandbox::ApiError> {
    use bss_sandbox::Kind;
    use serde_json::json;
    let products = [
        ("Fibre 500 (monthly)", "FIB-500", "49.00"),
        ("Static IP", "IP-1", "5.00"),
        ("Router rental", "RTR-2", "7.50"),
    ];
    let mut product_ids = Vec::new();
    for (name, code, price) in products {
        let made = bss.create(
            Kind::Products,
            &json!({"name": name, "code": code, "unitPrice": price.parse::<Decimal>().unwrap_or_default()}),
        )?;
        product_ids.push(made["id"].clone());
    }
    let accounts = [
        ("O'Neill & Daughters Bakery", "Aoife", "O'Neill", "Boston"),
        ("Café Zoë", "Zoë", "Laurent", "Portland"),
        ("Harbour Lights Ltd", "Mei", "Tanaka", "Seattle"),
    ];
    for (n, (name, first, last, city)) in accounts.into_iter().enumerate() {
        let email = format!("billing{n}@customer.example");
        let account = bss.create(
            Kind::Accounts,
            &json!({"name": name, "corpEmail": email, "transactionCurrency": "USD",
                    "addresses": [{"address1": format!("{} Main St", 10 + n), "city": city, "region": "MA", "postCode": "02108", "countryCode": "US", "isBilling": true}]}),
        )?;
        bss.create(
            Kind::Contacts,
            &json!({"accountId": account["id"], "firstName": first, "lastName": last, "email": email}),
        )?;
        let product = &product_ids[n % product_ids.len()];
        let invoice = bss.create(
            Kind::Invoices,
            &json!({"billingAccountId": account["id"], "date": "2026-11-02", "currency": "USD", "type": "Debit", "stage": "Unpaid",
                    "lines": [{"product": {"id": product}, "quantity": 1 + n, "unitPrice": products[n % products.len()].2.parse::<Decimal>().unwrap_or_default(), "description": "Monthly service"}]}),
        )?;
        // An order and a payment too, so that every module of the demo has a record to sync.
        if n == 0 {
            bss.create(
                Kind::Payments,
                &json!({"accountId": account["id"], "invoiceId": invoice["id"], "amount": invoice["totalAmount"],
                        "paymentDate": "2026-11-20", "paymentMethod": "Card", "transactionId": "PAY-1001"}),
            )?;
            bss.create(
                Kind::Orders,
                &json!({"accountId": account["id"], "date": "2026-11-05", "status": "Open",
                        "lines": [{"product": {"id": product_ids[2]}, "quantity": 4, "unitPrice": products[2].2.parse::<Decimal>().unwrap_or_default(), "description": "Routers for stock"}]}),
            )?;
        }
    }
    Ok(())
}

impl Connector {
    /// Links `name` to the demo BSS sandbox with its demo application user.
    ///
    /// The sandbox comes back on another port each launch, and the store knows a platform by
    /// its address: when `name` already linked the demo sandbox at another address, what the
    /// store knew of it there (which record is which, how far it was read and written) moves
    /// to the new address, so the kept records are not met as new ones.
    pub fn link_demo_platform(&self, name: &str, bss: &BssSandbox) -> ApiResult<super::PlatformLinkView> {
        use crate::platform::link::{PlatformLink, PlatformSecret, RestLink};
        let link = PlatformLink::Rest(RestLink {
            profile: "interworks-bss.json".into(),
            custom_profile: None,
            variables: [("server".to_owned(), bss.base_url().to_owned())].into(),
            username: Some(bss_sandbox::DEMO_USERNAME.into()),
            client_id: Some(bss_sandbox::DEMO_CLIENT_ID.into()),
        });
        let secrets = [
            (PlatformSecret::Password, bss_sandbox::DEMO_PASSWORD.to_owned()),
            (PlatformSecret::ClientSecret, bss_sandbox::DEMO_CLIENT_SECRET.to_owned()),
        ]
        .into();
        let was_demo = self.links_demo_platform(name)?;
        let before = self.platform_link(name)?;
        let view = self.set_platform_link(name, &link, &secrets)?;
        match (before.address, &view.address) {
            (Some(old), Some(new)) if was_demo && &old != new => {
                crate::sync::store::move_platform(&self.store.connection(), &old, new)?;
                self.platform_link(name)
            }
            _ => Ok(view),
        }
    }
}

impl Connector {
    /// Whether `name` links a BSS sandbox on this machine, as [`Connector::link_demo_platform`]
    /// left it: an operator who linked the demo instance elsewhere is not relinked behind
    /// their back when the app starts.
    pub fn links_demo_platform(&self, name: &str) -> ApiResult<bool> {
        use crate::platform::link::PlatformLink;
        Ok(matches!(&self.platform_link(name)?.link, PlatformLink::Rest(rest)
            if rest.profile == "interworks-bss.json"
                && rest.variables.get("server").is_some_and(|server| is_loopback(server))))
    }
}

/// An address on this machine: where the bundled sandboxes listen.
fn is_loopback(address: &str) -> bool {
    address.starts_with("http://127.0.0.1:") || address.starts_with("http://localhost:")
}
