-- HTTP/2 streams refused by a misbehaving peer (spec/support/h2server.py, on
-- Debian's python3-h2): a GOAWAY whose last-stream-id is 0 declares every
-- stream on the connection unprocessed, and a server that allows one stream
-- per connection refuses the others with RST_STREAM(REFUSED_STREAM). These
-- pin down what libcurl (7.88, Debian 12's) does with them, as README's "How
-- requests travel" states: nothing is ever processed twice; a refused stream
-- is sent again on a new connection, except the last one left on a connection
-- the GOAWAY ends, which fails with CONNECTION_ERROR.
local webhooks = require("databricks.webhooks")
local h2peer = require("spec.support.h2peer")
local util = require("spec.support.util")

local BASE = "/api/2.0/mlflow/registry-webhooks/"
local FRAMING = "Error in the HTTP2 framing layer"

local hook, hooks = util.hook, util.hooks

local function client(peer)
  return assert(webhooks.new{ host = peer.url, token = "dapi-h2peer", ca_file = peer.ca_file })
end

-- How many times the server received and answered a create for each model.
local function per_model(ev)
  local recv, answered, by_stream = {}, {}, {}
  for _, r in ipairs(ev.recv) do
    if r.path == BASE .. "create" then
      recv[r.model] = (recv[r.model] or 0) + 1
      by_stream[r.conn .. "/" .. r.stream] = r.model
    end
  end
  for _, a in ipairs(ev.answered) do
    local m = by_stream[a.conn .. "/" .. a.stream]
    if m then answered[m] = (answered[m] or 0) + 1 end
  end
  return recv, answered
end

-- The peer logs a connection's last lines when it ends: wait (up to 2 s) for them.
local function settled(peer, check)
  local socket = require("socket")
  local deadline = socket.gettime() + 2
  while true do
    local ev = peer.events()
    if check(ev) or socket.gettime() > deadline then return ev end
    socket.sleep(0.02)
  end
end

local available = h2peer.available()

describe("HTTP/2 refused streams on a misbehaving peer", function()
  if not available then
    pending("python3-h2 is not installed (.ci/deps installs it): spec/support/h2server.py cannot run")
    return
  end

  it("README states the limit this spec proves", function()
    local readme = assert(util.read_file("README.md"))
    assert.truthy(readme:find(FRAMING, 1, true))
    assert.truthy(readme:find("spec/57-h2_goaway_spec.lua", 1, true))
  end)

  describe("GOAWAY(last_stream_id = 0) on a lone create", function()
    local peer
    before_each(function() peer = h2peer.start{ goaway = 1 } end)
    after_each(function() peer.stop() end)

    it("fails with CONNECTION_ERROR, is processed zero times, and the client carries on", function()
      local c = client(peer)
      local wh, err = c:create(hook("lone"))
      assert.is_nil(wh)
      assert.equals("CONNECTION_ERROR", err.error_code)
      -- libcurl's words, then how hard it was tried: once, since it may have been received
      assert.equals(FRAMING .. " (1 attempt", err.message:sub(1, #FRAMING + 11))
      assert.equals("POST " .. BASE .. "create", err.request)
      assert.equals(0, c:stats().resends)
      local ev = settled(peer, function(e) return #e.goaway == 1 end)
      assert.same({ { conn = 1, refused = 1 } }, ev.goaway)
      local recv, answered = per_model(ev)
      assert.equals(1, recv.lone)
      assert.is_nil(answered.lone)

      -- the same client, next call: a new connection, answered normally
      local wh2 = assert(c:create(hook("after")))
      assert.equals("after", wh2.model_name)
      local page = assert(c:list())
      assert.equals(1, #page.webhooks)
      assert.equals("after", page.webhooks[1].model_name)
      ev = peer.events()
      assert.equals(2, ev.opened)
      for _, r in ipairs(ev.recv) do
        if r.model == "after" or r.path:find("list", 1, true) then assert.equals(2, r.conn) end
      end
      c:close()
    end)
  end)

  describe("GOAWAY(last_stream_id = 0) with creates in flight in bulk", function()
    local peer
    before_each(function() peer = h2peer.start{ goaway = 2 } end)
    after_each(function() peer.stop() end)

    for _, parallel in ipairs{ 2, 4 } do
      it(("(parallel = %d) sends the refused ones again, except the last left, which fails; none twice")
        :format(parallel), function()
        local c = client(peer)
        local res = c:bulk("create", hooks("b", 6), { parallel = parallel })
        local failed = {}
        for i, r in ipairs(res) do
          if not r.ok then
            failed[#failed + 1] = "b" .. i
            assert.equals("CONNECTION_ERROR", r.err.error_code)
            assert.equals(FRAMING .. " (1 attempt", r.err.message:sub(1, #FRAMING + 11))
          end
        end
        -- one stream was the last left on the connection the GOAWAY ended
        assert.equals(1, #failed)
        assert.is_true(c:stats().resends >= 1)
        local ev = settled(peer, function(e) return #e.goaway == 1 end)
        assert.equals(1, #ev.goaway)
        assert.is_true(ev.goaway[1].refused >= 1)
        local recv, answered = per_model(ev)
        for i = 1, 6 do
          local m = "b" .. i
          if m == failed[1] then
            assert.is_nil(answered[m])
          else
            assert.equals(1, answered[m], m .. " answered once")
          end
        end
        -- nothing on the refused connection was answered
        for _, a in ipairs(ev.answered) do assert.is_not.equals(1, a.conn) end
        assert.is_true(recv.b1 >= 1)
        local page = assert(c:list())
        assert.equals(5, #page.webhooks)
        c:close()
      end)
    end
  end)

  describe("a server allowing one stream per connection", function()
    local peer
    before_each(function() peer = h2peer.start{ max_streams = 1, delay_ms = 50 } end)
    after_each(function() peer.stop() end)

    it("gets every create of a bulk exactly once, over a connection per refused stream", function()
      local c = client(peer)
      local res = c:bulk("create", hooks("one", 8), { parallel = 4 })
      for _, r in ipairs(res) do assert(r.ok, r.err and tostring(r.err)) end
      -- (the server logs an answer before sending it)
      local ev = peer.events()
      local _, answered = per_model(ev)
      for i = 1, 8 do assert.equals(1, answered["one" .. i]) end
      local resends = c:stats().resends
      c:close()
      -- libcurl 7.88 starts streams before the server's SETTINGS arrive, so
      -- the server refuses some; each refused one goes again on a connection
      -- of its own rather than queueing on one (measured: 8 connections for
      -- 8 creates, 4 at a time)
      assert.is_true(#ev.refused >= 1)
      assert.is_true(ev.opened > 1)
      assert.is_true(resends >= 1)
    end)
  end)
end)
