--- The benchmark's workload: the five operations as request tables, and the
-- same requests written out as a spec file for the C clients (floor.c,
-- curl_cli.c), so every client sends the same URL, headers and JSON body.
--
-- Every client is handed the same request table per call (built fresh in the
-- loop, as application code would); the C programs get the bodies cjson
-- encoded here with "@ID@" where the webhook id goes.
local cjson = require("cjson")

local M = {}

--- Display order of the operations: the Databricks family's, then the same
-- five on an open-source MLflow server (client `api = "mlflow"`).
M.OPS = { "create", "list", "update", "delete", "test",
  "mlflow-create", "mlflow-list", "mlflow-update", "mlflow-delete", "mlflow-test" }

--- Order the state-changing run goes through against the workspace: create N,
-- list pages over them, update N, test N, delete N (then the MLflow ops, which
-- only the canned server answers).
M.RUN_ORDER = { "create", "list", "update", "test", "delete",
  "mlflow-create", "mlflow-list", "mlflow-update", "mlflow-test", "mlflow-delete" }

--- The API family an op belongs to ("databricks" or "mlflow").
function M.api(op)
  return op:find("^mlflow%-") and "mlflow" or "databricks"
end

--- The op of the other family's table row: "mlflow-create" -> "create".
function M.base_op(op)
  return (op:gsub("^mlflow%-", ""))
end

M.BASE = "/api/2.0/mlflow/registry-webhooks/"
M.EVENTS = { "MODEL_VERSION_CREATED", "TRANSITION_REQUEST_CREATED" }
M.MODEL = "bench-model"
M.PAGE = 100 -- webhooks per list page
M.BIG_PAGE = 1000 -- the decode check's page

--- The client method an op calls ("list1000" is a list of the big page).
M.METHOD = { create = "create", list = "list", list1000 = "list", update = "update",
  delete = "delete", test = "test", ["mlflow-create"] = "create", ["mlflow-list"] = "list",
  ["mlflow-update"] = "update", ["mlflow-delete"] = "delete", ["mlflow-test"] = "test" }

M.MLFLOW_BASE = "/api/2.0/mlflow/webhooks"
M.MLFLOW_NAME = "bench-hook"
-- MLflow's events: the caller's "entity.action" strings, on the wire objects.
M.MLFLOW_EVENTS = { "model_version.created", "model_version_tag.set" }
M.MLFLOW_WIRE_EVENTS = { { entity = "MODEL_VERSION", action = "CREATED" },
  { entity = "MODEL_VERSION_TAG", action = "SET" } }

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
  elseif op == "mlflow-create" then
    return {
      name = M.MLFLOW_NAME,
      url = sink,
      events = { M.MLFLOW_EVENTS[1], M.MLFLOW_EVENTS[2] },
      description = "benchmark webhook",
      secret = "bench-shared-secret-0123456789",
      status = "ACTIVE",
    }
  elseif op == "mlflow-list" then
    return { max_results = M.PAGE }
  elseif op == "mlflow-update" then
    -- with status: an update without it reads the webhook first (two calls)
    return { id = id, description = "benchmark webhook (updated)", status = "ACTIVE" }
  elseif op == "mlflow-delete" then
    return id
  elseif op == "mlflow-test" then
    return { id = id, event = M.MLFLOW_EVENTS[1] }
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
  if M.api(op) == "mlflow" then return M.mlflow_http(op, id, req) end
  if op == "list" or op == "list1000" then
    return "GET", M.BASE .. "list?max_results=" .. req.max_results, nil
  elseif op == "delete" then
    return "DELETE", M.BASE .. "delete?id=" .. urlencode(req.id), nil
  end
  local method = op == "update" and "PATCH" or "POST"
  return method, M.BASE .. op, cjson.encode(req)
end

-- The MLflow ops as the module sends them: the id in the path, events as
-- {entity, action} objects, the body without the id.
function M.mlflow_http(op, id, req)
  local one = M.MLFLOW_BASE .. "/" .. urlencode(id)
  if op == "mlflow-list" then
    return "GET", M.MLFLOW_BASE .. "?max_results=" .. req.max_results, nil
  elseif op == "mlflow-delete" then
    return "DELETE", one, nil
  elseif op == "mlflow-create" then
    local body = {}
    for k, v in pairs(req) do body[k] = v end
    body.events = M.MLFLOW_WIRE_EVENTS
    return "POST", M.MLFLOW_BASE, cjson.encode(body)
  elseif op == "mlflow-update" then
    return "PATCH", one, cjson.encode({ description = req.description, status = req.status })
  end
  return "POST", one .. "/test", cjson.encode({ event = M.MLFLOW_WIRE_EVENTS[1] })
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
  for _, op in ipairs({ "create", "list", "list1000", "update", "delete", "test",
    "mlflow-create", "mlflow-list", "mlflow-update", "mlflow-delete", "mlflow-test" }) do
    local method, target, body = M.http(op, "@ID@", sink)
    out[#out + 1] = ("op %s %s %s%s"):format(op, method, target, body and (" " .. body) or "")
  end
  local f = assert(io.open(path, "w"))
  f:write(table.concat(out, "\n"), "\n")
  f:close()
end

return M
