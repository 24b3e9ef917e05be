"""Serve stage: /-/mcp, the dataset for research assistants over the Model
Context Protocol.

The endpoint is the official `mcp` SDK's low-level server behind its
Streamable HTTP transport, stateless and answering in JSON: each POST is
answered on its own, so whichever uvicorn worker takes a request of a
conversation can answer it (a session kept in one worker's memory is unknown
to the others, and a client that initialised on one was told "Session not
found" by the next). Its tools are mcp_tools.py's.

datasette-mcp 0.3, the plugin made for this, serves /-/mcp on Datasette
0.65.5 too, but keeps sessions in the worker, runs its execute_sql beside the
admission gate rather than through it, and offers the stored queries as two
generic tools; so the SDK is used directly, with the site's own tools.

Errors: an unknown tool, or arguments that do not fit the tool's JSON
Schema, are a JSON-RPC error (-32602, invalid params) with a plain sentence;
malformed JSON-RPC is answered by the SDK (-32700 parse error, -32600 invalid
request). What a tool could not do (SQL refused, the time limit reached, the
client's limit reached) is a tool result with isError, which the assistant
reads: a busy answer says in how many seconds to try again.

The transport's session manager runs for the worker's life: `lifespan` is a
layer of middleware.py's ASGI stack, not a hook of its own.
"""

from __future__ import annotations

import json
import logging
from importlib import metadata

from datasette import hookimpl
from jsonschema import Draft202012Validator
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    CallToolResult,
    ListToolsResult,
    TextContent,
    Tool,
    ToolAnnotations,
)

from .admission import Refused, shared_admission
from .mcp_tools import Call, ToolFailed, ToolSpec, base_url, tool_catalogue

PATH = "/-/mcp"
logger = logging.getLogger(__name__)

INSTRUCTIONS = """agingkb: the aging wiki (a knowledge base on the biology of human aging) as tables.
Start with list_tables, or search for words; get_page(page) gives every row about one wiki page.
execute_sql runs one read-only SELECT (time-limited, row-capped, rate-limited per client);
each stored query is a tool of its own. Rows carry source_path and source_line (the wiki file
and line they were read from) and row_url (the row on the site): cite those. A fact in a
footnote may be taken from the work it cites (its *_origin column says so), and pages whose
verified is 0 were never checked against their sources. /llms.txt describes the dataset."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
JSON_TYPES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false"}
JSON_TYPES |= {"array": "a list", "object": "an object", "null": "null"}


def software_version() -> str:
    for distribution in ("agingkb", "agingkb_site"):  # a checkout's install, the released app's wheel
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def type_of(value) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    kinds = ((str, "a string"), (int, "an integer"), (float, "a number"), (list, "a list"), (dict, "an object"))
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def plain_error(error) -> str:
    """One schema violation as a sentence."""
    field = ".".join(str(part) for part in error.absolute_path)
    where = f"'{field}'" if field else "the arguments"
    if error.validator == "type":
        return f"{where} must be {kinds(error.schema)}, not {type_of(error.instance)}"
    if error.validator == "required":
        return error.message.replace(" is a required property", " is required")
    if error.validator == "additionalProperties":
        unexpected = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"there is no argument {', '.join(map(repr, unexpected))}"
    if error.validator == "enum":
        names = ", ".join(error.validator_value[:60])
        return f"{where} must be one of: {names}"
    return f"{where}: {error.message}"


def kinds(spec: dict) -> str:
    wanted = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    return " or ".join(JSON_TYPES.get(kind, kind) for kind in wanted)


def usage(tool: ToolSpec) -> str:
    required = set(tool.input_schema.get("required", ()))
    arguments = [
        f"{name} ({kinds(spec)}{', required' if name in required else ''})"
        for name, spec in tool.input_schema.get("properties", {}).items()
    ]
    return f"{tool.name} takes " + ("; ".join(arguments) if arguments else "no arguments") + "."


def argument_problem(tool: ToolSpec, arguments: dict) -> str | None:
    errors = sorted(Draft202012Validator(tool.input_schema).iter_errors(arguments), key=lambda e: list(e.path))
    if not errors:
        return None
    return f"Invalid arguments for {tool.name}: " + "; ".join(plain_error(e) for e in errors[:3]) + ". " + usage(tool)


def tool_result(answer: dict, is_error: bool = False) -> CallToolResult:
    text = json.dumps(answer, ensure_ascii=False, default=str)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=answer, is_error=is_error)


class Endpoint:
    """The MCP server of one Datasette instance (one per worker process)."""

    def __init__(self, datasette):
        self.datasette = datasette
        self.tools: dict[str, ToolSpec] | None = None
        self.server = Server(
            "agingkb",
            version=software_version(),
            title="agingkb: the aging wiki as data",
            instructions=INSTRUCTIONS,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
        )
        self.manager = StreamableHTTPSessionManager(
            app=self.server,
            json_response=True,
            stateless=True,
            # The site answers any Host, as its pages do: the data is public and read-only.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.running = False

    async def catalogue(self) -> dict[str, ToolSpec]:
        if self.tools is None:  # metadata and schema never change while the site runs
            self.tools = await tool_catalogue(self.datasette)
        return self.tools

    async def list_tools(self, ctx, params) -> ListToolsResult:
        return ListToolsResult(
            tools=[
                Tool(
                    name=tool.name,
                    title=tool.title,
                    description=tool.description,
                    input_schema=tool.input_schema,
                    annotations=READ_ONLY,
                )
                for tool in (await self.catalogue()).values()
            ]
        )

    async def call_tool(self, ctx, params) -> CallToolResult:
        tools = await self.catalogue()
        tool = tools.get(params.name)
        if tool is None:
            raise MCPError(INVALID_PARAMS, f"Unknown tool {params.name!r}. The tools are: {', '.join(tools)}.")
        arguments = params.arguments or {}
        problem = argument_problem(tool, arguments)
        if problem:
            raise MCPError(INVALID_PARAMS, problem)
        scope = ctx.request.scope
        admission = shared_admission(self.datasette) if tool.gated else None
        client = admission.client(scope) if admission else "unknown"
        call = Call(self.datasette, base_url(self.datasette, scope), client)
        try:
            if admission:
                await admission.enter(client)
        except Refused as refusal:
            message = f"Busy: {refusal.reason}. Nothing was run; try again in {refusal.retry_after} s."
            return tool_result({"error": message, "kind": "busy", "retry_after_seconds": refusal.retry_after}, True)
        try:
            return tool_result(await tool.run(call, arguments))
        except ToolFailed as failed:
            return tool_result(failed.details, True)
        except Exception:
            logger.exception("MCP tool %s failed", tool.name)
            return tool_result({"error": f"{tool.name} failed on the server; nothing to correct on your side."}, True)
        finally:
            if admission:
                await admission.leave(client)


def endpoint(datasette) -> Endpoint:
    found = getattr(datasette, "_agingkb_mcp", None)
    if found is None:
        found = datasette._agingkb_mcp = Endpoint(datasette)
    return found


def lifespan(datasette):
    """The ASGI layer: the transport's session manager runs while the worker
    does (from the server's lifespan startup to its shutdown)."""

    def wrap(app):
        async def living(scope, receive, send):
            if scope["type"] != "lifespan":
                return await app(scope, receive, send)
            mcp = endpoint(datasette)
            async with mcp.manager.run():
                mcp.running = True
                try:
                    await app(scope, receive, send)
                finally:
                    mcp.running = False

        return living

    return wrap


async def send_json(send, status: int, answer: dict, headers=()) -> None:
    body = json.dumps(answer).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def jsonrpc_error(code: int, message: str, request_id=None) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def envelope_problem(body: bytes) -> dict | None:
    """A JSON-RPC error for a body that is no JSON-RPC message, in a plain
    sentence (the SDK answers such bodies with its validator's report)."""
    try:
        message = json.loads(body)
    except ValueError as error:  # JSONDecodeError, or bytes that are not UTF-8
        return jsonrpc_error(PARSE_ERROR, f"Parse error: the body is not JSON ({getattr(error, 'msg', error)}).")
    if not isinstance(message, dict):
        return jsonrpc_error(INVALID_REQUEST, "Invalid request: send one JSON-RPC 2.0 message, a JSON object.")
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        request_id = None
    method, params = message.get("method"), message.get("params", {})
    if message.get("jsonrpc") != "2.0":
        return jsonrpc_error(INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".', request_id)
    if method is None and "result" not in message and "error" not in message:
        return jsonrpc_error(INVALID_REQUEST, 'Invalid request: a request needs a "method".', request_id)
    if method is not None and not isinstance(method, str):
        return jsonrpc_error(INVALID_REQUEST, 'Invalid request: "method" must be a string.', request_id)
    if not isinstance(params, dict):
        return jsonrpc_error(INVALID_PARAMS, 'Invalid params: "params" must be an object.', request_id)
    if method == "tools/call" and (
        not isinstance(params.get("name"), str) or not isinstance(params.get("arguments", {}), dict | None)
    ):
        return jsonrpc_error(
            INVALID_PARAMS,
            'Invalid params: tools/call takes "name", a tool\'s name (a string), and "arguments", an object.',
            request_id,
        )
    return None


async def read_body(receive) -> bytes | None:
    """The request's body; None when the client left or sent more than the SDK would read."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > DEFAULT_MAX_REQUEST_BODY_SIZE:
            return None
        if not message.get("more_body"):
            return body


async def mcp_view(datasette, scope, receive, send):
    mcp = endpoint(datasette)
    if scope["method"] != "POST":
        # No stream of the server's own messages (GET) and no session to end
        # (DELETE): the spec's answer is 405. A stream held open would keep a
        # connection for nothing.
        answer = jsonrpc_error(INVALID_REQUEST, f"This is an MCP endpoint: POST JSON-RPC messages to {PATH}.")
        return await send_json(send, 405, answer, [(b"allow", b"POST")])
    if not mcp.running:  # a server run without ASGI lifespan events never started the manager
        return await send_json(
            send, 503, jsonrpc_error(INTERNAL_ERROR, "The MCP endpoint needs the server's lifespan.")
        )
    body = await read_body(receive)
    if body is None:
        return await send_json(send, 413, jsonrpc_error(INVALID_REQUEST, "Invalid request: the body is too large."))
    problem = envelope_problem(body)
    if problem:
        return await send_json(send, 400, problem)
    delivered = False

    async def replay():
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    await mcp.manager.handle_request(scope, replay, send)


@hookimpl
def register_routes():
    return [(rf"^{PATH}$", mcp_view)]


@hookimpl
def skip_csrf(scope):
    # An MCP client posts JSON-RPC with no cookie and no form token.
    return scope.get("path") == PATH
