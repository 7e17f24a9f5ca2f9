-- The `databricks-cli` token source: runs `databricks auth token --host H`
-- and reads `{access_token, token_type, expiry}` from what it prints (Python
-- credentials_provider.py DatabricksCliTokenSource / CliTokenSource). The C
-- core calls it whenever its token is missing or near expiry. It runs a
-- process, so it is refused inside nginx.
--
-- (internal: not part of the reference)

local cjson = require("cjson.safe")

local M = {}

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- "2026-08-19T04:06:58.123+02:00" or "...Z" or a space for T -> seconds since the epoch (UTC).
function M.parse_expiry(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)[T ](%d%d):(%d%d):(%d%d)%.?%d*(.*)$")
  if not y then return nil end
  local offset = 0
  if rest ~= "" and rest ~= "Z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  -- days since the epoch of a proleptic Gregorian date (no os.time: it is local time)
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec) - offset
end

-- The first line of what the CLI wrote on stderr that says something,
-- bounded, with every word long enough to be a token cut out: the CLI's
-- diagnostics are shown, a credential never is.
local function diagnostic(text)
  local line = ""
  for l in text:gmatch("[^\r\n]+") do
    if l:find("%S") then line = l break end
  end
  line = line:sub(1, 200):gsub("%c", " ")
  return (line:gsub("[%w%-%._~+=]+", function(word)
    if #word >= 24 then return "<redacted>" end
  end))
end

--- A token source for core.new's `token_source`.
-- @tparam table settings `host`, `databricks_cli_path`
function M.new(settings)
  local exe = settings.databricks_cli_path or "databricks"
  local cmd = quote(exe) .. " auth token --host " .. quote(settings.host)
  return function()
    -- stdout and stderr apart: a warning after the token must not spoil the
    -- JSON, and what is echoed in an error comes from stderr only, never
    -- from stdout, which holds the token. The file is os.tmpname's (0600).
    local errfile = os.tmpname()
    local p = io.popen(cmd .. " 2>" .. quote(errfile), "r")
    if not p then
      os.remove(errfile)
      return nil, "cannot run " .. exe
    end
    local out = p:read("*a") or ""
    p:close()
    local f = io.open(errfile, "rb")
    local err = f and f:read(4096) or ""
    if f then f:close() end
    os.remove(errfile)
    local t = cjson.decode(out)
    if type(t) ~= "table" or type(t.access_token) ~= "string" then
      local said = diagnostic(err)
      if said ~= "" then return nil, "`databricks auth token` failed: " .. said end
      if out:find("%S") then
        return nil, "`databricks auth token` printed no token it could read (its output is not shown:"
          .. " it may hold a credential)"
      end
      return nil, "`databricks auth token` failed: no output"
    end
    return { access_token = t.access_token, token_type = t.token_type, expiry = M.parse_expiry(t.expiry) }
  end
end

return M
