"""Demo data for `make run`: teams of every line, the users the README lists, customers."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caseflow.customers import duplicates
from caseflow.models import Customer, CustomerContact, Representative, Team, User
from caseflow.people.store import upsert_team, upsert_user
from caseflow.requests.lifecycle import Line, Role

DEMO_PASSWORD = "demo"

TEAMS = [
    ("hotline", "Hotline", Line.L1, None),
    ("hotline-nw", "Hotline North-West", Line.L1, "RU-SPE"),
    ("acquisition-commercial", "New business, commercial", Line.L1, "RU-MOW"),
    ("acquisition-budget", "New business, public sector", Line.L1, None),
    ("acquisition-regions", "New business, regions", Line.L1, None),
    ("l2-support", "Second line", Line.L2, None),
    ("l2-vip", "Second line, VIP", Line.L2, None),
    ("l2-b2b", "Second line, business customers", Line.L2, None),
    ("l3-experts", "Third line experts", Line.L3, None),
]

# Teams whose unstarted requests go back to the queue when their assignee goes away.
REQUEUING_TEAMS = {"l2-support", "l2-b2b", "hotline"}

# (username, role, full name, team, skills, availability)
USERS = [
    ("operator", Role.OPERATOR, "Ольга Операторова", "hotline", {}, "available"),
    ("operator-b", Role.OPERATOR, "Борис Линейный", "hotline", {}, "available"),
    ("operator-nw", Role.OPERATOR, "Нина Северова", "hotline-nw", {}, "available"),
    ("sales-msk", Role.AGENT, "Семён Продающий", "acquisition-commercial", {}, "available"),
    ("sales-budget", Role.AGENT, "Галина Тендерная", "acquisition-budget", {}, "available"),
    ("sales-regions", Role.AGENT, "Роман Региональный", "acquisition-regions", {}, "off"),
    ("agent2", Role.AGENT, "Алексей Вторых", "l2-support", {"cards": 3, "tariffs": 2}, "available"),
    ("agent2-junior", Role.AGENT, "Юлия Младшая", "l2-support", {"cards": 1}, "available"),
    ("agent2-away", Role.AGENT, "Антон Отошедший", "l2-support", {"cards": 4}, "away"),
    ("agent2-vip", Role.AGENT, "Вера Персональная", "l2-vip", {"cards": 3}, "available"),
    ("agent2-b2b", Role.AGENT, "Григорий Бизнесов", "l2-b2b", {"tariffs": 4}, "available"),
    (
        "expert3",
        Role.AGENT,
        "Эдуард Экспертов",
        "l3-experts",
        {"cards": 5, "tariffs": 5},
        "available",
    ),
    ("supervisor", Role.SUPERVISOR, "Светлана Старшая", None, {}, "available"),
    ("manager", Role.MANAGER, "Максим Продажин", None, {}, "available"),
    ("manager-b", Role.MANAGER, "Борис Сделкин", None, {}, "available"),
    ("lawyer", Role.AGENT, "Юлиана Юристова", None, {}, "available"),
    ("admin", Role.ADMIN, "Администратор", None, {}, "available"),
    ("auditor", Role.SECURITY, "Ирина Проверяева", None, {}, "available"),
]
SUPERVISED_REGIONS = ["RU-MOW", "RU-SPE", "RU-LEN"]
# Working hours where they matter for the demo; everyone else is on shift around the clock.
SCHEDULES = {
    "sales-budget": {
        "timezone": "Europe/Moscow",
        "days": [0, 1, 2, 3, 4],
        "start": "09:00",
        "end": "18:00",
    },
}

CUSTOMERS: list[dict[str, Any]] = [
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
        "contact_person": "Мария Ивановна",
        "gender": "female",
        "representatives": [
            {
                "name": "Мария Ивановна Соколова",
                "position": "главный бухгалтер",
                "phone": "+74951234568",
                "authorities": [
                    {"disclosure": "customer_confidential", "document": "доверенность № 12"},
                    {
                        "topics": ["contract_change", "prolongation"],
                        "disclosure": "commercial_confidential",
                        "valid_to": "2027-12-31",
                        "document": "доверенность № 12",
                    },
                ],
            }
        ],
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
        "address_name": "Иван Петрович",
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
        "address_name": "Ms Smith",
        "personal_manager": "agent2-vip",
    },
    {
        "kind": "organization",
        "name": "ООО «Новый клиент»",
        "inn": "7736207543",
        "kpp": "773601002",
        "region": "RU-MOW",
        "segment": "b2b_commercial",
        "tier": "standard",
        "status": "prospect",
        "planned_volume": 500,
        "locale": "ru",
        "phone": "+74957654321",
        "email": "hello@newclient.example",
    },
    {
        "kind": "organization",
        "name": "МУП «Водоканал»",
        "region": "RU-TVE",
        "segment": "b2b_budget",
        "tier": "standard",
        "status": "client",
        "contract_unit": "acquisition-regions",
        "account_manager": "manager",
        "locale": "ru",
        "phone": "+74822123456",
        "email": "office@vodokanal.example",
    },
]

DEMO_NAMESPACE = uuid.UUID("0b6f3c59-9e1a-4d8e-8d0e-7b1b0a6d5c01")


async def seed(session: AsyncSession) -> None:
    """Create the demo teams, people and customers that are missing; what exists (and what
    people changed since: capacity, availability, skills, passwords) is left as it is."""
    teams = set(await session.scalars(select(Team.code)))
    people = set(await session.scalars(select(User.username)))
    for code, name, line, region in TEAMS:
        if code in teams:
            continue
        await upsert_team(
            session,
            code=code,
            name=name,
            line=line,
            region=region,
            requeue_when_away=code in REQUEUING_TEAMS,
        )
    for username, role, full_name, team, skills, availability in USERS:
        if username in people:
            continue
        supervisor = role == Role.SUPERVISOR
        user = await upsert_user(
            session,
            username=username,
            role=role,
            full_name=full_name,
            team=team,
            password=DEMO_PASSWORD,
            zone_teams=[t[0] for t in TEAMS] if supervisor else None,
            zone_regions=SUPERVISED_REGIONS if supervisor else None,
            capacity=10,
            email=f"{username}@caseflow.local",
            skills=skills,
        )
        user.availability = availability
        user.schedule = SCHEDULES.get(username)
    for item in CUSTOMERS:
        data = dict(item)
        customer_id = str(uuid.uuid5(DEMO_NAMESPACE, str(data["name"])))
        if await session.get(Customer, customer_id) is not None:
            continue
        contacts = {"phone": data.pop("phone"), "email": data.pop("email")}
        speakers = data.pop("representatives", [])
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
        for speaker in speakers:
            session.add(Representative(customer_id=customer_id, **speaker))
        await session.flush()
        await duplicates.refresh(
            session, (await duplicates.profiles(session, [customer_id]))[customer_id]
        )
    await session.flush()
