"""Check one request or response against a vendor's contract (the JSON files beside this).

A contract file holds, per endpoint we call, a JSON Schema of the request seen as
`{"path": {…}, "query": {…}, "headers": {…}, "body": …}` and one per documented answer,
seen as `{"status": …, "headers": {…}, "body": …}` (keys "200", "4XX", "5XX", …).
On the wire every query value and header is a string, so the schemas say so
("true"/"false", integers as digit patterns); header names are lower case; a request
without a body has no "body" key; a repeated query parameter is a list.

`jsonschema` does the validating; this module only finds the endpoint and turns its
errors into `Violation`s. Messages name the place and the rule, never the value found
there, so they can be printed without leaking a key or a secret.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from jsonschema import Draft202012Validator

from integrations.contracts.messages import explain, where

CONTRACTS_DIR = Path(__file__).resolve().parent
NO_BODY = object()  # a request that carries no body at all (not even `null`)


@dataclass(frozen=True)
class Violation:
    vendor: str
    endpoint: str  # "POST /v13/deployments", or "" when no endpoint matched
    where: str  # "body.deploymentId", "headers.from", "path.ref", "query", "status", …
    message: str

    def __str__(self) -> str:
        endpoint = f" {self.endpoint}" if self.endpoint else ""
        return f"{self.vendor}{endpoint}: {self.where}: {self.message}"


@dataclass(frozen=True)
class Endpoint:
    vendor: str
    name: str
    methods: tuple[str, ...]
    template: str
    pattern: re.Pattern
    literal_segments: int
    request: Draft202012Validator
    responses: dict[str, Draft202012Validator]

    def label(self, method: str) -> str:
        return f"{method} {self.template}"


@dataclass(frozen=True)
class Contract:
    vendor: str
    doc: dict
    endpoints: tuple[Endpoint, ...]

    @property
    def servers(self) -> list[str]:
        return list(self.doc.get("servers", []))

    def find(self, method: str, path: str) -> tuple[Endpoint | None, dict[str, str], str]:
        """(endpoint, path params, problem): problem is "" when an endpoint matched."""
        allowed = []
        for endpoint in self.endpoints:
            match = endpoint.pattern.fullmatch(path)
            if not match:
                continue
            if method in endpoint.methods:
                return endpoint, {k: unquote(v) for k, v in match.groupdict().items()}, ""
            allowed.extend(endpoint.methods)
        if allowed:
            return None, {}, f"method {method} not allowed here (only {', '.join(allowed)})"
        return None, {}, f"no documented endpoint at {path}"


def _validator(schema: dict, defs: dict) -> Draft202012Validator:
    root = {"$defs": defs, **schema}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check_schemas(doc: dict) -> None:
    """Every schema of the file is valid JSON Schema: one pass over the whole file (checking
    each endpoint's schema with all the $defs again costs seconds per vendor)."""
    schemas = []
    for spec in doc["endpoints"].values():
        schemas.append(spec["request"])
        schemas.extend(spec["responses"].values())
    Draft202012Validator.check_schema({"$defs": doc.get("$defs", {}), "prefixItems": schemas})


def _path_pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(regex)


def vendors() -> list[str]:
    return sorted(p.stem for p in CONTRACTS_DIR.glob("*.json"))


@cache
def contract(vendor: str) -> Contract:
    path = CONTRACTS_DIR / f"{vendor}.json"
    if not path.is_file():
        raise KeyError(f"no contract for vendor {vendor!r} (known: {', '.join(vendors())})")
    doc = json.loads(path.read_text())
    _check_schemas(doc)
    defs = doc.get("$defs", {})
    endpoints = []
    for name, spec in doc["endpoints"].items():
        methods = spec["method"] if isinstance(spec["method"], list) else [spec["method"]]
        template = spec["path"]
        endpoints.append(
            Endpoint(
                vendor=vendor,
                name=name,
                methods=tuple(m.upper() for m in methods),
                template=template,
                pattern=_path_pattern(template),
                literal_segments=len(re.sub(r"\{[^}]+\}", "", template)),
                request=_validator(spec["request"], defs),
                responses={k: _validator(v, defs) for k, v in spec["responses"].items()},
            )
        )
    # A literal path ("/api-keys/legacy") wins over a template that also matches it.
    endpoints.sort(key=lambda e: -e.literal_segments)
    return Contract(vendor=vendor, doc=doc, endpoints=tuple(endpoints))


def _violations(
    validator: Draft202012Validator, instance: dict, vendor: str, label: str, top: str
) -> list[Violation]:
    found = []
    for error in validator.iter_errors(instance):
        shown, text = explain(error)
        found.append(Violation(vendor, label, where(shown, top), text))
    return sorted(found, key=lambda v: v.where)


# --- the checks ----------------------------------------------------------------------------


def check_request(
    vendor: str,
    *,
    method: str,
    path: str,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = NO_BODY,
) -> list[Violation]:
    """Violations of the documented request; [] when the vendor would accept it.
    `path` is the vendor's own path (no base prefix, no query string)."""
    method = method.upper()
    endpoint, params, problem = contract(vendor).find(method, path)
    if endpoint is None:
        return [Violation(vendor, "", f"{method} {path}", problem)]
    instance: dict[str, Any] = {
        "path": params,
        "query": dict(query or {}),
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
    }
    if body is not NO_BODY:
        instance["body"] = body
    return _violations(endpoint.request, instance, vendor, endpoint.label(method), "request")


def check_response(
    vendor: str,
    *,
    method: str,
    path: str,
    status: int,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> list[Violation]:
    """Violations of the documented answer for this status; [] when it is one."""
    method = method.upper()
    endpoint, _, problem = contract(vendor).find(method, path)
    if endpoint is None:
        return [Violation(vendor, "", f"{method} {path}", problem)]
    label = f"{endpoint.label(method)} → {status}"
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in endpoint.responses:
            instance = {
                "status": status,
                "headers": {k.lower(): v for k, v in (headers or {}).items()},
                "body": body,
            }
            return _violations(endpoint.responses[key], instance, vendor, label, "response")
    return [Violation(vendor, label, "status", f"HTTP {status} is not a documented answer")]


# --- httpx adapters ------------------------------------------------------------------------


def vendor_path(vendor: str, url: httpx.URL, base_url: str | None = None) -> str | None:
    """The vendor's own path of `url` (still percent-encoded), or None when `url` is not
    under `base_url` (default: the contract's documented servers)."""
    raw = url.raw_path.split(b"?", 1)[0].decode("ascii")
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
    bases = [base_url] if base_url else contract(vendor).servers
    for base in bases:
        base_pattern = re.escape(base.rstrip("/")).replace(r"\{ref\}", "[a-z0-9-]+")
        full = origin + raw
        match = re.match(base_pattern, full)
        if match and (len(full) == match.end() or full[match.end()] == "/"):
            return full[match.end() :] or "/"
    return None


def _query(url: httpx.URL) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in url.params.multi_items():
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _parsed(content: bytes, content_type: str, *, empty: Any) -> Any:
    if not content:
        return empty
    try:
        return json.loads(content)
    except ValueError:
        if content_type.startswith("text/"):
            return content.decode("utf-8", "replace")
        return None  # binary (a PNG): the schemas look at its headers


def request_violations(
    vendor: str, request: httpx.Request, *, base_url: str | None = None
) -> list[Violation]:
    path = vendor_path(vendor, request.url, base_url)
    if path is None:
        return [Violation(vendor, "", "url", "not an address of this vendor")]
    content = request.content
    return check_request(
        vendor,
        method=request.method,
        path=path,
        query=_query(request.url),
        headers=dict(request.headers.items()),
        body=_parsed(content, request.headers.get("content-type", ""), empty=NO_BODY),
    )


def response_violations(
    vendor: str, response: httpx.Response, *, base_url: str | None = None
) -> list[Violation]:
    """The response must have been read (`response.read()`)."""
    request = response.request
    path = vendor_path(vendor, request.url, base_url)
    if path is None:
        return [Violation(vendor, "", "url", "not an address of this vendor")]
    return check_response(
        vendor,
        method=request.method,
        path=path,
        status=response.status_code,
        headers=dict(response.headers.items()),
        body=_parsed(response.content, response.headers.get("content-type", ""), empty=None),
    )
