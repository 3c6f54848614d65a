"""The customer's own record in the portal: the profile."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from customers import forms, services
from customers.models import Customer
from vafa.database import DB
from vafa.errors import UserError
from vafa.web.actors import customer_actor
from vafa.web.deps import AppSettings
from vafa.web.forms import form_data
from vafa.web.middleware import language_cookie


def profile_page(
    customer: Customer,
    error: UserError | None = None,
    saved: bool = False,
    form: dict[str, str] | None = None,
) -> Template:
    return Template(
        "customers/profile.html",
        context={
            "customer": customer,
            "error": error.text() if error else None,
            "saved": saved,
            "form": form or {},
        },
        status_code=error.status if error else 200,
    )


class ProfileController(Controller):
    path = "/profile"
    include_in_schema = False

    @get("/")
    async def view(self, request: Request[Customer, Any, Any]) -> Template:
        return profile_page(request.user, saved=request.query_params.get("saved") == "1")

    @post("/")
    async def save(
        self, request: Request[Customer, Any, Any], db: DB, settings: AppSettings
    ) -> Response[Any]:
        data = await form_data(request)
        try:
            profile = forms.parse_profile(data)
            customer = await services.update_profile(
                db,
                actor=customer_actor(request),
                customer_id=request.user.id,
                name=profile.name,
                birthday=profile.birthday,
                language=profile.language,
                marketing_consent=profile.marketing_consent,
                source="portal",
            )
        except UserError as error:
            return profile_page(request.user, error, form=data)
        response = Redirect("/profile?saved=1")
        response.set_cookie(language_cookie(customer.language, settings))
        return response
