"""Bulletins, their renderings and deliveries (CONTRACT §5): what the routes take, and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from crisis.app.api.schemas import Timestamp
from crisis.app.api.schemas.requests import RequestModel, VisibleText
from crisis.app.paths import RowRef
from crisis.bulletin.workflow import MAX_CASCADE_MINUTES, Draft
from crisis.vocabulary import Language, MsgType, Strategy

VERSION_FIELDS = tuple(f"{part}_{lang}" for lang in Language for part in ("title", "body"))
"""The flat fields of the versions besides French: `title_en`, `body_en`, `title_falc`…"""


class Problem(BaseModel):
    code: str
    message: str


class RenderingPart(BaseModel):
    text: str
    length: int


class RenderingView(BaseModel):
    text: str
    subject: str | None
    length: int
    unit: str
    short_form: bool
    parts: list[RenderingPart]
    problems: list[Problem]


class BulletinView(BaseModel):
    id: int
    crisis_id: int
    title: str
    body: str
    audiences: list[str]
    channels: list[str]
    communes: list[str]
    template: str | None
    variants: dict[str, str]
    references: list[int]
    msg_type: str
    strategy: str
    cascade_minutes: int
    confirm_receipt: bool
    x_thread: bool
    title_en: str | None = Field(default=None, description="Titre de la version anglaise.")
    body_en: str | None = Field(default=None, description="Texte de la version anglaise.")
    title_falc: str | None = Field(
        default=None, description="Titre de la version facile à lire et à comprendre (FALC)."
    )
    body_falc: str | None = Field(default=None, description="Texte de la version FALC.")
    status: str
    exercise: bool
    content_hash: str
    approved_hash: str | None
    author: str
    editors: list[str] = Field(
        default_factory=list,
        description="Qui a modifié le texte après son auteur : ni l'auteur ni eux ne le valident.",
    )
    submitted_by: str | None
    submitted_at: Timestamp | None
    approved_by: str | None
    approved_at: Timestamp | None
    rejected_by: str | None
    rejected_at: Timestamp | None
    reject_reason: str | None
    published_at: Timestamp | None
    published_by: str | None
    public_id: str | None = Field(
        default=None,
        description="Nom imprévisible du communiqué sur les pages publiques ; "
        "seulement pour un communiqué destiné au public.",
    )
    public_url: str | None = Field(
        default=None,
        description="Sa page publique, une fois publié au public ; aucune sinon.",
    )
    cap_url: str | None = Field(
        default=None, description="Son alerte CAP 1.2, une fois publié au public ; aucune sinon."
    )
    renderings: dict[str, RenderingView]
    created_at: Timestamp | None
    updated_at: Timestamp | None


class PublicationView(BaseModel):
    deliveries: int
    to_call: int
    public: int


class PublishedBulletinView(BulletinView):
    publication: PublicationView


class BulletinList(BaseModel):
    items: list[BulletinView]


class PreviewView(BaseModel):
    renderings: dict[str, RenderingView]
    completeness: list[Problem]
    to_save: list[dict[str, Any]] = Field(
        default_factory=list, description="Ce qui empêche l'enregistrement (champ : `field`)."
    )
    to_submit: list[dict[str, Any]] = Field(
        default_factory=list, description="Ce qui empêche la soumission (champ : `field`)."
    )


class SelfTestView(BaseModel):
    bulletin_id: int
    deliveries: int
    address: str | None
    channel: str | None = None


class DeliveryView(BaseModel):
    id: int
    bulletin_id: int | None
    crisis_id: int | None
    audience: str
    played_audience: str | None
    contact_id: int | None
    recipient_name: str | None
    channel: str
    address: str | None
    status: str
    attempts: int
    next_attempt_at: Timestamp | None
    last_error: str | None
    sent_at: Timestamp | None
    confirmed_at: Timestamp | None
    confirm_method: str | None
    confirmed_by: str | None
    cascade_group: str | None
    cascade_rank: int | None
    created_at: Timestamp | None


class ConfirmedDeliveryView(DeliveryView):
    cancelled: int


class DeliveriesView(BaseModel):
    counts: dict[str, int]
    by_audience: dict[str, dict[str, int]]
    by_played_audience: dict[str, dict[str, int]]
    by_channel: dict[str, dict[str, int]]
    confirmed_by: dict[str, int]
    total: int
    limit: int
    offset: int
    items: list[DeliveryView]


class BulletinIn(RequestModel):
    title: VisibleText = Field(max_length=300)
    body: str = Field(max_length=20_000)
    audiences: list[str] = Field(max_length=5)
    channels: list[str] | None = Field(default=None, max_length=10)
    communes: list[str] | None = Field(default=None, max_length=1000)
    template: str | None = Field(default=None, max_length=100)
    variants: dict[str, Annotated[str, Field(max_length=20_000)]] = Field(
        default_factory=dict, max_length=10
    )
    references: list[RowRef] = Field(default_factory=list, max_length=20)
    msg_type: MsgType | None = None
    strategy: Strategy = Strategy.ALL
    cascade_minutes: int = Field(default=0, ge=0, le=MAX_CASCADE_MINUTES)
    confirm_receipt: bool = False
    x_thread: bool = Field(
        default=False,
        description="Publier sur X en fil (plusieurs messages numérotés) si le texte "
        "dépasse 280 caractères pondérés ; X porte alors le texte entier.",
    )
    title_en: str = Field(
        default="", max_length=300, description="Version anglaise (facultative) : son titre."
    )
    body_en: str = Field(default="", max_length=20_000, description="Version anglaise : son texte.")
    title_falc: str = Field(
        default="",
        max_length=300,
        description="Version facile à lire et à comprendre (FALC, facultative) : son titre.",
    )
    body_falc: str = Field(default="", max_length=20_000, description="Version FALC : son texte.")

    def draft(self) -> Draft:
        fields = self.model_dump(exclude=set(VERSION_FIELDS) | {"crisis_id"})
        versions = {
            str(lang): {
                "title": str(getattr(self, f"title_{lang}")),
                "body": str(getattr(self, f"body_{lang}")),
            }
            for lang in Language
        }
        return Draft(**fields, translations=versions)


class PreviewIn(BulletinIn):
    crisis_id: RowRef


class ApproveIn(RequestModel):
    content_hash: str | None = Field(
        default=None,
        max_length=128,
        description="Empreinte du texte relu (`content_hash` lu par GET) : s'il a changé "
        "depuis, la validation est refusée (409 `content_changed`).",
    )


class RejectIn(RequestModel):
    reason: str = Field(min_length=1, max_length=2000)


class ConfirmIn(RequestModel):
    method: Literal["phone"] = "phone"
    note: str = Field(default="", max_length=2000)


class SelfTestIn(RequestModel):
    """The test goes to one of the caller's own channels; `address`, when given, must be one of
    them (403 otherwise, nothing sent); without it, the first of the channel."""

    channel: Literal["email", "sms", "telegram", "matrix"] = "email"
    address: str | None = Field(default=None, max_length=320)
