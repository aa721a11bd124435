"""ORM classes, one module per aggregate; importing this package registers every table."""

from clameur.models.account import NetworkAccount, WebhookDelivery
from clameur.models.author import Author
from clameur.models.inbox import (
    AuditEvent,
    Conversation,
    ConversationItem,
    Customer,
    CustomerIdentity,
    Note,
    Notification,
    Presence,
    Queue,
    Reply,
    Rule,
    SavedReply,
    SlaPolicy,
)
from clameur.models.job import InboundItem, Job
from clameur.models.post import Correction, Match, Post
from clameur.models.publication import Publication
from clameur.models.query import SavedQuery
from clameur.models.radar import (
    Alert,
    AlertDelivery,
    AlertRule,
    CrisisMode,
    RadarBucket,
    RadarPoint,
    RadarProgress,
    RadarSeries,
    RadarTerm,
)
from clameur.models.user import Role, User
from clameur.models.workspace import Competitor, Workspace

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertRule",
    "CrisisMode",
    "RadarBucket",
    "RadarPoint",
    "RadarProgress",
    "RadarSeries",
    "RadarTerm",
    "AuditEvent",
    "Author",
    "Conversation",
    "ConversationItem",
    "Customer",
    "CustomerIdentity",
    "Note",
    "Notification",
    "Presence",
    "Publication",
    "Queue",
    "Reply",
    "Rule",
    "SavedReply",
    "SlaPolicy",
    "Competitor",
    "Correction",
    "InboundItem",
    "Job",
    "Match",
    "NetworkAccount",
    "Post",
    "Role",
    "SavedQuery",
    "User",
    "WebhookDelivery",
    "Workspace",
]
