-- The registry-webhooks request shapes and Databricks' validation rules
-- (reference §1-§2). Each public function returns the normalised request, or
-- nil, error_code, message. Messages never quote secrets or URLs.
local json = require("workspace.json")
local reply = require("workspace.reply")

local M = {}

-- API-reference order (reference §2).
M.EVENTS = {
  "MODEL_VERSION_CREATED", "MODEL_VERSION_TRANSITIONED_STAGE", "TRANSITION_REQUEST_CREATED",
  "COMMENT_CREATED", "REGISTERED_MODEL_CREATED", "MODEL_VERSION_TAG_SET",
  "MODEL_VERSION_TRANSITIONED_TO_STAGING", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
  "MODEL_VERSION_TRANSITIONED_TO_ARCHIVED", "TRANSITION_REQUEST_TO_STAGING_CREATED",
  "TRANSITION_REQUEST_TO_PRODUCTION_CREATED", "TRANSITION_REQUEST_TO_ARCHIVED_CREATED",
}
M.STATUSES = { "ACTIVE", "DISABLED", "TEST_MODE" }
M.MAX_RESULTS_DEFAULT = 100
M.MAX_RESULTS_LIMIT = 1000

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
M.EVENT_SET = set_of(M.EVENTS)
M.STATUS_SET = set_of(M.STATUSES)

local INVALID = "INVALID_PARAMETER_VALUE"
local clip = reply.clip

-- Validators raise {message=...} and run() turns that into return values; this
-- keeps each rule one line long.
local function fail(fmt, ...)
  error({ message = string.format(fmt, ...) }, 0)
end

local function run(fn, ...)
  local ok, res = pcall(fn, ...)
  if ok then return res end
  if type(res) == "table" and res.message then return nil, INVALID, res.message end
  error(res, 0)
end

local function jtype(v)
  local t = type(v)
  if v == json.null then return "null" end
  if t == "table" then return (#v > 0) and "array" or "object" end
  return t
end

local function missing(path)
  fail("Missing value for required parameter '%s'.", path)
end

local function wrong_type(path, want, v)
  fail("Invalid value for parameter '%s': expected %s, got %s.", path, want, jtype(v))
end

-- JSON null means "not given", as with proto3 JSON.
local function without_nulls(obj)
  local out = {}
  for k, v in pairs(obj) do
    if v ~= json.null then out[k] = v end
  end
  return out
end

local function want_object(v, path)
  if type(v) ~= "table" or #v > 0 then wrong_type(path, "an object", v) end
  return without_nulls(v)
end

local function only_known(obj, allowed, prefix)
  for k in pairs(obj) do
    if not allowed[k] then
      fail("Unknown field '%s%s' in the request.", prefix, clip(k))
    end
  end
end

-- A string field; "" counts as absent (proto3 default), so a required "" is missing.
local function want_string(obj, key, path, required)
  local v = obj[key]
  if v ~= nil and type(v) ~= "string" then wrong_type(path, "a string", v) end
  if v == "" then v = nil end
  if v == nil and required then missing(path) end
  return v
end

local function want_bool(obj, key, path)
  local v = obj[key]
  if v ~= nil and type(v) ~= "boolean" then wrong_type(path, "a boolean", v) end
  return v
end

local function want_enum(obj, key, path, valid)
  local v = want_string(obj, key, path)
  if v ~= nil and not valid[v] then
    fail("Invalid value '%s' for parameter '%s'.", clip(v), path)
  end
  return v
end

-- Events: a non-empty array of valid names; duplicates are dropped, order kept.
local function want_events(obj, key, path, required)
  local v = obj[key]
  if v == nil then
    if required then missing(path) end
    return nil
  end
  if type(v) ~= "table" then wrong_type(path, "an array", v) end
  if next(v) == nil then fail("Parameter '%s' must contain at least one event.", path) end
  if #v == 0 then wrong_type(path, "an array", v) end
  local out, seen = json.array(), {}
  for i, e in pairs(v) do
    if type(i) ~= "number" then wrong_type(path, "an array", v) end
    if type(e) ~= "string" then wrong_type(path .. "[" .. (i - 1) .. "]", "a string", e) end
    if not M.EVENT_SET[e] then fail("Invalid value '%s' for parameter '%s'.", clip(e), path) end
  end
  for _, e in ipairs(v) do
    if not seen[e] then seen[e] = true; out[#out + 1] = e end
  end
  return out
end

local LOOPBACK = { ["127.0.0.1"] = true, ["localhost"] = true, ["[::1]"] = true }

--- Splits an absolute http(s) URL; returns scheme, host (IPv6 in brackets), port|nil, path.
function M.parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  authority = authority:gsub("^.*@", "") -- drop userinfo
  local host, port = authority:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = authority:match("^([^:]*)(.*)$") end
  if port ~= "" then
    port = port:match("^:(%d+)$")
    if not port then return nil end
    port = tonumber(port)
  else
    port = nil
  end
  if host == "" then return nil end
  if path == "" or path:sub(1, 1) ~= "/" then path = "/" .. path end
  return scheme, host:lower(), port, path:gsub("#.*$", "")
end

-- Databricks only accepts https. The workspace also accepts http to loopback
-- (127.0.0.0/8, localhost, [::1]) so that local receivers work: a documented deviation.
local function check_url(url, path)
  local scheme, host = M.parse_url(url)
  if url:find("%s") then scheme = nil end
  local loopback = host and (LOOPBACK[host] or host:match("^127%.%d+%.%d+%.%d+$"))
  if not (scheme == "https" or (scheme == "http" and loopback)) then
    fail("Invalid value for parameter '%s': the URL must be a valid https:// URL.", path)
  end
end

local HTTP_FIELDS = set_of({ "url", "secret", "authorization", "enable_ssl_verification" })
local JOB_FIELDS = set_of({ "job_id", "access_token", "workspace_url" })

local function http_url_spec(v)
  local o = want_object(v, "http_url_spec")
  only_known(o, HTTP_FIELDS, "http_url_spec.")
  local spec = { url = want_string(o, "url", "http_url_spec.url", true) }
  check_url(spec.url, "http_url_spec.url")
  spec.secret = want_string(o, "secret", "http_url_spec.secret")
  spec.authorization = want_string(o, "authorization", "http_url_spec.authorization")
  spec.enable_ssl_verification = want_bool(o, "enable_ssl_verification",
    "http_url_spec.enable_ssl_verification")
  if spec.enable_ssl_verification == nil then spec.enable_ssl_verification = true end
  return spec
end

local function job_spec(v)
  local o = want_object(v, "job_spec")
  only_known(o, JOB_FIELDS, "job_spec.")
  local spec = {
    job_id = want_string(o, "job_id", "job_spec.job_id", true),
    access_token = want_string(o, "access_token", "job_spec.access_token", true),
    workspace_url = want_string(o, "workspace_url", "job_spec.workspace_url"),
  }
  if spec.workspace_url then check_url(spec.workspace_url, "job_spec.workspace_url") end
  return spec
end

local function specs(body, required)
  local h, j = body.http_url_spec, body.job_spec
  if (h ~= nil and j ~= nil) or (required and h == nil and j == nil) then
    fail("Exactly one of 'http_url_spec' or 'job_spec' must be specified.")
  end
  return h ~= nil and http_url_spec(h) or nil, j ~= nil and job_spec(j) or nil
end

--- REGISTERED_MODEL_CREATED fires for new models, so it only makes sense registry-wide.
function M.check_scope(events, model_name)
  if model_name then
    for _, e in ipairs(events) do
      if e == "REGISTERED_MODEL_CREATED" then
        return nil, INVALID, "Event 'REGISTERED_MODEL_CREATED' is only allowed for "
          .. "registry-wide webhooks (without 'model_name')."
      end
    end
  end
  return true
end

local CREATE_FIELDS = set_of({ "events", "model_name", "description", "status",
  "http_url_spec", "job_spec" })

--- POST create: body is the decoded JSON object.
function M.create(body)
  return run(function()
    body = without_nulls(body)
    only_known(body, CREATE_FIELDS, "")
    local req = {
      events = want_events(body, "events", "events", true),
      model_name = want_string(body, "model_name", "model_name"),
      description = want_string(body, "description", "description"),
      status = want_enum(body, "status", "status", M.STATUS_SET) or "ACTIVE",
    }
    req.http_url_spec, req.job_spec = specs(body, true)
    local ok, _, msg = M.check_scope(req.events, req.model_name)
    if not ok then fail("%s", msg) end
    return req
  end)
end

local UPDATE_FIELDS = set_of({ "id", "description", "events", "status", "http_url_spec",
  "job_spec" })

--- PATCH update: only the given fields; description "" clears it.
function M.update(body)
  return run(function()
    body = without_nulls(body)
    if body.model_name ~= nil then
      fail("Parameter 'model_name' cannot be updated: the model of a webhook cannot be changed.")
    end
    only_known(body, UPDATE_FIELDS, "")
    local req = {
      id = want_string(body, "id", "id", true),
      events = want_events(body, "events", "events", false),
      status = want_enum(body, "status", "status", M.STATUS_SET),
    }
    if body.description ~= nil then
      if type(body.description) ~= "string" then
        wrong_type("description", "a string", body.description)
      end
      req.description = body.description
    end
    req.http_url_spec, req.job_spec = specs(body, false)
    return req
  end)
end

local TEST_FIELDS = set_of({ "id", "event" })

--- POST test: {id, event?}; any valid event is accepted.
function M.test(body)
  return run(function()
    body = without_nulls(body)
    only_known(body, TEST_FIELDS, "")
    return {
      id = want_string(body, "id", "id", true),
      event = want_enum(body, "event", "event", M.EVENT_SET),
    }
  end)
end

local ID_FIELDS = set_of({ "id" })

--- DELETE: the id comes from the query string or, in the legacy form, a JSON body.
function M.delete(query_id, body)
  return run(function()
    if query_id ~= nil then
      if type(query_id) ~= "string" then fail("Parameter 'id' must be given once.") end
      if query_id == "" then missing("id") end
      return { id = query_id }
    end
    body = without_nulls(body or {})
    only_known(body, ID_FIELDS, "")
    return { id = want_string(body, "id", "id", true) }
  end)
end

-- A query value: a string, `true` for a bare key, or an array when repeated.
local function single(args, key)
  local v = args[key]
  if v == true then return "" end
  if type(v) == "table" then fail("Parameter '%s' must be given once.", key) end
  return v
end

--- GET list: `args` as returned by ngx.req.get_uri_args(). Unknown parameters are ignored.
function M.list(args)
  return run(function()
    local req = {}
    req.model_name = single(args, "model_name")
    if req.model_name == "" then req.model_name = nil end
    local ev = args.events
    if ev ~= nil then
      if type(ev) ~= "table" then ev = { ev } end
      req.events = {}
      for _, e in ipairs(ev) do
        if e == true or not M.EVENT_SET[e] then
          fail("Invalid value '%s' for parameter 'events'.", clip(e == true and "" or e))
        end
        req.events[e] = true
      end
    end
    local mr = single(args, "max_results")
    if mr == nil then
      req.max_results = M.MAX_RESULTS_DEFAULT
    else
      local n = mr:match("^%d+$") and tonumber(mr)
      if not n or n < 1 or n > M.MAX_RESULTS_LIMIT then
        fail("Invalid value '%s' for parameter 'max_results': it must be an integer "
          .. "between 1 and %d.", clip(mr), M.MAX_RESULTS_LIMIT)
      end
      req.max_results = n
    end
    req.page_token = single(args, "page_token")
    if req.page_token == "" then req.page_token = nil end
    return req
  end)
end

--- The legacy list form (GET with a JSON body, as in the docs' curl example),
-- turned into query-style args for M.list.
function M.list_args_from_body(body)
  return run(function()
    body = without_nulls(body)
    only_known(body, set_of({ "model_name", "events", "max_results", "page_token" }), "")
    local args = {
      model_name = want_string(body, "model_name", "model_name"),
      page_token = want_string(body, "page_token", "page_token"),
    }
    if body.events ~= nil then args.events = want_events(body, "events", "events") end
    local mr = body.max_results
    if mr ~= nil then
      if type(mr) ~= "number" or mr ~= math.floor(mr) then
        wrong_type("max_results", "an integer", mr)
      end
      args.max_results = string.format("%d", mr)
    end
    return args
  end)
end

return M
