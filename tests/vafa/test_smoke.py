async def test_login_page_is_persian_rtl(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert '<html lang="fa" dir="rtl">' in response.text
