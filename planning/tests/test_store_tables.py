"""The season page's store tables (allocation, shipments, store variance) at scale: filtered,
sorted and paged in the database, one page of rows at a time, as htmx fragments or the full page."""
import re

import pytest
from django.core.management import call_command
from django.test import Client

from agents.season_tools import check_variance
from planning.models import Allocation, Replenishment, StoreAllocation, VarianceCheck, WeeklyActual
from planning.selectors import store_tables as tables
from planning.tests import scale_season

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
SPECS = (tables.ALLOCATION_STORES, tables.SHIPMENTS, tables.STORE_VARIANCE)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def store_rows(html):
    """The store ids of a table's body rows, in order."""
    return re.findall(r"<tr><td>(T\d{4}) ", html)


@pytest.fixture
def season_of(db, planner):
    call_command("loaddata", "clusters", "categories", verbosity=0)

    def make(stores, weeks=2):
        return scale_season.season(stores, weeks_of_actuals=weeks, owner=planner)

    return make


@pytest.fixture
def season(season_of):
    return season_of(120)


# --- the table state: bad values fall back, never an error ---------------------------------------

@pytest.mark.parametrize("page, expected", [("3", 3), ("0", 1), ("-2", 1), ("abc", 1), ("", 1), (None, 1),
                                            ("2.5", 1), ("99999999999999", 10**9)])
def test_a_page_that_is_not_a_positive_number_is_the_first(page, expected):
    assert tables.read_state(tables.ALLOCATION_STORES, {"stores_page": page}).page == expected


@pytest.mark.parametrize("size, expected", [("25", 25), ("50", 50), ("100000", 50), ("0", 50), ("lots", 50),
                                            ("10", 10)])
def test_the_page_size_is_bounded(size, expected):
    assert tables.read_state(tables.ALLOCATION_STORES, {"stores_size": size}).size == expected


def test_an_unknown_sort_column_or_cluster_is_ignored_and_the_text_is_trimmed():
    state = tables.read_state(tables.SHIPMENTS, {"shipments_sort": "-password", "shipments_cluster": "nope",
                                                 "shipments_q": "  t00   1 " + "x" * 100},
                              clusters={"mainstream"})
    assert (state.sort, state.descending, state.cluster) == ("need", True, "")
    assert state.q.startswith("t00 1 x") and len(state.q) == tables.MAX_TEXT_LENGTH
    assert tables.read_state(tables.SHIPMENTS, {"shipments_cluster": "mainstream"},
                             clusters={"mainstream"}).cluster == "mainstream"
    assert tables.read_state(tables.SHIPMENTS, {"shipments_sort": "band"}).sort == "need"  # not sortable


# --- paging -------------------------------------------------------------------------------------

def test_the_first_page_is_shown_by_default(season, viewer):
    html = signed_in(viewer).get(f"/seasons/{season.pk}/stores", headers=HTMX).content.decode()
    assert store_rows(html) == [f"T{i:04d}" for i in range(1, 51)]
    assert "Showing 1–50 of 120 stores · page 1 of 3" in html
    assert 'rel="next"' in html and 'rel="prev"' not in html


def test_the_last_page_and_a_page_past_the_end_show_the_last_rows(season, viewer):
    client = signed_in(viewer)
    for page in ("3", "4", "1000"):
        html = client.get(f"/seasons/{season.pk}/stores?stores_page={page}", headers=HTMX).content.decode()
        assert store_rows(html) == [f"T{i:04d}" for i in range(101, 121)]
        assert "Showing 101–120 of 120 stores · page 3 of 3" in html
        assert 'rel="prev"' in html and 'rel="next"' not in html
        assert f"/seasons/{season.pk}/stores?stores_page=2" in html  # previous


@pytest.mark.parametrize("query", ["stores_page=0", "stores_page=abc", "stores_page=-1", "stores_size=x",
                                   "stores_sort=%27;drop", "stores_cluster=%00"])
def test_bad_parameters_show_the_first_page(season, viewer, query):
    response = signed_in(viewer).get(f"/seasons/{season.pk}/stores?{query}", headers=HTMX)
    assert response.status_code == 200
    assert store_rows(response.content.decode())[:2] == ["T0001", "T0002"]


def test_a_huge_page_size_is_capped_and_25_is_offered(season, viewer):
    client = signed_in(viewer)
    html = client.get(f"/seasons/{season.pk}/stores?stores_size=100000", headers=HTMX).content.decode()
    assert len(store_rows(html)) == 50
    html = client.get(f"/seasons/{season.pk}/stores?stores_size=25&stores_page=2", headers=HTMX).content.decode()
    assert store_rows(html) == [f"T{i:04d}" for i in range(26, 51)]
    assert "Showing 26–50 of 120 stores · page 2 of 5" in html
    assert '<option value="25" selected>' in html
    assert "stores_size=25&amp;stores_page=3" in html  # next keeps the size


# --- sorting ------------------------------------------------------------------------------------

def _page(spec, season, state):
    allocation = Allocation.objects.get(season=season)
    if spec is tables.ALLOCATION_STORES:
        return tables.allocation_stores(allocation, state)
    if spec is tables.SHIPMENTS:
        return tables.shipments(season, 2, state)
    return tables.store_variance(season, allocation, 2, 0.01, state)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.prefix)
def test_every_whitelisted_column_sorts_both_ways(season, spec):
    for column in (c for c in spec.columns if c.order_by):
        for descending in (False, True):
            state = tables.TableState(sort=column.key, descending=descending, size=50)
            page = _page(spec, season, state)
            keys = [(row[column.order_by], row["store_id"]) for row in page.rows]
            expected = sorted(keys, key=lambda k: k[0], reverse=descending)
            assert [k[0] for k in keys] == [k[0] for k in expected], (column.key, descending)
            ties = {}
            for value, store in keys:  # ties in store id order
                ties.setdefault(value, []).append(store)
            assert all(stores == sorted(stores) for stores in ties.values())
            assert page.total == 120 and len(page.rows) == 50


def test_the_sorted_column_has_aria_sort_and_its_link_reverses(season, viewer):
    client = signed_in(viewer)
    html = client.get(f"/seasons/{season.pk}/stores?stores_sort=-planned", headers=HTMX).content.decode()
    planned = [row.planned_units for row in StoreAllocation.objects.order_by("-planned_units", "store_id")[:50]]
    cells = [int(v.replace(",", "")) for v in re.findall(r'<td class="num">[\d.]+%</td><td class="num">([\d,]+)</td>',
                                                          html)]
    assert cells == planned
    assert re.search(r'<th scope="col" class="num" aria-sort="descending"><a [^>]*stores_sort=planned[^>]*>Planned',
                     html)
    assert html.count("aria-sort=") == 1
    html = client.get(f"/seasons/{season.pk}/stores?stores_sort=planned", headers=HTMX).content.decode()
    assert 'aria-sort="ascending"' in html and "Planned <span aria-hidden=\"true\">▲</span>" in html


def test_an_unknown_sort_column_keeps_the_default_order(season, viewer):
    html = signed_in(viewer).get(f"/seasons/{season.pk}/shipments?shipments_sort=secret",
                                 headers=HTMX).content.decode()
    needs = list(Replenishment.objects.filter(season=season, week=2).order_by("-need_units", "store_id")
                 .values_list("store_id", flat=True)[:50])
    assert store_rows(html) == needs
    assert re.search(r'aria-sort="descending"><a [^>]*>Need', html)


# --- filtering ----------------------------------------------------------------------------------

def test_filter_by_store_id_or_name(season, viewer):
    client = signed_in(viewer)
    html = client.get(f"/seasons/{season.pk}/stores?stores_q=t011", headers=HTMX).content.decode()
    assert store_rows(html) == [f"T{i:04d}" for i in range(110, 120)]
    assert "Showing 1–10 of 10 stores" in html and 'value="t011"' in html
    plaza = set(StoreAllocation.objects.filter(store__name__icontains="plaza").values_list("store_id", flat=True))
    html = client.get(f"/seasons/{season.pk}/stores?stores_q=PLAZA&stores_size=50", headers=HTMX).content.decode()
    assert set(store_rows(html)) <= plaza and f"of {len(plaza)} stores" in html
    html = client.get(f"/seasons/{season.pk}/stores?stores_q=nothing-like-this", headers=HTMX).content.decode()
    assert store_rows(html) == [] and "No stores match the filter." in html


def test_filter_by_cluster_and_text_together(season, viewer):
    client = signed_in(viewer)
    members = list(StoreAllocation.objects.filter(cluster_id="mainstream").values_list("store_id", flat=True))
    html = client.get(f"/seasons/{season.pk}/stores?stores_cluster=mainstream", headers=HTMX).content.decode()
    assert store_rows(html) == sorted(members)[:50] and f"of {len(members)} stores" in html
    assert '<option value="mainstream" selected>' in html
    html = client.get(f"/seasons/{season.pk}/shipments?shipments_cluster=mainstream&shipments_q=T00",
                      headers=HTMX).content.decode()
    shown = store_rows(html)
    assert shown and all(s in members and s.startswith("T00") for s in shown)
    html = client.get(f"/seasons/{season.pk}/variance/2/stores?variance_cluster=value_conscious",
                      headers=HTMX).content.decode()
    assert html.count("Value conscious</td>") == len(store_rows(html)) == 40


# --- fragments and the full page -----------------------------------------------------------------

def test_htmx_gets_the_table_alone_and_a_plain_link_gets_the_page(season, viewer):
    client = signed_in(viewer)
    fragment = client.get(f"/seasons/{season.pk}/stores?stores_page=2", headers=HTMX)
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div class="store-table" id="season-stores">')
    plain = client.get(f"/seasons/{season.pk}/stores?stores_page=2&shipments_page=2")
    assert plain.status_code == 302
    assert plain["Location"] == f"/seasons/{season.pk}/?stores_page=2&shipments_page=2#season-stores"
    page = client.get(plain["Location"].split("#")[0]).content.decode()
    assert "<html" in page and "Showing 51–100 of 120 stores" in page and "Showing 51–100 of 120 shipments" in page
    # The full page's links keep the other table's state; the fragments' links carry their own only.
    assert f'href="/seasons/{season.pk}/?shipments_page=2&amp;stores_page=3#season-stores"' in page
    assert f'hx-get="/seasons/{season.pk}/stores?stores_page=3"' in page
    assert client.get(f"/seasons/{season.pk}/shipments").status_code == 302


def test_the_store_drilldown_without_htmx_is_a_page(season, viewer):
    client = signed_in(viewer)
    page = client.get(f"/seasons/{season.pk}/variance/2/stores?variance_page=3")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and "Back to the season" in html
    assert "Showing 101–120 of 120 stores" in html
    missing = client.get(f"/seasons/{season.pk}/variance/9/stores", headers=HTMX).content.decode()
    assert "Week 9 has not been checked." in missing


def test_the_panels_reload_keeps_each_tables_state(season, viewer):
    client = signed_in(viewer)
    page = client.get(f"/seasons/{season.pk}/?stores_page=2&stores_sort=-factor&shipments_q=T01").content.decode()
    assert 'hx-include="[data-table-state]" hx-disinherit="hx-include"' in page
    for name, value in (("stores_sort", "-factor"), ("stores_page", "2"), ("shipments_q", "T01")):
        assert f'<input type="hidden" data-table-state name="{name}" value="{value}">' in page
    panels = client.get(f"/seasons/{season.pk}/panels?stores_page=2&stores_sort=-factor",
                        headers=HTMX).content.decode()
    assert "Showing 51–100 of 120 stores" in panels and 'aria-sort="descending"><a' in panels


def test_filter_forms_are_labelled_and_work_without_javascript(season, viewer):
    page = signed_in(viewer).get(f"/seasons/{season.pk}/?shipments_page=2").content.decode()
    form = re.search(r'<form class="row table-filter" method="get" action="/seasons/[^"]+/#season-stores".*?</form>',
                     page, re.S).group(0)
    for field in ("season-stores-q", "season-stores-cluster", "season-stores-size"):
        assert f'<label for="{field}">' in form and f'id="{field}"' in form
    assert '<input type="hidden" name="shipments_page" value="2">' in form  # the other table's state
    assert f'hx-get="/seasons/{season.pk}/stores"' in form
    assert "<caption" in page and 'scope="col"' in page


def test_the_store_variance_rows_match_the_variance_check(season, viewer):
    html = signed_in(viewer).get(f"/seasons/{season.pk}/variance/2/stores", headers=HTMX).content.decode()
    allocation = Allocation.objects.get(season=season)
    check = VarianceCheck.objects.get(season=season, week=2)
    per_unit = sum(check.forecast.weekly_units()[:2]) / allocation.demand_units
    sold = {}
    for store, units in WeeklyActual.objects.filter(season=season, week__lte=2).values_list("store_id", "units"):
        sold[store] = sold.get(store, 0) + units
    rows = {r.store_id: (sold.get(r.store_id, 0), r.planned_units * per_unit) for r in allocation.stores.all()}
    expected = sorted(rows, key=lambda store: (-round(abs(rows[store][0] - rows[store][1]) / rows[store][1], 9), store))
    assert store_rows(html) == expected[:50]
    first = check_variance(*rows[expected[0]], check.threshold)
    assert re.search(rf'<td class="num">{first["actual_cum"]:,.0f}</td><td class="num">[^<]+</td>'
                     rf'<td><span class="badge band-{first["band"]}">', html)
    assert "Stores through week 2, largest variance first" in html


def test_viewers_read_the_tables_and_strangers_are_sent_to_sign_in(season, viewer):
    client = signed_in(viewer)
    for path in ("stores", "shipments", "variance/1/stores"):
        assert client.get(f"/seasons/{season.pk}/{path}", headers=HTMX).status_code == 200
        stranger = Client().get(f"/seasons/{season.pk}/{path}", headers=HTMX)
        assert stranger.status_code == 302 and "/login/" in stranger["Location"]
    assert client.post(f"/seasons/{season.pk}/stores", headers=HTMX).status_code == 405


# --- 2,000 stores ------------------------------------------------------------------------------

def test_a_2000_store_season_page_renders_one_page_per_table(season_of, viewer, django_assert_max_num_queries):
    season = season_of(2000, weeks=4)
    client = signed_in(viewer)
    client.get(f"/seasons/{season.pk}/")  # the session and content types cached, as in use
    with django_assert_max_num_queries(25):
        page = client.get(f"/seasons/{season.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    stores = html[html.index('id="season-stores"'):html.index('id="season-shipments"')]
    shipments = html[html.index('id="season-shipments"'):]
    assert len(store_rows(stores)) == 50 and "Showing 1–50 of 2,000 stores · page 1 of 40" in stores
    assert len(store_rows(shipments)) == 50 and "Showing 1–50 of 2,000 shipments" in shipments
    assert len(store_rows(html)) == 100
    for path, most in (("stores?stores_page=40&stores_sort=-holdback", 10), ("shipments?shipments_cluster=mainstream", 10),
                       ("variance/4/stores?variance_sort=-sold", 12)):
        with django_assert_max_num_queries(most):
            response = client.get(f"/seasons/{season.pk}/{path}", headers=HTMX)
        assert response.status_code == 200 and len(store_rows(response.content.decode())) == 50
