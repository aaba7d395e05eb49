"""Access-rate fixtures: the access service and the login evidence wired as create_app wires
them, a small Guangdong catalogue imported from CSV, and business systems made live by real
SSO logins (code flow and token exchange)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.access.ports import BEIJING
from idp.access.services import AccessService
from idp.audit.actors import Actor
from idp.extensions import db
from idp.oauth.evidence import TokenLoginEvidence
from idp.oauth.models import TokenIssued
from tests.conftest import Browser, TestClient
from tests.integration.helpers import tokens_for

OPERATOR = Actor.operator("tests")
DAY = 24 * 3600

DEPARTMENTS = """code,name,level,division_code
GDGA,广东省公安厅,province,440000
GDSJ,广东省市场监督管理局,province,440000
GDRS,广东省人力资源和社会保障厅,province,440000
QYGA,清远市公安局,city,441800
QCZW,清远市清城区政务服务数据管理局,county,441802
YDZW,英德市政务服务数据管理局,county,441881
HFZW,海丰县政务服务数据管理局,county,441521
"""

ITEMS = """code,name,type,department_code,level,division_code
GA-L1,居民身份证申领,行政许可,GDGA,province,440000
GA-L2,出入境通行证签发,licensing,GDGA,province,440000
GA-L3,机动车驾驶证核发,licensing,GDGA,province,440000
GA-L4,爆破作业单位许可,licensing,GDGA,province,440000
GA-S1,户籍证明开具,公共服务,GDGA,province,440000
GA-S2,交通违法查询,public_service,GDGA,province,440000
GA-S3,出入境预约,public_service,GDGA,province,440000
GA-S4,治安信息查询,public_service,GDGA,province,440000
SJ-L1,企业设立登记,licensing,GDSJ,province,440000
SJ-L2,食品生产许可,licensing,GDSJ,province,440000
SJ-S1,企业信用信息查询,public_service,GDSJ,province,440000
SJ-O1,投诉举报受理,其他,GDSJ,province,440000
SJ-C1,清远食品经营许可（省级下放）,licensing,GDSJ,市级,441800
QY-1,清远市户口迁移审批,licensing,QYGA,city,441800
QY-2,清远市居住证办理,public_service,QYGA,city,441800
QY-3,清远市治安调解,other,QYGA,city,441800
QY-4,英德市户籍业务,licensing,QYGA,county,441881
QC-1,清城区社保参保登记,public_service,QCZW,county,441802
QC-2,清城区个体户登记,licensing,QCZW,county,441802
YD-1,英德市不动产登记,licensing,YDZW,county,441881
YD-2,英德市医保报销,public_service,YDZW,county,441881
HF-1,海丰县企业投资项目备案,licensing,HFZW,county,441521
HF-2,海丰县社保查询,public_service,HFZW,county,441521
"""

SYSTEMS = """code,name,department_code,contact,status,item_codes,client_ids
S-A,公安厅网上办事系统,GDGA,陈工 020-83110000,connected,GA-L1;GA-L2;GA-S1,{a}
S-B,公安厅旧审批系统,GDGA,,connected,GA-L3;GA-S2,
S-C,公安厅预约系统,GDGA,,testing,GA-S3,{c}
S-D,公安厅停用系统,GDGA,,retired,GA-L4,{d}
S-E,市场监管登记系统,GDSJ,,registered,SJ-L1;SJ-C1,{e}
S-F,清远市公安业务系统,QYGA,,connected,QY-1;QY-2;QC-1,{f}
S-G,英德市业务系统,YDZW,,registered,YD-1;QY-4,
S-H,海丰县业务系统,HFZW,,connected,HF-1;HF-2,{h}
"""


@pytest.fixture
def access(app: Flask) -> AccessService:
    """The service as create_app wires it."""
    return app.extensions["idp.access"]  # type: ignore[no-any-return]


@pytest.fixture
def evidence(app: Flask, access: AccessService) -> TokenLoginEvidence:
    return app.extensions["idp.login_evidence"]  # type: ignore[no-any-return]


def import_csv(access: AccessService, kind: str, text: str, **kwargs: Any) -> Any:
    report = access.import_csv(kind, text.encode("utf-8"), actor=OPERATOR,
                               source=f"{kind}.csv", **kwargs)
    db.session.commit()
    return report


@dataclass
class Catalogue:
    clients: dict[str, TestClient]  # by letter: a, c, d, e, f, h
    login: Callable[[str], None]


@pytest.fixture
def catalogue(app: Flask, access: AccessService, make_client: Any, make_user: Any,
              browser: Browser) -> Catalogue:
    """The small catalogue above, imported from CSV, each system with its client(s)."""
    clients = {letter: make_client(name=f"业务系统 {letter}") for letter in "acdefh"}
    for kind, text in (("departments", DEPARTMENTS), ("items", ITEMS),
                       ("systems", SYSTEMS.format(**{k: c.client_id
                                                     for k, c in clients.items()}))):
        report = import_csv(access, kind, text)
        assert report.ok and report.written, report.rejected
    user = make_user()

    def login(letter: str) -> None:
        """One completed SSO login at that system's client: code flow, token exchange."""
        tokens_for(app, browser, user, clients[letter])

    return Catalogue(clients, login)


def login_days(client_id: str) -> list[date]:
    """The Beijing days on which the token endpoint recorded logins at a client."""
    rows = db.session.execute(select(TokenIssued.issued_at).where(
        TokenIssued.client_id == client_id,
        TokenIssued.grant_type == "authorization_code")).scalars()
    return sorted({_aware(at).astimezone(BEIJING).date() for at in rows})


def _aware(value: Any) -> Any:
    from idp.oauth.models import aware

    return aware(value)


def count(model: Any) -> int:
    return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def figures(rate: Any) -> tuple[int, int, int, float | None, float | None]:
    return (rate.items, rate.declared, rate.verified, rate.declared_rate, rate.verified_rate)
