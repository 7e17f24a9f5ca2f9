-- The application nginx of spec/40-openresty_spec.lua (see nginx.conf.in next to
-- this file): databricks.webhooks used the way an OpenResty application would,
-- from every phase, plus a delivery receiver whose records the spec reads back.
-- Everything answers JSON; errors are shown as plain tables.
local cjson = require("cjson.safe")
local webhooks = require("databricks.webhooks")
local receiver = require("databricks.webhooks.receiver")

local M = {}

local settings   -- conf/settings.lua, written by server.lua (read in the master)
local shared     -- one client per worker, shared by every request and timer

local function reply(t, status)
  ngx.status = status or 200
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
end

local function err_view(err)
  if err == nil then return nil end
  if type(err) ~= "table" then return { raised = tostring(err) } end
  return { error_code = err.error_code, message = err.message, status = err.status,
    request = err.request, retry_after = err.retry_after, attempts = err.attempts, elapsed = err.elapsed,
    retry_timeout = err.retry_timeout, text = tostring(err) }
end

local function store(key, t)
  ngx.shared.dbw_results:set(key, cjson.encode(t))
end

local function base_opts(extra)
  local opts = { host = settings.ws_url, token = settings.ws_token }
  for k, v in pairs(extra or {}) do opts[k] = v end
  -- JSON cannot say nil: "__unset" removes a default (e.g. the token for OAuth)
  for k, v in pairs(opts) do
    if v == "__unset" then opts[k] = nil end
  end
  return opts
end

local function shared_client()
  if not shared then shared = assert(webhooks.new(base_opts())) end
  return shared
end

function M.init(path)
  settings = dofile(path)
end

-- init_worker_by_lua has no cosockets: the call goes through libcurl (it blocks,
-- which is acceptable at worker start). The timer started here has them.
function M.init_worker()
  local c = assert(webhooks.new(base_opts({ timeout = 5, retry_timeout = 0 })))
  local page, err = c:list()
  store("init_worker", { phase = ngx.get_phase(), ok = page ~= nil,
    count = page and #page.webhooks, err = err_view(err) })
  c:close()
  ngx.timer.at(0, function(premature)
    if premature then return end
    local c2 = assert(webhooks.new(base_opts({ timeout = 5, retry_timeout = 0 })))
    local p2, e2 = c2:list()
    store("init_worker_timer", { phase = ngx.get_phase(), ok = p2 ~= nil,
      count = p2 and #p2.webhooks, err = err_view(e2), stats = c2:stats() })
    c2:close()
  end)
end

---------------------------------------------------------------- receiver

-- opts.fresh: with max_age and the de-duplication hooks, as the README shows them.
function M.hook(opts)
  local fresh = opts and opts.fresh
  local seen = fresh and receiver.seen_in(ngx.shared.dbw_seen, 600) or {}
  receiver.handle{
    -- the second secret shows rotation: deliveries signed with either pass
    secret = { settings.secret, settings.old_secret },
    max_body = 64 * 1024,
    max_age = fresh and 300 or nil,
    is_duplicate = seen.is_duplicate,
    forget = seen.forget,
    on_event = function(event, raw)
      local dict = ngx.shared.dbw_events
      local n = dict:incr("n", 1, 0)
      dict:set("e" .. n, cjson.encode({
        event = event.event, webhook_id = event.webhook_id, model_name = event.model_name,
        size = #raw, from_file = ngx.req.get_body_file() ~= nil, uri = ngx.var.uri,
      }))
      if event.model_name == "answer-202" then return 202, "queued" end
      if event.model_name == "raise-please" then error("on_event failed on purpose") end
    end,
  }
end

function M.events()
  local dict = ngx.shared.dbw_events
  if ngx.req.get_method() == "DELETE" then
    dict:flush_all()
    ngx.shared.dbw_seen:flush_all()
    return reply({ ok = true })
  end
  local out = {}
  for i = 1, dict:get("n") or 0 do out[i] = cjson.decode(dict:get("e" .. i)) end
  reply({ events = out, n = #out })
end

function M.results()
  local v = ngx.shared.dbw_results:get(ngx.var.arg_key or "")
  if v == nil then return reply({ pending = true }) end
  ngx.say(v)
end

---------------------------------------------------------------- API calls

-- POST {client = opts?, op = "list", args = [...]}: the call, its duration and
-- the client's counters. Without `client`, the worker's shared client is used.
-- The request body, from memory or from the temporary file nginx keeps a
-- large one in (client_body_buffer_size is 1k here).
local function body_text()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local path = ngx.req.get_body_file()
  if not path then return "{}" end
  local f = assert(io.open(path, "rb"))
  data = f:read("*a")
  f:close()
  return data
end

function M.call()
  local req = cjson.decode(body_text()) or {}
  local client, err = shared_client(), nil
  if req.client then client, err = webhooks.new(base_opts(req.client)) end
  if not client then return reply({ new_err = err_view(err) }) end
  local args = req.args or {}
  local nargs = #args
  for i = 1, nargs do -- JSON null stands for nil
    if args[i] == cjson.null then args[i] = nil end
  end
  ngx.update_time()
  local t0 = ngx.now()
  local ok, r1, r2
  if req.op == "each" then
    ok, r1 = pcall(function()
      local ids = {}
      for wh in client:each(args[1]) do ids[#ids + 1] = wh.id end
      return ids
    end)
  else
    ok, r1, r2 = pcall(client[req.op], client, unpack(args, 1, nargs))
  end
  ngx.update_time()
  local out = { elapsed = ngx.now() - t0, phase = ngx.get_phase(), stats = client:stats() }
  if not ok then
    out.raised = err_view(r1)
  elseif r1 ~= nil then
    out.result = r1
  else
    out.err = err_view(r2)
  end
  if req.client then client:close() end
  reply(out)
end

function M.access()
  local page, err = shared_client():list()
  ngx.ctx.result = { phase = ngx.get_phase(), ok = page ~= nil,
    count = page and #page.webhooks, err = err_view(err) }
end

function M.access_report()
  reply(ngx.ctx.result)
end

local timers = 0

function M.timer()
  timers = timers + 1
  local key = "timer:" .. timers
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    local page, lerr = shared_client():list()
    store(key, { phase = ngx.get_phase(), ok = page ~= nil,
      count = page and #page.webhooks, err = err_view(lerr) })
  end)
  if not ok then return reply({ error = err }, 500) end
  reply({ key = key })
end

-- ?n=20: n calls at once on the shared client, one light thread each.
function M.concurrent()
  local n = tonumber(ngx.var.arg_n) or 20
  local client = shared_client()
  ngx.update_time()
  local t0 = ngx.now()
  local threads = {}
  for i = 1, n do
    threads[i] = ngx.thread.spawn(function()
      local page, err = client:list()
      return page ~= nil, err and tostring(err)
    end)
  end
  local good, errors = 0, {}
  for i = 1, n do
    local ok, listed, err = ngx.thread.wait(threads[i])
    if ok and listed then good = good + 1 else errors[#errors + 1] = tostring(err or listed) end
  end
  ngx.update_time()
  reply({ n = n, ok = good, errors = errors, elapsed = ngx.now() - t0 })
end

---------------------------------------------------------------- fake API

local WEBHOOK = '{"id":"%s","events":["MODEL_VERSION_CREATED"],"status":"ACTIVE",'
  .. '"creation_timestamp":1700000000000}'

local function page_of(n)
  local items = {}
  for i = 1, n do items[i] = WEBHOOK:format(("%032x"):format(i)) end
  return '{"webhooks":[' .. table.concat(items, ",") .. "]}"
end

-- The list endpoint, answering as `model_name` says.
function M.fake_list()
  local mode = ngx.var.arg_model_name or ""
  local body = page_of(3)
  if mode == "chunked" then
    -- no Content-Length: nginx sends it chunked, one chunk per flush
    for i = 1, #body, 25 do
      ngx.print(body:sub(i, i + 24))
      ngx.flush(true)
    end
  elseif mode == "close" or mode == "interim" then
    -- written by hand: an interim 100 first, or a body that ends with the connection
    local sock = assert(ngx.req.socket(true))
    local head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    if mode == "interim" then
      head = "HTTP/1.1 100 Continue\r\n\r\n" .. head:gsub("Connection: close", "Content-Length: " .. #body)
    end
    sock:send(head .. body)
    ngx.flush(true)
    return ngx.exit(ngx.OK)
  elseif mode == "huge" then
    local chunk = string.rep(" ", 1024 * 1024)
    ngx.print('{"webhooks":[]')
    for _ = 1, 17 do
      if not ngx.print(chunk) or not ngx.flush(true) then return end
    end
    ngx.print("}")
  elseif mode == "slow" then
    ngx.sleep(2)
    ngx.print(body)
  else
    ngx.header["Content-Length"] = #body
    ngx.print(body)
  end
end

return M
