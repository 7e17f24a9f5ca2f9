-- Exit statuses of the command-line tool, and failing with one.
-- Every failure is raised as `{ exit = code, message = text }` (a `Failure`)
-- and turned into a line on stderr and an exit status by `cli.main`.
local M = {}

M.OK = 0
M.API = 1 -- the API answered with an error
M.USAGE = 2 -- usage or configuration error: nothing was sent
M.NETWORK = 3 -- network, TLS or timeout error
M.CHANGES = 4 -- plan: the workspace differs from the file
M.NO_MATCH = 5 -- update/delete --model M --all: no webhook matched
M.INTERNAL = 70 -- a bug

M.PROG = "databricks-webhooks"

M.Failure = {}

function M.fail(code, message)
  error(setmetatable({ exit = code, message = message }, M.Failure), 0)
end

-- The command being run, once known (cli.main sets it): its own --help
-- says more than the main one.
M.command = nil

function M.usage_error(message)
  M.fail(M.USAGE, message .. "\nTry '" .. M.PROG .. " " .. (M.command and M.command .. " " or "") .. "--help'.")
end

-- Error codes of failures to reach the workspace.
local NETWORK_CODES = { TIMEOUT = true, CONNECTION_ERROR = true, TLS_ERROR = true }

-- The exit status an error object of the module stands for.
function M.code_for(err)
  if type(err) ~= "table" then return M.API end
  if NETWORK_CODES[err.error_code] then return M.NETWORK end
  -- rejected by the client's own validation: nothing was sent
  if err.error_code == "INVALID_PARAMETER_VALUE" and err.status == nil then return M.USAGE end
  return M.API
end

-- The status of several results: 3 if any failed to reach the workspace,
-- else 1 if any failed, else 0. `code` is the status so far.
function M.worst(code, err)
  if M.code_for(err) == M.NETWORK then return M.NETWORK end
  if code == M.OK then return M.API end
  return code
end

return M
