"""Each benchmark runs once at a tiny size: the tables keep working (no timing assertions)."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest

from abxero.web.serving import served
from abxero_sim.xero import create_app, tenant_id_for
from bench import sharedpacing
from bench.__main__ import MODULES, run_one
from bench.results import Benchmark, Row, table, write_results
from tests.conftest import REDIS_TEST_URL

SERVICES = ("calls", "ratelimit", "importtime", "planning", "latency", "web", "recovery")


def _check(benchmark: Benchmark) -> None:
    assert benchmark.rows
    for row in benchmark.rows:
        assert isinstance(row, Row)
        assert row.name
        assert math.isfinite(row.value)
        if not row.name.startswith("memory growth"):  # a difference of two peaks may dip below 0
            assert row.value >= 0
        if row.target is not None:
            assert row.ratio is not None or row.target.bound == 0
            assert row.met in (True, False)
    rendered = table(benchmark)
    assert all(row.name in rendered for row in benchmark.rows)


@pytest.mark.parametrize("name", SERVICES)
def test_benchmark_runs_at_a_tiny_size(name: str) -> None:
    _check(run_one(name, "tiny"))


@pytest.mark.postgres
@pytest.mark.redis
def test_scale_out_runs_with_two_organisations() -> None:
    benchmark = run_one("scaleout", "tiny")
    _check(benchmark)
    assert [row.unit for row in benchmark.rows[:-1]] == ["orgs/min", "orgs/min"]


@pytest.mark.redis
def test_sync_now_with_a_pdf_backlog_runs_on_both_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import lanes

    monkeypatch.setattr(lanes, "REDIS", REDIS_TEST_URL)
    benchmark = run_one("lanes", "tiny")
    _check(benchmark)
    assert [row.name.split()[0] for row in benchmark.rows] == ["SQLite"] * 4 + ["Redis"] * 4


@pytest.mark.redis
def test_shared_pacing_runs_with_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes pace through one Redis; the tiny rounds stay inside Xero's limits."""
    monkeypatch.setenv("ABXERO_BENCH_PACING_REDIS_URL", REDIS_TEST_URL)
    monkeypatch.setattr(sharedpacing, "REDIS", REDIS_TEST_URL)
    benchmark = run_one("sharedpacing", "tiny")
    _check(benchmark)
    rows = {row.name: row for row in benchmark.rows}
    assert rows["scaling rounds: 429s"].value == 0
    assert rows["shared pacing: 429s"].value == 0


def test_calls_never_beat_the_batch_floor() -> None:
    rows = {row.name: row for row in run_one("calls", "tiny").rows}
    ours = rows["abxero: calls / 1,000 charges"].value
    floor = rows["floor: batches of 50"].value
    naive = rows["naive: one request per document"].value
    assert floor <= ours < naive


def test_results_file_holds_every_row(tmp_path: Path) -> None:
    benchmark = run_one("planning", "tiny")
    path = write_results([benchmark], quick=True, path=tmp_path / "results.json")
    written = httpx.Response(200, content=path.read_bytes()).json()
    assert written["mode"] == "quick"
    assert len(written["benchmarks"][0]["rows"]) == len(benchmark.rows)
    assert set(MODULES) >= {"planning"}


def test_the_xero_simulator_seeds_copies_of_the_demo_pair() -> None:
    with served(create_app(seed=4, organisation_copies=3)) as xero:
        names = sorted(
            org["name"] for org in httpx.get(f"{xero.url}/_sim/state").json()["organisations"]
        )
        assert names == [
            "Demo Company (UK)",
            "Demo Company (UK) 2",
            "Demo Company (UK) 3",
            "Demo Company (US)",
            "Demo Company (US) 2",
            "Demo Company (US) 3",
        ]
        reset = httpx.post(f"{xero.url}/_sim/reset", json={"seed": 4}).json()
        assert len(reset["tenant_ids"]) == 6
    assert tenant_id_for(4, "us2") != tenant_id_for(4, "us")
    with served(create_app(seed=4)) as plain:
        assert len(httpx.get(f"{plain.url}/_sim/state").json()["organisations"]) == 2
