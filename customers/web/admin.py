"""Staff pages for customer records: search, and the record with its one timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from customers import queries, services
from vafa.database import DB
from vafa.errors import UserError
from vafa.permissions import Permission, requires
from vafa.web.actors import staff_actor
from vafa.web.forms import PathId, form_data, query_page

Staff = Request[Any, Any, Any]  # request.user is the logged-in StaffUser


def _before(request: Staff) -> datetime | None:
    raw = request.query_params.get("before", "")[:40]
    try:
        moment = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


class CustomersController(Controller):
    path = "/customers"
    include_in_schema = False
    guards = [requires(Permission.CUSTOMERS_READ)]

    @get("/")
    async def search(self, request: Staff, db: DB) -> Template:
        text = request.query_params.get("q", "")[:60]
        found = await queries.search(db, text, page=query_page(request))
        return Template(
            "customers/list.html",
            context={
                "staff": request.user,
                "q": text,
                "customers": found.customers,
                "page": query_page(request),
                "has_next": found.has_next,
            },
        )

    async def show(
        self, request: Staff, db: DB, customer_id: int, error: UserError | None = None
    ) -> Template:
        customer = await queries.customer(db, customer_id)
        timeline = await queries.timeline(
            db, customer_id, request.app.state.composition.timeline, before=_before(request)
        )
        template = (
            "customers/_timeline.html"
            if request.headers.get("hx-request") == "true" and error is None
            else "customers/customer.html"
        )
        return Template(
            template,
            context={
                "staff": request.user,
                "customer": customer,
                "timeline": timeline,
                "error": error.text() if error else None,
                "noted": request.query_params.get("noted") == "1",
            },
            status_code=error.status if error else 200,
        )

    @get("/{customer_id:int}")
    async def view(self, request: Staff, db: DB, customer_id: PathId) -> Template:
        return await self.show(request, db, customer_id)

    @post("/{customer_id:int}/notes", guards=[requires(Permission.CUSTOMERS_NOTE)])
    async def note(self, request: Staff, db: DB, customer_id: PathId) -> Response[Any]:
        data = await form_data(request)
        try:
            await services.add_note(
                db, actor=staff_actor(request), customer_id=customer_id, body=data.get("body", "")
            )
        except UserError as error:
            return await self.show(request, db, customer_id, error)
        return Redirect(f"/admin/customers/{customer_id}?noted=1")
