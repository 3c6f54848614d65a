"""Staff pages of the points engine: settings, earning rules, tiers, rewards, vouchers,
purchases and returns, and members' wallets with manual adjustments.

Each handler parses the form (`loyalty.forms`), calls one service or query, and
renders or redirects; a refusal (`UserError`) is shown on the same page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from loyalty import forms, images, purchases, queries, rewards, rules, services, tiers
from loyalty.models import EarnRule, Reward, RuleKind, Tier
from loyalty.programme import get_programme
from vafa.calendar import last_day
from vafa.database import DB, utcnow
from vafa.errors import UserError
from vafa.i18n import N_, current_language
from vafa.i18n.formatting import format_number, format_short_date
from vafa.money import Currency, format_amount
from vafa.permissions import Permission, requires
from vafa.settings import LANGUAGES
from vafa.web.actors import staff_actor
from vafa.web.deps import AppSettings
from vafa.web.forms import (
    PathId,
    form_currency,
    form_data,
    form_upload,
    parse_int,
    parse_key,
    parse_money,
    parse_phone,
    parse_text,
    query_id,
    query_page,
    required_int,
)

Staff = Request[Any, Any, Any]  # request.user is the logged-in StaffUser

# A reward form with its picture: the picture's limit plus room for the fields.
UPLOAD_BODY_LIMIT = images.MAX_BYTES + 256 * 1024

setup_readers = requires(Permission.SETUP_READ)
managers = requires(Permission.SETUP_MANAGE)
counter = requires(Permission.COUNTER)
readers = requires(Permission.CUSTOMERS_READ)


def page(request: Staff, template: str, error: UserError | None = None, **context: Any) -> Template:
    return Template(
        f"loyalty/admin/{template}",
        context={
            "staff": request.user,
            "error": error.text() if error else None,
            **context,
        },
        status_code=error.status if error else 200,
    )


def pager(name: str, found: queries.Page[Any]) -> dict[str, Any]:
    """A page of rows as the list templates (and `admin/_pager.html`) read it."""
    return {name: found.rows, "page": found.number, "has_next": found.has_next}


class ProgrammeController(Controller):
    path = "/programme"
    include_in_schema = False

    async def show(
        self, request: Staff, db: DB, error: UserError | None = None, form: Any = None
    ) -> Template:
        return page(
            request,
            "programme.html",
            error,
            programme=await get_programme(db),
            form=form,
            saved=request.query_params.get("saved") == "1",
        )

    @get("/", guards=[setup_readers])
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db)

    @post("/", guards=[managers])
    async def save(self, request: Staff, db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            await services.save_programme(
                db, actor=staff_actor(request), values=forms.parse_programme(data)
            )
        except UserError as error:
            return await self.show(request, db, error, data)
        return Redirect("/admin/programme?saved=1")


def rule_values(rule: EarnRule, tz: str, currency: Currency) -> dict[str, str]:
    """A rule as its edit form shows it (money in the club's unit)."""
    language = current_language.get()

    def number(value: int | None) -> str:
        return "" if value is None else format_number(value, language)

    until = last_day(rule.ends_at, tz)
    return {
        "name": rule.name,
        "kind": rule.kind,
        "rials_per_point": (
            format_amount(rule.rials_per_point, language, currency)
            if rule.rials_per_point is not None
            else ""
        ),
        "multiplier_percent": number(rule.multiplier_percent),
        "category_multipliers": "\n".join(
            f"{name}={percent}" for name, percent in rule.category_multipliers.items()
        ),
        **{f"tier_{tier}": number(percent) for tier, percent in rule.tier_multipliers.items()},
        "points": number(rule.points),
        "starts": "",  # an edit starts now (or later, if a first day is given)
        "ends": format_short_date(until, language) if until else "",
        "pending_days": number(rule.pending_days),
        "daily_cap": number(rule.daily_cap),
        "budget": number(rule.budget),
        "active": "on" if rule.active else "",
    }


class RulesController(Controller):
    path = "/rules"
    include_in_schema = False

    async def show(
        self, request: Staff, db: DB, error: UserError | None = None, form: Any = None
    ) -> Template:
        return page(
            request,
            "rules.html",
            error,
            rules=await queries.all_rules(db),
            tiers=await tiers.all_tiers(db),
            kinds=list(RuleKind),
            form=form or {"kind": "spend", "active": "on", "multiplier_percent": "100"},
            now=utcnow(),
            rule_values=lambda rule: rule_values(
                rule, request.app.state.settings.timezone, request.app.state.club.profile.currency
            ),
            saved=request.query_params.get("saved") == "1" and error is None,
        )

    @get("/", guards=[setup_readers])
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db)

    @post("/", guards=[managers])
    async def create(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        try:
            values = forms.parse_rule(
                data,
                await tiers.all_tiers(db),
                settings.timezone,
                currency=form_currency(request, data),
            )
            await services.create_rule(db, actor=staff_actor(request), values=values)
        except UserError as error:
            return await self.show(request, db, error, data)
        return Redirect("/admin/rules")

    @post("/{rule_id:int}", guards=[managers])
    async def edit(
        self, request: Staff, db: DB, settings: AppSettings, rule_id: PathId
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            values = forms.parse_rule(
                data,
                await tiers.all_tiers(db),
                settings.timezone,
                currency=form_currency(request, data),
            )
            await services.edit_rule(db, actor=staff_actor(request), rule_id=rule_id, values=values)
        except UserError as error:
            return await self.show(request, db, error)
        return Redirect("/admin/rules?saved=1")

    @post("/preview", guards=[managers])
    async def preview(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        """What a sample purchase would earn with the rule being written among the
        active ones (htmx): one line per rule and the total."""
        data = await form_data(request)
        tier_list = await tiers.all_tiers(db)
        try:
            currency = form_currency(request, data)
            values = forms.parse_rule(
                data, tier_list, settings.timezone, currency=currency, draft=True
            )
            amount = parse_money(
                data,
                "sample_amount",
                N_("Sample amount"),
                currency=currency,
                maximum=forms.MAX_RIALS,
            )
            categories = forms.parse_categories(data.get("sample_categories", ""))
            tier_id = parse_int(
                data, "sample_tier", N_("Sample tier"), minimum=1, maximum=2**62, required=False
            )
            replacing = parse_int(
                data, "replacing", N_("Earning rule"), minimum=1, maximum=2**62, required=False
            )
        except UserError as error:
            return Template(
                "loyalty/admin/_preview.html", context={"error": error.text()}, status_code=400
            )
        tier = next((t for t in tier_list if t.id == tier_id), None)
        draft = EarnRule(**values, budget_used=0)  # never added to the session
        if replacing is not None:
            draft.kind = next(
                (r.kind for r in await queries.all_rules(db) if r.id == replacing), draft.kind
            )
        lines = rules.combined_preview(
            await queries.all_rules(db),
            draft,
            replacing=replacing,
            amount=amount,
            categories=categories,
            tier=tier,
        )
        return Template(
            "loyalty/admin/_preview.html",
            context={
                "points": rules.draft_points(
                    draft, amount=amount, categories=categories, tier=tier
                ),
                "rule": draft,
                "amount": amount,
                "spend": draft.kind == RuleKind.SPEND,
                "lines": lines,
                "total": sum(line.points for line in lines),
            },
        )

    @post("/{rule_id:int}/active", guards=[managers])
    async def active(self, request: Staff, db: DB, rule_id: PathId) -> Response[Any]:
        data = await form_data(request)
        await services.set_rule_active(
            db, actor=staff_actor(request), rule_id=rule_id, active=data.get("active") == "on"
        )
        return Redirect("/admin/rules")


def tier_values(tier: Tier) -> dict[str, str]:
    """A tier as its edit form shows it."""
    language = current_language.get()
    return {
        "rank": format_number(tier.rank, language),
        "threshold": format_number(tier.threshold, language),
        "earn_multiplier_percent": format_number(tier.earn_multiplier_percent, language),
        **{f"name_{code}": tier.name.get(code, "") for code in LANGUAGES},
    }


class TiersController(Controller):
    path = "/tiers"
    include_in_schema = False

    async def show(
        self, request: Staff, db: DB, error: UserError | None = None, form: Any = None
    ) -> Template:
        return page(
            request,
            "tiers.html",
            error,
            tiers=await tiers.all_tiers(db),
            form=form or {"earn_multiplier_percent": "100"},
            tier_values=tier_values,
        )

    @get("/", guards=[setup_readers])
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db)

    async def save(
        self, request: Staff, db: DB, settings: AppSettings, tier_id: int | None
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            values = forms.parse_tier(data, settings.default_language)
            await services.save_tier(db, actor=staff_actor(request), tier_id=tier_id, values=values)
        except UserError as error:
            return await self.show(request, db, error, data if tier_id is None else None)
        return Redirect("/admin/tiers")

    @post("/", guards=[managers])
    async def create(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        return await self.save(request, db, settings, None)

    @post("/{tier_id:int}", guards=[managers])
    async def update(
        self, request: Staff, db: DB, settings: AppSettings, tier_id: PathId
    ) -> Response[Any]:
        return await self.save(request, db, settings, tier_id)


def reward_values(reward: Reward, tz: str) -> dict[str, str]:
    """A reward as its edit form shows it."""
    language = current_language.get()

    def number(value: int | None) -> str:
        return "" if value is None else format_number(value, language)

    until = last_day(reward.valid_until, tz)
    return {
        **{f"title_{code}": reward.title.get(code, "") for code in LANGUAGES},
        **{f"description_{code}": reward.description.get(code, "") for code in LANGUAGES},
        "cost": number(reward.cost),
        "stock": number(reward.stock),
        "per_member_limit": number(reward.per_member_limit),
        "voucher_days": number(reward.voucher_days),
        "min_tier_rank": "" if reward.min_tier_rank is None else str(reward.min_tier_rank),
        "valid_from": (
            format_short_date(reward.valid_from, language, tz) if reward.valid_from else ""
        ),
        "valid_until": format_short_date(until, language) if until else "",
        "active": "on" if reward.active else "",
    }


class RewardsController(Controller):
    path = "/rewards"
    include_in_schema = False

    async def show(
        self,
        request: Staff,
        db: DB,
        settings: AppSettings,
        error: UserError | None = None,
        form: Any = None,
    ) -> Template:
        return page(
            request,
            "rewards.html",
            error,
            rewards=await queries.all_rewards(db),
            tiers=await tiers.all_tiers(db),
            form=form or {"voucher_days": "30", "active": "on"},
            reward_values=lambda reward: reward_values(reward, settings.timezone),
        )

    @get("/", guards=[setup_readers])
    async def view(self, request: Staff, db: DB, settings: AppSettings) -> Template:
        return await self.show(request, db, settings)

    async def save(
        self, request: Staff, db: DB, settings: AppSettings, reward_id: int | None
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            ranks = {t.rank for t in await tiers.all_tiers(db)}
            values = forms.parse_reward(data, settings.default_language, ranks, settings.timezone)
            upload = await form_upload(request, "image", images.MAX_BYTES)
            await services.save_reward(
                db,
                actor=staff_actor(request),
                reward_id=reward_id,
                values=values,
                image=upload,
            )
        except UserError as error:
            form = data if reward_id is None else None
            return await self.show(request, db, settings, error, form)
        return Redirect("/admin/rewards")

    @post("/", guards=[managers], request_max_body_size=UPLOAD_BODY_LIMIT)
    async def create(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        return await self.save(request, db, settings, None)

    @post("/{reward_id:int}", guards=[managers], request_max_body_size=UPLOAD_BODY_LIMIT)
    async def update(
        self, request: Staff, db: DB, settings: AppSettings, reward_id: PathId
    ) -> Response[Any]:
        return await self.save(request, db, settings, reward_id)


class VouchersController(Controller):
    path = "/vouchers"
    include_in_schema = False

    async def show(
        self, request: Staff, db: DB, error: UserError | None = None, code: str = ""
    ) -> Template:
        used_id = query_id(request, "used")
        return page(
            request,
            "vouchers.html",
            error,
            **pager(
                "vouchers", await queries.vouchers_page(db, query_page(request), forms.PAGE_SIZE)
            ),
            code=code[:40],
            used=await queries.used_voucher(db, used_id) if used_id and not error else None,
        )

    @get("/", guards=[readers])
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db)

    @get("/check", guards=[counter])
    async def check(self, request: Staff, db: DB) -> Template:
        """What the typed code is, before it is accepted (htmx)."""
        code = request.query_params.get("code", "")[:40]
        found = await queries.voucher_by_code(db, code) if code.strip() else None
        return Template(
            "loyalty/admin/_voucher_check.html", context={"found": found, "code": code}
        )

    @post("/use", guards=[counter])
    async def use(self, request: Staff, db: DB) -> Response[Any]:
        code = (await form_data(request)).get("code", "")
        try:
            voucher = await rewards.use(db, actor=staff_actor(request), code=code)
        except UserError as error:
            return await self.show(request, db, error, code)
        return Redirect(f"/admin/vouchers?used={voucher.id}")


class PurchasesController(Controller):
    path = "/purchases"
    include_in_schema = False

    async def show(
        self, request: Staff, db: DB, error: UserError | None = None, form: Any = None
    ) -> Template:
        notice: dict[str, Any] = {}
        if error is None:
            for name in ("recorded", "duplicate"):
                found_id = query_id(request, name)
                if found_id is not None:
                    notice[name] = await queries.purchase(db, found_id)
            refund_id = query_id(request, "refund")
            if refund_id is not None:
                notice["refund"] = await queries.refund(db, refund_id)
        return page(
            request,
            "purchases.html",
            error,
            **pager(
                "purchases", await queries.purchases_page(db, query_page(request), forms.PAGE_SIZE)
            ),
            form=form or {},
            notice=notice,
        )

    @get("/", guards=[readers])
    async def view(self, request: Staff, db: DB) -> Template:
        return await self.show(request, db)

    @get("/who", guards=[counter])
    async def who(self, request: Staff, db: DB) -> Template:
        """Who the number belongs to, before the purchase is recorded (htmx)."""
        raw = request.query_params.get("phone", "")[:40]
        try:
            found = await queries.at_counter(db, parse_phone(raw)) if raw.strip() else None
            valid = bool(raw.strip())
        except UserError:
            found, valid = None, False
        return Template("loyalty/admin/_who.html", context={"found": found, "valid": valid})

    @post("/", guards=[counter])
    async def record(self, request: Staff, db: DB, settings: AppSettings) -> Response[Any]:
        data = await form_data(request)
        try:
            recorded = await purchases.record_purchase(
                db,
                actor=staff_actor(request),
                phone=parse_phone(data.get("phone", "")),
                amount=parse_money(
                    data,
                    "amount",
                    N_("Amount"),
                    currency=form_currency(request, data),
                    maximum=forms.MAX_RIALS,
                ),
                categories=forms.parse_categories(data.get("categories", "")),
                receipt_number=data.get("receipt", ""),
                tz=settings.timezone,
                language=settings.default_language,
                link=settings.public_url,
            )
        except UserError as error:
            return await self.show(request, db, error, data)
        state = "duplicate" if recorded.duplicate else "recorded"
        return Redirect(f"/admin/purchases?{state}={recorded.purchase.id}")

    @post("/{purchase_id:int}/refund", guards=[counter])
    async def refund(self, request: Staff, db: DB, purchase_id: PathId) -> Response[Any]:
        data = await form_data(request)
        try:
            refund = await purchases.record_refund(
                db,
                actor=staff_actor(request),
                purchase_id=purchase_id,
                amount=parse_money(
                    data,
                    "amount",
                    N_("Amount returned"),
                    currency=form_currency(request, data),
                    maximum=forms.MAX_RIALS,
                ),
                key=parse_key(data),
            )
        except UserError as error:
            return await self.show(request, db, error)
        return Redirect(f"/admin/purchases?refund={refund.id}")


class MembersController(Controller):
    path = "/members"
    include_in_schema = False

    @get("/", guards=[readers])
    async def find(self, request: Staff, db: DB) -> Response[Any]:
        raw = request.query_params.get("phone", "")[:40]
        error, not_found = None, False
        if raw.strip():
            try:
                customer_id = await queries.member_id_by_phone(db, parse_phone(raw))
            except UserError as refused:
                error = refused
            else:
                if customer_id is not None:
                    return Redirect(f"/admin/members/{customer_id}")
                not_found = True
        return page(
            request,
            "members.html",
            error,
            phone=raw,
            not_found=not_found,
            recent=await queries.recent_members(db),
        )

    async def show(
        self,
        request: Staff,
        db: DB,
        customer_id: int,
        error: UserError | None = None,
        form: Any = None,
    ) -> Template:
        before = query_id(request, "before")
        found = await queries.wallet(db, customer_id, before_id=before, size=forms.HISTORY_SIZE)
        return page(
            request,
            "member.html",
            error,
            customer=found.customer,
            summary=found.summary,
            standing=found.standing,
            lots=found.lots,
            history=found.history,
            more=found.more,
            before=before,
            vouchers=found.vouchers,
            form=form or {},
            adjusted=request.query_params.get("adjusted") == "1" and error is None,
        )

    @get("/{customer_id:int}", guards=[readers])
    async def view(self, request: Staff, db: DB, customer_id: PathId) -> Template:
        return await self.show(request, db, customer_id)

    @post("/{customer_id:int}/adjust", guards=[requires(Permission.POINTS_ADJUST)])
    async def adjust(
        self, request: Staff, db: DB, settings: AppSettings, customer_id: PathId
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            await services.adjust_points(
                db,
                actor=staff_actor(request),
                customer_id=customer_id,
                points=required_int(
                    data,
                    "points",
                    N_("Points"),
                    minimum=-forms.MAX_POINTS,
                    maximum=forms.MAX_POINTS,
                ),
                reason=parse_text(data, "reason", N_("Reason"), limit=200),
                key=parse_key(data),
                tz=settings.timezone,
            )
        except UserError as error:
            return await self.show(request, db, customer_id, error, data)
        return Redirect(f"/admin/members/{customer_id}?adjusted=1")


CONTROLLERS = (
    ProgrammeController,
    RulesController,
    TiersController,
    RewardsController,
    VouchersController,
    PurchasesController,
    MembersController,
)
