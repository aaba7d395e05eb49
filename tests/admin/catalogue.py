"""A small catalogue for the console's tests, with its access rates computed by hand, and
uploading CSV files through the console's import page."""

from __future__ import annotations

import io
from typing import Any

DEPARTMENTS = """code,name,level,division_code
GDGA,广东省公安厅,province,440000
GDRS,广东省人力资源和社会保障厅,province,440000
QYZS,清远市政务服务数据管理局,city,441800
QCZS,清远市清城区政务服务数据管理局,county,441802
SZZS,深圳市政务服务数据管理局,city,440300
"""
ITEMS = """code,name,type,department_code,level,division_code
P-L1,机动车驾驶证核发,行政许可,GDGA,province,440000
P-L2,居民身份证换领,licensing,GDGA,province,440000
P-L3,出入境证件签发,licensing,GDGA,province,440000
P-L4,爆破作业单位许可,licensing,GDGA,province,440000
P-S1,户籍证明开具,公共服务,GDGA,province,440000
P-S2,交通违法查询,public_service,GDGA,province,440000
R-L1,职业技能鉴定机构设立,licensing,GDRS,province,440000
QY-1,清远市公共租赁住房申请,public_service,QYZS,city,441800
QY-2,清远市户外广告设置许可,licensing,QYZS,city,441800
QC-1,清城区社会救助申请,public_service,QCZS,county,441802
QC-2,清城区个体工商户登记,licensing,QCZS,county,441802
SZ-1,深圳市人才引进,public_service,SZZS,city,440300
"""


def systems_csv(ga_client: str, qy_client: str) -> str:
    """Two systems proven live by logins of their clients, two declared connected only."""
    return ("code,name,department_code,contact,status,item_codes,client_ids\n"
            f"SYS-GA1,公安厅政务服务系统,GDGA,张工 020-1,connected,P-L1;P-L2;P-S1,{ga_client}\n"
            "SYS-GA2,出入境管理系统,GDGA,,connected,P-L3,\n"
            f"SYS-QY,清远市政务服务系统,QYZS,李工 0763-1,testing,QY-1;QC-1,{qy_client}\n"
            "SYS-QC,清城区业务系统,QCZS,,connected,QC-2,\n")


def upload(operator: Any, kind: str, text: str | bytes, *, dry_run: bool = False,
           filename: str | None = None) -> Any:
    """Upload a CSV through the console's import page."""
    raw = text.encode() if isinstance(text, str) else text
    data: dict[str, Any] = {"kind": kind, "file": (io.BytesIO(raw), filename or f"{kind}.csv")}
    if dry_run:
        data["dry_run"] = "y"
    return operator.post("/admin/imports", data, content_type="multipart/form-data")


def import_catalogue(operator: Any, ga_client: str, qy_client: str) -> None:
    for kind, text in (("departments", DEPARTMENTS), ("items", ITEMS),
                       ("systems", systems_csv(ga_client, qy_client))):
        answer = upload(operator, kind, text)
        assert answer.status_code == 200, answer.get_data(as_text=True)[-3000:]


# The rates by hand (declared: a connected or live system handles the item; verified: a live
# one does). Live: SYS-GA1 and SYS-QY, once their clients log someone in.
EXPECTED = {
    # scope: (items, declared, declared rate, verified, verified rate, target, gap)
    "dept:GDGA:licensing": ("4", "3", "75.00%", "2", "50.00%", "100%", "50.00"),
    "dept:GDGA:public_service": ("2", "1", "50.00%", "1", "50.00%", "50%", "达标"),
    "dept:GDRS:licensing": ("1", "0", "0.00%", "0", "0.00%", "100%", "100.00"),
    "dept:GDRS:public_service": ("0", "0", "—", "0", "—", "50%", "—"),
    "province:licensing": ("5", "3", "60.00%", "2", "40.00%", "100%", "60.00"),
    "province:public_service": ("2", "1", "50.00%", "1", "50.00%", "50%", "达标"),
    "group:east_west_north": ("4", "3", "75.00%", "2", "50.00%", "90%", "40.00"),
    "group:pearl_river_delta": ("1", "0", "0.00%", "0", "0.00%", "90%", "90.00"),
    "city:441800": ("4", "3", "75.00%", "2", "50.00%", "90%", "40.00"),
    "city:440300": ("1", "0", "0.00%", "0", "0.00%", "90%", "90.00"),
    "county:441802": ("2", "2", "100.00%", "1", "50.00%", "90%", "40.00"),
}
