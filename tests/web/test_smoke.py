def test_login_then_home(browser):
    browser.login("coordination")
    response = browser.get("/")
    assert response.status_code == 200
    assert "Nadia Benali" in response.get_data(as_text=True)
