"""A row's cells as a site's own import format reads them (``importers.base.Cells``)."""

import pytest

from wagtail_customers.importers.base import Cells, merged_cells, read_table


def test_an_empty_cell_reads_as_empty_text_and_a_column_the_file_lacks_is_a_key_error():
    table = read_table(b"Order,Buyer User ID,Total\nE1,,12.00\nE2,4711,\n", "orders.csv")
    (first_row, first), (_, second) = table.rows
    assert first_row == 2
    assert (first["Order"], first["Buyer User ID"], "Buyer User ID" in first) == ("E1", "", False)
    assert (second["Buyer User ID"], second["Total"], second.get("Total", "none")) == ("4711", "", "none")
    with pytest.raises(KeyError, match="Buyer Id"):
        first["Buyer Id"]  # a typo in the format's column name is not read as an empty cell


def test_an_orders_merged_cells_read_an_empty_cell_as_empty_text_too():
    table = read_table(b"Order,Email,Total\nE1,ada@example.com,\nE1,,\n", "orders.csv")
    merged = merged_cells(table.rows)
    assert (merged["Email"], merged["Total"]) == ("ada@example.com", "")
    with pytest.raises(KeyError):
        merged["Phone"]
    with pytest.raises(KeyError):
        Cells({"Order": "E1"})["Total"]  # made outside a table: no columns known
