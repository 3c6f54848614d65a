"""The member's points: home summary, lots, history, rewards, vouchers."""

from __future__ import annotations

import secrets
from typing import Any

import segno
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect, Template
from sqlalchemy import select

from customers.models import Customer
from loyalty import images, queries, rewards, tiers
from loyalty.models import Reward, Voucher
from vafa.database import DB
from vafa.i18n import gettext
from vafa.settings import Settings
from vafa.web.forms import PathId, form_data, query_id

HISTORY_PAGE = 20
HISTORY_FILTERS = {
    "earn": ("earn", "adjust"),
    "spend": ("redeem",),
    "expire": ("expire",),
    "return": ("reverse",),
}


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, not inline SVG)."""
    return segno.make(text, error="m").svg_data_uri(scale=6, border=2, dark="#111")


def points_handlers(settings: Settings) -> list[Any]:
    tz = settings.timezone

    async def _tier_rank(db: DB, customer_id: int) -> int:
        tier = await tiers.current_tier(db, customer_id)
        return tier.rank if tier else 0

    @get("/", include_in_schema=False)
    async def home(request: Request[Customer, Any, Any], db: DB) -> Template:
        customer = request.user
        summary = await queries.member_summary(db, customer.id)
        standing = await tiers.standing(db, customer.id)
        rank = standing.tier.rank if standing.tier else 0
        affordable = [
            r for r in await rewards.catalogue(db, tier_rank=rank) if r.cost <= summary.available
        ][:3]
        return Template(
            "portal/home.html",
            context={
                "customer": customer,
                "summary": summary,
                "standing": standing,
                "affordable": affordable,
            },
        )

    @get("/points", include_in_schema=False)
    async def lots(request: Request[Customer, Any, Any], db: DB) -> Template:
        return Template(
            "portal/points/lots.html",
            context={
                "lots": await queries.lots(db, request.user.id),
                "summary": await queries.member_summary(db, request.user.id),
            },
        )

    @get("/points/history", include_in_schema=False)
    async def history(request: Request[Customer, Any, Any], db: DB) -> Template:
        kind = request.query_params.get("kind", "")
        kinds = HISTORY_FILTERS.get(kind, ())
        before = query_id(request, "before")
        lines, more = await queries.history(
            db, request.user.id, kinds=kinds, before_id=before, limit=HISTORY_PAGE
        )
        return Template(
            "portal/points/history.html",
            context={
                "lines": lines,
                "more": more,
                "kind": kind if kind in HISTORY_FILTERS else "",
                "filters": list(HISTORY_FILTERS),
            },
        )

    @get("/rewards", include_in_schema=False)
    async def catalogue(request: Request[Customer, Any, Any], db: DB) -> Template:
        rank = await _tier_rank(db, request.user.id)
        summary = await queries.member_summary(db, request.user.id)
        return Template(
            "portal/points/rewards.html",
            context={"rewards": await rewards.catalogue(db, tier_rank=rank), "summary": summary},
        )

    def reward_page(
        reward: Reward, available: int, error: str | None = None, status: int = 200
    ) -> Template:
        return Template(
            "portal/points/reward.html",
            context={
                "reward": reward,
                "available": available,
                "error": error,
                "key": secrets.token_urlsafe(16),
            },
            status_code=status,
        )

    async def _reward(db: DB, reward_id: int, customer_id: int) -> Reward:
        reward = await db.get(Reward, reward_id)
        rank = await _tier_rank(db, customer_id)
        if (
            reward is None
            or not reward.active
            or (reward.min_tier_rank is not None and reward.min_tier_rank > rank)
        ):
            raise NotFoundException()
        return reward

    @get("/rewards/{reward_id:int}", include_in_schema=False)
    async def reward_detail(
        request: Request[Customer, Any, Any], db: DB, reward_id: PathId
    ) -> Template:
        reward = await _reward(db, reward_id, request.user.id)
        summary = await queries.member_summary(db, request.user.id)
        return reward_page(reward, summary.available)

    @post("/rewards/{reward_id:int}/redeem", include_in_schema=False)
    async def redeem(
        request: Request[Customer, Any, Any], db: DB, reward_id: PathId
    ) -> Response[Any]:
        reward = await _reward(db, reward_id, request.user.id)
        key = (await form_data(request)).get("key", "")[:64]
        if len(key) < 16:
            raise NotFoundException()  # only forms we rendered carry a key
        try:
            voucher = await rewards.redeem(
                db, customer_id=request.user.id, reward_id=reward.id, key=key, tz=tz
            )
        except rewards.RedeemError as exc:
            await db.rollback()  # nothing of a refused redemption may stay
            reward = await _reward(db, reward_id, request.user.id)
            summary = await queries.member_summary(db, request.user.id)
            return reward_page(reward, summary.available, gettext(exc.args[0]), 409)
        return Redirect(f"/vouchers/{voucher.code}")

    async def _voucher(db: DB, code: str, customer_id: int) -> Voucher:
        # Only the member's own vouchers: someone else's code is simply not found.
        voucher = await db.scalar(
            select(Voucher).where(
                Voucher.code == rewards.normalize_code(code), Voucher.customer_id == customer_id
            )
        )
        if voucher is None:
            raise NotFoundException()
        return voucher

    async def voucher_page(
        db: DB, found: Voucher, error: str | None = None, status: int = 200
    ) -> Template:
        return Template(
            "portal/points/voucher.html",
            context={
                "voucher": found,
                "reward": await db.get(Reward, found.reward_id),
                "qr": qr_data_uri(found.code),
                "error": error,
                "summary": await queries.member_summary(db, found.customer_id),
            },
            status_code=status,
        )

    @get("/vouchers", include_in_schema=False)
    async def vouchers(request: Request[Customer, Any, Any], db: DB) -> Template:
        rows = (
            await db.execute(
                select(Voucher, Reward)
                .join(Reward, Reward.id == Voucher.reward_id)
                .where(Voucher.customer_id == request.user.id)
                .order_by(Voucher.id.desc())
                .limit(50)
            )
        ).all()
        return Template("portal/points/vouchers.html", context={"rows": rows})

    @get("/vouchers/{code:str}", include_in_schema=False)
    async def voucher(
        request: Request[Customer, Any, Any], db: DB, code: FromPath[str]
    ) -> Template:
        return await voucher_page(db, await _voucher(db, code, request.user.id))

    @post("/vouchers/{code:str}/cancel", include_in_schema=False)
    async def cancel(
        request: Request[Customer, Any, Any], db: DB, code: FromPath[str]
    ) -> Response[Any]:
        found = await _voucher(db, code, request.user.id)
        try:
            await rewards.cancel(db, voucher_id=found.id, by=f"customer:{request.user.id}")
        except rewards.RedeemError as exc:
            await db.rollback()
            found = await _voucher(db, code, request.user.id)
            return await voucher_page(db, found, gettext(exc.args[0]), 409)
        return Redirect(f"/vouchers/{found.code}")

    @get("/media/rewards/{name:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
    async def reward_image(name: FromPath[str]) -> File:
        path = images.path_of(name)
        if path is None:
            raise NotFoundException()
        return File(
            path,
            media_type=images.MEDIA_TYPES[path.suffix.lstrip(".")],
            content_disposition_type="inline",
            headers={"cache-control": "public, max-age=86400"},
        )

    return [
        home,
        lots,
        history,
        catalogue,
        reward_detail,
        redeem,
        vouchers,
        voucher,
        cancel,
        reward_image,
    ]
