"""Reward pictures: accepted by content, stored under server-made names, served with
their type; anything else refused with a translated error and nothing stored."""

from __future__ import annotations

import os
import struct
import zlib

import pytest
from sqlalchemy import select

from loyalty import images
from loyalty.models import Reward
from tests.admin.test_staff import make_staff, staff_login
from tests.conftest import csrf_token
from vafa import audit
from vafa.errors import UserError


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


FIELDS = {
    "title_fa": "کیک",
    "title_en": "Cake",
    "cost": "۱۲۰",
    "voucher_days": "30",
    "active": "on",
}


@pytest.fixture(autouse=True)
def media_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MEDIA_DIR", tmp_path / "media")
    return tmp_path / "media"


async def upload(client, data: bytes, filename: str = "cake.png", content_type: str = "image/png"):
    token = await csrf_token(client)
    return await client.post(
        "/admin/rewards",
        data={**FIELDS, "_csrf_token": token},
        files={"image": (filename, data, content_type)},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )


async def test_png_is_stored_under_a_server_name_and_served_as_png(client, sessionmaker, media_dir):
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    response = await upload(client, tiny_png(), filename="../../etc/passwd.png")
    assert response.status_code == 302, response.text
    async with sessionmaker() as s:
        reward = await s.scalar(select(Reward))
    assert images.NAME.match(reward.image) and reward.image.endswith(".png")
    assert [p.name for p in media_dir.iterdir()] == [reward.image]
    served = await client.get(f"/media/rewards/{reward.image}")
    assert served.status_code == 200 and served.content == tiny_png()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"<svg onload=alert(1)></svg>", "x.png"),
        (b"GIF89a....", "x.gif"),
        (b"#!/bin/sh\nrm -rf /", "photo.jpg"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024), "big.png"),
    ],
)
async def test_anything_else_is_refused_and_nothing_is_kept(
    client, sessionmaker, media_dir, data, filename
):
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    response = await upload(client, data, filename=filename)
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert '<html lang="fa" dir="rtl">' in response.text
    async with sessionmaker() as s:
        assert await s.scalar(select(Reward)) is None
    assert not media_dir.exists() or list(media_dir.iterdir()) == []


async def test_an_oversized_body_is_refused_before_it_is_read(client, sessionmaker):
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    response = await upload(client, b"\x89PNG\r\n\x1a\n" + b"0" * (4 * 1024 * 1024))
    assert response.status_code == 413


@pytest.mark.parametrize("name", ["../secret_key", "x.png", "..%2F..%2Fvafa.db", "0" * 32 + ".svg"])
async def test_only_stored_names_are_served(client, name):
    assert (await client.get(f"/media/rewards/{name}")).status_code == 404


async def test_agent_cannot_upload(client, sessionmaker, media_dir):
    await make_staff(sessionmaker, "agent", "agent")
    await staff_login(client, "agent")
    assert (await upload(client, tiny_png())).status_code == 403
    assert not media_dir.exists()


async def test_a_refused_upload_leaves_no_file(client, sessionmaker, media_dir):
    await make_staff(sessionmaker, "boss", "manager")
    await staff_login(client, "boss")
    token = await csrf_token(client)
    response = await client.post(
        "/admin/rewards/999999",
        data={**FIELDS, "_csrf_token": token},
        files={"image": ("cake.png", tiny_png(), "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert not media_dir.exists() or list(media_dir.iterdir()) == []


async def test_a_picture_is_removed_when_its_transaction_fails(
    client, sessionmaker, media_dir, monkeypatch
):
    await make_staff(sessionmaker, "boss", "manager")
    await staff_login(client, "boss")

    async def refuse(*_args, **_kwargs):  # after the reward row is written
        raise UserError("no")

    monkeypatch.setattr(audit, "record", refuse)
    response = await upload(client, tiny_png())
    assert response.status_code == 400
    async with sessionmaker() as s:
        assert await s.scalar(select(Reward)) is None
    assert not media_dir.exists() or list(media_dir.iterdir()) == []


async def test_pictures_are_readable_by_the_server_only(client, sessionmaker, tmp_path, monkeypatch):
    media = tmp_path / "var" / "media" / "rewards"
    monkeypatch.setattr(images, "MEDIA_DIR", media)
    await make_staff(sessionmaker, "owner", "owner")
    await staff_login(client, "owner")
    old = os.umask(0o022)  # what most machines use: files readable by everyone
    try:
        assert (await upload(client, tiny_png())).status_code == 302
    finally:
        os.umask(old)
    for folder in (media.parent.parent, media.parent, media):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    [picture] = media.iterdir()
    assert picture.stat().st_mode & 0o777 == 0o600
    assert (await client.get(f"/media/rewards/{picture.name}")).content == tiny_png()
