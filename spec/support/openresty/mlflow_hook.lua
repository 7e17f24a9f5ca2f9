-- The nginx side of spec/43-mlflow_receiver_spec.lua: receiver.handle for
-- open-source MLflow deliveries, configured per location, recording what it
-- handed to on_event in a shared dict that the spec reads back.
local receiver = require("databricks.webhooks.receiver")
local cjson = require("cjson")

local M = {}

-- opts: the receiver's options beyond the common ones; `secret` defaults to
-- the two the spec rotates between, `dedup` adds seen_in's hooks.
function M.hook(opts)
  local o = {
    secret = { "whsec-mlflow-new", "whsec-mlflow-old" },
    max_body = 64 * 1024,
    on_event = function(event, raw)
      local dict = ngx.shared.mlf_events
      local n = dict:incr("n", 1, 0)
      local h = ngx.req.get_headers()
      dict:set("e" .. n, cjson.encode({
        event = event.event, entity = event.entity, action = event.action,
        name = event.data and event.data.name, webhook_id = event.webhook_id,
        id = h["x-mlflow-delivery-id"], uri = ngx.var.uri, size = #raw,
      }))
      local name = event.data and event.data.name or event.model_name
      if name == "fail-once" and not ngx.shared.mlf_events:get("failed") then
        ngx.shared.mlf_events:set("failed", true)
        return 503, "try again"
      end
    end,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.dedup then
    local seen = receiver.seen_in(ngx.shared.mlf_seen, 660)
    o.is_duplicate, o.forget, o.dedup = seen.is_duplicate, seen.forget, nil
  end
  if o.secret == false then o.secret = nil end
  receiver.handle(o)
end

function M.events()
  local dict = ngx.shared.mlf_events
  if ngx.req.get_method() == "DELETE" then
    dict:flush_all()
    ngx.shared.mlf_seen:flush_all()
    ngx.say("{}")
    return
  end
  local out = {}
  for i = 1, dict:get("n") or 0 do out[i] = cjson.decode(dict:get("e" .. i)) end
  ngx.say(cjson.encode({ events = out, n = #out }))
end

return M
