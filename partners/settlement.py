"""Settlement: what each partner and the club owe each other for a period.

Points come from the ledger and nothing else: earned there is what the partner's
account issued (`earn` entries debiting it), less what returns gave back to it
(`reverse` entries crediting it); redeemed there is what members spent into it
(`redeem` entries crediting it), less redemptions given back (`reverse` entries
debiting it). So a statement's points equal the sum of the account's entries in the
period, to the point. Money: points earned times the partner's earn rate (the
partner pays), points redeemed times its redeem rate (the club pays), and a
commission on the period's net sales to members there (the partner pays).

Periods are the club's months (Solar Hijri in Iran) by default, or any days. Closing
a period stores its figures and the terms they were worked out at; a closed period
shows what was stored, whatever happens to the partner's terms afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import EntryKind, JournalEntry, Purchase, Refund
from partners.models import Partner, Statement
from vafa import audit
from vafa.actor import Actor
from vafa.calendar import end_of_range, local_day, start_of_day
from vafa.database import utcnow
from vafa.errors import UserError
from vafa.i18n import N_

BASIS = 10_000  # commission is kept in basis points


@dataclass(frozen=True)
class Figures:
    earned: int  # points earned at the partner, net of returns
    earned_gross: int
    earn_returned: int
    redeemed: int  # points spent there, net of redemptions given back
    redeemed_gross: int
    redeem_returned: int
    sales: int  # Rials of members' purchases there, net of returns
    earn_rate: int  # Rials per point, as agreed for this period
    redeem_rate: int
    commission_bp: int
    earn_value: int  # the partner owes: earned × earn rate
    commission: int  # the partner owes: sales × commission
    redeem_value: int  # the club owes: redeemed × redeem rate
    net: int  # > 0: the partner pays the club; < 0: the club pays the partner

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Line:
    """One partner's statement for a period."""

    partner: Partner
    first_day: date
    last_day: date
    figures: Figures
    closed: Statement | None  # the stored statement, if the period is closed


Totals = dict[tuple[int, str], int]  # (account, kind) -> points


async def _points(
    session: AsyncSession, accounts: list[int], since: datetime, until: datetime
) -> tuple[Totals, Totals]:
    """The accounts' points in the period by kind: what each issued (debits: earn, a
    redemption given back) and what each received (credits: redeem, a return)."""
    in_period = and_(JournalEntry.created_at >= since, JournalEntry.created_at < until)
    totals: list[Totals] = []
    for side, kinds in (
        (JournalEntry.debit_account_id, (EntryKind.EARN, EntryKind.REVERSE)),
        (JournalEntry.credit_account_id, (EntryKind.REDEEM, EntryKind.REVERSE)),
    ):
        rows = await session.execute(
            select(side, JournalEntry.kind, func.sum(JournalEntry.amount))
            .where(side.in_(accounts), JournalEntry.kind.in_(kinds), in_period)
            .group_by(side, JournalEntry.kind)
        )
        totals.append({(account, kind): int(total) for account, kind, total in rows.all()})
    return totals[0], totals[1]


async def _sales(
    session: AsyncSession, accounts: list[int], since: datetime, until: datetime
) -> dict[int, int]:
    """Rials of members' purchases at each account's partner in the period, less the
    returns made in it."""
    bought = await session.execute(
        select(Purchase.issuer_account_id, func.sum(Purchase.amount))
        .where(
            Purchase.issuer_account_id.in_(accounts),
            Purchase.created_at >= since,
            Purchase.created_at < until,
        )
        .group_by(Purchase.issuer_account_id)
    )
    returned = await session.execute(
        select(Purchase.issuer_account_id, func.sum(Refund.amount))
        .join(Purchase, Purchase.id == Refund.purchase_id)
        .where(
            Purchase.issuer_account_id.in_(accounts),
            Refund.created_at >= since,
            Refund.created_at < until,
        )
        .group_by(Purchase.issuer_account_id)
    )
    sales = {account: int(total) for account, total in bought.all()}
    for account, total in returned.all():
        sales[account] = sales.get(account, 0) - int(total)
    return sales


def _worked_out(partner: Partner, issued: Totals, received: Totals, sales: int) -> Figures:
    """The figures at the partner's terms now."""
    account = partner.account_id
    earned = issued.get((account, EntryKind.EARN), 0)
    earn_back = received.get((account, EntryKind.REVERSE), 0)
    redeemed = received.get((account, EntryKind.REDEEM), 0)
    redeem_back = issued.get((account, EntryKind.REVERSE), 0)
    net_earned, net_redeemed = earned - earn_back, redeemed - redeem_back
    earn_value = net_earned * partner.earn_rials_per_point
    redeem_value = net_redeemed * partner.redeem_rials_per_point
    # Half a Rial and up rounds away from zero.
    commission = (abs(sales) * partner.commission_bp * 2 + BASIS) // (2 * BASIS)
    commission = commission if sales >= 0 else -commission
    return Figures(
        earned=net_earned,
        earned_gross=earned,
        earn_returned=earn_back,
        redeemed=net_redeemed,
        redeemed_gross=redeemed,
        redeem_returned=redeem_back,
        sales=sales,
        earn_rate=partner.earn_rials_per_point,
        redeem_rate=partner.redeem_rials_per_point,
        commission_bp=partner.commission_bp,
        earn_value=earn_value,
        commission=commission,
        redeem_value=redeem_value,
        net=earn_value + commission - redeem_value,
    )


async def _figures_of(
    session: AsyncSession, partners: Sequence[Partner], first_day: date, last_day: date, tz: str
) -> dict[int, Figures]:
    """Every partner's figures for the period, in four queries however many there are."""
    if not partners:
        return {}
    since, until = start_of_day(first_day, tz), end_of_range(last_day, tz)
    accounts = [p.account_id for p in partners]
    issued, received = await _points(session, accounts, since, until)
    sales = await _sales(session, accounts, since, until)
    return {
        p.id: _worked_out(p, issued, received, sales.get(p.account_id, 0)) for p in partners
    }


async def figures(
    session: AsyncSession, partner: Partner, first_day: date, last_day: date, tz: str
) -> Figures:
    """The period's figures as the ledger has them now, at the partner's terms now."""
    return (await _figures_of(session, [partner], first_day, last_day, tz))[partner.id]


def _check_period(first_day: date, last_day: date) -> None:
    if last_day < first_day:
        raise UserError(N_("The last day cannot be before the first day."))
    if (last_day - first_day).days > 366:
        raise UserError(N_("A period can be at most a year."))


async def statements(
    session: AsyncSession,
    first_day: date,
    last_day: date,
    tz: str,
    *,
    partner_id: int | None = None,
) -> list[Line]:
    """Every partner's statement for the period (not the home partner: the club does
    not settle with itself): the stored one where the period was closed."""
    _check_period(first_day, last_day)
    query = select(Partner).where(Partner.home.is_(False)).order_by(Partner.id)
    if partner_id is not None:
        query = query.where(Partner.id == partner_id)
    partners = (await session.scalars(query)).all()
    closed = {
        s.partner_id: s
        for s in (
            await session.scalars(
                select(Statement).where(
                    Statement.first_day == first_day, Statement.last_day == last_day
                )
            )
        ).all()
    }
    live = await _figures_of(
        session, [p for p in partners if p.id not in closed], first_day, last_day, tz
    )
    lines = []
    for partner in partners:
        stored = closed.get(partner.id)
        found = (
            # Figures named since the statement was closed read as 0.
            Figures(**{name: stored.figures.get(name, 0) for name in Figures.__dataclass_fields__})
            if stored is not None
            else live[partner.id]
        )
        lines.append(Line(partner, first_day, last_day, found, stored))
    return lines


async def close(
    session: AsyncSession, *, actor: Actor, partner_id: int, first_day: date, last_day: date, tz: str
) -> Statement:
    """Freeze a period that has ended. Closed periods of one partner never overlap."""
    _check_period(first_day, last_day)
    if last_day >= local_day(utcnow(), tz):
        raise UserError(
            N_("A period can be closed once its last day is over."), status=409, code="period_open"
        )
    partner = await session.get(Partner, partner_id)
    if partner is None or partner.home:
        raise UserError(N_("This partner does not exist."), status=404, code="not_found")
    overlapping = await session.scalar(
        select(Statement.id).where(
            Statement.partner_id == partner.id,
            Statement.first_day <= last_day,
            Statement.last_day >= first_day,
        )
    )
    if overlapping is not None:
        raise UserError(
            N_("Part of this period is already closed."), status=409, code="period_closed"
        )
    found = await figures(session, partner, first_day, last_day, tz)
    statement = Statement(
        partner_id=partner.id,
        first_day=first_day,
        last_day=last_day,
        figures=found.as_dict(),
        closed_by=actor.label,
        closed_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(statement)
    except IntegrityError:
        raise UserError(
            N_("Part of this period is already closed."), status=409, code="period_closed"
        ) from None
    await audit.record(
        session,
        actor=actor,
        action="partner.settle",
        object_type="partner",
        object_id=partner.id,
        details={
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "amount": found.net,
        },
    )
    return statement
