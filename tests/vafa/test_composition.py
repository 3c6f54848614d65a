"""Adding a domain is its package plus one line in the composition root: a domain
declared only here gets its page, menu entry, job, command, event subscriber and
timeline items in the app, the worker and the CLI, with no other edit."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click
from click.testing import CliRunner
from litestar import Controller, get
from litestar.response import Template
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from customers.events import MemberJoined
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import login_customer
from vafa.domain import Composition, Domain, Job, NavEntry, TimelineItem
from vafa.events import Subscription
from vafa.permissions import Permission, requires
from vafa.server import load
from vafa.server.app import create_app
from vafa.server.cli import build
from vafa.settings import Settings
from vafa.worker import run_worker

RAN: list[str] = []
JOINED: list[int] = []


class ExtraController(Controller):
    path = "/extra"
    include_in_schema = False

    @get("/", guards=[requires(Permission.CUSTOMERS_READ)])
    async def page(self) -> Template:
        return Template(template_str="<p>extra domain page</p>")


async def extra_job(session: AsyncSession, settings: Settings) -> int:
    RAN.append("job")
    return 1


@click.command("extra")
def extra_command() -> None:
    """The extra domain's command."""
    click.echo("extra command ran")


async def on_joined(session: AsyncSession, event: MemberJoined, settings: Settings) -> None:
    JOINED.append(event.customer_id)


async def extra_timeline(
    session: AsyncSession, customer_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    return [TimelineItem(datetime.fromisoformat("2030-01-01T00:00:00+00:00"), "extra", "Extra")]


EXTRA = Domain(
    name="extra",
    admin=(ExtraController,),
    admin_nav=(NavEntry("/admin/extra", "Extra things", Permission.CUSTOMERS_READ, 50),),
    jobs=(Job("extra.job", extra_job),),
    commands=(extra_command,),
    subscriptions=(Subscription(MemberJoined, on_joined),),
    timeline=extra_timeline,
)


def with_extra() -> Composition:
    return Composition([*load(), EXTRA])


async def test_an_extra_domain_gets_its_page_nav_subscriber_and_timeline(settings, sessionmaker):
    app = create_app(settings, composition=with_extra())
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await make_staff(sessionmaker, "agent", "agent")
        assert (await staff_login(client, "agent")).status_code == 302
        page = await client.get("/admin/extra")
        assert page.status_code == 200 and "extra domain page" in page.text
        home = await client.get("/admin/")
        assert 'href="/admin/extra"' in home.text and "Extra things" in home.text
        JOINED.clear()
        await login_customer(client, sessionmaker)  # a new member: MemberJoined
        assert len(JOINED) == 1
        record = await client.get(f"/admin/customers/{JOINED[0]}")
        assert record.status_code == 200 and 'data-kind="extra"' in record.text
    # Without the declaration, none of it exists.
    plain = create_app(settings)
    async with AsyncTestClient(app=plain, base_url="http://testserver.local") as client:
        assert (await staff_login(client, "agent")).status_code == 302
        assert (await client.get("/admin/extra")).status_code == 404
        assert 'href="/admin/extra"' not in (await client.get("/admin/")).text


async def test_an_extra_domain_gets_its_job_in_the_worker(settings, engine):
    from vafa.database import make_sessionmaker

    composition = with_extra()
    maker = make_sessionmaker(engine, bus=composition.event_bus(settings))
    stop = asyncio.Event()
    RAN.clear()
    task = asyncio.create_task(run_worker(settings, maker, stop, composition.jobs))
    for _ in range(100):
        if RAN:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert RAN == ["job"]
    assert [job.name for job in composition.jobs][-1] == "extra.job"


def test_an_extra_domain_gets_its_command():
    runner = CliRunner()
    result = runner.invoke(build(with_extra()), ["extra"])
    assert result.exit_code == 0 and "extra command ran" in result.output
    assert "extra" in runner.invoke(build(with_extra()), ["--help"]).output
    assert runner.invoke(build(Composition(load())), ["extra"]).exit_code != 0
