"""Customer import benchmark: a synthetic file imported end to end, beside a raw COPY of the
same file into a bare table, in one run on PostgreSQL.

    .venv/bin/python bench/import.py [--rows 1000000] [--base 100000] [--batch 2000]

A fresh database gets `--base` customers (each with a phone and an e-mail). The file has
`--rows` rows: 1 % invalid (a phone that is not one), 10 % duplicates — of a base customer
or of an earlier row, half of them with the phone written otherwise (8 (916) …), half by
an upper-case e-mail — and the rest new customers. End to end is what an import does:
staging with COPY, then every batch as the import workflow's activity runs it (normalise,
reject, join within the file and with the base, write), each batch one transaction with
its checkpoint. Printed: records per second end to end, records per second of the raw COPY,
and their ratio. Goal: ≥ 20,000 records/s end to end on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import PG_ADMIN, prepare_database, seed_database
from caseflow.customers import import_jobs
from caseflow.customers.survivorship import load
from caseflow.platform import db as database

HEADER = ["kind", "name", "phones", "emails", "region", "segment"]
BASE = """
INSERT INTO customers (id, kind, name, name_folded, region, segment, tier, status, locale,
                       address_form, created_at, source)
SELECT md5('base' || n)::uuid::text, 'person', 'Клиент ' || n, 'клиент ' || n, 'RU-MOW',
       'b2c', 'standard', 'client', 'ru', 'formal', now(), 'import:base'
FROM generate_series(1, :base) AS n;
INSERT INTO customer_contacts (customer_id, kind, value)
SELECT md5('base' || n)::uuid::text, 'phone', '+7916' || lpad(n::text, 7, '0')
FROM generate_series(1, :base) AS n;
INSERT INTO customer_contacts (customer_id, kind, value)
SELECT md5('base' || n)::uuid::text, 'email', 'c' || n || '@base.example'
FROM generate_series(1, :base) AS n
"""


def synthetic(rows: int, base: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(1, rows + 1):
        if i % 100 == 0:  # 1 %: not a phone
            writer.writerow(["person", f"Ошибка {i}", "12", "", "RU-MOW", "b2c"])
        elif i % 10 == 1 and i > 10:  # 10 %: a duplicate
            if i % 20 == 1:  # of a base customer, the phone written otherwise
                k = (i * 7919) % base + 1
                digits = f"{k:07d}"
                phone = f"8 (916) {digits[:3]}-{digits[3:5]}-{digits[5:]}"
                writer.writerow(["person", f"Клиент {k}", phone, "", "RU-MOW", "b2c"])
            else:  # of an earlier row, by its e-mail in capitals
                j = i - 9
                writer.writerow(["person", f"Новый {j}", "", f"N{j}@FILE.EXAMPLE", "RU-MOW", "b2c"])
        else:
            writer.writerow(
                ["person", f"Новый {i}", f"+7 917 {i % 10**7:07d}", f"n{i}@file.example",
                 "RU-MOW", "b2c"]
            )  # fmt: skip
    return out.getvalue().encode()


def raw_copy(dsn: str, data: bytes) -> float:
    """Seconds to COPY the same file into a bare table of text columns."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE bare ({', '.join(f'{c} text' for c in HEADER)})")
        started = time.perf_counter()
        with conn.cursor().copy("COPY bare FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(data)
        return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    from sqlalchemy import text

    workdir = Path(tempfile.mkdtemp(prefix="caseflow-import-bench-"))
    url, name = prepare_database("postgresql", workdir)
    assert name is not None
    await seed_database(url)
    engine = database.make_engine(url)
    async with engine.begin() as conn:
        for statement in BASE.split(";\n"):
            await conn.execute(text(statement), {"base": args.base})
    data = synthetic(args.rows, args.base)
    rules = load(ROOT / "routing_rules" / "profile" / "survivorship.yaml")
    sessions = database.make_sessionmaker(engine)

    started = time.perf_counter()
    job = await import_jobs.stage(engine, "import:bench", "bench.csv", data, "bench")
    staged = time.perf_counter() - started
    while True:  # as the import workflow's activity runs it, call after call
        done = await import_jobs.run_for(sessions, rules, job.id, size=args.batch)
        if done.finished:
            break
    total = time.perf_counter() - started
    await engine.dispose()
    copy_s = raw_copy(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", data)

    end_to_end = args.rows / total
    raw = args.rows / copy_s
    print(f"import of {args.rows:,} rows into a base of {args.base:,} customers (PostgreSQL)")
    print(f"  created {done.created:,}, updated {done.updated:,}, joined in the file "
          f"{done.joined:,}, rejected {done.rejected:,}")  # fmt: skip
    print(f"  staging (COPY)      {staged:8.1f} s")
    print(f"  end to end          {total:8.1f} s   {end_to_end:10,.0f} records/s")
    print(f"  raw COPY, bare table{copy_s:8.1f} s   {raw:10,.0f} records/s")
    print(f"  ratio end to end / raw COPY: {end_to_end / raw:.3f}   (goal: >= 20,000 records/s)")
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--base", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=import_jobs.BATCH)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
