--- The benchmark's workload: the five operations as request tables, and the
-- same requests written out as a spec file for the C clients (floor.c,
-- curl_cli.c), so every client sends the same URL, headers and JSON body.
--
-- Every client is handed the same request table per call (built fresh in the
-- loop, as application code would); the C programs get the bodies cjson
-- encoded here with "@ID@" where the webhook id goes.
local cjson = require("cjson")

local M = {}

--- Display order of the operations.
M.OPS = { "create", "list", "update", "delete", "test" }

--- Order the state-changing run goes through against the workspace: create N,
-- list pages over them, update N, test N, delete N.
M.RUN_ORDER = { "create", "list", "update", "test", "delete" }

M.BASE = "/api/2.0/mlflow/registry-webhooks/"
M.EVENTS = { "MODEL_VERSION_CREATED", "TRANSITION_REQUEST_CREATED" }
M.MODEL = "bench-model"
M.PAGE = 100 -- webhooks per list page
M.BIG_PAGE = 1000 -- the decode check's page

--- The client method an op calls ("list1000" is a list of the big page).
M.METHOD = { create = "create", list = "list", list1000 = "list", update = "update",
  delete = "delete", test = "test" }

--- The request table of one call of `op`. `sink` is the url the webhooks point
-- at; `id` the webhook id (update, delete, test).
function M.request(op, id, sink)
  if op == "create" then
    return {
      events = { M.EVENTS[1], M.EVENTS[2] },
      model_name = M.MODEL,
      description = "benchmark webhook",
      status = "ACTIVE",
      http_url_spec = { url = sink, secret = "bench-shared-secret-0123456789" },
    }
  elseif op == "list" then
    return { max_results = M.PAGE }
  elseif op == "list1000" then
    return { max_results = M.BIG_PAGE }
  elseif op == "update" then
    return { id = id, description = "benchmark webhook (updated)" }
  elseif op == "delete" then
    return { id = id }
  elseif op == "test" then
    return { id = id, event = M.EVENTS[1] }
  end
  error("unknown op " .. tostring(op))
end

-- Percent-encodes a query value ('@' is legal in a query and marks the id
-- placeholder of the spec file, so it stays).
local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~@]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- method, target (path and query), body (JSON text or nil) of one call, exactly
-- as the module puts it on the wire (list and delete in the query string).
function M.http(op, id, sink)
  local req = M.request(op, id, sink)
  if op == "list" or op == "list1000" then
    return "GET", M.BASE .. "list?max_results=" .. req.max_results, nil
  elseif op == "delete" then
    return "DELETE", M.BASE .. "delete?id=" .. urlencode(req.id), nil
  end
  local method = op == "update" and "PATCH" or "POST"
  return method, M.BASE .. op, cjson.encode(req)
end

--- The User-Agent the module sends under `lua_tag` ("lua/5.4" or "luajit/2.1"),
-- so that the other clients send a header line of the same size.
function M.user_agent(curl_version, lua_tag)
  return ("databricks-webhooks-lua/0.1.0 %s libcurl/%s os/linux auth/pat"):format(
    lua_tag or "lua/5.4", curl_version)
end

--- Writes the spec file the C clients read:
--   url BASE_URL
--   cainfo PATH               (https: the CA file to trust; optional)
--   http 1.1|2                (the protocol the server speaks at BASE_URL)
--   header Name: value        (every request)
--   bodyheader Name: value    (requests with a body)
--   op NAME METHOD TARGET [BODY]   ("@ID@" marks the webhook id)
function M.write_spec(path, base_url, token, ua, sink, cainfo, http)
  local out = {
    "url " .. base_url,
    "http " .. (http or "1.1"),
    "header Accept: application/json",
    "header Authorization: Bearer " .. token,
    "header User-Agent: " .. ua,
    "bodyheader Content-Type: application/json",
  }
  if cainfo then out[#out + 1] = "cainfo " .. cainfo end
  for _, op in ipairs({ "create", "list", "list1000", "update", "delete", "test" }) do
    local method, target, body = M.http(op, "@ID@", sink)
    out[#out + 1] = ("op %s %s %s%s"):format(op, method, target, body and (" " .. body) or "")
  end
  local f = assert(io.open(path, "w"))
  f:write(table.concat(out, "\n"), "\n")
  f:close()
end

return M
