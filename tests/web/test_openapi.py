"""/api/openapi.json is assembled from declarations (web/openapi.py): every /api route and
every registered op type is in it, and a new one that declares nothing is caught."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify

from core import sync
from core.roles import ALL_ROLES, MATRIX
from tests.web.openapi_spec import Spec
from web import openapi
from web.openapi import Answer, Body, Schema, api_operation
from web.permissions import PUBLIC, decision


@pytest.fixture()
def document(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def test_every_api_route_declares_its_operation(app):
    assert openapi.undeclared(app) == []


def test_a_new_api_route_without_a_declaration_is_caught():
    app = Flask(__name__)

    @app.route("/api/declared")
    @api_operation("Declared", responses={200: Answer("Fine")})
    def declared():
        return jsonify({})

    @app.route("/api/forgotten", methods=["GET", "POST"])
    def forgotten():
        return jsonify({})

    assert openapi.undeclared(app) == ["GET POST /api/forgotten"]
    with app.app_context():
        paths = openapi.document(app, {"title": "t", "version": "0"})["paths"]
    assert list(paths) == ["/api/declared"]


def test_each_operation_lists_the_refusals_its_view_can_give(app, document):
    """Login, role and CSRF refusals come from the permission decorators and the CSRF
    check, not from the view: the declaration must not forget them."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        needed = decision(app, rule.endpoint)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][rule.rule][method.lower()]
            where = (method, rule.rule)
            if needed != PUBLIC:
                assert "401" in operation["responses"], where
                if MATRIX[needed] != ALL_ROLES:
                    assert "403" in operation["responses"], where
            if method != "GET":
                assert "400" in operation["responses"], where
                headers = [
                    p["name"] for p in operation.get("parameters", []) if p["in"] == "header"
                ]
                assert "X-CSRFToken" in headers, where


def test_every_registered_op_type_has_its_schema_and_example(document):
    schemas = document["components"]["schemas"]
    ops = schemas["SyncBatch"]["properties"]["ops"]["items"]["oneOf"]
    request = document["paths"]["/api/sync"]["post"]["requestBody"]["content"]
    examples = request["application/json"]["examples"]
    assert sync.op_types()
    for op_type in sync.op_types():
        name = "Op_" + op_type.name.replace(".", "_")
        assert {"$ref": f"#/components/schemas/{name}"} in ops, op_type.name
        assert schemas[name]["properties"]["type"] == {"const": op_type.name}
        assert schemas[name]["properties"]["data"] == op_type.data_schema
        (example,) = examples[op_type.name]["value"]["ops"]
        assert example["type"] == op_type.name
    assert len(ops) == len(examples) == len(sync.op_types())
    # The phone's clock at send time (docs/sync.md), optional.
    clock_field = schemas["SyncBatch"]["properties"]["client_time"]
    assert clock_field["format"] == "date-time"
    assert "client_time" not in schemas["SyncBatch"]["required"]


def test_every_feed_type_is_in_the_spec(document):
    changes = document["components"]["schemas"]["SyncChanges"]["properties"]["changes"]
    assert changes["items"]["properties"]["type"]["enum"] == [
        source.entity_type for source in sync.feed_sources()
    ]


def test_the_health_answer_matches_the_spec(client, document):
    Spec(document).check(client.get("/healthz"), "/healthz", "get")


def test_flask_path_arguments_become_openapi_parameters():
    app = Flask(__name__)

    @app.route("/api/things/<int:thing_id>/<name>")
    @api_operation("One thing", responses={200: Answer("It")})
    def thing(thing_id: int, name: str):
        return jsonify({})

    with app.app_context():
        paths = openapi.document(app, {"title": "t", "version": "0"})["paths"]
    assert list(paths) == ["/api/things/{thing_id}/{name}"]


def test_a_schema_name_means_one_schema():
    app = Flask(__name__)
    first = Schema("Thing", {"type": "object"})
    second = Schema("Thing", {"type": "array"})

    @app.route("/api/one")
    @api_operation("One", responses={200: Answer("A", first)})
    def one():
        return jsonify({})

    @app.route("/api/two")
    @api_operation("Two", responses={200: Answer("B", second)})
    def two():
        return jsonify({})

    with app.app_context(), pytest.raises(ValueError, match="Thing"):
        openapi.document(app, {"title": "t", "version": "0"})


def test_request_examples_are_plain_data():
    with pytest.raises(TypeError, match="plain data"):
        Body(Schema("Thing", {"type": "object"}), examples=lambda: {"read": "the database"})
