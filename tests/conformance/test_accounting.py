"""python-quickbooks against the sandbox's Accounting API, used as its users write it."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
from quickbooks.cdc import change_data_capture
from quickbooks.objects.account import Account
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine


def new_customer(qb, name):
    customer = Customer()
    customer.DisplayName = name
    return customer.save(qb=qb)


def service_item(qb):
    return Item.filter(Type="Service", qb=qb)[0]


def new_invoice(qb, customer, item, qty=2, price=50):
    line = SalesItemLine()
    line.Amount = qty * price
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = price
    line.SalesItemLineDetail.TaxCodeRef = Ref()
    line.SalesItemLineDetail.TaxCodeRef.value = "NON"
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line.append(line)
    return invoice.save(qb=qb)


def test_customer_create_read_update_deactivate(qb):
    created = new_customer(qb, "O'Hara & Daughters")
    assert created.Id
    read = Customer.get(created.Id, qb=qb)
    assert read.DisplayName == "O'Hara & Daughters"
    assert read.SyncToken == "0"
    read.CompanyName = "O'Hara & Daughters Ltd"
    updated = read.save(qb=qb)
    assert updated.SyncToken == "1"
    assert Customer.get(created.Id, qb=qb).CompanyName == "O'Hara & Daughters Ltd"
    found = Customer.filter(DisplayName="O'Hara & Daughters", qb=qb)
    assert [c.Id for c in found] == [created.Id]
    updated.Active = False
    inactive = updated.save(qb=qb)
    assert inactive.Active is False
    assert Customer.filter(DisplayName="O'Hara & Daughters", qb=qb) == []


def test_item_create_read_update_deactivate(qb):
    income = Account.filter(AccountType="Income", qb=qb)[0]
    item = Item()
    item.Name = "Conformance Widget"
    item.Type = "Service"
    item.UnitPrice = 12.5
    item.IncomeAccountRef = income.to_ref()
    created = item.save(qb=qb)
    read = Item.get(created.Id, qb=qb)
    assert read.Name == "Conformance Widget"
    assert read.UnitPrice == 12.5
    read.UnitPrice = 15
    assert read.save(qb=qb).UnitPrice == 15
    read = Item.get(created.Id, qb=qb)
    read.Active = False
    assert read.save(qb=qb).Active is False


def test_invoice_and_payment_lifecycle(qb):
    customer = new_customer(qb, "Lifecycle Customer")
    invoice = new_invoice(qb, customer, service_item(qb))
    assert invoice.TotalAmt == 100
    assert invoice.Balance == 100
    assert invoice.DocNumber

    payment = Payment()
    payment.TotalAmt = 60
    payment.CustomerRef = customer.to_ref()
    line = PaymentLine()
    line.Amount = 60
    link = LinkedTxn()
    link.TxnId = invoice.Id
    link.TxnType = "Invoice"
    line.LinkedTxn.append(link)
    payment.Line.append(line)
    payment = payment.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 40

    read_payment = Payment.get(payment.Id, qb=qb)
    read_payment.delete(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 100

    fresh = Invoice.get(invoice.Id, qb=qb)
    fresh.delete(qb=qb)
    assert Invoice.filter(Id=invoice.Id, qb=qb) == []


def test_paged_query_returns_every_row_once(qb):
    names = {f"Conformance Pager {n:02}" for n in range(25)}
    for name in sorted(names):
        new_customer(qb, name)
    seen = []
    position = 1
    while True:
        page = Customer.where(
            "DisplayName LIKE 'Conformance Pager%'",
            order_by="DisplayName",
            start_position=position,
            max_results=10,
            qb=qb,
        )
        seen.extend(c.DisplayName for c in page)
        if len(page) < 10:
            break
        position += 10
    assert seen == sorted(names)
    assert Customer.count("DisplayName LIKE 'Conformance Pager%'", qb=qb) == 25


def test_a_stale_update_is_refused(sandbox, qb, connected):
    auth_client, realm_id = connected
    customer = new_customer(qb, "Stale Update Co")
    first_copy = Customer.get(customer.Id, qb=qb)
    second_copy = Customer.get(customer.Id, qb=qb)
    first_copy.CompanyName = "First"
    first_copy.save(qb=qb)
    second_copy.CompanyName = "Second"
    # python-quickbooks raises nothing for codes 5000-9999 and then fails on the empty answer.
    with pytest.raises(Exception):
        second_copy.save(qb=qb)
    assert Customer.get(customer.Id, qb=qb).CompanyName == "First"
    raw = requests.post(
        f"{sandbox}/v3/company/{realm_id}/customer?minorversion=75",
        json={"Id": customer.Id, "SyncToken": "0", "sparse": True, "CompanyName": "Third"},
        headers={"Authorization": f"Bearer {auth_client.access_token}", "Accept": "application/json"},
        timeout=10,
    )
    assert raw.status_code == 400
    assert raw.json()["Fault"]["Error"][0]["code"] == "5010"
    assert raw.headers["intuit_tid"]


def test_change_data_capture_sees_creates_and_deletes(qb):
    since = datetime.now(timezone(timedelta(hours=-8))).replace(tzinfo=None) - timedelta(minutes=5)
    customer = new_customer(qb, "CDC Conformance")
    invoice = new_invoice(qb, customer, service_item(qb), qty=1, price=Decimal("9.99"))
    Invoice.get(invoice.Id, qb=qb).delete(qb=qb)
    changes = change_data_capture([Customer, Invoice], since, qb=qb)
    assert customer.Id in [c.Id for c in changes.Customer]
    deleted = [i for i in changes.Invoice if i.Id == invoice.Id]
    assert deleted and deleted[0].status == "Deleted"
