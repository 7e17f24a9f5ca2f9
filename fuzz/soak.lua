--- The soak: many calls against the local workspace, faults injected at random
-- into a share of them, and a model of what the workspace must hold.
--
--   lua5.4 fuzz/soak.lua [ops] [seed]     (make soak SOAK_OPS=100000)
--   require("fuzz.soak").run{ ops = 5000 } (spec/80-soak_spec.lua)
--
-- Every call is checked as it returns: a success must have the right shape
-- and agree with the model (a list filtered on one webhook's model name finds
-- exactly that webhook), a failure must be a structured error with the code
-- the injected fault calls for (see EXPECT). At the end the workspace's state
-- (GET /__control/webhooks) must match the model: every webhook the client
-- was told it created is there with its last confirmed description and
-- status, nothing the client deleted is there, nothing is there twice, and
-- nothing is there the soak did not ask for. The process must not crash, and
-- its RSS must stay flat (printed before and after). Raises on any violation.
--
-- A fault can leave the outcome unknown (a stalled answer after the server
-- acted): the model then accepts both outcomes, and says how many there were.
local M = {}

local FAULT_SHARE = 0.10
local TIMEOUT = 0.5 -- seconds; a stalled answer waits longer than this
local STALL_MS = 200 -- a stalled answer waits the timeout and this much more
local BASE = "/api/2.0/mlflow/registry-webhooks/"
local EVENTS = { "MODEL_VERSION_CREATED", "TRANSITION_REQUEST_CREATED", "COMMENT_CREATED",
  "MODEL_VERSION_TAG_SET" }

-- Faults and their weights (out of the sum). `huge` streams 17 MB and `stall`
-- waits STALL_MS, so they are rarer.
local FAULTS = {
  { kind = "status", status = 500, weight = 10 },
  { kind = "429", weight = 8 },
  { kind = "503", weight = 8 },
  { kind = "drop", weight = 10 },
  { kind = "reset_mid_body", weight = 10 },
  { kind = "stall_after_headers", weight = 2 }, -- delay_ms: the timeout + STALL_MS
  { kind = "non_json", weight = 8 },
  { kind = "html_500", weight = 8 },
  { kind = "truncated", weight = 10 },
  { kind = "wrong_shape", weight = 8 },
  { kind = "huge", size = 17 * 1024 * 1024, weight = 2 },
  { kind = "redirect", location = "https://login.example.invalid/?next=%2F", weight = 6 },
  { kind = "empty", weight = 6 },
  { kind = "slow", delay_ms = 20, weight = 4 },
}

-- What each fault must give, per operation: an error code (and status), or
-- "ok" for an answer the client cannot tell from a real one. `applied`: the
-- server acted before the fault (stall), so the operation took effect.
-- A replacing fault answers before the server acts: nothing changes.
local EXPECT = {
  status = { code = "INTERNAL_ERROR", status = 500 },
  ["429"] = { code = "REQUEST_LIMIT_EXCEEDED", status = 429 },
  ["503"] = { code = "TEMPORARILY_UNAVAILABLE", status = 503 },
  -- libcurl sends a GET again on a fresh connection when a kept-alive one
  -- closes at once, so a list may also succeed; nothing else is re-sent
  drop = { code = "CONNECTION_ERROR", list_ok = true },
  reset_mid_body = { code = "CONNECTION_ERROR" },
  stall_after_headers = { code = "TIMEOUT", applied = true },
  non_json = { code = "BAD_RESPONSE", status = 200 },
  html_500 = { code = "INTERNAL_ERROR", status = 500 },
  truncated = { code = "BAD_RESPONSE", status = 200 },
  wrong_shape = { code = "BAD_RESPONSE", status = 200 },
  huge = { code = "BAD_RESPONSE" },
  redirect = { code = "BAD_RESPONSE", status = 302 },
  -- an empty 200 is a valid answer to list (no webhooks), update (an older
  -- workspace's {}) and delete; create and test need a body
  empty = { code = "BAD_RESPONSE", status = 200, ok_for = { list = true, update = true, delete = true } },
  slow = { ok = true },
}

local METHOD = { create = "POST", list = "GET", update = "PATCH", delete = "DELETE", test = "POST" }

local function rss_kb()
  local f = io.open("/proc/self/status", "r")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")) or 0
end

local function fail(fmt, ...)
  error("soak: " .. fmt:format(...), 0)
end

--- Runs the soak. opts: ops (default 100000), seed, progress (function(line)
-- or nil), server (an already started workspace, else one is started),
-- timeout (seconds, default 0.5), front ("h2" or "h1": through the workspace's
-- HTTPS front with that protocol, which it then starts; default plain HTTP).
-- Returns a report table; raises on a violation.
function M.run(opts)
  opts = opts or {}
  local webhooks = require("databricks.webhooks")
  local workspace = require("spec.support.workspace")
  local ops = opts.ops or 100000
  local seed = opts.seed or os.time()
  local say = opts.progress or function() end
  local timeout = opts.timeout or TIMEOUT
  math.randomseed(seed)

  local own_server = opts.server == nil
  local srv = opts.server or workspace.start{ fronts = opts.front ~= nil, keepalive_requests = 1000 }
  srv:reset()
  local host = opts.front and srv[opts.front .. "_url"] or srv.url
  local client = assert(webhooks.new{ host = host, token = srv.token, timeout = timeout,
    retry_timeout = 0, ca_file = opts.front and srv.ca_file or nil })

  local total_weight = 0
  for _, f in ipairs(FAULTS) do total_weight = total_weight + f.weight end
  local function pick_fault()
    local r = math.random() * total_weight
    for _, f in ipairs(FAULTS) do
      r = r - f.weight
      if r <= 0 then return f end
    end
    return FAULTS[#FAULTS]
  end

  -- the model
  local live, ids = {}, {}      -- id -> { tag, desc, status, desc_known }, and the ids in a list
  local maybe = {}              -- tag -> true: a create whose outcome is unknown
  local maybe_gone = {}         -- id -> true: a delete whose outcome is unknown
  local serial = 0

  local report = { ops = 0, ok = 0, failed = 0, faults = 0, by_kind = {}, by_code = {}, by_op = {},
    unknown_outcomes = 0, unexpected_transient = 0, seed = seed }

  local function add_id(id, w)
    live[id] = w
    ids[#ids + 1] = id
  end
  local function drop_id(id)
    live[id] = nil
    for i, v in ipairs(ids) do
      if v == id then
        ids[i] = ids[#ids]
        ids[#ids] = nil
        break
      end
    end
  end
  local function random_id()
    if #ids == 0 then return nil end
    return ids[math.random(#ids)]
  end

  local function check_error(what, err)
    if getmetatable(err) ~= webhooks.Error then fail("%s: failure is not an error object: %s", what, tostring(err)) end
    if type(err.error_code) ~= "string" or err.error_code == "" then fail("%s: error without a code", what) end
    if type(err.message) ~= "string" then fail("%s: error without a message", what) end
    local line = tostring(err)
    if line:find("[\r\n]") then fail("%s: tostring(err) is not one line", what) end
    if line:find(srv.token, 1, true) then fail("%s: the token shows in an error", what) end
  end

  local function check_webhook(what, wh)
    if type(wh) ~= "table" or type(wh.id) ~= "string" or type(wh.events) ~= "table" then
      fail("%s: not a webhook", what)
    end
    if math.type and math.type(wh.creation_timestamp) ~= "integer" then
      fail("%s: creation_timestamp is not an integer", what)
    end
  end

  -- One operation: returns op, request extras the model needs.
  local function choose_op()
    local n = #ids
    local r = math.random()
    if n < 20 or (n < 150 and r < 0.22) then return "create" end
    if n > 150 and r < 0.3 then return "delete" end
    r = math.random()
    if r < 0.30 then return "list"
    elseif r < 0.60 then return "update"
    elseif r < 0.80 then return "test"
    elseif r < 0.92 then return "delete" end
    return "create"
  end

  local function one(i, fault, warmup)
    local op = warmup or choose_op()
    local id = random_id()
    if op ~= "create" and op ~= "list" and id == nil then op = "create" end
    serial = serial + 1
    local tag = "soak-" .. seed .. "-" .. serial
    local req, expect_ids
    if op == "create" then
      local job = math.random(3) == 1
      req = { events = { EVENTS[math.random(#EVENTS)] }, model_name = tag, description = "d-" .. serial }
      if job then
        req.job_spec = { job_id = tostring(serial), access_token = "dapi-job-" .. serial }
      else
        req.http_url_spec = { url = srv.url .. "/__control/sink/" .. serial, secret = "s-" .. serial }
      end
    elseif op == "list" then
      if id and math.random(2) == 1 then
        req = { model_name = live[id].tag }
        expect_ids = { id }
      else
        req = { max_results = math.random(1, 20) }
      end
    elseif op == "update" then
      req = { id = id, description = "d-" .. serial, status = (serial % 2 == 0) and "ACTIVE" or "TEST_MODE" }
    elseif op == "delete" or op == "test" then
      req = { id = id }
    end

    if fault then
      local f = {}
      for k, v in pairs(fault) do if k ~= "weight" then f[k] = v end end
      f.path = BASE .. op
      f.method = METHOD[op]
      if f.kind == "stall_after_headers" then f.delay_ms = math.floor(timeout * 1000) + STALL_MS end
      srv:faults{ f }
      report.faults = report.faults + 1
      report.by_kind[fault.kind] = (report.by_kind[fault.kind] or 0) + 1
    end

    local res, err
    if op == "create" then res, err = client:create(req)
    elseif op == "list" then res, err = client:list(req)
    elseif op == "update" then res, err = client:update(req)
    elseif op == "delete" then res, err = client:delete(req)
    else res, err = client:test(req) end
    report.ops = report.ops + 1
    report.by_op[op] = (report.by_op[op] or 0) + 1
    local what = ("op %d %s%s"):format(i, op, fault and (" with " .. fault.kind) or "")

    local expect = fault and EXPECT[fault.kind] or { ok = true }
    local should_ok = expect.ok or (expect.ok_for and expect.ok_for[op]) or false
    if res ~= nil then
      report.ok = report.ok + 1
      if not should_ok and not (expect.list_ok and op == "list") then
        fail("%s: succeeded, but the fault calls for %s", what, tostring(expect.code))
      end
    else
      report.failed = report.failed + 1
      check_error(what, err)
      report.by_code[err.error_code] = (report.by_code[err.error_code] or 0) + 1
      if fault and not should_ok then
        if err.error_code ~= expect.code or (expect.status and err.status ~= expect.status) then
          fail("%s: %s, but the fault calls for %s%s", what, tostring(err), expect.code,
            expect.status and (" (HTTP " .. expect.status .. ")") or "")
        end
        if err.request ~= METHOD[op] .. " " .. BASE .. op then
          fail("%s: err.request is %s", what, tostring(err.request))
        end
      elseif err.error_code == "TIMEOUT" or err.error_code == "CONNECTION_ERROR" then
        -- no fault, yet a transient failure: allowed, counted, outcome unknown
        report.unexpected_transient = report.unexpected_transient + 1
        expect = { applied = "unknown" }
      else
        fail("%s: unexpected failure %s", what, tostring(err))
      end
    end

    -- What the operation did to the workspace: yes, no or unknown.
    local changed
    if res ~= nil then
      changed = not fault or expect.ok -- a replacing fault answered in the server's place
    elseif expect.applied == true then
      changed = "unknown-result" -- it acted, the answer was lost
    elseif expect.applied == "unknown" then
      changed = "unknown"
    else
      changed = false
    end

    if op == "create" then
      if changed == true then
        check_webhook(what, res)
        if res.model_name ~= tag or live[res.id] then fail("%s: wrong or repeated webhook", what) end
        add_id(res.id, { tag = tag, desc = req.description, status = "ACTIVE", desc_known = true })
      elseif changed == "unknown-result" or changed == "unknown" then
        maybe[tag] = true
        report.unknown_outcomes = report.unknown_outcomes + 1
      end
    elseif op == "update" then
      if changed == true then
        if res.id ~= id then fail("%s: update answered for %s", what, tostring(res.id)) end
        if res.description ~= nil and res.description ~= req.description then
          fail("%s: update answered description %s", what, tostring(res.description))
        end
        live[id].desc, live[id].status, live[id].desc_known = req.description, req.status, true
      elseif changed == "unknown-result" then
        live[id].desc, live[id].status, live[id].desc_known = req.description, req.status, true
      elseif changed == "unknown" then
        live[id].desc_known = false
        report.unknown_outcomes = report.unknown_outcomes + 1
      end
    elseif op == "delete" then
      if changed == true then
        if res ~= true then fail("%s: delete returned %s", what, tostring(res)) end
        drop_id(id)
      elseif changed == "unknown-result" then
        drop_id(id)
      elseif changed == "unknown" then
        drop_id(id)
        maybe_gone[id] = true
        report.unknown_outcomes = report.unknown_outcomes + 1
      end
    elseif op == "test" then
      if changed == true and res.status_code ~= 200 then
        fail("%s: test delivery answered %s", what, tostring(res.status_code))
      end
    elseif op == "list" and res ~= nil and changed == true then
      if type(res.webhooks) ~= "table" then fail("%s: no webhooks array", what) end
      for _, wh in ipairs(res.webhooks) do
        check_webhook(what, wh)
        if not live[wh.id] and not maybe[wh.model_name] then
          fail("%s: listed %s, which the model does not know", what, wh.id)
        end
      end
      if expect_ids then
        if #res.webhooks ~= 1 or res.webhooks[1].id ~= expect_ids[1] then
          fail("%s: filter on %s found %d webhooks", what, tostring(req.model_name), #res.webhooks)
        end
      end
    end
  end

  -- Warm-up: one call per fault kind, so that buffers that grow once (the
  -- 16 MB response limit) have grown before RSS is measured.
  local i = 0
  for _, f in ipairs(FAULTS) do
    i = i + 1
    one(i, f, (f.kind == "drop" or f.kind == "empty") and "create" or "list")
  end
  for _ = 1, 200 do i = i + 1; one(i, nil) end
  -- the counters count the measured run only
  report.ops, report.ok, report.failed, report.faults = 0, 0, 0, 0
  report.by_kind, report.by_code, report.by_op, report.unknown_outcomes = {}, {}, {}, 0
  collectgarbage()
  collectgarbage()
  local rss_before = rss_kb()
  report.rss_before_kb = rss_before
  local t0 = os.clock()
  local started = os.time()
  say(("soak: %d operations, %d%% with faults, seed %d, RSS before %d KB"):format(ops,
    math.floor(FAULT_SHARE * 100), seed, rss_before))

  local step = math.max(1, math.floor(ops / 10))
  local samples = {}
  for n = 1, ops do
    i = i + 1
    one(i, math.random() < FAULT_SHARE and pick_fault() or nil)
    if n % 1000 == 0 then srv:control("DELETE", "sink") end -- the delivery sink keeps everything
    if n % step == 0 then
      collectgarbage()
      samples[#samples + 1] = rss_kb()
      say(("soak: %d/%d, %d failed (%d faults), live %d, RSS %d KB"):format(n, ops, report.failed,
        report.faults, #ids, samples[#samples]))
    end
  end
  collectgarbage()
  collectgarbage()
  report.rss_after_kb = rss_kb()
  report.rss_samples_kb = samples
  report.cpu_seconds = os.clock() - t0
  report.wall_seconds = os.time() - started

  -- The workspace's state against the model.
  local pending = srv:control("GET", "faults")
  if #pending > 0 then fail("%d injected faults were never used", #pending) end
  local by_tag, server = {}, {}
  for _, wh in ipairs(srv:webhooks()) do
    server[wh.id] = wh
    if by_tag[wh.model_name] then fail("%s was created twice", tostring(wh.model_name)) end
    by_tag[wh.model_name] = wh
  end
  local found_maybe = 0
  for id, wh in pairs(server) do
    if not live[id] then
      if maybe[wh.model_name] then
        found_maybe = found_maybe + 1
      elseif not maybe_gone[id] then
        fail("the workspace holds %s (%s), which the model does not know (deleted, or never created)", id,
          tostring(wh.model_name))
      end
    end
  end
  for id, w in pairs(live) do
    local wh = server[id]
    if not wh then fail("webhook %s (%s) was lost", id, w.tag) end
    if wh.model_name ~= w.tag then fail("webhook %s changed model_name", id) end
    if w.desc_known and (wh.description ~= w.desc or wh.status ~= w.status) then
      fail("webhook %s holds %s/%s, the model %s/%s", id, tostring(wh.description), tostring(wh.status),
        w.desc, w.status)
    end
  end
  report.live = #ids
  report.server_webhooks = 0
  for _ in pairs(server) do report.server_webhooks = report.server_webhooks + 1 end
  report.found_unknown_creates = found_maybe

  client:close()
  if own_server then srv:stop() end
  return report
end

--- One line per number of a report.
function M.format(r)
  local kinds, codes, per_op = {}, {}, {}
  for _, op in ipairs({ "create", "list", "update", "delete", "test" }) do
    per_op[#per_op + 1] = op .. "=" .. (r.by_op[op] or 0)
  end
  for k, v in pairs(r.by_kind) do kinds[#kinds + 1] = k .. "=" .. v end
  for k, v in pairs(r.by_code) do codes[#codes + 1] = k .. "=" .. v end
  table.sort(kinds)
  table.sort(codes)
  return table.concat({
    ("operations:        %d (seed %d): %s"):format(r.ops, r.seed, table.concat(per_op, " ")),
    ("succeeded:         %d"):format(r.ok),
    ("failed:            %d, every one a structured error"):format(r.failed),
    ("faults injected:   %d (%s)"):format(r.faults, table.concat(kinds, " ")),
    ("error codes:       %s"):format(table.concat(codes, " ")),
    ("unknown outcomes:  %d (of which %d creates found on the workspace); transient errors without a fault: %d")
      :format(r.unknown_outcomes, r.found_unknown_creates, r.unexpected_transient),
    ("workspace state:   %d webhooks, %d in the model; nothing lost, nothing twice, nothing unknown")
      :format(r.server_webhooks, r.live),
    ("RSS:               %d KB before, %d KB after (%+d KB); samples %s"):format(r.rss_before_kb,
      r.rss_after_kb, r.rss_after_kb - r.rss_before_kb, table.concat(r.rss_samples_kb, " ")),
    ("time:              %d s wall, %.1f s CPU"):format(r.wall_seconds, r.cpu_seconds),
  }, "\n")
end

-- As a script: lua5.4 fuzz/soak.lua [ops] [seed]
if (...) ~= "fuzz.soak" then
  local version = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+")
  package.cpath = (os.getenv("DBW_BUILD") or ("./build/" .. version)) .. "/?.so;" .. package.cpath
  package.path = "./lua/?.lua;./?.lua;" .. package.path
  local a1, a2 = ...
  local ops, seed = a1 and tonumber(a1), a2 and tonumber(a2)
  local r = M.run{ ops = ops, seed = seed, progress = print }
  print(M.format(r))
  local growth = r.rss_after_kb - r.rss_before_kb
  if growth > 16 * 1024 then
    print(("soak: RSS grew by %d KB"):format(growth))
    os.exit(1)
  end
  print("soak: ok")
end

return M
