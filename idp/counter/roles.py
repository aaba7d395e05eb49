"""What each staff role may do (one table, so every check reads the same rule).

- clerk (窗口人员): find people, open their records with a reason, verify in person, assisted
  registration, in-person recovery.
- supervisor (主管): all clerk work, plus the daily report and the open-case queue of their hall.
- hall_admin (大厅管理员): manages the clerks and supervisors of their own hall; no desk work
  (separation of duties: who grants access does not use it).
- operator (省级运维): everything, in every hall.

Disabling and re-enabling a citizen's account (停用 / 恢复) is for supervisors and operators:
it locks a person out of every service, so it is a decision above desk work (as identity
cases are), and hall administrators, who do no desk work, do not make it.
"""

from __future__ import annotations

from idp.counter.models import CLERK, HALL_ADMIN, OPERATOR, SUPERVISOR

DESK, REPORT, CASES, STAFF = "desk", "report", "cases", "staff"
ACCOUNT_STATUS = "account_status"  # disable / re-enable a citizen's account

PERMISSIONS: dict[str, frozenset[str]] = {
    CLERK: frozenset({DESK}),
    SUPERVISOR: frozenset({DESK, REPORT, CASES, ACCOUNT_STATUS}),
    HALL_ADMIN: frozenset({STAFF}),
    OPERATOR: frozenset({DESK, REPORT, CASES, STAFF, ACCOUNT_STATUS}),
}

# The roles each role may create, change and disable.
MANAGES: dict[str, tuple[str, ...]] = {
    HALL_ADMIN: (CLERK, SUPERVISOR),
    OPERATOR: (CLERK, SUPERVISOR, HALL_ADMIN, OPERATOR),
}


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def all_halls(role: str) -> bool:
    """Operators work across halls; everyone else sees their own hall only."""
    return role == OPERATOR


def may_manage(role: str, other_role: str) -> bool:
    return other_role in MANAGES.get(role, ())
