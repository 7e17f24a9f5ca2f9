-- Request shapes and validation of the OSS MLflow webhooks API (3.3+), with the
-- real server's quirks (spec/support/README.md, "The MLflow server"). Every
-- check raises; mlflow_api.lua turns the raised value into an answer:
--   { code = "INVALID_PARAMETER_VALUE", message = "..." }   a JSON error
--   { html500 = true }                                      Flask's HTML 500 page
local json = require("workspace.json")
local config = require("workspace.config")
local schema = require("workspace.schema")

local M = {}

M.ENTITIES = { "REGISTERED_MODEL", "MODEL_VERSION", "MODEL_VERSION_TAG", "MODEL_VERSION_ALIAS",
  "PROMPT", "PROMPT_VERSION", "PROMPT_TAG", "PROMPT_VERSION_TAG", "PROMPT_ALIAS", "BUDGET_POLICY" }
M.ACTIONS = { "CREATED", "UPDATED", "DELETED", "SET", "EXCEEDED" }
M.STATUSES = { "ACTIVE", "DISABLED" }

-- entity (lower case) → its valid actions, in the order the server lists them
M.VALID = {
  registered_model = { "created" }, model_version = { "created" },
  prompt = { "created" }, prompt_version = { "created" },
  model_version_tag = { "set", "deleted" }, prompt_tag = { "set", "deleted" },
  prompt_version_tag = { "set", "deleted" },
  model_version_alias = { "created", "deleted" }, prompt_alias = { "created", "deleted" },
  budget_policy = { "exceeded" },
}

local function index(list)
  local by_name = {}
  for i, v in ipairs(list) do by_name[v] = i end
  return by_name
end
local ENTITY_NUM, ACTION_NUM, STATUS_NUM = index(M.ENTITIES), index(M.ACTIONS), index(M.STATUSES)

local function fail(code, fmt, ...)
  error({ code = code, message = string.format(fmt, ...) }, 0)
end
local function invalid(fmt, ...) fail("INVALID_PARAMETER_VALUE", fmt, ...) end
local function html500() error({ html500 = true }, 0) end
M.fail, M.invalid, M.html500 = fail, invalid, html500

local API_DOCS = "See the API docs for more information about request parameters."

-- Python's name for the type of a decoded JSON value.
local function pytype(v)
  local t = type(v)
  if t == "string" then return "str" end
  if t == "boolean" then return "bool" end
  if t == "number" then return v == math.floor(v) and "int" or "float" end
  if t == "table" then return (#v > 0 or getmetatable(v)) and "list" or "dict" end
  return "NoneType"
end

-- The value as the f-string in the server's message prints it.
local function pyvalue(v)
  if type(v) == "boolean" then return v and "True" or "False" end
  if type(v) == "string" then return v end
  return json.encode_python(v)
end

local function wrong_type(key, v)
  invalid("Invalid value %s for parameter '%s' supplied. Hint: Value was of type '%s'. %s",
    pyvalue(v), key, pytype(v), API_DOCS)
end

local function missing(key)
  invalid("Missing value for required parameter '%s'. %s", key, API_DOCS)
end

-- JSON null counts as absent.
local function field(body, key)
  local v = body[key]
  if v == json.null then return nil end
  return v
end

local function want_string(body, key, required)
  local v = field(body, key)
  if v == nil then
    if required then missing(key) end
    return nil
  end
  if type(v) ~= "string" then wrong_type(key, v) end
  return v
end

-- One proto enum value: its NAME or number. Anything else (a lower-case name,
-- an unknown name or number, *_UNSPECIFIED = 0) breaks the server's proto
-- parsing, which it does not catch: a 500 HTML page.
local function enum(v, list, by_name)
  if type(v) == "string" and by_name[v] then return v end
  if type(v) == "number" and list[v] then return list[v] end
  html500()
end

--- A request event object → { entity = "model_version", action = "created" }.
function M.event(v)
  if type(v) ~= "table" or #v > 0 then html500() end
  local entity = enum(field(v, "entity"), M.ENTITIES, ENTITY_NUM):lower()
  local action = enum(field(v, "action"), M.ACTIONS, ACTION_NUM):lower()
  local valid = M.VALID[entity]
  local ok = false
  for _, a in ipairs(valid) do ok = ok or a == action end
  if not ok then
    local quoted = {}
    for i, a in ipairs(valid) do quoted[i] = "'" .. a .. "'" end
    invalid("Invalid action '%s' for entity '%s'. Valid actions are: [%s]", action, entity,
      table.concat(quoted, ", "))
  end
  return { entity = entity, action = action }
end

-- The parsed events, without value checks (those come with the store's checks).
local function events_field(body)
  local v = field(body, "events")
  if v == nil then return nil end
  if type(v) ~= "table" then html500() end -- a string or number: proto parsing fails
  for k in pairs(v) do
    if type(k) ~= "number" then html500() end -- an object where a list belongs
  end
  return v
end

local function check_events(list)
  if #list == 0 then
    invalid("Webhook events must be a non-empty list of WebhookEvent objects: [].")
  end
  local out = {}
  for i, e in ipairs(list) do out[i] = M.event(e) end
  return out
end

local NAME_HELP = "It must start and end with a letter or digit, contain only letters, digits,"
  .. " '.', '_' and '-', and be at most 63 characters long."

local function check_name(name)
  local ok = #name >= 1 and #name <= 63 and name:match("^[%w._-]+$")
    and name:sub(1, 1):match("%w") and name:sub(-1):match("%w")
  if not ok then invalid("Webhook name '%s' is invalid. %s", name, NAME_HELP) end
end

-- Non-public addresses (the 3.10+ check): loopback, private, link-local,
-- shared, unspecified, IPv6 loopback/unique-local/link-local.
local function non_public(host)
  if host == "localhost" then return "127.0.0.1" end
  local a, b = host:match("^(%d+)%.(%d+)%.%d+%.%d+$")
  if a then
    a, b = tonumber(a), tonumber(b)
    if a == 127 or a == 10 or a == 0 or (a == 172 and b >= 16 and b <= 31)
      or (a == 192 and b == 168) or (a == 169 and b == 254) or (a == 100 and b >= 64 and b <= 127) then
      return host
    end
    return nil
  end
  local v6 = host:match("^%[(.*)%]$")
  if v6 then
    v6 = v6:lower()
    if v6 == "::1" or v6 == "::" or v6:match("^f[cd]") or v6:match("^fe[89ab]") then return v6 end
  end
  return nil
end

local function allowed_schemes()
  local out = {}
  for s in tostring(config.settings.allowed_schemes):gmatch("[^,%s]+") do out[#out + 1] = s:lower() end
  return out
end

--- The server's URL rules, in its order. Host names are never resolved: a
-- literal address or `localhost` is checked, a name under `.invalid` fails as
-- a DNS failure would, any other name counts as public.
function M.check_url(url)
  if url:match("^%s*$") then invalid("Webhook URL cannot be empty or just whitespace.") end
  local scheme = (url:match("^(%a[%w+.-]*):") or ""):lower()
  local allowed = allowed_schemes()
  local ok = false
  for _, s in ipairs(allowed) do ok = ok or s == scheme end
  if not ok then
    invalid("Invalid webhook URL scheme: '%s'. Allowed schemes are: %s.", scheme,
      table.concat(allowed, ", "))
  end
  local _, host = schema.parse_url(url)
  if not host then invalid("Webhook URL must include a hostname.") end
  if host:match("%.invalid$") or host == "invalid" then
    invalid("Cannot resolve webhook URL hostname '%s': [Errno -2] Name or service not known", host)
  end
  local blocked = M.blocked(url)
  if blocked then invalid("%s", blocked) end
end

--- The 3.10+ refusal of a non-public address (create, update, and every send), or nil.
function M.blocked(url)
  local _, host = schema.parse_url(url)
  local addr = host and non_public(host)
  if not addr or config.settings.allow_private_ips then return nil end
  return string.format("Webhook URL must not resolve to a non-public IP address. '%s' resolves to %s.",
    (host:gsub("^%[(.*)%]$", "%1")), addr)
end

-- status: a NAME or number; an unknown string is the "partly parsed" quirk.
local function status_field(body)
  local v = field(body, "status")
  if v == nil then return nil end
  if type(v) == "number" and M.STATUSES[v] then return M.STATUSES[v] end
  if type(v) ~= "string" then wrong_type("status", v) end
  if STATUS_NUM[v] then return v end
  return false
end

--- POST /webhooks → { name, url, events, description?, secret?, status }.
function M.create(body)
  local r = {
    name = want_string(body, "name", true),
    url = want_string(body, "url", true),
  }
  local events = events_field(body)
  if events == nil then missing("events") end
  r.description = want_string(body, "description")
  r.secret = want_string(body, "secret")
  local status = status_field(body)
  if status == false then -- the server saw a message parsed up to the bad enum
    invalid("Webhook events must be a non-empty list of WebhookEvent objects: [].")
  end
  r.status = status or "ACTIVE"
  check_name(r.name)
  M.check_url(r.url)
  r.events = check_events(events)
  if r.description == "" then r.description = nil end
  if r.secret == "" then r.secret = nil end
  return r
end

--- PATCH /webhooks/{id} → the fields to change ("" and [] count as not given).
-- `status` is always set: a missing one reads as ACTIVE on the real server.
-- `only_status` marks the unknown-status quirk (nothing else changes).
function M.update(body)
  local r = {
    name = want_string(body, "name"),
    description = want_string(body, "description"),
    url = want_string(body, "url"),
  }
  local events = events_field(body)
  r.secret = want_string(body, "secret")
  local status = status_field(body)
  if status == false then return { status = "ACTIVE", only_status = true } end
  r.status = status or "ACTIVE"
  for _, k in ipairs({ "name", "description", "url", "secret" }) do
    if r[k] == "" then r[k] = nil end
  end
  if r.name then check_name(r.name) end
  if r.url then M.check_url(r.url) end
  if events and #events > 0 then r.events = check_events(events) end
  return r
end

--- POST /webhooks/{id}/test → the event, or nil for the default one.
function M.test(body)
  local v = field(body, "event")
  if v == nil then return nil end
  return M.event(v)
end

--- GET /webhooks query → max_results, offset.
function M.list(args)
  local function first(v) return type(v) == "table" and v[1] or v end
  local max = first(args.max_results)
  local n = 100
  if max ~= nil and max ~= true then
    if not max:match("^%s*[+-]?%d+%s*$") then
      invalid("Invalid value \"%s\" for parameter 'max_results' supplied. %s", max, API_DOCS)
    end
    n = tonumber(max)
    if n == 0 then n = 100 end
    if n < 1 or n > 1000 then invalid("max_results must be between 1 and 1000.") end
  end
  local offset = 0
  local token = first(args.page_token)
  if token ~= nil and token ~= true and token ~= "" then
    local raw = ngx.decode_base64(token)
    if not raw then invalid("Invalid page token, could not base64-decode") end
    local parsed = json.decode(raw)
    if parsed == nil then invalid("Invalid page token, decoded value=b'%s'", raw) end
    local o = type(parsed) == "table" and parsed.offset or nil
    if not o or o == 0 or o == json.null or o == "" then
      invalid("Invalid page token, parsed value=%s", raw)
    end
    offset = tonumber(o)
    if not offset or offset ~= math.floor(offset) or offset < 0 then
      invalid("Invalid page token, not stringable %s", tostring(o))
    end
  end
  return n, offset
end

--- The event for the control API's event endpoint: names in either case.
function M.control_event(entity, action)
  if type(entity) ~= "string" or type(action) ~= "string" then return nil end
  entity, action = entity:lower(), action:lower()
  for _, a in ipairs(M.VALID[entity] or {}) do
    if a == action then return { entity = entity, action = action } end
  end
  return nil
end

return M
