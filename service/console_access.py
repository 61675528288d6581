"""Who may see and change which part of the roster in the console (issue 13's roles).

Deny by default:
- administrators (and API keys with the `roster` scope) read and change every agency;
- auditors (the `reports` permission) read every agency and change nothing;
- clerks read and change their own agency's roster only (their account's `agency_code`);
- anybody else is refused.
A read answers the set of agencies the caller may see (None: all); a write checks one agency.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.accounts import Permission, Principal, Role
from service.errors import Forbidden, Unauthenticated
from service.guard import check_csrf, current_principal, db, runtime


@dataclass(frozen=True)
class RosterScope:
    """The agencies a caller may read (`agencies` None: every one) and whether they may write."""

    principal: Principal
    agencies: frozenset[str] | None
    may_write: bool

    def may_read_agency(self, code: str) -> bool:
        return self.agencies is None or code in self.agencies

    def require_write(self, code: str) -> None:
        """Refuse (403, audited) a change to agency `code` the caller may not make."""
        if self.may_write and self.may_read_agency(code):
            return
        runtime().audit(self.principal.label, "denied:roster", "forbidden", target=code)
        raise Forbidden(f"Bạn không có quyền sửa danh bạ của cơ quan {code}",
                        f"you may not change the roster of agency {code}")

    def require_read(self, code: str) -> None:
        if not self.may_read_agency(code):
            runtime().audit(self.principal.label, "denied:roster", "forbidden", target=code)
            raise Forbidden(f"Bạn không có quyền xem danh bạ của cơ quan {code}",
                            f"you may not see the roster of agency {code}")


def roster_scope() -> RosterScope:
    """The caller's scope on the roster; 401 without credentials, 403 (audited) without any right to it."""
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("Cần đăng nhập hoặc khóa API", "authentication required: an API key or a logged-in session")
    check_csrf()
    db().commit()
    if principal.may(Permission.ROSTER):
        return RosterScope(principal, None, True)
    if Role.CLERK in principal.roles and principal.agency_code:
        return RosterScope(principal, frozenset({principal.agency_code}), True)
    if principal.may(Permission.REPORTS):
        return RosterScope(principal, None, False)
    runtime().audit(principal.label, "denied:roster", "forbidden")
    raise Forbidden("Bạn không có quyền xem danh bạ", "you may not see the roster")


def may_open_console(principal: Principal | None) -> bool:
    """Whether the console's roster pages are shown to this person (the API checks again)."""
    if principal is None:
        return False
    return (principal.may(Permission.ROSTER) or principal.may(Permission.REPORTS)
            or (Role.CLERK in principal.roles and bool(principal.agency_code)))
