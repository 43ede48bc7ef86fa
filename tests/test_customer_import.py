"""Bulk import: a file staged with COPY and taken in durable batches — rows normalised,
rejected with line, field and reason, joined within the file and with the base by the
deterministic keys, products attached; a batch cut short by a crash is done again once and
nothing is created twice."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid

import pytest
from sqlalchemy import func, select, text

from caseflow.customers import import_jobs, imports
from caseflow.customers.survivorship import load
from caseflow.models import Customer
from tests.conftest import ROOT

API = "/api/v1"
RULES = load(ROOT / "routing_rules" / "profile" / "survivorship.yaml")
HEADER = ["kind", "name", "inn", "kpp", "phones", "emails", "region", "segment",
          "product_type", "product_name", "product_opened_on"]  # fmt: skip


def digits(n: int) -> str:
    return "".join(str(random.randrange(10)) for _ in range(n))


def csv_of(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def person(name: str, phone: str, email: str = "", **extra: str) -> dict[str, str]:
    return {"kind": "person", "name": name, "phones": phone, "emails": email,
            "region": "RU-MOW", "segment": "b2c", **extra}  # fmt: skip


async def finished(http, headers, import_id: str) -> dict:
    for _ in range(200):
        answer = await http.get(f"{API}/admin/imports/{import_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] in ("done", "failed"):
            return dict(answer.json())
        await asyncio.sleep(0.1)
    raise AssertionError("the import did not finish")


async def test_an_import_creates_joins_updates_and_rejects_with_reasons(http, tokens) -> None:
    tail = digits(7)
    known = f"known-{uuid.uuid4().hex[:6]}@example.org"
    base = await http.post(
        f"{API}/customers",
        json={"kind": "person", "name": "Иван Базовый", "region": "RU-MOW", "segment": "b2c",
              "emails": [known]},
        headers=tokens["operator"],
    )  # fmt: skip
    assert base.status_code == 201
    rows = [
        person(
            "Анна Новая",
            f"+7 916 {tail}",
            product_type="fuel_card",
            product_name="Карта 1",
            product_opened_on="2025-02-01",
        ),
        person(
            "Анна Новая", f"8 (916) {tail[:3]}-{tail[3:5]}-{tail[5:]}", f"anna-{tail}@example.org"
        ),  # the same phone written otherwise: joined
        person(
            "Иван Базовый",
            "",
            known.upper(),
            product_type="telematics",
            product_name="Телематика",
            product_opened_on="2025-05-01",
        ),  # the base's
        person("", f"+7 903 {digits(7)}"),  # no name
        {
            **person("ООО Кривое", f"+7 905 {digits(7)}"),
            "kind": "organization",
            "inn": "1234567890",
            "kpp": "773601001",
            "segment": "b2b_commercial",
        },  # bad INN
        person("Пётр Номер", "12"),  # not a phone
        person(
            "Ольга Дата",
            f"+7 906 {digits(7)}",
            product_type="telematics",
            product_opened_on="вчера",
        ),
    ]
    answer = await http.post(
        f"{API}/admin/imports",
        files={"file": ("crm.csv", csv_of(rows), "text/csv")},
        data={"source": "crm"},
        headers=tokens["admin"],
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["rows_total"] == 7
    done = await finished(http, tokens["admin"], answer.json()["id"])
    assert (done["created"], done["joined"], done["updated"], done["rejected"]) == (1, 1, 1, 4)
    assert done["rows_done"] == 7 and done["status"] == "done"

    rejects = await http.get(f"{API}/admin/imports/{done['id']}/rejects", headers=tokens["admin"])
    listed = list(csv.DictReader(io.StringIO(rejects.text)))
    assert [(r["line"], r["field"]) for r in listed] == [
        ("5", "name"),
        ("6", "inn"),
        ("7", "phones"),
        ("8", "product_opened_on"),
    ]
    found = await http.get(f"{API}/customers?phone=%2B7916{tail}", headers=tokens["admin"])
    (anna,) = found.json()["items"]
    assert anna["emails"] == [f"anna-{tail}@example.org"]
    explained = await http.get(
        f"{API}/customers/{anna['id']}?explain=true", headers=tokens["admin"]
    )
    assert explained.json()["explain"]["name"]["source"] == "import:crm"
    products = await http.get(f"{API}/customers/{anna['id']}/products", headers=tokens["admin"])
    assert [p["type"] for p in products.json()] == ["fuel_card"]
    ivan = await http.get(f"{API}/customers/{base.json()['id']}/products", headers=tokens["admin"])
    assert [(p["type"], p["source"]) for p in ivan.json()] == [("telematics", "import:crm")]


@pytest.mark.parametrize("reading_ahead", [False, True])
async def test_a_batch_cut_short_is_done_again_once_and_nothing_is_created_twice(
    http, tokens, engine, sessions, reading_ahead: bool
) -> None:
    """Also with the next batch read ahead: a batch read after a checkpoint that was rolled
    back is not the one that follows the checkpoint as it stands."""
    tag = uuid.uuid4().hex[:6]
    rows = [person(f"Клиент {tag} {i}", f"+7 917 {digits(7)}") for i in range(9)]
    rows[8]["phones"] = rows[2]["phones"]  # the third customer again: joined, not created
    job = await import_jobs.stage(engine, f"import:resume-{tag}", "r.csv", csv_of(rows), "test")
    ahead = import_jobs.ReadAhead(sessions) if reading_ahead else None
    async with sessions() as db, db.begin():
        await import_jobs.step(db, RULES, job.id, 3, ahead)  # the first batch, written
    async with sessions() as db:
        await db.begin()
        await import_jobs.step(db, RULES, job.id, 3, ahead)  # the worker dies before commit
        await db.rollback()
    while True:  # a worker again: the import goes on from its checkpoint
        async with sessions() as db, db.begin():
            now = await import_jobs.step(db, RULES, job.id, 3, ahead)
        if now.finished:
            break
    if ahead:
        ahead.close()
    assert (now.rows_done, now.created, now.joined, now.rejected) == (9, 8, 1, 0)
    async with sessions() as db:
        count = await db.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.source == f"import:resume-{tag}")
        )
    assert count == 8


async def test_a_customer_the_batch_before_creates_is_joined_by_the_batch_read_ahead(
    engine, sessions
) -> None:
    """The next batch's keys are looked up while this one is written, before it commits:
    the keys this batch writes are handed over, so a row repeating one joins its customer."""
    tag = uuid.uuid4().hex[:6]
    rows = [person(f"Клиент {tag} {i}", f"+7 917 {digits(7)}") for i in range(6)]
    rows[3]["phones"] = rows[2]["phones"]  # the first row of batch 2 repeats batch 1's last
    job = await import_jobs.stage(engine, f"import:ahead-{tag}", "a.csv", csv_of(rows), "test")
    ahead = import_jobs.ReadAhead(sessions)
    async with sessions() as db, db.begin():
        await import_jobs.step(db, RULES, job.id, 3, ahead)
        assert ahead.pending is not None
        await ahead.pending[2]  # batch 2 read and looked up before batch 1 commits
    while True:
        async with sessions() as db, db.begin():
            now = await import_jobs.step(db, RULES, job.id, 3, ahead)
        if now.finished:
            break
    ahead.close()
    assert (now.rows_done, now.created, now.joined, now.rejected) == (6, 5, 1, 0)


async def test_only_admins_import_and_only_text_files(http, tokens) -> None:
    body = {"files": {"file": ("a.csv", b"kind,name\n", "text/csv")}, "data": {"source": "x"}}
    assert (
        await http.post(f"{API}/admin/imports", headers=tokens["supervisor"], **body)
    ).status_code == 403
    wrong = await http.post(
        f"{API}/admin/imports",
        files={"file": ("a.xlsx", b"PK\x03\x04", "application/octet-stream")},
        data={"source": "x"},
        headers=tokens["admin"],
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "file"


async def test_a_batch_of_a_large_staged_file_is_read_by_the_index_not_by_sorting_the_rest(
    engine, sessions
) -> None:
    """With the staging table's statistics stale, each batch read every row left of the
    file and sorted them: a million-row import spent most of its time there."""
    tag = uuid.uuid4().hex[:6]
    rows = [person(f"Клиент {tag} {i}", f"+7 917 {digits(7)}") for i in range(20_000)]
    job = await import_jobs.stage(engine, f"import:big-{tag}", "big.csv", csv_of(rows), "test")
    query = imports.batch_query(job.id, 100, import_jobs.BATCH).compile(
        engine.sync_engine, compile_kwargs={"literal_binds": True}
    )
    async with sessions() as db:
        plan = "\n".join(await db.scalars(text(f"EXPLAIN ANALYZE {query}")))
    assert "Sort" not in plan, plan
    assert "Index Scan using pk_customer_import_rows" in plan, plan
