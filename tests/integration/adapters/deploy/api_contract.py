"""A tiny contract checker: does a recorded request fit the provider's published description?

Loads a trimmed OpenAPI 3 / Swagger 2 document (only the operations releasebot uses) and checks
a request's method and path template, its query parameters (declared, required, typed), its
Content-Type and its JSON body against the operation's schema. Objects are checked strictly:
a property the description does not declare is an error, so a misspelt field cannot slip by.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jsonschema  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))


def _strict(schema: Any) -> Any:
    """Close objects that list their properties; turn OpenAPI `nullable` into JSON Schema."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.pop("nullable", False) and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        for key in ("example", "examples", "default", "description", "title", "format"):
            if not isinstance(out.get(key), dict):
                out.pop(key, None)
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


_SCALAR_CHECKS = {
    "integer": re.compile(r"^-?\d+$"),
    "number": re.compile(r"^-?\d+(\.\d+)?$"),
    "boolean": re.compile(r"^(true|false)$"),
}


class ApiDescription:
    """The vendored operations of one provider."""

    def __init__(self, path: Path, *, base_path: str = "") -> None:
        self.document: dict[str, Any] = json.loads(path.read_text())
        self.base_path = base_path.rstrip("/")
        self.operations: list[Operation] = []
        for template, item in self.document["paths"].items():
            regex = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
            for method, spec in item.items():
                if method.startswith("x-") or method == "parameters":
                    continue
                params = list(item.get("parameters", [])) + list(spec.get("parameters", []))
                merged = {**spec, "parameters": [self._deref(p) for p in params]}
                self.operations.append(
                    Operation(method.upper(), template, re.compile(f"^{regex}$"), merged)
                )
        self.defs = _strict(self.document)

    def _deref(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # Refs stay relative to the whole (strict) document.
        return {
            **copy.deepcopy(_strict(schema)),
            **{k: v for k, v in self.defs.items() if k in ("definitions", "components")},
        }

    def check(self, request: httpx.Request) -> str:
        """Assert the request fits one vendored operation; return that operation's id."""
        path = request.url.path
        if self.base_path:
            assert path.startswith(self.base_path), f"{path} is outside {self.base_path}"
            path = path[len(self.base_path) :] or "/"
        candidates = [op for op in self.operations if op.pattern.match(path)]
        assert candidates, f"no vendored operation has a path template matching {path}"
        matching = [op for op in candidates if op.method == request.method]
        assert matching, (
            f"{request.method} {path}: the description only allows "
            f"{sorted(op.method for op in candidates)}"
        )
        op = matching[0]
        self._check_parameters(op, path, request)
        self._check_body(op, request)
        return op.operation_id

    def _check_parameters(self, op: Operation, path: str, request: httpx.Request) -> None:
        match = op.pattern.match(path)
        assert match is not None
        names = re.findall(r"\{([^}]+)\}", op.template)
        by_place: dict[str, dict[str, dict[str, Any]]] = {}
        for param in op.spec["parameters"]:
            by_place.setdefault(param["in"], {})[param["name"]] = param
        for name, value in zip(names, match.groups(), strict=True):
            declared = by_place.get("path", {}).get(name)
            assert declared is not None, f"path parameter {name} is not declared"
            self._check_scalar(declared, httpx.URL(f"/{value}").path[1:], f"path {name}")
        query = request.url.params
        declared_query = by_place.get("query", {})
        for name in query:
            assert name in declared_query, f"query parameter {name!r} is not in the description"
            for value in query.get_list(name):
                self._check_scalar(declared_query[name], value, f"query {name}")
        for name, param in declared_query.items():
            if param.get("required"):
                assert name in query, f"required query parameter {name!r} is missing"

    def _check_scalar(self, param: dict[str, Any], value: str, where: str) -> None:
        kind = param.get("type") or param.get("schema", {}).get("type")
        check = _SCALAR_CHECKS.get(str(kind))
        assert check is None or check.match(value), f"{where}={value!r} is not a {kind}"
        enum = param.get("enum") or param.get("schema", {}).get("enum")
        assert not enum or value in enum, f"{where}={value!r} is not one of {enum}"

    def _check_body(self, op: Operation, request: httpx.Request) -> None:
        content_type = request.headers.get("content-type", "")
        body_params = [p for p in op.spec["parameters"] if p["in"] == "body"]
        form_params = [p for p in op.spec["parameters"] if p["in"] == "formData"]
        if "requestBody" in op.spec:  # OpenAPI 3
            body_spec = self._deref(op.spec["requestBody"])
            content = body_spec["content"]
            normalised = {k.replace(" ", ""): v for k, v in content.items()}
            key = content_type.replace(" ", "")
            assert key in normalised, f"Content-Type {content_type!r} is not one of {list(content)}"
            schema = normalised[key].get("schema")
            if body_spec.get("required"):
                assert request.content, "the description requires a request body"
        elif body_params:  # Swagger 2
            assert content_type.startswith("application/json"), f"unexpected {content_type!r}"
            schema = body_params[0].get("schema")
        elif form_params:
            assert content_type.startswith("application/x-www-form-urlencoded")
            return
        else:
            assert not request.content, f"{op.operation_id} takes no request body"
            return
        if schema is None or not request.content:
            return
        body: Any
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        else:
            body = json.loads(request.content)
        jsonschema.validate(body, self._schema(schema))


def load(name: str, *, base_path: str = "") -> ApiDescription:
    """A vendored description from api/."""
    return ApiDescription(Path(__file__).parent / "api" / name, base_path=base_path)
