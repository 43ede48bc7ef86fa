"""Demo data for `make run`: teams of every line, the users the README lists, customers."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.lifecycle import Line, Role
from caseflow.models import Customer, CustomerContact
from caseflow.store.people import upsert_team, upsert_user

DEMO_PASSWORD = "demo"

TEAMS = [
    ("hotline", "Hotline", Line.L1, None),
    ("hotline-nw", "Hotline North-West", Line.L1, "RU-SPE"),
    ("l2-support", "Second line", Line.L2, None),
    ("l2-vip", "Second line, VIP", Line.L2, None),
    ("l2-b2b", "Second line, business customers", Line.L2, None),
    ("l3-experts", "Third line experts", Line.L3, None),
]

# (username, role, full name, team)
USERS = [
    ("operator", Role.OPERATOR, "Ольга Операторова", "hotline"),
    ("operator-b", Role.OPERATOR, "Борис Линейный", "hotline"),
    ("operator-nw", Role.OPERATOR, "Нина Северова", "hotline-nw"),
    ("agent2", Role.AGENT, "Алексей Вторых", "l2-support"),
    ("agent2-vip", Role.AGENT, "Вера Персональная", "l2-vip"),
    ("agent2-b2b", Role.AGENT, "Григорий Бизнесов", "l2-b2b"),
    ("expert3", Role.AGENT, "Эдуард Экспертов", "l3-experts"),
    ("supervisor", Role.SUPERVISOR, "Светлана Старшая", None),
    ("manager", Role.MANAGER, "Максим Продажин", None),
    ("admin", Role.ADMIN, "Администратор", None),
]

CUSTOMERS = [
    {
        "kind": "organization",
        "name": "ООО «Ромашка»",
        "inn": "7707083893",
        "kpp": "773601001",
        "ogrn": "1027700132195",
        "region": "RU-MOW",
        "segment": "b2b_commercial",
        "tier": "standard",
        "locale": "ru",
        "phone": "+74951234567",
        "email": "info@romashka.ru",
    },
    {
        "kind": "person",
        "name": "Иван Петров",
        "region": "RU-SPE",
        "segment": "b2c",
        "tier": "standard",
        "locale": "ru",
        "phone": "+78121234567",
        "email": "ivan@example.org",
        "gender": "male",
    },
    {
        "kind": "person",
        "name": "Anna Smith",
        "region": "RU-MOW",
        "segment": "b2c",
        "tier": "vip",
        "locale": "en",
        "phone": "+79161234567",
        "email": "anna@example.com",
        "gender": "female",
        "personal_manager": "agent2-vip",
    },
]

DEMO_NAMESPACE = uuid.UUID("0b6f3c59-9e1a-4d8e-8d0e-7b1b0a6d5c01")


async def seed(session: AsyncSession) -> None:
    for code, name, line, region in TEAMS:
        await upsert_team(session, code=code, name=name, line=line, region=region)
    for username, role, full_name, team in USERS:
        zone = [t[0] for t in TEAMS] if role == Role.SUPERVISOR else None
        await upsert_user(
            session,
            username=username,
            role=role,
            full_name=full_name,
            team=team,
            password=DEMO_PASSWORD,
            zone_teams=zone,
            capacity=10,
            email=f"{username}@caseflow.local",
        )
    for item in CUSTOMERS:
        data = dict(item)
        customer_id = str(uuid.uuid5(DEMO_NAMESPACE, str(data["name"])))
        if await session.get(Customer, customer_id) is not None:
            continue
        contacts = {"phone": data.pop("phone"), "email": data.pop("email")}
        inn, kpp = data.get("inn"), data.get("kpp")
        session.add(
            Customer(
                id=customer_id,
                inn_kpp_key=f"{inn}/{kpp}" if inn else None,
                created_by="admin",
                **data,
            )
        )
        for kind, value in contacts.items():
            taken = await session.scalar(
                select(CustomerContact).where(
                    CustomerContact.kind == kind, CustomerContact.value == value
                )
            )
            if taken is None:
                session.add(CustomerContact(customer_id=customer_id, kind=kind, value=value))
    await session.flush()
