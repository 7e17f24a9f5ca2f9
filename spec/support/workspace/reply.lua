-- Building API responses: every handler returns `status, body[, headers]`, and
-- errors use Databricks' shape {"error_code": "...", "message": "..."}.
local json = require("workspace.json")

local M = {}

-- error_code → HTTP status, as in the MLflow-family services (reference §3).
M.STATUS = {
  INVALID_PARAMETER_VALUE = 400, BAD_REQUEST = 400, RESOURCE_ALREADY_EXISTS = 400,
  MALFORMED_REQUEST = 400,
  UNAUTHENTICATED = 401, CUSTOMER_UNAUTHORIZED = 401, PERMISSION_DENIED = 403,
  RESOURCE_DOES_NOT_EXIST = 404, ENDPOINT_NOT_FOUND = 404, NOT_FOUND = 404,
  ABORTED = 409, RESOURCE_CONFLICT = 409, ALREADY_EXISTS = 409,
  REQUEST_LIMIT_EXCEEDED = 429, RESOURCE_EXHAUSTED = 429, CANCELLED = 499,
  INTERNAL_ERROR = 500, INVALID_STATE = 500, DATA_LOSS = 500, NOT_IMPLEMENTED = 501,
  TEMPORARILY_UNAVAILABLE = 503, DEADLINE_EXCEEDED = 504,
}

-- HTTP status → a plausible error_code (used by the `status` fault).
M.CODE_FOR_STATUS = {
  [400] = "BAD_REQUEST", [401] = "UNAUTHENTICATED", [403] = "PERMISSION_DENIED",
  [404] = "NOT_FOUND", [409] = "RESOURCE_CONFLICT", [429] = "REQUEST_LIMIT_EXCEEDED",
  [499] = "CANCELLED", [500] = "INTERNAL_ERROR", [501] = "NOT_IMPLEMENTED",
  [503] = "TEMPORARILY_UNAVAILABLE", [504] = "DEADLINE_EXCEEDED",
}

local ERROR_KEYS = { "error_code", "message" }

--- An API error response for `code`; the status comes from the table above.
function M.error(code, message, headers)
  local body = json.encode(json.ordered({ error_code = code, message = message }, ERROR_KEYS))
  return M.STATUS[code] or 500, body, headers
end

--- A 200 response with an already-encoded JSON body, or a table to encode.
function M.ok(body)
  if type(body) ~= "string" then body = json.encode(body) end
  return 200, body
end

--- Limits user-supplied text echoed into messages.
function M.clip(s)
  s = tostring(s)
  if #s > 100 then s = s:sub(1, 100) .. "..." end
  return s
end

return M
