"""The member's points pages: home summary, lots, history, rewards, vouchers."""

from __future__ import annotations

import secrets
from typing import Any

import segno
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from loyalty import images, queries, rewards
from loyalty.models import EntryKind, Reward, Voucher
from vafa.database import DB
from vafa.errors import UserError
from vafa.web.actors import customer_actor
from vafa.web.deps import AppSettings
from vafa.web.forms import PathId, form_data, query_id

HISTORY_PAGE = 20
HISTORY_FILTERS = {
    "earn": (EntryKind.EARN, EntryKind.ADJUST),
    "spend": (EntryKind.REDEEM,),
    "expire": (EntryKind.EXPIRE,),
    "return": (EntryKind.REVERSE,),
}

Member = Request[Any, Any, Any]  # request.user is the logged-in Customer


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, not inline SVG)."""
    return segno.make(text, error="m").svg_data_uri(scale=6, border=2, dark="#111")


class PointsController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Member, db: DB) -> Template:
        found = await queries.home(db, request.user.id)
        return Template(
            "loyalty/portal/home.html",
            context={
                "customer": request.user,
                "summary": found.summary,
                "standing": found.standing,
                "affordable": found.affordable,
            },
        )

    @get("/points")
    async def lots(self, request: Member, db: DB) -> Template:
        return Template(
            "loyalty/portal/lots.html",
            context={
                "lots": await queries.lots(db, request.user.id),
                "summary": await queries.member_summary(db, request.user.id),
            },
        )

    @get("/points/history")
    async def history(self, request: Member, db: DB) -> Template:
        kind = request.query_params.get("kind", "")
        lines, more = await queries.history(
            db,
            request.user.id,
            kinds=HISTORY_FILTERS.get(kind, ()),
            before_id=query_id(request, "before"),
            limit=HISTORY_PAGE,
        )
        return Template(
            "loyalty/portal/history.html",
            context={
                "lines": lines,
                "more": more,
                "kind": kind if kind in HISTORY_FILTERS else "",
                "filters": list(HISTORY_FILTERS),
            },
        )


def reward_page(
    reward: Reward, available: int, error: UserError | None = None
) -> Template:
    return Template(
        "loyalty/portal/reward.html",
        context={
            "reward": reward,
            "available": available,
            "error": error.text() if error else None,
            "key": secrets.token_urlsafe(16),
        },
        status_code=error.status if error else 200,
    )


class RewardsController(Controller):
    path = "/rewards"
    include_in_schema = False

    @get("/")
    async def catalogue(self, request: Member, db: DB) -> Template:
        return Template(
            "loyalty/portal/rewards.html",
            context={
                "rewards": await queries.member_catalogue(db, request.user.id),
                "summary": await queries.member_summary(db, request.user.id),
            },
        )

    @get("/{reward_id:int}")
    async def detail(self, request: Member, db: DB, reward_id: PathId) -> Template:
        reward = await queries.member_reward(db, request.user.id, reward_id)
        summary = await queries.member_summary(db, request.user.id)
        return reward_page(reward, summary.available)

    @post("/{reward_id:int}/redeem")
    async def redeem(
        self, request: Member, db: DB, settings: AppSettings, reward_id: PathId
    ) -> Response[Any]:
        reward = await queries.member_reward(db, request.user.id, reward_id)
        key = (await form_data(request)).get("key", "")[:64]
        if len(key) < 16:
            raise NotFoundException()  # only forms we rendered carry a key
        try:
            voucher = await rewards.redeem(
                db,
                actor=customer_actor(request),
                customer_id=request.user.id,
                reward_id=reward.id,
                key=key,
                tz=settings.timezone,
            )
        except UserError as error:
            summary = await queries.member_summary(db, request.user.id)
            return reward_page(reward, summary.available, error)
        return Redirect(f"/vouchers/{voucher.code}")


async def voucher_page(db: DB, found: Voucher, error: UserError | None = None) -> Template:
    return Template(
        "loyalty/portal/voucher.html",
        context={
            "voucher": found,
            "reward": await queries.reward(db, found.reward_id),
            "qr": qr_data_uri(found.code),
            "error": error.text() if error else None,
            "summary": await queries.member_summary(db, found.customer_id),
        },
        status_code=error.status if error else 200,
    )


class VouchersController(Controller):
    path = "/vouchers"
    include_in_schema = False

    @get("/")
    async def vouchers(self, request: Member, db: DB) -> Template:
        rows = await queries.member_vouchers(db, request.user.id)
        return Template("loyalty/portal/vouchers.html", context={"rows": rows})

    @get("/{code:str}")
    async def voucher(self, request: Member, db: DB, code: FromPath[str]) -> Template:
        return await voucher_page(db, await queries.member_voucher(db, request.user.id, code))

    @post("/{code:str}/cancel")
    async def cancel(self, request: Member, db: DB, code: FromPath[str]) -> Response[Any]:
        found = await queries.member_voucher(db, request.user.id, code)
        try:
            await rewards.cancel(db, actor=customer_actor(request), voucher_id=found.id)
        except UserError as error:
            return await voucher_page(db, found, error)
        return Redirect(f"/vouchers/{found.code}")


class RewardImageController(Controller):
    path = "/media/rewards"
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    @get("/{name:str}")
    async def image(self, name: FromPath[str]) -> File:
        path = images.path_of(name)
        if path is None:
            raise NotFoundException()
        return File(
            path,
            media_type=images.MEDIA_TYPES[path.suffix.lstrip(".")],
            content_disposition_type="inline",
            headers={"cache-control": "public, max-age=86400"},
        )


CONTROLLERS = (PointsController, RewardsController, VouchersController, RewardImageController)
