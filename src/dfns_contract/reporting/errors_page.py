"""``--dfns-errors-doc``: which form of the errors page was given, whether it fits the contract, and the drift.

The errors page has had two forms: ``getting-started/errors.md`` (2024 and
2025: ``<details>`` entries under ``### 400 - Bad Request``, one per message)
and today's API Errors page (``api-reference/error-codes``: one section per
status, ``### 400 Bad Request``). The page says which form it is; the catalog
says which form it was written from (its sections copy the page's headings).
A page of the other form would make every status or entry drift, so it is one
set-up error saying which page to give instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from dfns_contract.contract.catalog import Catalog
from dfns_contract.reporting.drift import DETAILS, STATUSES, Drift, DriftError, ErrorsPage, compare, details_page, read_page
from dfns_contract.reporting.drift_statuses import compare_statuses, load_status_page

#: How each form is described to a person who gave the other one.
FORMS = {
    DETAILS: "the 2024/2025 errors page's form (<details> entries under '### 400 - Bad Request' headings)",
    STATUSES: "today's API Errors page's form (one section per status, '### 400 Bad Request')",
}
_OLD_HEADING = re.compile(r"(^|› )\d{3} - ")
_STATUS_HEADING = re.compile(r"(^|› )\d{3} [^-]|\(\d{3}\)$")


def catalog_form(catalog: Catalog) -> str:
    """The form of the page the catalog was written from, by how its sections spell the page's headings."""
    sections = [error.section for error in catalog.errors] + [entry.section for entry in catalog.recognised]
    if any(_OLD_HEADING.search(section) for section in sections):
        return DETAILS
    if catalog.recognised or any(_STATUS_HEADING.search(section) for section in sections):
        return STATUSES
    return DETAILS


def load_page_for(catalog: Catalog, path: str | Path) -> ErrorsPage:
    """The page, in whichever form it is, if it is the form of the catalog's page; ``DriftError`` otherwise."""
    raw, text = read_page(path, catalog.doc)
    page = details_page(path, raw, text) or load_status_page(str(path), raw, text)
    if page is None:
        raise DriftError(
            "--dfns-errors-doc %s: no documented error found (expected '### 400 - Bad Request' headings with "
            "<details><summary>…</summary> entries, or today's '### 400 Bad Request' sections); is it %s?"
            % (path, catalog.doc))
    expected = catalog_form(catalog)
    if page.format != expected:
        raise DriftError(
            "--dfns-errors-doc %s: this page is in %s, but %s was written from %s in %s; give a copy of that page%s"
            % (path, FORMS[page.format], catalog.title, catalog.doc, FORMS[expected],
               " (e.g. %s in the shared reference folder)" % catalog.page if catalog.page else ""))
    return page


def compare_page(catalog: Catalog, page: ErrorsPage) -> Drift:
    """The drift, by (status, message) for the 2024/2025 form, by status and documented message for today's."""
    return compare_statuses(catalog, page) if page.format == STATUSES else compare(catalog, page)
