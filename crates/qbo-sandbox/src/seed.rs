//! The five demo companies: US (sales tax), UK (VAT, multicurrency), Canada (GST/HST/PST),
//! Australia (GST) and France (TVA). Each has a full chart of accounts, tax codes and
//! rates, terms, payment methods, and a few customers, vendors and items.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::company::{Company, CompanyProfile};
use crate::entity::EntityKind;

pub const US_REALM: &str = "9341453050000001";
pub const UK_REALM: &str = "9341453050000002";
pub const CA_REALM: &str = "9341453050000003";
pub const AU_REALM: &str = "9341453050000004";
pub const FR_REALM: &str = "9341453050000005";

/// The five demo companies, stamped at `now_utc`.
pub fn demo_companies(now_utc: DateTime<Utc>) -> Vec<Company> {
    [US_REALM, UK_REALM, CA_REALM, AU_REALM, FR_REALM]
        .into_iter()
        .filter_map(|realm| demo_company(realm, now_utc))
        .collect()
}

/// One demo company by realm id.
pub fn demo_company(realm_id: &str, now_utc: DateTime<Utc>) -> Option<Company> {
    let company = match realm_id {
        US_REALM => us_company(US_REALM, "Larkspur Landscaping (US)", now_utc),
        UK_REALM => uk(now_utc),
        CA_REALM => canada(now_utc),
        AU_REALM => australia(now_utc),
        FR_REALM => france(now_utc),
        _ => return None,
    };
    Some(company)
}

/// The accounts every company has, by role, for the entities that refer to them.
struct Accounts {
    services_income: String,
    product_income: String,
    cogs: String,
    inventory_asset: String,
    ap: String,
}

struct Builder {
    company: Company,
    now: DateTime<Utc>,
    currency: String,
}

impl Builder {
    fn new(profile: CompanyProfile, now: DateTime<Utc>) -> Builder {
        let currency = profile.home_currency.clone();
        Builder { company: Company::new(profile), now, currency }
    }

    fn add(&mut self, kind: EntityKind, mut value: Value) -> String {
        self.company.stamp_new(&mut value, self.now);
        let id = value["Id"].as_str().unwrap_or_default().to_owned();
        self.company.put(kind, value);
        id
    }

    fn currency_ref(&self) -> Value {
        json!({"value": self.currency})
    }

    fn account(&mut self, name: &str, account_type: &str, sub_type: &str, classification: &str) -> String {
        let currency = self.currency_ref();
        self.add(
            EntityKind::Account,
            json!({
                "Name": name, "FullyQualifiedName": name, "SubAccount": false, "Active": true,
                "Classification": classification, "AccountType": account_type, "AccountSubType": sub_type,
                "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": currency
            }),
        )
    }

    fn chart_of_accounts(&mut self, bank_name: &str) -> Accounts {
        self.account(bank_name, "Bank", "Checking", "Asset");
        self.account("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset");
        self.account("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset");
        let inventory_asset = self.account("Inventory Asset", "Other Current Asset", "Inventory", "Asset");
        let ap = self.account("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability");
        self.account("Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity");
        let services_income = self.account("Services", "Income", "ServiceFeeIncome", "Revenue");
        let product_income = self.account("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue");
        let cogs = self.account("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense");
        self.account("Advertising", "Expense", "AdvertisingPromotional", "Expense");
        self.account("Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense");
        self.account("Rent or Lease", "Expense", "RentOrLeaseOfBuildings", "Expense");
        Accounts { services_income, product_income, cogs, inventory_asset, ap }
    }

    fn tax_rate(&mut self, name: &str, percent: Value) -> String {
        self.add(
            EntityKind::TaxRate,
            json!({
                "Name": name, "Description": name, "Active": true, "RateValue": percent,
                "AgencyRef": {"value": "1"}, "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"
            }),
        )
    }

    /// A tax code whose sales (and purchase) tax is the sum of `rates` (TaxRate ids).
    fn tax_code(&mut self, name: &str, rates: &[&str]) -> String {
        let detail: Vec<Value> = rates
            .iter()
            .map(|id| json!({"TaxRateRef": {"value": id}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}))
            .collect();
        self.add(
            EntityKind::TaxCode,
            json!({
                "Name": name, "Description": name, "Active": true, "Taxable": !rates.is_empty(), "TaxGroup": rates.len() > 1,
                "SalesTaxRateList": {"TaxRateDetail": detail.clone()},
                "PurchaseTaxRateList": {"TaxRateDetail": detail}
            }),
        )
    }

    fn terms(&mut self) -> String {
        self.add(EntityKind::Term, json!({"Name": "Due on receipt", "Active": true, "Type": "STANDARD", "DueDays": 0}));
        self.add(EntityKind::Term, json!({"Name": "Net 15", "Active": true, "Type": "STANDARD", "DueDays": 15}));
        let net30 =
            self.add(EntityKind::Term, json!({"Name": "Net 30", "Active": true, "Type": "STANDARD", "DueDays": 30}));
        self.add(EntityKind::Term, json!({"Name": "Net 60", "Active": true, "Type": "STANDARD", "DueDays": 60}));
        net30
    }

    fn payment_methods(&mut self, cheque: &str) {
        for (name, kind) in [
            ("Cash", "NON_CREDIT_CARD"),
            (cheque, "NON_CREDIT_CARD"),
            ("Visa", "CREDIT_CARD"),
            ("MasterCard", "CREDIT_CARD"),
        ] {
            self.add(EntityKind::PaymentMethod, json!({"Name": name, "Active": true, "Type": kind}));
        }
    }

    fn customer(&mut self, name: &str, email: &str, address: Value, currency: Option<&str>) -> String {
        let currency = currency.map_or_else(|| self.currency_ref(), |c| json!({"value": c}));
        self.add(
            EntityKind::Customer,
            json!({
                "DisplayName": name, "CompanyName": name, "PrintOnCheckName": name, "FullyQualifiedName": name,
                "Active": true, "Job": false, "BillWithParent": false, "Level": 0, "Taxable": true,
                "PrimaryEmailAddr": {"Address": email}, "BillAddr": address,
                "Balance": 0, "BalanceWithJobs": 0, "CurrencyRef": currency, "PreferredDeliveryMethod": "Print"
            }),
        )
    }

    fn vendor(&mut self, name: &str, address: Value, currency: Option<&str>) -> String {
        let currency = currency.map_or_else(|| self.currency_ref(), |c| json!({"value": c}));
        self.add(
            EntityKind::Vendor,
            json!({
                "DisplayName": name, "CompanyName": name, "PrintOnCheckName": name, "Active": true,
                "BillAddr": address, "Balance": 0, "CurrencyRef": currency
            }),
        )
    }

    fn service_item(&mut self, name: &str, price: Value, income: &str, sales_tax_code: Option<&str>) -> String {
        let mut item = json!({
            "Name": name, "FullyQualifiedName": name, "Description": name, "Active": true, "Type": "Service",
            "UnitPrice": price, "Taxable": true, "IncomeAccountRef": {"value": income}, "TrackQtyOnHand": false
        });
        if let Some(code) = sales_tax_code {
            item["SalesTaxCodeRef"] = json!({"value": code});
        }
        self.add(EntityKind::Item, item)
    }

    fn inventory_item(
        &mut self,
        name: &str,
        price: Value,
        accounts: &Accounts,
        sales_tax_code: Option<&str>,
    ) -> String {
        let start = self.company.local_date(self.now);
        let mut item = json!({
            "Name": name, "FullyQualifiedName": name, "Description": name, "Active": true, "Type": "Inventory",
            "UnitPrice": price, "PurchaseCost": 0, "Taxable": true, "TrackQtyOnHand": true, "QtyOnHand": 100,
            "InvStartDate": start,
            "IncomeAccountRef": {"value": accounts.product_income},
            "ExpenseAccountRef": {"value": accounts.cogs},
            "AssetAccountRef": {"value": accounts.inventory_asset}
        });
        if let Some(code) = sales_tax_code {
            item["SalesTaxCodeRef"] = json!({"value": code});
        }
        self.add(EntityKind::Item, item)
    }

    fn non_inventory_item(&mut self, name: &str, price: Value, income: &str, sales_tax_code: Option<&str>) -> String {
        let mut item = json!({
            "Name": name, "FullyQualifiedName": name, "Description": name, "Active": true, "Type": "NonInventory",
            "UnitPrice": price, "Taxable": true, "IncomeAccountRef": {"value": income}, "TrackQtyOnHand": false
        });
        if let Some(code) = sales_tax_code {
            item["SalesTaxCodeRef"] = json!({"value": code});
        }
        self.add(EntityKind::Item, item)
    }

    fn company_info(&mut self, legal_name: &str, country: &str, address: Value, email: &str) {
        let name = self.company.profile.name.clone();
        self.add(
            EntityKind::CompanyInfo,
            json!({
                "CompanyName": name, "LegalName": legal_name, "Country": country, "CompanyAddr": address.clone(),
                "LegalAddr": address, "Email": {"Address": email}, "FiscalYearStartMonth": "January",
                "SupportedLanguages": "en", "CompanyStartDate": "2020-01-01",
                "NameValue": [{"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"}, {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"}]
            }),
        );
    }

    fn preferences(&mut self, using_sales_tax: bool, default_tax_code: Option<&str>, default_term: &str) {
        let home = self.currency.clone();
        let multicurrency = self.company.profile.multicurrency;
        let mut tax_prefs = json!({"UsingSalesTax": using_sales_tax, "PartnerTaxEnabled": using_sales_tax});
        if let Some(code) = default_tax_code {
            tax_prefs["TaxGroupCodeRef"] = json!({"value": code});
        }
        self.add(
            EntityKind::Preferences,
            json!({
                "TaxPrefs": tax_prefs,
                "CurrencyPrefs": {"MultiCurrencyEnabled": multicurrency, "HomeCurrency": {"value": home}},
                "SalesFormsPrefs": {"CustomTxnNumbers": true, "AllowDeposit": false, "AllowDiscount": true, "DefaultTerms": {"value": default_term}},
                "VendorAndPurchasesPrefs": {"TrackingByCustomer": false, "BillableExpenseTracking": false, "POCustomField": []},
                "AccountingInfoPrefs": {"TrackDepartments": false, "ClassTrackingPerTxn": false, "CustomerTerminology": "Customers"},
                "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": "Thank you for your business."}]}
            }),
        );
    }

    fn finish(self) -> Company {
        let mut company = self.company;
        company.take_dirty();
        company
    }
}

fn profile(realm: &str, name: &str, country: &str, currency: &str, offset_hours: i32) -> CompanyProfile {
    CompanyProfile {
        realm_id: realm.into(),
        name: name.into(),
        country: country.into(),
        home_currency: currency.into(),
        multicurrency: false,
        exchange_rates: BTreeMap::new(),
        utc_offset_minutes: offset_hours * 60,
    }
}

fn address(line1: &str, city: &str, region: &str, postal: &str, country: &str) -> Value {
    json!({"Line1": line1, "City": city, "CountrySubDivisionCode": region, "PostalCode": postal, "Country": country})
}

/// The US demo company (chart of accounts, sales tax, customers, vendors, items) under
/// another realm id and name: how a sandbox hosts many companies of one shape, each with its
/// own data and its own limits (a bookkeeper's clients, a benchmark's fifty companies).
pub fn us_company(realm_id: &str, name: &str, now: DateTime<Utc>) -> Company {
    let mut b = Builder::new(profile(realm_id, name, "US", "USD", -8), now);
    let accounts = b.chart_of_accounts("Checking");
    let california = b.tax_rate("California", json!(7.25));
    let alameda = b.tax_rate("Alameda County", json!(1));
    let out_of_state = b.tax_rate("Out of state", json!(0));
    let default_code = b.tax_code("California + Alameda", &[&california, &alameda]);
    b.tax_code("Out of state", &[&out_of_state]);
    let net30 = b.terms();
    b.payment_methods("Check");
    let home = address("1 Garden Way", "Oakland", "CA", "94612", "US");
    b.company_info("Larkspur Landscaping LLC", "US", home, "books@larkspur.example");
    b.preferences(true, Some(&default_code), &net30);
    b.customer(
        "Amy's Bird Sanctuary",
        "birds@intuit.example",
        address("4581 Finch St.", "Bayshore", "CA", "94326", "US"),
        None,
    );
    b.customer(
        "O'Brien & Sons",
        "office@obrien.example",
        address("12 Harbor Rd", "Half Moon Bay", "CA", "94019", "US"),
        None,
    );
    b.customer("Cool Cars", "cool@cars.example", address("65 Ocean Dr.", "Half Moon Bay", "CA", "94213", "US"), None);
    b.customer(
        "José Núñez",
        "jose@nunez.example",
        address("300 Mission St", "San Francisco", "CA", "94105", "US"),
        None,
    );
    b.vendor("Norton Lumber and Building Materials", address("4528 Reed St", "Middlefield", "CA", "94303", "US"), None);
    b.vendor("Tania's Nursery", address("1111 Oak Ave", "Fremont", "CA", "94536", "US"), None);
    b.service_item("Design", json!(75), &accounts.services_income, None);
    b.service_item("Gardening", json!(25), &accounts.services_income, None);
    b.service_item("Installation", json!(50), &accounts.services_income, None);
    b.non_inventory_item("Sprinkler Heads", json!(2.5), &accounts.product_income, None);
    b.inventory_item("Rock Fountain", json!(275), &accounts, None);
    let _ = accounts.ap;
    b.finish()
}

fn uk(now: DateTime<Utc>) -> Company {
    let mut p = profile(UK_REALM, "Thistle & Thorn Ltd (UK)", "GB", "GBP", 0);
    p.multicurrency = true;
    // A UK business billing North America and Europe, as the BSS sandbox's accounts do.
    p.exchange_rates = BTreeMap::from([
        ("USD".to_owned(), "0.79".to_owned()),
        ("EUR".to_owned(), "0.85".to_owned()),
        ("CAD".to_owned(), "0.57".to_owned()),
    ]);
    let mut b = Builder::new(p, now);
    let accounts = b.chart_of_accounts("Current Account");
    let standard = b.tax_rate("20.0% S", json!(20));
    let reduced = b.tax_rate("5.0% R", json!(5));
    let zero = b.tax_rate("0.0% Z", json!(0));
    let standard_code = b.tax_code("20.0% S", &[&standard]);
    b.tax_code("5.0% R", &[&reduced]);
    b.tax_code("0.0% Z", &[&zero]);
    b.tax_code("Exempt", &[]);
    b.tax_code("No VAT", &[]);
    let net30 = b.terms();
    b.payment_methods("Cheque");
    let home = address("7 Canongate", "Edinburgh", "", "EH8 8BN", "GB");
    b.company_info("Thistle & Thorn Limited", "GB", home, "accounts@thistle.example");
    b.preferences(false, None, &net30);
    b.customer(
        "Marks & Fenwick Ltd",
        "ap@marksfenwick.example",
        address("21 High St", "York", "", "YO1 8RL", "GB"),
        None,
    );
    b.customer(
        "O'Neill's Pub",
        "hello@oneills.example",
        address("4 Grafton St", "Manchester", "", "M13 9PL", "GB"),
        None,
    );
    b.customer("Brontë Books", "orders@bronte.example", address("9 Church St", "Haworth", "", "BD22 8DR", "GB"), None);
    b.customer(
        "Liberty Outfitters Inc",
        "billing@liberty.example",
        address("500 5th Ave", "New York", "NY", "10110", "US"),
        Some("USD"),
    );
    b.vendor("Highland Wool Co", address("3 Mill Lane", "Inverness", "", "IV1 1AA", "GB"), None);
    b.vendor("Tissage Lyonnais", address("14 Rue de la Soie", "Lyon", "", "69001", "FR"), Some("EUR"));
    b.service_item("Consulting", json!(95), &accounts.services_income, Some(&standard_code));
    b.service_item("Alterations", json!(30), &accounts.services_income, Some(&standard_code));
    b.non_inventory_item("Tweed Cap", json!(24.5), &accounts.product_income, Some(&standard_code));
    b.inventory_item("Wool Throw", json!(68), &accounts, Some(&standard_code));
    b.finish()
}

fn canada(now: DateTime<Utc>) -> Company {
    let mut b = Builder::new(profile(CA_REALM, "Maple Leaf Outfitters (CA)", "CA", "CAD", -5), now);
    let accounts = b.chart_of_accounts("Chequing");
    let gst = b.tax_rate("GST", json!(5));
    let hst = b.tax_rate("HST ON", json!(13));
    let pst_bc = b.tax_rate("PST BC", json!(7));
    let zero = b.tax_rate("Zero-rated", json!(0));
    b.tax_code("GST", &[&gst]);
    let hst_code = b.tax_code("HST ON", &[&hst]);
    b.tax_code("GST/PST BC", &[&gst, &pst_bc]);
    b.tax_code("Exempt", &[]);
    b.tax_code("Zero-rated", &[&zero]);
    let net30 = b.terms();
    b.payment_methods("Cheque");
    let home = address("100 King St W", "Toronto", "ON", "M5X 1A9", "CA");
    b.company_info("Maple Leaf Outfitters Inc.", "CA", home, "comptes@mapleleaf.example");
    b.preferences(false, None, &net30);
    b.customer(
        "Château Frontenac Gifts",
        "boutique@frontenac.example",
        address("1 Rue des Carrières", "Québec", "QC", "G1R 4P5", "CA"),
        None,
    );
    b.customer(
        "O'Connor & Daughters",
        "info@oconnor.example",
        address("88 Queen St", "Ottawa", "ON", "K1P 1J9", "CA"),
        None,
    );
    b.customer(
        "Pacific Trails Co",
        "hello@pacifictrails.example",
        address("1055 W Georgia St", "Vancouver", "BC", "V6E 3P3", "CA"),
        None,
    );
    b.vendor("Northern Canvas Supply", address("20 Bay St", "Toronto", "ON", "M5J 2N8", "CA"), None);
    b.vendor("Rocky Mountain Leather", address("400 4 Ave SW", "Calgary", "AB", "T2P 0J4", "CA"), None);
    b.service_item("Guiding", json!(120), &accounts.services_income, Some(&hst_code));
    b.service_item("Repairs", json!(45), &accounts.services_income, Some(&hst_code));
    b.non_inventory_item("Trail Map", json!(12.95), &accounts.product_income, Some(&hst_code));
    b.inventory_item("Canoe Paddle", json!(89.99), &accounts, Some(&hst_code));
    b.finish()
}

fn australia(now: DateTime<Utc>) -> Company {
    let mut b = Builder::new(profile(AU_REALM, "Wattle Creek Supplies (AU)", "AU", "AUD", 10), now);
    let accounts = b.chart_of_accounts("Business Cheque Account");
    let gst = b.tax_rate("GST", json!(10));
    let free = b.tax_rate("GST Free", json!(0));
    let gst_code = b.tax_code("GST", &[&gst]);
    b.tax_code("FRE", &[&free]);
    b.tax_code("Input Taxed", &[]);
    b.tax_code("NON", &[]);
    let net30 = b.terms();
    b.payment_methods("Cheque");
    let home = address("12 George St", "Sydney", "NSW", "2000", "AU");
    b.company_info("Wattle Creek Supplies Pty Ltd", "AU", home, "accounts@wattle.example");
    b.preferences(false, None, &net30);
    b.customer(
        "Bondi Surf & Co",
        "shop@bondisurf.example",
        address("180 Campbell Pde", "Bondi Beach", "NSW", "2026", "AU"),
        None,
    );
    b.customer(
        "O'Reilly Station",
        "station@oreilly.example",
        address("1 Outback Rd", "Alice Springs", "NT", "0870", "AU"),
        None,
    );
    b.customer("Café Zoë", "hello@cafezoe.example", address("77 Brunswick St", "Fitzroy", "VIC", "3065", "AU"), None);
    b.vendor("Outback Timber", address("5 Mill Rd", "Ballarat", "VIC", "3350", "AU"), None);
    b.vendor("Coral Coast Freight", address("22 Wharf St", "Cairns", "QLD", "4870", "AU"), None);
    b.service_item("Delivery", json!(35), &accounts.services_income, Some(&gst_code));
    b.service_item("Installation", json!(80), &accounts.services_income, Some(&gst_code));
    b.non_inventory_item("Garden Hose", json!(29.95), &accounts.product_income, Some(&gst_code));
    b.inventory_item("Water Tank", json!(749), &accounts, Some(&gst_code));
    b.finish()
}

fn france(now: DateTime<Utc>) -> Company {
    let mut b = Builder::new(profile(FR_REALM, "Atelier Lumière SARL (FR)", "FR", "EUR", 1), now);
    let accounts = b.chart_of_accounts("Compte courant");
    let normal = b.tax_rate("TVA 20 %", json!(20));
    let intermediate = b.tax_rate("TVA 10 %", json!(10));
    let reduced = b.tax_rate("TVA 5,5 %", json!(5.5));
    let zero = b.tax_rate("TVA 0 %", json!(0));
    let normal_code = b.tax_code("TVA 20 %", &[&normal]);
    b.tax_code("TVA 10 %", &[&intermediate]);
    b.tax_code("TVA 5,5 %", &[&reduced]);
    b.tax_code("TVA 0 %", &[&zero]);
    b.tax_code("Exonéré", &[]);
    let net30 = b.terms();
    b.payment_methods("Chèque");
    let home = address("18 Rue des Lumières", "Paris", "", "75003", "FR");
    b.company_info("Atelier Lumière SARL", "FR", home, "compta@atelier-lumiere.example");
    b.preferences(false, None, &net30);
    b.customer(
        "Boulangerie Dupré & Fils",
        "contact@dupre.example",
        address("3 Place du Marché", "Lyon", "", "69002", "FR"),
        None,
    );
    b.customer(
        "L'Éclat d'Or",
        "bonjour@eclatdor.example",
        address("25 Quai des Orfèvres", "Paris", "", "75001", "FR"),
        None,
    );
    b.customer(
        "Hôtel Côte d'Azur",
        "reception@cotedazur.example",
        address("8 Promenade des Anglais", "Nice", "", "06000", "FR"),
        None,
    );
    b.vendor("Verrerie de Normandie", address("2 Rue du Verre", "Rouen", "", "76000", "FR"), None);
    b.vendor("Laiton & Cuivre SA", address("40 Avenue Jean Jaurès", "Lille", "", "59000", "FR"), None);
    b.service_item("Conception lumière", json!(90), &accounts.services_income, Some(&normal_code));
    b.service_item("Pose", json!(55), &accounts.services_income, Some(&normal_code));
    b.non_inventory_item("Ampoule LED", json!(6.9), &accounts.product_income, Some(&normal_code));
    b.inventory_item("Lampe Atelier", json!(149), &accounts, Some(&normal_code));
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::HashSet;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn references(value: &Value, path: &str, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_path = format!("{path}.{key}");
                    if key.ends_with("Ref") && key != "CurrencyRef" {
                        if let Some(id) = child.get("value").and_then(Value::as_str) {
                            found.push((child_path.clone(), id.to_owned()));
                        }
                    }
                    references(child, &child_path, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| references(item, path, found)),
            _ => {}
        }
    }

    #[test]
    fn five_companies_in_five_countries_one_multicurrency() {
        let companies = demo_companies(now());
        let countries: Vec<&str> = companies.iter().map(|c| c.profile.country.as_str()).collect();
        assert_eq!(countries, ["US", "GB", "CA", "AU", "FR"]);
        assert_eq!(companies.iter().filter(|c| c.profile.multicurrency).count(), 1);
    }

    #[test]
    fn every_company_has_every_account_type_rules_rely_on() {
        for company in demo_companies(now()) {
            let types: HashSet<String> =
                company.all(EntityKind::Account).map(|a| a["AccountType"].as_str().unwrap().to_owned()).collect();
            for needed in [
                "Bank",
                "Accounts Receivable",
                "Accounts Payable",
                "Income",
                "Cost of Goods Sold",
                "Other Current Asset",
                "Expense",
                "Equity",
            ] {
                assert!(types.contains(needed), "{} lacks {needed}", company.profile.name);
            }
            let subtypes: Vec<&str> =
                company.all(EntityKind::Account).filter_map(|a| a["AccountSubType"].as_str()).collect();
            assert!(subtypes.contains(&"UndepositedFunds") && subtypes.contains(&"Inventory"));
        }
    }

    #[test]
    fn every_company_can_tax_a_sale() {
        for company in demo_companies(now()) {
            let rate_of = |id: &str| company.get(EntityKind::TaxRate, id).unwrap()["RateValue"].to_string();
            if company.profile.country == "US" {
                let preferences = company.all(EntityKind::Preferences).next().unwrap();
                let code_id = preferences["TaxPrefs"]["TaxGroupCodeRef"]["value"].as_str().unwrap();
                let code = company.get(EntityKind::TaxCode, code_id).unwrap();
                assert_eq!(code["SalesTaxRateList"]["TaxRateDetail"].as_array().unwrap().len(), 2);
            } else {
                let taxable = company.all(EntityKind::TaxCode).any(|code| {
                    code["SalesTaxRateList"]["TaxRateDetail"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|d| rate_of(d["TaxRateRef"]["value"].as_str().unwrap()) != "0")
                });
                assert!(taxable, "{} has no taxable code", company.profile.name);
            }
        }
    }

    #[test]
    fn every_reference_resolves_inside_its_company() {
        for company in demo_companies(now()) {
            for kind in EntityKind::ALL {
                for entity in company.all(kind) {
                    let mut found = Vec::new();
                    references(entity, kind.name(), &mut found);
                    for (path, id) in found {
                        let exists = EntityKind::ALL.into_iter().any(|k| company.get(k, &id).is_some());
                        assert!(
                            exists || path.ends_with("AgencyRef"),
                            "{}: {path} -> {id} does not resolve",
                            company.profile.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn names_are_unique_and_times_carry_the_company_offset() {
        for company in demo_companies(now()) {
            let mut names = HashSet::new();
            for kind in [EntityKind::Customer, EntityKind::Vendor, EntityKind::Employee] {
                for entity in company.all(kind) {
                    let name = entity["DisplayName"].as_str().unwrap().to_lowercase();
                    assert!(names.insert(name.clone()), "{name} twice in {}", company.profile.name);
                }
            }
            let expected = company.profile.utc_offset().to_string();
            let customer = company.all(EntityKind::Customer).next().unwrap();
            let created = customer["MetaData"]["CreateTime"].as_str().unwrap();
            assert!(created.ends_with(&expected), "{created} in {}", company.profile.name);
        }
    }
}
