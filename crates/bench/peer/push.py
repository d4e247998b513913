"""The peer: the same push written as python-quickbooks users write it, one record per request.

Usage: push.py BASE_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI ACCOUNTS PRODUCTS INVOICES
Prints one JSON line: {"records": n, "seconds": s, "throttled": retries}.
A 429 is waited out and retried (as a careful user would), so the peer is not penalised for it.
"""

import json
import os
import sys
import time
from urllib.parse import parse_qs, urlparse

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.base import Ref

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


def connect(base, client_id, secret, redirect):
    auth = AuthClient(client_id, secret, redirect, environment=f"{base}/.well-known/openid_sandbox_configuration")
    answer = requests.get(auth.get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False, timeout=10)
    query = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    client = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=query["realmId"], minorversion=75)
    client.api_url_v3 = f"{base}/v3"
    client.sandbox_api_url_v3 = f"{base}/v3"
    return client


throttled = 0


def save(obj, qb):
    global throttled
    while True:
        try:
            return obj.save(qb=qb)
        except QuickbooksException as error:
            if "429" in str(error) or "3001" in str(error) or "Throttl" in str(error):
                throttled += 1
                time.sleep(0.02)
                continue
            raise


def main():
    base, client_id, secret, redirect = sys.argv[1:5]
    accounts, products, invoices = (int(n) for n in sys.argv[5:8])
    qb = connect(base, client_id, secret, redirect)
    income = requests.get(
        f"{base}/v3/company/{qb.company_id}/query",
        params={"query": "SELECT * FROM Account WHERE AccountType = 'Income' MAXRESULTS 1"},
        headers={"Authorization": f"Bearer {qb.auth_client.access_token}", "Accept": "application/json"},
        timeout=10,
    ).json()["QueryResponse"]["Account"][0]["Id"]
    started = time.monotonic()
    customer_ids, item_ids = [], []
    for n in range(accounts):
        customer = Customer()
        customer.DisplayName = f"Peer Customer {n:05}"
        customer_ids.append(save(customer, qb).Id)
    for n in range(products):
        item = Item()
        item.Name = f"Peer Product {n:04}"
        item.Type = "Service"
        item.UnitPrice = 10 + n
        item.IncomeAccountRef = Ref()
        item.IncomeAccountRef.value = income
        item_ids.append(save(item, qb).Id)
    for n in range(invoices):
        invoice = Invoice()
        invoice.CustomerRef = Ref()
        invoice.CustomerRef.value = customer_ids[n % len(customer_ids)]
        line = SalesItemLine()
        line.Amount = 20
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.ItemRef = Ref()
        line.SalesItemLineDetail.ItemRef.value = item_ids[n % len(item_ids)]
        line.SalesItemLineDetail.Qty = 2
        line.SalesItemLineDetail.UnitPrice = 10
        invoice.Line = [line]
        save(invoice, qb)
    seconds = time.monotonic() - started
    print(json.dumps({"records": accounts + products + invoices, "seconds": seconds, "throttled": throttled}))


if __name__ == "__main__":
    main()
