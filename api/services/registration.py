"""Self-registration of seekers and employers."""

from sqlmodel import Session

from api.schemas.domain import EmployerRegisterIn, SeekerRegisterIn
from api.services import auth as auth_service
from api.services.common import centre_by_code
from api.services.employers import create_employer
from models import Account
from models.base import Role


def register(session: Session, data: SeekerRegisterIn | EmployerRegisterIn) -> Account:
    """Create a seeker account (with its centre) or an employer account with its employer."""
    centre_id = centre_by_code(session, data.centre_code).id if data.centre_code else None
    employer_id = None
    if isinstance(data, EmployerRegisterIn):
        employer_id = create_employer(session, data.employer, centre_id=centre_id).id
    account = auth_service.create_account(
        session,
        email=str(data.email),
        password=data.password,
        role=Role(data.role),
        display_name=data.display_name,
        centre_id=centre_id,
        employer_id=employer_id,
    )
    account.language = data.language
    session.add(account)
    session.flush()
    return account
