--- The paths a call can take to the local workspace. The contract specs
-- (spec/30-client_spec.lua) run once per path, so that every promise is kept
-- over plain HTTP, over TLS with HTTP/1.1 and with HTTP/2, through
-- client:bulk(), and through a Lua transport; spec/40-openresty_spec.lua runs
-- the cosocket transport inside nginx against the TLS front.
--
--   for _, path in ipairs(paths.list) do describe(path.name, function() ... end) end
--   local c = paths.client(path, srv, opts)   -- a client (or a bulk-driven stand-in)
--
-- The workspace must be started with `fronts = true` (spec/support/workspace.lua).
local webhooks = require("databricks.webhooks")

local M = {}

M.list = {
  { name = "libcurl, plain HTTP", url = "url", protocol = "HTTP/1.1" },
  { name = "libcurl, TLS + HTTP/1.1", url = "h1_url", tls = true, protocol = "HTTP/1.1" },
  { name = "libcurl, TLS + HTTP/2", url = "h2_url", tls = true, protocol = "HTTP/2.0" },
  { name = "bulk, TLS + HTTP/2", url = "h2_url", tls = true, bulk = true, protocol = "HTTP/2.0" },
  { name = "Lua transport (LuaSec), TLS + HTTP/1.1", url = "h1_url", tls = true, lua = true,
    protocol = "HTTP/1.1" },
}

-- A Lua transport over LuaSocket (http) and LuaSec (https) that verifies the
-- workspace's certificate against ca_file and honours the request's timeout.
local function luasec_transport(ca_file)
  local http, https, ltn12 = require("socket.http"), require("ssl.https"), require("ltn12")
  return function(req)
    local headers = {}
    for k, v in pairs(req.headers) do headers[k] = v end
    if req.body then headers["Content-Length"] = tostring(#req.body) end
    local chunks = {}
    local params = {
      url = req.url, method = req.method, headers = headers,
      source = req.body and ltn12.source.string(req.body) or nil,
      sink = ltn12.sink.table(chunks),
    }
    local ok, status, resp_headers
    if req.url:match("^https:") then
      https.TIMEOUT = req.timeout
      params.protocol, params.verify, params.cafile = "any", "peer", ca_file
      ok, status, resp_headers = https.request(params)
    else
      http.TIMEOUT = req.timeout
      ok, status, resp_headers = http.request(params)
    end
    if not ok then
      local msg = tostring(status)
      local kind = (msg:find("timeout", 1, true) or msg:find("^want")) and "timeout"
        or msg:find("refused", 1, true) and "connect" or "connection"
      return { error_kind = kind, message = msg }
    end
    return { status = status, headers = resp_headers, body = table.concat(chunks) }
  end
end

--- A plain-HTTP LuaSocket transport; `seen` collects the request tables it is handed.
function M.luasocket_transport(seen)
  local http, ltn12 = require("socket.http"), require("ltn12")
  return function(req)
    if seen then seen[#seen + 1] = req end
    local headers = {}
    for k, v in pairs(req.headers) do headers[k] = v end
    if req.body then headers["Content-Length"] = tostring(#req.body) end
    local chunks = {}
    local ok, status, resp_headers = http.request({
      url = req.url, method = req.method, headers = headers,
      source = req.body and ltn12.source.string(req.body) or nil,
      sink = ltn12.sink.table(chunks),
    })
    if not ok then return { error_kind = "connect", message = tostring(status) } end
    return { status = status, headers = resp_headers, body = table.concat(chunks) }
  end
end

local BULK_OPS = { create = true, update = true, delete = true, test = true }

-- A stand-in that runs create, update, delete and test as a bulk of one and
-- everything else on the client itself.
local function bulk_driven(c)
  return setmetatable({ client = c }, {
    __tostring = function() return tostring(c) end,
    __close = function() c:close() end,
    __index = function(_, name)
      if BULK_OPS[name] then
        return function(_, req)
          local r = c:bulk(name, { req })[1]
          if r.ok ~= nil then return r.ok end
          return nil, r.err
        end
      end
      local v = c[name]
      if type(v) ~= "function" then return v end
      return function(_, ...) return v(c, ...) end
    end,
  })
end

--- A client of `srv` over `path`; opts as for webhooks.new (host, token and
-- ca_file default to the path's). Raises when webhooks.new fails.
function M.client(path, srv, opts)
  opts = opts or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.host = o.host or srv[path.url]
  if o.token == nil and o.client_id == nil then o.token = srv.token end
  if path.tls and o.ca_file == nil and o.host == srv[path.url] then o.ca_file = srv.ca_file end
  if path.lua and o.transport == nil then o.transport = luasec_transport(srv.ca_file) end
  local c, err = webhooks.new(o)
  assert(c, err and tostring(err))
  if path.bulk then return bulk_driven(c) end
  return c
end

return M
