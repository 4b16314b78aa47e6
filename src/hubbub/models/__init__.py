"""The tables, as typed SQLAlchemy models."""

from hubbub.models.activity import Activity
from hubbub.models.attachment import Attachment
from hubbub.models.base import Base, db, utcnow
from hubbub.models.conversation import Conversation, Membership
from hubbub.models.event import Event, EventCounter, MemberSpan
from hubbub.models.message import Mention, Message, MessageRevision, Reaction
from hubbub.models.session import WebSession
from hubbub.models.token import ApiToken
from hubbub.models.user import User

__all__ = [
    "Activity",
    "ApiToken",
    "Attachment",
    "Base",
    "Conversation",
    "Event",
    "EventCounter",
    "MemberSpan",
    "Mention",
    "Membership",
    "Message",
    "MessageRevision",
    "Reaction",
    "User",
    "WebSession",
    "db",
    "utcnow",
]
