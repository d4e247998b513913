"""The query language through python-quickbooks: what QuickBooks answers, and what it refuses."""

import pytest
from quickbooks.exceptions import ValidationException
from quickbooks.objects.customer import Customer


def test_a_projection_answers_sparse_customers_with_only_the_selected_properties(qb):
    customer = Customer()
    customer.DisplayName = "Projection Conformance"
    customer.CompanyName = "Projection Ltd"
    customer.save(qb=qb)

    found = Customer.query(
        "SELECT Id, DisplayName FROM Customer WHERE DisplayName = 'Projection Conformance'", qb=qb
    )
    assert [c.DisplayName for c in found] == ["Projection Conformance"]
    assert found[0].Id == customer.Id
    assert found[0].sparse is True
    # The library fills unset attributes with its defaults; the wire answer holds only these.
    raw = qb.query("SELECT Id, DisplayName FROM Customer WHERE DisplayName = 'Projection Conformance'")
    row = raw["QueryResponse"]["Customer"][0]
    assert sorted(row) == ["DisplayName", "Id", "domain", "sparse"]


def test_count_answers_a_total(qb):
    for n in range(3):
        customer = Customer()
        customer.DisplayName = f"Count Conformance {n}"
        customer.save(qb=qb)
    assert Customer.count("DisplayName LIKE 'Count Conformance%'", qb=qb) == 3
    raw = qb.query("SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE 'Count Conformance%'")
    assert raw["QueryResponse"] == {"totalCount": 3}


def test_a_filter_on_a_property_that_does_not_exist_is_refused_not_answered_empty(qb):
    with pytest.raises(ValidationException) as refused:
        Customer.where("Bogus = 'x'", qb=qb)
    assert refused.value.error_code == 4001
    assert refused.value.message == "Invalid query"
    assert refused.value.detail == "QueryValidationError: Property Bogus not found for Entity Customer"


def test_a_filter_quickbooks_does_not_allow_is_refused(qb):
    with pytest.raises(ValidationException) as refused:
        Customer.filter(AcctNum="42", qb=qb)
    assert refused.value.error_code == 4001
    assert refused.value.detail == "QueryValidationError: property 'AcctNum' is not queryable"


def test_a_syntax_error_is_a_parser_error(qb):
    with pytest.raises(ValidationException) as refused:
        Customer.where("DisplayName = 'a' OR DisplayName = 'b'", qb=qb)
    assert refused.value.error_code == 4000
    assert refused.value.message == "Error parsing query"
    assert refused.value.detail.startswith("QueryParserError: ")
