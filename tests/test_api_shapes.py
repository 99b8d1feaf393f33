"""Every JSON route declares the shape it answers with, so OpenAPI documents it and FastAPI
checks each answer against it (schemathesis then holds the running app to it)."""

from papertide.web.app import create_app


def _declared(schema: dict) -> bool:
    """Whether SCHEMA names fields (a model), not just "some JSON object"."""
    if "$ref" in schema or "properties" in schema:
        return True
    if schema.get("type") == "array":
        return _declared(schema.get("items", {}))
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    return bool(options) and all(map(_declared, options))


def test_every_json_operation_documents_its_answer(db_url):
    paths = create_app(db_url).openapi()["paths"]
    operations = [
        (method, path, spec)
        for path, methods in paths.items()
        if path.startswith("/api/")
        for method, spec in methods.items()
    ]
    assert len(operations) >= 15
    undocumented = []
    for method, path, spec in operations:
        success = spec["responses"].get("200") or spec["responses"].get("201")  # 201: created
        if success is None:
            assert "204" in spec["responses"], (method, path)
            continue
        schema = success.get("content", {}).get("application/json", {}).get("schema", {})
        if not _declared(schema):
            undocumented.append(f"{method.upper()} {path}")
    assert not undocumented


def test_openapi_shows_the_documented_shapes(db_url):
    document = create_app(db_url).openapi()
    schemas = document["components"]["schemas"]
    assert {"Paper", "PaperDetail", "SearchHit", "HfDailyPaper", "Pick", "TopicDetail"} <= set(
        schemas
    )
    daily = document["paths"]["/api/daily_papers"]["get"]["responses"]["200"]
    item = daily["content"]["application/json"]["schema"]["items"]["$ref"]
    assert item.endswith("/HfDailyPaper")
    assert schemas["ApiToken"]["properties"]["created_at"]["format"] == "date-time"
