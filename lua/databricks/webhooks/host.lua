--- Workspace host URLs: parsing and normalisation the way the SDKs do it,
-- shared by the settings resolver (config.lua) and the cosocket transport
-- (ngx.lua).
--
-- @module databricks.webhooks.host

local type, ipairs, tostring, tonumber = type, ipairs, tostring, tonumber

local M = {}

--- Trims blanks at both ends, in time linear in #s: the pattern "%s+$"
-- retries every blank of a run, so it takes seconds on a long run of blanks.
-- @tparam string s
-- @treturn string
function M.trim(s)
  local from = s:find("%S")
  if not from then return "" end
  local to = #s
  while s:find("^%s", to) do to = to - 1 end
  return s:sub(from, to)
end
local trim = M.trim

--- CR and LF would split an HTTP header, NUL would truncate it in C. The
-- value itself is never echoed: it may be a secret.
-- @tparam string s
-- @treturn boolean
function M.has_control_chars(s)
  return s:find("[\r\n]") ~= nil or s:find("\0", 1, true) ~= nil
end
local has_control_chars = M.has_control_chars

-- "name[:port]" or "[v6][:port]" -> host name, ":port" part (may be ""), or nil.
local function split_authority(authority)
  if authority:sub(1, 1) == "[" then
    return authority:match("^(%[[0-9A-Fa-f:.]+%])(.*)$")
  end
  return authority:match("^([^:]*)(.*)$")
end

-- ":N" -> N when it is a valid port number.
local function port_number(port)
  local digits = port:match("^:(%d+)$")
  local number = digits and tonumber(digits)
  if not number or number < 1 or number > 65535 then return nil end
  return number
end

--- Splits and checks a host URL.
-- @tparam string s the host as given
-- @treturn[1] table `{ scheme, hostname, port (":N" or ""), path, workspace_id, assumed_https }`
-- @treturn[2] nil
-- @treturn[2] string the reason (no option name prefixed)
local function parse_host(s)
  if type(s) ~= "string" then
    return nil, "string expected, got " .. type(s)
  end
  if has_control_chars(s) then
    return nil, "must not contain control characters"
  end
  s = trim(s)
  -- Inside the URL, any control byte (a tab, ESC, DEL...): libcurl refuses it.
  if s:find("%c") then
    return nil, "must not contain control characters"
  end
  if s == "" then
    return nil, "must not be empty"
  end
  -- Python SDK `_fix_host_if_needed`: a value without "://" gets "https://".
  local assumed_https = not s:find("://", 1, true)
  if assumed_https then
    s = "https://" .. s
  end
  local scheme, rest = s:match("^([A-Za-z][0-9A-Za-z+.%-]*)://(.*)$")
  if not scheme then
    return nil, "is not a valid URL"
  end
  scheme = scheme:lower()
  if scheme ~= "https" and scheme ~= "http" then
    return nil, "unsupported scheme '" .. scheme .. "://' (use https://)"
  end
  -- A workspace URL copied from the browser often ends in "?o=<id>#...".
  -- Like the Go SDK (`fixHostIfNeeded`), drop the query and fragment and keep
  -- `o` / `workspace_id` as the workspace ID; the request paths are appended
  -- to the host, so a query left in it would corrupt every URL.
  local query
  local cut = rest:find("#", 1, true)
  if cut then rest = rest:sub(1, cut - 1) end
  cut = rest:find("?", 1, true)
  if cut then
    query = rest:sub(cut + 1)
    rest = rest:sub(1, cut - 1)
  end
  local authority, path = rest:match("^([^/]*)(.*)$")
  if authority:find("@", 1, true) then
    -- Not echoed: the user-info part is probably a password.
    return nil, "must not contain user information (use token or client_id/client_secret)"
  end
  local hostname, port = split_authority(authority)
  if not hostname then
    return nil, "has an invalid IPv6 address"
  end
  if hostname:sub(1, 1) ~= "[" then
    if hostname == "" then
      return nil, "has no host name"
    end
    if not hostname:find("^[0-9A-Za-z_.%-]+$") then
      return nil, "has an invalid host name"
    end
  end
  if port ~= "" then
    local number = port_number(port)
    if not number then
      return nil, "has an invalid port"
    end
    -- Python SDK: an explicit default port is dropped, so
    -- "https://x:443" and "https://x" are the same workspace.
    if scheme == "https" and number == 443 then
      port = ""
    else
      port = ":" .. tostring(number)
    end
  end
  -- Python SDK: trailing slashes go, any other path is kept (a workspace
  -- behind a path-routing proxy needs it). Go would drop the path.
  local last = #path
  while path:byte(last) == 47 do last = last - 1 end -- "/"; not "/+$", quadratic in the run
  path = path:sub(1, last)
  if path:find("%s") then
    return nil, "has an invalid path"
  end
  local workspace_id
  if query then
    -- What gmatch("([^&=]+)=([^&]*)") finds, pair by pair: that pattern is
    -- quadratic in a long run without '='.
    for pair in query:gmatch("[^&]+") do
      local from = pair:find("[^=]")
      local eq = from and pair:find("=", from, true)
      if eq then
        local k, v = pair:sub(from, eq - 1), pair:sub(eq + 1)
        if (k == "o" or k == "workspace_id") and v:find("^%d+$") then
          workspace_id = v
        end
      end
    end
  end
  return {
    scheme = scheme,
    hostname = hostname,
    port = port,
    path = path,
    workspace_id = workspace_id,
    assumed_https = assumed_https,
  }
end
M.parse = parse_host

--- Normalise a workspace host the way the SDKs do.
--
-- Trims whitespace, adds `https://` when there is no `://`, drops trailing
-- `/`s, an explicit `:443` on https, and any `?query`/`#fragment`; keeps any
-- other path. Rejects schemes other than http and https, empty hosts, and
-- user information. Does not apply the http policy (see `resolve`).
-- @tparam string s the host as given
-- @treturn[1] string the normalised URL, e.g. `https://dbc-x.cloud.databricks.com`
-- @treturn[1] string|nil the workspace ID found in `?o=` or `?workspace_id=`

-- @treturn[2] nil
-- @treturn[2] string the reason (no option name prefixed)
function M.normalize(s)
  local parts, why = parse_host(s)
  if not parts then return nil, why end
  return parts.scheme .. "://" .. parts.hostname .. parts.port .. parts.path, parts.workspace_id
end

--- Whether a host name (as in a URL, IPv6 in brackets) is a loopback address:
-- `localhost`, `127.0.0.0/8`, or `[::1]`.
-- @tparam string hostname
-- @treturn boolean
function M.is_loopback(hostname)
  if type(hostname) ~= "string" then return false end
  local h = hostname:lower()
  if h == "localhost" or h == "[::1]" then return true end
  local a, b, c, d = h:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, octet in ipairs({ a, b, c, d }) do
    if #octet > 3 or tonumber(octet) > 255 then return false end
  end
  return tonumber(a) == 127
end


--- Splits a request URL for a socket: `scheme, host (lower-cased), port
-- (number), target` (path and query, "/" at least, no fragment), or nil for
-- anything but http(s) or a URL with user information (it would leak into logs).
-- @tparam string url
function M.split_url(url)
  local scheme, authority, target = url:match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil end
  if authority:find("@", 1, true) then return nil end
  local host, port = split_authority(authority)
  if not host or host == "" then return nil end
  if port == "" then
    port = scheme == "https" and 443 or 80
  else
    port = port_number(port)
    if not port then return nil end
  end
  target = target == "" and "/" or target
  if target:find("#", 1, true) then target = target:match("^([^#]*)") end
  return scheme, host:lower(), port, target
end

return M
