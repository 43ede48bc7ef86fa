"""Bulk import of customers: a file staged once (PostgreSQL COPY), then taken in batches,
each batch one transaction that also moves the import's checkpoint — so an import killed
at any point and started again creates no customer twice and loses no row.

A batch normalises its rows as a new customer is checked (INN/OGRN checksums, KPP form,
E.164 phones, lower-case e-mails, Unicode digits), rejects the ones that fail (line,
field, reason), joins the rows of one customer within the file and finds the ones the base
holds already, by the deterministic keys (INN+KPP, OGRN, phone, e-mail). New customers are
written in bulk with the import as their source; a row of a known customer states its
fields as the import's source (survivorship decides what the profile shows); products on a
row are attached.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol
from typing import cast as cast_type

from pydantic import ValidationError
from sqlalchemy import Select, Text, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.access import OWNERSHIP_FIELDS
from caseflow.customers import import_known, profile
from caseflow.customers import keys as keys_of
from caseflow.customers.fields import checked as fields_checked
from caseflow.customers.identity import new_id, search_key
from caseflow.customers.matching import Profile, keys
from caseflow.customers.survivorship import Survivorship
from caseflow.models import (
    Customer,
    CustomerContact,
    CustomerImport,
    CustomerImportReject,
    CustomerImportRow,
    CustomerMatchKey,
    CustomerProduct,
)
from caseflow.platform import bulk as db_bulk

LIST_SEPARATORS = (";", "|")
PRODUCT_FIELDS = ("product_type", "product_name", "product_opened_on")


def rows_of(name: str, data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, fields) of a CSV (header first) or JSON Lines file."""
    text = data.decode("utf-8-sig")
    if name.lower().endswith((".jsonl", ".ndjson")):
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                try:
                    found = json.loads(raw)
                except json.JSONDecodeError as exc:
                    yield line, {"__error__": f"not JSON: {exc.msg}"}
                    continue
                yield line, found if isinstance(found, dict) else {"__error__": "not an object"}
        return
    reader = csv.DictReader(io.StringIO(text))
    for record in reader:
        yield reader.line_num, {k: v for k, v in record.items() if k is not None}


@dataclass
class Row:
    line: int
    fields: dict[str, Any]
    product: dict[str, Any] | None = None
    keys: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    rejected: int = 0
    joined: int = 0  # rows of a customer met earlier in the file
    # Whose each key of the batch's rows is once the batch is written: what the next batch,
    # read while this one was written, could not see yet.
    owners: dict[tuple[str, str], str] = field(default_factory=dict)


def _listed(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    text = str(value)
    for separator in LIST_SEPARATORS:
        text = text.replace(separator, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def checked(line: int, raw: dict[str, Any]) -> Row | list[tuple[str, str]]:
    """The row normalised as a new customer is checked, or its problems (field, reason)."""
    if "__error__" in raw:
        return [("line", str(raw["__error__"]))]
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    product = {k: data.pop(k) for k in PRODUCT_FIELDS if k in data}
    data = {k: v for k, v in data.items() if v not in (None, "")}
    data["phones"] = _listed(data.get("phones", data.pop("phone", None)))
    data["emails"] = _listed(data.get("emails", data.pop("email", None)))
    try:
        customer = fields_checked(data)
    except ValidationError as exc:
        return [(".".join(str(p) for p in e["loc"]) or "row", e["msg"]) for e in exc.errors()]
    except ValueError as exc:  # a consistency rule: "inn: a KPP is given, so…"
        where, _, why = str(exc).partition(": ")
        return [(where, why or str(exc))]
    # Who owns a customer is not a file's to say (the access policy sets it).
    fields = customer.model_dump(exclude={"kind", *OWNERSHIP_FIELDS}) | {"kind": customer.kind}
    row = Row(line=line, fields=fields, keys=keys_of.identifying(fields))
    if product.get("product_type"):
        try:
            opened = date.fromisoformat(str(product.get("product_opened_on") or ""))
        except ValueError:
            return [("product_opened_on", "a date, YYYY-MM-DD")]
        row.product = {
            "type": str(product["product_type"])[:32],
            "name": str(product.get("product_name") or product["product_type"])[:200],
            "opened_on": opened,
        }
    return row


async def known(db: AsyncSession, rows: list[Row]) -> dict[tuple[str, str], str]:
    """Which of the rows' keys the base holds, and whose they are."""
    return await keys_of.owners(db, {k for row in rows for k in row.keys})


@dataclass
class Rejected:
    """A row that failed its checks: its line and the problems (field, reason)."""

    line: int
    problems: list[tuple[str, str]]


def examine(rows: Sequence[Staged]) -> list[Row | Rejected]:
    """The staged rows decoded and checked: pure, so it can run beside the database's work
    (a thread, while the batch before is written)."""
    out: list[Row | Rejected] = []
    for staged in rows:
        result = checked(staged.line, json.loads(staged.text))
        out.append(result if isinstance(result, Row) else Rejected(staged.line, result))
    return out


async def run_batch(
    db: AsyncSession,
    rules: Survivorship,
    job: CustomerImport,
    rows: Sequence[Row | Rejected],
    known_owners: dict[tuple[str, str], str] | None = None,
) -> Outcome:
    """One batch of examined rows into the base (the caller commits with the checkpoint).
    `known_owners`: whose the rows' keys are, when the reader found that already."""
    outcome = Outcome()
    source = job.source
    now = datetime.now(UTC)
    good: list[Row] = []
    for result in rows:
        if isinstance(result, Row):
            good.append(result)
            continue
        outcome.rejected += 1
        db.add_all(
            CustomerImportReject(import_id=job.id, line=result.line, field=f[:64], reason=r[:500])
            for f, r in result.problems
        )
    owner = dict(known_owners) if known_owners is not None else await known(db, good)
    new: dict[str, New] = {}
    products: list[dict[str, Any]] = []
    known_rows: dict[str, list[dict[str, Any]]] = {}
    for row in good:
        owners = list(dict.fromkeys(owner[k] for k in row.keys if k in owner))
        if len(owners) > 1:  # two profiles by two keys: for a person to merge, not a file
            clash = ", ".join(f"{k} {v}" for k, v in row.keys if (k, v) in owner)
            outcome.rejected += 1
            db.add(CustomerImportReject(
                import_id=job.id, line=row.line, field="keys",
                reason=f"matches {len(owners)} customers ({clash[:300]})",
            ))  # fmt: skip
            continue
        cid = owners[0] if owners else None
        if cid is None:
            made = New.of(row.fields, source, job.by, now)
            cid = made.id
            new[cid] = made
            outcome.created += 1
        elif cid in new:  # the same customer earlier in this batch: its contacts join
            new[cid].join(row.fields)
            outcome.joined += 1
        else:  # the base holds them (or an earlier batch of this import made them)
            outcome.updated += 1
            said = {k: v for k, v in row.fields.items() if k != "kind" and v not in (None, [])}
            known_rows.setdefault(cid, []).append(said)
        for k in row.keys:
            owner.setdefault(k, cid)
        if row.product:
            products.append(
                {"customer_id": cid, **row.product, "fraud": False, "source": source, "as_of": now}
            )
    await write_new(db, list(new.values()), products)
    ours = await made_by(db, job, list(known_rows))  # earlier batches: their contacts join
    joined = sum(len(known_rows[cid]) for cid in ours)
    outcome.updated -= joined
    outcome.joined += joined
    statements = {cid: import_known.merged(said) for cid, said in known_rows.items()}
    await import_known.state(db, rules, source, job.by, now, statements, joining=ours)
    outcome.owners = {k: owner[k] for row in good for k in row.keys if k in owner}
    return outcome


async def made_by(db: AsyncSession, job: CustomerImport, ids: list[str]) -> set[str]:
    """Which of these customers this import created (in an earlier batch)."""
    if not ids or job.started_at is None:
        return set()
    return set(
        await db.scalars(
            select(Customer.id).where(
                Customer.id.in_(ids),
                Customer.source == job.source,
                Customer.created_at >= job.started_at,
            )
        )
    )


@dataclass
class New:
    """A customer the batch creates (its row as plain values: written in bulk), with the
    phones and e-mails its rows gave."""

    row: dict[str, Any]
    phones: list[str]
    emails: list[str]

    @classmethod
    def of(cls, fields: dict[str, Any], source: str, by: str, now: datetime) -> New:
        row = {k: v for k, v in fields.items() if k not in ("phones", "emails")}
        row |= {
            "id": new_id(),
            "inn_kpp_key": profile.inn_kpp_key(fields.get("inn"), fields.get("kpp")),
            "name_folded": search_key(fields["name"]),
            "created_by": by, "created_at": now, "source": source,
        }  # fmt: skip
        return cls(row, list(fields.get("phones", [])), list(fields.get("emails", [])))

    @property
    def id(self) -> str:
        return str(self.row["id"])

    def join(self, fields: dict[str, Any]) -> None:
        """A second row of this customer: its phones and e-mails join; the first row's other
        fields stand (one source, one statement)."""
        self.phones += [p for p in fields.get("phones", []) if p not in self.phones]
        self.emails += [e for e in fields.get("emails", []) if e not in self.emails]

    def contacts(self) -> list[dict[str, Any]]:
        cid = self.id
        return [{"customer_id": cid, "kind": "phone", "value": p} for p in self.phones] + [
            {"customer_id": cid, "kind": "email", "value": e} for e in self.emails
        ]

    def keys(self) -> list[dict[str, Any]]:
        matched = Profile(self.id, str(self.row["name"]), self.phones, self.emails)
        return [{"customer_id": self.id, "key": k} for k in sorted(keys(matched))]


async def write_new(db: AsyncSession, new: list[New], products: list[dict[str, Any]]) -> None:
    """The batch's new customers, their contacts, blocking keys and products, in bulk (COPY
    in the batch's own transaction on PostgreSQL)."""
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (Customer, [made.row for made in new]),
        (CustomerContact, [c for made in new for c in made.contacts()]),
        (CustomerMatchKey, [k for made in new for k in made.keys()]),
        (CustomerProduct, products),
    ]
    for model, rows in tables:
        await db_bulk.written(db, model, rows)


def staged_rows(import_id: str, name: str, data: bytes) -> Iterator[tuple[str, int, str]]:
    """(import id, line, the row as JSON) for COPY into the staging table."""
    for line, record in rows_of(name, data):
        yield import_id, line, json.dumps(record, ensure_ascii=False, default=str)


class Staged(Protocol):
    """A staged row as a batch reads it: its line in the file and its fields as JSON text
    (decoded where the row is checked)."""

    line: int
    text: str


async def batch_of(db: AsyncSession, import_id: str, after: int, size: int) -> Sequence[Staged]:
    """The next rows after the checkpoint `after`, as plain rows (not ORM objects: a batch
    reads thousands and only looks at them once)."""
    found = await db.execute(batch_query(import_id, after, size))
    return cast_type(Sequence[Staged], found.all())


def batch_query(import_id: str, after: int, size: int) -> Select[int, str]:
    return (
        select(CustomerImportRow.line, cast(CustomerImportRow.data, Text).label("text"))
        .where(CustomerImportRow.import_id == import_id, CustomerImportRow.line > after)
        .order_by(CustomerImportRow.line)
        .limit(size)
    )
