-- CPU per response of the cosocket transport's parser (databricks.webhooks.ngx)
-- on heads and bodies a hostile peer shapes to make a parser backtrack: long
-- runs of blanks inside header values, before a colon, around Content-Length
-- digits, in chunk-size lines, and a head sent one byte per read; and of
-- `plan` on a listed workspace URL full of slashes. Each shape is measured at
-- three sizes: linear parsing grows with the size, a quadratic pattern with its
-- square (shown for the old header pattern in its own column).
--
--   luajit bench/parse.lua [LUA_DIR] [BUILD_DIR]      (lua5.4 works too)
--
-- The transport runs inside this process on an in-memory socket that hands
-- out the canned bytes (what nginx's cosocket would), so only parsing is
-- measured: no network, no nginx. The plan case needs the C core (BUILD_DIR)
-- and is skipped without it. Prints one line per shape, then RESULT lines for
-- bench/bench.lua: `RESULT parse case=K lua=V small_us= large_us= growth= limit= ok=`.
local lua_dir = arg[1] or "lua"
local version = (type(jit) == "table") and "luajit" or _VERSION:match("%d+%.%d+")
local build = arg[2] or ("build/" .. version)
package.path = lua_dir .. "/?.lua;" .. lua_dir .. "/?/init.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath
local LUA = (type(jit) == "table") and jit.version or _VERSION

-- An in-memory cosocket: receiveany() hands out `piece` bytes at most.
local current = { data = "", piece = 16384 }
local Sock = {}
Sock.__index = Sock
function Sock.settimeouts() end
function Sock.settimeout() end
function Sock.connect() return true end
function Sock.getreusedtimes() return 0 end
function Sock.send() return 1 end
function Sock.setkeepalive() end
function Sock.close() end
function Sock:receiveany(n)
  local pos, data = self.pos, self.data
  if pos > #data then return nil, "closed" end
  local k = math.min(n, self.piece, #data - pos + 1)
  self.pos = pos + k
  return data:sub(pos, pos + k - 1)
end

ngx = { -- luacheck: ignore 111 (the global the transport reads)
  socket = { tcp = function() return setmetatable({ data = current.data, piece = current.piece, pos = 1 }, Sock) end },
  now = function() return 0 end, sleep = function() end, update_time = function() end,
  config = { ngx_lua_version = 10025 },
}
local transport = require("databricks.webhooks.ngx").new()

local BODY = '{"webhooks":[]}'
local REQUEST = { method = "GET", url = "http://127.0.0.1:1/api/2.0/mlflow/registry-webhooks/list", timeout = 60 }

-- CPU seconds per call of f, over at least 0.2 s and 3 calls.
local function per_call(f)
  local n, t0 = 0, os.clock()
  repeat
    f()
    n = n + 1
  until n >= 3 and os.clock() - t0 >= 0.2
  return (os.clock() - t0) / n
end

local function response_cpu(data, piece)
  current.data, current.piece = data, piece or 16384
  local r = transport:request(REQUEST)
  assert(r.status == 200 and r.body == BODY, "parse: wrong answer: " .. tostring(r.message or r.status))
  return per_call(function() transport:request(REQUEST) end)
end

local function head(lines, tail)
  return "HTTP/1.1 200 OK\r\n" .. table.concat(lines, "\r\n") .. "\r\n"
    .. (tail or ("Content-Length: " .. #BODY .. "\r\n\r\n" .. BODY))
end

local function four(f)
  local t = {}
  for i = 1, 4 do t[i] = f(i) end
  return t
end

local function B(n) return (" "):rep(n) end
local function half(n) return math.floor(n / 2) end

-- Each shape: a function of the size n (bytes of blanks in a line, at most
-- 15,000 so that four lines fit the 64 KiB head and each the 16 KiB line).
local SHAPES = {
  { key = "plain", what = "plain head (4 lines of n letters), for comparison",
    make = function(n) return head(four(function(i) return "X-H" .. i .. ": " .. ("c"):rep(n) end)) end },
  { key = "values", what = "blanks inside header values (4 x `X-Pad: a<n blanks>b`)",
    make = function(n) return head(four(function(i) return "X-Pad-" .. i .. ": a" .. B(n) .. "b" end)) end,
    old = function(n)
      local lines = four(function(i) return "X-Pad-" .. i .. ": a" .. B(n) .. "b" end)
      local t0 = os.clock() -- once: it takes seconds
      for _, l in ipairs(lines) do l:match("^([^:%s]+)%s*:%s*(.-)%s*$") end
      return os.clock() - t0
    end },
  { key = "names", what = "blanks before the colon (4 x `X-Name<n blanks>: v`)",
    make = function(n) return head(four(function(i) return "X-Name-" .. i .. B(n) .. ": v" end)) end },
  { key = "length", what = "blanks and zeros around Content-Length digits",
    make = function(n)
      return head({ "X-A: 1" }, "Content-Length:" .. B(half(n)) .. ("0"):rep(half(n)) .. #BODY .. B(64)
        .. "\r\n\r\n" .. BODY)
    end },
  { key = "chunks", what = "blanks and zeros in chunk-size lines (4 chunks)",
    make = function(n)
      local parts = {}
      for i = 0, 3 do
        local piece = BODY:sub(i * 4 + 1, i * 4 + 4)
        parts[#parts + 1] = B(half(n)) .. ("0"):rep(half(n)) .. ("%x"):format(#piece) .. "\r\n" .. piece .. "\r\n"
      end
      return head({ "Transfer-Encoding: chunked" }, "\r\n" .. table.concat(parts) .. "0\r\n\r\n")
    end },
  { key = "drip", what = "plain head handed over one byte per read", piece = 1,
    make = function(n) return head(four(function(i) return "X-H" .. i .. ": " .. ("c"):rep(n) end)) end },
}

local SIZES = { 1024, 4096, 15000 }
local GROWTH_LIMIT = 2 * SIZES[3] / SIZES[1] -- twice linear: a square is 200x

local results = {}
local function report(key, what, cpu, old)
  local growth = cpu[3] / cpu[1]
  local ok = growth <= GROWTH_LIMIT
  local cells = {}
  for i, n in ipairs(SIZES) do cells[i] = ("n=%d %.1f us"):format(n, cpu[i] * 1e6) end
  print(("parse: %s: %s: %s; growth %.1fx for %.1fx the bytes%s%s"):format(LUA, what, table.concat(cells, ", "),
    growth, SIZES[3] / SIZES[1], old and ("; the old pattern: %.0f us at n=%d"):format(old * 1e6, SIZES[3]) or "",
    ok and "" or " (NOT LINEAR)"))
  results[#results + 1] = ("RESULT parse case=%s lua=%s small_us=%.2f large_us=%.2f growth=%.2f limit=%.2f "
    .. "old_us=%s ok=%d"):format(key, version, cpu[1] * 1e6, cpu[3] * 1e6, growth, GROWTH_LIMIT,
    old and ("%.0f"):format(old * 1e6) or "-", ok and 1 or 0)
end

for _, shape in ipairs(SHAPES) do
  local cpu = {}
  for i, n in ipairs(SIZES) do cpu[i] = response_cpu(shape.make(n), shape.piece) end
  report(shape.key, shape.what, cpu, shape.old and os.getenv("BENCH_PARSE_OLD") ~= "0" and shape.old(SIZES[3]))
end

-- plan: a listed webhook whose workspace URL holds a run of slashes
local ok_core = pcall(require, "databricks.webhooks.core")
if ok_core then
  local plan = require("databricks.webhooks.plan")
  local PLAN_SIZES = { 16384, 65536, 262144 }
  local cpu = {}
  for i, n in ipairs(PLAN_SIZES) do
    local ws_url = "https://ws.example.com" .. ("/"):rep(n) .. "x"
    local listed = { { id = "1", model_name = "m", events = { "MODEL_VERSION_CREATED" }, status = "ACTIVE",
      job_spec = { job_id = "7", workspace_url = ws_url } } }
    local client = { each = function()
      local k = 0
      return function() k = k + 1; return listed[k] end
    end }
    local desired = { { model_name = "m", events = { "MODEL_VERSION_CREATED" },
      job_spec = { job_id = "7", workspace_url = ws_url .. "/", access_token = { env = "HOME" } } } }
    assert(assert(plan.plan(client, desired)).counts.unchanged == 1)
    cpu[i] = per_call(function() plan.plan(client, desired) end)
  end
  local growth = cpu[3] / cpu[1]
  local limit = 2 * PLAN_SIZES[3] / PLAN_SIZES[1]
  print(("parse: %s: plan, a listed workspace URL with n slashes in it: n=%d %.1f us, n=%d %.1f us, n=%d %.1f us;"
    .. " growth %.1fx for %.1fx the bytes%s"):format(LUA, PLAN_SIZES[1], cpu[1] * 1e6, PLAN_SIZES[2], cpu[2] * 1e6,
    PLAN_SIZES[3], cpu[3] * 1e6, growth, PLAN_SIZES[3] / PLAN_SIZES[1], growth <= limit and "" or " (NOT LINEAR)"))
  results[#results + 1] = ("RESULT parse case=plan lua=%s small_us=%.2f large_us=%.2f growth=%.2f limit=%.2f "
    .. "old_us=- ok=%d"):format(version, cpu[1] * 1e6, cpu[3] * 1e6, growth, limit, growth <= limit and 1 or 0)
else
  print(("parse: %s: plan skipped (no C core in %s)"):format(LUA, build))
end

for _, line in ipairs(results) do print(line) end
