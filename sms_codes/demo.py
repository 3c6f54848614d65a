"""A line with the codes a café would start with: its card (100), joining the club
(«عضویت»), the points balance («امتیاز») and a coupon from a pool of 50 («تخفیف»)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from sms_codes import services
from sms_codes.models import CodeAction
from vafa.actor import Actor
from vafa.domain import DemoContext

DEMO_LINE = "10001000"
CODES = (
    (
        "کارت ویزیت",
        CodeAction.CARD,
        ["100"],
        {
            "fa": "کافه وفا\nخیابان ولیعصر، بالاتر از پارک ساعی\nهر روز ۸ تا ۲۳\n۰۲۱-۸۸۰۰۰۰۰۰",
            "en": "Cafe Vafa\nValiasr St, above Saei Park\nDaily 8:00-23:00\n021-88000000",
            "hy": "Վաֆա սրճարան\nՎալիասր փողոց\nԱմեն օր 8:00-23:00",
        },
        False,
        None,
    ),
    (
        "عضویت در باشگاه",
        CodeAction.JOIN,
        ["عضویت", "join"],
        {
            "fa": "به باشگاه کافه وفا خوش آمدید! امتیاز شما: {balance}. امتیازها: {link}",
            "en": "Welcome to the Cafe Vafa club! Your points: {balance}. See them: {link}",
            "hy": "Բարի գալուստ Վաֆա ակումբ։ Ձեր միավորները՝ {balance}։ {link}",
        },
        False,
        None,
    ),
    (
        "مانده امتیاز",
        CodeAction.BALANCE,
        ["امتیاز", "points"],
        {
            "fa": "{name} عزیز، امتیاز شما {balance} است. سطح: {tier}",
            "en": "Dear {name}, you have {balance} points. Tier: {tier}",
            "hy": "Հարգելի {name}, դուք ունեք {balance} միավոր։ Մակարդակ՝ {tier}",
        },
        False,
        None,
    ),
    (
        "تخفیف پاییزه",
        CodeAction.COUPON,
        ["تخفیف", "off"],
        {
            "fa": "کد تخفیف ۲۰٪ شما: {coupon}\nتا پایان آذر در کافه وفا",
            "en": "Your 20% off code: {coupon}\nAt Cafe Vafa until the end of the month",
            "hy": "Ձեր 20% զեղչի կոդը՝ {coupon}",
        },
        True,
        50,
    ),
)


async def seed(session: AsyncSession, demo: DemoContext) -> None:
    actor = Actor.system("demo")
    line = await services.create_line(
        session,
        actor=actor,
        number=demo.settings.kavenegar_sender or DEMO_LINE,
        values={
            "name": "خط کافه",
            "unknown_reply": {
                "fa": "این کد را نشناختیم. ۱۰۰: کارت ویزیت، عضویت: عضویت در باشگاه، امتیاز: مانده امتیاز",
                "en": "We did not recognise that. 100: our card, join: join the club, points: your points",
            },
            "repeat_reply": {
                "fa": "این کد را قبلاً فرستاده‌اید. کد شما: {coupon}",
                "en": "You sent this code before. Your code: {coupon}",
            },
            "invite_reply": {
                "fa": "هنوز عضو باشگاه نیستید. برای عضویت «عضویت» را بفرستید.",
                "en": "You are not a member yet. Send «join» to join the club.",
            },
        },
    )
    for name, action, keywords, replies, marketing, pool in CODES:
        await services.save_code(
            session,
            actor=actor,
            line_id=line.id,
            code_id=None,
            name=name,
            action=action,
            keywords=keywords,
            replies=replies,
            marketing=marketing,
            coupon_pool=pool,
        )
