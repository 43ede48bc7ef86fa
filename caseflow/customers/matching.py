"""Likely duplicates: profiles that are probably one customer though no deterministic key
(INN+KPP, OGRN, phone, e-mail) says so — «ООО "Ромашка"» and "Romashka LLC", a phone
written one digit wrong, yuri.ivanov@ and y.ivanov@ at one domain.

Comparing every profile with every other is out of the question at 100,000 profiles, so
each profile has blocking keys (`keys`): the start of each name word in Latin letters, the
last seven digits of each phone, each e-mail's name part and domain. Only profiles that
share a key are compared (`score`, with rapidfuzz), and only those above the threshold
of `routing_rules/profile/matching.yaml` are listed, with the fields that matched.

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from caseflow.customers.identity import search_key
from caseflow.platform.yamlsource import read

CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch  y  e yu ya".split(" "),
        strict=True,
    )
)
WORD = re.compile(r"[^\W\d_]+|\d+")
KEY_LETTERS = 4  # a name word's key: its first letters in Latin
KEY_LENGTH = 120  # as stored
NEUTRAL = 50  # what contacts that do not match add: neither for nor against


class Matching(BaseModel):
    """What makes two profiles likely one customer (scores 0–100)."""

    model_config = ConfigDict(extra="forbid")

    listed_from: int = Field(default=75, ge=1, le=100, description="a candidate's least score")
    name_matches_from: int = Field(default=85, ge=1, le=100)
    contact_matches_from: int = Field(default=80, ge=1, le=100)
    name_weight: float = Field(default=0.6, gt=0, lt=1, description="the rest is contact")
    candidates: int = Field(default=200, ge=1, le=5000, description="compared at most")


@dataclass(frozen=True)
class Profile:
    """What matching compares of a profile."""

    id: str
    name: str
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    id: str
    score: int
    matched: dict[str, int]  # field → its own score, for the fields that matched


def latin(text: str) -> str:
    return "".join(CYRILLIC.get(c, c) for c in search_key(text))


LEGAL_FORMS = frozenset(
    latin(form)
    for form in "ооо оао зао пао ао ип нко муп гуп фгуп ано llc ltd inc gmbh jsc ojsc".split()
)


def name_words(name: str) -> list[str]:
    """The name's words in Latin letters, without legal forms and quotes."""
    return [w for w in WORD.findall(latin(name)) if w not in LEGAL_FORMS]


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def keys(profile: Profile) -> set[str]:
    found = {f"n:{w[:KEY_LETTERS]}" for w in name_words(profile.name) if len(w) >= 3}
    found |= {f"p:{digits(p)[-7:]}" for p in profile.phones}
    for address in profile.emails:
        local, _, domain = address.partition("@")
        found.add(f"e:{local}")
        if domain:
            found.add(f"d:{domain}")
    return {key[:KEY_LENGTH] for key in found}


def _name(a: Profile, b: Profile) -> int:
    """Word order and a missing middle name matter little (rapidfuzz's WRatio)."""
    return round(fuzz.WRatio(" ".join(name_words(a.name)), " ".join(name_words(b.name))))


def _phone(a: Profile, b: Profile) -> int:
    best = 0
    for x in a.phones:
        for y in b.phones:
            dx, dy = digits(x), digits(y)
            if dx[-10:] == dy[-10:]:
                return 100
            if dx[-7:] == dy[-7:]:
                best = max(best, 85)  # the same number, another code
            else:
                best = max(best, round(fuzz.ratio(dx[-10:], dy[-10:])) - 10)
    return best


def _email(a: Profile, b: Profile) -> int:
    best = 0
    for x in a.emails:
        for y in b.emails:
            (lx, _, hx), (ly, _, hy) = x.partition("@"), y.partition("@")
            local = round(fuzz.ratio(lx, ly))
            best = max(best, local if hx == hy else local - 20)
    return best


def score(rules: Matching, a: Profile, b: Profile) -> Candidate:
    """How likely `b` is `a`: the name's similarity, weighed with the best contact's (one
    that does not match counts as neutral: a namesake needs a very alike name to be listed)."""
    name, phone, email = _name(a, b), _phone(a, b), _email(a, b)
    contact = max(phone, email)
    if contact < rules.contact_matches_from:  # another number says nothing: people change them
        contact = NEUTRAL
    total = rules.name_weight * name + (1 - rules.name_weight) * contact
    matched = {}
    if name >= rules.name_matches_from:
        matched["name"] = name
    for label, value in (("phone", phone), ("email", email)):
        if value >= rules.contact_matches_from:
            matched[label] = value
    return Candidate(b.id, round(total), matched)


def likely(rules: Matching, profile: Profile, others: list[Profile]) -> list[Candidate]:
    """The others that are likely this profile, the likeliest first."""
    scored = [score(rules, profile, other) for other in others if other.id != profile.id]
    return sorted(
        (c for c in scored if c.score >= rules.listed_from and c.matched),
        key=lambda c: (-c.score, c.id),
    )


def load(path: Path) -> Matching:
    return read(Matching, path) if path.exists() else Matching()
