-- The benchmark's own machinery (bench/): the canned server over the three
-- protocols, with the Databricks and the open-source MLflow routes, and every
-- client really speaking the protocol it is measured on, with small call counts. `make bench` itself is not run here.
local util = require("spec.support.util")
local q = util.q

package.path = "./bench/?.lua;" .. package.path
local canned = require("canned")
local workload = require("workload")
local webhooks = require("databricks.webhooks")

local version = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+")
local BUILD = os.getenv("DBW_BUILD") or ("./build/" .. version)
local LUA = version == "luajit" and "luajit" or ("lua" .. version)

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return out:gsub("__rc=%d+%s*$", ""), rc
end

local function result(text)
  local r = {}
  local line = text:match("RESULT ([^\n]*)")
  if not line then return nil end
  for k, v in line:gmatch("([%w_]+)=(%S+)") do r[k] = tonumber(v) or v end
  return r
end

local PROTOCOLS = { h1 = "1.1", ["tls-h1"] = "1.1", ["tls-h2"] = "2" }

describe("bench", function()
  local srv, dir, floor, cli

  setup(function()
    dir = assert(os.tmpname())
    os.remove(dir)
    srv = canned.start({ prefix = dir, latency = 0.05 })
    floor, cli = dir .. "/floor", dir .. "/curl_cli"
    local flags = "-std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror"
    for prog, out in pairs({ floor = floor, curl_cli = cli }) do
      local text, rc = sh("cc " .. flags .. " -o " .. q(out) .. " bench/" .. prog .. ".c -lcurl")
      assert(rc == 0, text)
    end
  end)

  teardown(function()
    if srv then srv:stop() end
    if dir then sh("rm -rf " .. q(dir)) end
  end)

  local function spec_file(key)
    local path = ("%s/spec-%s.txt"):format(dir, key)
    local tls = key ~= "h1"
    workload.write_spec(path, srv.urls[key], "dapi-x", "bench-spec/1", srv.url .. "/__control/sink",
      tls and srv.ca_file or nil, PROTOCOLS[key])
    return path
  end

  for key, http in pairs(PROTOCOLS) do
    it("the module speaks HTTP/" .. http .. " on the canned " .. key .. " listener", function()
      local c = assert(webhooks.new({ host = srv.urls[key], token = "dapi-x", ca_file = srv.ca_file }))
      assert.is_true((c:delete({ id = "abc" })))
      local page = assert(c:list({ max_results = 100 }))
      assert.equal(100, #page.webhooks)
      assert.equal("HTTP/" .. http, c:stats().http_version)
      c:close()
    end)

    it("the libcurl floor trusts the CA and reports HTTP/" .. http .. " on " .. key, function()
      local text, rc = sh(q(floor) .. " " .. q(spec_file(key)) .. " create 5 1 - -")
      assert.equal(0, rc, text)
      local r = assert(result(text), text)
      assert.equal(0, r.errors)
      assert.equal(http, tostring(r.proto))
    end)

    it("an MLflow client gets the canned MLflow answers on the " .. key .. " listener", function()
      local c = assert(webhooks.new({ api = "mlflow", host = srv.urls[key], token = "dapi-x",
        ca_file = srv.ca_file }))
      local sink = srv.url .. "/__control/sink"
      local wh = assert(c:create(workload.request("mlflow-create", nil, sink)))
      assert.equal(wh.webhook_id, wh.id)
      assert.same({ "model_version.created", "model_version_tag.set" }, wh.events)
      local page = assert(c:list(workload.request("mlflow-list")))
      assert.equal(100, #page.webhooks)
      assert.is_string(page.next_page_token)
      local got = assert(c:get({ id = wh.id }))
      assert.equal("benchmark webhook", got.description)
      local up = assert(c:update(workload.request("mlflow-update", wh.id)))
      assert.equal("benchmark webhook (updated)", up.description)
      local res = assert(c:test(workload.request("mlflow-test", wh.id)))
      assert.is_true(res.success)
      assert.equal(200, res.response_status)
      assert.is_true((c:delete(workload.request("mlflow-delete", wh.id))))
      -- update with status is one request; the five calls above, six requests
      assert.equal(6, c:stats().requests)
      assert.equal("HTTP/" .. http, c:stats().http_version)
      c:close()
    end)

    it("the libcurl floor sends every MLflow op and reports HTTP/" .. http .. " on " .. key, function()
      local spec = spec_file(key)
      for _, op in ipairs({ "mlflow-create", "mlflow-list", "mlflow-update", "mlflow-delete", "mlflow-test" }) do
        local text, rc = sh(q(floor) .. " " .. q(spec) .. " " .. op .. " 3 1 - -")
        assert.equal(0, rc, text)
        local r = assert(result(text), text)
        assert.equal(0, r.errors, text)
        assert.equal(http, tostring(r.proto))
      end
    end)

    it("the curl command runs with --cacert and the protocol's flag on " .. key, function()
      local text, rc = sh(q(cli) .. " " .. q(spec_file(key)) .. " delete 2 0 - -")
      assert.equal(0, rc, text)
      assert.equal(0, assert(result(text), text).errors)
    end)
  end

  it("the runner reports the protocol the module used", function()
    local text, rc = sh(("%s bench/runner.lua module test 5 1 %s dapi-x %s - - %s ua %s"):format(LUA,
      q(srv.urls["tls-h2"]), q(srv.url .. "/__control/sink"), q(BUILD), q(srv.ca_file)))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal(0, r.errors)
    assert.equal("2", tostring(r.proto))
  end)

  it("the LuaSocket client runs over TLS + HTTP/1.1 with the CA", function()
    local text, rc = sh(("%s bench/runner.lua luasocket update 5 1 %s dapi-x %s - - %s ua %s"):format(LUA,
      q(srv.urls["tls-h1"]), q(srv.url .. "/__control/sink"), q(BUILD), q(srv.ca_file)))
    assert.equal(0, rc, text)
    assert.equal(0, assert(result(text), text).errors)
  end)

  it("the latency listener multiplexes a bulk delete over one HTTP/2 connection", function()
    local text, rc = sh(("%s bench/concurrency.lua %s %s %s 24 8 50"):format(LUA, q(BUILD),
      q(srv.urls.slow), q(srv.ca_file)))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal(0, r.failed)
    assert.equal(1, r.connections)
    assert.equal("2", tostring(r.proto))
    assert.is_true(r.seq_s >= 24 * 0.05, text) -- the latency is really there
    assert.is_true(r.speedup >= 3, text)
  end)

  it("the latency listener delays MLflow deletes too, and bulk multiplexes them", function()
    local text, rc = sh(("%s bench/concurrency.lua %s %s %s 24 8 50 mlflow"):format(LUA, q(BUILD),
      q(srv.urls.slow), q(srv.ca_file)))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal("mlflow", r.api)
    assert.equal(0, r.failed)
    assert.equal(1, r.connections)
    assert.equal("2", tostring(r.proto))
    assert.is_true(r.seq_s >= 24 * 0.05, text)
    assert.is_true(r.speedup >= 3, text)
  end)

  it("the runner measures an MLflow op with an MLflow client", function()
    local text, rc = sh(("%s bench/runner.lua module mlflow-update 5 1 %s dapi-x %s - - %s ua %s"):format(LUA,
      q(srv.urls["tls-h2"]), q(srv.url .. "/__control/sink"), q(BUILD), q(srv.ca_file)))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal(0, r.errors)
    assert.equal("2", tostring(r.proto))
  end)

  it("the workload sends the MLflow requests as the module puts them on the wire", function()
    local cjson = require("cjson")
    local m, target, body = workload.http("mlflow-create", "@ID@", "http://sink")
    assert.same({ "POST", "/api/2.0/mlflow/webhooks" }, { m, target })
    assert.same({ name = "bench-hook", url = "http://sink", description = "benchmark webhook",
      secret = "bench-shared-secret-0123456789", status = "ACTIVE",
      events = { { entity = "MODEL_VERSION", action = "CREATED" }, { entity = "MODEL_VERSION_TAG", action = "SET" } } },
      cjson.decode(body))
    m, target, body = workload.http("mlflow-update", "@ID@")
    assert.same({ "PATCH", "/api/2.0/mlflow/webhooks/@ID@" }, { m, target })
    assert.same({ description = "benchmark webhook (updated)", status = "ACTIVE" }, cjson.decode(body))
    assert.same({ "DELETE", "/api/2.0/mlflow/webhooks/@ID@" }, { workload.http("mlflow-delete", "@ID@") })
    assert.same({ "GET", "/api/2.0/mlflow/webhooks?max_results=100" }, { workload.http("mlflow-list") })
    m, target, body = workload.http("mlflow-test", "@ID@")
    assert.same({ "POST", "/api/2.0/mlflow/webhooks/@ID@/test" }, { m, target })
    assert.same({ event = { entity = "MODEL_VERSION", action = "CREATED" } }, cjson.decode(body))
  end)

  it("times cjson.decode of the MLflow list page the canned server sends", function()
    local body = util.read_file(dir .. "/www/mlflow-list100.json")
    assert.equal(canned.mlflow_page(100, srv.url), body)
    local text, rc = sh(("%s bench/decode.lua %s page %s"):format(LUA, q(BUILD),
      q(dir .. "/www/mlflow-list100.json")))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal(#body, r.bytes)
  end)

  it("paces creates to a rate-limited workspace, with and without rate_limit", function()
    local ws = os.tmpname()
    os.remove(ws)
    local text, rc = sh(("%s bench/pace.lua %s %s 40 8 20"):format(LUA, q(BUILD), q(ws)))
    os.execute("rm -rf " .. q(ws))
    assert.equal(0, rc, text)
    local limited, adaptive = {}, {}
    for k, v in (text:match("RESULT pace_limited ([^\n]*)") or ""):gmatch("([%w_]+)=(%S+)") do
      limited[k] = tonumber(v)
    end
    for k, v in (text:match("RESULT pace_adaptive ([^\n]*)") or ""):gmatch("([%w_]+)=(%S+)") do
      adaptive[k] = tonumber(v)
    end
    assert.same({ 0, 0, 0, 40 }, { limited.failed, limited.lost, limited.twice, limited.sent - limited.limited }, text)
    assert.is_true(limited.limited <= 2, text)
    assert.same({ 0, 0, 0 }, { adaptive.failed, adaptive.lost, adaptive.twice }, text)
  end)

  it("times cjson.decode of the list page the canned server sends", function()
    local text, rc = sh(("%s bench/decode.lua %s page %s"):format(LUA, q(BUILD),
      q(dir .. "/www/list100.json")))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal(#util.read_file(dir .. "/www/list100.json"), r.bytes)
    assert.is_true(r.cjson_us > 0)
  end)

  it("runs the memory loop over TLS + HTTP/2 on one connection", function()
    local text, rc = sh(("%s bench/memory.lua %s %s dapi-x 60 20 %s"):format(LUA, q(BUILD),
      q(srv.urls["tls-h2"]), q(srv.ca_file)))
    assert.equal(0, rc, text)
    local r = assert(result(text), text)
    assert.equal(0, r.errors)
    assert.equal("HTTP/2", r.proto)
    assert.equal(1, r.connections)
  end)

  it("measures the cosocket parser on every pathological shape, and plan, with right answers", function()
    local text, rc = sh(("BENCH_PARSE_OLD=0 %s bench/parse.lua lua %s"):format(LUA, q(BUILD)))
    assert.equal(0, rc, text)
    local cases = {}
    for case in text:gmatch("RESULT parse case=(%S+)") do cases[#cases + 1] = case end
    assert.same({ "plain", "values", "names", "length", "chunks", "drip", "plan" }, cases, text)
  end)
end)
