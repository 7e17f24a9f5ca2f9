-- What the workspace saw: the last API requests exactly as received, counters,
-- and what the delivery sink (/__control/sink) received.
local M = {}

local MAX_RECORDS = 200

local ring, ring_next, ring_len -- recorded API requests (a ring buffer)
local stats, seen_connections
local sink

function M.reset()
  ring, ring_next, ring_len = {}, 1, 0
  stats = { connections = 0, requests = 0, by_path = {} }
  seen_connections = {}
  sink = {}
end
M.reset()

--- Reads the whole request body ("" when there is none), wherever nginx put it.
function M.body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local file = ngx.req.get_body_file()
  if not file then return "" end
  local f = io.open(file, "rb")
  if not f then return "" end
  data = f:read("*a")
  f:close()
  return data
end

--- The current request as received: raw URI and query, lower-cased header names
-- (a repeated header becomes an array), raw body.
function M.capture()
  local headers = {}
  for k, v in pairs(ngx.req.get_headers(200)) do headers[k] = v end
  return {
    method = ngx.req.get_method(),
    uri = ngx.var.request_uri,
    path = ngx.var.uri,
    query = ngx.var.args or "",
    headers = headers,
    body = M.body(),
    connection = tonumber(ngx.var.connection),
  }
end

--- Records an API (non-control) request and counts it. Connections are counted
-- once each, so N calls over one kept-alive connection count 1.
function M.record(rec)
  ring[ring_next] = rec
  ring_next = ring_next % MAX_RECORDS + 1
  if ring_len < MAX_RECORDS then ring_len = ring_len + 1 end

  stats.requests = stats.requests + 1
  stats.by_path[rec.path] = (stats.by_path[rec.path] or 0) + 1
  if not seen_connections[rec.connection] then
    seen_connections[rec.connection] = true
    stats.connections = stats.connections + 1
  end
end

--- Recorded requests, oldest first.
function M.requests()
  local out = {}
  local start = ring_len < MAX_RECORDS and 1 or ring_next
  for i = 0, ring_len - 1 do
    out[#out + 1] = ring[(start - 1 + i) % MAX_RECORDS + 1]
  end
  return out
end

function M.stats()
  return stats
end

function M.sink_add(rec)
  sink[#sink + 1] = rec
end

function M.sink()
  return sink
end

function M.reset_sink()
  sink = {}
end

return M
