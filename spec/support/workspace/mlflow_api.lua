-- The OSS MLflow webhooks REST API (3.3+), served when the workspace starts
-- with api = "mlflow": /api/2.0/mlflow/webhooks[/{id}[/test]] and the same
-- under /ajax-api/2.0/. Handlers return status, body[, headers] like api.lua.
local json = require("workspace.json")
local config = require("workspace.config")
local reply = require("workspace.reply")
local mschema = require("workspace.mlflow_schema")
local mstore = require("workspace.mlflow_store")
local mdelivery = require("workspace.mlflow_delivery")

local M = {}

local HTML = { ["Content-Type"] = "text/html; charset=utf-8" }

-- Werkzeug's default error pages, which Flask sends for what MLflow does not handle.
local function html_page(status, title, text)
  return status, string.format('<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n'
    .. "<h1>%s</h1>\n<p>%s</p>\n", status, title, title, text), HTML
end

function M.not_found()
  return html_page(404, "Not Found", "The requested URL was not found on the server. If you "
    .. "entered the URL manually please check your spelling and try again.")
end

local function method_not_allowed(allow)
  local status, body, headers = html_page(405, "Method Not Allowed",
    "The method is not allowed for the requested URL.")
  return status, body, { ["Content-Type"] = headers["Content-Type"], Allow = allow }
end

local function server_error()
  return html_page(500, "Internal Server Error", "The server encountered an internal error and "
    .. "was unable to complete your request. Either the server is overloaded or there is an error "
    .. "in the application.")
end

local ERROR_KEYS = { "error_code", "message", "error_class", "sqlstate" }

--- An MlflowException as the server serialises it (3.11 adds error_class and sqlstate).
function M.error(code, message)
  local e = { error_code = code, message = message }
  if config.startup.error_extras then e.error_class, e.sqlstate = code, "KAM00" end
  return reply.STATUS[code] or 500, json.encode(json.ordered(e, ERROR_KEYS))
end

-- Runs a handler body that may raise a schema/store failure.
local function guarded(fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  if type(a) == "table" and a.html500 then return server_error() end
  if type(a) == "table" and a.code then return M.error(a.code, a.message) end
  ngx.log(ngx.ERR, "mlflow: ", tostring(a))
  return server_error()
end

-- POST and PATCH need Content-Type: application/json, even with an empty body.
local function json_body(req)
  local ct = req.headers["content-type"]
  if type(ct) == "table" then ct = ct[1] end
  if not ct then
    mschema.invalid("Bad Request. Content-Type header is missing.")
  end
  if (ct:match("^%s*([^;%s]+)") or ""):lower() ~= "application/json" then
    mschema.invalid("Bad Request. Content-Type must be one of ['application/json'].")
  end
  if req.body:match("^%s*$") then return {} end
  local v = json.decode(req.body)
  if type(v) ~= "table" or not json.is_object_text(req.body) then
    mschema.fail("MALFORMED_REQUEST", "Malformed JSON in the request body.")
  end
  return v
end

local function not_found(id)
  mschema.fail("RESOURCE_DOES_NOT_EXIST", "Webhook with ID %s not found.", id)
end

local function one(wh)
  return 200, json.encode({ webhook = mstore.render(wh) })
end

local function create(req)
  local r = mschema.create(json_body(req))
  return one(mstore.insert(r))
end

local function list()
  local max, offset = mschema.list(ngx.req.get_uri_args(100))
  local live = mstore.live()
  local items = json.array()
  for i = offset + 1, math.min(#live, offset + max) do items[#items + 1] = mstore.render(live[i]) end
  local out = {}
  if #items > 0 then out.webhooks = items end
  if offset + max < #live then
    out.next_page_token = ngx.encode_base64(string.format('{"offset": %d}', offset + max))
  end
  return 200, json.encode(json.ordered(out, { "webhooks", "next_page_token" }))
end

local function get(_, id)
  return one(mstore.get(id) or not_found(id))
end

local function update(req, id)
  local body = json_body(req)
  local r = mschema.update(body)
  local wh = mstore.get(id) or not_found(id)
  return one(mstore.update(wh, r))
end

local function delete(_, id)
  mstore.delete(mstore.get(id) or not_found(id))
  return 200, "{}"
end

local function test(req, id)
  local body = json_body(req)
  local wh = mstore.get(id) or not_found(id)
  local event = mschema.test(body) or wh.events[1]
  return 200, json.encode({ result = mdelivery.test(wh, event) })
end

local BASES = { "/api/2.0/mlflow/webhooks", "/ajax-api/2.0/mlflow/webhooks" }

--- True for a path this family serves (the rate limit and faults use it).
function M.owns(path)
  return path:sub(1, 5) == "/api/" or path:sub(1, 10) == "/ajax-api/"
end

local function routes(rest)
  if rest == "" then return { GET = list, POST = create }, nil, "GET, POST, HEAD, OPTIONS" end
  local id = rest:match("^/([^/]+)$")
  if id then
    return { GET = get, PATCH = update, DELETE = delete }, ngx.unescape_uri(id),
      "DELETE, GET, HEAD, OPTIONS, PATCH"
  end
  id = rest:match("^/([^/]+)/test$")
  if id then return { POST = test }, ngx.unescape_uri(id), "OPTIONS, POST" end
  return nil
end

--- Routes an authenticated request.
function M.handle(req)
  for _, base in ipairs(BASES) do
    if req.path:sub(1, #base) == base then
      local methods, id, allow = routes(req.path:sub(#base + 1))
      if not methods then return M.not_found() end
      local fn = methods[req.method]
      if not fn then return method_not_allowed(allow) end
      return guarded(fn, req, id)
    end
  end
  return M.not_found()
end

local UNAUTHENTICATED = "You are not authenticated. Please see "
  .. "https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to "
  .. "authenticate."

--- The optional credentials (start options token, username/password): nil
-- when the request may go on, else the 401.
function M.authenticate(req)
  local s = config.startup
  if not s.mlflow_token and not s.mlflow_username then return nil end
  local header = req.headers.authorization
  if type(header) == "table" then header = header[1] end
  local scheme, cred = (header or ""):match("^(%S+)%s+(%S+)%s*$")
  scheme = scheme and scheme:lower()
  if s.mlflow_token and scheme == "bearer" and cred == s.mlflow_token then return nil end
  if s.mlflow_username and scheme == "basic"
    and ngx.decode_base64(cred) == s.mlflow_username .. ":" .. (s.mlflow_password or "") then
    return nil
  end
  local status, body = reply.error("UNAUTHENTICATED", UNAUTHENTICATED)
  local headers = {}
  if s.mlflow_username then headers["WWW-Authenticate"] = 'Basic realm="mlflow"' end
  return status, body, headers
end

return M
