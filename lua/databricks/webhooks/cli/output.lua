-- What the command-line tool prints: terminal-safe cells, tsv lines or an
-- aligned table, and JSON through databricks.webhooks.json_text (the writer of
-- plan files), whose key order makes the same bytes on every Lua and run.
-- Every function takes the stream to write to (anything with `write`).
local json_text = require("databricks.webhooks.json_text")

local M = {}

-- Marks `t` (default a new table) as a JSON array, even when empty.
M.array = json_text.array

-- Control characters would break a tsv line or drive the terminal: escape
-- them in every string a server may have written (C1 controls too, as UTF-8).
local CELL_ESCAPES = { ["\\"] = "\\\\", ["\t"] = "\\t", ["\n"] = "\\n", ["\r"] = "\\r" }

-- A value as text safe for a tsv cell and for the terminal.
function M.cell(v)
  if v == nil then return "" end
  return (tostring(v):gsub("[%c\\]", function(c)
    return CELL_ESCAPES[c] or string.format("\\x%02x", c:byte())
  end):gsub("\194([\128-\159])", function(c)
    return string.format("\\u%04x", c:byte())
  end))
end

-- "CODE: message" as the server wrote it (for cells, which escape it).
function M.raw_error(err)
  if type(err) == "table" and getmetatable(err) == nil and err.error_code then
    return err.error_code .. ": " .. tostring(err.message)
  end
  return tostring(err)
end

-- The library speaks of its options; the command line has flags. Plain
-- finds, applied to the library's own fixed phrases.
local CLI_WORDS = {
  { "DATABRICKS_HOST, the host option,", "DATABRICKS_HOST, --host," },
  { "MLFLOW_TRACKING_URI or the host option", "MLFLOW_TRACKING_URI or --host" },
  { "use https:// or set allow_insecure_http = true", "use https:// (http:// only to a loopback host)" },
  { "past retry_timeout ", "past --retry-timeout " },
  { "; retry_timeout ", "; --retry-timeout " },
  { "(retry_timeout 0: no retries)", "(--retry-timeout 0: no retries)" },
}

local function replace_plain(s, from, to)
  local out, at = {}, 1
  while true do
    local i, j = s:find(from, at, true)
    if not i then break end
    out[#out + 1] = s:sub(at, i - 1) .. to
    at = j + 1
  end
  out[#out + 1] = s:sub(at)
  return table.concat(out)
end

-- An error message in the command line's words (its flags, not options).
function M.cli_words(message)
  for _, w in ipairs(CLI_WORDS) do message = replace_plain(message, w[1], w[2]) end
  return message
end

-- The same, safe for a terminal, in the command line's words.
function M.describe_error(err) return M.cell(M.cli_words(M.raw_error(err))) end

-- The fields of an error object worth a JSON document.
function M.error_table(err)
  if type(err) ~= "table" then return { error_code = "UNKNOWN", message = tostring(err) } end
  local out = {}
  for _, k in ipairs({ "error_code", "message", "status", "retry_after", "request", "request_id", "attempts",
    "elapsed", "retry_timeout" }) do
    out[k] = err[k]
  end
  return out
end

local function copy_without(t, secret_keys)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for _, k in ipairs(secret_keys) do out[k] = nil end
  return out
end

-- A copy of a webhook without anything secret in it.
function M.redact(wh)
  local out = copy_without(wh, {})
  if type(wh.http_url_spec) == "table" then
    out.http_url_spec = copy_without(wh.http_url_spec, { "secret", "authorization" })
  end
  if type(wh.job_spec) == "table" then out.job_spec = copy_without(wh.job_spec, { "access_token" }) end
  if type(wh.events) == "table" then out.events = M.array(copy_without(wh.events, {})) end
  return out
end

-- `v` as one line of JSON.
M.encode = json_text.line

function M.json(w, v)
  w:write(M.encode(v), "\n")
end

-- Columns a string takes on the terminal (UTF-8 continuation bytes take none).
local function width(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function table_lines(header, rows)
  local all, widths, out = { header }, {}, {}
  for _, r in ipairs(rows) do all[#all + 1] = r end
  local cells = {}
  for i, r in ipairs(all) do
    cells[i] = {}
    for c = 1, #header do
      local s = M.cell(r[c])
      if s == "" then s = "-" end
      cells[i][c] = s
      widths[c] = math.max(widths[c] or 0, width(s))
    end
  end
  for i, r in ipairs(cells) do
    local line = {}
    for c = 1, #header do
      line[c] = c < #header and (r[c] .. string.rep(" ", widths[c] - width(r[c]))) or r[c]
    end
    out[i] = table.concat(line, "  ")
  end
  return out
end

-- tsv: no header; empty cells at the end of a row are left out, so that a
-- row ends with its last value, never with a tab.
local function tsv_lines(header, rows)
  local out = {}
  for i, r in ipairs(rows) do
    local line, last = {}, 0
    for c = 1, #header do
      line[c] = M.cell(r[c])
      if line[c] ~= "" then last = c end
    end
    out[i] = table.concat(line, "\t", 1, math.max(last, 1))
  end
  return out
end

-- Prints rows (arrays of cells): tsv lines, or an aligned table with a header.
function M.rows(w, format, header, rows)
  local out = format == "table" and table_lines(header, rows) or tsv_lines(header, rows)
  if #out > 0 then w:write(table.concat(out, "\n"), "\n") end
end

-- The JSON document `doc`, or the rows under `header`, as `format` says.
function M.rows_or_json(w, format, header, rows, doc)
  if format == "json" then M.json(w, doc) else M.rows(w, format, header, rows) end
end

M.WEBHOOK_HEADER = { "ID", "MODEL", "STATUS", "EVENTS", "TARGET", "DESCRIPTION" }
M.MLFLOW_HEADER = { "ID", "NAME", "STATUS", "EVENTS", "URL", "DESCRIPTION" }

function M.webhook_row(wh)
  local target
  if type(wh.http_url_spec) == "table" then
    target = wh.http_url_spec.url
  elseif type(wh.job_spec) == "table" then
    target = "job:" .. tostring(wh.job_spec.job_id)
  end
  local events = type(wh.events) == "table" and table.concat(wh.events, ",") or nil
  return { wh.id, wh.model_name, wh.status, events, target, wh.description }
end

-- An MLflow server's webhook: it has a name and a url, and no model.
function M.mlflow_row(wh)
  local events = type(wh.events) == "table" and table.concat(wh.events, ",") or nil
  return { wh.id, wh.name, wh.status, events, wh.url, wh.description }
end

-- `api` (optional): "mlflow" for an MLflow server's webhooks.
function M.webhooks(w, format, list, api)
  if format == "json" then
    local out = M.array()
    for i, wh in ipairs(list) do out[i] = M.redact(wh) end
    M.json(w, out)
  else
    local rows, row = {}, api == "mlflow" and M.mlflow_row or M.webhook_row
    for i, wh in ipairs(list) do rows[i] = row(wh) end
    M.rows(w, format, api == "mlflow" and M.MLFLOW_HEADER or M.WEBHOOK_HEADER, rows)
  end
end

function M.webhook(w, format, wh, api)
  if format == "json" then M.json(w, M.redact(wh)) else M.webhooks(w, format, { wh }, api) end
end

return M
