"""Staff pages for the points engine: settings, earning rules, tiers, rewards, vouchers,
purchases and returns, and members' wallets with manual adjustments.

Forms are parsed in admin.loyalty_forms; the service functions here write each change
with its audit row in the caller's transaction; the handlers validate, call one
service function, and render or redirect.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from admin.loyalty_forms import (
    CAUSE_LABELS,
    DESCRIPTION_FIELDS,
    HISTORY_SIZE,
    MAX_POINTS,
    MAX_RIALS,
    NAME_FIELDS,
    PAGE_SIZE,
    PROGRAMME_FIELDS,
    TITLE_FIELDS,
    FormError,
    counter_staff,
    error_text,
    managers,
    new_key,
    parse_categories,
    parse_int,
    parse_key,
    parse_programme,
    parse_reward,
    parse_rule,
    parse_text,
    parse_tier,
    readers,
    required_int,
    setup_readers,
)
from admin.models import StaffUser
from admin.service import audit
from customers.models import Customer
from loyalty import images, ledger, purchases, queries, rewards, rules, tiers
from loyalty.models import (
    RULE_KINDS,
    EarnRule,
    JournalEntry,
    Programme,
    Purchase,
    Refund,
    Reward,
    Tier,
    Voucher,
)
from loyalty.programme import expiry_for, get_programme, local_day
from vafa.database import DB, utcnow
from vafa.i18n import N_, current_language, gettext
from vafa.i18n.formatting import format_number, format_short_date
from vafa.i18n.normalize import (
    InvalidPhone,
    normalize_phone,
)
from vafa.security import sessions
from vafa.settings import LANGUAGES, Settings
from vafa.web.forms import PathId, form_data, form_upload, query_id, query_page
from vafa.web.labels import (
    ENTRY_KIND_LABELS,
    EXPIRE_AT_LABELS,
    RETURN_POLICY_LABELS,
    RULE_KIND_LABELS,
    TIER_WINDOW_LABELS,
    VOUCHER_STATUS_LABELS,
)


async def save_programme(
    session: AsyncSession, *, values: dict[str, Any], actor_id: int, ip: str | None
) -> Programme:
    programme = await get_programme(session)
    before = {name: getattr(programme, name) for name in PROGRAMME_FIELDS}
    for name in PROGRAMME_FIELDS:
        setattr(programme, name, values[name])
    await session.flush()
    await audit(
        session,
        actor_id=actor_id,
        action="programme.update",
        object_type="programme",
        object_id=programme.id,
        details={"before": before, "after": {n: values[n] for n in PROGRAMME_FIELDS}},
        ip=ip,
    )
    return programme


async def create_rule(
    session: AsyncSession, *, values: dict[str, Any], actor_id: int, ip: str | None
) -> EarnRule:
    rule = EarnRule(**values, budget_used=0, created_at=utcnow())
    session.add(rule)
    await session.flush()
    await audit(
        session,
        actor_id=actor_id,
        action="rule.create",
        object_type="rule",
        object_id=rule.id,
        details={"name": rule.name, "kind": rule.kind},
        ip=ip,
    )
    return rule


async def set_rule_active(
    session: AsyncSession, *, rule_id: int, active: bool, actor_id: int, ip: str | None
) -> EarnRule:
    rule = await session.get(EarnRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFoundException()
    if rule.active != active:
        rule.active = active
        await session.flush()
        await audit(
            session,
            actor_id=actor_id,
            action="rule.activate" if active else "rule.deactivate",
            object_type="rule",
            object_id=rule.id,
            details={"name": rule.name},
            ip=ip,
        )
    return rule


async def save_tier(
    session: AsyncSession,
    *,
    tier_id: int | None,
    values: dict[str, Any],
    actor_id: int,
    ip: str | None,
) -> Tier:
    """Create a tier (`tier_id` None) or change one; ranks are unique."""
    tier = None
    if tier_id is not None:
        tier = await session.get(Tier, tier_id, with_for_update=True)
        if tier is None:
            raise NotFoundException()
    clash = await session.scalar(
        select(Tier.id).where(Tier.rank == values["rank"], Tier.id != (tier_id or 0))
    )
    if clash is not None:
        raise FormError(N_("Another tier already has this rank."))
    try:
        async with session.begin_nested():
            if tier is None:
                tier = Tier(**values)
                session.add(tier)
            else:
                for name, value in values.items():
                    setattr(tier, name, value)
    except IntegrityError:  # the same rank saved at the same moment
        raise FormError(N_("Another tier already has this rank.")) from None
    await audit(
        session,
        actor_id=actor_id,
        action="tier.create" if tier_id is None else "tier.update",
        object_type="tier",
        object_id=tier.id,
        details={"rank": tier.rank, "points": tier.threshold},
        ip=ip,
    )
    return tier


async def save_reward(
    session: AsyncSession,
    *,
    reward_id: int | None,
    values: dict[str, Any],
    actor_id: int,
    ip: str | None,
) -> Reward:
    if reward_id is None:
        reward = Reward(**values, created_at=utcnow())
        session.add(reward)
    else:
        found = await session.get(Reward, reward_id, with_for_update=True)
        if found is None:
            raise NotFoundException()
        reward = found
        for name, value in values.items():
            setattr(reward, name, value)
    await session.flush()
    await audit(
        session,
        actor_id=actor_id,
        action="reward.create" if reward_id is None else "reward.update",
        object_type="reward",
        object_id=reward.id,
        details={"cost": reward.cost, "active": reward.active},
        ip=ip,
    )
    return reward


async def use_voucher(
    session: AsyncSession, *, code: str, actor_id: int, ip: str | None
) -> Voucher:
    """Accept a voucher at the till; RedeemError says why not."""
    voucher = await rewards.use(session, code=code, staff_id=actor_id)
    await audit(
        session,
        actor_id=actor_id,
        action="voucher.use",
        object_type="voucher",
        object_id=voucher.id,
        details={"code": voucher.code},
        ip=ip,
    )
    return voucher


async def record_purchase(
    session: AsyncSession,
    *,
    phone: str,
    amount: int,
    categories: list[str],
    receipt: str,
    actor_id: int,
    settings: Settings,
    ip: str | None,
) -> purchases.Recorded:
    recorded = await purchases.record_purchase(
        session,
        phone=phone,
        amount=amount,
        categories=categories,
        receipt_number=receipt,
        recorded_by=f"staff:{actor_id}",
        tz=settings.timezone,
        language=settings.default_language,
    )
    if not recorded.duplicate:
        purchase = recorded.purchase
        await audit(
            session,
            actor_id=actor_id,
            action="purchase.record",
            object_type="purchase",
            object_id=purchase.id,
            details={
                "receipt": purchase.receipt_number,
                "amount": amount,
                "points": purchase.points,
            },
            ip=ip,
        )
    return recorded


async def record_refund(
    session: AsyncSession,
    *,
    purchase_id: int,
    amount: int,
    key: str,
    actor_id: int,
    ip: str | None,
) -> Refund:
    """A return; the same form sent twice records it once."""
    key = f"admin-refund:{purchase_id}:{key}"
    existing = await session.scalar(select(Refund).where(Refund.key == key))
    if existing is not None:
        return existing
    if await session.get(Purchase, purchase_id) is None:
        raise NotFoundException()
    refund = await purchases.record_refund(
        session,
        purchase_id=purchase_id,
        amount=amount,
        key=key,
        recorded_by=f"staff:{actor_id}",
    )
    await audit(
        session,
        actor_id=actor_id,
        action="purchase.refund",
        object_type="purchase",
        object_id=purchase_id,
        details={"amount": amount, "points": refund.points},
        ip=ip,
    )
    return refund


async def adjust_points(
    session: AsyncSession,
    *,
    customer_id: int,
    points: int,
    reason: str,
    key: str,
    actor_id: int,
    tz: str,
    ip: str | None,
) -> JournalEntry:
    """Give (positive) or take (negative) points by hand, with the reason, audited.
    The same form sent twice changes the wallet once."""
    key = f"adjust:{customer_id}:{key}"
    existing = await session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    if existing is not None:
        return existing
    common: dict[str, Any] = {
        "customer_id": customer_id,
        "key": key,
        "cause": ledger.Cause("staff", actor_id),
        "kind": "adjust",
        "memo": reason[:200],
        "created_by": f"staff:{actor_id}",
    }
    if points > 0:
        programme = await get_programme(session)
        entry = await ledger.earn(
            session, points=points, expires_at=expiry_for(utcnow(), programme, tz), **common
        )
    else:
        try:
            entry = await ledger.spend(session, points=-points, **common)
        except ledger.InsufficientPoints:
            raise FormError(
                N_("The member does not have %(points)s points available to take."),
                points=-points,
            ) from None
    await audit(
        session,
        actor_id=actor_id,
        action="points.adjust",
        object_type="customer",
        object_id=customer_id,
        details={"points": points, "reason": reason},
        ip=ip,
    )
    return entry


# --- reads for the pages ----------------------------------------------------------------


def labels_context() -> dict[str, Any]:
    language = current_language.get()
    return {
        "rule_kind_labels": RULE_KIND_LABELS,
        "entry_kind_labels": ENTRY_KIND_LABELS,
        "voucher_status_labels": VOUCHER_STATUS_LABELS,
        "expire_at_labels": EXPIRE_AT_LABELS,
        "return_policy_labels": RETURN_POLICY_LABELS,
        "tier_window_labels": TIER_WINDOW_LABELS,
        "cause_labels": CAUSE_LABELS,
        "name_fields": NAME_FIELDS,
        "title_fields": TITLE_FIELDS,
        "description_fields": DESCRIPTION_FIELDS,
        "tier_name": lambda tier: tiers.tier_name(tier, language),
        "reward_title": lambda reward: rewards.title(reward, language),
        "new_key": new_key,
    }


# --- handlers ---------------------------------------------------------------------------


# A reward form with its picture: the picture's limit plus room for the fields.
UPLOAD_BODY_LIMIT = images.MAX_BYTES + 256 * 1024


def loyalty_handlers(settings: Settings) -> list[Any]:
    tz = settings.timezone

    def last_day(moment: datetime | None) -> date | None:
        """The last local day of a range stored as the start of the day after it."""
        return local_day(moment, tz) - timedelta(days=1) if moment else None

    def tier_values(tier: Tier) -> dict[str, str]:
        """A tier as its edit form shows it."""
        language = current_language.get()
        return {
            "rank": format_number(tier.rank, language),
            "threshold": format_number(tier.threshold, language),
            "earn_multiplier_percent": format_number(tier.earn_multiplier_percent, language),
            **{f"name_{code}": tier.name.get(code, "") for code in LANGUAGES},
        }

    def reward_values(reward: Reward) -> dict[str, str]:
        """A reward as its edit form shows it."""
        language = current_language.get()

        def number(value: int | None) -> str:
            return "" if value is None else format_number(value, language)

        until = last_day(reward.valid_until)
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

    def page(
        request: Request[StaffUser, Any, Any], template: str, status: int, **context: Any
    ) -> Template:
        role = request.user.role
        return Template(
            f"admin/loyalty/{template}",
            context={
                "staff": request.user,
                "can_manage": role in ("owner", "manager"),
                "can_serve": role in ("owner", "manager", "agent"),
                "last_day": last_day,
                **labels_context(),
                **context,
            },
            status_code=status,
        )

    def ip(request: Request[Any, Any, Any]) -> str:
        return sessions.client_ip(request, settings)

    # Programme settings --------------------------------------------------------------

    async def programme_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        programme = await get_programme(db)
        return page(
            request,
            "programme.html",
            status,
            programme=programme,
            error=error,
            form=form,
            saved=request.query_params.get("saved") == "1",
        )

    @get("/programme", guards=[setup_readers], include_in_schema=False)
    async def programme_view(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await programme_page(request, db)

    @post("/programme", guards=[managers], include_in_schema=False)
    async def programme_save(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            values = parse_programme(data)
        except FormError as exc:
            return await programme_page(request, db, exc.text(), 400, data)
        await save_programme(db, values=values, actor_id=request.user.id, ip=ip(request))
        return Redirect("/admin/programme?saved=1")

    # Earning rules ----------------------------------------------------------------------

    async def rules_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        rule_list = (await db.scalars(select(EarnRule).order_by(EarnRule.id.desc()))).all()
        return page(
            request,
            "rules.html",
            status,
            rules=rule_list,
            tiers=await tiers.all_tiers(db),
            kinds=RULE_KINDS,
            error=error,
            form=form or {"kind": "spend", "active": "on", "multiplier_percent": "100"},
            now=utcnow(),
        )

    @get("/rules", guards=[setup_readers], include_in_schema=False)
    async def rules_list(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await rules_page(request, db)

    @post("/rules", guards=[managers], include_in_schema=False)
    async def rule_create(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            values = parse_rule(data, await tiers.all_tiers(db), tz)
        except (FormError, purchases.PurchaseError) as exc:
            return await rules_page(request, db, error_text(exc), 400, data)
        await create_rule(db, values=values, actor_id=request.user.id, ip=ip(request))
        return Redirect("/admin/rules")

    @post("/rules/preview", guards=[managers], include_in_schema=False)
    async def rule_preview(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        """What the rule being written would give for a sample purchase (htmx)."""
        data = await form_data(request)
        tier_list = await tiers.all_tiers(db)
        try:
            values = parse_rule(data, tier_list, tz, draft=True)
            amount = required_int(
                data, "sample_amount", N_("Sample amount (Rials)"), minimum=1, maximum=MAX_RIALS
            )
            categories = parse_categories(data.get("sample_categories", ""))
            tier_id = parse_int(
                data, "sample_tier", N_("Sample tier"), minimum=1, maximum=2**62, required=False
            )
        except (FormError, purchases.PurchaseError) as exc:
            return Template(
                "admin/loyalty/_preview.html", context={"error": error_text(exc)}, status_code=400
            )
        tier = next((t for t in tier_list if t.id == tier_id), None)
        draft = EarnRule(**values, budget_used=0)  # never added to the session
        now = utcnow()
        if draft.starts_at is not None and draft.starts_at > now:
            now = draft.starts_at  # preview as on its first day
        if draft.kind == "spend":
            lines = rules.preview([draft], amount=amount, categories=categories, tier=tier, now=now)
            points = lines[0].points if lines else None
        else:
            points = draft.points if rules.applies(draft, draft.kind, now) else None
        return Template(
            "admin/loyalty/_preview.html",
            context={
                "points": points,
                "rule": draft,
                "amount": amount,
                "spend": draft.kind == "spend",
            },
            status_code=200,
        )

    @post("/rules/{rule_id:int}/active", guards=[managers], include_in_schema=False)
    async def rule_active(
        request: Request[StaffUser, Any, Any], db: DB, rule_id: PathId
    ) -> Response[Any]:
        data = await form_data(request)
        await set_rule_active(
            db,
            rule_id=rule_id,
            active=data.get("active") == "on",
            actor_id=request.user.id,
            ip=ip(request),
        )
        return Redirect("/admin/rules")

    # Tiers ------------------------------------------------------------------------------

    async def tiers_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        return page(
            request,
            "tiers.html",
            status,
            tiers=await tiers.all_tiers(db),
            error=error,
            form=form or {"earn_multiplier_percent": "100"},
            tier_values=tier_values,
        )

    @get("/tiers", guards=[setup_readers], include_in_schema=False)
    async def tiers_list(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await tiers_page(request, db)

    async def _save_tier(
        request: Request[StaffUser, Any, Any], db: DB, tier_id: int | None
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            values = parse_tier(data, settings.default_language)
            await save_tier(
                db, tier_id=tier_id, values=values, actor_id=request.user.id, ip=ip(request)
            )
        except FormError as exc:
            await db.rollback()
            return await tiers_page(request, db, exc.text(), 400, data if tier_id is None else None)
        return Redirect("/admin/tiers")

    @post("/tiers", guards=[managers], include_in_schema=False)
    async def tier_create(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        return await _save_tier(request, db, None)

    @post("/tiers/{tier_id:int}", guards=[managers], include_in_schema=False)
    async def tier_update(
        request: Request[StaffUser, Any, Any], db: DB, tier_id: PathId
    ) -> Response[Any]:
        return await _save_tier(request, db, tier_id)

    # Rewards ----------------------------------------------------------------------------

    async def rewards_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        reward_list = (await db.scalars(select(Reward).order_by(Reward.id.desc()))).all()
        return page(
            request,
            "rewards.html",
            status,
            rewards=reward_list,
            tiers=await tiers.all_tiers(db),
            error=error,
            form=form or {"voucher_days": "30", "active": "on"},
            reward_values=reward_values,
        )

    @get("/rewards", guards=[setup_readers], include_in_schema=False)
    async def rewards_list(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await rewards_page(request, db)

    async def _save_reward(
        request: Request[StaffUser, Any, Any], db: DB, reward_id: int | None
    ) -> Response[Any]:
        data = await form_data(request)
        ranks = {t.rank for t in await tiers.all_tiers(db)}
        try:
            values = parse_reward(data, settings.default_language, ranks, tz)
            upload = await form_upload(request, "image", images.MAX_BYTES)
            if upload is not None:
                values["image"] = images.save(upload)
        except (FormError, images.ImageError) as exc:
            message = exc.text() if isinstance(exc, FormError) else gettext(exc.args[0])
            return await rewards_page(
                request, db, message, 400, data if reward_id is None else None
            )
        await save_reward(
            db, reward_id=reward_id, values=values, actor_id=request.user.id, ip=ip(request)
        )
        return Redirect("/admin/rewards")

    @post(
        "/rewards",
        guards=[managers],
        include_in_schema=False,
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def reward_create(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        return await _save_reward(request, db, None)

    @post(
        "/rewards/{reward_id:int}",
        guards=[managers],
        include_in_schema=False,
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def reward_update(
        request: Request[StaffUser, Any, Any], db: DB, reward_id: PathId
    ) -> Response[Any]:
        return await _save_reward(request, db, reward_id)

    # Vouchers ---------------------------------------------------------------------------

    async def vouchers_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        code: str = "",
    ) -> Template:
        number = query_page(request)
        rows = (
            await db.execute(
                select(Voucher, Reward, Customer.phone)
                .join(Reward, Reward.id == Voucher.reward_id)
                .join(Customer, Customer.id == Voucher.customer_id)
                .order_by(Voucher.id.desc())
                .offset((number - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
            )
        ).all()
        used = None
        used_id = query_id(request, "used")
        if used_id is not None and error is None:
            used = (
                await db.execute(
                    select(Voucher, Reward, Customer.phone)
                    .join(Reward, Reward.id == Voucher.reward_id)
                    .join(Customer, Customer.id == Voucher.customer_id)
                    .where(Voucher.id == used_id, Voucher.status == "used")
                )
            ).first()
        return page(
            request,
            "vouchers.html",
            status,
            vouchers=rows[:PAGE_SIZE],
            page=number,
            has_next=len(rows) > PAGE_SIZE,
            error=error,
            code=code[:40],
            used=used,
        )

    @get("/vouchers", guards=[readers], include_in_schema=False)
    async def vouchers_list(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await vouchers_page(request, db)

    @post("/vouchers/use", guards=[counter_staff], include_in_schema=False)
    async def voucher_use(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        code = (await form_data(request)).get("code", "")
        try:
            voucher = await use_voucher(db, code=code, actor_id=request.user.id, ip=ip(request))
        except rewards.RedeemError as exc:
            await db.rollback()
            return await vouchers_page(request, db, gettext(exc.args[0]), 400, code)
        return Redirect(f"/admin/vouchers?used={voucher.id}")

    # Purchases and returns --------------------------------------------------------------

    async def purchases_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        number = query_page(request)
        rows = (
            await db.execute(
                select(Purchase, Customer.phone)
                .join(Customer, Customer.id == Purchase.customer_id)
                .order_by(Purchase.id.desc())
                .offset((number - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1)
            )
        ).all()
        notice: dict[str, Any] = {}
        if error is None:
            for name in ("recorded", "duplicate"):
                found_id = query_id(request, name)
                if found_id is not None:
                    found = (
                        await db.execute(
                            select(Purchase, Customer.phone)
                            .join(Customer, Customer.id == Purchase.customer_id)
                            .where(Purchase.id == found_id)
                        )
                    ).first()
                    notice[name] = found
            refund_id = query_id(request, "refund")
            if refund_id is not None:
                notice["refund"] = await db.get(Refund, refund_id)
        return page(
            request,
            "purchases.html",
            status,
            purchases=rows[:PAGE_SIZE],
            page=number,
            has_next=len(rows) > PAGE_SIZE,
            error=error,
            form=form or {},
            notice=notice,
        )

    @get("/purchases", guards=[readers], include_in_schema=False)
    async def purchases_list(request: Request[StaffUser, Any, Any], db: DB) -> Template:
        return await purchases_page(request, db)

    @post("/purchases", guards=[counter_staff], include_in_schema=False)
    async def purchase_record(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        data = await form_data(request)
        try:
            phone = normalize_phone(data.get("phone", ""))
        except InvalidPhone:
            return await purchases_page(
                request,
                db,
                gettext(N_("Please enter a valid mobile number, for example 0912 345 6789.")),
                400,
                data,
            )
        try:
            amount = required_int(
                data, "amount", N_("Amount (Rials)"), minimum=1, maximum=MAX_RIALS
            )
            recorded = await record_purchase(
                db,
                phone=phone,
                amount=amount,
                categories=parse_categories(data.get("categories", "")),
                receipt=data.get("receipt", ""),
                actor_id=request.user.id,
                settings=settings,
                ip=ip(request),
            )
        except (FormError, purchases.PurchaseError) as exc:
            await db.rollback()  # the member may have been created before the refusal
            return await purchases_page(request, db, error_text(exc), 400, data)
        state = "duplicate" if recorded.duplicate else "recorded"
        return Redirect(f"/admin/purchases?{state}={recorded.purchase.id}")

    @post("/purchases/{purchase_id:int}/refund", guards=[counter_staff], include_in_schema=False)
    async def purchase_refund(
        request: Request[StaffUser, Any, Any], db: DB, purchase_id: PathId
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            amount = required_int(
                data, "amount", N_("Amount returned (Rials)"), minimum=1, maximum=MAX_RIALS
            )
            refund = await record_refund(
                db,
                purchase_id=purchase_id,
                amount=amount,
                key=parse_key(data),
                actor_id=request.user.id,
                ip=ip(request),
            )
        except (FormError, purchases.PurchaseError) as exc:
            await db.rollback()
            return await purchases_page(request, db, error_text(exc), 400)
        return Redirect(f"/admin/purchases?refund={refund.id}")

    # Members ----------------------------------------------------------------------------

    @get("/members", guards=[readers], include_in_schema=False)
    async def members_find(request: Request[StaffUser, Any, Any], db: DB) -> Response[Any]:
        raw = request.query_params.get("phone", "")[:40]
        error, status, not_found = None, 200, False
        if raw.strip():
            try:
                phone = normalize_phone(raw)
            except InvalidPhone:
                error = gettext(
                    N_("Please enter a valid mobile number, for example 0912 345 6789.")
                )
                status = 400
            else:
                customer_id = await db.scalar(select(Customer.id).where(Customer.phone == phone))
                if customer_id is not None:
                    return Redirect(f"/admin/members/{customer_id}")
                not_found = True
        recent = (await db.scalars(select(Customer).order_by(Customer.id.desc()).limit(20))).all()
        return page(
            request,
            "members.html",
            status,
            phone=raw,
            error=error,
            not_found=not_found,
            recent=recent,
        )

    async def member_page(
        request: Request[StaffUser, Any, Any],
        db: DB,
        customer_id: int,
        error: str | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Template:
        customer = await db.get(Customer, customer_id)
        if customer is None:
            raise NotFoundException()
        before = query_id(request, "before")
        history, more = await queries.history(db, customer_id, before_id=before, limit=HISTORY_SIZE)
        voucher_rows = (
            await db.execute(
                select(Voucher, Reward)
                .join(Reward, Reward.id == Voucher.reward_id)
                .where(Voucher.customer_id == customer_id)
                .order_by(Voucher.id.desc())
                .limit(HISTORY_SIZE)
            )
        ).all()
        return page(
            request,
            "member.html",
            status,
            customer=customer,
            summary=await queries.member_summary(db, customer_id),
            standing=await tiers.standing(db, customer_id),
            lots=await queries.lots(db, customer_id),
            history=history,
            more=more,
            before=before,
            vouchers=voucher_rows,
            error=error,
            form=form or {},
            adjusted=request.query_params.get("adjusted") == "1" and error is None,
        )

    @get("/members/{customer_id:int}", guards=[readers], include_in_schema=False)
    async def member_view(
        request: Request[StaffUser, Any, Any], db: DB, customer_id: PathId
    ) -> Template:
        return await member_page(request, db, customer_id)

    @post("/members/{customer_id:int}/adjust", guards=[managers], include_in_schema=False)
    async def member_adjust(
        request: Request[StaffUser, Any, Any], db: DB, customer_id: PathId
    ) -> Response[Any]:
        if await db.get(Customer, customer_id) is None:
            raise NotFoundException()
        data = await form_data(request)
        try:
            points = required_int(
                data, "points", N_("Points"), minimum=-MAX_POINTS, maximum=MAX_POINTS
            )
            if points == 0:
                raise FormError(
                    N_("Points: enter a positive number to give or a negative number to take.")
                )
            reason = parse_text(data, "reason", N_("Reason"), limit=200)
            if not reason:
                raise FormError(N_("Please write the reason for this change."))
            await adjust_points(
                db,
                customer_id=customer_id,
                points=points,
                reason=reason,
                key=parse_key(data),
                actor_id=request.user.id,
                tz=tz,
                ip=ip(request),
            )
        except FormError as exc:
            await db.rollback()  # accounts may have been opened before the refusal
            return await member_page(request, db, customer_id, exc.text(), 400, data)
        return Redirect(f"/admin/members/{customer_id}?adjusted=1")

    return [
        programme_view,
        programme_save,
        rules_list,
        rule_create,
        rule_preview,
        rule_active,
        tiers_list,
        tier_create,
        tier_update,
        rewards_list,
        reward_create,
        reward_update,
        vouchers_list,
        voucher_use,
        purchases_list,
        purchase_record,
        purchase_refund,
        members_find,
        member_view,
        member_adjust,
    ]
