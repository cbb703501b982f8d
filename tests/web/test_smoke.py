from unittest import mock

from tests.conftest import make_app


def test_login_then_home(browser):
    browser.login("coordination")
    response = browser.get("/")
    assert response.status_code == 200
    assert "Nadia Benali" in response.get_data(as_text=True)


def test_templates_compiled_by_one_process_are_loaded_by_the_next(
    connection, database_url, tmp_path
):
    """TERRAIN_TEMPLATE_CACHE: a template compiled by one app (process) is kept there; the
    next app loads it instead of compiling it again."""
    compiled = tmp_path / "compiled"
    first = make_app(connection, database_url, tmp_path, TERRAIN_TEMPLATE_CACHE=str(compiled))
    source = first.jinja_env.get_template("auth/login.html")
    assert list(compiled.iterdir())
    second = make_app(connection, database_url, tmp_path, TERRAIN_TEMPLATE_CACHE=str(compiled))
    never = mock.Mock(side_effect=AssertionError("compiled again"))
    with mock.patch.object(second.jinja_env, "compile", never):
        loaded = second.jinja_env.get_template("auth/login.html")
    assert loaded.name == source.name and loaded.filename == source.filename
    assert loaded.blocks.keys() == source.blocks.keys()
