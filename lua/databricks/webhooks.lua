--- Databricks Model Registry webhooks: create, list, update, delete and test
-- registry webhooks, and verify their deliveries.
--
-- The C core (`databricks.webhooks.core`) does validation, request building,
-- HTTP (libcurl, one reused connection per client), retries and errors; this
-- file resolves configuration and adds what is easier said in Lua.
-- @module databricks.webhooks

local core = require("databricks.webhooks.core")
local config = require("databricks.webhooks.config")

local M = {
  VERSION = "0.1.0",
  EVENTS = core.EVENTS,
  STATUSES = core.STATUSES,
  Error = core.Error,
}

--- The User-Agent, in the official SDKs' format:
-- `databricks-webhooks-lua/<v> lua/<5.x> libcurl/<v> os/<os> auth/<type> [luajit/<v>] [user tokens]`.
local function user_agent(settings)
  local ua = ("databricks-webhooks-lua/%s lua/%s libcurl/%s os/%s auth/%s"):format(
    M.VERSION, _VERSION:match("(%d+%.%d+)") or "5", core.curl_version, core.os, settings.auth_type)
  if type(jit) == "table" and jit.version then
    ua = ua .. " luajit/" .. (jit.version:match("(%d+%.%d+[%.%d]*)") or "2.1")
  end
  if settings.user_agent and settings.user_agent ~= "" then
    ua = ua .. " " .. settings.user_agent
  end
  return ua
end

--- Make a client.
-- @tparam[opt] table opts see the README (host, token, client_id, ...)
-- @return client, or nil and an error object
function M.new(opts)
  local settings, err = config.resolve(opts)
  if not settings then
    return nil, core.error(err.error_code, err.message)
  end
  settings.user_agent = user_agent(settings)
  return core.new(settings)
end

local methods = core.methods

--- Iterate over every webhook matching `req`, following every page.
-- Raises the error object when a page fails.
-- @tparam[opt] table req model_name, events, max_results, page_token
function methods:each(req)
  if req ~= nil and type(req) ~= "table" then
    error("bad argument #1 to 'each' (table expected, got " .. type(req) .. ")", 2)
  end
  local query = {}
  for k, v in pairs(req or {}) do query[k] = v end  -- never mutate the caller's table
  local page, i, done = nil, 0, false
  return function()
    while true do
      if page and i < #page.webhooks then
        i = i + 1
        return page.webhooks[i]
      end
      if done then return nil end
      local p, err = self:list(query)
      if not p then error(err, 0) end
      local token = p.next_page_token
      if token == nil then
        done = true
      elseif token == query.page_token then
        -- a server that hands back the token it was given would loop forever
        error(core.error("BAD_RESPONSE", "list: server repeated page token; stopping"), 0)
      end
      query.page_token = token
      page, i = p, 0
    end
  end
end

M.verify_signature = core.verify_signature
M.parse_delivery = core.parse_delivery
M.sign = core.sign

return M
