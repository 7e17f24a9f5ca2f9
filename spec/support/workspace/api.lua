-- The five registry-webhooks endpoints (reference §1), after auth. Each handler
-- takes the captured request and returns status, body[, headers].
local json = require("workspace.json")
local reply = require("workspace.reply")
local schema = require("workspace.schema")
local store = require("workspace.store")
local config = require("workspace.config")
local delivery = require("workspace.delivery")

local M = {}

M.BASE = "/api/2.0/mlflow/registry-webhooks/"

local next_run_id = 1

function M.reset()
  next_run_id = 1
end

local function blank(s)
  return s:match("^%s*$") ~= nil
end

-- The JSON object in the body; an empty body counts as {} (proto3 defaults).
local function parse_body(req)
  if blank(req.body) then return {} end
  local v = json.decode(req.body)
  if v == nil then
    return nil, reply.error("BAD_REQUEST",
      "Invalid JSON given in the body of the request - failed to parse it.")
  end
  if not json.is_object_text(req.body) then
    return nil, reply.error("BAD_REQUEST",
      "Invalid JSON given in the body of the request - expected a map.")
  end
  return v
end

local function not_found(id)
  return reply.error("RESOURCE_DOES_NOT_EXIST",
    string.format("Registry webhook with ID '%s' does not exist.", reply.clip(id)))
end

local function webhook_response(wh)
  return 200, '{"webhook":' .. store.view(wh) .. "}"
end

local function create(req)
  local body, s, b = parse_body(req)
  if not body then return s, b end
  local r, code, msg = schema.create(body)
  if not r then return reply.error(code, msg) end
  local known = config.settings.known_models
  if r.model_name and known and not known[r.model_name] then
    return reply.error("RESOURCE_DOES_NOT_EXIST",
      string.format("Registered model '%s' does not exist.", reply.clip(r.model_name)))
  end
  return webhook_response(store.insert(r))
end

-- Page tokens: base64 of a marker, the seq of the last webhook returned and a
-- fingerprint of the filters. The two marker bytes make every token contain
-- "+" and "/", so a client that does not URL-encode page_token fails visibly.
local TOKEN_MARK = "\251\255ws1:"

local function fingerprint(r)
  local ev = {}
  for e in pairs(r.events or {}) do ev[#ev + 1] = e end
  table.sort(ev)
  return string.format("%08x", ngx.crc32_long((r.model_name or "") .. "\0" .. table.concat(ev, ",")))
end

local function encode_token(seq, fp)
  return ngx.encode_base64(TOKEN_MARK .. seq .. ":" .. fp)
end

local function decode_token(token, fp)
  local raw = ngx.decode_base64(token)
  if not raw or raw:sub(1, #TOKEN_MARK) ~= TOKEN_MARK then return nil end
  local seq, tfp = raw:sub(#TOKEN_MARK + 1):match("^(%d+):(%x+)$")
  if not seq or tfp ~= fp then return nil end
  return tonumber(seq)
end

local function list(req)
  local args = ngx.req.get_uri_args(1000)
  if next(args) == nil and not blank(req.body) then
    -- legacy form: GET with a JSON body (the docs' curl example)
    local body, s, b = parse_body(req)
    if not body then return s, b end
    local code, msg
    args, code, msg = schema.list_args_from_body(body)
    if not args then return reply.error(code, msg) end
  end
  local r, code, msg = schema.list(args)
  if not r then return reply.error(code, msg) end

  local fp = fingerprint(r)
  local after = 0
  if r.page_token then
    after = decode_token(r.page_token, fp)
    if not after then
      return reply.error("INVALID_PARAMETER_VALUE",
        "Invalid page_token: it is malformed or does not match the other parameters.")
    end
  end
  local items, more = store.page(r, after, r.max_results)
  local parts = {}
  if #items > 0 then -- an empty page has no "webhooks" key at all (proto3 JSON)
    local views = {}
    for i, wh in ipairs(items) do views[i] = store.view(wh) end
    parts[#parts + 1] = '"webhooks":' .. json.raw_array(views)
  end
  if more then
    parts[#parts + 1] = '"next_page_token":' .. json.encode(encode_token(items[#items].seq, fp))
  end
  return 200, "{" .. table.concat(parts, ",") .. "}"
end

local function update(req)
  local body, s, b = parse_body(req)
  if not body then return s, b end
  local r, code, msg = schema.update(body)
  if not r then return reply.error(code, msg) end
  local wh = store.get(r.id)
  if not wh then return not_found(r.id) end
  if r.events then
    local ok, c, m = schema.check_scope(r.events, wh.model_name)
    if not ok then return reply.error(c, m) end
    wh.events = r.events
  end
  if r.description then wh.description = r.description ~= "" and r.description or nil end
  if r.status then wh.status = r.status end
  -- a new spec replaces the old one whole (secret included); switching kind drops the other
  if r.http_url_spec then wh.http_url_spec, wh.job_spec = r.http_url_spec, nil end
  if r.job_spec then wh.job_spec, wh.http_url_spec = r.job_spec, nil end
  store.touch(wh)
  return webhook_response(wh)
end

local function delete(req)
  local args = ngx.req.get_uri_args(100)
  local body
  if args.id == nil and not blank(req.body) then
    local s, b
    body, s, b = parse_body(req)
    if not body then return s, b end
  end
  local r, code, msg = schema.delete(args.id, body)
  if not r then return reply.error(code, msg) end
  if not store.remove(r.id) then return not_found(r.id) end
  return 200, "{}"
end

local TEST_KEYS = { "status_code", "body" }

local function test(req)
  local body, s, b = parse_body(req)
  if not body then return s, b end
  local r, code, msg = schema.test(body)
  if not r then return reply.error(code, msg) end
  local wh = store.get(r.id)
  if not wh then return not_found(r.id) end
  if wh.status == "DISABLED" then
    return reply.error("INVALID_PARAMETER_VALUE", string.format(
      "Registry webhook with ID '%s' is disabled: no triggers are sent.", wh.id))
  end
  local event = r.event or wh.events[math.random(#wh.events)]

  if wh.job_spec then -- a job webhook would call jobs/run-now; answer as it would
    local run_id = next_run_id
    next_run_id = next_run_id + 1
    return 200, json.encode(json.ordered(
      { status_code = 200, body = string.format('{"run_id":%d}', run_id) }, TEST_KEYS))
  end

  local status, resp = delivery.post(wh.http_url_spec,
    delivery.payload(wh, event, store.now_ms()))
  if not status then
    return reply.error("INVALID_PARAMETER_VALUE", string.format(
      "Failed to send the test trigger of registry webhook with ID '%s': %s.", wh.id, resp))
  end
  return 200, json.encode(json.ordered({ status_code = status, body = resp }, TEST_KEYS))
end

local ROUTES = {
  create = { "POST", create },
  list = { "GET", list },
  update = { "PATCH", update },
  delete = { "DELETE", delete },
  test = { "POST", test },
}

--- Routes an authenticated /api/ request. A known path with the wrong method is
-- answered like an unknown path (404 ENDPOINT_NOT_FOUND), as Databricks does.
function M.handle(req)
  local route = req.path:sub(1, #M.BASE) == M.BASE and ROUTES[req.path:sub(#M.BASE + 1)]
  if not route or route[1] ~= req.method then
    return reply.error("ENDPOINT_NOT_FOUND", string.format("No API found for '%s %s'",
      req.method, (req.path:gsub("^/api/[^/]+", ""))))
  end
  return route[2](req)
end

return M
