-- Credentials, TLS, proxies, retries and header safety, against local servers.
local webhooks = require("databricks.webhooks")
local workspace = require("spec.support.workspace")

local BASE = "/api/2.0/mlflow/registry-webhooks/"

local function lua_bin()
  if type(jit) == "table" then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

local function paths(srv)
  local out = {}
  for _, r in ipairs(srv:requests()) do out[#out + 1] = r.method .. " " .. r.path end
  return out
end

describe("oauth-m2m", function()
  local srv
  setup(function() srv = workspace.start() end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  local function new(extra)
    local opts = { host = srv.url, client_id = srv.client_id, client_secret = srv.client_secret,
      retry_timeout = 0 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(webhooks.new(opts))
  end

  it("discovers the token endpoint, gets a token with Basic auth and caches it", function()
    local c = new()
    assert(c:list()); assert(c:list()); assert(c:list())
    local seen = paths(srv)
    assert.same({
      "GET /oidc/.well-known/oauth-authorization-server",
      "POST /oidc/v1/token",
      "GET " .. BASE .. "list", "GET " .. BASE .. "list", "GET " .. BASE .. "list",
    }, seen)
    local token_req = srv:requests()[2]
    assert.equals("grant_type=client_credentials&scope=all-apis", token_req.body)
    assert.equals("application/x-www-form-urlencoded", token_req.headers["content-type"])
    assert.matches("^Basic ", token_req.headers["authorization"])
    assert.matches("auth/oauth%-m2m", srv:requests()[3].headers["user-agent"])
    c:close()
  end)

  it("logs every attempt, token traffic included, without the secret or the token", function()
    local lines = {}
    local c = new{ debug = function(l) lines[#lines + 1] = l end }
    assert(c:list())
    c:close()
    assert.equals(3, #lines)
    local access = srv:requests()[3].headers["authorization"]:match("^Bearer (.+)$")
    for _, l in ipairs(lines) do
      assert.is_nil(l:find(srv.client_secret, 1, true))
      assert.is_nil(l:find(access, 1, true))
    end
  end)

  it("sends the secret nowhere when discovery is unavailable (no guessed /oidc/v1/token)", function()
    srv:settings{ oauth_discovery = false }
    local c = new()
    local res, err = c:list()
    assert.is_nil(res)
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.matches("discovery at .*/oidc/%.well%-known/oauth%-authorization%-server failed %(HTTP 404%)", err.message)
    assert.same({ "GET /oidc/.well-known/oauth-authorization-server" }, paths(srv))
    c:close()
  end)

  it("refreshes a token shortly before it expires", function()
    srv:settings{ token_ttl = 2 }
    local c = new()
    assert(c:list())
    require("socket").sleep(1.2)
    assert(c:list())
    local tokens = 0
    for _, p in ipairs(paths(srv)) do if p == "POST /oidc/v1/token" then tokens = tokens + 1 end end
    assert.equals(2, tokens)
    c:close()
  end)

  it("refreshes once after a 401", function()
    local c = new()
    assert(c:list())
    srv:settings{ revoke_tokens = true }
    assert(c:list())
    c:close()
  end)

  it("reports a rejected client secret without showing it", function()
    local c = new{ client_secret = "wrong-secret-value" }
    local res, err = c:list()
    assert.is_nil(res)
    assert.equals("UNAUTHENTICATED", err.error_code)
    assert.equals(401, err.status)
    assert.is_nil(tostring(err):find("wrong-secret-value", 1, true))
    c:close()
  end)

  it("needs auth_type when a token and client credentials are both set", function()
    local c, err = webhooks.new{ host = srv.url, token = "t", client_id = "a", client_secret = "b" }
    assert.is_nil(c)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert.matches("more than one authorization method", err.message)
    c = assert(webhooks.new{ host = srv.url, token = srv.token, client_id = "a", client_secret = "b",
      auth_type = "pat" })
    assert(c:list())
    c:close()
  end)
end)

describe("configuration errors", function()
  it("returns nil, err for no host and no credentials, naming what is missing", function()
    local c, err = webhooks.new{ config_file = "/nonexistent/cfg" }
    assert.is_nil(c)
    assert.equals(webhooks.Error, getmetatable(err))
  end)

  it("refuses CR/LF in header-bound values", function()
    for _, opts in ipairs{
      { host = "http://127.0.0.1:1", token = "abc\r\nX-Evil: 1" },
      { host = "http://127.0.0.1:1", token = "t", user_agent = "x/1\nY: z" },
    } do
      local c, err = webhooks.new(opts)
      assert.is_nil(c)
      assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    end
  end)

  it("refuses plain http to a non-loopback host unless allowed", function()
    local c, err = webhooks.new{ host = "http://example.com", token = "t" }
    assert.is_nil(c)
    assert.equals("INVALID_PARAMETER_VALUE", err.error_code)
    assert(webhooks.new{ host = "http://example.com", token = "t", allow_insecure_http = true }):close()
  end)

  it("raises for a non-table opts", function()
    assert.has_error(function() webhooks.new("x") end)
  end)
end)

describe("TLS", function()
  local srv
  setup(function() srv = workspace.start{ https = true } end)
  teardown(function() srv:stop() end)

  it("refuses an untrusted certificate with TLS_ERROR", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 0 })
    local _, err = c:list()
    assert.equals("TLS_ERROR", err.error_code)
    c:close()
  end)

  it("trusts the right ca_file", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, ca_file = srv.ca_file })
    assert(c:list())
    c:close()
  end)

  it("skips verification only when asked", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, verify_tls = false })
    assert(c:list())
    c:close()
  end)
end)

describe("timeouts", function()
  it("connect_timeout fires on a black-holed port", function()
    -- A listener that never accepts, with its accept queue filled: Linux then
    -- drops further SYNs, so a connect hangs exactly like a black-holed host.
    local socket = require("socket")
    local server = assert(socket.tcp())
    assert(server:bind("127.0.0.1", 0))
    assert(server:listen(1))
    local _, port = server:getsockname()
    local fillers = {}
    for i = 1, 8 do
      local s = socket.tcp()
      s:settimeout(0.05)
      s:connect("127.0.0.1", port)
      fillers[i] = s
    end
    local c = assert(webhooks.new{ host = "http://127.0.0.1:" .. port, token = "t",
      connect_timeout = 0.3, timeout = 5, retry_timeout = 0 })
    local t0 = socket.gettime()
    local _, err = c:list()
    local elapsed = socket.gettime() - t0
    assert.equals("TIMEOUT", err.error_code)
    assert.is_true(elapsed < 2, "took " .. elapsed)
    c:close()
    for _, s in ipairs(fillers) do s:close() end
    server:close()
  end)
end)

describe("retries", function()
  local srv
  setup(function() srv = workspace.start() end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it("honours Retry-After as an HTTP date", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 10 })
    local when = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 1)
    srv:faults{ { kind = "429", retry_after = when } }
    local t0 = os.time()
    assert(c:list())
    assert.is_true(os.time() - t0 <= 3)
    assert.equals(2, srv:stats().by_path[BASE .. "list"])
    c:close()
  end)

  it("does not retry other 4xx/5xx", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 10 })
    srv:faults{ { kind = "status", status = 500, error_code = "INTERNAL_ERROR", message = "x" } }
    local _, err = c:list()
    assert.equals(500, err.status)
    assert.equals(1, srv:stats().by_path[BASE .. "list"])
    c:close()
  end)

  it("gives up when Retry-After is beyond the budget, keeping retry_after", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, retry_timeout = 2 })
    srv:faults{ { kind = "429", retry_after = "30" } }
    local _, err = c:list()
    assert.equals(429, err.status)
    assert.equals(30, err.retry_after)
    c:close()
  end)
end)

describe("proxy", function()
  local srv, dir, pid
  setup(function()
    srv = workspace.start()
    dir = os.tmpname(); os.remove(dir); os.execute("mkdir -p " .. dir)
    local h = io.popen(lua_bin() .. " spec/support/proxy.lua " .. dir .. "/port " .. dir .. "/log"
      .. " >/dev/null 2>&1 & echo $!")
    pid = h:read("*l"); h:close()
    for _ = 1, 100 do
      local f = io.open(dir .. "/port"); if f then local p = f:read("*l"); f:close(); if p then break end end
      require("socket").sleep(0.05)
    end
  end)
  teardown(function()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.execute("rm -rf " .. dir)
    srv:stop()
  end)

  local function proxy_url()
    local f = assert(io.open(dir .. "/port")); local p = f:read("*l"); f:close()
    return "http://127.0.0.1:" .. p
  end

  local function proxied_lines()
    local f = io.open(dir .. "/log"); if not f then return "" end
    local s = f:read("*a"); f:close(); return s
  end

  it("goes through the proxy option", function()
    local c = assert(webhooks.new{ host = srv.url, token = srv.token, proxy = proxy_url() })
    assert(c:list())
    c:close()
    assert.truthy(proxied_lines():find("GET " .. srv.url .. BASE .. "list", 1, true))
  end)

  it("honours the http_proxy environment in a fresh process", function()
    local cmd = ("http_proxy=%s NO_PROXY= %s -e 'package.path=\"./lua/?.lua;\"..package.path; "
      .. "package.cpath=\"%s/?.so;\"..package.cpath; local w=require(\"databricks.webhooks\"); "
      .. "local c=assert(w.new{host=\"%s\",token=\"%s\"}); assert(c:list{model_name=\"via-env\"})'")
      :format(proxy_url(), lua_bin(), package.cpath:match("^([^?]+)/%?%.so"), srv.url, srv.token)
    local r = os.execute(cmd)
    assert.is_true(r == true or r == 0)
    assert.truthy(proxied_lines():find("via-env", 1, true))
  end)
end)
